#include "sim/net/inspect.hpp"

#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

#include "sim/core/files.hpp"
#include "sim/net/netlink.hpp"

namespace isolab::net {

namespace {

struct CacheFree {
    void operator()(nl_cache* cache) const { nl_cache_free(cache); }
};
using CachePtr = std::unique_ptr<nl_cache, CacheFree>;

// /proc/net/tcp state codes (include/net/tcp_states.h).
constexpr unsigned kTcpListen = 0x0A;
constexpr unsigned kTcpClose = 0x07;  // an unconnected UDP socket

std::string ip_text(int family, const void* bytes) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (!inet_ntop(family, bytes, buf, sizeof buf)) return "";
    return buf;
}

// "a.b.c.d/len" or "x::y/len"; "" for an address of another family.
std::string cidr_text(nl_addr* addr, unsigned prefix) {
    int family = nl_addr_get_family(addr);
    if ((family != AF_INET && family != AF_INET6) ||
        nl_addr_get_len(addr) != (family == AF_INET ? 4u : 16u))
        return "";
    return ip_text(family, nl_addr_get_binary_addr(addr)) + "/" + std::to_string(prefix);
}

std::string host_text(nl_addr* addr) {
    int family = nl_addr_get_family(addr);
    if ((family != AF_INET && family != AF_INET6) ||
        nl_addr_get_len(addr) != (family == AF_INET ? 4u : 16u))
        return "";
    return ip_text(family, nl_addr_get_binary_addr(addr));
}

std::string mac_text(nl_addr* addr) {
    if (!addr || nl_addr_get_len(addr) == 0) return "";
    const auto* b = static_cast<const unsigned char*>(nl_addr_get_binary_addr(addr));
    std::string out;
    char part[4];
    for (unsigned i = 0; i < nl_addr_get_len(addr); ++i) {
        std::snprintf(part, sizeof part, i ? ":%02x" : "%02x", b[i]);
        out += part;
    }
    return out;
}

std::string kind_of(rtnl_link* link) {
    if (rtnl_link_get_arptype(link) == ARPHRD_LOOPBACK) return "loopback";
    const char* type = rtnl_link_get_type(link);
    if (type == nullptr) return rtnl_link_get_arptype(link) == ARPHRD_ETHER ? "ether" : "other";
    if (std::strcmp(type, "veth") == 0) return "veth";
    if (std::strcmp(type, "bridge") == 0) return "bridge";
    return "other";
}

// One hex word of /proc/net/tcp: the kernel prints each 32-bit word of the address with %08X
// from its in-memory (network-order) value, so reading it back as a native integer and storing
// that integer restores the original bytes on either endianness.
bool parse_hex_address(std::string_view hex, unsigned char* out, size_t bytes) {
    if (hex.size() != bytes * 2) return false;
    for (size_t word = 0; word < bytes / 4; ++word) {
        uint32_t value = 0;
        for (size_t i = 0; i < 8; ++i) {
            char c = hex[word * 8 + i];
            int digit = (c >= '0' && c <= '9') ? c - '0'
                        : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                        : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                                 : -1;
            if (digit < 0) return false;
            value = value << 4 | static_cast<uint32_t>(digit);
        }
        std::memcpy(out + word * 4, &value, 4);
    }
    return true;
}

// Everything read here is read in the calling thread's namespace.
Result<NetPicture> inspect_current() {
    NetPicture picture;
    char target[128] = {};
    ssize_t n = ::readlink("/proc/thread-self/ns/net", target, sizeof target - 1);
    if (n < 0) return errno_error("read `/proc/thread-self/ns/net`", errno);
    picture.netns.assign(target, static_cast<size_t>(n));

    auto sock = open_route_socket();
    if (!sock) return sock.error();

    nl_cache* raw = nullptr;
    int err = rtnl_link_alloc_cache(sock->get(), AF_UNSPEC, &raw);
    if (err < 0) return netlink_error("list links", err);
    CachePtr links(raw);
    std::map<int, size_t> by_index;  // ifindex -> position in picture.interfaces
    for (nl_object* obj = nl_cache_get_first(raw); obj; obj = nl_cache_get_next(obj)) {
        auto* link = reinterpret_cast<rtnl_link*>(obj);
        Interface itf;
        itf.index = rtnl_link_get_ifindex(link);
        if (const char* name = rtnl_link_get_name(link)) itf.name = name;
        itf.kind = kind_of(link);
        itf.mac = mac_text(rtnl_link_get_addr(link));
        itf.up = (rtnl_link_get_flags(link) & IFF_UP) != 0;
        itf.mtu = static_cast<int>(rtnl_link_get_mtu(link));
        if (int master = rtnl_link_get_master(link); master > 0) {
            char name[IFNAMSIZ + 1] = {};
            if (rtnl_link_i2name(links.get(), master, name, sizeof name)) itf.master = name;
        }
        if (itf.kind == "veth") {
            itf.peer_index = rtnl_link_get_link(link);
            int32_t nsid = -1;
            if (rtnl_link_get_link_netnsid(link, &nsid) == 0) itf.peer_netnsid = nsid;
        }
        itf.rx_bytes = rtnl_link_get_stat(link, RTNL_LINK_RX_BYTES);
        itf.tx_bytes = rtnl_link_get_stat(link, RTNL_LINK_TX_BYTES);
        picture.interfaces.push_back(std::move(itf));
    }
    std::sort(picture.interfaces.begin(), picture.interfaces.end(),
              [](const Interface& a, const Interface& b) { return a.index < b.index; });
    for (size_t i = 0; i < picture.interfaces.size(); ++i) by_index[picture.interfaces[i].index] = i;

    raw = nullptr;
    err = rtnl_addr_alloc_cache(sock->get(), &raw);
    if (err < 0) return netlink_error("list addresses", err);
    CachePtr addresses(raw);
    for (nl_object* obj = nl_cache_get_first(raw); obj; obj = nl_cache_get_next(obj)) {
        auto* a = reinterpret_cast<rtnl_addr*>(obj);
        auto it = by_index.find(rtnl_addr_get_ifindex(a));
        nl_addr* local = rtnl_addr_get_local(a);
        if (it == by_index.end() || !local) continue;
        std::string cidr = cidr_text(local, static_cast<unsigned>(rtnl_addr_get_prefixlen(a)));
        if (cidr.empty()) continue;
        picture.interfaces[it->second].addresses.push_back(
            Address{rtnl_addr_get_family(a) == AF_INET ? "inet" : "inet6", cidr});
    }

    raw = nullptr;
    err = rtnl_route_alloc_cache(sock->get(), AF_INET, 0, &raw);
    if (err < 0) return netlink_error("list routes", err);
    CachePtr routes(raw);
    for (nl_object* obj = nl_cache_get_first(raw); obj; obj = nl_cache_get_next(obj)) {
        auto* r = reinterpret_cast<rtnl_route*>(obj);
        if (rtnl_route_get_table(r) != RT_TABLE_MAIN || rtnl_route_get_type(r) != RTN_UNICAST) continue;
        Route route;
        nl_addr* dst = rtnl_route_get_dst(r);
        if (!dst || nl_addr_get_prefixlen(dst) == 0)
            route.destination = "default";
        else
            route.destination = cidr_text(dst, nl_addr_get_prefixlen(dst));
        if (rtnl_route_get_nnexthops(r) > 0) {
            rtnl_nexthop* hop = rtnl_route_nexthop_n(r, 0);
            if (nl_addr* gw = rtnl_route_nh_get_gateway(hop)) route.gateway = host_text(gw);
            auto it = by_index.find(rtnl_route_nh_get_ifindex(hop));
            if (it != by_index.end()) route.dev = picture.interfaces[it->second].name;
        }
        if (nl_addr* src = rtnl_route_get_pref_src(r)) route.source = host_text(src);
        picture.routes.push_back(std::move(route));
    }

    for (const char* proto : {"tcp", "tcp6", "udp", "udp6"}) {
        // tcp6/udp6 are missing when the kernel has no IPv6: nothing listens there then.
        auto text = read_file(std::string("/proc/thread-self/net/") + proto);
        if (!text) continue;
        auto found = parse_proc_net_sockets(*text, proto);
        picture.listeners.insert(picture.listeners.end(), found.begin(), found.end());
    }
    auto key = [](const Listener& l) { return std::tie(l.proto, l.port, l.address); };
    std::sort(picture.listeners.begin(), picture.listeners.end(),
              [&](const Listener& a, const Listener& b) { return key(a) < key(b); });
    picture.listeners.erase(
        std::unique(picture.listeners.begin(), picture.listeners.end(),
                    [&](const Listener& a, const Listener& b) { return key(a) == key(b); }),
        picture.listeners.end());
    return picture;
}

}  // namespace

std::vector<Listener> parse_proc_net_sockets(const std::string& text, const std::string& proto) {
    std::vector<Listener> out;
    const bool v6 = proto == "tcp6" || proto == "udp6";
    const bool tcp = proto == "tcp" || proto == "tcp6";
    std::istringstream lines(text);
    std::string line;
    std::getline(lines, line);  // header
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        std::string slot, local, remote, state;
        if (!(fields >> slot >> local >> remote >> state)) continue;
        size_t colon = local.find(':');
        if (colon == std::string::npos) continue;
        unsigned st = 0, port = 0;
        if (std::sscanf(state.c_str(), "%x", &st) != 1) continue;
        if (std::sscanf(local.c_str() + colon + 1, "%x", &port) != 1 || port > 65535) continue;
        if (st != (tcp ? kTcpListen : kTcpClose)) continue;
        unsigned char bytes[16] = {};
        if (!parse_hex_address(std::string_view(local).substr(0, colon), bytes, v6 ? 16 : 4)) continue;
        out.push_back(Listener{proto, ip_text(v6 ? AF_INET6 : AF_INET, bytes), static_cast<int>(port)});
    }
    return out;
}

Result<NetPicture> inspect_netns(pid_t pid) {
    if (pid == 0) {
        auto picture = inspect_current();
        if (!picture) return picture.error().wrap("inspect network");
        return picture;
    }
    NetPicture picture;
    Status status = run_in_netns(pid, [&]() -> Status {
        auto found = inspect_current();
        if (!found) return found.error();
        picture = std::move(*found);
        return {};
    });
    if (!status) return status.error().wrap("inspect network of pid " + std::to_string(pid));
    return picture;
}

nlohmann::json to_json(const NetPicture& p) {
    nlohmann::json interfaces = nlohmann::json::array();
    for (const Interface& i : p.interfaces) {
        nlohmann::json addresses = nlohmann::json::array();
        for (const Address& a : i.addresses) addresses.push_back({{"family", a.family}, {"cidr", a.cidr}});
        interfaces.push_back({{"index", i.index},
                              {"name", i.name},
                              {"kind", i.kind},
                              {"mac", i.mac},
                              {"up", i.up},
                              {"mtu", i.mtu},
                              {"master", i.master},
                              {"peer_index", i.peer_index},
                              {"peer_netnsid", i.peer_netnsid},
                              {"addresses", std::move(addresses)},
                              {"rx_bytes", i.rx_bytes},
                              {"tx_bytes", i.tx_bytes}});
    }
    nlohmann::json routes = nlohmann::json::array();
    for (const Route& r : p.routes)
        routes.push_back({{"destination", r.destination}, {"gateway", r.gateway}, {"dev", r.dev}, {"source", r.source}});
    nlohmann::json listeners = nlohmann::json::array();
    for (const Listener& l : p.listeners)
        listeners.push_back({{"proto", l.proto}, {"address", l.address}, {"port", l.port}});
    return {{"netns", p.netns}, {"interfaces", std::move(interfaces)}, {"routes", std::move(routes)},
            {"listeners", std::move(listeners)}};
}

}  // namespace isolab::net
