// Child processes: the exec and wait steps every part of IsoLab repeats (the CLI's lesson player,
// the GUI's jobs, the monitor running runc, the image store's helpers).
//
// Argv is built BEFORE fork(): a child of a multithreaded parent (the GUI, the monitor with its
// proxy threads) must not allocate, since another thread may have held malloc's lock at the fork.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace isolab {

class Argv {
public:
    explicit Argv(std::vector<std::string> args);
    Argv(const Argv&) = delete;  // the pointers point into this object's strings
    Argv& operator=(const Argv&) = delete;
    // execv(argv[0], argv); on failure _exit(127), Docker's "command not found". Only in a child.
    [[noreturn]] void exec() const;
    const std::vector<std::string>& args() const { return args_; }

private:
    std::vector<std::string> args_;
    std::vector<char*> ptrs_;
};

// Docker's convention for a wait status: the exit code, or 128 + the signal that ended it.
int exit_code_of(int status);

// This program's own path (readlink /proc/self/exe), "" when it cannot be read; and its folder.
std::string self_exe();
std::string self_dir();
// waitpid(PID) through EINTR; the exit code as exit_code_of(), or -1 when waitpid fails.
int wait_exit_code(pid_t pid);

}  // namespace isolab
