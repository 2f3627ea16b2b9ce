// Kernel network layer (sim/net/netlink, sim/net/inspect) against the real kernel.
//
// Isolation contract: every test that touches the kernel runs its body on a fresh thread that has
// unshared its network namespace (only that thread moves), and the "container" is a forked child
// that unshares its own. The host's links, addresses and routes are never touched. Without root,
// or where unshare(CLONE_NEWNET) is refused, those tests print "SKIPPED: ..." and pass; the pure
// parsing tests always run.
#include <doctest/doctest.h>

#include "tests/skip.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "sim/core/files.hpp"
#include "sim/net/inspect.hpp"
#include "sim/net/netlink.hpp"

using namespace isolab;
using namespace isolab::net;

namespace {

// Runs BODY on a new thread inside a private network namespace. False (after a loud SKIPPED
// message) when the kernel or the privileges do not allow it. A REQUIRE failing inside BODY ends
// BODY only; doctest has recorded the failure already.
bool run_isolated(const std::function<void()>& body) {
    if (geteuid() != 0) {
        ISOLAB_SKIP("needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) for network namespaces");
        return false;
    }
    std::string skip_reason;
    std::thread worker([&] {
        if (unshare(CLONE_NEWNET) != 0) {
            skip_reason = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
            return;
        }
        try {
            body();
        } catch (const doctest::detail::TestFailureException&) {
        } catch (const std::exception& e) {
            FAIL_CHECK("exception: " << e.what());
        }
    });
    worker.join();
    if (!skip_reason.empty()) ISOLAB_SKIP(skip_reason);
    return skip_reason.empty();
}

std::string netns_of_thread() {
    char buf[128] = {};
    ssize_t n = readlink("/proc/thread-self/ns/net", buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// A stand-in container: a child process in its own network namespace, alive until destroyed.
class NetnsChild {
public:
    // Empty pid() when the child could not be started or could not unshare.
    NetnsChild() {
        int ready[2], hold[2];
        if (pipe2(ready, O_CLOEXEC) != 0) return;
        if (pipe2(hold, O_CLOEXEC) != 0) {
            close(ready[0]);
            close(ready[1]);
            return;
        }
        pid_t pid = fork();
        if (pid == 0) {
            // Only async-signal-safe calls after fork() in a threaded process.
            close(ready[0]);
            close(hold[1]);
            char ok = unshare(CLONE_NEWNET) == 0 ? 1 : 0;
            if (write(ready[1], &ok, 1) != 1) _exit(2);
            char c;
            while (read(hold[0], &c, 1) < 0 && errno == EINTR) {
            }
            _exit(0);
        }
        close(ready[1]);
        close(hold[0]);
        hold_ = hold[1];
        if (pid < 0) {
            close(ready[0]);
            return;
        }
        pid_ = pid;
        char ok = 0;
        ssize_t n;
        do n = read(ready[0], &ok, 1);
        while (n < 0 && errno == EINTR);
        close(ready[0]);
        unshared_ = n == 1 && ok == 1;
    }
    ~NetnsChild() {
        if (hold_ >= 0) close(hold_);  // EOF tells the child to exit
        if (pid_ > 0) waitpid(pid_, nullptr, 0);
    }
    NetnsChild(const NetnsChild&) = delete;
    NetnsChild& operator=(const NetnsChild&) = delete;

    pid_t pid() const { return unshared_ ? pid_ : 0; }

private:
    pid_t pid_ = -1;
    int hold_ = -1;
    bool unshared_ = false;
};

// The error text of R for an assertion message; "" when R succeeded (doctest evaluates the
// message lazily, also for passing assertions under --success).
template <class R>
std::string why(const R& r) {
    return r.ok() ? std::string() : r.error().message;
}

const Interface* find_interface(const NetPicture& p, const std::string& name) {
    for (const Interface& i : p.interfaces)
        if (i.name == name) return &i;
    return nullptr;
}

int count_address(const Interface& i, const std::string& cidr) {
    return static_cast<int>(std::count_if(i.addresses.begin(), i.addresses.end(),
                                          [&](const Address& a) { return a.cidr == cidr; }));
}

bool has_listener(const NetPicture& p, const std::string& proto, const std::string& address, int port) {
    return std::any_of(p.listeners.begin(), p.listeners.end(), [&](const Listener& l) {
        return l.proto == proto && l.address == address && l.port == port;
    });
}

int bound_port(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return -1;
    if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

// A socket of TYPE bound to IPV4:0 (listening when TCP); returns the fd, -1 on failure.
int bound_socket(int type, const char* ipv4) {
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    inet_pton(AF_INET, ipv4, &sa.sin_addr);
    if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
        (type == SOCK_STREAM && listen(fd, 4) != 0)) {
        close(fd);
        return -1;
    }
    return fd;
}

// TCP connect to IPV4:PORT with a 5 s limit, in the calling thread's namespace.
Status tcp_connect(const char* ipv4, int port) {
    UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid()) return errno_error("socket", errno);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, ipv4, &sa.sin_addr);
    if (connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 && errno != EINPROGRESS)
        return errno_error("connect", errno);
    pollfd p{fd.get(), POLLOUT, 0};
    if (poll(&p, 1, 5000) != 1) return make_error("connect: timed out after 5 s");
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return errno_error("connect", err);
    return {};
}

}  // namespace

TEST_CASE("net: interface names are checked like the kernel does, Docker MACs derive from the IP") {
    CHECK(check_ifname("veth-il0123456").ok());
    CHECK(check_ifname("eth0").ok());
    CHECK_FALSE(check_ifname("").ok());
    CHECK_FALSE(check_ifname(".").ok());
    CHECK_FALSE(check_ifname("a/b").ok());
    CHECK_FALSE(check_ifname("a b").ok());
    CHECK_FALSE(check_ifname("a:1").ok());
    Status too_long = check_ifname("veth-il012345678");  // 16 bytes
    REQUIRE_FALSE(too_long.ok());
    CHECK(too_long.error().message.find("`veth-il012345678`") != std::string::npos);
    CHECK(too_long.error().message.find("15") != std::string::npos);

    CHECK(docker_mac("172.17.0.2/16") == "02:42:ac:11:00:02");
    CHECK(docker_mac("10.0.255.1") == "02:42:0a:00:ff:01");
    CHECK(docker_mac("not-an-ip") == "");
}

TEST_CASE("net: /proc/net socket tables: listening TCP and unconnected UDP only") {
    // Build the text the way the kernel prints it (%08X of the network-order word), so the test
    // holds on either endianness.
    auto hex4 = [](const char* ip) {
        in_addr a{};
        inet_pton(AF_INET, ip, &a);
        char buf[9];
        std::snprintf(buf, sizeof buf, "%08X", a.s_addr);
        return std::string(buf);
    };
    const std::string header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
    std::string tcp = header +
        "   0: " + hex4("127.0.0.1") + ":1F90 " + hex4("0.0.0.0") + ":0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n" +
        "   1: " + hex4("10.1.2.3") + ":0016 " + hex4("10.1.2.4") + ":C350 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0\n" +
        "   2: garbage\n";
    auto found = parse_proc_net_sockets(tcp, "tcp");
    REQUIRE(found.size() == 1);
    CHECK(found[0].proto == "tcp");
    CHECK(found[0].address == "127.0.0.1");
    CHECK(found[0].port == 8080);

    std::string udp = header +
        "  10: " + hex4("0.0.0.0") + ":0035 " + hex4("0.0.0.0") + ":0000 07 00000000:00000000 00:00000000 00000000     0        0 3 2 0 0\n" +
        "  11: " + hex4("10.0.0.2") + ":D431 " + hex4("10.0.0.1") + ":0035 01 00000000:00000000 00:00000000 00000000     0        0 4 2 0 0\n";
    found = parse_proc_net_sockets(udp, "udp");
    REQUIRE(found.size() == 1);
    CHECK(found[0].address == "0.0.0.0");
    CHECK(found[0].port == 53);

    in6_addr loop6 = in6addr_loopback;
    uint32_t words[4];
    std::memcpy(words, &loop6, sizeof words);
    char v6[33];
    std::snprintf(v6, sizeof v6, "%08X%08X%08X%08X", words[0], words[1], words[2], words[3]);
    std::string tcp6 = header + "   0: " + v6 + ":01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 5 1\n";
    found = parse_proc_net_sockets(tcp6, "tcp6");
    REQUIRE(found.size() == 1);
    CHECK(found[0].address == "::1");
    CHECK(found[0].port == 443);
}

TEST_CASE("net: inspect_netns(0) of a fresh namespace shows only lo") {
    run_isolated([] {
        auto picture = inspect_netns(0);
        REQUIRE_MESSAGE(picture.ok(), why(picture));
        CHECK(picture->netns == netns_of_thread());
        CHECK(picture->netns.rfind("net:[", 0) == 0);
        // /proc/self is the thread-group leader, which stayed in the original namespace.
        char original[128] = {};
        REQUIRE(readlink("/proc/self/ns/net", original, sizeof original - 1) > 0);
        CHECK(picture->netns != std::string(original));  // really a private namespace
        REQUIRE(picture->interfaces.size() == 1);
        const Interface& lo = picture->interfaces[0];
        CHECK(lo.name == "lo");
        CHECK(lo.kind == "loopback");
        CHECK_FALSE(lo.up);
        CHECK(lo.mtu > 0);
        CHECK(picture->routes.empty());
        CHECK(picture->listeners.empty());

        nlohmann::json j = to_json(*picture);
        CHECK(j["netns"] == picture->netns);
        CHECK(j["interfaces"][0]["name"] == "lo");
        CHECK(j["interfaces"][0]["kind"] == "loopback");
        CHECK(j["interfaces"][0].contains("peer_netnsid"));
        CHECK(j["routes"].is_array());
        CHECK(j["listeners"].is_array());
    });
}

TEST_CASE("net: sockets opened in the namespace show up as listeners with their port") {
    run_isolated([] {
        REQUIRE(loopback_up().ok());
        UniqueFd tcp(bound_socket(SOCK_STREAM, "127.0.0.1"));
        UniqueFd udp(bound_socket(SOCK_DGRAM, "0.0.0.0"));
        REQUIRE(tcp.valid());
        REQUIRE(udp.valid());
        int tcp_port = bound_port(tcp.get()), udp_port = bound_port(udp.get());
        // A connected client is not a listener.
        UniqueFd client(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_port = htons(static_cast<uint16_t>(tcp_port));
        inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
        REQUIRE(connect(client.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
        int client_port = bound_port(client.get());
        // IPv6 when the kernel has it.
        UniqueFd tcp6(socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
        int tcp6_port = -1;
        if (tcp6.valid()) {
            sockaddr_in6 any{};
            any.sin6_family = AF_INET6;
            int one = 1;
            setsockopt(tcp6.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
            if (bind(tcp6.get(), reinterpret_cast<sockaddr*>(&any), sizeof any) == 0 && listen(tcp6.get(), 1) == 0)
                tcp6_port = bound_port(tcp6.get());
        }

        auto picture = inspect_netns(0);
        REQUIRE_MESSAGE(picture.ok(), why(picture));
        CHECK(has_listener(*picture, "tcp", "127.0.0.1", tcp_port));
        CHECK(has_listener(*picture, "udp", "0.0.0.0", udp_port));
        CHECK_FALSE(has_listener(*picture, "tcp", "127.0.0.1", client_port));
        if (tcp6_port > 0) CHECK(has_listener(*picture, "tcp6", "::", tcp6_port));
        else MESSAGE("no IPv6 in this kernel: tcp6 part not checked");
        const Interface* lo = find_interface(*picture, "lo");
        REQUIRE(lo != nullptr);
        CHECK(lo->up);
        CHECK(count_address(*lo, "127.0.0.1/8") == 1);
        CHECK(lo->rx_bytes > 0);  // the connect above went over lo
    });
}

TEST_CASE("net: ensure_bridge is idempotent and keeps other addresses") {
    run_isolated([] {
        REQUIRE(ensure_bridge("br-il", "10.77.0.1/24").ok());
        Status again = ensure_bridge("br-il", "10.77.0.1/24");
        REQUIRE_MESSAGE(again.ok(), why(again));
        // An administrator's extra address on the bridge must survive later calls.
        REQUIRE(configure_interface("br-il", "br-il", "", "10.88.0.1/16", "").ok());
        REQUIRE(ensure_bridge("br-il", "10.77.0.1/24").ok());

        auto picture = inspect_netns(0);
        REQUIRE_MESSAGE(picture.ok(), why(picture));
        const Interface* br = find_interface(*picture, "br-il");
        REQUIRE(br != nullptr);
        CHECK(br->kind == "bridge");
        CHECK(br->up);
        CHECK(count_address(*br, "10.77.0.1/24") == 1);
        CHECK(count_address(*br, "10.88.0.1/16") == 1);
        CHECK(br->mac.size() == 17);
        bool subnet_route = std::any_of(picture->routes.begin(), picture->routes.end(), [](const Route& r) {
            return r.destination == "10.77.0.0/24" && r.dev == "br-il" && r.gateway.empty() && r.source == "10.77.0.1";
        });
        CHECK(subnet_route);

        Status other_prefix = ensure_bridge("br-il", "10.77.0.1/16");
        REQUIRE_FALSE(other_prefix.ok());
        CHECK(other_prefix.error().message.find("`br-il`") != std::string::npos);
        Status no_prefix = ensure_bridge("br-il2", "10.77.0.1");
        CHECK_FALSE(no_prefix.ok());
        CHECK_FALSE(link_exists("br-il2"));  // checked before anything was created
        REQUIRE(ensure_bridge("br-il2", "10.99.0.1/24").ok());
        CHECK(link_exists("br-il2"));
    });
}

TEST_CASE("net: veth into a container namespace, eth0 configured, TCP over the bridge") {
    run_isolated([] {
        NetnsChild child;
        REQUIRE_MESSAGE(child.pid() > 0, "could not start a child in its own network namespace");
        const std::string parent_ns = netns_of_thread();

        REQUIRE(ensure_bridge("br-il", "10.77.0.1/24").ok());
        Status created = create_veth("veth-iltest", "vpeer-iltest", "br-il", child.pid());
        REQUIRE_MESSAGE(created.ok(), why(created));
        CHECK(link_exists("veth-iltest"));
        CHECK_FALSE(link_exists("vpeer-iltest"));  // moved away from this namespace
        // A gateway outside the subnet is refused before anything changes (name stays).
        Status bad_gateway = run_in_netns(child.pid(), [&] {
            return configure_interface("vpeer-iltest", "eth0", "", "10.77.0.2/24", "10.78.0.1");
        });
        CHECK_FALSE(bad_gateway.ok());
        bool peer_in_child = false;
        std::string child_ns;
        REQUIRE(run_in_netns(child.pid(), [&]() -> Status {
                    peer_in_child = link_exists("vpeer-iltest");
                    child_ns = netns_of_thread();
                    return {};
                }).ok());
        CHECK(peer_in_child);
        CHECK(child_ns != parent_ns);
        CHECK(netns_of_thread() == parent_ns);  // the calling thread never moved

        const std::string mac = docker_mac("10.77.0.2");
        Status configured = run_in_netns(child.pid(), [&] {
            return configure_interface("vpeer-iltest", "eth0", mac, "10.77.0.2/24", "10.77.0.1");
        });
        REQUIRE_MESSAGE(configured.ok(), why(configured));
        // Repeating the configuration is harmless (address exists, route replaced).
        Status repeated = run_in_netns(child.pid(), [&] {
            return configure_interface("eth0", "eth0", mac, "10.77.0.2/24", "10.77.0.1");
        });
        CHECK_MESSAGE(repeated.ok(), why(repeated));

        auto host = inspect_netns(0);
        REQUIRE_MESSAGE(host.ok(), why(host));
        const Interface* host_end = find_interface(*host, "veth-iltest");
        REQUIRE(host_end != nullptr);
        CHECK(host_end->kind == "veth");
        CHECK(host_end->master == "br-il");
        CHECK(host_end->up);
        CHECK(host_end->peer_netnsid >= 0);

        auto inside = inspect_netns(child.pid());
        REQUIRE_MESSAGE(inside.ok(), why(inside));
        CHECK(inside->netns == child_ns);
        const Interface* eth0 = find_interface(*inside, "eth0");
        REQUIRE(eth0 != nullptr);
        CHECK(find_interface(*inside, "vpeer-iltest") == nullptr);
        CHECK(eth0->kind == "veth");
        CHECK(eth0->up);
        CHECK(eth0->mac == mac);
        CHECK(count_address(*eth0, "10.77.0.2/24") == 1);
        CHECK(eth0->peer_index == host_end->index);
        CHECK(eth0->peer_netnsid >= 0);
        CHECK(host_end->peer_index == eth0->index);
        bool default_route = std::any_of(inside->routes.begin(), inside->routes.end(), [](const Route& r) {
            return r.destination == "default" && r.gateway == "10.77.0.1" && r.dev == "eth0";
        });
        CHECK(default_route);
        CHECK(to_json(*inside)["routes"].size() == inside->routes.size());

        // Reachability without ping: the container connects to a listener on the bridge address
        // of this (the "host") namespace.
        UniqueFd server(bound_socket(SOCK_STREAM, "10.77.0.1"));
        REQUIRE(server.valid());
        int port = bound_port(server.get());
        Status connected = run_in_netns(child.pid(), [&] { return tcp_connect("10.77.0.1", port); });
        CHECK_MESSAGE(connected.ok(), why(connected));
        pollfd p{server.get(), POLLIN, 0};
        REQUIRE(poll(&p, 1, 5000) == 1);
        sockaddr_in peer{};
        socklen_t len = sizeof peer;
        UniqueFd accepted(accept4(server.get(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC));
        REQUIRE(accepted.valid());
        char from[INET_ADDRSTRLEN] = {};
        inet_ntop(AF_INET, &peer.sin_addr, from, sizeof from);
        CHECK(std::string(from) == "10.77.0.2");  // it really came from the container's eth0

        // The listener of this namespace is not visible from the container's picture.
        auto here = inspect_netns(0);
        REQUIRE(here.ok());
        CHECK(has_listener(*here, "tcp", "10.77.0.1", port));
        CHECK_FALSE(has_listener(*inside, "tcp", "10.77.0.1", port));

        // Deleting the host end removes the pair, also eth0 in the container.
        REQUIRE(delete_link("veth-iltest").ok());
        CHECK_FALSE(link_exists("veth-iltest"));
        bool eth0_left = true;
        REQUIRE(run_in_netns(child.pid(), [&]() -> Status {
                    eth0_left = link_exists("eth0");
                    return {};
                }).ok());
        CHECK_FALSE(eth0_left);
    });
}

TEST_CASE("net: create_veth failures leave no veth behind") {
    run_isolated([] {
        NetnsChild child;
        REQUIRE_MESSAGE(child.pid() > 0, "could not start a child in its own network namespace");
        auto child_links = [&] {
            std::vector<std::string> names;
            CHECK(run_in_netns(child.pid(), [&]() -> Status {
                      names = links_with_prefix("vp-il");
                      return {};
                  }).ok());
            return names;
        };

        Status missing_bridge = create_veth("veth-ilbad", "vp-ilbad", "br-missing", child.pid());
        REQUIRE_FALSE(missing_bridge.ok());
        CHECK(missing_bridge.error().message.find("`br-missing`") != std::string::npos);
        CHECK(links_with_prefix("veth-il").empty());
        CHECK(child_links().empty());

        // Not a bridge: a veth's name given as the bridge.
        REQUIRE(ensure_bridge("br-il", "10.77.0.1/24").ok());
        REQUIRE(create_veth("veth-ilok", "vp-ilok", "br-il", child.pid()).ok());
        Status not_bridge = create_veth("veth-ilbad", "vp-ilbad", "veth-ilok", child.pid());
        CHECK_FALSE(not_bridge.ok());
        CHECK(links_with_prefix("veth-il") == std::vector<std::string>{"veth-ilok"});

        // The host name is taken: the existing link is not ours and must survive.
        Status taken = create_veth("veth-ilok", "vp-ilother", "br-il", child.pid());
        CHECK_FALSE(taken.ok());
        CHECK(link_exists("veth-ilok"));
        CHECK(child_links() == std::vector<std::string>{"vp-ilok"});

        // The peer name is taken in the container: nothing is left on either side.
        Status peer_taken = create_veth("veth-ilnew", "vp-ilok", "br-il", child.pid());
        CHECK_FALSE(peer_taken.ok());
        CHECK_FALSE(link_exists("veth-ilnew"));
        CHECK(child_links() == std::vector<std::string>{"vp-ilok"});

        // A process that is gone, and a name over 15 bytes.
        pid_t gone = fork();
        if (gone == 0) _exit(0);
        REQUIRE(gone > 0);
        waitpid(gone, nullptr, 0);
        CHECK_FALSE(create_veth("veth-ilgone", "vp-ilgone", "br-il", gone).ok());
        CHECK_FALSE(create_veth("veth-il0123456789", "vp-il", "br-il", child.pid()).ok());
        CHECK(links_with_prefix("veth-il") == std::vector<std::string>{"veth-ilok"});
    });
}

TEST_CASE("net: delete_link and links_with_prefix") {
    run_isolated([] {
        REQUIRE(ensure_bridge("br-ila", "10.71.0.1/24").ok());
        REQUIRE(ensure_bridge("br-ilb", "10.72.0.1/24").ok());
        REQUIRE(ensure_bridge("other0", "10.73.0.1/24").ok());
        CHECK(links_with_prefix("br-il") == std::vector<std::string>{"br-ila", "br-ilb"});
        REQUIRE(delete_link("br-ila").ok());
        CHECK_FALSE(link_exists("br-ila"));
        CHECK(link_exists("br-ilb"));
        CHECK(delete_link("br-ila").ok());  // already gone: success
        CHECK(delete_link("never-existed").ok());
        CHECK(links_with_prefix("br-il") == std::vector<std::string>{"br-ilb"});
        CHECK_FALSE(delete_link("this-name-is-too-long").ok());
    });
}

TEST_CASE("net: run_in_netns reports a missing process and passes errors through") {
    pid_t gone = fork();
    if (gone == 0) _exit(0);
    REQUIRE(gone > 0);
    waitpid(gone, nullptr, 0);
    bool ran = false;
    Status missing = run_in_netns(gone, [&]() -> Status {
        ran = true;
        return {};
    });
    CHECK_FALSE(missing.ok());
    CHECK_FALSE(ran);
    CHECK(missing.error().message.find("/proc/" + std::to_string(gone) + "/ns/net") != std::string::npos);

    if (geteuid() != 0) {
        ISOLAB_SKIP("joining a namespace needs root");
        return;
    }
    Status failed = run_in_netns(getpid(), [] { return Status(make_error("inner failure", 3)); });
    REQUIRE_FALSE(failed.ok());
    CHECK(failed.error().message == "inner failure");
    CHECK(failed.error().exit_code == 3);
    Status thrown = run_in_netns(getpid(), []() -> Status { throw std::runtime_error("boom"); });
    REQUIRE_FALSE(thrown.ok());
    CHECK(thrown.error().message.find("boom") != std::string::npos);
}
