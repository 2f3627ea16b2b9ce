#include "app/gui/step_player.hpp"

#include <imgui.h>

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "app/gui/app.hpp"
#include "app/gui/lesson_markup.hpp"
#include "app/gui/lesson_stage.hpp"
#include "app/gui/view.hpp"
#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/core/i18n.hpp"
#include "sim/engine/engine.hpp"
#include "sim/lesson/allowlist.hpp"
#include "sim/lesson/checks.hpp"
#include "sim/lesson/stage.hpp"
#include "sim/vm/vm_manager.hpp"

namespace isolab::gui {

using namespace isolab::lesson;
using namespace lesson_ui;

// ---- the check worker: one thread on the window's engine, evaluating the current step's check.

class CheckWorker {
public:
    CheckWorker(std::string root, std::shared_ptr<Engine> engine, std::string engine_error, std::function<void()> wake)
        : root_(std::move(root)), engine_(std::move(engine)), engine_error_(std::move(engine_error)), wake_(std::move(wake)) {
        thread_ = std::thread([this] { loop(); });
    }
    ~CheckWorker() {
        {
            std::lock_guard<std::mutex> l(mu_);
            stop_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }
    // Asks for an evaluation (ignored while one is running).
    void request(const nlohmann::json& check, uint64_t events_from, int tag) {
        std::lock_guard<std::mutex> l(mu_);
        if (busy_) return;
        check_ = check;
        from_ = events_from;
        tag_ = tag;
        busy_ = true;
        cv_.notify_all();
    }
    // The newest result for TAG, once.
    std::optional<CheckResult> take(int tag) {
        std::lock_guard<std::mutex> l(mu_);
        if (!result_ || result_tag_ != tag) return std::nullopt;
        auto r = result_;
        result_.reset();
        return r;
    }
    bool busy() const {
        std::lock_guard<std::mutex> l(mu_);
        return busy_;
    }

private:
    void loop() {
        vm::VmManager vms(root_);
        std::unique_lock<std::mutex> l(mu_);
        while (!stop_) {
            cv_.wait(l, [&] { return stop_ || busy_; });
            if (stop_) break;
            nlohmann::json check = check_;
            uint64_t from = from_;
            int tag = tag_;
            l.unlock();
            CheckResult r;
            if (!engine_) r = {false, engine_error_};
            else r = evaluate(check, CheckContext{engine_.get(), &vms, root_, from});
            l.lock();
            result_ = r;
            result_tag_ = tag;
            busy_ = false;
            if (wake_) wake_();
        }
    }
    std::string root_;
    std::shared_ptr<Engine> engine_;
    std::string engine_error_;
    std::function<void()> wake_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::thread thread_;
    bool stop_ = false, busy_ = false;
    nlohmann::json check_;
    uint64_t from_ = 0;
    int tag_ = 0, result_tag_ = -1;
    std::optional<CheckResult> result_;
};

// ---- the player

StepPlayer::StepPlayer(App& app, const LessonStage& stage, bool& study_group)
    : app_(app), stage_(stage), group_(study_group),
      checks_(std::make_unique<CheckWorker>(app.state_root(), app.engine(), app.engine_error(), [&app] { app.wake(); })) {}

StepPlayer::~StepPlayer() = default;

void StepPlayer::start(const Lesson& l, ProgressStore* progress) {
    player_ = std::make_unique<Player>(l, wanted_mode(), progress, app_.state_root());
    summary_ = false;
    shown_index_ = -1;
}

void StepPlayer::stop() {
    player_.reset();
    summary_ = false;
    app_.highlight_target.clear();
}

void StepPlayer::restart() {
    if (!player_) return;
    player_->reset();
    summary_ = false;
    shown_index_ = -1;
}

Mode StepPlayer::wanted_mode() const {
    return app_.presenter() ? Mode::Presenter : group_ ? Mode::StudyGroup : Mode::SelfPaced;
}

bool StepPlayer::covers_stage() const {
    // On the projector the room must see the stage: there views hide only their results.
    return prediction_open() && player_->mode() != Mode::Presenter;
}

bool StepPlayer::prediction_open() const {
    if (!player_ || summary_ || !player_->step().predict) return false;
    const auto& st = player_->state();
    switch (player_->mode()) {
        case Mode::SelfPaced: return player_->prediction_needed();
        case Mode::StudyGroup: return player_->prediction_needed() || !st.revealed;
        case Mode::Presenter: return !st.action_ran && !player_->presenter_result_shown();
    }
    return false;
}

void StepPlayer::apply_highlight() {
    const auto& h = player_->step().highlight;
    app_.highlight_target = h.target;
    if (!h.view.empty()) app_.show_view(h.view);
    if (!h.container.empty()) app_.selected_container = h.container;
    if (!h.vm.empty()) app_.selected_vm = h.vm;
}

void StepPlayer::run_action() {
    if (!player_ || !player_->may_run_action() || stage_.busy()) return;
    const auto& a = player_->step().action;
    // The lesson's lines against the allow-list again, right before they run (its folder may
    // have changed since it was loaded); the vetted words run, not the file's text. One
    // refused line and nothing of the action runs.
    std::vector<JobLine> lines;
    const LessonPlace place = place_of(player_->lesson().file);
    for (const auto& line : a.run) {
        auto vetted = vet_command(line, place);
        if (!vetted.ok()) {
            refusal_ = i18n::trf("lesson.refused", {vetted.refusal->translated()});
            return;
        }
        lines.push_back({line, std::move(vetted.argv)});
    }
    refusal_.clear();
    player_->action_started();
    if (a.race) {
        race_action_ = true;
        race_seen_ = app_.races_finished();
        app_.request_race();
    } else {
        action_jobs_ = app_.jobs().submit_words(lines, "lesson", tree_dir());
        shown_jobs_ = action_jobs_;
    }
    last_check_ms_ = 0;
}

void StepPlayer::update() {
    if (!player_) return;
    player_->set_mode(wanted_mode());
    if (shown_index_ != player_->index()) {
        shown_index_ = player_->index();
        apply_highlight();
        quiz_pick_.assign(player_->step().quiz.choices.size(), false);
        quiz_answered_ = false;
        action_jobs_.clear();
        shown_jobs_.clear();
        refusal_.clear();
        race_action_ = false;
        ++check_tag_;
        last_check_ms_ = 0;
    }
    // The action's jobs.
    if (!action_jobs_.empty()) {
        for (const auto& j : app_.jobs().list())
            if (j.id == action_jobs_.back() && j.done) {
                player_->action_finished(j.exit_code);
                action_jobs_.clear();
                last_check_ms_ = 0;
            }
    }
    if (race_action_ && app_.races_finished() != race_seen_) {
        race_action_ = false;
        player_->action_finished(0);
        last_check_ms_ = 0;
    }
    // The check: evaluated about once a second while not green, on the worker.
    const auto& s = player_->step();
    if (auto r = checks_->take(check_tag_)) player_->check_result(r->ok, r->detail);
    if (!s.check.empty() && !player_->state().check_ok && monotonic_ms() - last_check_ms_ > 1000 && !checks_->busy()) {
        last_check_ms_ = monotonic_ms();
        checks_->request(s.check.spec, player_->events_from(), check_tag_);
    }
    if (app_.presenter()) write_presenter_file();
}

bool StepPlayer::wants_refresh() const {
    if (!player_) return false;
    return (!player_->step().check.empty() && !player_->state().check_ok) || player_->state().action_running ||
           player_->mode() == Mode::StudyGroup;
}

// ---- presenter ----
void StepPlayer::click() {
    if (!player_) return;
    if (summary_) return;
    auto c = player_->next_click();
    if (c == Player::Click::RunAction) {
        run_action();
        return;
    }
    if (c == Player::Click::Nothing) return;
    c = player_->click();
    if (c == Player::Click::Finished) summary_ = true;
}

void StepPlayer::back() {
    if (!player_) return;
    if (summary_) {
        summary_ = false;
        return;
    }
    player_->prev();
}

std::string StepPlayer::click_text() const {
    if (!player_) return "";
    if (summary_) return trs("gui.lesson.click.done");
    const auto& s = player_->step();
    switch (player_->next_click()) {
        case Player::Click::RunAction:
            return i18n::trf("gui.lesson.click.run", {s.action.race ? "isolab race" : s.action.run.front()});
        case Player::Click::Nothing: return trs("gui.lesson.click.wait");
        case Player::Click::ShowResult: return trs("gui.lesson.click.result");
        case Player::Click::NextStep: return trs("gui.lesson.click.next");
        case Player::Click::Finished: return trs("gui.lesson.click.finish");
    }
    return "";
}

void StepPlayer::write_presenter_file() {
    nlohmann::json j = {{"lesson", player_->lesson().id},
                        {"step", player_->index()},
                        {"summary", summary_},
                        {"next_click", click_text()},
                        {"result_shown", player_->presenter_result_shown() || player_->state().action_ran},
                        {"check_ok", player_->state().check_ok},
                        {"lang", i18n::language_code(i18n::language())},
                        {"started_ms", player_->state().started_ms}};
    std::string d = j.dump();
    if (d == presenter_digest_) return;
    presenter_digest_ = d;
    (void)write_file_atomic(app_.state_root() + "/lesson-presenter.json", d + "\n");
}

void StepPlayer::draw_step_dots() {
    float r = ImGui::GetFontSize() * 0.45f;
    ImDrawList* dl = ImGui::GetWindowDrawList();
    for (int i = 0; i < player_->count(); ++i) {
        ImGui::PushID(i);
        ImVec2 p = ImGui::GetCursorScreenPos();
        if (ImGui::InvisibleButton("dot", ImVec2(r * 2.4f, r * 2.4f)) && !app_.presenter()) player_->go(i);
        if (ImGui::IsItemHovered())
            ImGui::SetTooltip("%d. %s", i + 1, player_->lesson().steps[static_cast<size_t>(i)].title.get(korean()).c_str());
        ImVec2 c(p.x + r * 1.2f, p.y + r * 1.2f);
        bool done = player_->step_done(i), cur = i == player_->index();
        ImVec4 undone = muted();
        undone.w = 0.45f;
        ImU32 col = ImGui::ColorConvertFloat4ToU32(done ? green() : undone);
        dl->AddCircleFilled(c, r, col);
        if (cur) dl->AddCircle(c, r + 2, ImGui::ColorConvertFloat4ToU32(accent()), 0, 2.5f);
        ImGui::SameLine(0, r * 0.3f);
        ImGui::PopID();
    }
    ImGui::NewLine();
}

void StepPlayer::draw_prediction(float width) {
    const auto& s = player_->step();
    if (!s.predict) return;
    const auto& st = player_->state();
    bool ko = korean();
    begin_card(IM_COL32(120, 90, 220, 255));
    ImGui::TextColored(accent(), "%s", T("gui.lesson.predict"));
    draw_markup(s.predict->question.get(ko), app_.mono_font(), width - ImGui::GetFontSize() * 1.5f);
    bool locked = player_->mode() == Mode::StudyGroup && st.revealed;
    for (size_t i = 0; i < s.predict->choices.size(); ++i) {
        ImGui::PushID(static_cast<int>(i));
        bool picked = st.prediction == static_cast<int>(i);
        ImGui::BeginDisabled(locked && !picked);
        if (ImGui::RadioButton("##p", picked) && !locked) player_->predict(static_cast<int>(i));
        ImGui::EndDisabled();
        ImGui::SameLine();
        draw_markup(s.predict->choices[i].get(ko), app_.mono_font(), width - ImGui::GetFontSize() * 3);
        ImGui::PopID();
    }
    if (player_->mode() == Mode::StudyGroup && !st.revealed) {
        ImGui::BeginDisabled(st.prediction < 0);
        if (ImGui::Button(T("gui.lesson.reveal"))) player_->reveal();
        ImGui::EndDisabled();
        ImGui::SameLine();
        ImGui::TextDisabled("%s", T("gui.lesson.reveal_tip"));
    }
    // After the observation: did the prediction hold?
    if (s.predict->answer >= 0 && st.prediction >= 0 && st.check_ok && player_->results_visible()) {
        bool held = st.prediction == s.predict->answer;
        ImGui::TextColored(held ? green() : red(), "%s", T(held ? "gui.lesson.predict_held" : "gui.lesson.predict_missed"));
        if (!held) {
            ImGui::SameLine();
            ImGui::TextWrapped("%s", s.predict->choices[static_cast<size_t>(s.predict->answer)].get(ko).c_str());
        }
    }
    end_card(IM_COL32(120, 90, 220, 255), width);
    if (player_->mode() == Mode::StudyGroup && st.revealed) {
        // Every prediction gets a discussion: the lesson's own prompt, else a general one.
        begin_card(IM_COL32(230, 170, 30, 255));
        ImGui::TextColored(accent(), "%s", T("gui.lesson.discuss"));
        draw_markup(s.discuss.empty() ? trs("gui.lesson.discuss_default") : s.discuss.get(ko), app_.mono_font(),
                    width - ImGui::GetFontSize() * 1.5f);
        end_card(IM_COL32(230, 170, 30, 255), width);
    }
}

// What the action printed (observe!): each command and the last lines of its output.
void StepPlayer::draw_action_output(float width, size_t max_lines) {
    if (shown_jobs_.empty()) return;
    auto jobs = app_.jobs().list();
    if (app_.mono_font()) ImGui::PushFont(app_.mono_font());
    ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + width);
    for (int id : shown_jobs_)
        for (const auto& j : jobs) {
            if (j.id != id) continue;
            ImVec4 c = !j.done ? accent() : j.exit_code == 0 ? green() : red();
            ImGui::TextColored(c, "%s $ %s", !j.done ? "…" : j.exit_code == 0 ? "✓" : "✗", j.command.c_str());
            std::vector<std::string> lines;
            size_t start = 0;
            while (start < j.output.size()) {
                size_t end = j.output.find('\n', start);
                if (end == std::string::npos) end = j.output.size();
                lines.push_back(j.output.substr(start, end - start));
                start = end + 1;
            }
            size_t from = lines.size() > max_lines ? lines.size() - max_lines : 0;
            if (from > 0) ImGui::TextDisabled("  … %zu", from);
            for (size_t i = from; i < lines.size(); ++i) ImGui::TextWrapped("  %s", lines[i].c_str());
        }
    ImGui::PopTextWrapPos();
    if (app_.mono_font()) ImGui::PopFont();
}

void StepPlayer::draw_action(float width) {
    const auto& s = player_->step();
    if (s.action.empty()) return;
    const auto& st = player_->state();
    begin_card(IM_COL32(40, 140, 220, 255));
    ImGui::TextColored(accent(), "%s", T(s.action.race ? "gui.lesson.action_race" : "gui.lesson.action"));
    if (app_.mono_font()) ImGui::PushFont(app_.mono_font());
    if (s.action.race) ImGui::TextUnformatted("$ isolab race");
    for (const auto& line : s.action.run) {
        ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + width - ImGui::GetFontSize() * 1.5f);
        ImGui::TextWrapped("$ %s", line.c_str());
        ImGui::PopTextWrapPos();
    }
    if (app_.mono_font()) ImGui::PopFont();
    bool can = player_->may_run_action() && !stage_.busy();
    ImGui::BeginDisabled(!can);
    const char* label = st.action_running ? T("gui.lesson.running") : st.action_ran ? T("gui.lesson.run_again") : T("gui.lesson.run");
    if (ImGui::Button(label)) run_action();
    ImGui::EndDisabled();
    ImGui::SameLine();
    if (stage_.busy()) ImGui::TextDisabled("%s", T("gui.lesson.stage_busy"));
    else if (player_->prediction_needed()) ImGui::TextDisabled("%s", T("gui.lesson.predict_first"));
    else if (player_->mode() == Mode::StudyGroup && s.predict && !st.revealed) ImGui::TextDisabled("%s", T("gui.lesson.reveal_first"));
    else if (!s.action.race) ImGui::TextDisabled("%s", T("gui.lesson.or_type"));
    if (st.action_ran && st.action_exit != s.action.expect_exit && s.check.empty())
        ImGui::TextColored(red(), "%s", i18n::trf("gui.lesson.exit_code", {std::to_string(st.action_exit)}).c_str());
    if (!refusal_.empty()) {
        ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + width - ImGui::GetFontSize() * 1.5f);
        ImGui::TextColored(red(), "%s", refusal_.c_str());
        ImGui::PopTextWrapPos();
    }
    draw_action_output(width - ImGui::GetFontSize() * 1.5f, 14);
    end_card(IM_COL32(40, 140, 220, 255), width);
}

void StepPlayer::draw_check_and_after(float width) {
    const auto& s = player_->step();
    const auto& st = player_->state();
    bool ko = korean();
    if (!player_->results_visible()) return;
    if (!s.check.empty()) {
        bool ok = st.check_ok || player_->step_done(player_->index());
        ImVec4 c = ok ? green() : muted();
        ImGui::TextColored(c, "%s %s", ok ? "●" : "○", T(ok ? "gui.lesson.check_ok" : "gui.lesson.check_wait"));
        if (!ok && !st.check_detail.empty()) {
            // What the check saw, in the engine's words: for the curious, not in the way.
            ImGui::SameLine();
            help_marker(st.check_detail.c_str());
        }
    }
    bool observed = s.check.empty() ? (s.action.empty() || st.action_ran) : st.check_ok;
    if (observed && !s.explain.empty()) {
        begin_card(IM_COL32(40, 170, 90, 255));
        ImGui::TextColored(accent(), "%s", T("gui.lesson.explain"));
        draw_markup(s.explain.get(ko), app_.mono_font(), width - ImGui::GetFontSize() * 1.5f);
        end_card(IM_COL32(40, 170, 90, 255), width);
    }
    if (observed && !s.quiz.empty()) draw_quiz(width, false);
}

void StepPlayer::draw_quiz(float width, bool reveal_answers) {
    const auto& q = player_->step().quiz;
    const auto& st = player_->state();
    bool ko = korean();
    begin_card(IM_COL32(200, 80, 120, 255));
    ImGui::TextColored(accent(), "%s%s", T("gui.lesson.quiz"), q.multiple ? T("gui.lesson.quiz_multiple") : "");
    draw_markup(q.question.get(ko), app_.mono_font(), width - ImGui::GetFontSize() * 1.5f);
    if (quiz_pick_.size() != q.choices.size()) quiz_pick_.assign(q.choices.size(), false);
    for (size_t i = 0; i < q.choices.size(); ++i) {
        ImGui::PushID(static_cast<int>(i));
        bool picked = quiz_pick_[i];
        if (reveal_answers) {
            ImGui::TextColored(q.choices[i].correct ? green() : muted(), "%s", q.choices[i].correct ? "✓" : "·");
        } else if (q.multiple) {
            if (ImGui::Checkbox("##q", &picked)) quiz_pick_[i] = picked, quiz_answered_ = false;
        } else if (ImGui::RadioButton("##q", picked)) {
            std::fill(quiz_pick_.begin(), quiz_pick_.end(), false);
            quiz_pick_[i] = true;
            quiz_answered_ = false;
        }
        ImGui::SameLine();
        draw_markup(q.choices[i].text.get(ko), app_.mono_font(), width - ImGui::GetFontSize() * 3);
        bool show_why = reveal_answers ? q.choices[i].correct : (quiz_answered_ && quiz_pick_[i]);
        if (show_why) {
            ImGui::Indent(ImGui::GetFontSize() * 1.8f);
            ImGui::PushStyleColor(ImGuiCol_Text, q.choices[i].correct ? green() : red());
            draw_markup(q.choices[i].why.get(ko), app_.mono_font(), width - ImGui::GetFontSize() * 4);
            ImGui::PopStyleColor();
            ImGui::Unindent(ImGui::GetFontSize() * 1.8f);
        }
        ImGui::PopID();
    }
    if (!reveal_answers) {
        bool any = std::find(quiz_pick_.begin(), quiz_pick_.end(), true) != quiz_pick_.end();
        ImGui::BeginDisabled(!any);
        if (ImGui::Button(T("gui.lesson.answer"))) {
            std::vector<int> picked;
            for (size_t i = 0; i < quiz_pick_.size(); ++i)
                if (quiz_pick_[i]) picked.push_back(static_cast<int>(i));
            player_->answer_quiz(picked);
            quiz_answered_ = true;
        }
        ImGui::EndDisabled();
        if (quiz_answered_ || st.quiz_ok) {
            ImGui::SameLine();
            ImGui::TextColored(st.quiz_ok ? green() : red(), "%s", T(st.quiz_ok ? "gui.lesson.quiz_right" : "gui.lesson.quiz_wrong"));
        }
    }
    end_card(IM_COL32(200, 80, 120, 255), width);
}

// The projector's quiz: question and lettered choices for the room; the press that shows the
// result marks the right ones and shows why.
void StepPlayer::draw_audience_quiz(float width, bool reveal) {
    const auto& q = player_->step().quiz;
    bool ko = korean();
    ImGui::TextColored(accent(), "%s%s", T("gui.lesson.quiz"), q.multiple ? T("gui.lesson.quiz_multiple") : "");
    ImGui::SameLine();
    ImGui::BeginGroup();
    draw_markup(q.question.get(ko), app_.mono_font(), width * 0.85f);
    for (size_t i = 0; i < q.choices.size(); ++i) {
        bool right = reveal && q.choices[i].correct;
        ImGui::TextColored(right ? green() : ImGui::GetStyleColorVec4(ImGuiCol_Text), "%s%c)", right ? "✓ " : "",
                           static_cast<char>('A' + i));
        ImGui::SameLine();
        ImGui::BeginGroup();
        draw_markup(q.choices[i].text.get(ko), app_.mono_font(), width * 0.8f);
        if (right) {
            ImGui::PushStyleColor(ImGuiCol_Text, green());
            draw_markup(q.choices[i].why.get(ko), app_.mono_font(), width * 0.8f);
            ImGui::PopStyleColor();
        }
        ImGui::EndGroup();
    }
    ImGui::EndGroup();
}

PlayerRequest StepPlayer::draw_summary(const Catalog& catalog) {
    PlayerRequest req;
    bool ko = korean();
    const auto& l = player_->lesson();
    if (app_.big_font()) ImGui::PushFont(app_.big_font());
    ImGui::TextColored(green(), "✓ %s", T("gui.lesson.complete"));
    if (app_.big_font()) ImGui::PopFont();
    ImGui::TextWrapped("%s", l.title.get(ko).c_str());
    ImGui::Spacing();
    ImGui::TextColored(accent(), "%s", T("gui.lesson.learned"));
    for (const auto& t : l.learned) {
        ImGui::TextUnformatted("✓");
        ImGui::SameLine();
        ImGui::BeginGroup();
        draw_markup(t.get(ko), app_.mono_font());
        ImGui::EndGroup();
    }
    ImGui::Spacing();
    if (ImGui::Button(T("gui.lesson.back_to_list"))) req.back_to_list = true;
    auto all = catalog.lessons();
    for (size_t i = 0; i + 1 < all.size(); ++i)
        if (all[i]->id == l.id) {
            ImGui::SameLine();
            std::string label = i18n::trf("gui.lesson.next_lesson", {all[i + 1]->title.get(ko)});
            if (ImGui::Button(label.c_str())) req.open = all[i + 1]->id;
        }
    return req;
}

PlayerRequest StepPlayer::draw(const Catalog& catalog) {
    if (!player_) return {};
    return draw_lesson(catalog);
}

PlayerRequest StepPlayer::draw_lesson(const Catalog& catalog) {
    bool ko = korean();
    const auto& l = player_->lesson();
    if (ImGui::SmallButton(T("gui.lesson.back_to_list"))) {
        PlayerRequest req;
        req.back_to_list = true;
        return req;
    }
    ImGui::SameLine();
    ImGui::TextDisabled("%s", l.title.get(ko).c_str());
    if (summary_) return draw_summary(catalog);
    if (!app_.presenter()) {
        if (ImGui::Checkbox(T("gui.lesson.group_mode"), &group_)) player_->set_mode(wanted_mode());
        if (player_->mode() == Mode::StudyGroup) {
            ImGui::SameLine();
            int secs = static_cast<int>(player_->step_seconds(monotonic_ms()));
            ImGui::TextColored(accent(), "%s", i18n::trf("gui.lesson.timer", {clock_text(secs)}).c_str());
            ImGui::SameLine();
            help_marker(T("gui.lesson.timer_tip"));
        }
    }
    draw_step_dots();
    const auto& s = player_->step();
    if (app_.big_font()) ImGui::PushFont(app_.big_font());
    ImGui::PushTextWrapPos(0);
    ImGui::TextWrapped("%d/%d  %s", player_->index() + 1, player_->count(), s.title.get(ko).c_str());
    ImGui::PopTextWrapPos();
    if (app_.big_font()) ImGui::PopFont();
    ImGui::BeginChild("step", ImVec2(0, -ImGui::GetFrameHeightWithSpacing() * 1.3f), false);
    float inner = ImGui::GetContentRegionAvail().x - ImGui::GetStyle().ScrollbarSize;
    draw_markup(s.text.get(ko), app_.mono_font(), inner);
    if (!s.highlight.view.empty()) {
        std::string key = "gui.tab." + s.highlight.view;
        std::string label = i18n::trf("gui.lesson.look_at", {T(key.c_str())});
        if (ImGui::SmallButton(label.c_str())) apply_highlight();
    }
    ImGui::Spacing();
    draw_prediction(inner);
    draw_action(inner);
    draw_check_and_after(inner);
    if (!s.hints.empty() && !player_->step_complete()) {
        int shown = player_->state().hints_shown;
        for (int i = 0; i < shown; ++i) {
            ImGui::TextColored(accent(), "%s", T("gui.lesson.hint"));
            ImGui::SameLine();
            ImGui::BeginGroup();
            draw_markup(s.hints[static_cast<size_t>(i)].get(ko), app_.mono_font(), inner - ImGui::GetFontSize() * 4);
            ImGui::EndGroup();
        }
        if (shown < static_cast<int>(s.hints.size())) {
            std::string label = i18n::trf("gui.lesson.show_hint", {std::to_string(shown + 1), std::to_string(s.hints.size())});
            if (ImGui::SmallButton(label.c_str())) player_->show_hint();
        }
    }
    ImGui::EndChild();
    // Footer: previous / next.
    ImGui::BeginDisabled(player_->index() == 0);
    if (ImGui::Button(T("gui.lesson.prev"))) player_->prev();
    ImGui::EndDisabled();
    ImGui::SameLine();
    bool last = player_->index() + 1 >= player_->count();
    ImGui::BeginDisabled(!player_->may_advance());
    if (ImGui::Button(T(last ? "gui.lesson.finish" : "gui.lesson.next"))) {
        if (last) {
            player_->next();
            summary_ = true;
        } else {
            player_->next();
        }
    }
    ImGui::EndDisabled();
    if (!player_->may_advance()) {
        ImGui::SameLine();
        const auto& st = player_->state();
        bool observed = s.check.empty() ? (s.action.empty() || st.action_ran) : st.check_ok;
        ImGui::TextDisabled("%s", T(!s.quiz.empty() && observed ? "gui.lesson.answer_first" : "gui.lesson.do_first"));
    }
    return {};
}

void StepPlayer::draw_banner() {
    if (!player_) return;
    bool ko = korean();
    const auto& l = player_->lesson();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    float width = ImGui::GetContentRegionAvail().x;
    ImDrawListSplitter splitter;
    splitter.Split(dl, 2);
    splitter.SetCurrentChannel(dl, 1);
    ImGui::BeginGroup();
    if (summary_) {
        if (app_.big_font()) ImGui::PushFont(app_.big_font());
        ImGui::TextColored(green(), "✓ %s — %s", l.title.get(ko).c_str(), T("gui.lesson.complete"));
        if (app_.big_font()) ImGui::PopFont();
        for (const auto& t : l.learned) {
            ImGui::TextUnformatted("✓");
            ImGui::SameLine();
            ImGui::BeginGroup();
            draw_markup(t.get(ko), app_.mono_font(), width * 0.9f);
            ImGui::EndGroup();
        }
    } else {
        const auto& s = player_->step();
        ImGui::TextDisabled("%s · %d/%d", l.title.get(ko).c_str(), player_->index() + 1, player_->count());
        ImGui::SameLine();
        draw_step_dots();
        if (app_.big_font()) ImGui::PushFont(app_.big_font());
        ImGui::TextUnformatted(s.title.get(ko).c_str());
        if (app_.big_font()) ImGui::PopFont();
        if (show_notes_inline) draw_markup(s.text.get(ko), app_.mono_font(), width * 0.95f);
        if (s.predict) {
            ImGui::TextColored(accent(), "%s", T("gui.lesson.predict"));
            ImGui::SameLine();
            ImGui::BeginGroup();
            draw_markup(s.predict->question.get(ko), app_.mono_font(), width * 0.8f);
            for (size_t i = 0; i < s.predict->choices.size(); ++i) {
                bool right = player_->results_visible() && player_->state().check_ok &&
                             s.predict->answer == static_cast<int>(i);
                ImGui::TextColored(right ? green() : ImGui::GetStyleColorVec4(ImGuiCol_Text), "%c)", static_cast<char>('A' + i));
                ImGui::SameLine();
                ImGui::BeginGroup();
                draw_markup(s.predict->choices[i].get(ko), app_.mono_font(), width * 0.75f);
                ImGui::EndGroup();
            }
            ImGui::EndGroup();
        }
        if (!s.action.empty()) {
            if (app_.mono_font()) ImGui::PushFont(app_.mono_font());
            const auto& st = player_->state();
            bool as_expected = st.action_exit == s.action.expect_exit;
            ImVec4 c = st.action_running ? accent() : !st.action_ran ? muted() : as_expected ? green() : red();
            std::string line = s.action.race ? "isolab race" : s.action.run.back();
            if (!st.action_ran && !st.action_running)
                ImGui::TextColored(c, "▶ $ %s", line.c_str());
            if (app_.mono_font()) ImGui::PopFont();
            // The room sees what the command printed (a few lines), as in a terminal.
            if (st.action_ran || st.action_running) draw_action_output(width * 0.95f, 6);
        }
        if (player_->presenter_result_shown() || (player_->state().check_ok && s.quiz.empty())) {
            if (!s.explain.empty() && (player_->presenter_result_shown() || player_->state().action_ran)) {
                ImGui::TextColored(green(), "%s", T("gui.lesson.explain"));
                ImGui::SameLine();
                ImGui::BeginGroup();
                draw_markup(s.explain.get(ko), app_.mono_font(), width * 0.85f);
                ImGui::EndGroup();
            }
        }
        if (!s.quiz.empty()) draw_audience_quiz(width * 0.9f, player_->presenter_result_shown());
    }
    ImGui::TextDisabled("%s   %s", click_text().c_str(), T("gui.lesson.keys"));
    ImGui::EndGroup();
    splitter.SetCurrentChannel(dl, 0);
    ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
    a.x -= 6;
    b.x = a.x + width + 6;
    b.y += 4;
    ImVec4 bg = ImGui::GetStyleColorVec4(ImGuiCol_FrameBg);
    dl->AddRectFilled(a, b, ImGui::ColorConvertFloat4ToU32(bg), 6);
    dl->AddRectFilled(a, ImVec2(a.x + 6, b.y), ImGui::ColorConvertFloat4ToU32(accent()), 3);
    splitter.Merge(dl);
    ImGui::Dummy(ImVec2(0, 4));
}

}  // namespace isolab::gui
