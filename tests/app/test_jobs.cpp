// Tests for the GUI's job runner (app/gui/jobs.hpp). Every job is a typed action parsed once:
// engine actions run in this process on the shared engine (a simulated one here), the rest run as
// a child `isolab` given the action's words -- a shell script stands in for it ($ISOLAB_BIN) and
// writes down what it was given.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "app/gui/jobs.hpp"
#include "sim/core/clock.hpp"
#include "sim/engine/engine.hpp"

using isolab::gui::Job;
using isolab::gui::Jobs;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// A directory with a fake `isolab` that appends its words to DIR/argv, prints to both streams, and
// sleeps for a tag "slow" or exits 3 for a tag "fail3". $ISOLAB_BIN points at it while the object
// lives.
struct FakeIsolab {
    std::string dir;
    FakeIsolab() {
        char tmpl[] = "/tmp/isolab-jobs-XXXXXX";
        dir = ::mkdtemp(tmpl);
        std::string script = dir + "/isolab";
        std::ofstream(script) << "#!/bin/sh\n"
                                 "echo \"$*\" >> '" << dir << "/argv'\n"
                                 "case \"$*\" in *slow*) sleep 0.3;; esac\n"
                                 "echo \"out $*\"\n"
                                 "echo err >&2\n"
                                 "case \"$*\" in *fail3*) exit 3;; esac\n"
                                 "exit 0\n";
        ::chmod(script.c_str(), 0755);
        ::setenv("ISOLAB_BIN", script.c_str(), 1);
    }
    ~FakeIsolab() {
        ::unsetenv("ISOLAB_BIN");
        std::filesystem::remove_all(dir);
    }
    std::string argv() const { return slurp(dir + "/argv"); }
};

// A simulated engine on a fresh state root.
struct SimEngine {
    std::string root;
    std::shared_ptr<isolab::Engine> engine;
    SimEngine() {
        char tmpl[] = "/tmp/isolab-jobs-root-XXXXXX";
        root = ::mkdtemp(tmpl);
        isolab::EngineOptions o;
        o.root = root;
        o.backend = "simulated";
        auto e = isolab::Engine::open(o);
        REQUIRE(e);
        engine = std::shared_ptr<isolab::Engine>(std::move(*e));
    }
    ~SimEngine() {
        engine.reset();
        std::filesystem::remove_all(root);
    }
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

TEST_CASE("jobs: a child action gets the action's words, not a line to split again") {
    FakeIsolab fake;
    auto wakes = std::make_shared<std::atomic<int>>(0);
    Jobs jobs("", nullptr, [wakes] { ++*wakes; });
    // `build` needs a process of its own. The quoted tag holds a space only the parser can keep.
    int id = jobs.submit("docker build  --tag fail3 -f 'my file' ctx", "terminal");
    auto list = wait_all_done(jobs);
    REQUIRE(list.size() == 1);
    CHECK(list[0].id == id);
    CHECK(list[0].command == "docker build  --tag fail3 -f 'my file' ctx");  // what was typed
    CHECK(list[0].origin == "terminal");
    CHECK(fake.argv() == "build -f my file -t fail3 ctx\n");  // canonical words (cli::to_argv)
    CHECK(list[0].output == "out build -f my file -t fail3 ctx\nerr\n");
    CHECK(list[0].exit_code == 3);
    CHECK(list[0].finished_ms >= list[0].started_ms);
    CHECK(*wakes >= 1);

    // A button's words: logged as the line a learner could type.
    jobs.submit_words(std::vector<std::string>{"build", "-t", "web:v1", "dir with space"}, "button");
    list = wait_all_done(jobs);
    REQUIRE(list.size() == 2);
    CHECK(list[1].command == "isolab build -t web:v1 'dir with space'");
    CHECK(list[1].exit_code == 0);
}

TEST_CASE("jobs: a line that does not parse fails at once, as the CLI would, and nothing runs") {
    FakeIsolab fake;
    Jobs jobs("", nullptr, [] {});
    int bad_flag = jobs.submit("run --bogus busybox", "terminal");
    int unterminated = jobs.submit("run -d 'busybox", "terminal");
    int it = jobs.submit("run -it busybox sh", "terminal");
    auto list = wait_all_done(jobs);
    REQUIRE(list.size() == 3);
    CHECK(list[0].id == bad_flag);
    CHECK(list[0].exit_code == 125);  // Docker's exit code for a flag error
    CHECK(list[0].output.rfind("unknown flag: --bogus", 0) == 0);
    CHECK(list[1].id == unterminated);
    CHECK(list[1].exit_code != 0);
    CHECK_FALSE(list[1].output.empty());
    CHECK(list[2].id == it);
    CHECK(list[2].exit_code == 1);
    CHECK(list[2].output.find("interactive terminal") != std::string::npos);
    CHECK(fake.argv().empty());  // no child was started for any of them
}

TEST_CASE("jobs: engine actions run in this process on the shared engine") {
    FakeIsolab fake;
    SimEngine sim;
    Jobs jobs(sim.root, sim.engine, [] {});
    jobs.submit_words(std::vector<std::string>{"create", "--name", "j1", "busybox"}, "button");
    auto list = wait_all_done(jobs);
    REQUIRE(list.size() == 1);
    CHECK(list[0].command == "isolab create --name j1 busybox");
    INFO(list[0].output);
    CHECK(list[0].exit_code == 0);
    auto rec = sim.engine->inspect("j1");
    REQUIRE(rec);
    // What `isolab create` prints: the simulated backend's warning, then the id.
    CHECK(list[0].output.find("simulated") != std::string::npos);
    CHECK(list[0].output.substr(list[0].output.size() - rec->id.size() - 1) == rec->id + "\n");

    jobs.submit_sequence({"start j1", "ps --format '{{.Names}} {{.State}}'"}, "terminal");
    list = wait_all_done(jobs);
    REQUIRE(list.size() == 3);
    CHECK(list[1].output == "j1\n");
    CHECK(list[2].output == "j1 running\n");
    // The engine's errors, with Docker's wording and exit code.
    jobs.submit("stop nosuch", "terminal");
    list = wait_all_done(jobs);
    CHECK(list[3].exit_code == 1);
    CHECK(list[3].output.find("No such container: nosuch") != std::string::npos);
    jobs.submit_words(std::vector<std::string>{"rm", "-f", "j1"}, "button");
    list = wait_all_done(jobs);
    CHECK(list[4].exit_code == 0);
    CHECK_FALSE(sim.engine->inspect("j1"));
    CHECK(fake.argv().empty());  // none of it went through a child `isolab`
}

TEST_CASE("jobs: a sequence runs one action after another, in order, in its directory") {
    FakeIsolab fake;
    Jobs jobs("", nullptr, [] {});
    // The first is the slow one: run side by side, "b" would be written first.
    auto ids = jobs.submit_sequence({"build -t slow-a .", "build -t b ."}, "lesson", fake.dir);
    REQUIRE(ids.size() == 2);
    CHECK(ids[1] == ids[0] + 1);
    auto list = wait_all_done(jobs);
    CHECK(fake.argv() == "build -t slow-a .\nbuild -t b .\n");
    REQUIRE(list.size() == 2);
    CHECK(list[1].finished_ms >= list[0].finished_ms);
}

TEST_CASE("jobs: the destructor returns only after every wake-up has returned") {
    // The window's wake-up may take a while (it posts to GLFW). If the destructor returned while a
    // worker was still inside it (or about to call it), the worker would run a destroyed
    // std::function of a destroyed Jobs.
    FakeIsolab fake;
    struct State {
        std::atomic<int> in_flight{0};
        std::atomic<int> calls{0};
    };
    auto state = std::make_shared<State>();
    for (int round = 0; round < 3; ++round) {
        {
            Jobs jobs("", nullptr, [state] {
                ++state->in_flight;
                std::this_thread::sleep_for(std::chrono::milliseconds(200));
                ++state->calls;
                --state->in_flight;
            });
            jobs.submit("build -t a .", "button");
            jobs.submit_sequence({"build -t fail3 .", "build -t c ."}, "lesson");
        }
        INFO("round " << round);
        CHECK(state->in_flight == 0);
        int calls = state->calls;
        CHECK(calls >= 3 * (round + 1));  // one per finished job at least
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        CHECK(state->calls == calls);     // nothing runs after the destructor
    }
}
