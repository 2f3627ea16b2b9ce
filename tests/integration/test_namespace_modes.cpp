// Issue 14, item 5: --pid host, --ipc host, --uts host and --network/--pid/--ipc container:NAME
// share the namespace for real. Each case compares the namespace links the process itself reads
// (/proc/self/ns/*) with the host's or the other container's, and the isolation inspector's rows
// (what the GUI's Isolation tab draws) say "shared" for exactly those.
#include <doctest/doctest.h>

#include "tests/skip.hpp"

#include <unistd.h>

#include <string>
#include <vector>

#include "harness.hpp"
#include "sim/host/probe.hpp"
#include "sim/view/isolation.hpp"

using namespace isolab::test;
using namespace std::chrono_literals;

namespace {

std::string link(const std::string& path) {
    char buf[256];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// The namespace links of a container's process, one per kind, as it reads them itself.
std::vector<std::string> ns_inside(const TempRoot& r, const std::vector<std::string>& flags, const std::string& extra = "") {
    std::vector<std::string> args = {"run", "--rm"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {"busybox", "sh", "-c", "for n in pid net ipc uts; do readlink /proc/self/ns/$n; done" + extra});
    auto res = r.isolab(args);
    INFO(res.err);
    CHECK(res.code == 0);
    std::vector<std::string> lines;
    size_t start = 0;
    for (size_t nl; (nl = res.out.find('\n', start)) != std::string::npos; start = nl + 1) lines.push_back(res.out.substr(start, nl - start));
    return lines;
}

isolab::view::Sharing row_sharing(const std::vector<isolab::view::IsolationRow>& rows, const std::string& kind) {
    for (const auto& row : rows)
        if (row.kind == kind) return row.sharing;
    return isolab::view::Sharing::Unknown;
}

}  // namespace

TEST_CASE("namespace modes: --pid host, --uts host and --ipc host use the host's; the isolation inspector says shared") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    const std::string host_pid = link("/proc/self/ns/pid"), host_uts = link("/proc/self/ns/uts"),
                      host_ipc = link("/proc/self/ns/ipc"), host_net = link("/proc/self/ns/net");
    auto own = ns_inside(r, {"--network", "none"});
    REQUIRE(own.size() == 4);
    CHECK(own[0] != host_pid);
    CHECK(own[2] != host_ipc);
    CHECK(own[3] != host_uts);

    auto pid = ns_inside(r, {"--network", "none", "--pid", "host"}, "; ps -o pid | grep -c .");
    REQUIRE(pid.size() == 5);
    CHECK(pid[0] == host_pid);
    CHECK(pid[3] != host_uts);
    CHECK(std::stoi(pid[4]) > 10);  // the host's processes are listed

    char hostname[256] = {};
    ::gethostname(hostname, sizeof hostname - 1);
    auto uts = ns_inside(r, {"--network", "none", "--uts", "host"}, "; hostname");
    REQUIRE(uts.size() == 5);
    CHECK(uts[3] == host_uts);
    CHECK(uts[4] == hostname);
    CHECK(uts[0] != host_pid);

    auto ipc = ns_inside(r, {"--network", "none", "--ipc", "host"});
    REQUIRE(ipc.size() == 4);
    CHECK(ipc[2] == host_ipc);

    // The inspector (the GUI's Isolation tab) reads the same links: the pid row shared, the others not.
    REQUIRE(r.isolab({"run", "-d", "--network", "none", "--pid", "host", "--name", "ph", "busybox", "sleep", "100"}).code == 0);
    int pid1 = std::stoi(r.isolab({"inspect", "-f", "{{.State.Pid}}", "ph"}).out);
    auto facts = isolab::view::read_isolation(pid1, 0, false);
    auto rows = isolab::view::build_isolation_rows(facts, nullptr);
    CHECK(row_sharing(rows, "pid") == isolab::view::Sharing::Shared);
    CHECK(row_sharing(rows, "uts") == isolab::view::Sharing::Isolated);
    CHECK(row_sharing(rows, "mnt") == isolab::view::Sharing::Isolated);
    // stop ends it although it is not a PID 1 (no PID namespace takes its processes down with it).
    CHECK(r.isolab({"stop", "-t", "1", "ph"}).code == 0);
    CHECK(r.isolab({"inspect", "-f", "{{.State.Status}}", "ph"}).out == "exited\n");
    CHECK_FALSE(process_alive(pid1));
    (void)host_net;
}

TEST_CASE("namespace modes: --network, --pid and --ipc container:NAME join a running container; Docker's refusals") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    REQUIRE(r.isolab({"run", "-d", "--name", "tg", "-h", "target-host", "busybox", "sleep", "300"}).code == 0);
    auto in_target = [&](const std::string& kind) { return r.isolab({"exec", "tg", "readlink", "/proc/1/ns/" + kind}).out; };
    const std::string t_pid = in_target("pid"), t_net = in_target("net"), t_ipc = in_target("ipc"), t_uts = in_target("uts");

    auto joined = ns_inside(r, {"--network", "container:tg", "--pid", "container:tg", "--ipc", "container:tg"},
                            "; hostname; ps -o args | grep -c '^sleep 300'; ip -4 addr show eth0 | grep -c inet");
    REQUIRE(joined.size() == 7);
    CHECK(joined[0] + "\n" == t_pid);
    CHECK(joined[1] + "\n" == t_net);
    CHECK(joined[2] + "\n" == t_ipc);
    CHECK(joined[3] + "\n" != t_uts);  // its own UTS namespace, with the target's name (Docker's rule)
    CHECK(joined[4] == "target-host");
    CHECK(joined[5] == "1");  // the target's process is in the shared PID namespace
    CHECK(joined[6] == "1");  // and the target's eth0 in the shared network namespace

    auto mode = r.isolab({"create", "--name", "jn", "--network", "container:tg", "busybox"});
    REQUIRE(mode.code == 0);
    CHECK(r.isolab({"inspect", "-f", "{{.HostConfig.NetworkMode}}", "jn"}).out == "container:" + r.id_of("tg") + "\n");

    // Docker's refusals, and nothing left behind by them.
    REQUIRE(r.isolab({"create", "--name", "off", "busybox"}).code == 0);
    struct Case {
        std::vector<std::string> flags;
        std::string message;
    } cases[] = {
        {{"--network", "container:off"}, "cannot join network of a non running container: " + r.id_of("off")},
        {{"--pid", "container:off"}, "container " + r.id_of("off") + " is not running"},
        {{"--ipc", "container:off"}, "cannot join IPC of a non running container: " + r.id_of("off")},
        {{"--network", "container:nosuch"}, "No such container: nosuch"},
        {{"--network", "container:tg", "-h", "x"}, "conflicting options: hostname and the network mode"},
        {{"--network", "container:tg", "-p", "8080:80"}, "conflicting options: port publishing and the container type network mode"},
        {{"--uts", "host", "-h", "x"}, "conflicting options: hostname and the UTS mode"},
        {{"--pid", "bad"}, "--pid: invalid PID mode"},
        {{"--ipc", "bad"}, "--ipc: invalid IPC mode"},
        {{"--uts", "container:tg"}, "--uts: invalid UTS mode"},
    };
    for (const auto& c : cases) {
        std::vector<std::string> args = {"run", "--rm"};
        args.insert(args.end(), c.flags.begin(), c.flags.end());
        args.insert(args.end(), {"busybox", "true"});
        auto res = r.isolab(args);
        INFO(c.message);
        CHECK(res.code == 125);
        CHECK(res.err.find(c.message) != std::string::npos);
    }
    // Only the three made above remain.
    auto all = r.isolab({"ps", "-aq"});
    CHECK(std::count(all.out.begin(), all.out.end(), '\n') == 3);

    // --ipc none: no /dev/shm at all.
    auto none = r.isolab({"run", "--rm", "--network", "none", "--ipc", "none", "busybox", "ls", "/dev/shm"});
    CHECK(none.code == 1);
}
