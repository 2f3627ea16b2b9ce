// The Lifecycle tab's setup list (sim/view/setup_model.hpp): the plan before a start, the timed
// steps after it, consecutive mounts grouped, bars scaled to the longest row, the simulated tag;
// and the same on the simulated engine's own records (plan at create, modeled times at start).
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>

#include "sim/core/i18n.hpp"
#include "sim/engine/engine.hpp"
#include "sim/view/setup_model.hpp"

using namespace isolab;
using namespace isolab::view;

namespace {

std::vector<RuntimeStep> steps(std::vector<std::pair<std::string, double>> named) {
    std::vector<RuntimeStep> out;
    for (auto& [n, ms] : named) out.push_back({n, ms, n + "-detail"});
    return out;
}

}  // namespace

TEST_CASE("view: setup list of a record with neither plan nor steps is empty") {
    ContainerRecord r;
    SetupList l = setup_list(r);
    CHECK(l.phase == SetupPhase::None);
    CHECK(l.rows.empty());
    CHECK(l.steps == 0);
}

TEST_CASE("view: a created container shows its plan, untimed, consecutive mounts as one group") {
    ContainerRecord r;
    r.backend = Backend::Namespaces;
    r.plan = steps({{"clone", 0}, {"rootfs", 0}, {"mount", 0}, {"mount", 0}, {"mount", 0}, {"devices", 0},
                    {"mount", 0}, {"pivot_root", 0}, {"exec", 0}});
    SetupList l = setup_list(r);
    CHECK(l.phase == SetupPhase::Planned);
    CHECK_FALSE(l.simulated);
    CHECK(l.steps == 9);
    REQUIRE(l.rows.size() == 7);
    CHECK(l.rows[0].name == "clone");
    CHECK(l.rows[0].detail == "clone-detail");
    CHECK_FALSE(l.rows[0].group());
    // Three consecutive mounts: one row with three members, details joined in order.
    CHECK(l.rows[2].name == "mount");
    REQUIRE(l.rows[2].members.size() == 3);
    CHECK(l.rows[2].detail == "mount-detail, mount-detail, mount-detail");
    // A lone mount after devices stays a row of its own.
    CHECK(l.rows[4].name == "mount");
    CHECK_FALSE(l.rows[4].group());
    for (const auto& row : l.rows) {
        CHECK(row.ms == 0);
        CHECK(row.fraction == 0);
    }
    CHECK(l.total_ms == 0);
    CHECK(l.longest.empty());
}

TEST_CASE("view: after a start the timed steps replace the plan; bars scale to the longest row") {
    ContainerRecord r;
    r.backend = Backend::Namespaces;
    r.plan = steps({{"clone", 0}, {"exec", 0}});
    r.steps = steps({{"clone", 1.0}, {"mount", 0.5}, {"mount", 1.5}, {"pivot_root", 4.0}, {"exec", 0.25}});
    SetupList l = setup_list(r);
    CHECK(l.phase == SetupPhase::Timed);
    CHECK(l.steps == 5);
    REQUIRE(l.rows.size() == 4);
    CHECK(l.total_ms == doctest::Approx(7.25));
    CHECK(l.longest == "pivot_root");
    CHECK(l.rows[0].fraction == doctest::Approx(0.25));
    // The group's time is its members' sum; members are on the same scale as the rows.
    REQUIRE(l.rows[1].group());
    CHECK(l.rows[1].ms == doctest::Approx(2.0));
    CHECK(l.rows[1].fraction == doctest::Approx(0.5));
    CHECK(l.rows[1].members[0].fraction == doctest::Approx(0.125));
    CHECK(l.rows[1].members[1].fraction == doctest::Approx(0.375));
    CHECK(l.rows[2].fraction == doctest::Approx(1.0));
    CHECK(l.rows[3].fraction == doctest::Approx(0.0625));
}

TEST_CASE("view: a group can be the longest row; its label counts its mounts") {
    ContainerRecord r;
    r.steps = steps({{"clone", 1.0}, {"mount", 0.8}, {"mount", 0.8}});
    SetupList l = setup_list(r);
    CHECK(l.longest == "mount ×2");
    CHECK(l.rows[0].label() == "clone");
    REQUIRE(l.rows.size() == 2);
    CHECK(l.rows[1].fraction == doctest::Approx(1.0));
    CHECK(l.rows[0].fraction == doctest::Approx(1.0 / 1.6));
}

TEST_CASE("view: setup times print in µs, ms or s") {
    CHECK(setup_ms_text(0) == "<1 µs");
    CHECK(setup_ms_text(-3) == "<1 µs");
    CHECK(setup_ms_text(0.0004) == "<1 µs");
    CHECK(setup_ms_text(0.026) == "26 µs");
    CHECK(setup_ms_text(0.9994) == "999 µs");
    CHECK(setup_ms_text(0.9996) == "1.00 ms");
    CHECK(setup_ms_text(4.254) == "4.25 ms");
    CHECK(setup_ms_text(12.34) == "12.3 ms");
    CHECK(setup_ms_text(1200) == "1.20 s");
}

TEST_CASE("view: every step the planner names has a description in both languages") {
    const char* names[] = {"clone", "veth", "cgroup-join", "userns-root", "cgroupns", "oom-score", "loopback",
                           "propagation", "rootfs", "mount", "devices", "pivot_root", "root-propagation",
                           "terminal", "stdio", "readonly-root", "hostname", "sysctl", "readonly-paths",
                           "masked-paths", "rlimits", "umask", "seccomp", "workdir", "user+caps", "no_new_privs",
                           "ready", "exec"};
    for (auto lang : {i18n::Lang::En, i18n::Lang::Ko}) {
        i18n::set_language(lang);
        for (const char* n : names) {
            INFO(n);
            CHECK_FALSE(setup_step_help(n).empty());
        }
        CHECK(setup_step_help("no-such-step").empty());
    }
    i18n::set_language(i18n::Lang::En);
    std::string en = setup_step_help("clone");
    i18n::set_language(i18n::Lang::Ko);
    std::string ko = setup_step_help("clone");
    i18n::set_language(i18n::Lang::En);
    CHECK(en != ko);
}

TEST_CASE("view: the simulated engine's container shows its plan at create and modeled steps after start") {
    char tmpl[] = "/tmp/isl-setup.XXXXXX";
    std::string root = ::mkdtemp(tmpl);
    {
        EngineOptions o;
        o.root = root;
        o.backend = "simulated";
        auto e = Engine::open(o);
        REQUIRE(e.ok());
        ContainerSpec s;
        s.name = "demo";
        s.image = "busybox";
        s.cmd = {"sleep", "100"};
        auto rec = (*e)->create(s);
        REQUIRE(rec.ok());
        SetupList planned = setup_list(*rec);
        CHECK(planned.phase == SetupPhase::Planned);
        CHECK(planned.simulated);
        CHECK(planned.steps == rec->plan.size());
        REQUIRE_FALSE(planned.rows.empty());
        CHECK(planned.rows.front().name == "clone");
        CHECK(planned.rows.back().name == "exec");
        // The default mounts (/proc, /dev, ...) come one after the other: one group.
        bool grouped = false;
        for (const auto& r : planned.rows) grouped = grouped || (r.name == "mount" && r.members.size() >= 2);
        CHECK(grouped);
        REQUIRE((*e)->start("demo").ok());
        auto started = (*e)->inspect("demo");
        REQUIRE(started.ok());
        SetupList timed = setup_list(*started);
        CHECK(timed.phase == SetupPhase::Timed);
        CHECK(timed.simulated);
        CHECK(timed.steps == planned.steps);
        CHECK(timed.rows.size() == planned.rows.size());
        CHECK(timed.total_ms > 0);
        CHECK(timed.rows.front().detail.rfind("simulated:", 0) == 0);
        // A group of simulated mounts says "simulated:" once, then each destination.
        for (const auto& r : timed.rows)
            if (r.group()) {
                CHECK(r.detail.rfind("simulated: /proc", 0) == 0);
                CHECK(r.detail.find("simulated:", 1) == std::string::npos);
                CHECK(r.members.front().detail.rfind("simulated: ", 0) == 0);
            }
    }
    std::filesystem::remove_all(root);
}

TEST_CASE("view: step details read in the GUI's language; English is the runtime's own text") {
    const char* details[] = {"lo up", "old root detached", "uid 0 in the new user namespace",
                             "its cgroup becomes /", "veth pair, eth0 + default route",
                             "eth0 172.19.0.2/16 on isolab0", "6 v1 hierarchies",
                             "overlay: 1 lower layer(s) + upper", "pipes to the monitor", "72 syscall rules",
                             "user 0:0, 14 capabilities", "set", "2 limit(s)"};
    i18n::set_language(i18n::Lang::En);
    for (const char* d : details) {
        INFO(d);
        CHECK(localize_setup_detail(d) == d);  // every English key says exactly what the runtime says
    }
    i18n::set_language(i18n::Lang::Ko);
    for (const char* d : details) {
        INFO(d);
        CHECK(localize_setup_detail(d) != d);  // every fixed phrase is translated
    }
    CHECK(localize_setup_detail("user 1000:1000, 3 capabilities") == "사용자 1000:1000, 권한(capability) 3개");
    CHECK(localize_setup_detail("eth0 172.19.0.2/16 on isolab0") == "eth0 172.19.0.2/16, 브리지 isolab0에 연결");
    CHECK(localize_setup_detail("simulated: lo up") == "시뮬레이션: lo 켜짐");
    // Paths, mounts and commands are not words to translate.
    CHECK(localize_setup_detail("/proc (proc)") == "/proc (proc)");
    CHECK(localize_setup_detail("sleep") == "sleep");
    i18n::set_language(i18n::Lang::En);
}
