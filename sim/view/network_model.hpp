// The "Network" tab as a graph (GUI-free): nodes and edges computed from the engine's network
// picture (Engine::network_picture(), the JSON `isolab network picture` prints) and the VMs of a
// snapshot. The view only places and draws them.
//
//   host box      the host's own interfaces (eth0 with its address, lo 127.0.0.1)
//   bridges       one per bridge network (isolab0, isolab-xxxx) with gateway and subnet
//   veth links    bridge ── host end (veth-il…) ═══ container end (eth0 with its IP); a pair is
//                 "verified" when the kernel agrees: the host end's peer_index is the container
//                 end's ifindex and back (IFLA_LINK, read in each namespace)
//   containers    each with its OWN loopback: 127.0.0.1 inside is not the host's 127.0.0.1;
//                 --network none has only lo; --network host shares the host box
//   port arrows   host 0.0.0.0:PORT → container:PORT (the userland proxy)
//   VM NATs       QEMU's user-mode network: host 127.0.0.1:PORT → guest :80
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/view/snapshot.hpp"

namespace isolab::view {

struct NetIface {
    int index = 0;
    std::string name, kind;           // kind: loopback | veth | bridge | ether | other
    std::string master;               // the bridge it is enslaved to
    int peer_index = 0;               // veth: the other end's ifindex, in the other namespace
    bool up = false;
    std::string mac;
    std::vector<std::string> inet;    // IPv4 CIDRs ("172.17.0.2/16")
};

struct NetListener {
    std::string proto, address;
    int port = 0;
};

struct BridgeNode {
    std::string network;              // Docker's network name: bridge, mynet
    std::string device;               // the Linux bridge: isolab0, isolab-1a2b3c4d
    std::string subnet, gateway;      // from the network's record
    std::string address;              // the bridge's address on the host ("172.17.0.1/16"); "" = none
    bool on_host = false;             // the bridge device exists in the host namespace now
    bool is_default = false;          // Docker's default `bridge` network
    bool internal = false;
    std::vector<size_t> links;        // indices into NetworkModel::links
};

enum class NetMode {
    Bridge,      // on the default bridge or a user-defined one
    None,        // --network none: only lo
    Host,        // --network host: the host's namespace, no box of its own
    Simulated,   // the simulated backend: no namespace to look into
    Unknown,     // not running, or the picture failed (see error)
};

struct ContainerNode {
    std::string id, name;
    std::string mode_text;            // spec.network as written: default | bridge | none | host | NAME
    NetMode mode = NetMode::Unknown;
    std::string netns;                // "net:[4026532…]"
    std::string loopback;             // "127.0.0.1/8" of ITS lo ("" when unknown)
    std::vector<NetIface> interfaces; // its own (lo, eth0, ...)
    std::vector<NetListener> listeners;
    std::vector<size_t> links;        // indices into NetworkModel::links
    std::string error;                // why there is no picture
};

struct VethLink {
    size_t container = 0;             // index into NetworkModel::containers
    size_t bridge = SIZE_MAX;         // index into NetworkModel::bridges (SIZE_MAX = unknown)
    std::string network;
    std::string host_end;             // veth-il… on the host
    int host_index = 0;               // its ifindex on the host (0 = not found)
    std::string container_end;        // eth0 (what the container calls its end)
    int container_index = 0;
    std::string ip;                   // "172.17.0.2/16"
    std::string mac;
    bool verified = false;            // both ends found and each one's peer_index names the other
};

struct PortArrow {
    size_t container = 0;
    std::string host_ip;              // "0.0.0.0" when published on every address
    int host_port = 0;
    std::string container_ip;         // the container's address the proxy connects to ("" = unknown)
    int container_port = 0;
    std::string proto;
    bool host_listening = false;      // the host picture shows a listener on host_port
    bool container_listening = false; // the container's picture shows one on container_port
};

struct VmNat {
    std::string name, state;          // state: to_string(VmState)
    int host_port = 0;                // 127.0.0.1:host_port on the host
    int guest_port = 80;              // → the guest's web server
};

struct NetworkModel {
    std::string host_netns;
    std::vector<NetIface> host_uplinks;   // the host's network cards with an IPv4 address (not lo, veth, bridge)
    std::string host_loopback;            // "127.0.0.1/8"
    std::vector<NetListener> host_listeners;
    std::vector<BridgeNode> bridges;      // default bridge first, then by name
    std::vector<ContainerNode> containers;// in the picture's order (newest first)
    std::vector<VethLink> links;
    std::vector<PortArrow> ports;
    std::vector<VmNat> vms;
    std::vector<size_t> host_mode;        // containers that share the host's namespace
    std::vector<size_t> none_mode;        // containers with only lo
    std::string error;                    // the picture is not the expected shape
    const ContainerNode* container(const std::string& name) const;
};

// PICTURE: what Engine::network_picture() returns. VMS: from vm_nats(). Never throws; missing
// keys are treated as empty.
NetworkModel build_network_model(const nlohmann::json& picture, std::vector<VmNat> vms = {});

// The running VMs of a snapshot with their forwarded port (VmRecord.host_port).
std::vector<VmNat> vm_nats(const WorldSnapshot& w);

// "172.17.0.2/16" → "172.17.0.2".
std::string strip_prefix(const std::string& cidr);

}  // namespace isolab::view
