#include <imgui.h>

#include <algorithm>

#include "app/gui/view.hpp"
#include "sim/core/i18n.hpp"

namespace isolab::gui {

const char* T(const char* key) { return i18n::tr(key).c_str(); }

bool box(const char* id, const std::string& text, float w, float h, unsigned int fill, unsigned int text_color,
         bool selected, const std::string& tooltip) {
    ImGui::PushID(id);
    ImVec2 p = ImGui::GetCursorScreenPos();
    bool clicked = ImGui::InvisibleButton("box", ImVec2(w, h));
    bool hovered = ImGui::IsItemHovered();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    float r = 6.0f * ImGui::GetIO().FontGlobalScale * (ImGui::GetFontSize() / 16.0f);
    dl->AddRectFilled(p, ImVec2(p.x + w, p.y + h), fill, r);
    ImU32 border = selected ? IM_COL32(255, 200, 0, 255) : hovered ? IM_COL32(255, 255, 255, 160) : IM_COL32(0, 0, 0, 90);
    dl->AddRect(p, ImVec2(p.x + w, p.y + h), border, r, 0, selected ? 3.0f : 1.0f);
    // Centered, wrapped to the box.
    ImVec2 ts = ImGui::CalcTextSize(text.c_str(), nullptr, false, w - 8);
    ImVec2 at(p.x + (w - ts.x) * 0.5f, p.y + (h - ts.y) * 0.5f);
    // Clipped to the box: a word longer than the box is cut, never drawn over its neighbour.
    dl->PushClipRect(p, ImVec2(p.x + w, p.y + h), true);
    dl->AddText(ImGui::GetFont(), ImGui::GetFontSize(), ImVec2(std::max(at.x, p.x + 4), std::max(at.y, p.y + 2)), text_color,
                text.c_str(), nullptr, w - 8);
    dl->PopClipRect();
    if (hovered && !tooltip.empty()) {
        ImGui::BeginTooltip();
        ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30);
        ImGui::TextUnformatted(tooltip.c_str());
        ImGui::PopTextWrapPos();
        ImGui::EndTooltip();
    }
    ImGui::PopID();
    return clicked;
}

unsigned int state_color(const std::string& s) {
    if (s == "running") return IM_COL32(46, 160, 67, 255);
    if (s == "paused") return IM_COL32(210, 153, 34, 255);
    if (s == "restarting" || s == "starting" || s == "stopping") return IM_COL32(56, 139, 253, 255);
    if (s == "exited" || s == "poweroff" || s == "aborted" || s == "dead") return IM_COL32(110, 118, 129, 255);
    if (s == "created") return IM_COL32(130, 80, 223, 255);
    return IM_COL32(110, 118, 129, 255);
}

std::vector<std::pair<std::string, unsigned int>> state_palette() {
    std::vector<std::pair<std::string, unsigned int>> out;
    for (const char* s : {"running", "paused", "restarting", "exited", "created"}) {
        unsigned int c = state_color(s);
        if (std::none_of(out.begin(), out.end(), [&](const auto& p) { return p.second == c; })) out.emplace_back(s, c);
    }
    return out;
}

void state_badge(const std::string& s) {
    ImVec4 c = ImGui::ColorConvertU32ToFloat4(state_color(s));
    ImGui::PushStyleColor(ImGuiCol_Button, c);
    ImGui::PushStyleColor(ImGuiCol_ButtonHovered, c);
    ImGui::PushStyleColor(ImGuiCol_ButtonActive, c);
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1, 1, 1, 1));
    std::string key = "gui.state." + s;
    ImGui::SmallButton(T(key.c_str()));
    ImGui::PopStyleColor(4);
}

std::string fit_text(const std::string& s, float width) {
    if (ImGui::CalcTextSize(s.c_str()).x <= width) return s;
    std::string out = s;
    while (!out.empty()) {
        // Drop one UTF-8 character (its continuation bytes first).
        size_t cut = out.size() - 1;
        while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
        out.erase(cut);
        if (ImGui::CalcTextSize((out + "...").c_str()).x <= width) return out + "...";
    }
    return "";
}

void help_marker(const char* text) {
    ImGui::TextDisabled("(?)");
    if (ImGui::IsItemHovered()) {
        ImGui::BeginTooltip();
        ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30);
        ImGui::TextUnformatted(text);
        ImGui::PopTextWrapPos();
        ImGui::EndTooltip();
    }
}

}  // namespace isolab::gui
