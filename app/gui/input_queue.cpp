#include "app/gui/input_queue.hpp"

namespace isolab::gui {

void InputQueue::key(int key, bool down, int mods, bool repeat) {
    InputEvent e;
    e.kind = InputEvent::Kind::Key;
    e.code = key;
    e.down = down;
    e.repeat = repeat;
    e.mods = mods;
    events_.push_back(e);
}

void InputQueue::character(uint32_t codepoint) {
    InputEvent e;
    e.kind = InputEvent::Kind::Char;
    e.code = static_cast<int>(codepoint);
    events_.push_back(e);
}

void InputQueue::mouse_button(int button, bool down, int mods, double x, double y) {
    InputEvent e;
    e.kind = InputEvent::Kind::MouseButton;
    e.code = button;
    e.down = down;
    e.mods = mods;
    e.x = x;
    e.y = y;
    events_.push_back(e);
}

void InputQueue::scroll(double dx, double dy) {
    InputEvent e;
    e.kind = InputEvent::Kind::Scroll;
    e.x = dx;
    e.y = dy;
    events_.push_back(e);
}

FrameInput InputQueue::take_frame(bool hold_text) {
    FrameInput f;
    std::array<bool, kMaxKey> key_changed{};
    std::array<bool, kMaxButton> button_changed{};
    while (!events_.empty()) {
        const InputEvent& e = events_.front();
        switch (e.kind) {
            case InputEvent::Kind::Key: {
                bool known = e.code >= 0 && e.code < kMaxKey;  // GLFW_KEY_UNKNOWN is -1
                if (e.repeat) {
                    // No transition: the key stays down and Dear ImGui repeats it by itself.
                    f.repeats.push_back({e.code, e.mods});
                    break;
                }
                if (known) {
                    auto k = static_cast<std::size_t>(e.code);
                    // A second change of this key this frame would cancel the first one unseen.
                    if (key_changed[k]) return f;
                    key_changed[k] = true;
                    keys_down_[k] = e.down;
                }
                f.keys.push_back({e.code, e.down, 0, 0});
                if (e.down) f.presses.push_back({e.code, e.mods});
                break;
            }
            case InputEvent::Kind::MouseButton: {
                if (e.code >= 0 && e.code < kMaxButton) {
                    auto b = static_cast<std::size_t>(e.code);
                    if (button_changed[b]) return f;
                    button_changed[b] = true;
                    buttons_down_[b] = e.down;
                    f.buttons.push_back({e.code, e.down, e.x, e.y});
                }
                break;
            }
            case InputEvent::Kind::Char:
                if (hold_text) return f;
                f.chars.push_back(static_cast<uint32_t>(e.code));
                break;
            case InputEvent::Kind::Scroll:
                f.wheel_x += e.x;
                f.wheel_y += e.y;
                break;
        }
        events_.pop_front();
    }
    return f;
}

}  // namespace isolab::gui
