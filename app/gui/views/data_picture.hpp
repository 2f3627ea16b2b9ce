// The Images & layers tab's picture of data that outlives a container (sim/view/volumes_model):
// each container as its writable layer on top of its image, tmpfs chips inside it; below, in a
// band that stands for the host, its volumes and host folders as boxes of their own, joined to it
// by lines. `rm` takes what is inside a column; what is in the band stays.
#pragma once

#include "app/gui/app.hpp"
#include "sim/view/volumes_model.hpp"

namespace isolab::gui {

// Draws the heading, the legend and PIC in WIDTH at the cursor. A click on a column selects that
// container. Lessons can outline it as "volumes".
void draw_data_picture(App& app, const view::DataPicture& pic, float width);

}  // namespace isolab::gui
