// The container's first process: the setup that runs inside the new namespaces, between clone
// and execve, as a list of steps (STYLE §4, after bubblewrap's SetupOp list). The monitor clones
// a child and calls container_init() in it; the child reports each step's timing and either an
// error or readiness over `report_fd`, then waits for the monitor's go before execve.
#pragma once

#include <string>
#include <vector>

#include "sim/core/result.hpp"

namespace isolab {

struct InitConfig {
    std::string container_dir;           // ROOT/containers/ID
    std::vector<std::string> layers;     // lowest first; empty = scratch
    std::string rootfs_mode;             // overlay | copy
    std::string hostname;
    std::vector<std::string> args;       // argv of the user's command
    std::vector<std::string> env;
    std::string workdir = "/";
    std::string user;                    // "" | uid[:gid] | name[:group]
    bool rootless = false;
    bool own_network = true;             // false with --network host (no CLONE_NEWNET)
    bool tty = false;
    int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;  // in the child; dup2'ed to 0 1 2
    // cgroup v1: `tasks` files the child writes "0" into to move itself. Moving the current
    // single thread skips the kernel's global threadgroup lock (and its RCU grace period, ~10 ms
    // per hierarchy); the monitor writing the pid to cgroup.procs would pay it.
    std::vector<std::string> cgroup_self_join;
    int console_fd = -1;                 // with tty: the console socket (the pty is made inside)
    int go_fd = -1;                      // read end: one byte = continue setup, second = execve
    int report_fd = -1;                  // write end, O_CLOEXEC: EOF after a successful execve
    double clone_started_ms = 0;         // monotonic time the monitor called clone
};

// Does not return. Exits 125 (setup failed), 126 (cannot invoke) or 127 (not found) after writing
// "ERROR <code> <message>" to report_fd; on success execve replaces the process.
[[noreturn]] void container_init(const InitConfig& cfg);

// Resolves a command like execvp would inside `root` (the container's /), with the container's
// PATH. Returns "" and sets *code/*message (126/127, Docker's wording) when it cannot be invoked.
std::string resolve_command(const std::string& root, const std::string& cmd,
                            const std::vector<std::string>& env, int* code, std::string* message);

// Becomes USER ("" | uid[:gid] | name[:group]), names looked up in the container's own
// /etc/passwd and /etc/group (the caller already stands in the container's root, never the
// host's). Errors in Docker's wording ("unable to find user X: no matching entries in passwd
// file", exit 126).
Status switch_to_user(const std::string& user, bool rootless);

}  // namespace isolab
