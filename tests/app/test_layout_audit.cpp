// The layout audit's rules (app/gui/layout_audit.hpp) on synthetic frames: each rule is shown to
// fire on the fault it names and to stay quiet on its near miss. The recorder that turns a real
// frame into these inputs is exercised by tests/integration/test_gui.cpp under Xvfb.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "app/gui/layout_audit.hpp"

using namespace isolab::gui::audit;

namespace {

constexpr uint32_t col(uint8_t r, uint8_t g, uint8_t b, uint8_t a = 255) {
    return static_cast<uint32_t>(r) | (static_cast<uint32_t>(g) << 8) | (static_cast<uint32_t>(b) << 16) |
           (static_cast<uint32_t>(a) << 24);
}

// A picture of W×H pixels in one colour, with rectangles painted on it.
struct Canvas {
    int w, h;
    std::vector<uint8_t> px;
    Canvas(int width, int height, Rgb bg) : w(width), h(height), px(static_cast<size_t>(width) * height * 4) { paint({0, 0, 1e6f, 1e6f}, bg); }
    void paint(const Rect& r, Rgb c) {
        for (int y = std::max(0, static_cast<int>(r.y0)); y < std::min(h, static_cast<int>(r.y1)); ++y)
            for (int x = std::max(0, static_cast<int>(r.x0)); x < std::min(w, static_cast<int>(r.x1)); ++x) {
                uint8_t* p = &px[(static_cast<size_t>(y) * w + x) * 4];
                p[0] = c.r, p[1] = c.g, p[2] = c.b, p[3] = 255;
            }
    }
    Image image() const { return Image{w, h, px.data()}; }
};

// One line of text whose glyphs are 8×12 boxes side by side from (X, Y).
TextItem one_line(const std::string& text, float x, float y, Rect clip, uint32_t color = col(255, 255, 255)) {
    TextItem t;
    t.view = "race";
    t.layer = "IsoLab";
    t.text = text;
    t.color = color;
    t.clip = clip;
    Line l;
    l.text = text;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == ' ') continue;
        Rect g{x + 8.0f * i, y, x + 8.0f * i + 8, y + 12};
        t.glyphs.push_back(g);
        l.ink = l.ink.unite(g);
    }
    t.lines.push_back(l);
    return t;
}

// A text of lines given as {text, how it ended, what the wrap skipped}.
TextItem lines(std::vector<Line> ls) {
    TextItem t;
    t.view = "stacks";
    t.layer = "IsoLab";
    for (size_t i = 0; i < ls.size(); ++i) {
        t.text += ls[i].text + (i + 1 < ls.size() ? (ls[i].end == Break::Newline ? "\n" : ls[i].skipped) : "");
        ls[i].ink = Rect{0, 14.0f * i, 60, 14.0f * i + 12};
        t.glyphs.push_back(ls[i].ink);
    }
    t.lines = std::move(ls);
    t.clip = {0, 0, 200, 200};
    return t;
}

const Rect kScreen{0, 0, 400, 300};

}  // namespace

TEST_CASE("layout audit: WCAG contrast ratios and colours") {
    CHECK(contrast_ratio({0, 0, 0}, {255, 255, 255}) == doctest::Approx(21.0));
    CHECK(contrast_ratio({255, 255, 255}, {0, 0, 0}) == doctest::Approx(21.0));  // order does not matter
    CHECK(contrast_ratio({90, 90, 90}, {90, 90, 90}) == doctest::Approx(1.0));
    // WebAIM's reference pair: #767676 on white is the lightest grey that passes 4.5:1.
    CHECK(contrast_ratio({0x76, 0x76, 0x76}, {255, 255, 255}) == doctest::Approx(4.54).epsilon(0.005));
    CHECK(contrast_ratio({0x77, 0x77, 0x77}, {255, 255, 255}) < kTextContrastMinimum);
    CHECK(relative_luminance({255, 0, 0}) == doctest::Approx(0.2126));
    CHECK(rgb_of(col(1, 2, 3, 4)) == Rgb{1, 2, 3});
    CHECK(alpha_of(col(1, 2, 3, 4)) == 4);
    CHECK(hex({0x2e, 0xa0, 0x43}) == "#2ea043");
    // Half-transparent black over white is mid grey.
    Rgb g = blend(col(0, 0, 0, 128), {255, 255, 255});
    CHECK(g.r == 127);
    CHECK(g == Rgb{127, 127, 127});
}

TEST_CASE("layout audit: clipped fires past a clip edge or the window, stays quiet inside and on scrolled edges") {
    const Rect box{10, 10, 110, 40};
    SUBCASE("inside: quiet") { CHECK_FALSE(check_clipped(one_line("web", 20, 15, box), kScreen)); }
    SUBCASE("a quad's pixel of padding past the edge: quiet") {
        CHECK_FALSE(check_clipped(one_line("web", 110 - 24 + 1, 15, box), kScreen));
    }
    SUBCASE("past the right edge of its box") {
        auto e = check_clipped(one_line("busybox:latest", 20, 15, box), kScreen);  // ends at 132
        REQUIRE(e);
        CHECK(e->rule == "clipped");
        CHECK(e->text == "busybox:latest");
        CHECK(e->detail.find("right edge of its clip rect by 22 px") != std::string::npos);
        CHECK(e->rect.x1 == doctest::Approx(132));
    }
    SUBCASE("past the window") {
        auto e = check_clipped(one_line("Linux 6.1.0", 380, 15, {0, 0, 1000, 1000}), kScreen);
        REQUIRE(e);
        CHECK(e->detail.find("right edge of the window") != std::string::npos);
    }
    SUBCASE("drawn where nothing of it shows") {
        auto e = check_clipped(one_line("PID 1", 200, 200, box), kScreen);
        REQUIRE(e);
        CHECK(e->detail.find("not visible at all") != std::string::npos);
    }
    SUBCASE("cut with an ellipsis by ImGui") {
        TextItem t = one_line("Images & la", 20, 15, box);
        CHECK_FALSE(check_clipped(t, kScreen));
        t.ellipsized = true;
        auto e = check_clipped(t, kScreen);
        REQUIRE(e);
        CHECK(e->detail.find("ellipsis") != std::string::npos);
    }
    SUBCASE("cut at the bottom of a window that scrolls: suppressed and counted") {
        TextItem t = one_line("line 40", 20, 35, box);  // glyphs to y=47, box ends at 40
        Suppressed s;
        t.scrolls_y = true;
        t.scroll_area = box;
        CHECK_FALSE(check_clipped(t, kScreen, &s));
        CHECK(s.scrolled == 1);
        t.scrolls_y = false;  // the same cut in a window that does not scroll is a fault
        REQUIRE(check_clipped(t, kScreen, &s));
        t.scrolls_y = true;  // scrolling up and down does not excuse a cut at the side
        TextItem wide = one_line("a long line of forty", 20, 35, box);
        wide.scrolls_y = true;
        wide.scroll_area = box;
        CHECK(check_clipped(wide, kScreen, &s));
        CHECK(s.scrolled == 1);
    }
    SUBCASE("wholly below the edge of a window that scrolls: suppressed; beside it: a fault") {
        Suppressed s;
        TextItem below = one_line("gui-data", 20, 60, box);
        below.scrolls_y = true;
        below.scroll_area = box;
        CHECK_FALSE(check_clipped(below, kScreen, &s));
        CHECK(s.scrolled == 1);
        TextItem beside = one_line("256.0 MiB reserved", 120, 15, box);  // right of a box that scrolls up and down
        beside.scrolls_y = true;
        beside.scroll_area = box;
        auto e = check_clipped(beside, kScreen, &s);
        REQUIRE(e);
        CHECK(e->detail.find("not visible at all") != std::string::npos);
        CHECK(s.scrolled == 1);
    }
}

TEST_CASE("layout audit: token_wrap fires on a break inside an ASCII token, not at blanks or between Hangul") {
    auto wrap = [](std::string a, std::string skipped, std::string b) {
        return lines({Line{a, Break::Wrap, skipped, {}}, Line{b, Break::End, "", {}}});
    };
    SUBCASE("busybox:|latest") {
        auto e = check_token_wrap(wrap("image busybox:", "", "latest"));
        REQUIRE(e);
        CHECK(e->rule == "token_wrap");
        CHECK(e->detail.find("`busybox:|latest`") != std::string::npos);
        CHECK(e->text == "image busybox:latest");
    }
    SUBCASE("Linux 6.|1.0 (ImGui may wrap after a period)") {
        auto e = check_token_wrap(wrap("Linux 6.", "", "1.0"));
        REQUIRE(e);
        CHECK(e->detail.find("`6.|1.0`") != std::string::npos);
    }
    SUBCASE("PI|D 1 (a word longer than the line is cut anywhere)") { CHECK(check_token_wrap(wrap("PI", "", "D 1"))); }
    SUBCASE("a break at a blank: quiet") {
        CHECK_FALSE(check_token_wrap(wrap("PID", " ", "1 inside")));
        CHECK_FALSE(check_token_wrap(wrap("busybox:latest ", "", "on the host")));
    }
    SUBCASE("an explicit newline: quiet") {
        CHECK_FALSE(check_token_wrap(lines({Line{"busybox:", Break::Newline, "", {}}, Line{"latest", Break::End, "", {}}})));
    }
    SUBCASE("between two Hangul syllables: allowed, as Korean allows") {
        CHECK_FALSE(check_token_wrap(wrap("컨테이너가 실행", "", "중이에요")));
    }
    SUBCASE("Hangul against an ASCII token: the token is cut from its word") {
        CHECK(check_token_wrap(wrap("이미지 busybox", "", "를 받아요")));
        CHECK(check_token_wrap(wrap("실행 중", "", ".")));
    }
}

TEST_CASE("layout audit: overlap fires on glyphs over glyphs, stays quiet on touching quads and across windows") {
    const Rect all{0, 0, 400, 300};
    SUBCASE("two labels drawn over each other") {
        std::vector<TextItem> items = {one_line("running", 20, 20, all), one_line("paused", 44, 24, all)};
        auto es = check_overlap(items, kScreen);
        REQUIRE(es.size() == 2);
        CHECK(es[0].text == "running");
        CHECK(es[0].detail.find("\"paused\"") != std::string::npos);
        CHECK(es[1].text == "paused");
        CHECK(es[1].rect.width() > 0);
    }
    SUBCASE("neighbours whose quads share only their padding: quiet") {
        // "web" ends at x=44; the next begins at 42: the 2 px of overlap are both quads' padding.
        std::vector<TextItem> items = {one_line("web", 20, 20, all), one_line("api", 42, 20, all)};
        CHECK(check_overlap(items, kScreen).empty());
    }
    SUBCASE("a tooltip over the picture: quiet") {
        std::vector<TextItem> items = {one_line("running", 20, 20, all), one_line("paused", 44, 24, all)};
        items[1].layer = "##Tooltip_00";
        CHECK(check_overlap(items, kScreen).empty());
    }
    SUBCASE("the covered part is clipped away: quiet") {
        std::vector<TextItem> items = {one_line("running", 20, 20, {0, 0, 40, 300}), one_line("paused", 44, 24, all)};
        CHECK(check_overlap(items, kScreen).empty());
    }
}

TEST_CASE("layout audit: background colours are read around the glyphs, never under them") {
    Canvas c(40, 20, {255, 255, 255});
    c.paint({0, 0, 40, 10}, {0, 0, 0});  // the top half black
    InkMask ink(40, 20);
    auto bgs = background_colors(c.image(), ink, {0, 0, 40, 20});
    REQUIRE(bgs.size() == 2);  // half and half: both count
    CHECK(bgs[0].second == doctest::Approx(0.5));
    ink.add({0, 0, 40, 10});  // the black half is under ink now
    bgs = background_colors(c.image(), ink, {0, 0, 40, 20});
    REQUIRE(bgs.size() == 1);
    CHECK(bgs[0].first == Rgb{255, 255, 255});
    CHECK(background_colors(c.image(), ink, {0, 0, 2, 12}).empty());  // 4 pixels: too few to tell
}

TEST_CASE("layout audit: contrast fires under 4.5:1 for text, with its alpha, against the worst background") {
    auto frame = [](Rgb bg, uint32_t text, std::optional<Rgb> right_half = std::nullopt) {
        Canvas c(200, 60, bg);
        if (right_half) c.paint({40, 0, 200, 60}, *right_half);
        TextItem t = one_line("Linux", 20, 20, {0, 0, 200, 60}, text);
        for (const Rect& g : t.glyphs) c.paint(g.grow(-3), rgb_of(text));  // the ink itself
        InkMask ink(200, 60);
        for (const Rect& g : t.glyphs) ink.add(g);
        return std::make_tuple(c, t, ink);
    };
    SUBCASE("#777 on white fires, #767676 stays quiet") {
        auto [c, t, ink] = frame({255, 255, 255}, col(0x77, 0x77, 0x77));
        auto e = check_text_contrast(t, c.image(), ink, kScreen);
        REQUIRE(e);
        CHECK(e->rule == "contrast");
        CHECK(*e->ratio == doctest::Approx(contrast_ratio({0x77, 0x77, 0x77}, {255, 255, 255})));
        CHECK(e->detail.find("#777777 on #ffffff") != std::string::npos);
        auto [c2, t2, ink2] = frame({255, 255, 255}, col(0x76, 0x76, 0x76));
        CHECK_FALSE(check_text_contrast(t2, c2.image(), ink2, kScreen));
    }
    SUBCASE("white on the running green fires (the box labels of the stacks)") {
        auto [c, t, ink] = frame({46, 160, 67}, col(255, 255, 255));
        auto e = check_text_contrast(t, c.image(), ink, kScreen);
        REQUIRE(e);
        CHECK(*e->ratio < kTextContrastMinimum);
    }
    SUBCASE("black at half alpha on white is grey: fires; opaque black is quiet") {
        auto [c, t, ink] = frame({255, 255, 255}, col(0, 0, 0, 100));
        auto e = check_text_contrast(t, c.image(), ink, kScreen);
        REQUIRE(e);
        CHECK(*e->ratio == doctest::Approx(contrast_ratio(blend(col(0, 0, 0, 100), {255, 255, 255}), {255, 255, 255})));
        auto [c2, t2, ink2] = frame({255, 255, 255}, col(0, 0, 0));
        CHECK_FALSE(check_text_contrast(t2, c2.image(), ink2, kScreen));
    }
    SUBCASE("text straddling two fills is measured against the worse") {
        auto [c, t, ink] = frame({0, 0, 0}, col(255, 255, 255), Rgb{230, 230, 230});
        auto e = check_text_contrast(t, c.image(), ink, kScreen);
        REQUIRE(e);
        CHECK(e->detail.find("on #e6e6e6") != std::string::npos);
    }
    SUBCASE("no pixel to read: not reported, counted") {
        auto [c, t, ink] = frame({255, 255, 255}, col(0x77, 0x77, 0x77));
        InkMask all(200, 60);
        all.add({0, 0, 200, 60});
        Suppressed s;
        CHECK_FALSE(check_text_contrast(t, c.image(), all, kScreen, &s));
        CHECK(s.no_background == 1);
    }
}

TEST_CASE("layout audit: a state fill needs 3:1 against what surrounds it") {
    auto check = [](Rgb around, uint32_t fill_color) {
        Canvas c(100, 60, around);
        Fill f{"stacks", "exited", fill_color, {20, 20, 60, 40}};
        c.paint(f.box, blend(fill_color, around));
        InkMask ink(100, 60);
        return check_fill_contrast(f, c.image(), ink);
    };
    const uint32_t grey = col(110, 118, 129);  // state_color("exited")
    auto e = check({128, 128, 128}, grey);
    REQUIRE(e);
    CHECK(e->rule == "contrast");
    CHECK(e->text == "[fill exited]");
    CHECK(*e->ratio == doctest::Approx(contrast_ratio({110, 118, 129}, {128, 128, 128})));
    CHECK(e->detail.find("needs 3.00:1") != std::string::npos);
    CHECK_FALSE(check({255, 255, 255}, col(0, 0, 0)));
    // 3.2:1 passes a state fill although it would fail text.
    Rgb around{255, 255, 255};
    uint8_t v = 0;
    while (contrast_ratio({v, v, v}, around) > 3.2) ++v;
    CHECK_FALSE(check(around, col(v, v, v)));
    CHECK(contrast_ratio({v, v, v}, around) < kTextContrastMinimum);
    // Its alpha counts: the same grey at a fifth of its strength on white disappears.
    CHECK(check(around, col(0, 0, 0, 50)));
}

TEST_CASE("layout audit: a frame's entries in FILE.audit.json's shape") {
    Canvas c(400, 300, {30, 30, 30});
    std::vector<TextItem> items = {one_line("busybox:latest", 300, 20, {0, 0, 400, 300}, col(90, 90, 90)),
                                   one_line("web", 20, 100, {0, 0, 400, 300})};
    Suppressed s;
    auto entries = audit_frame(items, {}, c.image(), &s);
    // "busybox:latest" passes the window's right edge (x 412) and is dark grey on dark grey.
    REQUIRE(entries.size() == 2);
    CHECK(entries[0].rule == "clipped");
    CHECK(entries[1].rule == "contrast");
    auto j = nlohmann::json::parse(to_json(entries));
    REQUIRE(j.is_array());
    REQUIRE(j.size() == 2);
    CHECK(j[0]["rule"] == "clipped");
    CHECK(j[0]["view"] == "race");
    CHECK(j[0]["text"] == "busybox:latest");
    CHECK(j[0]["rect"] == nlohmann::json::array({300, 20, 112, 12}));
    CHECK_FALSE(j[0].contains("ratio"));
    CHECK(j[1]["ratio"].get<double>() > 1.0);
    CHECK(j[1]["ratio"].get<double>() < 4.5);
    CHECK(nlohmann::json::parse(to_json({})).empty());
}
