// Engine work off the frame: every button and every terminal line becomes an `isolab` command
// line, run on a worker thread through the CLI's own parser and run_command (so a button does
// exactly what the command does, and the command log can show it). The window never waits.
#pragma once

#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

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

// A line whose words are already known: SHOWN is what the command log displays (a lesson's own
// line), ARGV the words after `isolab` that run (the lesson's vetted words, sim/lesson/allowlist.hpp,
// whose paths are resolved inside the lesson's folder).
struct JobLine {
    std::string shown;
    std::vector<std::string> argv;
};

class Jobs {
public:
    // WAKE is called (from the worker) when a job prints or finishes: the app posts an empty
    // event. It is never called once the destructor has returned.
    explicit Jobs(std::string state_root, std::function<void()> wake);
    // Waits for running jobs: joins every worker, so that no worker touches this object (its
    // mutex, its job list, WAKE) after it is gone.
    ~Jobs();
    // Runs LINE ("stop web", with or without a leading "isolab"/"docker") and returns its id.
    int submit(const std::string& line, const std::string& origin);
    // Runs LINES one after another on one worker (a lesson's action, a stage reset), in CWD when
    // given (lessons run in IsoLab's tree, so `build ... assets/images/web` works). Each line is a
    // job of its own in the log; returns their ids, in order.
    std::vector<int> submit_sequence(const std::vector<std::string>& lines, const std::string& origin,
                                     const std::string& cwd = "");
    // As submit_sequence, for lines already split (and vetted): ARGV runs as given, not re-split.
    std::vector<int> submit_words(const std::vector<JobLine>& lines, const std::string& origin,
                                  const std::string& cwd = "");
    std::vector<Job> list() const;  // oldest first, the last 200
    bool busy() const;

private:
    // Runs WORK on a worker thread that the destructor joins. Workers that have finished are
    // joined here, so a long session does not keep one finished thread per job.
    void spawn(std::function<void()> work);
    void run(int id, std::string line, const std::string& cwd = "");
    void run_words(int id, std::vector<std::string> words, const std::string& cwd);
    void append(int id, const std::string& text);
    void finish(int id, int code);  // the job is done: its exit code, the count, the wake-up
    int add_job(const std::string& line, const std::string& origin, std::string* shown);
    std::string root_;
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
