#include "sim/runtime/oci_runtime.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <seccomp.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <memory>
#include <optional>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/core/process.hpp"
#include "sim/runtime/cgroup.hpp"
#include "sim/runtime/console.hpp"
#include "sim/runtime/init.hpp"
#include "sim/runtime/security.hpp"

namespace isolab::oci {

using nlohmann::json;

const char* status_name(ContainerStatus s) {
    switch (s) {
        case ContainerStatus::Creating: return "creating";
        case ContainerStatus::Created: return "created";
        case ContainerStatus::Running: return "running";
        case ContainerStatus::Stopped: return "stopped";
    }
    return "unknown";
}

json state_json(const RuntimeState& s) {
    return json{{"ociVersion", s.oci_version}, {"id", s.id},          {"status", status_name(s.status)},
                {"pid", s.pid},                {"bundle", s.bundle},  {"rootfs", s.rootfs},
                {"created", s.created},        {"annotations", s.annotations}};
}

std::string default_runtime_root() {
    if (::geteuid() == 0) return "/run/isolab-runtime";
    if (const char* x = std::getenv("XDG_RUNTIME_DIR"); x && *x) return std::string(x) + "/isolab-runtime";
    return "/tmp/isolab-runtime-" + std::to_string(::geteuid());
}

bool valid_container_id(const std::string& id) {
    if (id.empty() || id == "." || id == ".." || id.size() > 1024) return false;
    for (char c : id)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '+' && c != '-' && c != '.') return false;
    return true;
}

namespace {

const std::map<std::string, int> kNamespaceFlags = {
    {"pid", CLONE_NEWPID}, {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS}, {"ipc", CLONE_NEWIPC},
    {"uts", CLONE_NEWUTS}, {"user", CLONE_NEWUSER},   {"cgroup", CLONE_NEWCGROUP},
};

// ---- The container's init (runs in the cloned child) ---------------------------------------

struct InitContext {
    const OciSpec* spec = nullptr;
    int go_fd = -1;       // read: one byte once maps and cgroup are in place
    int report_fd = -1;   // write: "READY" or "ERROR <message>", one line
    int console_fd = -1;  // the connected --console-socket, with process.terminal
    std::string fifo_path;
};

void report(int fd, const std::string& line) {
    std::string l = line;
    for (char& c : l)
        if (c == '\n') c = ' ';
    l += "\n";
    ssize_t n = ::write(fd, l.data(), l.size());
    (void)n;
}

[[noreturn]] void die(const InitContext& ctx, const std::string& message) {
    report(ctx.report_fd, "ERROR " + message);
    ::_exit(1);
}

[[noreturn]] void die_errno(const InitContext& ctx, const std::string& what) {
    int err = errno;
    die(ctx, what + ": " + std::strerror(err));
}

std::vector<std::string> split_path(const std::string& p) {
    std::vector<std::string> out;
    std::stringstream ss(p);
    for (std::string part; std::getline(ss, part, '/');)
        if (!part.empty() && part != ".") out.push_back(part);
    return out;
}

// ROOT + PATH with every symlink on the way resolved as if ROOT were "/": a rootfs cannot point
// a mount destination outside itself (runc uses filepath-securejoin for the same reason,
// CVE-2021-30465 style escapes). Returns "" after too many links.
std::string resolve_in_root(const std::string& root, const std::string& path) {
    std::deque<std::string> todo;
    for (auto& p : split_path(path)) todo.push_back(p);
    std::vector<std::string> done;
    int links = 0;
    auto joined = [&] {
        std::string s = root;
        for (const auto& d : done) s += "/" + d;
        return s;
    };
    while (!todo.empty()) {
        std::string c = todo.front();
        todo.pop_front();
        if (c == "..") {
            if (!done.empty()) done.pop_back();
            continue;
        }
        std::string cur = joined() + "/" + c;
        struct stat st;
        if (::lstat(cur.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
            if (++links > 40) return "";
            char buf[4096];
            ssize_t n = ::readlink(cur.c_str(), buf, sizeof buf - 1);
            if (n < 0) return "";
            std::string target(buf, static_cast<size_t>(n));
            if (!target.empty() && target[0] == '/') done.clear();
            auto parts = split_path(target);
            for (auto it = parts.rbegin(); it != parts.rend(); ++it) todo.push_front(*it);
            continue;
        }
        done.push_back(c);
    }
    return joined();
}

// The flags a bind remount must repeat: in a user namespace the kernel rejects a remount that
// would clear nosuid/nodev/noexec or the atime mode of an inherited mount (EPERM).
unsigned long locked_flags(const std::string& path) {
    struct statvfs sv {};
    if (::statvfs(path.c_str(), &sv) != 0) return 0;
    unsigned long flags = 0;
    if (sv.f_flag & ST_NOSUID) flags |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV) flags |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
    if (sv.f_flag & ST_NOATIME) flags |= MS_NOATIME;
    else if (sv.f_flag & ST_RELATIME) flags |= MS_RELATIME;
    if (sv.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
    return flags;
}

void ensure_target(const InitContext& ctx, const std::string& target, bool file) {
    std::string parent = target.substr(0, target.rfind('/'));
    if (!parent.empty())
        if (auto s = make_dirs(parent); !s) die(ctx, s.error().message);
    if (file) {
        struct stat st;
        if (::stat(target.c_str(), &st) == 0) return;
        int fd = ::open(target.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        if (fd < 0) die_errno(ctx, "create mount point `" + target + "`");
        ::close(fd);
    } else if (::mkdir(target.c_str(), 0755) != 0 && errno != EEXIST) {
        die_errno(ctx, "create mount point `" + target + "`");
    }
}

// Controllers of the host's cgroup v1 hierarchies as /proc/cgroups names them.
std::set<std::string> v1_subsystems() {
    std::set<std::string> out;
    std::ifstream in("/proc/cgroups");
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        out.insert(line.substr(0, line.find('\t')));
    }
    return out;
}

struct HostCgroupMount {
    std::string mountpoint, fstype, options;  // options: mount data for cgroup v1 ("memory", "none,name=systemd")
};

std::vector<HostCgroupMount> host_cgroup_mounts() {
    std::vector<HostCgroupMount> out;
    auto subsystems = v1_subsystems();
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ss(line);
        std::vector<std::string> f;
        for (std::string w; ss >> w;) f.push_back(w);
        size_t dash = 0;
        while (dash < f.size() && f[dash] != "-") ++dash;
        if (dash + 3 >= f.size() + 0 || f.size() < 5) continue;
        if (dash + 3 > f.size()) continue;
        const std::string& fstype = f[dash + 1];
        if (fstype != "cgroup" && fstype != "cgroup2") continue;
        HostCgroupMount m{f[4], fstype, ""};
        if (fstype == "cgroup") {
            std::stringstream opts(dash + 3 < f.size() ? f[dash + 3] : "");
            std::vector<std::string> keep;
            bool named = false;
            for (std::string o; std::getline(opts, o, ',');) {
                if (subsystems.count(o)) keep.push_back(o);
                if (o.rfind("name=", 0) == 0) {
                    keep.push_back(o);
                    named = true;
                }
            }
            if (named) keep.insert(keep.begin(), "none");
            for (const auto& k : keep) m.options += (m.options.empty() ? "" : ",") + k;
        }
        out.push_back(m);
    }
    return out;
}

void bind_readonly(const InitContext& ctx, const std::string& source, const std::string& target, unsigned long flags) {
    if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
        die_errno(ctx, "bind `" + source + "` on `" + target + "`");
    unsigned long extra = flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
    if (extra && ::mount(nullptr, target.c_str(), nullptr, MS_BIND | MS_REMOUNT | extra | locked_flags(target), nullptr) != 0)
        die_errno(ctx, "remount `" + target + "`");
}

// A "cgroup" mount as runc gives it: on a cgroup v2 host the unified hierarchy; on a v1 host a
// tmpfs with one directory per hierarchy, each a cgroup mount (a recursive bind of the host's
// where the kernel refuses, e.g. in a user namespace), read-only when asked.
void mount_cgroup(const InitContext& ctx, const std::string& target, const MountFlags& mf) {
    auto hosts = host_cgroup_mounts();
    bool unified = false;
    for (const auto& h : hosts)
        if (h.mountpoint == "/sys/fs/cgroup" && h.fstype == "cgroup2") unified = true;
    unsigned long flags = mf.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
    if (unified) {
        if (::mount("cgroup2", target.c_str(), "cgroup2", flags, nullptr) != 0)
            bind_readonly(ctx, "/sys/fs/cgroup", target, flags);
        return;
    }
    if (::mount("tmpfs", target.c_str(), "tmpfs", flags & ~MS_RDONLY, "mode=755") != 0)
        die_errno(ctx, "mount tmpfs on `" + target + "` for the cgroup hierarchies");
    for (const auto& h : hosts) {
        // v1 hierarchies only: a hybrid host's controller-less cgroup2 at /sys/fs/cgroup/unified
        // is not shown, as runc does not show it.
        if (h.mountpoint.rfind("/sys/fs/cgroup/", 0) != 0 || h.fstype != "cgroup") continue;
        std::string name = h.mountpoint.substr(std::strlen("/sys/fs/cgroup/"));
        if (name.empty() || name.find('/') != std::string::npos) continue;
        std::string sub = target + "/" + name;
        ::mkdir(sub.c_str(), 0755);
        const char* data = h.fstype == "cgroup" ? h.options.c_str() : nullptr;
        if (::mount(h.fstype.c_str(), sub.c_str(), h.fstype.c_str(), flags, data) != 0)
            bind_readonly(ctx, h.mountpoint, sub, flags);
        // "cpu,cpuacct" is also reachable as "cpu" and "cpuacct", as on the host.
        if (name.find(',') != std::string::npos) {
            std::stringstream parts(name);
            for (std::string p; std::getline(parts, p, ',');) ::symlink(name.c_str(), (target + "/" + p).c_str());
        }
    }
    if (flags & MS_RDONLY)
        if (::mount(nullptr, target.c_str(), nullptr, MS_REMOUNT | flags, "mode=755") != 0)
            die_errno(ctx, "remount `" + target + "` read-only");
}

void mount_one(const InitContext& ctx, const std::string& rootfs, const Mount& m) {
    std::string target = resolve_in_root(rootfs, m.destination);
    if (target.empty()) die(ctx, "mount `" + m.destination + "`: too many symbolic links in the rootfs");
    MountFlags mf = parse_mount_options(m.options);
    bool bind = mf.bind || m.type == "bind";
    if (bind) {
        struct stat st;
        if (::stat(m.source.c_str(), &st) != 0) die_errno(ctx, "bind mount source `" + m.source + "`");
        ensure_target(ctx, target, !S_ISDIR(st.st_mode));
        unsigned long flags = MS_BIND | (mf.recursive ? MS_REC : 0);
        if (::mount(m.source.c_str(), target.c_str(), nullptr, flags, nullptr) != 0)
            die_errno(ctx, "bind `" + m.source + "` on `" + m.destination + "`");
        unsigned long extra = mf.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
        if (extra && ::mount(nullptr, target.c_str(), nullptr, MS_BIND | MS_REMOUNT | extra | locked_flags(target), nullptr) != 0)
            die_errno(ctx, "remount the bind mount `" + m.destination + "`");
    } else {
        ensure_target(ctx, target, false);
        if (m.type == "cgroup") {
            mount_cgroup(ctx, target, mf);
        } else {
            unsigned long flags = mf.flags & ~MS_REMOUNT;
            const char* data = mf.data.empty() ? nullptr : mf.data.c_str();
            if (::mount(m.source.c_str(), target.c_str(), m.type.c_str(), flags, data) != 0) {
                int err = errno;
                // sysfs needs a network namespace this user namespace owns; runc then binds the
                // host's read-only, and so do we.
                if (m.type == "sysfs" && (err == EPERM || err == EBUSY)) {
                    bind_readonly(ctx, "/sys", target, flags | MS_RDONLY);
                } else {
                    errno = err;
                    die_errno(ctx, "mount " + m.type + " on `" + m.destination + "`");
                }
            }
        }
    }
    for (unsigned long p : mf.propagation)
        if (::mount(nullptr, target.c_str(), nullptr, p, nullptr) != 0)
            die_errno(ctx, "set propagation of `" + m.destination + "`");
}

struct DefaultDevice {
    const char* name;
    unsigned major, minor;
};
constexpr DefaultDevice kDefaultDevices[] = {{"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
                                             {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};

// A device node in the rootfs: mknod as real root; in a user namespace (which cannot mknod) a
// bind mount of the host's node, as runc does.
void create_device(const InitContext& ctx, const std::string& rootfs, const Device& d, bool bind) {
    std::string target = resolve_in_root(rootfs, d.path);
    if (target.empty()) die(ctx, "device `" + d.path + "`: too many symbolic links");
    std::string parent = target.substr(0, target.rfind('/'));
    if (auto s = make_dirs(parent); !s) die(ctx, s.error().message);
    if (bind) {
        ensure_target(ctx, target, true);
        if (::mount(d.path.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0)
            die_errno(ctx, "bind the host's `" + d.path + "` into the container");
        return;
    }
    mode_t type = d.type == 'b' ? S_IFBLK : d.type == 'p' ? S_IFIFO : S_IFCHR;
    mode_t mode = d.file_mode ? *d.file_mode & 07777 : 0666;
    ::unlink(target.c_str());
    if (::mknod(target.c_str(), type | mode, makedev(d.major, d.minor)) != 0)
        die_errno(ctx, "mknod `" + d.path + "`");
    if (::chown(target.c_str(), d.uid.value_or(0), d.gid.value_or(0)) != 0) die_errno(ctx, "chown `" + d.path + "`");
}

void setup_devices(const InitContext& ctx, const std::string& rootfs, const OciSpec& spec) {
    bool host_dev = false;
    for (const auto& m : spec.mounts)
        if (m.destination == "/dev" && (m.type == "bind" || parse_mount_options(m.options).bind)) host_dev = true;
    bool bind = spec.has_namespace("user") || ::geteuid() != 0;
    mode_t old = ::umask(0);
    if (!host_dev) {
        for (const auto& dd : kDefaultDevices) {
            Device d;
            d.path = std::string("/dev/") + dd.name;
            d.major = dd.major;
            d.minor = dd.minor;
            d.file_mode = 0666;
            create_device(ctx, rootfs, d, bind);
        }
        std::string dev = resolve_in_root(rootfs, "/dev");
        ::unlink((dev + "/ptmx").c_str());
        if (::symlink("pts/ptmx", (dev + "/ptmx").c_str()) != 0) die_errno(ctx, "symlink /dev/ptmx");
        const std::pair<const char*, const char*> links[] = {
            {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}};
        for (auto [from, name] : links)
            if (::symlink(from, (dev + "/" + name).c_str()) != 0 && errno != EEXIST)
                die_errno(ctx, std::string("symlink /dev/") + name);
        if (path_exists("/proc/kcore")) ::symlink("/proc/kcore", (dev + "/core").c_str());
    }
    for (const auto& d : spec.devices) create_device(ctx, rootfs, d, bind);
    ::umask(old);
}

void bring_up_loopback(const InitContext& ctx) {
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) die_errno(ctx, "socket for `lo`");
    struct ifreq ifr = {};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) die_errno(ctx, "read flags of `lo`");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) die_errno(ctx, "bring up `lo`");
    ::close(s);
}

std::vector<cap_value_t> cap_values(const std::vector<std::string>& names) {
    std::vector<cap_value_t> out;
    int max = static_cast<int>(cap_max_bits());
    for (const auto& n : names) {
        cap_value_t c = -1;
        // A capability this kernel does not have is skipped, as runc does (with a warning there).
        if (cap_from_name(n.c_str(), &c) == 0 && c >= 0 && c < max) out.push_back(c);
    }
    return out;
}

void drop_bounding(const InitContext& ctx, const std::vector<std::string>& keep) {
    auto k = cap_values(keep);
    int max = static_cast<int>(cap_max_bits());
    for (cap_value_t c = 0; c < max; ++c) {
        if (std::find(k.begin(), k.end(), c) != k.end()) continue;
        if (cap_drop_bound(c) != 0 && errno != EINVAL) die_errno(ctx, "drop capability " + std::to_string(c) + " from the bounding set");
    }
}

void set_capability_sets(const InitContext& ctx, const Capabilities& caps) {
    cap_t c = cap_init();
    if (!c) die_errno(ctx, "cap_init");
    auto set = [&](cap_flag_t flag, const std::vector<std::string>& names) {
        auto v = cap_values(names);
        if (!v.empty() && cap_set_flag(c, flag, static_cast<int>(v.size()), v.data(), CAP_SET) != 0)
            die_errno(ctx, "cap_set_flag");
    };
    set(CAP_EFFECTIVE, caps.effective);
    set(CAP_PERMITTED, caps.permitted);
    set(CAP_INHERITABLE, caps.inheritable);
    if (cap_set_proc(c) != 0) die_errno(ctx, "set the capabilities of process.capabilities (effective, permitted, inheritable)");
    cap_free(c);
    if (cap_reset_ambient() != 0 && errno != EINVAL) die_errno(ctx, "clear the ambient capabilities");
    // The kernel raises an ambient capability only if it is permitted and inheritable. `runc spec`
    // lists ambient capabilities that are not inheritable; runc warns and goes on, and so do we.
    for (cap_value_t a : cap_values(caps.ambient))
        if (cap_set_ambient(a, CAP_SET) != 0) {
            int err = errno;
            char* name = cap_to_name(a);
            report(ctx.report_fd, std::string("WARN ambient capability ") + (name ? name : "?") + " not raised: " +
                                      std::strerror(err) + " (it must also be in the permitted and inheritable sets)");
            if (name) cap_free(name);
        }
}

// Supplementary groups as runc computes them: the groups of the container's /etc/group that list
// the user (by the name /etc/passwd gives the uid), then process.user.additionalGids.
std::vector<gid_t> supplementary_groups(uint32_t uid, const std::vector<uint32_t>& additional) {
    std::string name;
    {
        std::ifstream in("/etc/passwd");
        for (std::string line; std::getline(in, line);) {
            std::vector<std::string> f;
            std::stringstream ss(line);
            for (std::string p; std::getline(ss, p, ':');) f.push_back(p);
            if (f.size() >= 3 && f[2] == std::to_string(uid)) {
                name = f[0];
                break;
            }
        }
    }
    std::vector<gid_t> out;
    if (!name.empty()) {
        std::ifstream in("/etc/group");
        for (std::string line; std::getline(in, line);) {
            std::vector<std::string> f;
            std::stringstream ss(line);
            for (std::string p; std::getline(ss, p, ':');) f.push_back(p);
            if (f.size() < 4) continue;
            std::stringstream members(f[3]);
            for (std::string m; std::getline(members, m, ',');)
                if (m == name) {
                    try {
                        out.push_back(static_cast<gid_t>(std::stoul(f[2])));
                    } catch (...) {
                    }
                }
        }
    }
    for (uint32_t g : additional) out.push_back(g);
    return out;
}

uint32_t seccomp_action(const std::string& name, uint32_t errno_ret) {
    if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
    if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
    if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
    if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(errno_ret);
    if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(errno_ret);
    if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
    return SCMP_ACT_ALLOW;
}

scmp_compare seccomp_op(const std::string& op) {
    if (op == "SCMP_CMP_NE") return SCMP_CMP_NE;
    if (op == "SCMP_CMP_LT") return SCMP_CMP_LT;
    if (op == "SCMP_CMP_LE") return SCMP_CMP_LE;
    if (op == "SCMP_CMP_GE") return SCMP_CMP_GE;
    if (op == "SCMP_CMP_GT") return SCMP_CMP_GT;
    if (op == "SCMP_CMP_MASKED_EQ") return SCMP_CMP_MASKED_EQ;
    return SCMP_CMP_EQ;
}

}  // namespace

// Loads an OCI linux.seccomp object (validated by parse_oci_spec) with libseccomp, as runc's
// libcontainer/seccomp does: names unknown to this libseccomp or architecture are skipped, rules
// whose action equals the default are skipped (libseccomp refuses them), and the conditions of a
// rule are ANDed unless two name the same argument, in which case each becomes its own rule (ORed).
Status load_oci_seccomp(const json& s) {
    uint32_t default_errno = s.contains("defaultErrnoRet") ? s["defaultErrnoRet"].get<uint32_t>() : EPERM;
    uint32_t def = seccomp_action(s["defaultAction"].get<std::string>(), default_errno);
    std::unique_ptr<void, void (*)(scmp_filter_ctx)> ctx(seccomp_init(def), seccomp_release);
    if (!ctx) return make_error("seccomp: seccomp_init failed");
    // no_new_privs is the spec's decision (process.noNewPrivileges), not libseccomp's.
    seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
    if (s.contains("architectures"))
        for (const auto& a : s["architectures"]) {
            std::string lower = a.get<std::string>().substr(10);
            for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            uint32_t arch = seccomp_arch_resolve_name(lower.c_str());
            int rc = seccomp_arch_add(ctx.get(), arch);
            if (rc < 0 && rc != -EEXIST) return errno_error("seccomp: add architecture " + a.get<std::string>(), -rc);
        }
    if (s.contains("flags"))
        for (const auto& f : s["flags"]) {
            std::string flag = f.get<std::string>();
            if (flag == "SECCOMP_FILTER_FLAG_LOG") seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_LOG, 1);
            if (flag == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_SSB, 1);
            if (flag == "SECCOMP_FILTER_FLAG_TSYNC") seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_TSYNC, 1);
        }
    if (s.contains("syscalls"))
        for (const auto& rule : s["syscalls"]) {
            uint32_t errno_ret = rule.contains("errnoRet") ? rule["errnoRet"].get<uint32_t>() : EPERM;
            uint32_t action = seccomp_action(rule["action"].get<std::string>(), errno_ret);
            if (action == def) continue;
            std::vector<scmp_arg_cmp> conds;
            std::set<unsigned> indexes;
            bool repeated = false;
            if (rule.contains("args"))
                for (const auto& a : rule["args"]) {
                    scmp_arg_cmp c{};
                    c.arg = a["index"].get<unsigned>();
                    c.op = seccomp_op(a["op"].get<std::string>());
                    c.datum_a = a["value"].get<uint64_t>();
                    c.datum_b = a.contains("valueTwo") ? a["valueTwo"].get<uint64_t>() : 0;
                    if (!indexes.insert(c.arg).second) repeated = true;
                    conds.push_back(c);
                }
            for (const auto& n : rule["names"]) {
                std::string name = n.get<std::string>();
                int nr = seccomp_syscall_resolve_name(name.c_str());
                if (nr == __NR_SCMP_ERROR) continue;
                int rc = 0;
                if (conds.empty()) {
                    rc = seccomp_rule_add(ctx.get(), action, nr, 0);
                } else if (repeated) {
                    for (const auto& c : conds)
                        if ((rc = seccomp_rule_add_array(ctx.get(), action, nr, 1, &c)) < 0) break;
                } else {
                    rc = seccomp_rule_add_array(ctx.get(), action, nr, static_cast<unsigned>(conds.size()), conds.data());
                }
                if (rc < 0) return errno_error("seccomp: add a rule for " + name, -rc);
            }
        }
    if (int rc = seccomp_load(ctx.get()); rc < 0) {
        if (rc == -EACCES)
            return make_error("seccomp: load the filter: needs process.noNewPrivileges or CAP_SYS_ADMIN");
        return errno_error("seccomp: load the filter", -rc);
    }
    return {};
}

namespace {

// Does not return: execs process.args, or reports ERROR and exits 1. The order is runc's
// (libcontainer/standard_init_linux.go), and each step says why it sits where it does.
[[noreturn]] void spec_init(const InitContext& ctx) {
    const OciSpec& spec = *ctx.spec;
    const Process& proc = spec.process;
    ::signal(SIGPIPE, SIG_DFL);
    {
        char c;
        ssize_t n;
        do n = ::read(ctx.go_fd, &c, 1);
        while (n < 0 && errno == EINTR);
        if (n != 1) ::_exit(1);  // create went away: nobody to report to
    }
    // A new user namespace: the maps are written, become its root.
    if (spec.has_namespace("user")) {
        if (::setresgid(0, 0, 0) != 0) die_errno(ctx, "setgid 0 in the user namespace");
        if (::setresuid(0, 0, 0) != 0) die_errno(ctx, "setuid 0 in the user namespace");
    }
    // The cgroup namespace is made after the caller moved us into the container's cgroup, so that
    // the container sees its own group as "/".
    if (const Namespace* cg = spec.find_namespace("cgroup"); cg && cg->path.empty())
        if (::unshare(CLONE_NEWCGROUP) != 0) die_errno(ctx, "unshare the cgroup namespace");
    if (proc.oom_score_adj)
        if (auto s = write_file("/proc/self/oom_score_adj", std::to_string(*proc.oom_score_adj)); !s)
            die(ctx, s.error().message);
    if (const Namespace* net = spec.find_namespace("network"); net && net->path.empty()) bring_up_loopback(ctx);

    // ---- The root file system: private propagation, then every mount in order, the devices,
    // then pivot_root. Nothing mounted here propagates back to the host.
    unsigned long propagation = MS_SLAVE | MS_REC;  // runc's default when rootfsPropagation is unset
    if (!spec.rootfs_propagation.empty()) {
        MountFlags pf = parse_mount_options({spec.rootfs_propagation});
        if (!pf.propagation.empty()) propagation = pf.propagation.front();
    }
    if (::mount(nullptr, "/", nullptr, propagation, nullptr) != 0) die_errno(ctx, "set the propagation of /");
    std::string rootfs = spec.root_path;
    if (::mount(rootfs.c_str(), rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
        die_errno(ctx, "bind the rootfs `" + rootfs + "` onto itself");
    for (const auto& m : spec.mounts) mount_one(ctx, rootfs, m);
    setup_devices(ctx, rootfs, spec);
    {
        // runc creates a missing cwd (as root, before the user switch).
        std::string cwd = resolve_in_root(rootfs, proc.cwd);
        if (!cwd.empty() && !path_exists(cwd)) (void)make_dirs(cwd, 0755);
    }
    // The fifo is reachable only from the host's tree: keep an O_PATH handle across pivot_root
    // and open it for writing through /proc/self/fd later (runc does the same).
    int fifo = ::open(ctx.fifo_path.c_str(), O_PATH | O_CLOEXEC);
    if (fifo < 0) die_errno(ctx, "open `" + ctx.fifo_path + "`");

    // pivot_root(".", ".") then detach the old root: the host's file system is no longer reachable
    // (chroot alone is escapable).
    if (::chdir(rootfs.c_str()) != 0) die_errno(ctx, "chdir `" + rootfs + "`");
    if (::syscall(SYS_pivot_root, ".", ".") != 0) die_errno(ctx, "pivot_root into `" + rootfs + "`");
    if (::umount2(".", MNT_DETACH) != 0) die_errno(ctx, "detach the old root");
    if (::chdir("/") != 0) die_errno(ctx, "chdir /");
    if (!spec.rootfs_propagation.empty() && ::mount(nullptr, "/", nullptr, propagation, nullptr) != 0)
        die_errno(ctx, "set linux.rootfsPropagation on /");

    // The terminal is made from the container's own /dev/ptmx, so it needs /dev/pts mounted.
    if (proc.terminal) {
        auto slave = console_create_and_send(ctx.console_fd);
        if (!slave) die(ctx, slave.error().message);
        ::close(ctx.console_fd);
        if (proc.console_height && proc.console_width) {
            struct winsize ws = {};
            ws.ws_row = static_cast<unsigned short>(proc.console_height);
            ws.ws_col = static_cast<unsigned short>(proc.console_width);
            ::ioctl(*slave, TIOCSWINSZ, &ws);
        }
        if (::setsid() < 0) die_errno(ctx, "setsid");
        if (::ioctl(*slave, TIOCSCTTY, 0) != 0) die_errno(ctx, "set the controlling terminal");
        if (::dup2(*slave, 0) < 0 || ::dup2(*slave, 1) < 0 || ::dup2(*slave, 2) < 0) die_errno(ctx, "stdio on the terminal");
        if (*slave > 2) ::close(*slave);
    }

    if (spec.root_readonly &&
        ::mount(nullptr, "/", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags("/"), nullptr) != 0)
        die_errno(ctx, "remount / read-only (root.readonly)");
    ::umask(proc.umask.value_or(022));

    if (!spec.hostname.empty() && ::sethostname(spec.hostname.data(), spec.hostname.size()) != 0)
        die_errno(ctx, "sethostname");
    if (!spec.domainname.empty() && ::setdomainname(spec.domainname.data(), spec.domainname.size()) != 0)
        die_errno(ctx, "setdomainname");
    for (const auto& [key, value] : spec.sysctl) {
        std::string path = "/proc/sys/" + key;
        for (size_t i = std::strlen("/proc/sys/"); i < path.size(); ++i)
            if (path[i] == '.') path[i] = '/';
        if (auto s = write_file(path, value); !s) die(ctx, "linux.sysctl " + key + ": " + s.error().message);
    }
    // Read-only and masked paths need mount(2), which the spec's seccomp filter may forbid.
    for (const auto& p : spec.readonly_paths)
        if (auto s = security::readonly_path("", p); !s) die(ctx, s.error().message);
    for (const auto& p : spec.masked_paths)
        if (auto s = security::mask_path("", p); !s) die(ctx, s.error().message);

    for (const auto& r : proc.rlimits) {
        struct rlimit rl = {static_cast<rlim_t>(r.soft), static_cast<rlim_t>(r.hard)};
        if (::setrlimit(r.resource, &rl) != 0) die_errno(ctx, "set " + r.type);
    }

    // Without no_new_privs the kernel loads a filter only while CAP_SYS_ADMIN is held: load it
    // now, before the capabilities go.
    if (!spec.seccomp.is_null() && !proc.no_new_privileges)
        if (auto s = load_oci_seccomp(spec.seccomp); !s) die(ctx, s.error().message);

    // ---- Privilege drop: bounding set while CAP_SETPCAP is held; keep the permitted set across
    // the user switch (PR_SET_KEEPCAPS); then set exactly the spec's sets.
    drop_bounding(ctx, proc.capabilities.bounding);
    if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) die_errno(ctx, "PR_SET_KEEPCAPS");
    {
        std::string setgroups = trim(read_file("/proc/self/setgroups").ok() ? *read_file("/proc/self/setgroups") : "");
        auto groups = supplementary_groups(proc.uid, proc.additional_gids);
        if (setgroups != "deny") {
            if (::setgroups(groups.size(), groups.data()) != 0) die_errno(ctx, "setgroups");
        } else if (!proc.additional_gids.empty()) {
            die(ctx, "process.user.additionalGids: setgroups is denied in this user namespace");
        }
    }
    if (::setresgid(proc.gid, proc.gid, proc.gid) != 0) die_errno(ctx, "setgid " + std::to_string(proc.gid));
    if (::setresuid(proc.uid, proc.uid, proc.uid) != 0) die_errno(ctx, "setuid " + std::to_string(proc.uid));
    if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) die_errno(ctx, "PR_SET_KEEPCAPS");
    if (::chdir(proc.cwd.c_str()) != 0)
        die_errno(ctx, "chdir to cwd (\"" + proc.cwd + "\") set in config.json failed");
    set_capability_sets(ctx, proc.capabilities);
    if (proc.no_new_privileges)
        if (auto s = security::set_no_new_privs(); !s) die(ctx, s.error().message);

    int code = 0;
    std::string message;
    std::string path = resolve_command("", proc.args[0], proc.env, &code, &message);
    if (path.empty()) die(ctx, message);

    report(ctx.report_fd, "READY");
    ::close(ctx.report_fd);
    // Blocks until `start` opens the fifo for reading.
    std::string through = "/proc/self/fd/" + std::to_string(fifo);
    int w = ::open(through.c_str(), O_WRONLY | O_CLOEXEC);
    if (w < 0) {
        std::fprintf(stderr, "isolab runtime: open exec.fifo through `%s`: %s (is /proc mounted?)\n",
                     through.c_str(), std::strerror(errno));
        ::_exit(1);
    }
    ssize_t n = ::write(w, "0", 1);
    (void)n;
    ::close(w);
    ::close(fifo);

    if (!spec.seccomp.is_null() && proc.no_new_privileges)
        if (auto s = load_oci_seccomp(spec.seccomp); !s) {
            std::fprintf(stderr, "isolab runtime: %s\n", s.error().message.c_str());
            ::_exit(1);
        }
    // No descriptor of ours but stdio survives execve (CVE-2024-21626 was a leaked fd).
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    std::vector<char*> argv, envp;
    for (const auto& a : proc.args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : proc.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    ::execve(path.c_str(), argv.data(), envp.data());
    std::fprintf(stderr, "isolab runtime: exec \"%s\": %s\n", proc.args[0].c_str(), std::strerror(errno));
    ::_exit(errno == ENOENT ? 127 : 126);
}

// ---- Host side ----------------------------------------------------------------------------

// /proc/PID/stat: state letter and start time; false when the process is gone.
bool proc_stat(pid_t pid, char* state, uint64_t* start) {
    auto text = read_file("/proc/" + std::to_string(pid) + "/stat");
    if (!text) return false;
    size_t close = text->rfind(')');
    if (close == std::string::npos || close + 2 >= text->size()) return false;
    *state = (*text)[close + 2];
    std::istringstream rest(text->substr(close + 2));
    std::string field;
    for (int i = 3; i <= 22 && rest >> field; ++i)
        if (i == 22) *start = std::strtoull(field.c_str(), nullptr, 10);
    return true;
}

// Alive: running or sleeping, not a zombie, and the very process we recorded.
bool init_alive(pid_t pid, uint64_t start_time) {
    if (pid <= 0) return false;
    char state = 0;
    uint64_t start = 0;
    if (!proc_stat(pid, &state, &start)) return false;
    if (state == 'Z' || state == 'X') return false;
    return start_time == 0 || start == start_time;
}

bool wait_gone(pid_t pid, uint64_t start_time, int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (init_alive(pid, start_time)) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        // Reap it if it is ours (run, or a subreaper).
        ::waitpid(pid, nullptr, WNOHANG);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

Status write_id_map(pid_t pid, const char* file, const std::vector<IdMapping>& maps) {
    std::string text;
    for (const auto& m : maps)
        text += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " + std::to_string(m.size) + "\n";
    std::string path = "/proc/" + std::to_string(pid) + "/" + file;
    if (auto s = write_file(path, text); !s)
        return s.error().wrap(std::string("write linux.") + (file[0] == 'u' ? "uidMappings" : "gidMappings"));
    return {};
}

Result<int> connect_console_socket(const std::string& path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return errno_error("console socket", errno);
    struct sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) {
        ::close(fd);
        return make_error("--console-socket `" + path + "`: path too long", 1);
    }
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        int err = errno;
        ::close(fd);
        return errno_error("connect to --console-socket `" + path + "`", err, 1);
    }
    return fd;
}

Error container_error(const std::string& id, const std::string& msg) {
    return make_error("container \"" + id + "\": " + msg, 1);
}

}  // namespace

OciRuntime::OciRuntime(std::string state_root) : root_(std::move(state_root)) {}

Result<RuntimeState> OciRuntime::load(const std::string& id) const {
    if (!valid_container_id(id)) return make_error("invalid container id \"" + id + "\"", 1);
    auto text = read_file(dir_of(id) + "/state.json");
    if (!text) {
        if (!path_exists(dir_of(id))) return make_error("container \"" + id + "\" does not exist", 1);
        RuntimeState s;
        s.id = id;
        s.status = ContainerStatus::Creating;
        return s;
    }
    try {
        json j = json::parse(*text);
        RuntimeState s;
        s.id = id;
        s.oci_version = j.value("ociVersion", "");
        s.pid = j.value("pid", 0);
        s.pid_start_time = j.value("pid_start_time", uint64_t{0});
        s.bundle = j.value("bundle", "");
        s.rootfs = j.value("rootfs", "");
        s.created = j.value("created", "");
        s.annotations = j.value("annotations", std::map<std::string, std::string>{});
        s.cgroup_paths = j.value("cgroup_paths", std::vector<std::string>{});
        if (j.value("creating", false)) {
            s.status = ContainerStatus::Creating;
        } else if (!init_alive(s.pid, s.pid_start_time)) {
            s.status = ContainerStatus::Stopped;
        } else {
            s.status = path_exists(dir_of(id) + "/exec.fifo") ? ContainerStatus::Created : ContainerStatus::Running;
        }
        return s;
    } catch (const json::exception& e) {
        return make_error("container \"" + id + "\": unreadable `" + dir_of(id) + "/state.json`: " + e.what(), 1);
    }
}

Result<RuntimeState> OciRuntime::state(const std::string& id) const {
    auto s = load(id);
    if (s && s->status == ContainerStatus::Stopped) s->pid = 0;
    return s;
}

Result<RuntimeState> OciRuntime::create(const CreateOptions& o) {
    const std::string& id = o.id;
    if (!valid_container_id(id))
        return make_error("invalid container id \"" + id + "\": use letters, digits, '_', '+', '-' and '.'", 1);
    char real[PATH_MAX];
    if (!::realpath(o.bundle.c_str(), real)) return errno_error("bundle `" + o.bundle + "`", errno, 1);
    std::string bundle = real;
    auto text = read_file(bundle + "/config.json");
    if (!text) return make_error("bundle `" + bundle + "`: " + text.error().message, 1);
    auto parsed = parse_oci_spec(*text, bundle);
    if (!parsed) return parsed.error();
    const OciSpec& spec = *parsed;
    if (!spec.has_process) return make_error("config.json: process is required to create a container", 1);
    if (!spec.has_namespace("mount"))
        return make_error("config.json: linux.namespaces must include a mount namespace (IsoLab's runtime needs one for pivot_root)", 1);
    struct stat st;
    if (::stat(spec.root_path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        return make_error("config.json: root.path `" + spec.root_path + "` is not a directory", 1);
    if (spec.process.terminal && o.console_socket.empty())
        return make_error("process.terminal is true in config.json: --console-socket is required (or set terminal to false)", 1);
    if (!spec.process.terminal && !o.console_socket.empty())
        return make_error("--console-socket given but process.terminal is false in config.json", 1);

    ISOLAB_TRY(make_dirs(root_, 0711));
    std::string dir = dir_of(id);
    if (::mkdir(dir.c_str(), 0711) != 0) {
        if (errno == EEXIST) return make_error("container with id exists: " + id, 1);
        return errno_error("create `" + dir + "`", errno, 1);
    }

    // From here on every failure undoes what was done: process, cgroup, state directory.
    pid_t init_pid = 0;
    std::optional<Cgroup> cgroup;
    auto fail = [&](Error e) -> Error {
        if (init_pid > 0) {
            ::kill(init_pid, SIGKILL);
            wait_gone(init_pid, 0, 2000);
        }
        if (cgroup) (void)cgroup->destroy();
        (void)remove_tree(dir);
        return e;
    };

    std::string created = now_rfc3339();
    json state = {{"ociVersion", spec.oci_version}, {"id", id},           {"pid", 0},
                  {"bundle", bundle},               {"rootfs", spec.root_path}, {"created", created},
                  {"annotations", spec.annotations}, {"creating", true}};
    if (auto s = write_file_atomic(dir + "/state.json", state.dump()); !s) return fail(s.error());
    {
        mode_t old = ::umask(0);
        int rc = ::mkfifo((dir + "/exec.fifo").c_str(), 0622);
        int err = errno;
        ::umask(old);
        if (rc != 0) return fail(errno_error("create `" + dir + "/exec.fifo`", err, 1));
    }

    CgroupLimits limits;
    if (spec.resources.memory_limit && *spec.resources.memory_limit > 0) limits.memory_bytes = *spec.resources.memory_limit;
    if (spec.resources.pids_limit && *spec.resources.pids_limit > 0) limits.pids_limit = *spec.resources.pids_limit;
    if (spec.resources.cpu_quota && *spec.resources.cpu_quota > 0) {
        uint64_t period = spec.resources.cpu_period.value_or(100000);
        if (period > 0) limits.nano_cpus = *spec.resources.cpu_quota * 1000000000LL / static_cast<int64_t>(period);
    }
    // As runc: the bundle's device rules in order on top of "deny everything", then runc's built-in
    // list appended, which a bundle cannot turn off (runc's AllowedDevices).
    limits.devices = spec.resources.devices;
    for (const auto& r : runc_default_device_rules()) limits.devices->push_back(r);
    std::string cg_name = spec.cgroups_path.empty() ? "isolab-runtime/" + id : spec.cgroups_path;
    while (!cg_name.empty() && cg_name[0] == '/') cg_name.erase(0, 1);
    {
        auto cg = Cgroup::create(cg_name, limits);
        if (!cg) return fail(cg.error().wrap("container \"" + id + "\": cgroup `" + cg_name + "`"));
        cgroup.emplace(std::move(*cg));
    }

    UniqueFd console;
    if (spec.process.terminal) {
        auto c = connect_console_socket(o.console_socket);
        if (!c) return fail(c.error());
        console.reset(*c);
    }

    int go[2], rep[2], pidp[2];
    if (::pipe2(go, O_CLOEXEC) != 0) return fail(errno_error("pipe", errno));
    UniqueFd go_r(go[0]), go_w(go[1]);
    if (::pipe2(rep, O_CLOEXEC) != 0) return fail(errno_error("pipe", errno));
    UniqueFd rep_r(rep[0]), rep_w(rep[1]);
    if (::pipe2(pidp, O_CLOEXEC) != 0) return fail(errno_error("pipe", errno));
    UniqueFd pid_r(pidp[0]), pid_w(pidp[1]);

    if (o.subreaper) ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    InitContext ctx;
    ctx.spec = &spec;
    ctx.go_fd = go_r.get();
    ctx.report_fd = rep_w.get();
    ctx.console_fd = console.get();
    ctx.fifo_path = dir + "/exec.fifo";

    int clone_flags = 0;
    for (const auto& ns : spec.namespaces)
        if (ns.path.empty()) clone_flags |= kNamespaceFlags.at(ns.type);
    clone_flags &= ~CLONE_NEWCGROUP;  // unshared by the init once it is in its cgroup

    pid_t bootstrap = ::fork();
    if (bootstrap < 0) return fail(errno_error("fork", errno));
    if (bootstrap == 0) {
        // The bootstrap: join the namespaces given by path (user first: it decides what the others
        // may do), then clone the init into the new ones. Its only output is the init's pid.
        go_w.reset();
        rep_r.reset();
        pid_r.reset();
        std::vector<std::pair<int, int>> joins;  // fd, flag
        for (int pass = 0; pass < 2; ++pass)
            for (const auto& ns : spec.namespaces) {
                if (ns.path.empty() || (pass == 0) != (ns.type == "user")) continue;
                int fd = ::open(ns.path.c_str(), O_RDONLY | O_CLOEXEC);
                if (fd < 0) die_errno(ctx, "open namespace `" + ns.path + "` (linux.namespaces type " + ns.type + ")");
                joins.push_back({fd, kNamespaceFlags.at(ns.type)});
            }
        for (auto [fd, flag] : joins)
            if (::setns(fd, flag) != 0) die_errno(ctx, "setns into a namespace of linux.namespaces");
        pid_t child = static_cast<pid_t>(::syscall(SYS_clone, clone_flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
        if (child < 0) die_errno(ctx, "clone the container's init");
        if (child == 0) {
            pid_w.reset();
            spec_init(ctx);
        }
        ssize_t n = ::write(pid_w.get(), &child, sizeof child);
        ::_exit(n == sizeof child ? 0 : 1);
    }
    pid_w.reset();
    rep_w.reset();
    go_r.reset();
    {
        ssize_t n;
        do n = ::read(pid_r.get(), &init_pid, sizeof init_pid);
        while (n < 0 && errno == EINTR);
        int status = 0;
        while (::waitpid(bootstrap, &status, 0) < 0 && errno == EINTR) {
        }
        if (n != sizeof init_pid) {
            init_pid = 0;
            char buf[4096];
            ssize_t r = ::read(rep_r.get(), buf, sizeof buf - 1);
            std::string msg = r > 0 ? std::string(buf, static_cast<size_t>(r)) : "the bootstrap process failed";
            if (msg.rfind("ERROR ", 0) == 0) msg = trim(msg.substr(6));
            return fail(container_error(id, msg));
        }
    }
    uint64_t start_time = process_start_time(init_pid);

    if (const Namespace* user = spec.find_namespace("user"); user && user->path.empty()) {
        // Unprivileged, the kernel allows a gid map only once setgroups is denied.
        if (::geteuid() != 0) (void)write_file("/proc/" + std::to_string(init_pid) + "/setgroups", "deny");
        if (auto s = write_id_map(init_pid, "uid_map", spec.uid_mappings); !s) return fail(container_error(id, s.error().message));
        if (auto s = write_id_map(init_pid, "gid_map", spec.gid_mappings); !s) return fail(container_error(id, s.error().message));
    }
    if (auto s = cgroup->add_process(init_pid); !s) return fail(container_error(id, s.error().message));
    if (::write(go_w.get(), "g", 1) != 1) return fail(container_error(id, "the init exited before setup"));

    // WARN lines, then READY or ERROR. Warnings go to create's caller, not into the container's
    // output (with a terminal, the init's stderr is the container's pty).
    std::string buffered, line;
    std::vector<std::string> warnings;
    for (;;) {
        size_t nl = buffered.find('\n');
        if (nl != std::string::npos) {
            line = buffered.substr(0, nl);
            buffered.erase(0, nl + 1);
            if (line.rfind("WARN ", 0) == 0) {
                warnings.push_back(line.substr(5));
                line.clear();
                continue;
            }
            break;
        }
        char buf[4096];
        ssize_t n = ::read(rep_r.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        buffered.append(buf, static_cast<size_t>(n));
    }
    line = trim(line);
    if (line != "READY") {
        std::string msg = line.rfind("ERROR ", 0) == 0 ? line.substr(6) : "the container's init exited during setup";
        return fail(container_error(id, msg));
    }

    state["pid"] = init_pid;
    state["pid_start_time"] = start_time;
    state["cgroup_paths"] = cgroup->paths();
    state.erase("creating");
    if (auto s = write_file_atomic(dir + "/state.json", state.dump()); !s) return fail(s.error());
    if (!o.pid_file.empty())  // readable by others, as runc writes it (containerd reads it)
        if (auto s = write_file_atomic(o.pid_file, std::to_string(init_pid), 0644); !s) return fail(s.error().wrap("--pid-file"));
    auto loaded = load(id);
    if (loaded) loaded->warnings = std::move(warnings);
    return loaded;
}

Status OciRuntime::start(const std::string& id) {
    auto s = load(id);
    if (!s) return s.error();
    switch (s->status) {
        case ContainerStatus::Created: break;
        case ContainerStatus::Creating: return make_error("cannot start a container that is still being created", 1);
        case ContainerStatus::Running: return make_error("cannot start an already running container", 1);
        case ContainerStatus::Stopped: return make_error("cannot start a container that has stopped", 1);
    }
    std::string fifo_path = dir_of(id) + "/exec.fifo";
    // Non-blocking open: it succeeds without a writer, so a dead init cannot hang us; the init's
    // own (blocking) open for writing then completes and it writes one byte.
    UniqueFd fifo(::open(fifo_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fifo.valid()) return errno_error("container \"" + id + "\": open `" + fifo_path + "`", errno, 1);
    for (;;) {
        struct pollfd p = {fifo.get(), POLLIN, 0};
        int n = ::poll(&p, 1, 100);
        if (n > 0 && (p.revents & POLLIN)) {
            char c;
            if (::read(fifo.get(), &c, 1) == 1) break;
        }
        if (!init_alive(s->pid, s->pid_start_time)) return make_error("cannot start a container that has stopped", 1);
    }
    ::unlink(fifo_path.c_str());
    return {};
}

Status OciRuntime::kill(const std::string& id, int sig, bool all) {
    auto s = load(id);
    if (!s) return s.error();
    if (s->status == ContainerStatus::Stopped || s->status == ContainerStatus::Creating)
        return make_error("container \"" + id + "\" is not running", 1);
    if (all) {
        auto cg = Cgroup::open_paths(s->cgroup_paths);
        if (!cg) return cg.error();
        if (auto k = cg->kill_all(sig); !k) return k.error().wrap("container \"" + id + "\"");
        return {};
    }
    if (::kill(s->pid, sig) != 0) return errno_error("container \"" + id + "\": kill " + std::to_string(s->pid), errno, 1);
    return {};
}

Status OciRuntime::remove(const std::string& id, bool force) {
    auto s = load(id);
    if (!s) return s.error();
    if (s->status == ContainerStatus::Running && !force)
        return make_error("cannot delete container " + id + " that is not stopped: running", 1);
    if (s->status == ContainerStatus::Creating && !force)
        return make_error("cannot delete container " + id + " that is not stopped: creating", 1);
    if (s->status != ContainerStatus::Stopped && s->pid > 0) {
        ::kill(s->pid, SIGKILL);  // PID 1 of a pid namespace: the kernel kills the rest with it
        if (!wait_gone(s->pid, s->pid_start_time, 10000))
            return make_error("container \"" + id + "\": process " + std::to_string(s->pid) + " did not die after SIGKILL", 1);
    }
    auto cg = Cgroup::open_paths(s->cgroup_paths);
    if (cg) {
        if (auto d = cg->destroy(); !d) return d.error().wrap("container \"" + id + "\": remove its cgroup");
        // The shared parent "isolab-runtime" goes with its last container (rmdir fails while
        // another container's group is in it, which is what we want).
        for (const auto& p : s->cgroup_paths)
            if (size_t slash = p.rfind('/'); slash != std::string::npos && p.compare(slash - 15, 15, "/isolab-runtime") == 0)
                ::rmdir(p.substr(0, slash).c_str());
    }
    if (auto r = remove_tree(dir_of(id)); !r) return r.error();
    return {};
}

std::vector<RuntimeState> OciRuntime::list() const {
    std::vector<RuntimeState> out;
    DIR* d = ::opendir(root_.c_str());
    if (!d) return out;
    std::vector<std::string> ids;
    while (const dirent* e = ::readdir(d))
        if (e->d_name[0] != '.' && valid_container_id(e->d_name)) ids.push_back(e->d_name);
    ::closedir(d);
    std::sort(ids.begin(), ids.end());
    for (const auto& id : ids)
        if (auto s = state(id)) out.push_back(*s);
    return out;
}

Result<int> OciRuntime::wait(const std::string& id) {
    auto s = load(id);
    if (!s) return s.error();
    if (s->pid <= 0) return make_error("container \"" + id + "\" has no process", 1);
    int status = 0;
    for (;;) {
        pid_t r = ::waitpid(s->pid, &status, 0);
        if (r == s->pid) break;
        if (r < 0 && errno == EINTR) continue;
        return errno_error("container \"" + id + "\": wait for " + std::to_string(s->pid), errno, 1);
    }
    return exit_code_of(status);
}

}  // namespace isolab::oci
