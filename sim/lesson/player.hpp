// The lesson player: where a learner is in a lesson and what may happen next, for all three modes
// (STYLE §2: one state machine, every front end drives it). GUI-free: the GUI's lesson panel, the
// terminal player (`isolab lesson play`) and the tests use it; it never runs a command itself —
// the caller runs the action's command lines and reports back (action_finished), and evaluates
// the step's check (checks.hpp) and reports that (check_result).
//
// A step goes:  shown → [prediction chosen] → [revealed: study group] → action run → check green
//               → [quiz answered correctly] → done.
// Self-paced: the action waits for a prediction when the step has one. Study group: it also waits
// for *Reveal*, so the group commits to a prediction before anyone sees the result; each step has a
// timer. Presenter: click() performs the next phase, so a clicker alone can run the lesson.
#pragma once

#include <string>
#include <vector>

#include "sim/lesson/lesson.hpp"
#include "sim/lesson/progress.hpp"

namespace isolab::lesson {

enum class Mode { SelfPaced, StudyGroup, Presenter };
const char* mode_name(Mode m);  // "self" | "group" | "present"

struct StepState {
    int prediction = -1;
    bool revealed = false;       // study group: the prediction is locked in and the result may show
    bool action_running = false;
    bool action_ran = false;
    int action_exit = -1;
    bool check_ok = false;
    std::string check_detail;
    std::vector<int> quiz_picked;  // the last answer given
    bool quiz_ok = false;
    int hints_shown = 0;
    double started_ms = 0;         // monotonic, for the study group's timer
};

class Player {
public:
    // PROGRESS may be null (the automatic player keeps none). ROOT is the engine's state root.
    Player(Lesson lesson, Mode mode, ProgressStore* progress, std::string root);

    const Lesson& lesson() const { return lesson_; }
    Mode mode() const { return mode_; }
    void set_mode(Mode m) { mode_ = m; }
    int index() const { return index_; }
    int count() const { return static_cast<int>(lesson_.steps.size()); }
    const Step& step() const { return lesson_.steps[static_cast<size_t>(index_)]; }
    const StepState& state() const { return state_; }
    bool step_done(int i) const;    // green in this run or in saved progress
    int steps_done() const;
    bool finished() const;          // every step done

    // ---- the learner's moves ----
    void predict(int choice);
    // Study group: locks the prediction in; the action becomes available and results show.
    void reveal();
    bool prediction_needed() const;  // the step asks for a prediction not made yet
    bool may_run_action() const;     // self: prediction made; group: also revealed
    bool results_visible() const;    // the check, explain and quiz (after the reveal in a group)
    void action_started();
    void action_finished(int exit_code);
    void check_result(bool ok, const std::string& detail);
    // Returns true when every picked choice is correct (and, for a multiple choice, all are picked).
    bool answer_quiz(const std::vector<int>& picked);
    void show_hint();
    bool step_complete() const;      // check green (or nothing to check) and quiz answered right
    bool may_advance() const;        // self/group: complete; presenter: always
    bool next();                     // false at the end
    bool prev();
    void go(int index);
    void reset();                    // back to step 0, progress of this lesson cleared

    // Where the step's events begin (events.jsonl offset), for the check context.
    uint64_t events_from() const { return events_from_; }

    // ---- presenter: one clicker press ----
    enum class Click { Nothing, RunAction, ShowResult, NextStep, Finished };
    // What the next press does now (the GUI shows it on the speaker notes).
    Click next_click() const;
    // Performs the press's own bookkeeping and returns what the caller must do (RunAction: run the
    // step's action; NextStep: the step changed; Finished: the last step was done).
    Click click();
    double step_seconds(double now_ms) const { return (now_ms - state_.started_ms) / 1000.0; }
    bool presenter_result_shown() const { return presenter_result_shown_; }

private:
    void enter_step(int index);
    void save();
    Lesson lesson_;
    Mode mode_;
    ProgressStore* progress_;
    std::string root_;
    LessonProgress saved_;
    int index_ = 0;
    StepState state_;
    uint64_t events_from_ = 0;
    bool presenter_result_shown_ = false;
};

}  // namespace isolab::lesson
