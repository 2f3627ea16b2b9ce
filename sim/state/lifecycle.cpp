#include "sim/state/lifecycle.hpp"

namespace isolab {

std::string_view to_string(ContainerState s) {
    switch (s) {
        case ContainerState::Created: return "created";
        case ContainerState::Running: return "running";
        case ContainerState::Paused: return "paused";
        case ContainerState::Restarting: return "restarting";
        case ContainerState::Exited: return "exited";
        case ContainerState::Dead: return "dead";
        case ContainerState::Removing: return "removing";
    }
    return "unknown";
}

bool parse_container_state(std::string_view text, ContainerState* out) {
    for (ContainerState s : kAllContainerStates) {
        if (to_string(s) == text) {
            *out = s;
            return true;
        }
    }
    return false;
}

std::string_view to_string(ContainerAction a) {
    switch (a) {
        case ContainerAction::Start: return "start";
        case ContainerAction::Stop: return "stop";
        case ContainerAction::Kill: return "kill";
        case ContainerAction::Pause: return "pause";
        case ContainerAction::Unpause: return "unpause";
        case ContainerAction::Restart: return "restart";
        case ContainerAction::Remove: return "rm";
        case ContainerAction::ForceRemove: return "rm -f";
        case ContainerAction::Exec: return "exec";
        case ContainerAction::ProcessExited: return "die";
        case ContainerAction::RestartPending: return "restart-pending";
        case ContainerAction::RestartFired: return "restart-fired";
    }
    return "unknown";
}

bool container_has_process(ContainerState s) {
    switch (s) {
        case ContainerState::Running:
        case ContainerState::Paused: return true;
        case ContainerState::Created:
        case ContainerState::Restarting:
        case ContainerState::Exited:
        case ContainerState::Dead:
        case ContainerState::Removing: return false;
    }
    return false;
}

namespace {

Result<Transition> go(ContainerState to) { return Transition{to, false}; }
Result<Transition> stay(ContainerState s) { return Transition{s, true}; }
Result<Transition> fail(std::string msg) { return make_error(std::move(msg), 1); }

std::string not_running(const ContainerRef& w) { return "container " + w.id + " is not running"; }

}  // namespace

// Each case names Docker's behaviour (moby daemon/{start,stop,kill,pause,delete}.go, v29 wording
// from BRIEF §3). The switch is exhaustive on both enums; -Werror=switch keeps it that way.
Result<Transition> container_transition(ContainerState from, ContainerAction action,
                                        const ContainerRef& w) {
    using S = ContainerState;
    switch (action) {
        case ContainerAction::Start:
            switch (from) {
                case S::Created:
                case S::Exited: return go(S::Running);
                case S::Running:
                case S::Restarting: return stay(from);
                case S::Paused: return fail("cannot start a paused container, try unpause instead");
                case S::Dead:
                case S::Removing: return fail("container is marked for removal and cannot be started");
            }
            break;
        case ContainerAction::Stop:
            switch (from) {
                case S::Running:
                case S::Paused:
                case S::Restarting: return go(S::Exited);
                case S::Created:
                case S::Exited:
                case S::Dead:
                case S::Removing: return stay(from);
            }
            break;
        case ContainerAction::Kill:
            switch (from) {
                case S::Running:
                case S::Paused: return go(S::Exited);
                case S::Restarting:
                    return fail("cannot kill container: " + w.ref + ": container " + w.id +
                                " is restarting, wait until the container is running");
                case S::Created:
                case S::Exited:
                case S::Dead:
                case S::Removing:
                    return fail("cannot kill container: " + w.ref + ": " + not_running(w));
            }
            break;
        case ContainerAction::Pause:
            switch (from) {
                case S::Running: return go(S::Paused);
                case S::Paused: return fail("container " + w.id + " is already paused");
                case S::Restarting:
                    return fail("container " + w.id +
                                " is restarting, wait until the container is running");
                case S::Created:
                case S::Exited:
                case S::Dead:
                case S::Removing: return fail(not_running(w));
            }
            break;
        case ContainerAction::Unpause:
            switch (from) {
                case S::Paused: return go(S::Running);
                case S::Created:
                case S::Running:
                case S::Restarting:
                case S::Exited:
                case S::Dead:
                case S::Removing: return fail("Container " + w.id + " is not paused");
            }
            break;
        case ContainerAction::Restart:
            switch (from) {
                case S::Created:
                case S::Running:
                case S::Paused:
                case S::Restarting:
                case S::Exited: return go(S::Running);
                case S::Dead:
                case S::Removing: return fail("container is marked for removal and cannot be started");
            }
            break;
        case ContainerAction::Remove:
            switch (from) {
                case S::Created:
                case S::Exited:
                case S::Dead: return go(S::Removing);
                case S::Running:
                    return fail("cannot remove container \"/" + (w.name.empty() ? w.ref : w.name) +
                                "\": container is running: stop the container before removing or force remove");
                case S::Paused:
                    return fail("cannot remove container \"/" + (w.name.empty() ? w.ref : w.name) +
                                "\": container is paused: unpause and then stop the container before removing or force remove");
                case S::Restarting:
                    return fail("cannot remove container \"/" + (w.name.empty() ? w.ref : w.name) +
                                "\": container is restarting: stop the container before removing or force remove");
                case S::Removing:
                    return fail("removal of container " + w.ref + " is already in progress");
            }
            break;
        case ContainerAction::ForceRemove:
            switch (from) {
                case S::Created:
                case S::Running:
                case S::Paused:
                case S::Restarting:
                case S::Exited:
                case S::Dead: return go(S::Removing);
                case S::Removing:
                    return fail("removal of container " + w.ref + " is already in progress");
            }
            break;
        case ContainerAction::Exec:
            switch (from) {
                case S::Running: return stay(from);
                case S::Paused:
                    return fail("container " + w.id + " is paused, unpause the container before exec");
                case S::Restarting:
                    return fail("container " + w.id +
                                " is restarting, wait until the container is running");
                case S::Created:
                case S::Exited:
                case S::Dead:
                case S::Removing: return fail(not_running(w));
            }
            break;
        case ContainerAction::ProcessExited:
            switch (from) {
                case S::Running:
                case S::Paused:
                case S::Restarting: return go(S::Exited);
                case S::Created:
                case S::Exited:
                case S::Dead:
                case S::Removing: return stay(from);
            }
            break;
        case ContainerAction::RestartPending:
            switch (from) {
                case S::Running:
                case S::Paused: return go(S::Restarting);
                case S::Restarting:
                case S::Created:
                case S::Exited:
                case S::Dead:
                case S::Removing: return stay(from);
            }
            break;
        case ContainerAction::RestartFired:
            switch (from) {
                case S::Restarting: return go(S::Running);
                case S::Created:
                case S::Running:
                case S::Paused:
                case S::Exited:
                case S::Dead:
                case S::Removing:
                    return make_error("restart of container " + w.id + " fired in state " +
                                      std::string(to_string(from)), 125);
            }
            break;
    }
    return make_error("internal: unhandled transition", 125);
}

}  // namespace isolab
