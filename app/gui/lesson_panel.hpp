// The Lessons mode of the window (issue 7): the lesson list while no lesson is open, else the
// open lesson played step by step beside the stacks and the tabs. The panel owns what the parts
// share (the catalog, the learner's progress, the study-group toggle, the stage) and ties them:
//   - lesson_list:   the list with progress and Start / Continue / Again;
//   - step_player:   one lesson, self-paced, study group or presented (with --present: each
//                    clicker press, PageDown/Right/Space, performs the next step; PageUp goes back);
//   - lesson_stage:  the objects a lesson starts from, and Ctrl+R's reset of them;
//   - speaker_notes: the presenter's notes window (`isolab-gui --notes`), which follows
//                    ROOT/lesson-presenter.json and needs no panel.
// The text markup and colors all of them draw with are lesson_markup.
#pragma once

#include <memory>
#include <string>

namespace isolab::gui {

class App;
class LessonPanelImpl;

class LessonPanel {
public:
    explicit LessonPanel(App& app);
    ~LessonPanel();
    // Opens lesson ID (false and a message on the panel when there is no such valid lesson).
    bool open(const std::string& id);
    bool active() const;           // a lesson is open
    void draw(App& app);           // the side panel (list or lesson)
    void draw_banner(App& app);    // presenter: the audience's view of the step, above the stacks
    void update(App& app);         // every frame: jobs, checks, presenter file
    // Presenter keys.
    void click(App& app);
    void back(App& app);
    void reset_stage(App& app);
    bool wants_refresh() const;    // waiting for a check or an action: redraw about once a second
    // Self-paced and study group: the step asks for a prediction not made (or not revealed) yet,
    // so the live picture, which may show the answer, is covered until then.
    bool covers_stage() const;
    // In any mode, presenter included: a prediction question is open (StepPlayer::prediction_open).
    bool prediction_open() const;
    bool show_notes_inline = false;

private:
    std::unique_ptr<LessonPanelImpl> impl_;
};

}  // namespace isolab::gui
