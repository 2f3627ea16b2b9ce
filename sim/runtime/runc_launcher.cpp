// Debian's runc as a launcher, for containers made with `--runtime runc`: the same OCI spec
// IsoLab's own init runs (oci::make_oci_config, user names resolved to numbers as runc needs),
// written as a bundle whose root is the container's overlay, then `runc create` and `runc start`.
// The monitor stays the container's supervisor (stdio, logs, restarts), as containerd's shim does.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/core/mountinfo.hpp"
#include "sim/core/process.hpp"
#include "sim/runtime/launcher.hpp"
#include "sim/runtime/oci_spec.hpp"
#include "sim/runtime/runtime.hpp"

namespace isolab {

namespace {

using nlohmann::json;

// Runs runc with the given stdio (-1 = /dev/null) and waits for it. Signals are reset in the
// child: the monitor blocks SIGCHLD and ignores SIGTERM, which an exec would pass on to runc and
// from it to the container's process.
int run_runc(const std::vector<std::string>& argv, int in, int out, int err) {
    Argv child(argv);
    pid_t pid = ::fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        ::sigset_t none;
        ::sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD}) ::signal(sig, SIG_DFL);
        int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        ::dup2(in >= 0 ? in : null, 0);
        ::dup2(out >= 0 ? out : null, 1);
        ::dup2(err >= 0 ? err : null, 2);
        child.exec();
    }
    return wait_exit_code(pid);
}

// The last error runc logged (--log-format json: one object per line, "msg" and "level").
std::string runc_error(const std::string& log_path) {
    auto text = read_file(log_path);
    std::string msg;
    if (!text) return "runc failed (no log)";
    std::istringstream in(*text);
    for (std::string line; std::getline(in, line);) {
        auto j = json::parse(line, nullptr, false);
        if (!j.is_discarded() && j.value("level", "") == "error") msg = j.value("msg", msg);
    }
    return msg.empty() ? "runc failed" : msg;
}

// Docker's exit codes for a process that cannot be started: 127 not found, 126 not executable.
int runc_exit_code(const std::string& msg) {
    if (msg.find("executable file not found") != std::string::npos ||
        msg.find("no such file or directory") != std::string::npos)
        return 127;
    if (msg.find("permission denied") != std::string::npos) return 126;
    return 125;
}

// The cgroup directories runc put PID in, read from /proc/PID/cgroup (v1: the hierarchies IsoLab
// uses; v2: the one unified directory), so pause, OOM counting and cleanup work as for IsoLab's
// own containers.
std::vector<std::string> cgroup_dirs_of(pid_t pid) {
    auto groups = read_proc_cgroup("/proc/" + std::to_string(pid) + "/cgroup");
    std::vector<std::string> v1, v2;
    for (const auto& m : cgroup_mounts(read_mountinfo())) {
        const CgroupMembership* g = membership_in(groups, m);
        if (!g) continue;
        if (m.v2) {
            v2.push_back(cgroup_dir(m, g->path));
            continue;
        }
        bool used = std::any_of(m.controllers.begin(), m.controllers.end(), [](const std::string& c) {
            return c == "memory" || c == "pids" || c == "cpu" || c == "cpuacct" || c == "freezer";
        });
        std::string dir = cgroup_dir(m, g->path);
        if (used && std::find(v1.begin(), v1.end(), dir) == v1.end()) v1.push_back(dir);
    }
    return v1.empty() ? v2 : v1;
}

class RuncLauncher final : public Launcher {
public:
    RuncLauncher(std::string root, std::string id) : root_(std::move(root)), id_(std::move(id)) {}
    ~RuncLauncher() override {
        if (!merged_.empty()) ::umount2(merged_.c_str(), MNT_DETACH);
    }

    bool makes_own_cgroup() const override { return true; }

    Status prepare() override {
        // runc's container init is reparented to us when `runc create` exits: as a subreaper we
        // can wait for it like for our own PID 1.
        ::prctl(PR_SET_CHILD_SUBREAPER, 1);
        // The container's root (an overlay) is mounted in the monitor's own mount namespace: it
        // goes away with the monitor, whatever happens to it, and never shows on the host.
        if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
            return errno_error("monitor mount namespace", errno);
        return {};
    }

    Result<Launched> create(const LaunchRequest& req) override {
        const ContainerRecord& rec = *req.rec;
        const std::string& dir = req.container_dir;
        const std::string bundle = dir + "/bundle";
        runc_ = runc_binary();
        if (runc_.empty()) return make_error("runc is not installed (apt-get install runc)");
        if (req.console_fd >= 0) return make_error("--runtime runc with -t is not supported by IsoLab; drop -t or use IsoLab's runtime");
        Launched out;
        out.started_ms = monotonic_ms();
        double t = monotonic_ms();
        if (merged_.empty()) {
            std::string lower;
            for (auto it = rec.layers.rbegin(); it != rec.layers.rend(); ++it) lower += (lower.empty() ? "" : ":") + *it;
            if (lower.empty()) {
                lower = dir + "/empty";
                (void)make_dirs(lower);
            }
            std::string opts = "lowerdir=" + lower + ",upperdir=" + dir + "/upper,workdir=" + dir + "/work";
            if (::mount("overlay", (dir + "/merged").c_str(), "overlay", 0, opts.c_str()) != 0)
                return errno_error("mount overlay on `" + dir + "/merged`", errno);
            merged_ = dir + "/merged";
        }
        auto joins = oci::namespace_joins(*req.store, rec);
        if (!joins) return joins.error();
        auto cfg = oci::make_oci_config(rec, false, dir, dir + "/merged", &*joins);
        if (!cfg) return cfg.error();
        (*cfg)["root"] = {{"path", dir + "/merged"}, {"readonly", false}};
        (*cfg)["linux"]["cgroupsPath"] = "/" + (rec.cgroup_name.empty() ? "isolab-runc/" + id_ : rec.cgroup_name);
        ISOLAB_TRY(make_dirs(bundle));
        ISOLAB_TRY(write_file_atomic(bundle + "/config.json", cfg->dump(2) + "\n"));
        out.steps.push_back({"bundle", monotonic_ms() - t, "config.json + overlay root for runc"});

        runc_delete(root_, id_);  // what a previous run (a policy restart) left behind
        const std::string pid_file = bundle + "/runc.pid";
        log_ = bundle + "/runc.log";
        ::unlink(pid_file.c_str());
        ::unlink(log_.c_str());
        t = monotonic_ms();
        int rc = run_runc({runc_, "--root", runc_state_dir(root_), "--log", log_, "--log-format", "json", "create",
                           "--bundle", bundle, "--pid-file", pid_file, id_},
                          req.stdin_fd, req.stdout_fd, req.stderr_fd);
        if (rc != 0) {
            std::string msg = runc_error(log_);
            runc_delete(root_, id_);
            return make_error("OCI runtime create failed: " + msg, runc_exit_code(msg));
        }
        out.steps.push_back({"runc create", monotonic_ms() - t, "namespaces, mounts, cgroup, capabilities, seccomp (by runc)"});
        auto pid_text = read_file(pid_file);
        out.pid = pid_text ? static_cast<pid_t>(std::atoi(pid_text->c_str())) : 0;
        if (out.pid <= 0) {
            runc_delete(root_, id_);
            return make_error("runc create wrote no pid file");
        }
        out.cgroup_paths = cgroup_dirs_of(out.pid);
        program_ = rec.path_args.empty() ? "" : rec.path_args[0];
        return out;
    }

    Status start(Launched& l) override {
        double t0 = monotonic_ms();
        int r = run_runc({runc_, "--root", runc_state_dir(root_), "--log", log_, "--log-format", "json", "start", id_}, -1, -1, -1);
        l.steps.push_back({"runc start", monotonic_ms() - t0, program_});
        if (r == 0) return {};
        std::string msg = runc_error(log_);
        abort(l);
        return make_error("OCI runtime start failed: " + msg, runc_exit_code(msg));
    }

    void abort(Launched& l) override {
        if (l.pid > 0) {
            ::kill(l.pid, SIGKILL);
            ::waitpid(l.pid, nullptr, 0);
        }
        runc_delete(root_, id_);
    }

    // runc's state and cgroup go before the exit is recorded: whoever sees the container stopped
    // sees nothing of runc's left.
    void after_exit() override { runc_delete(root_, id_); }

private:
    std::string root_, id_, runc_, log_, program_;
    std::string merged_;  // the overlay this monitor mounted, in its own mount namespace
};

}  // namespace

std::unique_ptr<Launcher> make_runc_launcher(const std::string& state_root, const std::string& id) {
    return std::make_unique<RuncLauncher>(state_root, id);
}

}  // namespace isolab
