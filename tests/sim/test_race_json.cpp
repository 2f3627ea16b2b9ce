// The race result goes into the `race` event and comes back for a window opened later.
#include <doctest/doctest.h>

#include <fstream>

#include "sim/vm/race.hpp"
#include "tests/sim/lesson_test_util.hpp"

using namespace isolab::vm;

namespace {
RaceResult sample(double vm_ms) {
    RaceResult r;
    r.vm = {"qemu-tcg", vm_ms, {{"firmware", 350.5}, {"kernel", 1800.0}}, 228.7, "guest kernel 6.1"};
    r.container = {"namespaces", 9.3, {{"clone", 1.9}, {"exec", 0.4}}, 3.9, "published port"};
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
    CHECK_FALSE(race_from_json(nlohmann::json{{"vm", 1}}));
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
