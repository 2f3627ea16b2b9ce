// The two lifecycle diagrams of the Lifecycle tab as data (GUI-free, STYLE §3 "state machines you
// can see"): nodes on a small grid, edges that are Docker / `isolab vm` commands, and for the
// selected object's current state whether each edge can be taken now — decided by the very
// functions the engine uses (container_transition, vm_transition), so the picture cannot disagree
// with what the command would do. A forbidden edge carries the error the command would print.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sim/state/lifecycle.hpp"
#include "sim/vm/vm_lifecycle.hpp"

namespace isolab::view {

struct LifecycleNode {
    std::string id;          // "created", "running", ..., "removed", "none" (before create)
    float col = 0, row = 0;  // position on the diagram's grid (cell centres)
    bool wide = false;       // drawn wider than a cell
};

// Why an edge cannot be taken in the current state.
enum class EdgeBlock {
    None,        // enabled: the action is allowed and leaves the current node
    NoSubject,   // nothing selected: the diagram is only a map
    Forbidden,   // the command fails now: `error` is what it prints
    NoOp,        // the command succeeds but changes nothing (Docker's silent no-ops)
    Elsewhere,   // the command is allowed now, but from the current state it is another arrow
    Automatic,   // not a command: the engine or the kernel takes this edge (policy restart, boot)
};

struct LifecycleEdge {
    std::string from, to;     // node ids; from "any" = every state (drawn into `to`)
    std::string action;       // "start", "rm -f", "vm stop", ...: the button's label
    std::string command;      // the `isolab` command line without "isolab" ("" for automatic)
    std::string docker;       // what a Docker / VirtualBox user types ("docker start web")
    bool composite = false;   // run = create + start
    bool automatic = false;   // no button: the label names the event
    std::string route;        // drawing hint: "" straight, "loop" (self), "under" (below the diagram)
    float offset = 0;         // parallel lanes for two edges between the same nodes (-1, 0, +1)
    float label_at = -1;      // where along the line its button or label sits (0..1; -1 = default)
    bool enabled = false;
    EdgeBlock block = EdgeBlock::NoSubject;
    std::string error;        // Forbidden: the command's exact error line; otherwise why not
};

struct LifecycleDiagram {
    std::vector<LifecycleNode> nodes;
    std::vector<LifecycleEdge> edges;
    int cols = 0, rows = 0;   // grid size
    std::string current;      // node id to highlight ("" = none)
};

// The container diagram. STATE: the selected container's state (nullopt = none selected; then
// every edge that needs a container is disabled with NoSubject). REMOVED: the selected name no
// longer exists (highlights "removed"). NAME/ID: what commands and errors quote. RUN_COMMAND: the
// `run` line the composite arrow runs (view::run_web_command); CREATE_COMMAND likewise.
LifecycleDiagram container_diagram(std::optional<ContainerState> state, bool removed, const std::string& name,
                                   const std::string& id, const std::string& run_command,
                                   const std::string& create_command);

// The VM diagram for the VM NAME in STATE (nullopt = none selected). NEW_VM_NAME: the name the
// "vm create" edge uses.
LifecycleDiagram vm_diagram(std::optional<vm::VmState> state, bool removed, const std::string& name,
                            const std::string& new_vm_name);

// The node a state is drawn as ("dead" and "removing" have no node of their own: "" and
// "removed").
std::string container_node(ContainerState s);
std::string vm_node(vm::VmState s);

}  // namespace isolab::view
