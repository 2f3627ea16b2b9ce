// A learner's progress through the lessons, per user: $XDG_STATE_HOME/isolab/progress.json
// (~/.local/state/isolab/progress.json). Every change is written at once through an atomic rename,
// so a crash or a power cut leaves either the old or the new file, never half of one; a file that
// cannot be read is set aside as progress.json.bad and progress starts again (never a crash).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sim/core/result.hpp"

namespace isolab::lesson {

struct LessonProgress {
    int step = 0;                                   // the step the learner is on
    std::set<std::string> done;                     // step ids whose check turned green
    std::map<std::string, int> predictions;         // step id → the choice committed to
    std::map<std::string, std::vector<int>> quiz;   // step id → the choices of the correct answer
    std::string finished_at;                        // ISO time the last step was done; "" = not yet
    uint64_t events_from = 0;                       // events.jsonl offset where the current step began
    std::string root;                               // the state root EVENTS_FROM belongs to
    bool empty() const { return step == 0 && done.empty() && predictions.empty() && quiz.empty() && finished_at.empty(); }
};

class ProgressStore {
public:
    // "" = default_path().
    explicit ProgressStore(std::string path = "");
    static std::string default_path();
    const std::string& path() const { return path_; }

    LessonProgress get(const std::string& lesson_id) const;
    // Replaces one lesson's progress and writes the file.
    Status put(const std::string& lesson_id, const LessonProgress& p);
    Status reset(const std::string& lesson_id);
    // Re-reads the file (another window or the terminal player may have written it).
    void reload();
    const std::string& load_note() const { return note_; }  // why the file was set aside, if it was

private:
    Status save() const;
    std::string path_;
    std::map<std::string, LessonProgress> lessons_;
    std::string note_;
};

}  // namespace isolab::lesson
