// The one container init: the process that runs inside the new namespaces, between clone and
// execve, and executes a setup plan (setup_plan.hpp) built from an OCI runtime spec. The engine's
// monitor, `isolab runtime create` and `isolab bundle`'s bundles all start this same init; runc is
// another runtime, not another branch here.
//
// Protocol with the host (the monitor, or `runtime create`):
//   go_fd     first byte: maps are written and the cgroup is joined, set up;
//             second byte (engine) : execve now. With a fifo (runtime), opening the fifo does it.
//   report_fd "STEP <name> <ms> <detail>" per step, "WARN <text>", then "READY" or
//             "ERROR <code> <message>" (code 125 setup, 126 cannot invoke, 127 not found).
//             CLOEXEC: EOF after a successful execve.
#pragma once

#include <string>
#include <vector>

#include "sim/core/result.hpp"
#include "sim/runtime/oci_spec.hpp"
#include "sim/runtime/setup_plan.hpp"

namespace isolab {

struct InitContext {
    const oci::OciSpec* spec = nullptr;
    const std::vector<SetupStep>* plan = nullptr;
    const InitOptions* opts = nullptr;
    int go_fd = -1;
    int report_fd = -1;
    int console_fd = -1;                                // process.terminal: the console socket
    int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;  // with InitOptions::own_stdio
    std::string fifo_path;   // "" = the second go byte starts the process; else runtime's exec.fifo
    bool die_with_parent = false;  // PR_SET_PDEATHSIG: the engine's monitor owns the container
    double clone_started_ms = 0;   // monotonic time the host called clone
};

// Does not return: execve replaces the process, or it reports ERROR and exits with the code.
[[noreturn]] void run_init(const InitContext& ctx);

// Resolves a command like execvp would inside `root` (the container's /), with the container's
// PATH; a relative path ("./hello.sh", or a PATH entry like "bin") is relative to the working
// directory, as runc resolves it. Returns "" and sets *code/*message (126/127, Docker's wording)
// when it cannot be invoked.
std::string resolve_command(const std::string& root, const std::string& cmd,
                            const std::vector<std::string>& env, int* code, std::string* message);

// USER ("" | uid[:gid] | name[:group]) as numbers, names looked up in the container's own
// /etc/passwd and /etc/group (the caller already stands in the container's root, never the
// host's). Errors in Docker's wording ("unable to find user X: no matching entries in passwd
// file", exit 126).
struct UserIds {
    unsigned uid = 0, gid = 0;
};
Result<UserIds> lookup_user(const std::string& user);

// Becomes USER (lookup_user), clearing supplementary groups: what `exec -u` does.
Status switch_to_user(const std::string& user, bool rootless);

// Loads an OCI linux.seccomp object (validated by parse_oci_spec) with libseccomp, as runc does.
Status load_oci_seccomp(const nlohmann::json& seccomp);

}  // namespace isolab
