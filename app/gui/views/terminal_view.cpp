// The Terminal tab: the Docker-compatible command line inside the window, and a shell inside a
// running container.
//
// The command line runs each line through App::jobs() (the real `isolab` binary, output captured
// live), so what a learner types here is exactly what they would type in a terminal. The shell is
// `isolab exec -it NAME sh` on a pseudo-terminal of its own: the view reads the pty master on a
// thread and shows its text (sim/view/term_text: escape sequences stripped, "\r" and "\b"
// applied); the input line writes to the master.
//
// Demo hooks for screenshots (typing cannot be scripted): ISOLAB_GUI_TERMINAL_DEMO="ps -a;images"
// submits those lines on the first frame; ISOLAB_GUI_SHELL_DEMO="hostname;ls /" opens a shell in
// the selected (or first running) container as soon as one runs and types those lines into it.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <imgui.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "app/gui/jobs.hpp"
#include "app/gui/views/views.hpp"
#include "sim/core/clock.hpp"
#include "sim/core/i18n.hpp"
#include "sim/core/process.hpp"
#include "sim/state/lifecycle.hpp"
#include "sim/view/term_text.hpp"

extern char** environ;

namespace isolab::gui {

namespace {

constexpr size_t kOutputTailBytes = 64 * 1024;   // per command: older output is summarized
constexpr size_t kScrollbackEntries = 100;       // commands kept in the scrollback
constexpr size_t kShellTextBytes = 128 * 1024;   // what the shell box keeps

struct Palette {
    ImVec4 ok, fail, busy, prompt;
};

Palette palette(const App& app) {
    // The presenter theme is light: the dark theme's pastel colors would vanish on white.
    if (app.presenter())
        return {ImVec4(0.0f, 0.45f, 0.12f, 1), ImVec4(0.75f, 0.0f, 0.0f, 1), ImVec4(0.55f, 0.35f, 0.0f, 1),
                ImVec4(0.05f, 0.25f, 0.65f, 1)};
    return {ImVec4(0.35f, 0.82f, 0.45f, 1), ImVec4(1.0f, 0.42f, 0.42f, 1), ImVec4(0.92f, 0.8f, 0.25f, 1),
            ImVec4(0.45f, 0.7f, 1.0f, 1)};
}

// `isolab exec -it NAME sh` on a pseudo-terminal. One reader thread owns the master's reading and
// the child's reaping; the frame only writes to the master and copies the text. Ownership: the
// thread ends after the child is reaped (a close request escalates SIGHUP → SIGKILL after 2 s),
// and the destructor joins it, so a PtyShell never outlives its child unreaped.
class PtyShell {
public:
    PtyShell(std::string container, std::function<void()> wake) : container_(std::move(container)), wake_(std::move(wake)) {}
    ~PtyShell() {
        request_close();
        if (reader_.joinable()) reader_.join();
    }
    PtyShell(const PtyShell&) = delete;
    PtyShell& operator=(const PtyShell&) = delete;

    // Forks the child on a new pty of COLS×ROWS. False with *ERROR set when it cannot.
    bool start(const std::string& state_root, int cols, int rows, std::string* error) {
        // Everything the child needs is built before fork(): after it, in a threaded process, the
        // child may only call async-signal-safe functions until execve.
        std::string bin = isolab_binary();
        std::vector<std::string> args = {bin, "exec", "-it", container_, "sh"};
        std::vector<std::string> env;
        for (char** e = environ; e && *e; ++e) {
            std::string_view kv(*e);
            if (kv.rfind("TERM=", 0) == 0 || kv.rfind("COLUMNS=", 0) == 0 || kv.rfind("LINES=", 0) == 0) continue;
            if (!state_root.empty() && kv.rfind("ISOLAB_ROOT=", 0) == 0) continue;
            env.emplace_back(kv);
        }
        // A dumb terminal: programs then keep to plain text, which is all the box can show.
        env.push_back("TERM=dumb");
        if (!state_root.empty()) env.push_back("ISOLAB_ROOT=" + state_root);
        std::vector<char*> argv, envp;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        for (auto& e : env) envp.push_back(e.data());
        envp.push_back(nullptr);
        std::string failed = "isolab-gui: cannot run `" + bin + "`\r\n";

        struct winsize ws{};
        ws.ws_col = static_cast<unsigned short>(std::clamp(cols, 20, 500));
        ws.ws_row = static_cast<unsigned short>(std::clamp(rows, 5, 300));
        int master = -1;
        pid_t pid = ::forkpty(&master, nullptr, nullptr, &ws);
        if (pid < 0) {
            *error = std::string("forkpty: ") + std::strerror(errno);
            return false;
        }
        if (pid == 0) {
            // The child: the pty slave is its stdin/stdout/stderr and controlling terminal. The
            // window's own descriptors (X11 socket, GL, pipes of other jobs) must not leak into
            // the container's shell.
            ::close_range(3, ~0U, 0);
            ::execve(argv[0], argv.data(), envp.data());
            ssize_t ignored = ::write(1, failed.data(), failed.size());
            (void)ignored;
            ::_exit(127);
        }
        ::fcntl(master, F_SETFD, FD_CLOEXEC);
        ::fcntl(master, F_SETFL, ::fcntl(master, F_GETFL) | O_NONBLOCK);
        master_ = master;
        pid_ = pid;
        cols_ = ws.ws_col;
        rows_ = ws.ws_row;
        reader_ = std::thread([this] { read_loop(); });
        return true;
    }

    // Bytes typed by the learner. Dropped when the pty cannot take more (a stuck program).
    void write(std::string_view bytes) {
        std::lock_guard<std::mutex> l(mu_);
        if (master_ < 0) return;
        while (!bytes.empty()) {
            ssize_t n = ::write(master_, bytes.data(), bytes.size());
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            bytes.remove_prefix(static_cast<size_t>(n));
        }
    }

    void resize(int cols, int rows) {
        cols = std::clamp(cols, 20, 500);
        rows = std::clamp(rows, 5, 300);
        std::lock_guard<std::mutex> l(mu_);
        if (master_ < 0 || (cols == cols_ && rows == rows_)) return;
        struct winsize ws{};
        ws.ws_col = static_cast<unsigned short>(cols);
        ws.ws_row = static_cast<unsigned short>(rows);
        ::ioctl(master_, TIOCSWINSZ, &ws);  // the kernel tells the foreground group (SIGWINCH)
        cols_ = cols;
        rows_ = rows;
    }

    // Hangs up: SIGHUP to the child's session now, SIGKILL from the reader after 2 s.
    void request_close() {
        std::lock_guard<std::mutex> l(mu_);
        if (reaped_ || closing_ || pid_ <= 0) return;
        closing_ = true;
        close_at_ = monotonic_ms();
        // forkpty made the child a session (and process group) leader: -pid reaches its group.
        ::kill(-pid_, SIGHUP);
        ::kill(pid_, SIGHUP);
    }

    bool finished() const { return finished_.load(); }
    int exit_code() const {
        std::lock_guard<std::mutex> l(mu_);
        return exit_code_;
    }
    uint64_t version() const { return version_.load(); }
    std::string text() const {
        std::lock_guard<std::mutex> l(mu_);
        return screen_.text();
    }
    const std::string& container() const { return container_; }

private:
    // Reads the master until the slave side is gone and the child is reaped. The pid is only ever
    // signalled under mu_ while not yet reaped, so a reused pid is never hit.
    void read_loop() {
        char buf[8192];
        bool eof = false;
        int quiet_after_reap = 0;
        for (;;) {
            if (!eof) {
                pollfd p{master_, POLLIN, 0};
                int r = ::poll(&p, 1, 100);
                if (r > 0) {
                    ssize_t n = ::read(master_, buf, sizeof buf);
                    if (n > 0) {
                        {
                            std::lock_guard<std::mutex> l(mu_);
                            screen_.feed(std::string_view(buf, static_cast<size_t>(n)));
                        }
                        ++version_;
                        if (wake_) wake_();
                        quiet_after_reap = 0;
                        continue;
                    }
                    // EIO: every slave descriptor is closed (the shell and exec are gone).
                    if (n == 0 || (errno != EINTR && errno != EAGAIN)) eof = true;
                }
            } else {
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
            std::lock_guard<std::mutex> l(mu_);
            if (!reaped_) {
                int status = 0;
                if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                    reaped_ = true;
                    exit_code_ = exit_code_of(status);
                } else if (closing_ && monotonic_ms() > close_at_ + 2000) {
                    ::kill(-pid_, SIGKILL);
                    ::kill(pid_, SIGKILL);
                }
            }
            // After the child is reaped, read what is left; a grandchild holding the slave open
            // must not keep the thread alive.
            if (reaped_ && (eof || ++quiet_after_reap > 3)) break;
        }
        {
            std::lock_guard<std::mutex> l(mu_);
            ::close(master_);
            master_ = -1;
        }
        finished_ = true;
        if (wake_) wake_();
    }

    std::string container_;
    std::function<void()> wake_;
    mutable std::mutex mu_;
    int master_ = -1;
    pid_t pid_ = -1;
    int cols_ = 0, rows_ = 0;
    bool closing_ = false, reaped_ = false;
    double close_at_ = 0;
    int exit_code_ = 0;
    view::TermText screen_{kShellTextBytes};
    std::atomic<uint64_t> version_{0};
    std::atomic<bool> finished_{false};
    std::thread reader_;
};

// Up/Down in an InputText walk a CommandHistory (USERDATA).
int history_callback(ImGuiInputTextCallbackData* d) {
    if (d->EventFlag != ImGuiInputTextFlags_CallbackHistory) return 0;
    auto* h = static_cast<view::CommandHistory*>(d->UserData);
    std::optional<std::string> next;
    if (d->EventKey == ImGuiKey_UpArrow) next = h->older(std::string(d->Buf, static_cast<size_t>(d->BufTextLen)));
    else if (d->EventKey == ImGuiKey_DownArrow) next = h->newer();
    if (next) {
        d->DeleteChars(0, d->BufTextLen);
        d->InsertChars(0, next->c_str());
    }
    return 0;
}

class TerminalView final : public View {
public:
    const char* id() const override { return "terminal"; }
    const char* title_key() const override { return "gui.tab.terminal"; }

    ~TerminalView() override = default;  // shells close and join in their destructors

    void draw(App& app) override {
        run_demo(app);
        // Shells being closed are dropped once their reader has reaped the child.
        closing_.erase(std::remove_if(closing_.begin(), closing_.end(), [](const auto& s) { return s->finished(); }),
                       closing_.end());
        const float line = ImGui::GetTextLineHeightWithSpacing();
        const float avail = ImGui::GetContentRegionAvail().y;
        // With a shell open both halves share the tab; otherwise the shell part is one short block.
        float shell_h = shell_ ? avail * 0.48f : line * 4.2f + ImGui::GetStyle().ItemSpacing.y * 2;
        float commands_h = std::max(avail - shell_h - ImGui::GetStyle().ItemSpacing.y, line * 6);
        ImGui::BeginChild("commands", ImVec2(0, commands_h), false);
        draw_commands(app);
        ImGui::EndChild();
        ImGui::Separator();
        ImGui::BeginChild("shell", ImVec2(0, 0), false);
        draw_shell(app);
        ImGui::EndChild();
    }

private:
    // ---- the command line ----

    void submit(App& app, const std::string& line) {
        history_.add(line);
        switch (view::classify_terminal_line(line)) {
        case view::TerminalLine::Empty:
            return;
        case view::TerminalLine::Clear:
            scrollback_.clear();
            clean_.clear();
            return;
        case view::TerminalLine::Command:
            break;
        }
        scrollback_.push_back(app.jobs().submit(line, "terminal"));
        if (scrollback_.size() > kScrollbackEntries) {
            clean_.erase(scrollback_.front());
            scrollback_.erase(scrollback_.begin());
        }
        stick_to_bottom_ = true;
    }

    void run_demo(App& app) {
        if (demo_done_) return;
        demo_done_ = true;
        if (const char* d = std::getenv("ISOLAB_GUI_TERMINAL_DEMO"); d && *d)
            for (const auto& l : view::split_demo_lines(d)) submit(app, l);
        if (const char* s = std::getenv("ISOLAB_GUI_SHELL_DEMO"); s && *s) shell_demo_ = view::split_demo_lines(s);
    }

    // The printable text of job J's output: escapes stripped, the last kOutputTailBytes only.
    // Cached per job and recomputed only when the output grew.
    struct Clean {
        size_t raw_size = SIZE_MAX;
        std::string text;
        size_t hidden = 0;  // bytes of older output left out
    };
    const Clean& clean_output(const Job& j) {
        Clean& c = clean_[j.id];
        if (c.raw_size == j.output.size()) return c;
        c.raw_size = j.output.size();
        bool cut = false;
        std::string_view tail = view::tail_for_display(j.output, kOutputTailBytes, &cut);
        c.hidden = cut ? j.output.size() - tail.size() : 0;
        c.text = view::plain_terminal_text(tail);
        while (!c.text.empty() && c.text.back() == '\n') c.text.pop_back();
        return c;
    }

    void draw_commands(App& app) {
        const Palette pal = palette(app);
        ImGui::PushTextWrapPos(0);
        ImGui::TextDisabled("%s", T("gui.terminal.intro"));
        ImGui::PopTextWrapPos();
        // Examples fill the input line (they do not run: the learner presses Enter).
        ImGui::AlignTextToFramePadding();
        ImGui::TextUnformatted(T("gui.terminal.try"));
        // The buttons flow like words: a button that does not fit starts a new line.
        const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
        for (const std::string& example : view::terminal_examples()) {
            const char* ex = example.c_str();
            float w = ImGui::CalcTextSize(ex).x + ImGui::GetStyle().FramePadding.x * 2;
            if (ImGui::GetItemRectMax().x + ImGui::GetStyle().ItemSpacing.x + w <= right) ImGui::SameLine();
            if (ImGui::SmallButton(ex)) {
                std::snprintf(input_, sizeof input_, "%s", ex);
                focus_input_ = true;
            }
        }

        const float line = ImGui::GetTextLineHeightWithSpacing();
        const float input_h = ImGui::GetFrameHeightWithSpacing();
        ImGui::BeginChild("scrollback", ImVec2(0, std::max(ImGui::GetContentRegionAvail().y - input_h, line * 3)), true,
                          ImGuiWindowFlags_HorizontalScrollbar);
        if (app.mono_font()) ImGui::PushFont(app.mono_font());
        auto jobs = app.jobs().list();
        std::map<int, const Job*> by_id;
        for (const auto& j : jobs) by_id[j.id] = &j;
        size_t total = 0;
        if (scrollback_.empty()) ImGui::TextDisabled("%s", T("gui.terminal.empty"));
        for (int id : scrollback_) {
            auto it = by_id.find(id);
            if (it == by_id.end()) continue;  // older than the job list keeps
            const Job& j = *it->second;
            ImGui::PushID(id);
            ImGui::TextColored(pal.prompt, "$");
            ImGui::SameLine();
            ImGui::TextUnformatted(j.command.c_str());
            ImGui::SameLine();
            if (!j.done) {
                char secs[32];
                std::snprintf(secs, sizeof secs, "%.1f", (monotonic_ms() - j.started_ms) / 1000.0);
                ImGui::TextColored(pal.busy, "... %s", i18n::trf("gui.terminal.running", {secs}).c_str());
            } else {
                ImGui::TextColored(j.exit_code == 0 ? pal.ok : pal.fail, "[%s]",
                                   i18n::trf("gui.terminal.exit", {std::to_string(j.exit_code)}).c_str());
            }
            const Clean& c = clean_output(j);
            total += j.output.size() + 1;
            if (c.hidden > 0)
                ImGui::TextDisabled("%s", i18n::trf("gui.terminal.cut", {view::human_bytes(static_cast<int64_t>(c.hidden))}).c_str());
            if (!c.text.empty()) ImGui::TextUnformatted(c.text.c_str(), c.text.c_str() + c.text.size());
            ImGui::Spacing();
            ImGui::PopID();
        }
        // Follow new output while the learner is at the bottom (or just pressed Enter).
        bool at_bottom = ImGui::GetScrollY() >= ImGui::GetScrollMaxY() - line;
        if (total != last_total_ && (at_bottom || stick_to_bottom_)) ImGui::SetScrollHereY(1.0f);
        if (total != last_total_) stick_to_bottom_ = false;
        last_total_ = total;
        if (app.mono_font()) ImGui::PopFont();
        ImGui::EndChild();

        // The input line: Enter runs, Up/Down recall, focus stays here after Enter.
        if (app.mono_font()) ImGui::PushFont(app.mono_font());
        ImGui::AlignTextToFramePadding();
        ImGui::TextColored(pal.prompt, "$ isolab");
        ImGui::SameLine();
        float buttons = ImGui::CalcTextSize(T("gui.terminal.run")).x + ImGui::CalcTextSize(T("gui.terminal.clear")).x +
                        ImGui::GetStyle().FramePadding.x * 4 + ImGui::GetStyle().ItemSpacing.x * 2;
        ImGui::SetNextItemWidth(std::max(ImGui::GetContentRegionAvail().x - buttons, line * 6));
        if (focus_input_) {
            ImGui::SetKeyboardFocusHere();
            focus_input_ = false;
            app.focus_text_soon();  // what is typed before the line has the keyboard waits for it
        }
        bool entered = ImGui::InputTextWithHint("##cmd", T("gui.terminal.hint"), input_, sizeof input_,
                                        ImGuiInputTextFlags_EnterReturnsTrue | ImGuiInputTextFlags_CallbackHistory,
                                        history_callback, &history_);
        if (entered) ImGui::SetKeyboardFocusHere(-1);
        if (app.mono_font()) ImGui::PopFont();
        ImGui::SameLine();
        if (ImGui::Button(T("gui.terminal.run"))) {
            entered = true;
            focus_input_ = true;
        }
        ImGui::SameLine();
        if (ImGui::Button(T("gui.terminal.clear"))) {
            scrollback_.clear();
            clean_.clear();
        }
        if (entered) {
            std::string line_text = input_;
            input_[0] = '\0';
            submit(app, line_text);
        }
    }

    // ---- the shell in a container ----

    // The container the "Open a shell" button means: the selected one when it runs, else the one
    // picked in the combo, else the first running one. "" when none runs.
    std::string shell_target(const view::WorldSnapshot* w, const App& app, std::vector<std::string>* running) {
        if (!w) return "";
        for (const auto& c : w->containers)
            if (c.rec.state == ContainerState::Running && c.rec.backend != Backend::Simulated) running->push_back(c.rec.name);
        auto runs = [&](const std::string& n) { return std::find(running->begin(), running->end(), n) != running->end(); };
        if (!app.selected_container.empty() && runs(app.selected_container)) return app.selected_container;
        if (!picked_.empty() && runs(picked_)) return picked_;
        return running->empty() ? "" : running->front();
    }

    void open_shell(App& app, const std::string& name) {
        if (shell_) close_shell();
        shell_error_.clear();
        auto s = std::make_unique<PtyShell>(name, [&app] { app.wake(); });
        std::string error;
        if (!s->start(app.state_root(), pty_cols_ > 0 ? pty_cols_ : 80, pty_rows_ > 0 ? pty_rows_ : 24, &error)) {
            shell_error_ = error;
            return;
        }
        shell_ = std::move(s);
        shell_version_ = UINT64_MAX;
        shell_text_.clear();
        focus_shell_ = true;
        // Typing may start before the next frame draws the input line: hold it from now on.
        app.focus_text_soon();
    }

    void close_shell() {
        if (!shell_) return;
        shell_->request_close();
        closing_.push_back(std::move(shell_));
    }

    void draw_shell(App& app) {
        const Palette pal = palette(app);
        auto w = app.world();
        std::vector<std::string> running;
        std::string target = shell_target(w.get(), app, &running);

        if (!shell_demo_.empty() && !shell_ && !target.empty()) {
            open_shell(app, target);
            if (shell_) {
                std::string typed;
                for (const auto& l : shell_demo_) typed += l + "\n";
                shell_->write(typed);
            }
            shell_demo_.clear();
        }

        ImGui::TextUnformatted(T("gui.terminal.shell_title"));
        ImGui::SameLine();
        help_marker(T("gui.terminal.shell_intro"));

        if (!shell_) {
            if (running.empty()) {
                ImGui::PushTextWrapPos(0);
                ImGui::TextDisabled("%s", T("gui.terminal.no_running"));
                ImGui::PopTextWrapPos();
            } else {
                if (running.size() > 1) {
                    ImGui::AlignTextToFramePadding();
                    ImGui::TextUnformatted(T("gui.terminal.container"));
                    ImGui::SameLine();
                    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 12);
                    if (ImGui::BeginCombo("##target", target.c_str())) {
                        for (const auto& n : running) {
                            ImGui::PushID(n.c_str());
                            if (ImGui::Selectable(n.c_str(), n == target)) {
                                picked_ = n;
                                app.selected_container = n;
                            }
                            ImGui::PopID();
                        }
                        ImGui::EndCombo();
                    }
                    ImGui::SameLine();
                }
                if (ImGui::Button(i18n::trf("gui.terminal.open_shell", {target}).c_str())) open_shell(app, target);
                ImGui::SameLine();
                if (app.mono_font()) ImGui::PushFont(app.mono_font());
                ImGui::TextDisabled("$ isolab exec -it %s sh", target.c_str());
                if (app.mono_font()) ImGui::PopFont();
            }
            if (!shell_error_.empty())
                ImGui::TextColored(pal.fail, "%s", i18n::trf("gui.terminal.shell_error", {shell_error_}).c_str());
            return;
        }

        // Header: where the shell runs, its state, the keys a terminal would have.
        const bool ended = shell_->finished();
        ImGui::AlignTextToFramePadding();
        if (app.mono_font()) ImGui::PushFont(app.mono_font());
        ImGui::TextColored(pal.prompt, "$ isolab exec -it %s sh", shell_->container().c_str());
        if (app.mono_font()) ImGui::PopFont();
        ImGui::SameLine();
        if (ended)
            ImGui::TextColored(shell_->exit_code() == 0 ? pal.ok : pal.fail, "%s",
                               i18n::trf("gui.terminal.shell_ended", {std::to_string(shell_->exit_code())}).c_str());
        else
            ImGui::TextColored(pal.ok, "%s", T("gui.terminal.shell_running"));
        // The keys go on the same line when they fit.
        const ImGuiStyle& style = ImGui::GetStyle();
        float keys_w = style.ItemSpacing.x * 4;
        for (const char* k : {"gui.terminal.ctrl_c", "gui.terminal.ctrl_d", "gui.terminal.open_again", "gui.terminal.close_shell"})
            keys_w += ImGui::CalcTextSize(T(k)).x + style.FramePadding.x * 2;
        if (ImGui::GetItemRectMax().x + keys_w <= ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x)
            ImGui::SameLine();
        ImGui::BeginDisabled(ended);
        if (ImGui::Button(T("gui.terminal.ctrl_c"))) {
            shell_->write("\x03");
            focus_shell_ = true;
        }
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", T("gui.terminal.ctrl_c_tip"));
        ImGui::SameLine();
        if (ImGui::Button(T("gui.terminal.ctrl_d"))) {
            shell_->write("\x04");
            focus_shell_ = true;
        }
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", T("gui.terminal.ctrl_d_tip"));
        ImGui::EndDisabled();
        ImGui::SameLine();
        if (ended) {
            std::string again = shell_->container();
            if (ImGui::Button(T("gui.terminal.open_again"))) {
                open_shell(app, again);
                return;
            }
            ImGui::SameLine();
        }
        if (ImGui::Button(T("gui.terminal.close_shell"))) {
            close_shell();
            return;
        }

        // The screen: plain text, following the output.
        const float line = ImGui::GetTextLineHeightWithSpacing();
        const float input_h = ImGui::GetFrameHeightWithSpacing();
        ImVec2 box(0, std::max(ImGui::GetContentRegionAvail().y - input_h, line * 3));
        if (app.mono_font()) ImGui::PushFont(app.mono_font());
        ImGui::PushStyleColor(ImGuiCol_ChildBg, app.presenter() ? ImVec4(1, 1, 1, 1) : ImVec4(0.05f, 0.05f, 0.06f, 1));
        ImGui::BeginChild("screen", box, true, ImGuiWindowFlags_HorizontalScrollbar);
        // The pty's size follows the box, so that programs wrap where the box does.
        ImVec2 inner = ImGui::GetContentRegionAvail();
        float cw = std::max(ImGui::CalcTextSize("M").x, 1.0f);
        pty_cols_ = static_cast<int>(inner.x / cw);
        pty_rows_ = static_cast<int>(inner.y / std::max(ImGui::GetTextLineHeight(), 1.0f));
        shell_->resize(pty_cols_, pty_rows_);
        uint64_t v = shell_->version();
        bool grew = v != shell_version_;
        if (grew) {
            shell_text_ = shell_->text();
            shell_version_ = v;
        }
        ImGui::TextUnformatted(shell_text_.c_str(), shell_text_.c_str() + shell_text_.size());
        if (grew && ImGui::GetScrollY() >= ImGui::GetScrollMaxY() - line * 3) ImGui::SetScrollHereY(1.0f);
        ImGui::EndChild();
        ImGui::PopStyleColor();

        // The input line: its text and a newline go to the shell.
        ImGui::BeginDisabled(ended);
        ImGui::AlignTextToFramePadding();
        ImGui::TextColored(pal.prompt, ">");
        ImGui::SameLine();
        float send_w = ImGui::CalcTextSize(T("gui.terminal.send")).x + ImGui::GetStyle().FramePadding.x * 2 +
                       ImGui::GetStyle().ItemSpacing.x;
        ImGui::SetNextItemWidth(std::max(ImGui::GetContentRegionAvail().x - send_w, line * 6));
        if (focus_shell_ && !ended) {
            ImGui::SetKeyboardFocusHere();
            focus_shell_ = false;
            app.focus_text_soon();  // the first letter typed into a new shell waits for the line
        }
        bool entered = ImGui::InputTextWithHint("##shell", T("gui.terminal.shell_hint"), shell_input_, sizeof shell_input_,
                                        ImGuiInputTextFlags_EnterReturnsTrue | ImGuiInputTextFlags_CallbackHistory,
                                        history_callback, &shell_history_);
        if (entered) ImGui::SetKeyboardFocusHere(-1);
        if (app.mono_font()) ImGui::PopFont();
        ImGui::SameLine();
        if (ImGui::Button(T("gui.terminal.send"))) {
            entered = true;
            focus_shell_ = true;
        }
        ImGui::EndDisabled();
        if (entered && !ended) {
            std::string typed = shell_input_;
            shell_history_.add(typed);
            shell_input_[0] = '\0';
            shell_->write(typed + "\n");
        }
    }

    // Command line.
    std::vector<int> scrollback_;           // job ids typed here since the last `clear`, oldest first
    std::map<int, Clean> clean_;            // printable output per job id
    view::CommandHistory history_;
    char input_[1024] = "";
    bool focus_input_ = false;              // not on arrival: PageUp/PageDown keep switching tabs
    bool stick_to_bottom_ = false;
    size_t last_total_ = 0;
    bool demo_done_ = false;
    // Shell.
    std::unique_ptr<PtyShell> shell_;
    std::vector<std::unique_ptr<PtyShell>> closing_;
    std::string shell_error_;
    std::string picked_;                    // the combo's choice when nothing runs selected
    std::string shell_text_;
    uint64_t shell_version_ = UINT64_MAX;
    view::CommandHistory shell_history_;
    char shell_input_[1024] = "";
    bool focus_shell_ = false;
    int pty_cols_ = 0, pty_rows_ = 0;
    std::vector<std::string> shell_demo_;
};

}  // namespace

std::unique_ptr<View> make_terminal_view() { return std::make_unique<TerminalView>(); }

}  // namespace isolab::gui
