// File-system primitives the engine relies on for crash safety: owned descriptors, atomic
// replacement (write-then-rename) and advisory locks. All descriptors are opened O_CLOEXEC so none
// leaks into a container (runc CVE-2024-21626 was a leaked directory fd).
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>

#include "sim/core/strings.hpp"
#include "sim/core/result.hpp"

namespace isolab {

class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept {
        if (this != &o) reset(std::exchange(o.fd_, -1));
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    int release() { return std::exchange(fd_, -1); }
    void reset(int fd = -1);

private:
    int fd_ = -1;
};

// An flock(2) held for the lifetime of the object. Exclusive by default.
class FileLock {
public:
    static Result<FileLock> acquire(const std::string& path, bool exclusive = true);
    FileLock() = default;
    FileLock(FileLock&&) = default;
    FileLock& operator=(FileLock&&) = default;

private:
    UniqueFd fd_;
};

Result<std::string> read_file(const std::string& path);
// Readers never see a half-written file: the content goes to PATH.tmp.PID, then is renamed over
// PATH. Records are private by default (0600): container records hold `-e` secrets, and the state
// root is shared with every local user of the machine (issue 12). A file meant for others (a
// marker in /run read by other users' IsoLab) passes its mode.
Status write_file_atomic(const std::string& path, const std::string& content, mode_t mode = 0600);
Status write_file(const std::string& path, const std::string& content);  // plain write (sysfs, procfs)
Status make_dirs(const std::string& path, mode_t mode = 0755);
// rm -rf that never crosses into another file system (a forgotten mount is left, not emptied).
Status remove_tree(const std::string& path);
bool path_exists(const std::string& path);
// 1 when PATH is an ELF executable without a PT_INTERP (statically linked: it needs no dynamic
// loader, so it runs inside a container or a guest as it is), 0 when it has one, -1 when it is not
// a readable ELF file of this machine's byte order.
int elf_is_static(const std::string& path);

}  // namespace isolab
