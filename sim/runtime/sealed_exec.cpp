#include "sim/runtime/sealed_exec.hpp"

#include <sched.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace isolab {

namespace {

std::vector<std::string> with_real_path(std::vector<std::string> argv, std::string* path) {
    if (!argv.empty()) {
        char buf[PATH_MAX];
        if (::realpath(argv[0].c_str(), buf)) argv[0] = buf;
        *path = argv[0];
    }
    return argv;
}

[[noreturn]] void fail(const char* what) {
    int err = errno;
    const char* why = std::strerror(err);
    const char* lead = "isolab: read-only exec: ";
    ssize_t n = ::write(2, lead, std::strlen(lead));
    n = ::write(2, what, std::strlen(what));
    n = ::write(2, ": ", 2);
    n = ::write(2, why, std::strlen(why));
    n = ::write(2, "\n", 1);
    (void)n;
    ::_exit(125);
}

}  // namespace

ReadOnlyExec::ReadOnlyExec(std::vector<std::string> argv) : argv_(with_real_path(std::move(argv), &path_)) {}

void ReadOnlyExec::exec() const {
    if (::unshare(CLONE_NEWNS) == 0) {
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) fail("make / a slave mount");
        if (::mount(path_.c_str(), path_.c_str(), nullptr, MS_BIND, nullptr) != 0) fail("bind the program onto itself");
        // A remount must repeat the flags the file system already has (nosuid, nodev, noexec),
        // or it is refused.
        struct statvfs sv;
        unsigned long keep = 0;
        if (::statvfs(path_.c_str(), &sv) == 0) {
            if (sv.f_flag & ST_NOSUID) keep |= MS_NOSUID;
            if (sv.f_flag & ST_NODEV) keep |= MS_NODEV;
            if (sv.f_flag & ST_NOEXEC) keep |= MS_NOEXEC;
        }
        if (::mount(nullptr, path_.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, nullptr) != 0)
            fail("remount the program read-only");
    } else if (errno != EPERM) {
        fail("unshare the mount namespace");
    }
    argv_.exec();
}

}  // namespace isolab
