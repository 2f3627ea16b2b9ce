#include "sim/runtime/console.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace isolab {

namespace {

// One byte of payload plus room for one descriptor (SCM_RIGHTS), for both directions.
struct FdMessage {
    char byte = 'p';
    struct iovec iov;
    char cbuf[CMSG_SPACE(sizeof(int))] = {};
    struct msghdr msg = {};
    FdMessage() {
        iov = {&byte, 1};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf;
        msg.msg_controllen = sizeof cbuf;
    }
};

}  // namespace

Result<int> console_create_and_send(int socket_fd) {
    int master = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) return errno_error("open /dev/ptmx", errno);
    int unlock = 0;
    if (::ioctl(master, TIOCSPTLCK, &unlock) != 0) {
        int err = errno;
        ::close(master);
        return errno_error("unlock pty", err);
    }
    // TIOCGPTPEER opens the slave through the master: no path lookup that could be raced.
    int slave = ::ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    if (slave < 0) {
        int err = errno;
        ::close(master);
        return errno_error("open pty slave", err);
    }
    FdMessage m;
    struct cmsghdr* c = CMSG_FIRSTHDR(&m.msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &master, sizeof(int));
    ssize_t n = ::sendmsg(socket_fd, &m.msg, MSG_NOSIGNAL);
    int err = errno;
    ::close(master);
    if (n != 1) {
        ::close(slave);
        return errno_error("send pty master", err);
    }
    return slave;
}

Result<int> console_receive(int socket_fd) {
    FdMessage m;
    ssize_t n;
    do n = ::recvmsg(socket_fd, &m.msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n <= 0) return make_error("the container closed its console socket before sending a terminal");
    struct cmsghdr* c = CMSG_FIRSTHDR(&m.msg);
    if (!c || c->cmsg_type != SCM_RIGHTS) return make_error("console socket: no terminal received");
    int fd;
    std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
    return fd;
}

}  // namespace isolab
