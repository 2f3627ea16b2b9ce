#include "app/gui/lesson_stage.hpp"

#include "app/gui/app.hpp"
#include "sim/engine/engine.hpp"
#include "sim/vm/vm_manager.hpp"

namespace isolab::gui {

using namespace isolab::lesson;

std::string LessonStage::set(const Lesson& l, bool since_open, bool remove) {
    std::shared_ptr<Engine> engine = app_.engine();  // the window's one engine
    if (!engine) return app_.engine_error();
    vm::VmManager vms(app_.state_root());
    std::vector<std::string> lines;
    if (remove) lines = stage_commands(l, *engine, vms, since_open ? &baseline_ : nullptr);
    for (auto& line : needs_commands(l, *engine)) lines.push_back(line);
    if (!since_open) {
        // What exists before the lesson's own commands run: the reset key keeps it.
        baseline_ = take_baseline(*engine, vms);
        for (auto& n : l.stage.containers) baseline_.containers.erase(n);
        for (auto& n : l.stage.vms) baseline_.vms.erase(n);
        for (auto& n : l.stage.networks) baseline_.networks.erase(n);
    }
    if (!lines.empty()) jobs_ = app_.jobs().submit_sequence(lines, "lesson", tree_dir());
    return "";
}

bool LessonStage::busy() const {
    if (jobs_.empty()) return false;
    for (const auto& j : app_.jobs().list())
        if (j.id == jobs_.back()) return !j.done;
    return false;
}

}  // namespace isolab::gui
