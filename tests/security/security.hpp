// Shared by the security tests: when a case can run, and small probes of the host's state.
#pragma once

#include <unistd.h>

#include <doctest/doctest.h>

#include "tests/skip.hpp"

#include "harness.hpp"
#include "sim/host/probe.hpp"

namespace isolab::test {

// The attacks need the real runtime: root, outside a chroot. Elsewhere they say so loudly.
inline bool can_attack() {
    if (::geteuid() != 0) {
        ISOLAB_SKIP("the security tests attack the real runtime and need root (CI runs them as root)");
        return false;
    }
    if (isolab::host::in_chroot()) {
        ISOLAB_SKIP("inside a chroot the runtime uses the simulated backend; there is nothing real to attack");
        return false;
    }
    return true;
}

}  // namespace isolab::test
