#include "app/cli/doctor.hpp"

#include <algorithm>
#include <ostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/core/i18n.hpp"
#include "sim/core/strings.hpp"
#include "sim/net/orphans.hpp"

namespace isolab::cli {

using i18n::tr;
using i18n::trf;

namespace {

const char* mark(const host::Capability& c) {
    if (!c.available) return "✘";
    return c.degraded ? "!" : "✔";
}

}  // namespace

std::string format_doctor_report(const host::HostReport& r) {
    std::ostringstream out;
    out << tr("doctor.title") << "\n";
    out << trf("doctor.host", {r.distro, r.kernel, r.arch}) << "\n\n";

    std::vector<std::string> labels;
    size_t label_width = 0;
    for (const auto& c : r.capabilities) {
        labels.push_back(tr("doctor.cap." + c.id));
        label_width = std::max(label_width, display_width(labels.back()));
    }
    for (size_t i = 0; i < r.capabilities.size(); ++i) {
        const auto& c = r.capabilities[i];
        out << mark(c) << " " << labels[i] << std::string(label_width - display_width(labels[i]) + 2, ' ')
            << c.detail << "\n";
        bool lacking = !c.available || c.degraded;
        if (lacking && !c.fallback_key.empty()) out << "    → " << tr(c.fallback_key) << "\n";
        if (lacking && !c.fix.empty()) out << "    → " << trf("doctor.fix", {c.fix}) << "\n";
    }
    out << "\n";
    out << trf("doctor.summary.containers", {r.container_backend, tr("doctor.backend." + r.container_backend)}) << "\n";
    out << trf("doctor.summary.vms", {r.vm_backend, tr("doctor.backend." + r.vm_backend)}) << "\n";
    out << tr("doctor.legend") << "\n";
    // The Docker commands IsoLab leaves out (README "What IsoLab leaves out"); each one, typed,
    // says what to use instead.
    out << tr("doctor.left_out") << "\n";
    return out.str();
}

int run_doctor(bool json_output, std::ostream& out) {
    host::HostReport r = host::probe_host();
    if (json_output) {
        out << host::to_json(r).dump(2) << "\n";
        return r.error.empty() ? 0 : 1;
    }
    if (!r.error.empty()) {
        out << trf("doctor.cannot_probe", {r.error}) << "\n";
        return 1;
    }
    out << format_doctor_report(r);
    // What deleted roots left: cheap to look for, and the reason a new root may find no address pool.
    if (r.root) {
        auto left = net::collect_orphans(net::Sweep::AlsoLegacy, /*dry_run=*/true);
        int bridges = 0, rule_sets = 0;
        for (const auto& l : left.removed) (l.kind == net::Leftover::Kind::Bridge ? bridges : rule_sets)++;
        if (bridges + rule_sets > 0)
            out << trf("doctor.leftovers", {std::to_string(bridges), std::to_string(rule_sets)}) << "\n";
    }
    return 0;
}

int run_doctor_fix(bool json_output, std::ostream& out, std::ostream& err) {
    auto done = net::collect_orphans(net::Sweep::AlsoLegacy);
    if (json_output) {
        nlohmann::json j = {{"removed", nlohmann::json::array()}, {"errors", done.errors}};
        for (const auto& l : done.removed)
            j["removed"].push_back({{"kind", l.kind == net::Leftover::Kind::Bridge ? "bridge" : "rules"},
                                    {"name", l.name},
                                    {"root", l.root},
                                    {"legacy", l.legacy},
                                    {"ipv4", l.ipv4},
                                    {"rules", l.rules}});
        out << j.dump(2) << "\n";
        return done.errors.empty() ? 0 : 1;
    }
    for (const auto& l : done.removed) {
        if (l.kind == net::Leftover::Kind::Bridge) {
            std::string addresses;
            for (const auto& a : l.ipv4) addresses += (addresses.empty() ? "" : ", ") + a;
            if (addresses.empty()) addresses = "-";
            out << (l.root.empty() ? trf("doctor.fix.removed_bridge_legacy", {l.name, addresses})
                                   : trf("doctor.fix.removed_bridge", {l.name, addresses, l.root}))
                << "\n";
        } else {
            const char* key = !l.root.empty() ? "doctor.fix.removed_rules"
                              : l.legacy      ? "doctor.fix.removed_rules_legacy"
                                              : "doctor.fix.removed_rules_ownerless";
            out << trf(key, {std::to_string(l.rules), l.name, l.root}) << "\n";
        }
    }
    for (const auto& e : done.errors) err << trf("doctor.fix.failed", {e}) << "\n";
    if (done.removed.empty() && done.errors.empty()) out << tr("doctor.fix.nothing") << "\n";
    return done.errors.empty() ? 0 : 1;
}

}  // namespace isolab::cli
