#include "sim/runtime/init.hpp"

#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <pwd.h>
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
#include <unistd.h>

#include <seccomp.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "sim/core/mountinfo.hpp"
#include "sim/core/strings.hpp"
#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/core/safe_path.hpp"
#include "sim/runtime/console.hpp"
#include "sim/runtime/oci_hooks.hpp"
#include "sim/runtime/security.hpp"

namespace isolab {

using nlohmann::json;
using oci::Capabilities;
using oci::Device;
using oci::Mount;
using oci::MountFlags;
using oci::OciSpec;
using oci::parse_mount_options;

namespace {

// The report channel: one line per step, then READY or ERROR. One write(2) per line, so the
// host never sees a torn line.
void report(int fd, const std::string& line) {
    if (fd < 0) return;
    std::string l = line;
    for (char& c : l)
        if (c == '\n') c = ' ';
    l += "\n";
    ssize_t n = ::write(fd, l.data(), l.size());
    (void)n;
}

[[noreturn]] void die(const InitContext& ctx, int code, const std::string& message) {
    report(ctx.report_fd, "ERROR " + std::to_string(code) + " " + message);
    ::_exit(code);
}

[[noreturn]] void die(const InitContext& ctx, const std::string& message) { die(ctx, 125, message); }

[[noreturn]] void die_errno(const InitContext& ctx, const std::string& what) {
    int err = errno;
    die(ctx, 125, what + ": " + std::strerror(err));
}

void wait_byte(const InitContext& ctx) {
    char c;
    ssize_t n;
    do n = ::read(ctx.go_fd, &c, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1) ::_exit(125);  // the host went away: nothing to report to
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

// The mount data that mounts the v1 hierarchy M again: its controllers, "none,name=X" for a
// named one.
std::string v1_mount_data(const CgroupMount& m) {
    std::string out = m.named() ? "none" : "";
    for (const auto& c : m.controllers) out += (out.empty() ? "" : ",") + c;
    return out;
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
// the user (by the name /etc/passwd gives the uid), then process.user.additionalGids. For a user
// the engine was given by name or number (`run -u`, the image's USER), the primary group comes
// first, as podman sets it (`run -u nobody busybox id` shows groups=65534(nogroup)).
std::vector<gid_t> supplementary_groups(uint32_t uid, const gid_t* primary, const std::vector<uint32_t>& additional) {
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
    if (primary && std::find(out.begin(), out.end(), *primary) == out.end()) out.insert(out.begin(), *primary);
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


// ---- Mounts: every target is resolved inside the rootfs and mounted through its descriptor ----
//
// An image's /dev, /proc, /sys or /etc may be a symlink to anywhere (an absolute `/etc ->
// /host/dir` once made IsoLab write the host; CVE-2021-30465 was a mount target raced into a
// symlink). Every target is opened with safe::Root (openat2 RESOLVE_IN_ROOT) and the mount is
// made on /proc/self/fd/N, as runc does, never on a path joined as text. A remount or a
// propagation change opens the target again: the old descriptor names what lies under the mount.

UniqueFd target_dir(const InitContext& ctx, const safe::Root& rfs, const std::string& path) {
    auto fd = rfs.make_dirs(path, 0755);
    if (!fd) die(ctx, "mount point `" + path + "`: " + fd.error().message);
    return std::move(*fd);
}

UniqueFd target_file(const InitContext& ctx, const safe::Root& rfs, const std::string& path) {
    auto fd = rfs.open(path, O_PATH);
    if (fd) return std::move(*fd);
    // Missing, or a symlink to a file that is not there (an image's /etc/hosts -> /host/file):
    // made where the link leads inside the root, as runc does, so the container's own link
    // reaches the mounted file and nothing is ever made outside.
    std::string where = path;
    for (int hops = 0; hops < 40; ++hops) {  // the kernel's own limit on a chain of links
        auto link = rfs.open_parent(where, false);
        if (!link) break;
        char buf[4096];
        ssize_t n = ::readlinkat(link->dir.get(), link->name.c_str(), buf, sizeof buf - 1);
        if (n <= 0) break;  // not a link: make it here
        std::string target(buf, static_cast<size_t>(n));
        // Joined as text only to be resolved inside the root again (an absolute target starts at
        // the container's top).
        where = target[0] == '/' ? target : where.substr(0, where.find_last_of('/') + 1) + target;
    }
    auto parent = rfs.open_parent(where, true);
    if (!parent) die(ctx, "mount point `" + path + "`: " + parent.error().message);
    int made = ::openat(parent->dir.get(), parent->name.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (made < 0) die_errno(ctx, "create mount point `" + path + "`");
    ::close(made);
    fd = rfs.open(path, O_PATH);
    if (!fd) die(ctx, "mount point `" + path + "`: " + fd.error().message);
    return std::move(*fd);
}

UniqueFd reopen(const InitContext& ctx, const safe::Root& rfs, const std::string& path) {
    auto fd = rfs.open(path, O_PATH);
    if (!fd) die(ctx, "mount point `" + path + "`: " + fd.error().message);
    return std::move(*fd);
}

std::string at(const UniqueFd& fd) { return safe::fd_path(fd.get()); }

void bind_readonly(const InitContext& ctx, const std::string& source, const std::string& target, unsigned long flags) {
    if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
        die_errno(ctx, "bind `" + source + "`");
    unsigned long extra = flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
    if (extra && ::mount(nullptr, target.c_str(), nullptr, MS_BIND | MS_REMOUNT | extra | locked_flags(target), nullptr) != 0)
        die_errno(ctx, "remount `" + source + "` read-only");
}

// A "cgroup" mount as runc gives it: on a cgroup v2 host the unified hierarchy; on a v1 host a
// tmpfs with one directory per hierarchy, each a cgroup mount (a recursive bind of the host's
// where the kernel refuses, e.g. in a user namespace), read-only when asked. Below the fresh
// tmpfs nothing but this function writes: names under its descriptor are safe to join.
void mount_cgroup(const InitContext& ctx, const safe::Root& rfs, const std::string& dest, const MountFlags& mf) {
    auto hosts = cgroup_mounts(read_mountinfo());
    bool unified = false;
    for (const auto& h : hosts)
        if (h.mountpoint == "/sys/fs/cgroup" && h.v2) unified = true;
    unsigned long flags = mf.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
    UniqueFd t = target_dir(ctx, rfs, dest);
    if (unified) {
        if (::mount("cgroup2", at(t).c_str(), "cgroup2", flags, nullptr) != 0) bind_readonly(ctx, "/sys/fs/cgroup", at(t), flags);
        return;
    }
    if (::mount("tmpfs", at(t).c_str(), "tmpfs", flags & ~MS_RDONLY, "mode=755") != 0)
        die_errno(ctx, "mount tmpfs on `" + dest + "` for the cgroup hierarchies");
    UniqueFd top = reopen(ctx, rfs, dest);
    const std::string base = at(top);
    for (const auto& h : hosts) {
        // v1 hierarchies only: a hybrid host's controller-less cgroup2 at /sys/fs/cgroup/unified
        // is not shown, as runc does not show it.
        if (h.mountpoint.rfind("/sys/fs/cgroup/", 0) != 0 || h.v2) continue;
        std::string name = h.mountpoint.substr(std::strlen("/sys/fs/cgroup/"));
        if (name.empty() || name.find('/') != std::string::npos) continue;
        std::string sub = base + "/" + name;
        ::mkdir(sub.c_str(), 0755);
        if (::mount("cgroup", sub.c_str(), "cgroup", flags, v1_mount_data(h).c_str()) != 0) bind_readonly(ctx, h.mountpoint, sub, flags);
        // "cpu,cpuacct" is also reachable as "cpu" and "cpuacct", as on the host.
        if (name.find(',') != std::string::npos) {
            std::stringstream parts(name);
            for (std::string p; std::getline(parts, p, ',');) ::symlink(name.c_str(), (base + "/" + p).c_str());
        }
    }
    if (flags & MS_RDONLY)
        if (::mount(nullptr, base.c_str(), nullptr, MS_REMOUNT | flags, "mode=755") != 0)
            die_errno(ctx, "remount `" + dest + "` read-only");
}

void mount_one(const InitContext& ctx, const safe::Root& rfs, const Mount& m) {
    MountFlags mf = parse_mount_options(m.options);
    const bool bind = mf.bind || m.type == "bind";
    if (bind) {
        struct stat st;
        if (::stat(m.source.c_str(), &st) != 0) die_errno(ctx, "bind mount source `" + m.source + "`");
        UniqueFd t = S_ISDIR(st.st_mode) ? target_dir(ctx, rfs, m.destination) : target_file(ctx, rfs, m.destination);
        if (::mount(m.source.c_str(), at(t).c_str(), nullptr, MS_BIND | (mf.recursive ? MS_REC : 0), nullptr) != 0)
            die_errno(ctx, "bind `" + m.source + "` on `" + m.destination + "`");
        unsigned long extra = mf.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
        if (extra) {
            UniqueFd now = reopen(ctx, rfs, m.destination);
            if (::mount(nullptr, at(now).c_str(), nullptr, MS_BIND | MS_REMOUNT | extra | locked_flags(at(now)), nullptr) != 0)
                die_errno(ctx, "remount the bind mount `" + m.destination + "`");
        }
    } else if (m.type == "cgroup") {
        mount_cgroup(ctx, rfs, m.destination, mf);
    } else {
        UniqueFd t = target_dir(ctx, rfs, m.destination);
        unsigned long flags = mf.flags & ~MS_REMOUNT;
        const char* data = mf.data.empty() ? nullptr : mf.data.c_str();
        if (::mount(m.source.c_str(), at(t).c_str(), m.type.c_str(), flags, data) != 0) {
            int err = errno;
            // sysfs needs a network namespace this user namespace owns; runc then binds the
            // host's read-only, and so do we.
            if (m.type == "sysfs" && (err == EPERM || err == EBUSY)) {
                bind_readonly(ctx, "/sys", at(t), flags | MS_RDONLY);
            } else {
                errno = err;
                die_errno(ctx, "mount " + m.type + " on `" + m.destination + "`");
            }
        }
    }
    if (!mf.propagation.empty()) {
        UniqueFd now = reopen(ctx, rfs, m.destination);
        for (unsigned long p : mf.propagation)
            if (::mount(nullptr, at(now).c_str(), nullptr, p, nullptr) != 0)
                die_errno(ctx, "set propagation of `" + m.destination + "`");
    }
}

struct DefaultDevice {
    const char* name;
    unsigned major, minor;
};
constexpr DefaultDevice kDefaultDevices[] = {{"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
                                             {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};

// A device node in the rootfs: mknod as real root; in a user namespace (which cannot mknod) a
// bind mount of the host's node, as runc does. The node is made by name in its parent's
// descriptor, so a planted symlink is replaced, never followed.
void create_device(const InitContext& ctx, const safe::Root& rfs, const Device& d, bool bind) {
    auto parent = rfs.open_parent(d.path, true);
    if (!parent) die(ctx, "device `" + d.path + "`: " + parent.error().message);
    const int dir = parent->dir.get();
    const char* name = parent->name.c_str();
    ::unlinkat(dir, name, 0);
    if (bind) {
        int fd = ::openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) die_errno(ctx, "create `" + d.path + "`");
        ::close(fd);
        UniqueFd t = reopen(ctx, rfs, d.path);
        if (::mount(d.path.c_str(), at(t).c_str(), nullptr, MS_BIND, nullptr) != 0)
            die_errno(ctx, "bind the host's `" + d.path + "` into the container");
        return;
    }
    mode_t type = d.type == 'b' ? S_IFBLK : d.type == 'p' ? S_IFIFO : S_IFCHR;
    mode_t mode = d.file_mode ? *d.file_mode & 07777 : 0666;
    if (::mknodat(dir, name, type | mode, makedev(d.major, d.minor)) != 0) die_errno(ctx, "mknod `" + d.path + "`");
    if (::fchownat(dir, name, d.uid.value_or(0), d.gid.value_or(0), AT_SYMLINK_NOFOLLOW) != 0)
        die_errno(ctx, "chown `" + d.path + "`");
}

void setup_devices(const InitContext& ctx, const safe::Root& rfs, const OciSpec& spec) {
    bool host_dev = false;
    for (const auto& m : spec.mounts)
        if (m.destination == "/dev" && (m.type == "bind" || parse_mount_options(m.options).bind)) host_dev = true;
    const bool bind = spec.has_namespace("user") || ::geteuid() != 0;
    mode_t old = ::umask(0);
    if (!host_dev) {
        for (const auto& dd : kDefaultDevices) {
            Device d;
            d.path = std::string("/dev/") + dd.name;
            d.major = dd.major;
            d.minor = dd.minor;
            d.file_mode = 0666;
            create_device(ctx, rfs, d, bind);
        }
        auto dev = rfs.open("/dev", O_PATH | O_DIRECTORY);
        if (!dev) die(ctx, "/dev: " + dev.error().message);
        const int fd = dev->get();
        ::unlinkat(fd, "ptmx", 0);
        if (::symlinkat("pts/ptmx", fd, "ptmx") != 0) die_errno(ctx, "symlink /dev/ptmx");
        const std::pair<const char*, const char*> links[] = {
            {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}};
        for (auto [from, name] : links)
            if (::symlinkat(from, fd, name) != 0 && errno != EEXIST) die_errno(ctx, std::string("symlink /dev/") + name);
        if (::access("/proc/kcore", F_OK) == 0) ::symlinkat("/proc/kcore", fd, "core");
    }
    for (const auto& d : spec.devices) create_device(ctx, rfs, d, bind);
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

// Every descriptor but the ones the setup needs is closed before anything else happens: the
// host's own (the monitor's report socket to the CLI, the attach socket, the log) must never be
// within reach of the container's code, whatever flags they carry.
void close_other_fds(const InitContext& ctx) {
    std::vector<int> keep = {ctx.stdin_fd, ctx.stdout_fd, ctx.stderr_fd, ctx.console_fd, ctx.go_fd, ctx.report_fd};
    std::erase_if(keep, [](int fd) { return fd < 3; });
    std::sort(keep.begin(), keep.end());
    unsigned from = 3;
    for (int fd : keep) {
        if (static_cast<unsigned>(fd) > from) ::close_range(from, static_cast<unsigned>(fd) - 1, 0);
        from = std::max(from, static_cast<unsigned>(fd) + 1);
    }
    ::close_range(from, ~0U, 0);
}

// runc's rootfsParentMountPrivate: the mount that holds ROOT must not be shared, or the bind of
// the root would join its peer group and pivot_root would refuse it (EINVAL) -- what a shared
// linux.rootfsPropagation does to every mount. Done in the container's own mount namespace: the
// host's mount is untouched.
void make_parent_mount_private(const InitContext& ctx, const std::string& root) {
    std::string best;
    bool shared = false;
    for (const auto& e : read_mountinfo()) {
        const std::string& mp = e.mountpoint;
        bool under = mp == "/" || root == mp || root.rfind(mp + "/", 0) == 0;
        if (!under || mp.size() < best.size()) continue;
        best = mp;
        shared = std::any_of(e.optional_fields.begin(), e.optional_fields.end(),
                             [](const std::string& f) { return f.rfind("shared:", 0) == 0; });
    }
    if (!shared) return;
    if (::mount(nullptr, best.c_str(), nullptr, MS_PRIVATE, nullptr) != 0)
        die_errno(ctx, "make `" + best + "`, the mount that holds the root file system, private");
}

// The engine's root file system, assembled inside the container's mount namespace (it vanishes
// with the namespace, whatever happens to the host side).
std::string mount_rootfs(const InitContext& ctx, const RootfsSource& src, const OciSpec& spec) {
    std::string root = spec.root_path;
    // The default propagation (rslave, recursive) leaves no shared mount; a rootfsPropagation
    // may (shared, or a non-recursive mode over a host's shared sub-mounts).
    if (!spec.rootfs_propagation.empty()) make_parent_mount_private(ctx, root);
    switch (src.kind) {
        case RootfsSource::Kind::Overlay: {
            std::string lower;
            for (auto it = src.layers.rbegin(); it != src.layers.rend(); ++it) lower += (lower.empty() ? "" : ":") + *it;
            if (lower.empty()) lower = src.container_dir + "/empty";  // scratch: one empty layer
            std::string opts = "lowerdir=" + lower + ",upperdir=" + src.container_dir + "/upper,workdir=" +
                               src.container_dir + "/work";
            if (src.userxattr) opts += ",userxattr";
            if (::mount("overlay", root.c_str(), "overlay", 0, opts.c_str()) != 0) die_errno(ctx, "mount overlay on `" + root + "`");
            break;
        }
        case RootfsSource::Kind::Copy:
        case RootfsSource::Kind::BundleDir:
            if (::mount(root.c_str(), root.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
                die_errno(ctx, "bind the rootfs `" + root + "` onto itself");
            break;
    }
    return root;
}

std::string env_value(const std::vector<std::string>& env, const std::string& key) {
    for (const auto& e : env)
        if (e.compare(0, key.size() + 1, key + "=") == 0) return e.substr(key.size() + 1);
    return "";
}

// Looks NAME up in the container's own /etc/passwd or /etc/group (never the host's).
bool lookup_id(const char* file, const std::string& name, bool by_number, unsigned* id, unsigned* gid) {
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
        if (n && i && (by_number ? name == i : name == n)) {
            *id = static_cast<unsigned>(std::strtoul(i, nullptr, 10));
            if (gid && g) *gid = static_cast<unsigned>(std::strtoul(g, nullptr, 10));
            found = true;
            break;
        }
    }
    std::fclose(f);
    return found;
}

// The home directory of UID in the container's /etc/passwd, "/" when it has no entry (runc's
// default exec user).
std::string home_of(unsigned uid) {
    std::ifstream in("/etc/passwd");
    for (std::string line; std::getline(in, line);) {
        std::vector<std::string> f;
        std::stringstream ss(line);
        for (std::string p; std::getline(ss, p, ':');) f.push_back(p);
        if (f.size() >= 6 && f[2] == std::to_string(uid) && !f[5].empty()) return f[5];
    }
    return "/";
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

Result<UserIds> lookup_user(const std::string& user) {
    UserIds ids;
    if (user.empty()) return ids;
    std::string u = user, g;
    if (size_t c = u.find(':'); c != std::string::npos) {
        g = u.substr(c + 1);
        u = u.substr(0, c);
    }
    if (all_digits(u)) {
        ids.uid = static_cast<unsigned>(std::strtoul(u.c_str(), nullptr, 10));
        lookup_id("/etc/passwd", u, true, &ids.uid, &ids.gid);  // keeps gid 0 if the uid has no entry
    } else if (!lookup_id("/etc/passwd", u, false, &ids.uid, &ids.gid)) {
        return make_error("unable to find user " + u + ": no matching entries in passwd file", 126);
    }
    if (!g.empty()) {
        if (all_digits(g)) ids.gid = static_cast<unsigned>(std::strtoul(g.c_str(), nullptr, 10));
        else if (!lookup_id("/etc/group", g, false, &ids.gid, nullptr))
            return make_error("unable to find group " + g + ": no matching entries in group file", 126);
    }
    return ids;
}

Status switch_to_user(const std::string& user, bool rootless) {
    if (user.empty() || user == "root" || user == "0" || user == "0:0") return {};
    auto ids = lookup_user(user);
    if (!ids) return ids.error();
    // The same groups as the container's process of that user (supplementary_groups).
    gid_t primary = ids->gid;
    auto groups = supplementary_groups(ids->uid, &primary, {});
    if (::setgroups(groups.size(), groups.data()) != 0 && !rootless) return errno_error("setgroups", errno);
    if (::setresgid(ids->gid, ids->gid, ids->gid) != 0) return errno_error("setgid " + std::to_string(ids->gid), errno);
    if (::setresuid(ids->uid, ids->uid, ids->uid) != 0) return errno_error("setuid " + std::to_string(ids->uid), errno);
    return {};
}

std::string resolve_command(const std::string& root, const std::string& cmd,
                            const std::vector<std::string>& env, int* code, std::string* message) {
    auto check = [&](const std::string& path, bool explicit_path) -> int {
        struct stat st;
        // A relative path is relative to the working directory, as runc's exec.LookPath has it
        // (the init resolves after its chdir to process.cwd).
        std::string full = path[0] == '/' ? root + path : path;
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
        const std::string& path = cmd;
        int r = check(path, true);
        if (r == 0) return cmd;
        *code = r;
        if (r == 127) *message = "exec: \"" + cmd + "\": stat " + cmd + ": no such file or directory";
        else if (r == 126) {
            struct stat st;
            bool dir = ::stat((path[0] == '/' ? root + path : path).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
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
        int r = check(candidate, false);
        if (r == 0) return candidate;
        if (r == -2 || r == 126) denied = true;
        start = end + 1;
    }
    *code = denied ? 126 : 127;
    *message = denied ? "exec: \"" + cmd + "\": permission denied"
                      : "exec: \"" + cmd + "\": executable file not found in $PATH";
    return "";
}

void run_init(const InitContext& ctx) {
    const OciSpec& spec = *ctx.spec;
    const oci::Process& proc = spec.process;
    const InitOptions& opts = *ctx.opts;
    // The engine's monitor owns the container: if it dies, so does PID 1 (the garbage collector
    // removes the rest). `runtime create`'s init outlives its caller by design.
    if (ctx.die_with_parent) ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    close_other_fds(ctx);
    ::signal(SIGPIPE, SIG_DFL);

    // The host writes our uid/gid maps and puts us in the cgroup before the first byte.
    wait_byte(ctx);
    // Until the user's execve this process is IsoLab's binary: nothing in the container (an exec)
    // may reach its memory or /proc/1/exe. Not before the host has written our uid map
    // (rootless): /proc/PID of a non-dumpable process belongs to root. execve makes the user's
    // program dumpable again, as it should be.
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

    double last = monotonic_ms();
    int report_fd = ctx.report_fd;  // -1 once `runtime create` has stopped reading
    auto done = [&](const SetupStep& s) {
        double now = monotonic_ms();
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.3f", now - last);
        report(report_fd, "STEP " + s.name + " " + buf + " " + s.detail);
        last = now;
    };

    std::optional<safe::Root> rfs;
    std::string rootfs;
    int fifo = -1;
    std::string command;  // resolved at Ready
    // `runtime start`'s end of exec.fifo, held from the start gate to execve (CLOEXEC: execve
    // closes it, and `start` reads EOF as "the process runs"). An error after the gate is written
    // here, so that `start` fails with it instead of returning as if the process ran.
    int start_fd = -1;
    auto fail_after_start = [&](int code, const std::string& message) {
        std::string line = "E" + message;
        if (start_fd < 0 || ::write(start_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
            std::fprintf(stderr, "isolab runtime: %s\n", message.c_str());
        ::_exit(code);
    };
    auto hook_state = [&](const char* status) {
        return oci::hook_state_json(spec.oci_version, opts.container_id, status, ::getpid(), spec.bundle,
                                    spec.annotations);
    };
    Capabilities caps = proc.capabilities;
    unsigned uid = proc.uid, gid = proc.gid;
    std::vector<std::string> env = proc.env;  // process.env, plus HOME once the user is known

    for (const SetupStep& step : *ctx.plan) {
        switch (step.kind) {
            case StepKind::Clone: {
                char buf[32];
                std::snprintf(buf, sizeof buf, "%.3f", last - ctx.clone_started_ms);
                report(ctx.report_fd, "STEP " + step.name + " " + buf + " " + step.detail);
                continue;  // timed from the host's clone, not from the previous step
            }
            case StepKind::HostNetwork: continue;  // the host reports its own step
            case StepKind::CgroupJoin:
                for (const auto& tasks : opts.cgroup_self_join)
                    if (auto st = write_file(tasks, "0"); !st) die(ctx, st.error().message);
                break;
            case StepKind::UserNsRoot:
                if (::setresgid(0, 0, 0) != 0) die_errno(ctx, "setgid 0 in the user namespace");
                if (::setresuid(0, 0, 0) != 0) die_errno(ctx, "setuid 0 in the user namespace");
                break;
            case StepKind::CgroupNs:
                if (::unshare(CLONE_NEWCGROUP) != 0) die_errno(ctx, "unshare the cgroup namespace");
                break;
            case StepKind::OomScore: {
                // Written only when it changes: the value is inherited, and in a user namespace a
                // non-dumpable process cannot write its own /proc files (Docker always sends 0).
                const std::string want = std::to_string(*proc.oom_score_adj);
                auto now = read_file("/proc/self/oom_score_adj");
                if (now && trim(*now) == want) break;
                if (auto s = write_file("/proc/self/oom_score_adj", want); !s)
                    die(ctx, "process.oomScoreAdj: " + s.error().message);
                break;
            }
            case StepKind::Loopback: bring_up_loopback(ctx); break;
            case StepKind::Propagation: {
                unsigned long propagation = MS_SLAVE | MS_REC;  // runc's default
                if (!spec.rootfs_propagation.empty()) {
                    MountFlags pf = parse_mount_options({spec.rootfs_propagation});
                    if (!pf.propagation.empty()) propagation = pf.propagation.front();
                }
                if (::mount(nullptr, "/", nullptr, propagation, nullptr) != 0) die_errno(ctx, "set the propagation of /");
                break;
            }
            case StepKind::Rootfs: {
                rootfs = mount_rootfs(ctx, opts.rootfs, spec);
                // From here on the tree under ROOTFS is the image's: every path in it is resolved
                // inside it.
                auto r = safe::Root::open(rootfs);
                if (!r) die(ctx, r.error().message);
                rfs.emplace(std::move(*r));
                break;
            }
            case StepKind::Mount: mount_one(ctx, *rfs, spec.mounts[step.index]); break;
            case StepKind::Devices: setup_devices(ctx, *rfs, spec); break;
            case StepKind::RuntimeHooks:
                // The host runs prestart and createRuntime now, with our pid in their state; it
                // says go when they succeeded, and kills us when one failed.
                report(ctx.report_fd, "HOOKS");
                wait_byte(ctx);
                break;
            case StepKind::CreateContainerHooks:
                // In the container's namespaces, before pivot_root: a hook's path is still
                // resolved in the runtime's file system (runc's behaviour), its pid in the state
                // is ours as the container sees it. Without env it gets process.env, as in runc.
                if (auto s = oci::run_hooks(spec.hooks.create_container, "createContainer", hook_state("creating"),
                                            &proc.env);
                    !s)
                    die(ctx, 1, "error running " + s.error().message);
                break;
            case StepKind::Pivot:
                if (!ctx.fifo_path.empty()) {
                    // The fifo is reachable only from the host's tree: keep an O_PATH handle
                    // across pivot_root and open it for writing through /proc/self/fd later.
                    fifo = ::open(ctx.fifo_path.c_str(), O_PATH | O_CLOEXEC);
                    if (fifo < 0) die_errno(ctx, "open `" + ctx.fifo_path + "`");
                }
                rfs.reset();
                // pivot_root(".", ".") then detach the old root: the host's file system is no
                // longer reachable (bubblewrap and runc use the same sequence; chroot alone is
                // escapable).
                if (::chdir(rootfs.c_str()) != 0) die_errno(ctx, "chdir `" + rootfs + "`");
                if (::syscall(SYS_pivot_root, ".", ".") != 0) die_errno(ctx, "pivot_root into `" + rootfs + "`");
                if (::umount2(".", MNT_DETACH) != 0) die_errno(ctx, "detach the old root");
                if (::chdir("/") != 0) die_errno(ctx, "chdir /");
                break;
            case StepKind::RootPropagation: {
                MountFlags pf = parse_mount_options({spec.rootfs_propagation});
                if (!pf.propagation.empty() && ::mount(nullptr, "/", nullptr, pf.propagation.front(), nullptr) != 0)
                    die_errno(ctx, "set linux.rootfsPropagation on /");
                break;
            }
            case StepKind::Terminal: {
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
                break;
            }
            case StepKind::Stdio:
                if (::dup2(ctx.stdin_fd, 0) < 0 || ::dup2(ctx.stdout_fd, 1) < 0 || ::dup2(ctx.stderr_fd, 2) < 0)
                    die_errno(ctx, "stdio");
                break;
            case StepKind::ReadonlyRoot:
                if (::mount(nullptr, "/", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags("/"), nullptr) != 0)
                    die_errno(ctx, "remount / read-only (root.readonly)");
                break;
            case StepKind::Hostname:
                if (!spec.hostname.empty() && ::sethostname(spec.hostname.data(), spec.hostname.size()) != 0)
                    die_errno(ctx, "sethostname");
                if (!spec.domainname.empty() && ::setdomainname(spec.domainname.data(), spec.domainname.size()) != 0)
                    die_errno(ctx, "setdomainname");
                break;
            case StepKind::Sysctl:
                for (const auto& [key, value] : spec.sysctl) {
                    std::string path = "/proc/sys/" + key;
                    for (size_t i = std::strlen("/proc/sys/"); i < path.size(); ++i)
                        if (path[i] == '.') path[i] = '/';
                    if (auto s = write_file(path, value); !s) die(ctx, "linux.sysctl " + key + ": " + s.error().message);
                }
                break;
            case StepKind::ReadonlyPaths:
                for (const auto& p : spec.readonly_paths)
                    if (auto s = security::readonly_path("", p); !s) die(ctx, s.error().message);
                break;
            case StepKind::MaskedPaths:
                for (const auto& p : spec.masked_paths)
                    if (auto s = security::mask_path("", p); !s) die(ctx, s.error().message);
                break;
            case StepKind::Rlimits:
                for (const auto& r : proc.rlimits) {
                    struct rlimit rl = {static_cast<rlim_t>(r.soft), static_cast<rlim_t>(r.hard)};
                    if (::setrlimit(r.resource, &rl) != 0) die_errno(ctx, "set " + r.type);
                }
                break;
            case StepKind::Umask: ::umask(proc.umask.value_or(022)); break;
            case StepKind::SeccompEarly:
                if (auto s = load_oci_seccomp(spec.seccomp); !s) die(ctx, s.error().message);
                break;
            case StepKind::Workdir: {
                // A missing working directory is made, as root, as Docker and runc do.
                struct stat st;
                if (::stat(proc.cwd.c_str(), &st) != 0)
                    if (auto s = make_dirs(proc.cwd, 0755); !s)
                        die(ctx, "chdir to cwd (\"" + proc.cwd + "\") set in config.json failed: " + s.error().message);
                break;
            }
            case StepKind::User: {
                const bool named_user = spec.annotations.count(kUserAnnotation) != 0;
                if (auto it = spec.annotations.find(kUserAnnotation); it != spec.annotations.end()) {
                    auto ids = lookup_user(it->second);
                    if (!ids) die(ctx, ids.error().exit_code, ids.error().message);
                    uid = ids->uid;
                    gid = ids->gid;
                    // Docker's rule: a non-root user starts with its capabilities in the bounding
                    // set alone.
                    if (uid != 0) caps.effective.clear(), caps.permitted.clear(), caps.inheritable.clear(), caps.ambient.clear();
                }
                // Bounding set while CAP_SETPCAP is held; keep the permitted set across the user
                // switch (PR_SET_KEEPCAPS); then set exactly the wanted sets.
                drop_bounding(ctx, caps.bounding);
                if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) die_errno(ctx, "PR_SET_KEEPCAPS");
                {
                    auto text = read_file("/proc/self/setgroups");
                    std::string setgroups = text ? *text : "";
                    while (!setgroups.empty() && std::isspace(static_cast<unsigned char>(setgroups.back()))) setgroups.pop_back();
                    gid_t primary = gid;
                    auto groups = supplementary_groups(uid, named_user ? &primary : nullptr, proc.additional_gids);
                    if (setgroups != "deny") {
                        if (::setgroups(groups.size(), groups.data()) != 0) die_errno(ctx, "setgroups");
                    } else if (!proc.additional_gids.empty()) {
                        die(ctx, "process.user.additionalGids: setgroups is denied in this user namespace");
                    }
                }
                if (::setresgid(gid, gid, gid) != 0) die_errno(ctx, "setgid " + std::to_string(gid));
                if (::setresuid(uid, uid, uid) != 0) die_errno(ctx, "setuid " + std::to_string(uid));
                if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) die_errno(ctx, "PR_SET_KEEPCAPS");
                set_capability_sets(ctx, caps);
                // runc's rule: without HOME in process.env, the user's home from the container's
                // /etc/passwd, or "/".
                if (std::none_of(env.begin(), env.end(), [](const std::string& e) { return e.rfind("HOME=", 0) == 0; }))
                    env.push_back("HOME=" + home_of(uid));
                // The working directory is entered as the user, so its permissions count.
                if (::chdir(proc.cwd.c_str()) != 0)
                    die_errno(ctx, "chdir to cwd (\"" + proc.cwd + "\") set in config.json failed");
                break;
            }
            case StepKind::NoNewPrivs:
                if (auto s = security::set_no_new_privs(); !s) die(ctx, s.error().message);
                break;
            case StepKind::Ready: {
                int code = 0;
                std::string message;
                command = resolve_command("", proc.args.empty() ? "" : proc.args[0], proc.env, &code, &message);
                if (command.empty()) die(ctx, code, message);
                report(ctx.report_fd, "READY");
                if (ctx.fifo_path.empty()) {
                    wait_byte(ctx);  // the monitor says go: an attach client is there, or none is needed
                } else {
                    // `runtime create` has returned: nobody reads reports any more.
                    ::close(report_fd);
                    report_fd = -1;
                    // Blocks until `start` opens the fifo for reading.
                    std::string through = safe::fd_path(fifo);
                    int w = ::open(through.c_str(), O_WRONLY | O_CLOEXEC);
                    if (w < 0) {
                        std::fprintf(stderr, "isolab runtime: open exec.fifo through `%s`: %s (is /proc mounted?)\n",
                                     through.c_str(), std::strerror(errno));
                        ::_exit(1);
                    }
                    ssize_t n = ::write(w, "0", 1);
                    (void)n;
                    ::close(fifo);
                    start_fd = w;  // kept until execve (see start_fd)
                }
                last = monotonic_ms();  // the wait for start is no step's time
                continue;
            }
            case StepKind::SeccompLate:
                if (auto s = load_oci_seccomp(spec.seccomp); !s) {
                    if (!ctx.fifo_path.empty()) fail_after_start(1, s.error().message);
                    die(ctx, s.error().message);
                }
                break;
            case StepKind::StartContainerHooks:
                // After the start gate, as the container's user, with its capabilities and
                // seccomp filter: the hook's path is resolved inside the container.
                if (auto s = oci::run_hooks(spec.hooks.start_container, "startContainer", hook_state("created"), &env);
                    !s) {
                    if (!ctx.fifo_path.empty()) fail_after_start(1, "error running " + s.error().message);
                    die(ctx, 1, "error running " + s.error().message);
                }
                break;
            case StepKind::Exec: {
                // No descriptor of ours but stdio survives execve (CVE-2024-21626 was a leaked
                // fd); the report pipe, CLOEXEC, closes with it and tells the host execve worked.
                ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
                std::vector<char*> argv, envp;
                for (const auto& a : proc.args) argv.push_back(const_cast<char*>(a.c_str()));
                argv.push_back(nullptr);
                for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
                envp.push_back(nullptr);
                ::execve(command.c_str(), argv.data(), envp.data());
                int err = errno;
                std::string msg = "exec: \"" + proc.args[0] + "\": " + std::strerror(err);
                if (!ctx.fifo_path.empty()) fail_after_start(err == ENOENT ? 127 : 126, msg);
                die(ctx, err == ENOENT ? 127 : 126, msg);
            }
        }
        done(step);
    }
    die(ctx, "the setup plan has no exec step");
}

}  // namespace isolab
