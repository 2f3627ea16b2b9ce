#include "app/gui/jobs.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <sstream>
#include <thread>

#include "app/cli/args.hpp"
#include "sim/core/clock.hpp"
#include "sim/core/process.hpp"

namespace isolab::gui {

Jobs::Jobs(std::string state_root, std::function<void()> wake) : root_(std::move(state_root)), wake_(std::move(wake)) {
    // Every job's `isolab` works on the window's state root. Set here, before any thread runs:
    // a forked child of a multithreaded process must not call setenv (it allocates).
    if (!root_.empty()) ::setenv("ISOLAB_ROOT", root_.c_str(), 1);
}

Jobs::~Jobs() {
    // Waiting for running_ to reach 0 is not enough: finish() counts the job done and then calls
    // wake_, so the destructor could return while a worker is still inside wake_ or about to
    // unlock mu_. Joining every worker waits for its very last instruction. No submit() can run
    // concurrently with the destructor, so workers_ only changes here.
    for (auto& w : workers_)
        if (w.thread.joinable()) w.thread.join();
}

void Jobs::spawn(std::function<void()> work) {
    std::lock_guard<std::mutex> l(mu_);
    for (auto it = workers_.begin(); it != workers_.end();) {
        if (!it->finished) {
            ++it;
            continue;
        }
        it->thread.join();  // it has released mu_ already: only its return is left
        it = workers_.erase(it);
    }
    Worker& w = workers_.emplace_back();
    // The thread cannot mark itself finished before `w.thread` is assigned: that needs mu_,
    // which this function holds until it returns.
    w.thread = std::thread([this, &w, work = std::move(work)] {
        work();
        std::lock_guard<std::mutex> done(mu_);
        w.finished = true;
    });
}

int Jobs::add_job(const std::string& line, const std::string& origin, std::string* shown) {
    *shown = line;
    if (shown->rfind("isolab ", 0) != 0 && shown->rfind("docker ", 0) != 0) *shown = "isolab " + *shown;
    std::lock_guard<std::mutex> l(mu_);
    int id = next_++;
    Job j;
    j.id = id;
    j.command = *shown;
    j.origin = origin;
    j.started_ms = monotonic_ms();
    jobs_.push_back(j);
    if (jobs_.size() > 200) jobs_.erase(jobs_.begin());
    ++running_;
    return id;
}

int Jobs::submit(const std::string& line, const std::string& origin) {
    std::string shown;
    int id = add_job(line, origin, &shown);
    spawn([this, id, shown] { run(id, shown); });
    return id;
}

std::vector<int> Jobs::submit_sequence(const std::vector<std::string>& lines, const std::string& origin,
                                       const std::string& cwd) {
    std::vector<std::pair<int, std::string>> todo;
    std::vector<int> ids;
    for (const auto& line : lines) {
        std::string shown;
        int id = add_job(line, origin, &shown);
        todo.emplace_back(id, shown);
        ids.push_back(id);
    }
    spawn([this, todo, cwd] {
        for (const auto& [id, shown] : todo) run(id, shown, cwd);
    });
    return ids;
}

// The `isolab` binary next to this one (or $ISOLAB_BIN): commands run as a child process with
// its output in pipes, exactly as in a terminal (an attached `run` prints its container's output).
std::string isolab_binary() {
    if (const char* b = std::getenv("ISOLAB_BIN"); b && *b) return b;
    if (std::string dir = self_dir(); !dir.empty()) {
        if (::access((dir + "/isolab").c_str(), X_OK) == 0) return dir + "/isolab";
    }
    return "/usr/local/bin/isolab";
}

std::vector<int> Jobs::submit_words(const std::vector<JobLine>& lines, const std::string& origin, const std::string& cwd) {
    std::vector<std::pair<int, std::vector<std::string>>> todo;
    std::vector<int> ids;
    for (const auto& l : lines) {
        std::string shown;
        int id = add_job(l.shown, origin, &shown);
        todo.emplace_back(id, l.argv);
        ids.push_back(id);
    }
    spawn([this, todo, cwd] {
        for (const auto& [id, argv] : todo) run_words(id, argv, cwd);
    });
    return ids;
}

void Jobs::append(int id, const std::string& text) {
    std::lock_guard<std::mutex> l(mu_);
    // Only the tail is kept: list() copies every job for each frame.
    constexpr size_t kKeep = 256 * 1024;
    for (auto& j : jobs_)
        if (j.id == id) {
            j.output += text;
            if (j.output.size() > kKeep) {
                size_t cut = j.output.size() - kKeep;
                j.output.erase(0, cut);
                j.dropped += cut;
            }
        }
}

void Jobs::finish(int id, int code) {
    {
        std::lock_guard<std::mutex> l(mu_);
        for (auto& j : jobs_)
            if (j.id == id) {
                j.exit_code = code;
                j.done = true;
                j.finished_ms = monotonic_ms();
            }
        --running_;
    }
    if (wake_) wake_();
}

void Jobs::run(int id, std::string line, const std::string& cwd) {
    auto words = cli::split_command_line(line);
    if (!words) {
        append(id, words.error().message + "\n");
        finish(id, 2);
        return;
    }
    run_words(id, cli::strip_docker_prefix(*words), cwd);
}

void Jobs::run_words(int id, std::vector<std::string> words, const std::string& cwd) {
    if (auto cmd = cli::parse_args(words); !words.empty() && cmd && ((cmd->interactive && cmd->tty) || (cmd->spec.interactive && cmd->spec.tty))) {
        append(id, "this line cannot hold an interactive terminal: open the container's shell, or leave out -it\n");
        finish(id, 1);
        return;
    }
    words.insert(words.begin(), isolab_binary());
    Argv child(std::move(words));
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) {
        append(id, std::string("pipe: ") + std::strerror(errno) + "\n");
        finish(id, 1);
        return;
    }
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(pipefd[1], 1);
        ::dup2(pipefd[1], 2);
        int null = ::open("/dev/null", O_RDONLY);
        ::dup2(null, 0);
        if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
        child.exec();  // nothing allocated after fork: the window has other threads
    }
    ::close(pipefd[1]);
    char buf[4096];
    ssize_t n;
    while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0) {
            append(id, std::string(buf, static_cast<size_t>(n)));
            if (wake_) wake_();
        }
    ::close(pipefd[0]);
    finish(id, wait_exit_code(pid));
}

std::vector<Job> Jobs::list() const {
    std::lock_guard<std::mutex> l(mu_);
    return jobs_;
}

bool Jobs::busy() const {
    std::lock_guard<std::mutex> l(mu_);
    return running_ > 0;
}

}  // namespace isolab::gui
