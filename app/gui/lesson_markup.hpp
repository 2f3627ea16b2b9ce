// What the lesson list, the step player and the speaker notes draw alike: the lessons' text
// markup, framed cards, and the lesson colors of the current theme (dark, or the presenter's
// light one). Drawing only; no state but the card stack of the frame being drawn.
#pragma once

#include <imgui.h>

#include <string>

namespace isolab::gui {

// Text with the lesson markup (**bold**, `code`, "- " lists, blank-line paragraphs), wrapped to
// WIDTH (0 = the available width).
void draw_markup(const std::string& text, ImFont* mono, float width = 0);

namespace lesson_ui {

bool korean();  // the learner's language is Korean: which half of a lesson's text to draw
std::string trs(const char* key);  // i18n::tr as a string

// The lesson colors, readable on the current theme.
ImVec4 accent();
ImVec4 code_color();
ImVec4 green();
ImVec4 red();
ImVec4 muted();

// "02:13"
std::string clock_text(int secs);

// A framed box of text (prediction, discussion, explanation) with an EDGE-colored left side,
// WIDTH wide. Every begin_card needs its end_card with the same EDGE; cards may nest (a quiz
// inside the presenter's banner).
void begin_card(ImU32 edge);
void end_card(ImU32 edge, float width);

}  // namespace lesson_ui

}  // namespace isolab::gui
