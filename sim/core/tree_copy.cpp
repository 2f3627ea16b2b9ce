#include "sim/core/tree_copy.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "sim/core/files.hpp"

namespace isolab {

namespace {

constexpr int kMaxDepth = 4096;

bool whiteout(const struct stat& st) { return S_ISCHR(st.st_mode) && major(st.st_rdev) == 0 && minor(st.st_rdev) == 0; }

bool opaque(int dir_fd) {
    for (const char* name : {"trusted.overlay.opaque", "user.overlay.opaque"}) {
        char v[2];
        if (::fgetxattr(dir_fd, name, v, sizeof v) == 1 && v[0] == 'y') return true;
    }
    return false;
}

std::vector<std::string> names_in(int dir_fd) {
    std::vector<std::string> out;
    int dup = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0) return out;
    DIR* d = ::fdopendir(dup);
    if (!d) {
        ::close(dup);
        return out;
    }
    ::rewinddir(d);
    while (dirent* e = ::readdir(d))
        if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) out.emplace_back(e->d_name);
    ::closedir(d);
    return out;
}

// Removes NAME in DIR_FD, a whole directory tree included, never following a symlink.
Status remove_at(int dir_fd, const std::string& name, int depth) {
    if (::unlinkat(dir_fd, name.c_str(), 0) == 0 || errno == ENOENT) return {};
    if (errno != EISDIR && errno != EPERM) return errno_error("remove `" + name + "`", errno);
    if (depth > kMaxDepth) return make_error("remove `" + name + "`: nested too deep", 125);
    UniqueFd sub(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub.valid()) return errno_error("open `" + name + "`", errno);
    for (const auto& n : names_in(sub.get())) ISOLAB_TRY(remove_at(sub.get(), n, depth + 1));
    if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) return errno_error("remove `" + name + "`", errno);
    return {};
}

void copy_metadata(int fd, const struct stat& st, bool keep_owner) {
    if (keep_owner) (void)::fchown(fd, st.st_uid, st.st_gid);
    (void)::fchmod(fd, st.st_mode & 07777);  // after chown, which clears setuid bits
    struct timespec t[2] = {st.st_atim, st.st_mtim};
    (void)::futimens(fd, t);
}

Status copy_file(int from_dir, int to_dir, const std::string& name, const struct stat& st, const TreeCopyOptions& o,
                 const std::string& where) {
    UniqueFd in(::openat(from_dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
    if (!in.valid()) return errno_error("read `" + where + "`", errno);
    UniqueFd out(::openat(to_dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out.valid()) return errno_error("create `" + where + "`", errno);
    char buf[1 << 16];
    for (;;) {
        ssize_t n = ::read(in.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_error("read `" + where + "`", errno);
        if (n == 0) break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = ::write(out.get(), buf + off, static_cast<size_t>(n - off));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) return errno_error("write `" + where + "`", errno);
            off += w;
        }
    }
    copy_metadata(out.get(), st, o.keep_owner);
    return {};
}

Status copy_dir(int from, int to, const TreeCopyOptions& o, const std::string& what, const std::string& rel, int depth) {
    if (depth > kMaxDepth) return make_error(what + ": `" + rel + "` is nested more than 4096 levels deep", 125);
    if (o.layer && depth > 0 && opaque(from))
        for (const auto& n : names_in(to)) ISOLAB_TRY(remove_at(to, n, 0));
    for (const std::string& name : names_in(from)) {
        const std::string where = rel + "/" + name;
        struct stat st;
        if (::fstatat(from, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return errno_error(what + ": `" + where + "`", errno);
        struct stat have;
        const bool exists = ::fstatat(to, name.c_str(), &have, AT_SYMLINK_NOFOLLOW) == 0;
        if (o.layer && whiteout(st)) {
            if (exists) ISOLAB_TRY(remove_at(to, name, 0));
            continue;
        }
        if (exists && !(S_ISDIR(st.st_mode) && S_ISDIR(have.st_mode))) ISOLAB_TRY(remove_at(to, name, 0));
        if (S_ISDIR(st.st_mode)) {
            if (!(exists && S_ISDIR(have.st_mode)) && ::mkdirat(to, name.c_str(), 0700) != 0)
                return errno_error(what + ": create `" + where + "`", errno);
            UniqueFd sub_from(::openat(from, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            UniqueFd sub_to(::openat(to, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!sub_from.valid() || !sub_to.valid()) return errno_error(what + ": open `" + where + "`", errno);
            ISOLAB_TRY(copy_dir(sub_from.get(), sub_to.get(), o, what, where, depth + 1));
            copy_metadata(sub_to.get(), st, o.keep_owner);
        } else if (S_ISREG(st.st_mode)) {
            ISOLAB_TRY(copy_file(from, to, name, st, o, what + ": `" + where + "`"));
        } else if (S_ISLNK(st.st_mode)) {
            std::vector<char> target(static_cast<size_t>(st.st_size > 0 ? st.st_size : 255) + 2);
            ssize_t n = ::readlinkat(from, name.c_str(), target.data(), target.size() - 1);
            if (n < 0) return errno_error(what + ": read the link `" + where + "`", errno);
            target[static_cast<size_t>(n)] = 0;
            if (::symlinkat(target.data(), to, name.c_str()) != 0) return errno_error(what + ": create the link `" + where + "`", errno);
            if (o.keep_owner) (void)::fchownat(to, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
            struct timespec t[2] = {st.st_atim, st.st_mtim};
            (void)::utimensat(to, name.c_str(), t, AT_SYMLINK_NOFOLLOW);
        } else {
            // Devices, fifos and sockets: made as they are where the kernel lets us (root), else
            // left out, as a copy by an unprivileged user would.
            if (::mknodat(to, name.c_str(), st.st_mode, st.st_rdev) == 0) {
                if (o.keep_owner) (void)::fchownat(to, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
                struct timespec t[2] = {st.st_atim, st.st_mtim};
                (void)::utimensat(to, name.c_str(), t, AT_SYMLINK_NOFOLLOW);
            } else if (errno != EPERM) {
                return errno_error(what + ": create `" + where + "`", errno);
            }
        }
    }
    return {};
}

}  // namespace

Status copy_tree_at(int from_dir, int to_dir, const TreeCopyOptions& options, const std::string& what) {
    TreeCopyOptions o = options;
    if (::geteuid() != 0) o.keep_owner = false;
    return copy_dir(from_dir, to_dir, o, what, "", 0);
}

Status copy_tree(const std::string& from, const std::string& to, const TreeCopyOptions& options) {
    UniqueFd f(::open(from.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!f.valid()) return errno_error("open `" + from + "`", errno);
    UniqueFd t(::open(to.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!t.valid()) return errno_error("open `" + to + "`", errno);
    return copy_tree_at(f.get(), t.get(), options, "copy `" + from + "` to `" + to + "`");
}

}  // namespace isolab
