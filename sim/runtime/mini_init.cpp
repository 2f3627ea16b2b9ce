#include "sim/runtime/mini_init.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <initializer_list>

namespace isolab {

int mini_init_main(int argc, char** argv) {
    int first = 1;
    if (first < argc && std::strcmp(argv[first], "--") == 0) ++first;
    if (first >= argc) {
        std::fprintf(stderr, "docker-init: no command given (usage: docker-init -- CMD [ARG...])\n");
        return 1;
    }

    // Every signal waits for sigtimedwait below, but the ones the kernel raises for a fault in
    // this process (they cannot be forwarded), and the terminal's stop signals, which would stop
    // PID 1 itself (tini leaves them the same way).
    sigset_t all, previous;
    sigfillset(&all);
    for (int s : {SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGABRT, SIGTRAP, SIGSYS, SIGTTIN, SIGTTOU}) sigdelset(&all, s);
    if (::sigprocmask(SIG_SETMASK, &all, &previous) != 0) {
        std::fprintf(stderr, "docker-init: sigprocmask: %s\n", std::strerror(errno));
        return 1;
    }
    struct sigaction ignore = {};
    ignore.sa_handler = SIG_IGN;
    struct sigaction ttin_before = {}, ttou_before = {};
    ::sigaction(SIGTTIN, &ignore, &ttin_before);
    ::sigaction(SIGTTOU, &ignore, &ttou_before);

    pid_t child = ::fork();
    if (child < 0) {
        std::fprintf(stderr, "docker-init: fork: %s\n", std::strerror(errno));
        return 1;
    }
    if (child == 0) {
        ::sigprocmask(SIG_SETMASK, &previous, nullptr);
        ::sigaction(SIGTTIN, &ttin_before, nullptr);
        ::sigaction(SIGTTOU, &ttou_before, nullptr);
        // On a terminal: the command leads its own process group in the foreground, so the
        // terminal's Ctrl-C and Ctrl-Z reach it (and whatever it starts) directly.
        if (::isatty(0)) {
            ::setpgid(0, 0);
            (void)::tcsetpgrp(0, ::getpid());
        }
        ::execvp(argv[first], argv + first);
        int e = errno;
        std::fprintf(stderr, "docker-init: exec %s failed: %s\n", argv[first], std::strerror(e));
        ::_exit(e == ENOENT ? 127 : 126);
    }

    for (;;) {
        siginfo_t info;
        struct timespec tick = {1, 0};  // a zombie whose SIGCHLD was merged is still reaped
        int sig = ::sigtimedwait(&all, &info, &tick);
        if (sig > 0 && sig != SIGCHLD) {
            // Forwarded to the command; if it is gone already, the reap below ends this loop.
            (void)::kill(child, sig);
        }
        int status = 0;
        pid_t done;
        while ((done = ::waitpid(-1, &status, WNOHANG)) > 0) {
            if (done != child) continue;  // an orphan re-parented to PID 1: reaped, nothing more
            // The command's status; whatever it left behind dies with the PID namespace.
            if (WIFEXITED(status)) return WEXITSTATUS(status);
            if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
            return 1;
        }
    }
}

}  // namespace isolab
