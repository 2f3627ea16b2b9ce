// Issue 14, item 5 and --init (item 4): --cap-add, --cap-drop, --privileged, --security-opt and
// --init do what Docker's do, on the real runtime, or are refused with Docker's words. Each case
// reads what the process itself sees (/proc/self/status) rather than what IsoLab recorded.
#include <doctest/doctest.h>

#include "tests/skip.hpp"

#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <sstream>
#include <string>

#include "harness.hpp"
#include "sim/host/probe.hpp"

using namespace isolab::test;
using namespace std::chrono_literals;

namespace {

// The value of FIELD ("CapEff", "Seccomp", "NoNewPrivs") in a /proc/PID/status text.
std::string status_field(const std::string& status, const std::string& field) {
    std::istringstream in(status);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(field + ":", 0) == 0) {
            std::string v = line.substr(field.size() + 1);
            v.erase(0, v.find_first_not_of(" \t"));
            return v;
        }
    return "";
}

uint64_t hex(const std::string& s) { return s.empty() ? 0 : std::stoull(s, nullptr, 16); }

// Capability bits (linux/capability.h).
constexpr uint64_t bit(int cap) { return uint64_t{1} << cap; }
constexpr int kCapNetAdmin = 12, kCapSysAdmin = 21, kCapChown = 0, kCapKill = 5;

std::string in_container(const TempRoot& r, std::vector<std::string> flags, const std::string& script, int* code = nullptr) {
    std::vector<std::string> args = {"run", "--rm", "--network", "none"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {"busybox", "sh", "-c", script});
    auto res = r.isolab(args);
    if (code) *code = res.code;
    INFO(res.err);
    if (!code) CHECK(res.code == 0);
    return res.out;
}

}  // namespace

TEST_CASE("security: --cap-drop and --cap-add change the capabilities the process holds") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    uint64_t def = hex(status_field(in_container(r, {}, "cat /proc/self/status"), "CapEff"));
    CHECK((def & bit(kCapChown)) != 0);
    CHECK((def & bit(kCapNetAdmin)) == 0);

    // ALL, in any case: nothing left, in the bounding set either.
    auto none = in_container(r, {"--cap-drop", "all"}, "cat /proc/self/status");
    CHECK(hex(status_field(none, "CapEff")) == 0);
    CHECK(hex(status_field(none, "CapBnd")) == 0);
    // Drop ALL, add one back: exactly that one.
    CHECK(hex(status_field(in_container(r, {"--cap-drop", "ALL", "--cap-add", "CAP_KILL"}, "cat /proc/self/status"),
                           "CapEff")) == bit(kCapKill));
    // One dropped, with or without CAP_.
    CHECK(hex(status_field(in_container(r, {"--cap-drop", "chown"}, "cat /proc/self/status"), "CapEff")) ==
          (def & ~bit(kCapChown)));
    // --cap-add NET_ADMIN: the capability is held, and what it allows works (an address on lo),
    // where the default set refuses it.
    int code = 0;
    auto added = in_container(r, {"--cap-add", "NET_ADMIN"},
                              "grep CapEff /proc/self/status; ip addr add 10.9.9.9/32 dev lo && echo added", &code);
    CHECK(code == 0);
    CHECK((hex(status_field(added, "CapEff")) & bit(kCapNetAdmin)) != 0);
    CHECK(added.find("added") != std::string::npos);
    in_container(r, {}, "ip addr add 10.9.9.9/32 dev lo", &code);
    CHECK(code != 0);

    // An unknown name: Docker's daemon words, exit 125, and no container is left.
    auto bad = r.isolab({"run", "--rm", "--cap-add", "BOGUS", "busybox", "true"});
    CHECK(bad.code == 125);
    CHECK(first_line(bad.err) == "isolab: Error response from daemon: invalid CapAdd: unknown capability: \"CAP_BOGUS\"");
    CHECK(r.isolab({"ps", "-aq"}).out.empty());
}

TEST_CASE("security: --privileged gives every capability, host devices, no seccomp, unmasked /proc, and a warning") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    uint64_t host_bounding = 0;
    for (int cap = 0; cap < 64; ++cap)
        if (::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1) host_bounding |= bit(cap);
    auto res = r.isolab({"run", "--rm", "--network", "none", "--privileged", "busybox", "sh", "-c",
                         "cat /proc/self/status; ls /dev; wc -c < /proc/timer_list; grep ' /sys ' /proc/mounts; "
                         ": < /dev/loop-control && echo loop-control-opened"});
    REQUIRE(res.code == 0);
    CHECK(hex(status_field(res.out, "CapEff")) == host_bounding);  // all this machine has
    CHECK(status_field(res.out, "Seccomp") == "0");
    CHECK(status_field(res.out, "NoNewPrivs") == "0");
    CHECK(res.out.find("\nloop0\n") != std::string::npos);  // a host device node
    // ... that the device cgroup lets it open (the spec's `a *:* rwm` rule, read by the monitor).
    CHECK(res.out.find("loop-control-opened") != std::string::npos);
    CHECK(res.out.find("sysfs /sys sysfs rw") != std::string::npos);
    CHECK(res.err.find("WARNING: --privileged") != std::string::npos);
    // Without it: Docker's default set, a filter, no_new_privs, no loop device, /proc/timer_list masked.
    auto plain = r.isolab({"run", "--rm", "--network", "none", "busybox", "sh", "-c",
                           "cat /proc/self/status; ls /dev; wc -c < /proc/timer_list"});
    REQUIRE(plain.code == 0);
    CHECK(status_field(plain.out, "Seccomp") == "2");
    CHECK(status_field(plain.out, "NoNewPrivs") == "1");
    CHECK(plain.out.find("\nloop0\n") == std::string::npos);
    CHECK(plain.out.find("\n0\n") != std::string::npos);  // timer_list reads as empty (masked)
    CHECK(plain.err.find("WARNING") == std::string::npos);
}

TEST_CASE("security: --security-opt no-new-privileges, seccomp=unconfined, seccomp=PROFILE.json") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    auto open = in_container(r, {"--security-opt", "no-new-privileges=false", "--security-opt", "seccomp=unconfined"},
                             "cat /proc/self/status");
    CHECK(status_field(open, "NoNewPrivs") == "0");
    CHECK(status_field(open, "Seccomp") == "0");
    CHECK(status_field(in_container(r, {"--security-opt", "no-new-privileges"}, "cat /proc/self/status"), "NoNewPrivs") == "1");

    // A Docker-format profile (archMap, includes by capability) that refuses mkdir.
    std::string profile = r.path() + "/deny-mkdir.json";
    write_text(profile,
               R"({"defaultAction": "SCMP_ACT_ALLOW",
                   "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
                   "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
                                {"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "includes": {"caps": ["CAP_SYS_ADMIN"]}}]})");
    int code = 0;
    auto denied = in_container(r, {"--security-opt", "seccomp=" + profile}, "mkdir /x 2>&1; echo rc=$?; echo pid=$$", &code);
    CHECK(code == 0);
    CHECK(denied.find("Operation not permitted") != std::string::npos);
    CHECK(denied.find("rc=1") != std::string::npos);
    CHECK(denied.find("pid=1") != std::string::npos);  // the CAP_SYS_ADMIN-only rule is not in force
    CHECK(in_container(r, {}, "mkdir /x && echo made").find("made") != std::string::npos);

    // The wrong ones: Docker's words.
    auto missing = r.isolab({"run", "--rm", "--security-opt", "seccomp=" + r.path() + "/nope.json", "busybox", "true"});
    CHECK(missing.code == 125);
    CHECK(first_line(missing.err).rfind("isolab: opening seccomp profile (" + r.path() + "/nope.json) failed: ", 0) == 0);
    auto bad = r.isolab({"run", "--rm", "--security-opt", "no-new-privileges=maybe", "busybox", "true"});
    CHECK(bad.code == 125);
    CHECK(first_line(bad.err) == "isolab: Error response from daemon: invalid --security-opt 2: \"no-new-privileges=maybe\"");
    auto apparmor = r.isolab({"run", "--rm", "--security-opt", "apparmor=unconfined", "busybox", "true"});
    CHECK(apparmor.code == 125);
    CHECK(first_line(apparmor.err).find("AppArmor") != std::string::npos);
    CHECK(r.isolab({"ps", "-aq"}).out.empty());
}

TEST_CASE("security: exec keeps the container's capabilities; exec --privileged gets them all") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    REQUIRE(r.isolab({"run", "-d", "--name", "capless", "--network", "none", "--cap-drop", "ALL", "busybox", "sleep", "300"}).code == 0);
    auto e = r.isolab({"exec", "capless", "cat", "/proc/self/status"});
    REQUIRE(e.code == 0);
    CHECK(hex(status_field(e.out, "CapEff")) == 0);
    CHECK(status_field(e.out, "Seccomp") == "2");
    auto p = r.isolab({"exec", "--privileged", "capless", "cat", "/proc/self/status"});
    REQUIRE(p.code == 0);
    CHECK((hex(status_field(p.out, "CapEff")) & bit(kCapSysAdmin)) != 0);
    CHECK(status_field(p.out, "Seccomp") == "2");  // the container's filter stays, as in Docker
}

TEST_CASE("init: --init runs docker-init as PID 1, which forwards stop's SIGTERM and reaps orphans") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    auto who = r.isolab({"run", "--rm", "--network", "none", "--init", "busybox", "sh", "-c",
                         "tr '\\0' ' ' < /proc/1/cmdline; echo; echo \"me=$$\""});
    REQUIRE(who.code == 0);
    CHECK(who.out.rfind("/sbin/docker-init -- sh -c", 0) == 0);
    CHECK(who.out.find("me=1\n") == std::string::npos);  // the command is not PID 1

    // sleep as PID 1 ignores SIGTERM (no handler, no default action for PID 1): stop waits and
    // kills, 137. Under --init the SIGTERM reaches sleep, which dies of it: 143 at once.
    REQUIRE(r.isolab({"run", "-d", "--name", "with", "--network", "none", "--init", "busybox", "sleep", "300"}).code == 0);
    auto t0 = std::chrono::steady_clock::now();
    REQUIRE(r.isolab({"stop", "-t", "5", "with"}).code == 0);
    auto took = std::chrono::steady_clock::now() - t0;
    CHECK(took < 4s);
    CHECK(first_line(r.isolab({"inspect", "-f", "{{.State.ExitCode}}", "with"}).out) == "143");
    REQUIRE(r.isolab({"run", "-d", "--name", "without", "--network", "none", "busybox", "sleep", "300"}).code == 0);
    REQUIRE(r.isolab({"stop", "-t", "1", "without"}).code == 0);
    CHECK(first_line(r.isolab({"inspect", "-f", "{{.State.ExitCode}}", "without"}).out) == "137");

    // An orphan (its parent exits at once) is re-parented to PID 1 and reaped: no zombie stays.
    REQUIRE(r.isolab({"run", "-d", "--name", "orphans", "--network", "none", "--init", "busybox", "sh", "-c",
                      "(sleep 0.2 &) ; sleep 300"}).code == 0);
    bool reaped = poll_until(5s, [&] {
        auto ps = r.isolab({"exec", "orphans", "sh", "-c", "grep -l '^State:.*Z' /proc/[0-9]*/status 2>/dev/null | wc -l"});
        return ps.code == 0 && first_line(ps.out) == "0";
    });
    CHECK(reaped);
    // The exit code of the command, and 127 for one that does not exist.
    CHECK(r.isolab({"run", "--rm", "--network", "none", "--init", "busybox", "sh", "-c", "exit 7"}).code == 7);
    auto missing = r.isolab({"run", "--rm", "--network", "none", "--init", "busybox", "no-such-command"});
    CHECK(missing.code == 127);
    CHECK(missing.err.find("no-such-command") != std::string::npos);
}

TEST_CASE("user: -u NAME or UID:GID gives the primary group as a supplementary one; exec -u the same; a relative command resolves against the working directory") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    // podman/crun's rule for a user given with -u (Docker's id shows the same for nobody).
    CHECK(in_container(r, {"-u", "nobody"}, "id") == "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n");
    CHECK(in_container(r, {"-u", "1234:5"}, "id") == "uid=1234 gid=5(tty) groups=5(tty)\n");
    // Without -u the process keeps root's groups from /etc/group (none in busybox).
    CHECK(in_container(r, {}, "id") == "uid=0(root) gid=0(root)\n");

    REQUIRE(r.isolab({"run", "-d", "--network", "none", "--name", "ug", "busybox", "sleep", "100"}).code == 0);
    auto ex = r.isolab({"exec", "-u", "nobody", "ug", "id"});
    CHECK(ex.code == 0);
    CHECK(ex.out == "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n");
    auto bad = r.isolab({"exec", "-u", "nosuchuser", "ug", "id"});
    CHECK(bad.code == 126);
    CHECK(bad.err.find("unable to find user nosuchuser: no matching entries in passwd file") != std::string::npos);
    CHECK(r.isolab({"rm", "-f", "ug"}).code == 0);

    // runc resolves "./echo" against process.cwd, so does IsoLab (Docker prints "hi").
    auto rel = r.isolab({"run", "--rm", "--network", "none", "-w", "/bin", "--entrypoint", "./echo", "busybox", "hi"});
    CHECK(rel.code == 0);
    CHECK(rel.out == "hi\n");
    // ... and a relative path that is not there is the 127 of a missing file.
    auto missing = r.isolab({"run", "--rm", "--network", "none", "-w", "/tmp", "--entrypoint", "./echo", "busybox", "hi"});
    CHECK(missing.code == 127);
}
