// The boot race tab's view-model (sim/view/race_model.hpp): axes and bar lengths in linear and log
// scale, the ratio text, the "modeled"/"simulated" tags, and the live lanes fed from the race's
// callbacks. Texts are checked for their numbers and tags, not for whole sentences, so the tests
// hold in either language.
#include <doctest/doctest.h>

#include <cmath>

#include "sim/core/i18n.hpp"
#include "sim/view/race_model.hpp"

using namespace isolab;
using namespace isolab::view;

namespace {

vm::RaceSide side(const std::string& backend, double answered, std::vector<std::pair<std::string, double>> stages,
                  double memory = 0) {
    vm::RaceSide s;
    s.backend = backend;
    s.answered_ms = answered;
    s.stages = std::move(stages);
    s.memory_mib = memory;
    s.detail = backend + " detail";
    return s;
}

vm::RaceResult result(const std::string& cb, double c, const std::string& vb, double v) {
    vm::RaceResult r;
    r.container = side(cb, c, {{"create", c / 2}, {"httpd answering", c / 2}}, 1.5);
    r.vm = side(vb, v, {{"firmware", v / 2}, {"kernel", v / 2}}, 180);
    r.ratio = v / c;
    return r;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("view: race ms text picks ms or s") {
    CHECK(race_ms_text(0.42) == "0.4 ms");
    CHECK(race_ms_text(43.4) == "43 ms");
    CHECK(race_ms_text(1234) == "1.23 s");
    CHECK(race_ms_text(12345) == "12.3 s");
    CHECK(race_ms_text(-5) == "0.0 ms");
}

TEST_CASE("view: race linear axis is round and holds the maximum") {
    auto a = race_axis(12000, RaceScale::Linear);
    CHECK(a.min_ms == 0);
    CHECK(a.max_ms == doctest::Approx(20000));
    REQUIRE(a.ticks.size() >= 3);
    CHECK(a.ticks.front().first == doctest::Approx(0));
    CHECK(a.ticks.back().first == doctest::Approx(1));
    CHECK(a.ticks.back().second == "20 s");
    CHECK(race_fraction(a, 10000) == doctest::Approx(0.5));
    CHECK(race_fraction(a, 40) == doctest::Approx(0.002));
    CHECK(race_fraction(a, 50000) == doctest::Approx(1));  // clamped
    CHECK(race_fraction(a, 0) == 0);
    CHECK(race_axis(250, RaceScale::Linear).max_ms == doctest::Approx(250));
    CHECK(race_axis(0, RaceScale::Linear).max_ms > 0);
}

TEST_CASE("view: race log axis spans powers of ten") {
    auto a = race_axis(12000, RaceScale::Log, 40);
    CHECK(a.min_ms == doctest::Approx(1));
    CHECK(a.max_ms == doctest::Approx(100000));
    REQUIRE(a.ticks.size() == 6);  // 1 ms, 10 ms, 100 ms, 1 s, 10 s, 100 s
    CHECK(a.ticks[0].second == "1 ms");
    CHECK(a.ticks[3].second == "1 s");
    CHECK(a.ticks[3].first == doctest::Approx(0.6));
    CHECK(race_fraction(a, 1000) == doctest::Approx(0.6));
    CHECK(race_fraction(a, 10) == doctest::Approx(0.2));
    CHECK(race_fraction(a, 0.5) == 0);  // below the left edge
    // A tiny side moves the left edge down to 0.1 ms, never further.
    CHECK(race_axis(1000, RaceScale::Log, 0.3).min_ms == doctest::Approx(0.1));
    CHECK(race_axis(1000, RaceScale::Log, 0.001).min_ms == doctest::Approx(0.1));
    // An exact power of ten is its own right edge.
    CHECK(race_axis(1000, RaceScale::Log).max_ms == doctest::Approx(1000));
}

TEST_CASE("view: race chart bars, ratio and memory") {
    auto r = result("namespaces", 40, "qemu-tcg", 11200);
    auto ch = build_race_chart(r, RaceScale::Linear);
    REQUIRE(ch.bars.size() == 2);
    CHECK_FALSE(ch.bars[0].vm);
    CHECK(ch.bars[1].vm);
    CHECK(ch.bars[1].fraction > 0.5);
    CHECK(ch.bars[0].fraction < 0.01);
    CHECK(ch.bars[0].tag.empty());
    CHECK(ch.bars[1].tag.empty());
    CHECK_FALSE(ch.any_unmeasured);
    CHECK(contains(ch.ratio, "280"));
    CHECK(contains(ch.ratio_detail, "40 ms"));
    CHECK(contains(ch.ratio_detail, "11.2 s"));
    CHECK(contains(ch.memory_vm, "180.0"));
    CHECK(contains(ch.memory_container, "1.5"));
    CHECK(ch.detail_vm == "qemu-tcg detail");

    auto lg = build_race_chart(r, RaceScale::Log);
    // Log: the container's bar is clearly visible.
    CHECK(lg.bars[0].fraction > 0.2);
    CHECK(lg.bars[1].fraction > lg.bars[0].fraction);
}

TEST_CASE("view: race ratio text") {
    CHECK(contains(race_ratio_text(result("namespaces", 40, "qemu-kvm", 11200)), "280"));
    CHECK(contains(race_ratio_text(result("namespaces", 100, "qemu-kvm", 350)), "3.5"));
    // The VM first (never in practice, but the text must not say "0×").
    std::string vm_first = race_ratio_text(result("namespaces", 1000, "qemu-kvm", 500));
    CHECK(contains(vm_first, "2.0"));
    CHECK(vm_first != race_ratio_text(result("namespaces", 500, "qemu-kvm", 1000)));
    CHECK(race_ratio_text(result("namespaces", 0, "qemu-kvm", 500)).empty());
}

TEST_CASE("view: race labels say modeled and simulated wherever they show") {
    CHECK(race_backend_measured("namespaces"));
    CHECK(race_backend_measured("rootless"));
    CHECK(race_backend_measured("qemu-tcg"));
    CHECK_FALSE(race_backend_measured("model"));
    CHECK_FALSE(race_backend_measured("simulated"));
    CHECK(race_backend_tag("qemu-kvm").empty());
    CHECK(race_backend_tag("model") == i18n::tr("gui.race.modeled"));
    CHECK(race_backend_tag("simulated") == i18n::tr("gui.race.simulated"));
    CHECK(race_backend_tag("model") != race_backend_tag("simulated"));

    auto ch = build_race_chart(result("simulated", 30, "model", 9000), RaceScale::Log);
    CHECK(ch.any_unmeasured);
    CHECK(ch.bars[0].tag == race_backend_tag("simulated"));
    CHECK(ch.bars[1].tag == race_backend_tag("model"));
    CHECK(contains(ch.bars[0].value, race_backend_tag("simulated")));
    CHECK(contains(ch.bars[1].value, race_backend_tag("model")));
    CHECK(contains(ch.memory_vm, race_backend_tag("model")));
    CHECK(contains(ch.memory_container, race_backend_tag("simulated")));
    CHECK(contains(ch.ratio, i18n::tr("gui.race.ratio_unmeasured")));
    CHECK(contains(ch.ratio_detail, race_backend_tag("model")));
}

TEST_CASE("view: race stage labels translate known names and keep the runtime's") {
    CHECK(race_stage_label("pivot_root") == "pivot_root");
    CHECK(race_stage_label("caps+seccomp") == "caps+seccomp");
    CHECK_FALSE(race_stage_label("firmware").empty());
}

TEST_CASE("view: race lane from a finished side is cumulative") {
    auto l = lane_from_side(side("namespaces", 12, {{"create", 2}, {"clone", 3}, {"httpd answering", 7}}));
    CHECK(l.finished);
    REQUIRE(l.segments.size() == 3);
    CHECK(l.segments[1].start_ms == doctest::Approx(2));
    CHECK(l.segments[1].end_ms == doctest::Approx(5));
    CHECK(l.segments[2].end_ms == doctest::Approx(12));
    CHECK(l.answered_ms == doctest::Approx(12));
    CHECK(l.elapsed_ms == doctest::Approx(12));
}

TEST_CASE("view: race progress grows the lanes with the clock") {
    RaceProgress p;
    CHECK_FALSE(p.container_lane(0).started);
    p.begin(1000);
    CHECK(p.total_ms(1500) == doctest::Approx(500));
    CHECK_FALSE(p.container_lane(1000).started);

    // The container side: one growing bar until its steps arrive.
    p.on_progress("container", "create + start race-1a2b", 1010);
    CHECK(p.current_side() == "container");
    auto c = p.container_lane(1050);
    CHECK(c.started);
    CHECK_FALSE(c.finished);
    CHECK(c.elapsed_ms == doctest::Approx(40));
    REQUIRE(c.segments.size() == 1);
    CHECK(c.segments[0].running);
    p.on_side_done("container", side("namespaces", 45, {{"create", 5}, {"clone", 10}, {"httpd answering", 30}}), 1055);
    c = p.container_lane(5000);  // finished: the clock no longer moves it
    CHECK(c.finished);
    CHECK(c.segments.size() == 3);
    CHECK(c.elapsed_ms == doctest::Approx(45));

    // The VM side: the backend from the progress line, stages as they end, the current one growing.
    p.on_progress("vm", "boot race-9f9f (qemu-tcg)", 2000);
    CHECK(p.current_side() == "vm");
    auto v = p.vm_lane(2500);
    CHECK(v.backend == "qemu-tcg");
    REQUIRE(v.segments.size() == 1);
    CHECK(v.segments[0].name == "firmware");
    CHECK(v.segments[0].running);
    CHECK(v.elapsed_ms == doctest::Approx(500));
    p.on_console_line(700, "Linux version 6.1.0-56-cloud-amd64", 2700);
    p.on_vm_stage("firmware", 700, 2700);
    v = p.vm_lane(3000);
    REQUIRE(v.segments.size() == 2);
    CHECK_FALSE(v.segments[0].running);
    CHECK(v.segments[0].end_ms == doctest::Approx(700));
    CHECK(v.segments[1].name == "kernel");
    CHECK(v.segments[1].running);
    CHECK(v.segments[1].start_ms == doctest::Approx(700));
    CHECK(v.elapsed_ms == doctest::Approx(1000));
    CHECK(p.console().size() == 1);
    // Console times ahead of the local clock still move the lane.
    p.on_console_line(1500, "Run /init as init process", 3100);
    CHECK(p.vm_lane(3100).elapsed_ms == doctest::Approx(1500));

    // A restarted boot (KVM → TCG) reports its stages from 0 again.
    p.on_vm_stage("firmware", 300, 3200);
    REQUIRE(p.vm_lane(3200).segments.size() == 2);
    CHECK(p.vm_lane(3200).segments[0].end_ms == doctest::Approx(300));

    p.on_side_done("vm", side("qemu-tcg", 4000, {{"firmware", 700}, {"kernel", 3300}}), 6000);
    p.finish(6001);
    CHECK(p.current_side().empty());
    v = p.vm_lane(9000);
    CHECK(v.finished);
    CHECK(v.answered_ms == doctest::Approx(4000));
    CHECK(p.total_ms(99999) == doctest::Approx(5001));
}

TEST_CASE("view: race console keeps only the last lines") {
    RaceProgress p;
    p.begin(0);
    for (size_t i = 0; i < RaceProgress::kConsoleLines + 50; ++i) p.on_console_line(1, "line " + std::to_string(i), 1);
    CHECK(p.console().size() == RaceProgress::kConsoleLines);
    CHECK(p.console().back() == "line " + std::to_string(RaceProgress::kConsoleLines + 49));
}

TEST_CASE("view: race progress after a failure stops the clock") {
    RaceProgress p;
    p.begin(0);
    p.on_progress("container", "create + start race-1", 10);
    p.finish(110);
    auto c = p.container_lane(5000);
    CHECK_FALSE(c.finished);
    CHECK(c.elapsed_ms == doctest::Approx(100));
    CHECK_FALSE(c.segments[0].running);
}
