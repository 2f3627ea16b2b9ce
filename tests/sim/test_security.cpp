// Security layer tests against the real kernel (run as root). Every case that changes process
// state does it in a forked child, inside private mount/UTS/PID namespaces where it touches
// mounts or the hostname, so the host's /proc, hostname and mount table are never modified.
// A child reports the checks that failed as text through a pipe; the parent asserts it is empty.
#include <doctest/doctest.h>

#include "tests/skip.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seccomp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "sim/host/probe.hpp"
#include "sim/runtime/security.hpp"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

namespace sec = isolab::security;

namespace {

// Failures collected in a child. EXPECT records the expression and errno at that moment.
struct Checks {
    std::string failures;
    void fail(const std::string& what) { failures += what + "\n"; }
};

#define EXPECT(checks, cond)                                                                  \
    do {                                                                                      \
        bool expect_ok_ = (cond);                                                             \
        int expect_errno_ = errno;                                                            \
        if (!expect_ok_)                                                                      \
            (checks).fail(std::string("line ") + std::to_string(__LINE__) + ": " #cond +      \
                          " (errno " + std::strerror(expect_errno_) + ")");                   \
    } while (0)

// Expects CALL to return -1 with errno ERR.
#define EXPECT_ERRNO(checks, call, err)                                                       \
    do {                                                                                      \
        errno = 0;                                                                            \
        long r_ = static_cast<long>(call);                                                    \
        int e_ = errno;                                                                       \
        if (r_ != -1 || e_ != (err))                                                          \
            (checks).fail(std::string("line ") + std::to_string(__LINE__) + ": " #call +      \
                          " returned " + std::to_string(r_) + " errno " + std::strerror(e_) + \
                          ", expected " + std::strerror(err));                                \
    } while (0)

#define EXPECT_OK(checks, status)                                                             \
    do {                                                                                      \
        auto st_ = (status);                                                                  \
        if (!st_.ok())                                                                        \
            (checks).fail(std::string("line ") + std::to_string(__LINE__) + ": " #status +    \
                          " failed: " + st_.error().message);                                 \
    } while (0)

struct ChildResult {
    int status = 0;
    std::string report;
    bool exited_ok() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }
};

void write_all(int fd, const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
        ssize_t n = ::write(fd, s.data() + off, s.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        off += static_cast<size_t>(n);
    }
}

// Runs BODY in a forked child; the child's process state dies with it. BODY returns its
// failures ("" = all passed). The child never returns into doctest.
ChildResult run_child(const std::function<std::string()>& body) {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(fds[0]);
        std::string out;
        try {
            out = body();
        } catch (const std::exception& e) {
            out = std::string("exception: ") + e.what();
        }
        write_all(fds[1], out);
        ::_exit(0);
    }
    ::close(fds[1]);
    ChildResult r;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        r.report.append(buf, static_cast<size_t>(n));
    }
    ::close(fds[0]);
    while (::waitpid(pid, &r.status, 0) < 0 && errno == EINTR) {
    }
    return r;
}

void require_child_passed(const ChildResult& r) {
    // In a chroot the kernel refuses user namespaces and MS_PRIVATE on "/": the set-up of these
    // cases cannot happen there. Say so instead of failing (CI and our machines are no chroot).
    if (isolab::host::in_chroot() && (r.report.find("setup") != std::string::npos ||
                                      r.report.find("user namespace") != std::string::npos ||
                                      r.report.find("private mounts") != std::string::npos)) {
        ISOLAB_SKIP("inside a chroot the kernel refuses this case's namespace set-up: " << r.report);
        return;
    }
    INFO("child report:\n" << r.report);
    CHECK(r.exited_ok());
    CHECK(r.report.empty());
}

// Forks inside a child (e.g. to become PID 1 of a new PID namespace) and returns the grandchild's
// report, or a failure line if it died.
std::string run_grandchild(const std::function<std::string()>& body) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return "pipe failed\n";
    pid_t pid = ::fork();
    if (pid < 0) return "fork failed\n";
    if (pid == 0) {
        ::close(fds[0]);
        std::string out;
        try {
            out = body();
        } catch (const std::exception& e) {
            out = std::string("exception: ") + e.what();
        }
        write_all(fds[1], out);
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string report;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        report.append(buf, static_cast<size_t>(n));
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        report += "grandchild died with status " + std::to_string(status) + "\n";
    return report;
}

bool write_text(const std::string& path, const std::string& text) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    return ok;
}

// Makes the calling process root of a new user namespace, mapped to its current host ids
// (the only mapping an unprivileged process may write for itself).
bool enter_user_namespace(unsigned host_uid, unsigned host_gid, int extra_flags = 0) {
    if (::unshare(CLONE_NEWUSER | extra_flags) != 0) return false;
    return write_text("/proc/self/setgroups", "deny") &&
           write_text("/proc/self/uid_map", "0 " + std::to_string(host_uid) + " 1") &&
           write_text("/proc/self/gid_map", "0 " + std::to_string(host_gid) + " 1");
}

// A private copy of the mount table, so nothing mounted here propagates to the host.
bool private_mounts() {
    return ::unshare(CLONE_NEWNS) == 0 && ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
}

bool in_bounding_set(int cap) { return ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1; }

bool has_flag(int cap, cap_flag_t set) {
    cap_t c = cap_get_proc();
    cap_flag_value_t v = CAP_CLEAR;
    cap_get_flag(c, cap, set, &v);
    cap_free(c);
    return v == CAP_SET;
}

int last_cap() {
    std::ifstream f("/proc/sys/kernel/cap_last_cap");
    int n = -1;
    f >> n;
    return n;
}

std::string status_field(const std::string& field) {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind(field + ":", 0) == 0) {
            auto v = line.substr(field.size() + 1);
            v.erase(0, v.find_first_not_of(" \t"));
            return v;
        }
    return "";
}

// Checks the process holds exactly Docker's capabilities, then that an operation needing
// CAP_SYS_ADMIN fails. The caller has unshared a UTS namespace, so sethostname could not reach
// the host's hostname even if the drop had failed.
void check_docker_capabilities(Checks& c) {
    EXPECT(c, !in_bounding_set(CAP_SYS_ADMIN));
    EXPECT(c, !in_bounding_set(CAP_NET_ADMIN));
    EXPECT(c, !in_bounding_set(CAP_SYS_MODULE));
    EXPECT(c, in_bounding_set(CAP_CHOWN));
    EXPECT(c, in_bounding_set(CAP_NET_BIND_SERVICE));
    EXPECT(c, !has_flag(CAP_SYS_ADMIN, CAP_EFFECTIVE));
    EXPECT(c, !has_flag(CAP_SYS_ADMIN, CAP_PERMITTED));
    EXPECT(c, has_flag(CAP_CHOWN, CAP_EFFECTIVE));
    EXPECT(c, has_flag(CAP_KILL, CAP_PERMITTED));
    EXPECT(c, !has_flag(CAP_AUDIT_WRITE, CAP_INHERITABLE));  // empty, as in Docker (CVE-2022-24769)
    EXPECT(c, ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_CHOWN, 0, 0) == 0);
    int kept = 0;
    for (int cap = 0; cap <= last_cap(); ++cap) kept += in_bounding_set(cap);
    EXPECT(c, kept == 14);
    EXPECT_ERRNO(c, ::sethostname("isolab-test", 11), EPERM);
}

}  // namespace

// ---- Capabilities -------------------------------------------------------------------------

TEST_CASE("docker_default_capabilities is moby's list of 14") {
    const auto& caps = sec::docker_default_capabilities();
    CHECK(caps.size() == 14);
    for (const char* name : {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
                             "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
                             "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"})
        CHECK(std::find(caps.begin(), caps.end(), name) != caps.end());
    CHECK(std::find(caps.begin(), caps.end(), "CAP_SYS_ADMIN") == caps.end());
}

TEST_CASE("apply_capabilities rejects a bad name before changing anything") {
    auto r = run_child([] {
        Checks c;
        for (const char* bad : {"CAP_FLY", "chown", "CAP_chown", "5", "CAP_CHOWN,CAP_KILL", "CAP_"}) {
            auto s = sec::apply_capabilities({"CAP_CHOWN", bad});
            EXPECT(c, !s.ok());
            if (!s.ok()) EXPECT(c, s.error().message.find(std::string("`") + bad + "`") != std::string::npos);
        }
        auto s = sec::apply_capabilities({"CAP_FLY"});
        if (!s.ok()) EXPECT(c, s.error().message == "capability `CAP_FLY`: unknown capability name "
                                                   "(expected a name like CAP_CHOWN)");
        EXPECT(c, in_bounding_set(CAP_SYS_ADMIN));  // untouched
        EXPECT(c, has_flag(CAP_SYS_ADMIN, CAP_EFFECTIVE));
        return c.failures;
    });
    require_child_passed(r);
}

TEST_CASE("apply_capabilities keeps exactly Docker's set, as real root") {
    auto r = run_child([] {
        Checks c;
        if (::unshare(CLONE_NEWUTS) != 0) return std::string("unshare(CLONE_NEWUTS) failed\n");
        EXPECT_OK(c, sec::apply_capabilities(sec::docker_default_capabilities()));
        check_docker_capabilities(c);
        return c.failures;
    });
    require_child_passed(r);
}

TEST_CASE("apply_capabilities works rootless, inside a user namespace") {
    auto r = run_child([] {
        Checks c;
        // Become an ordinary host user first, so every capability held below exists only in the
        // new user namespace. Changing uid clears "dumpable", which /proc/self/*_map needs.
        if (::setgroups(0, nullptr) != 0 || ::setresgid(1000, 1000, 1000) != 0 ||
            ::setresuid(1000, 1000, 1000) != 0 || ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0)
            return std::string("switch to uid 1000 failed\n");
        if (!enter_user_namespace(1000, 1000, CLONE_NEWUTS))
            return std::string("user namespace: ") + std::strerror(errno) + "\n";
        EXPECT(c, has_flag(CAP_SYS_ADMIN, CAP_EFFECTIVE));  // in the namespace, before the drop
        EXPECT_OK(c, sec::apply_capabilities(sec::docker_default_capabilities()));
        check_docker_capabilities(c);
        return c.failures;
    });
    require_child_passed(r);
}

TEST_CASE("apply_capabilities with an empty list leaves no capability at all") {
    auto r = run_child([] {
        Checks c;
        EXPECT_OK(c, sec::apply_capabilities({}));
        EXPECT(c, status_field("CapPrm") == "0000000000000000");
        EXPECT(c, status_field("CapEff") == "0000000000000000");
        EXPECT(c, status_field("CapInh") == "0000000000000000");
        EXPECT(c, status_field("CapBnd") == "0000000000000000");
        EXPECT(c, status_field("CapAmb") == "0000000000000000");
        return c.failures;
    });
    require_child_passed(r);
}

TEST_CASE("apply_capabilities names a capability the process no longer holds") {
    auto r = run_child([] {
        Checks c;
        EXPECT_OK(c, sec::apply_capabilities({"CAP_CHOWN", "CAP_SETPCAP"}));
        auto s = sec::apply_capabilities({"CAP_CHOWN", "CAP_KILL"});
        EXPECT(c, !s.ok());
        if (!s.ok())
            EXPECT(c, s.error().message == "set capabilities {CAP_CHOWN, CAP_KILL} (not in the permitted "
                                           "set: CAP_KILL): Operation not permitted");
        return c.failures;
    });
    require_child_passed(r);
}

TEST_CASE("set_no_new_privs sets the flag") {
    auto r = run_child([] {
        Checks c;
        EXPECT(c, ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0);
        EXPECT_OK(c, sec::set_no_new_privs());
        EXPECT(c, ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
        return c.failures;
    });
    require_child_passed(r);
}

// ---- seccomp ------------------------------------------------------------------------------

TEST_CASE("docker_blocked_syscalls follows Docker's profile") {
    const auto& names = sec::docker_blocked_syscalls();
    auto has = [&](const char* n) { return std::find(names.begin(), names.end(), n) != names.end(); };
    for (const char* n : {"mount", "umount2", "reboot", "kexec_load", "init_module", "finit_module",
                          "delete_module", "pivot_root", "swapon", "swapoff", "acct", "add_key",
                          "keyctl", "request_key", "bpf", "perf_event_open", "open_by_handle_at",
                          "setns", "unshare", "clock_settime", "settimeofday", "userfaultfd",
                          "mount_setattr", "move_mount", "open_tree", "fsopen", "fsconfig",
                          "fsmount", "fspick", "quotactl", "nfsservctl", "uselib", "ustat",
                          "sysfs", "_sysctl", "iopl", "ioperm", "kcmp", "syslog", "sethostname",
                          "process_madvise", "lookup_dcookie", "vm86", "umount"})
        CHECK_MESSAGE(has(n), n);
    // Conditional rules are not whole-syscall blocks; Docker allows these for its default caps.
    for (const char* n : {"clone", "clone3", "socket", "chroot", "adjtimex", "clock_adjtime",
                          "name_to_handle_at", "ptrace", "getpid", "fchmodat2"})
        CHECK_MESSAGE(!has(n), n);
    for (const auto& n : names) CHECK_MESSAGE(seccomp_syscall_resolve_name(n.c_str()) != __NR_SCMP_ERROR, n);
}

TEST_CASE("seccomp_oci_json has the OCI linux.seccomp shape") {
    auto j = sec::seccomp_oci_json();
    REQUIRE(j.ok());
    CHECK((*j)["defaultAction"] == "SCMP_ACT_ALLOW");
    REQUIRE((*j)["architectures"].size() == 1);
#if defined(__x86_64__)
    CHECK((*j)["architectures"][0] == "SCMP_ARCH_X86_64");
#endif
    bool mount_eperm = false, clone3_enosys = false, umount_listed = false;
    int clone_masked = 0;
    for (const auto& e : (*j)["syscalls"]) {
        CHECK(e["action"] == "SCMP_ACT_ERRNO");
        const auto& names = e["names"];
        auto has = [&](const char* n) { return std::find(names.begin(), names.end(), n) != names.end(); };
        if (has("mount")) mount_eperm = e["errnoRet"] == EPERM && !e.contains("args");
        if (has("clone3")) clone3_enosys = e["errnoRet"] == ENOSYS;
        if (has("umount")) umount_listed = true;
        if (has("clone")) {
            REQUIRE(e["args"].size() == 1);
            CHECK(e["args"][0]["op"] == "SCMP_CMP_MASKED_EQ");
            CHECK(e["args"][0]["value"] == e["args"][0]["valueTwo"]);
            ++clone_masked;
        }
    }
    CHECK(mount_eperm);
    CHECK(clone3_enosys);
    CHECK(clone_masked == 7);
#if defined(__x86_64__)
    CHECK_FALSE(umount_listed);  // x86_64 has only umount2
#endif

    auto admin = sec::seccomp_oci_json({"CAP_SYS_ADMIN"});
    REQUIRE(admin.ok());
    for (const auto& e : (*admin)["syscalls"])
        for (const char* n : {"mount", "clone", "clone3", "unshare"})
            CHECK(std::find(e["names"].begin(), e["names"].end(), n) == e["names"].end());

    auto bad = sec::seccomp_oci_json({"CAP_NOPE"});
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message.find("`CAP_NOPE`") != std::string::npos);
}

TEST_CASE("seccomp default filter: blocked calls fail, ordinary ones work") {
    auto r = run_child([] {
        Checks c;
        // Private mount and UTS namespaces first: should the filter fail to block, the calls
        // below would change only this child's copies.
        if (!private_mounts() || ::unshare(CLONE_NEWUTS) != 0)
            return std::string("namespace setup failed\n");
        EXPECT_OK(c, sec::set_no_new_privs());
        EXPECT_OK(c, sec::apply_seccomp_default());
        EXPECT(c, status_field("Seccomp") == "2");

        EXPECT_ERRNO(c, ::mount("none", "/tmp", "tmpfs", 0, nullptr), EPERM);
        EXPECT_ERRNO(c, ::umount2("/tmp", MNT_DETACH), EPERM);
        EXPECT_ERRNO(c, ::unshare(CLONE_NEWNS), EPERM);
        EXPECT_ERRNO(c, ::unshare(CLONE_NEWUSER), EPERM);
        EXPECT_ERRNO(c, ::setns(-1, 0), EPERM);  // EBADF without the filter
        EXPECT_ERRNO(c, ::sethostname("x", 1), EPERM);
        // A wrong magic number makes an unfiltered reboot fail with EINVAL, so this is harmless.
        EXPECT_ERRNO(c, ::syscall(SYS_reboot, 0, 0, 0, nullptr), EPERM);
        EXPECT_ERRNO(c, ::syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0), EPERM);
        EXPECT_ERRNO(c, ::syscall(SYS_pivot_root, ".", "."), EPERM);
        EXPECT_ERRNO(c, ::socket(AF_VSOCK, SOCK_STREAM, 0), EPERM);

        // clone with a namespace flag is refused; without one it works (fork below).
        errno = 0;
        long pid = ::syscall(SYS_clone, CLONE_NEWUTS | SIGCHLD, 0, 0, 0, 0);
        if (pid == 0) ::_exit(0);
        if (pid > 0) ::waitpid(static_cast<pid_t>(pid), nullptr, 0);
        EXPECT(c, pid == -1 && errno == EPERM);
        // clone3 answers ENOSYS; an unfiltered kernel would say EINVAL for this size.
        EXPECT_ERRNO(c, ::syscall(SYS_clone3, nullptr, 0), ENOSYS);

        EXPECT(c, ::getpid() > 0 && ::syscall(SYS_getpid) == ::getpid());
        pid_t child = ::fork();
        if (child == 0) ::_exit(7);
        int status = 0;
        EXPECT(c, child > 0 && ::waitpid(child, &status, 0) == child && WIFEXITED(status) &&
                      WEXITSTATUS(status) == 7);
        // glibc creates threads with clone3 and falls back to clone on ENOSYS.
        int ran = 0;
        std::thread([&] { ran = 1; }).join();
        EXPECT(c, ran == 1);
        EXPECT(c, ::chroot("/") == 0);  // allowed: CAP_SYS_CHROOT is one of Docker's defaults
        int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        EXPECT(c, fd >= 0);
        if (fd >= 0) ::close(fd);
        return c.failures;
    });
    require_child_passed(r);
}

TEST_CASE("seccomp default filter with CAP_SYS_ADMIN allows what Docker allows with it") {
    auto r = run_child([] {
        Checks c;
        if (!private_mounts() || ::unshare(CLONE_NEWUTS) != 0)
            return std::string("namespace setup failed\n");
        auto caps = sec::docker_default_capabilities();
        caps.push_back("CAP_SYS_ADMIN");
        EXPECT_OK(c, sec::set_no_new_privs());
        EXPECT_OK(c, sec::apply_seccomp_default(caps));
        EXPECT(c, ::unshare(CLONE_NEWUTS) == 0);
        EXPECT(c, ::sethostname("isolab-test", 11) == 0);  // this child's own UTS namespace
        EXPECT_ERRNO(c, ::syscall(SYS_clone3, nullptr, 0), EINVAL);  // reaches the kernel
        EXPECT_ERRNO(c, ::syscall(SYS_reboot, 0, 0, 0, nullptr), EPERM);  // needs CAP_SYS_BOOT
        return c.failures;
    });
    require_child_passed(r);
}

TEST_CASE("seccomp load without no_new_privs after dropping CAP_SYS_ADMIN is refused with a hint") {
    auto r = run_child([] {
        Checks c;
        EXPECT_OK(c, sec::apply_capabilities(sec::docker_default_capabilities()));
        auto s = sec::apply_seccomp_default();
        EXPECT(c, !s.ok());
        if (!s.ok()) {
            EXPECT(c, s.error().message.find("set_no_new_privs") != std::string::npos);
            EXPECT(c, s.error().message.find("Permission denied") != std::string::npos);
        }
        EXPECT(c, status_field("Seccomp") == "0");
        return c.failures;
    });
    require_child_passed(r);
}

TEST_CASE("seccomp load before dropping capabilities needs no no_new_privs") {
    auto r = run_child([] {
        Checks c;
        EXPECT_OK(c, sec::apply_seccomp_default());
        EXPECT_OK(c, sec::apply_capabilities(sec::docker_default_capabilities()));
        EXPECT(c, ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0);
        EXPECT(c, status_field("Seccomp") == "2");
        return c.failures;
    });
    require_child_passed(r);
}

TEST_CASE("seccomp unknown capability name is an error and loads nothing") {
    auto r = run_child([] {
        Checks c;
        EXPECT_OK(c, sec::set_no_new_privs());
        auto s = sec::apply_seccomp_default({"CAP_WHATEVER"});
        EXPECT(c, !s.ok());
        if (!s.ok()) EXPECT(c, s.error().message.find("seccomp: capability `CAP_WHATEVER`") == 0);
        EXPECT(c, status_field("Seccomp") == "0");
        return c.failures;
    });
    require_child_passed(r);
}

#if defined(__x86_64__)
TEST_CASE("seccomp: a 32-bit syscall (int 0x80) kills the process instead of bypassing the filter") {
    auto r = run_child([] {
        if (!sec::set_no_new_privs().ok() || !sec::apply_seccomp_default().ok()) return std::string("setup\n");
        long ret = 20;  // getpid in the i386 table
        asm volatile("int $0x80" : "+a"(ret) : : "memory");
        return std::string("int 0x80 returned ") + std::to_string(ret) + "\n";
    });
    INFO("child report: " << r.report);
    CHECK(WIFSIGNALED(r.status));
    if (WIFSIGNALED(r.status)) CHECK(WTERMSIG(r.status) == SIGSYS);
}
#endif

// ---- Masked and read-only paths -----------------------------------------------------------

namespace {

// A scratch directory under /tmp, removed when the test ends. Mounts made on it live only in
// children's private mount namespaces and are gone when they exit.
struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/isolab-security-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

bool touch(const std::string& path) {
    int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) return false;
    ::close(fd);
    return true;
}

long bytes_readable(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    char buf[4096];
    long total = 0;
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) total += n;
    ::close(fd);
    return n < 0 ? -1 : total;
}

bool dir_is_empty(const std::string& path) {
    std::error_code ec;
    return std::filesystem::is_empty(path, ec) && !ec;
}

// Inside a fresh PID namespace (the caller is its PID 1) and a private mount namespace: mounts
// a proc of that namespace at ROOT/proc and the null device at ROOT/dev/null, applies Docker's
// read-only and masked paths under ROOT, and checks the result.
std::string mount_proc_and_check(const std::string& root) {
    Checks c;
    std::string proc = root + "/proc";
    if (::mount("/dev/null", (root + "/dev/null").c_str(), nullptr, MS_BIND, nullptr) != 0)
        return std::string("bind /dev/null: ") + std::strerror(errno) + "\n";
    if (::mount("proc", proc.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
        return std::string("mount proc: ") + std::strerror(errno) + "\n";

    // What exists before masking varies by kernel (this one may lack /proc/kcore).
    std::vector<std::string> files, dirs;
    for (const auto& p : sec::docker_masked_paths()) {
        struct stat st {};
        if (p.rfind("/proc/", 0) != 0 || ::lstat((root + p).c_str(), &st) != 0) continue;
        (S_ISDIR(st.st_mode) ? dirs : files).push_back(root + p);
    }
    EXPECT(c, !files.empty());
    EXPECT(c, bytes_readable(proc + "/interrupts") > 0);  // real content before masking

    EXPECT_OK(c, sec::apply_readonly_paths(root));
    EXPECT_OK(c, sec::apply_masked_paths(root));

    for (const auto& f : files) {
        if (bytes_readable(f) != 0) c.fail("masked file `" + f + "` still has content");
    }
    for (const auto& d : dirs) {
        if (!dir_is_empty(d)) c.fail("masked directory `" + d + "` is not empty");
        EXPECT_ERRNO(c, ::mkdir((d + "/x").c_str(), 0755), EROFS);
    }
    // Opening for writing fails on a read-only mount before anything could be written.
    EXPECT_ERRNO(c, ::open((proc + "/sys/kernel/hostname").c_str(), O_WRONLY | O_CLOEXEC), EROFS);
    EXPECT_ERRNO(c, ::open((proc + "/sys/vm/drop_caches").c_str(), O_WRONLY | O_CLOEXEC), EROFS);
    if (::access((proc + "/sysrq-trigger").c_str(), F_OK) == 0)
        EXPECT_ERRNO(c, ::open((proc + "/sysrq-trigger").c_str(), O_WRONLY | O_CLOEXEC), EROFS);
    struct statvfs sv {};
    EXPECT(c, ::statvfs((proc + "/sys").c_str(), &sv) == 0);
    EXPECT(c, (sv.f_flag & ST_RDONLY) && (sv.f_flag & ST_NOSUID) && (sv.f_flag & ST_NODEV) &&
                  (sv.f_flag & ST_NOEXEC));
    // The rest of proc stays writable where it was.
    EXPECT(c, ::statvfs(proc.c_str(), &sv) == 0 && !(sv.f_flag & ST_RDONLY));
    EXPECT(c, bytes_readable(proc + "/self/status") > 0);
    return c.failures;
}

}  // namespace

TEST_CASE("masked and read-only paths on a real proc, as real root") {
    TempDir tmp;
    REQUIRE(::mkdir((tmp.path + "/proc").c_str(), 0755) == 0);
    REQUIRE(::mkdir((tmp.path + "/dev").c_str(), 0755) == 0);
    REQUIRE(touch(tmp.path + "/dev/null"));
    auto r = run_child([&] {
        if (::unshare(CLONE_NEWNS | CLONE_NEWPID) != 0 ||
            ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
            return std::string("namespace setup: ") + std::strerror(errno) + "\n";
        return run_grandchild([&] { return mount_proc_and_check(tmp.path); });
    });
    require_child_passed(r);
    // Nothing leaked: the host's view of the scratch directory has no mounts on it.
    CHECK(bytes_readable(tmp.path + "/dev/null") == 0);
    CHECK(dir_is_empty(tmp.path + "/proc"));
}

TEST_CASE("masked and read-only paths work rootless, keeping locked mount flags") {
    TempDir tmp;
    auto r = run_child([&] {
        Checks c;
        // As real root: a nosuid,nodev,noexec tmpfs for the scratch tree. Entering a user
        // namespace then copies it into a new mount namespace with those flags locked.
        if (!private_mounts()) return std::string("private mounts failed\n");
        if (::mount("tmpfs", tmp.path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") != 0)
            return std::string("mount tmpfs: ") + std::strerror(errno) + "\n";
        for (const char* d : {"/proc", "/dev", "/locked", "/locked/dir"})
            ::mkdir((tmp.path + d).c_str(), 0755);
        touch(tmp.path + "/dev/null");
        if (!enter_user_namespace(0, 0, CLONE_NEWNS | CLONE_NEWPID))
            return std::string("user namespace: ") + std::strerror(errno) + "\n";
        EXPECT(c, has_flag(CAP_SYS_ADMIN, CAP_EFFECTIVE));  // held in the user namespace only
        c.failures += run_grandchild([&] {
            Checks g;
            // A plain remount,ro without the locked flags is refused here; readonly_path must
            // carry them over.
            EXPECT_OK(g, sec::readonly_path(tmp.path, "/locked/dir"));
            struct statvfs sv {};
            EXPECT(g, ::statvfs((tmp.path + "/locked/dir").c_str(), &sv) == 0);
            EXPECT(g, (sv.f_flag & ST_RDONLY) && (sv.f_flag & ST_NOSUID) && (sv.f_flag & ST_NODEV) &&
                          (sv.f_flag & ST_NOEXEC));
            EXPECT_ERRNO(g, ::mkdir((tmp.path + "/locked/dir/x").c_str(), 0755), EROFS);
            EXPECT(g, ::mkdir((tmp.path + "/locked/y").c_str(), 0755) == 0);  // only the path itself
            return g.failures + mount_proc_and_check(tmp.path);
        });
        return c.failures;
    });
    require_child_passed(r);
}

TEST_CASE("readonly remount without the locked flags is refused in a user namespace") {
    // Shows why readonly_path reads the flags back: the kernel's rule the previous case relies on.
    TempDir tmp;
    auto r = run_child([&] {
        Checks c;
        if (!private_mounts() ||
            ::mount("tmpfs", tmp.path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
            return std::string("setup failed\n");
        ::mkdir((tmp.path + "/dir").c_str(), 0755);
        if (!enter_user_namespace(0, 0, CLONE_NEWNS)) return std::string("user namespace failed\n");
        std::string dir = tmp.path + "/dir";
        EXPECT(c, ::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND | MS_REC, nullptr) == 0);
        EXPECT_ERRNO(c, ::mount(nullptr, dir.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr), EPERM);
        return c.failures;
    });
    require_child_passed(r);
}

TEST_CASE("masking refuses a /dev/null that is not the null device (CVE-2025-31133)") {
    TempDir tmp;
    auto r = run_child([&] {
        Checks c;
        if (!private_mounts() || ::mount("tmpfs", tmp.path.c_str(), "tmpfs", 0, nullptr) != 0)
            return std::string("setup failed\n");
        std::string root = tmp.path;
        ::mkdir((root + "/proc").c_str(), 0755);
        ::mkdir((root + "/dev").c_str(), 0755);
        touch(root + "/proc/keys");
        touch(root + "/secret");

        // A regular file named null.
        touch(root + "/dev/null");
        auto s = sec::apply_masked_paths(root);
        EXPECT(c, !s.ok());
        if (!s.ok()) EXPECT(c, s.error().message.find("is not the null device") != std::string::npos);

        // A symlink to a file the attacker wants mounted over the masked path.
        ::unlink((root + "/dev/null").c_str());
        EXPECT(c, ::symlink((root + "/secret").c_str(), (root + "/dev/null").c_str()) == 0);
        s = sec::apply_masked_paths(root);
        EXPECT(c, !s.ok());
        if (!s.ok()) EXPECT(c, s.error().message.find("is not the null device") != std::string::npos);

        // Missing entirely: the message says to set up /dev first.
        ::unlink((root + "/dev/null").c_str());
        s = sec::apply_masked_paths(root);
        EXPECT(c, !s.ok());
        if (!s.ok()) EXPECT(c, s.error().message.find("set up /dev before masking") != std::string::npos);
        return c.failures;
    });
    require_child_passed(r);
}

TEST_CASE("mask_path and readonly_path: missing paths are skipped, symlinks refused") {
    TempDir tmp;
    auto r = run_child([&] {
        Checks c;
        if (!private_mounts() || ::mount("tmpfs", tmp.path.c_str(), "tmpfs", 0, nullptr) != 0)
            return std::string("setup failed\n");
        std::string root = tmp.path;
        ::mkdir((root + "/dev").c_str(), 0755);
        touch(root + "/dev/null");
        ::mount("/dev/null", (root + "/dev/null").c_str(), nullptr, MS_BIND, nullptr);
        EXPECT_OK(c, sec::mask_path(root, "/proc/does-not-exist"));
        EXPECT_OK(c, sec::readonly_path(root, "/proc/does-not-exist"));

        ::mkdir((root + "/dir").c_str(), 0755);
        touch(root + "/dir/file");
        EXPECT(c, ::symlink((root + "/dir").c_str(), (root + "/link").c_str()) == 0);
        auto s = sec::mask_path(root, "/link");
        EXPECT(c, !s.ok());
        if (!s.ok()) EXPECT(c, s.error().message == "mask `" + root + "/link`: is a symbolic link; "
                                                      "refusing to mount over it");
        s = sec::readonly_path(root, "/link");
        EXPECT(c, !s.ok());

        EXPECT_OK(c, sec::mask_path(root, "/dir"));
        EXPECT(c, dir_is_empty(root + "/dir"));
        std::ofstream(root + "/file") << "secret";
        EXPECT(c, bytes_readable(root + "/file") == 6);
        EXPECT_OK(c, sec::mask_path(root, "/file"));
        EXPECT(c, bytes_readable(root + "/file") == 0);
        return c.failures;
    });
    require_child_passed(r);
}

TEST_CASE("docker_masked_paths and docker_readonly_paths are moby's lists") {
    const auto& masked = sec::docker_masked_paths();
    REQUIRE(masked.size() >= 12);
    std::vector<std::string> fixed(masked.begin(), masked.begin() + 12);
    CHECK(fixed == std::vector<std::string>{"/proc/asound", "/proc/acpi", "/proc/interrupts",
                                            "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                                            "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
                                            "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"});
    for (size_t i = 12; i < masked.size(); ++i)
        CHECK(masked[i].find("/thermal_throttle") != std::string::npos);
    CHECK(sec::docker_readonly_paths() ==
          std::vector<std::string>{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"});
}

TEST_CASE("security: capabilities are tweaked with Docker's rules") {
    using isolab::security::tweak_capabilities;
    const auto& def = isolab::security::docker_default_capabilities();
    auto all = isolab::security::all_capabilities();
    REQUIRE(all.size() > def.size());
    auto has = [](const std::vector<std::string>& v, const std::string& c) { return std::find(v.begin(), v.end(), c) != v.end(); };
    // Nothing asked: the defaults.
    CHECK(*tweak_capabilities(def, {}, {}, false) == def);
    // Privileged: everything this process may hand on, whatever else is asked.
    CHECK(*tweak_capabilities(def, {}, {"ALL"}, true) == all);
    // Names are normalized: case, CAP_ prefix.
    auto added = tweak_capabilities(def, {"net_admin"}, {"CAP_CHOWN", "kill"}, false);
    REQUIRE(added);
    CHECK(has(*added, "CAP_NET_ADMIN"));
    CHECK_FALSE(has(*added, "CAP_CHOWN"));
    CHECK_FALSE(has(*added, "CAP_KILL"));
    CHECK(added->size() == def.size() - 1);
    // drop ALL: only what is added; add ALL: everything but what is dropped.
    CHECK(*tweak_capabilities(def, {"SYS_TIME"}, {"all"}, false) == std::vector<std::string>{"CAP_SYS_TIME"});
    auto most = tweak_capabilities(def, {"ALL"}, {"NET_RAW"}, false);
    REQUIRE(most);
    CHECK(most->size() == all.size() - 1);
    CHECK_FALSE(has(*most, "CAP_NET_RAW"));
    // Docker's words for a bad name.
    auto bad = tweak_capabilities(def, {"BOGUS"}, {}, false);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message == "unknown capability: \"CAP_BOGUS\"");
    CHECK_FALSE(tweak_capabilities(def, {}, {"CAP_CHOWN,CAP_KILL"}, false));  // one name per value
}

TEST_CASE("security: a Docker seccomp profile becomes the OCI filter for the container's capabilities") {
    using isolab::security::seccomp_profile_to_oci;
    std::string profile = R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
        "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]},
                    {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
        "syscalls": [
          {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
          {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
          {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_PTRACE"]}},
          {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["s390x"]}},
          {"name": "clone", "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}]})";
    auto plain = seccomp_profile_to_oci(profile, {"CAP_CHOWN"});
    REQUIRE(plain);
    CHECK((*plain)["defaultAction"] == "SCMP_ACT_ERRNO");
    CHECK((*plain)["defaultErrnoRet"] == 1);
    auto names = [](const nlohmann::json& j) {
        std::vector<std::string> out;
        for (const auto& s : j["syscalls"])
            for (const auto& n : s["names"]) out.push_back(n.get<std::string>());
        return out;
    };
    CHECK(names(*plain) == std::vector<std::string>{"read", "write", "ptrace", "clone"});
    CHECK((*plain)["syscalls"][2]["args"][0]["op"] == "SCMP_CMP_EQ");
    auto admin = seccomp_profile_to_oci(profile, {"CAP_SYS_ADMIN", "CAP_SYS_PTRACE"});
    REQUIRE(admin);
    CHECK(names(*admin) == std::vector<std::string>{"read", "write", "mount", "clone"});
    CHECK_FALSE(seccomp_profile_to_oci("[1, 2]", {}));
    CHECK_FALSE(seccomp_profile_to_oci(R"({"syscalls": []})", {}));
    auto both = seccomp_profile_to_oci(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"name": "a", "names": ["b"], "action": "SCMP_ACT_ERRNO"}]})", {});
    REQUIRE_FALSE(both);
    CHECK(both.error().message == "'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'");
}
