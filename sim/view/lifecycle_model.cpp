#include "sim/view/lifecycle_model.hpp"

#include "sim/core/i18n.hpp"

namespace isolab::view {

using i18n::tr;
using i18n::trf;

std::string container_node(ContainerState s) {
    switch (s) {
        case ContainerState::Created: return "created";
        case ContainerState::Running: return "running";
        case ContainerState::Paused: return "paused";
        case ContainerState::Restarting: return "restarting";
        case ContainerState::Exited: return "exited";
        case ContainerState::Dead: return "";
        case ContainerState::Removing: return "removed";
    }
    return "";
}

std::string vm_node(vm::VmState s) { return std::string(vm::to_string(s)); }

namespace {

// A node's name in the current language, for the explanations.
std::string node_word(const std::string& id) {
    if (id == "removed") return tr("gui.lifecycle.node.removed");
    if (id.empty()) return tr("gui.state.dead");  // the one state without a node
    return tr("gui.state." + id);
}

}  // namespace

namespace {

struct CEdge {
    const char* from;
    const char* to;
    const char* action;       // the CLI verb and flags
    ContainerAction act;
    bool automatic;
    const char* route;
    float offset;
    float label_at;
};

// The drawn edges of the container machine. Automatic edges are the events the monitor sends
// (RestartPending, RestartFired); the rest are commands.
constexpr CEdge kContainerEdges[] = {
    {"created", "running", "start", ContainerAction::Start, false, "", 0, -1},
    {"running", "running", "restart", ContainerAction::Restart, false, "loop", 0, -1},
    {"running", "paused", "pause", ContainerAction::Pause, false, "", 1, -1},
    {"paused", "running", "unpause", ContainerAction::Unpause, false, "", 1, -1},
    {"running", "exited", "stop", ContainerAction::Stop, false, "", 1, -1},
    {"running", "exited", "kill", ContainerAction::Kill, false, "", 1, -1},
    {"exited", "running", "start", ContainerAction::Start, false, "", 1, -1},
    {"exited", "running", "restart", ContainerAction::Restart, false, "", 1, -1},
    {"paused", "exited", "stop", ContainerAction::Stop, false, "", 0, 0.62f},
    {"created", "removed", "rm", ContainerAction::Remove, false, "", 0, -1},
    {"exited", "removed", "rm", ContainerAction::Remove, false, "", 0, -1},
    {"running", "removed", "rm -f", ContainerAction::ForceRemove, false, "", 0, -1},
    {"paused", "removed", "rm -f", ContainerAction::ForceRemove, false, "under", 0, -1},
    {"running", "restarting", "", ContainerAction::RestartPending, true, "", 1, 0.7f},
    {"restarting", "running", "", ContainerAction::RestartFired, true, "", 1, 0.7f},
};

void decide_container(LifecycleEdge& e, ContainerAction act, std::optional<ContainerState> state, bool removed,
                      const std::string& name, const std::string& id) {
    e.enabled = false;
    if (e.automatic) {
        e.block = EdgeBlock::Automatic;
        e.error = tr(act == ContainerAction::RestartPending ? "gui.lifecycle.auto_restart_pending"
                                                           : "gui.lifecycle.auto_restart_fired");
        return;
    }
    if (!state) {
        if (removed) {
            e.block = EdgeBlock::Forbidden;
            e.error = "Error response from daemon: No such container: " + name;
        } else {
            e.block = EdgeBlock::NoSubject;
            e.error = tr("gui.lifecycle.select_first");
        }
        return;
    }
    Result<Transition> r = container_transition(*state, act, ContainerRef{name, id});
    const std::string here = container_node(*state);
    if (!r.ok()) {
        e.block = EdgeBlock::Forbidden;
        e.error = "Error response from daemon: " + r.error().message;
    } else if (r->noop) {
        e.block = EdgeBlock::NoOp;
        e.error = trf("gui.lifecycle.noop", {e.docker, node_word(here)});
    } else if (e.from != here || container_node(r->to) != e.to) {
        e.block = EdgeBlock::Elsewhere;
        e.error = trf("gui.lifecycle.elsewhere", {e.docker, node_word(here), node_word(container_node(r->to))});
    } else {
        e.block = EdgeBlock::None;
        e.enabled = true;
        e.error.clear();
    }
}

}  // namespace

LifecycleDiagram container_diagram(std::optional<ContainerState> state, bool removed, const std::string& name,
                                   const std::string& id, const std::string& run_command,
                                   const std::string& create_command) {
    LifecycleDiagram d;
    d.cols = 3;
    d.rows = 3;
    d.nodes = {
        {"none", 0, 0, false},    {"restarting", 2, 0, false}, {"created", 0, 1, false}, {"running", 1, 1, false},
        {"paused", 2, 1, false},  {"removed", 0, 2, false},    {"exited", 1, 2, false},
    };
    if (state) d.current = container_node(*state);
    else if (removed) d.current = "removed";

    // From nothing: a new container, whatever is selected. `run` is the composite arrow.
    LifecycleEdge create;
    create.from = "none";
    create.to = "created";
    create.action = "create";
    create.command = create_command;
    create.docker = "docker " + create_command;
    create.enabled = true;
    create.block = EdgeBlock::None;
    d.edges.push_back(create);
    LifecycleEdge run = create;
    run.to = "running";
    run.action = "run";
    run.command = run_command;
    run.docker = "docker " + run_command;
    run.composite = true;
    d.edges.push_back(run);

    for (const CEdge& c : kContainerEdges) {
        LifecycleEdge e;
        e.from = c.from;
        e.to = c.to;
        e.action = c.automatic ? "" : c.action;
        e.automatic = c.automatic;
        e.route = c.route;
        e.offset = c.offset;
        e.label_at = c.label_at;
        if (!c.automatic) {
            e.command = std::string(c.action) + " " + name;
            e.docker = "docker " + std::string(c.action) + " " + name;
        }
        decide_container(e, c.act, state, removed, name, id);
        d.edges.push_back(e);
    }
    return d;
}

namespace {

struct VEdge {
    const char* from;
    const char* to;
    const char* action;       // "vm start -d": the CLI words before the name
    vm::VmAction act;
    bool automatic;
    float offset;
    float label_at;
};

constexpr VEdge kVmEdges[] = {
    {"poweroff", "starting", "vm start -d", vm::VmAction::Start, false, 0, -1},
    {"aborted", "starting", "vm start -d", vm::VmAction::Start, false, 0, -1},
    {"starting", "running", "", vm::VmAction::BootCompleted, true, 0, -1},
    {"running", "paused", "vm pause", vm::VmAction::Pause, false, 1, -1},
    {"paused", "running", "vm resume", vm::VmAction::Resume, false, 1, -1},
    {"running", "stopping", "vm stop", vm::VmAction::Shutdown, false, 0, -1},
    {"paused", "stopping", "vm stop", vm::VmAction::Shutdown, false, 0, 0.62f},
    {"stopping", "poweroff", "", vm::VmAction::ProcessExited, true, 0, -1},
    {"running", "aborted", "", vm::VmAction::ProcessCrashed, true, 0, -1},
    {"poweroff", "removed", "vm rm", vm::VmAction::Remove, false, 0, -1},
};

const char* docker_word(vm::VmAction a) {
    // What a VirtualBox user types for the same thing.
    switch (a) {
        case vm::VmAction::Start: return "VBoxManage startvm --type headless";
        case vm::VmAction::Pause: return "VBoxManage controlvm {0} pause";
        case vm::VmAction::Resume: return "VBoxManage controlvm {0} resume";
        case vm::VmAction::Shutdown: return "VBoxManage controlvm {0} acpipowerbutton";
        case vm::VmAction::PowerOff: return "VBoxManage controlvm {0} poweroff";
        case vm::VmAction::Remove: return "VBoxManage unregistervm --delete";
        case vm::VmAction::BootCompleted:
        case vm::VmAction::ProcessExited:
        case vm::VmAction::ProcessCrashed: return "";
    }
    return "";
}

std::string vbox(vm::VmAction a, const std::string& name) {
    std::string w = docker_word(a);
    if (w.empty()) return "";
    size_t p = w.find("{0}");
    if (p != std::string::npos) return w.replace(p, 3, name);
    return w + " " + name;
}

void decide_vm(LifecycleEdge& e, std::optional<vm::VmState> state, bool removed, const std::string& name,
               const std::string& here, Result<vm::VmTransition> r) {
    e.enabled = false;
    if (!state) {
        if (removed) {
            e.block = EdgeBlock::Forbidden;
            e.error = "Error: No such VM: " + name + " (see `isolab vm ls`)";
        } else {
            e.block = EdgeBlock::NoSubject;
            e.error = tr("gui.lifecycle.select_vm_first");
        }
        return;
    }
    const std::string state_word = node_word(here);
    std::string to = r.ok() ? (r->remove ? "removed" : vm_node(r->to)) : "";
    if (!r.ok()) {
        e.block = EdgeBlock::Forbidden;
        e.error = "Error: " + r.error().message;
    } else if (r->noop) {
        e.block = EdgeBlock::NoOp;
        e.error = trf("gui.lifecycle.noop", {"isolab " + e.command, state_word});
    } else if ((e.from != "any" && e.from != here) || to != e.to) {
        e.block = EdgeBlock::Elsewhere;
        e.error = trf("gui.lifecycle.elsewhere", {"isolab " + e.command, state_word, node_word(to)});
    } else {
        e.block = EdgeBlock::None;
        e.enabled = true;
        e.error.clear();
    }
}

}  // namespace

LifecycleDiagram vm_diagram(std::optional<vm::VmState> state, bool removed, const std::string& name,
                            const std::string& new_vm_name) {
    LifecycleDiagram d;
    d.cols = 4;
    d.rows = 3;
    d.nodes = {
        {"none", 0, 0, false},     {"aborted", 1, 0, false}, {"poweroff", 0, 1, false}, {"starting", 1, 1, false},
        {"running", 2, 1, false},  {"paused", 3, 1, false},  {"removed", 0, 2, false},  {"stopping", 2, 2, false},
    };
    const std::string here = state ? vm_node(*state) : "";
    if (state) d.current = here;
    else if (removed) d.current = "removed";

    LifecycleEdge create;
    create.from = "none";
    create.to = "poweroff";
    create.action = "vm create";
    create.command = "vm create " + new_vm_name;
    create.docker = "VBoxManage createvm --name " + new_vm_name + " --register";
    create.enabled = true;
    create.block = EdgeBlock::None;
    d.edges.push_back(create);

    for (const VEdge& v : kVmEdges) {
        LifecycleEdge e;
        e.from = v.from;
        e.to = v.to;
        e.action = v.automatic ? "" : v.action;
        e.automatic = v.automatic;
        e.offset = v.offset;
        e.label_at = v.label_at;
        if (v.automatic) {
            e.block = EdgeBlock::Automatic;
            e.error = tr(v.act == vm::VmAction::BootCompleted   ? "gui.lifecycle.auto_boot"
                         : v.act == vm::VmAction::ProcessExited ? "gui.lifecycle.auto_powered_off"
                                                                : "gui.lifecycle.auto_crash");
            d.edges.push_back(e);
            continue;
        }
        e.command = std::string(v.action) + " " + name;
        e.docker = vbox(v.act, name);
        Result<vm::VmTransition> r = state ? vm::vm_transition(*state, v.act, name)
                                           : Result<vm::VmTransition>(make_error("no VM", 1));
        decide_vm(e, state, removed, name, here, std::move(r));
        d.edges.push_back(e);
    }

    // `vm rm -f` from any state: the manager powers a VM with a process off first, then removes
    // it — two transitions of the machine, each of which must be allowed.
    LifecycleEdge rmf;
    rmf.from = "any";
    rmf.to = "removed";
    rmf.action = "vm rm -f";
    rmf.command = "vm rm -f " + name;
    rmf.docker = vbox(vm::VmAction::PowerOff, name) + " && " + vbox(vm::VmAction::Remove, name);
    Result<vm::VmTransition> r = make_error("no VM", 1);
    if (state) {
        vm::VmState s = *state;
        bool ok = true;
        if (vm::vm_has_process(s)) {
            auto off = vm::vm_transition(s, vm::VmAction::PowerOff, name);
            if (off.ok()) s = off->to;
            else {
                r = off;
                ok = false;
            }
        }
        if (ok) r = vm::vm_transition(s, vm::VmAction::Remove, name);
    }
    decide_vm(rmf, state, removed, name, here, std::move(r));
    d.edges.push_back(rmf);
    return d;
}

}  // namespace isolab::view
