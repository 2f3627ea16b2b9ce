// The stage a lesson plays on: what to remove before it starts (its `stage` names and, for the
// instructor's reset key, everything made since it started) and which teaching images to build.
// Everything is returned as `isolab` command lines, so the GUI can show them in its command log
// and the terminal player can print them: a reset is done with the commands a learner could type.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "sim/lesson/lesson.hpp"

namespace isolab {
class Engine;
namespace vm {
class VmManager;
}
}  // namespace isolab

namespace isolab::lesson {

struct Baseline {
    std::set<std::string> containers, vms, networks, volumes;
};
Baseline take_baseline(Engine& engine, vm::VmManager& vms);

// Removal lines (containers, then VMs, then networks, then volumes, then images) for the objects
// named in the lesson's stage that exist now, plus, with SINCE, every container, VM, network and
// volume not in SINCE.
std::vector<std::string> stage_commands(const Lesson& lesson, Engine& engine, vm::VmManager& vms,
                                        const Baseline* since = nullptr);
// `isolab build -q -t isolab/web assets/images/web` for each teaching image the lesson needs that
// is missing (run with the working directory tree_dir()).
std::vector<std::string> needs_commands(const Lesson& lesson, Engine& engine);
// IsoLab's own tree (the parent of lessons/): actions run there.
std::string tree_dir();

}  // namespace isolab::lesson
