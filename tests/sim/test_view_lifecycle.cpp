// The Lifecycle tab's diagrams against the state machines they draw: every edge, in every state,
// is enabled exactly when the machine allows that action from that node to that node, and a
// forbidden edge carries the machine's own error text.
#include <doctest/doctest.h>

#include <set>

#include "sim/view/lifecycle_model.hpp"

using namespace isolab;
using namespace isolab::view;

namespace {

const std::string kId(64, 'a');

ContainerAction action_of(const std::string& a) {
    if (a == "start") return ContainerAction::Start;
    if (a == "stop") return ContainerAction::Stop;
    if (a == "kill") return ContainerAction::Kill;
    if (a == "pause") return ContainerAction::Pause;
    if (a == "unpause") return ContainerAction::Unpause;
    if (a == "restart") return ContainerAction::Restart;
    if (a == "rm") return ContainerAction::Remove;
    if (a == "rm -f") return ContainerAction::ForceRemove;
    FAIL("unexpected action " << a);
    return ContainerAction::Exec;
}

const LifecycleEdge* find(const LifecycleDiagram& d, const std::string& from, const std::string& to,
                          const std::string& action) {
    for (const auto& e : d.edges)
        if (e.from == from && e.to == to && e.action == action) return &e;
    return nullptr;
}

}  // namespace

TEST_CASE("view: container diagram has the edges the tab promises") {
    auto d = container_diagram(ContainerState::Running, false, "web", kId, "run -d busybox", "create busybox");
    std::set<std::string> nodes;
    for (const auto& n : d.nodes) nodes.insert(n.id);
    for (const char* n : {"none", "created", "running", "paused", "exited", "removed", "restarting"})
        CHECK(nodes.count(n) == 1);
    CHECK(find(d, "created", "running", "start"));
    CHECK(find(d, "running", "paused", "pause"));
    CHECK(find(d, "paused", "running", "unpause"));
    CHECK(find(d, "running", "exited", "stop"));
    CHECK(find(d, "running", "exited", "kill"));
    CHECK(find(d, "exited", "running", "start"));
    CHECK(find(d, "exited", "running", "restart"));
    CHECK(find(d, "running", "running", "restart"));
    CHECK(find(d, "running", "removed", "rm -f"));
    CHECK(find(d, "created", "removed", "rm"));
    const LifecycleEdge* run = find(d, "none", "running", "run");
    REQUIRE(run);
    CHECK(run->composite);
    CHECK(run->enabled);
    CHECK(run->command == "run -d busybox");
    // Every edge endpoint is a node.
    for (const auto& e : d.edges) {
        CHECK(nodes.count(e.from) == 1);
        CHECK(nodes.count(e.to) == 1);
    }
}

TEST_CASE("view: every container edge in every state agrees with container_transition") {
    for (ContainerState s : kAllContainerStates) {
        CAPTURE(to_string(s));
        auto d = container_diagram(s, false, "web", kId, "run -d busybox", "create busybox");
        CHECK(d.current == container_node(s));
        int enabled = 0;
        for (const auto& e : d.edges) {
            CAPTURE(e.from);
            CAPTURE(e.action);
            if (e.from == "none") {
                CHECK(e.enabled);  // a new container: always possible
                continue;
            }
            if (e.automatic) {
                CHECK_FALSE(e.enabled);
                CHECK(e.block == EdgeBlock::Automatic);
                CHECK(e.command.empty());
                continue;
            }
            CHECK(e.command == e.action + " web");
            auto r = container_transition(s, action_of(e.action), ContainerRef{"web", kId});
            const bool expect = r.ok() && !r->noop && e.from == container_node(s) && container_node(r->to) == e.to;
            CHECK(e.enabled == expect);
            if (!r.ok()) {
                CHECK(e.block == EdgeBlock::Forbidden);
                CHECK(e.error == "Error response from daemon: " + r.error().message);
            } else if (r->noop) {
                CHECK(e.block == EdgeBlock::NoOp);
            } else if (!expect) {
                CHECK(e.block == EdgeBlock::Elsewhere);
            } else {
                CHECK(e.block == EdgeBlock::None);
                CHECK(e.error.empty());
                ++enabled;
            }
        }
        // Running has the most ways out; each state with a node has at least one except the
        // transient/terminal ones.
        if (s == ContainerState::Running) CHECK(enabled == 5);  // restart, pause, stop, kill, rm -f
        if (s == ContainerState::Paused) CHECK(enabled == 3);   // unpause, stop, rm -f
        if (s == ContainerState::Created) CHECK(enabled == 2);  // start, rm
        if (s == ContainerState::Exited) CHECK(enabled == 3);   // start, restart, rm
    }
}

TEST_CASE("view: Docker's errors appear on the forbidden container edges") {
    auto d = container_diagram(ContainerState::Running, false, "web", kId, "run", "create");
    const LifecycleEdge* unpause = find(d, "paused", "running", "unpause");
    REQUIRE(unpause);
    CHECK_FALSE(unpause->enabled);
    CHECK(unpause->error == "Error response from daemon: Container " + kId + " is not paused");
    const LifecycleEdge* rm = find(d, "exited", "removed", "rm");
    REQUIRE(rm);
    CHECK(rm->error.find("container is running: stop the container before removing or force remove") !=
          std::string::npos);
    // Starting a running container is Docker's silent no-op, not an error.
    const LifecycleEdge* start = find(d, "created", "running", "start");
    REQUIRE(start);
    CHECK(start->block == EdgeBlock::NoOp);

    auto p = container_diagram(ContainerState::Paused, false, "web", kId, "run", "create");
    start = find(p, "exited", "running", "start");
    REQUIRE(start);
    CHECK(start->error == "Error response from daemon: cannot start a paused container, try unpause instead");
}

TEST_CASE("view: container diagram without a selection, and after removal") {
    auto d = container_diagram(std::nullopt, false, "", "", "run", "create");
    CHECK(d.current.empty());
    for (const auto& e : d.edges) {
        if (e.from == "none") CHECK(e.enabled);
        else if (!e.automatic) CHECK(e.block == EdgeBlock::NoSubject);
    }
    auto gone = container_diagram(std::nullopt, true, "web", "", "run", "create");
    CHECK(gone.current == "removed");
    const LifecycleEdge* start = find(gone, "created", "running", "start");
    REQUIRE(start);
    CHECK(start->error == "Error response from daemon: No such container: web");
}

TEST_CASE("view: every VM edge in every state agrees with vm_transition") {
    for (vm::VmState s : vm::kAllVmStates) {
        CAPTURE(vm::to_string(s));
        auto d = vm_diagram(s, false, "vm1", "vm2");
        CHECK(d.current == vm_node(s));
        std::set<std::string> nodes;
        for (const auto& n : d.nodes) nodes.insert(n.id);
        for (const auto& e : d.edges) {
            CAPTURE(e.action);
            CAPTURE(e.from);
            CHECK((e.from == "any" || nodes.count(e.from) == 1));
            CHECK(nodes.count(e.to) == 1);
            if (e.from == "none") {
                CHECK(e.enabled);
                CHECK(e.command == "vm create vm2");
                continue;
            }
            if (e.automatic) {
                CHECK(e.block == EdgeBlock::Automatic);
                CHECK_FALSE(e.enabled);
                continue;
            }
            if (e.action == "vm rm -f") {
                // Allowed from every state: a forced poweroff (when QEMU runs) and then the removal.
                CHECK(e.enabled);
                CHECK(e.to == "removed");
                continue;
            }
            vm::VmAction a = e.action == "vm start -d" ? vm::VmAction::Start
                             : e.action == "vm pause"  ? vm::VmAction::Pause
                             : e.action == "vm resume" ? vm::VmAction::Resume
                             : e.action == "vm stop"   ? vm::VmAction::Shutdown
                                                       : vm::VmAction::Remove;
            if (a == vm::VmAction::Remove) CHECK(e.action == "vm rm");
            auto r = vm::vm_transition(s, a, "vm1");
            std::string to = r.ok() ? (r->remove ? "removed" : vm_node(r->to)) : "";
            const bool expect = r.ok() && !r->noop && e.from == vm_node(s) && to == e.to;
            CHECK(e.enabled == expect);
            if (!r.ok()) CHECK(e.error == "Error: " + r.error().message);
            if (expect) CHECK(e.error.empty());
        }
    }
}

TEST_CASE("view: VM diagram edges and errors") {
    auto d = vm_diagram(vm::VmState::Running, false, "vm1", "vm2");
    const LifecycleEdge* resume = find(d, "paused", "running", "vm resume");
    REQUIRE(resume);
    CHECK(resume->error == "Error: VM \"vm1\" is not paused (state: running)");
    const LifecycleEdge* pause = find(d, "running", "paused", "vm pause");
    REQUIRE(pause);
    CHECK(pause->enabled);
    CHECK(pause->command == "vm pause vm1");
    const LifecycleEdge* rm = find(d, "poweroff", "removed", "vm rm");
    REQUIRE(rm);
    CHECK(rm->error.find("stop it first") != std::string::npos);

    auto none = vm_diagram(std::nullopt, false, "", "vm1");
    CHECK(none.current.empty());
    for (const auto& e : none.edges)
        if (e.from != "none" && !e.automatic) CHECK(e.block == EdgeBlock::NoSubject);
}
