// The stage a lesson plays on: before its first step, the objects its `stage` names are removed
// and the teaching images its `needs` names are built; the presenter's reset (Ctrl+R) removes
// everything made since the lesson opened and keeps what was there before (the baseline). All of
// it runs as `isolab` command lines through Jobs, so the learner sees each one in the command log.
#pragma once

#include <string>
#include <vector>

#include "sim/lesson/lesson.hpp"
#include "sim/lesson/stage.hpp"

namespace isolab::gui {

class App;

class LessonStage {
public:
    explicit LessonStage(App& app) : app_(app) {}
    // Sets the stage for L. With SINCE_OPEN (a reset), also removes what was made since the
    // lesson opened; without it, first takes the baseline that a later reset keeps. REMOVE false
    // (continuing a lesson) removes nothing and only builds what is missing. Returns "" or why
    // the engine could not be opened (then nothing was queued).
    std::string set(const lesson::Lesson& l, bool since_open, bool remove = true);
    // The stage's commands are still running: the step's action waits for them.
    bool busy() const;

private:
    App& app_;
    lesson::Baseline baseline_;
    std::vector<int> jobs_;  // the queued commands (a sequence: the last one ends it)
};

}  // namespace isolab::gui
