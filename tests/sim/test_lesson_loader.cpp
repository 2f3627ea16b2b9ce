// The lesson loader (sim/lesson/lesson.hpp) against lessons/SCHEMA.md: a valid file loads; each
// documented error names the line it is on, the problem and the fix; a broken file has no lesson;
// LessonError::format() is one "FILE:LINE: message" line. The catalog: files sorted by order,
// cross-file errors (duplicate ids and orders, unknown prerequisites, cycles), broken files listed
// while the others load, and the repository's own lessons load without an error.
#include <doctest/doctest.h>

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "tests/sim/lesson_test_util.hpp"
#include "sim/lesson/lesson.hpp"

using namespace isolab::lesson;
namespace fs = std::filesystem;

using isolab::test::EnvVar;

namespace {

// A valid lesson. Keys that the error cases change are each on a line of their own, so that a
// wrong line number cannot pass by accident.
const std::string kValid = R"({
  "id": "demo",
  "order": 1,
  "title": {"en": "Demo", "ko": "데모"},
  "summary": {"en": "A demo lesson.", "ko": "데모 레슨이에요."},
  "minutes": 5,
  "needs": [
    "isolab/web"
  ],
  "learned": [
    {"en": "Something.", "ko": "무언가."}
  ],
  "steps": [
    {
      "id": "first",
      "title": {
        "en": "First",
        "ko": "처음"
      },
      "text": {"en": "Look.", "ko": "보세요."},
      "highlight": {
        "view": "race",
        "target": "engine"
      }
    },
    {
      "id": "second",
      "title": {"en": "Second", "ko": "둘째"},
      "text": {"en": "Run it.", "ko": "실행하세요."},
      "predict": {
        "question": {"en": "Will it run?", "ko": "실행될까요?"},
        "choices": [{"en": "Yes", "ko": "네"}, {"en": "No", "ko": "아니요"}],
        "answer": 0
      },
      "action": {
        "run": "isolab run -d --name web isolab/web"
      },
      "check": {
        "kind": "container",
        "name": "web",
        "state": "running"
      },
      "quiz": {
        "question": {"en": "Why?", "ko": "왜요?"},
        "choices": [
          {"text": {"en": "A", "ko": "가"}, "correct": true, "why": {"en": "Right.", "ko": "맞아요."}},
          {"text": {"en": "B", "ko": "나"}, "why": {"en": "Wrong.", "ko": "틀려요."}}
        ]
      }
    }
  ]
})";

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// TEXT with FROM (which must occur exactly once) replaced by TO.
std::string edit(const std::string& text, const std::string& from, const std::string& to) {
    auto at = text.find(from);
    REQUIRE_MESSAGE(at != std::string::npos, "not in the lesson: " << from);
    REQUIRE_MESSAGE(text.find(from, at + 1) == std::string::npos, "more than once in the lesson: " << from);
    return text.substr(0, at) + to + text.substr(at + from.size());
}

// The 1-based line of the NTH (1-based) occurrence of NEEDLE.
int line_of(const std::string& text, const std::string& needle, int nth = 1) {
    size_t at = std::string::npos, from = 0;
    for (int i = 0; i < nth; ++i) {
        at = text.find(needle, from);
        REQUIRE_MESSAGE(at != std::string::npos, "not in the lesson: " << needle);
        from = at + 1;
    }
    return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
}

std::string all_errors(const LessonFile& f) {
    std::string s;
    for (auto& e : f.errors) s += e.format() + "\n";
    return s;
}

LessonFile parse_ok(const std::string& text) {
    auto f = parse_lesson("lessons/demo.json", text);
    INFO(all_errors(f));
    CHECK(f.errors.empty());
    REQUIRE(f.lesson.has_value());
    return f;
}

// Parses TEXT, which must be broken, and returns its one error (the case changed one thing).
LessonError one_error(const std::string& text) {
    auto f = parse_lesson("lessons/demo.json", text);
    INFO(all_errors(f));
    CHECK_FALSE(f.lesson.has_value());
    REQUIRE(f.errors.size() == 1);
    CHECK(f.errors[0].file == "lessons/demo.json");
    CHECK(f.errors[0].message.find('\n') == std::string::npos);
    return f.errors[0];
}

struct TempDir : isolab::test::TempDir {
    TempDir() : isolab::test::TempDir("isolab-lesson-test") {
    }
    void write(const std::string& name, const std::string& text) const {
        std::ofstream(path + "/" + name, std::ios::binary) << text;
    }
};

// A small valid lesson for the catalog tests.
std::string mini(const std::string& id, int order, const std::string& prerequisites = "[]") {
    return R"({"id": ")" + id + R"(", "order": )" + std::to_string(order) +
           R"(, "title": {"en": "T", "ko": "제목"}, "summary": {"en": "S", "ko": "요약"}, "minutes": 3,
  "prerequisites": )" + prerequisites +
           R"(, "learned": [{"en": "L", "ko": "배움"}],
  "steps": [{"id": "only", "title": {"en": "T", "ko": "제목"}, "text": {"en": "X", "ko": "글"}}]})";
}

std::vector<std::string> ids(const Catalog& c) {
    std::vector<std::string> out;
    for (auto* l : c.lessons()) out.push_back(l->id);
    return out;
}

const LessonError* error_with(const std::vector<LessonError>& errors, const std::string& part) {
    for (auto& e : errors)
        if (contains(e.format(), part)) return &e;
    return nullptr;
}


}  // namespace

// ---- one file ----

TEST_CASE("lesson loader: a minimal valid lesson loads with every field") {
    auto f = parse_ok(kValid);
    const Lesson& l = *f.lesson;
    CHECK(f.id_hint == "demo");
    CHECK(l.file == "lessons/demo.json");
    CHECK(l.id == "demo");
    CHECK(l.order == 1);
    CHECK(l.minutes == 5);
    CHECK(l.title.en == "Demo");
    CHECK(l.title.get(true) == "데모");
    CHECK(l.title.get(false) == "Demo");
    CHECK(l.needs == std::vector<std::string>{"isolab/web"});
    REQUIRE(l.learned.size() == 1);
    REQUIRE(l.steps.size() == 2);
    const Step& a = l.steps[0];
    CHECK(a.id == "first");
    CHECK(a.highlight.view == "race");
    CHECK(a.highlight.target == "engine");
    CHECK_FALSE(a.predict.has_value());
    CHECK(a.action.empty());
    CHECK(a.check.empty());
    CHECK(a.quiz.empty());
    CHECK(a.timeout_s == 60);  // the default
    const Step& b = l.steps[1];
    REQUIRE(b.predict.has_value());
    CHECK(b.predict->choices.size() == 2);
    CHECK(b.predict->answer == 0);
    CHECK(b.action.run == std::vector<std::string>{"isolab run -d --name web isolab/web"});
    CHECK_FALSE(b.action.race);
    CHECK(b.action.expect_exit == 0);
    REQUIRE_FALSE(b.check.empty());
    CHECK(b.check.spec.at("kind") == "container");
    CHECK(b.check.spec.at("state") == "running");
    REQUIRE(b.quiz.choices.size() == 2);
    CHECK(b.quiz.choices[0].correct);
    CHECK_FALSE(b.quiz.choices[1].correct);
    CHECK_FALSE(b.quiz.multiple);
    CHECK(b.quiz.choices[1].why.ko == "틀려요.");
}

TEST_CASE("lesson loader: the smallest lesson (required keys only) loads") {
    auto f = parse_ok(mini("tiny", 7));
    CHECK(f.lesson->id == "tiny");
    CHECK(f.lesson->order == 7);
    CHECK(f.lesson->steps.size() == 1);
    CHECK(f.lesson->stage.containers.empty());
}

TEST_CASE("lesson loader: invalid JSON gives the line of the error") {
    SUBCASE("a missing comma: the error is on the next key's line") {
        std::string text = edit(kValid, "\"order\": 1,", "\"order\": 1");
        auto e = one_error(text);
        CHECK(e.line == line_of(text, "\"title\": {\"en\": \"Demo\""));
        CHECK(e.line == 4);
        CHECK(contains(e.message, "invalid JSON"));
        CHECK(contains(e.message, "commas"));  // the fix
    }
    SUBCASE("a stray bracket deep in step 2") {
        std::string text = edit(kValid, "\"name\": \"web\",", "\"name\": \"web\"],");
        auto e = one_error(text);
        CHECK(e.line == line_of(text, "\"web\"],"));
        CHECK(contains(e.message, "invalid JSON"));
    }
    SUBCASE("an empty file") {
        auto f = parse_lesson("lessons/empty.json", "");
        REQUIRE(f.errors.size() == 1);
        CHECK_FALSE(f.lesson.has_value());
        CHECK(contains(f.errors[0].message, "invalid JSON"));
        CHECK(f.id_hint == "empty");
    }
}

TEST_CASE("lesson loader: a number too large for a double is an error with its line, not an exception") {
    // Found by the fuzzer: nlohmann throws out_of_range (406) even when asked not to throw.
    std::string text = "{\n  \"id\": \"x\",\n  \"order\": 1e999\n}\n";
    LessonFile f;
    CHECK_NOTHROW(f = parse_lesson("big.json", text));
    REQUIRE(f.errors.size() == 1);
    CHECK_FALSE(f.lesson.has_value());
    CHECK(f.errors[0].line == 3);
    CHECK(contains(f.errors[0].message, "number overflow"));
}

TEST_CASE("lesson loader: an unknown key names its line and the keys allowed") {
    std::string text = edit(kValid, "\"check\": {", "\"chek\": {");
    auto e = one_error(text);
    CHECK(e.line == line_of(text, "\"chek\""));
    CHECK(contains(e.message, "unknown key `chek`"));
    CHECK(contains(e.message, "check"));  // the fix: the keys a step may have
    CHECK(contains(e.message, "explain"));

    SUBCASE("an unknown key at the top") {
        std::string top = edit(kValid, "\"minutes\": 5,", "\"minutes\": 5,\n  \"minute\": 5,");
        auto t = one_error(top);
        CHECK(t.line == line_of(top, "\"minute\":"));
        CHECK(contains(t.message, "`minute`"));
        CHECK(contains(t.message, "minutes"));
    }
    SUBCASE("an unknown key inside a text") {
        std::string txt = edit(kValid, "\"ko\": \"처음\"", "\"ko\": \"처음\",\n        \"kr\": \"처음\"");
        auto t = one_error(txt);
        CHECK(t.line == line_of(txt, "\"kr\""));
        CHECK(contains(t.message, "`kr`"));
    }
}

TEST_CASE("lesson loader: a missing required key is named") {
    SUBCASE("in a step: the line where the step begins") {
        std::string text = edit(kValid, "      \"text\": {\"en\": \"Run it.\", \"ko\": \"실행하세요.\"},\n", "");
        auto e = one_error(text);
        CHECK(e.line == line_of(text, "\"id\": \"second\"") - 1);
        CHECK(contains(e.message, "lacks the required key `text`"));
        CHECK(contains(e.message, "/steps/1"));
    }
    SUBCASE("in the lesson") {
        std::string text = edit(kValid, "  \"minutes\": 5,\n", "");
        auto e = one_error(text);
        CHECK(e.line == 1);
        CHECK(contains(e.message, "lacks the required key `minutes`"));
    }
    SUBCASE("in a check") {
        std::string text = edit(kValid, "        \"name\": \"web\",\n", "");
        auto e = one_error(text);
        CHECK(e.line == line_of(text, "\"check\": {"));
        CHECK(contains(e.message, "`name`"));
    }
}

TEST_CASE("lesson loader: a text without its Korean or English translation") {
    SUBCASE("no Korean") {
        std::string text = edit(kValid, "\"text\": {\"en\": \"Look.\", \"ko\": \"보세요.\"}", "\"text\": {\"en\": \"Look.\"}");
        auto e = one_error(text);
        CHECK(e.line == line_of(text, "\"text\": {\"en\": \"Look.\"}"));
        CHECK(contains(e.message, "Korean"));
        CHECK(contains(e.message, "\"ko\""));  // the fix: add "ko": "..."
        CHECK(contains(e.message, "/steps/0/text"));
    }
    SUBCASE("no English") {
        std::string text = edit(kValid, "\"summary\": {\"en\": \"A demo lesson.\", ", "\"summary\": {");
        auto e = one_error(text);
        CHECK(e.line == line_of(text, "\"summary\""));
        CHECK(contains(e.message, "English"));
        CHECK(contains(e.message, "\"en\""));
    }
    SUBCASE("a plain string instead of a text") {
        std::string text = edit(kValid, "\"title\": {\"en\": \"Second\", \"ko\": \"둘째\"}", "\"title\": \"Second\"");
        auto e = one_error(text);
        CHECK(e.line == line_of(text, "\"title\": \"Second\""));
        CHECK(contains(e.message, "\"ko\""));
    }
}

TEST_CASE("lesson loader: an empty translation names the language's line") {
    SUBCASE("blank Korean") {
        std::string text = edit(kValid, "\"ko\": \"처음\"", "\"ko\": \" \\n \"");
        auto e = one_error(text);
        CHECK(e.line == line_of(text, "\"ko\": \" \\n \""));
        CHECK(e.line == line_of(text, "\"en\": \"First\"") + 1);
        CHECK(contains(e.message, "ko"));
        CHECK(contains(e.message, "empty"));
        CHECK(contains(e.message, "/steps/0/title"));
    }
    SUBCASE("empty English") {
        std::string text = edit(kValid, "\"en\": \"First\"", "\"en\": \"\"");
        auto e = one_error(text);
        CHECK(e.line == line_of(text, "\"en\": \"\""));
        CHECK(contains(e.message, "en text"));
        CHECK(contains(e.message, "empty"));
    }
}

TEST_CASE("lesson loader: unknown names give the list to choose from") {
    SUBCASE("check kind") {
        std::string text = edit(kValid, "\"kind\": \"container\"", "\"kind\": \"containr\"");
        auto e = one_error(text);
        CHECK(e.line == line_of(text, "\"kind\": \"containr\""));
        CHECK(contains(e.message, "unknown check kind `containr`"));
        CHECK(contains(e.message, "container, vm, image"));
    }
    SUBCASE("event type") {
        std::string text = edit(kValid,
                                "        \"kind\": \"container\",\n        \"name\": \"web\",\n        \"state\": \"running\"",
                                "        \"kind\": \"event\",\n        \"type\": \"strat\"");
        auto e = one_error(text);
        CHECK(e.line == line_of(text, "\"type\": \"strat\""));
        CHECK(contains(e.message, "unknown event type `strat`"));
        CHECK(contains(e.message, "start"));
        CHECK(contains(e.message, "exec_die"));
    }
    SUBCASE("container state") {
        std::string text = edit(kValid, "\"state\": \"running\"", "\"state\": \"runing\"");
        auto e = one_error(text);
        CHECK(e.line == line_of(text, "\"state\": \"runing\""));
        CHECK(contains(e.message, "unknown container state `runing`"));
        CHECK(contains(e.message, "running"));
        CHECK(contains(e.message, "absent"));
    }
    SUBCASE("VM state") {
        std::string text = edit(kValid, "\"kind\": \"container\"", "\"kind\": \"vm\"");
        text = edit(text, "\"state\": \"running\"", "\"state\": \"exited\"");  // a container's word
        auto e = one_error(text);
        CHECK(e.line == line_of(text, "\"state\": \"exited\""));
        CHECK(contains(e.message, "`exited`"));
        CHECK(contains(e.message, "poweroff"));
    }
    SUBCASE("view") {
        std::string text = edit(kValid, "\"view\": \"race\"", "\"view\": \"races\"");
        auto e = one_error(text);
        CHECK(e.line == line_of(text, "\"view\": \"races\""));
        CHECK(contains(e.message, "unknown view `races`"));
        CHECK(contains(e.message, "lifecycle"));
    }
    SUBCASE("target") {
        std::string text = edit(kValid, "\"target\": \"engine\"", "\"target\": \"ns-time\"");
        auto e = one_error(text);
        CHECK(e.line == line_of(text, "\"target\": \"ns-time\""));
        CHECK(contains(e.message, "unknown target `ns-time`"));
        CHECK(contains(e.message, "ns-pid"));
    }
    SUBCASE("teaching image") {
        std::string text = edit(kValid, "    \"isolab/web\"\n", "    \"isolab/web\",\n    \"isolab/webb\"\n");
        auto e = one_error(text);
        CHECK(e.line == line_of(text, "\"isolab/webb\""));
        CHECK(contains(e.message, "unknown teaching image `isolab/webb`"));
        CHECK(contains(e.message, "isolab/hello"));
    }
}

TEST_CASE("lesson loader: an http check may only talk to 127.0.0.1") {
    auto with_url = [](const std::string& url) {
        return edit(kValid, "        \"kind\": \"container\",\n        \"name\": \"web\",\n        \"state\": \"running\"",
                    "        \"kind\": \"http\",\n        \"expect\": \"answers\",\n        \"url\": \"" + url + "\"");
    };
    for (std::string bad : {"http://example.com:8080/", "http://10.0.0.2:80/", "https://127.0.0.1:8080/",
                            "http://127.0.0.1.example.com:80/", "http://127.0.0.1/"}) {
        CAPTURE(bad);
        std::string text = with_url(bad);
        auto e = one_error(text);
        CHECK(e.line == line_of(text, "\"url\""));
        CHECK(contains(e.message, bad));
        CHECK(contains(e.message, "http://127.0.0.1:PORT"));
    }
    // A port past 65535 would be cut to 16 bits and check another port.
    std::string big = with_url("http://127.0.0.1:99999/");
    auto e = one_error(big);
    CHECK(e.line == line_of(big, "\"url\""));
    CHECK(contains(e.message, "1 to 65535"));
    parse_ok(with_url("http://127.0.0.1:8080/"));
    parse_ok(with_url("http://127.0.0.1:8080"));
    parse_ok(with_url("http://localhost:18080/index.html"));
}

TEST_CASE("lesson loader: quiz choices must have the right number of correct ones") {
    SUBCASE("no correct choice") {
        std::string text = edit(kValid, "\"correct\": true, ", "");
        auto e = one_error(text);
        CHECK(e.line == line_of(text, "\"quiz\""));
        CHECK(contains(e.message, "no correct choice"));
        CHECK(contains(e.message, "\"correct\": true"));
    }
    SUBCASE("two correct choices without multiple") {
        std::string text = edit(kValid, "{\"text\": {\"en\": \"B\"", "{\"correct\": true, \"text\": {\"en\": \"B\"");
        auto e = one_error(text);
        CHECK(e.line == line_of(text, "\"quiz\""));
        CHECK(contains(e.message, "2 correct choices"));
        CHECK(contains(e.message, "\"multiple\": true"));
        // ... and with multiple, it loads.
        auto ok = parse_ok(edit(text, "\"question\": {\"en\": \"Why?\"", "\"multiple\": true, \"question\": {\"en\": \"Why?\""));
        CHECK(ok.lesson->steps[1].quiz.multiple);
        CHECK(ok.lesson->steps[1].quiz.choices[1].correct);
    }
}

TEST_CASE("lesson loader: a prediction's answer must be one of its choices") {
    std::string text = edit(kValid, "\"answer\": 0", "\"answer\": 2");
    auto e = one_error(text);
    CHECK(e.line == line_of(text, "\"answer\": 2"));
    CHECK(contains(e.message, "`answer` 2 is out of range"));
    CHECK(contains(e.message, "2 choices"));

    auto none = parse_ok(edit(kValid, ",\n        \"answer\": 0", ""));
    CHECK(none.lesson->steps[1].predict->answer == -1);  // no single right answer
    auto last = parse_ok(edit(kValid, "\"answer\": 0", "\"answer\": 1"));
    CHECK(last.lesson->steps[1].predict->answer == 1);
}

TEST_CASE("lesson loader: stage names start with lesson-, so the stage never removes a learner's own object") {
    // The stage removes its names without asking: `web` would be the learner's own container.
    for (const char* key : {"containers", "vms", "networks", "volumes", "images"}) {
        INFO(key);
        std::string text = edit(kValid, "  \"needs\": [", std::string("  \"stage\": {\"") + key + "\": [\"web\"]},\n  \"needs\": [");
        auto e = one_error(text);
        CHECK(e.line == line_of(text, "\"stage\""));
        CHECK(contains(e.message, "`web` in `stage` must start with `lesson-` (`lesson-web`)"));
        auto ok = parse_ok(edit(kValid, "  \"needs\": [", std::string("  \"stage\": {\"") + key + "\": [\"lesson-web\"]},\n  \"needs\": ["));
    }
    auto image = parse_ok(edit(kValid, "  \"needs\": [", "  \"stage\": {\"images\": [\"lesson-myweb:v2\"]},\n  \"needs\": ["));
    CHECK(image.lesson->stage.images == std::vector<std::string>{"lesson-myweb:v2"});
}

TEST_CASE("lesson loader: step ids are unique and made of a-z, 0-9 and -") {
    SUBCASE("duplicate: the second one's line") {
        std::string text = edit(kValid, "\"id\": \"second\"", "\"id\": \"first\"");
        auto e = one_error(text);
        CHECK(e.line == line_of(text, "\"id\": \"first\"", 2));
        CHECK(contains(e.message, "`first` is used twice"));
    }
    SUBCASE("bad characters in a step id") {
        std::string text = edit(kValid, "\"id\": \"second\"", "\"id\": \"Second_2\"");
        auto e = one_error(text);
        CHECK(e.line == line_of(text, "\"id\": \"Second_2\""));
        CHECK(contains(e.message, "`Second_2`"));
        CHECK(contains(e.message, "a-z, 0-9 and -"));
    }
    SUBCASE("bad characters in the lesson id") {
        std::string text = edit(kValid, "\"id\": \"demo\"", "\"id\": \"demo lesson\"");
        auto e = one_error(text);
        CHECK(e.line == 2);
        CHECK(contains(e.message, "lesson id `demo lesson`"));
        CHECK(contains(e.message, "a-z, 0-9 and -"));
    }
}

TEST_CASE("lesson loader: an action is run or race, and runs isolab or docker") {
    SUBCASE("both run and race") {
        std::string text = edit(kValid, "\"run\": \"isolab run -d --name web isolab/web\"",
                                "\"run\": \"isolab run -d --name web isolab/web\",\n        \"race\": true");
        auto e = one_error(text);
        CHECK(e.line == line_of(text, "\"action\""));
        CHECK(contains(e.message, "either `run` or `race`"));
    }
    SUBCASE("neither") {
        std::string text = edit(kValid, "\"run\": \"isolab run -d --name web isolab/web\"", "\"expect_exit\": 1");
        auto e = one_error(text);
        CHECK(e.line == line_of(text, "\"action\""));
        CHECK(contains(e.message, "`run`"));
    }
    SUBCASE("a run line that is not isolab or docker") {
        std::string text = edit(kValid, "\"run\": \"isolab run -d --name web isolab/web\"", "\"run\": \"ls -l /\"");
        auto e = one_error(text);
        CHECK(e.line == line_of(text, "\"run\": \"ls -l /\""));
        CHECK(contains(e.message, "`ls -l /`"));
        CHECK(contains(e.message, "must start with `isolab`"));
    }
    SUBCASE("one bad line in an array, and a prefix that is not the word") {
        std::string text = edit(kValid, "\"run\": \"isolab run -d --name web isolab/web\"",
                                "\"run\": [\"isolab ps\", \"sudo isolab ps\", \"isolabx ps\"]");
        auto f = parse_lesson("lessons/demo.json", text);
        CHECK_FALSE(f.lesson.has_value());
        CHECK(f.errors.size() == 2);
        CHECK(error_with(f.errors, "`sudo isolab ps`") != nullptr);
        CHECK(error_with(f.errors, "`isolabx ps`") != nullptr);
    }
    SUBCASE("docker lines and a race are fine") {
        auto ok = parse_ok(edit(kValid, "\"run\": \"isolab run -d --name web isolab/web\"",
                                "\"run\": [\"docker ps\", \"isolab ps -a\"],\n        \"expect_exit\": 125"));
        CHECK(ok.lesson->steps[1].action.run.size() == 2);
        CHECK(ok.lesson->steps[1].action.expect_exit == 125);
        auto race = parse_ok(edit(kValid, "\"run\": \"isolab run -d --name web isolab/web\"", "\"race\": true"));
        CHECK(race.lesson->steps[1].action.race);
        CHECK(race.lesson->steps[1].action.run.empty());
    }
}

TEST_CASE("lesson loader: a value of the wrong type") {
    std::string text = edit(kValid, "\"order\": 1,", "\"order\": \"1\",");
    auto e = one_error(text);
    CHECK(e.line == 3);
    CHECK(contains(e.message, "`order` must be a whole number"));
    auto m = one_error(edit(kValid, "\"minutes\": 5,", "\"minutes\": 500,"));
    CHECK(contains(m.message, "1 to 120"));
}

TEST_CASE("lesson loader: every error of a file is collected, each on its own line") {
    std::string text = edit(kValid, "\"check\": {", "\"chek\": {");
    text = edit(text, "\"view\": \"race\"", "\"view\": \"races\"");
    text = edit(text, "\"ko\": \"처음\"", "\"ko\": \"\"");
    auto f = parse_lesson("lessons/demo.json", text);
    INFO(all_errors(f));
    CHECK_FALSE(f.lesson.has_value());
    REQUIRE(f.errors.size() == 3);
    CHECK(f.id_hint == "demo");  // the id, although the file is broken
    auto* chek = error_with(f.errors, "`chek`");
    auto* view = error_with(f.errors, "`races`");
    auto* ko = error_with(f.errors, "empty");
    REQUIRE(chek);
    REQUIRE(view);
    REQUIRE(ko);
    CHECK(chek->line == line_of(text, "\"chek\""));
    CHECK(view->line == line_of(text, "\"races\""));
    CHECK(ko->line == line_of(text, "\"ko\": \"\""));
}

TEST_CASE("lesson loader: LessonError::format is one FILE:LINE: message line") {
    std::string text = edit(kValid, "\"check\": {", "\"chek\": {");
    auto f = parse_lesson("lessons/05-demo.json", text);
    REQUIRE(f.errors.size() == 1);
    const auto& e = f.errors[0];
    CHECK(e.format() == "lessons/05-demo.json:" + std::to_string(line_of(text, "\"chek\"")) + ": " + e.message);

    SUBCASE("a key holding a newline") {
        std::string nl = edit(kValid, "  \"minutes\": 5,\n", "  \"minutes\": 5,\n  \"a\\nb\": 1,\n");
        auto g = parse_lesson("lessons/05-demo.json", nl);
        REQUIRE(g.errors.size() == 1);
        CHECK(g.errors[0].line == line_of(nl, "\"a\\nb\""));
        CHECK(contains(g.errors[0].message, "a\nb"));  // the key as it is...
        std::string line = g.errors[0].format();
        CHECK(line.find('\n') == std::string::npos);  // ...but one line
        CHECK(line.find('\r') == std::string::npos);
        CHECK(line.rfind("lessons/05-demo.json:" + std::to_string(g.errors[0].line) + ": ", 0) == 0);
        CHECK(contains(line, "a b"));
    }
    SUBCASE("line 0: the whole file") {
        auto g = load_lesson("/nonexistent-isolab-dir/07-gone.json");
        REQUIRE(g.errors.size() == 1);
        CHECK(g.errors[0].line == 0);
        CHECK(g.errors[0].format() == "/nonexistent-isolab-dir/07-gone.json: " + g.errors[0].message);
        CHECK(g.id_hint == "07-gone");
        CHECK_FALSE(g.lesson.has_value());
    }
    LessonError tab{"f.json", 3, "a\tb\x1b" "c"};
    CHECK(tab.format() == "f.json:3: a b c");
}

// ---- the catalog ----

TEST_CASE("lesson catalog: sorted by order, broken files listed after the others") {
    TempDir d;
    d.write("a.json", mini("alpha", 3));
    d.write("b.json", mini("beta", 1));
    d.write("c.json", mini("gamma", 2, R"(["beta"])"));
    d.write("e-bad.json", edit(mini("echo", 4), "\"minutes\": 3,", ""));  // valid JSON, a missing key
    d.write("0-bad.json", "{\"id\": \"zero\",\n  \"order\": 9\n  \"title\": 1}");  // invalid JSON
    d.write("notes.txt", "not a lesson");

    Catalog c = load_catalog(d.path);
    REQUIRE(c.files.size() == 5);
    CHECK(ids(c) == std::vector<std::string>{"beta", "gamma", "alpha"});
    CHECK(c.files[0].lesson->id == "beta");
    CHECK(c.files[1].lesson->id == "gamma");
    CHECK(c.files[2].lesson->id == "alpha");
    // The broken ones: no lesson, listed by file name, with a name to show.
    CHECK(fs::path(c.files[3].path).filename() == "0-bad.json");
    CHECK_FALSE(c.files[3].lesson.has_value());
    CHECK(c.files[3].id_hint == "0-bad");
    REQUIRE(c.files[3].errors.size() == 1);
    CHECK(c.files[3].errors[0].line == 3);
    CHECK(fs::path(c.files[4].path).filename() == "e-bad.json");
    CHECK_FALSE(c.files[4].lesson.has_value());
    CHECK(c.files[4].id_hint == "echo");
    // Every error of every file is in the catalog's list.
    CHECK(c.errors.size() == 2);
    CHECK(error_with(c.errors, "0-bad.json:3: invalid JSON") != nullptr);
    CHECK(error_with(c.errors, "`minutes`") != nullptr);
    CHECK(c.find("gamma") != nullptr);
    CHECK(c.find("gamma")->prerequisites == std::vector<std::string>{"beta"});
    CHECK(c.find("echo") == nullptr);
    CHECK(c.find("zero") == nullptr);
}

TEST_CASE("lesson catalog: duplicate ids and orders are errors naming both files") {
    TempDir d;
    SUBCASE("ids") {
        d.write("a.json", mini("same", 1));
        d.write("b.json", mini("same", 2));
        d.write("c.json", mini("other", 3));
        Catalog c = load_catalog(d.path);
        REQUIRE(c.errors.size() == 1);
        std::string e = c.errors[0].format();
        CHECK(contains(e, d.path + "/a.json"));
        CHECK(contains(e, d.path + "/b.json"));
        CHECK(contains(e, "`same`"));
        CHECK(contains(e, "rename"));
        CHECK(c.find("other") != nullptr);
        CHECK(c.lessons().size() == 2);  // one of the two keeps the id
    }
    SUBCASE("orders") {
        d.write("a.json", mini("one", 5));
        d.write("b.json", mini("two", 5));
        d.write("c.json", mini("three", 6));
        Catalog c = load_catalog(d.path);
        REQUIRE(c.errors.size() == 1);
        std::string e = c.errors[0].format();
        CHECK(contains(e, d.path + "/a.json"));
        CHECK(contains(e, d.path + "/b.json"));
        CHECK(contains(e, "order 5"));
        CHECK(c.find("three") != nullptr);
        CHECK(c.lessons().size() == 2);
    }
}

TEST_CASE("lesson catalog: prerequisites must exist and must not go round") {
    TempDir d;
    SUBCASE("unknown") {
        d.write("a.json", mini("a", 1, R"(["nope"])"));
        d.write("b.json", mini("b", 2, R"(["a"])"));
        Catalog c = load_catalog(d.path);
        REQUIRE(c.errors.size() == 1);
        CHECK(contains(c.errors[0].format(), d.path + "/a.json"));
        CHECK(contains(c.errors[0].message, "`nope`"));
        CHECK(contains(c.errors[0].message, "isolab lesson list"));
        CHECK(c.find("a") == nullptr);
        CHECK(c.find("b") != nullptr);
    }
    SUBCASE("a cycle") {
        d.write("x.json", mini("x", 1, R"(["y"])"));
        d.write("y.json", mini("y", 2, R"(["x"])"));
        d.write("z.json", mini("z", 3));
        Catalog c = load_catalog(d.path);
        CHECK_FALSE(c.errors.empty());
        for (auto& e : c.errors) CHECK(contains(e.message, "circle"));
        CHECK(error_with(c.errors, "`x`") != nullptr);
        CHECK(c.find("x") == nullptr);
        CHECK(c.find("y") == nullptr);
        CHECK(c.find("z") != nullptr);
    }
    SUBCASE("a lesson that needs itself") {
        d.write("w.json", mini("w", 1, R"(["w"])"));
        Catalog c = load_catalog(d.path);
        REQUIRE(c.errors.size() == 1);
        CHECK(contains(c.errors[0].message, "circle"));
        CHECK(c.lessons().empty());
        REQUIRE(c.files.size() == 1);
        CHECK(c.files[0].id_hint == "w");
    }
    SUBCASE("a broken prerequisite is its own file's error, not its dependents'") {
        d.write("a.json", "{\"id\": \"a\", \"order\": 1}");
        d.write("b.json", mini("b", 2, R"(["a"])"));
        Catalog c = load_catalog(d.path);
        CHECK(c.find("b") != nullptr);
        for (auto& e : c.errors) CHECK(contains(e.format(), d.path + "/a.json"));
    }
    SUBCASE("a chain is fine") {
        d.write("1.json", mini("one", 1));
        d.write("2.json", mini("two", 2, R"(["one"])"));
        d.write("3.json", mini("three", 3, R"(["one", "two"])"));
        Catalog c = load_catalog(d.path);
        CHECK(c.errors.empty());
        CHECK(ids(c) == std::vector<std::string>{"one", "two", "three"});
    }
}

TEST_CASE("lesson catalog: an empty or missing folder") {
    TempDir d;
    Catalog empty = load_catalog(d.path);
    CHECK(empty.files.empty());
    CHECK(empty.errors.empty());
    Catalog missing = load_catalog(d.path + "/nowhere");
    CHECK(missing.files.empty());
    REQUIRE(missing.errors.size() == 1);
    CHECK(contains(missing.errors[0].message, "ISOLAB_LESSONS"));
}

TEST_CASE("lesson catalog: the repository's lessons load without an error, in both languages") {
    EnvVar lessons("ISOLAB_LESSONS"), assets("ISOLAB_ASSETS");
    lessons.unset();
    assets.unset();
    std::string dir = lessons_dir();
    std::error_code ec;
    CHECK(fs::equivalent(dir, fs::path(ISOLAB_SOURCE_DIR) / "lessons", ec));
    Catalog c = load_catalog(dir);
    std::string errors;
    for (auto& e : c.errors) errors += e.format() + "\n";
    INFO(errors);
    CHECK(c.errors.empty());
    auto ls = c.lessons();
    CHECK(ls.size() >= 10);
    CHECK(ls.size() == c.files.size());
    int last_order = 0;
    for (auto* l : ls) {
        CAPTURE(l->id);
        CHECK(l->order > last_order);
        last_order = l->order;
        CHECK_FALSE(l->title.en.empty());
        CHECK_FALSE(l->title.ko.empty());
        CHECK_FALSE(l->summary.ko.empty());
        CHECK_FALSE(l->steps.empty());
        for (auto& s : l->steps) {
            CAPTURE(s.id);
            CHECK_FALSE(s.title.en.empty());
            CHECK_FALSE(s.title.ko.empty());
        }
    }

    lessons.set("/somewhere/else");
    CHECK(lessons_dir() == "/somewhere/else");
}
