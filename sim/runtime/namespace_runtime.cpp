// The real backend: containers are processes in new namespaces, set up by the per-container
// monitor (monitor.cpp) and init (init.cpp). This file is the CLI's side: spawning the monitor,
// signalling PID 1, freezing through the cgroup, joining namespaces for `exec`, and cleaning up
// after a monitor that died.
#include <dirent.h>
#include <grp.h>
#include <sys/prctl.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/core/tree_copy.hpp"
#include "sim/core/process.hpp"
#include "sim/runtime/cgroup.hpp"
#include "sim/runtime/console.hpp"
#include "sim/runtime/init.hpp"
#include "sim/runtime/monitor.hpp"
#include "sim/runtime/runtime.hpp"
#include "sim/runtime/setup_plan.hpp"
#include "sim/runtime/sealed_exec.hpp"
#include "sim/runtime/security.hpp"
#include "sim/runtime/exec_helper.hpp"
#include "sim/runtime/exec_spawn.hpp"

namespace isolab {

namespace fs = std::filesystem;
using nlohmann::json;

std::string runc_binary() {
    if (const char* r = std::getenv("ISOLAB_RUNC"); r && *r) return ::access(r, X_OK) == 0 ? r : "";
    for (const char* p : {"/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc", "/usr/local/bin/runc"})
        if (::access(p, X_OK) == 0) return p;
    return "";
}

void runc_delete(const std::string& root, const std::string& id) {
    std::string runc = runc_binary();
    if (runc.empty() || !path_exists(runc_state_dir(root) + "/" + id)) return;
    pid_t pid = ::fork();
    if (pid == 0) {
        int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        ::dup2(null, 0);
        ::dup2(null, 1);
        ::dup2(null, 2);
        std::string state = runc_state_dir(root);
        ::execl(runc.c_str(), "runc", "--root", state.c_str(), "delete", "--force", id.c_str(), nullptr);
        ::_exit(127);
    }
    if (pid > 0) ::waitpid(pid, nullptr, 0);
}

std::string monitor_binary() {
    if (const char* m = std::getenv("ISOLAB_MONITOR"); m && *m) return m;
    if (std::string dir = self_dir(); !dir.empty()) {
        for (const char* cand : {"/isolab-monitor", "/../libexec/isolab/isolab-monitor"})
            if (path_exists(dir + cand)) return dir + cand;
        // Test binaries live in the build tree next to isolab-monitor's directory.
        if (path_exists(dir + "/../isolab-monitor")) return dir + "/../isolab-monitor";
    }
    return "isolab-monitor";
}

namespace {

std::string tick_clock(uint64_t ticks) {
    long hz = ::sysconf(_SC_CLK_TCK);
    uint64_t s = ticks / static_cast<uint64_t>(hz);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02llu:%02llu:%02llu", (unsigned long long)(s / 3600),
                  (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60));
    return buf;
}

ino_t ns_inode(pid_t pid, const char* ns) {
    struct stat st;
    std::string p = "/proc/" + std::to_string(pid) + "/ns/" + ns;
    return ::stat(p.c_str(), &st) == 0 ? st.st_ino : 0;
}

class NamespaceRuntime final : public Runtime {
public:
    explicit NamespaceRuntime(bool rootless) : rootless_(rootless) {}
    Backend backend() const override { return rootless_ ? Backend::Rootless : Backend::Namespaces; }

    Status prepare(const Store& store, ContainerRecord& rec) override {
        std::string dir = store.container_dir(rec.id);
        for (const char* d : {"upper", "work", "merged"}) ISOLAB_TRY(make_dirs(dir + "/" + d, 0755));
        if (rec.layers.empty()) ISOLAB_TRY(make_dirs(dir + "/empty", 0755));  // scratch's one empty layer
        ISOLAB_TRY(write_file(dir + "/hostname", rec.hostname + "\n"));
        ISOLAB_TRY(write_file(dir + "/hosts",
                              "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"));
        ISOLAB_TRY(write_file(dir + "/resolv.conf",
                              "# IsoLab: this container has only the loopback interface\n"));
        if (rec.rootfs_mode == RootfsMode::Copy) {
            ISOLAB_TRY(make_dirs(dir + "/rootfs"));
            // Lowest layer first, each with overlay's whiteouts, never following a link that a
            // lower layer planted (tree_copy.hpp).
            TreeCopyOptions layer;
            layer.layer = true;
            for (const auto& l : rec.layers) ISOLAB_TRY(copy_tree(l, dir + "/rootfs", layer));
        }
        // The setup the init will run, for `inspect` and the GUI before the first start.
        auto plan = engine_plan(rec, dir, rootless_);
        if (!plan) return plan.error();
        rec.plan = std::move(*plan);
        return {};
    }

    Status start(const Store& store, ContainerRecord& rec, bool attach) override {
        // The report channel. The monitor's first message says whether PID 1 runs and which pid it
        // is; every later `exec`, `kill` and `rm` trusts that pid. So the channel is authenticated
        // by the process tree, not by its content: a SEQPACKET pair whose receiving end asks the
        // kernel for each message's sender (SO_PASSCRED), the monitor's pid learned from the
        // process that forked it, and the reported PID 1 checked to be the monitor's child. The
        // monitor's end is CLOEXEC in the monitor and closed by PID 1 before any of the
        // container's code runs; were it ever leaked, a line written from inside still would not
        // come from the monitor's pid.
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return errno_error("start: socketpair", errno);
        UniqueFd sync_r(sv[0]), sync_w(sv[1]);
        int on = 1;
        if (::setsockopt(sync_r.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0)
            return errno_error("start: SO_PASSCRED", errno);
        int pp[2];
        if (::pipe2(pp, O_CLOEXEC) != 0) return errno_error("start: pipe", errno);
        UniqueFd pid_r(pp[0]), pid_w(pp[1]);
        std::string monitor = monitor_binary();
        std::string dir = store.container_dir(rec.id);
        std::string log_path = dir + "/monitor.log";
        std::vector<std::string> args = {monitor, "--root", store.root(), "--id", rec.id, "--sync-fd", "3"};
        if (attach) args.push_back("--attach");
        ReadOnlyExec program(args);  // prepared before fork: the child allocates nothing
        pid_t pid = ::fork();
        if (pid < 0) return errno_error("start: fork", errno);
        if (pid == 0) {
            // Double fork + setsid: the monitor belongs to no terminal and no CLI process, so it
            // survives the CLI's exit (a detached container keeps running). The middle process
            // tells the CLI the monitor's pid: that is what authenticates its report.
            ::setsid();
            pid_t m = ::fork();
            if (m != 0) {
                ssize_t w = ::write(pid_w.get(), &m, sizeof m);
                (void)w;
                ::_exit(m > 0 ? 0 : 1);
            }
            int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
            int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
            ::dup2(devnull, 0);
            ::dup2(devnull, 1);
            ::dup2(log >= 0 ? log : devnull, 2);
            ::dup2(sync_w.get(), 3);  // dup2 clears FD_CLOEXEC on the copy; the monitor sets it again
            ::close_range(4, ~0U, 0);
            program.exec();
        }
        sync_w.reset();
        pid_w.reset();
        pid_t monitor_pid = 0;
        ssize_t got = ::read(pid_r.get(), &monitor_pid, sizeof monitor_pid);
        ::waitpid(pid, nullptr, 0);
        if (got != static_cast<ssize_t>(sizeof monitor_pid) || monitor_pid <= 0)
            return make_error("start " + rec.name + ": could not start the monitor `" + monitor + "`");
        std::string line;
        double deadline = monotonic_ms() + 60000;
        for (;;) {
            struct pollfd p = {sync_r.get(), POLLIN, 0};
            int left = static_cast<int>(deadline - monotonic_ms());
            if (left <= 0 || ::poll(&p, 1, left) <= 0) {
                ::kill(monitor_pid, SIGKILL);
                return make_error("start " + rec.name + ": the monitor did not answer within 60 s");
            }
            char buf[65536];
            alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(struct ucred))];
            struct iovec iov = {buf, sizeof buf};
            struct msghdr msg = {};
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control;
            msg.msg_controllen = sizeof control;
            ssize_t r = ::recvmsg(sync_r.get(), &msg, MSG_CMSG_CLOEXEC);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;  // EOF: the monitor exited without a report
            struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
            struct ucred cred = {};
            if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS)
                std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
            if (cred.pid != monitor_pid) continue;  // not from the monitor: never read
            line.assign(buf, static_cast<size_t>(r));
            break;
        }
        auto j = json::parse(line, nullptr, false);
        if (line.empty() || j.is_discarded()) {
            std::string log = read_file(dir + "/monitor.log").ok() ? *read_file(dir + "/monitor.log") : "";
            return make_error("start " + rec.name + ": the monitor `" + monitor + "` exited without a report" +
                              (log.empty() ? "" : ": " + trim(log)));
        }
        if (j.value("status", "") == "error") {
            std::string msg = j.value("message", "unknown error");
            int code = j.value("exit_code", 125);
            if (code == 126 || code == 127)
                msg = "failed to create task for container: unable to start container process: " + msg + ": unknown";
            return make_error(msg, code);
        }
        pid_t pid1 = j.value("pid", 0);
        if (j.value("monitor_pid", 0) != monitor_pid || pid1 <= 0 || process_parent(pid1) != monitor_pid ||
            (rec.spec.pid_mode != "host" && ns_inode(pid1, "pid") == ns_inode(::getpid(), "pid"))) {
            ::kill(monitor_pid, SIGKILL);
            return make_error("start " + rec.name + ": the monitor's report names process " + std::to_string(pid1) +
                              ", which is not its container's PID 1: refused");
        }
        rec.pid = pid1;
        rec.pid_start_time = process_start_time(rec.pid);
        rec.monitor_pid = monitor_pid;
        rec.monitor_start_time = process_start_time(rec.monitor_pid);
        rec.cgroup_paths = j.value("cgroup_paths", std::vector<std::string>{});
        rec.steps.clear();
        for (const auto& st : j.value("steps", json::array()))
            rec.steps.push_back({st.value("name", ""), st.value("ms", 0.0), st.value("detail", "")});
        return {};
    }

    Status signal(const ContainerRecord& rec, int sig) override {
        if (!process_matches(rec.pid, rec.pid_start_time)) return {};  // already gone
        if (::kill(rec.pid, sig) != 0 && errno != ESRCH) return errno_error("signal " + rec.name, errno);
        return {};
    }

    Status freeze(const ContainerRecord& rec) override {
        auto cg = cgroup_of(rec);
        if (!cg) return cg.error();
        return cg->freeze();
    }

    Status thaw(const ContainerRecord& rec) override {
        auto cg = cgroup_of(rec);
        if (!cg) return cg.error();
        return cg->thaw();
    }

    bool alive(const ContainerRecord& rec) override {
        return process_matches(rec.monitor_pid, rec.monitor_start_time);
    }

    void reap_orphan(const Store& store, ContainerRecord& rec) override {
        if (process_matches(rec.pid, rec.pid_start_time)) ::kill(rec.pid, SIGKILL);
        if (auto cg = cgroup_of(rec); cg) {
            (void)cg->thaw();
            (void)cg->kill_all(SIGKILL);
            (void)cg->destroy();
        }
        if (rec.spec.runtime == "runc") runc_delete(store.root(), rec.id);
        ::unlink((store.container_dir(rec.id) + "/attach.sock").c_str());
    }

    Status destroy(const Store& store, const ContainerRecord& rec) override {
        if (auto cg = cgroup_of(rec); cg) (void)cg->destroy();
        if (rec.spec.runtime == "runc") runc_delete(store.root(), rec.id);
        return store.remove_container_dir(rec.id);
    }

    Result<int> exec(const Store& store, const ContainerRecord& rec, const ExecRequest& req) override;
    Result<std::vector<ProcessRow>> top(const ContainerRecord& rec) override;

private:
    Result<Cgroup> cgroup_of(const ContainerRecord& rec) {
        if (rec.cgroup_name.empty() || rec.cgroup_paths.empty())
            return make_error("container " + rec.id + " has no cgroup: " +
                                  (rec.cgroup_note.empty() ? "it was never started" : rec.cgroup_note),
                              1);
        // Reopened by the recorded directories: on v1 a group lives under its creator's own
        // cgroup, which another process may not share.
        return Cgroup::open_paths(rec.cgroup_paths);
    }

    bool rootless_;
};

Result<std::vector<ProcessRow>> NamespaceRuntime::top(const ContainerRecord& rec) {
    if (!process_matches(rec.pid, rec.pid_start_time))
        return make_error("container " + rec.id + " is not running", 1);
    ino_t want = ns_inode(rec.pid, "pid");
    std::vector<ProcessRow> rows;
    DIR* d = ::opendir("/proc");
    if (!d) return errno_error("open /proc", errno);
    long hz = ::sysconf(_SC_CLK_TCK);
    double boot = 0;
    if (auto up = read_file("/proc/uptime"); up) boot = static_cast<double>(std::time(nullptr)) - std::atof(up->c_str());
    while (struct dirent* e = ::readdir(d)) {
        pid_t pid = std::atoi(e->d_name);
        if (pid <= 0 || ns_inode(pid, "pid") != want) continue;
        auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
        if (!stat) continue;
        size_t close = stat->rfind(')');
        std::istringstream in(stat->substr(close + 2));
        std::string state;
        long ppid, pgrp, session, tty_nr, tpgid;
        unsigned long flags, minflt, cminflt, majflt, cmajflt, utime, stime;
        long cutime, cstime, prio, nice, threads, itreal;
        unsigned long long start;
        in >> state >> ppid >> pgrp >> session >> tty_nr >> tpgid >> flags >> minflt >> cminflt >> majflt >>
            cmajflt >> utime >> stime >> cutime >> cstime >> prio >> nice >> threads >> itreal >> start;
        ProcessRow row;
        row.pid = pid;
        row.ppid = static_cast<pid_t>(ppid);
        struct stat st;
        if (::stat(("/proc/" + std::to_string(pid)).c_str(), &st) == 0) row.uid = std::to_string(st.st_uid);
        if (row.uid == "0") row.uid = "root";
        std::time_t started = static_cast<std::time_t>(boot + static_cast<double>(start) / static_cast<double>(hz));
        struct tm tm;
        ::localtime_r(&started, &tm);
        char sbuf[16];
        std::strftime(sbuf, sizeof sbuf, "%H:%M", &tm);
        row.stime = sbuf;
        row.tty = tty_nr ? "pts/" + std::to_string(tty_nr & 0xff) : "?";
        row.time = tick_clock(utime + stime);
        auto cmdline = read_file("/proc/" + std::to_string(pid) + "/cmdline");
        std::string cmd = cmdline ? *cmdline : "";
        for (char& c : cmd)
            if (c == '\0') c = ' ';
        row.cmd = trim(cmd);
        rows.push_back(row);
    }
    ::closedir(d);
    std::sort(rows.begin(), rows.end(), [](const ProcessRow& a, const ProcessRow& b) { return a.pid < b.pid; });
    return rows;
}

// `exec`: the process is started by `isolab-monitor --exec` (exec_helper.hpp says why a program
// of its own and in which order it hardens itself); this side makes its stdio, hands it the plan
// and relays its input and output. It never hands over the caller's terminal or descriptors.
Result<int> NamespaceRuntime::exec(const Store& store, const ContainerRecord& rec, const ExecRequest& req) {
    (void)store;
    if (!process_matches(rec.pid, rec.pid_start_time))
        return make_error("container " + rec.id + " is not running", 1);
    auto made = make_exec_plan(rec, req, rootless_);
    if (!made) return made.error();
    const ExecPlan& plan = *made;

    // The child's ends, then the CLI's. Every one CLOEXEC: the child places its own with dup2.
    auto pipe_pair = [](UniqueFd& r, UniqueFd& w) -> Status {
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0) return errno_error("exec: pipe", errno);
        r.reset(p[0]);
        w.reset(p[1]);
        return {};
    };
    UniqueFd in_r, in_w, out_r, out_w, err_r, err_w, con_cli, con_child;
    if (plan.tty) {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return errno_error("exec: console socket", errno);
        con_cli.reset(sv[0]);
        con_child.reset(sv[1]);
    } else if (!req.detach) {
        if (req.interactive) ISOLAB_TRY(pipe_pair(in_r, in_w));
        ISOLAB_TRY(pipe_pair(out_r, out_w));
        ISOLAB_TRY(pipe_pair(err_r, err_w));
    }
    auto spawned = spawn_exec_helper(plan, {in_r.get(), out_w.get(), err_w.get(), con_child.get()}, false);
    if (!spawned) return spawned.error();
    const pid_t child = spawned->pid;
    UniqueFd rep_r = std::move(spawned->report);
    in_r.reset();
    out_w.reset();
    err_w.reset();
    con_child.reset();
    auto report = [&]() { return read_exec_report(rep_r.get()); };
    auto as_error = [](const std::string& msg) { return exec_report_error(msg); };

    int master = -1;
    if (plan.tty) {
        auto m = console_receive(con_cli.get());
        con_cli.reset();
        if (m) {
            master = *m;
            struct winsize ws;
            if (::ioctl(0, TIOCGWINSZ, &ws) == 0) ::ioctl(master, TIOCSWINSZ, &ws);
        }
    }
    if (req.detach) {
        // Docker's `exec -d`: returns once the command started (or could not start).
        std::string msg = report();
        if (!msg.empty()) {
            ::waitpid(child, nullptr, 0);
            return as_error(msg);
        }
        return 0;
    }

    // Relay until the command ends: stdin → the process (with -i), its output → ours. Output
    // still buffered when it exits is drained; a background child holding the pipes open does
    // not keep `exec` waiting (as Docker's exec returns when the process exits).
    UniqueFd done(static_cast<int>(::syscall(SYS_pidfd_open, child, 0)));
    struct termios saved;
    bool raw = master >= 0 && ::isatty(0) && ::tcgetattr(0, &saved) == 0;
    if (raw) {
        struct termios t = saved;
        ::cfmakeraw(&t);
        ::tcsetattr(0, TCSANOW, &t);
    }
    int out_fd = master >= 0 ? master : out_r.get();
    int err_fd = err_r.get();
    bool in_open = req.interactive;
    auto copy = [](int from, int to) -> bool {
        char buf[16384];
        ssize_t n = ::read(from, buf, sizeof buf);
        if (n <= 0) return n < 0 && errno == EINTR;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = ::write(to, buf + off, static_cast<size_t>(n - off));
            if (w <= 0) break;
            off += w;
        }
        return true;
    };
    bool exited = false;
    while (out_fd >= 0 || err_fd >= 0) {
        struct pollfd fds[4] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0},
                                {in_open ? 0 : -1, POLLIN, 0}, {exited ? -1 : done.get(), POLLIN, 0}};
        int n = ::poll(fds, 4, exited ? 100 : -1);
        if (n < 0 && errno != EINTR) break;
        if (n == 0) break;  // exited, and nothing more came within 100 ms
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR))
            if (!copy(out_fd, 1)) out_fd = -1;
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR))
            if (!copy(err_fd, 2)) err_fd = -1;
        if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
            int to = master >= 0 ? master : in_w.get();
            char buf[4096];
            ssize_t r = ::read(0, buf, sizeof buf);
            if (r <= 0) {
                in_open = false;
                if (master >= 0) {
                    ssize_t w = ::write(master, "\x04", 1);
                    (void)w;
                } else {
                    in_w.reset();
                }
            } else {
                ssize_t w = ::write(to, buf, static_cast<size_t>(r));
                (void)w;
            }
        }
        if (fds[3].revents & POLLIN) exited = true;
    }
    if (raw) ::tcsetattr(0, TCSANOW, &saved);
    if (master >= 0) ::close(master);
    in_w.reset();
    int code = wait_exit_code(child);
    std::string msg = report();
    if (!msg.empty()) return as_error(msg);
    return code;
}

}  // namespace

std::unique_ptr<Runtime> make_namespace_runtime(bool rootless) {
    return std::make_unique<NamespaceRuntime>(rootless);
}

}  // namespace isolab
