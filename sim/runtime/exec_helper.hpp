// `isolab exec`'s process inside a running container, as a program of its own:
// `isolab-monitor --exec`, started by the CLI through ReadOnlyExec (sealed_exec.hpp).
//
// Why a program of its own, and why this order (the CVE behind each step):
//   1. The CLI's child calls setsid() before it execs this program: the process never has the
//      caller's terminal, so nothing inside can push keystrokes into the administrator's shell
//      with TIOCSTI. Its stdio are pipes the CLI relays (or a pty made inside the container, -t).
//   2. It runs from a read-only bind mount of itself (CVE-2019-5736: /proc/PID/exe of the process
//      that entered the container is IsoLab's binary).
//   3. It makes itself non-dumpable before it joins anything: the exec that started it made it
//      dumpable again, and a dumpable process's memory and /proc/PID/{exe,fd,environ} are open to
//      the container's root.
//   4. It joins PID 1's namespaces only after the process tree vouches for PID 1: the pid is the
//      recorded process (same start time), its parent is the container's monitor, and it lives in
//      a pid namespace other than ours — a forged record never makes exec enter a host process.
//   5. Every inherited descriptor is closed at the user's execve (close_range CLOEXEC): a
//      descriptor the caller had open (`exec c cat /proc/self/fd/9 9</host/file`) never reaches
//      the container (CVE-2024-21626 class).
//
// The CLI's side of the contract: fds 0 1 2 are the process's stdio (pipes or /dev/null; unused
// with a tty), kExecPlanFd carries the plan (JSON, then EOF), kExecConsoleFd the console socket
// (tty only), kExecReportFd the report pipe: "CODE MESSAGE" when the command could not be started
// (125 setup, 126 cannot invoke, 127 not found), EOF when execve succeeded. The exit status of
// this program is the command's (Docker's convention: 128 + signal).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace isolab {

struct ExecPlan {
    pid_t pid = 0;                 // the container's PID 1, as recorded
    uint64_t pid_start_time = 0;
    pid_t monitor_pid = 0;         // PID 1's parent
    bool rootless = false;         // join the user namespace first
    std::vector<std::string> cgroup_paths;
    std::vector<std::string> cmd, env;
    std::string workdir = "/", user;
    bool tty = false;
    // The container's (oci_spec.hpp container_security): what the exec'd process keeps.
    std::vector<std::string> capabilities;
    bool no_new_privileges = true;
    nlohmann::json seccomp;  // null: no filter
};

nlohmann::json exec_plan_to_json(const ExecPlan& p);
ExecPlan exec_plan_from_json(const nlohmann::json& j);

constexpr int kExecPlanFd = 3;
constexpr int kExecConsoleFd = 4;
constexpr int kExecReportFd = 5;

// `isolab-monitor --exec`: see above. Returns the command's exit code, or exits 125 on setup
// errors after reporting them.
int exec_helper_main();

}  // namespace isolab
