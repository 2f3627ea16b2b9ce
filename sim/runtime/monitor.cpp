#include "sim/runtime/monitor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <sstream>
#include <functional>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/core/process.hpp"
#include "sim/engine/store.hpp"
#include "sim/runtime/attach.hpp"
#include "sim/runtime/cgroup.hpp"
#include "sim/runtime/console.hpp"
#include "sim/runtime/exec_helper.hpp"
#include "sim/runtime/init.hpp"
#include "sim/runtime/json_log.hpp"
#include "sim/net/attach.hpp"
#include "sim/net/ipam.hpp"
#include "sim/net/port_proxy.hpp"
#include "sim/runtime/oci_spec.hpp"
#include "sim/runtime/runtime.hpp"

namespace isolab {

using nlohmann::json;

std::string short_socket_path(const std::string& path, int* dir_fd) {
    *dir_fd = -1;
    if (path.size() < sizeof(sockaddr_un{}.sun_path)) return path;
    size_t slash = path.rfind('/');
    std::string dir = path.substr(0, slash);
    *dir_fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (*dir_fd < 0) return path;
    return "/proc/self/fd/" + std::to_string(*dir_fd) + path.substr(slash);
}

namespace {

struct Client {
    UniqueFd fd;
};

class Monitor {
public:
    Monitor(Store store, std::string id, int sync_fd, bool attach)
        : store_(std::move(store)), id_(std::move(id)), sync_fd_(sync_fd), attach_(attach) {}

    int run();

private:
    // One run of the container's PID 1, from clone to its exit. Returns false when it could not be
    // started (the error is reported to the CLI on the first run, logged on later ones).
    bool start_once(bool first);
    // start_once for `--runtime runc`: Debian's runc runs the container from an OCI bundle
    // (config.json made by make_oci_config, root = the overlay mounted here); runc create, then
    // runc start when the container may run. The stdio ends are the container's.
    bool start_runc(bool first, UniqueFd& child_in, UniqueFd& child_out, UniqueFd& child_err);
    // Plugs PID 1 (PID) into the container's bridge networks: a veth pair each, eth0 with the
    // default route. Returns an error message, "" on success; appends its step to STEPS.
    std::string plug_networks(pid_t pid, std::vector<RuntimeStep>& steps);
    // Starts one userland proxy per published port (Docker's docker-proxy), forwarding to the
    // container's address on its first bridge network. Returns an error message, "" on success.
    std::string start_proxies();
    int event_loop();  // returns the wait status of PID 1
    void handle_output(int fd, const char* stream);
    void flush_partial();
    void log_line(const char* stream, const std::string& text);
    void broadcast(FrameType type, const std::string& data);
    void accept_client();
    void handle_client(size_t index);
    void sync_report(const json& j);
    bool wait_for_first_client(int timeout_ms);
    Result<ContainerRecord> update(const std::function<void(ContainerRecord&)>& fn);

    Store store_;
    std::string id_;
    int sync_fd_;
    bool attach_;
    ContainerRecord rec_;
    std::optional<Cgroup> cgroup_;
    UniqueFd listen_fd_, signal_fd_;
    std::optional<JsonLogWriter> log_;  // container.log, capped by the container's --log-opt
    UniqueFd stdin_w_, stdout_r_, stderr_r_, pty_master_;
    UniqueFd go_w_, report_r_;
    int socket_dir_fd_ = -1;
    std::vector<Client> clients_;
    pid_t child_ = 0;
    int64_t oom_before_ = 0;
    std::string partial_[2];
    double run_started_ms_ = 0;
    bool runc_rootfs_mounted_ = false;
    std::vector<std::unique_ptr<net::PortProxy>> proxies_;  // live while PID 1 runs
};

Result<ContainerRecord> Monitor::update(const std::function<void(ContainerRecord&)>& fn) {
    auto lock = store_.lock_container(id_);
    if (!lock) return lock.error();
    auto r = store_.load(id_);
    if (!r) return r.error();
    fn(*r);
    ISOLAB_TRY(store_.save(*r));
    rec_ = *r;
    return *r;
}

void Monitor::sync_report(const json& j) {
    if (sync_fd_ < 0) return;
    std::string line = j.dump() + "\n";
    ssize_t n = ::write(sync_fd_, line.data(), line.size());
    (void)n;
    ::close(sync_fd_);
    sync_fd_ = -1;
}

void Monitor::log_line(const char* stream, const std::string& text) {
    // A failed write drops the entry (the container's output is never held back for its log).
    if (log_) (void)log_->write(stream, text, now_rfc3339());
}

void Monitor::broadcast(FrameType type, const std::string& data) {
    for (auto it = clients_.begin(); it != clients_.end();) {
        if (!write_frame(it->fd.get(), type, data)) it = clients_.erase(it);
        else ++it;
    }
}

void Monitor::handle_output(int fd, const char* stream) {
    char buf[16384];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        // EOF (or EIO on a pty whose slave is closed).
        if (fd == stdout_r_.get()) stdout_r_.reset();
        else if (fd == stderr_r_.get()) stderr_r_.reset();
        else if (fd == pty_master_.get()) pty_master_.reset();
        return;
    }
    std::string data(buf, static_cast<size_t>(n));
    broadcast(std::strcmp(stream, "stderr") == 0 ? FrameType::Stderr : FrameType::Stdout, data);
    std::string& partial = partial_[std::strcmp(stream, "stderr") == 0 ? 1 : 0];
    partial += data;
    size_t nl;
    while ((nl = partial.find('\n')) != std::string::npos) {
        log_line(stream, partial.substr(0, nl + 1));
        partial.erase(0, nl + 1);
    }
    if (partial.size() > 16384) {  // Docker splits long lines at 16 KiB too
        log_line(stream, partial);
        partial.clear();
    }
}

void Monitor::flush_partial() {
    if (!partial_[0].empty()) log_line("stdout", partial_[0]);
    if (!partial_[1].empty()) log_line("stderr", partial_[1]);
    partial_[0].clear();
    partial_[1].clear();
}

void Monitor::accept_client() {
    int fd = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) clients_.push_back(Client{UniqueFd(fd)});
}

void Monitor::handle_client(size_t i) {
    auto f = read_frame(clients_[i].fd.get());
    if (!f) {
        clients_.erase(clients_.begin() + static_cast<long>(i));
        return;
    }
    int in = pty_master_.valid() ? pty_master_.get() : stdin_w_.get();
    switch (f->type) {
        case FrameType::Stdin:
            if (in >= 0) {
                ssize_t n = ::write(in, f->data.data(), f->data.size());
                (void)n;
            }
            break;
        case FrameType::StdinEof:
            if (pty_master_.valid()) {
                ssize_t n = ::write(pty_master_.get(), "\x04", 1);  // ^D, like a terminal
                (void)n;
            } else {
                stdin_w_.reset();
            }
            break;
        case FrameType::Resize:
            if (pty_master_.valid()) {
                struct winsize ws = {};
                unsigned rows = 0, cols = 0;
                if (std::sscanf(f->data.c_str(), "%u %u", &rows, &cols) == 2) {
                    ws.ws_row = static_cast<unsigned short>(rows);
                    ws.ws_col = static_cast<unsigned short>(cols);
                    ::ioctl(pty_master_.get(), TIOCSWINSZ, &ws);
                }
            }
            break;
        case FrameType::Stdout:
        case FrameType::Stderr:
        case FrameType::Exit:
        case FrameType::Error: break;
    }
}

bool Monitor::wait_for_first_client(int timeout_ms) {
    struct pollfd p = {listen_fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    accept_client();
    return !clients_.empty();
}

bool Monitor::start_once(bool first) {
    auto rec = store_.load(id_);
    if (!rec) {
        sync_report({{"status", "error"}, {"exit_code", 125}, {"message", rec.error().message}});
        return false;
    }
    rec_ = *rec;
    const std::string dir = store_.container_dir(id_);
    const bool rootless = rec_.backend == "rootless";

    // stdio: a pty for -t, pipes otherwise (stdin only with -i, /dev/null without).
    UniqueFd child_in, child_out, child_err;
    UniqueFd console_parent, console_child;
    if (rec_.spec.tty) {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
            sync_report({{"status", "error"}, {"exit_code", 125}, {"message", "console socket: " + std::string(std::strerror(errno))}});
            return false;
        }
        console_parent.reset(sv[0]);
        console_child.reset(sv[1]);
    } else {
        int p[2];
        if (rec_.spec.interactive && ::pipe2(p, O_CLOEXEC) == 0) {
            child_in.reset(p[0]);
            stdin_w_.reset(p[1]);
        } else {
            child_in.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        }
        if (::pipe2(p, O_CLOEXEC) == 0) {
            stdout_r_.reset(p[0]);
            child_out.reset(p[1]);
        }
        if (::pipe2(p, O_CLOEXEC) == 0) {
            stderr_r_.reset(p[0]);
            child_err.reset(p[1]);
        }
    }
    if (rec_.spec.runtime == "runc") return start_runc(first, child_in, child_out, child_err);
    int go[2], rep[2];
    if (::pipe2(go, O_CLOEXEC) != 0 || ::pipe2(rep, O_CLOEXEC) != 0) {
        sync_report({{"status", "error"}, {"exit_code", 125}, {"message", "pipe: " + std::string(std::strerror(errno))}});
        return false;
    }
    UniqueFd go_r(go[0]), rep_w(rep[1]);
    go_w_.reset(go[1]);
    report_r_.reset(rep[0]);

    InitConfig cfg;
    cfg.container_dir = dir;
    cfg.layers = rec_.layers;
    cfg.rootfs_mode = rec_.rootfs_mode;
    cfg.hostname = rec_.hostname;
    cfg.args = rec_.path_args;
    cfg.env = rec_.env;
    cfg.workdir = rec_.workdir;
    cfg.user = rec_.spec.user;
    cfg.rootless = rootless;
    cfg.tty = rec_.spec.tty;
    cfg.stdin_fd = child_in.get();
    cfg.stdout_fd = child_out.get();
    cfg.stderr_fd = child_err.get();
    cfg.go_fd = go_r.get();
    cfg.report_fd = rep_w.get();
    cfg.console_fd = console_child.get();
    const bool self_join = cgroup_ && cgroup_->version() == CgroupVersion::V1;
    if (self_join)
        for (const auto& p : cgroup_->paths()) cfg.cgroup_self_join.push_back(p + "/tasks");

    // --network host: no network namespace, the container sees the host's interfaces.
    cfg.own_network = rec_.spec.network != "host";
    unsigned long flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC;
    if (cfg.own_network) flags |= CLONE_NEWNET;
    if (rootless) flags |= CLONE_NEWUSER;
    cfg.clone_started_ms = monotonic_ms();
    run_started_ms_ = cfg.clone_started_ms;
    // A raw clone with a null stack behaves like fork(2) with namespace flags.
    pid_t pid = static_cast<pid_t>(::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
    if (pid < 0) {
        int err = errno;
        std::string why = std::string("clone: ") + std::strerror(err);
        if (err == EPERM || err == EINVAL || err == ENOSPC)
            why += " (namespaces are not allowed here: run `isolab doctor`)";
        sync_report({{"status", "error"}, {"exit_code", 125}, {"message", why}});
        return false;
    }
    if (pid == 0) {
        ::sigset_t all;
        ::sigemptyset(&all);
        ::sigprocmask(SIG_SETMASK, &all, nullptr);
        for (int s : {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD}) ::signal(s, SIG_DFL);
        container_init(cfg);
    }
    child_ = pid;
    if (std::getenv("ISOLAB_TRACE")) std::fprintf(stderr, "trace: clone returned after %.3f ms\n", monotonic_ms() - cfg.clone_started_ms);
    child_in.reset();
    child_out.reset();
    child_err.reset();
    go_r.reset();
    rep_w.reset();
    console_child.reset();

    std::string setup_error;
    if (rootless) {
        std::string p = "/proc/" + std::to_string(pid);
        auto s1 = write_file(p + "/setgroups", "deny");
        auto s2 = write_file(p + "/uid_map", "0 " + std::to_string(::geteuid()) + " 1\n");
        auto s3 = write_file(p + "/gid_map", "0 " + std::to_string(::getegid()) + " 1\n");
        if (!s2 || !s3) setup_error = (!s2 ? s2 : s3).error().message;
        (void)s1;
    }
    if (setup_error.empty() && cgroup_) {
        if (!self_join)
            if (auto s = cgroup_->add_process(pid); !s) setup_error = s.error().message;
        auto oom = cgroup_->oom_kill_count();
        oom_before_ = oom ? *oom : 0;
    }
    std::vector<RuntimeStep> net_steps;
    if (setup_error.empty() && !rootless) setup_error = plug_networks(pid, net_steps);
    if (!setup_error.empty()) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        sync_report({{"status", "error"}, {"exit_code", 125}, {"message", setup_error}});
        return false;
    }
    if (std::getenv("ISOLAB_TRACE")) std::fprintf(stderr, "trace: maps+cgroup done after %.3f ms\n", monotonic_ms() - cfg.clone_started_ms);
    ssize_t w = ::write(go_w_.get(), "g", 1);
    (void)w;
    if (console_parent.valid()) {
        // The container makes its terminal from its own devpts and hands us the master.
        auto master = console_receive(console_parent.get());
        if (master) pty_master_.reset(*master);
    }

    // Read the child's step list until READY or ERROR.
    std::vector<RuntimeStep> steps;
    std::string buf, error_line;
    bool ready = false;
    FILE* rf = ::fdopen(::fcntl(report_r_.get(), F_DUPFD_CLOEXEC, 3), "r");
    char line[4096];
    while (rf && std::fgets(line, sizeof line, rf)) {
        std::string l = line;
        if (!l.empty() && l.back() == '\n') l.pop_back();
        if (l.rfind("STEP ", 0) == 0) {
            std::istringstream in(l.substr(5));
            RuntimeStep st;
            in >> st.name >> st.ms;
            std::getline(in, st.detail);
            st.detail = trim(st.detail);
            steps.push_back(st);
        } else if (l == "READY") {
            ready = true;
            break;
        } else if (l.rfind("ERROR ", 0) == 0) {
            error_line = l.substr(6);
            break;
        }
    }
    if (rf) std::fclose(rf);

    auto fail_start = [&](int code, const std::string& msg) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        child_ = 0;
        if (first) {
            sync_report({{"status", "error"}, {"exit_code", code}, {"message", msg}});
        } else {
            log_line("stderr", msg + "\n");
        }
        return false;
    };
    if (!ready) {
        int code = 125;
        std::string msg = "container init exited during setup";
        if (!error_line.empty()) {
            size_t sp = error_line.find(' ');
            code = std::atoi(error_line.substr(0, sp).c_str());
            msg = error_line.substr(sp + 1);
        }
        return fail_start(code, msg);
    }

    // The monitor's own network step goes after the clone it followed.
    steps.insert(steps.begin() + (steps.empty() ? 0 : 1), net_steps.begin(), net_steps.end());
    if (std::string why = start_proxies(); !why.empty()) {
        ::kill(pid, SIGKILL);
        return fail_start(125, why);
    }
    std::vector<json> jsteps;
    for (const auto& st : steps) jsteps.push_back({{"name", st.name}, {"ms", st.ms}, {"detail", st.detail}});
    auto release_and_check = [&]() -> std::string {
        ssize_t g = ::write(go_w_.get(), "x", 1);
        (void)g;
        // EOF on the CLOEXEC report pipe = execve succeeded.
        char ebuf[1024];
        std::string err;
        ssize_t n;
        while ((n = ::read(report_r_.get(), ebuf, sizeof ebuf)) > 0) err.append(ebuf, static_cast<size_t>(n));
        report_r_.reset();
        go_w_.reset();
        return trim(err);
    };
    double exec_ms = 0;
    if (attach_ && first) {
        sync_report({{"status", "ready"}, {"pid", pid}, {"steps", jsteps}, {"monitor_pid", ::getpid()},
                     {"cgroup_paths", cgroup_ ? cgroup_->paths() : std::vector<std::string>{}}});
        // The CLI connects right after "ready"; the process must not run (and print) before.
        if (!wait_for_first_client(30000)) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
            child_ = 0;
            return false;
        }
        std::string err = release_and_check();
        if (!err.empty() && err.rfind("ERROR ", 0) == 0) {
            std::string rest = err.substr(6);
            size_t sp = rest.find(' ');
            broadcast(FrameType::Error, rest.substr(sp + 1));
            int status = 0;
            ::waitpid(pid, &status, 0);
            child_ = 0;
            return false;
        }
    } else {
        double t = monotonic_ms();
        std::string err = release_and_check();
        exec_ms = monotonic_ms() - t;
        if (!err.empty() && err.rfind("ERROR ", 0) == 0) {
            std::string rest = err.substr(6);
            size_t sp = rest.find(' ');
            return fail_start(std::atoi(rest.substr(0, sp).c_str()), rest.substr(sp + 1));
        }
        steps.push_back({"exec", exec_ms, rec_.path_args.empty() ? "" : rec_.path_args[0]});
        jsteps.push_back({{"name", "exec"}, {"ms", exec_ms}, {"detail", steps.back().detail}});
        if (first)
            sync_report({{"status", "running"}, {"pid", pid}, {"steps", jsteps}, {"monitor_pid", ::getpid()},
                         {"cgroup_paths", cgroup_ ? cgroup_->paths() : std::vector<std::string>{}}});
    }
    if (!first) {
        // A policy restart: the CLI is gone, the monitor records the new PID 1 itself.
        (void)update([&](ContainerRecord& r) {
            auto t = container_transition(r.state, ContainerAction::RestartFired, {r.name, r.id});
            if (t) r.state = t->to;
            else  // never skipped silently: the state stays, monitor.log (this process's stderr) says why
                std::fprintf(stderr, "isolab-monitor: refused transition: %s\n", t.error().message.c_str());
            r.pid = pid;
            r.pid_start_time = process_start_time(pid);
            r.started_at = now_rfc3339();
            r.steps = steps;
        });
        store_.append_event("start", {{"id", id_}, {"name", rec_.name}, {"restart", true}});
    }
    return true;
}

namespace {

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
    auto text = read_file("/proc/" + std::to_string(pid) + "/cgroup");
    std::vector<std::string> v1, v2;
    if (!text) return {};
    std::istringstream in(*text);
    for (std::string line; std::getline(in, line);) {
        size_t a = line.find(':'), b = line.find(':', a + 1);
        if (a == std::string::npos || b == std::string::npos) continue;
        std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
        if (controllers.empty()) {
            v2.push_back("/sys/fs/cgroup" + (path == "/" ? "" : path));
            continue;
        }
        std::istringstream cs(controllers);
        for (std::string c; std::getline(cs, c, ',');)
            if (c == "memory" || c == "pids" || c == "cpu" || c == "cpuacct" || c == "freezer")
                v1.push_back("/sys/fs/cgroup/" + c + path);
    }
    return v1.empty() ? v2 : v1;
}

}  // namespace

bool Monitor::start_runc(bool first, UniqueFd& child_in, UniqueFd& child_out, UniqueFd& child_err) {
    const std::string dir = store_.container_dir(id_);
    const std::string bundle = dir + "/bundle";
    const std::string state = runc_state_dir(store_.root());
    const std::string runc = runc_binary();
    auto fail = [&](int code, const std::string& msg) {
        if (first) sync_report({{"status", "error"}, {"exit_code", code}, {"message", msg}});
        else log_line("stderr", msg + "\n");
        return false;
    };
    if (runc.empty()) return fail(125, "runc is not installed (apt-get install runc)");
    run_started_ms_ = monotonic_ms();
    std::vector<RuntimeStep> steps;
    double t = monotonic_ms();
    if (!runc_rootfs_mounted_) {
        std::string lower;
        for (auto it = rec_.layers.rbegin(); it != rec_.layers.rend(); ++it) lower += (lower.empty() ? "" : ":") + *it;
        if (lower.empty()) {
            lower = dir + "/empty";
            (void)make_dirs(lower);
        }
        std::string opts = "lowerdir=" + lower + ",upperdir=" + dir + "/upper,workdir=" + dir + "/work";
        if (::mount("overlay", (dir + "/merged").c_str(), "overlay", 0, opts.c_str()) != 0)
            return fail(125, "mount overlay on `" + dir + "/merged`: " + std::strerror(errno));
        runc_rootfs_mounted_ = true;
    }
    auto cfg = oci::make_oci_config(rec_, false, dir, dir + "/merged");
    if (!cfg) return fail(125, cfg.error().message);
    (*cfg)["root"] = {{"path", dir + "/merged"}, {"readonly", false}};
    (*cfg)["linux"]["cgroupsPath"] = "/" + (rec_.cgroup_name.empty() ? "isolab-runc/" + id_ : rec_.cgroup_name);
    if (auto st = make_dirs(bundle); !st) return fail(125, st.error().message);
    if (auto st = write_file_atomic(bundle + "/config.json", cfg->dump(2) + "\n"); !st) return fail(125, st.error().message);
    steps.push_back({"bundle", monotonic_ms() - t, "config.json + overlay root for runc"});

    runc_delete(store_.root(), id_);  // what a previous run (a policy restart) left behind
    const std::string pid_file = bundle + "/runc.pid", log = bundle + "/runc.log";
    ::unlink(pid_file.c_str());
    ::unlink(log.c_str());
    t = monotonic_ms();
    int rc = run_runc({runc, "--root", state, "--log", log, "--log-format", "json", "create", "--bundle", bundle,
                       "--pid-file", pid_file, id_},
                      child_in.get(), child_out.get(), child_err.get());
    child_in.reset();
    child_out.reset();
    child_err.reset();
    if (rc != 0) {
        std::string msg = runc_error(log);
        runc_delete(store_.root(), id_);
        return fail(runc_exit_code(msg), "OCI runtime create failed: " + msg);
    }
    steps.push_back({"runc create", monotonic_ms() - t, "namespaces, mounts, cgroup, capabilities, seccomp (by runc)"});
    auto pid_text = read_file(pid_file);
    pid_t pid = pid_text ? static_cast<pid_t>(std::atoi(pid_text->c_str())) : 0;
    if (pid <= 0) {
        runc_delete(store_.root(), id_);
        return fail(125, "runc create wrote no pid file");
    }
    std::vector<std::string> cg_paths = cgroup_dirs_of(pid);
    std::string why = plug_networks(pid, steps);
    if (why.empty()) why = start_proxies();
    if (!why.empty()) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        runc_delete(store_.root(), id_);
        return fail(125, why);
    }
    auto jsteps = [&]() {
        std::vector<json> j;
        for (const auto& st : steps) j.push_back({{"name", st.name}, {"ms", st.ms}, {"detail", st.detail}});
        return j;
    };
    auto start = [&]() -> bool {
        double t0 = monotonic_ms();
        int r = run_runc({runc, "--root", state, "--log", log, "--log-format", "json", "start", id_}, -1, -1, -1);
        steps.push_back({"runc start", monotonic_ms() - t0, rec_.path_args.empty() ? "" : rec_.path_args[0]});
        return r == 0;
    };
    if (attach_ && first) {
        sync_report({{"status", "ready"}, {"pid", pid}, {"steps", jsteps()}, {"monitor_pid", ::getpid()},
                     {"cgroup_paths", cg_paths}});
        if (!wait_for_first_client(30000) || !start()) {
            if (!clients_.empty()) broadcast(FrameType::Error, "OCI runtime start failed: " + runc_error(log));
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
            runc_delete(store_.root(), id_);
            return false;
        }
    } else {
        if (!start()) {
            std::string msg = runc_error(log);
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
            runc_delete(store_.root(), id_);
            return fail(runc_exit_code(msg), "OCI runtime start failed: " + msg);
        }
        if (first)
            sync_report({{"status", "running"}, {"pid", pid}, {"steps", jsteps()}, {"monitor_pid", ::getpid()},
                         {"cgroup_paths", cg_paths}});
    }
    child_ = pid;
    if (!first) {
        (void)update([&](ContainerRecord& r) {
            auto tr = container_transition(r.state, ContainerAction::RestartFired, {r.name, r.id});
            if (tr) r.state = tr->to;
            else  // never skipped silently: the state stays, monitor.log (this process's stderr) says why
                std::fprintf(stderr, "isolab-monitor: refused transition: %s\n", tr.error().message.c_str());
            r.pid = pid;
            r.pid_start_time = process_start_time(pid);
            r.started_at = now_rfc3339();
            r.steps = steps;
            r.cgroup_paths = cg_paths;
        });
        store_.append_event("start", {{"id", id_}, {"name", rec_.name}, {"restart", true}});
    }
    return true;
}

std::string Monitor::plug_networks(pid_t pid, std::vector<RuntimeStep>& steps) {
    double t = monotonic_ms();
    std::string detail;
    bool first_bridge = true;
    for (const auto& ep : rec_.endpoints) {
        if (ep.ip.empty()) continue;
        if (auto st = net::attach_endpoint(ep, pid, first_bridge); !st) return st.error().message;
        detail += (detail.empty() ? "" : ", ") + ep.ifname + " " + ep.ip + "/" + std::to_string(ep.prefix) + " on " + ep.bridge;
        first_bridge = false;
    }
    if (!detail.empty()) steps.push_back({"veth", monotonic_ms() - t, detail});
    return "";
}

std::string Monitor::start_proxies() {
    proxies_.clear();
    const net::Endpoint* target = nullptr;
    for (const auto& ep : rec_.endpoints)
        if (!ep.ip.empty()) {
            target = &ep;
            break;
        }
    if (!target) return "";
    for (const auto& p : rec_.published) {
        net::ProxySpec spec;
        spec.proto = p.proto;
        spec.host_ip = p.host_ip;
        spec.host_port = p.host_port;
        spec.target_ip = target->ip;
        spec.target_port = p.container_port;
        auto proxy = net::PortProxy::start(spec);
        if (!proxy) {
            proxies_.clear();
            return "driver failed programming external connectivity on endpoint " + rec_.name + " (" + id_ + "): " +
                   proxy.error().message;
        }
        proxies_.push_back(std::move(*proxy));
    }
    return "";
}

int Monitor::event_loop() {
    bool child_done = false;
    int status = 0;
    double drain_deadline = 0;
    for (;;) {
        std::vector<struct pollfd> fds;
        fds.push_back({signal_fd_.get(), POLLIN, 0});
        fds.push_back({listen_fd_.get(), POLLIN, 0});
        int out_fd = pty_master_.valid() ? pty_master_.get() : stdout_r_.get();
        fds.push_back({out_fd, static_cast<short>(out_fd >= 0 ? POLLIN : 0), 0});
        fds.push_back({stderr_r_.get(), static_cast<short>(stderr_r_.valid() ? POLLIN : 0), 0});
        for (auto& c : clients_) fds.push_back({c.fd.get(), POLLIN, 0});
        bool outputs_open = out_fd >= 0 || stderr_r_.valid();
        if (child_done && (!outputs_open || monotonic_ms() > drain_deadline)) break;
        int timeout = child_done ? 50 : -1;
        int n = ::poll(fds.data(), fds.size(), timeout);
        if (n < 0 && errno != EINTR) break;
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (::read(signal_fd_.get(), &si, sizeof si) == sizeof si) {
            }
            pid_t r = ::waitpid(child_, &status, WNOHANG);
            if (r == child_) {
                child_done = true;
                drain_deadline = monotonic_ms() + 1000;
            }
        }
        if (fds[1].revents & POLLIN) accept_client();
        if (fds[2].revents & (POLLIN | POLLHUP | POLLERR))
            handle_output(out_fd, "stdout");
        if (fds[3].revents & (POLLIN | POLLHUP | POLLERR)) handle_output(stderr_r_.get(), "stderr");
        for (size_t i = fds.size(); i-- > 4;) {
            if (i - 4 < clients_.size() && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) handle_client(i - 4);
        }
    }
    flush_partial();
    stdout_r_.reset();
    stderr_r_.reset();
    pty_master_.reset();
    stdin_w_.reset();
    child_ = 0;
    return status;
}

// Docker's exit codes: the process's own code, or 128 + the signal that killed it.
int exit_code_of(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 255;
}

bool should_restart(const ContainerRecord& r, int code) {
    if (r.stopped_by_user) return false;
    switch (r.spec.restart.kind) {
        case RestartPolicyKind::No: return false;
        case RestartPolicyKind::Always:
        case RestartPolicyKind::UnlessStopped: return true;
        case RestartPolicyKind::OnFailure:
            return code != 0 && (r.spec.restart.max_retries == 0 || r.restart_count < r.spec.restart.max_retries);
    }
    return false;
}

int Monitor::run() {
    auto rec = store_.load(id_);
    if (!rec) {
        sync_report({{"status", "error"}, {"exit_code", 125}, {"message", rec.error().message}});
        return 1;
    }
    rec_ = *rec;
    const std::string dir = store_.container_dir(id_);

    // Signals arrive through a signalfd; SIGTERM/SIGINT/SIGHUP to the monitor are ignored so that
    // a terminal closing or a stray signal cannot orphan the container (stop signals PID 1).
    ::sigset_t mask;
    ::sigemptyset(&mask);
    ::sigaddset(&mask, SIGCHLD);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    signal_fd_.reset(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    for (int s : {SIGTERM, SIGINT, SIGHUP, SIGPIPE}) ::signal(s, SIG_IGN);

    // Who runs this container, for the garbage collector when the record cannot say (a crash
    // between this monitor's start and the CLI's save, or a garbled record): pid and start time.
    (void)write_file_atomic(dir + "/monitor.pid",
                            std::to_string(::getpid()) + " " + std::to_string(process_start_time(::getpid())) + "\n", 0600);
    if (auto log = JsonLogWriter::open(dir + "/container.log", rec_.spec.log.max_size, rec_.spec.log.max_file))
        log_ = std::move(*log);

    // The attach socket exists before PID 1 does, so an attaching CLI never misses output.
    std::string sock_path = dir + "/attach.sock";
    ::unlink(sock_path.c_str());
    std::string short_path = short_socket_path(sock_path, &socket_dir_fd_);
    listen_fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    struct sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, short_path.c_str(), sizeof addr.sun_path - 1);
    if (::bind(listen_fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_.get(), 16) != 0) {
        sync_report({{"status", "error"}, {"exit_code", 125},
                     {"message", "attach socket `" + sock_path + "`: " + std::strerror(errno)}});
        return 1;
    }
    ::chmod(sock_path.c_str(), 0600);
    if (socket_dir_fd_ >= 0) ::close(socket_dir_fd_);

    if (rec_.spec.runtime == "runc") {
        // runc's container init is reparented to us when `runc create` exits: as a subreaper we
        // can wait for it like for our own PID 1.
        ::prctl(PR_SET_CHILD_SUBREAPER, 1);
        // The container's root (an overlay) is mounted in the monitor's own mount namespace: it
        // goes away with the monitor, whatever happens to it, and never shows on the host.
        if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
            sync_report({{"status", "error"}, {"exit_code", 125},
                         {"message", std::string("monitor mount namespace: ") + std::strerror(errno)}});
            ::unlink(sock_path.c_str());
            return 1;
        }
    } else if (!rec_.cgroup_name.empty()) {
        CgroupLimits limits;
        limits.memory_bytes = rec_.spec.memory_bytes;
        limits.pids_limit = rec_.spec.pids_limit;
        limits.nano_cpus = rec_.spec.nano_cpus;
        auto cg = Cgroup::create(rec_.cgroup_name, limits);
        if (!cg) {
            sync_report({{"status", "error"}, {"exit_code", 125}, {"message", cg.error().message}});
            ::unlink(sock_path.c_str());
            return 1;
        }
        cgroup_.emplace(std::move(*cg));
    }

    bool first = true;
    int delay_ms = 100;
    int code = 0;
    for (;;) {
        if (!start_once(first)) {
            code = -1;
            break;
        }
        first = false;
        int status = event_loop();
        proxies_.clear();  // the published ports close with PID 1
        // The kernel deletes a veth pair with its namespace, but later, from a work queue: delete
        // the host ends now, so that whoever sees the container stopped sees no veth left.
        for (const auto& ep : rec_.endpoints) (void)net::detach_endpoint(ep);
        code = exit_code_of(status);
        // runc's state and cgroup go before the exit is recorded: whoever sees the container
        // stopped sees nothing of runc's left.
        if (rec_.spec.runtime == "runc") runc_delete(store_.root(), id_);
        double ran_ms = monotonic_ms() - run_started_ms_;
        bool oom = false;
        if (cgroup_) {
            auto n = cgroup_->oom_kill_count();
            oom = n && *n > oom_before_;
        }
        // Re-read the record: `stop` may have marked it stopped_by_user meanwhile.
        auto cur = store_.load(id_);
        bool restart = cur && should_restart(*cur, code);
        store_.append_event("die", {{"id", id_}, {"name", rec_.name}, {"exitCode", code}, {"oomKilled", oom}});
        if (!restart) {
            // Without --rm, an attached CLI may return at once; with --rm it returns only once the
            // container is gone (as `docker run --rm` does): the Exit frame goes out below.
            if (!rec_.spec.auto_remove) broadcast(FrameType::Exit, std::to_string(code));
            if (cgroup_) (void)cgroup_->destroy();
            (void)update([&](ContainerRecord& r) {
                auto t = container_transition(r.state, ContainerAction::ProcessExited, {r.name, r.id});
                if (t) r.state = t->to;
                else  // never skipped silently: the state stays, monitor.log (this process's stderr) says why
                    std::fprintf(stderr, "isolab-monitor: refused transition: %s\n", t.error().message.c_str());
                r.exit_code = code;
                r.oom_killed = oom;
                r.pid = 0;
                r.pid_start_time = 0;
                r.monitor_pid = 0;
                r.finished_at = now_rfc3339();
                r.published.clear();
            });
            break;
        }
        // Docker's back-off: 100 ms doubling, reset after a run of 10 s or more.
        if (ran_ms >= 10000) delay_ms = 100;
        (void)update([&](ContainerRecord& r) {
            auto t = container_transition(r.state, ContainerAction::RestartPending, {r.name, r.id});
            if (t) r.state = t->to;
            else  // never skipped silently: the state stays, monitor.log (this process's stderr) says why
                std::fprintf(stderr, "isolab-monitor: refused transition: %s\n", t.error().message.c_str());
            r.exit_code = code;
            r.oom_killed = oom;
            r.pid = 0;
            r.restart_count += 1;
            r.finished_at = now_rfc3339();
        });
        double wake = monotonic_ms() + delay_ms;
        bool cancelled = false;
        while (monotonic_ms() < wake) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            auto r = store_.load(id_);
            if (!r || r->stopped_by_user) {
                cancelled = true;
                break;
            }
        }
        delay_ms = std::min(delay_ms * 2, 60000);
        if (cancelled) {
            if (!rec_.spec.auto_remove) broadcast(FrameType::Exit, std::to_string(code));
            if (cgroup_) (void)cgroup_->destroy();
            (void)update([&](ContainerRecord& r) {
                auto t = container_transition(r.state, ContainerAction::ProcessExited, {r.name, r.id});
                if (t) r.state = t->to;
                else  // never skipped silently: the state stays, monitor.log (this process's stderr) says why
                    std::fprintf(stderr, "isolab-monitor: refused transition: %s\n", t.error().message.c_str());
                r.pid = 0;
                r.monitor_pid = 0;
            });
            break;
        }
    }
    if (code == -1) {
        // Could not start: the CLI reported the error; leave the container as it was (Created or
        // Exited) and remove what the monitor made.
        broadcast(FrameType::Exit, "127");
        if (cgroup_) (void)cgroup_->destroy();
    }
    if (runc_rootfs_mounted_) ::umount2((dir + "/merged").c_str(), MNT_DETACH);
    if (code != -1 && rec_.spec.auto_remove) {
        auto lock = store_.lock_global();
        (void)store_.remove_container_dir(id_);
        store_.release_name(rec_.name, id_);
        net::Ipam ipam(net::NetworkStore(store_.root(), false).leases_dir());
        for (const auto& ep : rec_.endpoints)
            if (!ep.ip.empty()) (void)ipam.release(ep.network, id_);
        store_.append_event("destroy", {{"id", id_}, {"name", rec_.name}});
        broadcast(FrameType::Exit, std::to_string(code));
    }
    clients_.clear();
    ::unlink(sock_path.c_str());
    return 0;
}

}  // namespace

int monitor_main(int argc, char** argv) {
    if (argc >= 2 && std::string(argv[1]) == "--exec") return exec_helper_main();
    std::string root, id;
    int sync_fd = -1;
    bool attach = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--root" && i + 1 < argc) root = argv[++i];
        else if (a == "--id" && i + 1 < argc) id = argv[++i];
        else if (a == "--sync-fd" && i + 1 < argc) sync_fd = std::atoi(argv[++i]);
        else if (a == "--attach") attach = true;
    }
    if (root.empty() || id.empty()) {
        std::fprintf(stderr, "usage: isolab-monitor --root ROOT --id ID --sync-fd N [--attach]\n");
        return 2;
    }
    // The report socket reached us without FD_CLOEXEC (dup2 clears it): set it again at once, so
    // no program this monitor starts (runc, or a container's PID 1) can inherit it.
    if (sync_fd >= 0) ::fcntl(sync_fd, F_SETFD, FD_CLOEXEC);
    Monitor m(Store(root), id, sync_fd, attach);
    return m.run();
}

}  // namespace isolab
