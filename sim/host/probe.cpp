#include "sim/host/probe.hpp"

#include <elf.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/kvm.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "sim/core/mountinfo.hpp"
#include "sim/core/strings.hpp"
#include "sim/core/files.hpp"
#include "sim/core/i18n.hpp"

namespace isolab::host {

using i18n::tr;
using i18n::trf;

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxChildOutput = 64 * 1024;

// ---- small file helpers ----

std::optional<std::string> slurp(const std::string& path, size_t limit = 1 << 20) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::string data;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        data.append(buf, static_cast<size_t>(n));
        if (data.size() >= limit) break;
    }
    ::close(fd);
    return data;
}

// An integer sysctl, or nullopt when the file does not exist (the kernel lacks the knob).
std::optional<long> read_long(const std::string& path) {
    auto text = slurp(path);
    if (!text) return std::nullopt;
    return std::strtol(text->c_str(), nullptr, 10);
}

bool exists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

bool is_dir(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= s.size()) {
        size_t end = s.find(sep, start);
        if (end == std::string_view::npos) end = s.size();
        out.emplace_back(s.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

std::string join(const std::vector<std::string>& items, const char* sep = " ") {
    std::string s;
    for (const auto& i : items) s += (s.empty() ? "" : sep) + i;
    return s;
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

std::string errno_text(int err) { return std::strerror(err); }

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// ---- the child side of probe_with_timeout ----------------------------------------------------

// Set only in a forked child (its own copy of memory), so no other thread ever sees it.
int g_child_output_fd = -1;

void write_all(int fd, std::string_view text) {
    while (!text.empty()) {
        ssize_t n = ::write(fd, text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        text.remove_prefix(static_cast<size_t>(n));
    }
}

// After SIGKILL a child normally disappears within a millisecond. One stuck in an uninterruptible
// kernel wait (which a hanging nested-KVM ioctl may be) cannot be reaped until the kernel lets go;
// blocking here would hang the caller, so after GRACE a detached thread takes over the wait.
bool reap_killed_child(pid_t pid, std::chrono::milliseconds grace) {
    auto deadline = Clock::now() + grace;
    for (;;) {
        int status = 0;
        pid_t w = ::waitpid(pid, &status, WNOHANG);
        if (w == pid) return true;
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return true;  // ECHILD: reaped elsewhere (SIGCHLD ignored)
        if (Clock::now() >= deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::thread([pid] {
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    }).detach();
    return false;
}

// ---- cgroups ------------------------------------------------------------------------------------

const char* const kV1Controllers[] = {"memory", "pids",    "cpu",     "cpuacct", "freezer",    "cpuset",
                                      "io",     "blkio",   "devices", "hugetlb", "net_cls",    "net_prio",
                                      "perf_event", "rdma", "misc"};

int controller_rank(const std::string& c) {
    for (size_t i = 0; i < std::size(kV1Controllers); ++i)
        if (c == kV1Controllers[i]) return static_cast<int>(i);
    return static_cast<int>(std::size(kV1Controllers));
}

void sort_controllers(std::vector<std::string>& v) {
    std::stable_sort(v.begin(), v.end(), [](const std::string& a, const std::string& b) {
        int ra = controller_rank(a), rb = controller_rank(b);
        return ra != rb ? ra < rb : a < b;
    });
    v.erase(std::unique(v.begin(), v.end()), v.end());
}

// ---- the probes -----------------------------------------------------------------------------

struct NsKind {
    const char* name;
    int flag;
};
const NsKind kNamespaces[] = {{"pid", CLONE_NEWPID}, {"mnt", CLONE_NEWNS},  {"uts", CLONE_NEWUTS},
                              {"ipc", CLONE_NEWIPC}, {"net", CLONE_NEWNET}, {"cgroup", CLONE_NEWCGROUP}};

// In the child. Exit 0: a user namespace was created and grants CAP_SYS_ADMIN inside it (checked by
// creating a UTS namespace, which needs it); 1: unshare failed; 2: created but powerless (AppArmor's
// apparmor_restrict_unprivileged_userns does exactly this on Ubuntu 24.04).
int userns_child() {
    if (::unshare(CLONE_NEWUSER) != 0) {
        child_report(errno_text(errno));
        return 1;
    }
    if (::unshare(CLONE_NEWUTS) != 0) {
        child_report(errno_text(errno));
        return 2;
    }
    return 0;
}

// In the child. Reports one line per namespace: "ok NAME" or "fail NAME ERRNO". A non-root caller
// first enters a new user namespace, as the rootless runtime does.
int namespaces_child(bool in_user_ns) {
    if (in_user_ns && ::unshare(CLONE_NEWUSER) != 0) {
        child_report("user " + std::to_string(errno) + "\n");
        return 1;
    }
    int all = 0;
    for (const auto& ns : kNamespaces) all |= ns.flag;
    bool together = ::unshare(all) == 0;
    for (const auto& ns : kNamespaces) {
        if (together || ::unshare(ns.flag) == 0) child_report(std::string("ok ") + ns.name + "\n");
        else child_report(std::string("fail ") + ns.name + " " + std::to_string(errno) + "\n");
    }
    return 0;
}

// In the child: the same first steps QEMU takes with -accel kvm, then one guest instruction.
// Reports "ok API", "fail STEP ERRNO", "api VERSION" (a kernel that speaks another KVM API) or
// "exit REASON" (the test guest did not stop where it should).
int kvm_child() {
    int kvm = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) {
        child_report("fail open " + std::to_string(errno));
        return 1;
    }
    int api = ::ioctl(kvm, KVM_GET_API_VERSION, 0);
    if (api < 0) {
        child_report("fail KVM_GET_API_VERSION " + std::to_string(errno));
        return 1;
    }
    if (api != KVM_API_VERSION) {
        child_report("api " + std::to_string(api));
        return 1;
    }
    int vm = -1;
    for (int attempt = 0; attempt < 5; ++attempt) {  // KVM_CREATE_VM may fail with EINTR
        vm = ::ioctl(kvm, KVM_CREATE_VM, 0);
        if (vm >= 0 || errno != EINTR) break;
    }
    if (vm < 0) {
        child_report("fail KVM_CREATE_VM " + std::to_string(errno));
        return 1;
    }
    int vcpu = ::ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0) {
        child_report("fail KVM_CREATE_VCPU " + std::to_string(errno));
        return 1;
    }
#if defined(__x86_64__) || defined(__i386__)
    // Creating a vCPU is not running one: under nested virtualization the first KVM_RUN is where
    // a broken host stalls. So the child also runs a 3-byte real-mode guest, "mov al, 42; hlt",
    // and expects KVM_EXIT_HLT with rax = 42. It costs about a millisecond.
    constexpr unsigned long kGuestAddr = 0x1000;
    void* mem = ::mmap(nullptr, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        child_report("fail mmap " + std::to_string(errno));
        return 1;
    }
    const unsigned char guest[] = {0xb0, 0x2a, 0xf4};
    std::memcpy(mem, guest, sizeof guest);
    kvm_userspace_memory_region region{};
    region.guest_phys_addr = kGuestAddr;
    region.memory_size = 0x1000;
    region.userspace_addr = reinterpret_cast<unsigned long>(mem);
    if (::ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
        child_report("fail KVM_SET_USER_MEMORY_REGION " + std::to_string(errno));
        return 1;
    }
    int run_size = ::ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    void* run_map = run_size > 0 ? ::mmap(nullptr, static_cast<size_t>(run_size), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0)
                                 : MAP_FAILED;
    if (run_map == MAP_FAILED) {
        child_report("fail KVM_GET_VCPU_MMAP_SIZE " + std::to_string(errno));
        return 1;
    }
    auto* run = static_cast<kvm_run*>(run_map);
    kvm_sregs sregs{};
    kvm_regs regs{};
    regs.rip = kGuestAddr;
    regs.rflags = 2;  // bit 1 is reserved and must be set
    if (::ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) {
        child_report("fail KVM_GET_SREGS " + std::to_string(errno));
        return 1;
    }
    sregs.cs.base = 0;  // real mode, code segment at 0: the guest starts at physical kGuestAddr
    sregs.cs.selector = 0;
    if (::ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ::ioctl(vcpu, KVM_SET_REGS, &regs) < 0) {
        child_report("fail KVM_SET_REGS " + std::to_string(errno));
        return 1;
    }
    int rc;
    do {
        rc = ::ioctl(vcpu, KVM_RUN, 0);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        child_report("fail KVM_RUN " + std::to_string(errno));
        return 1;
    }
    if (run->exit_reason != KVM_EXIT_HLT || ::ioctl(vcpu, KVM_GET_REGS, &regs) < 0 || (regs.rax & 0xff) != 42) {
        child_report("exit " + std::to_string(run->exit_reason));
        return 1;
    }
#endif
    child_report("ok " + std::to_string(api));
    return 0;
}

std::string errno_from_text(const std::string& number) {
    return errno_text(std::atoi(number.c_str()));
}

bool kernel_at_least(const HostReport& r, int major, int minor) {
    return r.kernel_major > major || (r.kernel_major == major && r.kernel_minor >= minor);
}

Capability make_cap(std::string id, bool available, std::string detail, std::string fallback_key = {},
                    std::string fix = {}) {
    Capability c;
    c.id = std::move(id);
    c.available = available;
    c.detail = std::move(detail);
    c.fallback_key = std::move(fallback_key);
    c.fix = std::move(fix);
    return c;
}

// ---- one function per capability; each fills its facts into R and appends its line ----------

void probe_identity(HostReport& r) {
    r.euid = ::geteuid();
    r.root = r.euid == 0;
    struct utsname u;
    if (::uname(&u) == 0) {
        r.kernel = u.release;
        r.arch = u.machine;
        std::sscanf(u.release, "%d.%d", &r.kernel_major, &r.kernel_minor);
    }
    if (auto os = slurp("/etc/os-release")) {
        std::istringstream in(*os);
        for (std::string line; std::getline(in, line);) {
            if (line.rfind("PRETTY_NAME=", 0) != 0) continue;
            std::string v = line.substr(12);
            if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
                v = v.substr(1, v.size() - 2);
            r.distro = v;
        }
    }
    if (r.distro.empty()) r.distro = "Linux";

    Capability c = make_cap("privileges", true,
                            r.root ? tr("doctor.detail.root") : trf("doctor.detail.rootless", {std::to_string(r.euid)}));
    if (!r.root) {
        c.degraded = true;
        c.fallback_key = "doctor.fallback.rootless";
        c.fix = "sudo isolab";
    }
    r.capabilities.push_back(std::move(c));
}

void probe_user_namespaces(HostReport& r, const ProbeOptions& o) {
    auto max_userns = read_long("/proc/sys/user/max_user_namespaces");
    auto unpriv_clone = read_long("/proc/sys/kernel/unprivileged_userns_clone");
    auto apparmor = read_long("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");

    // What blocks unprivileged users, whoever runs doctor: it matters the day IsoLab runs rootless.
    std::string blocker, fix;
    if (max_userns && *max_userns == 0) {
        blocker = "user.max_user_namespaces = 0";
        fix = "sysctl -w user.max_user_namespaces=15000";
    } else if (unpriv_clone && *unpriv_clone == 0) {
        blocker = "kernel.unprivileged_userns_clone = 0";
        fix = "sysctl -w kernel.unprivileged_userns_clone=1";
    } else if (apparmor && *apparmor != 0) {
        blocker = "kernel.apparmor_restrict_unprivileged_userns = 1";
        fix = "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0";
    }

    std::string detail;
    bool ok = false, powerless = false;
    if (!o.child_probes) {
        ok = !(max_userns && *max_userns == 0) && (r.root || blocker.empty());
        detail = ok ? trf("doctor.detail.userns_ok", {max_userns ? std::to_string(*max_userns) : "?"})
                    : trf("doctor.detail.userns_failed", {blocker});
    } else {
        ChildOutcome out = probe_with_timeout(userns_child, o.namespace_timeout_ms);
        if (out.kind == ChildOutcome::Kind::Exited && out.code == 0) {
            ok = true;
            detail = trf("doctor.detail.userns_ok", {max_userns ? std::to_string(*max_userns) : "?"});
        } else if (out.kind == ChildOutcome::Kind::Exited && out.code == 2) {
            powerless = true;
            detail = tr("doctor.detail.userns_powerless");
        } else if (out.kind == ChildOutcome::Kind::Exited) {
            detail = trf("doctor.detail.userns_failed", {blocker.empty() ? trim(out.output) : blocker});
        } else if (out.kind == ChildOutcome::Kind::TimedOut) {
            detail = trf("doctor.detail.probe_timeout", {std::to_string(o.namespace_timeout_ms)});
        } else {
            detail = trf("doctor.detail.probe_failed", {out.error.empty() ? "signal " + std::to_string(out.code) : out.error});
        }
    }
    if (r.root && !blocker.empty()) detail += trf("doctor.detail.userns_unprivileged_blocked", {blocker});
    r.user_namespaces = ok;

    Capability c = make_cap("user_namespaces", ok, detail);
    if (!ok) {
        // As root IsoLab does not need them; for everyone else they are the way to real containers.
        c.fallback_key = r.root ? "doctor.fallback.userns_root" : "doctor.fallback.simulated";
        c.fix = fix;
        if (powerless && c.fix.empty()) c.fix = "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0";
    } else if (r.root && !blocker.empty()) {
        c.degraded = true;
        c.fallback_key = "doctor.fallback.userns_root";
        c.fix = fix;
    }
    r.capabilities.push_back(std::move(c));
}

void probe_namespaces(HostReport& r, const ProbeOptions& o) {
    std::vector<std::string> names;
    for (const auto& ns : kNamespaces) names.emplace_back(ns.name);
    std::string detail;
    std::vector<std::string> failures;  // "net (Operation not permitted)"
    if (!o.child_probes) {
        // Without a child, the only cheap evidence is that the kernel has the namespace files.
        for (const auto& n : names) {
            if (exists("/proc/self/ns/" + n)) r.namespaces_created.push_back(n);
            else r.namespaces_failed.push_back(n);
        }
    } else {
        bool in_user_ns = !r.root;
        ChildOutcome out = probe_with_timeout([in_user_ns] { return namespaces_child(in_user_ns); },
                                              o.namespace_timeout_ms);
        if (out.kind == ChildOutcome::Kind::Exited) {
            std::istringstream in(out.output);
            for (std::string line; std::getline(in, line);) {
                auto f = split(line, ' ');
                if (f.size() >= 2 && f[0] == "ok") r.namespaces_created.push_back(f[1]);
                if (f.size() >= 3 && f[0] == "fail") {
                    r.namespaces_failed.push_back(f[1]);
                    failures.push_back(f[1] + " (" + errno_from_text(f[2]) + ")");
                }
                if (f.size() >= 2 && f[0] == "user") {
                    r.namespaces_failed = names;
                    failures.push_back("user (" + errno_from_text(f[1]) + ")");
                }
            }
        } else {
            r.namespaces_failed = names;
            failures.push_back(out.kind == ChildOutcome::Kind::TimedOut
                                   ? trf("doctor.detail.probe_timeout", {std::to_string(o.namespace_timeout_ms)})
                                   : trf("doctor.detail.probe_failed", {out.error}));
        }
    }
    if (failures.empty()) failures = r.namespaces_failed;
    r.namespaces = r.namespaces_failed.empty() && r.namespaces_created.size() == names.size();

    if (r.namespaces) detail = trf("doctor.detail.ns_all", {join(r.namespaces_created)});
    else if (r.namespaces_created.empty()) detail = trf("doctor.detail.ns_none", {join(failures, ", ")});
    else detail = trf("doctor.detail.ns_some", {join(r.namespaces_created), join(failures, ", ")});

    // In a chroot the kernel still makes namespaces, but pivot_root and private mount propagation
    // need the real root of a mount namespace: the runtime cannot build a container's root there.
    if (r.namespaces && in_chroot()) {
        r.namespaces = false;
        detail = tr("doctor.detail.ns_chroot");
    }
    Capability c = make_cap("namespaces", r.namespaces, detail);
    if (!r.namespaces) {
        c.fallback_key = "doctor.fallback.simulated";
        if (!r.root && !r.user_namespaces) {
            const Capability* u = r.find("user_namespaces");
            c.fix = u ? u->fix : "";
        }
    }
    r.capabilities.push_back(std::move(c));
}

void probe_cgroups(HostReport& r) {
    auto mounts = cgroup_mounts(read_mountinfo());
    CgroupMounts m = summarize_cgroup_mounts(mounts);
    auto self = read_proc_cgroup();
    r.cgroup_layout = m.layout;

    // Where IsoLab creates groups (see sim/runtime/cgroup.hpp): v1 — our own cgroup in each
    // hierarchy; v2 — the root as root, our own (delegated) cgroup otherwise.
    std::vector<std::string> missing;
    bool writable = false;
    if (m.layout == CgroupLayout::V1 || m.layout == CgroupLayout::Hybrid) {
        r.cgroup_controllers = m.v1_controllers;
        writable = true;
        bool any = false;
        for (const char* needed : {"memory", "pids", "cpu", "freezer"}) {
            if (!contains(r.cgroup_controllers, needed)) {
                missing.emplace_back(needed);
                continue;
            }
            for (const auto& h : mounts) {
                if (h.v2 || !contains(h.controllers, needed)) continue;
                const CgroupMembership* g = membership_in(self, h);
                any = true;
                if (::access(cgroup_dir(h, g ? g->path : "/").c_str(), W_OK) != 0) writable = false;
            }
        }
        writable = writable && any;
    } else if (m.layout == CgroupLayout::V2) {
        CgroupMount v2{m.v2_mountpoint, m.v2_root, true, {}};
        const CgroupMembership* g = membership_in(self, v2);
        std::string own = cgroup_dir(v2, g ? g->path : "/");
        std::string parent = r.root ? m.v2_mountpoint : own;
        if (auto ctrls = slurp(parent + "/cgroup.controllers")) {
            std::istringstream in(*ctrls);
            for (std::string c; in >> c;) r.cgroup_controllers.push_back(c);
        }
        sort_controllers(r.cgroup_controllers);
        for (const char* needed : {"memory", "pids", "cpu"})
            if (!contains(r.cgroup_controllers, needed)) missing.emplace_back(needed);
        if (!kernel_at_least(r, 5, 2)) missing.emplace_back("freezer");  // cgroup.freeze is 5.2+
        writable = ::access(parent.c_str(), W_OK) == 0 &&
                   (r.root || ::access((parent + "/cgroup.subtree_control").c_str(), W_OK) == 0);
    }
    r.cgroup_writable = writable;

    Capability c;
    c.id = "cgroups";
    if (m.layout == CgroupLayout::None) {
        c.detail = tr("doctor.detail.cgroup_none");
        c.fallback_key = "doctor.fallback.cgroups";
        c.fix = "mount -t cgroup2 none /sys/fs/cgroup";
        r.capabilities.push_back(std::move(c));
        return;
    }
    const char* layout_key = m.layout == CgroupLayout::V2       ? "doctor.cgroup.v2"
                             : m.layout == CgroupLayout::Hybrid ? "doctor.cgroup.hybrid"
                                                                : "doctor.cgroup.v1";
    std::string state = writable ? tr("doctor.cgroup.writable") : tr("doctor.cgroup.not_writable");
    if (!missing.empty()) state += "; " + trf("doctor.cgroup.missing", {join(missing)});
    c.detail = trf("doctor.detail.cgroup", {tr(layout_key), join(r.cgroup_controllers), state});
    c.available = writable;
    c.degraded = writable && !missing.empty();
    if (!writable || !missing.empty()) c.fallback_key = "doctor.fallback.cgroups";
    if (!writable) {
        if (!r.root) c.fix = m.layout == CgroupLayout::V2 ? "systemd-run --user --scope -p Delegate=yes isolab" : "sudo isolab";
        else c.fix = "mount -o remount,rw /sys/fs/cgroup";
    }
    r.capabilities.push_back(std::move(c));
}

void probe_overlay(HostReport& r) {
    auto fs = slurp("/proc/filesystems");
    bool loaded = fs && fs->find("\toverlay\n") != std::string::npos;
    bool module = is_dir("/lib/modules/" + r.kernel + "/kernel/fs/overlayfs");
    r.overlay = loaded || module;
    // Mounting overlayfs inside a user namespace became legal in Linux 5.11.
    r.overlay_in_userns = r.overlay && kernel_at_least(r, 5, 11);

    Capability c;
    c.id = "overlayfs";
    if (!r.overlay) {
        c.detail = tr("doctor.detail.overlay_missing");
        c.fallback_key = "doctor.fallback.overlay";
        c.fix = "modprobe overlay";
    } else if (!r.root && !r.overlay_in_userns) {
        c.available = true;
        c.degraded = true;
        c.detail = trf("doctor.detail.overlay_no_userns", {r.kernel});
        c.fallback_key = "doctor.fallback.overlay";
        c.fix = "sudo isolab";
    } else {
        c.available = true;
        c.detail = tr(loaded ? "doctor.detail.overlay_ok" : "doctor.detail.overlay_module");
        if (r.overlay_in_userns) c.detail += tr("doctor.detail.overlay_userns");
    }
    r.capabilities.push_back(std::move(c));
}

void probe_seccomp(HostReport& r) {
    auto status = slurp("/proc/self/status");
    r.seccomp = status && status->find("\nSeccomp:") != std::string::npos;
    r.capabilities.push_back(r.seccomp ? make_cap("seccomp", true, tr("doctor.detail.seccomp_ok"))
                                       : make_cap("seccomp", false, tr("doctor.detail.seccomp_missing"),
                                                  "doctor.fallback.seccomp"));
}

void probe_qemu(HostReport& r, const ProbeOptions& o) {
    const char* name = "qemu-system-x86_64";
    r.qemu_path = find_on_path(name);
    Capability c;
    c.id = "qemu";
    if (r.qemu_path.empty()) {
        c.detail = trf("doctor.detail.not_on_path", {name});
        c.fallback_key = "doctor.fallback.qemu";
        c.fix = "apt-get install qemu-system-x86";
        r.capabilities.push_back(std::move(c));
        return;
    }
    c.available = true;
    std::string why;
    if (o.child_probes) {
        ChildOutcome out = run_with_timeout({r.qemu_path, "--version"}, o.command_timeout_ms);
        // "QEMU emulator version 7.2.19 (Debian 1:7.2+dfsg-7+deb12u16)"
        const std::string marker = "version ";
        if (out.kind == ChildOutcome::Kind::Exited && out.code == 0) {
            if (size_t p = out.output.find(marker); p != std::string::npos) {
                size_t start = p + marker.size();
                size_t end = out.output.find_first_of(" \n", start);
                r.qemu_version = out.output.substr(start, end == std::string::npos ? end : end - start);
            }
        } else if (out.kind == ChildOutcome::Kind::TimedOut) {
            why = trf("doctor.detail.probe_timeout", {std::to_string(o.command_timeout_ms)});
        } else {
            why = trim(out.output.substr(0, 200));
            if (why.empty()) why = "exit " + std::to_string(out.code);
        }
    }
    if (!r.qemu_version.empty()) {
        c.detail = trf("doctor.detail.qemu_ok", {r.qemu_path, r.qemu_version});
    } else {
        c.degraded = !why.empty();
        c.detail = trf("doctor.detail.qemu_no_version", {r.qemu_path, why.empty() ? "-" : why});
        if (c.degraded) {
            c.fallback_key = "doctor.fallback.qemu";
            c.fix = "apt-get install --reinstall qemu-system-x86";
        }
    }
    r.capabilities.push_back(std::move(c));
}

std::string kvm_module_fix() {
    auto cpuinfo = slurp("/proc/cpuinfo", 64 * 1024);
    if (cpuinfo && cpuinfo->find("AuthenticAMD") != std::string::npos) return "modprobe kvm_amd";
    return "modprobe kvm_intel";
}

// Debian gives /dev/kvm to the group "kvm" (udev rule, mode 0660); joining it is the fix there.
// A device only root may open (some minimal or nested hosts) leaves running as root.
std::string kvm_access_fix() {
    struct stat st;
    if (::stat("/dev/kvm", &st) == 0 && (st.st_mode & (S_IRGRP | S_IWGRP)) == (S_IRGRP | S_IWGRP)) {
        if (const group* g = ::getgrgid(st.st_gid); g && g->gr_gid != 0) return std::string("usermod -aG ") + g->gr_name + " $USER";
    }
    return "sudo isolab";
}

void probe_kvm(HostReport& r, const ProbeOptions& o) {
    Capability c;
    c.id = "kvm";
    c.fallback_key = "doctor.fallback.kvm";
    // The parent never opens /dev/kvm itself: open() is cheap, but everything after it may hang
    // under nested virtualization, so the whole sequence belongs to the child.
    const bool injected = static_cast<bool>(o.kvm_child_override);
    if (!injected && !exists("/dev/kvm")) {
        c.detail = tr("doctor.detail.kvm_no_device");
        c.fix = kvm_module_fix();
    } else if (!injected && ::access("/dev/kvm", R_OK | W_OK) != 0) {
        int err = errno;
        c.detail = trf("doctor.detail.kvm_no_access", {errno_text(err)});
        c.fix = kvm_access_fix();
    } else if (!o.child_probes && !injected) {
        c.detail = tr("doctor.detail.kvm_untested");
        c.degraded = true;
        c.available = true;
        c.fallback_key.clear();
    } else {
        ChildOutcome out = probe_with_timeout(injected ? o.kvm_child_override : kvm_child, o.kvm_timeout_ms);
        auto f = split(trim(out.output), ' ');
        if (out.kind == ChildOutcome::Kind::TimedOut) {
            r.kvm_timed_out = true;
            c.detail = trf("doctor.detail.kvm_timeout", {std::to_string(o.kvm_timeout_ms)});
        } else if (out.kind == ChildOutcome::Kind::Exited && out.code == 0 && f.size() == 2 && f[0] == "ok") {
            r.kvm = true;
            c.available = true;
            c.fallback_key.clear();
            c.detail = trf("doctor.detail.kvm_ok", {f[1]});
        } else if (f.size() == 3 && f[0] == "fail") {
            c.detail = trf("doctor.detail.kvm_failed", {f[1] == "open" ? "open /dev/kvm" : f[1], errno_from_text(f[2])});
            if (f[1] == "open" && std::atoi(f[2].c_str()) == EACCES) c.fix = kvm_access_fix();
        } else if (f.size() == 2 && f[0] == "api") {
            c.detail = trf("doctor.detail.kvm_api", {f[1]});
        } else if (f.size() == 2 && f[0] == "exit") {
            c.detail = trf("doctor.detail.kvm_bad_exit", {f[1]});
        } else {
            c.detail = trf("doctor.detail.probe_failed",
                           {out.error.empty() ? "signal " + std::to_string(out.code) : out.error});
        }
    }
    r.capabilities.push_back(std::move(c));
}

void probe_display(HostReport& r) {
    const char* wayland = std::getenv("WAYLAND_DISPLAY");
    const char* x11 = std::getenv("DISPLAY");
    Capability c;
    c.id = "display";
    if (wayland && *wayland) {
        r.display = true;
        c.available = true;
        c.detail = trf("doctor.detail.display_wayland", {wayland});
    } else if (x11 && *x11) {
        // [host]:display[.screen]; an empty host or "unix" means the local socket.
        std::string d = x11;
        size_t colon = d.rfind(':');
        std::string host = colon == std::string::npos ? "" : d.substr(0, colon);
        std::string number = colon == std::string::npos ? "" : d.substr(colon + 1);
        number = number.substr(0, number.find('.'));
        if ((host.empty() || host == "unix") && !number.empty()) {
            std::string socket = "/tmp/.X11-unix/X" + number;
            r.display = exists(socket);
            c.detail = r.display ? trf("doctor.detail.display_x11", {d})
                                 : trf("doctor.detail.display_x11_no_socket", {d, socket});
        } else {
            r.display = true;  // a remote or forwarded display (ssh -X): nothing local to check
            c.detail = trf("doctor.detail.display_x11", {d});
        }
        c.available = r.display;
    } else {
        c.detail = tr("doctor.detail.display_none");
    }
    if (!c.available) {
        c.fallback_key = "doctor.fallback.display";
        c.fix = "ssh -X <this machine> isolab";
    }
    r.capabilities.push_back(std::move(c));
}

void probe_font(HostReport& r) {
    r.korean_font = korean_font_path();
    r.capabilities.push_back(r.korean_font.empty()
                                 ? make_cap("korean_font", false, tr("doctor.detail.font_missing"),
                                            "doctor.fallback.korean_font", "apt-get install fonts-noto-cjk")
                                 : make_cap("korean_font", true, r.korean_font));
}

void probe_busybox(HostReport& r) {
    bool packaged = exists("/var/lib/dpkg/info/busybox-static.list") ||
                    exists("/var/lib/dpkg/info/busybox-static:" + std::string(r.arch == "x86_64" ? "amd64" : r.arch) + ".list");
    std::string path = exists("/bin/busybox") ? "/bin/busybox" : find_on_path("busybox");
    int is_static = path.empty() ? -1 : isolab::elf_is_static(path);
    Capability c;
    c.id = "busybox_static";
    if (!path.empty() && (is_static == 1 || (packaged && is_static != 0))) {
        c.available = true;
        c.detail = trf("doctor.detail.busybox_ok", {path});
    } else {
        c.detail = path.empty() ? tr("doctor.detail.busybox_missing") : trf("doctor.detail.busybox_dynamic", {path});
        c.fallback_key = "doctor.fallback.busybox_static";
        c.fix = "apt-get install busybox-static";
    }
    r.capabilities.push_back(std::move(c));
}

void probe_tool(HostReport& r, const char* id, std::vector<const char*> names, const char* fallback_key,
                const char* fix) {
    for (const char* n : names) {
        std::string p = find_on_path(n);
        if (!p.empty()) {
            r.capabilities.push_back(make_cap(id, true, p));
            return;
        }
    }
    std::vector<std::string> quoted;
    for (const char* n : names) quoted.emplace_back(n);
    r.capabilities.push_back(make_cap(id, false, trf("doctor.detail.not_on_path", {join(quoted, ", ")}),
                                      fallback_key, fix));
}

void choose_backends(HostReport& r) {
    if (r.root && r.namespaces) r.container_backend = "namespaces";
    else if (!r.root && r.user_namespaces && r.namespaces) r.container_backend = "rootless";
    else r.container_backend = "simulated";

    if (r.qemu_path.empty()) r.vm_backend = "model";
    else r.vm_backend = r.kvm ? "qemu-kvm" : "qemu-tcg";
}

}  // namespace

// ---- public ------------------------------------------------------------------------------------

CgroupMounts summarize_cgroup_mounts(const std::vector<CgroupMount>& mounts) {
    CgroupMounts m;
    for (const auto& cm : mounts) {
        if (cm.v2) {
            if (m.v2_mountpoint.empty()) {
                m.v2_mountpoint = cm.mountpoint;
                m.v2_root = cm.root;
            }
            continue;
        }
        CgroupMounts::Hierarchy h;
        h.mountpoint = cm.mountpoint;
        h.root = cm.root;
        for (const auto& c : cm.controllers)
            if (c.rfind("name=", 0) != 0) h.controllers.push_back(c);
        // The same hierarchy may be mounted twice (bind mounts); count it once.
        bool seen = false;
        for (const auto& other : m.v1_hierarchies)
            if (other.controllers == h.controllers && !h.controllers.empty()) seen = true;
        if (seen) continue;
        for (const auto& c : h.controllers) m.v1_controllers.push_back(c);
        m.v1_hierarchies.push_back(std::move(h));
    }
    sort_controllers(m.v1_controllers);
    m.layout = cgroup_layout_of(mounts);
    return m;
}

CgroupMounts parse_cgroup_mountinfo(std::string_view mountinfo) {
    return summarize_cgroup_mounts(cgroup_mounts(parse_mountinfo(mountinfo)));
}

const Capability* HostReport::find(std::string_view id) const {
    for (const auto& c : capabilities)
        if (c.id == id) return &c;
    return nullptr;
}

int child_output_fd() { return g_child_output_fd; }

void child_report(std::string_view text) {
    if (g_child_output_fd >= 0) write_all(g_child_output_fd, text);
}

ChildOutcome probe_with_timeout(const std::function<int()>& fn, int timeout_ms) {
    ChildOutcome out;
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::milliseconds(std::max(0, timeout_ms));
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        out.error = "pipe: " + errno_text(errno);
        return out;
    }
    const pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) {
        out.error = "fork: " + errno_text(errno);
        ::close(fds[0]);
        ::close(fds[1]);
        return out;
    }
    if (pid == 0) {
        // The child. Does not return: _exit() skips the caller's atexit handlers and stdio buffers,
        // which belong to the parent. It dies with the parent so a killed doctor leaves nothing
        // (PDEATHSIG follows the forking *thread*, which is blocked here until the child is gone).
        // Only FN runs between fork and _exit; glibc keeps malloc usable in a forked child, so FN
        // may build strings even when the caller has other threads (the GUI does).
        ::close(fds[0]);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(127);
        // The caller's handlers (a crash reporter, a test framework's) must not run in the probe:
        // a probe that crashes should simply die of its signal, which the parent reports.
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);  // fails harmlessly for KILL/STOP
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        g_child_output_fd = fds[1];
        int code = 126;
        try {
            code = fn();
        } catch (...) {
            code = 126;
        }
        ::_exit(code & 0xff);
    }
    ::close(fds[1]);
    out.pid = pid;

    // Collect output until EOF (the child and everything it exec'ed closed the pipe) or deadline.
    bool eof = false;
    while (!eof) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) break;
        pollfd p{fds[0], POLLIN, 0};
        int n = ::poll(&p, 1, static_cast<int>(left));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;  // cannot wait on the pipe: fall back to waitpid until the deadline
        if (n == 0) break;
        char buf[1024];
        ssize_t got = ::read(fds[0], buf, sizeof buf);
        if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (got <= 0) {
            eof = true;
        } else if (out.output.size() < kMaxChildOutput) {
            out.output.append(buf, static_cast<size_t>(std::min<size_t>(static_cast<size_t>(got),
                                                                         kMaxChildOutput - out.output.size())));
        }
    }
    ::close(fds[0]);

    // EOF normally means the child is exiting; a child that closed the pipe and carried on is
    // still bound by the same deadline.
    for (;;) {
        int status = 0;
        pid_t w = ::waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            out.reaped = true;
            if (WIFEXITED(status)) {
                out.kind = ChildOutcome::Kind::Exited;
                out.code = WEXITSTATUS(status);
            } else {
                out.kind = ChildOutcome::Kind::Signaled;
                out.code = WTERMSIG(status);
            }
            break;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            out.reaped = true;
            out.error = "the exit status was lost (SIGCHLD is ignored in this process)";
            break;
        }
        if (Clock::now() >= deadline) {
            ::kill(pid, SIGKILL);
            out.kind = ChildOutcome::Kind::TimedOut;
            out.reaped = reap_killed_child(pid, std::chrono::milliseconds(500));
            if (!out.reaped) out.error = "the killed child is stuck in the kernel; a thread reaps it later";
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    out.elapsed_ms = ms_since(start);
    return out;
}

ChildOutcome run_with_timeout(const std::vector<std::string>& argv, int timeout_ms) {
    if (argv.empty()) {
        ChildOutcome out;
        out.error = "nothing to run";
        return out;
    }
    // Built before fork so the child only calls dup2/open/execv.
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    return probe_with_timeout(
        [&args] {
            int fd = child_output_fd();
            int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (null_fd >= 0) ::dup2(null_fd, 0);
            ::dup2(fd, 1);  // dup2 clears close-on-exec on the copies, so the program keeps them
            ::dup2(fd, 2);
            ::execv(args[0], args.data());
            child_report(std::string("exec `") + args[0] + "`: " + errno_text(errno));
            return 127;
        },
        timeout_ms);
}

std::string find_on_path(std::string_view name) {
    if (name.empty()) return {};
    auto runnable = [](const std::string& p) {
        struct stat st;
        return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
    };
    if (name.find('/') != std::string_view::npos) {
        std::string p(name);
        return runnable(p) ? p : std::string();
    }
    const char* env = std::getenv("PATH");
    std::vector<std::string> dirs = split(env && *env ? env : "/usr/local/bin:/usr/bin:/bin", ':');
    for (const char* extra : {"/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/local/bin", "/usr/bin", "/bin"})
        if (!contains(dirs, extra)) dirs.emplace_back(extra);
    for (const auto& d : dirs) {
        if (d.empty()) continue;  // "" means the working directory: never trusted for probes
        std::string p = d + "/" + std::string(name);
        if (runnable(p)) return p;
    }
    return {};
}

bool in_chroot() {
    // In a chroot, /proc/self/mountinfo lists mount points relative to the process's root, and
    // no mount sits at "/" (the chroot directory is not a mount point): exactly the condition
    // under which pivot_root and MS_PRIVATE on "/" are refused.
    auto mounts = read_mountinfo();
    if (mounts.empty()) return false;  // no /proc: cannot tell
    for (const auto& e : mounts)
        if (e.mountpoint == "/") return false;
    return true;
}

std::string korean_font_path() {
    if (const char* env = std::getenv("ISOLAB_FONT"); env && *env && exists(env)) return env;
    static const char* const candidates[] = {
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",          // fonts-noto-cjk
        "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",                 // fonts-nanum
        "/usr/share/fonts/truetype/nanum/NanumBarunGothic.ttf",            // fonts-nanum
        "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",         // fonts-noto-cjk
        "/usr/share/fonts/truetype/unfonts-core/UnDotum.ttf",              // fonts-unfonts-core
        "/usr/share/fonts/truetype/baekmuk/dotum.ttf",                     // fonts-baekmuk
        "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",       // fonts-droid-fallback
    };
    for (const char* c : candidates)
        if (exists(c)) return c;
    return {};
}

HostReport probe_host(const ProbeOptions& options) {
    HostReport r;
    if (!exists("/proc/self/status")) {
        r.error = "`/proc` is not mounted: mount -t proc proc /proc";
        return r;
    }
    // Order matters: namespaces reads the user-namespace verdict, kvm follows qemu for the reader.
    probe_identity(r);
    probe_user_namespaces(r, options);
    probe_namespaces(r, options);
    probe_cgroups(r);
    probe_overlay(r);
    probe_seccomp(r);
    probe_qemu(r, options);
    probe_kvm(r, options);
    probe_display(r);
    probe_font(r);
    probe_busybox(r);
    probe_tool(r, "runc", {"runc"}, "doctor.fallback.runc", "apt-get install runc");
    probe_tool(r, "bwrap", {"bwrap"}, "doctor.fallback.bwrap", "apt-get install bubblewrap");
    probe_tool(r, "iproute2", {"ip"}, "doctor.fallback.iproute2", "apt-get install iproute2");
    probe_tool(r, "firewall", {"nft", "iptables"}, "doctor.fallback.firewall", "apt-get install nftables");
    choose_backends(r);
    return r;
}

nlohmann::json to_json(const HostReport& r) {
    using nlohmann::json;
    json caps = json::array();
    for (const auto& c : r.capabilities) {
        caps.push_back({{"id", c.id},
                        {"available", c.available},
                        {"degraded", c.degraded},
                        {"status", !c.available ? "missing" : c.degraded ? "degraded" : "ok"},
                        {"detail", c.detail},
                        {"fallback_key", c.fallback_key},
                        {"fix", c.fix}});
    }
    json j = {
        {"root", r.root},
        {"euid", r.euid},
        {"kernel", r.kernel},
        {"arch", r.arch},
        {"distro", r.distro},
        {"user_namespaces", r.user_namespaces},
        {"namespaces", {{"all", r.namespaces}, {"created", r.namespaces_created}, {"failed", r.namespaces_failed}}},
        {"cgroup",
         {{"layout", cgroup_layout_name(r.cgroup_layout)},
          {"controllers", r.cgroup_controllers},
          {"writable", r.cgroup_writable}}},
        {"overlay", {{"available", r.overlay}, {"in_user_namespace", r.overlay_in_userns}}},
        {"seccomp", r.seccomp},
        {"qemu", {{"path", r.qemu_path}, {"version", r.qemu_version}}},
        {"kvm", {{"available", r.kvm}, {"timed_out", r.kvm_timed_out}}},
        {"display", r.display},
        {"korean_font", r.korean_font},
        {"container_backend", r.container_backend},
        {"vm_backend", r.vm_backend},
        {"capabilities", caps},
    };
    if (!r.error.empty()) j["error"] = r.error;
    return j;
}

}  // namespace isolab::host
