#include "app/gui/views/views.hpp"

namespace isolab::gui {

std::vector<std::unique_ptr<View>> make_views() {
    std::vector<std::unique_ptr<View>> v;
    v.push_back(make_race_view());
    v.push_back(make_lifecycle_view());
    v.push_back(make_isolation_view());
    v.push_back(make_images_view());
    v.push_back(make_network_view());
    v.push_back(make_terminal_view());
    v.push_back(make_resources_view());
    return v;
}

}  // namespace isolab::gui
