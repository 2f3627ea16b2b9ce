#include "sim/net/port_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <thread>
#include <vector>

#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"

namespace isolab::net {

namespace {

constexpr size_t kBufferSize = 64 * 1024;
constexpr int kUdpTimeoutMs = 90 * 1000;  // docker-proxy's UDPConnTrackTimeout
constexpr int kPumpRounds = 16;           // per event: fairness between connections

Result<sockaddr_in> make_addr(const std::string& ip, int port, const char* what) {
    if (port < 0 || port > 65535)
        return make_error(std::string("invalid ") + what + " port " + std::to_string(port) +
                          ": it must be between 0 and 65535");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    std::string s = ip.empty() ? "0.0.0.0" : ip;
    if (::inet_pton(AF_INET, s.c_str(), &a.sin_addr) != 1)
        return make_error(std::string("invalid ") + what + " IP `" + ip +
                          "`: IsoLab publishes ports on IPv4 addresses only (such as 127.0.0.1)");
    return a;
}

Status check_proto(const std::string& proto) {
    if (proto != "tcp" && proto != "udp")
        return make_error("invalid protocol `" + proto + "`: use tcp or udp");
    return {};
}

std::string bind_label(const std::string& host_ip, int port) {
    return (host_ip.empty() ? std::string("0.0.0.0") : host_ip) + ":" + std::to_string(port);
}

// Docker's wording for a port someone else holds; other errno values keep their own text.
Error bind_error(const std::string& host_ip, int port, int err) {
    std::string head = "Bind for " + bind_label(host_ip, port) + " failed: ";
    if (err == EADDRINUSE) return make_error(head + "port is already allocated");
    if (err == EACCES)
        return make_error(head + std::strerror(err) +
                          " (ports below 1024 need root or CAP_NET_BIND_SERVICE)");
    if (err == EADDRNOTAVAIL)
        return make_error(head + std::strerror(err) + " (no interface of this host has that address)");
    return errno_error(head.substr(0, head.size() - 2), err);
}

// A bound socket for PROTO. TCP gets SO_REUSEADDR so TIME_WAIT leftovers of an old proxy do not
// block a new one (Linux still refuses a second listener). UDP does not: there SO_REUSEADDR would
// let two proxies share one port.
Result<UniqueFd> bind_socket(const std::string& proto, const std::string& host_ip, int port) {
    ISOLAB_TRY(check_proto(proto));
    auto addr = make_addr(host_ip, port, "host");
    if (!addr) return addr.error();
    int type = (proto == "tcp" ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC;
    UniqueFd fd(::socket(AF_INET, type, 0));
    if (!fd.valid()) return errno_error("create " + proto + " socket", errno);
    if (proto == "tcp") {
        int one = 1;
        ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    }
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&*addr), sizeof *addr) != 0)
        return bind_error(host_ip, port, errno);
    return fd;
}

// One direction of a TCP connection: bytes read from SRC wait in BUF until DST takes them.
struct Pipe {
    std::vector<char> buf = std::vector<char>(kBufferSize);
    size_t off = 0, len = 0;
    bool eof = false;   // SRC sent FIN
    bool shut = false;  // FIN passed on to DST (shutdown(SHUT_WR))
};

struct Conn {
    UniqueFd client, target;
    bool connecting = true;
    Pipe up, down;  // up: client → target; down: target → client
    uint32_t client_events = 0, target_events = 0;
    bool client_registered = false, target_registered = false;
};

struct UdpFlow {
    UniqueFd sock;  // connected to the target
    sockaddr_in client{};
    double last_active = 0;
};

}  // namespace

struct PortProxy::Impl {
    ProxySpec spec;
    int port = 0;
    sockaddr_in target{};
    UniqueFd listener, epoll, wake;
    std::thread thread;

    std::map<int, std::shared_ptr<Conn>> conns;  // both fds of each connection
    std::map<uint64_t, UdpFlow> flows;           // client ip:port → flow
    std::map<int, uint64_t> flow_by_fd;
    bool listener_registered = false;
    double accept_paused_until = 0;

    void run();
    void accept_all();
    void pump(const std::shared_ptr<Conn>& c);
    void close_conn(const std::shared_ptr<Conn>& c);
    void set_interest(int fd, uint32_t want, uint32_t& have, bool& registered);
    void udp_from_clients();
    void udp_from_target(int fd);
    void udp_expire();
};

// Keeps each fd in the epoll set only while we want something from it. A fd registered with no
// events would still report EPOLLHUP/EPOLLERR at every wait, and the loop would spin while, say,
// the other side's buffer drains.
void PortProxy::Impl::set_interest(int fd, uint32_t want, uint32_t& have, bool& registered) {
    if (want == 0) {
        if (registered) ::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, fd, nullptr);
        registered = false;
        have = 0;
        return;
    }
    if (registered && want == have) return;
    epoll_event ev{};
    ev.events = want;
    ev.data.fd = fd;
    ::epoll_ctl(epoll.get(), registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
    registered = true;
    have = want;
}

void PortProxy::Impl::close_conn(const std::shared_ptr<Conn>& c) {
    set_interest(c->client.get(), 0, c->client_events, c->client_registered);
    set_interest(c->target.get(), 0, c->target_events, c->target_registered);
    conns.erase(c->client.get());
    conns.erase(c->target.get());
    c->client.reset();
    c->target.reset();
}

void PortProxy::Impl::accept_all() {
    for (;;) {
        UniqueFd client(::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!client.valid()) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                // Out of descriptors: the pending connection stays queued and the level-triggered
                // listener would wake us at once; take it out of the set for a moment instead.
                ::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, listener.get(), nullptr);
                listener_registered = false;
                accept_paused_until = monotonic_ms() + 100;
            }
            return;  // EAGAIN: queue empty
        }
        UniqueFd tfd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        if (!tfd.valid()) continue;  // drops this client: closing it tells it we failed
        int one = 1;
        ::setsockopt(client.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ::setsockopt(tfd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int rc = ::connect(tfd.get(), reinterpret_cast<sockaddr*>(&target), sizeof target);
        if (rc != 0 && errno != EINPROGRESS) continue;  // target unreachable: drop the client
        auto c = std::make_shared<Conn>();
        c->client = std::move(client);
        c->target = std::move(tfd);
        c->connecting = (rc != 0);
        conns[c->client.get()] = c;
        conns[c->target.get()] = c;
        pump(c);
    }
}

namespace {

enum class Step { Idle, Progress, Closed };

// Moves what it can from SRC to DST without blocking.
Step flow(Pipe& p, int src, int dst, bool& failed) {
    Step step = Step::Idle;
    if (p.len > 0) {
        ssize_t n = ::send(dst, p.buf.data() + p.off, p.len - p.off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR) failed = true;
            return step;
        }
        p.off += static_cast<size_t>(n);
        if (p.off == p.len) p.off = p.len = 0;
        step = Step::Progress;
    }
    if (p.len == 0 && !p.eof) {
        ssize_t n = ::recv(src, p.buf.data(), p.buf.size(), 0);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR) failed = true;
            return step;
        }
        if (n == 0) {
            p.eof = true;
        } else {
            p.len = static_cast<size_t>(n);
            p.off = 0;
        }
        step = Step::Progress;
    }
    if (p.eof && p.len == 0 && !p.shut) {
        // Half-close: the source is done sending; tell the destination, but keep reading from it.
        ::shutdown(dst, SHUT_WR);
        p.shut = true;
        step = Step::Progress;
    }
    return step;
}

}  // namespace

void PortProxy::Impl::pump(const std::shared_ptr<Conn>& c) {
    if (c->connecting) {
        pollfd p{c->target.get(), POLLOUT, 0};
        if (::poll(&p, 1, 0) <= 0 || !(p.revents & (POLLOUT | POLLERR | POLLHUP))) {
            set_interest(c->client.get(), 0, c->client_events, c->client_registered);
            set_interest(c->target.get(), EPOLLOUT, c->target_events, c->target_registered);
            return;
        }
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(c->target.get(), SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            close_conn(c);  // container not listening: the client sees its connection closed
            return;
        }
        c->connecting = false;
    }
    bool failed = false;
    for (int round = 0; round < kPumpRounds && !failed; ++round) {
        Step a = flow(c->up, c->client.get(), c->target.get(), failed);
        Step b = flow(c->down, c->target.get(), c->client.get(), failed);
        if (a == Step::Idle && b == Step::Idle) break;
    }
    if (failed || (c->up.shut && c->down.shut)) {
        close_conn(c);
        return;
    }
    constexpr uint32_t kIn = EPOLLIN, kOut = EPOLLOUT, kNone = 0;
    uint32_t cw = (c->up.len == 0 && !c->up.eof ? kIn : kNone) | (c->down.len ? kOut : kNone);
    uint32_t tw = (c->down.len == 0 && !c->down.eof ? kIn : kNone) | (c->up.len ? kOut : kNone);
    set_interest(c->client.get(), cw, c->client_events, c->client_registered);
    set_interest(c->target.get(), tw, c->target_events, c->target_registered);
}

void PortProxy::Impl::udp_from_clients() {
    std::vector<char> buf(65536);
    for (int i = 0; i < 64; ++i) {
        sockaddr_in from{};
        socklen_t flen = sizeof from;
        ssize_t n = ::recvfrom(listener.get(), buf.data(), buf.size(), 0,
                               reinterpret_cast<sockaddr*>(&from), &flen);
        if (n < 0) {
            if (errno == EINTR) continue;
            return;
        }
        uint64_t key = (static_cast<uint64_t>(from.sin_addr.s_addr) << 16) | from.sin_port;
        auto it = flows.find(key);
        if (it == flows.end()) {
            UdpFlow f;
            f.sock.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
            if (!f.sock.valid() ||
                ::connect(f.sock.get(), reinterpret_cast<sockaddr*>(&target), sizeof target) != 0)
                continue;
            f.client = from;
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.fd = f.sock.get();
            ::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, f.sock.get(), &ev);
            flow_by_fd[f.sock.get()] = key;
            it = flows.emplace(key, std::move(f)).first;
        }
        it->second.last_active = monotonic_ms();
        ::send(it->second.sock.get(), buf.data(), static_cast<size_t>(n), MSG_NOSIGNAL);
    }
}

void PortProxy::Impl::udp_from_target(int fd) {
    auto k = flow_by_fd.find(fd);
    if (k == flow_by_fd.end()) return;
    UdpFlow& f = flows[k->second];
    std::vector<char> buf(65536);
    for (int i = 0; i < 64; ++i) {
        ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
        if (n < 0) {
            if (errno == EINTR || errno == ECONNREFUSED) continue;  // ICMP unreachable: not fatal
            return;
        }
        f.last_active = monotonic_ms();
        ::sendto(listener.get(), buf.data(), static_cast<size_t>(n), MSG_NOSIGNAL,
                 reinterpret_cast<sockaddr*>(&f.client), sizeof f.client);
    }
}

void PortProxy::Impl::udp_expire() {
    double now = monotonic_ms();
    for (auto it = flows.begin(); it != flows.end();) {
        if (now - it->second.last_active > kUdpTimeoutMs) {
            flow_by_fd.erase(it->second.sock.get());
            it = flows.erase(it);  // closing the fd also drops it from the epoll set
        } else {
            ++it;
        }
    }
}

void PortProxy::Impl::run() {
    const bool tcp = spec.proto == "tcp";
    std::vector<epoll_event> events(64);
    for (;;) {
        int timeout = -1;
        if (!tcp && !flows.empty()) timeout = 1000;
        if (!listener_registered) timeout = 100;
        int n = ::epoll_wait(epoll.get(), events.data(), static_cast<int>(events.size()), timeout);
        if (n < 0 && errno != EINTR) return;
        if (!listener_registered && monotonic_ms() >= accept_paused_until) {
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.fd = listener.get();
            listener_registered = ::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, listener.get(), &ev) == 0;
        }
        for (int i = 0; i < n; ++i) {
            int fd = events[i].data.fd;
            if (fd == wake.get()) return;  // the destructor asked us to stop
            if (fd == listener.get()) {
                if (tcp) accept_all();
                else udp_from_clients();
                continue;
            }
            if (tcp) {
                auto it = conns.find(fd);
                if (it != conns.end()) pump(std::shared_ptr<Conn>(it->second));
            } else {
                udp_from_target(fd);
            }
        }
        if (!tcp) udp_expire();
    }
}

Result<std::unique_ptr<PortProxy>> PortProxy::start(const ProxySpec& spec) {
    auto impl = std::make_unique<Impl>();
    impl->spec = spec;
    auto target = make_addr(spec.target_ip, spec.target_port, "target");
    if (!target) return target.error();
    if (spec.target_port == 0 || spec.target_ip.empty())
        return make_error("port proxy: the target needs an IP address and a port between 1 and 65535");
    impl->target = *target;

    auto fd = bind_socket(spec.proto, spec.host_ip, spec.host_port);
    if (!fd) return fd.error();
    impl->listener = std::move(*fd);
    if (spec.proto == "tcp" && ::listen(impl->listener.get(), SOMAXCONN) != 0)
        return bind_error(spec.host_ip, spec.host_port, errno);
    sockaddr_in bound{};
    socklen_t blen = sizeof bound;
    if (::getsockname(impl->listener.get(), reinterpret_cast<sockaddr*>(&bound), &blen) != 0)
        return errno_error("port proxy: getsockname", errno);
    impl->port = ntohs(bound.sin_port);

    impl->epoll.reset(::epoll_create1(EPOLL_CLOEXEC));
    if (!impl->epoll.valid()) return errno_error("port proxy: epoll_create1", errno);
    impl->wake.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!impl->wake.valid()) return errno_error("port proxy: eventfd", errno);
    for (int f : {impl->listener.get(), impl->wake.get()}) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = f;
        if (::epoll_ctl(impl->epoll.get(), EPOLL_CTL_ADD, f, &ev) != 0)
            return errno_error("port proxy: epoll_ctl", errno);
    }
    impl->listener_registered = true;
    Impl* raw = impl.get();
    impl->thread = std::thread([raw] { raw->run(); });
    return std::unique_ptr<PortProxy>(new PortProxy(std::move(impl)));
}

PortProxy::PortProxy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PortProxy::~PortProxy() {
    if (!impl_) return;
    uint64_t one = 1;
    (void)!::write(impl_->wake.get(), &one, sizeof one);
    if (impl_->thread.joinable()) impl_->thread.join();
    // The loop has stopped: nothing else touches these. The listener goes first so the port is
    // free again as soon as the destructor returns.
    impl_->listener.reset();
    impl_->conns.clear();
    impl_->flow_by_fd.clear();
    impl_->flows.clear();
}

int PortProxy::bound_port() const { return impl_->port; }
const ProxySpec& PortProxy::spec() const { return impl_->spec; }

Status check_port_free(const std::string& proto, const std::string& host_ip, int port) {
    auto fd = bind_socket(proto, host_ip, port);
    if (!fd) return fd.error();
    return {};
}

Result<int> pick_free_port(const std::string& proto, const std::string& host_ip) {
    constexpr int kFirst = 32768, kLast = 60999, kCount = kLast - kFirst + 1;
    // A random starting point: concurrent CLI processes rarely test the same port first.
    int start = static_cast<int>(std::strtoul(random_hex(4).c_str(), nullptr, 16) % kCount);
    for (int i = 0; i < kCount; ++i) {
        int port = kFirst + (start + i) % kCount;
        auto st = check_port_free(proto, host_ip, port);
        if (st) return port;
        if (st.error().message.find("port is already allocated") == std::string::npos)
            return st.error();  // bad address or protocol: no port will do
    }
    return make_error("no free " + proto + " port on " + (host_ip.empty() ? "0.0.0.0" : host_ip) +
                      " in 32768-60999 for -P: stop some containers that publish ports");
}

}  // namespace isolab::net
