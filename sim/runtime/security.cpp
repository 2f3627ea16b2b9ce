// Capabilities, no_new_privs, seccomp and masked/read-only paths (see security.hpp for the order
// in which a container init applies them).
#include "sim/runtime/security.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <seccomp.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <utility>

#include "sim/core/safe_path.hpp"
#include "sim/core/files.hpp"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

namespace isolab::security {
namespace {

// An owned descriptor. Local rather than isolab::UniqueFd so that this file links on its own
// (the container init and the tests build it standalone).
using Fd = UniqueFd;  // sim/core/files.hpp

std::string join(const std::vector<std::string>& items, const char* sep = ", ") {
    std::string out;
    for (const auto& s : items) {
        if (!out.empty()) out += sep;
        out += s;
    }
    return out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

// ---- Capabilities -------------------------------------------------------------------------

// The kernel's highest capability number. libcap may know fewer or more capabilities than the
// running kernel, so the kernel is asked. When /proc is not mounted (an early init), probing the
// bounding set finds the same answer: PR_CAPBSET_READ fails with EINVAL past the last one.
int kernel_last_cap() {
    if (FILE* f = std::fopen("/proc/sys/kernel/cap_last_cap", "re")) {
        int last = -1;
        int n = std::fscanf(f, "%d", &last);
        std::fclose(f);
        if (n == 1 && last >= 0) return last;
    }
    int cap = 0;
    while (::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0) ++cap;
    return cap - 1;
}

// "CAP_SYS_ADMIN" for capability 21; the number for one libcap does not name.
std::string capability_name(cap_value_t cap) {
    char* raw = cap_to_name(cap);
    if (!raw) return std::to_string(cap);
    std::string name = raw;
    cap_free(raw);
    for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (name.rfind("CAP_", 0) != 0) name = "CAP_" + name;
    return name;
}

// Checks every name before the caller changes anything. The shape is checked first because
// cap_from_name also accepts numbers and comma lists ("CAP_CHOWN,CAP_KILL" reads as CAP_CHOWN).
Result<std::vector<cap_value_t>> parse_capabilities(const std::vector<std::string>& names,
                                                    int last_cap) {
    std::vector<cap_value_t> caps;
    for (const auto& name : names) {
        bool shaped = name.size() > 4 && name.rfind("CAP_", 0) == 0 &&
                      std::all_of(name.begin() + 4, name.end(), [](char c) {
                          return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
                      });
        cap_value_t cap = -1;
        if (!shaped || cap_from_name(name.c_str(), &cap) != 0 || cap < 0)
            return make_error("capability `" + name +
                              "`: unknown capability name (expected a name like CAP_CHOWN)");
        if (cap > last_cap)
            return make_error("capability `" + name + "`: not supported by this kernel (its last is " +
                              capability_name(last_cap) + ")");
        if (std::find(caps.begin(), caps.end(), cap) == caps.end()) caps.push_back(cap);
    }
    return caps;
}

Status drop_bounding(const std::vector<cap_value_t>& keep, int last_cap) {
    for (cap_value_t cap = 0; cap <= last_cap; ++cap) {
        if (std::find(keep.begin(), keep.end(), cap) != keep.end()) continue;
        // Already absent: skipping it lets a process without CAP_SETPCAP call this harmlessly.
        if (::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 0) continue;
        if (cap_drop_bound(cap) != 0)
            return errno_error("drop `" + capability_name(cap) + "` from the bounding set", errno);
    }
    return {};
}

// Names the capabilities of `keep` the process no longer holds, to explain an EPERM.
std::vector<std::string> missing_from_permitted(const std::vector<cap_value_t>& keep) {
    std::vector<std::string> missing;
    cap_t current = cap_get_proc();
    if (!current) return missing;
    for (cap_value_t cap : keep) {
        cap_flag_value_t v = CAP_CLEAR;
        if (cap_get_flag(current, cap, CAP_PERMITTED, &v) == 0 && v != CAP_SET)
            missing.push_back(capability_name(cap));
    }
    cap_free(current);
    return missing;
}

Status set_sets(const std::vector<cap_value_t>& keep) {
    std::unique_ptr<std::remove_pointer_t<cap_t>, int (*)(void*)> caps(cap_init(), cap_free);
    if (!caps) return errno_error("capabilities: allocate a capability set", errno);
    if (!keep.empty()) {
        // The inheritable set stays empty, as in Docker since 20.10.14 and runc: a non-empty one
        // lets a program with inheritable file capabilities gain them (CVE-2022-24769).
        for (cap_flag_t set : {CAP_PERMITTED, CAP_EFFECTIVE}) {
            if (cap_set_flag(caps.get(), set, static_cast<int>(keep.size()), keep.data(), CAP_SET) != 0)
                return errno_error("capabilities: build the capability set", errno);
        }
    }
    if (cap_set_proc(caps.get()) != 0) {
        int err = errno;
        std::vector<std::string> names;
        for (cap_value_t cap : keep) names.push_back(capability_name(cap));
        std::string what = "set capabilities {" + join(names) + "}";
        if (auto missing = missing_from_permitted(keep); err == EPERM && !missing.empty())
            what += " (not in the permitted set: " + join(missing) + ")";
        return errno_error(what, err);
    }
    // Ambient capabilities survive execve of ordinary programs even for non-root users; a
    // container starts with none.
    if (cap_reset_ambient() != 0 && errno != EINVAL)  // EINVAL: kernel before 4.3, no ambient set
        return errno_error("clear the ambient capability set", errno);
    return {};
}

// ---- seccomp ------------------------------------------------------------------------------

enum class ArgMatch {
    Any,                  // every call to the syscall
    CloneNamespaceFlags,  // clone with any CLONE_NEW* flag
    VsockFamily,          // socket(AF_VSOCK, ...)
};

struct DenyRule {
    std::vector<const char*> names;
    int errno_value;
    ArgMatch match;
    // Docker allows these syscalls to a container holding any of these capabilities.
    std::vector<const char*> allowed_with;
    const char* comment;
};

// Derived from moby profiles/seccomp/default.json by listing every syscall libseccomp knows on
// x86_64 and aarch64 that the profile does not allow under Docker's default capabilities.
// Syscalls newer than that profile (cachestat, fchmodat2, futex_wait, map_shadow_stack...) are
// allowed, as newer Docker profiles allow them. Names absent from an architecture are skipped.
const std::vector<DenyRule>& deny_rules() {
    static const std::vector<DenyRule> rules = {
        {{"_sysctl", "add_key", "afs_syscall", "create_module", "get_kernel_syms", "getpmsg",
          "kexec_file_load", "kexec_load", "keyctl", "migrate_pages", "move_pages", "nfsservctl",
          "pivot_root", "putpmsg", "query_module", "request_key", "security", "swapoff", "swapon",
          "sysfs", "tuxcall", "uselib", "userfaultfd", "ustat", "vm86", "vm86old", "vserver"},
         EPERM, ArgMatch::Any, {},
         "never allowed by Docker's default profile: kernel keyring, kexec, swap, obsolete calls"},
        {{"fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie",
          "mount", "mount_setattr", "move_mount", "open_tree", "quotactl", "quotactl_fd",
          "setdomainname", "sethostname", "setns", "umount", "umount2", "unshare"},
         EPERM, ArgMatch::Any, {"CAP_SYS_ADMIN"}, "allowed by Docker with CAP_SYS_ADMIN"},
        {{"bpf"}, EPERM, ArgMatch::Any, {"CAP_SYS_ADMIN", "CAP_BPF"},
         "allowed by Docker with CAP_SYS_ADMIN or CAP_BPF"},
        {{"perf_event_open"}, EPERM, ArgMatch::Any, {"CAP_SYS_ADMIN", "CAP_PERFMON"},
         "allowed by Docker with CAP_SYS_ADMIN or CAP_PERFMON"},
        {{"syslog"}, EPERM, ArgMatch::Any, {"CAP_SYS_ADMIN", "CAP_SYSLOG"},
         "allowed by Docker with CAP_SYS_ADMIN or CAP_SYSLOG"},
        {{"clone"}, EPERM, ArgMatch::CloneNamespaceFlags, {"CAP_SYS_ADMIN"},
         "creating namespaces is allowed by Docker with CAP_SYS_ADMIN"},
        {{"clone3"}, ENOSYS, ArgMatch::Any, {"CAP_SYS_ADMIN"},
         "its flags are in memory a filter cannot read; ENOSYS makes glibc fall back to clone"},
        {{"reboot"}, EPERM, ArgMatch::Any, {"CAP_SYS_BOOT"}, "allowed by Docker with CAP_SYS_BOOT"},
        {{"chroot"}, EPERM, ArgMatch::Any, {"CAP_SYS_CHROOT"},
         "allowed by Docker with CAP_SYS_CHROOT"},
        {{"delete_module", "init_module", "finit_module"}, EPERM, ArgMatch::Any, {"CAP_SYS_MODULE"},
         "allowed by Docker with CAP_SYS_MODULE"},
        {{"acct"}, EPERM, ArgMatch::Any, {"CAP_SYS_PACCT"}, "allowed by Docker with CAP_SYS_PACCT"},
        {{"kcmp", "pidfd_getfd", "process_madvise"}, EPERM, ArgMatch::Any, {"CAP_SYS_PTRACE"},
         "allowed by Docker with CAP_SYS_PTRACE"},
        {{"iopl", "ioperm"}, EPERM, ArgMatch::Any, {"CAP_SYS_RAWIO"},
         "allowed by Docker with CAP_SYS_RAWIO"},
        {{"settimeofday", "stime", "clock_settime", "clock_settime64"}, EPERM, ArgMatch::Any,
         {"CAP_SYS_TIME"}, "allowed by Docker with CAP_SYS_TIME"},
        {{"vhangup"}, EPERM, ArgMatch::Any, {"CAP_SYS_TTY_CONFIG"},
         "allowed by Docker with CAP_SYS_TTY_CONFIG"},
        {{"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"}, EPERM,
         ArgMatch::Any, {"CAP_SYS_NICE"}, "allowed by Docker with CAP_SYS_NICE"},
        {{"open_by_handle_at"}, EPERM, ArgMatch::Any, {"CAP_DAC_READ_SEARCH"},
         "allowed by Docker with CAP_DAC_READ_SEARCH (the 2014 \"shocker\" escape used it)"},
        {{"socket"}, EPERM, ArgMatch::VsockFamily, {}, "AF_VSOCK sockets reach the hypervisor"},
    };
    return rules;
}

// The flags Docker's profile tests (mask 0x7E020000). CLONE_NEWTIME is absent on purpose: in
// clone(2) its bit belongs to the exit-signal byte; only unshare and clone3 take it.
constexpr unsigned long kCloneNamespaceFlags[] = {CLONE_NEWNS,  CLONE_NEWUTS, CLONE_NEWIPC,
                                                  CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
                                                  CLONE_NEWCGROUP};

bool rule_active(const DenyRule& rule, const std::vector<std::string>& capabilities) {
    return std::none_of(rule.allowed_with.begin(), rule.allowed_with.end(),
                        [&](const char* cap) { return contains(capabilities, cap); });
}

// On s390 the clone flags are the second argument.
unsigned clone_flags_arg() {
    uint32_t arch = seccomp_arch_native();
    return (arch == SCMP_ARCH_S390 || arch == SCMP_ARCH_S390X) ? 1 : 0;
}

const char* native_arch_name() {
    switch (seccomp_arch_native()) {
        case SCMP_ARCH_X86_64: return "SCMP_ARCH_X86_64";
        case SCMP_ARCH_X86: return "SCMP_ARCH_X86";
        case SCMP_ARCH_X32: return "SCMP_ARCH_X32";
        case SCMP_ARCH_AARCH64: return "SCMP_ARCH_AARCH64";
        case SCMP_ARCH_ARM: return "SCMP_ARCH_ARM";
        case SCMP_ARCH_RISCV64: return "SCMP_ARCH_RISCV64";
        case SCMP_ARCH_PPC64LE: return "SCMP_ARCH_PPC64LE";
        case SCMP_ARCH_S390X: return "SCMP_ARCH_S390X";
        case SCMP_ARCH_S390: return "SCMP_ARCH_S390";
        default: return "SCMP_ARCH_NATIVE";
    }
}

// The syscall number on this architecture, or nothing when it does not exist here. libseccomp
// answers __NR_SCMP_ERROR for a name it does not know and a negative pseudo-number for one that
// exists only on other architectures; both are skipped.
std::optional<int> native_syscall(const char* name) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr < 0) return std::nullopt;
    return nr;
}

Status check_capability_names(const std::vector<std::string>& capabilities) {
    auto parsed = parse_capabilities(capabilities, kernel_last_cap());
    if (!parsed) return parsed.error();
    return {};
}

// ---- Masked and read-only paths -----------------------------------------------------------

std::string fd_path(const Fd& fd) { return safe::fd_path(fd.get()); }

// Opens PATH without following a final symlink, for mounting through /proc/self/fd. Nothing when
// PATH does not exist (Docker's lists name files some kernels lack). WHAT prefixes errors.
Result<std::optional<Fd>> open_mount_target(const std::string& what, const std::string& path,
                                            struct stat* st) {
    Fd fd(::open(path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) {
        int err = errno;
        if (err == ENOENT || err == ENOTDIR) return std::optional<Fd>{};
        return errno_error(what, err);
    }
    if (::fstat(fd.get(), st) != 0) return errno_error(what + ": stat", errno);
    if (S_ISLNK(st->st_mode)) return make_error(what + ": is a symbolic link; refusing to mount over it");
    return std::optional<Fd>(std::move(fd));
}

// The container's /dev/null, checked to be the null device itself (CVE-2025-31133: a symlink or
// another file planted there would be bind-mounted over the masked path instead).
Result<Fd> open_null_device(const std::string& rootfs_prefix) {
    std::string path = rootfs_prefix + "/dev/null";
    Fd fd(::open(path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0)
        return errno_error("mask paths: open `" + path + "` (set up /dev before masking)", errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return errno_error("mask paths: stat `" + path + "`", errno);
    if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 1 || minor(st.st_rdev) != 3)
        return make_error("mask paths: `" + path +
                          "` is not the null device (character device 1:3); refusing to use it");
    return fd;
}

Status mask_one(const std::string& rootfs_prefix, const std::string& path, const Fd* null_device) {
    std::string target = rootfs_prefix + path;
    std::string what = "mask `" + target + "`";
    struct stat st {};
    auto opened = open_mount_target(what, target, &st);
    if (!opened) return opened.error();
    if (!opened->has_value()) return {};
    const Fd& fd = **opened;
    if (S_ISDIR(st.st_mode)) {
        if (::mount("tmpfs", fd_path(fd).c_str(), "tmpfs",
                    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
            return errno_error(what, errno);
        return {};
    }
    std::optional<Fd> own_null;
    if (!null_device) {
        auto null_fd = open_null_device(rootfs_prefix);
        if (!null_fd) return null_fd.error();
        own_null.emplace(std::move(*null_fd));
        null_device = &*own_null;
    }
    if (::mount(fd_path(*null_device).c_str(), fd_path(fd).c_str(), nullptr, MS_BIND, nullptr) != 0)
        return errno_error(what, errno);
    return {};
}

// The flags a bind remount must repeat. In a user namespace the kernel locks nosuid, nodev,
// noexec and the atime mode of mounts inherited from the parent namespace and rejects a remount
// that would clear them (EPERM); runc reads them back the same way.
unsigned long locked_mount_flags(const struct statvfs& sv) {
    unsigned long flags = 0;
    if (sv.f_flag & ST_NOSUID) flags |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV) flags |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
    if (sv.f_flag & ST_NOATIME)
        flags |= MS_NOATIME;
    else if (sv.f_flag & ST_RELATIME)
        flags |= MS_RELATIME;
    else if (sv.f_flag & ST_NODIRATIME)
        flags |= MS_STRICTATIME;  // an atime flag is passed, so the mode must be stated
    if (sv.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
    return flags;
}

}  // namespace

// ---- Capabilities -------------------------------------------------------------------------

const std::vector<std::string>& docker_default_capabilities() {
    static const std::vector<std::string> caps = {
        "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",     "CAP_MKNOD",
        "CAP_NET_RAW", "CAP_SETGID",      "CAP_SETUID",           "CAP_SETFCAP",    "CAP_SETPCAP",
        "CAP_NET_BIND_SERVICE",           "CAP_SYS_CHROOT",       "CAP_KILL",       "CAP_AUDIT_WRITE",
    };
    return caps;
}

// Docker's rule (moby oci/caps initCaps): a capability exists for containers when this kernel
// has it and this process's bounding set holds it; a machine (or a container IsoLab runs in) may
// have dropped some.
bool capability_available(cap_value_t cap) { return cap <= kernel_last_cap() && ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1; }

std::vector<std::string> all_capabilities() {
    std::vector<std::string> out;
    int last = kernel_last_cap();
    for (cap_value_t cap = 0; cap <= last; ++cap)
        if (capability_available(cap)) out.push_back(capability_name(cap));
    return out;
}

Result<std::vector<std::string>> normalize_capabilities(const std::vector<std::string>& names) {
    std::vector<std::string> out;
    const int last = kernel_last_cap();
    for (std::string c : names) {
        for (char& ch : c) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        if (c == "ALL") {
            out.push_back(c);
            continue;
        }
        if (c.rfind("CAP_", 0) != 0) c = "CAP_" + c;
        cap_value_t cap = -1;
        bool shaped = c.size() > 4 && std::all_of(c.begin() + 4, c.end(), [](char ch) {
                          return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
                      });
        if (!shaped || cap_from_name(c.c_str(), &cap) != 0 || cap < 0)
            return make_error("unknown capability: \"" + c + "\"");
        if (cap > last || !capability_available(cap))
            return make_error("capability not supported by your kernel or not available in the current environment: \"" +
                              c + "\"");
        out.push_back(c);
    }
    return out;
}

Result<std::vector<std::string>> tweak_capabilities(const std::vector<std::string>& basics,
                                                    const std::vector<std::string>& add,
                                                    const std::vector<std::string>& drop, bool privileged) {
    if (privileged) return all_capabilities();
    if (add.empty() && drop.empty()) return basics;
    auto adds = normalize_capabilities(add);
    if (!adds) return adds.error();
    auto drops = normalize_capabilities(drop);
    if (!drops) return drops.error();
    auto has = [](const std::vector<std::string>& v, const std::string& x) {
        return std::find(v.begin(), v.end(), x) != v.end();
    };
    std::vector<std::string> out;
    if (has(*adds, "ALL")) {
        for (const auto& c : all_capabilities())
            if (!has(*drops, c)) out.push_back(c);
        return out;
    }
    if (has(*drops, "ALL")) {
        for (const auto& c : *adds)
            if (!has(out, c)) out.push_back(c);
        return out;
    }
    for (const auto& c : basics)
        if (!has(*drops, c)) out.push_back(c);
    for (const auto& c : *adds)
        if (!has(out, c)) out.push_back(c);
    return out;
}

Status drop_bounding_set(const std::vector<std::string>& keep) {
    int last_cap = kernel_last_cap();
    auto caps = parse_capabilities(keep, last_cap);
    if (!caps) return caps.error();
    return drop_bounding(*caps, last_cap);
}

Status set_process_capabilities(const std::vector<std::string>& keep) {
    auto caps = parse_capabilities(keep, kernel_last_cap());
    if (!caps) return caps.error();
    return set_sets(*caps);
}

Status apply_capabilities(const std::vector<std::string>& keep) {
    int last_cap = kernel_last_cap();
    auto caps = parse_capabilities(keep, last_cap);
    if (!caps) return caps.error();
    // The bounding set goes first: dropping from it needs CAP_SETPCAP, which the second step
    // removes from the effective set unless `keep` names it.
    ISOLAB_TRY(drop_bounding(*caps, last_cap));
    return set_sets(*caps);
}

// ---- no_new_privs -------------------------------------------------------------------------

Status set_no_new_privs() {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno_error("set no_new_privs", errno);
    return {};
}

// ---- seccomp ------------------------------------------------------------------------------

const std::vector<std::string>& docker_blocked_syscalls() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const auto& rule : deny_rules()) {
            if (rule.match != ArgMatch::Any || rule.errno_value != EPERM) continue;
            if (!rule_active(rule, docker_default_capabilities())) continue;
            for (const char* n : rule.names)
                if (!contains(out, n)) out.emplace_back(n);
        }
        std::sort(out.begin(), out.end());
        return out;
    }();
    return names;
}

Status apply_seccomp_default(const std::vector<std::string>& capabilities) {
    ISOLAB_TRY_CTX(check_capability_names(capabilities), "seccomp");
    std::unique_ptr<void, void (*)(scmp_filter_ctx)> ctx(seccomp_init(SCMP_ACT_ALLOW),
                                                         seccomp_release);
    if (!ctx) return make_error("seccomp: create filter: libseccomp could not allocate it");

    // no_new_privs stays the caller's decision (Docker's --security-opt no-new-privileges), so
    // libseccomp must not set it behind our back. Raw return codes give real errno values.
    // A syscall through a foreign ABI (int 0x80 on x86_64) kills the whole process rather than
    // one thread.
    const std::initializer_list<std::pair<scmp_filter_attr, uint32_t>> attributes = {
        {SCMP_FLTATR_CTL_NNP, 0}, {SCMP_FLTATR_API_SYSRAWRC, 1}, {SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS}};
    for (auto [attr, value] : attributes) {
        if (int rc = seccomp_attr_set(ctx.get(), attr, value); rc < 0)
            return errno_error("seccomp: set filter attribute " + std::to_string(attr), -rc);
    }

    for (const auto& rule : deny_rules()) {
        if (!rule_active(rule, capabilities)) continue;
        uint32_t action = SCMP_ACT_ERRNO(static_cast<uint16_t>(rule.errno_value));
        for (const char* name : rule.names) {
            auto nr = native_syscall(name);
            if (!nr) continue;
            std::string what = std::string("seccomp: add rule for `") + name + "`";
            int rc = 0;
            switch (rule.match) {
                case ArgMatch::Any:
                    rc = seccomp_rule_add(ctx.get(), action, *nr, 0);
                    break;
                case ArgMatch::CloneNamespaceFlags:
                    // One rule per flag: rules for one syscall combine with OR, the comparisons
                    // inside one rule with AND.
                    for (unsigned long flag : kCloneNamespaceFlags) {
                        scmp_arg_cmp cmp{clone_flags_arg(), SCMP_CMP_MASKED_EQ, flag, flag};
                        rc = seccomp_rule_add_array(ctx.get(), action, *nr, 1, &cmp);
                        if (rc < 0) break;
                    }
                    break;
                case ArgMatch::VsockFamily:
                    rc = seccomp_rule_add(ctx.get(), action, *nr, 1,
                                          SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(AF_VSOCK)));
                    break;
            }
            if (rc < 0) return errno_error(what, -rc);
        }
    }

    if (int rc = seccomp_load(ctx.get()); rc < 0) {
        if (-rc == EACCES)
            return errno_error(
                "seccomp: load filter (the kernel requires no_new_privs or CAP_SYS_ADMIN: call "
                "set_no_new_privs first, or load the filter before dropping capabilities)",
                EACCES);
        return errno_error("seccomp: load filter", -rc);
    }
    return {};
}

Result<nlohmann::json> seccomp_oci_json(const std::vector<std::string>& capabilities) {
    if (auto s = check_capability_names(capabilities); !s) return s.error().wrap("seccomp");
    nlohmann::json syscalls = nlohmann::json::array();
    for (const auto& rule : deny_rules()) {
        if (!rule_active(rule, capabilities)) continue;
        nlohmann::json names = nlohmann::json::array();
        for (const char* name : rule.names)
            if (native_syscall(name)) names.push_back(name);
        if (names.empty()) continue;
        auto entry = [&](nlohmann::json args) {
            nlohmann::json e = {{"names", names},
                                {"action", "SCMP_ACT_ERRNO"},
                                {"errnoRet", rule.errno_value},
                                {"comment", rule.comment}};
            if (!args.is_null()) e["args"] = std::move(args);
            return e;
        };
        switch (rule.match) {
            case ArgMatch::Any:
                syscalls.push_back(entry(nullptr));
                break;
            case ArgMatch::CloneNamespaceFlags:
                // OCI's MASKED_EQ: `value` is the mask, `valueTwo` the expected result.
                for (unsigned long flag : kCloneNamespaceFlags)
                    syscalls.push_back(entry(nlohmann::json::array({{{"index", clone_flags_arg()},
                                                                      {"value", flag},
                                                                      {"valueTwo", flag},
                                                                      {"op", "SCMP_CMP_MASKED_EQ"}}})));
                break;
            case ArgMatch::VsockFamily:
                syscalls.push_back(entry(nlohmann::json::array(
                    {{{"index", 0}, {"value", AF_VSOCK}, {"valueTwo", 0}, {"op", "SCMP_CMP_EQ"}}})));
                break;
        }
    }
    return nlohmann::json{{"defaultAction", "SCMP_ACT_ALLOW"},
                          {"architectures", nlohmann::json::array({native_arch_name()})},
                          {"syscalls", std::move(syscalls)}};
}

Result<nlohmann::json> seccomp_profile_to_oci(const std::string& profile_text,
                                              const std::vector<std::string>& capabilities) {
    using nlohmann::json;
    json p = json::parse(profile_text, nullptr, false);
    if (p.is_discarded() || !p.is_object())
        return make_error("decoding seccomp profile failed: the profile is not a JSON object");
    auto list = [](const json& j, const char* key) {
        std::vector<std::string> out;
        if (auto it = j.find(key); it != j.end() && it->is_array())
            for (const auto& v : *it)
                if (v.is_string()) out.push_back(v.get<std::string>());
        return out;
    };
    auto has = [](const std::vector<std::string>& v, const std::string& x) {
        return std::find(v.begin(), v.end(), x) != v.end();
    };
    const std::string arch = native_arch_name();
    json out = json::object();
    if (!p.contains("defaultAction") || !p["defaultAction"].is_string())
        return make_error("decoding seccomp profile failed: \"defaultAction\" is missing");
    out["defaultAction"] = p["defaultAction"];
    if (p.contains("defaultErrnoRet")) out["defaultErrnoRet"] = p["defaultErrnoRet"];
    // moby profiles/seccomp setupSeccomp: the native architecture's entry of archMap, with its
    // sub-architectures; or the plain list.
    json arches = json::array();
    if (auto am = p.find("archMap"); am != p.end() && am->is_array()) {
        for (const auto& a : *am)
            if (a.value("architecture", "") == arch) {
                arches.push_back(arch);
                for (const auto& sub : list(a, "subArchitectures")) arches.push_back(sub);
            }
    } else {
        for (const auto& a : list(p, "architectures")) arches.push_back(a);
    }
    if (!arches.empty()) out["architectures"] = arches;
    json syscalls = json::array();
    if (auto sc = p.find("syscalls"); sc != p.end()) {
        if (!sc->is_array()) return make_error("decoding seccomp profile failed: \"syscalls\" is not a list");
        for (const auto& call : *sc) {
            if (!call.is_object()) return make_error("decoding seccomp profile failed: a syscalls entry is not an object");
            const json inc = call.value("includes", json::object()), exc = call.value("excludes", json::object());
            // Skipped as moby skips it: for another architecture, or for capabilities the
            // container does (excludes) or does not (includes: all of them) hold.
            if (has(list(exc, "arches"), arch)) continue;
            bool excluded = false;
            for (const auto& c : list(exc, "caps")) excluded = excluded || has(capabilities, c);
            if (excluded) continue;
            auto inc_arches = list(inc, "arches");
            if (!inc_arches.empty() && !has(inc_arches, arch)) continue;
            bool missing = false;
            for (const auto& c : list(inc, "caps")) missing = missing || !has(capabilities, c);
            if (missing) continue;
            json names = json::array();
            for (const auto& n : list(call, "names")) names.push_back(n);
            if (call.contains("name")) {
                if (!names.empty())
                    return make_error("'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'");
                names.push_back(call["name"]);
            }
            if (names.empty()) continue;
            json e = {{"names", names}, {"action", call.value("action", "")}};
            if (call.contains("errnoRet")) e["errnoRet"] = call["errnoRet"];
            if (call.contains("args") && !call["args"].is_null()) e["args"] = call["args"];
            syscalls.push_back(std::move(e));
        }
    }
    out["syscalls"] = syscalls;
    return out;
}

// ---- Masked and read-only paths -----------------------------------------------------------

const std::vector<std::string>& docker_masked_paths() {
    static const std::vector<std::string> paths = [] {
        std::vector<std::string> out = {
            "/proc/asound",    "/proc/acpi",        "/proc/interrupts", "/proc/kcore",
            "/proc/keys",      "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
            "/proc/sched_debug", "/proc/scsi",      "/sys/firmware",
            "/sys/devices/virtual/powercap",  // GHSA-jq35-85cj-fj4p (RAPL energy readings)
        };
        // Per-CPU thermal throttle counters leak host activity (GHSA-6fw5-f8r9-fgfm).
        std::vector<int> cpus;
        if (DIR* dir = ::opendir("/sys/devices/system/cpu")) {
            while (const dirent* e = ::readdir(dir)) {
                std::string name = e->d_name;
                if (name.size() > 3 && name.rfind("cpu", 0) == 0 &&
                    std::all_of(name.begin() + 3, name.end(), [](char c) { return c >= '0' && c <= '9'; }))
                    cpus.push_back(std::atoi(name.c_str() + 3));
            }
            ::closedir(dir);
        }
        std::sort(cpus.begin(), cpus.end());
        for (int cpu : cpus) {
            std::string p = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/thermal_throttle";
            struct stat st {};
            if (::stat(p.c_str(), &st) == 0) out.push_back(p);
        }
        return out;
    }();
    return paths;
}

const std::vector<std::string>& docker_readonly_paths() {
    static const std::vector<std::string> paths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                                   "/proc/sysrq-trigger"};
    return paths;
}

Status mask_path(const std::string& rootfs_prefix, const std::string& path) {
    return mask_one(rootfs_prefix, path, nullptr);
}

Status apply_masked_paths(const std::string& rootfs_prefix) {
    auto null_device = open_null_device(rootfs_prefix);
    if (!null_device) return null_device.error();
    for (const auto& path : docker_masked_paths())
        ISOLAB_TRY(mask_one(rootfs_prefix, path, &*null_device));
    return {};
}

Status readonly_path(const std::string& rootfs_prefix, const std::string& path) {
    std::string target = rootfs_prefix + path;
    std::string what = "make `" + target + "` read-only";
    struct stat st {};
    auto opened = open_mount_target(what, target, &st);
    if (!opened) return opened.error();
    if (!opened->has_value()) return {};
    const Fd& below = **opened;
    if (::mount(fd_path(below).c_str(), fd_path(below).c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
        return errno_error(what + ": bind", errno);

    // The descriptor opened before the bind still names the mount underneath; a remount must
    // name the new bind mount's root, so the path is opened again.
    struct stat again_st {};
    auto again = open_mount_target(what, target, &again_st);
    if (!again) return again.error();
    if (!again->has_value() || again_st.st_dev != st.st_dev || again_st.st_ino != st.st_ino)
        return make_error(what + ": the path changed while it was being bind-mounted");
    const Fd& bind = **again;
    struct statvfs sv {};
    if (::fstatvfs(bind.get(), &sv) != 0) return errno_error(what + ": statvfs", errno);
    unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | locked_mount_flags(sv);
    if (::mount(nullptr, fd_path(bind).c_str(), nullptr, flags, nullptr) != 0)
        return errno_error(what + ": remount", errno);
    return {};
}

Status apply_readonly_paths(const std::string& rootfs_prefix) {
    for (const auto& path : docker_readonly_paths()) ISOLAB_TRY(readonly_path(rootfs_prefix, path));
    return {};
}

}  // namespace isolab::security
