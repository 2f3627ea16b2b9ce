// A hostile lesson file (issue 12, item 7): lessons are data a learner may download from anyone,
// and their commands run with the learner's privileges. The file below tries to reset another
// state root, write a host file, build from the host's `/`, run an OCI bundle and mount the host.
// `isolab lesson check` must name each line and exit 1; `isolab lesson play ID --auto` must refuse
// before running anything (not even its harmless first step); the other root's container, the host
// file and the learner's own root are untouched. A well-behaved lesson still saves inside its folder.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "security.hpp"

using namespace isolab::test;
namespace fs = std::filesystem;

namespace {

// A lesson whose one step runs LINES, one array element per line of the file.
std::string lesson_running(const std::string& id, const std::vector<std::string>& lines) {
    std::string run = "[\n";
    for (size_t i = 0; i < lines.size(); ++i)
        run += "          " + nlohmann::json(lines[i]).dump() + (i + 1 < lines.size() ? ",\n" : "\n");
    run += "        ]";
    return R"({
  "id": ")" + id + R"(",
  "order": 1,
  "title": {"en": "Totally harmless", "ko": "무해한 레슨"},
  "summary": {"en": "Trust me.", "ko": "믿으세요."},
  "minutes": 1,
  "learned": [{"en": "Nothing.", "ko": "없음."}],
  "steps": [
    {
      "id": "only",
      "title": {"en": "Go", "ko": "시작"},
      "text": {"en": "Press run.", "ko": "실행하세요."},
      "action": {
        "run": )" + run + R"(
      }
    }
  ]
})";
}

int line_of(const std::string& text, const std::string& needle) {
    auto at = text.find(needle);
    REQUIRE(at != std::string::npos);
    return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
}

bool exists(const std::string& p) {
    struct stat st {};
    return ::lstat(p.c_str(), &st) == 0;
}

}  // namespace

TEST_CASE("security: a hostile lesson is refused by `lesson check` and by the player before anything runs") {
    if (!can_attack()) return;
    TempRoot learner, victim;
    // The other state root holds a container the lesson tries to wipe out.
    auto made = victim.isolab({"create", "--name", "precious", "busybox"});
    REQUIRE_MESSAGE(made.code == 0, made.err);
    // The host file the lesson tries to write, in a folder of its own outside the lesson's.
    std::string host_dir = learner.path() + "/host";
    fs::create_directories(host_dir);
    std::string host_file = host_dir + "/pwned.tar";
    std::string dir = learner.path() + "/lessons";
    fs::create_directories(dir);
    // A symlink shipped with the lesson, pointing at the host's `/`.
    REQUIRE(::symlink("/", (dir + "/rootfs").c_str()) == 0);

    const std::vector<std::string> hostile = {
        "isolab run -d --name first busybox sleep 600",  // harmless, and must not run either
        "isolab --root " + victim.path() + " system reset -f",
        "isolab --root=" + victim.path() + " rm -f precious",
        "isolab system reset -f",
        "isolab save -o " + host_file + " busybox",
        "isolab save -o ../host/pwned.tar busybox",
        "isolab build -t evil rootfs",
        "isolab build -t evil ../..",
        "isolab load -i /etc/shadow",
        "isolab runtime run -b / evil",
        "isolab run -v /:/host busybox",
        "isolab run --privileged busybox",
    };
    std::string text = lesson_running("hostile", hostile);
    std::string file = dir + "/01-hostile.json";
    std::ofstream(file) << text;
    std::vector<std::string> env = {"ISOLAB_ROOT=" + learner.path(), "ISOLAB_LANG=en", "ISOLAB_LESSONS=" + dir};

    auto check = run_process({learner.bin, "lesson", "check"}, env);
    INFO("check: " << check.out << check.err);
    CHECK(check.code == 1);
    // Every hostile line is named by its own line of the file; the harmless one is not.
    for (size_t i = 1; i < hostile.size(); ++i) {
        std::string at = file + ":" + std::to_string(line_of(text, nlohmann::json(hostile[i]).dump())) + ": ";
        CHECK_MESSAGE(check.err.find(at) != std::string::npos, "no error at " << at << " for " << hostile[i]);
    }
    CHECK(check.err.find(file + ":" + std::to_string(line_of(text, nlohmann::json(hostile[0]).dump())) + ": ") ==
          std::string::npos);
    CHECK(check.err.find("`--root") != std::string::npos);
    CHECK(check.err.find("`isolab system`") != std::string::npos);
    CHECK(check.err.find("`isolab runtime`") != std::string::npos);
    CHECK(check.out.find("0 of 1 lesson files are valid") != std::string::npos);

    auto play = run_process({learner.bin, "lesson", "play", "hostile", "--auto"}, env, 120000);
    INFO("play: " << play.out << play.err);
    CHECK(play.code == 1);
    CHECK(play.err.find("is broken") != std::string::npos);
    CHECK(play.out.find("$ isolab") == std::string::npos);  // no command was even shown as run

    // In Korean, the player says why in Korean.
    std::vector<std::string> env_ko = {"ISOLAB_ROOT=" + learner.path(), "ISOLAB_LANG=ko", "ISOLAB_LESSONS=" + dir};
    auto play_ko = run_process({learner.bin, "lesson", "play", "hostile", "--auto"}, env_ko, 120000);
    CHECK(play_ko.code == 1);
    CHECK(play_ko.err.find("레슨") != std::string::npos);

    // Nothing happened: the other root's container is there, the host file is not, the learner's
    // root has no container.
    auto precious = victim.isolab({"inspect", "-f", "{{.Name}}", "precious"});
    CHECK_MESSAGE(precious.code == 0, precious.err);
    CHECK(!exists(host_file));
    CHECK(!exists(dir + "/pwned.tar"));
    auto mine = learner.isolab({"ps", "-aq"});
    CHECK(mine.code == 0);
    CHECK(mine.out.empty());
}

TEST_CASE("security: a lesson's `save -o` lands in the lesson's folder, not where the player runs") {
    if (!can_attack()) return;
    TempRoot learner;
    std::string dir = learner.path() + "/lessons";
    fs::create_directories(dir);
    std::ofstream(dir + "/01-save.json") << lesson_running("save", {"isolab save -o images.tar busybox"});
    std::vector<std::string> env = {"ISOLAB_ROOT=" + learner.path(), "ISOLAB_LANG=en", "ISOLAB_LESSONS=" + dir};
    auto check = run_process({learner.bin, "lesson", "check"}, env);
    INFO(check.out << check.err);
    CHECK(check.code == 0);
    auto play = run_process({learner.bin, "lesson", "play", "save", "--auto"}, env, 120000);
    INFO(play.out << play.err);
    CHECK(play.code == 0);
    // The player runs commands in IsoLab's tree (the folder above the lessons): the vetted words
    // carry the host path inside the lesson's folder, so the archive is there and only there.
    struct stat st {};
    REQUIRE(::stat((dir + "/images.tar").c_str(), &st) == 0);
    CHECK(st.st_size > 0);
    CHECK(!exists(learner.path() + "/images.tar"));
}
