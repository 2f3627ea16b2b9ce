// The race result goes into the `race` event and comes back for a window opened later.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "sim/core/i18n.hpp"
#include "sim/core/strings.hpp"
#include "sim/vm/race.hpp"
#include "tests/sim/lesson_test_util.hpp"

using namespace isolab::vm;

namespace {
RaceResult sample(double vm_ms) {
    RaceResult r;
    r.vm = {"qemu-tcg", vm_ms, {{"firmware", 350.5}, {"kernel", 1800.0}}, 228.7, "guest kernel 6.1", "", {}};
    r.container = {"namespaces", 9.3, {{"clone", 1.9}, {"exec", 0.4}}, 3.9, "GET http://127.0.0.1:8080/ (published port)",
                   "race.detail.published", {"8080"}};
    r.ratio = vm_ms / 9.3;
    return r;
}
}  // namespace

TEST_CASE("race: a result survives to_json and race_from_json") {
    auto back = race_from_json(to_json(sample(2150.5)));
    REQUIRE(back);
    CHECK(back->vm.backend == "qemu-tcg");
    CHECK(back->vm.answered_ms == doctest::Approx(2150.5));
    REQUIRE(back->vm.stages.size() == 2);
    CHECK(back->vm.stages[1].first == "kernel");
    CHECK(back->container.stages[0].second == doctest::Approx(1.9));
    CHECK(back->container.memory_mib == doctest::Approx(3.9));
    CHECK(back->ratio == doctest::Approx(231.2).epsilon(0.01));
    CHECK(back->container.detail_key == "race.detail.published");
    CHECK(back->container.detail_args == std::vector<std::string>{"8080"});
    CHECK(back->vm.detail_key.empty());
    CHECK_FALSE(race_from_json(nlohmann::json{{"vm", 1}}));
}

TEST_CASE("race: the detail a learner reads is in their language; the JSON's stays English") {
    REQUIRE(isolab::i18n::load_strings(isolab::i18n::assets_dir() + "/strings").ok());
    auto r = sample(2000);
    isolab::i18n::set_language(isolab::i18n::Lang::Ko);
    std::string ko = race_detail_text(r.container);
    CHECK(ko.find("8080") != std::string::npos);
    CHECK(ko.find("published port") == std::string::npos);
    CHECK(ko.find("공개된 포트") != std::string::npos);
    CHECK(race_detail_text(r.vm) == "guest kernel 6.1");  // a result from before keys: as recorded
    CHECK(format_race(r).find("공개된 포트") != std::string::npos);
    CHECK(format_race(r).find("펌웨어") != std::string::npos);  // stage names too
    // The stage table lines up in terminal columns although Hangul takes two and three bytes.
    std::istringstream lines(format_race(r));
    std::vector<size_t> widths;
    for (std::string line; std::getline(lines, line);)
        if (line.size() > 4 && line.compare(line.size() - 3, 3, " ms") == 0 && line.find("  ") == 0)
            widths.push_back(isolab::display_width(line));
    REQUIRE(widths.size() == 4);
    CHECK(std::all_of(widths.begin(), widths.end(), [&](size_t w) { return w == widths[0]; }));
    isolab::i18n::set_language(isolab::i18n::Lang::En);
    CHECK(race_detail_text(r.container).find("published port") != std::string::npos);
    CHECK(to_json(r)["container"]["detail"] == "GET http://127.0.0.1:8080/ (published port)");
}

TEST_CASE("race: last_race reads the newest race event of a state root") {
    isolab::test::TempDir d("isolab-race-test");
    CHECK_FALSE(last_race(d.path));
    {
        std::ofstream ev(d.path + "/events.jsonl");
        ev << nlohmann::json{{"type", "race"}, {"result", to_json(sample(3000))}}.dump() << "\n";
        ev << nlohmann::json{{"type", "start"}, {"name", "web"}}.dump() << "\n";
        ev << nlohmann::json{{"type", "race"}, {"result", to_json(sample(4000))}}.dump() << "\n";
        ev << "not json\n";
    }
    auto r = last_race(d.path);
    REQUIRE(r);
    CHECK(r->vm.answered_ms == doctest::Approx(4000));
}
