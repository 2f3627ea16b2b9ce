// Every (state, action) pair of the VM lifecycle, from one table (STYLE §3), like
// test_lifecycle.cpp for containers. A pair missing from the table fails the completeness check,
// so a new state or action cannot go untested.
#include <doctest/doctest.h>

#include <deque>
#include <set>

#include "sim/vm/vm_lifecycle.hpp"

using namespace isolab;
using namespace isolab::vm;
using S = VmState;
using A = VmAction;

namespace {

struct Row {
    S from;
    A action;
    bool ok;
    S to;                 // when ok
    bool noop;            // when ok
    bool remove;          // when ok
    const char* message;  // when !ok: the exact text, for a VM named "web"; exit code is always 1
};

constexpr bool OK = true, NO = false;

const Row kTable[] = {
    // start
    {S::PoweredOff, A::Start, OK, S::Starting, false, false, ""},
    {S::Aborted, A::Start, OK, S::Starting, false, false, ""},
    {S::Starting, A::Start, NO, S::Starting, false, false, "VM \"web\" is already starting"},
    {S::Running, A::Start, NO, S::Running, false, false, "VM \"web\" is already running"},
    {S::Paused, A::Start, NO, S::Paused, false, false, "VM \"web\" is paused: resume it instead (isolab vm resume web)"},
    {S::Stopping, A::Start, NO, S::Stopping, false, false,
     "VM \"web\" is stopping: wait until it has powered off, then start it again"},
    // the guest finished booting (a report that may come late)
    {S::Starting, A::BootCompleted, OK, S::Running, false, false, ""},
    {S::PoweredOff, A::BootCompleted, OK, S::PoweredOff, true, false, ""},
    {S::Running, A::BootCompleted, OK, S::Running, true, false, ""},
    {S::Paused, A::BootCompleted, OK, S::Paused, true, false, ""},
    {S::Stopping, A::BootCompleted, OK, S::Stopping, true, false, ""},
    {S::Aborted, A::BootCompleted, OK, S::Aborted, true, false, ""},
    // pause
    {S::Running, A::Pause, OK, S::Paused, false, false, ""},
    {S::Paused, A::Pause, NO, S::Paused, false, false, "VM \"web\" is already paused"},
    {S::Starting, A::Pause, NO, S::Starting, false, false,
     "VM \"web\" is still starting: wait until it is running, then pause it"},
    {S::Stopping, A::Pause, NO, S::Stopping, false, false, "VM \"web\" is stopping and cannot be paused"},
    {S::PoweredOff, A::Pause, NO, S::PoweredOff, false, false, "VM \"web\" is not running (state: poweroff)"},
    {S::Aborted, A::Pause, NO, S::Aborted, false, false, "VM \"web\" is not running (state: aborted)"},
    // resume
    {S::Paused, A::Resume, OK, S::Running, false, false, ""},
    {S::PoweredOff, A::Resume, NO, S::PoweredOff, false, false, "VM \"web\" is not paused (state: poweroff)"},
    {S::Starting, A::Resume, NO, S::Starting, false, false, "VM \"web\" is not paused (state: starting)"},
    {S::Running, A::Resume, NO, S::Running, false, false, "VM \"web\" is not paused (state: running)"},
    {S::Stopping, A::Resume, NO, S::Stopping, false, false, "VM \"web\" is not paused (state: stopping)"},
    {S::Aborted, A::Resume, NO, S::Aborted, false, false, "VM \"web\" is not paused (state: aborted)"},
    // shutdown (clean)
    {S::Starting, A::Shutdown, OK, S::Stopping, false, false, ""},
    {S::Running, A::Shutdown, OK, S::Stopping, false, false, ""},
    {S::Paused, A::Shutdown, OK, S::Stopping, false, false, ""},
    {S::Stopping, A::Shutdown, OK, S::Stopping, true, false, ""},
    {S::PoweredOff, A::Shutdown, NO, S::PoweredOff, false, false, "VM \"web\" is not running (state: poweroff)"},
    {S::Aborted, A::Shutdown, NO, S::Aborted, false, false, "VM \"web\" is not running (state: aborted)"},
    // poweroff (forced)
    {S::Starting, A::PowerOff, OK, S::PoweredOff, false, false, ""},
    {S::Running, A::PowerOff, OK, S::PoweredOff, false, false, ""},
    {S::Paused, A::PowerOff, OK, S::PoweredOff, false, false, ""},
    {S::Stopping, A::PowerOff, OK, S::PoweredOff, false, false, ""},
    {S::PoweredOff, A::PowerOff, NO, S::PoweredOff, false, false, "VM \"web\" is not running (state: poweroff)"},
    {S::Aborted, A::PowerOff, NO, S::Aborted, false, false, "VM \"web\" is not running (state: aborted)"},
    // QEMU exited on its own
    {S::Starting, A::ProcessExited, OK, S::PoweredOff, false, false, ""},
    {S::Running, A::ProcessExited, OK, S::PoweredOff, false, false, ""},
    {S::Paused, A::ProcessExited, OK, S::PoweredOff, false, false, ""},
    {S::Stopping, A::ProcessExited, OK, S::PoweredOff, false, false, ""},
    {S::PoweredOff, A::ProcessExited, OK, S::PoweredOff, true, false, ""},
    {S::Aborted, A::ProcessExited, OK, S::Aborted, true, false, ""},
    // QEMU died unexpectedly
    {S::Starting, A::ProcessCrashed, OK, S::Aborted, false, false, ""},
    {S::Running, A::ProcessCrashed, OK, S::Aborted, false, false, ""},
    {S::Paused, A::ProcessCrashed, OK, S::Aborted, false, false, ""},
    {S::Stopping, A::ProcessCrashed, OK, S::Aborted, false, false, ""},
    {S::PoweredOff, A::ProcessCrashed, OK, S::PoweredOff, true, false, ""},
    {S::Aborted, A::ProcessCrashed, OK, S::Aborted, true, false, ""},
    // rm
    {S::PoweredOff, A::Remove, OK, S::PoweredOff, false, true, ""},
    {S::Aborted, A::Remove, OK, S::Aborted, false, true, ""},
    {S::Starting, A::Remove, NO, S::Starting, false, false,
     "cannot remove VM \"web\" while it is starting: stop it first (isolab vm stop web) or use -f"},
    {S::Running, A::Remove, NO, S::Running, false, false,
     "cannot remove VM \"web\" while it is running: stop it first (isolab vm stop web) or use -f"},
    {S::Paused, A::Remove, NO, S::Paused, false, false,
     "cannot remove VM \"web\" while it is paused: stop it first (isolab vm stop web) or use -f"},
    {S::Stopping, A::Remove, NO, S::Stopping, false, false,
     "cannot remove VM \"web\" while it is stopping: wait until it has powered off, or use -f"},
};

}  // namespace

TEST_CASE("vm lifecycle: the table covers every (state, action) pair exactly once") {
    std::set<std::pair<int, int>> seen;
    for (const auto& r : kTable) {
        auto key = std::make_pair(static_cast<int>(r.from), static_cast<int>(r.action));
        CHECK_MESSAGE(seen.insert(key).second, "duplicate row for ", to_string(r.from), " + ", to_string(r.action));
    }
    for (S s : kAllVmStates)
        for (A a : kAllVmActions)
            CHECK_MESSAGE(seen.count({static_cast<int>(s), static_cast<int>(a)}) == 1, "missing row for ",
                          to_string(s), " + ", to_string(a));
    CHECK(std::size(kTable) == std::size(kAllVmStates) * std::size(kAllVmActions));
}

TEST_CASE("vm lifecycle: every transition, allowed and forbidden, behaves as the table says") {
    for (const auto& r : kTable) {
        CAPTURE(to_string(r.from));
        CAPTURE(to_string(r.action));
        auto t = vm_transition(r.from, r.action, "web");
        REQUIRE(t.ok() == r.ok);
        if (r.ok) {
            CHECK(t->to == r.to);
            CHECK(t->noop == r.noop);
            CHECK(t->remove == r.remove);
            if (t->noop) CHECK(t->to == r.from);  // a no-op never moves
            if (t->remove) CHECK(r.action == A::Remove);
        } else {
            CHECK(t.error().exit_code == 1);
            CHECK(t.error().message == r.message);
        }
    }
}

TEST_CASE("vm lifecycle: every refusal names the VM as the user typed it") {
    for (S s : kAllVmStates)
        for (A a : kAllVmActions) {
            auto t = vm_transition(s, a, "db-01");
            if (t.ok()) continue;
            CAPTURE(to_string(s));
            CAPTURE(to_string(a));
            CHECK(t.error().message.find("VM \"db-01\"") != std::string::npos);
            CHECK(t.error().exit_code == 1);
        }
}

TEST_CASE("vm lifecycle: late reports never fail, user actions are the only refusals") {
    // The console follower and the process reaper race with the user; their reports must be
    // accepted (perhaps as no-ops) in every state.
    for (S s : kAllVmStates)
        for (A a : {A::BootCompleted, A::ProcessExited, A::ProcessCrashed}) {
            CAPTURE(to_string(s));
            CAPTURE(to_string(a));
            CHECK(vm_transition(s, a, "web").ok());
        }
}

TEST_CASE("vm lifecycle: every state is reachable, and every state with a process can be powered off") {
    std::set<S> reached = {S::PoweredOff};
    std::deque<S> todo = {S::PoweredOff};
    while (!todo.empty()) {
        S s = todo.front();
        todo.pop_front();
        for (A a : kAllVmActions) {
            auto t = vm_transition(s, a, "web");
            if (t.ok() && reached.insert(t->to).second) todo.push_back(t->to);
        }
    }
    for (S s : kAllVmStates) {
        CAPTURE(to_string(s));
        CHECK(reached.count(s) == 1);
        if (vm_has_process(s)) {
            auto off = vm_transition(s, A::PowerOff, "web");
            REQUIRE(off.ok());
            CHECK(off->to == S::PoweredOff);
        } else {
            // `rm` works without -f exactly where no QEMU process exists.
            CHECK(vm_transition(s, A::Remove, "web").ok());
        }
    }
}

TEST_CASE("vm lifecycle: state names are VBoxManage's and round-trip") {
    CHECK(to_string(S::PoweredOff) == "poweroff");
    CHECK(to_string(S::Starting) == "starting");
    CHECK(to_string(S::Running) == "running");
    CHECK(to_string(S::Paused) == "paused");
    CHECK(to_string(S::Stopping) == "stopping");
    CHECK(to_string(S::Aborted) == "aborted");
    for (S s : kAllVmStates) {
        S back = s == S::Running ? S::Paused : S::Running;
        REQUIRE(parse_vm_state(to_string(s), &back));
        CHECK(back == s);
    }
    S untouched = S::Paused;
    CHECK_FALSE(parse_vm_state("powered off", &untouched));
    CHECK_FALSE(parse_vm_state("saved", &untouched));
    CHECK_FALSE(parse_vm_state("", &untouched));
    CHECK(untouched == S::Paused);

    std::set<std::string_view> action_words;
    for (A a : kAllVmActions) action_words.insert(to_string(a));
    CHECK(action_words.size() == std::size(kAllVmActions));  // distinct
    CHECK(action_words.count("unknown") == 0);
    CHECK(to_string(A::Remove) == "rm");
    CHECK(to_string(A::PowerOff) == "poweroff");
}

TEST_CASE("vm lifecycle: which states own a QEMU process") {
    CHECK_FALSE(vm_has_process(S::PoweredOff));
    CHECK(vm_has_process(S::Starting));
    CHECK(vm_has_process(S::Running));
    CHECK(vm_has_process(S::Paused));
    CHECK(vm_has_process(S::Stopping));
    CHECK_FALSE(vm_has_process(S::Aborted));
}
