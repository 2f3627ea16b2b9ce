// A learner's progress (sim/lesson/progress.hpp): every field survives the file; reset forgets one
// lesson; another store on the same file sees the writes after reload(); a corrupt file is set
// aside as .bad and progress starts again; default_path() follows ISOLAB_PROGRESS, XDG_STATE_HOME
// and HOME in that order.
#include <doctest/doctest.h>

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/sim/lesson_test_util.hpp"
#include "sim/lesson/progress.hpp"

using namespace isolab::lesson;
namespace fs = std::filesystem;

using isolab::test::EnvVar;

namespace {

struct TempDir : isolab::test::TempDir {
    TempDir() : isolab::test::TempDir("isolab-progress-test") {}
};

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void spit(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }


LessonProgress sample() {
    LessonProgress p;
    p.step = 3;
    p.done = {"intro", "run-web"};
    p.predictions = {{"run-web", 1}, {"stop", 0}};
    p.quiz = {{"run-web", {0, 2}}};
    p.finished_at = "2026-11-29T06:47:18.123456789Z";
    p.events_from = 12345678901ULL;  // more than 32 bits
    p.root = "/var/lib/isolab";
    return p;
}

void check_same(const LessonProgress& a, const LessonProgress& b) {
    CHECK(a.step == b.step);
    CHECK(a.done == b.done);
    CHECK(a.predictions == b.predictions);
    CHECK(a.quiz == b.quiz);
    CHECK(a.finished_at == b.finished_at);
    CHECK(a.events_from == b.events_from);
    CHECK(a.root == b.root);
}

}  // namespace

TEST_CASE("lesson progress: every field goes through the file and back") {
    TempDir d;
    std::string path = d.path + "/state/isolab/progress.json";  // the folders do not exist yet
    {
        ProgressStore s(path);
        CHECK(s.path() == path);
        CHECK(s.load_note().empty());
        CHECK(s.get("containers").empty());
        REQUIRE(s.put("containers", sample()).ok());
        check_same(s.get("containers"), sample());
        LessonProgress other;
        other.step = 1;
        REQUIRE(s.put("images", other).ok());
    }
    REQUIRE(fs::exists(path));
    auto j = nlohmann::json::parse(slurp(path), nullptr, false);
    REQUIRE(j.is_object());
    CHECK(j.at("lessons").contains("containers"));
    CHECK_FALSE(fs::exists(path + ".bad"));

    ProgressStore again(path);
    CHECK(again.load_note().empty());
    check_same(again.get("containers"), sample());
    CHECK(again.get("images").step == 1);
    CHECK(again.get("images").done.empty());
    CHECK(again.get("nothing-here").empty());
    CHECK_FALSE(again.get("containers").empty());
}

TEST_CASE("lesson progress: reset forgets one lesson, in the file too") {
    TempDir d;
    std::string path = d.path + "/progress.json";
    ProgressStore s(path);
    REQUIRE(s.put("a", sample()).ok());
    REQUIRE(s.put("b", sample()).ok());
    REQUIRE(s.reset("a").ok());
    CHECK(s.get("a").empty());
    check_same(s.get("b"), sample());
    ProgressStore t(path);
    CHECK(t.get("a").empty());
    check_same(t.get("b"), sample());
    REQUIRE(s.reset("never-there").ok());
    CHECK(ProgressStore(path).get("b").step == 3);
}

TEST_CASE("lesson progress: a second store on the same file sees the first one's writes after reload") {
    TempDir d;
    std::string path = d.path + "/progress.json";
    ProgressStore gui(path), terminal(path);
    REQUIRE(gui.put("lesson", sample()).ok());
    CHECK(terminal.get("lesson").empty());  // read when it was made
    terminal.reload();
    check_same(terminal.get("lesson"), sample());

    LessonProgress p = terminal.get("lesson");
    p.step = 4;
    p.done.insert("stop");
    REQUIRE(terminal.put("lesson", p).ok());
    gui.reload();
    CHECK(gui.get("lesson").step == 4);
    CHECK(gui.get("lesson").done.count("stop") == 1);

    REQUIRE(terminal.reset("lesson").ok());
    gui.reload();
    CHECK(gui.get("lesson").empty());
}

TEST_CASE("lesson progress: two stores writing different lessons to one file keep both") {
    // The GUI and `isolab lesson play` at once: each write re-reads the file first.
    TempDir d;
    std::string path = d.path + "/progress.json";
    ProgressStore gui(path), terminal(path);
    REQUIRE(terminal.put("x", sample()).ok());
    REQUIRE(gui.put("y", sample()).ok());
    ProgressStore fresh(path);
    check_same(fresh.get("x"), sample());
    check_same(fresh.get("y"), sample());
}

TEST_CASE("lesson progress: a corrupt file is set aside as .bad and progress starts empty") {
    TempDir d;
    std::string path = d.path + "/progress.json";
    SUBCASE("garbage bytes") {
        const char raw[] = "\x00\xff\xfe{{\"lessons\": [\x01";
        std::string garbage(raw, sizeof raw - 1);
        spit(path, garbage);
        ProgressStore s(path);
        CHECK(s.get("lesson").empty());
        CHECK_FALSE(fs::exists(path));
        REQUIRE(fs::exists(path + ".bad"));
        CHECK(slurp(path + ".bad") == garbage);  // kept as it was
        CHECK(s.load_note().find(path + ".bad") != std::string::npos);
        CHECK(s.load_note().find("starts again") != std::string::npos);
        // And it goes on: the next write is a good file.
        REQUIRE(s.put("lesson", sample()).ok());
        ProgressStore t(path);
        CHECK(t.load_note().empty());
        check_same(t.get("lesson"), sample());
    }
    SUBCASE("valid JSON of the wrong shape") {
        spit(path, R"({"version": 1, "lessons": {"x": {"step": "three", "done": [1, 2]}}})");
        ProgressStore s(path);
        CHECK(s.get("x").empty());
        CHECK(fs::exists(path + ".bad"));
        CHECK_FALSE(s.load_note().empty());
    }
    SUBCASE("no lessons key") {
        spit(path, "[1, 2, 3]");
        ProgressStore s(path);
        CHECK(fs::exists(path + ".bad"));
        CHECK_FALSE(s.load_note().empty());
    }
    SUBCASE("no file at all is not an error") {
        ProgressStore s(path);
        CHECK(s.load_note().empty());
        CHECK(s.get("x").empty());
        CHECK_FALSE(fs::exists(path + ".bad"));
    }
}

TEST_CASE("lesson progress: a negative step in the file reads as step 0") {
    TempDir d;
    std::string path = d.path + "/progress.json";
    spit(path, R"({"version": 1, "lessons": {"x": {"step": -4, "done": ["a"]}}})");
    ProgressStore s(path);
    CHECK(s.load_note().empty());
    CHECK(s.get("x").step == 0);
    CHECK(s.get("x").done == std::set<std::string>{"a"});
}

TEST_CASE("lesson progress: default_path follows ISOLAB_PROGRESS, then XDG_STATE_HOME, then HOME") {
    EnvVar progress("ISOLAB_PROGRESS"), xdg("XDG_STATE_HOME"), home("HOME");
    progress.set("/srv/class/progress.json");
    xdg.set("/xdg/state");
    home.set("/home/learner");
    CHECK(ProgressStore::default_path() == "/srv/class/progress.json");

    progress.set("");  // empty: not set
    CHECK(ProgressStore::default_path() == "/xdg/state/isolab/progress.json");
    progress.unset();
    CHECK(ProgressStore::default_path() == "/xdg/state/isolab/progress.json");

    xdg.set("relative/state");  // the XDG spec: a relative path is to be ignored
    CHECK(ProgressStore::default_path() == "/home/learner/.local/state/isolab/progress.json");
    xdg.unset();
    CHECK(ProgressStore::default_path() == "/home/learner/.local/state/isolab/progress.json");

    // A store without a path uses it.
    TempDir d;
    progress.set(d.path + "/p.json");
    ProgressStore s;
    CHECK(s.path() == d.path + "/p.json");
    REQUIRE(s.put("x", sample()).ok());
    CHECK(fs::exists(d.path + "/p.json"));
}
