// The factories of the tabs; make_views() (views.cpp) lists them in order.
#pragma once

#include <memory>

#include "app/gui/view.hpp"

namespace isolab::gui {

std::unique_ptr<View> make_race_view();        // race_view.cpp
std::unique_ptr<View> make_lifecycle_view();   // lifecycle_view.cpp
std::unique_ptr<View> make_isolation_view();   // isolation_view.cpp
std::unique_ptr<View> make_images_view();      // images_view.cpp
std::unique_ptr<View> make_network_view();     // network_view.cpp
std::unique_ptr<View> make_terminal_view();    // terminal_view.cpp
std::unique_ptr<View> make_resources_view();   // resources_view.cpp

}  // namespace isolab::gui
