// Every (state, action) pair of the container lifecycle, from one table (STYLE §3). A pair missing
// from the table fails the completeness check, so a new state or action cannot go untested.
#include <doctest/doctest.h>

#include <map>
#include <set>

#include "sim/state/lifecycle.hpp"

using namespace isolab;
using S = ContainerState;
using A = ContainerAction;

namespace {

struct Row {
    S from;
    A action;
    bool ok;
    S to;           // when ok
    bool noop;      // when ok
    int exit_code;  // when !ok
    const char* message;  // when !ok: exact Docker wording with ref "web" and id "ID"
};

const Row kTable[] = {
    // start
    {S::Created, A::Start, true, S::Running, false, 0, ""},
    {S::Exited, A::Start, true, S::Running, false, 0, ""},
    {S::Running, A::Start, true, S::Running, true, 0, ""},
    {S::Restarting, A::Start, true, S::Restarting, true, 0, ""},
    {S::Paused, A::Start, false, S::Paused, false, 1, "cannot start a paused container, try unpause instead"},
    {S::Dead, A::Start, false, S::Dead, false, 1, "container is marked for removal and cannot be started"},
    {S::Removing, A::Start, false, S::Removing, false, 1, "container is marked for removal and cannot be started"},
    // stop
    {S::Running, A::Stop, true, S::Exited, false, 0, ""},
    {S::Paused, A::Stop, true, S::Exited, false, 0, ""},
    {S::Restarting, A::Stop, true, S::Exited, false, 0, ""},
    {S::Created, A::Stop, true, S::Created, true, 0, ""},
    {S::Exited, A::Stop, true, S::Exited, true, 0, ""},
    {S::Dead, A::Stop, true, S::Dead, true, 0, ""},
    {S::Removing, A::Stop, true, S::Removing, true, 0, ""},
    // kill
    {S::Running, A::Kill, true, S::Exited, false, 0, ""},
    {S::Paused, A::Kill, true, S::Exited, false, 0, ""},
    {S::Restarting, A::Kill, false, S::Restarting, false, 1, "cannot kill container: web: container ID is restarting, wait until the container is running"},
    {S::Created, A::Kill, false, S::Created, false, 1, "cannot kill container: web: container ID is not running"},
    {S::Exited, A::Kill, false, S::Exited, false, 1, "cannot kill container: web: container ID is not running"},
    {S::Dead, A::Kill, false, S::Dead, false, 1, "cannot kill container: web: container ID is not running"},
    {S::Removing, A::Kill, false, S::Removing, false, 1, "cannot kill container: web: container ID is not running"},
    // pause
    {S::Running, A::Pause, true, S::Paused, false, 0, ""},
    {S::Paused, A::Pause, false, S::Paused, false, 1, "container ID is already paused"},
    {S::Restarting, A::Pause, false, S::Restarting, false, 1, "container ID is restarting, wait until the container is running"},
    {S::Created, A::Pause, false, S::Created, false, 1, "container ID is not running"},
    {S::Exited, A::Pause, false, S::Exited, false, 1, "container ID is not running"},
    {S::Dead, A::Pause, false, S::Dead, false, 1, "container ID is not running"},
    {S::Removing, A::Pause, false, S::Removing, false, 1, "container ID is not running"},
    // unpause
    {S::Paused, A::Unpause, true, S::Running, false, 0, ""},
    {S::Running, A::Unpause, false, S::Running, false, 1, "Container ID is not paused"},
    {S::Created, A::Unpause, false, S::Created, false, 1, "Container ID is not paused"},
    {S::Restarting, A::Unpause, false, S::Restarting, false, 1, "Container ID is not paused"},
    {S::Exited, A::Unpause, false, S::Exited, false, 1, "Container ID is not paused"},
    {S::Dead, A::Unpause, false, S::Dead, false, 1, "Container ID is not paused"},
    {S::Removing, A::Unpause, false, S::Removing, false, 1, "Container ID is not paused"},
    // restart
    {S::Created, A::Restart, true, S::Running, false, 0, ""},
    {S::Running, A::Restart, true, S::Running, false, 0, ""},
    {S::Paused, A::Restart, true, S::Running, false, 0, ""},
    {S::Restarting, A::Restart, true, S::Running, false, 0, ""},
    {S::Exited, A::Restart, true, S::Running, false, 0, ""},
    {S::Dead, A::Restart, false, S::Dead, false, 1, "container is marked for removal and cannot be started"},
    {S::Removing, A::Restart, false, S::Removing, false, 1, "container is marked for removal and cannot be started"},
    // rm
    {S::Created, A::Remove, true, S::Removing, false, 0, ""},
    {S::Exited, A::Remove, true, S::Removing, false, 0, ""},
    {S::Dead, A::Remove, true, S::Removing, false, 0, ""},
    {S::Running, A::Remove, false, S::Running, false, 1, "cannot remove container \"/web\": container is running: stop the container before removing or force remove"},
    {S::Paused, A::Remove, false, S::Paused, false, 1, "cannot remove container \"/web\": container is paused: unpause and then stop the container before removing or force remove"},
    {S::Restarting, A::Remove, false, S::Restarting, false, 1, "cannot remove container \"/web\": container is restarting: stop the container before removing or force remove"},
    {S::Removing, A::Remove, false, S::Removing, false, 1, "removal of container web is already in progress"},
    // rm -f
    {S::Created, A::ForceRemove, true, S::Removing, false, 0, ""},
    {S::Running, A::ForceRemove, true, S::Removing, false, 0, ""},
    {S::Paused, A::ForceRemove, true, S::Removing, false, 0, ""},
    {S::Restarting, A::ForceRemove, true, S::Removing, false, 0, ""},
    {S::Exited, A::ForceRemove, true, S::Removing, false, 0, ""},
    {S::Dead, A::ForceRemove, true, S::Removing, false, 0, ""},
    {S::Removing, A::ForceRemove, false, S::Removing, false, 1, "removal of container web is already in progress"},
    // exec
    {S::Running, A::Exec, true, S::Running, true, 0, ""},
    {S::Paused, A::Exec, false, S::Paused, false, 1, "container ID is paused, unpause the container before exec"},
    {S::Restarting, A::Exec, false, S::Restarting, false, 1, "container ID is restarting, wait until the container is running"},
    {S::Created, A::Exec, false, S::Created, false, 1, "container ID is not running"},
    {S::Exited, A::Exec, false, S::Exited, false, 1, "container ID is not running"},
    {S::Dead, A::Exec, false, S::Dead, false, 1, "container ID is not running"},
    {S::Removing, A::Exec, false, S::Removing, false, 1, "container ID is not running"},
    // the process ended
    {S::Running, A::ProcessExited, true, S::Exited, false, 0, ""},
    {S::Paused, A::ProcessExited, true, S::Exited, false, 0, ""},
    {S::Restarting, A::ProcessExited, true, S::Exited, false, 0, ""},
    {S::Created, A::ProcessExited, true, S::Created, true, 0, ""},
    {S::Exited, A::ProcessExited, true, S::Exited, true, 0, ""},
    {S::Dead, A::ProcessExited, true, S::Dead, true, 0, ""},
    {S::Removing, A::ProcessExited, true, S::Removing, true, 0, ""},
    // restart policy
    {S::Running, A::RestartPending, true, S::Restarting, false, 0, ""},
    {S::Paused, A::RestartPending, true, S::Restarting, false, 0, ""},
    {S::Restarting, A::RestartPending, true, S::Restarting, true, 0, ""},
    {S::Created, A::RestartPending, true, S::Created, true, 0, ""},
    {S::Exited, A::RestartPending, true, S::Exited, true, 0, ""},
    {S::Dead, A::RestartPending, true, S::Dead, true, 0, ""},
    {S::Removing, A::RestartPending, true, S::Removing, true, 0, ""},
    {S::Restarting, A::RestartFired, true, S::Running, false, 0, ""},
    {S::Created, A::RestartFired, false, S::Created, false, 125, "restart of container ID fired in state created"},
    {S::Running, A::RestartFired, false, S::Running, false, 125, "restart of container ID fired in state running"},
    {S::Paused, A::RestartFired, false, S::Paused, false, 125, "restart of container ID fired in state paused"},
    {S::Exited, A::RestartFired, false, S::Exited, false, 125, "restart of container ID fired in state exited"},
    {S::Dead, A::RestartFired, false, S::Dead, false, 125, "restart of container ID fired in state dead"},
    {S::Removing, A::RestartFired, false, S::Removing, false, 125, "restart of container ID fired in state removing"},
};

}  // namespace

TEST_CASE("lifecycle: the table covers every (state, action) pair exactly once") {
    std::set<std::pair<int, int>> seen;
    for (const auto& r : kTable) {
        auto key = std::make_pair(static_cast<int>(r.from), static_cast<int>(r.action));
        CHECK_MESSAGE(seen.insert(key).second, "duplicate row for ", to_string(r.from), " + ", to_string(r.action));
    }
    for (S s : kAllContainerStates)
        for (A a : kAllContainerActions)
            CHECK_MESSAGE(seen.count({static_cast<int>(s), static_cast<int>(a)}) == 1, "missing row for ",
                          to_string(s), " + ", to_string(a));
}

TEST_CASE("lifecycle: every transition, allowed and forbidden, behaves as Docker's") {
    for (const auto& r : kTable) {
        CAPTURE(to_string(r.from));
        CAPTURE(to_string(r.action));
        auto t = container_transition(r.from, r.action, ContainerRef{"web", "ID"});
        REQUIRE(t.ok() == r.ok);
        if (r.ok) {
            CHECK(t->to == r.to);
            CHECK(t->noop == r.noop);
        } else {
            CHECK(t.error().exit_code == r.exit_code);
            CHECK(t.error().message == r.message);
        }
    }
}

TEST_CASE("lifecycle: state names round-trip as docker inspect prints them") {
    for (S s : kAllContainerStates) {
        S back = S::Dead;
        REQUIRE(parse_container_state(to_string(s), &back));
        CHECK(back == s);
    }
    S out;
    CHECK_FALSE(parse_container_state("up", &out));
    CHECK(to_string(S::Running) == "running");
    CHECK(container_has_process(S::Paused));
    CHECK_FALSE(container_has_process(S::Restarting));
}
