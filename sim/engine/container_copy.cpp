#include "sim/engine/container_copy.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <thread>
#include <vector>

#include "sim/core/clock.hpp"
#include "sim/core/safe_path.hpp"
#include "sim/core/strings.hpp"
#include "sim/engine/archive_handles.hpp"
#include "sim/runtime/detached_tree.hpp"
#include "sim/state/store.hpp"
#include "sim/state/volumes.hpp"

namespace isolab {

using archive_handles::archive_message;
using archive_handles::ArchiveReader;
using archive_handles::ArchiveWriter;
using archive_handles::Entry;

namespace {

constexpr const char* kDaemon = "Error response from daemon: ";
// Directories deeper than this are refused rather than walked: each level holds a descriptor, and
// a hostile container could otherwise nest until the copy runs out of them (or of stack).
constexpr int kMaxDepth = 400;

std::string go_base(const std::string& path) {
    if (path.empty()) return ".";
    std::string p = path;
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    if (p == "/") return "/";
    size_t slash = p.rfind('/');
    return slash == std::string::npos ? p : p.substr(slash + 1);
}

std::string go_dir(const std::string& path) {
    size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return go_clean(path.substr(0, slash + 1));
}

bool has_trailing_separator(const std::string& p) { return !p.empty() && p.back() == '/'; }
bool specifies_current_dir(const std::string& p) { return go_base(p) == "."; }

// Go's error text for a failed system call on PATH: "lstat /x: no such file or directory".
std::string go_errno(const std::string& op, const std::string& path, int err) {
    std::string reason = std::strerror(err);
    if (!reason.empty()) reason[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(reason[0])));
    return op + " " + path + ": " + reason;
}

Error cp_error(std::string message) { return make_error(std::move(message), 1); }
Error daemon_error(const std::string& message) { return make_error(kDaemon + message, 1); }

// ---------------------------------------------------------------------------------------------
// Writing a tree as a tar

// Where libarchive's bytes go: OUT's descriptor, counted. A socket is written with MSG_NOSIGNAL,
// so a reader that gave up ends the copy with EPIPE, not the process with SIGPIPE.
struct TarOut {
    int fd = -1;
    int64_t bytes = 0;
    int error = 0;
};

la_ssize_t tar_out_write(struct archive* a, void* client, const void* buf, size_t n) {
    auto* out = static_cast<TarOut*>(client);
    const char* p = static_cast<const char*>(buf);
    size_t left = n;
    while (left > 0) {
        ssize_t w = ::send(out->fd, p, left, MSG_NOSIGNAL);
        if (w < 0 && errno == ENOTSOCK) w = ::write(out->fd, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            out->error = errno;
            archive_set_error(a, errno, "write: %s", std::strerror(errno));
            return -1;
        }
        p += w;
        left -= static_cast<size_t>(w);
    }
    out->bytes += static_cast<int64_t>(n);
    return static_cast<la_ssize_t>(n);
}

class TreeTarWriter {
public:
    TreeTarWriter(struct archive* a, std::string what) : a_(a), what_(std::move(what)) {}

    // One object: FD is open on it (O_PATH for a symlink or a special file, O_RDONLY for a file
    // or a directory), ST its fstat. NAME is its entry's name.
    Status add(int fd, const struct stat& st, const std::string& name, int depth) {
        Entry e(archive_entry_new());
        const bool dir = S_ISDIR(st.st_mode);
        archive_entry_copy_pathname(e.get(), dir && name.back() != '/' ? (name + "/").c_str() : name.c_str());
        archive_entry_set_uid(e.get(), st.st_uid);
        archive_entry_set_gid(e.get(), st.st_gid);
        archive_entry_set_mtime(e.get(), st.st_mtim.tv_sec, 0);
        archive_entry_set_mode(e.get(), st.st_mode);
        archive_entry_set_size(e.get(), 0);
        if (S_ISSOCK(st.st_mode)) return {};  // a tar cannot hold one; Docker skips them too
        if (!dir && st.st_nlink > 1) {
            auto key = std::make_pair(st.st_dev, st.st_ino);
            auto seen = links_.find(key);
            if (seen != links_.end()) {
                archive_entry_copy_hardlink(e.get(), seen->second.c_str());
                return header(e.get());
            }
            links_.emplace(key, name);
        }
        if (S_ISLNK(st.st_mode)) {
            char buf[4096];
            ssize_t n = ::readlinkat(fd, "", buf, sizeof buf);
            if (n < 0) return errno_error("read the symlink `" + name + "` in " + what_, errno);
            archive_entry_copy_symlink(e.get(), std::string(buf, static_cast<size_t>(n)).c_str());
            return header(e.get());
        }
        if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
            archive_entry_set_rdevmajor(e.get(), major(st.st_rdev));
            archive_entry_set_rdevminor(e.get(), minor(st.st_rdev));
            return header(e.get());
        }
        if (S_ISFIFO(st.st_mode)) return header(e.get());
        if (S_ISREG(st.st_mode)) {
            archive_entry_set_size(e.get(), st.st_size);
            ISOLAB_TRY(header(e.get()));
            return data(fd, st.st_size, name);
        }
        ISOLAB_TRY(header(e.get()));
        if (depth >= kMaxDepth)
            return make_error("`" + name + "` in " + what_ + " is more than " + std::to_string(kMaxDepth) +
                              " directories deep; copy a deeper part of it",
                              1);
        return children(fd, name.back() == '/' ? name : name + "/", depth + 1);
    }

private:
    Status header(struct archive_entry* e) {
        if (archive_write_header(a_, e) < ARCHIVE_OK)
            return make_error("tar entry `" + std::string(archive_entry_pathname(e)) + "`: " + archive_message(a_), 1);
        return {};
    }

    Status data(int fd, int64_t size, const std::string& name) {
        std::vector<char> buf(1 << 16);
        int64_t left = size;
        while (left > 0) {
            ssize_t n = ::read(fd, buf.data(), static_cast<size_t>(std::min<int64_t>(left, buf.size())));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return errno_error("read `" + name + "` in " + what_, errno, 1);
            if (n == 0) break;  // it shrank while we read: libarchive pads the entry with zeros
            if (archive_write_data(a_, buf.data(), static_cast<size_t>(n)) < 0)
                return make_error("tar entry `" + name + "`: " + archive_message(a_), 1);
            left -= n;
        }
        return {};
    }

    // The entries of directory DIR_FD (opened O_RDONLY | O_DIRECTORY), sorted by name. Each is
    // opened with O_NOFOLLOW relative to DIR_FD and described by its own descriptor's fstat, so a
    // name swapped for a symlink between the listing and the open is archived as what the open
    // found, never followed.
    Status children(int dir_fd, const std::string& prefix, int depth) {
        int listing = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (listing < 0) return errno_error("list `" + prefix + "` in " + what_, errno, 1);
        DIR* d = ::fdopendir(listing);
        if (!d) {
            int err = errno;
            ::close(listing);
            return errno_error("list `" + prefix + "` in " + what_, err, 1);
        }
        std::vector<std::string> names;
        while (struct dirent* de = ::readdir(d)) {
            std::string n = de->d_name;
            if (n != "." && n != "..") names.push_back(std::move(n));
        }
        ::closedir(d);
        std::sort(names.begin(), names.end());
        for (const auto& n : names) {
            // O_PATH | O_NOFOLLOW pins the inode the name means now (a symlink stays the link,
            // a fifo or a device is never opened); only a file or a directory found that way is
            // then opened for reading, through that descriptor, whatever the name means by then.
            UniqueFd fd(::openat(dir_fd, n.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
            if (!fd.valid()) {
                if (errno == ENOENT) continue;  // removed since the listing (a running container)
                return errno_error("open `" + prefix + n + "` in " + what_, errno, 1);
            }
            struct stat st;
            if (::fstat(fd.get(), &st) != 0) return errno_error("stat `" + prefix + n + "` in " + what_, errno, 1);
            if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
                int rd = ::open(safe::fd_path(fd.get()).c_str(), O_RDONLY | O_CLOEXEC | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
                if (rd < 0) return errno_error("open `" + prefix + n + "` in " + what_, errno, 1);
                fd.reset(rd);
            }
            ISOLAB_TRY(add(fd.get(), st, prefix + n, depth));
        }
        return {};
    }

    struct archive* a_;
    std::string what_;
    std::map<std::pair<dev_t, ino_t>, std::string> links_;
};

// ---------------------------------------------------------------------------------------------
// Extracting a tar into a directory

struct Extractor {
    int dir_fd;
    const ExtractOptions& o;
    struct DirTime {
        std::vector<std::string> comps;
        struct timespec mtime;
    };
    std::vector<DirTime> dir_times;

    std::string shown(const std::vector<std::string>& comps) const {
        std::string s = o.shown_dir;
        for (const auto& c : comps) s += (s.empty() || s.back() != '/' ? "/" : "") + c;
        return s;
    }

    // NAME's components below the directory; Docker's breakout error when it climbs above it.
    Result<std::vector<std::string>> components(const std::string& name) const {
        std::vector<std::string> out;
        for (auto& c : safe::components(name)) {
            if (c == ".") continue;
            if (c == "..") {
                if (out.empty()) return make_error(go_quote(name) + " is outside of " + go_quote(o.shown_dir), 1);
                out.pop_back();
                continue;
            }
            out.push_back(c);
        }
        return out;
    }

    // The directory holding COMPS' last component, every step opened with O_NOFOLLOW from the
    // held directory (never a path the kernel resolves as a whole). Missing directories are made
    // (tar's implied directories, 0755) when CREATE.
    Result<UniqueFd> parent_of(const std::vector<std::string>& comps, const std::string& entry, bool create) const {
        UniqueFd cur(::fcntl(dir_fd, F_DUPFD_CLOEXEC, 3));
        if (!cur.valid()) return errno_error("dup", errno, 1);
        std::vector<std::string> walked;
        for (size_t i = 0; i + 1 < comps.size(); ++i) {
            const std::string& c = comps[i];
            walked.push_back(c);
            int fd = ::openat(cur.get(), c.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0 && errno == ENOENT && create) {
                if (::mkdirat(cur.get(), c.c_str(), 0755) != 0 && errno != EEXIST)
                    return errno_error("mkdir " + shown(walked), errno, 1);
                fd = ::openat(cur.get(), c.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            }
            if (fd < 0) {
                int err = errno;
                struct stat st;
                if (err == ENOTDIR && ::fstatat(cur.get(), c.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                    S_ISLNK(st.st_mode))
                    return make_error("refusing to write " + go_quote(entry) + " through the symbolic link " +
                                          go_quote(shown(walked)) + ": links are copied, never followed",
                                      1);
                return errno_error("open " + shown(walked), err, 1);
            }
            cur.reset(fd);
        }
        return cur;
    }

    Status set_owner(int fd, const char* name, int at_flags, struct archive_entry* e) const {
        uid_t uid = 0;
        gid_t gid = 0;
        switch (o.owner) {
            case Ownership::Caller: return {};
            case Ownership::Root:
                if (::geteuid() != 0) return {};  // rootless: the caller is the container's root
                uid = 0;
                gid = 0;
                break;
            case Ownership::KeepArchived:
                uid = static_cast<uid_t>(archive_entry_uid(e));
                gid = static_cast<gid_t>(archive_entry_gid(e));
                break;
        }
        if (::fchownat(fd, name, uid, gid, at_flags) != 0) {
            // Without root only one's own ids can be given (GNU cp -a keeps quiet about it too).
            if (errno == EPERM && ::geteuid() != 0) return {};
            return errno_error(std::string("chown ") + archive_entry_pathname(e), errno, 1);
        }
        return {};
    }

    mode_t perm_of(struct archive_entry* e) const {
        mode_t perm = archive_entry_perm(e) & 07777;
        if (o.clear_setid) perm &= ~static_cast<mode_t>(S_ISUID | S_ISGID);
        return perm;
    }

    // Owner, then mode (chown clears setuid bits), through a descriptor of the object itself.
    Status finish_fd(int fd, struct archive_entry* e, bool times) const {
        ISOLAB_TRY(set_owner(fd, "", AT_EMPTY_PATH, e));
        if (::fchmod(fd, perm_of(e)) != 0) return errno_error(std::string("chmod ") + archive_entry_pathname(e), errno, 1);
        if (times) {
            struct timespec ts[2];
            ts[0].tv_sec = ts[1].tv_sec = archive_entry_mtime(e);
            ts[0].tv_nsec = ts[1].tv_nsec = 0;
            (void)::futimens(fd, ts);
        }
        return {};
    }

    // A fifo or a device just made by name: owner and mode set through /proc/self/fd of an O_PATH
    // descriptor of it (never by name, which could be a symlink by now).
    Status finish_special(int parent, const std::string& name, struct archive_entry* e) const {
        UniqueFd fd(::openat(parent, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
        if (!fd.valid()) return errno_error(std::string("open ") + archive_entry_pathname(e), errno, 1);
        struct stat st;
        if (::fstat(fd.get(), &st) != 0 || S_ISLNK(st.st_mode)) return make_error(std::string("`") + archive_entry_pathname(e) + "` changed while it was made", 1);
        const std::string proc = safe::fd_path(fd.get());
        ISOLAB_TRY(set_owner(AT_FDCWD, proc.c_str(), 0, e));
        if (::chmod(proc.c_str(), perm_of(e)) != 0) return errno_error(std::string("chmod ") + archive_entry_pathname(e), errno, 1);
        return {};
    }

    Status entry(struct archive* a, struct archive_entry* e) {
        const char* raw = archive_entry_pathname(e);
        if (!raw) return make_error("a tar entry without a name", 1);
        const std::string name = raw;
        auto comps = components(name);
        if (!comps) return comps.error();
        const mode_t type = archive_entry_filetype(e);
        const char* hardlink = archive_entry_hardlink(e);
        const bool is_dir = type == AE_IFDIR && !hardlink;
        if (comps->empty()) {
            // The directory itself ("./"): Docker keeps it as it is.
            if (is_dir) return {};
            return make_error("cannot overwrite directory " + go_quote(o.shown_dir) + " with non-directory " +
                                  go_quote(o.shown_dir),
                              1);
        }
        auto parent = parent_of(*comps, name, true);
        if (!parent) return parent.error();
        const std::string& leaf = comps->back();
        const int pfd = parent->get();
        struct stat old;
        if (::fstatat(pfd, leaf.c_str(), &old, AT_SYMLINK_NOFOLLOW) == 0) {
            if (S_ISDIR(old.st_mode) && !is_dir)
                return make_error("cannot overwrite directory " + go_quote(shown(*comps)) + " with non-directory " +
                                      go_quote(o.shown_dir),
                                  1);
            if (!S_ISDIR(old.st_mode) && is_dir)
                return make_error("cannot overwrite non-directory " + go_quote(shown(*comps)) + " with directory " +
                                      go_quote(o.shown_dir),
                                  1);
            if (!is_dir && ::unlinkat(pfd, leaf.c_str(), 0) != 0)
                return errno_error("remove " + shown(*comps), errno, 1);
        } else if (errno != ENOENT) {
            return errno_error("lstat " + shown(*comps), errno, 1);
        }

        if (hardlink) {
            auto target = components(hardlink);
            if (!target) return target.error();
            if (target->empty()) return make_error("invalid hardlink " + go_quote(name) + " -> " + go_quote(hardlink), 1);
            auto tparent = parent_of(*target, hardlink, false);
            if (!tparent) return tparent.error();
            if (::linkat(tparent->get(), target->back().c_str(), pfd, leaf.c_str(), 0) != 0)
                return errno_error("link " + shown(*target) + " " + shown(*comps), errno, 1);
            return {};
        }
        switch (type) {
            case AE_IFDIR: {
                if (::mkdirat(pfd, leaf.c_str(), 0700) != 0 && errno != EEXIST)
                    return errno_error("mkdir " + shown(*comps), errno, 1);
                UniqueFd fd(::openat(pfd, leaf.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
                if (!fd.valid()) return errno_error("open " + shown(*comps), errno, 1);
                ISOLAB_TRY(finish_fd(fd.get(), e, false));
                struct timespec t = {archive_entry_mtime(e), 0};
                dir_times.push_back({*comps, t});
                return {};
            }
            case AE_IFREG: {
                UniqueFd fd(::openat(pfd, leaf.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
                if (!fd.valid()) return errno_error("open " + shown(*comps), errno, 1);
                const void* buf;
                size_t size;
                la_int64_t offset;
                for (;;) {
                    int r = archive_read_data_block(a, &buf, &size, &offset);
                    if (r == ARCHIVE_EOF) break;
                    if (r < ARCHIVE_WARN) return make_error("read " + go_quote(name) + ": " + archive_message(a), 1);
                    const char* p = static_cast<const char*>(buf);
                    while (size > 0) {
                        ssize_t w = ::pwrite(fd.get(), p, size, offset);
                        if (w < 0 && errno == EINTR) continue;
                        if (w < 0) return errno_error("write " + shown(*comps), errno, 1);
                        p += w;
                        size -= static_cast<size_t>(w);
                        offset += w;
                    }
                }
                if (::ftruncate(fd.get(), archive_entry_size(e)) != 0) return errno_error("write " + shown(*comps), errno, 1);
                return finish_fd(fd.get(), e, true);
            }
            case AE_IFLNK: {
                const char* target = archive_entry_symlink(e);
                // The link is made as it is: its target is text, never resolved here.
                if (::symlinkat(target ? target : "", pfd, leaf.c_str()) != 0)
                    return errno_error("symlink " + std::string(target ? target : "") + " " + shown(*comps), errno, 1);
                ISOLAB_TRY(set_owner(pfd, leaf.c_str(), AT_SYMLINK_NOFOLLOW, e));
                struct timespec ts[2];
                ts[0].tv_sec = ts[1].tv_sec = archive_entry_mtime(e);
                ts[0].tv_nsec = ts[1].tv_nsec = 0;
                (void)::utimensat(pfd, leaf.c_str(), ts, AT_SYMLINK_NOFOLLOW);
                return {};
            }
            case AE_IFIFO:
                if (::mkfifoat(pfd, leaf.c_str(), 0600) != 0) return errno_error("mkfifo " + shown(*comps), errno, 1);
                return finish_special(pfd, leaf, e);
            case AE_IFCHR:
            case AE_IFBLK: {
                if (!o.allow_devices)
                    return make_error("refusing to make the device node " + go_quote(shown(*comps)) +
                                          " on the host; copy it as a tar with `-` instead",
                                      1);
                dev_t dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
                if (::mknodat(pfd, leaf.c_str(), (type == AE_IFCHR ? S_IFCHR : S_IFBLK) | 0600, dev) != 0)
                    return errno_error("mknod " + shown(*comps), errno, 1);
                return finish_special(pfd, leaf, e);
            }
            default:
                return {};  // sockets and unknown types: nothing to make (Docker skips them)
        }
    }

    // Directory times last, so that making their entries did not change them (Docker's order).
    // Best effort: a running container may have moved them meanwhile.
    void set_dir_times() {
        for (const auto& d : dir_times) {
            auto parent = parent_of(d.comps, "", false);
            if (!parent) continue;
            UniqueFd fd(::openat(parent->get(), d.comps.back().c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!fd.valid()) continue;
            struct timespec ts[2] = {d.mtime, d.mtime};
            (void)::futimens(fd.get(), ts);
        }
    }
};

// ---------------------------------------------------------------------------------------------
// The stopped container's view

size_t depth_of(const std::string& path) { return safe::components(path).size(); }

// Host side of a copy: what Docker's client finds at a local destination (CopyInfoDestinationPath).
Result<CopyInfo> host_destination_info(const std::string& path) {
    std::string p = path;
    struct stat st;
    int r = ::lstat(p.c_str(), &st);
    if (r == 0 && !S_ISLNK(st.st_mode)) return CopyInfo{p, true, S_ISDIR(st.st_mode), ""};
    for (int n = 0; r == 0 && S_ISLNK(st.st_mode); ++n) {
        if (n > 10) return cp_error("too many symlinks in " + path);
        char buf[4096];
        ssize_t len = ::readlink(p.c_str(), buf, sizeof buf);
        if (len < 0) return cp_error(go_errno("readlink", p, errno));
        std::string target(buf, static_cast<size_t>(len));
        if (target.empty() || target[0] != '/') target = go_clean(split_path_dir_entry(p).first + "/" + target);
        p = target;
        r = ::lstat(p.c_str(), &st);
    }
    if (r != 0) {
        int err = errno;
        if (err != ENOENT) return cp_error(go_errno("lstat", p, err));
        std::string parent = split_path_dir_entry(p).first;
        struct stat pst;
        if (::stat(parent.c_str(), &pst) != 0) return cp_error(go_errno("stat", parent, errno));
        if (!S_ISDIR(pst.st_mode)) return cp_error("not a directory");
        return CopyInfo{p, false, false, ""};
    }
    return CopyInfo{p, true, S_ISDIR(st.st_mode), ""};
}

// The top object of a host source (CopyInfoSourcePath): its last symlink followed only with -L.
Result<UniqueFd> open_host_source(const std::string& path, bool follow, struct stat* st) {
    struct stat lst;
    if (::lstat(path.c_str(), &lst) != 0) return cp_error(go_errno("lstat", path, errno));
    int fd = ::open(path.c_str(), O_PATH | O_CLOEXEC | (follow || asserts_directory(path) ? 0 : O_NOFOLLOW));
    if (fd < 0) return cp_error(go_errno("lstat", path, errno));
    UniqueFd held(fd);
    if (::fstat(fd, st) != 0) return cp_error(go_errno("lstat", path, errno));
    return held;
}

// An O_PATH descriptor of a regular file or directory reopened for reading (the same inode).
Result<UniqueFd> reopen_for_reading(int fd, const struct stat& st, const std::string& what) {
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) return UniqueFd(::fcntl(fd, F_DUPFD_CLOEXEC, 3));
    int rd = ::open(safe::fd_path(fd).c_str(), O_RDONLY | O_CLOEXEC | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
    if (rd < 0) return errno_error("open " + what, errno, 1);
    return UniqueFd(rd);
}

// safe::Root's errors end in strerror(errno) (errno_error): the two errors a copy words
// differently (Docker's "Could not find the file", "not a directory") are told apart by it.
int errno_of(const Error& e) {
    auto ends_with = [&](int err) {
        const std::string tail = std::strerror(err);
        return e.message.size() >= tail.size() && e.message.compare(e.message.size() - tail.size(), tail.size(), tail) == 0;
    };
    if (ends_with(ENOENT)) return ENOENT;
    if (ends_with(ENOTDIR)) return ENOTDIR;
    return EIO;
}

// The lstat of PATH inside the container: its directories resolved in the root, its last
// component not followed. Docker's daemon answers a HEAD on the archive with this.
int lstat_in_root(const safe::Root& root, const std::string& path, struct stat* st) {
    const std::string clean = safe::clean_in_root(path);
    if (clean == "/") return ::fstat(root.fd(), st) == 0 ? 0 : errno;
    if (asserts_directory(path)) {
        // "DIR/" resolves DIR whatever it is, a symlink included (POSIX's trailing slash).
        auto fd = root.open(clean, O_PATH);
        if (!fd) return errno_of(fd.error());
        return ::fstat(fd->get(), st) == 0 ? 0 : errno;
    }
    auto parent = root.open_parent(clean, false);
    if (!parent) return ENOENT;
    if (::fstatat(parent->dir.get(), parent->name.c_str(), st, AT_SYMLINK_NOFOLLOW) != 0) return errno;
    return 0;
}

// A pair of connected sockets for the tar between the two halves (a send on a closed peer is
// EPIPE, never SIGPIPE).
Status socket_pair(UniqueFd* a, UniqueFd* b) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return errno_error("socketpair", errno, 1);
    a->reset(sv[0]);
    b->reset(sv[1]);
    return {};
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Path rules

CpArg split_cp_arg(const std::string& arg) {
    if (!arg.empty() && arg[0] == '/') return {"", arg};
    size_t colon = arg.find(':');
    if (colon == std::string::npos || arg.rfind('.', 0) == 0) return {"", arg};
    return {arg.substr(0, colon), arg.substr(colon + 1)};
}

std::string go_clean(const std::string& path) {
    if (path.empty()) return ".";
    const bool rooted = path[0] == '/';
    std::vector<std::string> out;
    for (auto& c : safe::components(path)) {
        if (c == ".") continue;
        if (c == "..") {
            if (!out.empty() && out.back() != "..") out.pop_back();
            else if (!rooted) out.push_back("..");
            continue;
        }
        out.push_back(c);
    }
    std::string s = rooted ? "/" : "";
    for (size_t i = 0; i < out.size(); ++i) s += (i ? "/" : "") + out[i];
    return s.empty() ? "." : s;
}

std::string preserve_trailing_dot_or_separator(const std::string& cleaned, const std::string& original) {
    std::string out = cleaned;
    if (!specifies_current_dir(out) && specifies_current_dir(original)) {
        if (!has_trailing_separator(out)) out += "/";
        out += ".";
    }
    if (!has_trailing_separator(out) && has_trailing_separator(original)) out += "/";
    return out;
}

bool asserts_directory(const std::string& path) { return has_trailing_separator(path) || specifies_current_dir(path); }

std::pair<std::string, std::string> split_path_dir_entry(const std::string& path) {
    std::string cleaned = go_clean(path);
    if (specifies_current_dir(path)) cleaned += "/.";
    return {go_dir(cleaned), go_base(cleaned)};
}

std::string archive_top_name(const CopyInfo& src) {
    if (!src.rebase_name.empty()) return src.rebase_name;
    std::string base = split_path_dir_entry(src.path).second;
    return base == "/" ? "." : base;
}

Result<CopyPlan> plan_copy(const CopyInfo& src, const CopyInfo& dst) {
    auto [dst_dir, dst_base] = split_path_dir_entry(dst.path);
    if (dst.exists && dst.is_dir) return CopyPlan{dst.path, archive_top_name(src)};
    if (dst.exists && src.is_dir) return cp_error("cannot copy directory");
    if (dst.exists || src.is_dir) return CopyPlan{dst_dir, dst_base};
    if (asserts_directory(dst.path)) return cp_error("no such directory");
    return CopyPlan{dst_dir, dst_base};
}

std::string validate_output_path(const std::string& path) {
    std::string dir = go_dir(go_clean(path));
    struct stat st;
    if (!dir.empty() && dir != "." && ::stat(dir.c_str(), &st) != 0 && errno == ENOENT)
        return "invalid output path: directory " + go_quote(dir) + " does not exist";
    if (::stat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode) &&
        (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
        return "invalid output path: " + go_quote(path) + " must be a directory or a regular file: got a device";
    return "";
}

// ---------------------------------------------------------------------------------------------
// Tar code

Result<int64_t> write_tree_tar(const ArchiveSource& source, int out_fd, const std::string& what) {
    TarOut out{out_fd, 0, 0};
    ArchiveWriter a(archive_write_new());
    if (!a) return make_error("libarchive: out of memory", 1);
    // Docker's layout: ustar, a pax header only where a field needs it, no padding to a record.
    if (archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK ||
        archive_write_add_filter_none(a.get()) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a.get(), 1) != ARCHIVE_OK ||
        archive_write_open2(a.get(), &out, nullptr, tar_out_write, nullptr, nullptr) != ARCHIVE_OK)
        return make_error("libarchive: set up a tar writer: " + archive_message(a.get()), 1);
    struct stat st;
    if (::fstat(source.fd, &st) != 0) return errno_error("stat " + what, errno, 1);
    auto rd = reopen_for_reading(source.fd, st, what);
    if (!rd) return rd.error();
    TreeTarWriter writer(a.get(), what);
    Status s = writer.add(rd->get(), st, source.top_name, 0);
    if (!s) {
        if (out.error == EPIPE) return make_error("the reader of the archive went away", 1);
        return s.error();
    }
    if (archive_write_close(a.get()) != ARCHIVE_OK) return make_error("finish the tar: " + archive_message(a.get()), 1);
    return out.bytes;
}

Status extract_tar(int in_fd, int dir_fd, const ExtractOptions& options) {
    ArchiveReader a(archive_read_new());
    if (!a) return make_error("libarchive: out of memory", 1);
    archive_read_support_format_tar(a.get());
    archive_read_support_filter_gzip(a.get());
    archive_read_support_filter_xz(a.get());
    archive_read_support_filter_zstd(a.get());
    if (archive_read_open_fd(a.get(), in_fd, 1 << 16) != ARCHIVE_OK)
        return make_error("read the archive: " + archive_message(a.get()), 1);
    Extractor x{dir_fd, options, {}};
    for (;;) {
        struct archive_entry* e = nullptr;
        int r = archive_read_next_header(a.get(), &e);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN) return make_error("read the archive: " + archive_message(a.get()), 1);
        ISOLAB_TRY(x.entry(a.get(), e));
    }
    x.set_dir_times();
    return {};
}

// ---------------------------------------------------------------------------------------------
// The view

namespace {
Result<UniqueFd> assemble_view(const std::string& what, const std::string& base_type, const std::string& base_source,
                               const std::string& opts, const std::vector<TreeBind>& mounts, bool writable);
}  // namespace

Result<UniqueFd> open_stopped_view(const Store& store, const ContainerRecord& rec, bool writable) {
    const std::string what = "open the file system of " + rec.name;
    const std::string dir = store.container_dir(rec.id);
    std::string base_type, base_source, opts;
    switch (rec.rootfs_mode) {
        case RootfsMode::Overlay: {
            const std::string upper = dir + "/upper", work = dir + "/work";
            if (!path_exists(upper)) return make_error(what + ": `" + upper + "` is missing", 1);
            std::string lower;
            for (auto it = rec.layers.rbegin(); it != rec.layers.rend(); ++it) lower += (lower.empty() ? "" : ":") + *it;
            if (lower.empty()) lower = dir + "/empty";  // scratch: one empty layer, as at start
            if (writable) {
                if (!path_exists(work)) return make_error(what + ": `" + work + "` is missing", 1);
                opts = "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work;
            } else {
                opts = "lowerdir=" + upper + ":" + lower;  // read-only: the writable layer on top
            }
            if (rec.backend == Backend::Rootless) opts += ",userxattr";
            base_type = "overlay";
            break;
        }
        case RootfsMode::Copy:
            base_type = "bind";
            base_source = dir + "/rootfs";
            if (!path_exists(base_source)) return make_error(what + ": `" + base_source + "` is missing", 1);
            break;
        case RootfsMode::None:
            return make_error(what + ": the container has no file system on disk (backend " +
                                  std::string(backend_name(rec.backend)) + ")",
                              1);
    }
    std::vector<TreeBind> mounts;
    const VolumeStore volumes(store.root());
    for (const auto& m : rec.spec.mounts) {
        switch (m.type) {
            case MountType::Volume:
                if (!m.source.empty()) mounts.push_back({volumes.data_dir(m.source), m.target, m.readonly});
                break;
            case MountType::Bind: mounts.push_back({m.source, m.target, m.readonly}); break;
            case MountType::Tmpfs: break;  // empty while stopped: what is below it is shown
        }
    }
    std::stable_sort(mounts.begin(), mounts.end(),
                     [](const TreeBind& a, const TreeBind& b) { return depth_of(a.target) < depth_of(b.target); });
    if (base_type == "bind" && mounts.empty()) {
        // A copied root without mounts is a plain directory: nothing to assemble.
        UniqueFd fd(::open(base_source.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!fd.valid()) return errno_error(what + ": `" + base_source + "`", errno, 1);
        return fd;
    }
    return assemble_view(what, base_type, base_source, opts, mounts, writable);
}

Result<UniqueFd> open_layers_view(const std::vector<std::string>& layers, bool rootless, const std::string& empty_dir) {
    const std::string what = "open the file system of a build stage";
    if (layers.empty()) {
        // scratch: nothing but an empty directory.
        UniqueFd fd(::open(empty_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!fd.valid()) return errno_error(what + ": `" + empty_dir + "`", errno, 1);
        return fd;
    }
    // A read-only overlay needs two lower layers at least: the empty directory fills in.
    std::string lower;
    for (auto it = layers.rbegin(); it != layers.rend(); ++it) lower += (lower.empty() ? "" : ":") + *it;
    if (layers.size() == 1) lower += ":" + empty_dir;
    std::string opts = "lowerdir=" + lower;
    if (rootless) opts += ",userxattr";
    return assemble_view(what, "overlay", "", opts, {}, false);
}

namespace {

// A view: BASE_TYPE ("overlay" with OPTS, or "bind" of BASE_SOURCE) with MOUNTS on it, detached.
Result<UniqueFd> assemble_view(const std::string& what, const std::string& base_type, const std::string& base_source,
                               const std::string& opts, const std::vector<TreeBind>& mounts, bool writable) {
    DetachedTree tree;
    if (base_type == "overlay") tree.overlay_options = opts;
    else tree.bind_source = base_source;
    tree.base_words = "the container's overlay";
    tree.binds = mounts;
    tree.writable = writable;
    return open_detached_tree(what, tree, 1);
}

}  // namespace

Result<ContainerFs> ContainerFs::open(const Store& store, const std::string& ref, Access access) {
    for (int attempt = 0; attempt < 3; ++attempt) {
        auto rec = store.resolve(ref);
        if (!rec) return make_error(rec.error().message, 1);
        if (rec->backend == Backend::Simulated || rec->rootfs_mode == RootfsMode::None)
            return make_error("container " + rec->name +
                                  " runs on the simulated backend and has no files to copy; cp needs the namespaces or "
                                  "rootless backend",
                              1);
        if (rec->state == ContainerState::Removing)
            return make_error("container " + rec->name + " is being removed", 1);
        const std::string label = "container `" + rec->name + "`";
        if (rec->pid > 0 && process_matches(rec->pid, rec->pid_start_time)) {
            // Running or paused: its PID 1's root, with the container's own mounts. Checked
            // again after the open: the same pid with the same start time means the descriptor
            // is that process's root, not a recycled pid's.
            UniqueFd fd(::open(("/proc/" + std::to_string(rec->pid) + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
            if (fd.valid() && process_matches(rec->pid, rec->pid_start_time)) {
                ContainerFs fs;
                fs.rec_ = std::move(*rec);
                fs.root_ = safe::Root::adopt(std::move(fd), label);
                fs.live_ = true;
                return fs;
            }
        }
        // Stopped: under the container's lock, so that it does not start while the view (with
        // its writable layer mounted) is open. Started meanwhile: look again.
        auto lock = store.lock_container(rec->id);
        if (!lock) return make_error(lock.error().message, 1);
        auto fresh = store.load(rec->id);
        if (!fresh) return make_error(fresh.error().message, 1);
        if (fresh->pid > 0 && process_matches(fresh->pid, fresh->pid_start_time)) continue;
        auto view = open_stopped_view(store, *fresh, access == Access::Write);
        if (!view) return view.error();
        ContainerFs fs;
        fs.rec_ = std::move(*fresh);
        fs.lock_ = std::move(*lock);
        fs.root_ = safe::Root::adopt(std::move(*view), label);
        return fs;
    }
    return make_error("container " + ref + " keeps starting and stopping; try again", 1);
}

// ---------------------------------------------------------------------------------------------
// The whole copy

Result<CopyResult> copy_from_container(const Store& store, const std::string& container, const std::string& src_path,
                                       const std::string& dest, int out_fd, const CopyOptions& options) {
    if (dest != "-")
        if (std::string bad = validate_output_path(dest); !bad.empty()) return cp_error(bad);
    auto fs = ContainerFs::open(store, container, ContainerFs::Access::Read);
    if (!fs) return daemon_error(fs.error().message);
    const safe::Root& root = fs->root();

    // The daemon's half: SRC_PATH in the container (PreserveTrailingDotOrSeparator of its join
    // with "/"). Its last component is followed only with -L, or when it asserts a directory.
    const std::string abs = preserve_trailing_dot_or_separator(go_clean("/" + src_path), src_path);
    const std::string clean = go_clean(abs);
    const bool follow = options.follow_link || asserts_directory(abs);
    const std::string not_found = "Could not find the file " + src_path + " in container " + container;
    UniqueFd top;
    if (clean == "/") {
        top.reset(::fcntl(root.fd(), F_DUPFD_CLOEXEC, 3));
    } else if (follow) {
        auto fd = root.open(clean, O_PATH);
        if (!fd) return errno_of(fd.error()) == ENOTDIR ? daemon_error(go_errno("lstat", abs, ENOTDIR))
                                                       : errno_of(fd.error()) == ENOENT ? daemon_error(not_found)
                                                                                        : daemon_error(fd.error().message);
        top = std::move(*fd);
    } else {
        auto parent = root.open_parent(clean, false);
        if (!parent) return errno_of(parent.error()) == ENOTDIR ? daemon_error(go_errno("lstat", abs, ENOTDIR))
                                                               : daemon_error(not_found);
        int fd = ::openat(parent->dir.get(), parent->name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) return errno == ENOENT ? daemon_error(not_found) : daemon_error(go_errno("lstat", abs, errno));
        top.reset(fd);
    }
    struct stat st;
    if (!top.valid() || ::fstat(top.get(), &st) != 0) return daemon_error(go_errno("lstat", abs, errno));
    if (asserts_directory(abs) && !S_ISDIR(st.st_mode)) return daemon_error(go_errno("lstat", abs, ENOTDIR));
    const CopyInfo src{abs, true, S_ISDIR(st.st_mode), ""};
    const std::string what = "container " + fs->record().name;
    // Docker's daemon logs the event once the source is found and its archive begins.
    store.append_event("archive-path", {{"id", fs->record().id}, {"name", fs->record().name}});

    if (dest == "-") {
        auto bytes = write_tree_tar({top.get(), archive_top_name(src)}, out_fd, what);
        if (!bytes) return bytes.error();
        return CopyResult{*bytes, "-"};
    }

    // The client's half: where on the host, under which name.
    auto dst = host_destination_info(dest);
    if (!dst) return dst.error();
    auto plan = plan_copy(src, *dst);
    if (!plan) return plan.error();
    UniqueFd dir(::open(plan->dest_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid()) return cp_error(go_errno("open", plan->dest_dir, errno));
    UniqueFd reader, writer;
    ISOLAB_TRY(socket_pair(&reader, &writer));
    ExtractOptions xo;
    xo.owner = options.archive ? Ownership::KeepArchived : Ownership::Caller;
    xo.clear_setid = !options.archive;
    xo.allow_devices = false;
    xo.shown_dir = plan->dest_dir;
    Status extracted;
    // The extraction reads while the archive is written: a thread, started after the view (and
    // its fork) so that no thread exists when the view's child is forked.
    std::thread host_side([&] {
        extracted = extract_tar(reader.get(), dir.get(), xo);
        reader.reset();  // a writer still writing gets EPIPE and stops
    });
    auto bytes = write_tree_tar({top.get(), plan->top_name}, writer.get(), what);
    writer.reset();
    host_side.join();
    if (!extracted) return extracted.error();
    if (!bytes) return bytes.error();
    return CopyResult{*bytes, dest};
}

Result<CopyResult> copy_to_container(const Store& store, const std::string& container, const std::string& src,
                                     const std::string& dest_path, int in_fd, const CopyOptions& options) {
    // The client looks at its own side first (Docker's order: a missing source is reported
    // before anything about the container).
    UniqueFd source;
    struct stat src_st = {};
    if (src != "-") {
        auto fd = open_host_source(src, options.follow_link, &src_st);
        if (!fd) return fd.error();
        source = std::move(*fd);
    }
    auto fs = ContainerFs::open(store, container, ContainerFs::Access::Write);
    if (!fs) return daemon_error(fs.error().message);
    const safe::Root& root = fs->root();

    // The client stats the destination; a symlink there is followed (to its target's path, in
    // the container), a missing one is fine as long as its parent exists.
    CopyInfo dst{dest_path, false, false, ""};
    {
        std::string p = dest_path;
        struct stat st;
        int err = lstat_in_root(root, p, &st);
        for (int n = 0; err == 0 && S_ISLNK(st.st_mode) && n <= 10; ++n) {
            auto parent = root.open_parent(safe::clean_in_root(p), false);
            if (!parent) break;
            char buf[4096];
            ssize_t len = ::readlinkat(parent->dir.get(), parent->name.c_str(), buf, sizeof buf);
            if (len < 0) break;
            std::string target(buf, static_cast<size_t>(len));
            p = !target.empty() && target[0] == '/' ? go_clean(target)
                                                     : go_clean(split_path_dir_entry("/" + p).first + "/" + target);
            dst.path = p;
            err = lstat_in_root(root, p, &st);
        }
        if (err == 0) {
            if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
                return cp_error("destination " + go_quote(container + ":" + dest_path) +
                                " must be a directory or a regular file: got a device");
            dst.exists = true;
            dst.is_dir = S_ISDIR(st.st_mode);
        }
    }

    std::string dest_dir;
    std::string top_name;
    if (src == "-") {
        if (!dst.is_dir) return cp_error("destination " + go_quote(container + ":" + dest_path) + " must be a directory");
        dest_dir = dst.path;
    } else {
        auto plan = plan_copy(CopyInfo{src, true, S_ISDIR(src_st.st_mode), ""}, dst);
        if (!plan) return plan.error();
        dest_dir = plan->dest_dir;
        top_name = plan->top_name;
    }

    // The daemon's half: the extraction point, every symlink on the way resolved in the root.
    // Docker's checkIfPathIsInAVolume: a read-only volume or bind refuses, and so does a
    // read-only root outside every volume (the kernel would say EROFS anyway; these are the
    // daemon's words, checked on the extraction point as named, the deepest mount first).
    const std::string shown_dir = go_clean("/" + dest_dir);
    const MountSpec* under = nullptr;
    for (const auto& m : fs->record().spec.mounts) {
        if (m.type == MountType::Tmpfs) continue;
        if (shown_dir == m.target || shown_dir.rfind(m.target + "/", 0) == 0)
            if (!under || m.target.size() > under->target.size()) under = &m;
    }
    if (under && under->readonly) return daemon_error("mounted volume is marked read-only");
    if (!under && fs->record().spec.read_only) return daemon_error("container rootfs is marked read-only");
    auto dir = root.open(shown_dir, O_RDONLY | O_DIRECTORY);
    if (!dir) {
        int err = errno_of(dir.error());
        if (err == ENOENT) return daemon_error("Could not find the file " + dest_dir + " in container " + container);
        if (err == ENOTDIR) return daemon_error("extraction point is not a directory");
        return daemon_error(dir.error().message);
    }
    ExtractOptions xo;
    xo.owner = options.archive ? Ownership::KeepArchived : Ownership::Root;
    xo.allow_devices = true;
    xo.shown_dir = shown_dir;
    CopyResult result{0, container + ":" + dst.path};
    if (src == "-") {
        // Docker's client counts nothing read from stdin: its summary says 0B.
        if (auto s = extract_tar(in_fd, dir->get(), xo); !s) return daemon_error(s.error().message);
    } else {
        UniqueFd reader, writer;
        ISOLAB_TRY(socket_pair(&reader, &writer));
        Result<int64_t> bytes = int64_t{0};
        std::thread host_side([&] {
            bytes = write_tree_tar({source.get(), top_name}, writer.get(), "`" + src + "`");
            writer.reset();
        });
        Status extracted = extract_tar(reader.get(), dir->get(), xo);
        reader.reset();
        host_side.join();
        if (!bytes) return bytes.error();
        if (!extracted) return daemon_error(extracted.error().message);
        result.bytes = *bytes;
    }
    store.append_event("extract-to-dir", {{"id", fs->record().id}, {"name", fs->record().name}});
    return result;
}

}  // namespace isolab
