// The layout audit's rules (issue 17, item 9): `isolab gui --screenshot FILE.png --audit` writes
// FILE.audit.json, every text item that is clipped, overlaps another, is wrapped inside a token,
// or is drawn in too little contrast, and every state fill that stands out too little.
//
// This file holds the rules as pure functions over plain data (text items with their lines and
// glyph boxes, an RGBA picture, fills), so each rule is unit-tested on synthetic input
// (tests/app/test_layout_audit.cpp) and links no GUI library. app/gui/audit_recorder.cpp turns a
// real frame into that data (it says how, and why that way).
//
// The rules:
//   clipped     a glyph of the item lies outside the rectangle it was clipped to (its window, a
//               button's frame, a box's PushClipRect) or outside the window, by more than the
//               one pixel of padding a glyph's quad carries; or ImGui cut the text and drew an
//               ellipsis after it (tab labels). Not reported (counted as suppressed): an item cut
//               only where its window scrolls along that axis, which is what scrolling means.
//   overlap     a glyph of the item covers a glyph of another item (each shrunk by that pixel of
//               padding) where both are visible, in the same top-level window (a tooltip or a
//               popup lies over the rest on purpose).
//   token_wrap  a line was wrapped between two characters that are not blanks, and one of them is
//               ASCII: a break inside `busybox:latest`, `6.1.0`, `PID`. Between two Hangul
//               syllables (or other non-ASCII letters) a break is allowed, as Korean allows it.
//   contrast    WCAG 2 contrast ratio (relative luminance) between the text's colour and the
//               colours behind it, under 4.5:1; or between a state fill and what surrounds it,
//               under 3:1. The colours behind are read from the rendered picture.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace isolab::gui::audit {

constexpr double kTextContrastMinimum = 4.5;       // WCAG 2 1.4.3, normal text
constexpr double kStateFillContrastMinimum = 3.0;  // WCAG 2 1.4.11, graphics that carry meaning

// An axis-aligned rectangle in window pixels (x0,y0 top left; x1,y1 exclusive bottom right).
struct Rect {
    float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    float width() const { return x1 - x0; }
    float height() const { return y1 - y0; }
    bool empty() const { return x1 <= x0 || y1 <= y0; }
    Rect intersect(const Rect& o) const;
    Rect unite(const Rect& o) const;  // an empty side is ignored
    Rect grow(float by) const { return {x0 - by, y0 - by, x1 + by, y1 + by}; }
};

struct Rgb {
    uint8_t r = 0, g = 0, b = 0;
    bool operator==(const Rgb&) const = default;
};
// An ImGui colour (IM_COL32: red in the low byte, alpha in the high byte).
Rgb rgb_of(uint32_t imgui_color);
uint8_t alpha_of(uint32_t imgui_color);
std::string hex(Rgb c);  // "#2ea043"

// WCAG 2 relative luminance of an sRGB colour, 0 (black) .. 1 (white).
double relative_luminance(Rgb c);
// WCAG 2 contrast ratio (L1 + 0.05) / (L2 + 0.05) with L1 the lighter: 1 .. 21.
double contrast_ratio(Rgb a, Rgb b);
// An ImGui colour with its alpha drawn over BG (what the picture shows where it is opaque ink).
Rgb blend(uint32_t imgui_color, Rgb bg);

// How a line of a text item ended.
enum class Break { End, Newline, Wrap };

struct Line {
    std::string text;        // the bytes drawn on the line
    Break end = Break::End;
    std::string skipped;     // Wrap: what the wrap skipped after the line ("" = cut between two characters)
    Rect ink;                // union of the line's glyph quads
};

// One call that drew text (ImDrawList::AddText, which every ImGui text widget ends in).
struct TextItem {
    std::string view;        // where: a tab's id, "stacks", "tabs", "top", "lesson", "tooltip", ...
    std::string text;        // the string as drawn (without ImGui's "##id" suffix)
    uint32_t color = 0;      // ImGui colour
    Rect clip;               // the rectangle it was clipped to
    std::vector<Line> lines;
    std::vector<Rect> glyphs;  // every visible glyph's quad, as drawn (before clipping)
    bool ellipsized = false;   // ImGui cut the text short and drew an ellipsis after it
    // The top-level window it is drawn in. ImGui stacks top-level windows on purpose (a tooltip, a
    // popup, the lesson's cover over the stage): only items of one layer can overlap by mistake.
    std::string layer;
    bool scrolls_x = false, scrolls_y = false;  // its window scrolls along that axis
    Rect scroll_area;          // that window's inner clip rectangle
    Rect ink() const;          // union of the glyphs
};

// A shape drawn in a state colour (state_color(): running, paused, exited, ...).
struct Fill {
    std::string view;
    std::string state;       // the state whose colour it is
    uint32_t color = 0;      // ImGui colour, with its alpha
    Rect box;                // bounding box of the shape's opaque vertices
};

struct Entry {
    std::string rule;        // clipped | overlap | token_wrap | contrast
    std::string view;
    std::string text;
    Rect rect;
    std::string detail;
    std::optional<double> ratio;  // contrast only
};

// The rendered picture, top row first, 4 bytes (RGBA) per pixel.
struct Image {
    int width = 0, height = 0;
    const uint8_t* rgba = nullptr;
    Rgb at(int x, int y) const;
};

// Which pixels are glyph ink (any text's glyph quad): never taken for a background.
class InkMask {
public:
    InkMask(int width, int height) : w_(width), h_(height), bits_(static_cast<size_t>(width) * height, false) {}
    void add(const Rect& r);
    bool covered(int x, int y) const { return bits_[static_cast<size_t>(y) * w_ + x]; }

private:
    int w_, h_;
    std::vector<bool> bits_;
};

struct Suppressed {
    int scrolled = 0;        // clipped only where the window scrolls
    int no_background = 0;   // contrast: too few background pixels around the glyphs to tell
};

// The colours behind AREA (pixels not under ink), most frequent first, each with its share of the
// samples; colours under MIN_SHARE of the samples (anti-aliased edges) are left out, but the most
// frequent one is always there. Empty when fewer than 8 pixels could be sampled.
std::vector<std::pair<Rgb, double>> background_colors(const Image& img, const InkMask& ink, const Rect& area,
                                                      double min_share = 0.3);

std::optional<Entry> check_clipped(const TextItem& item, const Rect& viewport, Suppressed* suppressed = nullptr);
std::optional<Entry> check_token_wrap(const TextItem& item);
// Every item that overlaps another (one entry per item, naming the first other one).
std::vector<Entry> check_overlap(const std::vector<TextItem>& items, const Rect& viewport);
std::optional<Entry> check_text_contrast(const TextItem& item, const Image& img, const InkMask& ink,
                                         const Rect& viewport, Suppressed* suppressed = nullptr);
std::optional<Entry> check_fill_contrast(const Fill& fill, const Image& img, const InkMask& ink);

// Every rule over one frame, in a stable order (rule, then drawing order).
std::vector<Entry> audit_frame(const std::vector<TextItem>& items, const std::vector<Fill>& fills, const Image& img,
                               Suppressed* suppressed = nullptr);

// The entries as FILE.audit.json holds them: [{"rule","view","text","rect":[x,y,w,h],"detail","ratio"}].
std::string to_json(const std::vector<Entry>& entries);

}  // namespace isolab::gui::audit
