#include "sim/view/setup_model.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <regex>
#include <string_view>

#include "sim/core/i18n.hpp"

namespace isolab::view {

namespace {

// The simulated runtime starts every detail with this; a group says it once.
constexpr std::string_view kSimulatedPrefix = "simulated: ";

// The runtime's details are English and technical, as `inspect` shows them (setup_plan.cpp). The
// learner reads them in the GUI's language: each fixed phrase has a key whose English text is the
// phrase itself, with the numbers, paths and names as arguments. Anything else (a path, a mount
// "/proc (proc)", a command) is shown as it is.
struct DetailPattern {
    const char* re;
    const char* key;
};
const DetailPattern kDetailPatterns[] = {
    {R"(lo up)", "gui.setup.detail.lo_up"},
    {R"(old root detached)", "gui.setup.detail.old_root_detached"},
    {R"(uid 0 in the new user namespace)", "gui.setup.detail.userns_new"},
    {R"(uid 0 in the joined user namespace)", "gui.setup.detail.userns_joined"},
    {R"(its cgroup becomes /)", "gui.setup.detail.cgroup_root"},
    {R"(veth pair, eth0 \+ default route)", "gui.setup.detail.veth_plan"},
    {R"(eth0 (\S+) on (\S+))", "gui.setup.detail.veth_done"},
    {R"((\d+) v1 hierarchies)", "gui.setup.detail.v1_hierarchies"},
    {R"(overlay: (\d+) lower layer\(s\) \+ upper)", "gui.setup.detail.overlay"},
    {R"(copied root \(overlayfs not allowed here\))", "gui.setup.detail.copied_root"},
    {R"((\d+) prestart/createRuntime hook\(s\))", "gui.setup.detail.runtime_hooks"},
    {R"((\d+) createContainer hook\(s\))", "gui.setup.detail.create_container_hooks"},
    {R"((\d+) startContainer hook\(s\))", "gui.setup.detail.start_container_hooks"},
    {R"(pty from the container's devpts, setsid)", "gui.setup.detail.terminal"},
    {R"(pipes to the monitor)", "gui.setup.detail.stdio"},
    {R"(/ read-only)", "gui.setup.detail.readonly_root"},
    {R"((\d+) key\(s\))", "gui.setup.detail.sysctl_keys"},
    {R"((\d+) limit\(s\))", "gui.setup.detail.rlimits"},
    {R"((\d+) syscall rules)", "gui.setup.detail.syscall_rules"},
    {R"(user (\S+), (\d+) capabilities)", "gui.setup.detail.user_caps"},
    {R"(set)", "gui.setup.detail.set"},
};

std::string localized_prefix() { return i18n::tr("gui.setup.simulated") + ": "; }

SetupRow row_of(const RuntimeStep& s, bool timed) {
    return SetupRow{s.name, localize_setup_detail(s.detail), timed ? s.ms : 0, 0, {}};
}

bool simulated_detail(const std::string& d) {
    std::string p = localized_prefix();
    return d.compare(0, p.size(), p) == 0;
}

// The members' details in order, ", "-joined; a prefix every member has is said once, first.
std::string group_detail(const std::vector<SetupRow>& members) {
    bool all_simulated = std::all_of(members.begin(), members.end(), [](const SetupRow& m) { return simulated_detail(m.detail); });
    const std::string prefix = localized_prefix();
    std::string out = all_simulated ? prefix : "";
    for (size_t i = 0; i < members.size(); ++i)
        out += (i ? ", " : "") + (all_simulated ? members[i].detail.substr(prefix.size()) : members[i].detail);
    return out;
}

}  // namespace

std::string localize_setup_detail(const std::string& detail) {
    if (detail.compare(0, kSimulatedPrefix.size(), kSimulatedPrefix) == 0)
        return localized_prefix() + localize_setup_detail(detail.substr(kSimulatedPrefix.size()));
    static const std::vector<std::pair<std::regex, const char*>> patterns = [] {
        std::vector<std::pair<std::regex, const char*>> out;
        for (const auto& p : kDetailPatterns) out.emplace_back(std::regex(p.re), p.key);
        return out;
    }();
    std::smatch m;
    for (const auto& [re, key] : patterns) {
        if (!std::regex_match(detail, m, re)) continue;
        std::vector<std::string> args;
        for (size_t i = 1; i < m.size(); ++i) args.push_back(m[i].str());
        return i18n::trf_in(i18n::language(), key, args);
    }
    return detail;
}

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
