// Issue 14, item 1: each flag `isolab VERB --help` lists does what Docker's does. This file holds
// the observable effect of the flags no other test exercises; tests/app/test_flag_walk.cpp walks
// every listed flag and checks that it is proved here, in another named test, or refused.
#include <doctest/doctest.h>

#include "tests/skip.hpp"

#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "harness.hpp"
#include "sim/host/probe.hpp"

using namespace isolab::test;
using namespace std::chrono_literals;

namespace {

bool cgroup_v2() { return ::access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0; }

std::string cpu_quota_inside(const TempRoot& r, const std::string& name) {
    return first_line(r.isolab({"exec", name, "cat", cgroup_v2() ? "/sys/fs/cgroup/cpu.max" : "/sys/fs/cgroup/cpu/cpu.cfs_quota_us"}).out);
}

}  // namespace

TEST_CASE("flag effects: run --cpus, --env-file, --pull never, --stop-signal, --stop-timeout; exec --env-file; stop --signal") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    REQUIRE(r.isolab({"run", "-d", "--network", "none", "--cpus", "0.5", "--name", "cp", "busybox", "sleep", "300"}).code == 0);
    CHECK(cpu_quota_inside(r, "cp") == (cgroup_v2() ? "50000 100000" : "50000"));
    CHECK(r.isolab({"update", "--cpus", "1.5", "cp"}).code == 0);  // update --cpus
    CHECK(cpu_quota_inside(r, "cp") == (cgroup_v2() ? "150000 100000" : "150000"));

    const std::string env_file = r.path() + "/vars.env";
    write_text(env_file, "# a comment\nA=1\nB=two words\n");
    auto env = r.isolab({"run", "--rm", "--network", "none", "--env-file", env_file, "busybox", "sh", "-c", "echo $A-$B"});
    CHECK(env.out == "1-two words\n");
    CHECK(r.isolab({"exec", "--env-file", env_file, "cp", "sh", "-c", "echo $B"}).out == "two words\n");

    auto never = r.isolab({"run", "--rm", "--pull", "never", "nosuchimg", "true"});
    CHECK(never.code == 125);
    CHECK(never.err.find("No such image: nosuchimg:latest") != std::string::npos);

    // --stop-signal: stop sends USR1, which the trap turns into exit 5.
    REQUIRE(r.isolab({"run", "-d", "--network", "none", "--stop-signal", "USR1", "--name", "sig", "busybox", "sh", "-c",
                      "trap 'exit 5' USR1; while true; do sleep 0.1; done"})
                .code == 0);
    REQUIRE(poll_until(10s, [&] { return process_catches(std::stoi(r.isolab({"inspect", "-f", "{{.State.Pid}}", "sig"}).out), 10); }));
    CHECK(r.isolab({"stop", "sig"}).code == 0);
    CHECK(r.isolab({"inspect", "-f", "{{.State.ExitCode}}", "sig"}).out == "5\n");
    // stop --signal overrides it for one stop.
    REQUIRE(r.isolab({"run", "-d", "--network", "none", "--name", "sig2", "busybox", "sh", "-c",
                      "trap 'exit 6' USR2; while true; do sleep 0.1; done"})
                .code == 0);
    REQUIRE(poll_until(10s, [&] { return process_catches(std::stoi(r.isolab({"inspect", "-f", "{{.State.Pid}}", "sig2"}).out), 12); }));
    CHECK(r.isolab({"stop", "--signal", "USR2", "sig2"}).code == 0);
    CHECK(r.isolab({"inspect", "-f", "{{.State.ExitCode}}", "sig2"}).out == "6\n");

    // --stop-timeout 1: a process that ignores SIGTERM is killed after 1 s, not Docker's 10.
    REQUIRE(r.isolab({"run", "-d", "--network", "none", "--stop-timeout", "1", "--name", "stubborn", "busybox", "sh", "-c",
                      "trap '' TERM; while true; do sleep 0.1; done"})
                .code == 0);
    REQUIRE(poll_until(10s, [&] { return process_ignores(std::stoi(r.isolab({"inspect", "-f", "{{.State.Pid}}", "stubborn"}).out), 15); }));
    auto t0 = std::chrono::steady_clock::now();
    CHECK(r.isolab({"stop", "stubborn"}).code == 0);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(secs < 6.0);
    CHECK(secs >= 0.9);
    CHECK(r.isolab({"inspect", "-f", "{{.State.ExitCode}}", "stubborn"}).out == "137\n");
}

TEST_CASE("flag effects: logs --since/--until/--details, inspect --type, commit --author/--pause, version --format, doctor --json") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    REQUIRE(r.isolab({"run", "-d", "--network", "none", "--name", "lg", "busybox", "sh", "-c", "echo one; sleep 300"}).code == 0);
    REQUIRE(poll_until(10s, [&] { return r.isolab({"logs", "lg"}).out == "one\n"; }));
    CHECK(r.isolab({"logs", "--since", "2099-01-01T00:00:00Z", "lg"}).out.empty());
    CHECK(r.isolab({"logs", "--until", "2000-01-01T00:00:00Z", "lg"}).out.empty());
    CHECK(r.isolab({"logs", "--since", "2000-01-01T00:00:00Z", "lg"}).out == "one\n");
    CHECK(r.isolab({"logs", "--details", "lg"}).out == " one\n");  // Docker: the (empty) attributes, a space

    CHECK(r.isolab({"inspect", "--type", "image", "-f", "{{.Os}}", "busybox"}).out == "linux\n");
    auto wrong = r.isolab({"inspect", "--type", "container", "busybox"});
    CHECK(wrong.code == 1);
    CHECK(wrong.err == "Error: No such container: busybox\n");

    const std::string since = r.isolab({"version", "--format", "{{.Server.Version}}"}).out;
    CHECK_FALSE(since.empty());
    auto started = std::chrono::system_clock::now() - 2s;
    const std::string stamp = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(started.time_since_epoch()).count());
    REQUIRE(r.isolab({"commit", "--author", "Kim <kim@example.com>", "lg", "snap:1"}).code == 0);
    CHECK(r.isolab({"inspect", "-f", "{{.Author}}", "snap:1"}).out == "Kim <kim@example.com>\n");
    REQUIRE(r.isolab({"commit", "--pause=false", "lg", "snap:2"}).code == 0);
    CHECK(r.isolab({"inspect", "-f", "{{.Author}}", "snap:2"}).out == "\n");
    // commit pauses the container (Docker's pause/unpause events) unless --pause=false.
    auto events = r.isolab({"events", "--since", stamp, "--until", "+0s", "--filter", "container=lg", "--format", "{{.Action}}"});
    INFO(events.out << events.err);
    const std::string& ev = events.out;
    CHECK(std::count(ev.begin(), ev.end(), '\n') >= 2);
    auto pauses = [&] {
        size_t n = 0;
        for (size_t at = 0; (at = ev.find("unpause", at)) != std::string::npos; ++at) ++n;
        return n;
    };
    CHECK(pauses() == 1);  // the first commit only

    auto v = r.isolab({"version", "--format", "{{.Client.Version}}"});
    CHECK(v.code == 0);
    CHECK(v.out.find('.') != std::string::npos);
    auto doctor = r.isolab({"doctor", "--json"});
    CHECK(doctor.code == 0);
    auto j = nlohmann::json::parse(doctor.out, nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    CHECK(j.contains("capabilities"));
}

TEST_CASE("flag effects: build --no-cache, update --restart, network create --internal, network ls --no-trunc, prune --filter, system df --format") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    const std::string ctx = r.path() + "/ctx";
    write_text(ctx + "/Dockerfile", "FROM busybox\nRUN echo built > /built\n");
    REQUIRE(r.isolab({"build", "-t", "nc:1", ctx}).code == 0);
    auto cached = r.isolab({"build", "-t", "nc:1", ctx});
    CHECK(cached.out.find("Using cache") != std::string::npos);
    auto fresh = r.isolab({"build", "--no-cache", "-t", "nc:1", ctx});
    CHECK(fresh.code == 0);
    CHECK(fresh.out.find("Using cache") == std::string::npos);

    REQUIRE(r.isolab({"create", "--name", "rs", "busybox", "true"}).code == 0);
    CHECK(r.isolab({"update", "--restart", "on-failure:3", "rs"}).code == 0);
    CHECK(r.isolab({"inspect", "-f", "{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}", "rs"}).out ==
          "on-failure 3\n");

    REQUIRE(r.isolab({"network", "create", "--internal", "inner"}).code == 0);
    CHECK(r.isolab({"network", "inspect", "-f", "{{.Internal}}", "inner"}).out == "true\n");
    auto ids = r.isolab({"network", "ls", "--no-trunc", "-q", "-f", "name=inner"});
    CHECK(ids.out.size() == 65);  // 64 hex digits and a newline; 12 without --no-trunc
    CHECK(r.isolab({"network", "ls", "-q", "-f", "name=inner"}).out.size() == 13);

    // prune --filter label=...: only the labelled stopped container goes.
    REQUIRE(r.isolab({"create", "--label", "tier=tmp", "--name", "tmp1", "busybox", "true"}).code == 0);
    auto pruned = r.isolab({"container", "prune", "-f", "--filter", "label=tier=tmp"});
    CHECK(pruned.code == 0);
    CHECK(r.isolab({"inspect", "tmp1"}).code == 1);
    CHECK(r.isolab({"inspect", "rs"}).code == 0);
    auto img_pruned = r.isolab({"image", "prune", "-f", "--filter", "label=nosuch=label"});
    CHECK(img_pruned.code == 0);
    CHECK(r.isolab({"inspect", "--type", "image", "nc:1"}).code == 0);
    auto sys_pruned = r.isolab({"system", "prune", "-f", "--filter", "label=tier=none"});
    CHECK(sys_pruned.code == 0);
    CHECK(r.isolab({"inspect", "rs"}).code == 0);  // not labelled: kept

    auto df = r.isolab({"system", "df", "--format", "{{.Type}}"});
    CHECK(df.code == 0);
    CHECK(df.out.find("Images\n") != std::string::npos);
    CHECK(df.out.find("Containers\n") != std::string::npos);
}
