#include "sim/runtime/init.hpp"

#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <pwd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/core/safe_path.hpp"
#include "sim/runtime/console.hpp"
#include "sim/runtime/security.hpp"

namespace isolab {

namespace {

// The report channel: one line per step, then READY or ERROR. Written with one write(2) per line
// so the monitor never sees a torn line.
void report(int fd, const std::string& line) {
    std::string l = line + "\n";
    ssize_t n = ::write(fd, l.data(), l.size());
    (void)n;
}

[[noreturn]] void die(const InitConfig& cfg, int code, const std::string& message) {
    std::string m = message;
    for (char& c : m)
        if (c == '\n') c = ' ';
    report(cfg.report_fd, "ERROR " + std::to_string(code) + " " + m);
    ::_exit(code);
}

[[noreturn]] void die_errno(const InitConfig& cfg, const std::string& what) {
    int err = errno;
    die(cfg, 125, what + ": " + std::strerror(err));
}

class StepTimer {
public:
    explicit StepTimer(const InitConfig& cfg) : cfg_(cfg), last_(monotonic_ms()) {}
    void done(const char* name, const std::string& detail = "") {
        double now = monotonic_ms();
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.3f", now - last_);
        report(cfg_.report_fd, std::string("STEP ") + name + " " + buf + " " + detail);
        last_ = now;
    }
    void reset() { last_ = monotonic_ms(); }

private:
    const InitConfig& cfg_;
    double last_;
};

void mount_or_die(const InitConfig& cfg, const char* src, const std::string& target, const char* type,
                  unsigned long flags, const char* data) {
    if (::mount(src, target.c_str(), type, flags, data) != 0)
        die_errno(cfg, std::string("mount ") + (type ? type : "bind") + " on `" + target + "`");
}

void wait_byte(const InitConfig& cfg) {
    char c;
    ssize_t n;
    do n = ::read(cfg.go_fd, &c, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1) ::_exit(125);  // the monitor went away: nothing to report to
}

std::string env_value(const std::vector<std::string>& env, const std::string& key) {
    for (const auto& e : env)
        if (e.compare(0, key.size() + 1, key + "=") == 0) return e.substr(key.size() + 1);
    return "";
}

// A directory of the container's tree to mount on, resolved inside the tree: an image's /dev,
// /proc, /sys or /etc may be a symlink to anywhere (an absolute `/etc -> /host/dir` used to make
// IsoLab write the host; CVE-2021-30465 was a mount target raced into a symlink). The mount is
// made on the descriptor (/proc/self/fd/N), as runc does, never on a path joined as text.
UniqueFd mount_point_dir(const InitConfig& cfg, const safe::Root& rfs, const std::string& path) {
    auto fd = rfs.make_dirs(path, 0755);
    if (!fd) die(cfg, 125, "mount point `" + path + "`: " + fd.error().message);
    return std::move(*fd);
}

UniqueFd mount_point_file(const InitConfig& cfg, const safe::Root& rfs, const std::string& path) {
    auto fd = rfs.open(path, O_PATH);
    if (!fd) {
        auto made = rfs.open(path, O_WRONLY | O_CREAT, 0644);
        if (!made) die(cfg, 125, "mount point `" + path + "`: " + made.error().message);
        fd = rfs.open(path, O_PATH);
        if (!fd) die(cfg, 125, "mount point `" + path + "`: " + fd.error().message);
    }
    return std::move(*fd);
}

void mount_on(const InitConfig& cfg, const char* src, const UniqueFd& target, const std::string& what,
              const char* type, unsigned long flags, const char* data) {
    if (::mount(src, safe::fd_path(target.get()).c_str(), type, flags, data) != 0)
        die_errno(cfg, std::string("mount ") + (type ? type : "bind") + " on `" + what + "`");
}

// PATH again after a mount on it: the descriptor now names the new file system's top.
UniqueFd reopen_dir(const InitConfig& cfg, const safe::Root& rfs, const std::string& path) {
    auto fd = rfs.open(path, O_PATH | O_DIRECTORY);
    if (!fd) die(cfg, 125, fd.error().message);
    return std::move(*fd);
}

// /dev as Docker builds it: a tmpfs with the few safe device nodes. Nodes are bind mounts of the
// host's (what rootless runtimes must do anyway: a user namespace cannot mknod), so one path
// serves root and rootless. Below the fresh tmpfs, nothing but this function has written: paths
// under its descriptor are safe to join.
void setup_dev(const InitConfig& cfg, const safe::Root& rfs) {
    mount_on(cfg, "tmpfs", mount_point_dir(cfg, rfs, "/dev"), "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME,
             "mode=755,size=65536k");
    UniqueFd top = reopen_dir(cfg, rfs, "/dev");
    std::string dev = safe::fd_path(top.get());
    for (const char* node : {"null", "zero", "full", "random", "urandom", "tty"}) {
        std::string target = dev + "/" + node;
        int fd = ::open(target.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
        if (fd < 0) die_errno(cfg, std::string("create `/dev/") + node + "`");
        ::close(fd);
        mount_or_die(cfg, (std::string("/dev/") + node).c_str(), target, nullptr, MS_BIND, nullptr);
    }
    ::mkdir((dev + "/pts").c_str(), 0755);
    ::mkdir((dev + "/shm").c_str(), 01777);
    ::mkdir((dev + "/mqueue").c_str(), 0755);
    const char* pts_opts = cfg.rootless ? "newinstance,ptmxmode=0666,mode=0620"
                                        : "newinstance,ptmxmode=0666,mode=0620,gid=5";
    mount_or_die(cfg, "devpts", dev + "/pts", "devpts", MS_NOSUID | MS_NOEXEC, pts_opts);
    mount_or_die(cfg, "shm", dev + "/shm", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=1777,size=65536k");
    if (::mount("mqueue", (dev + "/mqueue").c_str(), "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, nullptr) != 0)
        ::rmdir((dev + "/mqueue").c_str());  // optional: some kernels lack mqueue
    ::symlink("pts/ptmx", (dev + "/ptmx").c_str());
    ::symlink("/proc/self/fd", (dev + "/fd").c_str());
    ::symlink("/proc/self/fd/0", (dev + "/stdin").c_str());
    ::symlink("/proc/self/fd/1", (dev + "/stdout").c_str());
    ::symlink("/proc/self/fd/2", (dev + "/stderr").c_str());
    ::symlink("/proc/kcore", (dev + "/core").c_str());
}

void setup_sys(const InitConfig& cfg, const safe::Root& rfs) {
    UniqueFd target = mount_point_dir(cfg, rfs, "/sys");
    unsigned long flags = MS_RDONLY | MS_NOSUID | MS_NOEXEC | MS_NODEV;
    if (::mount("sysfs", safe::fd_path(target.get()).c_str(), "sysfs", flags, nullptr) == 0) return;
    // Rootless: sysfs may be refused; a read-only recursive bind of the host's is what rootless
    // Podman does too.
    mount_on(cfg, "/sys", target, "/sys", nullptr, MS_BIND | MS_REC, nullptr);
    UniqueFd top = reopen_dir(cfg, rfs, "/sys");
    ::mount(nullptr, safe::fd_path(top.get()).c_str(), nullptr,
            MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC | MS_NODEV, nullptr);
}

// Every descriptor but the ones the setup needs is closed before anything else happens: the
// monitor's own (its report socket to the CLI, the attach socket, the log) must never be within
// reach of the container's code, whatever flags they carry.
void close_other_fds(const InitConfig& cfg) {
    std::vector<int> keep = {cfg.stdin_fd, cfg.stdout_fd, cfg.stderr_fd, cfg.console_fd, cfg.go_fd, cfg.report_fd};
    std::erase_if(keep, [](int fd) { return fd < 3; });
    std::sort(keep.begin(), keep.end());
    unsigned from = 3;
    for (int fd : keep) {
        if (static_cast<unsigned>(fd) > from) ::close_range(from, static_cast<unsigned>(fd) - 1, 0);
        from = std::max(from, static_cast<unsigned>(fd) + 1);
    }
    ::close_range(from, ~0U, 0);
}

void bring_up_loopback(const InitConfig& cfg) {
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) die_errno(cfg, "socket for `lo`");
    struct ifreq ifr = {};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) die_errno(cfg, "read flags of `lo`");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) die_errno(cfg, "bring up `lo`");
    ::close(s);
}

// Looks NAME up in the container's own /etc/passwd or /etc/group (never the host's).
bool lookup_id(const char* file, const std::string& name, unsigned* id, unsigned* gid) {
    FILE* f = std::fopen(file, "re");
    if (!f) return false;
    char line[512];
    bool found = false;
    while (std::fgets(line, sizeof line, f)) {
        char* save = nullptr;
        char* n = strtok_r(line, ":", &save);
        strtok_r(nullptr, ":", &save);
        char* i = strtok_r(nullptr, ":", &save);
        char* g = strtok_r(nullptr, ":", &save);
        if (n && i && name == n) {
            *id = static_cast<unsigned>(std::strtoul(i, nullptr, 10));
            if (gid && g) *gid = static_cast<unsigned>(std::strtoul(g, nullptr, 10));
            found = true;
            break;
        }
    }
    std::fclose(f);
    return found;
}

bool all_digits(const std::string& s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

Status switch_to_user(const std::string& user, bool rootless) {
    if (user.empty() || user == "root" || user == "0" || user == "0:0") return {};
    std::string u = user, g;
    if (size_t c = u.find(':'); c != std::string::npos) {
        g = u.substr(c + 1);
        u = u.substr(0, c);
    }
    unsigned uid = 0, gid = 0;
    if (all_digits(u)) {
        uid = static_cast<unsigned>(std::strtoul(u.c_str(), nullptr, 10));
        lookup_id("/etc/passwd", u, &uid, &gid);  // keeps gid 0 if the uid has no entry
    } else if (!lookup_id("/etc/passwd", u, &uid, &gid)) {
        return make_error("unable to find user " + u + ": no matching entries in passwd file", 126);
    }
    if (!g.empty()) {
        if (all_digits(g)) gid = static_cast<unsigned>(std::strtoul(g.c_str(), nullptr, 10));
        else if (!lookup_id("/etc/group", g, &gid, nullptr))
            return make_error("unable to find group " + g + ": no matching entries in group file", 126);
    }
    if (::setgroups(0, nullptr) != 0 && !rootless) return errno_error("setgroups", errno);
    if (::setresgid(gid, gid, gid) != 0) return errno_error("setgid " + std::to_string(gid), errno);
    if (::setresuid(uid, uid, uid) != 0) return errno_error("setuid " + std::to_string(uid), errno);
    return {};
}

std::string resolve_command(const std::string& root, const std::string& cmd,
                            const std::vector<std::string>& env, int* code, std::string* message) {
    auto check = [&](const std::string& path, bool explicit_path) -> int {
        struct stat st;
        std::string full = root + path;
        if (::stat(full.c_str(), &st) != 0) return explicit_path ? 127 : -1;
        if (S_ISDIR(st.st_mode)) return 126;
        if (::access(full.c_str(), X_OK) != 0) return explicit_path ? 126 : -2;
        return 0;
    };
    if (cmd.empty()) {
        *code = 125;
        *message = "no command specified";
        return "";
    }
    if (cmd.find('/') != std::string::npos) {
        std::string path = cmd[0] == '/' ? cmd : "/" + cmd;
        int r = check(path, true);
        if (r == 0) return cmd;
        *code = r;
        if (r == 127) *message = "exec: \"" + cmd + "\": stat " + cmd + ": no such file or directory";
        else if (r == 126) {
            struct stat st;
            bool dir = ::stat((root + path).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
            *message = "exec: \"" + cmd + "\": " + (dir ? "is a directory" : "permission denied");
        }
        return "";
    }
    std::string path = env_value(env, "PATH");
    if (path.empty()) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    bool denied = false;
    size_t start = 0;
    while (start <= path.size()) {
        size_t end = path.find(':', start);
        if (end == std::string::npos) end = path.size();
        std::string dir = path.substr(start, end - start);
        if (dir.empty()) dir = ".";
        std::string candidate = (dir.back() == '/' ? dir : dir + "/") + cmd;
        int r = check(candidate[0] == '/' ? candidate : "/" + candidate, false);
        if (r == 0) return candidate;
        if (r == -2 || r == 126) denied = true;
        start = end + 1;
    }
    *code = denied ? 126 : 127;
    *message = denied ? "exec: \"" + cmd + "\": permission denied"
                      : "exec: \"" + cmd + "\": executable file not found in $PATH";
    return "";
}

void container_init(const InitConfig& cfg) {
    // If the monitor dies, so does the container (a kill -9 of the monitor must not leave an
    // orphaned PID 1 behind); the garbage collector removes the rest.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    close_other_fds(cfg);
    ::signal(SIGPIPE, SIG_DFL);
    StepTimer steps(cfg);
    {
        // The monitor writes our uid/gid maps and puts us in the cgroup before the first byte.
        wait_byte(cfg);
        // Until the user's execve this process is IsoLab's binary: nothing in the container (an
        // exec) may reach its memory or /proc/1/exe. Not before the monitor has written our uid
        // map (rootless): /proc/PID of a non-dumpable process belongs to root. execve makes the
        // user's program dumpable again, as it should be.
        ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.3f", monotonic_ms() - cfg.clone_started_ms);
        report(cfg.report_fd, std::string("STEP clone ") + buf +
                                  (cfg.rootless ? " CLONE_NEWUSER|NEWPID|NEWNS|NEWUTS|NEWIPC|NEWNET + uid map"
                                                : " CLONE_NEWPID|NEWNS|NEWUTS|NEWIPC|NEWNET"));
        steps.reset();
    }

    for (const auto& tasks : cfg.cgroup_self_join)
        if (auto st = write_file(tasks, "0"); !st) die(cfg, 125, st.error().message);
    if (!cfg.cgroup_self_join.empty()) steps.done("cgroup-join", std::to_string(cfg.cgroup_self_join.size()) + " v1 hierarchies");

    // The cgroup namespace is made after joining the container's cgroup so that the container
    // sees its own cgroup as "/".
    if (::unshare(CLONE_NEWCGROUP) != 0) die_errno(cfg, "unshare cgroup namespace");
    if (::sethostname(cfg.hostname.data(), cfg.hostname.size()) != 0) die_errno(cfg, "sethostname");
    steps.done("uts+cgroupns", cfg.hostname);

    // Nothing we mount may propagate back to the host.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) die_errno(cfg, "make / private");
    std::string root = cfg.container_dir + "/merged";
    if (cfg.rootfs_mode == "copy") {
        root = cfg.container_dir + "/rootfs";
        mount_or_die(cfg, root.c_str(), root, nullptr, MS_BIND | MS_REC, nullptr);
        steps.done("rootfs", "copied root (overlayfs not allowed here)");
    } else {
        std::string lower;
        for (auto it = cfg.layers.rbegin(); it != cfg.layers.rend(); ++it)
            lower += (lower.empty() ? "" : ":") + *it;
        if (lower.empty()) lower = cfg.container_dir + "/empty";  // scratch: one empty layer
        std::string opts = "lowerdir=" + lower + ",upperdir=" + cfg.container_dir +
                           "/upper,workdir=" + cfg.container_dir + "/work";
        if (cfg.rootless) opts += ",userxattr";
        mount_or_die(cfg, "overlay", root, "overlay", 0, opts.c_str());
        steps.done("overlay", std::to_string(cfg.layers.size()) + " lower layer(s) + upper");
    }

    // From here on the tree under ROOT is the image's: every path in it is resolved inside it.
    auto rfs = safe::Root::open(root);
    if (!rfs) die(cfg, 125, rfs.error().message);
    mount_on(cfg, "proc", mount_point_dir(cfg, *rfs, "/proc"), "/proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, nullptr);
    setup_dev(cfg, *rfs);
    setup_sys(cfg, *rfs);
    // Files the engine writes for the container (Docker bind-mounts the same three).
    (void)mount_point_dir(cfg, *rfs, "/etc");
    for (const char* f : {"hostname", "hosts", "resolv.conf"}) {
        std::string src = cfg.container_dir + "/" + f;
        mount_on(cfg, src.c_str(), mount_point_file(cfg, *rfs, std::string("/etc/") + f), std::string("/etc/") + f,
                 nullptr, MS_BIND, nullptr);
    }
    steps.done("mounts", "/proc /dev /dev/pts /dev/shm /sys(ro) /etc/{hostname,hosts,resolv.conf}");

    // pivot_root(".", ".") then detach the old root: the host's file system is no longer
    // reachable from inside (bubblewrap and runc use the same sequence; chroot alone is escapable).
    if (::chdir(root.c_str()) != 0) die_errno(cfg, "chdir `" + root + "`");
    if (::syscall(SYS_pivot_root, ".", ".") != 0) die_errno(cfg, "pivot_root");
    if (::umount2(".", MNT_DETACH) != 0) die_errno(cfg, "detach old root");
    if (::chdir("/") != 0) die_errno(cfg, "chdir /");
    steps.done("pivot_root", "old root detached");

    if (auto s = security::apply_masked_paths(""); !s) die(cfg, 125, s.error().message);
    if (auto s = security::apply_readonly_paths(""); !s) die(cfg, 125, s.error().message);
    steps.done("masked-paths", "/proc/kcore /proc/keys ... masked, /proc/sys read-only");

    if (cfg.own_network) {
        bring_up_loopback(cfg);
        steps.done("network", "lo up");
    }

    // stdio becomes the container's before the user switch (the pty slave belongs to us).
    if (cfg.tty) {
        auto slave = console_create_and_send(cfg.console_fd);
        if (!slave) die(cfg, 125, slave.error().message);
        if (::setsid() < 0) die_errno(cfg, "setsid");
        if (::ioctl(*slave, TIOCSCTTY, 0) != 0) die_errno(cfg, "set controlling terminal");
        if (::dup2(*slave, 0) < 0 || ::dup2(*slave, 1) < 0 || ::dup2(*slave, 2) < 0) die_errno(cfg, "stdio");
        if (*slave > 2) ::close(*slave);
    } else if (::dup2(cfg.stdin_fd, 0) < 0 || ::dup2(cfg.stdout_fd, 1) < 0 || ::dup2(cfg.stderr_fd, 2) < 0) {
        die_errno(cfg, "stdio");
    }

    std::string workdir = cfg.workdir.empty() ? "/" : cfg.workdir;
    if (::chdir(workdir.c_str()) != 0) {
        // Docker creates a missing working directory.
        if (auto s = make_dirs(workdir); !s || ::chdir(workdir.c_str()) != 0)
            die_errno(cfg, "chdir to cwd (\"" + workdir + "\") set in config.json failed");
    }

    int code = 0;
    std::string message;
    std::string path = resolve_command("", cfg.args.empty() ? "" : cfg.args[0], cfg.env, &code, &message);
    if (path.empty()) die(cfg, code, message);

    // Privilege drop, in this order: capabilities (bounding set first) while we still hold
    // CAP_SETPCAP, then the user switch, then no_new_privs, then seccomp last, because the filter
    // forbids some of the calls above.
    if (auto s = security::apply_capabilities(security::docker_default_capabilities()); !s)
        die(cfg, 125, s.error().message);
    if (auto s = switch_to_user(cfg.user, cfg.rootless); !s) die(cfg, 125, s.error().message);
    if (auto s = security::set_no_new_privs(); !s) die(cfg, 125, s.error().message);
    if (auto s = security::apply_seccomp_default(); !s) die(cfg, 125, s.error().message);
    steps.done("caps+seccomp", "14 capabilities, no_new_privs, seccomp filter");

    report(cfg.report_fd, "READY");
    wait_byte(cfg);  // the monitor says go: an attach client is there, or none is needed

    // Nothing but stdio crosses the execve (the report pipe, CLOEXEC already, closes with it and
    // tells the monitor the execve succeeded).
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) die_errno(cfg, "close_range");
    std::vector<char*> argv;
    for (const auto& a : cfg.args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (const auto& e : cfg.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    ::execve(path.c_str(), argv.data(), envp.data());
    int err = errno;
    die(cfg, err == ENOENT ? 127 : 126, "exec: \"" + cfg.args[0] + "\": " + std::strerror(err));
}

}  // namespace isolab
