#include "sim/runtime/exec_helper.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/core/process.hpp"
#include "sim/runtime/console.hpp"
#include "sim/runtime/init.hpp"
#include "sim/runtime/security.hpp"

namespace isolab {

using nlohmann::json;

json exec_plan_to_json(const ExecPlan& p) {
    return {{"pid", p.pid},           {"pid_start_time", p.pid_start_time}, {"monitor_pid", p.monitor_pid},
            {"rootless", p.rootless}, {"cgroup_paths", p.cgroup_paths},     {"cmd", p.cmd},
            {"env", p.env},           {"workdir", p.workdir},               {"user", p.user},
            {"tty", p.tty},           {"capabilities", p.capabilities},     {"no_new_privileges", p.no_new_privileges},
            {"seccomp", p.seccomp}};
}

ExecPlan exec_plan_from_json(const json& j) {
    ExecPlan p;
    p.pid = j.value("pid", 0);
    p.pid_start_time = j.value("pid_start_time", uint64_t{0});
    p.monitor_pid = j.value("monitor_pid", 0);
    p.rootless = j.value("rootless", false);
    p.cgroup_paths = j.value("cgroup_paths", std::vector<std::string>{});
    p.cmd = j.value("cmd", std::vector<std::string>{});
    p.env = j.value("env", std::vector<std::string>{});
    p.workdir = j.value("workdir", std::string("/"));
    p.user = j.value("user", std::string());
    p.tty = j.value("tty", false);
    p.capabilities = j.value("capabilities", std::vector<std::string>{});
    p.no_new_privileges = j.value("no_new_privileges", true);
    if (auto it = j.find("seccomp"); it != j.end()) p.seccomp = *it;
    return p;
}

namespace {

[[noreturn]] void die(int code, const std::string& message) {
    std::string line = std::to_string(code) + " " + message;
    for (char& c : line)
        if (c == '\n') c = ' ';
    ssize_t n = ::write(kExecReportFd, line.data(), line.size());
    (void)n;
    ::_exit(code);
}

ino_t ns_inode(const std::string& pid, const char* ns) {
    struct stat st;
    return ::stat(("/proc/" + pid + "/ns/" + ns).c_str(), &st) == 0 ? st.st_ino : 0;
}

}  // namespace

int exec_helper_main() {
    // Step 3 of the header, first of all.
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) die(125, std::string("exec: set non-dumpable: ") + std::strerror(errno));
    ::fcntl(kExecReportFd, F_SETFD, FD_CLOEXEC);
    auto text = read_file("/proc/self/fd/" + std::to_string(kExecPlanFd));
    ::close(kExecPlanFd);
    if (!text) die(125, "exec: no plan from the CLI");
    auto j = json::parse(*text, nullptr, false);
    if (j.is_discarded()) die(125, "exec: unreadable plan from the CLI");
    const ExecPlan plan = exec_plan_from_json(j);
    if (plan.cmd.empty()) die(125, "exec: no command specified");

    // Step 4: the process tree vouches for PID 1.
    const std::string pid = std::to_string(plan.pid);
    if (!process_matches(plan.pid, plan.pid_start_time))
        die(125, "container's PID 1 (" + pid + ") is not running");
    if (plan.monitor_pid <= 0 || process_parent(plan.pid) != plan.monitor_pid)
        die(125, "process " + pid + " is not the container's PID 1: its parent is not the container's monitor " +
                     std::to_string(plan.monitor_pid) + " (the record may have been tampered with)");
    if (ns_inode(pid, "pid") == 0 || ns_inode(pid, "pid") == ns_inode("self", "pid"))
        die(125, "process " + pid + " is not in a container: it shares the host's pid namespace");

    // Open every namespace before joining any: after joining the mount namespace, the host's
    // /proc/PID is no longer reachable.
    std::vector<std::pair<int, UniqueFd>> nss;
    std::vector<std::pair<const char*, int>> order = {{"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
                                                      {"net", CLONE_NEWNET}, {"pid", CLONE_NEWPID},
                                                      {"cgroup", CLONE_NEWCGROUP}, {"mnt", CLONE_NEWNS}};
    if (plan.rootless) order.insert(order.begin(), {"user", CLONE_NEWUSER});
    for (auto& [n, flag] : order) {
        std::string p = "/proc/" + pid + "/ns/" + n;
        int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) die(125, "exec: open `" + p + "`: " + std::strerror(errno));
        nss.emplace_back(flag, UniqueFd(fd));
    }
    // The cgroup first: the limits (pids, memory) apply to exec'd processes too. v1: "0" into
    // `tasks` moves only this thread and skips the global threadgroup lock; v2 has no `tasks`.
    // A join that fails is an error, never a process outside the container's limits and device
    // rules.
    for (const auto& p : plan.cgroup_paths)
        if (auto s = write_file(p + (path_exists(p + "/tasks") ? "/tasks" : "/cgroup.procs"), "0"); !s)
            die(125, "exec: join the container's cgroup: " + s.error().message);
    for (auto& [flag, fd] : nss)
        if (::setns(fd.get(), flag) != 0) die(125, std::string("exec: setns: ") + std::strerror(errno));
    nss.clear();

    // setns(CLONE_NEWPID) applies to children only: fork once more to be inside.
    pid_t inner = ::fork();
    if (inner < 0) die(125, std::string("exec: fork: ") + std::strerror(errno));
    if (inner > 0) {
        ::close(kExecReportFd);
        ::close(kExecConsoleFd);
        // Signals the CLI forwards to us (it knows only our pid) go on to the command.
        for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) ::signal(s, SIG_IGN);
        return wait_exit_code(inner);
    }
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (plan.tty) {
        auto slave = console_create_and_send(kExecConsoleFd);
        if (!slave) die(125, "exec: " + slave.error().message);
        if (::setsid() < 0 || ::ioctl(*slave, TIOCSCTTY, 0) != 0)
            die(125, std::string("exec: set the controlling terminal: ") + std::strerror(errno));
        ::dup2(*slave, 0);
        ::dup2(*slave, 1);
        ::dup2(*slave, 2);
        if (*slave > 2) ::close(*slave);
    }
    ::close(kExecConsoleFd);
    std::vector<std::string> env = plan.env;
    if (::chdir(plan.workdir.c_str()) != 0)
        die(126, "exec: chdir `" + plan.workdir + "`: " + std::strerror(errno));
    int code = 0;
    std::string message;
    std::string path = resolve_command("", plan.cmd[0], env, &code, &message);
    if (path.empty()) die(code, message);
    // The container's own confinement, in the init's order: without no_new_privs the filter goes
    // on while CAP_SYS_ADMIN is still held, with it after the user switch.
    const bool filter = !plan.seccomp.is_null();
    if (filter && !plan.no_new_privileges)
        if (auto s = load_oci_seccomp(plan.seccomp); !s) die(125, "exec: " + s.error().message);
    if (auto s = security::apply_capabilities(plan.capabilities); !s) die(125, s.error().message);
    if (auto s = switch_to_user(plan.user, plan.rootless); !s) die(s.error().exit_code, s.error().message);
    if (plan.no_new_privileges)
        if (auto s = security::set_no_new_privs(); !s) die(125, s.error().message);
    if (filter && plan.no_new_privileges)
        if (auto s = load_oci_seccomp(plan.seccomp); !s) die(125, "exec: " + s.error().message);
    // Step 5: nothing but stdio crosses the execve.
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) die(125, std::string("exec: close_range: ") + std::strerror(errno));
    std::vector<char*> argv, envp;
    for (const auto& a : plan.cmd) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    ::execve(path.c_str(), argv.data(), envp.data());
    die(errno == ENOENT ? 127 : 126, "exec: \"" + plan.cmd[0] + "\": " + std::strerror(errno));
}

}  // namespace isolab
