#include "sim/core/process.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace isolab {

Argv::Argv(std::vector<std::string> args) : args_(std::move(args)) {
    for (auto& a : args_) ptrs_.push_back(a.data());
    ptrs_.push_back(nullptr);
}

void Argv::exec() const {
    if (!args_.empty()) ::execv(ptrs_[0], ptrs_.data());
    ::_exit(127);
}

int exit_code_of(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

int wait_exit_code(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return exit_code_of(status);
}

}  // namespace isolab
