// Engine work off the frame. Every button, terminal line and lesson step becomes one typed action
// (cli::Command), parsed once by the CLI's own parser, and runs on a worker thread; the command
// log shows it as the line a learner could type (cli::to_command_line). The window never waits.
//
// Where an action runs. One that works only through the engine (cli::runs_on_shared_engine:
// start, stop, rm, ps, run -d, network ...) runs in this process on the window's one Engine, with
// its output captured for the log. One that needs a process of its own (an attached run, exec,
// build, vm, race, lesson) runs as a child `isolab` given the action's words (cli::to_argv), not
// a line to split again.
#pragma once

#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "app/cli/args.hpp"

namespace isolab {
class Engine;
}

namespace isolab::gui {

struct Job {
    int id = 0;
    std::string command;      // "isolab stop web": what the learner could type instead
    std::string origin;       // "button" | "terminal" | "demo"
    std::string output;       // stdout and stderr as the command printed them; the last 256 KiB
    size_t dropped = 0;       // bytes of older output no longer kept
    int exit_code = 0;
    bool done = false;
    double started_ms = 0, finished_ms = 0;
};

// The `isolab` binary next to this one (or $ISOLAB_BIN; else /usr/local/bin/isolab).
std::string isolab_binary();

// One typed action and the line the command log shows for it ("" = cli::to_command_line(cmd)).
struct Action {
    cli::Command cmd;
    std::string shown;
};

// A line whose words are already known: SHOWN is what the command log displays (a lesson's own
// line), ARGV the words after `isolab` (the lesson's vetted words, sim/lesson/allowlist.hpp, whose
// paths are resolved inside the lesson's folder). Parsed once into an Action.
struct JobLine {
    std::string shown;
    std::vector<std::string> argv;
};

class Jobs {
public:
    // WAKE is called (from the worker) when a job prints or finishes: the app posts an empty
    // event. It is never called once the destructor has returned.
    // ENGINE is the window's one engine (on STATE_ROOT); null when it could not be opened, and
    // then every action runs as a child `isolab`, which says why.
    Jobs(std::string state_root, std::shared_ptr<Engine> engine, std::function<void()> wake);
    // Waits for running jobs: joins every worker, so that no worker touches this object (its
    // mutex, its job list, WAKE) after it is gone.
    ~Jobs();
    // Runs ACTION and returns its job id.
    int submit(Action action, const std::string& origin);
    // Parses LINE ("stop web", with or without a leading "isolab"/"docker") once and runs it. A
    // line that does not parse is a job that failed at once, with the parser's message and exit
    // code (Docker's 125 for a bad flag), as a terminal would show.
    int submit(const std::string& line, const std::string& origin);
    // Parses WORDS (the words after `isolab`, e.g. {"stop", name}: no quoting to get wrong) once
    // and runs them.
    int submit_words(const std::vector<std::string>& words, const std::string& origin);
    // Runs LINES one after another on one worker (a lesson's action, a stage reset), in CWD when
    // given (lessons run in IsoLab's tree, so `build ... assets/images/web` works). Each line is a
    // job of its own in the log; returns their ids, in order.
    std::vector<int> submit_sequence(const std::vector<std::string>& lines, const std::string& origin,
                                     const std::string& cwd = "");
    // As submit_sequence, for lines already split (and vetted).
    std::vector<int> submit_words(const std::vector<JobLine>& lines, const std::string& origin,
                                  const std::string& cwd = "");
    std::vector<Job> list() const;  // oldest first, the last 200
    bool busy() const;

private:
    // Runs WORK on a worker thread that the destructor joins. Workers that have finished are
    // joined here, so a long session does not keep one finished thread per job.
    void spawn(std::function<void()> work);
    // One parsed (or failed) action waiting for its turn.
    struct Pending {
        int id = 0;
        Result<cli::Command> cmd = cli::Command{};
    };
    Pending prepare(Result<cli::Command> cmd, std::string shown, const std::string& origin);
    void run(const Pending& p, const std::string& cwd);
    void run_here(int id, const cli::Command& cmd);
    void run_child(int id, const cli::Command& cmd, const std::string& cwd);
    void append(int id, const std::string& text);
    void finish(int id, int code);  // the job is done: its exit code, the count, the wake-up
    std::string root_;
    std::shared_ptr<Engine> engine_;
    std::function<void()> wake_;
    mutable std::mutex mu_;
    std::vector<Job> jobs_;
    int next_ = 1;
    int running_ = 0;
    struct Worker {
        std::thread thread;
        bool finished = false;  // set under mu_ as the worker's last act
    };
    std::list<Worker> workers_;  // under mu_; a list, so a worker's entry never moves
};

}  // namespace isolab::gui
