// Docker's container health checks (moby daemon/health.go, daemon/container/health.go): the
// configuration a container runs with, the state its monitor keeps in the record, and the rules
// between them as pure functions, so that every edge of the state machine is unit-testable
// without a clock or a container.
//
// The lifecycle of the status, as Docker's:
//   (no probe)  none      the container has no health check (none configured, NONE, or an unknown
//                         test type), or it has never been started with one
//   start       starting  FailingStreak 0; the log of earlier runs is kept
//   a probe     healthy   exit code 0 (and the start period ends with it)
//               unhealthy FailingStreak reached Retries; a failure inside the start period while
//                         still starting does not count
//   pause, stop, exit     unhealthy ("for compatibility reasons", CloseMonitorChannel): no probe
//                         runs while paused; unpause waits one interval before the next probe
// The monitor (sim/runtime/health_checker.hpp) runs the probes and writes each step into the
// record under the container's lock; `ps`, `inspect` and the GUI read it from there.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/result.hpp"

namespace isolab {

// Docker's Config.Healthcheck. Durations in nanoseconds; 0 means "Docker's default" (and, in a
// container's own flags, "take the image's").
struct HealthConfig {
    std::vector<std::string> test;  // {} inherit; {"NONE"}; {"CMD", argv...}; {"CMD-SHELL", text}
    int64_t interval_ns = 0;
    int64_t timeout_ns = 0;
    int64_t start_period_ns = 0;
    int64_t start_interval_ns = 0;
    int retries = 0;
    bool operator==(const HealthConfig&) const = default;
};

// daemon/health.go's constants.
inline constexpr int64_t kSecondNs = 1'000'000'000;
inline constexpr int64_t kDefaultProbeIntervalNs = 30 * kSecondNs;
inline constexpr int64_t kDefaultProbeTimeoutNs = 30 * kSecondNs;
inline constexpr int64_t kDefaultStartPeriodNs = 0;
inline constexpr int64_t kDefaultStartIntervalNs = 5 * kSecondNs;
inline constexpr int kDefaultProbeRetries = 3;
inline constexpr size_t kMaxProbeOutput = 4096;  // bytes kept of a probe's output
inline constexpr size_t kMaxHealthLog = 5;       // results kept
// containertypes.MinimumDuration: a duration that is set may not be shorter.
inline constexpr int64_t kMinimumHealthDurationNs = 1'000'000;

enum class HealthStatus { Starting, Healthy, Unhealthy };
const char* health_status_name(HealthStatus s);  // "starting" | "healthy" | "unhealthy"
std::optional<HealthStatus> health_status_from_name(const std::string& word);

// One probe's result (Docker's HealthcheckResult). Times are RFC 3339 with nanoseconds.
struct HealthResult {
    std::string start, end;
    int exit_code = 0;  // -1: the probe could not run or exceeded its timeout
    std::string output;
    bool operator==(const HealthResult&) const = default;
};

struct HealthState {
    HealthStatus status = HealthStatus::Starting;
    int failing_streak = 0;
    std::vector<HealthResult> log;  // oldest first, at most kMaxHealthLog
    bool operator==(const HealthState&) const = default;
};

// ---- Configuration

// Docker's daemon checks (daemon/container.go validateHealthCheck), its words: a duration that is
// set is at least 1ms, retries are not negative. Exit code 125.
Status validate_healthcheck(const HealthConfig& c);

// daemon/commit.go merge: with an image check, the container's fields override the image's one by
// one (an empty test, a zero duration or zero retries take the image's); without one, the
// container's stands alone. nullopt: neither has one.
std::optional<HealthConfig> merge_healthcheck(const std::optional<HealthConfig>& container,
                                              const std::optional<HealthConfig>& image);

// getProbe: the test is CMD or CMD-SHELL (NONE, an empty test and unknown types run nothing).
bool runs_probe(const std::optional<HealthConfig>& c);

// What the probe executes: CMD's words, or CMD-SHELL's text after SHELL (the image's SHELL, else
// /bin/sh -c). Precondition: runs_probe(c).
std::vector<std::string> probe_argv(const HealthConfig& c, const std::vector<std::string>& shell);

// Docker's JSON shape {"Test", "Interval", "Timeout", "StartPeriod", "StartInterval", "Retries"},
// zero fields left out (omitempty), as image configs and `inspect` write it.
nlohmann::json to_docker_json(const HealthConfig& c);
// Reads that shape; fields of the wrong type are ignored.
HealthConfig health_config_from_docker_json(const nlohmann::json& j);

// ---- State: handleProbeResult, monitor's getInterval, initHealthMonitor, CloseMonitorChannel

// The state after RESULT. SINCE_STARTED_NS is RESULT's start minus the container's StartedAt:
// while the status is still starting and that is inside the start period, a failure does not
// count; a success ends the start period (the status is healthy from then on).
HealthState apply_probe_result(HealthState state, HealthResult result, const HealthConfig& c, int64_t since_started_ns);

// How long to wait before the next probe, SINCE_STARTED_NS after the container started: the
// interval once the start period is over; inside it, what is left of it when that is shorter
// than the interval (the first probe after the start period runs as it ends), else the start
// interval while still starting.
int64_t next_probe_delay_ns(const HealthConfig& c, int64_t since_started_ns, HealthStatus status);

// The probe's timeout (the configured one, else 30s).
int64_t probe_timeout_ns(const HealthConfig& c);

// A container starts (or restarts): starting, no failures, the old log kept.
HealthState health_on_start(std::optional<HealthState> previous);
// Its checks stop (pause, stop, exit): unhealthy, as Docker's CloseMonitorChannel leaves it.
HealthState health_on_stop(HealthState state);

// Docker's limitedBuffer.String(): the first kMaxProbeOutput bytes, "..." when more came.
std::string probe_output(const std::string& kept, bool truncated);

// Go's time.Duration.String(): "1s", "1.5s", "500ms", "1m30s", "2h0m0s", "0s".
std::string go_duration_string(int64_t ns);

nlohmann::json to_json(const HealthState& s);  // Docker's State.Health shape
std::optional<HealthState> health_state_from_json(const nlohmann::json& j);

}  // namespace isolab
