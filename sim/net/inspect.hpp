// The network picture of one network namespace: what the GUI draws and the lessons explain
// ("127.0.0.1 in the container is the container's own loopback"; "eth0 in the container is the
// other end of veth-il… on the host, plugged into the bridge isolab0").
//
// Read-only: links, addresses and routes come from rtnetlink (libnl-route-3), listening sockets
// from /proc/thread-self/net/{tcp,tcp6,udp,udp6} — the files of the reading THREAD's namespace
// (/proc/self/net would show the thread-group leader's namespace, the wrong one inside
// run_in_netns).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "sim/core/result.hpp"

namespace isolab::net {

struct Address {
    std::string family;  // "inet" | "inet6"
    std::string cidr;    // "172.17.0.2/16"
};

struct Interface {
    int index = 0;
    std::string name, kind;  // kind: "loopback", "veth", "bridge", "ether", "other"
    std::string mac;         // "" when the link has no hardware address
    bool up = false;         // administratively up (IFF_UP)
    int mtu = 0;
    std::string master;      // bridge this link is enslaved to ("" = none)
    int peer_index = 0;      // veth: ifindex of the other end (IFLA_LINK), in ITS namespace
    int peer_netnsid = -1;   // veth: IFLA_LINK_NETNSID when the peer is in another namespace
    std::vector<Address> addresses;
    uint64_t rx_bytes = 0, tx_bytes = 0;
};

struct Route {
    std::string destination;  // "default" or CIDR
    std::string gateway;      // "" = directly connected
    std::string dev;
    std::string source;       // preferred source ("" = none)
};

struct Listener {
    std::string proto;    // tcp | udp | tcp6 | udp6
    std::string address;  // "0.0.0.0", "127.0.0.1", "::"
    int port = 0;
};

struct NetPicture {
    std::string netns;                // "net:[4026531840]" (readlink of /proc/PID/ns/net)
    std::vector<Interface> interfaces;  // by ifindex
    std::vector<Route> routes;        // main table, IPv4 unicast
    std::vector<Listener> listeners;  // TCP LISTEN + unconnected UDP sockets, sorted, no duplicates
};

// PID 0 = the namespace of the calling thread (the host, unless the caller entered another one);
// any other PID goes through run_in_netns.
Result<NetPicture> inspect_netns(pid_t pid);

// Stable keys, for the GUI and `isolab network picture`.
nlohmann::json to_json(const NetPicture& p);

// Parses the text of /proc/net/{tcp,tcp6,udp,udp6} (PROTO says which) and keeps the sockets that
// accept peers: TCP in LISTEN, UDP not connected. Lines that do not parse are skipped.
std::vector<Listener> parse_proc_net_sockets(const std::string& text, const std::string& proto);

}  // namespace isolab::net
