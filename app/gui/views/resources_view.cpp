// Placeholder: replaced by the real resources view.
#include <imgui.h>

#include "app/gui/views/views.hpp"

namespace isolab::gui {

namespace {

class ResourcesView final : public View {
public:
    const char* id() const override { return "resources"; }
    const char* title_key() const override { return "gui.tab.resources"; }
    void draw(App&) override { ImGui::TextUnformatted("resources"); }
};

}  // namespace

std::unique_ptr<View> make_resources_view() { return std::make_unique<ResourcesView>(); }

}  // namespace isolab::gui
