// The lesson list: every file in lessons/ with its progress (steps done, finished), its
// prerequisites, and a Start / Continue / Again button; a broken file shows its first error in
// place and the others stay usable. The Lessons mode shows it while no lesson is open.
#pragma once

#include <string>

#include "sim/lesson/lesson.hpp"
#include "sim/lesson/progress.hpp"

namespace isolab::gui {

class App;

// Draws the list of CATALOG with PROGRESS (reloaded from disk each frame), NOTICE in red above
// it when not empty, and the study-group toggle bound to STUDY_GROUP. Returns the id of the
// lesson whose button was pressed ("" = none); the caller opens it after the list is drawn
// (opening reloads the catalog the list is drawn from). Again resets the lesson's progress first.
std::string draw_lesson_list(App& app, const lesson::Catalog& catalog, lesson::ProgressStore& progress,
                             const std::string& notice, bool& study_group);

}  // namespace isolab::gui
