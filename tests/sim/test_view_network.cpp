// The graph of the "Network" tab, from a network picture recorded with `isolab network picture`
// (trimmed to the keys the model reads): a default-bridge container with a published port, two on a
// user-defined network (one published), one with --network none, one with --network host. The
// host namespace also shows other state roots' bridges and veths (isolab0, isolab4b5e477a0), as a
// real host does.
#include <doctest/doctest.h>

#include "sim/view/network_model.hpp"

using namespace isolab;
using namespace isolab::view;
using nlohmann::json;

namespace {

const char* kPicture = R"PIC(
{"host": {"netns": "net:[4026531833]", "interfaces": [
   {"index": 1, "name": "lo", "kind": "loopback", "mac": "00:00:00:00:00:00", "up": true, "master": "", "peer_index": 0, "addresses": [{"cidr": "127.0.0.1/8", "family": "inet"}, {"cidr": "::1/128", "family": "inet6"}]},
   {"index": 2, "name": "ifb0", "kind": "other", "mac": "26:77:ef:14:3d:ef", "up": false, "master": "", "peer_index": 0, "addresses": []},
   {"index": 3, "name": "ifb1", "kind": "other", "mac": "2e:d3:97:a0:62:48", "up": false, "master": "", "peer_index": 0, "addresses": []},
   {"index": 4, "name": "eth0", "kind": "ether", "mac": "02:fc:00:00:00:01", "up": true, "master": "", "peer_index": 0, "addresses": [{"cidr": "192.0.2.2/24", "family": "inet"}, {"cidr": "fd00::2/64", "family": "inet6"}, {"cidr": "fe80::fc:ff:fe00:1/64", "family": "inet6"}]},
   {"index": 432, "name": "isolab0", "kind": "bridge", "mac": "00:00:00:00:00:00", "up": true, "master": "", "peer_index": 0, "addresses": [{"cidr": "172.17.0.1/16", "family": "inet"}, {"cidr": "fe80::64c8:4cff:fef0:9bc0/64", "family": "inet6"}]},
   {"index": 530, "name": "isolab4b5e477a0", "kind": "bridge", "mac": "e6:e2:c9:11:06:40", "up": true, "master": "", "peer_index": 0, "addresses": [{"cidr": "172.18.0.1/16", "family": "inet"}, {"cidr": "fe80::9e:fdff:fe10:c602/64", "family": "inet6"}]},
   {"index": 531, "name": "veth-ile09a74d0", "kind": "veth", "mac": "e6:e2:c9:11:06:40", "up": true, "master": "isolab4b5e477a0", "peer_index": 2, "addresses": [{"cidr": "fe80::e4e2:c9ff:fe11:640/64", "family": "inet6"}]},
   {"index": 664, "name": "isolab5d4620740", "kind": "bridge", "mac": "72:ee:57:f4:74:47", "up": true, "master": "", "peer_index": 0, "addresses": [{"cidr": "172.20.0.1/16", "family": "inet"}, {"cidr": "fe80::98f5:f1ff:fe21:41a3/64", "family": "inet6"}]},
   {"index": 665, "name": "veth-ilb4249260", "kind": "veth", "mac": "72:ee:57:f4:74:47", "up": true, "master": "isolab5d4620740", "peer_index": 2, "addresses": [{"cidr": "fe80::70ee:57ff:fef4:7447/64", "family": "inet6"}]},
   {"index": 666, "name": "isolab-88ec93f0", "kind": "bridge", "mac": "32:dd:b3:f2:11:b3", "up": true, "master": "", "peer_index": 0, "addresses": [{"cidr": "172.21.0.1/16", "family": "inet"}, {"cidr": "fe80::3020:35ff:fea6:bb1a/64", "family": "inet6"}]},
   {"index": 667, "name": "veth-il3425c1f0", "kind": "veth", "mac": "4e:b5:1e:a4:80:53", "up": true, "master": "isolab-88ec93f0", "peer_index": 2, "addresses": [{"cidr": "fe80::4cb5:1eff:fea4:8053/64", "family": "inet6"}]},
   {"index": 668, "name": "veth-il60fa2b70", "kind": "veth", "mac": "32:dd:b3:f2:11:b3", "up": true, "master": "isolab-88ec93f0", "peer_index": 2, "addresses": [{"cidr": "fe80::30dd:b3ff:fef2:11b3/64", "family": "inet6"}]}
 ], "listeners": [{"address": "0.0.0.0", "port": 2024, "proto": "tcp"}, {"address": "0.0.0.0", "port": 18611, "proto": "tcp"}, {"address": "0.0.0.0", "port": 18612, "proto": "tcp"}]},
 "containers": [
  {"endpoints": [{"bridge": "", "gateway": "", "host_veth": "", "ifname": "", "ip": "", "mac": "", "network": "host", "prefix": 0}], "id": "860d56358698", "name": "hostie", "network_mode": "host", "published": [], "shares_host_namespace": true},
  {"endpoints": [{"bridge": "", "gateway": "", "host_veth": "", "ifname": "", "ip": "", "mac": "", "network": "none", "prefix": 0}], "id": "b2e2732e5920", "name": "lonely", "network_mode": "none", "published": [], "picture": {"netns": "net:[4026532636]", "interfaces": [
     {"index": 1, "name": "lo", "kind": "loopback", "mac": "00:00:00:00:00:00", "up": true, "master": "", "peer_index": 0, "addresses": [{"cidr": "127.0.0.1/8", "family": "inet"}, {"cidr": "::1/128", "family": "inet6"}]}
   ], "listeners": []}},
  {"endpoints": [{"bridge": "isolab-88ec93f0", "gateway": "172.21.0.1", "host_veth": "veth-il60fa2b70", "ifname": "eth0", "ip": "172.21.0.3", "mac": "02:42:ac:15:00:03", "network": "labnet", "prefix": 16}], "id": "60fa2b75f417", "name": "db", "network_mode": "labnet", "published": [], "picture": {"netns": "net:[4026532560]", "interfaces": [
     {"index": 1, "name": "lo", "kind": "loopback", "mac": "00:00:00:00:00:00", "up": true, "master": "", "peer_index": 0, "addresses": [{"cidr": "127.0.0.1/8", "family": "inet"}, {"cidr": "::1/128", "family": "inet6"}]},
     {"index": 2, "name": "eth0", "kind": "veth", "mac": "02:42:ac:15:00:03", "up": true, "master": "", "peer_index": 668, "addresses": [{"cidr": "172.21.0.3/16", "family": "inet"}, {"cidr": "fe80::42:acff:fe15:3/64", "family": "inet6"}]}
   ], "listeners": []}},
  {"endpoints": [{"bridge": "isolab-88ec93f0", "gateway": "172.21.0.1", "host_veth": "veth-il3425c1f0", "ifname": "eth0", "ip": "172.21.0.2", "mac": "02:42:ac:15:00:02", "network": "labnet", "prefix": 16}], "id": "3425c1f45518", "name": "api", "network_mode": "labnet", "published": [{"container_port": 8080, "host_ip": "", "host_port": 18612, "proto": "tcp"}], "picture": {"netns": "net:[4026532483]", "interfaces": [
     {"index": 1, "name": "lo", "kind": "loopback", "mac": "00:00:00:00:00:00", "up": true, "master": "", "peer_index": 0, "addresses": [{"cidr": "127.0.0.1/8", "family": "inet"}, {"cidr": "::1/128", "family": "inet6"}]},
     {"index": 2, "name": "eth0", "kind": "veth", "mac": "02:42:ac:15:00:02", "up": true, "master": "", "peer_index": 667, "addresses": [{"cidr": "172.21.0.2/16", "family": "inet"}, {"cidr": "fe80::42:acff:fe15:2/64", "family": "inet6"}]}
   ], "listeners": [{"address": "::", "port": 8080, "proto": "tcp6"}]}},
  {"endpoints": [{"bridge": "isolab5d4620740", "gateway": "172.20.0.1", "host_veth": "veth-ilb4249260", "ifname": "eth0", "ip": "172.20.0.2", "mac": "02:42:ac:14:00:02", "network": "bridge", "prefix": 16}], "id": "b424926a19ce", "name": "web", "network_mode": "bridge", "published": [{"container_port": 80, "host_ip": "", "host_port": 18611, "proto": "tcp"}], "picture": {"netns": "net:[4026532404]", "interfaces": [
     {"index": 1, "name": "lo", "kind": "loopback", "mac": "00:00:00:00:00:00", "up": true, "master": "", "peer_index": 0, "addresses": [{"cidr": "127.0.0.1/8", "family": "inet"}, {"cidr": "::1/128", "family": "inet6"}]},
     {"index": 2, "name": "eth0", "kind": "veth", "mac": "02:42:ac:14:00:02", "up": true, "master": "", "peer_index": 665, "addresses": [{"cidr": "172.20.0.2/16", "family": "inet"}, {"cidr": "fe80::42:acff:fe14:2/64", "family": "inet6"}]}
   ], "listeners": [{"address": "::", "port": 80, "proto": "tcp6"}]}}
 ],
 "networks": [
  {"name": "bridge", "driver": "bridge", "subnet": "172.20.0.0/16", "gateway": "172.20.0.1", "bridge": "isolab5d4620740", "builtin": true, "internal": false},
  {"name": "host", "driver": "host", "subnet": "", "gateway": "", "bridge": "", "builtin": true, "internal": false},
  {"name": "labnet", "driver": "bridge", "subnet": "172.21.0.0/16", "gateway": "172.21.0.1", "bridge": "isolab-88ec93f0", "builtin": false, "internal": false},
  {"name": "none", "driver": "null", "subnet": "", "gateway": "", "bridge": "", "builtin": true, "internal": false}
 ]}
)PIC";

const ContainerNode& node(const NetworkModel& m, const std::string& name) {
    const ContainerNode* c = m.container(name);
    REQUIRE(c != nullptr);
    return *c;
}

size_t index_of(const NetworkModel& m, const std::string& name) {
    for (size_t i = 0; i < m.containers.size(); ++i)
        if (m.containers[i].name == name) return i;
    FAIL("no container " << name);
    return 0;
}

}  // namespace

TEST_CASE("view: network: the host box shows its card with an address and its own loopback") {
    NetworkModel m = build_network_model(json::parse(kPicture));
    CHECK(m.error.empty());
    CHECK(m.host_netns == "net:[4026531833]");
    REQUIRE(m.host_uplinks.size() == 1);  // ifb0/ifb1 have no address; bridges and veths are not cards
    CHECK(m.host_uplinks[0].name == "eth0");
    CHECK(m.host_uplinks[0].inet == std::vector<std::string>{"192.0.2.2/24"});
    CHECK(m.host_loopback == "127.0.0.1/8");
    CHECK(m.host_listeners.size() == 3);
}

TEST_CASE("view: network: bridges come from the bridge networks, the default one first") {
    NetworkModel m = build_network_model(json::parse(kPicture));
    REQUIRE(m.bridges.size() == 2);  // host and null networks are not bridges
    CHECK(m.bridges[0].network == "bridge");
    CHECK(m.bridges[0].is_default);
    CHECK(m.bridges[0].device == "isolab5d4620740");
    CHECK(m.bridges[0].subnet == "172.20.0.0/16");
    CHECK(m.bridges[0].gateway == "172.20.0.1");
    CHECK(m.bridges[0].address == "172.20.0.1/16");
    CHECK(m.bridges[0].on_host);
    CHECK(m.bridges[1].network == "labnet");
    CHECK(m.bridges[1].device == "isolab-88ec93f0");
    CHECK(m.bridges[0].links.size() == 1);
    CHECK(m.bridges[1].links.size() == 2);
}

TEST_CASE("view: network: veth pairs are matched by host_veth and confirmed by peer_index both ways") {
    NetworkModel m = build_network_model(json::parse(kPicture));
    REQUIRE(m.links.size() == 3);  // web, api, db; none and host have no cable
    const ContainerNode& web = node(m, "web");
    REQUIRE(web.links.size() == 1);
    const VethLink& l = m.links[web.links[0]];
    CHECK(l.host_end == "veth-ilb4249260");
    CHECK(l.host_index == 665);
    CHECK(l.container_end == "eth0");
    CHECK(l.container_index == 2);
    CHECK(l.ip == "172.20.0.2/16");
    CHECK(l.network == "bridge");
    CHECK(l.bridge == 0);
    CHECK(l.verified);
    const VethLink& db = m.links[node(m, "db").links[0]];
    CHECK(db.host_end == "veth-il60fa2b70");
    CHECK(db.host_index == 668);
    CHECK(db.bridge == 1);
    CHECK(db.verified);
    CHECK(web.loopback == "127.0.0.1/8");
    CHECK(web.mode == NetMode::Bridge);
}

TEST_CASE("view: network: a pair is found from the kernel's indexes when the endpoint lacks host_veth") {
    json p = json::parse(kPicture);
    for (auto& c : p["containers"])
        if (c["name"] == "web") c["endpoints"][0]["host_veth"] = "";
    NetworkModel m = build_network_model(p);
    const VethLink& l = m.links[node(m, "web").links[0]];
    CHECK(l.host_end == "veth-ilb4249260");  // eth0's peer_index 665 on the host
    CHECK(l.verified);

    // A host end that names another index is not confirmed.
    json q = json::parse(kPicture);
    for (auto& c : q["containers"])
        if (c["name"] == "db") c["picture"]["interfaces"][1]["peer_index"] = 667;
    NetworkModel n = build_network_model(q);
    CHECK_FALSE(n.links[node(n, "db").links[0]].verified);
}

TEST_CASE("view: network: published ports become arrows from the host to the container") {
    NetworkModel m = build_network_model(json::parse(kPicture));
    REQUIRE(m.ports.size() == 2);
    const PortArrow* web = nullptr;
    const PortArrow* api = nullptr;
    for (const auto& p : m.ports) {
        if (m.containers[p.container].name == "web") web = &p;
        if (m.containers[p.container].name == "api") api = &p;
    }
    REQUIRE(web);
    REQUIRE(api);
    CHECK(web->host_ip == "0.0.0.0");
    CHECK(web->host_port == 18611);
    CHECK(web->container_port == 80);
    CHECK(web->container_ip == "172.20.0.2");
    CHECK(web->proto == "tcp");
    CHECK(web->host_listening);       // the userland proxy's socket on the host
    CHECK(web->container_listening);  // httpd's [::]:80 inside (tcp6 counts for tcp)
    CHECK(api->host_port == 18612);
    CHECK(api->container_port == 8080);
    CHECK(api->container_ip == "172.21.0.2");
    CHECK(api->container_listening);
}

TEST_CASE("view: network: --network none has only lo, --network host shares the host box") {
    NetworkModel m = build_network_model(json::parse(kPicture));
    const ContainerNode& lonely = node(m, "lonely");
    CHECK(lonely.mode == NetMode::None);
    CHECK(lonely.links.empty());
    CHECK(lonely.loopback == "127.0.0.1/8");
    REQUIRE(lonely.interfaces.size() == 1);
    CHECK(m.none_mode == std::vector<size_t>{index_of(m, "lonely")});

    const ContainerNode& hostie = node(m, "hostie");
    CHECK(hostie.mode == NetMode::Host);
    CHECK(hostie.links.empty());
    CHECK(hostie.interfaces.empty());
    CHECK(m.host_mode == std::vector<size_t>{index_of(m, "hostie")});
}

TEST_CASE("view: network: VMs forward a host port through QEMU; a bad picture is an error, not a crash") {
    WorldSnapshot w;
    VmView running, off;
    running.rec.name = "vm1";
    running.rec.state = vm::VmState::Running;
    running.rec.host_port = 18700;
    off.rec.name = "vm2";
    off.rec.state = vm::VmState::PoweredOff;
    off.rec.host_port = 18701;
    w.vms = {running, off};
    auto nats = vm_nats(w);
    REQUIRE(nats.size() == 1);
    CHECK(nats[0].name == "vm1");
    CHECK(nats[0].host_port == 18700);
    CHECK(nats[0].guest_port == 80);
    CHECK(nats[0].state == "running");
    NetworkModel m = build_network_model(json::parse(kPicture), nats);
    CHECK(m.vms.size() == 1);

    NetworkModel bad = build_network_model(json::parse(R"({"containers": 3})"));
    CHECK_FALSE(bad.error.empty());
    NetworkModel odd = build_network_model(json::parse(R"({"host": {"interfaces": [{"name": 5}]}, "containers": [{"endpoints": [7]}]})"));
    CHECK(odd.error.empty());
    CHECK(odd.containers.size() == 1);
    CHECK(strip_prefix("172.17.0.2/16") == "172.17.0.2");
    CHECK(strip_prefix("10.0.0.1") == "10.0.0.1");
}
