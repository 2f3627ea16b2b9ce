// The boot race as the window draws it (GUI-free): the live lanes while a race runs, fed from
// vm::RaceOptions' callbacks, and the chart, ratio and labels of a finished vm::RaceResult.
// The window only draws what this returns (STYLE §6).
//
// Times on a lane count from the start of that side: the two sides run one after the other
// (sim/vm/race.hpp), each timed from its own start, so both lanes share one axis from 0.
// A modeled VM (backend "model") or a simulated container (backend "simulated") did not really
// run: every number of such a side carries the tag race_backend_tag() returns.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/vm/race.hpp"

namespace isolab::view {

enum class RaceScale { Linear, Log };

// "0.4 ms", "43 ms", "1.25 s", "12.3 s".
std::string race_ms_text(double ms);
// False for backends that did not really run: model (VM), simulated (container).
bool race_backend_measured(const std::string& backend);
// "" for a measured backend, else the translated "modeled" / "simulated".
std::string race_backend_tag(const std::string& backend);
// A stage or step name for a learner: the VM's boot stages and the race's own steps translated
// (gui.race.stage.*), the runtime's step names (clone, pivot_root, ...) kept as they are.
std::string race_stage_label(const std::string& name);

// A time axis from 0 (linear) or from a power of ten (log) up to a round maximum.
struct RaceAxis {
    RaceScale scale = RaceScale::Linear;
    double min_ms = 0;  // log: the left edge (a power of ten); linear: 0
    double max_ms = 1;  // the right edge: a round number ≥ what it was made for
    std::vector<std::pair<double, std::string>> ticks;  // fraction 0..1, label ("100 ms", "1 s")
};
// An axis that holds MAX_MS; log axes start at a power of ten at or below SMALLEST_MS (≥ 0.1 ms),
// and never above 1 ms.
RaceAxis race_axis(double max_ms, RaceScale scale, double smallest_ms = 1);
// Where MS falls on AXIS, clamped to 0..1 (log: MS at or below min_ms → 0).
double race_fraction(const RaceAxis& axis, double ms);

struct RaceBar {
    std::string label;   // "Container" / "VM" (translated)
    std::string value;   // "43 ms", with the tag for a side that did not really run
    std::string tag;     // "" | "modeled" | "simulated"
    std::string backend;
    double ms = 0;
    double fraction = 0; // bar length on the chart's axis
    bool vm = false;
};

struct RaceChart {
    RaceAxis axis;
    std::vector<RaceBar> bars;   // container first, then the VM
    std::string ratio;           // "The container answered 280× sooner" ("" without numbers)
    std::string ratio_detail;    // "43 ms vs 12.0 s · one after the other, container first"
    std::string memory_container, memory_vm;  // "memory: 1.8 MiB" (+ tag)
    std::string detail_container, detail_vm;  // RaceSide.detail
    bool any_unmeasured = false;
};

// "The container answered 280× sooner" (ratio ≥ 1), "The VM answered 2× sooner" (ratio < 1),
// "" when a side has no time.
std::string race_ratio_text(const vm::RaceResult& r);
RaceChart build_race_chart(const vm::RaceResult& r, RaceScale scale);

// ---- the live race ----

struct LaneSegment {
    std::string name;     // stage name as the engine says it ("" for a side not yet broken down)
    double start_ms = 0;  // from the side's start
    double end_ms = 0;
    bool running = false; // still growing with the clock
};

struct RaceLane {
    std::string backend;               // "" until known
    std::vector<LaneSegment> segments; // in time order, contiguous from 0
    double elapsed_ms = 0;             // how far the lane reaches now
    bool started = false, finished = false;
    double answered_ms = 0;            // when finished
};

// The race's events in order, with the local clock (NOW_MS, monotonic) of their arrival.
// Not thread-safe: the window keeps one behind its mutex.
class RaceProgress {
public:
    static constexpr size_t kConsoleLines = 400;  // the console keeps this many last lines

    void begin(double now_ms);
    void on_progress(const std::string& side, const std::string& what, double now_ms);
    void on_console_line(double ms, const std::string& line, double now_ms);
    void on_vm_stage(const std::string& stage, double end_ms, double now_ms);
    void on_side_done(const std::string& side, const vm::RaceSide& run, double now_ms);
    void finish(double now_ms);

    RaceLane container_lane(double now_ms) const;
    RaceLane vm_lane(double now_ms) const;
    const std::deque<std::string>& console() const { return console_; }
    // The last progress line ("[vm] kernel done at 1234 ms"), for a status line.
    const std::string& last_note() const { return last_note_; }
    // "container" | "vm" | "" (not started or finished).
    const std::string& current_side() const { return side_; }
    std::optional<vm::RaceSide> container_run() const { return container_done_; }
    std::optional<vm::RaceSide> vm_run() const { return vm_done_; }
    // Seconds since begin() (frozen at finish()).
    double total_ms(double now_ms) const;

private:
    double begun_ = -1, finished_ = -1;
    double container_start_ = -1, vm_start_ = -1;
    double container_stop_ = -1;  // local time the container side finished
    std::string side_, last_note_, vm_backend_;
    std::vector<std::pair<std::string, double>> vm_stage_ends_;  // name, end ms since QEMU start
    double vm_console_ms_ = 0;    // latest console time (ms since QEMU start)
    std::optional<vm::RaceSide> container_done_, vm_done_;
    std::deque<std::string> console_;
};

// A finished side as lane segments (cumulative from 0).
RaceLane lane_from_side(const vm::RaceSide& side);

}  // namespace isolab::view
