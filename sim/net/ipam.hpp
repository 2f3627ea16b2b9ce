// IPv4 address management for bridge networks: subnets, the choice of a free subnet among
// Docker's default pools, and per-network address leases shared by concurrent CLI processes.
//
// All addresses are uint32_t in host byte order ("172.17.0.1" is 0xAC110001).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "sim/core/result.hpp"

namespace isolab::net {

struct Subnet {
    uint32_t network = 0;  // host byte order, host bits zero
    int prefix = 0;        // 0..32

    uint32_t mask() const;
    uint32_t broadcast() const;  // last address of the subnet
    std::string cidr() const;    // "172.17.0.0/16"
    std::string gateway() const; // first host: "172.17.0.1"
    bool contains(uint32_t addr) const;
    bool overlaps(const Subnet& o) const;
    bool operator==(const Subnet&) const = default;
};

// "172.17.0.0/16". The host bits must be zero (Docker: "invalid subnet 172.17.0.1/16: it should
// be 172.17.0.0/16") and the prefix within 8..30 (a bridge network needs a gateway and at least one
// container address, and a /7 or wider would swallow most of the address space).
Result<Subnet> parse_subnet(const std::string& cidr);
// Dotted quad only ("10.0.0.1"); no names are resolved.
Result<uint32_t> parse_ipv4(const std::string& s);
std::string format_ipv4(uint32_t a);

// IPv4 destinations of the routes of the calling thread's network namespace (from
// `/proc/thread-self/net/route`; the default route is left out, as it overlaps everything) and the
// subnets of the addresses on its interfaces. Used to avoid subnets that collide with the host's.
std::vector<Subnet> host_routes();

// Docker's default address pools, in the order they are tried: 172.17.0.0/16 ... 172.31.0.0/16,
// then 192.168.0.0/20, 192.168.16.0/20 ... 192.168.240.0/20.
std::vector<Subnet> default_pools();
// The first default pool that overlaps none of TAKEN.
Result<Subnet> pick_free_subnet(const std::vector<Subnet>& taken);

// A subnet in use, what kind of holder has it ("bridges of the state root `/x`") and which one
// ("`isolab0`").
struct TakenSubnet {
    Subnet subnet;
    std::string holder;
    std::string name;
};
// The error for when no default pool is free: Docker's sentence, then how many pools each kind of
// holder takes, with the first few names (each pool counted for the first entry of TAKEN that
// overlaps it; holders in that order), then FIX, the way out. Never "network ... not found": the
// cause is named.
Error pools_exhausted(const std::vector<TakenSubnet>& taken, const std::string& fix);

// One lease file per network, DIR/NETWORK.json, read and rewritten under an flock on DIR/.lock so
// concurrent CLI processes never hand out one address twice. Addresses are handed out in order
// after the last one given (like Docker's bitmap allocator with its "next" pointer), wrapping
// around, so a just-released address is not reused at once; the network, gateway and broadcast
// addresses are never given.
//
// When a network's file records another subnet than the caller passes (the network was removed
// and created again without remove_network), the leases outside the new subnet are dropped and
// the order starts again from the gateway.
class Ipam {
public:
    explicit Ipam(std::string dir);

    // Gives OWNER (a container id) an address in SUBNET of NETWORK. The same owner asking again
    // gets its existing lease (idempotent). REQUESTED != "" asks for that address: error when it
    // is taken ("Address already in use"), reserved, or outside SUBNET.
    Result<std::string> allocate(const std::string& network, const Subnet& subnet,
                                 const std::string& owner, const std::string& requested = "");
    Status release(const std::string& network, const std::string& owner);  // no-op if none
    // owner → address of every lease of NETWORK (empty when it has none or no file).
    std::map<std::string, std::string> leases(const std::string& network) const;
    // Drops the leases whose owner KEEP says is gone (garbage collection); returns how many.
    int release_unless(const std::string& network,
                       const std::function<bool(const std::string&)>& keep);
    Status remove_network(const std::string& network);  // deletes its lease file; no-op if none

    const std::string& dir() const { return dir_; }

private:
    std::string dir_;
};

}  // namespace isolab::net
