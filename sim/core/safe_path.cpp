#include "sim/core/safe_path.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <deque>
#include <vector>

namespace isolab::safe {

namespace {

std::atomic<bool> g_force_walk{false};
std::atomic<bool> g_no_openat2{false};  // set once openat2 was found missing or filtered

constexpr int kMaxSymlinks = 40;  // the kernel's MAXSYMLINKS

std::deque<std::string> split(const std::string& path) {
    auto parts = components(path);
    return std::deque<std::string>(parts.begin(), parts.end());
}

std::string relative(const std::string& path) {
    size_t b = path.find_first_not_of('/');
    return b == std::string::npos ? "." : path.substr(b);
}

Result<std::string> read_link_at(int dir, const std::string& name) {
    char buf[4096];
    ssize_t n = ::readlinkat(dir, name.c_str(), buf, sizeof buf);
    if (n < 0) return errno_error("readlink", errno);
    if (static_cast<size_t>(n) == sizeof buf) return errno_error("readlink", ENAMETOOLONG);
    return std::string(buf, static_cast<size_t>(n));
}

bool is_symlink_at(int dir, const std::string& name) {
    struct stat st;
    return ::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

// The walk: see the header. Returns -errno on failure.
int walk_open(int root, const std::string& path, int flags, mode_t mode) {
    std::deque<std::string> rest = split(path);
    std::vector<UniqueFd> stack;  // the directories below the root we stand in; empty = the root
    int links = 0;
    const bool nofollow = flags & O_NOFOLLOW;
    while (!rest.empty()) {
        std::string c = std::move(rest.front());
        rest.pop_front();
        if (c == ".") continue;
        if (c == "..") {
            if (!stack.empty()) stack.pop_back();
            continue;
        }
        int cur = stack.empty() ? root : stack.back().get();
        // The last real component: what remains is only "." and "..", which change nothing for a
        // file and are handled by the loop for a directory.
        bool last = true;
        for (const auto& r : rest)
            if (r != ".") last = false;
        if (!last) {
            int fd = ::openat(cur, c.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0) return -errno;
            UniqueFd held(fd);
            struct stat st;
            if (::fstat(fd, &st) != 0) return -errno;
            if (S_ISLNK(st.st_mode)) {
                if (++links > kMaxSymlinks) return -ELOOP;
                auto target = read_link_at(fd, "");
                if (!target) return -ENOENT;
                if (!target->empty() && (*target)[0] == '/') stack.clear();  // absolute: from the top
                auto parts = split(*target);
                rest.insert(rest.begin(), parts.begin(), parts.end());
                continue;
            }
            if (!S_ISDIR(st.st_mode)) return -ENOTDIR;
            stack.push_back(std::move(held));
            continue;
        }
        int fd = ::openat(cur, c.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd >= 0) {
            struct stat st;
            if (!nofollow && (flags & O_PATH) && ::fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
                ::close(fd);  // O_PATH opened the link itself: follow it below
            } else {
                return fd;
            }
        } else if ((errno != ELOOP && errno != ENOTDIR) || nofollow || !is_symlink_at(cur, c)) {
            return -errno;
        }
        if (++links > kMaxSymlinks) return -ELOOP;
        auto target = read_link_at(cur, c);
        if (!target) return -ENOENT;
        if (!target->empty() && (*target)[0] == '/') stack.clear();
        auto parts = split(*target);
        rest.insert(rest.begin(), parts.begin(), parts.end());
    }
    // The path names a directory by its end ("/", "a/.."): open where we stand.
    int cur = stack.empty() ? root : stack.back().get();
    int fd = ::openat(cur, ".", (flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW)) | O_CLOEXEC);
    return fd >= 0 ? fd : -errno;
}

int openat2_in_root(int root, const std::string& path, int flags, mode_t mode) {
    struct open_how how = {};
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
    how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    std::string rel = relative(path);
    for (int attempt = 0; attempt < 16; ++attempt) {
        long fd = ::syscall(SYS_openat2, root, rel.c_str(), &how, sizeof how);
        if (fd >= 0) return static_cast<int>(fd);
        if (errno != EAGAIN) return -errno;  // EAGAIN: a rename raced the lookup; try again
    }
    return -EAGAIN;
}

int open_in_root(int root, const std::string& path, int flags, mode_t mode) {
    if (!g_force_walk && !g_no_openat2) {
        int fd = openat2_in_root(root, path, flags, mode);
        if (fd != -ENOSYS && fd != -EPERM) return fd;
        g_no_openat2 = true;  // missing, or refused by a seccomp filter: walk from now on
    }
    return walk_open(root, path, flags, mode);
}

}  // namespace

void force_walk_for_tests(bool on) { g_force_walk = on; }

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

std::vector<std::string> components(const std::string& path) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i <= path.size()) {
        size_t j = path.find('/', i);
        if (j == std::string::npos) j = path.size();
        if (j > i) out.push_back(path.substr(i, j - i));
        i = j + 1;
    }
    return out;
}

std::string clean_in_root(const std::string& path) {
    std::vector<std::string> out;
    for (auto& c : split(path)) {
        if (c == ".") continue;
        if (c == "..") {
            if (!out.empty()) out.pop_back();
            continue;
        }
        out.push_back(c);
    }
    std::string s;
    for (const auto& c : out) s += "/" + c;
    return s.empty() ? "/" : s;
}

Result<Root> Root::open(const std::string& host_path) {
    int fd = ::open(host_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno_error("open root `" + host_path + "`", errno);
    Root r;
    r.fd_.reset(fd);
    // The real path of the root, so resolve() can strip it.
    char buf[4096];
    ssize_t n = ::readlink(fd_path(fd).c_str(), buf, sizeof buf - 1);
    if (n <= 0) return errno_error("open root `" + host_path + "`", errno);
    r.path_.assign(buf, static_cast<size_t>(n));
    return r;
}

Root Root::adopt(UniqueFd fd, std::string label) {
    Root r;
    r.fd_ = std::move(fd);
    r.path_ = std::move(label);
    r.adopted_ = true;
    return r;
}

Result<UniqueFd> Root::open(const std::string& path, int flags, mode_t mode) const {
    int fd = open_in_root(fd_.get(), path, flags, mode);
    if (fd < 0) return errno_error("open `" + path + "` inside `" + path_ + "`", -fd);
    return UniqueFd(fd);
}

Result<UniqueFd> Root::make_dirs(const std::string& path, mode_t mode) const {
    return make_dirs_following(path, mode, 0);
}

// mkdir -p, where a component that is a dangling symlink gets its target made (inside the tree),
// as `mkdir -p` through a link would: an image's `/etc -> /nowhere` becomes a real `/nowhere`.
Result<UniqueFd> Root::make_dirs_following(const std::string& path, mode_t mode, int depth) const {
    if (depth > kMaxSymlinks) return errno_error("create directory `" + path + "` inside `" + path_ + "`", ELOOP);
    int top = ::fcntl(fd_.get(), F_DUPFD_CLOEXEC, 3);
    if (top < 0) return errno_error("dup", errno);
    UniqueFd cur(top);
    std::string prefix;
    for (const auto& c : split(path)) {
        std::string parent = prefix.empty() ? "/" : prefix;
        prefix += "/" + c;
        int fd = open_in_root(fd_.get(), prefix, O_PATH | O_DIRECTORY, 0);
        if (fd == -ENOENT && c != "." && c != "..") {
            if (::mkdirat(cur.get(), c.c_str(), mode) == 0) {
                // The umask may have taken bits away; chmod through a descriptor of the directory
                // itself (never by name: the name could be a symlink by now).
                int d = ::openat(cur.get(), c.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (d >= 0) {
                    ::fchmod(d, mode);
                    ::close(d);
                }
            } else if (errno == EEXIST && is_symlink_at(cur.get(), c)) {
                // A dangling symlink: make its target, resolved like any path in the tree.
                auto target = read_link_at(cur.get(), c);
                if (!target) return target.error();
                std::string where = (*target)[0] == '/' ? *target : parent + "/" + *target;
                auto made = make_dirs_following(where, mode, depth + 1);
                if (!made) return made.error();
            } else if (errno != EEXIST) {
                return errno_error("create directory `" + prefix + "` inside `" + path_ + "`", errno);
            }
            fd = open_in_root(fd_.get(), prefix, O_PATH | O_DIRECTORY, 0);
        }
        if (fd < 0) return errno_error("create directory `" + prefix + "` inside `" + path_ + "`", -fd);
        cur.reset(fd);
    }
    return cur;
}

Result<std::string> Root::resolve(const std::string& path, bool may_be_missing) const {
    if (adopted_) return make_error("resolve `" + path + "` inside " + path_ + ": the tree has no host path");
    int fd = open_in_root(fd_.get(), path, O_PATH, 0);
    if (fd == -ENOENT && may_be_missing) {
        auto parent = open_parent(path, false);
        if (!parent) return parent.error();
        char buf[4096];
        ssize_t n = ::readlink(fd_path(parent->dir.get()).c_str(), buf, sizeof buf - 1);
        if (n <= 0) return errno_error("resolve `" + path + "`", errno);
        std::string dir(buf, static_cast<size_t>(n));
        std::string inside = dir.size() > path_.size() ? dir.substr(path_.size()) : "";
        return inside + "/" + parent->name;
    }
    if (fd < 0) return errno_error("resolve `" + path + "` inside `" + path_ + "`", -fd);
    UniqueFd held(fd);
    char buf[4096];
    ssize_t n = ::readlink(fd_path(fd).c_str(), buf, sizeof buf - 1);
    if (n <= 0) return errno_error("resolve `" + path + "`", errno);
    std::string host(buf, static_cast<size_t>(n));
    if (host == path_) return std::string("/");
    if (host.compare(0, path_.size() + 1, path_ + "/") != 0)
        return make_error("resolve `" + path + "`: it left `" + path_ + "`");  // cannot happen: the kernel kept it in
    return host.substr(path_.size());
}

Result<Root::Parent> Root::open_parent(const std::string& path, bool create_parents, mode_t mode) const {
    auto parts = split(path);
    while (!parts.empty() && parts.back() == ".") parts.pop_back();
    if (parts.empty() || parts.back() == "..")
        return make_error("`" + path + "` names a directory, not an entry in one", 1);
    std::string name = parts.back();
    parts.pop_back();
    std::string dir;
    for (const auto& p : parts) dir += "/" + p;
    if (dir.empty()) dir = "/";
    Parent out;
    out.name = name;
    if (create_parents) {
        auto d = make_dirs(dir, mode);
        if (!d) return d.error();
        out.dir = std::move(*d);
    } else {
        auto d = open(dir, O_PATH | O_DIRECTORY);
        if (!d) return d.error();
        out.dir = std::move(*d);
    }
    return out;
}

}  // namespace isolab::safe
