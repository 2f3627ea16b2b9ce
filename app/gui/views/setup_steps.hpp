// The selected container's setup steps, drawn under its lifecycle diagram (sim/view/setup_model):
// a created container's plan, greyed and untimed; after a start, the same list with each step's
// time and a bar, consecutive mounts in one row that opens. On the simulated backend the list is
// tagged "simulated" (its times are modeled).
#pragma once

#include <string>

#include "app/gui/app.hpp"
#include "sim/view/setup_model.hpp"

namespace isolab::gui {

// The height that shows LIST whole with its heading (groups closed). Given less, the table
// scrolls.
float setup_steps_height(const view::SetupList& list);

// Draws the heading and LIST of container NAME in WIDTH×HEIGHT at the cursor.
void draw_setup_steps(App& app, const std::string& name, const view::SetupList& list, float width, float height);

}  // namespace isolab::gui
