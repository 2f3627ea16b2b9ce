// rename, update, stats, events and info through the real `isolab` binary on the real runtime,
// each case in its own ISOLAB_ROOT: the effects are read from inside the container, from the
// cgroup and from the event log, never taken from the command's own report.
#include <doctest/doctest.h>

#include "tests/skip.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "sim/host/probe.hpp"

using namespace isolab::test;

namespace {

bool can_run_real() {
    if (::geteuid() != 0) {
        ISOLAB_SKIP("the real-runtime integration tests need root (CI runs them as root)");
        return false;
    }
    if (isolab::host::in_chroot()) {
        ISOLAB_SKIP("this test runs inside a chroot, where the container runtime cannot run");
        return false;
    }
    return true;
}

bool cgroup_v2() { return ::access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0; }

// The memory limit as the container sees it in its own cgroup.
std::string limit_inside(const TempRoot& r, const std::string& name) {
    auto res = r.isolab({"exec", name, "cat", cgroup_v2() ? "/sys/fs/cgroup/memory.max" : "/sys/fs/cgroup/memory/memory.limit_in_bytes"});
    return first_line(res.out);
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

TEST_CASE("everyday: rename a running container, then exec by the new name") {
    if (!can_run_real()) return;
    TempRoot r;
    REQUIRE(r.isolab({"run", "-d", "--name", "web", "busybox", "sleep", "300"}).code == 0);
    REQUIRE(r.isolab({"create", "--name", "db", "busybox", "true"}).code == 0);
    const std::string id = r.id_of("web");
    auto renamed = r.isolab({"rename", "web", "site"});
    CHECK(renamed.code == 0);
    CHECK(renamed.out.empty());
    auto exec = r.isolab({"exec", "site", "hostname"});
    CHECK(exec.code == 0);
    CHECK(first_line(exec.out) == id.substr(0, 12));
    auto old = r.isolab({"exec", "web", "true"});
    CHECK(old.code != 0);
    CHECK(old.err.find("No such container: web") != std::string::npos);
    CHECK(r.isolab({"inspect", "-f", "{{.Name}}", "site"}).out == "/site\n");

    auto taken = r.isolab({"rename", "site", "db"});
    CHECK(taken.code == 1);
    CHECK(taken.err == "Error response from daemon: Error when allocating new name: Conflict. The container name \"/db\" is already in use by container \"" +
                           r.id_of("db") + "\". You have to remove (or rename) that container to be able to reuse that name.\n"
                           "Error: failed to rename container named site\n");
    auto invalid = r.isolab({"rename", "site", "no/slash"});
    CHECK(invalid.code == 1);
    CHECK(invalid.err.find("Invalid container name (/no/slash), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed") != std::string::npos);
    // The old name is free: a new container can have it.
    CHECK(r.isolab({"create", "--name", "web", "busybox", "true"}).code == 0);
    auto events = r.isolab({"events", "--since", "5m", "--until", "0s", "-f", "event=rename"});
    CHECK(events.code == 0);
    CHECK(events.out.find("container rename " + id + " (image=busybox, name=site, oldName=/web)") != std::string::npos);
}

TEST_CASE("everyday: update -m on a running container changes the limit it sees; a stopped one gets it at start") {
    if (!can_run_real()) return;
    TempRoot r;
    REQUIRE(r.isolab({"run", "-d", "--name", "web", "busybox", "sleep", "300"}).code == 0);
    const std::string before = limit_inside(r, "web");
    CHECK(before != "33554432");
    auto up = r.isolab({"update", "-m", "32m", "--pids-limit", "40", "web"});
    CHECK(up.code == 0);
    CHECK(up.out == "web\n");
    CHECK(limit_inside(r, "web") == "33554432");
    auto pids = r.isolab({"exec", "web", "cat", cgroup_v2() ? "/sys/fs/cgroup/pids.max" : "/sys/fs/cgroup/pids/pids.max"});
    CHECK(first_line(pids.out) == "40");
    CHECK(r.isolab({"inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}", "web"}).out == "33554432 40\n");
    // Docker's refusals leave the limit as it was.
    auto small = r.isolab({"update", "-m", "4m", "web"});
    CHECK(small.code == 1);
    CHECK(small.err == "Error response from daemon: Minimum memory limit allowed is 6MB\n");
    CHECK(limit_inside(r, "web") == "33554432");

    // A stopped container: the record keeps the value and the next start applies it.
    REQUIRE(r.isolab({"create", "--name", "later", "busybox", "sleep", "300"}).code == 0);
    CHECK(r.isolab({"update", "-m", "48m", "later"}).code == 0);
    REQUIRE(r.isolab({"start", "later"}).code == 0);
    CHECK(limit_inside(r, "later") == "50331648");

    // --memory-swap (memory + swap), from run and from update, kept across a restart (cgroup v1's
    // memory.memsw.limit_in_bytes, v2's memory.swap.max = swap alone).
    if (!cgroup_v2() && ::access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) != 0) {
        ISOLAB_SKIP("no swap accounting on this cgroup v1 host (memory.memsw.*): --memory-swap cannot be checked");
        return;
    }
    auto swap_inside = [&](const std::string& name) {
        return first_line(r.isolab({"exec", name, "cat", cgroup_v2() ? "/sys/fs/cgroup/memory.swap.max" : "/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"}).out);
    };
    REQUIRE(r.isolab({"run", "-d", "--name", "sw", "-m", "32m", "--memory-swap", "48m", "busybox", "sleep", "300"}).code == 0);
    CHECK(swap_inside("sw") == (cgroup_v2() ? "16777216" : "50331648"));
    CHECK(r.isolab({"update", "-m", "40m", "--memory-swap", "100m", "sw"}).code == 0);
    REQUIRE(r.isolab({"restart", "-t", "0", "sw"}).code == 0);
    CHECK(swap_inside("sw") == (cgroup_v2() ? "62914560" : "104857600"));
    REQUIRE(r.isolab({"run", "-d", "--name", "sw2", "-m", "32m", "--memory-swap", "-1", "busybox", "sleep", "300"}).code == 0);
    CHECK(swap_inside("sw2") == (cgroup_v2() ? "max" : "9223372036854771712"));
    // No --memory-swap: Docker's twice -m, written into the spec by the engine and read from the
    // spec by the monitor (v2: the swap alone, equal to -m).
    REQUIRE(r.isolab({"run", "-d", "--name", "sw3", "-m", "32m", "busybox", "sleep", "300"}).code == 0);
    CHECK(swap_inside("sw3") == (cgroup_v2() ? "33554432" : "67108864"));
}

TEST_CASE("everyday: stats --no-stream shows the memory used and the limit") {
    if (!can_run_real()) return;
    TempRoot r;
    REQUIRE(r.isolab({"run", "-d", "--name", "web", "-m", "32m", "busybox", "sleep", "300"}).code == 0);
    REQUIRE(r.isolab({"run", "-d", "--name", "idle", "busybox", "sleep", "300"}).code == 0);
    REQUIRE(r.isolab({"create", "--name", "stopped", "busybox", "true"}).code == 0);
    auto res = r.isolab({"stats", "--no-stream"});
    REQUIRE(res.code == 0);
    auto rows = lines_of(res.out);
    REQUIRE(rows.size() == 3);  // the header and the two running containers
    CHECK(std::regex_match(rows[0], std::regex("CONTAINER ID +NAME +CPU % +MEM USAGE / LIMIT +MEM % +NET I/O +BLOCK I/O +PIDS")));
    std::string web;
    for (const auto& row : rows)
        if (row.find(" web ") != std::string::npos) web = row;
    REQUIRE_FALSE(web.empty());
    std::smatch m;
    REQUIRE(std::regex_search(web, m, std::regex(R"(([0-9.]+)(B|KiB|MiB) / 32MiB +([0-9.]+)%)")));
    CHECK(std::stod(m[1].str()) > 0);
    CHECK(std::stod(m[3].str()) > 0);
    CHECK(web.rfind(r.id_of("web").substr(0, 12), 0) == 0);
    auto json_row = r.isolab({"stats", "--no-stream", "--no-trunc", "--format", "{{.ID}} {{.PIDs}}", "web"});
    CHECK(json_row.out == r.id_of("web") + " 1\n");
    auto all = r.isolab({"stats", "--no-stream", "-a", "--format", "{{.Name}} {{.MemUsage}}"});
    CHECK(all.out.find("stopped 0B / 0B") != std::string::npos);
    auto missing = r.isolab({"stats", "--no-stream", "nosuch"});
    CHECK(missing.code == 1);
    CHECK(missing.err == "Error response from daemon: No such container: nosuch\n");
}

TEST_CASE("everyday: events --since/--until lists create, start and die of a container run here") {
    if (!can_run_real()) return;
    TempRoot r;
    const int64_t since = unix_now() - 1;
    REQUIRE(r.isolab({"run", "--name", "once", "busybox", "sh", "-c", "exit 3"}).code == 3);
    REQUIRE(r.isolab({"run", "-d", "--name", "other", "busybox", "true"}).code == 0);
    const int64_t until = unix_now() + 1;
    const std::string id = r.id_of("once");
    auto res = r.isolab({"events", "--since", std::to_string(since), "--until", std::to_string(until), "-f", "container=once"});
    CHECK(res.code == 0);
    auto lines = lines_of(res.out);
    std::vector<std::string> actions;
    std::regex line_re(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z container (\w+) ([0-9a-f]{64}) \((.*)\)$)");
    for (const auto& l : lines) {
        std::smatch m;
        REQUIRE_MESSAGE(std::regex_match(l, m, line_re), l);
        CHECK(m[2].str() == id);
        CHECK(m[3].str().find("name=once") != std::string::npos);
        actions.push_back(m[1].str());
    }
    REQUIRE(actions.size() >= 3);
    CHECK(actions[0] == "create");
    CHECK(actions[1] == "start");
    CHECK(std::find(actions.begin(), actions.end(), "die") != actions.end());
    CHECK(res.out.find("exitCode=3") != std::string::npos);
    CHECK(res.out.find("image=busybox") != std::string::npos);
    auto starts = r.isolab({"events", "--since", std::to_string(since), "--until", std::to_string(until), "-f", "event=start",
                            "--format", "{{.Actor.Attributes.name}}"});
    CHECK(starts.out == "once\nother\n");
}

TEST_CASE("everyday: info counts the containers and names the state root") {
    if (!can_run_real()) return;
    TempRoot r;
    REQUIRE(r.isolab({"run", "-d", "--name", "up", "busybox", "sleep", "300"}).code == 0);
    REQUIRE(r.isolab({"run", "-d", "--name", "frozen", "busybox", "sleep", "300"}).code == 0);
    REQUIRE(r.isolab({"pause", "frozen"}).code == 0);
    REQUIRE(r.isolab({"create", "--name", "made", "busybox", "true"}).code == 0);
    REQUIRE(r.isolab({"run", "--name", "done", "busybox", "true"}).code == 0);
    auto res = r.isolab({"info"});
    REQUIRE(res.code == 0);
    CHECK(res.out.find("Server:\n Containers: 4\n  Running: 1\n  Paused: 1\n  Stopped: 2\n Images: 1\n") != std::string::npos);
    CHECK(res.out.find(" Docker Root Dir: " + r.path() + "\n") != std::string::npos);
    CHECK(res.out.find(std::string(" Cgroup Version: ") + (cgroup_v2() ? "2" : "1") + "\n") != std::string::npos);
    CHECK(res.out.find(" Default Runtime: isolab\n") != std::string::npos);
    auto f = r.isolab({"info", "--format", "{{.Containers}} {{.ContainersRunning}} {{.ContainersPaused}} {{.ContainersStopped}}"});
    CHECK(f.out == "4 1 1 2\n");
    CHECK(r.isolab({"unpause", "frozen"}).code == 0);
}

TEST_CASE("top CTR PS_ARGS: the host's ps with those options, only the container's processes (moby's top_unix.go)") {
    if (!can_run_real()) return;
    TempRoot r;
    REQUIRE(r.isolab({"run", "-d", "--network", "none", "--name", "tp", "busybox", "sh", "-c", "sleep 51 & sleep 61"}).code == 0);
    auto aux = r.isolab({"top", "tp", "aux"});
    CHECK(aux.code == 0);
    auto rows = lines_of(aux.out);
    REQUIRE(rows.size() == 3);  // the header, sleep 61 (PID 1) and sleep 51; no host process
    CHECK(rows[0].find("%CPU") != std::string::npos);
    CHECK(aux.out.find("sleep 61") != std::string::npos);
    CHECK(aux.out.find("sleep 51") != std::string::npos);
    auto cols = r.isolab({"top", "tp", "-o", "pid,comm"});
    CHECK(lines_of(cols.out).size() == 3);
    CHECK(lines_of(cols.out)[0].rfind("PID", 0) == 0);
    // Docker's refusals: no PID column, and ps's own error.
    auto nopid = r.isolab({"top", "tp", "-o", "comm"});
    CHECK(nopid.code == 1);
    CHECK(nopid.err == "Error response from daemon: Couldn't find PID field in ps output\n");
    CHECK(r.isolab({"top", "tp", "--bogus"}).code == 1);
}

TEST_CASE("listing flags that used to be accepted and ignored: inspect -s, images --digests, history -H=false and --format") {
    if (!can_run_real()) return;
    TempRoot r;
    REQUIRE(r.isolab({"run", "-d", "--network", "none", "--name", "sz", "busybox", "sh", "-c", "echo hello > /f; sleep 300"}).code == 0);
    REQUIRE(poll_until(std::chrono::seconds(10), [&] { return r.isolab({"exec", "sz", "cat", "/f"}).out == "hello\n"; }));
    // -s: the writable layer holds the 6 bytes written; the whole root adds busybox's layer.
    auto sizes = r.isolab({"inspect", "-s", "-f", "{{.SizeRw}} {{.SizeRootFs}}", "sz"});
    CHECK(sizes.code == 0);
    std::istringstream in(sizes.out);
    int64_t rw = 0, rootfs = 0;
    in >> rw >> rootfs;
    CHECK(rw == 6);
    CHECK(rootfs > 1000000);
    CHECK(r.isolab({"inspect", "-f", "{{.SizeRw}}", "sz"}).code != 0);  // without -s there is none, as in Docker

    auto digests = lines_of(r.isolab({"images", "--digests", "busybox"}).out);
    REQUIRE(digests.size() == 2);
    CHECK(digests[0].find("TAG      DIGEST   IMAGE ID") != std::string::npos);
    CHECK(digests[1].find("<none>") != std::string::npos);

    auto exact = lines_of(r.isolab({"history", "--human=false", "busybox"}).out);
    REQUIRE(exact.size() >= 2);
    CHECK(exact[1].find("T") != std::string::npos);  // an RFC 3339 time, not "… ago"
    CHECK(exact[1].find(" ago") == std::string::npos);
    auto formatted = lines_of(r.isolab({"history", "--format", "{{.ID}}|{{.Size}}", "busybox"}).out);
    REQUIRE(formatted.size() >= 2);
    CHECK(formatted[0].find('|') != std::string::npos);
    CHECK(formatted[1].rfind("<missing>|", 0) == 0);
    auto bad = r.isolab({"history", "--format", "{{.Nope}}", "busybox"});
    CHECK(bad.code != 0);
}
