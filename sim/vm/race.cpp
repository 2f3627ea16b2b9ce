#include "sim/vm/race.hpp"

#include <fstream>

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <thread>

#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/core/i18n.hpp"
#include "sim/core/strings.hpp"
#include "sim/engine/engine.hpp"
#include "sim/vm/qemu.hpp"
#include "sim/vm/vm_manager.hpp"

namespace isolab::vm {

using nlohmann::json;

namespace {

const char* kPage = "Hello from IsoLab";

// Sets SIDE's detail: English for programs, the key and arguments for learners.
void set_detail(RaceSide& side, const char* key, std::vector<std::string> args) {
    side.detail = i18n::trf_in(i18n::Lang::En, key, args);
    side.detail_key = key;
    side.detail_args = std::move(args);
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Polls the container's web server from a thread that has joined the container's network
// namespace: used when the container has no bridge (rootless), so only its own loopback.
bool probe_in_netns(pid_t pid, double deadline_ms) {
    bool ok = false;
    std::thread t([&] {
        UniqueFd ns(::open(("/proc/" + std::to_string(pid) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC));
        if (!ns.valid() || ::setns(ns.get(), CLONE_NEWNET) != 0) return;
        while (monotonic_ms() < deadline_ms) {
            if (http_get_ok(80, kPage, 200)) {
                ok = true;
                return;
            }
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    });
    t.join();
    return ok;
}

// Polls a published port from the host, as a browser on the host would reach the container.
bool probe_host(int port, double deadline_ms) {
    while (monotonic_ms() < deadline_ms) {
        if (http_get_ok(port, kPage, 200)) return true;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return false;
}

double rss_mib(pid_t pid) { return static_cast<double>(process_rss_kib(pid)) / 1024.0; }

Result<RaceSide> race_container(Engine& engine, const RaceOptions& o) {
    RaceSide side;
    side.backend = engine.backend_name();
    ContainerSpec spec;
    spec.name = "race-" + random_hex(4);
    // The teaching image isolab/web when it is built (tools/setup.sh builds it), else the same
    // server from busybox. Port 80 is published on the host's loopback, as the VM's is forwarded.
    if (engine.images().resolve("isolab/web")) {
        spec.image = "isolab/web";
    } else {
        spec.image = "busybox";
        spec.cmd = {"httpd", "-f", "-p", "80", "-h", "/var/www"};
    }
    PortMapping http;
    http.host_ip = "127.0.0.1";
    http.container_port = 80;
    spec.ports = {http};
    if (o.progress) o.progress("container", i18n::trf("race.progress.create", {spec.name}));
    double t0 = monotonic_ms();
    auto rec = engine.create(spec);
    if (!rec) return rec.error();
    double t_create = monotonic_ms();
    auto started = engine.start(rec->id);
    if (!started) {
        (void)engine.remove(rec->id, true);
        return started.error();
    }
    double t_started = monotonic_ms();
    int port = started->published.empty() ? 0 : started->published.front().host_port;
    bool answered = engine.backend() == Backend::Simulated ? true
                    : port > 0 ? probe_host(port, t_started + 10000)
                               : probe_in_netns(started->pid, t_started + 10000);
    double t_answer = monotonic_ms();
    side.stages.push_back({"create", t_create - t0});
    double steps_total = 0;
    for (const auto& st : started->steps) {
        // One bar per kind of step: the ten mounts of the plan are one "mount" bar.
        if (!side.stages.empty() && side.stages.back().first == st.name) side.stages.back().second += st.ms;
        else side.stages.push_back({st.name, st.ms});
        steps_total += st.ms;
    }
    // What the steps do not cover: starting the monitor and recording the state.
    double overhead = (t_started - t_create) - steps_total;
    if (overhead > 0) side.stages.push_back({"monitor+state", overhead});
    side.stages.push_back({"httpd answering", t_answer - t_started});
    side.answered_ms = t_answer - t0;
    if (engine.backend() == Backend::Simulated) {
        side.answered_ms = 0;
        for (const auto& [n, ms] : side.stages) side.answered_ms += ms;
        set_detail(side, "race.detail.simulated", {});
    } else {
        side.memory_mib = rss_mib(started->pid) + rss_mib(started->monitor_pid);
        if (port > 0) set_detail(side, "race.detail.published", {std::to_string(port)});
        else set_detail(side, "race.detail.netns", {});
    }
    (void)engine.remove(rec->id, true);
    if (!answered) return make_error("race: the container's web server did not answer within 10 s");
    return side;
}

Result<RaceSide> race_vm(const std::string& root, const RaceOptions& o) {
    VmManager vms(root);
    vms.collect_garbage();
    RaceSide side;
    std::string name = "race-" + random_hex(4);
    auto created = vms.create(name, o.memory_mib, 1, o.machine, /*ephemeral=*/true);
    if (!created) return created.error();
    side.backend = std::string(to_string(created->backend));
    BootOptions b;
    b.die_with_caller = true;
    b.on_stage = [&](const std::string& stage, double ms) {
        if (o.progress)
            o.progress("vm", i18n::trf("race.progress.stage", {race_stage_text(stage), std::to_string(static_cast<int>(ms))}));
        if (o.vm_stage) o.vm_stage(stage, ms);
    };
    b.on_console_line = o.vm_console_line;
    // The backend stays last, in parentheses: the GUI's RaceProgress reads it from there.
    if (o.progress) o.progress("vm", i18n::trf("race.progress.boot", {name}) + " (" + side.backend + ")");
    auto booted = vms.start(name, b);
    if (!booted) {
        (void)vms.remove(name, true);
        return booted.error();
    }
    for (const auto& st : booted->stages) side.stages.push_back({st.name, st.ms});
    side.answered_ms = booted->answered_ms;
    side.backend = std::string(to_string(booted->backend));  // KVM may have fallen back to TCG
    side.memory_mib = is_modeled(booted->backend) ? booted->memory_mib : rss_mib(booted->qemu_pid);
    if (is_modeled(booted->backend))
        set_detail(side, "race.detail.modeled", {});
    else
        set_detail(side, "race.detail.vm",
                   {booted->kernel_release, std::to_string(booted->host_port), std::to_string(booted->memory_mib)});
    (void)vms.remove(name, true);
    return side;
}

void merge_runs(RaceSide& into, const std::vector<RaceSide>& runs) {
    into = runs.front();
    std::vector<double> answered;
    for (const auto& r : runs) answered.push_back(r.answered_ms);
    into.answered_ms = median(answered);
    for (size_t i = 0; i < into.stages.size(); ++i) {
        std::vector<double> v;
        for (const auto& r : runs)
            if (i < r.stages.size()) v.push_back(r.stages[i].second);
        into.stages[i].second = median(v);
    }
}

std::string fmt_ms(double ms) {
    char buf[32];
    if (ms >= 100) std::snprintf(buf, sizeof buf, "%.0f ms", ms);
    else std::snprintf(buf, sizeof buf, "%.1f ms", ms);
    return buf;
}

}  // namespace

Result<RaceResult> run_race(Engine& engine, const std::string& state_root, const RaceOptions& o) {
    RaceResult result;
    result.runs = std::max(1, o.runs);
    // The base image is made once, outside the timed part: the race measures starting, not set-up.
    if (auto s = engine.images().ensure_busybox(); !s) return s.error();
    std::vector<RaceSide> cs, vs;
    for (int i = 0; i < result.runs; ++i) {
        auto c = race_container(engine, o);
        if (!c) return c.error();
        cs.push_back(*c);
        if (o.side_done) o.side_done("container", *c);
        auto v = race_vm(state_root, o);
        if (!v) return v.error();
        vs.push_back(*v);
        if (o.side_done) o.side_done("vm", *v);
    }
    merge_runs(result.container, cs);
    merge_runs(result.vm, vs);
    result.ratio = result.container.answered_ms > 0 ? result.vm.answered_ms / result.container.answered_ms : 0;
    // The whole result rides along: a window opened later (a lesson resumed the next day) shows
    // the last race instead of an empty track.
    engine.store().append_event("race", {{"ratio", result.ratio},
                                         {"vm_ms", result.vm.answered_ms},
                                         {"container_ms", result.container.answered_ms},
                                         {"vm_backend", result.vm.backend},
                                         {"container_backend", result.container.backend},
                                         {"result", to_json(result)}});
    return result;
}

json to_json(const RaceResult& r) {
    auto side = [](const RaceSide& s) {
        json stages = json::array();
        for (const auto& [n, ms] : s.stages) stages.push_back({{"name", n}, {"ms", std::round(ms * 10) / 10}});
        return json{{"backend", s.backend},
                    {"answered_ms", std::round(s.answered_ms * 10) / 10},
                    {"stages", stages},
                    {"memory_mib", std::round(s.memory_mib * 10) / 10},
                    {"detail", s.detail},
                    {"detail_key", s.detail_key},
                    {"detail_args", s.detail_args}};
    };
    return {{"vm", side(r.vm)},
            {"container", side(r.container)},
            {"ratio", std::round(r.ratio * 10) / 10},
            {"runs", r.runs},
            {"order", r.order}};
}

std::optional<RaceResult> race_from_json(const json& j) {
    try {
        auto side = [](const json& s) {
            RaceSide r;
            r.backend = s.at("backend").get<std::string>();
            r.answered_ms = s.at("answered_ms").get<double>();
            for (const auto& st : s.at("stages")) r.stages.emplace_back(st.at("name").get<std::string>(), st.at("ms").get<double>());
            r.memory_mib = s.value("memory_mib", 0.0);
            r.detail = s.value("detail", "");
            r.detail_key = s.value("detail_key", "");
            r.detail_args = s.value("detail_args", std::vector<std::string>{});
            return r;
        };
        RaceResult r;
        r.vm = side(j.at("vm"));
        r.container = side(j.at("container"));
        r.ratio = j.at("ratio").get<double>();
        r.runs = j.value("runs", 1);
        r.order = j.value("order", r.order);
        return r;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::optional<RaceResult> last_race(const std::string& state_root) {
    std::ifstream in(state_root + "/events.jsonl", std::ios::binary);
    std::string line, last;
    while (std::getline(in, line))
        if (line.find("\"type\":\"race\"") != std::string::npos) last = line;
    if (last.empty()) return std::nullopt;
    auto j = json::parse(last, nullptr, false);
    if (j.is_discarded() || !j.contains("result")) return std::nullopt;
    return race_from_json(j.at("result"));
}

std::string race_detail_text(const RaceSide& side) {
    if (side.detail_key.empty()) return side.detail;
    return i18n::trf_in(i18n::language(), side.detail_key, side.detail_args);
}

std::string race_stage_text(const std::string& name) {
    std::string key = "gui.race.stage.";
    for (char c : name) key += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    const std::string& t = i18n::tr(key);
    return t == key ? name : t;
}

std::string format_race(const RaceResult& r) {
    // For a terminal, in the learner's language (the JSON stays English: it is for programs).
    std::string out;
    auto side = [&](const std::string& title, const RaceSide& s) {
        out += title + " (" + s.backend + ")";
        if (names_modeled_vm(s.backend)) out += "  [" + i18n::tr("race.modeled") + "]";
        if (s.backend == "simulated") out += "  [" + i18n::tr("race.simulated") + "]";
        out += "\n";
        for (const auto& [n, ms] : s.stages) {
            char line[128];
            // Padded by hand: printf counts bytes, and a Korean stage name has three per letter.
            std::string label = race_stage_text(n);
            out += "  " + label + std::string(display_width(label) < 24 ? 24 - display_width(label) : 0, ' ');
            std::snprintf(line, sizeof line, " %12s\n", fmt_ms(ms).c_str());
            out += line;
        }
        char total[64];
        std::snprintf(total, sizeof total, "%12s", fmt_ms(s.answered_ms).c_str());
        char mem[32];
        std::snprintf(mem, sizeof mem, "%.1f MiB", s.memory_mib);
        out += "  " + i18n::trf("race.answered_after", {total, mem}) + "\n";
        out += "  (" + race_detail_text(s) + ")\n\n";
    };
    side("VM", r.vm);
    side(i18n::tr("race.container"), r.container);
    char ratio[32];
    std::snprintf(ratio, sizeof ratio, "%.0f", r.ratio);
    std::string order = r.order == RaceResult{}.order ? i18n::tr("race.order") : r.order;
    out += i18n::trf("race.ratio", {ratio, fmt_ms(r.container.answered_ms), fmt_ms(r.vm.answered_ms), order,
                                    std::to_string(r.runs)}) +
           "\n";
    return out;
}

}  // namespace isolab::vm
