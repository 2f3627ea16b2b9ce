#include "app/gui/views/setup_steps.hpp"

#include <imgui.h>

#include <algorithm>
#include <cmath>

#include "app/gui/view.hpp"
#include "sim/core/i18n.hpp"

namespace isolab::gui {

namespace {

constexpr ImU32 kStepBar = IM_COL32(0, 128, 128, 255);      // the container color of the race
constexpr ImU32 kGroupBar = IM_COL32(0, 160, 160, 255);
const ImVec4 kSimulated(0.90f, 0.55f, 0.10f, 1);            // the race's "modeled"/"simulated" tag

float row_height() { return ImGui::GetTextLineHeight() + ImGui::GetStyle().CellPadding.y * 2; }

// The step's tooltip: what it does (translated), then what it did here (the runtime's words).
void step_tooltip(const view::SetupRow& r, bool simulated) {
    ImGui::BeginTooltip();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30);
    if (r.group()) ImGui::TextUnformatted(i18n::trf("gui.setup.group_tip", {std::to_string(r.members.size())}).c_str());
    std::string help = view::setup_step_help(r.name);
    if (!help.empty()) ImGui::TextUnformatted(help.c_str());
    if (!r.detail.empty()) {
        ImGui::Separator();
        ImGui::TextDisabled("%s", r.detail.c_str());
    }
    if (simulated) ImGui::TextColored(kSimulated, "%s", T("gui.setup.simulated_tip"));
    ImGui::PopTextWrapPos();
    ImGui::EndTooltip();
}

// One row: step (a tree node: a group opens, a step is a leaf), time, bar, detail. Returns
// whether a group is open (its members follow, then TreePop).
bool draw_row(const view::SetupRow& r, const view::SetupList& list, const std::string& label) {
    const bool planned = list.phase == view::SetupPhase::Planned;
    ImGui::TableNextRow();
    ImGui::TableSetColumnIndex(0);
    if (planned) ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
    ImGuiTreeNodeFlags flags = ImGuiTreeNodeFlags_SpanFullWidth;
    if (!r.group()) flags |= ImGuiTreeNodeFlags_Leaf | ImGuiTreeNodeFlags_NoTreePushOnOpen;
    bool open = ImGui::TreeNodeEx(label.c_str(), flags);
    if (ImGui::IsItemHovered()) step_tooltip(r, list.simulated);
    if (!planned) {
        ImGui::TableSetColumnIndex(1);
        if (list.simulated) ImGui::TextColored(kSimulated, "%s", view::setup_ms_text(r.ms).c_str());
        else ImGui::TextUnformatted(view::setup_ms_text(r.ms).c_str());
        ImGui::TableSetColumnIndex(2);
        ImVec2 p = ImGui::GetCursorScreenPos();
        float line = ImGui::GetTextLineHeight();
        float w = std::max(ImGui::GetContentRegionAvail().x, 4.0f);
        float bw = std::max(2.0f, w * r.fraction);
        ImGui::GetWindowDrawList()->AddRectFilled(ImVec2(p.x, p.y + line * 0.2f), ImVec2(p.x + bw, p.y + line * 0.85f),
                                                  r.group() ? kGroupBar : kStepBar, 2);
    }
    // A plan has no times yet: step and detail only.
    ImGui::TableSetColumnIndex(planned ? 1 : 3);
    ImGui::TextUnformatted(fit_text(r.detail, ImGui::GetContentRegionAvail().x).c_str());
    if (planned) ImGui::PopStyleColor();
    return open && r.group();
}

}  // namespace

float setup_steps_height(const view::SetupList& list) {
    const float line = ImGui::GetTextLineHeightWithSpacing();
    if (list.phase == view::SetupPhase::None) return line * 2.2f;
    // Heading (two lines), the table's header row and one row per top-level row.
    return line * 2.2f + row_height() * static_cast<float>(list.rows.size() + 1) + ImGui::GetStyle().ItemSpacing.y * 2;
}

void draw_setup_steps(App&, const std::string& name, const view::SetupList& list, float width, float height) {
    ImGui::PushID("setup");
    const float top = ImGui::GetCursorScreenPos().y;
    ImGui::BeginGroup();
    ImGui::TextUnformatted(T("gui.setup.title"));
    ImGui::SameLine();
    help_marker(T("gui.setup.help"));
    if (list.simulated) {
        ImGui::SameLine();
        ImGui::TextColored(kSimulated, "[%s]", T("gui.setup.simulated"));
        if (ImGui::IsItemHovered()) {
            ImGui::BeginTooltip();
            ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30);
            ImGui::TextUnformatted(T("gui.setup.simulated_tip"));
            ImGui::PopTextWrapPos();
            ImGui::EndTooltip();
        }
    }
    std::string summary;
    switch (list.phase) {
        case view::SetupPhase::None: summary = i18n::trf("gui.setup.none", {name}); break;
        case view::SetupPhase::Planned: summary = i18n::trf("gui.setup.planned", {std::to_string(list.steps)}); break;
        case view::SetupPhase::Timed:
            summary = i18n::trf("gui.setup.timed", {std::to_string(list.steps), view::setup_ms_text(list.total_ms), list.longest});
            break;
    }
    ImGui::TextDisabled("%s", fit_text(summary, width).c_str());
    if (ImGui::IsItemHovered() && ImGui::CalcTextSize(summary.c_str()).x > width) ImGui::SetTooltip("%s", summary.c_str());
    if (list.phase != view::SetupPhase::None) {
        // Whole rows only: the header row and as many rows as fit (at least two), no half row.
        const float rh = row_height();
        float rows_fit = std::floor((top + height - ImGui::GetCursorScreenPos().y) / rh) - 1;
        float table_h = rh * (std::max(rows_fit, 2.0f) + 1) + 2;
        ImGuiTableFlags f = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersOuterH | ImGuiTableFlags_ScrollY |
                            ImGuiTableFlags_SizingFixedFit;
        const bool planned = list.phase == view::SetupPhase::Planned;
        // Separate tables (IDs) for the plan and the timed list: their columns differ.
        if (ImGui::BeginTable(planned ? "plan" : "steps", planned ? 2 : 4, f, ImVec2(width, table_h))) {
            const float font = ImGui::GetFontSize();
            ImGui::TableSetupScrollFreeze(0, 1);
            ImGui::TableSetupColumn(T("gui.setup.col_step"), ImGuiTableColumnFlags_WidthFixed, font * 8.5f);
            if (!planned) {
                ImGui::TableSetupColumn(T("gui.setup.col_time"), ImGuiTableColumnFlags_WidthFixed, font * 4.5f);
                ImGui::TableSetupColumn("##bar", ImGuiTableColumnFlags_WidthStretch, 1.0f);
            }
            ImGui::TableSetupColumn(T("gui.setup.col_detail"), ImGuiTableColumnFlags_WidthStretch, 1.6f);
            ImGui::TableHeadersRow();
            for (size_t i = 0; i < list.rows.size(); ++i) {
                const auto& r = list.rows[i];
                ImGui::PushID(static_cast<int>(i));
                if (draw_row(r, list, r.label())) {
                    for (size_t k = 0; k < r.members.size(); ++k) {
                        ImGui::PushID(static_cast<int>(k));
                        draw_row(r.members[k], list, r.members[k].name);
                        ImGui::PopID();
                    }
                    ImGui::TreePop();
                }
                ImGui::PopID();
            }
            ImGui::EndTable();
        }
    }
    ImGui::EndGroup();
    ImGui::PopID();
}

}  // namespace isolab::gui
