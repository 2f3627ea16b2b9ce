// Docker's health-check rules (sim/state/health.hpp): the merge of a container's flags over the
// image's HEALTHCHECK, the daemon's checks, the state machine from probe results to a status with
// the start period's edges, the probe schedule, and Go's duration words used in its messages.
#include <doctest/doctest.h>

#include "sim/state/container.hpp"
#include "sim/state/health.hpp"
#include "sim/view/snapshot.hpp"
#include "sim/view/stacks.hpp"

using namespace isolab;
using namespace isolab::view;

namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kS = 1'000'000'000;

HealthResult result(int code, std::string out = "") { return {"2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", code, out}; }

HealthConfig check(int64_t interval = 0, int retries = 0, int64_t start_period = 0, int64_t start_interval = 0) {
    HealthConfig c;
    c.test = {"CMD-SHELL", "true"};
    c.interval_ns = interval;
    c.retries = retries;
    c.start_period_ns = start_period;
    c.start_interval_ns = start_interval;
    return c;
}

}  // namespace

TEST_CASE("health: Go's Duration.String words, as in \"Health check exceeded timeout (30s)\"") {
    CHECK(go_duration_string(0) == "0s");
    CHECK(go_duration_string(1) == "1ns");
    CHECK(go_duration_string(999) == "999ns");
    CHECK(go_duration_string(1500) == "1.5µs");
    CHECK(go_duration_string(kMs) == "1ms");
    CHECK(go_duration_string(1500 * 1000) == "1.5ms");
    CHECK(go_duration_string(300 * kMs) == "300ms");
    CHECK(go_duration_string(kS) == "1s");
    CHECK(go_duration_string(1500 * kMs) == "1.5s");
    CHECK(go_duration_string(30 * kS) == "30s");
    CHECK(go_duration_string(90 * kS) == "1m30s");
    CHECK(go_duration_string(60 * kS) == "1m0s");
    CHECK(go_duration_string(3600 * kS) == "1h0m0s");
    CHECK(go_duration_string(3661 * kS + 500 * kMs) == "1h1m1.5s");
    CHECK(go_duration_string(-2 * kS) == "-2s");
}

TEST_CASE("health: the daemon's checks of a health check, in Docker's words and order") {
    CHECK(validate_healthcheck(HealthConfig{}).ok());
    CHECK(validate_healthcheck(check(kMs)).ok());  // exactly the minimum
    HealthConfig c;
    c.interval_ns = kMs - 1;
    CHECK(validate_healthcheck(c).error().message == "Interval in Healthcheck cannot be less than 1ms");
    CHECK(validate_healthcheck(c).error().exit_code == 125);
    c = {};
    c.timeout_ns = 500'000;
    CHECK(validate_healthcheck(c).error().message == "Timeout in Healthcheck cannot be less than 1ms");
    c = {};
    c.retries = -1;
    CHECK(validate_healthcheck(c).error().message == "Retries in Healthcheck cannot be negative");
    c = {};
    c.start_period_ns = 1;
    CHECK(validate_healthcheck(c).error().message == "StartPeriod in Healthcheck cannot be less than 1ms");
    c = {};
    c.start_interval_ns = -kS;
    CHECK(validate_healthcheck(c).error().message == "StartInterval in Healthcheck cannot be less than 1ms");
    // Interval is checked before Timeout, as the daemon does.
    c = {};
    c.interval_ns = 1;
    c.timeout_ns = 1;
    CHECK(validate_healthcheck(c).error().message == "Interval in Healthcheck cannot be less than 1ms");
}

TEST_CASE("health: the container's fields override the image's one by one (daemon/commit.go merge)") {
    HealthConfig image = check(5 * kS, 4, 10 * kS, 2 * kS);
    image.test = {"CMD", "/check"};
    image.timeout_ns = 3 * kS;

    CHECK_FALSE(merge_healthcheck(std::nullopt, std::nullopt));
    CHECK(merge_healthcheck(std::nullopt, image) == image);
    HealthConfig only_flags = check(kS);
    CHECK(merge_healthcheck(only_flags, std::nullopt) == only_flags);

    // --health-timeout 9s alone: the image's test, interval, start period, start interval, retries.
    HealthConfig timeout_only;
    timeout_only.timeout_ns = 9 * kS;
    auto m = merge_healthcheck(timeout_only, image);
    REQUIRE(m);
    CHECK(m->test == std::vector<std::string>{"CMD", "/check"});
    CHECK(m->timeout_ns == 9 * kS);
    CHECK(m->interval_ns == 5 * kS);
    CHECK(m->start_period_ns == 10 * kS);
    CHECK(m->start_interval_ns == 2 * kS);
    CHECK(m->retries == 4);

    // --health-cmd replaces the test and keeps the image's timing.
    HealthConfig cmd;
    cmd.test = {"CMD-SHELL", "exit 0"};
    m = merge_healthcheck(cmd, image);
    CHECK(m->test == std::vector<std::string>{"CMD-SHELL", "exit 0"});
    CHECK(m->interval_ns == 5 * kS);

    // --no-healthcheck: NONE wins, so nothing runs (Docker fills the rest in, unused).
    HealthConfig none;
    none.test = {"NONE"};
    m = merge_healthcheck(none, image);
    CHECK(m->test == std::vector<std::string>{"NONE"});
    CHECK_FALSE(runs_probe(m));
}

TEST_CASE("health: which tests run a probe, and what the probe executes") {
    CHECK_FALSE(runs_probe(std::nullopt));
    CHECK_FALSE(runs_probe(HealthConfig{}));
    HealthConfig c;
    c.test = {"NONE"};
    CHECK_FALSE(runs_probe(c));
    c.test = {"WHATEVER", "x"};
    CHECK_FALSE(runs_probe(c));  // Docker logs a warning and runs nothing
    c.test = {"CMD", "/bin/check", "--fast"};
    REQUIRE(runs_probe(c));
    CHECK(probe_argv(c, {"/bin/bash", "-c"}) == std::vector<std::string>{"/bin/check", "--fast"});
    c.test = {"CMD-SHELL", "curl -f localhost || exit 1"};
    REQUIRE(runs_probe(c));
    CHECK(probe_argv(c, {}) == std::vector<std::string>{"/bin/sh", "-c", "curl -f localhost || exit 1"});
    CHECK(probe_argv(c, {"/bin/ash", "-xc"}) == std::vector<std::string>{"/bin/ash", "-xc", "curl -f localhost || exit 1"});
}

TEST_CASE("health: results to status — retries, the streak, the log of five") {
    const HealthConfig c = check();  // retries 0: Docker's 3
    HealthState h = health_on_start(std::nullopt);
    CHECK(h.status == HealthStatus::Starting);
    h = apply_probe_result(h, result(1), c, 100 * kS);
    CHECK(h.status == HealthStatus::Starting);
    CHECK(h.failing_streak == 1);
    h = apply_probe_result(h, result(2), c, 100 * kS);
    CHECK(h.status == HealthStatus::Starting);
    h = apply_probe_result(h, result(-1, "Health check exceeded timeout (1s)"), c, 100 * kS);
    CHECK(h.status == HealthStatus::Unhealthy);  // the third failure, a timeout among them
    CHECK(h.failing_streak == 3);
    h = apply_probe_result(h, result(0, "ok"), c, 100 * kS);
    CHECK(h.status == HealthStatus::Healthy);
    CHECK(h.failing_streak == 0);
    h = apply_probe_result(h, result(1), c, 100 * kS);
    CHECK(h.status == HealthStatus::Healthy);  // one failure is not yet unhealthy
    CHECK(h.failing_streak == 1);
    REQUIRE(h.log.size() == 5);
    h = apply_probe_result(h, result(7, "sixth"), c, 100 * kS);
    REQUIRE(h.log.size() == 5);  // the oldest went
    CHECK(h.log.front().exit_code == 2);
    CHECK(h.log.back().output == "sixth");

    const HealthConfig one = check(0, 1);
    HealthState u = apply_probe_result(health_on_start(std::nullopt), result(1), one, 0);
    CHECK(u.status == HealthStatus::Unhealthy);  // --health-retries 1, no start period
}

TEST_CASE("health: the start period — failures inside it while starting do not count, a success ends it") {
    const HealthConfig c = check(kS, 2, 10 * kS);
    HealthState h = health_on_start(std::nullopt);
    for (int i = 0; i < 5; ++i) h = apply_probe_result(h, result(1), c, i * kS);
    CHECK(h.status == HealthStatus::Starting);
    CHECK(h.failing_streak == 0);
    CHECK(h.log.size() == 5);  // recorded, not counted
    // The edge: a probe that starts exactly when the period ends counts (Docker: since < period).
    h = apply_probe_result(h, result(1), c, 10 * kS - 1);
    CHECK(h.failing_streak == 0);
    h = apply_probe_result(h, result(1), c, 10 * kS);
    CHECK(h.failing_streak == 1);
    h = apply_probe_result(h, result(1), c, 11 * kS);
    CHECK(h.status == HealthStatus::Unhealthy);

    // A success inside the period ends it: a failure after it counts, even inside the period.
    HealthState g = apply_probe_result(health_on_start(std::nullopt), result(0), c, kS);
    CHECK(g.status == HealthStatus::Healthy);
    g = apply_probe_result(g, result(1), c, 2 * kS);
    CHECK(g.failing_streak == 1);
    g = apply_probe_result(g, result(1), c, 3 * kS);
    CHECK(g.status == HealthStatus::Unhealthy);

    // A restart is starting again with a fresh streak; the old log stays.
    HealthState r = health_on_start(g);
    CHECK(r.status == HealthStatus::Starting);
    CHECK(r.failing_streak == 0);
    CHECK(r.log.size() == g.log.size());
    r = apply_probe_result(r, result(1), c, 0);
    CHECK(r.failing_streak == 0);  // inside the new start period
    CHECK(health_on_stop(r).status == HealthStatus::Unhealthy);
    CHECK(health_on_stop(r).log == r.log);
}

TEST_CASE("health: when the next probe runs — interval, start interval, the end of the start period") {
    // No start period: the interval (default 30s) from the start on.
    CHECK(next_probe_delay_ns(HealthConfig{}, 0, HealthStatus::Starting) == 30 * kS);
    CHECK(next_probe_delay_ns(check(kS), 0, HealthStatus::Starting) == kS);
    CHECK(probe_timeout_ns(HealthConfig{}) == 30 * kS);
    // A start period shorter than the interval: the first probe as it ends.
    CHECK(next_probe_delay_ns(check(30 * kS, 0, 10 * kS), 0, HealthStatus::Starting) == 10 * kS);
    CHECK(next_probe_delay_ns(check(30 * kS, 0, 10 * kS), 4 * kS, HealthStatus::Starting) == 6 * kS);
    // A long start period: the start interval (default 5s) while starting, the interval once healthy.
    const HealthConfig long_period = check(2 * kS, 0, 60 * kS, 500 * kMs);
    CHECK(next_probe_delay_ns(long_period, 0, HealthStatus::Starting) == 500 * kMs);
    CHECK(next_probe_delay_ns(long_period, 0, HealthStatus::Healthy) == 2 * kS);
    CHECK(next_probe_delay_ns(check(2 * kS, 0, 60 * kS), 0, HealthStatus::Starting) == 5 * kS);
    // After the period: the interval whatever the status.
    CHECK(next_probe_delay_ns(long_period, 60 * kS, HealthStatus::Starting) == 2 * kS);
}

TEST_CASE("health: Docker's JSON shapes, and the record keeps the check and the state") {
    HealthConfig c = check(kS, 2, 0, 0);
    CHECK(to_docker_json(c) == nlohmann::json{{"Test", {"CMD-SHELL", "true"}}, {"Interval", kS}, {"Retries", 2}});
    CHECK(health_config_from_docker_json(to_docker_json(c)) == c);
    CHECK(to_json(health_on_start(std::nullopt))["Log"].is_null());  // Docker: a nil slice

    ContainerRecord r;
    r.id = std::string(64, 'a');
    r.spec.healthcheck = HealthConfig{{"NONE"}};
    r.healthcheck = c;
    r.shell = {"/bin/ash", "-c"};
    r.health = apply_probe_result(health_on_start(std::nullopt), result(0, "fine\n"), c, kS);
    ContainerRecord back = record_from_json(to_json(r));
    CHECK(back.spec.healthcheck == r.spec.healthcheck);
    CHECK(back.healthcheck == r.healthcheck);
    CHECK(back.shell == r.shell);
    REQUIRE(back.health);
    CHECK(*back.health == *r.health);

    auto in = inspect_json(r);
    CHECK(in["State"]["Health"]["Status"] == "healthy");
    CHECK(in["State"]["Health"]["Log"][0]["Output"] == "fine\n");
    CHECK(in["Config"]["Healthcheck"]["Test"] == nlohmann::json{"CMD-SHELL", "true"});
    CHECK(in["Config"]["Shell"] == nlohmann::json{"/bin/ash", "-c"});
    r.health.reset();
    r.healthcheck.reset();
    in = inspect_json(r);
    CHECK_FALSE(in["State"].contains("Health"));  // omitempty, as Docker
    CHECK_FALSE(in["Config"].contains("Healthcheck"));
}

TEST_CASE("health: the GUI's stack boxes carry the health word of a running container, and a change of it wakes the window") {
    WorldSnapshot w;
    ContainerView running;
    running.rec.id = std::string(64, 'c');
    running.rec.name = "web";
    running.rec.state = ContainerState::Running;
    running.rec.path_args = {"httpd"};
    running.rec.health = health_on_start(std::nullopt);
    ContainerView paused = running;
    paused.rec.id = std::string(64, 'd');
    paused.rec.name = "frozen";
    paused.rec.state = ContainerState::Paused;
    ContainerView plain = running;
    plain.rec.id = std::string(64, 'e');
    plain.rec.name = "plain";
    plain.rec.health.reset();
    w.containers = {running, paused, plain};
    StackModel m = build_stacks(w);
    REQUIRE(m.containers.size() == 3);
    CHECK(m.containers[0].health == "starting");
    CHECK(m.containers[1].health.empty());  // ps shows "(Paused)" only
    CHECK(m.containers[2].health.empty());
    const std::string before = fingerprint(w);
    w.containers[0].rec.health = apply_probe_result(*w.containers[0].rec.health, result(0), check(), 0);
    CHECK(build_stacks(w).containers[0].health == "healthy");
    CHECK(fingerprint(w) != before);
}
