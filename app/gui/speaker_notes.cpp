#include "app/gui/speaker_notes.hpp"

#include <imgui.h>

#include <algorithm>
#include <string>

#include <nlohmann/json.hpp>

#include "app/gui/app.hpp"
#include "app/gui/lesson_markup.hpp"
#include "app/gui/view.hpp"
#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/core/i18n.hpp"
#include "sim/lesson/lesson.hpp"

namespace isolab::gui {

using namespace isolab::lesson;
using namespace lesson_ui;

void draw_speaker_notes(App& app) {
    static std::string last_text;
    static nlohmann::json state;
    static Catalog catalog;
    static double last_read = 0;
    if (monotonic_ms() - last_read > 300) {
        last_read = monotonic_ms();
        auto text = read_file(app.state_root() + "/lesson-presenter.json");
        if (text && *text != last_text) {
            last_text = *text;
            auto j = nlohmann::json::parse(*text, nullptr, false);
            if (!j.is_discarded()) {
                if (!state.is_object() || state.value("lesson", "") != j.value("lesson", "")) catalog = load_catalog(lessons_dir());
                state = j;
                std::string lang = j.value("lang", "en");
                i18n::set_language(lang == "ko" ? i18n::Lang::Ko : i18n::Lang::En);
            }
        }
    }
    bool ko = korean();
    if (!state.is_object()) {
        ImGui::TextWrapped("%s", T("gui.notes.waiting"));
        return;
    }
    const Lesson* l = catalog.find(state.value("lesson", ""));
    if (!l) {
        ImGui::TextWrapped("%s", T("gui.notes.waiting"));
        return;
    }
    int i = std::clamp(state.value("step", 0), 0, static_cast<int>(l->steps.size()) - 1);
    const auto& s = l->steps[static_cast<size_t>(i)];
    ImGui::TextDisabled("%s — %s · %d/%zu", T("gui.notes.title"), l->title.get(ko).c_str(), i + 1, l->steps.size());
    if (app.big_font()) ImGui::PushFont(app.big_font());
    ImGui::TextWrapped("%s", s.title.get(ko).c_str());
    if (app.big_font()) ImGui::PopFont();
    ImGui::TextColored(accent(), "▶ %s", state.value("next_click", "").c_str());
    // The presenter's monotonic clock is this machine's too: time spent on the step.
    int secs = static_cast<int>((monotonic_ms() - state.value("started_ms", monotonic_ms())) / 1000);
    if (secs >= 0) {
        ImGui::SameLine();
        ImGui::TextDisabled("   %s", i18n::trf("gui.lesson.timer", {clock_text(secs)}).c_str());
    }
    ImGui::Separator();
    draw_markup(s.text.get(ko), app.mono_font());
    if (s.predict) {
        ImGui::Spacing();
        ImGui::TextColored(accent(), "%s", T("gui.lesson.predict"));
        draw_markup(s.predict->question.get(ko), app.mono_font());
        if (s.predict->answer >= 0) {
            ImGui::TextColored(green(), "→ %s", s.predict->choices[static_cast<size_t>(s.predict->answer)].get(ko).c_str());
        }
    }
    if (!s.discuss.empty()) {
        ImGui::TextColored(accent(), "%s", T("gui.lesson.discuss"));
        draw_markup(s.discuss.get(ko), app.mono_font());
    }
    for (auto& line : s.action.run) ImGui::TextColored(code_color(), "$ %s", line.c_str());
    if (s.action.race) ImGui::TextColored(code_color(), "$ isolab race");
    if (!s.explain.empty()) {
        ImGui::TextColored(green(), "%s", T("gui.lesson.explain"));
        draw_markup(s.explain.get(ko), app.mono_font());
    }
    for (const auto& h : s.hints) {
        ImGui::TextColored(accent(), "%s", T("gui.lesson.hint"));
        ImGui::SameLine();
        ImGui::BeginGroup();
        draw_markup(h.get(ko), app.mono_font());
        ImGui::EndGroup();
    }
    if (!s.quiz.empty()) {
        ImGui::TextColored(accent(), "%s", T("gui.lesson.quiz"));
        draw_markup(s.quiz.question.get(ko), app.mono_font());
        for (const auto& c : s.quiz.choices)
            ImGui::TextColored(c.correct ? green() : muted(), "%s %s", c.correct ? "✓" : "·", c.text.get(ko).c_str());
    }
    if (i + 1 < static_cast<int>(l->steps.size())) {
        ImGui::Separator();
        ImGui::TextDisabled("%s %s", T("gui.notes.next_step"), l->steps[static_cast<size_t>(i) + 1].title.get(ko).c_str());
    }
}

}  // namespace isolab::gui
