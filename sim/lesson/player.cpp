#include "sim/lesson/player.hpp"

#include <algorithm>

#include "sim/core/clock.hpp"
#include "sim/lesson/checks.hpp"

namespace isolab::lesson {

const char* mode_name(Mode m) {
    switch (m) {
        case Mode::SelfPaced: return "self";
        case Mode::StudyGroup: return "group";
        case Mode::Presenter: return "present";
    }
    return "self";
}

Player::Player(Lesson lesson, Mode mode, ProgressStore* progress, std::string root)
    : lesson_(std::move(lesson)), mode_(mode), progress_(progress), root_(std::move(root)) {
    // The loader never makes a lesson without steps; one built by hand gets an empty step.
    if (lesson_.steps.empty()) lesson_.steps.push_back(Step{});
    if (progress_) saved_ = progress_->get(lesson_.id);
    int start = std::clamp(saved_.step, 0, count() - 1);
    // Coming back to the same step of the same state root keeps its event window, so an action done
    // before a restart (or a crash) still counts.
    bool same = progress_ && saved_.root == root_ && saved_.step == start && saved_.events_from <= events_offset(root_);
    uint64_t from = saved_.events_from;
    enter_step(start);
    if (same) events_from_ = from;
    save();
}

void Player::enter_step(int i) {
    index_ = std::clamp(i, 0, count() - 1);
    state_ = StepState{};
    state_.started_ms = monotonic_ms();
    events_from_ = events_offset(root_);
    presenter_result_shown_ = false;
    const auto& id = step().id;
    if (auto it = saved_.predictions.find(id); it != saved_.predictions.end()) {
        state_.prediction = it->second;
        state_.revealed = true;  // committed before: the group already saw it
    }
    if (auto it = saved_.quiz.find(id); it != saved_.quiz.end()) {
        state_.quiz_picked = it->second;
        state_.quiz_ok = true;
    }
}

void Player::save() {
    if (!progress_) return;
    saved_.step = index_;
    saved_.events_from = events_from_;
    saved_.root = root_;
    (void)progress_->put(lesson_.id, saved_);
}

bool Player::step_done(int i) const {
    if (i < 0 || i >= count()) return false;
    if (i == index_ && step_complete()) return true;
    return saved_.done.count(lesson_.steps[static_cast<size_t>(i)].id) > 0;
}

int Player::steps_done() const {
    int n = 0;
    for (int i = 0; i < count(); ++i) n += step_done(i);
    return n;
}

bool Player::finished() const { return steps_done() == count(); }

void Player::predict(int choice) {
    if (!step().predict || choice < 0 || choice >= static_cast<int>(step().predict->choices.size())) return;
    if (state_.revealed && mode_ == Mode::StudyGroup) return;  // locked in
    state_.prediction = choice;
    saved_.predictions[step().id] = choice;
    save();
}

void Player::reveal() {
    if (prediction_needed()) return;
    state_.revealed = true;
}

bool Player::prediction_needed() const { return step().predict && state_.prediction < 0; }

bool Player::may_run_action() const {
    if (step().action.empty() || state_.action_running) return false;
    if (mode_ == Mode::Presenter) return true;
    if (prediction_needed()) return false;
    return mode_ != Mode::StudyGroup || !step().predict || state_.revealed;
}

bool Player::results_visible() const {
    if (mode_ == Mode::Presenter) return state_.action_ran || presenter_result_shown_ || step().action.empty();
    if (mode_ == Mode::StudyGroup && step().predict) return state_.revealed;
    return !prediction_needed();
}

void Player::action_started() { state_.action_running = true; }

void Player::action_finished(int exit_code) {
    state_.action_running = false;
    state_.action_ran = true;
    state_.action_exit = exit_code;
}

void Player::check_result(bool ok, const std::string& detail) {
    state_.check_detail = detail;
    if (state_.check_ok == ok) return;
    state_.check_ok = ok;
    if (step_complete() && !saved_.done.count(step().id)) {
        saved_.done.insert(step().id);
        if (finished() && saved_.finished_at.empty()) saved_.finished_at = now_rfc3339();
        save();
    }
}

bool Player::answer_quiz(const std::vector<int>& picked) {
    const auto& q = step().quiz;
    if (q.empty()) return true;
    std::vector<int> want;
    for (size_t i = 0; i < q.choices.size(); ++i)
        if (q.choices[i].correct) want.push_back(static_cast<int>(i));
    std::vector<int> got = picked;
    std::sort(got.begin(), got.end());
    got.erase(std::unique(got.begin(), got.end()), got.end());
    state_.quiz_picked = got;
    bool ok = got == want;
    if (ok) {
        state_.quiz_ok = true;
        saved_.quiz[step().id] = got;
        if (step_complete()) saved_.done.insert(step().id);
        if (finished() && saved_.finished_at.empty()) saved_.finished_at = now_rfc3339();
        save();
    }
    return ok;
}

void Player::show_hint() {
    if (state_.hints_shown < static_cast<int>(step().hints.size())) ++state_.hints_shown;
}

bool Player::step_complete() const {
    const auto& s = step();
    bool checked = s.check.empty() ? (s.action.empty() || state_.action_ran) : state_.check_ok;
    return checked && (s.quiz.empty() || state_.quiz_ok);
}

bool Player::may_advance() const { return mode_ == Mode::Presenter || step_complete() || saved_.done.count(step().id); }

bool Player::next() {
    if (step_complete() && !saved_.done.count(step().id)) saved_.done.insert(step().id);
    if (index_ + 1 >= count()) {
        if (finished() && saved_.finished_at.empty()) saved_.finished_at = now_rfc3339();
        save();
        return false;
    }
    enter_step(index_ + 1);
    save();
    return true;
}

bool Player::prev() {
    if (index_ == 0) return false;
    enter_step(index_ - 1);
    save();
    return true;
}

void Player::go(int i) {
    enter_step(i);
    save();
}

void Player::reset() {
    saved_ = LessonProgress{};
    if (progress_) (void)progress_->reset(lesson_.id);
    enter_step(0);
    save();
}

Player::Click Player::next_click() const {
    const auto& s = step();
    if (!s.action.empty() && !state_.action_ran) return state_.action_running ? Click::Nothing : Click::RunAction;
    if (!presenter_result_shown_ && (!s.explain.empty() || !s.quiz.empty())) return Click::ShowResult;
    return index_ + 1 < count() ? Click::NextStep : Click::Finished;
}

Player::Click Player::click() {
    Click c = next_click();
    switch (c) {
        case Click::RunAction: action_started(); break;
        case Click::ShowResult: presenter_result_shown_ = true; break;
        case Click::NextStep: next(); break;
        case Click::Finished: next(); break;
        case Click::Nothing: break;
    }
    return c;
}

}  // namespace isolab::lesson
