// The container lifecycle as one visible state machine (STYLE §3, after xv6's `enum procstate`).
//
// Docker's states and Docker's words: every action that is invalid in a state returns the error a
// Docker user would see, with Docker's exit code (BRIEF §3). `container_transition` is the only
// function that decides whether an action is allowed; the engine performs what it returns.
#pragma once

#include <string>
#include <string_view>

#include "sim/core/result.hpp"

namespace isolab {

enum class ContainerState { Created, Running, Paused, Restarting, Exited, Dead, Removing };

enum class ContainerAction {
    Start,           // docker start
    Stop,            // docker stop
    Kill,            // docker kill
    Pause,           // docker pause
    Unpause,         // docker unpause
    Restart,         // docker restart
    Remove,          // docker rm
    ForceRemove,     // docker rm -f
    Exec,            // docker exec (no state change; needs a running process)
    ProcessExited,   // the container's PID 1 ended and no restart follows
    RestartPending,  // PID 1 ended and the restart policy will start it again
    RestartFired,    // the monitor started PID 1 again after a policy restart
};

inline constexpr ContainerState kAllContainerStates[] = {
    ContainerState::Created, ContainerState::Running, ContainerState::Paused,
    ContainerState::Restarting, ContainerState::Exited, ContainerState::Dead,
    ContainerState::Removing};

inline constexpr ContainerAction kAllContainerActions[] = {
    ContainerAction::Start, ContainerAction::Stop, ContainerAction::Kill,
    ContainerAction::Pause, ContainerAction::Unpause, ContainerAction::Restart,
    ContainerAction::Remove, ContainerAction::ForceRemove, ContainerAction::Exec,
    ContainerAction::ProcessExited, ContainerAction::RestartPending,
    ContainerAction::RestartFired};

// "created", "running", ... exactly as `docker inspect` prints State.Status.
std::string_view to_string(ContainerState s);
bool parse_container_state(std::string_view text, ContainerState* out);
std::string_view to_string(ContainerAction a);

// What the engine must do: move to `to`, or nothing at all (Docker's silent no-ops: starting a
// running container and stopping a stopped one print the name and exit 0).
struct Transition {
    ContainerState to;
    bool noop = false;
};

// The names an error message quotes: Docker says "cannot kill container: web: container <id> is
// not running" — `ref` is what the user typed, `id` the full 64-hex id; `name` the container's
// name, which rm's refusals quote as "/NAME" whatever was typed (moby's ctr.Name).
struct ContainerRef {
    std::string ref;
    std::string id;
    std::string name;
};

Result<Transition> container_transition(ContainerState from, ContainerAction action,
                                        const ContainerRef& who);

// True when PID 1 of the container exists (running, paused; restarting has none between runs).
bool container_has_process(ContainerState s);

}  // namespace isolab
