#include "sim/runtime/monitor.hpp"
#include "sim/state/volumes.hpp"

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
#include "sim/state/store.hpp"
#include "sim/runtime/attach.hpp"
#include "sim/runtime/cgroup.hpp"
#include "sim/runtime/console.hpp"
#include "sim/runtime/exec_helper.hpp"
#include "sim/runtime/health_checker.hpp"
#include "sim/runtime/init.hpp"
#include "sim/state/restart_policy.hpp"
#include "sim/runtime/json_log.hpp"
#include "sim/runtime/launcher.hpp"
#include "sim/net/attach.hpp"
#include "sim/net/ipam.hpp"
#include "sim/net/port_proxy.hpp"
#include "sim/runtime/oci_spec.hpp"
#include "sim/runtime/runtime.hpp"
#include "sim/runtime/setup_plan.hpp"

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

// DIR/intent.json (sim/engine/intent.hpp, read here without the engine: the runtime sits below it)
// exists and the process it names, with its start time, is alive.
bool start_still_wanted(const std::string& dir) {
    auto text = read_file(dir + "/intent.json");
    if (!text) return false;
    auto j = json::parse(*text, nullptr, false);
    if (!j.is_object() || j.value("op", "") != "start") return false;
    pid_t pid = j.value("pid", 0);
    uint64_t start = j.value("start_time", uint64_t{0});
    return pid > 0 && start != 0 && process_matches(pid, start);
}

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
    std::string current_name() const;
    void accept_client();
    void handle_client(size_t index);
    // The one report to the CLI that started us. False when it did not arrive (the CLI is gone:
    // killed mid-start, its intent rolled back by the next command, which may not have seen us).
    bool sync_report(const json& j);
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
    int socket_dir_fd_ = -1;
    std::vector<Client> clients_;
    pid_t child_ = 0;
    int64_t oom_before_ = 0;
    std::string partial_[2];
    double run_started_ms_ = 0;
    std::unique_ptr<Launcher> launcher_;  // IsoLab's init or runc, chosen once from the record
    std::vector<std::unique_ptr<net::PortProxy>> proxies_;  // live while PID 1 runs
    HealthChecker health_{store_, id_};  // the HEALTHCHECK's probes while PID 1 runs
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

bool Monitor::sync_report(const json& j) {
    if (sync_fd_ < 0) return true;
    std::string line = j.dump() + "\n";
    ssize_t n;
    do n = ::send(sync_fd_, line.data(), line.size(), MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno == ENOTSOCK) n = ::write(sync_fd_, line.data(), line.size());  // a pipe: SIGPIPE is ignored
    const bool delivered = n == static_cast<ssize_t>(line.size());
    if (delivered && j.contains("pid")) {
        // The CLI checks the reported PID 1 in /proc (our child, in its own pid namespace) and
        // reads its start time, then closes its end. A program that exits at once must still be
        // there to check: we do not reap it before the CLI is done (bounded, if the CLI hangs).
        struct pollfd p = {sync_fd_, POLLIN | POLLRDHUP, 0};
        for (double end = monotonic_ms() + 5000; monotonic_ms() < end;) {
            int r = ::poll(&p, 1, 100);
            if (r > 0) break;
            if (r < 0 && errno != EINTR) break;
        }
    }
    ::close(sync_fd_);
    sync_fd_ = -1;
    return delivered;
}

void Monitor::log_line(const char* stream, const std::string& text) {
    // A failed write drops the entry (the container's output is never held back for its log).
    if (log_) (void)log_->write(stream, text, now_rfc3339());
}

// The container's name now: `rename` may have changed it since this monitor read the record.
std::string Monitor::current_name() const {
    auto r = store_.load(id_);
    return r ? r->name : rec_.name;
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
    const bool rootless = rec_.backend == Backend::Rootless;

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

    auto fail = [&](const Error& e) {
        if (first) sync_report({{"status", "error"}, {"exit_code", e.exit_code}, {"message", e.message}});
        else log_line("stderr", e.message + "\n");
        return false;
    };
    LaunchRequest req;
    req.store = &store_;
    req.rec = &rec_;
    req.container_dir = dir;
    req.rootless = rootless;
    req.cgroup = cgroup_ ? &*cgroup_ : nullptr;
    req.stdin_fd = child_in.get();
    req.stdout_fd = child_out.get();
    req.stderr_fd = child_err.get();
    req.console_fd = console_child.get();
    if (cgroup_) {
        auto oom = cgroup_->oom_kill_count();
        oom_before_ = oom ? *oom : 0;
    }
    auto created = launcher_->create(req);
    // The container holds its ends now (or never will): ours close, so EOF means it exited.
    child_in.reset();
    child_out.reset();
    child_err.reset();
    console_child.reset();
    if (!created) return fail(created.error());
    Launched& l = *created;
    run_started_ms_ = l.started_ms;
    if (console_parent.valid()) {
        // The container made its terminal from its own devpts and handed us the master.
        auto master = console_receive(console_parent.get());
        if (master) pty_master_.reset(*master);
    }
    // The host's part between create and start: the networks (a veth each; its step goes after
    // the clone it followed), then the published ports.
    std::vector<RuntimeStep> net_steps;
    std::string why;
    if (!rootless) why = plug_networks(l.pid, net_steps);
    l.steps.insert(l.steps.begin() + (l.steps.empty() ? 0 : 1), net_steps.begin(), net_steps.end());
    if (why.empty()) why = start_proxies();
    if (!why.empty()) {
        launcher_->abort(l);
        return fail(make_error(why));
    }
    auto jsteps = [&]() {
        std::vector<json> j;
        for (const auto& st : l.steps) j.push_back({{"name", st.name}, {"ms", st.ms}, {"detail", st.detail}});
        return j;
    };
    // Nobody heard of this start: the CLI that asked for it died, and the next command's garbage
    // collector may already have rolled its intent back without seeing us. Undo it all.
    auto orphaned = [&]() {
        launcher_->abort(l);
        proxies_.clear();
        for (const auto& ep : rec_.endpoints) (void)net::detach_endpoint(ep);
        return false;
    };
    if (attach_ && first) {
        if (!sync_report({{"status", "ready"}, {"pid", l.pid}, {"steps", jsteps()}, {"monitor_pid", ::getpid()},
                          {"cgroup_paths", l.cgroup_paths}}))
            return orphaned();
        // The CLI connects right after "ready"; the process must not run (and print) before.
        if (!wait_for_first_client(30000)) {
            launcher_->abort(l);
            return false;
        }
        if (auto st = launcher_->start(l); !st) {
            broadcast(FrameType::Error, st.error().message);
            return false;
        }
    } else {
        if (auto st = launcher_->start(l); !st) return fail(st.error());
        if (first && !sync_report({{"status", "running"}, {"pid", l.pid}, {"steps", jsteps()},
                                   {"monitor_pid", ::getpid()}, {"cgroup_paths", l.cgroup_paths}}))
            return orphaned();
    }
    child_ = l.pid;
    if (!first) {
        // A policy restart: the CLI is gone, the monitor records the new PID 1 itself.
        (void)update([&](ContainerRecord& r) {
            auto t = container_transition(r.state, ContainerAction::RestartFired, {r.name, r.id});
            if (t) r.state = t->to;
            else  // never skipped silently: the state stays, monitor.log (this process's stderr) says why
                std::fprintf(stderr, "isolab-monitor: refused transition: %s\n", t.error().message.c_str());
            r.pid = l.pid;
            r.pid_start_time = process_start_time(l.pid);
            r.started_at = now_rfc3339();
            r.steps = l.steps;
            r.cgroup_paths = l.cgroup_paths;
            if (runs_probe(r.healthcheck)) r.health = health_on_start(r.health);  // Docker's initHealthMonitor
        });
        store_.append_event("start", {{"id", id_}, {"name", current_name()}, {"restart", true}});
    }
    // The probes join PID 1 as `exec` does; the record on disk may not name it yet (the CLI saves
    // it after our report), so they get what this monitor knows.
    ContainerRecord probed = rec_;
    probed.pid = l.pid;
    probed.pid_start_time = process_start_time(l.pid);
    probed.monitor_pid = ::getpid();
    probed.cgroup_paths = l.cgroup_paths;
    health_.begin(probed, run_started_ms_);
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
        const size_t health_slots = fds.size();
        health_.add_poll_fds(fds);
        const size_t first_client = fds.size();
        for (auto& c : clients_) fds.push_back({c.fd.get(), POLLIN, 0});
        bool outputs_open = out_fd >= 0 || stderr_r_.valid();
        if (child_done && (!outputs_open || monotonic_ms() > drain_deadline)) break;
        int timeout = child_done ? 50 : health_.poll_timeout_ms(monotonic_ms());
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
                health_.end();  // Docker's handleContainerExit stops the probes
            }
            health_.reap_abandoned();
        }
        if (!child_done) health_.on_poll(&fds[health_slots], monotonic_ms());
        if (fds[1].revents & POLLIN) accept_client();
        if (fds[2].revents & (POLLIN | POLLHUP | POLLERR))
            handle_output(out_fd, "stdout");
        if (fds[3].revents & (POLLIN | POLLHUP | POLLERR)) handle_output(stderr_r_.get(), "stderr");
        for (size_t i = fds.size(); i-- > first_client;) {
            if (i - first_client < clients_.size() && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                handle_client(i - first_client);
        }
    }
    health_.end();
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
    // The start that spawned us must still be wanted. Its intent (written before we were) names the
    // CLI doing it. Gone means the next command rolled the start back, perhaps before this
    // monitor.pid existed for it to find; a dead owner means it is about to. Either way nothing
    // may start: leave, having made nothing. (Checked after monitor.pid is written, so a roll-back
    // that comes later finds us and stops us.)
    if (!start_still_wanted(dir)) {
        ::unlink((dir + "/monitor.pid").c_str());
        return 1;
    }
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

    launcher_ = rec_.spec.runtime == "runc" ? make_runc_launcher(store_.root(), id_) : make_isolab_launcher();
    if (auto st = launcher_->prepare(); !st) {
        sync_report({{"status", "error"}, {"exit_code", 125}, {"message", st.error().message}});
        ::unlink(sock_path.c_str());
        return 1;
    }
    if (!launcher_->makes_own_cgroup() && !rec_.cgroup_name.empty()) {
        // The group's limits are the container's spec's linux.resources, read as runc reads them
        // (the same function `isolab runtime` uses for a bundle).
        auto spec = oci::engine_spec(rec_, rec_.backend == Backend::Rootless, dir, engine_root_path(rec_, dir));
        if (!spec) {
            sync_report({{"status", "error"}, {"exit_code", 125}, {"message", spec.error().message}});
            ::unlink(sock_path.c_str());
            return 1;
        }
        auto cg = Cgroup::create(rec_.cgroup_name, oci::limits_of(spec->resources));
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
        launcher_->after_exit();
        double ran_ms = monotonic_ms() - run_started_ms_;
        bool oom = false;
        if (cgroup_) {
            auto n = cgroup_->oom_kill_count();
            oom = n && *n > oom_before_;
        }
        // Re-read the record: `stop` may have marked it stopped_by_user meanwhile.
        auto cur = store_.load(id_);
        bool restart = cur && should_restart(*cur, code);
        store_.append_event("die", {{"id", id_}, {"name", current_name()}, {"exitCode", code}, {"oomKilled", oom}});
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
                if (r.health) r.health = health_on_stop(*r.health);  // Docker: unhealthy once the probes stop
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
            if (r.health) r.health = health_on_stop(*r.health);
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
                if (r.health) r.health = health_on_stop(*r.health);
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
    launcher_.reset();  // runc's: the overlay it mounted in this monitor's mount namespace
    if (code != -1 && rec_.spec.auto_remove) {
        auto lock = store_.lock_global();
        (void)store_.remove_container_dir(id_);
        store_.release_name(rec_.name, id_);
        net::Ipam ipam(net::NetworkStore(store_.root(), false).leases_dir());
        for (const auto& ep : rec_.endpoints)
            if (!ep.ip.empty()) (void)ipam.release(ep.network, id_);
        store_.append_event("destroy", {{"id", id_}, {"name", current_name()}});
        (void)remove_anonymous_volumes(store_, rec_);  // --rm takes its anonymous volumes along
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
