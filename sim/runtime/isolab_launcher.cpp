// IsoLab's own launcher: the container's OCI spec (oci::engine_spec), planned (setup_plan.hpp),
// executed by the one init (init.hpp) in a child cloned into the spec's new namespaces.
#include <fcntl.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <sstream>
#include <utility>
#include <vector>

#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/runtime/cgroup.hpp"
#include "sim/runtime/console.hpp"
#include "sim/runtime/init.hpp"
#include "sim/runtime/launcher.hpp"
#include "sim/runtime/oci_spec.hpp"
#include "sim/runtime/setup_plan.hpp"

namespace isolab {

namespace {

// "STEP name ms detail" → a step; false for any other line.
bool parse_step(const std::string& l, RuntimeStep* st) {
    if (l.rfind("STEP ", 0) != 0) return false;
    std::istringstream in(l.substr(5));
    in >> st->name >> st->ms;
    std::getline(in, st->detail);
    st->detail = trim(st->detail);
    return true;
}

// "ERROR <code> <message>" (without the word ERROR) → an Error with that exit code.
Error init_error(const std::string& rest) {
    size_t sp = rest.find(' ');
    int code = std::atoi(rest.substr(0, sp).c_str());
    return make_error(sp == std::string::npos ? rest : rest.substr(sp + 1), code > 0 ? code : 125);
}

// The init, cloned by a bootstrap child that first joins the namespaces in JOINS (path, CLONE_NEW*
// type), with CLONE_PARENT so that it is the caller's child, as a plain clone's would be (runc's
// nsexec does the same). setns(CLONE_NEWPID) places the bootstrap's children, so the init lands
// in the joined PID namespace. Returns the init's pid, or -1 with errno set by the failed clone.
Result<pid_t> clone_after_joining(const std::vector<std::pair<std::string, int>>& joins, unsigned long flags,
                                  const std::function<void()>& become_init) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return errno_error("pipe", errno);
    UniqueFd r(p[0]), w(p[1]);
    pid_t bootstrap = ::fork();
    if (bootstrap < 0) return errno_error("fork", errno);
    if (bootstrap == 0) {
        r.reset();
        int answer[2] = {-1, 0};  // the init's pid, or -1 and errno
        std::vector<UniqueFd> fds;
        for (const auto& [path, type] : joins) {
            fds.emplace_back(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
            if (!fds.back().valid() || ::setns(fds.back().get(), type) != 0) {
                answer[0] = -2;  // joining failed, not the clone
                answer[1] = errno;
                (void)!::write(w.get(), answer, sizeof answer);
                ::_exit(1);
            }
        }
        pid_t child = static_cast<pid_t>(::syscall(SYS_clone, flags | CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
        if (child == 0) {
            w.reset();
            become_init();
        }
        answer[0] = child;
        answer[1] = child < 0 ? errno : 0;
        (void)!::write(w.get(), answer, sizeof answer);
        ::_exit(0);
    }
    w.reset();
    int answer[2] = {-1, EIO};
    ssize_t n = ::read(r.get(), answer, sizeof answer);
    ::waitpid(bootstrap, nullptr, 0);
    if (n != static_cast<ssize_t>(sizeof answer)) return make_error("join the namespaces of another container: the bootstrap died");
    if (answer[0] == -2) return errno_error("join the namespaces of another container (" + joins.front().first + ")", answer[1]);
    if (answer[0] < 0) {
        errno = answer[1];
        return -1;
    }
    return static_cast<pid_t>(answer[0]);
}

class IsolabLauncher final : public Launcher {
public:
    Result<Launched> create(const LaunchRequest& req) override {
        const ContainerRecord& rec = *req.rec;
        const std::string& dir = req.container_dir;
        Launched out;
        out.started_ms = monotonic_ms();

        // The container as an OCI runtime spec, its setup as a plan, run by the one init.
        auto ns_paths = oci::namespace_joins(*req.store, rec);
        if (!ns_paths) return ns_paths.error();
        auto spec = oci::engine_spec(rec, req.rootless, dir, engine_root_path(rec, dir), &*ns_paths);
        if (!spec) return spec.error();
        // cgroup v1: the init joins by itself (InitOptions::cgroup_self_join).
        Cgroup* cg = req.cgroup;
        const bool self_join = cg && cg->version() == CgroupVersion::V1;
        const InitOptions opts = engine_init_options(rec, dir, req.rootless, self_join ? cg->paths() : std::vector<std::string>{});
        const std::vector<SetupStep> plan = plan_setup(*spec, opts);

        int go[2], rep[2];
        if (::pipe2(go, O_CLOEXEC) != 0) return errno_error("pipe", errno);
        UniqueFd go_r(go[0]);
        go_w_.reset(go[1]);
        if (::pipe2(rep, O_CLOEXEC) != 0) return errno_error("pipe", errno);
        UniqueFd rep_w(rep[1]);
        report_r_.reset(rep[0]);

        InitContext ctx;
        ctx.spec = &*spec;
        ctx.plan = &plan;
        ctx.opts = &opts;
        ctx.stdin_fd = req.stdin_fd;
        ctx.stdout_fd = req.stdout_fd;
        ctx.stderr_fd = req.stderr_fd;
        ctx.go_fd = go_r.get();
        ctx.report_fd = rep_w.get();
        ctx.console_fd = req.console_fd;
        ctx.die_with_parent = true;

        // New namespaces are clone flags; one with a path (--network/--pid/--ipc container:X) is
        // joined first, by a short-lived bootstrap child, so the monitor stays where it is.
        unsigned long flags = 0;
        std::vector<std::pair<std::string, int>> joins;  // path, CLONE_NEW* type
        for (const auto& ns : spec->namespaces) {
            if (ns.path.empty()) flags |= static_cast<unsigned long>(oci::namespace_flag(ns.type));
            else joins.emplace_back(ns.path, oci::namespace_flag(ns.type));
        }
        flags &= ~static_cast<unsigned long>(CLONE_NEWCGROUP);  // unshared by the init once it is in its cgroup
        ctx.clone_started_ms = monotonic_ms();
        auto become_init = [&]() {
            ::sigset_t all;
            ::sigemptyset(&all);
            ::sigprocmask(SIG_SETMASK, &all, nullptr);
            for (int s : {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD}) ::signal(s, SIG_DFL);
            run_init(ctx);
        };
        pid_t pid = -1;
        if (joins.empty()) {
            // A raw clone with a null stack behaves like fork(2) with namespace flags.
            pid = static_cast<pid_t>(::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
            if (pid == 0) become_init();
        } else {
            auto joined = clone_after_joining(joins, flags, become_init);
            if (!joined) return joined.error();
            pid = *joined;
        }
        if (pid < 0) {
            int err = errno;
            std::string why = std::string("clone: ") + std::strerror(err);
            if (err == EPERM || err == EINVAL || err == ENOSPC) why += " (namespaces are not allowed here: run `isolab doctor`)";
            return make_error(why);
        }
        out.pid = pid;
        go_r.reset();
        rep_w.reset();
        auto kill_and_reap = [&](Error e) -> Error {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
            go_w_.reset();
            report_r_.reset();
            return e;
        };

        // The host's part before the first go: the id maps (rootless), the cgroup.
        if (req.rootless) {
            std::string p = "/proc/" + std::to_string(pid);
            (void)write_file(p + "/setgroups", "deny");
            for (const char* m : {"uid_map", "gid_map"}) {
                const auto& maps = std::string(m) == "uid_map" ? spec->uid_mappings : spec->gid_mappings;
                std::string text;
                for (const auto& x : maps)
                    text += std::to_string(x.container_id) + " " + std::to_string(x.host_id) + " " + std::to_string(x.size) + "\n";
                if (auto s = write_file(p + "/" + m, text); !s) return kill_and_reap(s.error());
            }
        }
        if (cg && !self_join)
            if (auto s = cg->add_process(pid); !s) return kill_and_reap(s.error());
        if (cg) out.cgroup_paths = cg->paths();
        if (::write(go_w_.get(), "g", 1) != 1) return kill_and_reap(make_error("the container's init exited before setup"));
        // The step list until READY or ERROR. With -t the init has sent the pty master on the
        // console socket by then; the monitor receives it from its end.
        std::string error_line;
        bool ready = false;
        FILE* rf = ::fdopen(::fcntl(report_r_.get(), F_DUPFD_CLOEXEC, 3), "r");
        char line[4096];
        while (rf && std::fgets(line, sizeof line, rf)) {
            std::string l = line;
            if (!l.empty() && l.back() == '\n') l.pop_back();
            RuntimeStep st;
            if (parse_step(l, &st)) {
                out.steps.push_back(st);
            } else if (l == "READY") {
                ready = true;
                break;
            } else if (l.rfind("ERROR ", 0) == 0) {
                error_line = l.substr(6);
                break;
            }
        }
        if (rf) std::fclose(rf);
        if (!ready) {
            int status = 0;
            ::waitpid(pid, &status, 0);
            go_w_.reset();
            report_r_.reset();
            return error_line.empty() ? make_error("container init exited during setup") : init_error(error_line);
        }
        program_ = rec.path_args.empty() ? "" : rec.path_args[0];
        return out;
    }

    Status start(Launched& l) override {
        double t = monotonic_ms();
        ssize_t g = ::write(go_w_.get(), "x", 1);
        (void)g;
        // The init's last words: STEP lines of what it did after READY (the late seccomp load),
        // then EOF (execve succeeded: the pipe is CLOEXEC) or an ERROR line.
        char buf[1024];
        std::string out;
        ssize_t n;
        while ((n = ::read(report_r_.get(), buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
        report_r_.reset();
        go_w_.reset();
        double exec_ms = monotonic_ms() - t;
        std::istringstream lines(out);
        for (std::string line; std::getline(lines, line);) {
            if (line.rfind("ERROR ", 0) == 0) {
                int status = 0;
                ::waitpid(l.pid, &status, 0);
                return init_error(line.substr(6));
            }
            RuntimeStep st;
            if (parse_step(line, &st)) {
                exec_ms -= st.ms;
                l.steps.push_back(st);
            }
        }
        l.steps.push_back({"exec", std::max(0.0, exec_ms), program_});
        return {};
    }

    void abort(Launched& l) override {
        ::kill(l.pid, SIGKILL);
        ::waitpid(l.pid, nullptr, 0);
        go_w_.reset();
        report_r_.reset();
    }

private:
    UniqueFd go_w_, report_r_;
    std::string program_;  // for the exec step's detail
};

}  // namespace

std::unique_ptr<Launcher> make_isolab_launcher() { return std::make_unique<IsolabLauncher>(); }

}  // namespace isolab
