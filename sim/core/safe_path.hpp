// Paths inside a tree that someone else controls — a container's root file system, an image
// layer, a build context — resolved as if that tree were "/": a symlink is followed inside it
// (an absolute target starts again at its top), ".." stops at its top, and no lookup ever ends on
// a host path. This is the one resolver every such path goes through (build, init, diff, cp, the
// hosts files); joining `root + "/" + path` as text and handing it to the kernel is the root of
// CVE-2018-15664 (docker cp), CVE-2021-30465 (runc mount targets) and IsoLab's own review
// findings (COPY to `/../../tmp/x`, an image whose `/etc` is a symlink).
//
// How: openat2(2) with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS (Linux 5.6+), which the kernel
// checks against renames racing the lookup. Where openat2 is missing (ENOSYS) or refused by a
// seccomp filter (EPERM), an equivalent walk: one component at a time with O_NOFOLLOW, symlinks
// read with readlinkat and resolved against the held root descriptor, ".." from IsoLab's own stack
// of directory descriptors, never the kernel's.
//
// Every descriptor returned is O_CLOEXEC. Errors name the path inside the root and the root.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "sim/core/files.hpp"
#include "sim/core/result.hpp"

namespace isolab::safe {

class Root {
public:
    // HOST_PATH is trusted (IsoLab's own state directory or a path the user named); it must be a
    // directory.
    static Result<Root> open(const std::string& host_path);
    // A tree whose top has no host path to open by: a running container's `/proc/PID/root`, or a
    // mount tree handed over as a descriptor (cp's view of a stopped container). FD must be a
    // directory; LABEL names the tree in errors ("container `web`"). resolve() needs a host path
    // and refuses such a root; every other call works the same.
    static Root adopt(UniqueFd fd, std::string label);
    Root() = default;

    int fd() const { return fd_.get(); }
    const std::string& host_path() const { return path_; }

    // Opens PATH (absolute or relative: both mean "from the top of the tree") with open(2)
    // FLAGS; O_CLOEXEC is always added. With O_NOFOLLOW, a symlink as the last component is not
    // followed (ELOOP, or the link itself with O_PATH). O_CREAT creates inside the tree.
    Result<UniqueFd> open(const std::string& path, int flags, mode_t mode = 0) const;
    // mkdir -p inside the tree; returns the last directory (O_PATH | O_DIRECTORY). A component
    // that is a dangling symlink has its target made, inside the tree.
    Result<UniqueFd> make_dirs(const std::string& path, mode_t mode = 0755) const;
    // Where PATH really is inside the tree ("/a/b"), every symlink resolved inside it. The last
    // component must exist unless MAY_BE_MISSING, in which case only its parent is resolved.
    Result<std::string> resolve(const std::string& path, bool may_be_missing = false) const;

    // The parent directory of PATH (created when CREATE_PARENTS) and the last component's name,
    // for the *at() calls that must act on a name without following it (unlink, mknod, symlink,
    // rename). The name is never "", "." or "..".
    struct Parent {
        UniqueFd dir;
        std::string name;
    };
    Result<Parent> open_parent(const std::string& path, bool create_parents, mode_t mode = 0755) const;

private:
    Result<UniqueFd> make_dirs_following(const std::string& path, mode_t mode, int depth) const;
    UniqueFd fd_;
    std::string path_;
    bool adopted_ = false;
};

// "/proc/self/fd/N": hands a descriptor resolved in a tree to a call that takes a path
// (mount(2) on a target opened with O_PATH, as runc does since CVE-2021-30465).
std::string fd_path(int fd);

// The path PATH names inside a tree, lexically ("a/../b" → "/b", "../../x" → "/x"): ".." never
// climbs above the top. For names that are only joined as text, never resolved.
std::string clean_in_root(const std::string& path);

// The non-empty components of PATH, in order ("/a//b/" → {"a", "b"}); "." and ".." are kept.
std::vector<std::string> components(const std::string& path);

// Tests force the walk, so both paths are tested on a kernel that has openat2.
void force_walk_for_tests(bool on);

}  // namespace isolab::safe
