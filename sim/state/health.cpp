#include "sim/state/health.hpp"

namespace isolab {

using nlohmann::json;

const char* health_status_name(HealthStatus s) {
    switch (s) {
        case HealthStatus::Starting: return "starting";
        case HealthStatus::Healthy: return "healthy";
        case HealthStatus::Unhealthy: return "unhealthy";
    }
    return "unhealthy";
}

std::optional<HealthStatus> health_status_from_name(const std::string& word) {
    for (HealthStatus s : {HealthStatus::Starting, HealthStatus::Healthy, HealthStatus::Unhealthy})
        if (word == health_status_name(s)) return s;
    return std::nullopt;
}

Status validate_healthcheck(const HealthConfig& c) {
    const std::string min = go_duration_string(kMinimumHealthDurationNs);
    auto too_short = [](int64_t ns) { return ns != 0 && ns < kMinimumHealthDurationNs; };
    if (too_short(c.interval_ns)) return make_error("Interval in Healthcheck cannot be less than " + min);
    if (too_short(c.timeout_ns)) return make_error("Timeout in Healthcheck cannot be less than " + min);
    if (c.retries < 0) return make_error("Retries in Healthcheck cannot be negative");
    if (too_short(c.start_period_ns)) return make_error("StartPeriod in Healthcheck cannot be less than " + min);
    if (too_short(c.start_interval_ns)) return make_error("StartInterval in Healthcheck cannot be less than " + min);
    return {};
}

std::optional<HealthConfig> merge_healthcheck(const std::optional<HealthConfig>& container,
                                              const std::optional<HealthConfig>& image) {
    if (!image) return container;
    if (!container) return image;
    HealthConfig out = *container;
    if (out.test.empty()) out.test = image->test;
    if (out.interval_ns == 0) out.interval_ns = image->interval_ns;
    if (out.timeout_ns == 0) out.timeout_ns = image->timeout_ns;
    if (out.start_period_ns == 0) out.start_period_ns = image->start_period_ns;
    if (out.start_interval_ns == 0) out.start_interval_ns = image->start_interval_ns;
    if (out.retries == 0) out.retries = image->retries;
    return out;
}

bool runs_probe(const std::optional<HealthConfig>& c) {
    return c && !c->test.empty() && (c->test[0] == "CMD" || c->test[0] == "CMD-SHELL");
}

std::vector<std::string> probe_argv(const HealthConfig& c, const std::vector<std::string>& shell) {
    std::vector<std::string> argv;
    if (c.test.empty()) return argv;
    if (c.test[0] == "CMD-SHELL") argv = shell.empty() ? std::vector<std::string>{"/bin/sh", "-c"} : shell;
    argv.insert(argv.end(), c.test.begin() + 1, c.test.end());
    return argv;
}

json to_docker_json(const HealthConfig& c) {
    json j = json::object();
    if (!c.test.empty()) j["Test"] = c.test;
    if (c.interval_ns) j["Interval"] = c.interval_ns;
    if (c.timeout_ns) j["Timeout"] = c.timeout_ns;
    if (c.start_period_ns) j["StartPeriod"] = c.start_period_ns;
    if (c.start_interval_ns) j["StartInterval"] = c.start_interval_ns;
    if (c.retries) j["Retries"] = c.retries;
    return j;
}

HealthConfig health_config_from_docker_json(const json& j) {
    HealthConfig c;
    if (!j.is_object()) return c;
    if (auto it = j.find("Test"); it != j.end() && it->is_array())
        for (const auto& w : *it)
            if (w.is_string()) c.test.push_back(w.get<std::string>());
    auto ns = [&](const char* key) -> int64_t {
        auto it = j.find(key);
        return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
    };
    c.interval_ns = ns("Interval");
    c.timeout_ns = ns("Timeout");
    c.start_period_ns = ns("StartPeriod");
    c.start_interval_ns = ns("StartInterval");
    c.retries = static_cast<int>(ns("Retries"));
    return c;
}

HealthState apply_probe_result(HealthState h, HealthResult result, const HealthConfig& c, int64_t since_started_ns) {
    const int retries = c.retries <= 0 ? kDefaultProbeRetries : c.retries;
    const bool success = result.exit_code == 0;
    h.log.push_back(std::move(result));
    if (h.log.size() > kMaxHealthLog) h.log.erase(h.log.begin(), h.log.end() - static_cast<long>(kMaxHealthLog));
    if (success) {
        h.failing_streak = 0;
        h.status = HealthStatus::Healthy;
        return h;
    }
    // A failure (any other exit code, -1 included). While still starting and inside the start
    // period it does not count: the container is given time to come up.
    const int64_t start_period = c.start_period_ns ? c.start_period_ns : kDefaultStartPeriodNs;
    if (h.status == HealthStatus::Starting && since_started_ns < start_period) return h;
    h.failing_streak += 1;
    if (h.failing_streak >= retries) h.status = HealthStatus::Unhealthy;
    return h;
}

int64_t next_probe_delay_ns(const HealthConfig& c, int64_t since_started_ns, HealthStatus status) {
    const int64_t interval = c.interval_ns ? c.interval_ns : kDefaultProbeIntervalNs;
    const int64_t start_interval = c.start_interval_ns ? c.start_interval_ns : kDefaultStartIntervalNs;
    const int64_t start_period = c.start_period_ns ? c.start_period_ns : kDefaultStartPeriodNs;
    if (since_started_ns >= start_period) return interval;
    const int64_t remaining = start_period - since_started_ns;
    if (remaining < interval) return remaining;
    return status == HealthStatus::Starting ? start_interval : interval;
}

int64_t probe_timeout_ns(const HealthConfig& c) { return c.timeout_ns ? c.timeout_ns : kDefaultProbeTimeoutNs; }

HealthState health_on_start(std::optional<HealthState> previous) {
    HealthState h = previous ? std::move(*previous) : HealthState{};
    h.status = HealthStatus::Starting;
    h.failing_streak = 0;
    return h;
}

HealthState health_on_stop(HealthState h) {
    h.status = HealthStatus::Unhealthy;
    return h;
}

std::string probe_output(const std::string& kept, bool truncated) { return truncated ? kept + "..." : kept; }

std::string go_duration_string(int64_t d) {
    if (d == 0) return "0s";
    const bool negative = d < 0;
    uint64_t u = negative ? 0 - static_cast<uint64_t>(d) : static_cast<uint64_t>(d);
    const std::string sign = negative ? "-" : "";
    // Go's fmtFrac: PREC digits of V after the point, trailing zeros (and a bare point) dropped.
    auto fraction = [](uint64_t& v, int prec) {
        std::string digits;
        bool print = false;
        for (int i = 0; i < prec; ++i) {
            const char digit = static_cast<char>('0' + v % 10);
            print = print || digit != '0';
            if (print) digits.insert(digits.begin(), digit);
            v /= 10;
        }
        return print ? "." + digits : std::string();
    };
    if (u < static_cast<uint64_t>(kSecondNs)) {
        if (u < 1000) return sign + std::to_string(u) + "ns";
        const bool micro = u < 1'000'000;
        std::string frac = fraction(u, micro ? 3 : 6);
        return sign + std::to_string(u) + frac + (micro ? "µs" : "ms");
    }
    std::string frac = fraction(u, 9);
    std::string out = std::to_string(u % 60) + frac + "s";
    u /= 60;
    if (u > 0) {
        out = std::to_string(u % 60) + "m" + out;
        u /= 60;
        if (u > 0) out = std::to_string(u) + "h" + out;
    }
    return sign + out;
}

json to_json(const HealthState& s) {
    json log = json::array();
    for (const auto& r : s.log)
        log.push_back({{"Start", r.start}, {"End", r.end}, {"ExitCode", r.exit_code}, {"Output", r.output}});
    // Docker's Log is a slice without omitempty: null until the first result.
    return {{"Status", health_status_name(s.status)},
            {"FailingStreak", s.failing_streak},
            {"Log", s.log.empty() ? json(nullptr) : log}};
}

std::optional<HealthState> health_state_from_json(const json& j) {
    if (!j.is_object()) return std::nullopt;
    auto status = health_status_from_name(j.value("Status", ""));
    if (!status) return std::nullopt;
    HealthState s;
    s.status = *status;
    s.failing_streak = j.value("FailingStreak", 0);
    if (auto it = j.find("Log"); it != j.end() && it->is_array())
        for (const auto& r : *it)
            if (r.is_object())
                s.log.push_back({r.value("Start", ""), r.value("End", ""), r.value("ExitCode", 0), r.value("Output", "")});
    if (s.log.size() > kMaxHealthLog) s.log.erase(s.log.begin(), s.log.end() - static_cast<long>(kMaxHealthLog));
    return s;
}

}  // namespace isolab
