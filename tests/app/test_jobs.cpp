// Tests for the GUI's job runner (app/gui/jobs.hpp), with /bin/sh standing in for `isolab`
// ($ISOLAB_BIN): each job line is the words after the binary.
#include <doctest/doctest.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "app/gui/jobs.hpp"
#include "sim/core/clock.hpp"

using isolab::gui::Job;
using isolab::gui::Jobs;

namespace {

// Sets $ISOLAB_BIN for the life of the object.
struct ShellAsIsolab {
    ShellAsIsolab() { ::setenv("ISOLAB_BIN", "/bin/sh", 1); }
    ~ShellAsIsolab() { ::unsetenv("ISOLAB_BIN"); }
};

// Waits (up to 10 s) until every job in JOBS is done; returns the list.
std::vector<Job> wait_all_done(const Jobs& jobs) {
    double deadline = isolab::monotonic_ms() + 10000;
    while (isolab::monotonic_ms() < deadline) {
        auto list = jobs.list();
        bool done = !jobs.busy();
        for (const auto& j : list) done = done && j.done;
        if (done) return list;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL("jobs still running after 10 s");
    return {};
}

}  // namespace

TEST_CASE("jobs: a job's output, exit code and shown command line") {
    ShellAsIsolab sh;
    auto wakes = std::make_shared<std::atomic<int>>(0);
    Jobs jobs("", [wakes] { ++*wakes; });
    int id = jobs.submit("-c 'echo out; echo err >&2; exit 3'", "terminal");
    auto list = wait_all_done(jobs);
    REQUIRE(list.size() == 1);
    CHECK(list[0].id == id);
    CHECK(list[0].command == "isolab -c 'echo out; echo err >&2; exit 3'");
    CHECK(list[0].origin == "terminal");
    CHECK(list[0].output == "out\nerr\n");
    CHECK(list[0].exit_code == 3);
    CHECK(list[0].finished_ms >= list[0].started_ms);
    CHECK(*wakes >= 1);

    int bad = jobs.submit("-c 'unterminated", "terminal");  // the line cannot be split into words
    list = wait_all_done(jobs);
    REQUIRE(list.size() == 2);
    CHECK(list[1].id == bad);
    CHECK(list[1].exit_code == 2);
    CHECK_FALSE(list[1].output.empty());
}

TEST_CASE("jobs: a sequence runs one line after another, in order") {
    ShellAsIsolab sh;
    char dir[] = "/tmp/isolab-jobs-XXXXXX";
    REQUIRE(::mkdtemp(dir) != nullptr);
    std::string file = std::string(dir) + "/order";
    Jobs jobs("", [] {});
    // The first line is the slow one: run side by side, "b" would be written first.
    auto ids = jobs.submit_sequence({"-c 'sleep 0.3; echo a >> order'", "-c 'echo b >> order'"}, "lesson", dir);
    REQUIRE(ids.size() == 2);
    CHECK(ids[1] == ids[0] + 1);
    auto list = wait_all_done(jobs);
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    CHECK(text.str() == "a\nb\n");
    REQUIRE(list.size() == 2);
    CHECK(list[1].finished_ms >= list[0].finished_ms);
    ::unlink(file.c_str());
    ::rmdir(dir);
}

TEST_CASE("jobs: the destructor returns only after every wake-up has returned") {
    // The window's wake-up may take a while (it posts to GLFW). If the destructor returned while a
    // worker was still inside it (or about to call it), the worker would run a destroyed
    // std::function of a destroyed Jobs.
    ShellAsIsolab sh;
    struct State {
        std::atomic<int> in_flight{0};
        std::atomic<int> calls{0};
    };
    auto state = std::make_shared<State>();
    for (int round = 0; round < 3; ++round) {
        {
            Jobs jobs("", [state] {
                ++state->in_flight;
                std::this_thread::sleep_for(std::chrono::milliseconds(200));
                ++state->calls;
                --state->in_flight;
            });
            jobs.submit("-c 'exit 0'", "button");
            jobs.submit_sequence({"-c 'exit 1'", "-c 'exit 2'"}, "lesson");
        }
        INFO("round " << round);
        CHECK(state->in_flight == 0);
        int calls = state->calls;
        CHECK(calls >= 3 * (round + 1));  // one per finished job at least
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        CHECK(state->calls == calls);     // nothing runs after the destructor
    }
}
