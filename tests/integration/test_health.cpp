// Health checks (issue 16) through the real `isolab` binary on the real runtime, each case in its
// own ISOLAB_ROOT: the container's monitor runs the HEALTHCHECK inside the container as `exec`
// does, and what it found is read back the way a learner reads it (ps, inspect, events) and, for
// the processes a probe leaves or does not leave, from /proc. Waits are polls with deadlines.
#include <doctest/doctest.h>

#include "tests/skip.hpp"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness.hpp"
#include "sim/core/clock.hpp"

using namespace isolab::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

json health_of(const TempRoot& r, const std::string& name) {
    auto res = r.isolab({"inspect", "--format", "{{json .State.Health}}", name});
    if (res.code != 0) return nullptr;
    return json::parse(res.out, nullptr, false);
}

std::string status_of(const TempRoot& r, const std::string& name) {
    json h = health_of(r, name);
    return h.is_object() ? h.value("Status", "") : "none";
}

// Host pids whose command line is exactly ARGV (NUL-separated in /proc/PID/cmdline).
std::vector<int> processes_running(const std::vector<std::string>& argv) {
    std::string want;
    for (const auto& a : argv) want += a + std::string(1, '\0');
    std::vector<int> out;
    DIR* d = ::opendir("/proc");
    if (!d) return out;
    while (struct dirent* e = ::readdir(d)) {
        int pid = std::atoi(e->d_name);
        if (pid > 0 && read_text("/proc/" + std::to_string(pid) + "/cmdline") == want) out.push_back(pid);
    }
    ::closedir(d);
    return out;
}

std::vector<std::string> names_of(const CmdResult& ps) {
    std::vector<std::string> out;
    std::istringstream in(ps.out);
    for (std::string l; std::getline(in, l);)
        if (!l.empty()) out.push_back(l);
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEST_CASE("health: a passing check becomes healthy and a failing one unhealthy after its retries; ps shows and filters Docker's words") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    REQUIRE(r.isolab({"run", "-d", "--name", "ok", "--health-cmd", "echo fine; exit 0", "--health-interval", "1s", "busybox",
                      "sleep", "300"})
                .code == 0);
    // Before its first probe (one interval after the start) it is starting, in Docker's words.
    auto ps = r.isolab({"ps", "--format", "{{.Names}} {{.Status}}"});
    CHECK(std::regex_search(ps.out, std::regex(R"(ok Up .* \(health: starting\))")));
    CHECK(status_of(r, "ok") == "starting");
    REQUIRE(r.isolab({"run", "-d", "--name", "bad", "--health-cmd", "echo broken >&2; exit 3", "--health-interval", "200ms",
                      "--health-retries", "2", "busybox", "sleep", "300"})
                .code == 0);
    REQUIRE(r.isolab({"run", "-d", "--name", "plain", "busybox", "sleep", "300"}).code == 0);

    CHECK(poll_until(15s, [&] { return status_of(r, "ok") == "healthy"; }));
    CHECK(poll_until(15s, [&] { return status_of(r, "bad") == "unhealthy"; }));
    json ok = health_of(r, "ok");
    REQUIRE(ok["Log"].is_array());
    CHECK(ok["FailingStreak"] == 0);
    CHECK(ok["Log"].back()["ExitCode"] == 0);
    CHECK(ok["Log"].back()["Output"] == "fine\n");
    json bad = health_of(r, "bad");
    CHECK(bad["FailingStreak"].get<int>() >= 2);
    CHECK(bad["Log"].back()["ExitCode"] == 3);
    CHECK(bad["Log"].back()["Output"] == "broken\n");
    CHECK(bad["Log"].size() <= 5);
    CHECK(r.isolab({"inspect", "--format", "{{.State.Health.Status}}", "bad"}).out == "unhealthy\n");
    CHECK(r.isolab({"inspect", "--format", "{{json .Config.Healthcheck}}", "bad"}).out ==
          "{\"Interval\":200000000,\"Retries\":2,\"Test\":[\"CMD-SHELL\",\"echo broken >&2; exit 3\"]}\n");
    // A container without a check has no State.Health (Docker's template error names the key).
    auto none = r.isolab({"inspect", "--format", "{{.State.Health.Status}}", "plain"});
    CHECK(none.code != 0);
    CHECK(none.err.find("map has no entry for key \"Health\"") != std::string::npos);

    ps = r.isolab({"ps", "--format", "{{.Names}} {{.Status}}"});
    CHECK(std::regex_search(ps.out, std::regex(R"(ok Up .* \(healthy\))")));
    CHECK(std::regex_search(ps.out, std::regex(R"(bad Up .* \(unhealthy\))")));
    CHECK(std::regex_search(ps.out, std::regex(R"(plain Up [^(]*\n)")));
    CHECK(names_of(r.isolab({"ps", "--filter", "health=healthy", "--format", "{{.Names}}"})) == std::vector<std::string>{"ok"});
    CHECK(names_of(r.isolab({"ps", "--filter", "health=unhealthy", "--format", "{{.Names}}"})) == std::vector<std::string>{"bad"});
    CHECK(names_of(r.isolab({"ps", "--filter", "health=none", "--format", "{{.Names}}"})) == std::vector<std::string>{"plain"});
    CHECK(names_of(r.isolab({"ps", "--filter", "health=starting", "--format", "{{.Names}}"})).empty());
    CHECK(names_of(r.isolab({"ps", "-f", "health=healthy", "-f", "health=unhealthy", "--format", "{{.Names}}"})) ==
          std::vector<std::string>{"bad", "ok"});
    auto bogus = r.isolab({"ps", "--filter", "health=fine"});
    CHECK(bogus.code == 1);
    CHECK(bogus.err == "Error response from daemon: Unrecognised filter value for health: fine\n");

    // Docker's events for each probe, and for the change of status.
    auto events = r.isolab({"events", "--since", "5m", "--until", "0s", "--filter", "container=ok"}).out;
    CHECK(events.find("container exec_create: /bin/sh -c echo fine; exit 0 ") != std::string::npos);
    CHECK(events.find("container exec_start: /bin/sh -c echo fine; exit 0 ") != std::string::npos);
    CHECK(std::regex_search(events, std::regex(R"(container exec_die [0-9a-f]{64} \(execID=[0-9a-f]{64}, exitCode=0)")));
    CHECK(std::regex_search(events, std::regex(R"(container health_status: healthy [0-9a-f]{64} \(image=busybox, name=ok\))")));
    auto bad_events = r.isolab({"events", "--since", "5m", "--until", "0s", "--filter", "event=health_status", "--filter",
                                "container=bad"}).out;
    CHECK(bad_events.find("health_status: unhealthy") != std::string::npos);
    CHECK(bad_events.find("health_status: healthy") == std::string::npos);
}

TEST_CASE("health: a probe past --health-timeout is killed with its children and recorded in Docker's words") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    REQUIRE(r.isolab({"run", "-d", "--name", "slow", "--health-cmd", "echo started; sleep 3011", "--health-timeout", "300ms",
                      "--health-interval", "2s", "--health-retries", "1", "busybox", "sleep", "300"})
                .code == 0);
    CHECK(poll_until(20s, [&] { return status_of(r, "slow") == "unhealthy"; }));
    json h = health_of(r, "slow");
    REQUIRE(h["Log"].is_array());
    REQUIRE_FALSE(h["Log"].empty());
    const json& last = h["Log"].back();
    CHECK(last["ExitCode"] == -1);
    CHECK(last["Output"] == "Health check exceeded timeout (300ms): started\n");
    // Killed at its timeout, not left to its 50 minutes: the shell and the sleep it started.
    const int64_t took_ms =
        (isolab::rfc3339_to_unix_ns(last["End"].get<std::string>()) - isolab::rfc3339_to_unix_ns(last["Start"].get<std::string>())) /
        1'000'000;
    CHECK(took_ms >= 300);
    CHECK(took_ms < 5000);
    CHECK(poll_until(1500ms, [&] { return processes_running({"sleep", "3011"}).empty(); }));
}

TEST_CASE("health: --no-healthcheck disables the image's HEALTHCHECK; a --health-* flag overrides one field of it") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    const std::string ctx = r.path() + "/ctx";
    write_text(ctx + "/Dockerfile",
               "FROM busybox\nSHELL [\"/bin/sh\", \"-xc\"]\nHEALTHCHECK --interval=1s --retries=2 CMD echo from-image\n");
    REQUIRE(r.isolab({"build", "-q", "-t", "checked", ctx}).code == 0);
    REQUIRE(r.isolab({"run", "-d", "--name", "off", "--no-healthcheck", "checked", "sleep", "300"}).code == 0);
    REQUIRE(r.isolab({"run", "-d", "--name", "image", "checked", "sleep", "300"}).code == 0);
    REQUIRE(r.isolab({"run", "-d", "--name", "mixed", "--health-timeout", "7s", "checked", "sleep", "300"}).code == 0);
    CHECK(poll_until(15s, [&] { return status_of(r, "image") == "healthy"; }));
    CHECK(poll_until(15s, [&] { return status_of(r, "mixed") == "healthy"; }));
    // The image's SHELL runs a CMD-SHELL check (its -x traces the command).
    CHECK(health_of(r, "image")["Log"].back()["Output"] == "+ echo from-image\nfrom-image\n");
    CHECK(r.isolab({"inspect", "--format", "{{json .Config.Healthcheck}}", "mixed"}).out ==
          "{\"Interval\":1000000000,\"Retries\":2,\"Test\":[\"CMD-SHELL\",\"echo from-image\"],\"Timeout\":7000000000}\n");
    // Started with the others, and the image's check has run on them by now: never on this one.
    CHECK(r.isolab({"inspect", "--format", "{{json .Config.Healthcheck.Test}} {{json .State.Health}}", "off"}).out ==
          "[\"NONE\"] null\n");
    CHECK(names_of(r.isolab({"ps", "--filter", "health=none", "--format", "{{.Names}}"})) == std::vector<std::string>{"off"});
    auto events = r.isolab({"events", "--since", "5m", "--until", "0s", "--filter", "container=off"}).out;
    CHECK(events.find("exec_") == std::string::npos);
}

TEST_CASE("health: pause stops the probes and leaves unhealthy, unpause resumes them, restart starts over") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    REQUIRE(r.isolab({"run", "-d", "--name", "paused", "--health-cmd", "true", "--health-interval", "1s", "busybox", "sleep",
                      "300"})
                .code == 0);
    CHECK(poll_until(15s, [&] { return status_of(r, "paused") == "healthy"; }));
    REQUIRE(r.isolab({"pause", "paused"}).code == 0);
    CHECK(status_of(r, "paused") == "unhealthy");  // Docker's CloseMonitorChannel, at once
    CHECK(std::regex_search(r.isolab({"ps", "--format", "{{.Status}}"}).out, std::regex(R"(^Up .* \(Paused\)\n$)")));
    const size_t before = health_of(r, "paused")["Log"].size();
    const std::string last_end = health_of(r, "paused")["Log"].back()["End"];
    // Nothing may happen while paused: a fixed wait of more than two intervals.
    std::this_thread::sleep_for(2500ms);
    CHECK(health_of(r, "paused")["Log"].size() == before);
    CHECK(health_of(r, "paused")["Log"].back()["End"] == last_end);
    REQUIRE(r.isolab({"unpause", "paused"}).code == 0);
    CHECK(poll_until(15s, [&] { return status_of(r, "paused") == "healthy"; }));
    CHECK(health_of(r, "paused")["Log"].back()["End"] != last_end);

    REQUIRE(r.isolab({"stop", "-t", "0", "paused"}).code == 0);
    CHECK(status_of(r, "paused") == "unhealthy");
    CHECK(names_of(r.isolab({"ps", "-a", "--filter", "health=unhealthy", "--format", "{{.Names}}"})) ==
          std::vector<std::string>{"paused"});
    REQUIRE(r.isolab({"restart", "-t", "0", "paused"}).code == 0);
    json h = health_of(r, "paused");
    CHECK(h["Status"] == "starting");
    CHECK(h["FailingStreak"] == 0);
    CHECK(h["Log"].size() >= before);  // the log of the earlier run is kept, as Docker keeps it
    CHECK(poll_until(15s, [&] { return status_of(r, "paused") == "healthy"; }));
}

TEST_CASE("health: a monitor killed in the middle of a probe leaves no probe process running") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    REQUIRE(r.isolab({"run", "-d", "--name", "crash", "--health-cmd", "sleep 3012", "--health-interval", "100ms",
                      "--health-timeout", "1h", "busybox", "sleep", "3013"})
                .code == 0);
    REQUIRE(poll_until(15s, [&] { return !processes_running({"sleep", "3012"}).empty(); }));
    const int monitor = std::stoi(r.isolab({"inspect", "--format", "{{.IsoLab.MonitorPid}}", "crash"}).out);
    REQUIRE(monitor > 0);
    REQUIRE(::kill(monitor, SIGKILL) == 0);
    // The probe dies with its monitor (PR_SET_PDEATHSIG down the helper), before any command runs.
    CHECK(poll_until(5s, [&] { return processes_running({"sleep", "3012"}).empty(); }));
    auto ps = r.isolab({"ps", "-a", "--format", "{{.Names}} {{.Status}}"});
    CHECK(std::regex_search(ps.out, std::regex(R"(crash Exited \(255\))")));
    CHECK(processes_running({"sleep", "3012"}).empty());
    CHECK(processes_running({"sleep", "3013"}).empty());  // PID 1, stopped by the garbage collector
    CHECK(status_of(r, "crash") == "unhealthy");
}

TEST_CASE("health: the start period holds failures back and the start interval probes faster until the first success") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    // Retries 1: without the start period the first failure would make it unhealthy.
    REQUIRE(r.isolab({"run", "-d", "--name", "boot", "--health-cmd", "test -e /tmp/ready", "--health-retries", "1",
                      "--health-interval", "2s", "--health-start-period", "60s", "--health-start-interval", "200ms",
                      "busybox", "sleep", "300"})
                .code == 0);
    // Three failed probes within seconds: the start interval (200ms), not the interval (2s).
    CHECK(poll_until(3s, [&] {
        json h = health_of(r, "boot");
        return h.is_object() && h["Log"].is_array() && h["Log"].size() >= 3;
    }));
    json h = health_of(r, "boot");
    CHECK(h["Status"] == "starting");
    CHECK(h["FailingStreak"] == 0);
    CHECK(h["Log"].back()["ExitCode"] == 1);
    // The first success ends the start period.
    REQUIRE(r.isolab({"exec", "boot", "touch", "/tmp/ready"}).code == 0);
    CHECK(poll_until(5s, [&] { return status_of(r, "boot") == "healthy"; }));
    // From then on the interval: the next probe comes about 2s after the previous one ended.
    const size_t seen = health_of(r, "boot")["Log"].size();
    const std::string ended = health_of(r, "boot")["Log"].back()["End"];
    CHECK(poll_until(10s, [&] {
        json l = health_of(r, "boot")["Log"];
        return l.back()["End"] != ended;
    }));
    json log = health_of(r, "boot")["Log"];
    const std::string next_start = log.back()["Start"];
    CHECK((isolab::rfc3339_to_unix_ns(next_start) - isolab::rfc3339_to_unix_ns(ended)) / 1'000'000 >= 1900);
    CHECK(seen >= 4);
    // Healthy now, so a failure counts even though the 60s start period has not passed.
    REQUIRE(r.isolab({"exec", "boot", "rm", "/tmp/ready"}).code == 0);
    CHECK(poll_until(10s, [&] { return status_of(r, "boot") == "unhealthy"; }));
    CHECK(health_of(r, "boot")["FailingStreak"] == 1);
}

TEST_CASE("health: the check runs in a --runtime runc container and in a rootless one, as exec does") {
    if (!real_runtime_or_skip()) return;
    if (::access("/usr/sbin/runc", X_OK) != 0 && ::access("/usr/bin/runc", X_OK) != 0) {
        ISOLAB_SKIP("runc is not installed (apt-get install runc)");
    } else {
        TempRoot r;
        // runc's monitor leaves its first mount namespace, where /proc/self/exe names the helper.
        REQUIRE(r.isolab({"run", "-d", "--name", "viarunc", "--runtime", "runc", "--health-cmd", "cat /etc/hostname",
                          "--health-interval", "300ms", "--hostname", "probed", "busybox", "sleep", "300"})
                    .code == 0);
        CHECK(poll_until(15s, [&] { return status_of(r, "viarunc") == "healthy"; }));
        CHECK(health_of(r, "viarunc")["Log"].back()["Output"] == "probed\n");  // inside the container's UTS namespace
    }
    auto probe = run_process({"unshare", "--user", "--map-root-user", "true"}, {}, 10000, "", 65534);
    if (probe.code != 0) {
        ISOLAB_SKIP("uid 65534 cannot create a user namespace here: the rootless path cannot run on this machine");
        return;
    }
    TempRoot r;
    r.use_private_binaries();
    r.uid = 65534;
    ::chown(r.path().c_str(), 65534, 65534);
    REQUIRE(r.isolab({"run", "-d", "--name", "rl", "--health-cmd", "id -u", "--health-interval", "300ms", "busybox",
                      "sleep", "300"})
                .code == 0);
    CHECK(poll_until(15s, [&] { return status_of(r, "rl") == "healthy"; }));
    CHECK(health_of(r, "rl")["Log"].back()["Output"] == "0\n");  // root inside its user namespace
}
