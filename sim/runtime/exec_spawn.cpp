#include "sim/runtime/exec_spawn.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>

#include "sim/runtime/oci_spec.hpp"
#include "sim/runtime/sealed_exec.hpp"

namespace isolab {

Result<ExecPlan> make_exec_plan(const ContainerRecord& rec, const ExecRequest& req, bool rootless) {
    if (req.cmd.empty()) return make_error("exec: no command specified", 125);
    ExecPlan plan;
    plan.pid = rec.pid;
    plan.pid_start_time = rec.pid_start_time;
    plan.monitor_pid = rec.monitor_pid;
    plan.rootless = rootless;
    plan.cgroup_paths = rec.cgroup_paths;
    plan.cmd = req.cmd;
    plan.env = rec.env;
    for (const auto& e : req.env) {
        std::string key = e.substr(0, e.find('='));
        std::erase_if(plan.env, [&](const std::string& x) { return x.compare(0, key.size() + 1, key + "=") == 0; });
        plan.env.push_back(e);
    }
    plan.workdir = req.workdir.empty() ? rec.workdir : req.workdir;
    if (plan.workdir.empty()) plan.workdir = "/";
    plan.user = req.user;
    plan.tty = req.tty && !req.detach;
    auto security = oci::container_security(rec.spec, req.privileged);
    if (!security) return security.error();
    plan.capabilities = std::move(security->capabilities);
    plan.no_new_privileges = security->no_new_privileges;
    plan.seccomp = std::move(security->seccomp);
    return plan;
}

Result<SpawnedExec> spawn_exec_helper(const ExecPlan& plan, const ExecStdio& stdio, bool die_with_parent,
                                      const std::string& helper_path) {
    const std::string plan_text = exec_plan_to_json(plan).dump();
    // Every descriptor CLOEXEC: the child places its own with dup2.
    auto pipe_pair = [](UniqueFd& r, UniqueFd& w) -> Status {
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0) return errno_error("exec: pipe", errno);
        r.reset(p[0]);
        w.reset(p[1]);
        return {};
    };
    UniqueFd plan_r, plan_w, rep_r, rep_w;
    ISOLAB_TRY(pipe_pair(plan_r, plan_w));
    ISOLAB_TRY(pipe_pair(rep_r, rep_w));
    UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
    auto or_null = [&](int fd) { return fd >= 0 ? fd : devnull.get(); };
    // Where each of the child's descriptors comes from, by target number.
    const int sources[6] = {or_null(stdio.in), or_null(stdio.out), or_null(stdio.err), plan_r.get(),
                            or_null(stdio.console), rep_w.get()};
    ReadOnlyExec helper({helper_path, "--exec"});
    const pid_t parent = ::getpid();

    pid_t child = ::fork();
    if (child < 0) return errno_error("exec: fork", errno);
    if (child == 0) {
        // Tied to the caller first: a caller that dies from here on takes the helper along (the
        // check after prctl catches a caller that died before it).
        if (die_with_parent) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent) ::_exit(125);
        }
        // A session of its own: never the caller's controlling terminal (TIOCSTI), and a process
        // group a timeout can kill whole.
        ::setsid();
        // What the caller blocked or ignored (the monitor: SIGCHLD blocked for its signalfd,
        // SIGTERM/SIGINT/SIGHUP/SIGPIPE ignored) must not reach the command: ignored signals and
        // the mask survive execve.
        ::sigset_t none;
        ::sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        for (int s = 1; s < NSIG; ++s)
            if (s != SIGKILL && s != SIGSTOP) ::signal(s, SIG_DFL);
        // Move every source above the targets first, so that no dup2 overwrites a source.
        int moved[6];
        for (int i = 0; i < 6; ++i) moved[i] = ::fcntl(sources[i], F_DUPFD_CLOEXEC, 16);
        for (int i = 0; i < 6; ++i)
            if (moved[i] < 0 || ::dup2(moved[i], i) < 0) ::_exit(125);
        ::close_range(6, ~0U, 0);  // nothing else of the caller's goes on
        helper.exec();
    }
    plan_r.reset();
    rep_w.reset();
    size_t off = 0;
    while (off < plan_text.size()) {
        ssize_t w = ::write(plan_w.get(), plan_text.data() + off, plan_text.size() - off);
        if (w <= 0 && errno != EINTR) break;
        if (w > 0) off += static_cast<size_t>(w);
    }
    plan_w.reset();
    return SpawnedExec{child, std::move(rep_r)};
}

std::string read_exec_report(int fd) {
    std::string msg;
    char buf[1024];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0) msg.append(buf, static_cast<size_t>(n));
    return msg;
}

Error exec_report_error(const std::string& report) {
    size_t sp = report.find(' ');
    int code = std::atoi(report.substr(0, sp).c_str());
    std::string text = sp == std::string::npos ? report : report.substr(sp + 1);
    if (code == 126 && text.rfind("unable to find ", 0) == 0) return make_error(text, 126);
    return make_error("OCI runtime exec failed: exec failed: unable to start container process: " + text + ": unknown",
                      code ? code : 125);
}

}  // namespace isolab
