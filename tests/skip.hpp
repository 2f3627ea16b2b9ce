// How a case that cannot run on this machine says so (tests/README.md): "SKIPPED: <reason>"
// through doctest's MESSAGE, after which the case returns without asserting. Skips are for
// machines that cannot run a case (not root, no user namespaces, a package missing). CI can run
// every case, so under CI=true a skip is a failure: it means a missing package or a broken set-up
// that would otherwise pass unnoticed.
#pragma once

#include <cstdlib>
#include <cstring>

#include <doctest/doctest.h>

namespace isolab::test {

inline bool skips_are_failures() {
    const char* ci = std::getenv("CI");
    return ci && std::strcmp(ci, "true") == 0;
}

}  // namespace isolab::test

// REASON is a doctest message expression: ISOLAB_SKIP("no qemu in " << path).
#define ISOLAB_SKIP(reason)                                                                         \
    do {                                                                                            \
        if (::isolab::test::skips_are_failures())                                                   \
            FAIL_CHECK("SKIPPED under CI=true, where every case must run: " << reason);             \
        else                                                                                        \
            MESSAGE("SKIPPED: " << reason);                                                         \
    } while (0)
