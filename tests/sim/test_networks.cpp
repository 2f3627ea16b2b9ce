// The files name resolution reads, and the network store's rules (no kernel needed).
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>

#include "sim/core/clock.hpp"
#include "sim/net/attach.hpp"
#include "sim/net/networks.hpp"

using namespace isolab;
using namespace isolab::net;

TEST_CASE("networks: /etc/hosts lists the container, then its peers; the default bridge has none") {
    Endpoint own;
    own.ip = "172.18.0.5";
    std::string alone = hosts_file("c0ffee", {own}, {});
    CHECK(alone.find("127.0.0.1\tlocalhost\n") == 0);
    CHECK(alone.find("172.18.0.5\tc0ffee\n") != std::string::npos);
    CHECK(alone.find("other containers") == std::string::npos);
    std::string with_peers = hosts_file("c0ffee", {own}, {{"172.18.0.6", "web", "0123456789ab"}});
    CHECK(with_peers.find("172.18.0.6\tweb 0123456789ab\n") != std::string::npos);
    Endpoint none;  // --network none: no address, only localhost lines
    CHECK(hosts_file("x", {none}, {}).find("\tx\n") == std::string::npos);
}

TEST_CASE("networks: resolv.conf drops the host's loopback resolvers") {
    CHECK(resolv_conf_for_container("nameserver 127.0.0.53\noptions edns0\n") == "");
    std::string kept = resolv_conf_for_container("search lab\nnameserver 127.0.0.53\nnameserver 192.0.2.53\n");
    CHECK(kept == "search lab\nnameserver 192.0.2.53\n");
}

TEST_CASE("networks: pre-defined networks, names, subnets that overlap, refusals") {
    std::string root = "/tmp/isolab-unit-networks-" + random_hex(4);
    {
        NetworkStore store(root, false);
        auto bridge = store.get("bridge");
        REQUIRE(bridge.ok());
        CHECK(bridge->builtin);
        CHECK(bridge->driver == net::Driver::Bridge);
        CHECK(bridge->bridge.rfind("isolab", 0) == 0);
        CHECK(bridge->bridge.size() <= 15);
        CHECK(store.get("host")->driver == net::Driver::Host);
        CHECK(store.get("none")->driver == net::Driver::Null);
        CHECK(store.get("nope").error().message == "network nope not found");

        auto a = store.create("study", "10.200.0.0/24", false, {});
        REQUIRE(a.ok());
        CHECK(a->gateway == "10.200.0.1");
        CHECK(a->bridge == "isolab-" + a->id.substr(0, 8));
        CHECK(store.get(a->id.substr(0, 6))->name == "study");  // an id prefix works too
        CHECK(store.create("study", "", false, {}).error().message == "network with name study already exists");
        auto overlap = store.create("again", "10.200.0.128/25", false, {});
        CHECK_FALSE(overlap.ok());
        CHECK(overlap.error().message.find("overlaps") != std::string::npos);
        CHECK(store.create("bad name!", "", false, {}).error().exit_code == 125);
        CHECK(store.create("hostbits", "10.201.0.1/24", false, {}).error().exit_code == 125);
        auto picked = store.create("auto", "", false, {});
        REQUIRE(picked.ok());
        CHECK(picked->subnet != bridge->subnet);
        CHECK(store.remove("bridge").error().message == "bridge is a pre-defined network and cannot be removed");
        CHECK(store.remove("study").ok());
        CHECK_FALSE(store.get("study").ok());
    }
    std::filesystem::remove_all(root);
}
