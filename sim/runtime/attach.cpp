#include "sim/runtime/attach.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

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

Result<std::string> parse_detach_keys(const std::string& keys) {
    if (keys.empty()) return std::string(kDefaultDetachKeys);
    static const char* const kCtrl = "@abcdefghijklmnopqrstuvwxyz[\\]^_";  // ctrl-@ is 0, ctrl-_ 31
    std::string out;
    size_t start = 0;
    for (;;) {
        size_t comma = keys.find(',', start);
        std::string key = keys.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (key.size() == 1) {
            out += key[0];
        } else if (key.size() == 6 && key.rfind("ctrl-", 0) == 0 && std::strchr(kCtrl, key[5]) && key[5] != '\0') {
            out += static_cast<char>(std::strchr(kCtrl, key[5]) - kCtrl);
        } else if (key == "DEL") {
            out += '\x7f';
        } else {
            return make_error("Invalid detach keys (" + keys + ") provided", 125);
        }
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

std::string EscapeProxy::feed(const std::string& in, bool* detached) {
    std::string out;
    for (char ch : in) {
        if (keys_.empty()) {
            out += ch;
            continue;
        }
        if (ch == keys_[matched_]) {
            if (++matched_ == keys_.size()) {
                *detached = true;
                matched_ = 0;
                return out;
            }
            continue;
        }
        // The sequence broke off: what was held back goes on, then this byte (which may start a
        // new sequence).
        out += keys_.substr(0, matched_);
        matched_ = 0;
        if (ch == keys_[0]) matched_ = 1;
        else out += ch;
    }
    return out;
}

namespace {

// --sig-proxy: the handlers write the signal number into a pipe the attach loop polls.
volatile sig_atomic_t g_signal_pipe = -1;
void on_proxied_signal(int sig) {
    int saved = errno;
    unsigned char b = static_cast<unsigned char>(sig);
    if (g_signal_pipe >= 0) {
        ssize_t n = ::write(g_signal_pipe, &b, 1);
        (void)n;
    }
    errno = saved;
}

class SignalProxy {
public:
    SignalProxy() {
        int p[2];
        if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) return;
        read_.reset(p[0]);
        write_.reset(p[1]);
        g_signal_pipe = p[1];
        struct sigaction sa = {};
        sa.sa_handler = on_proxied_signal;
        sigemptyset(&sa.sa_mask);
        for (int sig = 1; sig < 32; ++sig) {
            if (sig == SIGKILL || sig == SIGSTOP || sig == SIGCHLD || sig == SIGPIPE || sig == SIGURG || sig == SIGWINCH)
                continue;
            struct sigaction old = {};
            if (::sigaction(sig, &sa, &old) == 0) saved_.emplace_back(sig, old);
        }
    }
    ~SignalProxy() {
        for (auto& [sig, old] : saved_) ::sigaction(sig, &old, nullptr);
        g_signal_pipe = -1;
    }
    int fd() const { return read_.get(); }
    // The signals received since the last call.
    std::vector<int> take() {
        std::vector<int> out;
        unsigned char buf[64];
        ssize_t n;
        while ((n = ::read(read_.get(), buf, sizeof buf)) > 0)
            for (ssize_t i = 0; i < n; ++i) out.push_back(buf[i]);
        return out;
    }

private:
    UniqueFd read_, write_;
    std::vector<std::pair<int, struct sigaction>> saved_;
};

}  // namespace

Result<AttachEnd> attach_session(const std::string& socket_path, const AttachOptions& options) {
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
    std::unique_ptr<SignalProxy> proxy;
    if (options.forward_signal && !options.tty) proxy = std::make_unique<SignalProxy>();
    const bool local_tty = options.tty && ::isatty(0);
    std::unique_ptr<RawTerminal> raw;
    if (local_tty) {
        raw = std::make_unique<RawTerminal>(0);
        struct sigaction sa = {};
        sa.sa_handler = on_winch;
        ::sigaction(SIGWINCH, &sa, nullptr);
        if (auto ws = window_size(0); !ws.empty()) (void)write_frame(sock.get(), FrameType::Resize, ws);
    }
    EscapeProxy escape(options.tty ? options.detach_keys : std::string());
    bool stdin_open = options.stdin_attached;
    for (;;) {
        if (g_winch) {
            g_winch = 0;
            if (auto ws = window_size(0); !ws.empty()) (void)write_frame(sock.get(), FrameType::Resize, ws);
        }
        struct pollfd fds[3] = {{sock.get(), POLLIN, 0},
                                {proxy ? proxy->fd() : -1, POLLIN, 0},
                                {stdin_open ? 0 : -1, POLLIN, 0}};
        int n = ::poll(fds, 3, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno_error("attach: poll", errno);
        }
        if (proxy && (fds[1].revents & POLLIN))
            for (int sig : proxy->take()) options.forward_signal(sig);
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            auto f = read_frame(sock.get());
            if (!f) return make_error("attach: the container's monitor went away", 125);
            switch (f->type) {
                case FrameType::Stdout:
                    if (options.stdout_attached) write_all(1, f->data.data(), f->data.size());
                    break;
                case FrameType::Stderr:
                    if (options.stderr_attached) write_all(2, f->data.data(), f->data.size());
                    break;
                case FrameType::Error: {
                    raw.reset();
                    std::string line = f->data + "\n";
                    write_all(2, line.data(), line.size());
                    break;
                }
                case FrameType::Exit: return AttachEnd{false, std::atoi(f->data.c_str())};
                case FrameType::Stdin:
                case FrameType::StdinEof:
                case FrameType::Resize: break;
            }
        }
        if (stdin_open && (fds[2].revents & (POLLIN | POLLHUP | POLLERR))) {
            char buf[4096];
            ssize_t r = ::read(0, buf, sizeof buf);
            if (r > 0) {
                bool detached = false;
                std::string pass = escape.feed(std::string(buf, static_cast<size_t>(r)), &detached);
                if (!pass.empty()) (void)write_frame(sock.get(), FrameType::Stdin, pass);
                if (detached) return AttachEnd{true, 0};
            } else if (r == 0 || (r < 0 && errno != EINTR)) {
                stdin_open = false;
                (void)write_frame(sock.get(), FrameType::StdinEof, "");
            }
        }
    }
}

}  // namespace isolab
