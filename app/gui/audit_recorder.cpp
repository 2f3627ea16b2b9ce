#include "app/gui/audit_recorder.hpp"

#include <imgui.h>
#include <imgui_internal.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace isolab::gui::audit {

namespace {

// One recorded AddText call: the audit's item plus what is resolved once the frame is rendered.
struct Record {
    TextItem item;
    std::string window;          // the window's name (its draw list's owner)
    const ImDrawList* list = nullptr;
    float y = 0;                 // the position it was drawn at (for the ellipsis that follows it)
    float end_x = 0;             // where its first line's pen ended
};

bool g_recording = false;
bool g_inside = false;  // an AddText calling another (the short overload): record once
std::vector<Record> g_records;
int g_mismatches = 0;

ImRect to_imrect(const ImVec4& v) { return ImRect(v.x, v.y, v.z, v.w); }
Rect to_rect(const ImRect& r) { return {r.Min.x, r.Min.y, r.Max.x, r.Max.y}; }

// The steps of ImFont::RenderText (Dear ImGui 1.86, imgui_draw.cpp) without the drawing: where each
// glyph's quad goes and where each line ends. Returns the pen's x at the end of the first line.
float lay_out(const ImFont* font, float size, ImVec2 pos, const char* text, const char* text_end, float wrap_width,
              TextItem& item) {
    const float scale = size / font->FontSize;
    const float line_height = font->FontSize * scale;
    float x = IM_FLOOR(pos.x), y = IM_FLOOR(pos.y);
    const float start_x = x;
    const bool word_wrap = wrap_width > 0.0f;
    const char* word_wrap_eol = nullptr;
    const char* line_start = text;
    float first_line_end = -1;
    Line line;
    auto close_line = [&](const char* end, Break how, const char* next_start) {
        line.text.assign(line_start, end);
        line.end = how;
        if (how == Break::Wrap) line.skipped.assign(end, next_start);
        if (first_line_end < 0) first_line_end = x;
        item.lines.push_back(std::move(line));
        line = Line{};
        line_start = next_start;
    };
    const char* s = text;
    while (s < text_end) {
        if (word_wrap) {
            if (!word_wrap_eol) {
                word_wrap_eol = font->CalcWordWrapPositionA(scale, s, text_end, wrap_width - (x - start_x));
                if (word_wrap_eol == s) ++word_wrap_eol;  // too narrow for anything: one character at least
            }
            if (s >= word_wrap_eol) {
                const char* cut = s;
                word_wrap_eol = nullptr;
                while (s < text_end) {  // a wrap skips the blanks after it, and one newline
                    const char c = *s;
                    if (ImCharIsBlankA(c)) {
                        ++s;
                    } else if (c == '\n') {
                        ++s;
                        break;
                    } else {
                        break;
                    }
                }
                close_line(cut, Break::Wrap, s);
                x = start_x;
                y += line_height;
                continue;
            }
        }
        unsigned int c = static_cast<unsigned char>(*s);
        if (c < 0x80) {
            s += 1;
        } else {
            s += ImTextCharFromUtf8(&c, s, text_end);
            if (c == 0) break;
        }
        if (c < 32) {
            if (c == '\n') {
                close_line(s - 1, Break::Newline, s);
                x = start_x;
                y += line_height;
                continue;
            }
            if (c == '\r') continue;
        }
        const ImFontGlyph* glyph = font->FindGlyph(static_cast<ImWchar>(c));
        if (!glyph) continue;
        if (glyph->Visible) {
            Rect q{x + glyph->X0 * scale, y + glyph->Y0 * scale, x + glyph->X1 * scale, y + glyph->Y1 * scale};
            item.glyphs.push_back(q);
            line.ink = line.ink.unite(q);
        }
        x += glyph->AdvanceX * scale;
    }
    close_line(text_end, Break::End, text_end);
    return first_line_end;
}

// The window whose draw list LIST is (the current window while it draws; else by its owner name).
ImGuiWindow* window_of(const ImDrawList* list) {
    ImGuiContext* g = ImGui::GetCurrentContext();
    if (!g) return nullptr;
    if (g->CurrentWindow && g->CurrentWindow->DrawList == list) return g->CurrentWindow;
    return list->_OwnerName ? ImGui::FindWindowByName(list->_OwnerName) : nullptr;
}

void record(ImDrawList* self, const ImFont* font, float size, const ImVec2& pos, ImU32 col, const char* text,
            const char* text_end, float wrap_width, const ImVec4* fine_clip) {
    // ImDrawList::AddText's own early returns: nothing is drawn, nothing is recorded.
    if ((col & IM_COL32_A_MASK) == 0 || !text) return;
    if (!text_end) text_end = text + std::strlen(text);
    if (text == text_end) return;
    if (!font) font = self->_Data->Font;
    if (size == 0.0f) size = self->_Data->FontSize;
    Record r;
    r.list = self;
    r.y = pos.y;
    r.item.text.assign(text, text_end);
    r.item.color = col;
    ImRect clip = to_imrect(self->_CmdHeader.ClipRect);
    if (fine_clip) clip.ClipWithFull(to_imrect(*fine_clip));
    r.item.clip = to_rect(clip);
    r.end_x = lay_out(font, size, pos, text, text_end, wrap_width, r.item);
    if (ImGuiWindow* w = window_of(self)) {
        r.window = w->Name;
        r.item.layer = w->RootWindow ? w->RootWindow->Name : w->Name;
        r.item.scrolls_x = w->ScrollbarX && w->ScrollMax.x > 0;
        r.item.scrolls_y = w->ScrollbarY && w->ScrollMax.y > 0;
        r.item.scroll_area = to_rect(w->InnerClipRect);
    } else {
        r.window = self->_OwnerName ? self->_OwnerName : "?";
        r.item.layer = r.window;
    }
    g_records.push_back(std::move(r));
}

// After the real AddText: did it append the glyph quads the layout predicts? Only checked where
// RenderText culled nothing (no fine clip, every line inside the clip rectangle vertically).
void check_layout(const Record& r, int vertices_added, bool fine_clip) {
    const Rect& clip = r.item.clip;
    const Rect ink = r.item.ink();
    if (fine_clip || r.item.glyphs.empty() || ink.y0 < clip.y0 || ink.y1 > clip.y1) return;
    int expected = 0;
    for (const Rect& q : r.item.glyphs)
        if (q.x0 <= clip.x1 && q.x1 >= clip.x0) ++expected;  // RenderText's own horizontal culling
    if (vertices_added != expected * 4) ++g_mismatches;
}

bool same_rgb(ImU32 a, ImU32 b) { return (a & 0x00FFFFFF) == (b & 0x00FFFFFF); }

// The shapes drawn in a state colour: runs of white-pixel triangles of one colour that share
// vertices (one AddRectFilled, one AddRect, one AddCircleFilled ...).
std::vector<Fill> state_fills(const ImDrawData* dd, const std::string& active_view,
                              const std::vector<std::pair<std::string, unsigned int>>& palette) {
    std::vector<Fill> out;
    const ImVec2 white = ImGui::GetIO().Fonts->TexUvWhitePixel;
    for (int l = 0; l < dd->CmdListsCount; ++l) {
        const ImDrawList* list = dd->CmdLists[l];
        const std::string view = region_of(list->_OwnerName ? list->_OwnerName : "", active_view);
        for (const ImDrawCmd& cmd : list->CmdBuffer) {
            if (cmd.UserCallback) continue;
            const Rect clip{cmd.ClipRect.x, cmd.ClipRect.y, cmd.ClipRect.z, cmd.ClipRect.w};
            struct Group {
                const std::string* state = nullptr;
                ImU32 color = 0;
                unsigned int first = 0, last = 0;
                Rect box;
                int alpha = 0;
            } g;
            auto close = [&] {
                if (g.state && g.alpha >= 128 && g.box.width() >= 6 && g.box.height() >= 6) {
                    Rect shown = g.box.intersect(clip);
                    if (!shown.empty()) out.push_back(Fill{view, *g.state, (g.color & 0x00FFFFFF) | (static_cast<ImU32>(g.alpha) << 24), shown});
                }
                g = Group{};
            };
            for (unsigned int i = 0; i + 2 < cmd.ElemCount; i += 3) {
                unsigned int v[3];
                for (int k = 0; k < 3; ++k) v[k] = cmd.VtxOffset + list->IdxBuffer[static_cast<int>(cmd.IdxOffset + i + k)];
                const ImDrawVert* p[3] = {&list->VtxBuffer[static_cast<int>(v[0])], &list->VtxBuffer[static_cast<int>(v[1])],
                                          &list->VtxBuffer[static_cast<int>(v[2])]};
                bool flat = true;
                for (auto* q : p)
                    if (q->uv.x != white.x || q->uv.y != white.y || !same_rgb(q->col, p[0]->col)) flat = false;
                const std::string* state = nullptr;
                if (flat)
                    for (const auto& [name, c] : palette)
                        if (same_rgb(p[0]->col, c)) state = &name;
                const unsigned int lo = std::min({v[0], v[1], v[2]}), hi = std::max({v[0], v[1], v[2]});
                if (g.state && (!state || !same_rgb(g.color, p[0]->col) || lo > g.last)) close();
                if (!state) continue;
                if (!g.state) {
                    g.state = state;
                    g.color = p[0]->col;
                    g.first = lo;
                }
                g.last = std::max(g.last, hi);
                int alpha = 0;
                for (auto* q : p) alpha = std::max(alpha, static_cast<int>(q->col >> IM_COL32_A_SHIFT));
                // The box of the opaque vertices (an anti-aliased edge's outer ring is transparent).
                for (auto* q : p)
                    if (static_cast<int>(q->col >> IM_COL32_A_SHIFT) * 2 >= alpha && alpha > 0)
                        g.box = g.box.unite(Rect{q->pos.x, q->pos.y, q->pos.x + 0.001f, q->pos.y + 0.001f});
                g.alpha = std::max(g.alpha, alpha);
            }
            close();
        }
    }
    return out;
}

}  // namespace

void set_recording(bool on) { g_recording = on; }

void begin_frame() {
    g_records.clear();
    g_mismatches = 0;
}

std::string region_of(const std::string& w, const std::string& active_view) {
    auto has = [&](const char* part) { return w.find(part) != std::string::npos; };
    if (has("/content_")) return active_view;
    if (has("/lesson_panel_") || has("##prediction-cover")) return "lesson";
    if (has("/stacks_")) return "stacks";
    if (has("/tabs_")) return "tabs";
    if (w.rfind("##Tooltip", 0) == 0) return "tooltip";
    if (w.rfind("##Popup", 0) == 0 || w.rfind("##Menu", 0) == 0) return "popup";
    if (w == "IsoLab") return "top";
    return w;
}

FrameAudit audit_recorded_frame(const ImDrawData* draw_data, const std::vector<uint8_t>& pixels, int width, int height,
                                const std::string& active_view,
                                const std::vector<std::pair<std::string, unsigned int>>& palette) {
    FrameAudit out;
    // The picture top row first, in window coordinates (the framebuffer may be larger on HiDPI).
    const float sx = draw_data && draw_data->DisplaySize.x > 0 ? width / draw_data->DisplaySize.x : 1.0f;
    const float sy = draw_data && draw_data->DisplaySize.y > 0 ? height / draw_data->DisplaySize.y : 1.0f;
    const int w = static_cast<int>(std::lround(width / sx)), h = static_cast<int>(std::lround(height / sy));
    std::vector<uint8_t> top_down(static_cast<size_t>(w) * h * 4);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            int fx = std::min(width - 1, static_cast<int>(x * sx)), fy = std::min(height - 1, static_cast<int>(y * sy));
            std::memcpy(&top_down[(static_cast<size_t>(y) * w + x) * 4], &pixels[(static_cast<size_t>(height - 1 - fy) * width + fx) * 4], 4);
        }
    Image img{w, h, top_down.data()};
    std::vector<TextItem> items;
    for (Record& r : g_records) {
        // Only what reached the screen: a window that ended up hidden (ImGui's implicit "Debug"
        // window, which no one wrote to) drew into a draw list that is not rendered.
        if (!draw_data || std::none_of(draw_data->CmdLists, draw_data->CmdLists + draw_data->CmdListsCount,
                                       [&](const ImDrawList* l) { return l == r.list; }))
            continue;
        r.item.view = region_of(r.window, active_view);
        items.push_back(r.item);
    }
    std::vector<Fill> fills = draw_data ? state_fills(draw_data, active_view, palette) : std::vector<Fill>{};
    out.items = static_cast<int>(items.size());
    out.fills = static_cast<int>(fills.size());
    out.layout_mismatches = g_mismatches;
    out.entries = audit_frame(items, fills, img, &out.suppressed);
    return out;
}

}  // namespace isolab::gui::audit

// ---- The wrapped entry points (see the header: linked with -Wl,--wrap=SYMBOL) ----
// Member functions take `this` as their first argument: these have the same ABI.
extern "C" {
void __real__ZN10ImDrawList7AddTextEPK6ImFontfRK6ImVec2jPKcS7_fPK6ImVec4(ImDrawList* self, const ImFont* font, float size,
                                                                         const ImVec2& pos, ImU32 col, const char* text,
                                                                         const char* text_end, float wrap_width,
                                                                         const ImVec4* fine_clip);
void __real__ZN10ImDrawList7AddTextERK6ImVec2jPKcS4_(ImDrawList* self, const ImVec2& pos, ImU32 col, const char* text,
                                                     const char* text_end);
void __real__ZNK6ImFont10RenderCharEP10ImDrawListf6ImVec2jt(const ImFont* self, ImDrawList* list, float size, ImVec2 pos,
                                                            ImU32 col, ImWchar c);

// ImDrawList::AddText(font, size, pos, col, text, text_end, wrap_width, cpu_fine_clip_rect)
void __wrap__ZN10ImDrawList7AddTextEPK6ImFontfRK6ImVec2jPKcS7_fPK6ImVec4(ImDrawList* self, const ImFont* font, float size,
                                                                         const ImVec2& pos, ImU32 col, const char* text,
                                                                         const char* text_end, float wrap_width,
                                                                         const ImVec4* fine_clip) {
    using namespace isolab::gui::audit;
    if (!g_recording || g_inside) {
        __real__ZN10ImDrawList7AddTextEPK6ImFontfRK6ImVec2jPKcS7_fPK6ImVec4(self, font, size, pos, col, text, text_end,
                                                                            wrap_width, fine_clip);
        return;
    }
    const size_t before = g_records.size();
    const int vertices = self->VtxBuffer.Size;
    record(self, font, size, pos, col, text, text_end, wrap_width, fine_clip);
    g_inside = true;
    __real__ZN10ImDrawList7AddTextEPK6ImFontfRK6ImVec2jPKcS7_fPK6ImVec4(self, font, size, pos, col, text, text_end,
                                                                        wrap_width, fine_clip);
    g_inside = false;
    if (g_records.size() > before) check_layout(g_records.back(), self->VtxBuffer.Size - vertices, fine_clip != nullptr);
}

// ImDrawList::AddText(pos, col, text, text_end): the window's font at its size.
void __wrap__ZN10ImDrawList7AddTextERK6ImVec2jPKcS4_(ImDrawList* self, const ImVec2& pos, ImU32 col, const char* text,
                                                     const char* text_end) {
    using namespace isolab::gui::audit;
    if (!g_recording || g_inside) {
        __real__ZN10ImDrawList7AddTextERK6ImVec2jPKcS4_(self, pos, col, text, text_end);
        return;
    }
    const size_t before = g_records.size();
    const int vertices = self->VtxBuffer.Size;
    record(self, nullptr, 0.0f, pos, col, text, text_end, 0.0f, nullptr);
    g_inside = true;
    __real__ZN10ImDrawList7AddTextERK6ImVec2jPKcS4_(self, pos, col, text, text_end);
    g_inside = false;
    if (g_records.size() > before) check_layout(g_records.back(), self->VtxBuffer.Size - vertices, false);
}

// ImFont::RenderChar: ImGui::RenderTextEllipsis draws the ellipsis of a cut label with it, right
// after the label's AddText on the same line.
void __wrap__ZNK6ImFont10RenderCharEP10ImDrawListf6ImVec2jt(const ImFont* self, ImDrawList* list, float size, ImVec2 pos,
                                                            ImU32 col, ImWchar c) {
    using namespace isolab::gui::audit;
    if (g_recording && !g_inside && (c == self->EllipsisChar || c == self->DotChar)) {
        for (auto it = g_records.rbegin(); it != g_records.rend(); ++it) {
            if (it->list != list) continue;
            if (std::fabs(it->y - pos.y) < 1.0f && pos.x >= it->end_x - 1.0f) it->item.ellipsized = true;
            break;
        }
    }
    __real__ZNK6ImFont10RenderCharEP10ImDrawListf6ImVec2jt(self, list, size, pos, col, c);
}
}
