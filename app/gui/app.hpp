// The IsoLab window: one Dear ImGui frame loop over views (STYLE §6: views keep only view state;
// the world comes from a snapshot the poller thread takes of the real engine and VM state).
//
// Frame loop: glfwWaitEventsTimeout while nothing animates (the poller and the job workers wake
// it with glfwPostEmptyEvent), a steady 60 Hz only while something moves (a boot, a race).
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "app/gui/input_queue.hpp"
#include "app/gui/jobs.hpp"
#include "sim/view/snapshot.hpp"

struct GLFWwindow;
struct ImFont;

namespace isolab {
class Engine;
}

namespace isolab::gui {

struct GuiOptions {
    std::string root;            // state root ("" = the default one)
    std::string lang;            // en | ko ("" = from the environment)
    bool present = false;        // presenter mode: light high-contrast theme, large
    std::string screenshot;      // write a PNG of the window after `frames` frames, then exit
    bool audit = false;          // with screenshot: the layout audit of each picture, FILE.audit.json
    int frames = 5;
    std::string view;            // the tab to show: race | lifecycle | isolation | images | network | terminal | resources
    std::string select;          // a container (or vm:NAME) to select
    int width = 1600, height = 900;
    bool fullscreen = false;
    int bench_frames = 0;        // render N frames through every tab, print CPU time per frame, exit
    std::string lesson;          // open this lesson at start (with --present: the clicker demo)
    bool lessons = false;        // start in the Lessons mode (the lesson list)
    bool notes = false;          // the speaker-notes window: follows the presenter's lesson
    bool study_group = false;    // lessons start in the study-group mode (timer, discussion, reveal)
};

class View;
class LessonPanel;

class App {
public:
    explicit App(GuiOptions options);
    ~App();
    int run();

    // ---- what views use ----
    std::shared_ptr<const view::WorldSnapshot> world() const;
    Jobs& jobs() { return *jobs_; }
    // The window's one engine, shared by the poller, the jobs and the views' workers (a copy of
    // the pointer keeps it alive for a worker that outlives its view). Null when it could not be
    // opened: engine_error() says why.
    std::shared_ptr<Engine> engine() const { return engine_; }
    const std::string& engine_error() const { return engine_error_; }
    // A button's action: WORDS after `isolab` ({"stop", name}), parsed once into the typed action
    // that runs, logged as the line a learner could type.
    void act(const std::vector<std::string>& words) { jobs_->submit_words(words, "button"); }
    // The same for an action the views hold as a line (the lifecycle diagram's arrows).
    void command(const std::string& line) { jobs_->submit(line, "button"); }
    const GuiOptions& options() const { return opt_; }
    std::string selected_container;   // name
    std::string selected_vm;          // name
    bool presenter() const { return presenter_; }
    float ui_scale() const { return scale_; }
    // Asks for frames at 60 Hz for the next MS milliseconds (animations).
    void animate_for(double ms);
    // A view is about to give a text field the keyboard (SetKeyboardFocusHere lands a frame
    // later): characters typed meanwhile wait for the field (at most half a second) instead of
    // being lost, and frames are drawn at once until then.
    void focus_text_soon();
    // Wakes the frame loop from any thread.
    void wake();
    ImFont* big_font() const { return big_font_; }
    ImFont* mono_font() const { return mono_font_; }
    // Switch to tab ID ("race", ...) on the next frame (buttons that lead somewhere).
    void show_view(const std::string& id) { pending_view_ = id; }
    const std::string& state_root() const { return root_; }
    // Lessons: what the current step outlines ("host-kernel", "ns-pid", ...; "" = nothing).
    std::string highlight_target;
    bool highlighted(const char* target) const { return !highlight_target.empty() && highlight_target == target; }
    // Draws a pulsing outline around the last item when TARGET is highlighted.
    void outline_last_item(const char* target);
    // True once per highlight: the view showing TARGET scrolls it into view then.
    bool take_scroll_to(const char* target) {
        if (!highlighted(target) || scrolled_to_ == highlight_target) return false;
        scrolled_to_ = highlight_target;
        return true;
    }
    std::string scrolled_to_;
    // A lesson's race action: the race view starts a race on its next frame and counts finished ones.
    void request_race() {
        race_requested_ = true;
        pending_view_ = "race";
    }
    bool take_race_request() {
        bool r = race_requested_;
        race_requested_ = false;
        return r;
    }
    void race_finished() { ++races_finished_; }
    int races_finished() const { return races_finished_.load(); }
    std::string korean_font_path() const { return korean_font_; }
    // A lesson asks a prediction question that is still open (in any mode): views keep the live
    // results that would answer it (the race's last ratio) out of sight until then.
    bool results_hidden() const;

private:
    bool init_window();
    void build_fonts();
    void apply_theme();
    void poll_loop();
    void frame();
    void render();
    void draw_top_bar();
    void draw_command_log();
    bool write_screenshot(const std::string& path, const std::vector<unsigned char>& pixels, int w, int h);
    bool write_audit(const std::string& png_path, const std::vector<unsigned char>& pixels, int w, int h);
    int bench();
    void handle_keys();
    // Before ImGui::NewFrame: hands this frame's share of the input queue to Dear ImGui, minus the
    // clicker keys while presenting (those go to the presenter's logic only).
    void feed_input();
    static void on_key(GLFWwindow* w, int key, int scancode, int action, int mods);
    static void on_char(GLFWwindow* w, unsigned int c);
    static void on_mouse_button(GLFWwindow* w, int button, int action, int mods);
    static void on_scroll(GLFWwindow* w, double dx, double dy);
    void open_notes_window();

    GuiOptions opt_;
    std::string root_;
    GLFWwindow* window_ = nullptr;
    std::shared_ptr<Engine> engine_;
    std::string engine_error_;
    std::unique_ptr<Jobs> jobs_;
    std::vector<std::unique_ptr<View>> views_;
    std::string active_view_, pending_view_;

    mutable std::mutex world_mu_;
    std::shared_ptr<const view::WorldSnapshot> world_;
    std::thread poller_;
    std::atomic<bool> stop_{false};
    int wake_fd_ = -1;        // eventfd: wake() makes the poller take a snapshot now

    bool presenter_ = false;
    float scale_ = 1.0f;        // DPI × presenter × Ctrl +/-
    float user_zoom_ = 1.0f;
    bool fonts_dirty_ = true;
    bool fullscreen_ = false;
    int windowed_x_ = 0, windowed_y_ = 0, windowed_w_ = 0, windowed_h_ = 0;
    double animate_until_ = 0;
    ImFont* big_font_ = nullptr;
    ImFont* mono_font_ = nullptr;
    std::string korean_font_;
    std::string latin_font_;
    int frame_count_ = 0;
    InputQueue input_;
    std::vector<KeyPress> presses_;   // this frame's key presses (from input_), for handle_keys
    bool text_input_ = false;         // a text field had the keyboard last frame
    double text_focus_until_ = 0;     // focus_text_soon(): characters wait until then
    bool blank_ = false;              // B or '.' on a clicker: the screen is black until pressed again
    std::unique_ptr<LessonPanel> lessons_;
    bool lesson_mode_ = false;
    bool race_requested_ = false;
    std::atomic<int> races_finished_{0};
};

}  // namespace isolab::gui
