#include "app/gui/app.hpp"

#include <epoxy/gl.h>
// GLFW after epoxy: epoxy provides the GL declarations GLFW would otherwise include.
#include <GLFW/glfw3.h>
#include <fontconfig/fontconfig.h>
#include <png.h>

#include <imgui.h>
#include <imgui_internal.h>  // PushItemFlag, WantTextInputNextFrame (1.86 has no public form)
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "app/gui/audit_recorder.hpp"
#include "app/gui/lesson_panel.hpp"
#include "app/gui/speaker_notes.hpp"
#include "app/gui/view.hpp"
#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/core/i18n.hpp"
#include "sim/core/process.hpp"
#include "sim/state/store.hpp"

namespace isolab::gui {

namespace {

// The file of the best font fontconfig has for PATTERN; when MUST_HAVE is non-zero, only a font
// that has that character counts (Hangul for the Korean font). "" when none.
std::string find_font(const char* pattern, FcChar32 must_have) {
    FcPattern* pat = FcNameParse(reinterpret_cast<const FcChar8*>(pattern));
    if (!pat) return "";
    FcConfigSubstitute(nullptr, pat, FcMatchPattern);
    FcDefaultSubstitute(pat);
    FcResult result;
    FcFontSet* set = FcFontSort(nullptr, pat, FcTrue, nullptr, &result);
    std::string found;
    for (int i = 0; set && i < set->nfont && found.empty(); ++i) {
        FcChar8* file = nullptr;
        FcCharSet* cs = nullptr;
        if (FcPatternGetString(set->fonts[i], FC_FILE, 0, &file) != FcResultMatch) continue;
        std::string path(reinterpret_cast<const char*>(file));
        // Dear ImGui reads TrueType/OpenType outlines; skip bitmap and Type 1 files.
        if (path.size() < 4) continue;
        std::string ext = path.substr(path.size() - 4);
        if (ext != ".ttf" && ext != ".otf" && ext != ".ttc") continue;
        if (must_have && (FcPatternGetCharSet(set->fonts[i], FC_CHARSET, 0, &cs) != FcResultMatch ||
                          !FcCharSetHasChar(cs, must_have)))
            continue;
        found = path;
    }
    if (set) FcFontSetDestroy(set);
    FcPatternDestroy(pat);
    return found;
}

void glfw_error(int code, const char* what) { std::fprintf(stderr, "isolab-gui: GLFW error %d: %s\n", code, what); }

// What a presenter's clicker sends (Logitech, Kensington and most others): PageDown/PageUp, the
// arrows, Space and Enter to move, B or '.' to black the screen.
bool is_next_key(int key) {
    return key == GLFW_KEY_PAGE_DOWN || key == GLFW_KEY_RIGHT || key == GLFW_KEY_DOWN || key == GLFW_KEY_SPACE ||
           key == GLFW_KEY_ENTER || key == GLFW_KEY_KP_ENTER;
}
bool is_back_key(int key) { return key == GLFW_KEY_PAGE_UP || key == GLFW_KEY_LEFT || key == GLFW_KEY_UP; }
bool is_blank_key(int key) { return key == GLFW_KEY_B || key == GLFW_KEY_PERIOD; }
// While presenting these never reach Dear ImGui (unless a text field the presenter clicked into
// has the keyboard): they would move its focus (Tab, arrows) or press the focused control (Space,
// Enter), which once switched the whole window to Korean in the middle of a demo.
bool withheld_while_presenting(int key) {
    return is_next_key(key) || is_back_key(key) || is_blank_key(key) || key == GLFW_KEY_TAB;
}
bool withheld_char_while_presenting(unsigned c) { return c == ' ' || c == 'b' || c == 'B' || c == '.'; }

}  // namespace

App::App(GuiOptions options) : opt_(std::move(options)) {
    root_ = opt_.root.empty() ? default_state_root() : opt_.root;
    presenter_ = opt_.present;
    fullscreen_ = opt_.fullscreen;
    i18n::set_language(i18n::detect_language(opt_.lang.empty() ? nullptr : opt_.lang.c_str()));
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    // The window's one engine, before any thread: the poller, the jobs and the views share it
    // (its state is on disk under file locks, so threads use it as processes would).
    EngineOptions eo;
    eo.root = root_;
    if (auto e = Engine::open(eo)) engine_ = std::shared_ptr<Engine>(std::move(*e));
    else engine_error_ = e.error().message;
    jobs_ = std::make_unique<Jobs>(root_, engine_, [this] { wake(); });
    views_ = make_views();
    active_view_ = opt_.view.empty() || opt_.view == "all" ? views_.front()->id() : opt_.view;
    pending_view_ = active_view_;
    if (opt_.select.rfind("vm:", 0) == 0) selected_vm = opt_.select.substr(3);
    else selected_container = opt_.select;
    FcInit();
    korean_font_ = find_font(":lang=ko", 0xD55C);  // 한
    if (!opt_.notes) {
        lessons_ = std::make_unique<LessonPanel>(*this);
        lesson_mode_ = opt_.lessons || !opt_.lesson.empty();
        if (!opt_.lesson.empty()) lessons_->open(opt_.lesson);
    }
    latin_font_ = find_font("DejaVu Sans", 0);
}

App::~App() {
    // Views and the lesson panel first: their workers may still call wake(), which needs GLFW alive.
    lessons_.reset();
    views_.clear();
    stop_ = true;
    wake();
    if (poller_.joinable()) poller_.join();
    if (wake_fd_ >= 0) ::close(wake_fd_);
    jobs_.reset();
    if (window_) {
        ImGui_ImplOpenGL3_Shutdown();
        ImGui_ImplGlfw_Shutdown();
        ImGui::DestroyContext();
        glfwDestroyWindow(window_);
        glfwTerminate();
    }
}

std::shared_ptr<const view::WorldSnapshot> App::world() const {
    std::lock_guard<std::mutex> l(world_mu_);
    return world_;
}

void App::wake() {
    uint64_t one = 1;
    if (wake_fd_ >= 0) (void)!::write(wake_fd_, &one, sizeof one);
    if (window_) glfwPostEmptyEvent();
}

void App::focus_text_soon() {
    text_focus_until_ = monotonic_ms() + 500;
    animate_for(500);
}

void App::animate_for(double ms) { animate_until_ = std::max(animate_until_, monotonic_ms() + ms); }

void App::poll_loop() {
    std::shared_ptr<Engine> engine = engine_;
    vm::VmManager vms(root_);
    view::HostInfo host = view::read_host_info(engine ? engine->backend_name() : "unavailable");
    {
        // An unknown $ISOLAB_VM_BACKEND: `isolab vm create` names the mistake; the window shows
        // the model, which is what nothing booting amounts to.
        vm::VmManager probe(root_);
        auto kind = probe.pick_backend();
        host.hypervisor = kind ? *kind : vm::VmBackendKind::Model;
    }
    std::string last;
    uint64_t generation = 0;
    // What changes the world: the engine's event log, container records, VM records.
    UniqueFd inotify(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (inotify.valid()) {
        (void)make_dirs(root_ + "/vms");
        ::inotify_add_watch(inotify.get(), root_.c_str(), IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_TO);
        ::inotify_add_watch(inotify.get(), (root_ + "/events.jsonl").c_str(), IN_MODIFY);
        ::inotify_add_watch(inotify.get(), (root_ + "/vms").c_str(), IN_CREATE | IN_DELETE | IN_MOVED_TO);
    }
    while (!stop_) {
        auto snap = std::make_shared<view::WorldSnapshot>();
        if (engine) {
            *snap = view::take_snapshot(*engine, vms, host);
        } else {
            snap->host = host;
            snap->error = engine_error_;
        }
        std::string f = view::fingerprint(*snap);
        bool changed = f != last;
        if (changed) ++generation;
        snap->generation = generation;
        {
            std::lock_guard<std::mutex> l(world_mu_);
            world_ = snap;
        }
        if (changed) glfwPostEmptyEvent();
        last = f;
        // Sleep until the engine writes an event (every container action appends to events.jsonl,
        // so a command typed in a terminal shows up at once), wake() is called, or 2 s pass (live
        // figures: memory, CPU, boot stages). A snapshot every 2 s costs little; one per 500 ms
        // kept an idle window above 2% of a core.
        struct pollfd fds[2] = {{inotify.get(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
        int n = ::poll(fds, 2, 2000);
        if (n > 0) {
            char buf[4096];
            if (fds[0].revents & POLLIN)
                while (::read(inotify.get(), buf, sizeof buf) > 0) {
                }
            if (fds[1].revents & POLLIN) (void)!::read(wake_fd_, buf, sizeof(uint64_t));
            // Several writes come together (a start records a few states): let them land.
            std::this_thread::sleep_for(std::chrono::milliseconds(30));
        }
    }
}

bool App::init_window() {
    glfwSetErrorCallback(glfw_error);
    if (!glfwInit()) {
        std::fprintf(stderr,
                     "isolab-gui: cannot open a window (no display: DISPLAY is %s). The command line works "
                     "without one: isolab --help\n",
                     std::getenv("DISPLAY") ? std::getenv("DISPLAY") : "not set");
        return false;
    }
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
    glfwWindowHint(GLFW_SCALE_TO_MONITOR, GLFW_TRUE);
    window_ = glfwCreateWindow(opt_.width, opt_.height, opt_.notes ? "IsoLab — speaker notes" : "IsoLab", nullptr, nullptr);
    if (!window_) return false;
    glfwMakeContextCurrent(window_);
    glfwSwapInterval(1);
    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;  // the layout is the app's, not a file's
    io.ConfigFlags |= ImGuiConfigFlags_NavEnableKeyboard;  // feed_input() turns it off while presenting
    // Keys, characters, buttons and scrolling go through the input queue (feed_input); focus,
    // cursor-enter and monitor events straight to the backend, as its header asks of an
    // application that installs its own callbacks.
    ImGui_ImplGlfw_InitForOpenGL(window_, false);
    glfwSetWindowUserPointer(window_, this);
    glfwSetWindowFocusCallback(window_, ImGui_ImplGlfw_WindowFocusCallback);
    glfwSetCursorEnterCallback(window_, ImGui_ImplGlfw_CursorEnterCallback);
    glfwSetMonitorCallback(ImGui_ImplGlfw_MonitorCallback);
    glfwSetKeyCallback(window_, on_key);
    glfwSetCharCallback(window_, on_char);
    glfwSetMouseButtonCallback(window_, on_mouse_button);
    glfwSetScrollCallback(window_, on_scroll);
    ImGui_ImplOpenGL3_Init("#version 130");
    if (fullscreen_) {
        fullscreen_ = false;
        GLFWmonitor* m = glfwGetPrimaryMonitor();
        if (const GLFWvidmode* mode = m ? glfwGetVideoMode(m) : nullptr) {
            glfwGetWindowPos(window_, &windowed_x_, &windowed_y_);
            glfwGetWindowSize(window_, &windowed_w_, &windowed_h_);
            glfwSetWindowMonitor(window_, m, 0, 0, mode->width, mode->height, mode->refreshRate);
            fullscreen_ = true;
        }
    }
    return true;
}

void App::build_fonts() {
    float xs = 1, ys = 1;
    glfwGetWindowContentScale(window_, &xs, &ys);
    int w = 0, h = 0;
    glfwGetWindowSize(window_, &w, &h);
    // Readable from 1280×720 to 4K: the base size follows the window's height as well as DPI.
    float fit = std::clamp(static_cast<float>(h) / 900.0f, 0.8f, 2.4f);
    scale_ = std::max(xs, 1.0f) * fit * user_zoom_ * (presenter_ ? 1.35f : 1.0f);
    float size = std::round(16.0f * scale_);
    ImGuiIO& io = ImGui::GetIO();
    io.Fonts->Clear();
    ImFontConfig cfg;
    cfg.OversampleH = 2;
    auto add = [&](float px, const char* latin) {
        ImFont* f = nullptr;
        // Latin-1 plus the punctuation, arrows, check marks and shapes the views draw (… → ✓ ✗ ■).
        static const ImWchar ranges[] = {0x0020, 0x00FF, 0x2010, 0x205E, 0x2190, 0x21FF, 0x2200, 0x22FF,
                                         0x2500, 0x257F, 0x25A0, 0x25FF, 0x2713, 0x2717, 0};
        if (latin && *latin) f = io.Fonts->AddFontFromFileTTF(latin, px, &cfg, ranges);
        if (!f) {
            ImFontConfig d;
            d.SizePixels = px;
            f = io.Fonts->AddFontDefault(&d);
        }
        if (!korean_font_.empty()) {
            ImFontConfig merge;
            merge.MergeMode = true;
            merge.OversampleH = 1;
            io.Fonts->AddFontFromFileTTF(korean_font_.c_str(), px, &merge, io.Fonts->GetGlyphRangesKorean());
        }
        return f;
    };
    add(size, latin_font_.c_str());
    big_font_ = add(std::round(size * 1.5f), latin_font_.c_str());
    std::string mono = find_font("DejaVu Sans Mono", 0);
    mono_font_ = add(size, mono.c_str());
    io.Fonts->Build();
    ImGui_ImplOpenGL3_DestroyFontsTexture();
    ImGui_ImplOpenGL3_CreateFontsTexture();
    apply_theme();
    fonts_dirty_ = false;
}

void App::apply_theme() {
    ImGuiStyle style;
    if (presenter_) {
        // Projectors wash colors out: light background, black text, thick borders.
        ImGui::StyleColorsLight(&style);
        style.Colors[ImGuiCol_Text] = ImVec4(0, 0, 0, 1);
        style.Colors[ImGuiCol_WindowBg] = ImVec4(1, 1, 1, 1);
        style.Colors[ImGuiCol_ChildBg] = ImVec4(0.97f, 0.97f, 0.97f, 1);
        style.Colors[ImGuiCol_Border] = ImVec4(0.1f, 0.1f, 0.1f, 1);
        style.Colors[ImGuiCol_Button] = ImVec4(0.80f, 0.87f, 1.0f, 1);
        style.Colors[ImGuiCol_Tab] = ImVec4(0.85f, 0.85f, 0.85f, 1);
        style.Colors[ImGuiCol_TabActive] = ImVec4(0.55f, 0.70f, 1.0f, 1);
        style.WindowBorderSize = 2;
        style.ChildBorderSize = 2;
        style.FrameBorderSize = 1.5f;
    } else {
        ImGui::StyleColorsDark(&style);
        style.Colors[ImGuiCol_WindowBg] = ImVec4(0.10f, 0.11f, 0.13f, 1);
        style.Colors[ImGuiCol_ChildBg] = ImVec4(0.13f, 0.14f, 0.17f, 1);
        style.ChildBorderSize = 1;
    }
    style.FrameRounding = 4;
    style.ChildRounding = 6;
    style.TabRounding = 4;
    style.ScaleAllSizes(scale_);
    ImGui::GetStyle() = style;
}

void App::on_key(GLFWwindow* w, int key, int, int action, int mods) {
    auto* app = static_cast<App*>(glfwGetWindowUserPointer(w));
    app->input_.key(key, action != GLFW_RELEASE, mods, action == GLFW_REPEAT);
}
void App::on_char(GLFWwindow* w, unsigned int c) { static_cast<App*>(glfwGetWindowUserPointer(w))->input_.character(c); }
void App::on_mouse_button(GLFWwindow* w, int button, int action, int mods) {
    double x = 0, y = 0;
    glfwGetCursorPos(w, &x, &y);  // where the click happened, not where the pointer is next frame
    static_cast<App*>(glfwGetWindowUserPointer(w))->input_.mouse_button(button, action == GLFW_PRESS, mods, x, y);
}
void App::on_scroll(GLFWwindow* w, double dx, double dy) { static_cast<App*>(glfwGetWindowUserPointer(w))->input_.scroll(dx, dy); }

// Runs after ImGui_ImplGlfw_NewFrame (which polls the buttons' state: this overrides it) and
// before ImGui::NewFrame.
void App::feed_input() {
    ImGuiIO& io = ImGui::GetIO();
    // Whether a text field had the keyboard in the frame just drawn: io.WantTextInput is only
    // brought up to date by the NewFrame that follows.
    text_input_ = ImGui::GetCurrentContext()->WantTextInputNextFrame == 1;
    // A view asked for a text field's focus: what is typed waits until the field has it.
    if (text_input_) text_focus_until_ = 0;
    const bool hold_text = monotonic_ms() < text_focus_until_;
    FrameInput in = input_.take_frame(hold_text);
    const bool withhold = presenter_ && !text_input_;
    // Presenting: no control takes the keyboard focus by keys at all.
    if (presenter_) io.ConfigFlags &= ~ImGuiConfigFlags_NavEnableKeyboard;
    else io.ConfigFlags |= ImGuiConfigFlags_NavEnableKeyboard;
    for (const auto& k : in.keys) {
        if (k.code < 0 || k.code >= IM_ARRAYSIZE(io.KeysDown)) continue;
        io.KeysDown[k.code] = k.down && !(withhold && withheld_while_presenting(k.code));
    }
    io.KeyCtrl = input_.key_down(GLFW_KEY_LEFT_CONTROL) || input_.key_down(GLFW_KEY_RIGHT_CONTROL);
    io.KeyShift = input_.key_down(GLFW_KEY_LEFT_SHIFT) || input_.key_down(GLFW_KEY_RIGHT_SHIFT);
    io.KeyAlt = input_.key_down(GLFW_KEY_LEFT_ALT) || input_.key_down(GLFW_KEY_RIGHT_ALT);
    io.KeySuper = input_.key_down(GLFW_KEY_LEFT_SUPER) || input_.key_down(GLFW_KEY_RIGHT_SUPER);
    for (int b = 0; b < InputQueue::kMaxButton; ++b) io.MouseDown[b] = input_.button_down(b);
    for (const auto& b : in.buttons) io.MousePos = ImVec2(static_cast<float>(b.x), static_cast<float>(b.y));
    for (uint32_t c : in.chars)
        if (!(withhold && withheld_char_while_presenting(c))) io.AddInputCharacter(c);
    io.MouseWheel += static_cast<float>(in.wheel_y);
    io.MouseWheelH += static_cast<float>(in.wheel_x);
    presses_ = std::move(in.presses);
}

// The app's own keys, read from this frame's presses (none lost, however short: input_queue.hpp).
void App::handle_keys() {
    const bool demo = lesson_mode_ && presenter_ && lessons_ && lessons_->active();
    for (const KeyPress& p : presses_) {
        const bool ctrl = (p.mods & GLFW_MOD_CONTROL) != 0;
        const int key = p.key;
        if (ctrl && (key == GLFW_KEY_EQUAL || key == GLFW_KEY_KP_ADD)) {
            user_zoom_ = std::min(user_zoom_ * 1.1f, 3.0f);
            fonts_dirty_ = true;
        } else if (ctrl && (key == GLFW_KEY_MINUS || key == GLFW_KEY_KP_SUBTRACT)) {
            user_zoom_ = std::max(user_zoom_ / 1.1f, 0.5f);
            fonts_dirty_ = true;
        } else if (ctrl && key == GLFW_KEY_0) {
            user_zoom_ = 1.0f;
            fonts_dirty_ = true;
        } else if (key == GLFW_KEY_F11) {
            GLFWmonitor* m = glfwGetPrimaryMonitor();
            if (!fullscreen_ && m) {
                glfwGetWindowPos(window_, &windowed_x_, &windowed_y_);
                glfwGetWindowSize(window_, &windowed_w_, &windowed_h_);
                const GLFWvidmode* mode = glfwGetVideoMode(m);
                glfwSetWindowMonitor(window_, m, 0, 0, mode->width, mode->height, mode->refreshRate);
                fullscreen_ = true;
            } else if (fullscreen_) {
                glfwSetWindowMonitor(window_, nullptr, windowed_x_, windowed_y_, windowed_w_, windowed_h_, 0);
                fullscreen_ = false;
            }
            fonts_dirty_ = true;
        }
        if (text_input_) continue;  // the keys below are the text field's then
        // Clicker keys. Presenting, they belong to the presenter (feed_input kept them from Dear
        // ImGui): B or '.' blacks the screen (and the next press brings it back); in a lesson,
        // PageDown / Right / Down / Space / Enter perform the next step, PageUp / Left / Up go
        // back, Ctrl+R resets the stage, S shows the narrative, N opens the speaker notes;
        // otherwise they step through the tabs. Not presenting: PageUp/PageDown and Left/Right
        // step through the tabs.
        int dir = 0;
        if (presenter_) {
            if (is_blank_key(key) || (blank_ && (is_next_key(key) || is_back_key(key)))) {
                blank_ = !blank_ && is_blank_key(key);
                continue;
            }
            dir = is_next_key(key) ? 1 : is_back_key(key) ? -1 : 0;
        } else if (key == GLFW_KEY_PAGE_DOWN || key == GLFW_KEY_RIGHT) {
            dir = 1;
        } else if (key == GLFW_KEY_PAGE_UP || key == GLFW_KEY_LEFT) {
            dir = -1;
        }
        if (demo) {
            if (dir > 0) lessons_->click(*this);
            else if (dir < 0) lessons_->back(*this);
            else if (ctrl && key == GLFW_KEY_R) lessons_->reset_stage(*this);
            else if (!ctrl && key == GLFW_KEY_S) lessons_->show_notes_inline = !lessons_->show_notes_inline;
            else if (!ctrl && key == GLFW_KEY_N) open_notes_window();
        } else if (dir) {
            int n = static_cast<int>(views_.size()), at = 0;
            for (int i = 0; i < n; ++i)
                if (active_view_ == views_[i]->id()) at = i;
            pending_view_ = views_[(at + dir + n) % n]->id();
        }
    }
    presses_.clear();
}

bool App::results_hidden() const { return lesson_mode_ && lessons_ && lessons_->prediction_open(); }

void App::draw_top_bar() {
    auto w = world();
    if (big_font_) ImGui::PushFont(big_font_);
    ImGui::TextUnformatted("IsoLab");
    if (big_font_) ImGui::PopFont();
    ImGui::SameLine();
    ImGui::AlignTextToFramePadding();
    ImGui::TextDisabled("%s", T("gui.tagline"));
    // Right side: backends, language, presenter, zoom.
    std::string backend = w ? w->host.backend : "...";
    std::string hyper = w ? std::string(vm::to_string(w->host.hypervisor)) : "...";
    ImGui::SameLine();
    ImGui::TextDisabled("|");
    ImGui::SameLine();
    ImGui::Text("%s %s", T("gui.backend.containers"), backend.c_str());
    if (backend == "simulated") {
        ImGui::SameLine();
        ImGui::TextColored(ImVec4(1, 0.6f, 0.1f, 1), "%s", T("gui.simulated_badge"));
    }
    ImGui::SameLine();
    ImGui::Text("  %s %s", T("gui.backend.vms"), hyper.c_str());
    if (w && vm::is_modeled(w->host.hypervisor)) {
        ImGui::SameLine();
        ImGui::TextColored(ImVec4(1, 0.6f, 0.1f, 1), "%s", T("gui.modeled_badge"));
    }
    if (korean_font_.empty()) {
        // Korean text would show as '?': say so in words every font can draw.
        ImGui::SameLine();
        ImGui::TextColored(ImVec4(1, 0.5f, 0.2f, 1), "No Korean font found: apt-get install fonts-nanum");
    }
    float right = ImGui::GetWindowContentRegionMax().x;
    // Where the last item ended (GetCursorPosX() is already on the next line here).
    float used = ImGui::GetItemRectMax().x - ImGui::GetWindowPos().x;
    float bw = ImGui::CalcTextSize("English 한국어 Presenter Ctrl+- Ctrl++ F11").x + 14 * ImGui::GetStyle().ItemSpacing.x +
               (lessons_ ? ImGui::CalcTextSize(T("gui.lesson.mode_explore")).x + 4 * ImGui::GetStyle().ItemSpacing.x : 0);
    ImGui::SameLine(std::max(right - bw, used + 10));
    bool ko = i18n::language() == i18n::Lang::Ko;
    if (lessons_) {
        ImGui::PushStyleColor(ImGuiCol_Button, lesson_mode_ ? ImGui::GetStyleColorVec4(ImGuiCol_ButtonActive)
                                                            : ImGui::GetStyleColorVec4(ImGuiCol_Button));
        if (ImGui::SmallButton(T(lesson_mode_ ? "gui.lesson.mode_explore" : "gui.lesson.mode_lessons")))
            lesson_mode_ = !lesson_mode_;
        ImGui::PopStyleColor();
        ImGui::SameLine();
    }
    // The language never changes by a key: no keyboard navigation or Tab reaches these two, so a
    // Space meant for the presenter cannot press one (it once did, mid-demo).
    ImGui::PushItemFlag(ImGuiItemFlags_NoNav | ImGuiItemFlags_NoTabStop, true);
    if (ImGui::RadioButton("English", !ko)) i18n::set_language(i18n::Lang::En);
    ImGui::SameLine();
    if (ImGui::RadioButton("한국어", ko)) i18n::set_language(i18n::Lang::Ko);
    ImGui::PopItemFlag();
    ImGui::SameLine();
    if (ImGui::Checkbox(T("gui.presenter"), &presenter_)) fonts_dirty_ = true;
    ImGui::SameLine();
    if (ImGui::SmallButton(" - ")) {
        user_zoom_ = std::max(user_zoom_ / 1.1f, 0.5f);
        fonts_dirty_ = true;
    }
    ImGui::SameLine();
    if (ImGui::SmallButton(" + ")) {
        user_zoom_ = std::min(user_zoom_ * 1.1f, 3.0f);
        fonts_dirty_ = true;
    }
}

void App::draw_command_log() {
    // The equivalent command of every button, newest last (lazydocker's command log).
    auto jobs = jobs_->list();
    ImGui::TextDisabled("%s", T("gui.command_log"));
    size_t from = jobs.size() > 3 ? jobs.size() - 3 : 0;
    for (size_t i = from; i < jobs.size(); ++i) {
        const Job& j = jobs[i];
        ImGui::PushID(j.id);
        ImVec4 color = !j.done ? ImVec4(0.9f, 0.8f, 0.2f, 1) : j.exit_code == 0 ? ImVec4(0.3f, 0.8f, 0.4f, 1) : ImVec4(1, 0.4f, 0.4f, 1);
        if (mono_font_) ImGui::PushFont(mono_font_);
        ImGui::TextColored(color, "%s", !j.done ? "…" : j.exit_code == 0 ? "✓" : "✗");
        ImGui::SameLine();
        ImGui::Text("$ %s", j.command.c_str());
        if (j.done && !j.output.empty()) {
            std::string first = j.output.substr(0, j.output.find('\n'));
            ImGui::SameLine();
            ImGui::TextDisabled("→ %s", first.c_str());
        }
        if (mono_font_) ImGui::PopFont();
        ImGui::PopID();
    }
}

void App::frame() {
    audit::begin_frame();  // the audit looks at the frame a screenshot is taken of: this one
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    feed_input();
    ImGui::NewFrame();
    handle_keys();
    const ImGuiViewport* vp = ImGui::GetMainViewport();
    ImGui::SetNextWindowPos(vp->WorkPos);
    ImGui::SetNextWindowSize(vp->WorkSize);
    ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize |
                             ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus;
    ImGui::Begin("IsoLab", nullptr, flags);
    if (opt_.notes) {
        draw_speaker_notes(*this);
        ImGui::End();
        render();
        return;
    }
    if (lesson_mode_ && lessons_) lessons_->update(*this);
    else highlight_target.clear();
    draw_top_bar();
    ImGui::Separator();
    bool demo = lesson_mode_ && presenter_ && lessons_ && lessons_->active();
    if (demo) lessons_->draw_banner(*this);
    float log_h = ImGui::GetTextLineHeightWithSpacing() * 4.4f;
    float body_h = ImGui::GetContentRegionAvail().y - log_h;
    bool side_panel = lesson_mode_ && lessons_ && !demo;
    float tabs_h = body_h;
    if (side_panel) {
        // Lessons: the panel on the right; the stacks above the tabs on the left (the wireframe's
        // arrangement), so both keep their width.
        float panel_w = std::max(ImGui::GetContentRegionAvail().x * 0.30f, ImGui::GetFontSize() * 24);
        ImGui::BeginChild("lesson_left", ImVec2(ImGui::GetContentRegionAvail().x - panel_w - ImGui::GetStyle().ItemSpacing.x, body_h));
        float stacks_h = body_h * 0.46f;
        ImGui::BeginChild("stacks", ImVec2(0, stacks_h), true);
        draw_stacks(*this);
        ImGui::EndChild();
        tabs_h = body_h - stacks_h - ImGui::GetStyle().ItemSpacing.y;
    } else {
        float left_w = ImGui::GetContentRegionAvail().x * 0.50f;
        ImGui::BeginChild("stacks", ImVec2(left_w, body_h), true);
        draw_stacks(*this);
        ImGui::EndChild();
        ImGui::SameLine();
    }
    ImGui::BeginChild("tabs", ImVec2(0, tabs_h), true);
    if (ImGui::BeginTabBar("views")) {
        for (auto& v : views_) {
            ImGuiTabItemFlags tf = pending_view_ == v->id() ? ImGuiTabItemFlags_SetSelected : 0;
            std::string label = std::string(T(v->title_key())) + "###" + v->id();
            if (ImGui::BeginTabItem(label.c_str(), nullptr, tf)) {
                active_view_ = v->id();
                ImGui::BeginChild("content");
                v->draw(*this);
                ImGui::EndChild();
                ImGui::EndTabItem();
            }
        }
        pending_view_.clear();
        ImGui::EndTabBar();
    }
    ImGui::EndChild();
    if (side_panel) {
        ImGui::EndChild();  // lesson_left
        if (lessons_->covers_stage()) {
            // Predict before you look: the live picture may already show the answer. A window of
            // its own over the stacks and tabs, so it also takes the clicks meant for them.
            ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
            ImGui::SetNextWindowPos(a);
            ImGui::SetNextWindowSize(ImVec2(b.x - a.x, b.y - a.y));
            ImVec4 bg = ImGui::GetStyleColorVec4(ImGuiCol_WindowBg);
            bg.w = 1.0f;  // opaque: a see-through cover still shows the answer
            ImGui::PushStyleColor(ImGuiCol_WindowBg, bg);
            ImGui::Begin("##prediction-cover", nullptr,
                         ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings |
                             ImGuiWindowFlags_NoFocusOnAppearing | ImGuiWindowFlags_NoNav);
            const char* text = T("gui.lesson.cover");
            if (big_font_) ImGui::PushFont(big_font_);
            float wrap = (b.x - a.x) * 0.8f;
            ImVec2 ts = ImGui::CalcTextSize(text, nullptr, false, wrap);
            ImGui::SetCursorPos(ImVec2((b.x - a.x - ts.x) * 0.5f, (b.y - a.y - ts.y) * 0.5f));
            ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + wrap);
            ImGui::TextUnformatted(text);
            ImGui::PopTextWrapPos();
            if (big_font_) ImGui::PopFont();
            ImGui::End();
            ImGui::PopStyleColor();
        }
        ImGui::SameLine();
        ImGui::BeginChild("lesson_panel", ImVec2(0, body_h), true);
        lessons_->draw(*this);
        ImGui::EndChild();
    }
    draw_command_log();
    ImGui::End();
    if (blank_) {
        // B or '.' on the clicker: a black screen over everything until the next press.
        ImGui::GetForegroundDrawList()->AddRectFilled(vp->Pos, ImVec2(vp->Pos.x + vp->Size.x, vp->Pos.y + vp->Size.y),
                                                      IM_COL32(0, 0, 0, 255));
    }
    render();
}

void App::render() {
    ImGui::Render();
    int fw, fh;
    glfwGetFramebufferSize(window_, &fw, &fh);
    glViewport(0, 0, fw, fh);
    ImVec4 bg = ImGui::GetStyle().Colors[ImGuiCol_WindowBg];
    glClearColor(bg.x, bg.y, bg.z, 1);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
}

void App::outline_last_item(const char* target) {
    if (!highlighted(target)) return;
    ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
    float pulse = 0.5f + 0.5f * std::sin(static_cast<float>(ImGui::GetTime()) * 4.0f);
    float grow = 2.0f + 2.0f * pulse;
    ImGui::GetWindowDrawList()->PushClipRectFullScreen();
    ImGui::GetWindowDrawList()->AddRect(ImVec2(a.x - grow, a.y - grow), ImVec2(b.x + grow, b.y + grow),
                                        IM_COL32(230, 40, 200, 140 + static_cast<int>(115 * pulse)), 8, 0, 4.0f);
    ImGui::GetWindowDrawList()->PopClipRect();
    animate_for(100);
}

// N in the clicker demo: the speaker notes in a window of their own (for the laptop's screen while
// the projector shows the stage). It follows ROOT/lesson-presenter.json.
void App::open_notes_window() {
    std::string self = self_exe();
    if (self.empty()) return;
    Argv notes({self, "--notes", "--root", root_, "--lang",
                i18n::language_code(i18n::language()), "--size", "900x800"});
    // Forked twice: the notes window outlives no one's wait, and leaves no zombie behind.
    pid_t pid = ::fork();
    if (pid == 0) {
        ::setsid();
        if (::fork() == 0) notes.exec();
        ::_exit(0);
    }
    if (pid > 0) (void)wait_exit_code(pid);
}

// FILE.png → FILE.audit.json beside it: the entries of layout_audit.hpp's rules for this frame.
bool App::write_audit(const std::string& png_path, const std::vector<unsigned char>& pixels, int w, int h) {
    std::string path = png_path;
    if (path.size() > 4 && path.compare(path.size() - 4, 4, ".png") == 0) path.erase(path.size() - 4);
    path += ".audit.json";
    audit::FrameAudit a = audit::audit_recorded_frame(ImGui::GetDrawData(), pixels, w, h, active_view_, state_palette());
    if (auto written = write_file(path, audit::to_json(a.entries)); !written.ok()) {
        std::fprintf(stderr, "isolab-gui: cannot write `%s`: %s\n", path.c_str(), written.error().message.c_str());
        return false;
    }
    int by_rule[4] = {0, 0, 0, 0};
    for (const auto& e : a.entries)
        ++by_rule[e.rule == "clipped" ? 0 : e.rule == "overlap" ? 1 : e.rule == "token_wrap" ? 2 : 3];
    std::fprintf(stderr, "isolab-gui: %s\n",
                 i18n::trf("gui.audit.summary", {active_view_, std::to_string(a.entries.size()), std::to_string(by_rule[0]),
                                                 std::to_string(by_rule[1]), std::to_string(by_rule[2]),
                                                 std::to_string(by_rule[3]), std::to_string(a.items),
                                                 std::to_string(a.suppressed.scrolled + a.suppressed.no_background), path})
                     .c_str());
    // The recorder's layout is ImGui's own or the audit is wrong: say so where a test sees it.
    if (a.layout_mismatches > 0)
        std::fprintf(stderr, "isolab-gui: %s\n", i18n::trf("gui.audit.mismatch", {std::to_string(a.layout_mismatches)}).c_str());
    return true;
}

bool App::write_screenshot(const std::string& path, const std::vector<unsigned char>& pixels, int w, int h) {
    FILE* f = std::fopen(path.c_str(), "wbe");
    if (!f) {
        std::fprintf(stderr, "isolab-gui: cannot write `%s`: %s\n", path.c_str(), std::strerror(errno));
        return false;
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        std::fclose(f);
        return false;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGBA, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = h - 1; y >= 0; --y) {  // OpenGL's rows start at the bottom
        // Opaque: the framebuffer's alpha is whatever the last blend left.
        std::vector<unsigned char> row(pixels.begin() + static_cast<ptrdiff_t>(y) * w * 4,
                                       pixels.begin() + static_cast<ptrdiff_t>(y + 1) * w * 4);
        for (int x = 0; x < w; ++x) row[x * 4 + 3] = 255;
        png_write_row(png, row.data());
    }
    png_write_end(png, nullptr);
    png_destroy_write_struct(&png, &info);
    std::fclose(f);
    return true;
}

// --bench-frames N: the frame-time benchmark (tools/bench-gui). Every tab gets N/tabs frames;
// each frame's CPU time is the main thread's (CLOCK_THREAD_CPUTIME_ID), so waiting for the GPU or
// the display does not count; the poller's work is measured separately by the idle test.
int App::bench() {
    double deadline = monotonic_ms() + 10000;
    while (!world() && monotonic_ms() < deadline) glfwWaitEventsTimeout(0.05);
    std::vector<double> ms;
    int per_view = std::max(1, opt_.bench_frames / static_cast<int>(views_.size()));
    for (int i = 0; i < opt_.bench_frames; ++i) {
        if (i % per_view == 0) pending_view_ = views_[(i / per_view) % views_.size()]->id();
        glfwPollEvents();
        if (fonts_dirty_) build_fonts();
        struct timespec a, b;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
        frame();
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
        glfwSwapBuffers(window_);
        if (i >= static_cast<int>(views_.size())) ms.push_back((b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6);
    }
    std::sort(ms.begin(), ms.end());
    double median = ms.empty() ? 0 : ms[ms.size() / 2];
    double p99 = ms.empty() ? 0 : ms[std::min(ms.size() - 1, static_cast<size_t>(ms.size() * 0.99))];
    auto w = world();
    std::printf("frames %zu, containers %zu, vms %zu: CPU per frame median %.2f ms, p99 %.2f ms\n", ms.size(),
                w ? w->containers.size() : 0, w ? w->vms.size() : 0, median, p99);
    return 0;
}

int App::run() {
    if (!opt_.view.empty() && opt_.view != "all" &&
        std::none_of(views_.begin(), views_.end(), [&](const auto& v) { return opt_.view == v->id(); })) {
        std::string ids;
        for (const auto& v : views_) ids += std::string(ids.empty() ? "" : "|") + v->id();
        std::fprintf(stderr, "isolab-gui: unknown view `%s`: use %s or all\n", opt_.view.c_str(), ids.c_str());
        return 125;
    }
    if (!init_window()) return 1;
    audit::set_recording(opt_.audit && !opt_.screenshot.empty());
    poller_ = std::thread([this] { poll_loop(); });
    if (korean_font_.empty())
        std::fprintf(stderr, "isolab-gui: no Korean font found through fontconfig: Korean text shows as '?'. "
                             "Fix: apt-get install fonts-nanum\n");
    if (opt_.bench_frames > 0) return bench();
    const bool shooting = !opt_.screenshot.empty();
    double first_world_deadline = monotonic_ms() + 10000;
    while (!glfwWindowShouldClose(window_)) {
        bool animating = monotonic_ms() < animate_until_ || jobs_->busy();
        for (auto& v : views_)
            if (v->animating()) animating = true;
        double refresh = 0;
        for (auto& v : views_)
            if (active_view_ == v->id()) refresh = v->refresh_seconds();
        // A lesson waiting for its check (or a study group's timer), the speaker notes following
        // the presenter: about once a second.
        if (opt_.notes || (lesson_mode_ && lessons_ && lessons_->wants_refresh()))
            refresh = refresh > 0 ? std::min(refresh, opt_.notes ? 0.4 : 1.0) : (opt_.notes ? 0.4 : 1.0);
        // Input still queued (a tap's release, a second press): draw the next frame at once.
        if (shooting || animating || input_.pending()) glfwPollEvents();
        // Idle: sleep until input or an engine change (the poller posts an empty event); a tab
        // with live figures asks for a redraw now and then. Rendering a 1080p frame in software
        // costs ~50 ms of CPU, so an idle window must not draw on a timer.
        else glfwWaitEventsTimeout(refresh > 0 ? refresh : 60.0);
        if (fonts_dirty_) build_fonts();
        frame();
        // In screenshot mode, frames count only once the first snapshot is there.
        if (shooting && (world() || monotonic_ms() > first_world_deadline)) ++frame_count_;
        if (shooting && frame_count_ >= opt_.frames) {
            // --view all: one picture per tab, FILE's "{view}" replaced by the tab's id.
            std::string path = opt_.screenshot;
            if (size_t at = path.find("{view}"); at != std::string::npos) path.replace(at, 6, active_view_);
            int w, h;
            glfwGetFramebufferSize(window_, &w, &h);
            std::vector<unsigned char> pixels(static_cast<size_t>(w) * h * 4);
            glPixelStorei(GL_PACK_ALIGNMENT, 1);
            glReadBuffer(GL_BACK);
            glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE, pixels.data());
            bool ok = write_screenshot(path, pixels, w, h);
            if (ok && opt_.audit) ok = write_audit(path, pixels, w, h);
            glfwSwapBuffers(window_);
            if (!ok) return 1;
            if (opt_.view != "all") return 0;
            size_t at = 0;
            for (size_t i = 0; i < views_.size(); ++i)
                if (views_[i]->id() == active_view_) at = i;
            if (at + 1 >= views_.size()) return 0;
            pending_view_ = views_[at + 1]->id();
            frame_count_ = 0;
            continue;
        }
        glfwSwapBuffers(window_);
        if (shooting) glfwWaitEventsTimeout(0.016);
    }
    return 0;
}

}  // namespace isolab::gui
