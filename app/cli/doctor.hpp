// `isolab doctor` (BRIEF §2): what this machine offers, and for each missing piece what IsoLab does
// instead and the command that fixes it. A thin view over sim/host/probe (STYLE §1).
#pragma once

#include <iosfwd>
#include <vector>
#include <string>

#include "sim/host/probe.hpp"

namespace isolab::cli {

// Probes the host and prints the report in the current i18n language, or with JSON_OUTPUT the
// object of host::to_json (one object, pretty-printed). Returns 0 whatever is missing: doctor
// reports, it does not fail. Returns 1 only when the machine cannot be examined at all (no /proc).
int run_doctor(bool json_output, std::ostream& out);

// `isolab doctor --fix`: removes the bridges and firewall rules that deleted state roots and older
// IsoLab versions left in this network namespace (net::collect_orphans with Sweep::AlsoLegacy, the
// rules in sim/net/orphans.hpp) and prints one line per thing removed, or a JSON object
// {"removed": [...], "errors": [...]}. Returns 0, or 1 when something could not be removed.
int run_doctor_fix(bool json_output, std::ostream& out, std::ostream& err);

// The human-readable report of R (what run_doctor prints), for the GUI and tests.
std::string format_doctor_report(const host::HostReport& r);

}  // namespace isolab::cli
