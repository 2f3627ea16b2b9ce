#include "sim/view/race_model.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "sim/core/i18n.hpp"
#include "sim/vm/boot_stages.hpp"
#include "sim/vm/vm_backend.hpp"

namespace isolab::view {

namespace {

std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

// The smallest "round" number (1, 2, 2.5, 5 × 10^k) at or above V (> 0).
double nice_ceil(double v) {
    if (!(v > 0)) return 1;
    double p = std::pow(10.0, std::floor(std::log10(v)));
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (m * p >= v * (1 - 1e-9)) return m * p;
    return 10 * p;
}

std::string axis_label(double ms) {
    if (ms == 0) return "0";
    if (ms >= 1000) {
        double s = ms / 1000;
        return (std::fabs(s - std::round(s)) < 1e-9 ? fmt("%.0f", s) : fmt("%g", s)) + " s";
    }
    return fmt("%g", ms) + " ms";
}

std::string with_tag(const std::string& text, const std::string& tag) {
    return tag.empty() ? text : text + " (" + tag + ")";
}

}  // namespace

std::string race_ms_text(double ms) {
    if (ms < 0) ms = 0;
    if (ms < 10) return fmt("%.1f ms", ms);
    if (ms < 1000) return fmt("%.0f ms", ms);
    if (ms < 10000) return fmt("%.2f s", ms / 1000);
    return fmt("%.1f s", ms / 1000);
}

bool race_backend_measured(const std::string& backend) {
    return !vm::names_modeled_vm(backend) && backend != "simulated";
}

std::string race_backend_tag(const std::string& backend) {
    if (vm::names_modeled_vm(backend)) return i18n::tr("gui.race.modeled");
    if (backend == "simulated") return i18n::tr("gui.race.simulated");
    return "";
}

std::string race_stage_label(const std::string& name) { return vm::race_stage_text(name); }

RaceAxis race_axis(double max_ms, RaceScale scale, double smallest_ms) {
    RaceAxis a;
    a.scale = scale;
    if (!(max_ms > 0)) max_ms = 1;
    if (scale == RaceScale::Linear) {
        a.min_ms = 0;
        a.max_ms = nice_ceil(max_ms);
        // Four or five ticks: the maximum split in round steps.
        double step = nice_ceil(a.max_ms / 5);
        for (double t = 0; t <= a.max_ms * (1 + 1e-9); t += step) a.ticks.push_back({t / a.max_ms, axis_label(t)});
        return a;
    }
    double lo = std::clamp(smallest_ms > 0 ? smallest_ms : 1.0, 0.1, 1.0);
    a.min_ms = std::pow(10.0, std::floor(std::log10(lo) + 1e-9));
    a.max_ms = std::pow(10.0, std::ceil(std::log10(max_ms) - 1e-9));
    if (a.max_ms <= a.min_ms) a.max_ms = a.min_ms * 10;
    double span = std::log10(a.max_ms / a.min_ms);
    for (double t = a.min_ms; t <= a.max_ms * (1 + 1e-9); t *= 10)
        a.ticks.push_back({std::log10(t / a.min_ms) / span, axis_label(t)});
    return a;
}

double race_fraction(const RaceAxis& a, double ms) {
    if (!(ms > 0)) return 0;
    double f;
    if (a.scale == RaceScale::Linear) f = ms / a.max_ms;
    else if (ms <= a.min_ms) f = 0;
    else f = std::log10(ms / a.min_ms) / std::log10(a.max_ms / a.min_ms);
    return std::clamp(f, 0.0, 1.0);
}

std::string race_ratio_text(const vm::RaceResult& r) {
    double c = r.container.answered_ms, v = r.vm.answered_ms;
    if (!(c > 0) || !(v > 0)) return "";
    double ratio = v / c;
    auto times = [](double x) { return x >= 10 ? fmt("%.0f", x) : fmt("%.1f", x); };
    if (ratio >= 1) return i18n::trf("gui.race.ratio_container", {times(ratio)});
    return i18n::trf("gui.race.ratio_vm", {times(1 / ratio)});
}

RaceChart build_race_chart(const vm::RaceResult& r, RaceScale scale) {
    RaceChart ch;
    double biggest = std::max(r.container.answered_ms, r.vm.answered_ms);
    double smallest = std::min(r.container.answered_ms, r.vm.answered_ms);
    ch.axis = race_axis(biggest, scale, smallest > 0 ? smallest : 1);
    auto bar = [&](const vm::RaceSide& s, bool is_vm) {
        RaceBar b;
        b.label = i18n::tr(is_vm ? "gui.race.vm" : "gui.race.container");
        b.backend = s.backend;
        b.tag = race_backend_tag(s.backend);
        b.ms = s.answered_ms;
        b.value = with_tag(race_ms_text(s.answered_ms), b.tag);
        b.fraction = race_fraction(ch.axis, s.answered_ms);
        b.vm = is_vm;
        if (!b.tag.empty()) ch.any_unmeasured = true;
        return b;
    };
    ch.bars = {bar(r.container, false), bar(r.vm, true)};
    ch.ratio = race_ratio_text(r);
    if (!ch.ratio.empty() && ch.any_unmeasured) ch.ratio += " (" + i18n::tr("gui.race.ratio_unmeasured") + ")";
    ch.ratio_detail = i18n::trf("gui.race.ratio_detail",
                                {ch.bars[0].value, ch.bars[1].value});
    auto memory = [](const vm::RaceSide& s) {
        return with_tag(i18n::trf("gui.race.memory", {fmt("%.1f", s.memory_mib)}), race_backend_tag(s.backend));
    };
    ch.memory_container = memory(r.container);
    ch.memory_vm = memory(r.vm);
    ch.detail_container = vm::race_detail_text(r.container);
    ch.detail_vm = vm::race_detail_text(r.vm);
    return ch;
}

// ---- live ----

RaceLane lane_from_side(const vm::RaceSide& side) {
    RaceLane l;
    l.backend = side.backend;
    l.started = l.finished = true;
    double t = 0;
    for (const auto& [name, ms] : side.stages) {
        l.segments.push_back({name, t, t + std::max(ms, 0.0), false});
        t += std::max(ms, 0.0);
    }
    l.answered_ms = side.answered_ms;
    l.elapsed_ms = std::max(t, side.answered_ms);
    return l;
}

void RaceProgress::begin(double now_ms) {
    *this = RaceProgress();
    begun_ = now_ms;
}

void RaceProgress::on_progress(const std::string& side, const std::string& what, double now_ms) {
    last_note_ = "[" + (side == "vm" ? i18n::tr("gui.race.vm") : side == "container" ? i18n::tr("gui.race.container") : side) +
                 "] " + what;
    if (side == "container" && container_start_ < 0) {
        container_start_ = now_ms;
        side_ = "container";
    }
    if (side == "vm" && vm_start_ < 0) {
        vm_start_ = now_ms;
        side_ = "vm";
        // "boot race-1a2b (qemu-tcg)": the backend picked for this machine.
        auto open = what.rfind('('), close = what.rfind(')');
        if (open != std::string::npos && close != std::string::npos && close > open)
            vm_backend_ = what.substr(open + 1, close - open - 1);
    }
}

void RaceProgress::on_console_line(double ms, const std::string& line, double) {
    vm_console_ms_ = std::max(vm_console_ms_, ms);
    console_.push_back(line);
    while (console_.size() > kConsoleLines) console_.pop_front();
}

void RaceProgress::on_vm_stage(const std::string& stage, double end_ms, double) {
    // A boot that restarted (KVM fell back to TCG) reports its stages again from 0.
    if (!vm_stage_ends_.empty() && end_ms < vm_stage_ends_.back().second) vm_stage_ends_.clear();
    vm_stage_ends_.push_back({stage, end_ms});
}

void RaceProgress::on_side_done(const std::string& side, const vm::RaceSide& run, double now_ms) {
    if (side == "container") {
        container_done_ = run;
        container_stop_ = now_ms;
    } else if (side == "vm") {
        vm_done_ = run;
    }
}

void RaceProgress::finish(double now_ms) {
    finished_ = now_ms;
    side_.clear();
}

double RaceProgress::total_ms(double now_ms) const {
    if (begun_ < 0) return 0;
    return (finished_ >= 0 ? finished_ : now_ms) - begun_;
}

RaceLane RaceProgress::container_lane(double now_ms) const {
    if (container_done_) return lane_from_side(*container_done_);
    RaceLane l;
    if (container_start_ < 0) return l;
    l.started = true;
    double end = finished_ >= 0 ? finished_ : now_ms;
    l.elapsed_ms = std::max(0.0, end - container_start_);
    l.segments.push_back({"", 0, l.elapsed_ms, finished_ < 0});
    return l;
}

RaceLane RaceProgress::vm_lane(double now_ms) const {
    if (vm_done_) return lane_from_side(*vm_done_);
    RaceLane l;
    l.backend = vm_backend_;
    if (vm_start_ < 0) return l;
    l.started = true;
    double end = finished_ >= 0 ? finished_ : now_ms;
    double t = 0;
    for (const auto& [name, e] : vm_stage_ends_) {
        l.segments.push_back({name, t, std::max(t, e), false});
        t = std::max(t, e);
    }
    l.elapsed_ms = std::max({end - vm_start_, vm_console_ms_, t, 0.0});
    if (finished_ < 0 && vm_stage_ends_.size() < vm::kBootStageCount) {
        std::string next(vm::kBootStageNames[vm_stage_ends_.size()]);
        l.segments.push_back({next, t, l.elapsed_ms, true});
    }
    return l;
}

}  // namespace isolab::view
