#include "app/gui/lesson_list.hpp"

#include <imgui.h>

#include "app/gui/app.hpp"
#include "app/gui/lesson_markup.hpp"
#include "app/gui/view.hpp"
#include "sim/core/i18n.hpp"

namespace isolab::gui {

using namespace isolab::lesson;
using namespace lesson_ui;

std::string draw_lesson_list(App& app, const Catalog& catalog, ProgressStore& progress, const std::string& notice,
                             bool& study_group) {
    bool ko = korean();
    std::string chosen;
    if (app.big_font()) ImGui::PushFont(app.big_font());
    ImGui::TextUnformatted(trs("gui.lesson.list_title").c_str());
    if (app.big_font()) ImGui::PopFont();
    ImGui::TextWrapped("%s", trs("gui.lesson.list_intro").c_str());
    if (!notice.empty()) ImGui::TextColored(red(), "%s", notice.c_str());
    ImGui::Checkbox(trs("gui.lesson.group_mode").c_str(), &study_group);
    ImGui::SameLine();
    help_marker(T("gui.lesson.group_mode_tip"));
    ImGui::Separator();
    progress.reload();
    for (auto& f : catalog.files) {
        ImGui::PushID(f.path.c_str());
        if (!f.lesson) {
            ImGui::TextColored(red(), "✗ %s — %s", f.id_hint.c_str(), trs("gui.lesson.broken").c_str());
            ImGui::PushTextWrapPos(0);
            ImGui::TextDisabled("%s", f.errors.empty() ? "" : f.errors.front().format_for_learner().c_str());
            ImGui::PopTextWrapPos();
            ImGui::Separator();
            ImGui::PopID();
            continue;
        }
        const auto& l = *f.lesson;
        auto p = progress.get(l.id);
        int done = 0;
        for (auto& s : l.steps) done += p.done.count(s.id) > 0;
        bool finished = !p.finished_at.empty();
        ImGui::TextColored(finished ? green() : accent(), "%d.", l.order);
        ImGui::SameLine();
        ImGui::TextWrapped("%s%s", l.title.get(ko).c_str(), finished ? "  ✓" : "");
        ImGui::PushStyleColor(ImGuiCol_Text, muted());
        draw_markup(l.summary.get(ko), app.mono_font());
        ImGui::PopStyleColor();
        std::string prog = i18n::trf("gui.lesson.progress", {std::to_string(done), std::to_string(l.steps.size()),
                                                             std::to_string(l.minutes)});
        ImGui::ProgressBar(l.steps.empty() ? 0 : static_cast<float>(done) / l.steps.size(),
                           ImVec2(ImGui::GetContentRegionAvail().x * 0.45f, 0), prog.c_str());
        ImGui::SameLine();
        const char* label = done == 0 ? T("gui.lesson.start") : finished ? T("gui.lesson.again") : T("gui.lesson.continue");
        if (ImGui::Button(label)) {
            if (finished) (void)progress.reset(l.id);
            chosen = l.id;
        }
        if (done > 0 && !finished) {
            ImGui::SameLine();
            if (ImGui::SmallButton(T("gui.lesson.reset_progress"))) (void)progress.reset(l.id);
        }
        for (auto& pre : l.prerequisites) {
            auto pp = progress.get(pre);
            if (pp.finished_at.empty()) {
                const Lesson* pl = catalog.find(pre);
                ImGui::TextDisabled("%s", i18n::trf("gui.lesson.prereq", {pl ? pl->title.get(ko) : pre}).c_str());
            }
        }
        ImGui::Separator();
        ImGui::PopID();
    }
    return chosen;
}

}  // namespace isolab::gui
