// IPAM: subnet parsing, the choice of a free default pool, and the lease files, including four
// processes allocating at once. Everything happens in a temporary directory.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "sim/core/files.hpp"
#include "sim/net/ipam.hpp"

using namespace isolab;
using namespace isolab::net;

namespace {

struct IpamDir {
    std::string path;
    IpamDir() {
        char tmpl[] = "/tmp/isolab-ipam-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~IpamDir() { (void)remove_tree(path); }
};

Subnet subnet(const std::string& cidr) {
    auto s = parse_subnet(cidr);
    REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
    return *s;
}

}  // namespace

TEST_CASE("ipam: parse and format subnets and addresses") {
    Subnet s = subnet("172.17.0.0/16");
    CHECK(s.network == 0xAC110000u);
    CHECK(s.prefix == 16);
    CHECK(s.cidr() == "172.17.0.0/16");
    CHECK(s.gateway() == "172.17.0.1");
    CHECK(format_ipv4(s.broadcast()) == "172.17.255.255");
    CHECK(s.contains(*parse_ipv4("172.17.3.4")));
    CHECK_FALSE(s.contains(*parse_ipv4("172.18.0.1")));
    CHECK(s.overlaps(subnet("172.17.5.0/24")));
    CHECK(subnet("172.17.5.0/24").overlaps(s));
    CHECK_FALSE(s.overlaps(subnet("172.18.0.0/16")));
    CHECK(format_ipv4(*parse_ipv4("10.1.2.3")) == "10.1.2.3");
}

TEST_CASE("ipam: parse errors") {
    auto host_bits = parse_subnet("172.20.0.1/16");
    REQUIRE_FALSE(host_bits.ok());
    CHECK(host_bits.error().message == "invalid subnet 172.20.0.1/16: it should be 172.20.0.0/16");
    for (const char* bad : {"172.20.0.0", "172.20.0.0/", "172.20.0.0/x", "172.20.0.0/7",
                            "172.20.0.0/31", "300.1.1.0/24", "host.example/24", "1.2.3/24"}) {
        CAPTURE(bad);
        auto r = parse_subnet(bad);
        CHECK_FALSE(r.ok());
        if (!r.ok()) CHECK(r.error().message.find("invalid subnet") == 0);
    }
    CHECK_FALSE(parse_ipv4("1.2.3.256").ok());
    CHECK_FALSE(parse_ipv4("").ok());
    CHECK(parse_subnet("10.0.0.0/8").ok());
    CHECK(parse_subnet("10.0.0.4/30").ok());
}

TEST_CASE("ipam: pick_free_subnet follows Docker's pool order and skips taken ones") {
    CHECK(pick_free_subnet({})->cidr() == "172.17.0.0/16");
    CHECK(pick_free_subnet({subnet("172.17.0.0/16")})->cidr() == "172.18.0.0/16");
    // A smaller route inside 172.18/16 blocks that pool as well.
    CHECK(pick_free_subnet({subnet("172.17.0.0/16"), subnet("172.18.3.0/24")})->cidr() ==
          "172.19.0.0/16");
    // A /12 covering all of 172.16-31 sends us to 192.168.0.0/20, then past a taken /24 in it.
    CHECK(pick_free_subnet({subnet("172.16.0.0/12")})->cidr() == "192.168.0.0/20");
    CHECK(pick_free_subnet({subnet("172.16.0.0/12"), subnet("192.168.1.0/24")})->cidr() ==
          "192.168.16.0/20");
    auto none = pick_free_subnet({subnet("172.16.0.0/12"), subnet("192.168.0.0/16")});
    REQUIRE_FALSE(none.ok());
    CHECK(none.error().message.find("non-overlapping IPv4 address pool") != std::string::npos);
    CHECK(default_pools().size() == 15 + 16);
}

TEST_CASE("ipam: host_routes lists the routes of this namespace") {
    // Every interface address found through getifaddrs is in the list; loopback always exists.
    auto routes = host_routes();
    bool has_loopback = false;
    for (auto& r : routes) has_loopback = has_loopback || r.contains(*parse_ipv4("127.0.0.1"));
    CHECK(has_loopback);
    for (auto& r : routes) CHECK(r.prefix > 0);  // the default route is left out
}

TEST_CASE("ipam: addresses in order, idempotent per owner, never gateway or broadcast") {
    IpamDir d;
    Ipam ipam(d.path);
    Subnet s = subnet("10.9.0.0/29");  // .0 network, .1 gateway, .2-.6 hosts, .7 broadcast
    CHECK(*ipam.allocate("n1", s, "a") == "10.9.0.2");
    CHECK(*ipam.allocate("n1", s, "b") == "10.9.0.3");
    CHECK(*ipam.allocate("n1", s, "a") == "10.9.0.2");  // same owner, same lease
    CHECK(*ipam.allocate("n1", s, "c") == "10.9.0.4");
    CHECK(*ipam.allocate("n1", s, "d") == "10.9.0.5");
    CHECK(*ipam.allocate("n1", s, "e") == "10.9.0.6");
    auto full = ipam.allocate("n1", s, "f");
    REQUIRE_FALSE(full.ok());
    CHECK(full.error().message ==
          "no available IPv4 addresses on this network's address pools: n1 (10.9.0.0/29)");
    auto l = ipam.leases("n1");
    CHECK(l.size() == 5);
    CHECK(l["e"] == "10.9.0.6");
    // Another network's file is separate.
    CHECK(*ipam.allocate("n2", s, "a") == "10.9.0.2");
    CHECK(path_exists(d.path + "/n1.json"));
}

TEST_CASE("ipam: release, wrap-around and no immediate reuse") {
    IpamDir d;
    Ipam ipam(d.path);
    Subnet s = subnet("10.9.0.0/29");
    for (const char* o : {"a", "b", "c"}) REQUIRE(ipam.allocate("n", s, o).ok());  // .2 .3 .4
    REQUIRE(ipam.release("n", "a").ok());
    CHECK(ipam.release("n", "a").ok());        // no-op the second time
    CHECK(ipam.release("n", "nobody").ok());
    CHECK(ipam.release("other", "a").ok());    // network without a file
    // .2 was just released but the pointer is after .4: next are .5, .6, then wrap to .2.
    CHECK(*ipam.allocate("n", s, "d") == "10.9.0.5");
    CHECK(*ipam.allocate("n", s, "e") == "10.9.0.6");
    CHECK(*ipam.allocate("n", s, "f") == "10.9.0.2");
    REQUIRE(ipam.release("n", "c").ok());
    CHECK(*ipam.allocate("n", s, "g") == "10.9.0.4");
    CHECK(ipam.leases("n").count("a") == 0);
    CHECK(ipam.leases("n").size() == 5);
}

TEST_CASE("ipam: requested address") {
    IpamDir d;
    Ipam ipam(d.path);
    Subnet s = subnet("10.9.0.0/24");
    CHECK(*ipam.allocate("n", s, "a", "10.9.0.50") == "10.9.0.50");
    CHECK(*ipam.allocate("n", s, "a", "10.9.0.50") == "10.9.0.50");  // idempotent
    auto taken = ipam.allocate("n", s, "b", "10.9.0.50");
    REQUIRE_FALSE(taken.ok());
    CHECK(taken.error().message == "Address already in use: 10.9.0.50");
    auto outside = ipam.allocate("n", s, "b", "10.10.0.5");
    REQUIRE_FALSE(outside.ok());
    CHECK(outside.error().message.find("no configured subnet or ip-range contain the IP address 10.10.0.5") !=
          std::string::npos);
    CHECK_FALSE(ipam.allocate("n", s, "b", "10.9.0.1").ok());    // gateway
    CHECK_FALSE(ipam.allocate("n", s, "b", "10.9.0.0").ok());    // network
    CHECK_FALSE(ipam.allocate("n", s, "b", "10.9.0.255").ok());  // broadcast
    CHECK_FALSE(ipam.allocate("n", s, "b", "10.9.0.x").ok());
    CHECK_FALSE(ipam.allocate("n", s, "a", "10.9.0.51").ok());   // a already has .50
    // A requested address does not move the serial pointer; serial allocation skips it.
    CHECK(*ipam.allocate("n", s, "c") == "10.9.0.2");
    CHECK(*ipam.allocate("n", s, "e", "10.9.0.3") == "10.9.0.3");
    CHECK(*ipam.allocate("n", s, "f") == "10.9.0.4");
}

TEST_CASE("ipam: release_unless, remove_network, bad names, subnet change") {
    IpamDir d;
    Ipam ipam(d.path);
    Subnet s = subnet("10.9.0.0/24");
    for (const char* o : {"keep1", "gone1", "keep2", "gone2"}) REQUIRE(ipam.allocate("n", s, o).ok());
    int dropped = ipam.release_unless("n", [](const std::string& o) { return o.rfind("keep", 0) == 0; });
    CHECK(dropped == 2);
    auto l = ipam.leases("n");
    CHECK(l.size() == 2);
    CHECK(l.count("keep1") == 1);
    CHECK(ipam.release_unless("n", [](const std::string&) { return true; }) == 0);

    // The network comes back with another subnet: old leases outside it are dropped.
    Subnet s2 = subnet("10.8.0.0/24");
    CHECK(*ipam.allocate("n", s2, "new") == "10.8.0.2");
    CHECK(ipam.leases("n").size() == 1);

    REQUIRE(ipam.remove_network("n").ok());
    CHECK_FALSE(path_exists(d.path + "/n.json"));
    CHECK(ipam.leases("n").empty());
    CHECK(ipam.remove_network("n").ok());
    CHECK_FALSE(ipam.allocate("../evil", s, "a").ok());
    CHECK_FALSE(ipam.allocate("", s, "a").ok());
}

TEST_CASE("ipam: four processes allocating 50 each never share an address") {
    IpamDir d;
    Subnet s = subnet("10.7.0.0/24");  // 253 usable: 200 fit
    std::vector<pid_t> kids;
    for (int p = 0; p < 4; ++p) {
        pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            Ipam ipam(d.path);
            for (int i = 0; i < 50; ++i) {
                auto r = ipam.allocate("shared", s, "p" + std::to_string(p) + "-" + std::to_string(i));
                if (!r) ::_exit(1);
            }
            ::_exit(0);
        }
        kids.push_back(pid);
    }
    for (pid_t k : kids) {
        int st = 0;
        REQUIRE(::waitpid(k, &st, 0) == k);
        CHECK(WIFEXITED(st));
        CHECK(WEXITSTATUS(st) == 0);
    }
    auto l = Ipam(d.path).leases("shared");
    CHECK(l.size() == 200);
    std::set<std::string> addrs;
    for (auto& [owner, a] : l) {
        addrs.insert(a);
        CHECK(a != "10.7.0.1");
        CHECK(a != "10.7.0.255");
        CHECK(s.contains(*parse_ipv4(a)));
    }
    CHECK(addrs.size() == 200);
}

TEST_CASE("ipam: exhausted pools name what holds them, in order, and the way out") {
    auto net = [](const char* c) { return *parse_subnet(c); };
    std::vector<TakenSubnet> taken = {
        {net("172.17.0.0/16"), "bridges of the state root `/var/lib/isolab`", "`isolab0`"},
        {net("172.16.0.0/12"), "bridges left by an older IsoLab", "`isolab-0000000a`"},
        {net("192.168.0.0/16"), "this host's routes", "192.168.0.0/16"},
    };
    REQUIRE_FALSE(pick_free_subnet({net("172.16.0.0/12"), net("192.168.0.0/16")}).ok());
    Error e = pools_exhausted(taken, "run `isolab doctor --fix`");
    CHECK(e.message ==
          "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the "
          "network: the 31 default pools (172.17.0.0/16 ... 172.31.0.0/16, 192.168.0.0/20 ... 192.168.240.0/20) "
          "are taken: 1 by bridges of the state root `/var/lib/isolab` (`isolab0`), 14 by bridges left by an older "
          "IsoLab (`isolab-0000000a`), 16 by this host's routes (192.168.0.0/16): run `isolab doctor --fix`");
    // Many holders of one kind: three are named.
    std::vector<TakenSubnet> many;
    for (const Subnet& p : default_pools()) many.push_back({p, "bridges left by an older IsoLab", "`b" + p.cidr() + "`"});
    std::string m = pools_exhausted(many, "fix").message;
    CHECK(m.find("taken: 31 by bridges left by an older IsoLab (`b172.17.0.0/16`, `b172.18.0.0/16`, `b172.19.0.0/16`, "
                 "...): fix") != std::string::npos);
}
