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
#include "sim/core/process.hpp"
#include "sim/runtime/cgroup.hpp"
#include "sim/runtime/console.hpp"
#include "sim/runtime/init.hpp"
#include "sim/runtime/monitor.hpp"
#include "sim/runtime/runtime.hpp"
#include "sim/runtime/security.hpp"

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
        int null = ::open("/dev/null", O_RDWR);
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
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n > 0) {
        buf[n] = '\0';
        std::string dir = fs::path(buf).parent_path().string();
        for (const char* cand : {"/isolab-monitor", "/../libexec/isolab/isolab-monitor"})
            if (path_exists(dir + cand)) return dir + cand;
        // Test binaries live in the build tree next to isolab-monitor's directory.
        if (path_exists(dir + "/../isolab-monitor")) return dir + "/../isolab-monitor";
    }
    return "isolab-monitor";
}

namespace {

Status copy_tree(const std::string& from, const std::string& to) {
    std::error_code ec;
    fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::copy_symlinks |
                           fs::copy_options::overwrite_existing, ec);
    if (ec) return make_error("copy `" + from + "` to `" + to + "`: " + ec.message());
    return {};
}

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
    std::string name() const override { return rootless_ ? "rootless" : "namespaces"; }

    Status prepare(const Store& store, ContainerRecord& rec) override {
        std::string dir = store.container_dir(rec.id);
        for (const char* d : {"upper", "work", "merged"}) ISOLAB_TRY(make_dirs(dir + "/" + d, 0755));
        if (rec.layers.empty()) ISOLAB_TRY(make_dirs(dir + "/empty", 0755));  // scratch's one empty layer
        ISOLAB_TRY(write_file(dir + "/hostname", rec.hostname + "\n"));
        ISOLAB_TRY(write_file(dir + "/hosts",
                              "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"));
        ISOLAB_TRY(write_file(dir + "/resolv.conf",
                              "# IsoLab: this container has only the loopback interface\n"));
        if (rec.rootfs_mode == "copy") {
            ISOLAB_TRY(make_dirs(dir + "/rootfs"));
            for (const auto& layer : rec.layers) ISOLAB_TRY(copy_tree(layer, dir + "/rootfs"));
        }
        return {};
    }

    Status start(const Store& store, ContainerRecord& rec, bool attach) override {
        int sync[2];
        if (::pipe2(sync, O_CLOEXEC) != 0) return errno_error("start: pipe", errno);
        UniqueFd sync_r(sync[0]), sync_w(sync[1]);
        std::string monitor = monitor_binary();
        std::string dir = store.container_dir(rec.id);
        pid_t pid = ::fork();
        if (pid < 0) return errno_error("start: fork", errno);
        if (pid == 0) {
            // Double fork + setsid: the monitor belongs to no terminal and no CLI process, so it
            // survives the CLI's exit (a detached container keeps running).
            ::setsid();
            if (::fork() != 0) ::_exit(0);
            int devnull = ::open("/dev/null", O_RDWR);
            int log = ::open((dir + "/monitor.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0640);
            ::dup2(devnull, 0);
            ::dup2(devnull, 1);
            ::dup2(log >= 0 ? log : devnull, 2);
            ::dup2(sync_w.get(), 3);  // dup2 clears FD_CLOEXEC on the copy
            ::close_range(4, ~0U, 0);
            std::string root = store.root();
            std::vector<const char*> argv = {monitor.c_str(), "--root", root.c_str(), "--id",
                                             rec.id.c_str(), "--sync-fd", "3"};
            if (attach) argv.push_back("--attach");
            argv.push_back(nullptr);
            ::execv(monitor.c_str(), const_cast<char* const*>(argv.data()));
            ::_exit(127);
        }
        sync_w.reset();
        ::waitpid(pid, nullptr, 0);
        std::string line;
        char buf[8192];
        for (;;) {
            struct pollfd p = {sync_r.get(), POLLIN, 0};
            int n = ::poll(&p, 1, 60000);
            if (n <= 0) return make_error("start " + rec.name + ": the monitor did not answer within 60 s");
            ssize_t r = ::read(sync_r.get(), buf, sizeof buf);
            if (r <= 0) break;
            line.append(buf, static_cast<size_t>(r));
            if (line.find('\n') != std::string::npos) break;
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
        rec.pid = j.value("pid", 0);
        rec.pid_start_time = process_start_time(rec.pid);
        rec.monitor_pid = j.value("monitor_pid", 0);
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
        return remove_tree(store.container_dir(rec.id));
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

// `exec`: a new process joins the running container's namespaces (setns), its cgroup, and gets
// the same capabilities, no_new_privs and seccomp filter as PID 1.
Result<int> NamespaceRuntime::exec(const Store& store, const ContainerRecord& rec, const ExecRequest& req) {
    (void)store;
    if (!process_matches(rec.pid, rec.pid_start_time))
        return make_error("container " + rec.id + " is not running", 1);
    if (req.cmd.empty()) return make_error("exec: no command specified", 125);

    // Open every namespace before joining any: after joining the mount namespace, /proc/PID of
    // the host is no longer reachable.
    std::vector<std::pair<int, UniqueFd>> nss;
    std::vector<std::pair<const char*, int>> order = {{"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
                                                      {"net", CLONE_NEWNET}, {"pid", CLONE_NEWPID},
                                                      {"cgroup", CLONE_NEWCGROUP}, {"mnt", CLONE_NEWNS}};
    if (rootless_) order.insert(order.begin(), {"user", CLONE_NEWUSER});
    for (auto& [n, flag] : order) {
        std::string p = "/proc/" + std::to_string(rec.pid) + "/ns/" + n;
        int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return errno_error("exec: open `" + p + "`", errno);
        nss.emplace_back(flag, UniqueFd(fd));
    }
    std::vector<std::string> env = rec.env;
    for (const auto& e : req.env) {
        std::string key = e.substr(0, e.find('='));
        std::erase_if(env, [&](const std::string& x) { return x.compare(0, key.size() + 1, key + "=") == 0; });
        env.push_back(e);
    }
    std::string workdir = req.workdir.empty() ? rec.workdir : req.workdir;
    if (workdir.empty()) workdir = "/";

    // With -t the terminal is made inside the container (its devpts) and the master comes back
    // over a console socket.
    int console[2] = {-1, -1};
    if (req.tty && ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console) != 0)
        return errno_error("exec: console socket", errno);
    int rep[2];
    if (::pipe2(rep, O_CLOEXEC) != 0) return errno_error("exec: pipe", errno);
    UniqueFd rep_r(rep[0]);

    pid_t child = ::fork();
    if (child < 0) return errno_error("exec: fork", errno);
    if (child == 0) {
        auto die = [&](int code, const std::string& msg) {
            std::string l = std::to_string(code) + " " + msg;
            ssize_t n = ::write(rep[1], l.data(), l.size());
            (void)n;
            ::_exit(code);
        };
        if (req.detach) ::setsid();
        // Join the cgroup first: the limits (pids, memory) apply to exec'd processes too.
        // v1: "0" into `tasks` moves only this single thread and skips the global threadgroup
        // lock (see InitConfig::cgroup_self_join); v2 has no `tasks`.
        for (const auto& p : rec.cgroup_paths)
            (void)write_file(p + (path_exists(p + "/tasks") ? "/tasks" : "/cgroup.procs"), "0");
        for (auto& [flag, fd] : nss)
            if (::setns(fd.get(), flag) != 0) die(125, std::string("exec: setns: ") + std::strerror(errno));
        // setns(CLONE_NEWPID) only applies to children: fork once more to be inside.
        pid_t inner = ::fork();
        if (inner < 0) die(125, "exec: fork");
        if (inner > 0) {
            int status = 0;
            ::close(rep[1]);
            while (::waitpid(inner, &status, 0) < 0 && errno == EINTR) {
            }
            ::_exit(exit_code_of(status));
        }
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (req.tty) {
            auto slave = console_create_and_send(console[1]);
            if (!slave) die(125, "exec: " + slave.error().message);
            ::setsid();
            ::ioctl(*slave, TIOCSCTTY, 0);
            ::dup2(*slave, 0);
            ::dup2(*slave, 1);
            ::dup2(*slave, 2);
        } else if (!req.interactive) {
            int devnull = ::open("/dev/null", O_RDONLY);
            ::dup2(devnull, 0);
        }
        if (::chdir(workdir.c_str()) != 0) die(126, "exec: chdir `" + workdir + "`: " + std::strerror(errno));
        int code = 0;
        std::string message;
        std::string path = resolve_command("", req.cmd[0], env, &code, &message);
        if (path.empty()) die(code, message);
        if (auto s = security::apply_capabilities(security::docker_default_capabilities()); !s)
            die(125, s.error().message);
        if (!req.user.empty() && req.user != "root" && req.user != "0") {
            unsigned uid = static_cast<unsigned>(std::strtoul(req.user.c_str(), nullptr, 10));
            ::setgroups(0, nullptr);
            if (::setresgid(uid, uid, uid) != 0 || ::setresuid(uid, uid, uid) != 0)
                die(126, "exec: switch to user " + req.user + ": " + std::strerror(errno));
        }
        if (auto s = security::set_no_new_privs(); !s) die(125, s.error().message);
        if (auto s = security::apply_seccomp_default(); !s) die(125, s.error().message);
        std::vector<char*> argv, envp;
        for (const auto& a : req.cmd) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
        envp.push_back(nullptr);
        ::execve(path.c_str(), argv.data(), envp.data());
        die(errno == ENOENT ? 127 : 126, "exec: \"" + req.cmd[0] + "\": " + std::strerror(errno));
    }
    ::close(rep[1]);
    int master = -1;
    if (req.tty) {
        ::close(console[1]);
        auto m = console_receive(console[0]);
        ::close(console[0]);
        if (m) {
            master = *m;
            struct winsize ws;
            if (::ioctl(0, TIOCGWINSZ, &ws) == 0) ::ioctl(master, TIOCSWINSZ, &ws);
        }
    }
    if (req.detach) {
        if (master >= 0) ::close(master);
        return 0;
    }
    if (master >= 0) {
        // Copy between the local terminal and the pty until the process ends.
        struct termios saved;
        bool raw = ::isatty(0) && ::tcgetattr(0, &saved) == 0;
        if (raw) {
            struct termios t = saved;
            ::cfmakeraw(&t);
            ::tcsetattr(0, TCSANOW, &t);
        }
        bool in_open = req.interactive;
        for (;;) {
            struct pollfd fds[2] = {{master, POLLIN, 0}, {0, static_cast<short>(in_open ? POLLIN : 0), 0}};
            if (::poll(fds, 2, -1) < 0 && errno != EINTR) break;
            if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                char buf[8192];
                ssize_t n = ::read(master, buf, sizeof buf);
                if (n <= 0) break;
                ssize_t w = ::write(1, buf, static_cast<size_t>(n));
                (void)w;
            }
            if (in_open && (fds[1].revents & (POLLIN | POLLHUP))) {
                char buf[4096];
                ssize_t n = ::read(0, buf, sizeof buf);
                if (n <= 0) {
                    in_open = false;
                    ssize_t w = ::write(master, "\x04", 1);
                    (void)w;
                } else {
                    ssize_t w = ::write(master, buf, static_cast<size_t>(n));
                    (void)w;
                }
            }
        }
        if (raw) ::tcsetattr(0, TCSANOW, &saved);
        ::close(master);
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    char ebuf[1024];
    ssize_t n = ::read(rep_r.get(), ebuf, sizeof ebuf - 1);
    int code = exit_code_of(status);
    if (n > 0) {
        ebuf[n] = '\0';
        std::string msg = ebuf;
        size_t sp = msg.find(' ');
        return make_error("OCI runtime exec failed: exec failed: unable to start container process: " +
                              msg.substr(sp + 1) + ": unknown",
                          std::atoi(msg.substr(0, sp).c_str()));
    }
    return code;
}

}  // namespace

std::unique_ptr<Runtime> make_namespace_runtime(bool rootless) {
    return std::make_unique<NamespaceRuntime>(rootless);
}

}  // namespace isolab
