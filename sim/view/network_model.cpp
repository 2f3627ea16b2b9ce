#include "sim/view/network_model.hpp"

#include <algorithm>

namespace isolab::view {

namespace {

using nlohmann::json;

const json& array_at(const json& j, const char* key) {
    static const json empty = json::array();
    if (!j.is_object()) return empty;
    auto it = j.find(key);
    return it != j.end() && it->is_array() ? *it : empty;
}

std::string str(const json& j, const char* key) {
    if (!j.is_object()) return "";
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

int num(const json& j, const char* key) {
    if (!j.is_object()) return 0;
    auto it = j.find(key);
    return it != j.end() && it->is_number_integer() ? it->get<int>() : 0;
}

bool flag(const json& j, const char* key) {
    if (!j.is_object()) return false;
    auto it = j.find(key);
    return it != j.end() && it->is_boolean() && it->get<bool>();
}

std::vector<NetIface> read_interfaces(const json& picture) {
    std::vector<NetIface> out;
    for (const auto& i : array_at(picture, "interfaces")) {
        NetIface n;
        n.index = num(i, "index");
        n.name = str(i, "name");
        n.kind = str(i, "kind");
        n.master = str(i, "master");
        n.peer_index = num(i, "peer_index");
        n.up = flag(i, "up");
        n.mac = str(i, "mac");
        for (const auto& a : array_at(i, "addresses"))
            if (str(a, "family") == "inet") n.inet.push_back(str(a, "cidr"));
        out.push_back(std::move(n));
    }
    return out;
}

std::vector<NetListener> read_listeners(const json& picture) {
    std::vector<NetListener> out;
    for (const auto& l : array_at(picture, "listeners")) out.push_back({str(l, "proto"), str(l, "address"), num(l, "port")});
    return out;
}

const NetIface* by_name(const std::vector<NetIface>& v, const std::string& name) {
    if (name.empty()) return nullptr;
    for (const auto& i : v)
        if (i.name == name) return &i;
    return nullptr;
}

const NetIface* by_index(const std::vector<NetIface>& v, int index) {
    if (index <= 0) return nullptr;
    for (const auto& i : v)
        if (i.index == index) return &i;
    return nullptr;
}

std::string first_inet(const NetIface& i) { return i.inet.empty() ? "" : i.inet.front(); }

bool listens_on(const std::vector<NetListener>& ls, int port, const std::string& proto) {
    // tcp covers tcp6 (a [::]:PORT socket also takes IPv4 unless v6only).
    return std::any_of(ls.begin(), ls.end(), [&](const NetListener& l) {
        return l.port == port && l.proto.rfind(proto, 0) == 0;
    });
}

NetMode mode_of(const json& c, const std::vector<NetIface>& own) {
    if (flag(c, "shares_host_namespace") || str(c, "network_mode") == "host") return NetMode::Host;
    if (flag(c, "simulated")) return NetMode::Simulated;
    if (!c.contains("picture")) return NetMode::Unknown;
    if (str(c, "network_mode") == "none") return NetMode::None;
    bool only_lo = std::all_of(own.begin(), own.end(), [](const NetIface& i) { return i.kind == "loopback"; });
    return only_lo && array_at(c, "endpoints").empty() ? NetMode::None : NetMode::Bridge;
}

}  // namespace

std::string strip_prefix(const std::string& cidr) {
    size_t slash = cidr.find('/');
    return slash == std::string::npos ? cidr : cidr.substr(0, slash);
}

const ContainerNode* NetworkModel::container(const std::string& name) const {
    for (const auto& c : containers)
        if (c.name == name || (!name.empty() && c.id == name)) return &c;
    return nullptr;
}

NetworkModel build_network_model(const json& picture, std::vector<VmNat> vms) {
    NetworkModel m;
    m.vms = std::move(vms);
    if (!picture.is_object() || !picture.contains("host")) {
        m.error = "the network picture has no host part";
        return m;
    }
    const json& host = picture["host"];
    m.host_netns = str(host, "netns");
    std::vector<NetIface> host_ifaces = read_interfaces(host);
    m.host_listeners = read_listeners(host);
    for (const auto& i : host_ifaces) {
        if (i.kind == "loopback") {
            if (m.host_loopback.empty()) m.host_loopback = first_inet(i);
        } else if (i.kind != "veth" && i.kind != "bridge" && i.master.empty() && !i.inet.empty()) {
            // The host's own cards with an IPv4 address: eth0, ens3, wlan0 (docker0 and friends
            // are bridges; ifb0 and other address-less helpers say nothing to a learner).
            m.host_uplinks.push_back(i);
        }
    }

    // Bridges: every network with the bridge driver.
    for (const auto& n : array_at(picture, "networks")) {
        if (str(n, "driver") != "bridge") continue;
        BridgeNode b;
        b.network = str(n, "name");
        b.device = str(n, "bridge");
        b.subnet = str(n, "subnet");
        b.gateway = str(n, "gateway");
        b.internal = flag(n, "internal");
        b.is_default = b.network == "bridge";
        if (const NetIface* dev = by_name(host_ifaces, b.device)) {
            b.on_host = true;
            b.address = first_inet(*dev);
        }
        m.bridges.push_back(std::move(b));
    }
    std::stable_sort(m.bridges.begin(), m.bridges.end(), [](const BridgeNode& a, const BridgeNode& b) {
        if (a.is_default != b.is_default) return a.is_default;
        return a.network < b.network;
    });
    auto bridge_of = [&](const std::string& network, const std::string& device) -> size_t {
        for (size_t i = 0; i < m.bridges.size(); ++i)
            if ((!network.empty() && m.bridges[i].network == network) || (!device.empty() && m.bridges[i].device == device)) return i;
        return SIZE_MAX;
    };

    for (const auto& c : array_at(picture, "containers")) {
        ContainerNode node;
        node.id = str(c, "id");
        node.name = str(c, "name");
        node.mode_text = str(c, "network_mode");
        node.error = str(c, "error");
        const json& own = c.contains("picture") ? c["picture"] : json::object();
        node.interfaces = read_interfaces(own);
        node.listeners = read_listeners(own);
        node.netns = str(own, "netns");
        node.mode = mode_of(c, node.interfaces);
        for (const auto& i : node.interfaces)
            if (i.kind == "loopback" && node.loopback.empty()) node.loopback = first_inet(i);
        size_t ci = m.containers.size();
        if (node.mode == NetMode::Host) m.host_mode.push_back(ci);
        if (node.mode == NetMode::None) m.none_mode.push_back(ci);

        // Veth pairs: the endpoint names the host end; the kernel says which index each end's
        // peer has (in the other namespace), so both directions are checked.
        std::string first_ip;
        for (const auto& e : array_at(c, "endpoints")) {
            // host and none are networks without a cable: no veth, no address.
            if (node.mode == NetMode::Host || node.mode == NetMode::None) break;
            if (str(e, "network") == "host" || str(e, "network") == "none") continue;
            VethLink l;
            l.container = ci;
            l.network = str(e, "network");
            l.bridge = bridge_of(l.network, str(e, "bridge"));
            l.host_end = str(e, "host_veth");
            l.container_end = str(e, "ifname");
            l.mac = str(e, "mac");
            std::string ip = str(e, "ip");
            if (!ip.empty()) l.ip = ip + "/" + std::to_string(num(e, "prefix"));
            const NetIface* h = by_name(host_ifaces, l.host_end);
            const NetIface* inside = by_name(node.interfaces, l.container_end);
            if (!inside && h) inside = by_index(node.interfaces, h->peer_index);
            if (!h && inside) h = by_index(host_ifaces, inside->peer_index);
            if (h) {
                l.host_index = h->index;
                if (l.host_end.empty()) l.host_end = h->name;
                if (l.bridge == SIZE_MAX) l.bridge = bridge_of("", h->master);
            }
            if (inside) {
                l.container_index = inside->index;
                l.container_end = inside->name;
                if (l.ip.empty()) l.ip = first_inet(*inside);
            }
            l.verified = h && inside && h->peer_index == inside->index && inside->peer_index == h->index;
            if (first_ip.empty()) first_ip = strip_prefix(l.ip);
            size_t li = m.links.size();
            node.links.push_back(li);
            if (l.bridge != SIZE_MAX) m.bridges[l.bridge].links.push_back(li);
            m.links.push_back(std::move(l));
        }

        for (const auto& p : array_at(c, "published")) {
            PortArrow a;
            a.container = ci;
            a.host_ip = str(p, "host_ip");
            if (a.host_ip.empty()) a.host_ip = "0.0.0.0";
            a.host_port = num(p, "host_port");
            a.container_port = num(p, "container_port");
            a.proto = str(p, "proto");
            if (a.proto.empty()) a.proto = "tcp";
            a.container_ip = first_ip;
            a.host_listening = listens_on(m.host_listeners, a.host_port, a.proto);
            a.container_listening = listens_on(node.listeners, a.container_port, a.proto);
            m.ports.push_back(std::move(a));
        }
        m.containers.push_back(std::move(node));
    }
    return m;
}

std::vector<VmNat> vm_nats(const WorldSnapshot& w) {
    std::vector<VmNat> out;
    for (const auto& v : w.vms) {
        auto s = v.rec.state;
        bool has_qemu = s == vm::VmState::Starting || s == vm::VmState::Running || s == vm::VmState::Paused ||
                        s == vm::VmState::Stopping;
        if (!has_qemu || v.rec.host_port <= 0) continue;
        out.push_back({v.rec.name, std::string(vm::to_string(s)), v.rec.host_port, 80});
    }
    return out;
}

}  // namespace isolab::view
