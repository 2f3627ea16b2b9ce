// The layout audit's text-recording layer: what a frame drew, as app/gui/layout_audit.hpp's rules
// take it (`isolab gui --screenshot FILE.png --audit`).
//
// How a frame becomes text items. Every text ImGui draws, from its widgets (Text, TextWrapped,
// buttons, tabs, checkboxes, tooltips) and from the views' own ImDrawList::AddText calls, ends in
// one of the two ImDrawList::AddText functions. The isolab-gui binary is linked with
// `-Wl,--wrap` for both (and for ImFont::RenderChar, which draws the ellipsis of a cut tab label):
// every call reaches __wrap_… here first, which, while recording, writes down the string, the
// font, the colour, the wrap width, the clip rectangle in force and the window, then calls the
// real function with the same arguments. The audit therefore never changes what is drawn; with
// --audit off a call costs one branch.
//
// Why this and not reading glyphs back from ImDrawData: the draw data has the glyph quads but not
// the string: spaces draw nothing, so a break between `busybox:` and `latest` cannot be told from a
// break at a blank, nor an explicit "\n" from a wrap; and neighbouring Text calls on one line merge
// into one draw command, so where one item ends would be a guess. Here each item is one call,
// and its lines are laid out by the same steps ImFont::RenderText takes (ImFont's own
// CalcWordWrapPositionA picks the breaks). That this layout is ImGui's is checked on every call:
// the number of glyph quads the real AddText appended to the draw list must equal the number the
// layout predicts (where nothing was culled); a difference is counted and reported.
//
// What is behind a text is read from the rendered picture (the pixels the screenshot is made of),
// around and between the glyphs: it is what the learner sees, whatever drew it (a fill of the
// same window, the window's background, a parent's). State fills come from the draw data: a shape
// of white-pixel triangles whose vertex colour is one of state_color()'s colours (running, paused,
// exited, created, restarting) with at least half opacity is a fill that carries state, held to
// 3:1 against what surrounds it; a tint under half opacity (a column washed with its state's
// colour) is a background, and its text is held to 4.5:1 like any text.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "app/gui/layout_audit.hpp"

struct ImDrawData;

namespace isolab::gui::audit {

// Turns recording on or off (off: the wrapped entry points only forward).
void set_recording(bool on);
// Forgets what the previous frame recorded: call before each frame's NewFrame.
void begin_frame();

struct FrameAudit {
    std::vector<Entry> entries;
    Suppressed suppressed;
    int items = 0, fills = 0;
    int layout_mismatches = 0;  // items whose predicted glyph count differed from ImGui's
};

// The frame recorded since begin_frame(), rendered: DRAW_DATA is ImGui::GetDrawData() after
// ImGui::Render(), PIXELS the framebuffer as glReadPixels gives it (RGBA, bottom row first, WIDTH ×
// HEIGHT). ACTIVE_VIEW names the tab shown (items in the tab's content are that view's). PALETTE
// is every state colour with a state that has it (state_palette()).
FrameAudit audit_recorded_frame(const ImDrawData* draw_data, const std::vector<uint8_t>& pixels, int width, int height,
                                const std::string& active_view,
                                const std::vector<std::pair<std::string, unsigned int>>& palette);

// Where a window's text belongs: the active view for the tab's content, "stacks", "tabs" (the tab
// bar), "top" (the top bar and the command log), "lesson", "tooltip", "popup"; else the name.
std::string region_of(const std::string& window_name, const std::string& active_view);

}  // namespace isolab::gui::audit
