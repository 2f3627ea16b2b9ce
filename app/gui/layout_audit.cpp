#include "app/gui/layout_audit.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <unordered_map>

#include <nlohmann/json.hpp>

namespace isolab::gui::audit {

namespace {

// A glyph's quad carries about a pixel of transparent padding around its ink (the atlas packs
// glyphs with oversampling filters): a quad that passes its clip edge by no more than this has
// lost no ink.
constexpr float kQuadPadding = 1.0f;

// The first code point of S (0 when empty); a malformed byte is returned as itself.
uint32_t first_code_point(const std::string& s) {
    if (s.empty()) return 0;
    auto b = static_cast<unsigned char>(s[0]);
    int n = b < 0x80 ? 0 : (b >> 5) == 6 ? 1 : (b >> 4) == 14 ? 2 : (b >> 3) == 30 ? 3 : 0;
    if (n == 0 || s.size() <= static_cast<size_t>(n)) return b;
    uint32_t c = b & (0x3F >> n);
    for (int i = 1; i <= n; ++i) c = (c << 6) | (static_cast<unsigned char>(s[i]) & 0x3F);
    return c;
}

// The last code point of S (0 when empty).
uint32_t last_code_point(const std::string& s) {
    if (s.empty()) return 0;
    size_t at = s.size() - 1;
    while (at > 0 && (static_cast<unsigned char>(s[at]) & 0xC0) == 0x80) --at;
    return first_code_point(s.substr(at));
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_ascii_graphic(uint32_t c) { return c > 0x20 && c < 0x7F; }

// The non-blank run at the end of S / at the start of S: the two halves of a cut token.
std::string tail_token(const std::string& s) {
    size_t at = s.size();
    while (at > 0 && !is_blank(s[at - 1])) --at;
    return s.substr(at);
}
std::string head_token(const std::string& s) {
    size_t at = 0;
    while (at < s.size() && !is_blank(s[at])) ++at;
    return s.substr(0, at);
}

std::string ratio_text(double r) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f:1", r);
    return buf;
}

std::string px(float v) { return std::to_string(static_cast<int>(std::lround(v))) + " px"; }

}  // namespace

Rect Rect::intersect(const Rect& o) const {
    return {std::max(x0, o.x0), std::max(y0, o.y0), std::min(x1, o.x1), std::min(y1, o.y1)};
}

Rect Rect::unite(const Rect& o) const {
    if (o.empty()) return *this;
    if (empty()) return o;
    return {std::min(x0, o.x0), std::min(y0, o.y0), std::max(x1, o.x1), std::max(y1, o.y1)};
}

Rect TextItem::ink() const {
    Rect r;
    for (const Rect& g : glyphs) r = r.unite(g);
    return r;
}

Rgb rgb_of(uint32_t c) {
    return {static_cast<uint8_t>(c & 0xFF), static_cast<uint8_t>((c >> 8) & 0xFF), static_cast<uint8_t>((c >> 16) & 0xFF)};
}
uint8_t alpha_of(uint32_t c) { return static_cast<uint8_t>(c >> 24); }

std::string hex(Rgb c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c.r, c.g, c.b);
    return buf;
}

double relative_luminance(Rgb c) {
    auto channel = [](uint8_t v) {
        double s = v / 255.0;
        return s <= 0.03928 ? s / 12.92 : std::pow((s + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
}

double contrast_ratio(Rgb a, Rgb b) {
    double la = relative_luminance(a), lb = relative_luminance(b);
    if (la < lb) std::swap(la, lb);
    return (la + 0.05) / (lb + 0.05);
}

Rgb blend(uint32_t color, Rgb bg) {
    double a = alpha_of(color) / 255.0;
    Rgb fg = rgb_of(color);
    auto mix = [&](uint8_t f, uint8_t b) { return static_cast<uint8_t>(std::lround(f * a + b * (1 - a))); };
    return {mix(fg.r, bg.r), mix(fg.g, bg.g), mix(fg.b, bg.b)};
}

Rgb Image::at(int x, int y) const {
    const uint8_t* p = rgba + (static_cast<size_t>(y) * width + x) * 4;
    return {p[0], p[1], p[2]};
}

void InkMask::add(const Rect& r) {
    int x0 = std::max(0, static_cast<int>(std::floor(r.x0))), x1 = std::min(w_, static_cast<int>(std::ceil(r.x1)));
    int y0 = std::max(0, static_cast<int>(std::floor(r.y0))), y1 = std::min(h_, static_cast<int>(std::ceil(r.y1)));
    for (int y = y0; y < y1; ++y)
        for (int x = x0; x < x1; ++x) bits_[static_cast<size_t>(y) * w_ + x] = true;
}

std::vector<std::pair<Rgb, double>> background_colors(const Image& img, const InkMask& ink, const Rect& area,
                                                      double min_share) {
    int x0 = std::max(0, static_cast<int>(std::floor(area.x0))), x1 = std::min(img.width, static_cast<int>(std::ceil(area.x1)));
    int y0 = std::max(0, static_cast<int>(std::floor(area.y0))), y1 = std::min(img.height, static_cast<int>(std::ceil(area.y1)));
    std::unordered_map<uint32_t, int> counts;
    int n = 0;
    for (int y = y0; y < y1; ++y)
        for (int x = x0; x < x1; ++x) {
            if (ink.covered(x, y)) continue;
            Rgb c = img.at(x, y);
            ++counts[c.r | (c.g << 8) | (c.b << 16)];
            ++n;
        }
    std::vector<std::pair<Rgb, double>> out;
    if (n < 8) return out;
    std::vector<std::pair<uint32_t, int>> sorted(counts.begin(), counts.end());
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    for (size_t i = 0; i < sorted.size(); ++i) {
        double share = static_cast<double>(sorted[i].second) / n;
        if (i > 0 && share < min_share) break;
        out.push_back({rgb_of(sorted[i].first), share});
    }
    return out;
}

std::optional<Entry> check_clipped(const TextItem& item, const Rect& viewport, Suppressed* suppressed) {
    if (item.glyphs.empty()) return std::nullopt;
    const Rect ink = item.ink();
    Entry e{"clipped", item.view, item.text, ink, "", std::nullopt};
    if (item.ellipsized) {
        e.detail = "cut short: ImGui drew an ellipsis after it (the label does not fit)";
        return e;
    }
    const Rect visible = item.clip.intersect(viewport);
    auto near = [](float a, float b) { return std::fabs(a - b) <= 1.0f; };
    if (ink.intersect(visible).empty()) {
        // Wholly beyond the edge of a window that scrolls that way: scrolled out of view (ImGui's
        // own widgets are not even drawn there; a view's own AddText calls are).
        const bool scrolled = (item.scrolls_y && ink.y0 >= visible.y1 && near(visible.y1, item.scroll_area.y1)) ||
                              (item.scrolls_y && ink.y1 <= visible.y0 && near(visible.y0, item.scroll_area.y0)) ||
                              (item.scrolls_x && ink.x0 >= visible.x1 && near(visible.x1, item.scroll_area.x1)) ||
                              (item.scrolls_x && ink.x1 <= visible.x0 && near(visible.x0, item.scroll_area.x0));
        if (scrolled) {
            if (suppressed) ++suppressed->scrolled;
            return std::nullopt;
        }
        e.detail = "not visible at all: drawn outside its clip rect " + px(ink.x0) + "," + px(ink.y0);
        return e;
    }
    struct Side {
        const char* name;
        float over;        // pixels of quad past the edge
        bool window_edge;  // the window (viewport) is the edge, not a clip rect inside it
        bool scroll_edge;  // the edge is a scrolling window's, along its scroll axis
    };
    const Side sides[] = {
        {"left", visible.x0 - ink.x0, viewport.x0 >= item.clip.x0, item.scrolls_x && near(visible.x0, item.scroll_area.x0)},
        {"right", ink.x1 - visible.x1, viewport.x1 <= item.clip.x1, item.scrolls_x && near(visible.x1, item.scroll_area.x1)},
        {"top", visible.y0 - ink.y0, viewport.y0 >= item.clip.y0, item.scrolls_y && near(visible.y0, item.scroll_area.y0)},
        {"bottom", ink.y1 - visible.y1, viewport.y1 <= item.clip.y1, item.scrolls_y && near(visible.y1, item.scroll_area.y1)},
    };
    bool cut = false, only_scrolling = true;
    for (const Side& s : sides) {
        if (s.over <= kQuadPadding) continue;
        cut = true;
        if (!s.scroll_edge) only_scrolling = false;
        e.detail += std::string(e.detail.empty() ? "cut at the " : ", the ") + s.name + " edge of " +
                    (s.window_edge ? "the window" : "its clip rect") + " by " + px(s.over);
    }
    if (!cut) return std::nullopt;
    if (only_scrolling) {
        if (suppressed) ++suppressed->scrolled;
        return std::nullopt;
    }
    return e;
}

std::optional<Entry> check_token_wrap(const TextItem& item) {
    for (size_t i = 0; i + 1 < item.lines.size(); ++i) {
        const Line& l = item.lines[i];
        if (l.end != Break::Wrap) continue;
        if (!l.skipped.empty() || l.text.empty() || is_blank(l.text.back())) continue;  // broken at a blank
        const std::string& next = item.lines[i + 1].text;
        if (next.empty() || is_blank(next.front())) continue;
        uint32_t before = last_code_point(l.text), after = first_code_point(next);
        if (!is_ascii_graphic(before) && !is_ascii_graphic(after)) continue;  // Hangul|Hangul: allowed
        Entry e{"token_wrap", item.view, item.text, l.ink.unite(item.lines[i + 1].ink), "", std::nullopt};
        e.detail = "wrapped inside a token: `" + tail_token(l.text) + "|" + head_token(next) + "`";
        return e;
    }
    return std::nullopt;
}

std::vector<Entry> check_overlap(const std::vector<TextItem>& items, const Rect& viewport) {
    std::vector<Rect> visible(items.size()), ink(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
        visible[i] = items[i].clip.intersect(viewport);
        ink[i] = items[i].ink().intersect(visible[i]);
    }
    // The first overlap found for each item: where, and with which other item.
    std::vector<std::optional<std::pair<Rect, size_t>>> found(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
        if (ink[i].empty()) continue;
        for (size_t j = i + 1; j < items.size(); ++j) {
            if (items[j].layer != items[i].layer || ink[j].empty() || ink[i].intersect(ink[j]).empty()) continue;
            std::optional<Rect> where;
            for (const Rect& g : items[i].glyphs) {
                Rect a = g.grow(-kQuadPadding).intersect(visible[i]);
                if (a.empty()) continue;
                for (const Rect& h : items[j].glyphs) {
                    Rect o = a.intersect(h.grow(-kQuadPadding).intersect(visible[j]));
                    if (o.empty() || o.width() * o.height() < 1.0f) continue;
                    where = where ? where->unite(o) : o;
                }
            }
            if (!where) continue;
            if (!found[i]) found[i] = std::make_pair(*where, j);
            if (!found[j]) found[j] = std::make_pair(*where, i);
        }
    }
    std::vector<Entry> out;
    for (size_t i = 0; i < items.size(); ++i) {
        if (!found[i]) continue;
        const TextItem& other = items[found[i]->second];
        Entry e{"overlap", items[i].view, items[i].text, found[i]->first, "", std::nullopt};
        e.detail = "overlaps \"" + other.text + "\"" + (other.view != items[i].view ? " (" + other.view + ")" : "");
        out.push_back(std::move(e));
    }
    return out;
}

std::optional<Entry> check_text_contrast(const TextItem& item, const Image& img, const InkMask& ink, const Rect& viewport,
                                         Suppressed* suppressed) {
    const Rect visible = item.clip.intersect(viewport).intersect(Rect{0, 0, static_cast<float>(img.width), static_cast<float>(img.height)});
    std::optional<Entry> worst;
    bool sampled = false, any_line = false;
    for (const Line& line : item.lines) {
        Rect shown = line.ink.intersect(visible);
        if (shown.empty()) continue;
        any_line = true;
        // Around and between the glyphs, inside what the item may draw on.
        auto bgs = background_colors(img, ink, shown.grow(3).intersect(visible));
        if (bgs.empty()) continue;
        sampled = true;
        for (const auto& [bg, share] : bgs) {
            Rgb fg = blend(item.color, bg);
            double r = contrast_ratio(fg, bg);
            if (r >= kTextContrastMinimum || (worst && *worst->ratio <= r)) continue;
            worst = Entry{"contrast", item.view, item.text, shown, "", r};
            worst->detail = "text " + hex(fg) + " on " + hex(bg) + ": " + ratio_text(r) + ", needs " +
                            ratio_text(kTextContrastMinimum);
        }
    }
    if (any_line && !sampled && suppressed) ++suppressed->no_background;
    return worst;
}

std::optional<Entry> check_fill_contrast(const Fill& fill, const Image& img, const InkMask& ink) {
    // What surrounds the fill: a ring from 2 to 4 pixels outside its box (past its anti-aliased
    // edge and a one-pixel border), without glyphs.
    const Rect outer = fill.box.grow(4), inner = fill.box.grow(1.5f);
    int x0 = std::max(0, static_cast<int>(std::floor(outer.x0))), x1 = std::min(img.width, static_cast<int>(std::ceil(outer.x1)));
    int y0 = std::max(0, static_cast<int>(std::floor(outer.y0))), y1 = std::min(img.height, static_cast<int>(std::ceil(outer.y1)));
    std::unordered_map<uint32_t, int> counts;
    int n = 0;
    for (int y = y0; y < y1; ++y)
        for (int x = x0; x < x1; ++x) {
            float cx = x + 0.5f, cy = y + 0.5f;
            if (cx >= inner.x0 && cx < inner.x1 && cy >= inner.y0 && cy < inner.y1) continue;
            if (ink.covered(x, y)) continue;
            Rgb c = img.at(x, y);
            ++counts[c.r | (c.g << 8) | (c.b << 16)];
            ++n;
        }
    if (n < 8) return std::nullopt;
    auto most = std::max_element(counts.begin(), counts.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second < b.second : a.first > b.first;
    });
    Rgb around = rgb_of(most->first);
    Rgb shown = blend(fill.color, around);
    double r = contrast_ratio(shown, around);
    if (r >= kStateFillContrastMinimum) return std::nullopt;
    Entry e{"contrast", fill.view, "[fill " + fill.state + "]", fill.box, "", r};
    e.detail = "state fill `" + fill.state + "` " + hex(shown) + " on " + hex(around) + ": " + ratio_text(r) + ", needs " +
               ratio_text(kStateFillContrastMinimum);
    return e;
}

std::vector<Entry> audit_frame(const std::vector<TextItem>& items, const std::vector<Fill>& fills, const Image& img,
                               Suppressed* suppressed) {
    const Rect viewport{0, 0, static_cast<float>(img.width), static_cast<float>(img.height)};
    InkMask mask(img.width, img.height);
    for (const TextItem& t : items)
        for (const Rect& g : t.glyphs) mask.add(g);
    std::vector<Entry> out;
    for (const TextItem& t : items)
        if (auto e = check_clipped(t, viewport, suppressed)) out.push_back(std::move(*e));
    for (Entry& e : check_overlap(items, viewport)) out.push_back(std::move(e));
    for (const TextItem& t : items)
        if (auto e = check_token_wrap(t)) out.push_back(std::move(*e));
    for (const TextItem& t : items)
        if (auto e = check_text_contrast(t, img, mask, viewport, suppressed)) out.push_back(std::move(*e));
    for (const Fill& f : fills)
        if (auto e = check_fill_contrast(f, img, mask)) out.push_back(std::move(*e));
    return out;
}

std::string to_json(const std::vector<Entry>& entries) {
    nlohmann::json list = nlohmann::json::array();
    for (const Entry& e : entries) {
        nlohmann::json j = {{"rule", e.rule},
                            {"view", e.view},
                            {"text", e.text},
                            {"rect", {std::lround(e.rect.x0), std::lround(e.rect.y0), std::lround(e.rect.width()),
                                      std::lround(e.rect.height())}},
                            {"detail", e.detail}};
        if (e.ratio) j["ratio"] = std::round(*e.ratio * 100) / 100;
        list.push_back(std::move(j));
    }
    return list.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace isolab::gui::audit
