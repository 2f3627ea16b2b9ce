// The speaker-notes window (`isolab-gui --notes`, or N in the presenter): the presenter's own
// screen, following ROOT/lesson-presenter.json, which the presenting window rewrites on every
// change. It shows the whole step (narrative, the prediction's answer, the discussion, the
// commands, the explanation, hints, the quiz's right answers), what the next click does, the time
// spent on the step and the next step's title. It reads only that file and the lessons: it needs
// no engine and changes nothing.
#pragma once

namespace isolab::gui {

class App;

void draw_speaker_notes(App& app);

}  // namespace isolab::gui
