// Running OCI hooks (config.md "POSIX-platform Hooks", runtime.md "Lifecycle"): each hook is a
// program started with the container's state JSON on its stdin, waited for, and killed after its
// timeout. The host's hooks (prestart, createRuntime, poststart, poststop) run from
// oci_runtime.cpp; createContainer and startContainer run from the container's init (init.cpp),
// inside the container's namespaces.
//
// Failure semantics are the caller's: a failing prestart, createRuntime, createContainer or
// startContainer hook fails the operation; poststart and poststop failures are warnings.
#pragma once

#include <string>
#include <vector>

#include "sim/core/result.hpp"
#include "sim/runtime/oci_spec.hpp"

namespace isolab::oci {

// Runs HOOK (the INDEX-th of its KIND, "createRuntime") with STATE on its stdin and waits for it.
// Its stdout and stderr are collected for the error message, as runc does. INHERIT_ENV is the
// environment used when the hook has no env (nullptr: this process's own, as runc's host hooks
// get runc's). In the child every descriptor above 2 is closed before execve, so a hook never
// holds the runtime's pipes. Errors name the hook: "createRuntime hook #0 (`/bin/false`): exit
// status 1, stdout: ..., stderr: ...".
Status run_hook(const Hook& hook, const std::string& kind, size_t index, const std::string& state,
                const std::vector<std::string>* inherit_env = nullptr);

// Runs the hooks of one list in order; stops at the first failure.
Status run_hooks(const std::vector<Hook>& hooks, const std::string& kind, const std::string& state,
                 const std::vector<std::string>* inherit_env = nullptr);

}  // namespace isolab::oci
