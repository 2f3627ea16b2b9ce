// Lessons against the real engine: every file passes `lesson check`; every lesson is played to
// the end by the automatic player (each action performed, each check waited for until green);
// a malformed file gives the documented errors while the other lessons keep working; a lesson
// step renders in English, Korean and presenter mode; and the clicker alone (real key presses
// sent to the window under Xvfb) presents lessons 7 and 4 and resets the stage.
#include <doctest/doctest.h>

#include "tests/skip.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "harness.hpp"
#include "sim/host/probe.hpp"

using namespace isolab::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool can_run_real() {
    if (::geteuid() != 0) {
        ISOLAB_SKIP("lessons run real containers and VMs (root; CI runs as root)");
        return false;
    }
    if (isolab::host::in_chroot()) {
        ISOLAB_SKIP("this test runs inside a chroot, where the container runtime cannot pivot_root "
                "(IsoLab uses the simulated backend here, and the lessons' checks need real containers)");
        return false;
    }
    return true;
}

bool have(const std::string& tool) { return run_process({"/bin/sh", "-c", "command -v " + tool}).code == 0; }

std::string tail(const std::string& s, size_t n = 3000) { return s.size() > n ? s.substr(s.size() - n) : s; }

std::vector<std::string> lesson_ids(const TempRoot& r) {
    auto res = r.isolab({"lesson", "list", "--json"});
    auto j = json::parse(res.out, nullptr, false);
    std::vector<std::string> ids;
    if (j.is_array())
        for (auto& l : j)
            if (!l.contains("broken")) ids.push_back(l.value("id", ""));
    return ids;
}

}  // namespace

TEST_CASE("lessons: every lesson file passes `isolab lesson check`, ten lessons at least") {
    TempRoot r;
    auto res = r.isolab({"lesson", "check"});
    INFO(res.out << res.err);
    CHECK(res.code == 0);
    CHECK(res.err.empty());
    CHECK(lesson_ids(r).size() >= 10);
}

TEST_CASE("lessons: a malformed file gives FILE:LINE errors and exit 1; the other lessons keep working") {
    TempRoot r;
    std::string dir = r.path() + "/lessons";
    fs::create_directories(dir);
    fs::copy_file(std::string(ISOLAB_SOURCE_DIR) + "/lessons/01-virtualization.json", dir + "/01-virtualization.json");
    {
        std::ofstream bad(dir + "/50-bad.json");
        bad << "{\n  \"id\": \"bad\",\n  \"order\": 50,\n  \"title\": {\"en\": \"Bad\"},\n"
               "  \"summary\": {\"en\": \"s\", \"ko\": \"s\"},\n  \"minutes\": 5,\n"
               "  \"learned\": [{\"en\": \"a\", \"ko\": \"b\"}],\n  \"steps\": [\n"
               "    {\"id\": \"one\", \"title\": {\"en\": \"t\", \"ko\": \"t\"}, \"text\": {\"en\": \"t\", \"ko\": \"t\"},\n"
               "     \"chek\": {\"kind\": \"container\"}}\n  ]\n}\n";
        std::ofstream syntax(dir + "/60-syntax.json");
        syntax << "{\n  \"id\": \"syntax\",\n  \"order\": 60\n  \"title\": {}\n}\n";
    }
    std::vector<std::string> env = {"ISOLAB_ROOT=" + r.path(), "ISOLAB_LANG=en", "ISOLAB_LESSONS=" + dir};
    auto check = run_process({r.bin, "lesson", "check"}, env);
    INFO(check.out << check.err);
    CHECK(check.code == 1);
    CHECK(check.err.find("50-bad.json:4: the text at `/title` lacks its Korean translation") != std::string::npos);
    CHECK(check.err.find("50-bad.json:10: unknown key `chek` in a step") != std::string::npos);
    CHECK(check.err.find("60-syntax.json:4: invalid JSON") != std::string::npos);
    CHECK(check.out.find("1 of 3 lesson files are valid") != std::string::npos);
    auto list = run_process({r.bin, "lesson", "list"}, env);
    CHECK(list.out.find("virtualization") != std::string::npos);
    CHECK(list.out.find("BROKEN") != std::string::npos);
    auto show = run_process({r.bin, "lesson", "show", "virtualization"}, env);
    CHECK(show.code == 0);
    auto broken = run_process({r.bin, "lesson", "play", "bad", "--auto"}, env);
    CHECK(broken.code == 1);
    CHECK(broken.err.find("is broken") != std::string::npos);
    auto unknown = run_process({r.bin, "lesson", "play", "nope"}, env);
    CHECK(unknown.code == 1);
    CHECK(unknown.err.find("no lesson `nope`") != std::string::npos);
}

TEST_CASE("lessons: each lesson is played to the end against the real engine, every check green") {
    if (!can_run_real()) return;
    TempRoot r;
    auto ids = lesson_ids(r);
    REQUIRE(ids.size() >= 10);
    // The learner's own objects, named as lessons once named theirs (opening a lesson once ran
    // `rm -f web` on the learner's container): no lesson may remove them.
    REQUIRE(r.isolab({"run", "-d", "--name", "web", "busybox", "sleep", "3600"}).code == 0);
    REQUIRE(r.isolab({"create", "--name", "life", "busybox", "true"}).code == 0);
    REQUIRE(r.isolab({"network", "create", "shop"}).code == 0);
    REQUIRE(r.isolab({"volume", "create", "data"}).code == 0);
    for (const auto& id : ids) {
        auto res = r.isolab({"lesson", "play", id, "--auto"}, 900000);
        INFO("lesson " << id << ": exit " << res.code << "\n" << tail(res.out) << "\n" << tail(res.err));
        CHECK(res.code == 0);
        CHECK(res.out.find("OK: " + id) != std::string::npos);
        CHECK(res.err.find("FAIL") == std::string::npos);
    }
    // Every lesson cleans up after itself enough to be taken again: the second run of the first
    // lesson starts from its stage again.
    auto again = r.isolab({"lesson", "play", ids.front(), "--auto"}, 900000);
    INFO(tail(again.out) << tail(again.err));
    CHECK(again.code == 0);
    CHECK(r.isolab({"inspect", "web"}).code == 0);
    CHECK(r.isolab({"inspect", "life"}).code == 0);
    CHECK(r.isolab({"network", "inspect", "shop"}).code == 0);
    CHECK(r.isolab({"volume", "inspect", "data"}).code == 0);
    CHECK(again.out.find("rm -f web") == std::string::npos);
    (void)r.isolab({"system", "reset", "-f"}, 120000);
}

TEST_CASE("lessons: a lesson step renders in English, Korean and presenter mode") {
    if (!can_run_real()) return;
    if (!have("xvfb-run")) {
        ISOLAB_SKIP("xvfb-run is not installed (apt-get install xvfb xauth libgl1-mesa-dri)");
        return;
    }
    std::string gui = fs::path(ISOLAB_BIN).parent_path() / "isolab-gui";
    TempRoot r;
    std::string state = r.path() + "/xdg-state";
    // Lesson 5 at its second step: the first step's container runs, the pid row is outlined.
    REQUIRE(r.isolab({"build", "-q", "-t", "isolab/web", std::string(ISOLAB_SOURCE_DIR) + "/assets/images/web"}).code == 0);
    REQUIRE(r.isolab({"run", "-d", "--name", "lesson-web", "isolab/web"}).code == 0);
    fs::create_directories(state + "/isolab");
    {
        std::ofstream p(state + "/isolab/progress.json");
        p << json{{"version", 1},
                  {"lessons", {{"isolation", {{"step", 1}, {"done", {"start"}}, {"predictions", {{"pid", 1}}}, {"root", r.path()}}}}}}
                 .dump();
    }
    struct Shot {
        const char* lang;
        bool present;
        const char* lesson;
    } shots[] = {{"en", false, "isolation"}, {"ko", false, "isolation"}, {"ko", true, "lifecycle"}, {"en", true, "boot-race"}};
    for (const auto& s : shots) {
        std::string png = r.path() + "/lesson-" + s.lang + (s.present ? "-present" : "") + ".png";
        std::vector<std::string> argv = {"xvfb-run", "-a", "-s", "-screen 0 1600x900x24", gui, "--root", r.path(),
                                         "--lang", s.lang, "--size", "1600x900", "--lesson", s.lesson,
                                         "--screenshot", png, "--frames", "8"};
        if (s.present) argv.push_back("--present");
        auto res = run_process(argv, {"XDG_STATE_HOME=" + state}, 120000);
        INFO(png << ": exit " << res.code << "\n" << res.err);
        CHECK(res.code == 0);
        CHECK(res.err.find("rror") == std::string::npos);
        Picture p = read_png(png);
        INFO(p.colors << " colors, " << p.not_background << " not background");
        CHECK(p.width == 1600);
        CHECK(p.colors > 40);
        CHECK(p.not_background > 0.05);
    }
    // The speaker notes follow the presenter's file (the last presenter run wrote it).
    REQUIRE(fs::exists(r.path() + "/lesson-presenter.json"));
    std::string notes = r.path() + "/notes.png";
    auto nres = run_process({"xvfb-run", "-a", "-s", "-screen 0 1600x900x24", gui, "--root", r.path(), "--notes",
                             "--size", "900x800", "--screenshot", notes, "--frames", "5"},
                            {}, 120000);
    INFO("notes: " << nres.err);
    CHECK(nres.code == 0);
    Picture np = read_png(notes);
    CHECK(np.width == 900);
    CHECK(np.colors > 20);
    CHECK(np.not_background > 0.02);
    // The panel kept the learner at step 2 (it read the saved progress and did not clear the stage).
    CHECK(r.isolab({"inspect", "lesson-web"}).code == 0);
}

TEST_CASE("lessons: the clicker alone presents lessons 7 and 4 on the real engine, and Ctrl+R resets the stage") {
    if (!can_run_real()) return;
    if (!have("xvfb-run") || !have("xdotool")) {
        ISOLAB_SKIP("the clicker test needs xvfb-run and xdotool (apt-get install xvfb xauth xdotool)");
        return;
    }
    std::string gui = fs::path(ISOLAB_BIN).parent_path() / "isolab-gui";
    TempRoot r;
    for (const char* lesson : {"lifecycle", "boot-race"}) {
        // The window gets only key presses, each a 10 ms tap (a clicker's is that short; Dear
        // ImGui 1.86 alone saw none of them): first every key a clicker sends, Space, Enter, the
        // arrows, B and '.' (black screen and back) and Tab, twice round, checking after each that
        // the presenter file still says English (Space once pressed the focused "한국어" option
        // mid-demo); then PageDown until the presenter file says the lesson is over (a press while
        // an action runs does nothing, as with a real clicker), then Ctrl+R.
        std::string script =
            "\"$GUI\" --root \"$ROOT\" --present --lesson \"$LESSON\" --size 1600x900 & gui=$!\n"
            "tap() { xdotool keydown \"$1\"; sleep 0.01; xdotool keyup \"$1\"; }\n"
            "english() { f=\"$ROOT/lesson-presenter.json\"; [ ! -e \"$f\" ] || grep -q '\"lang\":\"en\"' \"$f\" ||\n"
            "  echo LANGUAGE-CHANGED after $1; }\n"
            "sleep 3; xdotool mousemove 800 450\n"
            "for round in 1 2; do\n"
            "  for k in Tab Right Down space Return KP_Enter b period Left Up Prior Tab space; do\n"
            "    tap $k; sleep 0.3; english $k\n"
            "  done\n"
            "done\n"
            "presses=0\n"
            "for i in $(seq 1 400); do\n"
            "  if grep -q '\"summary\":true' \"$ROOT/lesson-presenter.json\" 2>/dev/null; then break; fi\n"
            "  tap Next; presses=$((presses+1)); sleep 0.6; english Next\n"
            "done\n"
            "echo presses=$presses\n"
            "cp \"$ROOT/lesson-presenter.json\" \"$ROOT/presenter-end.json\"\n"
            "xdotool keydown ctrl; tap r; xdotool keyup ctrl; sleep 4\n"
            "kill $gui; wait $gui\n";
        auto res = run_process({"xvfb-run", "-a", "-s", "-screen 0 1600x900x24", "/bin/bash", "-c", script},
                               {"GUI=" + gui, "ROOT=" + r.path(), "LESSON=" + std::string(lesson),
                                "XDG_STATE_HOME=" + r.path() + "/xdg-state", "ISOLAB_LANG=en"},
                               400000);
        INFO(lesson << ": " << res.out << res.err);
        auto end = json::parse(read_text(r.path() + "/presenter-end.json"), nullptr, false);
        REQUIRE(end.is_object());
        CHECK(end.value("lesson", "") == lesson);
        CHECK(end.value("summary", false) == true);
        // No key changed the window's language.
        CHECK(end.value("lang", "") == "en");
        CHECK(res.out.find("LANGUAGE-CHANGED") == std::string::npos);
        std::string events = read_text(r.path() + "/events.jsonl");
        if (std::string(lesson) == "lifecycle") {
            // What the clicker made happen, in the engine's own log.
            for (const char* type : {"\"create\"", "\"start\"", "\"pause\"", "\"unpause\"", "\"stop\"", "\"kill\"", "\"destroy\""})
                CHECK(events.find(std::string("\"type\":") + type) != std::string::npos);
        } else {
            CHECK(events.find("\"type\":\"race\"") != std::string::npos);
        }
        // Ctrl+R removed what the demo created.
        auto ps = r.isolab({"ps", "-a", "-q"});
        CHECK(ps.out.empty());
    }
}
