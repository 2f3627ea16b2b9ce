#include "sim/lesson/progress.hpp"

#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "sim/core/files.hpp"

namespace isolab::lesson {

namespace fs = std::filesystem;
using nlohmann::json;

std::string ProgressStore::default_path() {
    if (const char* p = std::getenv("ISOLAB_PROGRESS"); p && *p) return p;
    std::string base;
    if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x == '/') base = x;
    else if (const char* h = std::getenv("HOME"); h && *h) base = std::string(h) + "/.local/state";
    else base = "/tmp";
    return base + "/isolab/progress.json";
}

ProgressStore::ProgressStore(std::string path) : path_(path.empty() ? default_path() : std::move(path)) { reload(); }

void ProgressStore::reload() {
    lessons_.clear();
    auto text = read_file(path_);
    if (!text) return;  // no progress yet
    try {
        json j = json::parse(*text);
        for (auto& [id, v] : j.at("lessons").items()) {
            LessonProgress p;
            p.step = v.value("step", 0);
            if (v.contains("done"))
                for (const auto& d : v.at("done")) p.done.insert(d.get<std::string>());
            if (v.contains("predictions"))
                for (const auto& [k, c] : v.at("predictions").items()) p.predictions[k] = c.get<int>();
            if (v.contains("quiz"))
                for (const auto& [k, c] : v.at("quiz").items()) p.quiz[k] = c.get<std::vector<int>>();
            p.finished_at = v.value("finished_at", "");
            p.events_from = v.value("events_from", uint64_t{0});
            p.root = v.value("root", "");
            if (p.step < 0) p.step = 0;
            lessons_[id] = std::move(p);
        }
    } catch (const std::exception& e) {
        lessons_.clear();
        std::error_code ec;
        fs::rename(path_, path_ + ".bad", ec);
        note_ = "the progress file " + path_ + " could not be read (" + e.what() + "); it was kept as " + path_ +
                ".bad and progress starts again";
    }
}

LessonProgress ProgressStore::get(const std::string& id) const {
    auto it = lessons_.find(id);
    return it == lessons_.end() ? LessonProgress{} : it->second;
}

// The GUI and the terminal player may share the file: each change re-reads it under a lock and
// replaces only its own lesson, so neither undoes the other's.
Status ProgressStore::put(const std::string& id, const LessonProgress& p) {
    std::error_code ec;
    fs::create_directories(fs::path(path_).parent_path(), ec);
    auto lock = FileLock::acquire(path_ + ".lock");
    reload();
    lessons_[id] = p;
    return save();
}

Status ProgressStore::reset(const std::string& id) {
    std::error_code ec;
    fs::create_directories(fs::path(path_).parent_path(), ec);
    auto lock = FileLock::acquire(path_ + ".lock");
    reload();
    lessons_.erase(id);
    return save();
}

Status ProgressStore::save() const {
    json j = {{"version", 1}, {"lessons", json::object()}};
    for (auto& [id, p] : lessons_) {
        json q = json::object();
        for (auto& [k, v] : p.quiz) q[k] = v;
        j["lessons"][id] = {{"step", p.step},          {"done", p.done},           {"predictions", p.predictions},
                            {"quiz", q},               {"finished_at", p.finished_at}, {"events_from", p.events_from},
                            {"root", p.root}};
    }
    std::error_code ec;
    fs::create_directories(fs::path(path_).parent_path(), ec);
    return write_file_atomic(path_, j.dump(2) + "\n", 0644);
}

}  // namespace isolab::lesson
