// A view: one tab of the window (STYLE §6, after ImHex's View base class and its single
// registerViews()). A view draws from App::world() and App's selection; it owns only view state
// (scroll positions, toggles) and changes the world only through App::command().
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "app/gui/app.hpp"

namespace isolab::gui {

class View {
public:
    virtual ~View() = default;
    // Stable id for --view and show_view(): "race", "lifecycle", "isolation", ...
    virtual const char* id() const = 0;
    // The i18n key of the tab's title ("gui.tab.race").
    virtual const char* title_key() const = 0;
    // Draws the tab's content into the current ImGui window region.
    virtual void draw(App& app) = 0;
    // True while the view animates (the app then renders at 60 Hz instead of sleeping).
    virtual bool animating() const { return false; }
    // While this tab is shown, redraw at least this often (seconds; 0 = only on changes). Views
    // with clocks or sparklines ask for it; an idle window otherwise draws nothing at all.
    virtual double refresh_seconds() const { return 0; }
};

// Every tab, in order. The one place views are registered.
std::vector<std::unique_ptr<View>> make_views();

// The main area, always visible left of the tabs: the two stacks side by side.
void draw_stacks(App& app);

// Shared drawing helpers (widgets.cpp).
// tr() as a const char* for ImGui; the text lives as long as the process.
const char* T(const char* key);
// A filled, rounded box with centered text; returns true when clicked.
bool box(const char* id, const std::string& text, float w, float h, unsigned int fill, unsigned int text_color,
         bool selected = false, const std::string& tooltip = "");
// A colored state badge ("running", "paused", ...) in the theme's state colors.
void state_badge(const std::string& state);
unsigned int state_color(const std::string& state);
// Every colour state_color() gives, each with a state that has it ("running", "paused", ...): a
// shape in one of these carries state, and the layout audit holds it to 3:1 against its surroundings.
std::vector<std::pair<std::string, unsigned int>> state_palette();
// S cut to WIDTH pixels of the current font, "..." at the end when cut (UTF-8 safe).
std::string fit_text(const std::string& s, float width);
// Help marker "(?)" with a wrapped tooltip.
void help_marker(const char* text);

}  // namespace isolab::gui
