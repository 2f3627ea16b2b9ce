#include "sim/runtime/oci_hooks.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "sim/core/files.hpp"

extern char** environ;

namespace isolab::oci {

namespace {

// runc prints a hook's failure as Go's exec package words it: "exit status 1", "signal: killed".
std::string describe_status(int status) {
    if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        const char* name = ::sigabbrev_np(WTERMSIG(status));
        return std::string("signal: ") + (name ? name : std::to_string(WTERMSIG(status)).c_str());
    }
    return "status " + std::to_string(status);
}

}  // namespace

Status run_hook(const Hook& hook, const std::string& kind, size_t index, const std::string& state,
                const std::vector<std::string>* inherit_env) {
    const std::string name = kind + " hook #" + std::to_string(index) + " (`" + hook.path + "`)";
    // Everything the child needs is built before fork: after it, only async-signal-safe calls.
    std::vector<std::string> args = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_copy;
    if (hook.env) env_copy = *hook.env;
    else if (inherit_env) env_copy = *inherit_env;
    std::vector<char*> envp;
    for (auto& e : env_copy) envp.push_back(e.data());
    envp.push_back(nullptr);
    char* const* env = hook.env || inherit_env ? envp.data() : environ;

    int in[2], out[2], err[2];
    if (::pipe2(in, O_CLOEXEC) != 0) return errno_error(name + ": pipe", errno);
    UniqueFd in_r(in[0]), in_w(in[1]);
    if (::pipe2(out, O_CLOEXEC) != 0) return errno_error(name + ": pipe", errno);
    UniqueFd out_r(out[0]), out_w(out[1]);
    if (::pipe2(err, O_CLOEXEC) != 0) return errno_error(name + ": pipe", errno);
    UniqueFd err_r(err[0]), err_w(err[1]);

    pid_t pid = ::fork();
    if (pid < 0) return errno_error(name + ": fork", errno);
    if (pid == 0) {
        // The hook gets its three streams and nothing else: no pipe, socket or directory of the
        // runtime or the init survives into it (CVE-2024-21626 was a leaked descriptor).
        if (::dup2(in_r.get(), 0) < 0 || ::dup2(out_w.get(), 1) < 0 || ::dup2(err_w.get(), 2) < 0) ::_exit(127);
        ::close_range(3, ~0U, 0);
        ::signal(SIGPIPE, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execve(hook.path.c_str(), argv.data(), env);
        int e = errno;
        const char* msg = std::strerror(e);
        ssize_t n = ::write(2, "exec: ", 6);
        n = ::write(2, msg, std::strlen(msg));
        (void)n;
        ::_exit(127);
    }
    in_r.reset();
    out_w.reset();
    err_w.reset();
    // The state is a few hundred bytes, far below a pipe's buffer: one write never blocks, even if
    // the hook does not read it.
    {
        ssize_t n = ::write(in_w.get(), state.data(), state.size());
        (void)n;
        in_w.reset();
    }

    using Clock = std::chrono::steady_clock;
    const bool timed = hook.timeout.has_value();
    const auto deadline = Clock::now() + std::chrono::seconds(hook.timeout.value_or(0));
    std::string stdout_text, stderr_text;
    int status = 0;
    bool exited = false, timed_out = false;
    while (!exited) {
        struct pollfd fds[2] = {{out_r.get(), POLLIN, 0}, {err_r.get(), POLLIN, 0}};
        int wait_ms = 50;
        if (timed) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
            if (left <= 0) {
                timed_out = true;
                ::kill(pid, SIGKILL);
                while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
                }
                break;
            }
            if (left < wait_ms) wait_ms = static_cast<int>(left);
        }
        int n = ::poll(fds, 2, wait_ms);
        if (n > 0) {
            for (int i = 0; i < 2; ++i) {
                if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
                char buf[4096];
                ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
                // A hook that writes megabytes keeps only its first 64 KiB in the message.
                std::string& dst = i == 0 ? stdout_text : stderr_text;
                if (r > 0 && dst.size() < 65536) dst.append(buf, static_cast<size_t>(r));
            }
        }
        pid_t w = ::waitpid(pid, &status, WNOHANG);
        if (w == pid) exited = true;
        else if (w < 0 && errno != EINTR) return errno_error(name + ": wait", errno);
    }
    // What the hook wrote just before it exited (a child it left behind may keep the pipes open:
    // its output is not waited for).
    for (int fd : {out_r.get(), err_r.get()}) {
        ::fcntl(fd, F_SETFL, O_NONBLOCK);
        char buf[4096];
        std::string& dst = fd == out_r.get() ? stdout_text : stderr_text;
        for (ssize_t r; (r = ::read(fd, buf, sizeof buf)) > 0 && dst.size() < 65536;) dst.append(buf, static_cast<size_t>(r));
    }
    if (timed_out) {
        char secs[32];
        std::snprintf(secs, sizeof secs, "%.1f", static_cast<double>(*hook.timeout));
        return make_error(name + ": hook ran past specified timeout of " + secs + "s", 1);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
    return make_error(name + ": " + describe_status(status) + ", stdout: " + trim(stdout_text) +
                          ", stderr: " + trim(stderr_text),
                      1);
}

Status run_hooks(const std::vector<Hook>& hooks, const std::string& kind, const std::string& state,
                 const std::vector<std::string>* inherit_env) {
    for (size_t i = 0; i < hooks.size(); ++i) ISOLAB_TRY(run_hook(hooks[i], kind, i, state, inherit_env));
    return {};
}

}  // namespace isolab::oci
