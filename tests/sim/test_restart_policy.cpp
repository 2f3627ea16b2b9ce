// Docker's restart policies (sim/state/restart_policy.hpp): every policy, exit code, retry count
// and a manual stop. What Docker does: `no` never restarts; `always` and `unless-stopped` restart
// any exit; `on-failure[:N]` restarts a non-zero exit, at most N times; a container the user
// stopped is never restarted by its policy.
#include <doctest/doctest.h>

#include "sim/state/restart_policy.hpp"

using namespace isolab;

namespace {

ContainerRecord with_policy(RestartPolicyKind kind, int max_retries = 0, int restarts = 0, bool stopped = false) {
    ContainerRecord r;
    r.spec.restart.kind = kind;
    r.spec.restart.max_retries = max_retries;
    r.restart_count = restarts;
    r.stopped_by_user = stopped;
    return r;
}

}  // namespace

TEST_CASE("restart policy: no, always, unless-stopped for every kind of exit") {
    for (int code : {0, 1, 2, 125, 137, 143, 255}) {
        INFO("exit code " << code);
        CHECK_FALSE(should_restart(with_policy(RestartPolicyKind::No), code));
        CHECK(should_restart(with_policy(RestartPolicyKind::Always), code));
        CHECK(should_restart(with_policy(RestartPolicyKind::UnlessStopped), code));
        // The count does not limit them (a retry count is on-failure's only).
        CHECK(should_restart(with_policy(RestartPolicyKind::Always, 0, 1000), code));
        CHECK(should_restart(with_policy(RestartPolicyKind::UnlessStopped, 3, 3), code));
        CHECK_FALSE(should_restart(with_policy(RestartPolicyKind::No, 3, 0), code));
    }
}

TEST_CASE("restart policy: on-failure restarts non-zero exits, up to N times") {
    // on-failure (no N): every failure, however many before.
    CHECK_FALSE(should_restart(with_policy(RestartPolicyKind::OnFailure), 0));
    for (int restarts : {0, 1, 10, 1000}) {
        INFO("restarts so far " << restarts);
        CHECK(should_restart(with_policy(RestartPolicyKind::OnFailure, 0, restarts), 1));
        CHECK(should_restart(with_policy(RestartPolicyKind::OnFailure, 0, restarts), 137));
        CHECK_FALSE(should_restart(with_policy(RestartPolicyKind::OnFailure, 0, restarts), 0));
    }
    // on-failure:3: restarts 0, 1, 2 are followed by another; after the third, none.
    for (int restarts = 0; restarts < 3; ++restarts) {
        INFO("restarts so far " << restarts);
        CHECK(should_restart(with_policy(RestartPolicyKind::OnFailure, 3, restarts), 1));
        CHECK_FALSE(should_restart(with_policy(RestartPolicyKind::OnFailure, 3, restarts), 0));
    }
    CHECK_FALSE(should_restart(with_policy(RestartPolicyKind::OnFailure, 3, 3), 1));
    CHECK_FALSE(should_restart(with_policy(RestartPolicyKind::OnFailure, 3, 4), 1));
    // on-failure:1: exactly one restart.
    CHECK(should_restart(with_policy(RestartPolicyKind::OnFailure, 1, 0), 2));
    CHECK_FALSE(should_restart(with_policy(RestartPolicyKind::OnFailure, 1, 1), 2));
}

TEST_CASE("restart policy: a container the user stopped is never restarted") {
    for (auto kind : {RestartPolicyKind::No, RestartPolicyKind::Always, RestartPolicyKind::UnlessStopped,
                      RestartPolicyKind::OnFailure}) {
        for (int code : {0, 1, 137, 143}) {
            INFO("policy " << static_cast<int>(kind) << ", exit code " << code);
            CHECK_FALSE(should_restart(with_policy(kind, 0, 0, true), code));
            CHECK_FALSE(should_restart(with_policy(kind, 5, 1, true), code));
        }
    }
}
