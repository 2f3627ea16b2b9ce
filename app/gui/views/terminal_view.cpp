// Placeholder: replaced by the real terminal view.
#include <imgui.h>

#include "app/gui/views/views.hpp"

namespace isolab::gui {

namespace {

class TerminalView final : public View {
public:
    const char* id() const override { return "terminal"; }
    const char* title_key() const override { return "gui.tab.terminal"; }
    void draw(App&) override { ImGui::TextUnformatted("terminal"); }
};

}  // namespace

std::unique_ptr<View> make_terminal_view() { return std::make_unique<TerminalView>(); }

}  // namespace isolab::gui
