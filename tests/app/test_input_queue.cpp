// Tests for the window's input queue (app/gui/input_queue.hpp): synthetic GLFW event sequences,
// no window. The promise: no press is lost, however short or however many arrive in one frame,
// and no frame shows a key or button changing twice (Dear ImGui 1.86 would see neither change).
#include <doctest/doctest.h>

#include <map>
#include <random>
#include <string>

#include "app/gui/input_queue.hpp"

using isolab::gui::FrameInput;
using isolab::gui::InputQueue;

namespace {

// GLFW's codes (GLFW/glfw3.h), spelled out so the test needs no GLFW.
constexpr int kSpace = 32, kB = 66, kE = 69, kR = 82, kPageDown = 267, kLeftControl = 341;
constexpr int kModControl = 0x0002;
constexpr int kLeftButton = 0;

void tap(InputQueue& q, int key, int mods = 0) {
    q.key(key, true, mods);
    q.key(key, false, mods);
}

}  // namespace

TEST_CASE("input queue: a tap within one frame is down for one frame and up the next") {
    InputQueue q;
    tap(q, kPageDown);
    FrameInput f1 = q.take_frame();
    REQUIRE(f1.presses.size() == 1);
    CHECK(f1.presses[0].key == kPageDown);
    REQUIRE(f1.keys.size() == 1);
    CHECK(f1.keys[0].down);
    CHECK(q.key_down(kPageDown));
    CHECK(q.pending());  // the release waits: the window must draw another frame now
    FrameInput f2 = q.take_frame();
    CHECK(f2.presses.empty());
    REQUIRE(f2.keys.size() == 1);
    CHECK_FALSE(f2.keys[0].down);
    CHECK_FALSE(q.key_down(kPageDown));
    CHECK_FALSE(q.pending());
    CHECK(q.take_frame().keys.empty());
}

TEST_CASE("input queue: two taps within one frame are two presses over four frames") {
    InputQueue q;
    tap(q, kSpace);
    tap(q, kSpace);
    std::vector<bool> states;
    int presses = 0;
    for (int i = 0; i < 10 && q.pending(); ++i) {
        FrameInput f = q.take_frame();
        CHECK(f.keys.size() == 1);
        presses += static_cast<int>(f.presses.size());
        states.push_back(q.key_down(kSpace));
    }
    CHECK(presses == 2);
    CHECK(states == std::vector<bool>{true, false, true, false});
}

TEST_CASE("input queue: a press during a long frame is seen by the next frame, and a held key stays down") {
    InputQueue q;
    CHECK(q.take_frame().presses.empty());
    // The frame takes 200 ms: the press arrives while it is drawn.
    q.key(kPageDown, true, 0);
    FrameInput f = q.take_frame();
    REQUIRE(f.presses.size() == 1);
    // Held over several frames (80 ms): down without a new press, and no repeat counted as a press.
    CHECK(q.take_frame().presses.empty());
    q.key(kPageDown, true, 0, /*repeat=*/true);
    FrameInput r = q.take_frame();
    CHECK(r.presses.empty());
    CHECK(r.keys.empty());
    CHECK(r.repeats.size() == 1);
    CHECK(q.key_down(kPageDown));
    q.key(kPageDown, false, 0);
    CHECK(q.take_frame().keys.size() == 1);
    CHECK_FALSE(q.key_down(kPageDown));
}

TEST_CASE("input queue: Ctrl+R tapped within one frame keeps Ctrl down while R is pressed") {
    InputQueue q;
    q.key(kLeftControl, true, kModControl);
    tap(q, kR, kModControl);
    q.key(kLeftControl, false, 0);
    FrameInput f1 = q.take_frame();
    REQUIRE(f1.presses.size() == 2);
    CHECK(f1.presses[1].key == kR);
    CHECK((f1.presses[1].mods & kModControl) != 0);
    CHECK(q.key_down(kLeftControl));
    CHECK(q.key_down(kR));
    // R's release is R's second change: it and everything after it wait for the next frame.
    FrameInput f2 = q.take_frame();
    CHECK(f2.keys.size() == 2);
    CHECK_FALSE(q.key_down(kR));
    CHECK_FALSE(q.key_down(kLeftControl));
}

TEST_CASE("input queue: fast typing keeps every character in order") {
    InputQueue q;
    const std::string typed = "echo hi";
    for (char c : typed) {
        int key = c == ' ' ? kSpace : c - 'a' + 'A';
        q.key(key, true, 0);
        q.character(static_cast<uint32_t>(c));
        q.key(key, false, 0);
    }
    std::string got;
    int frames = 0;
    while (q.pending() && frames < 100) {
        FrameInput f = q.take_frame();
        for (uint32_t c : f.chars) got += static_cast<char>(c);
        ++frames;
    }
    CHECK(got == typed);
    // 'h' appears twice: the second one may not share a frame with the first.
    CHECK(frames > 1);
}

TEST_CASE("input queue: text typed while a field is being focused waits for it") {
    InputQueue q;
    // The click that opens the shell, then "ls" typed before its input line has the keyboard.
    q.mouse_button(kLeftButton, true, 0, 5, 5);
    q.mouse_button(kLeftButton, false, 0, 5, 5);
    q.key(76, true, 0);  // L
    q.character('l');
    q.key(76, false, 0);
    q.character('s');
    FrameInput f1 = q.take_frame(/*hold_text=*/true);
    CHECK(f1.buttons.size() == 1);
    FrameInput f2 = q.take_frame(true);
    CHECK(f2.buttons.size() == 1);
    CHECK(f2.keys.size() == 1);  // L's press went on; its character waits
    CHECK(f2.chars.empty());
    CHECK(q.take_frame(true).chars.empty());
    CHECK(q.pending());
    // The field has the keyboard now.
    std::string got;
    while (q.pending()) {
        FrameInput f = q.take_frame(false);
        for (uint32_t c : f.chars) got += static_cast<char>(c);
    }
    CHECK(got == "ls");
}

TEST_CASE("input queue: two clicks in one frame are two clicks, each where it happened") {
    InputQueue q;
    q.mouse_button(kLeftButton, true, 0, 10, 20);
    q.mouse_button(kLeftButton, false, 0, 10, 20);
    q.mouse_button(kLeftButton, true, 0, 300, 40);
    q.mouse_button(kLeftButton, false, 0, 300, 40);
    q.scroll(0, 1);
    std::vector<FrameInput> frames;
    while (q.pending() && frames.size() < 10) frames.push_back(q.take_frame());
    REQUIRE(frames.size() == 4);
    for (size_t i = 0; i < 4; ++i) {
        REQUIRE(frames[i].buttons.size() == 1);
        CHECK(frames[i].buttons[0].down == (i % 2 == 0));
    }
    CHECK(frames[2].buttons[0].x == 300);
    CHECK(frames[3].wheel_y == 1);  // the scroll came after the last release: it waited with it
}

TEST_CASE("input queue: random storms lose nothing and never change a key twice in a frame") {
    std::mt19937 rng(17);
    for (int trial = 0; trial < 200; ++trial) {
        InputQueue q;
        std::map<int, bool> down;
        int sent_presses = 0;
        std::string sent_chars, got_chars;
        int got_presses = 0;
        for (int frame = 0; frame < 40; ++frame) {
            // Between two frames: 0..6 events on three keys and the mouse.
            int n = static_cast<int>(rng() % 7);
            for (int i = 0; i < n; ++i) {
                int which = static_cast<int>(rng() % 4);
                if (which == 3) {
                    char c = static_cast<char>('a' + rng() % 26);
                    q.character(static_cast<uint32_t>(c));
                    sent_chars += c;
                    continue;
                }
                int key = which == 0 ? kPageDown : which == 1 ? kSpace : kB;
                bool next = !down[key];
                down[key] = next;
                q.key(key, next, 0);
                if (next) ++sent_presses;
            }
            FrameInput f = q.take_frame();
            std::map<int, int> changes;
            for (const auto& k : f.keys) ++changes[k.code];
            for (const auto& [key, count] : changes) CHECK(count == 1);
            got_presses += static_cast<int>(f.presses.size());
            for (uint32_t c : f.chars) got_chars += static_cast<char>(c);
        }
        for (int i = 0; i < 400 && q.pending(); ++i) {
            FrameInput f = q.take_frame();
            got_presses += static_cast<int>(f.presses.size());
            for (uint32_t c : f.chars) got_chars += static_cast<char>(c);
        }
        CHECK_FALSE(q.pending());
        CHECK(got_presses == sent_presses);
        CHECK(got_chars == sent_chars);
        for (const auto& [key, is_down] : down) CHECK(q.key_down(key) == is_down);
    }
}
