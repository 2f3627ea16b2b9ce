#include "sim/view/setup_model.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string_view>

#include "sim/core/i18n.hpp"

namespace isolab::view {

namespace {

// The simulated runtime starts every detail with this; a group says it once.
constexpr std::string_view kSimulatedPrefix = "simulated: ";

SetupRow row_of(const RuntimeStep& s, bool timed) { return SetupRow{s.name, s.detail, timed ? s.ms : 0, 0, {}}; }

bool simulated_detail(const std::string& d) { return d.compare(0, kSimulatedPrefix.size(), kSimulatedPrefix) == 0; }

// The members' details in order, ", "-joined; a prefix every member has is said once, first.
std::string group_detail(const std::vector<SetupRow>& members) {
    bool all_simulated = std::all_of(members.begin(), members.end(), [](const SetupRow& m) { return simulated_detail(m.detail); });
    std::string out = all_simulated ? std::string(kSimulatedPrefix) : "";
    for (size_t i = 0; i < members.size(); ++i)
        out += (i ? ", " : "") + (all_simulated ? members[i].detail.substr(kSimulatedPrefix.size()) : members[i].detail);
    return out;
}

}  // namespace

std::string SetupRow::label() const { return group() ? name + " ×" + std::to_string(members.size()) : name; }

SetupList setup_list(const ContainerRecord& rec) {
    SetupList out;
    // The backend is a record field, written by the engine from its Runtime's name().
    out.simulated = rec.backend == Backend::Simulated;
    const bool timed = !rec.steps.empty();
    const std::vector<RuntimeStep>& src = timed ? rec.steps : rec.plan;
    if (src.empty()) return out;
    out.phase = timed ? SetupPhase::Timed : SetupPhase::Planned;
    out.steps = src.size();
    for (size_t i = 0; i < src.size();) {
        // A run of consecutive mounts (the spec's mounts[], in order) reads as one step of the
        // setup; two or more become a group the learner can open.
        size_t j = i;
        while (j < src.size() && src[j].name == "mount") ++j;
        if (j - i >= 2) {
            SetupRow g{"mount", "", 0, 0, {}};
            for (size_t k = i; k < j; ++k) {
                g.members.push_back(row_of(src[k], timed));
                g.ms += g.members.back().ms;
            }
            g.detail = group_detail(g.members);
            out.rows.push_back(std::move(g));
            i = j;
            continue;
        }
        out.rows.push_back(row_of(src[i], timed));
        ++i;
    }
    if (!timed) return out;
    double longest = 0;
    for (const auto& r : out.rows) {
        out.total_ms += r.ms;
        if (r.ms > longest) {
            longest = r.ms;
            out.longest = r.label();
        }
    }
    // Every bar, a group's members too, on the longest row's scale: lengths compare across rows.
    auto scale = [&](SetupRow& r) { r.fraction = longest > 0 ? static_cast<float>(std::clamp(r.ms / longest, 0.0, 1.0)) : 0.f; };
    for (auto& r : out.rows) {
        scale(r);
        for (auto& m : r.members) scale(m);
    }
    return out;
}

std::string setup_ms_text(double ms) {
    char buf[32];
    if (ms < 0) ms = 0;
    if (ms < 0.001) return "<1 µs";
    // Each unit up to where its rounding would print the next unit's first value.
    if (ms < 0.9995) std::snprintf(buf, sizeof buf, "%.0f µs", ms * 1000);
    else if (ms < 9.995) std::snprintf(buf, sizeof buf, "%.2f ms", ms);
    else if (ms < 999.95) std::snprintf(buf, sizeof buf, "%.1f ms", ms);
    else std::snprintf(buf, sizeof buf, "%.2f s", ms / 1000);
    return buf;
}

std::string setup_step_help(const std::string& name) {
    std::string key = "gui.setup.step.";
    for (char c : name) key += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    const std::string& t = i18n::tr(key);
    return t == key ? "" : t;
}

}  // namespace isolab::view
