// Starting a process inside a running container: the one path that `isolab exec`
// (NamespaceRuntime::exec, which relays the process's stdio to the caller) and the monitor's
// health checks (health_checker.hpp, which keep its output) both take to the exec helper
// (exec_helper.hpp says how that program hardens itself and why).
#pragma once

#include <sys/types.h>

#include <string>

#include "sim/core/files.hpp"
#include "sim/core/result.hpp"
#include "sim/runtime/exec_helper.hpp"
#include "sim/runtime/runtime.hpp"
#include "sim/state/container.hpp"

namespace isolab {

// REQ inside REC as the helper's plan: REC's PID 1 (pid, start time, monitor, cgroups) to join,
// the container's environment with REQ's variables replacing those of the same name, REQ's
// working directory (else the container's, else /), REQ's user, and the container's confinement
// (capabilities, no_new_privs, seccomp; every capability with REQ.privileged). ROOTLESS: join the
// container's user namespace first. Errors: no command (125), a security option that cannot be
// turned into a filter.
Result<ExecPlan> make_exec_plan(const ContainerRecord& rec, const ExecRequest& req, bool rootless);

// The helper's stdio: each a descriptor of the caller's (not moved, not closed), or -1 for
// /dev/null. CONSOLE is the socket a tty's master comes back on (plan.tty only).
struct ExecStdio {
    int in = -1, out = -1, err = -1, console = -1;
};

struct SpawnedExec {
    pid_t pid = 0;     // the helper: its exit status is the command's (Docker's convention)
    UniqueFd report;   // EOF once the command was executed, else "CODE MESSAGE" (read_exec_report)
};

// Forks the helper, run from a read-only bind of the monitor binary (sealed_exec.hpp), in a
// session (and process group) of its own, with every signal at its default and unblocked, STDIO
// on 0-2 and nothing else of the caller's; then hands it PLAN and returns. DIE_WITH_PARENT: the
// helper gets SIGKILL when the calling thread dies (PR_SET_PDEATHSIG; its own child, the command,
// has the same tie to it), so a monitor killed mid-probe leaves no probe running. HELPER is the
// isolab-monitor binary (monitor_binary()); a caller that leaves the mount namespace it was
// started in (the monitor of a runc container) finds it before, while /proc/self/exe still names
// it.
Result<SpawnedExec> spawn_exec_helper(const ExecPlan& plan, const ExecStdio& stdio, bool die_with_parent,
                                      const std::string& helper = monitor_binary());

// Reads the report pipe to EOF (blocks until the command was executed or could not be).
std::string read_exec_report(int fd);
// A non-empty report as Docker words the error: "OCI runtime exec failed: exec failed: unable to
// start container process: MESSAGE: unknown" with its code (125 setup, 126, 127).
Error exec_report_error(const std::string& report);

}  // namespace isolab
