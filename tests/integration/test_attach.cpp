// Issue 14, item 4: signals and attaching. --sig-proxy hands the client's signals to the container,
// the detach keys (ctrl-p,ctrl-q or --detach-keys) leave a container running, `attach` joins a
// running one, and `run -a` picks the streams. Each case drives the real CLI as a learner's shell
// would: a child process that gets a signal, or a terminal (forkpty) that types keys.
#include <doctest/doctest.h>

#include "tests/skip.hpp"

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "sim/host/probe.hpp"

using namespace isolab::test;
using namespace std::chrono_literals;

namespace {

// `isolab ARGS` as a child of this test (not through the harness, which waits), with default
// signal dispositions, its output in a pipe. With a terminal (forkpty) when PTY is set.
struct Child {
    pid_t pid = -1;
    int fd = -1;  // the child's stdout+stderr (pipe), or the terminal's master side
    std::string out;

    Child(const TempRoot& r, const std::vector<std::string>& args, bool pty) {
        std::vector<std::string> argv = {r.bin};
        argv.insert(argv.end(), args.begin(), args.end());
        std::string env_root = "ISOLAB_ROOT=" + r.path();
        int p[2] = {-1, -1};
        if (pty) {
            pid = ::forkpty(&fd, nullptr, nullptr, nullptr);
        } else {
            REQUIRE(::pipe(p) == 0);
            pid = ::fork();
        }
        REQUIRE(pid >= 0);
        if (pid == 0) {
            if (!pty) {
                ::dup2(p[1], 1);
                ::dup2(p[1], 2);
                ::close(p[0]);
                ::close(p[1]);
            }
            for (int sig = 1; sig < 32; ++sig) ::signal(sig, SIG_DFL);
            sigset_t none;
            sigemptyset(&none);
            ::sigprocmask(SIG_SETMASK, &none, nullptr);
            ::putenv(const_cast<char*>(env_root.c_str()));
            ::putenv(const_cast<char*>("ISOLAB_LANG=en"));
            std::vector<char*> cargv;
            for (auto& a : argv) cargv.push_back(a.data());
            cargv.push_back(nullptr);
            ::execv(cargv[0], cargv.data());
            ::_exit(127);
        }
        if (!pty) {
            ::close(p[1]);
            fd = p[0];
        }
    }
    ~Child() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
        if (fd >= 0) ::close(fd);
    }
    // Reads what the child printed for up to MS milliseconds, or until NEEDLE has appeared.
    bool read_until(const std::string& needle, int ms) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        while (std::chrono::steady_clock::now() < deadline) {
            if (!needle.empty() && out.find(needle) != std::string::npos) return true;
            struct pollfd pfd = {fd, POLLIN, 0};
            if (::poll(&pfd, 1, 50) > 0) {
                char buf[4096];
                ssize_t n = ::read(fd, buf, sizeof buf);
                if (n <= 0) {
                    std::this_thread::sleep_for(20ms);
                    continue;
                }
                out.append(buf, static_cast<size_t>(n));
            }
        }
        return !needle.empty() && out.find(needle) != std::string::npos;
    }
    void type(const std::string& keys) {
        for (char k : keys) {  // one key at a time, as a person types
            REQUIRE(::write(fd, &k, 1) == 1);
            std::this_thread::sleep_for(30ms);
        }
    }
    // The exit status (as the shell shows it: 128+N for a signal), or -1 while it runs past MS.
    int wait_exit(int ms) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        while (std::chrono::steady_clock::now() < deadline) {
            int st = 0;
            pid_t r = ::waitpid(pid, &st, WNOHANG);
            if (r == pid) {
                pid = -1;
                return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            }
            read_until("", 50);
        }
        return -1;
    }
};

std::string status_of(const TempRoot& r, const std::string& name) {
    return r.isolab({"inspect", "-f", "{{.State.Status}}", name}).out;
}

const char* const kTrapInt = "trap 'echo got-INT; exit 3' INT; echo ready; sleep 100 & wait";

}  // namespace

TEST_CASE("sig-proxy: Ctrl-C (SIGINT) to `run` without -t reaches the container; --sig-proxy=false leaves it running") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    {
        Child c(r, {"run", "--rm", "--network", "none", "--name", "sp", "busybox", "sh", "-c", kTrapInt}, false);
        REQUIRE(c.read_until("ready", 15000));
        REQUIRE(::kill(c.pid, SIGINT) == 0);
        // The client lives on and ends with the container's own code, after its trap ran.
        CHECK(c.wait_exit(15000) == 3);
        CHECK(c.out.find("got-INT") != std::string::npos);
        // --rm: nothing left.
        CHECK(r.isolab({"ps", "-aq"}).out.empty());
    }
    {
        Child c(r, {"run", "--rm", "--sig-proxy=false", "--network", "none", "--name", "sp2", "busybox", "sh", "-c", kTrapInt},
                false);
        REQUIRE(c.read_until("ready", 15000));
        REQUIRE(::kill(c.pid, SIGINT) == 0);
        // Docker: the client dies of the signal and the container keeps running.
        CHECK(c.wait_exit(15000) == 128 + SIGINT);
        CHECK(c.out.find("got-INT") == std::string::npos);
        CHECK(status_of(r, "sp2") == "running\n");
        CHECK(r.isolab({"rm", "-f", "sp2"}).code == 0);
    }
    {
        // attach proxies too: SIGTERM to `isolab attach` reaches the container's PID 1.
        REQUIRE(r.isolab({"run", "-d", "--network", "none", "--name", "at", "busybox", "sh", "-c",
                          "trap 'echo got-TERM; exit 4' TERM; echo ready; sleep 100 & wait"})
                    .code == 0);
        REQUIRE(poll_until(10s, [&] { return r.isolab({"logs", "at"}).out.find("ready") != std::string::npos; }));
        Child c(r, {"attach", "at"}, false);
        std::this_thread::sleep_for(500ms);  // connected (the attach prints nothing until output)
        REQUIRE(::kill(c.pid, SIGTERM) == 0);
        CHECK(c.wait_exit(15000) == 4);
        CHECK(c.out.find("got-TERM") != std::string::npos);
        CHECK(r.isolab({"inspect", "-f", "{{.State.ExitCode}}", "at"}).out == "4\n");
    }
}

TEST_CASE("detach keys: ctrl-p ctrl-q leaves `run -it` running; attach --detach-keys joins and leaves again; exit ends attach") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    Child run(r, {"run", "-it", "--network", "none", "--name", "dt", "busybox", "sh"}, true);
    REQUIRE(run.read_until("# ", 15000));
    run.type("echo one-$((40+2))\r");
    REQUIRE(run.read_until("one-42", 5000));
    run.type("\x10\x11");  // ctrl-p ctrl-q
    CHECK(run.wait_exit(10000) == 0);
    CHECK(status_of(r, "dt") == "running\n");

    // Other keys than this session's reach the shell.
    Child at(r, {"attach", "--detach-keys", "ctrl-a,d", "dt"}, true);
    std::this_thread::sleep_for(500ms);
    at.type("echo two-$((6*7))\r");
    REQUIRE(at.read_until("two-42", 5000));
    at.type("\x10\x11");  // not this session's keys: nothing happens
    std::this_thread::sleep_for(500ms);
    CHECK(at.wait_exit(100) == -1);
    at.type("\x03");      // ctrl-c: the shell drops the line ctrl-p recalled from its history
    at.type("\x01" "d");  // ctrl-a d
    CHECK(at.wait_exit(10000) == 0);
    CHECK(status_of(r, "dt") == "running\n");

    // Attached again, the shell's own exit ends the session with its code.
    Child last(r, {"attach", "dt"}, true);
    std::this_thread::sleep_for(500ms);
    last.type("exit 7\r");
    CHECK(last.wait_exit(10000) == 7);
    CHECK(r.isolab({"inspect", "-f", "{{.State.ExitCode}}", "dt"}).out == "7\n");
}

TEST_CASE("attach and -a: Docker's refusals, and only the streams asked for") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    auto out_only = r.isolab({"run", "--rm", "--network", "none", "-a", "stdout", "busybox", "sh", "-c", "echo out; echo err >&2"});
    CHECK(out_only.code == 0);
    CHECK(out_only.out == "out\n");
    CHECK(out_only.err.find("err") == std::string::npos);
    auto err_only = r.isolab({"run", "--rm", "--network", "none", "-a", "stderr", "busybox", "sh", "-c", "echo out; echo err >&2"});
    CHECK(err_only.out.empty());
    CHECK(err_only.err == "err\n");

    REQUIRE(r.isolab({"create", "--name", "made", "busybox"}).code == 0);
    auto stopped = r.isolab({"attach", "made"});
    CHECK(stopped.code == 1);
    CHECK(stopped.err == "You cannot attach to a stopped container, start it first\n");
    auto missing = r.isolab({"attach", "nosuch"});
    CHECK(missing.code == 1);
    CHECK(missing.err.find("No such container: nosuch") != std::string::npos);

    // Bad keys are refused before anything is made.
    auto bad = r.isolab({"run", "--detach-keys", "ctrl-zz", "--name", "bk", "busybox", "true"});
    CHECK(bad.code == 125);
    CHECK(bad.err.find("Invalid detach keys (ctrl-zz) provided") != std::string::npos);
    CHECK(r.isolab({"inspect", "bk"}).code == 1);
    CHECK(r.isolab({"attach", "--detach-keys", "shift-a", "made"}).code == 125);
    // exec has no stream to detach from: refused with what to use instead.
    auto ex = r.isolab({"exec", "--detach-keys", "ctrl-a", "made", "true"});
    CHECK(ex.code == 125);
    CHECK(ex.err.find("isolab exec -d") != std::string::npos);
}

TEST_CASE("start -ai with --detach-keys, and attach --no-stdin") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    REQUIRE(r.isolab({"create", "-it", "--network", "none", "--name", "st", "busybox", "sh"}).code == 0);
    Child s(r, {"start", "-ai", "--detach-keys", "ctrl-x", "st"}, true);
    REQUIRE(s.read_until("# ", 15000));
    s.type("echo in-$((5*5))\r");
    REQUIRE(s.read_until("in-25", 5000));
    s.type("\x18");  // ctrl-x
    CHECK(s.wait_exit(10000) == 0);
    CHECK(status_of(r, "st") == "running\n");

    // --no-stdin: what is typed never reaches the container (a non-tty `cat` echoes its stdin).
    REQUIRE(r.isolab({"run", "-di", "--network", "none", "--name", "echoer", "busybox", "cat"}).code == 0);
    Child quiet(r, {"attach", "--no-stdin", "echoer"}, true);
    std::this_thread::sleep_for(500ms);
    quiet.type("never-seen\r");
    std::this_thread::sleep_for(700ms);
    quiet.read_until("", 200);
    CHECK(r.isolab({"logs", "echoer"}).out.find("never-seen") == std::string::npos);
    Child loud(r, {"attach", "echoer"}, true);
    std::this_thread::sleep_for(500ms);
    loud.type("seen-here\r");
    CHECK(poll_until(5s, [&] { return r.isolab({"logs", "echoer"}).out.find("seen-here") != std::string::npos; }));
}
