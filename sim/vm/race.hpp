// The boot race: one VM and one container serve the same page; who answers an HTTP request first?
// The two sides run one after the other (the container first), so each has the machine to itself:
// a fair race on two cores, where running them at once would let QEMU's emulation slow the
// container down.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/result.hpp"

namespace isolab {
class Engine;
}

namespace isolab::vm {

struct RaceSide {
    std::string backend;  // vm: qemu-kvm | qemu-tcg | model; container: namespaces | rootless | simulated
    double answered_ms = 0;
    std::vector<std::pair<std::string, double>> stages;  // name, duration ms
    double memory_mib = 0;
    std::string detail;   // kernel release, how the page was reached: English, for programs (`--json`)
    // The same sentence as a string-table key and its arguments, so that a learner reads it in
    // their language (race_detail_text). Empty for a result recorded before keys existed.
    std::string detail_key;
    std::vector<std::string> detail_args;
};

// RaceSide::detail in the current language: the keyed sentence when there is one, else `detail`.
std::string race_detail_text(const RaceSide& side);

struct RaceResult {
    RaceSide vm, container;
    double ratio = 0;  // vm.answered_ms / container.answered_ms
    int runs = 1;
    std::string order = "sequential: container first, then the VM";
};

struct RaceOptions {
    int runs = 1;
    std::string machine = "pc";
    int memory_mib = 256;
    std::function<void(const std::string& side, const std::string& what)> progress;
    // Live hooks for a window that animates the race (the CLI needs none). All are called on the
    // thread running run_race(), so a GUI must hand what they carry over under its own lock.
    // The guest's serial console, line by line; MS counts from QEMU's launch (0 for IsoLab's own
    // notes, e.g. the fallback from KVM to TCG).
    std::function<void(double ms, const std::string& line)> vm_console_line;
    // A VM boot stage (sim/vm/boot_stages.hpp names) ended END_MS after QEMU's launch.
    std::function<void(const std::string& stage, double end_ms)> vm_stage;
    // One run of a side ("container" | "vm") finished with these numbers, before the other side
    // starts (runs > 1: once per run; the final result holds the medians).
    std::function<void(const std::string& side, const RaceSide& run)> side_done;
};

Result<RaceResult> run_race(Engine& engine, const std::string& state_root, const RaceOptions& options);
nlohmann::json to_json(const RaceResult& r);
std::optional<RaceResult> race_from_json(const nlohmann::json& j);
// The last race of STATE_ROOT, from its `race` event (nullopt when none has finished there).
std::optional<RaceResult> last_race(const std::string& state_root);
// A stage or step name as a learner reads it (gui.race.stage.*: firmware → 펌웨어); a name without
// an entry (the runtime's steps: clone, pivot_root, …) is returned unchanged.
std::string race_stage_text(const std::string& name);
// A small table and the ratio line, for the terminal.
std::string format_race(const RaceResult& r);

}  // namespace isolab::vm
