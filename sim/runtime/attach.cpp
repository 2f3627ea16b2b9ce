#include "sim/runtime/attach.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <memory>

#include "sim/core/files.hpp"
#include "sim/runtime/monitor.hpp"

namespace isolab {

namespace {

bool write_all(int fd, const char* p, size_t n) {
    while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        p += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

bool read_all(int fd, char* p, size_t n) {
    while (n > 0) {
        ssize_t r = ::read(fd, p, n);
        if (r < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        if (r == 0) return false;
        p += r;
        n -= static_cast<size_t>(r);
    }
    return true;
}

volatile sig_atomic_t g_winch = 0;
void on_winch(int) { g_winch = 1; }

class RawTerminal {
public:
    explicit RawTerminal(int fd) : fd_(fd) {
        if (::tcgetattr(fd_, &saved_) == 0) {
            struct termios raw = saved_;
            ::cfmakeraw(&raw);
            active_ = ::tcsetattr(fd_, TCSANOW, &raw) == 0;
        }
    }
    ~RawTerminal() {
        if (active_) ::tcsetattr(fd_, TCSANOW, &saved_);
    }

private:
    int fd_;
    struct termios saved_ = {};
    bool active_ = false;
};

std::string window_size(int fd) {
    struct winsize ws = {};
    if (::ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0) return "";
    return std::to_string(ws.ws_row) + " " + std::to_string(ws.ws_col);
}

}  // namespace

Status write_frame(int fd, FrameType type, const std::string& data) {
    char hdr[5];
    hdr[0] = static_cast<char>(type);
    uint32_t n = static_cast<uint32_t>(data.size());
    hdr[1] = static_cast<char>(n >> 24);
    hdr[2] = static_cast<char>(n >> 16);
    hdr[3] = static_cast<char>(n >> 8);
    hdr[4] = static_cast<char>(n);
    if (!write_all(fd, hdr, 5) || !write_all(fd, data.data(), data.size()))
        return errno_error("attach: write", errno ? errno : EPIPE);
    return {};
}

Result<Frame> read_frame(int fd) {
    unsigned char hdr[5];
    if (!read_all(fd, reinterpret_cast<char*>(hdr), 5)) return make_error("attach: closed");
    uint32_t n = (uint32_t(hdr[1]) << 24) | (uint32_t(hdr[2]) << 16) | (uint32_t(hdr[3]) << 8) | hdr[4];
    if (n > (16u << 20)) return make_error("attach: frame too large");
    Frame f{static_cast<FrameType>(hdr[0]), std::string(n, '\0')};
    if (n && !read_all(fd, f.data.data(), n)) return make_error("attach: closed");
    return f;
}

Result<int> attach_session(const std::string& socket_path, bool interactive, bool tty) {
    UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock.valid()) return errno_error("attach: socket", errno);
    struct sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    int dir_fd = -1;
    std::string short_path = short_socket_path(socket_path, &dir_fd);
    UniqueFd dir_holder(dir_fd);
    if (short_path.size() >= sizeof addr.sun_path)
        return make_error("attach: socket path `" + socket_path + "` is too long (set a shorter ISOLAB_ROOT)");
    std::strcpy(addr.sun_path, short_path.c_str());
    if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        return errno_error("attach: connect `" + socket_path + "`", errno);

    ::signal(SIGPIPE, SIG_IGN);
    const bool local_tty = tty && ::isatty(0);
    std::unique_ptr<RawTerminal> raw;
    if (local_tty) {
        raw = std::make_unique<RawTerminal>(0);
        struct sigaction sa = {};
        sa.sa_handler = on_winch;
        ::sigaction(SIGWINCH, &sa, nullptr);
        if (auto ws = window_size(0); !ws.empty()) (void)write_frame(sock.get(), FrameType::Resize, ws);
    }
    bool stdin_open = interactive;
    for (;;) {
        if (g_winch) {
            g_winch = 0;
            if (auto ws = window_size(0); !ws.empty()) (void)write_frame(sock.get(), FrameType::Resize, ws);
        }
        struct pollfd fds[2] = {{sock.get(), POLLIN, 0}, {0, POLLIN, 0}};
        int n = ::poll(fds, stdin_open ? 2 : 1, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno_error("attach: poll", errno);
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            auto f = read_frame(sock.get());
            if (!f) return make_error("attach: the container's monitor went away", 125);
            switch (f->type) {
                case FrameType::Stdout: write_all(1, f->data.data(), f->data.size()); break;
                case FrameType::Stderr: write_all(2, f->data.data(), f->data.size()); break;
                case FrameType::Error: {
                    raw.reset();
                    std::string line = f->data + "\n";
                    write_all(2, line.data(), line.size());
                    break;
                }
                case FrameType::Exit: return std::atoi(f->data.c_str());
                case FrameType::Stdin:
                case FrameType::StdinEof:
                case FrameType::Resize: break;
            }
        }
        if (stdin_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            char buf[4096];
            ssize_t r = ::read(0, buf, sizeof buf);
            if (r > 0) {
                (void)write_frame(sock.get(), FrameType::Stdin, std::string(buf, static_cast<size_t>(r)));
            } else if (r == 0 || (r < 0 && errno != EINTR)) {
                stdin_open = false;
                (void)write_frame(sock.get(), FrameType::StdinEof, "");
            }
        }
    }
}

}  // namespace isolab
