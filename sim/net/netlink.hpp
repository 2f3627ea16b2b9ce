// Kernel-facing network operations for container networking: the bridge (`isolab0` or a
// user-defined one), veth pairs, and the container's `eth0` with its address and default route.
//
// Everything goes through rtnetlink with libnl-route-3 (never a hand-written netlink codec, never
// by spawning `ip`). Docker's libnetwork does the same steps with vishvananda/netlink.
//
// Namespace contract: every function acts in the network namespace of the CALLING THREAD, because
// a netlink socket belongs to the namespace of the thread that opens it. To act inside a
// container, wrap the call in run_in_netns(pid, ...); the caller's own thread never moves.
//
// Errors name the object and the operation: "create bridge `isolab0`: Operation not permitted".
// Functions that change the kernel need CAP_NET_ADMIN in the namespace they act in.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/core/result.hpp"

// libnl types, declared here so users of this header need no libnl include path.
struct nl_sock;

namespace isolab::net {

// Runs FN in a new thread that has joined the network namespace of PID (setns on
// /proc/PID/ns/net; only that thread moves), waits for it and returns FN's result. The calling
// thread's namespace never changes. An exception thrown by FN becomes an error.
Status run_in_netns(pid_t pid, const std::function<Status()>& fn);

// Creates bridge NAME if missing (idempotent), gives it GATEWAY_CIDR ("172.17.0.1/16") if it does
// not have it yet, and sets it up. Never touches the bridge's other addresses. Fails when NAME
// exists but is not a bridge, or already carries the gateway address with another prefix length.
Status ensure_bridge(const std::string& name, const std::string& gateway_cidr);

// Deletes link NAME (deleting one end of a veth pair deletes both). Success when it does not exist.
Status delete_link(const std::string& name);

// False also when the question cannot be asked (no netlink socket).
bool link_exists(const std::string& name);

// Names of links whose name starts with PREFIX (for the garbage collector: "veth-il"), sorted.
// Empty also when the links cannot be listed.
std::vector<std::string> links_with_prefix(const std::string& prefix);

// Sets the interface alias of link NAME (IFLA_IFALIAS; `ip link show` prints it as "alias ...").
// At most 255 bytes. IsoLab records there which state root made a bridge (sim/net/orphans.hpp).
Status set_link_alias(const std::string& name, const std::string& alias);

// The bridges of the calling thread's namespace, sorted by name: their alias, how many links are
// enslaved to them (ports) and their IPv4 addresses ("172.17.0.1/16"). Error when they cannot be
// listed (no netlink socket).
struct BridgeInfo {
    std::string name;
    std::string alias;                // "" when none
    int ports = 0;
    std::vector<std::string> ipv4;
};
Result<std::vector<BridgeInfo>> list_bridges();

// Creates a veth pair HOST_NAME <-> PEER_NAME, HOST_NAME in the calling thread's namespace and
// PEER_NAME in the network namespace of PEER_PID; enslaves HOST_NAME to BRIDGE and sets it up.
// The peer end is created directly in the target namespace (IFLA_NET_NS_PID in the one
// RTM_NEWLINK request), so it never appears in the caller's namespace, not even for a moment.
// On any failure nothing is left (the pair is deleted). Names are at most 15 bytes (IFNAMSIZ-1).
Status create_veth(const std::string& host_name, const std::string& peer_name,
                   const std::string& bridge, pid_t peer_pid);

// Inside the container's namespace (run through run_in_netns): renames IFNAME to NEW_NAME
// ("eth0"; same name = keep), sets MAC ("" = keep; Docker derives 02:42:<ip bytes>, see
// docker_mac), adds ADDRESS_CIDR ("172.17.0.2/16", with its broadcast address), sets it up and,
// when GATEWAY != "", adds (or replaces) the default route via GATEWAY on it. An address that is
// already there is not an error, so the call can be repeated.
Status configure_interface(const std::string& ifname, const std::string& new_name,
                           const std::string& mac, const std::string& address_cidr,
                           const std::string& gateway);

// Sets lo up (the container's init already does this with an ioctl; provided for completeness).
Status loopback_up();

// Docker's MAC for an IPv4 address: 02:42 followed by the 4 address bytes ("172.17.0.2" ->
// "02:42:ac:11:00:02"). "" when IPV4 (an address, optionally with "/prefix") does not parse.
std::string docker_mac(const std::string& ipv4);

// Checks an interface name the way the kernel's dev_valid_name does (1..15 bytes, not "." or
// "..", no '/', ':' or white space), so a bad name is reported before anything is created.
Status check_ifname(const std::string& name);

// ---- Shared with inspect.cpp: owned libnl objects and error text. ----
struct NlSocketFree {
    void operator()(nl_sock* sock) const;
};
using NlSocket = std::unique_ptr<nl_sock, NlSocketFree>;

// A NETLINK_ROUTE socket connected in the calling thread's namespace, close-on-exec.
Result<NlSocket> open_route_socket();

// "WHAT: <libnl message>" with a hint for the usual causes (missing privilege, missing kernel
// module). ERR is a libnl error code (negative NLE_*).
Error netlink_error(std::string_view what, int err);

}  // namespace isolab::net
