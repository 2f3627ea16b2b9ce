// The userland port proxy, with real sockets on 127.0.0.1 only: a local echo server thread is the
// "container", clients connect through the proxy.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "sim/core/files.hpp"
#include "sim/net/port_proxy.hpp"

using namespace isolab;
using namespace isolab::net;

namespace {

const char kTrailer[] = "\n<EOF seen>\n";

sockaddr_in loopback(int port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

int local_port(int fd) {
    sockaddr_in a{};
    socklen_t l = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &l);
    return ntohs(a.sin_port);
}

// Echoes every byte back as it arrives; when the client half-closes, sends kTrailer and closes.
// The trailer proves the FIN reached the server and that data still flows back after it.
struct EchoServer {
    UniqueFd listener;
    int port = 0;
    std::thread acceptor;
    std::vector<std::thread> workers;

    EchoServer() {
        listener.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        REQUIRE(listener.valid());
        sockaddr_in a = loopback(0);
        REQUIRE(::bind(listener.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(listener.get(), 128) == 0);
        port = local_port(listener.get());
        acceptor = std::thread([this] {
            for (;;) {
                int c = ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
                if (c < 0) return;  // listener shut down
                workers.emplace_back([c] {
                    UniqueFd fd(c);
                    char buf[16384];
                    for (;;) {
                        ssize_t n = ::recv(c, buf, sizeof buf, 0);
                        if (n <= 0) break;
                        if (::send(c, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) return;
                    }
                    ::send(c, kTrailer, sizeof kTrailer - 1, MSG_NOSIGNAL);
                });
            }
        });
    }
    ~EchoServer() {
        ::shutdown(listener.get(), SHUT_RDWR);
        acceptor.join();
        for (auto& w : workers) w.join();
    }
};

UniqueFd connect_to(int port) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a = loopback(port);
    // CHECK, not REQUIRE: this also runs on client threads, where a throw would terminate.
    CHECK(::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    timeval tv{10, 0};  // a stuck proxy fails the test instead of hanging it
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

bool send_all(int fd, const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
        ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
        if (n <= 0) return false;
        off += static_cast<size_t>(n);
    }
    return true;
}

// Reads until EOF (or the 10 s receive timeout, which returns what came so far).
std::string read_to_eof(int fd) {
    std::string out;
    char buf[16384];
    for (;;) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return out;
        out.append(buf, static_cast<size_t>(n));
    }
}

std::string read_exact(int fd, size_t count) {
    std::string out;
    char buf[4096];
    while (out.size() < count) {
        ssize_t n = ::recv(fd, buf, std::min(sizeof buf, count - out.size()), 0);
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

std::unique_ptr<PortProxy> proxy_to(int target_port, int host_port = 0) {
    auto p = PortProxy::start({"tcp", "127.0.0.1", host_port, "127.0.0.1", target_port});
    REQUIRE_MESSAGE(p.ok(), (p.ok() ? "" : p.error().message));
    return std::move(*p);
}

}  // namespace

TEST_CASE("port proxy: forwards both ways and passes a half-close on") {
    EchoServer echo;
    auto proxy = proxy_to(echo.port);
    REQUIRE(proxy->bound_port() > 0);
    CHECK(proxy->bound_port() != echo.port);

    UniqueFd c = connect_to(proxy->bound_port());
    // Interactive: the echo comes back while the connection stays open.
    REQUIRE(send_all(c.get(), "ping"));
    CHECK(read_exact(c.get(), 4) == "ping");
    // Half-close: after our FIN the server still answers, and only then closes.
    REQUIRE(send_all(c.get(), "hello"));
    REQUIRE(::shutdown(c.get(), SHUT_WR) == 0);
    CHECK(read_to_eof(c.get()) == std::string("hello") + kTrailer);
}

TEST_CASE("port proxy: 20 concurrent connections with more data than the proxy buffers") {
    EchoServer echo;
    auto proxy = proxy_to(echo.port);
    constexpr int kClients = 20;
    std::vector<std::string> got(kClients), sent(kClients);
    std::vector<std::thread> clients;
    for (int i = 0; i < kClients; ++i) {
        sent[i].resize(200 * 1024 + i * 37);
        for (size_t k = 0; k < sent[i].size(); ++k) sent[i][k] = static_cast<char>('a' + (k * 7 + i) % 26);
        clients.emplace_back([&, i] {
            UniqueFd c = connect_to(proxy->bound_port());
            std::thread writer([&] {
                send_all(c.get(), sent[i]);
                ::shutdown(c.get(), SHUT_WR);
            });
            got[i] = read_to_eof(c.get());
            writer.join();
        });
    }
    for (auto& t : clients) t.join();
    for (int i = 0; i < kClients; ++i) {
        CAPTURE(i);
        CHECK(got[i].size() == sent[i].size() + sizeof kTrailer - 1);
        CHECK(got[i] == sent[i] + kTrailer);
    }
}

TEST_CASE("port proxy: busy port is an error at start, with Docker's wording") {
    EchoServer echo;
    auto first = proxy_to(echo.port);
    int port = first->bound_port();
    auto second = PortProxy::start({"tcp", "127.0.0.1", port, "127.0.0.1", echo.port});
    REQUIRE_FALSE(second.ok());
    CHECK(second.error().message ==
          "Bind for 127.0.0.1:" + std::to_string(port) + " failed: port is already allocated");
    auto st = check_port_free("tcp", "127.0.0.1", port);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message ==
          "Bind for 127.0.0.1:" + std::to_string(port) + " failed: port is already allocated");
    // Input errors name the bad value.
    auto bad_ip = PortProxy::start({"tcp", "localhost", 0, "127.0.0.1", echo.port});
    REQUIRE_FALSE(bad_ip.ok());
    CHECK(bad_ip.error().message.find("`localhost`") != std::string::npos);
    auto bad_proto = check_port_free("sctp", "127.0.0.1", 0);
    REQUIRE_FALSE(bad_proto.ok());
    CHECK(bad_proto.error().message.find("`sctp`") != std::string::npos);
    CHECK_FALSE(PortProxy::start({"tcp", "127.0.0.1", 0, "127.0.0.1", 0}).ok());
}

TEST_CASE("port proxy: the destructor closes the listener and open connections") {
    EchoServer echo;
    auto proxy = proxy_to(echo.port);
    int port = proxy->bound_port();
    UniqueFd idle = connect_to(port);
    REQUIRE(send_all(idle.get(), "x"));
    REQUIRE(read_exact(idle.get(), 1) == "x");
    proxy.reset();
    // The client's connection was closed by the proxy: EOF, not a timeout.
    char b;
    CHECK(::recv(idle.get(), &b, 1, 0) == 0);
    // The port can be published again at once.
    CHECK(check_port_free("tcp", "127.0.0.1", port).ok());
    auto again = PortProxy::start({"tcp", "127.0.0.1", port, "127.0.0.1", echo.port});
    REQUIRE_MESSAGE(again.ok(), (again.ok() ? "" : again.error().message));
    CHECK((*again)->bound_port() == port);
    again->reset();

    // A proxy that never had a connection leaves nothing behind, even for a plain bind.
    auto fresh = proxy_to(echo.port);
    int fresh_port = fresh->bound_port();
    fresh.reset();
    UniqueFd plain(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a = loopback(fresh_port);
    CHECK(::bind(plain.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
}

TEST_CASE("port proxy: a target that refuses closes the client's connection") {
    // Find a port nobody listens on: bind, read the number, close.
    int dead_port = 0;
    {
        UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in a = loopback(0);
        REQUIRE(::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        dead_port = local_port(s.get());
    }
    auto proxy = proxy_to(dead_port);
    UniqueFd c = connect_to(proxy->bound_port());
    char b;
    errno = 0;
    ssize_t n = ::recv(c.get(), &b, 1, 0);
    CHECK(n <= 0);
    CHECK((n == 0 || errno != EAGAIN));  // closed or reset, not our 10 s timeout
}

TEST_CASE("port proxy: UDP datagrams are relayed both ways") {
    UniqueFd server(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in a = loopback(0);
    REQUIRE(::bind(server.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    int server_port = local_port(server.get());
    std::thread echo([&] {
        char buf[2048];
        for (int i = 0; i < 3; ++i) {
            sockaddr_in from{};
            socklen_t fl = sizeof from;
            ssize_t n = ::recvfrom(server.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fl);
            if (n <= 0) return;
            std::string reply = "re:" + std::string(buf, static_cast<size_t>(n));
            ::sendto(server.get(), reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), fl);
        }
    });
    auto p = PortProxy::start({"udp", "127.0.0.1", 0, "127.0.0.1", server_port});
    REQUIRE_MESSAGE(p.ok(), (p.ok() ? "" : p.error().message));
    int port = (*p)->bound_port();
    CHECK_FALSE(check_port_free("udp", "127.0.0.1", port).ok());

    UniqueFd client(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    timeval tv{5, 0};
    ::setsockopt(client.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in to = loopback(port);
    for (const std::string msg : {"one", "two", "three"}) {
        REQUIRE(::sendto(client.get(), msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) ==
                static_cast<ssize_t>(msg.size()));
        char buf[64];
        ssize_t n = ::recv(client.get(), buf, sizeof buf, 0);
        CHECK(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0) == "re:" + msg);
    }
    echo.join();
    p->reset();
    CHECK(check_port_free("udp", "127.0.0.1", port).ok());
}

TEST_CASE("port proxy: pick_free_port gives a bindable port in Docker's ephemeral range") {
    auto port = pick_free_port("tcp", "127.0.0.1");
    REQUIRE_MESSAGE(port.ok(), (port.ok() ? "" : port.error().message));
    CHECK(*port >= 32768);
    CHECK(*port <= 60999);
    auto proxy = PortProxy::start({"tcp", "127.0.0.1", *port, "127.0.0.1", 9});
    REQUIRE_MESSAGE(proxy.ok(), (proxy.ok() ? "" : proxy.error().message));
    CHECK((*proxy)->bound_port() == *port);
    // While the proxy holds it, the port is busy: another pick must not return it.
    for (int i = 0; i < 20; ++i) CHECK(*pick_free_port("tcp", "127.0.0.1") != *port);
    CHECK_FALSE(pick_free_port("tcp", "not-an-ip").ok());
}
