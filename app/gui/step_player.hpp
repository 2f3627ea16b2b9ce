// The step player: one open lesson, played step by step beside the stacks and the tabs.
//   - self-paced: hints, a check that turns green, quizzes with explanations, a final summary;
//   - study group: the same, plus a timer per step, a discussion prompt, and *Reveal*: the action
//     waits until the group has committed to a prediction;
//   - presenter: the lesson is a script; each clicker press performs the next step's action on
//     the real engine and shows its view (click/back), and the audience sees the step as a banner
//     above the stacks; the narrative is hidden unless show_notes_inline, and every change is
//     written to ROOT/lesson-presenter.json for the speaker notes.
// The state machine is sim/lesson/player.hpp; this draws it, runs the step's action as vetted
// `isolab` command lines through Jobs (so they show in the command log), and evaluates the step's
// check on a worker thread with its own engine.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "sim/lesson/lesson.hpp"
#include "sim/lesson/player.hpp"
#include "sim/lesson/progress.hpp"

namespace isolab::gui {

class App;
class CheckWorker;
class LessonStage;

// What the learner asked for in the player that the owner of the catalog does after drawing it.
struct PlayerRequest {
    bool back_to_list = false;  // close the lesson
    std::string open;           // open this lesson instead ("" = none)
};

class StepPlayer {
public:
    // STAGE: the action waits while it is being set; STUDY_GROUP: the toggle shared with the
    // lesson list (self-paced when false). Both outlive the player.
    StepPlayer(App& app, const LessonStage& stage, bool& study_group);
    ~StepPlayer();

    // Plays L from where PROGRESS says the learner left it (PROGRESS outlives the lesson).
    void start(const lesson::Lesson& l, lesson::ProgressStore* progress);
    void stop();                         // closes the lesson (clears the highlight)
    void restart();                      // after a stage reset: from the first step, nothing done
    bool active() const { return player_ != nullptr; }
    const lesson::Lesson& lesson() const { return player_->lesson(); }   // active() only
    // At the first step with nothing done: a fresh start, which clears the stage.
    bool fresh() const { return player_->index() == 0 && player_->steps_done() == 0; }

    void update();                       // every frame: jobs, checks, presenter file
    PlayerRequest draw(const lesson::Catalog& catalog);   // the side panel
    void draw_banner();                  // presenter: the audience's view of the step
    // Presenter keys.
    void click();
    void back();
    bool wants_refresh() const;          // waiting for a check or an action
    bool covers_stage() const;           // self-paced, study group: a prediction is open, cover the live picture
    // The step's prediction question is still open, in any mode: self-paced until the learner
    // predicts, study group until the reveal, presenter until the step's action has run (or, with
    // no action, until the press that shows the result).
    bool prediction_open() const;
    bool show_notes_inline = false;      // presenter: the narrative in the banner (S)

private:
    lesson::Mode wanted_mode() const;
    void apply_highlight();
    void run_action();
    std::string click_text() const;
    void write_presenter_file();
    PlayerRequest draw_lesson(const lesson::Catalog& catalog);
    PlayerRequest draw_summary(const lesson::Catalog& catalog);
    void draw_step_dots();
    void draw_prediction(float width);
    void draw_action_output(float width, size_t max_lines);
    void draw_action(float width);
    void draw_check_and_after(float width);
    void draw_quiz(float width, bool reveal_answers);
    void draw_audience_quiz(float width, bool reveal);

    App& app_;
    const LessonStage& stage_;
    bool& group_;
    std::unique_ptr<CheckWorker> checks_;
    std::unique_ptr<lesson::Player> player_;
    std::string refusal_;  // the step's action was refused (allowlist.hpp): why, in the learner's language
    bool summary_ = false;
    int shown_index_ = -1;
    int check_tag_ = 0;
    double last_check_ms_ = 0;
    std::vector<int> action_jobs_;
    std::vector<int> shown_jobs_;  // the step's last action: its output is shown under it
    bool race_action_ = false;
    int race_seen_ = 0;
    std::vector<bool> quiz_pick_;
    bool quiz_answered_ = false;
    std::string presenter_digest_;
};

}  // namespace isolab::gui
