// Joining networks: the kernel side of an endpoint (bridge, veth pair, address, route, NAT) and
// the files the engine writes for name resolution. Used by the engine (start, connect, network
// rm) and by the monitor (each start of PID 1, policy restarts included), so it lives in the
// runtime library. Root only: bridges and veth pairs are made in the host's namespace.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "sim/core/result.hpp"
#include "sim/net/networks.hpp"

namespace isolab::net {

// The bridge of NETWORK with its gateway address, up and owned by NETWORK.root (orphans.hpp), plus
// the NAT/forwarding rules of that root (unless internal). Idempotent. Returns a warning for the
// user ("" = none), e.g. when neither nft nor iptables is installed and containers cannot reach
// beyond the host.
//
// Once per network, not per container: what was set up is recorded in ROOT/networks/NAME.setup
// (this boot, this network namespace, the bridge's name and ifindex, the subnet), and a call that
// finds the record matching does nothing else, so the second and later starts on a network spawn
// no nft/iptables process and touch no firewall. teardown_network deletes the record. Not seen by
// the record: someone flushing the host's ruleset by hand (`nft flush ruleset`); `network rm` and
// create, `system reset`, or deleting the .setup file make the rules again.
Result<std::string> prepare_network(const Network& network);
// Removes the bridge and the rules of NETWORK of NETWORK.root (network rm, system reset); never
// another root's.
Status teardown_network(const Network& network);

// Plugs the container whose PID 1 is PID into EP: a veth pair with the host end on the bridge,
// the container end renamed EP.ifname with EP's address and MAC, and, when DEFAULT_ROUTE, the
// default route through the gateway. A leftover host veth of that name is removed first.
Status attach_endpoint(const Endpoint& ep, pid_t pid, bool default_route);
// Unplugs EP (deleting the host end deletes the pair).
Status detach_endpoint(const Endpoint& ep);

// /etc/hosts of a container: localhost lines, its own address and name, then PEERS (address,
// name, short id) — the other containers on its user-defined networks.
struct HostEntry {
    std::string ip, name, short_id;
};
std::string hosts_file(const std::string& hostname, const std::vector<Endpoint>& own,
                       const std::vector<HostEntry>& peers);
// /etc/resolv.conf from the host's, without nameservers on 127.0.0.0/8 (they are the host's own
// loopback, which the container cannot reach); "" when the host has none left.
std::string resolv_conf_for_container(const std::string& host_resolv_conf);
// Replaces PATH's content in place (open + truncate + write), keeping its inode: the file is
// bind-mounted into a running container, and a rename would leave the container the old one.
Status rewrite_in_place(const std::string& path, const std::string& content);

}  // namespace isolab::net
