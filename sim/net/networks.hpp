// Networks as the engine keeps them: Docker's three pre-defined networks and user-defined
// bridges, one JSON record each under ROOT/networks (NAME.json, replaced atomically under
// ROOT/networks/lock), and what a container gets on each (an endpoint).
//
//   bridge   the default bridge: a Linux bridge (`isolab0` for the system state root) on
//            172.17.0.0/16, or the first free pool when that collides with a host route; no name
//            resolution between containers (as Docker's default bridge)
//   host     no network namespace: the container uses the host's interfaces
//   none     only lo
//   NAME     a user-defined bridge (`isolab-<id>`): containers reach each other by name
//
// Name resolution on user-defined networks: IsoLab writes each container's /etc/hosts and keeps
// it up to date as containers join and leave the network, instead of Docker's embedded DNS
// server (127.0.0.11). The result for a learner is the same (`wget http://web/` works), the file
// can be read with `cat /etc/hosts`, and no resolver process has to live in every container.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/result.hpp"
#include "sim/net/ipam.hpp"

namespace isolab::net {

// Docker's three built-in network drivers. The word ("bridge", "host", "null") appears only in
// the network's file and in what `network ls`/`inspect` print.
enum class Driver { Bridge, Host, Null };
const char* driver_name(Driver d);
std::optional<Driver> driver_from_name(const std::string& word);
// In JSON: its word, never a number.
NLOHMANN_JSON_SERIALIZE_ENUM(Driver, {{Driver::Bridge, "bridge"}, {Driver::Host, "host"}, {Driver::Null, "null"}})

struct Network {
    std::string name;
    std::string id;                  // 64 hex
    Driver driver = Driver::Bridge;
    std::string subnet;              // "172.17.0.0/16" (bridge only)
    std::string gateway;             // "172.17.0.1"
    std::string bridge;              // Linux bridge name
    std::string created;
    bool builtin = false;            // bridge, host, none
    bool internal = false;           // --internal: no NAT, no route out
    std::map<std::string, std::string> labels;
    std::string note;                // why the default bridge is not on 172.17.0.0/16, if it is not
    std::string root;                // the state root it belongs to, absolute (set by NetworkStore,
                                     // not stored): owns the bridge and tags the rules (orphans.hpp)
};

// One container on one network.
struct Endpoint {
    std::string network;             // network name
    std::string network_id;
    std::string ip;                  // "172.17.0.2" ("" for host/none)
    int prefix = 0;
    std::string gateway;
    std::string mac;                 // 02:42:ac:11:00:02 (docker_mac in netlink.hpp)
    std::string bridge;
    std::string host_veth;           // the host end of the veth pair ("veth-il" + 8 hex)
    std::string ifname;              // eth0, eth1, ...
};

nlohmann::json to_json(const Network& n);
Network network_from_json(const nlohmann::json& j);
nlohmann::json to_json(const Endpoint& e);
Endpoint endpoint_from_json(const nlohmann::json& j);

// The host end of a container's veth on its Nth network: "veth-il" + 7 hex of the id + N.
std::string host_veth_name(const std::string& container_id, int index);

class NetworkStore {
public:
    // ROOT is the engine's state root; SYSTEM_ROOT says whether it is the system one
    // (/var/lib/isolab), whose default bridge is called `isolab0`; other roots (tests, users)
    // get `isolab` + 8 hex of the root's hash + "0", so that two state roots never share a bridge.
    NetworkStore(std::string root, bool system_root);

    // `network create [--subnet CIDR] [--internal] [--label K=V] NAME`. Names follow Docker's
    // rule; a subnet must not overlap another network's or a host route; without one the first
    // free pool is taken. Errors are Docker's wording, exit 125 (flags) or 1 (conflicts).
    //
    // Choosing a pool (here and for the default bridge) first collects the bridges and rules of
    // vanished state roots (orphans.hpp, Sweep::VanishedRoots), so dead roots never hold a pool a
    // new root needs; when the pools are really all taken, the error says by what and how to
    // free them (`isolab doctor --fix` for bridges older IsoLab versions left).
    Result<Network> create(const std::string& name, const std::string& subnet, bool internal,
                           const std::map<std::string, std::string>& labels);
    // By name, full id or unique id prefix; the pre-defined three always exist (made on first
    // use). Unknown: "network NAME not found" (exit 1 for network commands; the engine uses 125).
    Result<Network> get(const std::string& ref);
    std::vector<Network> list();
    // Deletes the record (the caller has checked that no container uses it and removed the
    // bridge and firewall rules). Pre-defined networks are refused with Docker's wording.
    Status remove(const std::string& name);
    // Also removes the records of the pre-defined networks (`isolab system reset`).
    Status remove_all();
    std::string dir() const { return dir_; }
    const std::string& root() const { return root_; }  // absolute, as Network::root
    std::string leases_dir() const { return dir_ + "/leases"; }

private:
    Status ensure_builtins();
    Result<Network> load(const std::string& name) const;
    Status save(const Network& n) const;
    Result<Subnet> pick_pool(const std::string& what);
    std::string root_;
    std::string dir_;
    std::string default_bridge_;
};

}  // namespace isolab::net
