// Docker's restart policies (`--restart no|always|unless-stopped|on-failure[:N]`): whether the
// monitor starts PID 1 again after it ended. Kept apart from the monitor so that every policy is
// unit-tested (tests/sim/test_restart_policy.cpp).
#pragma once

#include "sim/state/container.hpp"

namespace isolab {

// True when R's PID 1, which just exited with CODE (Docker's exit code: 128 + signal when
// killed), must be started again. A container the user stopped (`stop`, `kill`, `rm -f`:
// R.stopped_by_user) is never restarted, whatever its policy. `on-failure` restarts only a
// non-zero exit, and at most N times when N > 0 (R.restart_count is the restarts so far).
bool should_restart(const ContainerRecord& r, int code);

}  // namespace isolab
