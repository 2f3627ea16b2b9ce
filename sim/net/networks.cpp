#include "sim/net/networks.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <stdexcept>

#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/net/ipam.hpp"
#include "sim/net/orphans.hpp"

namespace isolab::net {

const char* driver_name(Driver d) {
    switch (d) {
        case Driver::Bridge: return "bridge";
        case Driver::Host: return "host";
        case Driver::Null: return "null";
    }
    return "?";
}

std::optional<Driver> driver_from_name(const std::string& word) {
    for (Driver d : {Driver::Bridge, Driver::Host, Driver::Null})
        if (word == driver_name(d)) return d;
    return std::nullopt;
}

using nlohmann::json;
namespace fs = std::filesystem;

json to_json(const Network& n) {
    return {{"name", n.name},       {"id", n.id},         {"driver", driver_name(n.driver)},   {"subnet", n.subnet},
            {"gateway", n.gateway}, {"bridge", n.bridge}, {"created", n.created}, {"builtin", n.builtin},
            {"internal", n.internal}, {"labels", n.labels}, {"note", n.note}};
}

Network network_from_json(const json& j) {
    Network n;
    n.name = j.value("name", "");
    n.id = j.value("id", "");
    {
        auto d = driver_from_name(j.value("driver", "bridge"));
        if (!d) throw std::invalid_argument("driver \"" + j.value("driver", "") + "\" is not bridge, host or null");
        n.driver = *d;
    }
    n.subnet = j.value("subnet", "");
    n.gateway = j.value("gateway", "");
    n.bridge = j.value("bridge", "");
    n.created = j.value("created", "");
    n.builtin = j.value("builtin", false);
    n.internal = j.value("internal", false);
    n.labels = j.value("labels", std::map<std::string, std::string>{});
    n.note = j.value("note", "");
    return n;
}

json to_json(const Endpoint& e) {
    return {{"network", e.network}, {"network_id", e.network_id}, {"ip", e.ip},       {"prefix", e.prefix},
            {"gateway", e.gateway}, {"mac", e.mac},               {"bridge", e.bridge}, {"host_veth", e.host_veth},
            {"ifname", e.ifname}};
}

Endpoint endpoint_from_json(const json& j) {
    Endpoint e;
    e.network = j.value("network", "");
    e.network_id = j.value("network_id", "");
    e.ip = j.value("ip", "");
    e.prefix = j.value("prefix", 0);
    e.gateway = j.value("gateway", "");
    e.mac = j.value("mac", "");
    e.bridge = j.value("bridge", "");
    e.host_veth = j.value("host_veth", "");
    e.ifname = j.value("ifname", "");
    return e;
}


std::string host_veth_name(const std::string& container_id, int index) {
    return "veth-il" + container_id.substr(0, 7) + std::to_string(index % 10);
}

namespace {

bool valid_network_name(const std::string& name) {
    static const std::regex re("^[a-zA-Z0-9][a-zA-Z0-9_.-]*$");
    return name.size() <= 64 && std::regex_match(name, re);
}

}  // namespace

namespace {

// The root's one spelling: relative roots and symbolic links would otherwise give one root several
// owner tags, and a relative path would say "vanished" to a collector in another directory.
std::string absolute_root(const std::string& root) {
    std::error_code ec;
    fs::path p = fs::weakly_canonical(fs::absolute(root, ec), ec);
    std::string out = ec ? root : p.string();
    while (out.size() > 1 && out.back() == '/') out.pop_back();
    return out;
}

}  // namespace

NetworkStore::NetworkStore(std::string root, bool system_root) : root_(absolute_root(root)), dir_(root + "/networks") {
    if (system_root) {
        default_bridge_ = "isolab0";
    } else {
        // A stable short hash of the state root: sum-of-bytes is not enough, use FNV-1a.
        uint32_t h = 2166136261u;
        for (unsigned char c : root) h = (h ^ c) * 16777619u;
        char buf[16];
        std::snprintf(buf, sizeof buf, "%08x", h);
        default_bridge_ = std::string("isolab") + buf + "0";
    }
}

// A file that exists but is not a network record is reported as what it is, never as "network
// not found": that would send the user looking for a network they can see on disk.
Result<Network> NetworkStore::load(const std::string& name) const {
    const std::string path = dir_ + "/" + name + ".json";
    auto text = read_file(path);
    if (!text) {
        if (!path_exists(path)) return make_error("network " + name + " not found", 1);
        return text.error();  // EACCES, EIO: the file is there
    }
    auto corrupt = [&](const std::string& why) {
        return make_error("network file `" + path + "` is corrupt: " + why +
                              "; move it aside (a pre-defined network is made again) or run `isolab system reset`",
                          1);
    };
    auto j = json::parse(*text, nullptr, false);
    if (j.is_discarded()) return corrupt(text->empty() ? "it is empty" : "not valid JSON");
    if (!j.is_object()) return corrupt("not a JSON object");
    Network n;
    try {
        n = network_from_json(j);
    } catch (const json::exception& e) {
        return corrupt(std::string("a field has the wrong type (") + e.what() + ")");
    } catch (const std::invalid_argument& e) {
        return corrupt(e.what());
    }
    if (n.name != name) return corrupt("it names network `" + n.name + "`");
    n.root = root_;
    return n;
}

Status NetworkStore::save(const Network& n) const {
    ISOLAB_TRY(make_dirs(dir_));
    return write_file_atomic(dir_ + "/" + n.name + ".json", to_json(n).dump(2) + "\n");
}

Status NetworkStore::ensure_builtins() {
    if (path_exists(dir_ + "/bridge.json") && path_exists(dir_ + "/host.json") && path_exists(dir_ + "/none.json"))
        return {};
    ISOLAB_TRY(make_dirs(dir_));
    auto lock = FileLock::acquire(dir_ + "/lock");
    if (!lock) return lock.error();
    for (const char* name : {"host", "none"}) {
        if (path_exists(dir_ + "/" + name + ".json")) continue;
        Network n;
        n.name = name;
        n.id = random_hex(32);
        n.driver = std::string(name) == "host" ? Driver::Host : Driver::Null;
        n.created = now_rfc3339();
        n.builtin = true;
        ISOLAB_TRY(save(n));
    }
    if (!path_exists(dir_ + "/bridge.json")) {
        Network n;
        n.name = "bridge";
        n.id = random_hex(32);
        n.driver = Driver::Bridge;
        n.bridge = default_bridge_;
        n.created = now_rfc3339();
        n.builtin = true;
        // Docker's 172.17.0.0/16 unless a host route or another network already covers it.
        auto subnet = pick_pool("default bridge network");
        if (!subnet) return subnet.error();
        n.subnet = subnet->cidr();
        n.gateway = subnet->gateway();
        if (n.subnet != "172.17.0.0/16")
            n.note = "172.17.0.0/16 collides with a route or network on this host; the default bridge uses " + n.subnet;
        ISOLAB_TRY(save(n));
    }
    return {};
}

Result<Network> NetworkStore::get(const std::string& ref) {
    ISOLAB_TRY(ensure_builtins());
    if (valid_network_name(ref) && path_exists(dir_ + "/" + ref + ".json")) return load(ref);
    // A full id or a unique prefix of one (Docker accepts both).
    if (ref.size() >= 1) {
        std::vector<Network> hits;
        for (const auto& n : list())
            if (n.id.compare(0, ref.size(), ref) == 0) hits.push_back(n);
        if (hits.size() == 1) return hits[0];
        if (hits.size() > 1) return make_error("network " + ref + " is ambiguous (" + std::to_string(hits.size()) + " matches found based on ID prefix)", 1);
    }
    return make_error("network " + ref + " not found", 1);
}

std::vector<Network> NetworkStore::list() {
    std::vector<Network> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_, ec)) {
        if (e.path().extension() != ".json") continue;
        if (auto n = load(e.path().stem().string())) out.push_back(*n);
    }
    std::sort(out.begin(), out.end(), [](const Network& a, const Network& b) { return a.name < b.name; });
    return out;
}

Result<Network> NetworkStore::create(const std::string& name, const std::string& subnet, bool internal,
                                     const std::map<std::string, std::string>& labels) {
    if (!valid_network_name(name))
        return make_error("invalid network name \"" + name + "\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", 125);
    ISOLAB_TRY(ensure_builtins());
    auto lock = FileLock::acquire(dir_ + "/lock");
    if (!lock) return lock.error();
    if (path_exists(dir_ + "/" + name + ".json")) return make_error("network with name " + name + " already exists", 1);
    std::vector<Subnet> others;
    for (const auto& n : list())
        if (auto s = parse_subnet(n.subnet)) others.push_back(*s);
    Subnet chosen;
    if (!subnet.empty()) {
        auto s = parse_subnet(subnet);
        if (!s) return make_error("invalid subnet " + subnet + ": " + s.error().message, 125);
        for (const auto& o : others)
            if (s->overlaps(o)) return make_error("Pool overlaps with other one on this address space (" + o.cidr() + ")", 1);
        for (const auto& r : host_routes())
            if (r.prefix > 0 && s->overlaps(r))
                return make_error("subnet " + subnet + " overlaps a route of this host (" + r.cidr() + "): pick another", 1);
        chosen = *s;
    } else {
        auto s = pick_pool("network " + name);
        if (!s) return s.error();
        chosen = *s;
    }
    Network n;
    n.name = name;
    n.id = random_hex(32);
    n.driver = Driver::Bridge;
    n.subnet = chosen.cidr();
    n.gateway = chosen.gateway();
    n.bridge = "isolab-" + n.id.substr(0, 8);
    n.created = now_rfc3339();
    n.internal = internal;
    n.labels = labels;
    n.root = root_;
    ISOLAB_TRY(save(n));
    return n;
}

Result<Subnet> NetworkStore::pick_pool(const std::string& what) {
    // Dead roots first (issue 12): their bridges hold pools and routes that nobody will use again.
    (void)collect_orphans(Sweep::VanishedRoots);
    // Who holds what, in the order the error names them: IsoLab's bridges (of other roots, or
    // older versions), this root's networks, then whatever else routes to a subnet here.
    std::vector<TakenSubnet> taken;
    auto bridges = isolab_bridges();
    for (const auto& b : bridges ? *bridges : std::vector<OwnedBridge>{}) {
        std::string holder = b.root.empty() ? std::string("bridges left by an older IsoLab")
                                            : "bridges of the state root `" + b.root + "`";
        for (const auto& cidr : b.info.ipv4) {
            auto slash = cidr.find('/');
            if (slash == std::string::npos) continue;
            auto addr = parse_ipv4(cidr.substr(0, slash));
            int prefix = std::atoi(cidr.c_str() + slash + 1);
            if (addr && prefix > 0 && prefix <= 32)
                taken.push_back({Subnet{*addr & ~(prefix == 32 ? 0u : 0xFFFFFFFFu >> prefix), prefix}, holder,
                                 "`" + b.info.name + "`"});
        }
    }
    for (const auto& n : list())
        if (auto s = parse_subnet(n.subnet)) taken.push_back({*s, "networks of this state root", "`" + n.name + "`"});
    for (const auto& r : host_routes()) taken.push_back({r, "this host's routes", r.cidr()});

    std::vector<Subnet> subnets;
    for (const auto& t : taken) subnets.push_back(t.subnet);
    if (auto s = pick_free_subnet(subnets)) return s;
    std::string fix = "run `isolab doctor --fix` to remove the bridges that deleted state roots and older IsoLab "
                      "versions left, and `isolab system reset` in state roots you no longer need";
    if (what != "default bridge network") fix += ", or pass --subnet";
    return pools_exhausted(taken, fix).wrap(what);
}

Status NetworkStore::remove(const std::string& name) {
    auto n = get(name);
    if (!n) return n.error();
    if (n->builtin)
        return make_error(n->name + " is a pre-defined network and cannot be removed", 1);
    ::unlink((dir_ + "/" + n->name + ".json").c_str());
    ::unlink((dir_ + "/" + n->name + ".setup").c_str());  // attach.hpp's record of its set-up
    return {};
}

Status NetworkStore::remove_all() {
    return remove_tree(dir_);
}

}  // namespace isolab::net
