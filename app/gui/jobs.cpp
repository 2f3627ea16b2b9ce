#include "app/gui/jobs.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <ostream>
#include <sstream>
#include <streambuf>
#include <thread>

#include "app/cli/args.hpp"
#include "app/cli/commands.hpp"
#include "sim/core/clock.hpp"
#include "sim/core/process.hpp"
#include "sim/engine/engine.hpp"

namespace isolab::gui {

Jobs::Jobs(std::string state_root, std::shared_ptr<Engine> engine, std::function<void()> wake)
    : root_(std::move(state_root)), engine_(std::move(engine)), wake_(std::move(wake)) {
    // Every child `isolab` works on the window's state root. Set here, before any thread runs:
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

Jobs::Pending Jobs::prepare(Result<cli::Command> cmd, std::string shown, const std::string& origin) {
    if (shown.empty() && cmd) shown = cli::to_command_line(*cmd);
    if (shown != "isolab" && shown.rfind("isolab ", 0) != 0 && shown.rfind("docker ", 0) != 0) shown = "isolab " + shown;
    std::lock_guard<std::mutex> l(mu_);
    Pending p;
    p.id = next_++;
    p.cmd = std::move(cmd);
    Job j;
    j.id = p.id;
    j.command = shown;
    j.origin = origin;
    j.started_ms = monotonic_ms();
    jobs_.push_back(j);
    if (jobs_.size() > 200) jobs_.erase(jobs_.begin());
    ++running_;
    return p;
}

int Jobs::submit(Action action, const std::string& origin) {
    Pending p = prepare(std::move(action.cmd), std::move(action.shown), origin);
    int id = p.id;
    spawn([this, p = std::move(p)] { run(p, ""); });
    return id;
}

int Jobs::submit(const std::string& line, const std::string& origin) {
    Pending p = prepare(cli::parse_line(line), line, origin);
    int id = p.id;
    spawn([this, p = std::move(p)] { run(p, ""); });
    return id;
}

int Jobs::submit_words(const std::vector<std::string>& words, const std::string& origin) {
    Pending p = prepare(cli::parse_action(words), "", origin);
    int id = p.id;
    spawn([this, p = std::move(p)] { run(p, ""); });
    return id;
}

std::vector<int> Jobs::submit_sequence(const std::vector<std::string>& lines, const std::string& origin,
                                       const std::string& cwd) {
    std::vector<Pending> todo;
    std::vector<int> ids;
    for (const auto& line : lines) {
        todo.push_back(prepare(cli::parse_line(line), line, origin));
        ids.push_back(todo.back().id);
    }
    spawn([this, todo = std::move(todo), cwd] {
        for (const auto& p : todo) run(p, cwd);
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
    std::vector<Pending> todo;
    std::vector<int> ids;
    for (const auto& l : lines) {
        todo.push_back(prepare(cli::parse_action(l.argv), l.shown, origin));
        ids.push_back(todo.back().id);
    }
    spawn([this, todo = std::move(todo), cwd] {
        for (const auto& p : todo) run(p, cwd);
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

void Jobs::run(const Pending& p, const std::string& cwd) {
    if (!p.cmd) {
        append(p.id, p.cmd.error().message + "\n");
        finish(p.id, p.cmd.error().exit_code);
        return;
    }
    const cli::Command& cmd = *p.cmd;
    if (cmd.verb.empty()) {  // an empty line
        finish(p.id, 0);
        return;
    }
    if ((cmd.interactive && cmd.tty) || (cmd.spec.interactive && cmd.spec.tty)) {
        append(p.id, "this line cannot hold an interactive terminal: open the container's shell, or leave out -it\n");
        finish(p.id, 1);
        return;
    }
    if (engine_ && cli::runs_on_shared_engine(cmd)) run_here(p.id, cmd);
    else run_child(p.id, cmd, cwd);
}

namespace {

// An ostream whose every write goes to one job's output as it is printed.
class JobStreamBuf final : public std::streambuf {
public:
    explicit JobStreamBuf(std::function<void(const std::string&)> sink) : sink_(std::move(sink)) {}

protected:
    std::streamsize xsputn(const char* s, std::streamsize n) override {
        if (n > 0) sink_(std::string(s, static_cast<size_t>(n)));
        return n;
    }
    int_type overflow(int_type c) override {
        if (c != traits_type::eof()) sink_(std::string(1, traits_type::to_char_type(c)));
        return traits_type::not_eof(c);
    }

private:
    std::function<void(const std::string&)> sink_;
};

}  // namespace

void Jobs::run_here(int id, const cli::Command& cmd) {
    JobStreamBuf buf([this, id](const std::string& text) {
        append(id, text);
        if (wake_) wake_();
    });
    std::ostream out(&buf);
    // As every `isolab` command does on opening its engine: containers whose monitor died are
    // cleaned up first.
    engine_->collect_garbage();
    int code = cli::run_engine_command(*engine_, cmd, out, out);
    out.flush();
    finish(id, code);
}

void Jobs::run_child(int id, const cli::Command& cmd, const std::string& cwd) {
    std::vector<std::string> words = cli::to_argv(cmd);
    words.insert(words.begin(), isolab_binary());
    Argv child(std::move(words));
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) {
        append(id, std::string("pipe: ") + std::strerror(errno) + "\n");
        finish(id, 1);
        return;
    }
    pid_t pid = ::fork();
    if (pid < 0) {
        int e = errno;
        ::close(pipefd[0]);
        ::close(pipefd[1]);
        append(id, std::string("fork: ") + std::strerror(e) + "\n");
        finish(id, 1);
        return;
    }
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
