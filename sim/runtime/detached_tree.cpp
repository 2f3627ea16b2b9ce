#include "sim/runtime/detached_tree.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sim/core/safe_path.hpp"

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

namespace isolab {

namespace {

// The child's half. Does not return. Writes one line to ERR_FD on failure; on success sends the
// descriptor of the detached tree over SOCK_FD (SCM_RIGHTS).
[[noreturn]] void tree_child(const DetachedTree& tree, const std::string& mnt, uid_t uid, gid_t gid, int sock_fd,
                             int err_fd) {
    auto die = [&](const std::string& msg) {
        ssize_t n = ::write(err_fd, msg.data(), msg.size());
        (void)n;
        ::_exit(1);
    };
    // Privilege phase: as root a private mount namespace is enough. Without root (the rootless
    // backend's state root belongs to the user), a user namespace mapping only the caller's own
    // ids to root: enough for an overlay with `userxattr` (Linux 5.11+) and binds of what the user
    // can already read; nothing outside it is reachable with those rights.
    if (uid != 0) {
        if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
            die(std::string("unshare user and mount namespaces: ") + std::strerror(errno));
        auto write_proc = [&](const char* file, const std::string& text) {
            std::string path = std::string("/proc/self/") + file;
            int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
            if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
                die("write `" + path + "`: " + std::strerror(errno));
            ::close(fd);
        };
        write_proc("setgroups", "deny");
        write_proc("uid_map", "0 " + std::to_string(uid) + " 1");
        write_proc("gid_map", "0 " + std::to_string(gid) + " 1");
    } else if (::unshare(CLONE_NEWNS) != 0) {
        die(std::string("unshare mount namespace: ") + std::strerror(errno));
    }
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        die(std::string("make / private: ") + std::strerror(errno));
    if (tree.bind_source.empty()) {
        if (::mount("overlay", mnt.c_str(), "overlay", tree.writable ? 0 : MS_RDONLY, tree.overlay_options.c_str()) != 0)
            die("mount " + tree.base_words + " on `" + mnt + "`: " + std::strerror(errno));
    } else if (::mount(tree.bind_source.c_str(), mnt.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
        die("bind `" + tree.bind_source + "` on `" + mnt + "`: " + std::strerror(errno));
    }
    UniqueFd top(::open(mnt.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!top.valid()) die("open `" + mnt + "`: " + std::strerror(errno));
    if (!tree.binds.empty()) {
        auto root = safe::Root::open(mnt);
        if (!root) die(root.error().message);
        // Each target is resolved inside the tree (an image's `/data -> /etc` lands on the tree's
        // own /etc, never the host's) and the bind goes onto the resolved descriptor.
        for (const auto& m : tree.binds) {
            struct stat st;
            if (::stat(m.source.c_str(), &st) != 0) continue;
            UniqueFd target;
            if (!tree.writable) {
                // A read-only tree makes nothing: a target that is not there has nothing on it.
                auto found = root->open(m.target, O_PATH | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
                if (!found) continue;
                target = std::move(*found);
            } else if (S_ISDIR(st.st_mode)) {
                auto made = root->make_dirs(m.target);
                if (!made) die("volume target `" + m.target + "`: " + made.error().message);
                target = std::move(*made);
            } else {
                auto parent = root->open_parent(m.target, true);
                if (!parent) die("bind target `" + m.target + "`: " + parent.error().message);
                UniqueFd f(::openat(parent->dir.get(), parent->name.c_str(), O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
                if (!f.valid()) die("bind target `" + m.target + "`: " + std::strerror(errno));
                target = std::move(f);
            }
            const std::string at = safe::fd_path(target.get());
            if (::mount(m.source.c_str(), at.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
                die("bind `" + m.source + "` on `" + m.target + "`: " + std::strerror(errno));
            if (m.readonly && tree.writable) {
                // The new mount is what the target's name leads to now.
                auto fresh = root->open(m.target, O_PATH);
                if (!fresh) die("reopen `" + m.target + "`: " + fresh.error().message);
                if (::mount(nullptr, safe::fd_path(fresh->get()).c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY,
                            nullptr) != 0)
                    die("make `" + m.target + "` read-only: " + std::strerror(errno));
            }
        }
    }
    // A detached copy of the whole tree: it keeps its sub-mounts when this namespace goes away
    // (a plain descriptor of the top would not), and lives exactly as long as the descriptor.
    long clone = ::syscall(SYS_open_tree, top.get(), "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
    if (clone < 0) die(std::string("open_tree (Linux 5.2+): ") + std::strerror(errno));
    int fd = static_cast<int>(clone);
    char data = 'r';
    struct iovec iov = {&data, 1};
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    struct cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    if (::sendmsg(sock_fd, &msg, MSG_NOSIGNAL) != 1) die(std::string("send the mounted tree: ") + std::strerror(errno));
    ::_exit(0);
}

}  // namespace

Result<UniqueFd> open_detached_tree(const std::string& what, const DetachedTree& tree, int exit_code) {
    char tmpl[] = "/tmp/isolab-tree-XXXXXX";
    if (!::mkdtemp(tmpl)) return errno_error(what + ": create a temporary mount point in /tmp", errno, exit_code);
    const std::string mnt = tmpl;
    struct RemoveMountPoint {
        std::string path;
        ~RemoveMountPoint() { ::rmdir(path.c_str()); }  // empty again once the child has gone
    } remove_mnt{mnt};
    int socks[2], err_pipe[2];
    if (::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, socks) != 0)
        return errno_error(what + ": socketpair", errno, exit_code);
    UniqueFd sock_parent(socks[0]), sock_child(socks[1]);
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) return errno_error(what + ": pipe", errno, exit_code);
    UniqueFd err_read(err_pipe[0]), err_write(err_pipe[1]);
    const uid_t uid = ::geteuid();
    const gid_t gid = ::getegid();
    pid_t pid = ::fork();
    if (pid < 0) return errno_error(what + ": fork", errno, exit_code);
    if (pid == 0) tree_child(tree, mnt, uid, gid, sock_child.get(), err_write.get());
    sock_child.reset();
    err_write.reset();
    std::string msg;
    char buf[512];
    ssize_t n;
    while ((n = ::read(err_read.get(), buf, sizeof buf)) > 0) msg.append(buf, static_cast<size_t>(n));
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return make_error(what + ": " + (msg.empty() ? std::string("the mount process failed") : msg), exit_code);
    char data = 0;
    struct iovec iov = {&data, 1};
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    struct msghdr m = {};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = control;
    m.msg_controllen = sizeof control;
    if (::recvmsg(sock_parent.get(), &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) != 1)
        return errno_error(what + ": receive the mounted tree", errno, exit_code);
    struct cmsghdr* cm = CMSG_FIRSTHDR(&m);
    if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)))
        return make_error(what + ": the mount process sent no descriptor", exit_code);
    int fd = -1;
    std::memcpy(&fd, CMSG_DATA(cm), sizeof(int));
    return UniqueFd(fd);
}

}  // namespace isolab
