// The commands a lesson may run (sim/lesson/allowlist.hpp, lessons/SCHEMA.md "Commands a lesson may
// run"): every refused form is refused by the loader with FILE:LINE (what `isolab lesson check`
// prints) and by vet_command (what the players call right before running); paths are resolved
// inside the lesson's folder and the vetted words carry the host path; the shipped lessons pass;
// each refusal reads in English and in Korean.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/i18n.hpp"
#include "sim/lesson/allowlist.hpp"
#include "sim/lesson/lesson.hpp"
#include "tests/sim/lesson_test_util.hpp"

using namespace isolab::lesson;
namespace fs = std::filesystem;
namespace i18n = isolab::i18n;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A lesson folder in /tmp, with a lesson file whose one step runs the given lines, one array
// element per line of the file (so each error's line names exactly one command).
struct LessonFolder : isolab::test::TempDir {
    LessonFolder() : isolab::test::TempDir("isolab-allowlist-test") {}
    std::string file() const { return path + "/demo.json"; }
    LessonPlace place() const { return place_of(file()); }

    std::string lesson_running(const std::vector<std::string>& lines) const {
        std::string run = "[\n";
        for (size_t i = 0; i < lines.size(); ++i)
            run += "          " + nlohmann::json(lines[i]).dump() + (i + 1 < lines.size() ? ",\n" : "\n");
        run += "        ]";
        return R"({
  "id": "demo",
  "order": 1,
  "title": {"en": "Demo", "ko": "데모"},
  "summary": {"en": "A demo lesson.", "ko": "데모 레슨이에요."},
  "minutes": 5,
  "learned": [{"en": "Something.", "ko": "무언가."}],
  "steps": [
    {
      "id": "only",
      "title": {"en": "Only", "ko": "하나"},
      "text": {"en": "Run it.", "ko": "실행하세요."},
      "action": {
        "run": )" + run + R"(
      }
    }
  ]
})";
    }
};

// The 1-based line of the first occurrence of NEEDLE.
int line_of(const std::string& text, const std::string& needle) {
    auto at = text.find(needle);
    REQUIRE_MESSAGE(at != std::string::npos, "not in the lesson: " << needle);
    return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
}

// Loads a lesson in F running LINE, which must be refused: its one error, which must name LINE's
// line of the file and the refusal's English text.
LessonError refused_line(const LessonFolder& f, const std::string& line) {
    std::string text = f.lesson_running({"isolab ps", line});
    auto file = parse_lesson(f.file(), text);
    std::string all;
    for (auto& e : file.errors) all += e.format() + "\n";
    INFO("the line: " << line << "\n" << all);
    CHECK_FALSE(file.lesson.has_value());
    REQUIRE(file.errors.size() == 1);
    const auto& e = file.errors[0];
    CHECK(e.line == line_of(text, nlohmann::json(line).dump()));
    REQUIRE(e.refusal.has_value());
    CHECK(e.message == e.refusal->english());
    // FILE:LINE: message, one line.
    CHECK(e.format().rfind(f.file() + ":" + std::to_string(e.line) + ": ", 0) == 0);
    CHECK(e.format().find('\n') == std::string::npos);
    // And the player refuses the very same line when asked right before running it.
    auto v = vet_command(line, f.place());
    CHECK_FALSE(v.ok());
    CHECK(v.argv.empty());
    return e;
}

std::vector<std::string> vetted(const LessonFolder& f, const std::string& line) {
    auto v = vet_command(line, f.place());
    INFO("the line: " << line << "\n" << (v.refusal ? v.refusal->english() : ""));
    REQUIRE(v.ok());
    return v.argv;
}

std::string real(const std::string& p) { return fs::canonical(p).string(); }

}  // namespace

TEST_CASE("lesson allow-list: every spelling of the global --root is refused, naming the line") {
    LessonFolder f;
    for (std::string line : {"isolab --root /tmp/other system reset -f", "isolab --root=/tmp/other ps",
                             "docker --root /tmp/other ps", "isolab \"--root\" /tmp/other ps",
                             "isolab '--root=/tmp/other' rm -f web", "isolab --ro\\ot /tmp/other ps"}) {
        CAPTURE(line);
        auto e = refused_line(f, line);
        CHECK(e.refusal->key == "lesson.refuse.root");
        CHECK(contains(e.message, "`--root"));
        CHECK(contains(e.message, "another state root"));
    }
    SUBCASE("after the command it is no global flag, and still refused") {
        auto e = refused_line(f, "isolab ps --root /tmp/other");
        CHECK(e.refusal->key == "lesson.refuse.flag");
        CHECK(contains(e.message, "`--root`"));
    }
    SUBCASE("any other global flag too") {
        auto e = refused_line(f, "isolab -D ps");
        CHECK(e.refusal->key == "lesson.refuse.global_flag");
        CHECK(contains(e.message, "`-D`"));
    }
}

TEST_CASE("lesson allow-list: system, runtime, bundle, lesson, gui, doctor and unknown commands are refused") {
    LessonFolder f;
    struct Case {
        const char* line;
        const char* key;
        const char* named;
    };
    for (Case c : {Case{"isolab system reset -f", "lesson.refuse.system", "`isolab system`"},
                   Case{"isolab system prune -f", "lesson.refuse.system", "`isolab system`"},
                   Case{"isolab runtime run -b /tmp/bundle x", "lesson.refuse.runtime", "`isolab runtime`"},
                   Case{"isolab bundle web /tmp/out", "lesson.refuse.bundle", "`isolab bundle`"},
                   Case{"isolab lesson reset --all", "lesson.refuse.lesson", "`isolab lesson`"},
                   Case{"isolab gui --screenshot /tmp/x.png", "lesson.refuse.gui", "`isolab gui`"},
                   Case{"isolab doctor --fix", "lesson.refuse.doctor", "`isolab doctor`"},
                   Case{"isolab container run busybox", "lesson.refuse.long_form", "`isolab container"},
                   Case{"isolab cp web:/etc/passwd /tmp/x", "lesson.refuse.unknown", "`isolab cp`"},
                   Case{"isolab vm import /tmp/disk", "lesson.refuse.unknown", "`isolab vm import`"},
                   Case{"isolab", "lesson.refuse.empty", "`isolab`"},
                   Case{"sh -c 'isolab ps'", "lesson.refuse.prefix", "`sh -c 'isolab ps'`"},
                   Case{"isolab run 'busybox", "lesson.refuse.syntax", "unterminated single quote"}}) {
        CAPTURE(c.line);
        auto e = refused_line(f, c.line);
        CHECK(e.refusal->key == c.key);
        CHECK(contains(e.message, c.named));
    }
    // A NUL (JSON's "\u0000") would cut the word where exec(2) reads it.
    auto nul = refused_line(f, std::string("isolab ps\0 --root /x", 20));
    CHECK(nul.refusal->key == "lesson.refuse.syntax");
    CHECK(contains(nul.message, "NUL"));
    // The unknown-command message lists what a lesson may run.
    auto e = refused_line(f, "isolab cp web:/etc/passwd /tmp/x");
    CHECK(contains(e.message, "build"));
    CHECK(contains(e.message, "run"));
}

TEST_CASE("lesson allow-list: save -o and load -i only inside the lesson's folder") {
    LessonFolder f;
    const std::string top = real(f.path);
    for (std::string line :
         {"isolab save -o /tmp/x.tar busybox", "isolab save -o ../x.tar busybox", "isolab save --output=../x.tar busybox",
          "isolab save --output /etc/cron.d/x busybox", "isolab save -o../x.tar busybox", "isolab save -o=/tmp/x.tar busybox",
          "isolab save -o sub/../../x.tar busybox", "isolab load -i /etc/shadow", "isolab load -i ../x.tar",
          "isolab load --input=/tmp/x.tar", "isolab load -qi../x.tar"}) {
        CAPTURE(line);
        auto e = refused_line(f, line);
        CHECK(e.refusal->key == "lesson.refuse.path_outside");
        CHECK(contains(e.message, "`" + f.path + "`"));  // names the lesson's folder
    }
    SUBCASE("inside: the vetted words carry the host path, whatever the spelling") {
        CHECK(vetted(f, "isolab save -o images.tar busybox") ==
              std::vector<std::string>{"save", "-o", top + "/images.tar", "busybox"});
        CHECK(vetted(f, "docker save --output=images.tar busybox") ==
              std::vector<std::string>{"save", "--output=" + top + "/images.tar", "busybox"});
        CHECK(vetted(f, "isolab save -oimages.tar busybox") ==
              std::vector<std::string>{"save", "-o" + top + "/images.tar", "busybox"});
        CHECK(vetted(f, "isolab load -qi images.tar") == std::vector<std::string>{"load", "-qi", top + "/images.tar"});
        auto ok = parse_lesson(f.file(), f.lesson_running({"isolab save -o images.tar busybox", "isolab load -i images.tar"}));
        CHECK(ok.errors.empty());
        CHECK(ok.lesson.has_value());
    }
    SUBCASE("a file that is a symlink, even a dangling one, is refused") {
        REQUIRE(::symlink("/tmp/isolab-allowlist-nowhere", (f.path + "/out.tar").c_str()) == 0);
        auto e = refused_line(f, "isolab save -o out.tar busybox");
        CHECK(e.refusal->key == "lesson.refuse.path_symlink");
        REQUIRE(::symlink("/etc", (f.path + "/etc").c_str()) == 0);
        auto in = refused_line(f, "isolab load -i etc/shadow");
        CHECK(in.refusal->key == "lesson.refuse.path_symlink");
    }
}

TEST_CASE("lesson allow-list: a build context is a folder inside the lesson's folder or a teaching image") {
    LessonFolder f;
    const std::string top = real(f.path);
    fs::create_directories(f.path + "/ctx");
    std::ofstream(f.path + "/ctx/Dockerfile") << "FROM busybox\n";
    SUBCASE("`..` and absolute contexts") {
        for (std::string line : {"isolab build -t x ../x", "isolab build -t x /", "isolab build -t x ctx/../..",
                                 "isolab build -t x -- ../x", "isolab build ../x -t x"}) {
            CAPTURE(line);
            auto e = refused_line(f, line);
            CHECK(e.refusal->key == "lesson.refuse.context_outside");
            CHECK(contains(e.message, "`" + f.path + "`"));
        }
    }
    SUBCASE("a symlink in the lesson folder pointing out") {
        REQUIRE(::symlink("/", (f.path + "/host").c_str()) == 0);
        REQUIRE(::symlink("..", (f.path + "/up").c_str()) == 0);
        for (std::string line : {"isolab build -t x host", "isolab build -t x host/etc", "isolab build -t x up"}) {
            CAPTURE(line);
            auto e = refused_line(f, line);
            CHECK(e.refusal->key == "lesson.refuse.path_symlink");
        }
    }
    SUBCASE("a Dockerfile named with -f outside the folder") {
        auto e = refused_line(f, "isolab build -f /etc/shadow -t x ctx");
        CHECK(e.refusal->key == "lesson.refuse.path_outside");
        CHECK(contains(e.message, "`-f /etc/shadow`"));
    }
    SUBCASE("inside, and IsoLab's teaching images") {
        CHECK(vetted(f, "isolab build -t x ctx") == std::vector<std::string>{"build", "-t", "x", top + "/ctx"});
        CHECK(vetted(f, "isolab build -t x .") == std::vector<std::string>{"build", "-t", "x", top});
        CHECK(vetted(f, "isolab build -f ctx/Dockerfile -t x ctx") ==
              std::vector<std::string>{"build", "-f", top + "/ctx/Dockerfile", "-t", "x", top + "/ctx"});
        std::string web = real(i18n::assets_dir() + "/images/web");
        CHECK(vetted(f, "isolab build -t myweb assets/images/web") == std::vector<std::string>{"build", "-t", "myweb", web});
        auto e = refused_line(f, "isolab build -t x assets/images/../../../etc");
        CHECK(e.refusal->key == "lesson.refuse.context_outside");
    }
    SUBCASE("a context that is not there") {
        auto e = refused_line(f, "isolab build -t x missing");
        CHECK(e.refusal->key == "lesson.refuse.path_unusable");
    }
}

TEST_CASE("lesson allow-list: flags that hand the container a piece of the host are refused with their reason") {
    LessonFolder f;
    struct Case {
        const char* line;
        const char* key;
        const char* named;
    };
    for (Case c : {Case{"isolab run -v /:/host busybox", "lesson.refuse.bind", "`-v /:/host`"},
                   Case{"isolab run --volume=/:/host busybox", "lesson.refuse.bind", "`--volume /:/host`"},
                   Case{"isolab create --mount type=bind,src=/,dst=/host busybox", "lesson.refuse.bind", "`--mount type=bind,src=/,dst=/host`"},
                   Case{"isolab run -dv /:/host busybox", "lesson.refuse.bind", "`-v /:/host`"},
                   Case{"isolab run -v /etc:/e:ro busybox", "lesson.refuse.bind", "`-v /etc:/e:ro`"},
                   Case{"isolab run --mount type=bind,source=./x,target=/x busybox", "lesson.refuse.bind", "`--mount"},
                   Case{"isolab run --privileged busybox", "lesson.refuse.privileged", "`--privileged`"},
                   Case{"isolab exec --privileged web sh", "lesson.refuse.privileged", "`--privileged`"},
                   Case{"isolab run --cap-add SYS_ADMIN busybox", "lesson.refuse.cap_add", "`--cap-add`"},
                   Case{"isolab run --runtime runc busybox", "lesson.refuse.runtime_flag", "`--runtime`"},
                   Case{"isolab run --network host busybox", "lesson.refuse.network_host", "`--network host`"},
                   Case{"isolab run --net=host busybox", "lesson.refuse.network_host", "`--net host`"},
                   Case{"isolab run --env-file /etc/shadow busybox env", "lesson.refuse.env_copy", "`--env-file`"},
                   Case{"isolab run -e AWS_SECRET_ACCESS_KEY busybox env", "lesson.refuse.env_copy", "`-e AWS_SECRET_ACCESS_KEY`"},
                   Case{"isolab exec --env=HOME web env", "lesson.refuse.env_copy", "`--env HOME`"},
                   Case{"isolab build --build-arg GITHUB_TOKEN -t x .", "lesson.refuse.env_copy", "`--build-arg GITHUB_TOKEN`"}}) {
        CAPTURE(c.line);
        auto e = refused_line(f, c.line);
        CHECK(e.refusal->key == c.key);
        CHECK(contains(e.message, c.named));
    }
}

TEST_CASE("lesson allow-list: volumes, tmpfs and read-only roots are allowed; only a bind of a host folder is refused") {
    LessonFolder f;
    for (const char* line : {"isolab volume create data", "isolab volume ls -q", "isolab volume inspect data",
                             "isolab run -v data:/data busybox true", "isolab run -v /scratch busybox true",
                             "isolab run --mount type=volume,src=data,dst=/data busybox true",
                             "isolab run --mount type=tmpfs,dst=/t busybox true", "isolab run --read-only --tmpfs /tmp busybox true",
                             "isolab run --volumes-from db busybox true", "isolab rm -v web", "isolab volume rm data",
                             "isolab volume prune -f"}) {
        CAPTURE(line);
        auto v = vet_command(line, f.place());
        CHECK(v.ok());
    }
}

TEST_CASE("lesson allow-list: unknown flags are refused with the allowed ones; the container's own words are not flags") {
    LessonFolder f;
    auto e = refused_line(f, "isolab logs --follow web");
    CHECK(e.refusal->key == "lesson.refuse.flag");
    CHECK(contains(e.message, "`--follow` of `isolab logs`"));
    CHECK(contains(e.message, "--tail"));
    auto none = refused_line(f, "isolab pause -x web");
    CHECK(none.refusal->key == "lesson.refuse.flag_none");
    auto value = refused_line(f, "isolab run --name");
    CHECK(value.refusal->key == "lesson.refuse.flag_value");
    // After the image (run) or the container (exec), words belong to the command inside.
    CHECK(vetted(f, "isolab run --rm busybox ls --root -v /") ==
          std::vector<std::string>{"run", "--rm", "busybox", "ls", "--root", "-v", "/"});
    CHECK(vetted(f, "isolab exec web sh -c 'cat /etc/hostname'") ==
          std::vector<std::string>{"exec", "web", "sh", "-c", "cat /etc/hostname"});
    CHECK(vetted(f, "isolab vm console vm1 uname -r") == std::vector<std::string>{"vm", "console", "vm1", "uname", "-r"});
    // A name is never a path.
    auto path = refused_line(f, "isolab vm rm -f ../../../etc");
    CHECK(path.refusal->key == "lesson.refuse.operand");
    CHECK(contains(path.message, "`../../../etc`"));
}

TEST_CASE("lesson allow-list: a folder changed after the check is refused when the player vets the line again") {
    LessonFolder f;
    fs::create_directories(f.path + "/out");
    std::string text = f.lesson_running({"isolab save -o out/images.tar busybox"});
    auto file = parse_lesson(f.file(), text);
    REQUIRE(file.lesson.has_value());
    const std::string line = file.lesson->steps[0].action.run[0];
    CHECK(vet_command(line, place_of(file.lesson->file)).ok());
    // Between the check and the run, `out` becomes a symlink to a host folder.
    isolab::test::TempDir elsewhere("isolab-allowlist-elsewhere");
    fs::remove(f.path + "/out");
    REQUIRE(::symlink(elsewhere.path.c_str(), (f.path + "/out").c_str()) == 0);
    auto v = vet_command(line, place_of(file.lesson->file));
    REQUIRE_FALSE(v.ok());
    CHECK(v.refusal->key == "lesson.refuse.path_symlink");
    CHECK(v.argv.empty());
}

TEST_CASE("lesson allow-list: a refusal reads in English and in Korean") {
    LessonFolder f;
    auto v = vet_command("isolab --root /tmp/other system reset -f", f.place());
    REQUIRE_FALSE(v.ok());
    std::string en = v.refusal->english();
    CHECK(contains(en, "`--root`"));
    CHECK_FALSE(contains(en, "lesson.refuse"));  // the text, not the key
    i18n::set_language(i18n::Lang::Ko);
    std::string ko = v.refusal->translated();
    std::string en_while_korean = v.refusal->english();
    auto file = parse_lesson(f.file(), f.lesson_running({"isolab --root /tmp/other ps"}));
    std::string learner = file.errors.empty() ? "" : file.errors[0].format_for_learner();
    std::string author = file.errors.empty() ? "" : file.errors[0].format();
    i18n::set_language(i18n::Lang::En);
    CHECK(contains(ko, "`--root`"));
    CHECK(contains(ko, "레슨"));
    CHECK(ko != en);
    CHECK(en_while_korean == en);  // `lesson check` stays English for the file's author
    CHECK(contains(learner, "레슨"));
    CHECK_FALSE(contains(author, "레슨"));
    CHECK(i18n::missing_translations().empty());
}

TEST_CASE("lesson allow-list: stage names are names, not flags or paths") {
    LessonFolder f;
    std::string text = f.lesson_running({"isolab ps"});
    auto at = text.find("\"learned\"");
    text.insert(at, "\"stage\": {\"containers\": [\"lesson-web\", \"-f\"],\n  \"images\": [\"lesson-isolab/web\", \"../x\"]},\n  ");
    auto file = parse_lesson(f.file(), text);
    CHECK_FALSE(file.lesson.has_value());
    REQUIRE(file.errors.size() == 2);
    CHECK(contains(file.errors[0].message, "`-f`"));
    CHECK(contains(file.errors[1].message, "`../x`"));
}

TEST_CASE("lesson allow-list: every command line of the shipped lessons is allowed") {
    auto dir = lessons_dir();
    size_t lines = 0;
    for (auto& entry : fs::directory_iterator(dir)) {
        if (entry.path().extension() != ".json") continue;
        auto file = load_lesson(entry.path().string());
        std::string all;
        for (auto& e : file.errors) all += e.format() + "\n";
        INFO(all);
        REQUIRE(file.lesson.has_value());
        for (auto& step : file.lesson->steps)
            for (auto& line : step.action.run) {
                auto v = vet_command(line, place_of(file.lesson->file));
                INFO(entry.path().string() << ": " << line);
                CHECK(v.ok());
                ++lines;
            }
    }
    CHECK(lines >= 40);
    // The terminal player's race step runs `isolab race`.
    CHECK(vet_command("isolab race", place_of(dir + "/x.json")).ok());
    // The allowed commands are the ones SCHEMA.md lists.
    std::ifstream schema(dir + "/SCHEMA.md");
    std::string doc((std::istreambuf_iterator<char>(schema)), std::istreambuf_iterator<char>());
    for (const auto& c : allowed_commands()) {
        CAPTURE(c);
        CHECK(contains(doc, "`" + c + "`"));
    }
}
