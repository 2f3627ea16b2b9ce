// The boot stage tracker on recorded serial consoles (tests/data/console-*.log, format in their
// headers) and on hand-made edge cases. The recordings are real boots of IsoLab's guest under
// QEMU TCG, so the expected times below are the times in those files.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>

#include "sim/vm/boot_stages.hpp"

#ifndef ISOLAB_SOURCE_DIR
#define ISOLAB_SOURCE_DIR "."
#endif

using namespace isolab::vm;

namespace {

struct Recording {
    std::vector<std::pair<double, std::string>> lines;  // ms, raw line (CR and escapes kept)
    double http_ms = -1;
};

Recording read_recording(const std::string& name) {
    const std::string path = std::string(ISOLAB_SOURCE_DIR) + "/tests/data/" + name;
    std::ifstream in(path, std::ios::binary);
    REQUIRE_MESSAGE(in.good(), "cannot open fixture ", path);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Recording r;
    std::istringstream lines(bytes);
    std::string line;
    int without_tab = 0;
    while (std::getline(lines, line)) {
        if (line.empty() || line[0] == '#') continue;
        if (line.rfind("http ", 0) == 0) {
            r.http_ms = std::strtod(line.c_str() + 5, nullptr);
            continue;
        }
        size_t tab = line.find('\t');
        if (tab == std::string::npos) {
            ++without_tab;
            continue;
        }
        r.lines.emplace_back(std::strtod(line.substr(0, tab).c_str(), nullptr), line.substr(tab + 1));
    }
    CHECK_MESSAGE(without_tab == 0, path, " has lines without a tab");
    REQUIRE(!r.lines.empty());
    return r;
}

// Feeds a whole recording, the HTTP answer last (where the recorder saw it).
BootStageTracker replay(const Recording& r) {
    BootStageTracker t;
    for (const auto& [ms, line] : r.lines) t.feed(ms, line);
    if (r.http_ms >= 0) t.mark_http_answered(r.http_ms);
    return t;
}

struct Expect {
    double start, end;
    bool observed;
};

void check_stages(const BootStageTracker& t, const std::vector<Expect>& want) {
    auto st = t.stages();
    REQUIRE(st.size() == kBootStageCount);
    for (size_t i = 0; i < want.size(); ++i) {
        CAPTURE(st[i].name);
        CHECK(st[i].name == kBootStageNames[i]);
        CHECK(st[i].done);
        CHECK(st[i].start_ms == doctest::Approx(want[i].start));
        CHECK(st[i].end_ms == doctest::Approx(want[i].end));
        CHECK(st[i].observed == want[i].observed);
    }
}

double sum_of_durations(const BootStageTracker& t) {
    double total = 0;
    for (const auto& s : t.stages()) total += s.duration_ms();
    return total;
}

}  // namespace

TEST_CASE("boot stages: a fresh tracker is in the firmware stage") {
    BootStageTracker t;
    auto st = t.stages();
    REQUIRE(st.size() == 5);
    for (size_t i = 0; i < st.size(); ++i) {
        CHECK(st[i].name == kBootStageNames[i]);
        CHECK_FALSE(st[i].done);
    }
    CHECK(t.current_stage() == "firmware");
    CHECK_FALSE(t.complete());
    CHECK(t.kernel_release().empty());
    CHECK(t.answered_ms() == -1);
    CHECK(t.listening_ms() == -1);
    CHECK(t.failure().empty());
}

TEST_CASE("boot stages: a recorded TCG boot with kernel timestamps") {
    auto rec = read_recording("console-tcg-pc.log");
    auto t = replay(rec);
    REQUIRE(t.complete());
    check_stages(t, {{0, 708.5, true},
                     {708.5, 2336.0, true},
                     {2336.0, 2348.7, true},
                     {2348.7, 2628.8, true},
                     {2628.8, 2687.7, true}});
    CHECK(t.current_stage() == "");
    CHECK(t.kernel_release() == "6.1.0-56-cloud-amd64");
    CHECK(t.answered_ms() == doctest::Approx(2687.7));
    CHECK(t.listening_ms() == doctest::Approx(2637.1));
    CHECK(t.failure().empty());
    CHECK(sum_of_durations(t) == doctest::Approx(t.answered_ms()));
}

TEST_CASE("boot stages: the current stage follows the console line by line") {
    auto rec = read_recording("console-tcg-pc.log");
    BootStageTracker t;
    std::vector<std::string> seen = {t.current_stage()};
    int ended = 0;
    for (const auto& [ms, line] : rec.lines) {
        if (t.feed(ms, line)) {
            ++ended;
            seen.push_back(t.current_stage());
        }
    }
    CHECK(ended == 4);  // four console milestones; the fifth is the HTTP answer
    CHECK(seen == std::vector<std::string>{"firmware", "kernel", "init", "network", "app"});
    CHECK_FALSE(t.complete());
    CHECK(t.mark_http_answered(rec.http_ms));
    CHECK(t.complete());
    CHECK(t.current_stage() == "");
}

TEST_CASE("boot stages: a recorded boot without kernel timestamps (printk.time=0)") {
    auto t = replay(read_recording("console-tcg-pc-notime.log"));
    REQUIRE(t.complete());
    check_stages(t, {{0, 795.7, true},
                     {795.7, 2443.7, true},
                     {2443.7, 2474.4, true},
                     {2474.4, 2743.5, true},
                     {2743.5, 2833.3, true}});
    CHECK(t.kernel_release() == "6.1.0-56-cloud-amd64");
}

TEST_CASE("boot stages: a recorded `quiet` boot hides firmware and kernel, and says so") {
    auto t = replay(read_recording("console-tcg-pc-quiet.log"));
    REQUIRE(t.complete());
    // Neither `Linux version` nor `Run /init` was printed: firmware and kernel are done but not
    // observed, and init spans everything from QEMU's start to the guest's first marker.
    check_stages(t, {{0, 0, false},
                     {0, 0, false},
                     {0, 1966.4, true},
                     {1966.4, 2242.8, true},
                     {2242.8, 2307.1, true}});
    CHECK(t.kernel_release().empty());
    CHECK(sum_of_durations(t) == doctest::Approx(2307.1));
}

TEST_CASE("boot stages: a recorded failed boot reports the guest's error and never completes") {
    auto t = replay(read_recording("console-tcg-microvm-network-error.log"));
    CHECK_FALSE(t.complete());
    CHECK(t.current_stage() == "network");
    CHECK(t.failure() == "isolab-guest: error network (no eth0 or address/route failed)");
    auto st = t.stages();
    CHECK(st[0].end_ms == doctest::Approx(472.0));
    CHECK(st[1].end_ms == doctest::Approx(1741.1));
    CHECK(st[2].end_ms == doctest::Approx(1752.8));
    CHECK(st[3].start_ms == doctest::Approx(1752.8));
    CHECK_FALSE(st[3].done);
    CHECK_FALSE(st[4].done);
    CHECK(t.listening_ms() == doctest::Approx(4280.4));  // httpd started, but unreachable
    CHECK(t.answered_ms() == -1);
    CHECK(t.kernel_release() == "6.1.0-56-cloud-amd64");
}

TEST_CASE("boot stages: garbage, escapes and out-of-order lines give the clean recording's stages") {
    auto t = replay(read_recording("console-garbage.log"));
    REQUIRE(t.complete());
    check_stages(t, {{0, 708.5, true},
                     {708.5, 2336.0, true},
                     {2336.0, 2348.7, true},
                     {2348.7, 2628.8, true},
                     {2628.8, 2687.7, true}});
    CHECK(t.kernel_release() == "6.1.0-56-cloud-amd64");  // the first banner, not the typed one
    CHECK(t.listening_ms() == doctest::Approx(2637.1));
    CHECK(t.failure().empty());
}

TEST_CASE("boot stages: clean_console_line") {
    struct Case {
        const char* raw;
        const char* clean;
    };
    const Case cases[] = {
        {"[    0.000000] Linux version 6.1.0-28-cloud-amd64 (x)\r", "Linux version 6.1.0-28-cloud-amd64 (x)"},
        {"[    1.504092][    T1] Run /init as init process\r", "Run /init as init process"},
        {"[12345.678901] late line", "late line"},
        {"isolab-guest: init started\r", "isolab-guest: init started"},
        {"\x1b[32misolab-guest: network up\x1b[0m", "isolab-guest: network up"},
        {"\x1b" "c\x1b[?7l\x1b[2JSeaBIOS (version 1.16.2)", "SeaBIOS (version 1.16.2)"},
        {"\x1b]0;window title\x07" "after OSC", "after OSC"},
        {"\x1b]0;title ended by ST\x1b\\after", "after"},
        {"\x1b(Bcharset", "charset"},
        {"a\tb", "a b"},
        {"  \r\n", ""},
        {"\x1b[", ""},
        {"[  OK  ] Started systemd-journald.service", "[  OK  ] Started systemd-journald.service"},
        {"[1.5.2] not a kernel time", "[1.5.2] not a kernel time"},
        {"[    0.1] ok", "ok"},
        {"\xea\xb0\x80 UTF-8 stays", "\xea\xb0\x80 UTF-8 stays"},
    };
    for (const auto& c : cases) {
        const std::string raw = c.raw;
        CAPTURE(raw);
        CHECK(clean_console_line(raw) == std::string(c.clean));
    }
    // An embedded NUL is part of the line, not its end.
    CHECK(clean_console_line(std::string_view("x\0y", 3)) == "xy");
}

TEST_CASE("boot stages: a milestone that skips stages closes them as not observed") {
    BootStageTracker t;
    CHECK(t.feed(500, "isolab-guest: network up 10.0.2.15"));
    CHECK(t.current_stage() == "app");
    auto st = t.stages();
    for (int i = 0; i < 3; ++i) {
        CHECK(st[i].done);
        CHECK_FALSE(st[i].observed);
        CHECK(st[i].duration_ms() == 0);
    }
    CHECK(st[3].observed);
    CHECK(st[3].start_ms == 0);
    CHECK(st[3].end_ms == 500);
    CHECK(st[4].start_ms == 500);
    // Earlier milestones arriving afterwards change no stage, but the banner still names the kernel.
    CHECK_FALSE(t.feed(600, "[    0.000000] Linux version 6.1.0-28-cloud-amd64 (debian-kernel@lists.debian.org)"));
    CHECK_FALSE(t.feed(610, "Run /init as init process"));
    CHECK_FALSE(t.feed(620, "isolab-guest: init started"));
    CHECK(t.current_stage() == "app");
    CHECK(t.stages()[3].end_ms == 500);
    CHECK(t.kernel_release() == "6.1.0-28-cloud-amd64");
}

TEST_CASE("boot stages: duplicate milestones are ignored") {
    BootStageTracker t;
    CHECK(t.feed(100, "Linux version 6.1.0-28-cloud-amd64 #1 SMP"));
    CHECK_FALSE(t.feed(150, "Linux version 9.9.9 #1 SMP"));
    CHECK(t.kernel_release() == "6.1.0-28-cloud-amd64");
    CHECK(t.stages()[0].end_ms == 100);
    CHECK(t.feed(200, "Run /sbin/init as init process"));  // any init path
    CHECK_FALSE(t.feed(250, "Run /init as init process"));
    CHECK(t.stages()[1].end_ms == 200);
}

TEST_CASE("boot stages: lookalikes are not milestones") {
    BootStageTracker t;
    CHECK_FALSE(t.feed(10, "Linux versionless"));
    CHECK_FALSE(t.feed(11, "Linux version "));  // no release
    CHECK_FALSE(t.feed(12, "Run  as init process"));
    CHECK_FALSE(t.feed(13, "isolab-guest: init"));
    CHECK_FALSE(t.feed(14, "isolab-guest network up"));
    CHECK(t.current_stage() == "firmware");
    CHECK(t.kernel_release().empty());
}

TEST_CASE("boot stages: times are made monotonic") {
    BootStageTracker t;
    t.feed(800, "Linux version 6.1.0 x");
    t.feed(700, "Run /init as init process");  // stamped earlier than the line before it
    auto st = t.stages();
    CHECK(st[1].start_ms == 800);
    CHECK(st[1].end_ms == 800);
    t.feed(-5, "isolab-guest: init started");
    CHECK(t.stages()[2].end_ms == 800);
    t.feed(std::numeric_limits<double>::quiet_NaN(), "isolab-guest: network up");
    CHECK(t.stages()[3].end_ms == 800);
    t.feed(std::numeric_limits<double>::infinity(), "noise");
    CHECK(t.last_ms() == 800);
    CHECK(t.mark_http_answered(900));
    CHECK(t.answered_ms() == 900);
    for (const auto& s : t.stages()) CHECK(s.duration_ms() >= 0);
}

TEST_CASE("boot stages: the first HTTP answer completes the boot, once") {
    BootStageTracker t;
    t.feed(100, "Linux version 6.1.0 x");
    CHECK(t.mark_http_answered(3000));
    CHECK(t.complete());
    auto st = t.stages();
    CHECK(st[0].observed);
    CHECK_FALSE(st[1].observed);  // kernel, init and network never printed their ends
    CHECK_FALSE(st[2].observed);
    CHECK_FALSE(st[3].observed);
    CHECK(st[4].observed);
    CHECK(st[4].start_ms == 100);
    CHECK(st[4].end_ms == 3000);
    CHECK_FALSE(t.mark_http_answered(3500));
    CHECK(t.answered_ms() == 3000);
    // After completion nothing moves: not stages, not the listening time.
    CHECK_FALSE(t.feed(3600, "isolab-guest: network up"));
    t.feed(3700, "isolab-guest: httpd listening on :80");
    CHECK(t.listening_ms() == -1);
    CHECK(t.stages()[4].end_ms == 3000);
}

TEST_CASE("boot stages: a kernel panic is a failure") {
    BootStageTracker t;
    t.feed(100, "[    0.000000] Linux version 6.1.0 x");
    t.feed(900, "[    1.100000] Kernel panic - not syncing: No working init found.\r");
    CHECK(t.failure() == "Kernel panic - not syncing: No working init found.");
    t.feed(901, "isolab-guest: error later");
    CHECK(t.failure() == "Kernel panic - not syncing: No working init found.");  // the first one
    CHECK(t.current_stage() == "kernel");
}
