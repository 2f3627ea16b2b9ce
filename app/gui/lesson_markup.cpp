#include "app/gui/lesson_markup.hpp"

#include <cstdio>
#include <memory>
#include <vector>

#include "sim/core/i18n.hpp"

namespace isolab::gui {

namespace lesson_ui {

bool korean() { return i18n::language() == i18n::Lang::Ko; }

namespace {

bool light_theme() {
    ImVec4 bg = ImGui::GetStyleColorVec4(ImGuiCol_WindowBg);
    return bg.x + bg.y + bg.z > 1.5f;
}

}  // namespace

ImVec4 accent() { return light_theme() ? ImVec4(0.05f, 0.25f, 0.65f, 1) : ImVec4(1.0f, 0.85f, 0.45f, 1); }
ImVec4 code_color() { return light_theme() ? ImVec4(0.55f, 0.10f, 0.35f, 1) : ImVec4(0.55f, 0.85f, 1.0f, 1); }
ImVec4 green() { return light_theme() ? ImVec4(0.05f, 0.50f, 0.15f, 1) : ImVec4(0.35f, 0.85f, 0.45f, 1); }
ImVec4 red() { return light_theme() ? ImVec4(0.75f, 0.10f, 0.10f, 1) : ImVec4(1.0f, 0.45f, 0.45f, 1); }
ImVec4 muted() { return ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled); }

std::string trs(const char* key) { return i18n::tr(key); }

std::string clock_text(int secs) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%02d:%02d", secs / 60, secs % 60);
    return buf;
}

namespace {

// Each card has its own draw-list splitter, so cards nest.
std::vector<std::unique_ptr<ImDrawListSplitter>>& card_splitters() {
    static std::vector<std::unique_ptr<ImDrawListSplitter>> s;
    return s;
}

}  // namespace

void begin_card(ImU32 edge) {
    auto& stack = card_splitters();
    stack.push_back(std::make_unique<ImDrawListSplitter>());
    ImDrawList* dl = ImGui::GetWindowDrawList();
    stack.back()->Split(dl, 2);
    stack.back()->SetCurrentChannel(dl, 1);
    ImGui::BeginGroup();
    ImGui::Dummy(ImVec2(0, ImGui::GetStyle().ItemSpacing.y * 0.5f));
    ImGui::Indent(ImGui::GetFontSize() * 0.7f);
    ImGui::PushID(static_cast<int>(edge));
}
void end_card(ImU32 edge, float width) {
    ImGui::PopID();
    ImGui::Unindent(ImGui::GetFontSize() * 0.7f);
    ImGui::Dummy(ImVec2(0, ImGui::GetStyle().ItemSpacing.y * 0.5f));
    ImGui::EndGroup();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    auto& stack = card_splitters();
    stack.back()->SetCurrentChannel(dl, 0);
    ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
    b.x = a.x + width;
    ImVec4 bg = ImGui::GetStyleColorVec4(ImGuiCol_FrameBg);
    dl->AddRectFilled(a, b, ImGui::ColorConvertFloat4ToU32(bg), 4);
    dl->AddRectFilled(a, ImVec2(a.x + 4, b.y), edge, 2);
    stack.back()->Merge(dl);
    stack.pop_back();
}

}  // namespace lesson_ui

namespace {

using namespace lesson_ui;

struct Segment {
    enum Kind { Plain, Bold, Code } kind;
    std::string text;
};

// Splits one line of markup into segments.
std::vector<Segment> segments(const std::string& line) {
    std::vector<Segment> out;
    Segment cur{Segment::Plain, ""};
    for (size_t i = 0; i < line.size(); ++i) {
        if (cur.kind != Segment::Code && line.compare(i, 2, "**") == 0) {
            if (!cur.text.empty()) out.push_back(cur);
            cur = {cur.kind == Segment::Bold ? Segment::Plain : Segment::Bold, ""};
            ++i;
        } else if (line[i] == '`') {
            if (!cur.text.empty()) out.push_back(cur);
            cur = {cur.kind == Segment::Code ? Segment::Plain : Segment::Code, ""};
        } else {
            cur.text += line[i];
        }
    }
    if (!cur.text.empty()) out.push_back(cur);
    return out;
}

// Draws one line's segments word by word, wrapping at RIGHT (screen x).
void draw_wrapped_line(const std::vector<Segment>& segs, ImFont* mono, float left, float right) {
    bool first = true;
    for (const auto& s : segs) {
        ImFont* font = s.kind == Segment::Code && mono ? mono : nullptr;
        if (font) ImGui::PushFont(font);
        ImVec4 color = s.kind == Segment::Bold ? accent() : s.kind == Segment::Code ? code_color()
                                                                                      : ImGui::GetStyleColorVec4(ImGuiCol_Text);
        // Words keep their trailing space; code is kept whole when it fits on a line.
        std::vector<std::string> words;
        if (s.kind == Segment::Code && ImGui::CalcTextSize(s.text.c_str()).x < right - left) {
            words.push_back(s.text);
        } else {
            std::string w;
            for (char c : s.text) {
                w += c;
                if (c == ' ') {
                    words.push_back(w);
                    w.clear();
                }
            }
            if (!w.empty()) words.push_back(w);
        }
        for (const auto& w : words) {
            float width = ImGui::CalcTextSize(w.c_str()).x;
            if (!first) {
                ImGui::SameLine(0, 0);
                if (ImGui::GetCursorScreenPos().x + width > right && ImGui::GetCursorScreenPos().x > left + 1) {
                    ImGui::NewLine();
                    if (w == " ") continue;
                }
            }
            ImGui::TextColored(color, "%s", w.c_str());
            first = false;
        }
        if (font) ImGui::PopFont();
    }
    if (first) ImGui::NewLine();
}

}  // namespace

void draw_markup(const std::string& text, ImFont* mono, float width) {
    float left = ImGui::GetCursorScreenPos().x;
    float right = left + (width > 0 ? width : ImGui::GetContentRegionAvail().x);
    // A group: wrapped lines start under the first word (after a radio button, say), not at the
    // window's edge.
    ImGui::BeginGroup();
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(start, end - start);
        if (line.empty()) {
            ImGui::Dummy(ImVec2(0, ImGui::GetTextLineHeight() * 0.35f));
        } else if (line.rfind("- ", 0) == 0) {
            float bullet = ImGui::GetFontSize() * 1.1f;
            ImGui::TextUnformatted("•");
            ImGui::SameLine(0, 0);
            ImGui::SetCursorScreenPos(ImVec2(left + bullet, ImGui::GetCursorScreenPos().y));
            ImGui::BeginGroup();
            draw_wrapped_line(segments(line.substr(2)), mono, left + bullet, right);
            ImGui::EndGroup();
        } else {
            draw_wrapped_line(segments(line), mono, left, right);
        }
        if (end >= text.size()) break;
        start = end + 1;
    }
    ImGui::EndGroup();
}

}  // namespace isolab::gui
