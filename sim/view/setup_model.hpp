// A container's setup as the window draws it (GUI-free; STYLE §4 "setup as a list of steps",
// §6 "views keep only view state"). Before the first start a container carries the plan its
// runtime will execute (ContainerRecord::plan: names and details, no times); after a start, the
// same list with each step's measured time (ContainerRecord::steps). The Lifecycle tab draws the
// plan greyed as "planned" and the timed list with bars; this decides which, groups consecutive
// mounts into one row, and scales the bars.
//
// On the simulated backend nothing ran: its times are modeled (sim/runtime/simulated_runtime.cpp)
// and every number shown from such a list carries the "simulated" tag.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "sim/state/container.hpp"

namespace isolab::view {

enum class SetupPhase {
    None,     // the record has neither (made before plans were kept)
    Planned,  // never started: the plan, no times
    Timed,    // started at least once: the steps of the last start, each timed
};

struct SetupRow {
    std::string name;               // the runtime's step name: "clone", "mount", "pivot_root", ...
    std::string detail;             // what the step did; a group: its members' details, ", "-joined
    double ms = 0;                  // Timed: the step's time (a group: its members' sum); Planned: 0
    float fraction = 0;             // the bar: ms over the longest row's ms (0..1); Planned: 0
    std::vector<SetupRow> members;  // a group of two or more consecutive "mount" steps: each one
    bool group() const { return !members.empty(); }
    std::string label() const;      // "clone"; a group: "mount ×10"
};

struct SetupList {
    SetupPhase phase = SetupPhase::None;
    bool simulated = false;   // the simulated backend: planned for a model, times modeled
    size_t steps = 0;         // steps in the list, each member of a group counted
    double total_ms = 0;      // Timed: the sum of every step
    std::string longest;      // Timed: the label of the row with the longest time
    std::vector<SetupRow> rows;
};

// The list to draw for REC: its timed steps if it was started, else its plan.
SetupList setup_list(const ContainerRecord& rec);

// A step's time for the list: "<1 µs", "26 µs", "4.25 ms", "12.3 ms", "1.20 s".
// DETAIL (a runtime step's detail, English as `inspect` shows it) in the current language: the
// fixed phrases translated, numbers, paths and names kept; anything unknown as it is.
std::string localize_setup_detail(const std::string& detail);

std::string setup_ms_text(double ms);

// What step NAME does, in the learner's language (gui.setup.step.*); "" for a name without one.
std::string setup_step_help(const std::string& name);

}  // namespace isolab::view
