#include "app/gui/lesson_panel.hpp"

#include "app/gui/app.hpp"
#include "app/gui/lesson_list.hpp"
#include "app/gui/lesson_stage.hpp"
#include "app/gui/step_player.hpp"
#include "sim/core/i18n.hpp"
#include "sim/lesson/lesson.hpp"
#include "sim/lesson/progress.hpp"

namespace isolab::gui {

using namespace isolab::lesson;

class LessonPanelImpl {
public:
    explicit LessonPanelImpl(App& app)
        : group_(app.options().study_group), stage_(app), player_(app, stage_, group_) {
        catalog_ = load_catalog(lessons_dir());
        if (!progress_.load_note().empty()) notice_ = progress_.load_note();
    }

    bool open(const std::string& id) {
        catalog_ = load_catalog(lessons_dir());
        const Lesson* l = catalog_.find(id);
        if (!l) {
            notice_ = i18n::trf("gui.lesson.no_such", {id});
            for (auto& f : catalog_.files)
                if (f.id_hint == id && !f.errors.empty()) notice_ = i18n::trf("gui.lesson.broken_one", {id, f.errors.front().format_for_learner()});
            return false;
        }
        progress_.reload();
        player_.start(*l, &progress_);
        notice_.clear();
        // A fresh start clears the stage; continuing keeps what the earlier steps made.
        set_stage(*l, false, player_.fresh());
        return true;
    }

    void close() {
        player_.stop();
        catalog_ = load_catalog(lessons_dir());
    }

    void set_stage(const Lesson& l, bool since_open, bool remove = true) {
        std::string why = stage_.set(l, since_open, remove);
        if (!why.empty()) notice_ = why;
    }

    void reset_stage() {
        if (!player_.active()) return;
        set_stage(player_.lesson(), true);
        player_.restart();
    }

    void draw(App& app) {
        if (player_.active()) {
            PlayerRequest req = player_.draw(catalog_);
            if (!req.open.empty()) open(req.open);
            else if (req.back_to_list) close();
            return;
        }
        std::string chosen = draw_lesson_list(app, catalog_, progress_, notice_, group_);
        if (!chosen.empty()) open(chosen);
    }

    Catalog catalog_;
    ProgressStore progress_;
    std::string notice_;
    bool group_ = false;
    LessonStage stage_;
    StepPlayer player_;
};

LessonPanel::LessonPanel(App& app) : impl_(std::make_unique<LessonPanelImpl>(app)) {}
LessonPanel::~LessonPanel() = default;
bool LessonPanel::open(const std::string& id) { return impl_->open(id); }
bool LessonPanel::active() const { return impl_->player_.active(); }
void LessonPanel::update(App&) {
    impl_->player_.show_notes_inline = show_notes_inline;
    impl_->player_.update();
}
void LessonPanel::draw(App& app) { impl_->draw(app); }
void LessonPanel::draw_banner(App&) { impl_->player_.draw_banner(); }
void LessonPanel::click(App&) { impl_->player_.click(); }
void LessonPanel::back(App&) { impl_->player_.back(); }
void LessonPanel::reset_stage(App&) { impl_->reset_stage(); }
bool LessonPanel::wants_refresh() const { return impl_->player_.wants_refresh(); }
bool LessonPanel::covers_stage() const { return impl_->player_.covers_stage(); }
bool LessonPanel::prediction_open() const { return impl_->player_.prediction_open(); }

}  // namespace isolab::gui
