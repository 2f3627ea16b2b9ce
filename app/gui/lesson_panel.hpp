// The Lessons mode of the window (issue 7): the lesson list with progress, and a lesson played
// step by step beside the stacks and the tabs. One panel, three ways to use it:
//   - self-paced: hints, a check that turns green, quizzes with explanations, a final summary;
//   - study group: the same, plus a timer per step, a discussion prompt, and *Reveal*: the action
//     waits until the group has committed to a prediction;
//   - presenter (with --present): the lesson is a script; each clicker press (PageDown, Right,
//     Space) performs the next step's action on the real engine and shows its view, PageUp goes
//     back, Ctrl+R resets the stage; the narrative is hidden (S shows it) or goes to a speaker-notes
//     window (N opens `isolab-gui --notes`, which follows ROOT/lesson-presenter.json).
// The state machine is sim/lesson/player.hpp; the panel only draws it, runs the actions as
// `isolab` command lines through Jobs (so they show in the command log), and evaluates the step's
// check on a worker thread with its own engine.
#pragma once

#include <memory>
#include <string>

struct ImFont;

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
    bool show_notes_inline = false;

private:
    std::unique_ptr<LessonPanelImpl> impl_;
};

// Text with the lesson markup (**bold**, `code`, "- " lists, blank-line paragraphs), wrapped to
// WIDTH (0 = the available width).
void draw_markup(const std::string& text, ImFont* mono, float width = 0);

// The speaker-notes window (`isolab-gui --notes`): follows ROOT/lesson-presenter.json.
void draw_speaker_notes(App& app);

}  // namespace isolab::gui
