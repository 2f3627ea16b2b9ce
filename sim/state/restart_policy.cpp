#include "sim/state/restart_policy.hpp"

namespace isolab {

bool should_restart(const ContainerRecord& r, int code) {
    if (r.stopped_by_user) return false;
    switch (r.spec.restart.kind) {
        case RestartPolicyKind::No: return false;
        case RestartPolicyKind::Always:
        case RestartPolicyKind::UnlessStopped: return true;
        case RestartPolicyKind::OnFailure:
            return code != 0 && (r.spec.restart.max_retries == 0 || r.restart_count < r.spec.restart.max_retries);
    }
    return false;
}

}  // namespace isolab
