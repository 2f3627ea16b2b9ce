// The window's input queue: GLFW's callbacks push every key, character, mouse button and scroll
// event here, and each frame takes what it can show without losing any (issue 17).
//
// Why: Dear ImGui 1.86 has no input queue of its own. Its GLFW backend writes a key's state into
// io.KeysDown[] as the event arrives, so a key pressed and released between two frames (a 10 ms
// clicker tap, a press during a long frame) is never seen down, and two clicks in one frame are
// one. Here each frame takes at most one transition per key and per mouse button: a press and its
// release in the same frame become "down this frame, up the next one", and whatever cannot be
// shown this frame stays queued, in order, for the next (the window must then draw another frame
// at once: pending()). Key presses are also handed to the caller as a list, so the presenter's
// clicker logic counts every press, however short or however many arrived in one frame.
//
// Codes are GLFW's (key, button, mods); this file includes no GLFW or ImGui header, so the unit
// tests drive it without a window.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

namespace isolab::gui {

struct InputEvent {
    enum class Kind { Key, Char, MouseButton, Scroll };
    Kind kind = Kind::Key;
    int code = 0;           // Key: the GLFW key; MouseButton: the button; Char: the code point
    bool down = false;      // Key, MouseButton: pressed (true) or released
    bool repeat = false;    // Key: an auto-repeat of a key held down (no transition)
    int mods = 0;           // Key, MouseButton: GLFW_MOD_* bits at the time
    double x = 0, y = 0;    // MouseButton: where the pointer was; Scroll: the offsets
};

// One key press as the presenter reads it (repeats excluded).
struct KeyPress {
    int key = 0;
    int mods = 0;
};

// What one frame gets.
struct FrameInput {
    struct Transition {
        int code = 0;
        bool down = false;
        double x = 0, y = 0;  // mouse buttons: the pointer at the press or release
    };
    std::vector<Transition> keys;       // at most one per key, in arrival order
    std::vector<Transition> buttons;    // at most one per mouse button, in arrival order
    std::vector<KeyPress> presses;      // the key presses among `keys` (what a clicker sends)
    std::vector<KeyPress> repeats;      // auto-repeats of keys held down
    std::vector<uint32_t> chars;        // typed characters, in order
    double wheel_x = 0, wheel_y = 0;    // scrolling, summed
};

class InputQueue {
public:
    static constexpr int kMaxKey = 512;      // io.KeysDown's size in Dear ImGui 1.86
    static constexpr int kMaxButton = 5;     // io.MouseDown's size

    void push(const InputEvent& e) { events_.push_back(e); }
    void key(int key, bool down, int mods, bool repeat = false);
    void character(uint32_t codepoint);
    void mouse_button(int button, bool down, int mods, double x, double y);
    void scroll(double dx, double dy);

    // This frame's share of the queue: events in arrival order up to (not including) the first
    // one that would be a second transition of a key or button already changed this frame.
    // Characters typed after a held-back event wait with it, so text keeps its order with the
    // keys around it (a fast "echo" still arrives as e, c, h, o).
    // HOLD_TEXT: a text field is about to take the keyboard (Dear ImGui focuses it a frame after
    // it is asked to): the frame stops before the first character, which waits for the field
    // instead of reaching a frame where nothing takes it (the first letter typed into a new shell
    // was lost that way).
    FrameInput take_frame(bool hold_text = false);
    // Events left for the next frames: the frame loop must not sleep while this is true.
    bool pending() const { return !events_.empty(); }
    // The state the taken transitions have left (what io.KeysDown/MouseDown should say).
    bool key_down(int key) const { return key >= 0 && key < kMaxKey && keys_down_[static_cast<std::size_t>(key)]; }
    bool button_down(int b) const { return b >= 0 && b < kMaxButton && buttons_down_[static_cast<std::size_t>(b)]; }

private:
    std::deque<InputEvent> events_;
    std::array<bool, kMaxKey> keys_down_{};
    std::array<bool, kMaxButton> buttons_down_{};
};

}  // namespace isolab::gui
