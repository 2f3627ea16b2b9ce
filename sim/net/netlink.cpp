#include "sim/net/netlink.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <exception>
#include <system_error>
#include <thread>

#include "sim/core/files.hpp"

namespace isolab::net {

void NlSocketFree::operator()(nl_sock* sock) const { nl_socket_free(sock); }

namespace {

struct LinkPut {
    void operator()(rtnl_link* link) const { rtnl_link_put(link); }
};
using LinkPtr = std::unique_ptr<rtnl_link, LinkPut>;

struct AddrPut {
    void operator()(nl_addr* addr) const { nl_addr_put(addr); }
};
using NlAddrPtr = std::unique_ptr<nl_addr, AddrPut>;

struct RtAddrPut {
    void operator()(rtnl_addr* addr) const { rtnl_addr_put(addr); }
};
using RtAddrPtr = std::unique_ptr<rtnl_addr, RtAddrPut>;

struct RoutePut {
    void operator()(rtnl_route* route) const { rtnl_route_put(route); }
};
using RoutePtr = std::unique_ptr<rtnl_route, RoutePut>;

struct CacheFree {
    void operator()(nl_cache* cache) const { nl_cache_free(cache); }
};
using CachePtr = std::unique_ptr<nl_cache, CacheFree>;

std::string quoted(const std::string& name) { return "`" + name + "`"; }

bool is_missing(int err) { return err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV; }

// The link called NAME in the calling thread's namespace; a null pointer when there is none.
Result<LinkPtr> find_link(nl_sock* sock, const std::string& name) {
    rtnl_link* raw = nullptr;
    int err = rtnl_link_get_kernel(sock, 0, name.c_str(), &raw);
    if (err == 0) return LinkPtr(raw);
    if (is_missing(err)) return LinkPtr();
    return netlink_error("look up link " + quoted(name), err);
}

// An IPv4 "a.b.c.d/len" with an explicit prefix length (an interface address needs one: without
// it the kernel would assume /32 and install no subnet route).
Result<NlAddrPtr> parse_ipv4_cidr(const std::string& cidr, std::string_view what) {
    if (cidr.find('/') == std::string::npos)
        return make_error(std::string(what) + " " + quoted(cidr) +
                          " has no prefix length: write it as CIDR, e.g. `172.17.0.1/16`");
    nl_addr* raw = nullptr;
    int err = nl_addr_parse(cidr.c_str(), AF_INET, &raw);
    if (err < 0 || raw == nullptr)
        return make_error(std::string(what) + " " + quoted(cidr) +
                          " is not an IPv4 address in CIDR form (e.g. `172.17.0.1/16`)");
    NlAddrPtr addr(raw);
    if (nl_addr_get_prefixlen(raw) == 0)
        return make_error(std::string(what) + " " + quoted(cidr) +
                          " has prefix length 0: an interface address needs 1..32");
    return addr;
}

Result<NlAddrPtr> parse_ipv4_host(const std::string& text, std::string_view what) {
    nl_addr* raw = nullptr;
    if (text.find('/') != std::string::npos || nl_addr_parse(text.c_str(), AF_INET, &raw) < 0 ||
        raw == nullptr)
        return make_error(std::string(what) + " " + quoted(text) +
                          " is not an IPv4 address (e.g. `172.17.0.1`)");
    return NlAddrPtr(raw);
}

// a.b.c.255-style broadcast for ADDR's subnet; null for /31 and /32, which have none (RFC 3021).
NlAddrPtr broadcast_of(nl_addr* addr) {
    unsigned prefix = nl_addr_get_prefixlen(addr);
    if (prefix >= 31) return NlAddrPtr();
    uint32_t host_order = 0;
    std::memcpy(&host_order, nl_addr_get_binary_addr(addr), 4);
    host_order = ntohl(host_order) | (0xffffffffu >> prefix);
    uint32_t net_order = htonl(host_order);
    return NlAddrPtr(nl_addr_build(AF_INET, &net_order, 4));
}

std::string ipv4_text(nl_addr* addr) {
    char buf[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, nl_addr_get_binary_addr(addr), buf, sizeof buf);
    return buf;
}

// Adds ADDR (with its prefix length and broadcast) to link IFINDEX. EEXIST counts as success: the
// address being there already is the wanted end state (a repeated call, or a concurrent one).
Status add_ipv4_address(nl_sock* sock, int ifindex, nl_addr* addr, const std::string& ifname) {
    RtAddrPtr request(rtnl_addr_alloc());
    if (!request) return make_error("add address to " + quoted(ifname) + ": out of memory");
    rtnl_addr_set_ifindex(request.get(), ifindex);
    int err = rtnl_addr_set_local(request.get(), addr);
    if (err == 0) {
        if (NlAddrPtr brd = broadcast_of(addr)) err = rtnl_addr_set_broadcast(request.get(), brd.get());
    }
    if (err == 0) err = rtnl_addr_add(sock, request.get(), 0);
    if (err == 0 || err == -NLE_EXIST) return {};
    return netlink_error("add address " + ipv4_text(addr) + "/" +
                             std::to_string(nl_addr_get_prefixlen(addr)) + " to " + quoted(ifname),
                         err);
}

// Applies CHANGES (name, MAC, master, flags) to ORIG with one RTM_NEWLINK/RTM_SETLINK.
Status change_link(nl_sock* sock, rtnl_link* orig, rtnl_link* changes, const std::string& what) {
    int err = rtnl_link_change(sock, orig, changes, 0);
    if (err < 0) return netlink_error(what, err);
    return {};
}

Status set_up(nl_sock* sock, rtnl_link* link, const std::string& name) {
    LinkPtr changes(rtnl_link_alloc());
    if (!changes) return make_error("set " + quoted(name) + " up: out of memory");
    rtnl_link_set_flags(changes.get(), IFF_UP);
    return change_link(sock, link, changes.get(), "set " + quoted(name) + " up");
}

bool is_bridge(rtnl_link* link) {
    const char* kind = rtnl_link_get_type(link);
    return kind != nullptr && std::strcmp(kind, "bridge") == 0;
}

std::string kind_of(rtnl_link* link) {
    const char* kind = rtnl_link_get_type(link);
    return kind != nullptr ? kind : "plain device";
}

}  // namespace

Error netlink_error(std::string_view what, int err) {
    std::string message = std::string(what) + ": " + nl_geterror(err);
    if (err == -NLE_PERM || err == -NLE_NOACCESS)
        message += " (needs CAP_NET_ADMIN in this network namespace: run as root)";
    else if (err == -NLE_OPNOTSUPP)
        message += " (the kernel lacks this link type: load it with `modprobe bridge` / "
                   "`modprobe veth`, or enable CONFIG_BRIDGE / CONFIG_VETH)";
    return make_error(std::move(message));
}

Result<NlSocket> open_route_socket() {
    NlSocket sock(nl_socket_alloc());
    if (!sock) return make_error("open netlink socket: out of memory");
    int err = nl_connect(sock.get(), NETLINK_ROUTE);
    if (err < 0) return netlink_error("open netlink socket (NETLINK_ROUTE)", err);
    // libnl 3.7 opens it with SOCK_CLOEXEC; make sure anyway, since a netlink fd leaking into a
    // container would let it talk to the host's rtnetlink (STYLE §9).
    int fd = nl_socket_get_fd(sock.get());
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0 || (!(flags & FD_CLOEXEC) && fcntl(fd, F_SETFD, flags | FD_CLOEXEC) != 0))
        return errno_error("set close-on-exec on the netlink socket", errno);
    return sock;
}

Status check_ifname(const std::string& name) {
    if (name.empty()) return make_error("interface name is empty");
    if (name.size() > IFNAMSIZ - 1)
        return make_error("interface name " + quoted(name) + " is " + std::to_string(name.size()) +
                          " bytes; Linux allows at most " + std::to_string(IFNAMSIZ - 1));
    if (name == "." || name == "..")
        return make_error("interface name " + quoted(name) + " is reserved");
    for (unsigned char c : name) {
        if (c == '/' || c == ':' || std::isspace(c))
            return make_error("interface name " + quoted(name) +
                              " contains '/', ':' or white space, which Linux does not allow");
    }
    return {};
}

std::string docker_mac(const std::string& ipv4) {
    std::string host = ipv4.substr(0, ipv4.find('/'));
    unsigned char bytes[4];
    if (inet_pton(AF_INET, host.c_str(), bytes) != 1) return "";
    char buf[18];
    std::snprintf(buf, sizeof buf, "02:42:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2], bytes[3]);
    return buf;
}

Status run_in_netns(pid_t pid, const std::function<Status()>& fn) {
    if (pid <= 0) return make_error("enter network namespace: pid " + std::to_string(pid) + " is not a process");
    std::string path = "/proc/" + std::to_string(pid) + "/ns/net";
    // Opened here, in the caller, so a vanished process is reported before a thread is started.
    UniqueFd ns(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns.valid()) return errno_error("open " + quoted(path), errno);

    Status result;
    try {
        std::thread worker([&] {
            // Only this thread changes namespace: setns(CLONE_NEWNET) acts on the calling thread,
            // and the thread ends after FN, so no other code ever runs in the container's
            // namespace by accident. Needs CAP_SYS_ADMIN over the target namespace's user
            // namespace (root on the host has it).
            if (::setns(ns.get(), CLONE_NEWNET) != 0) {
                result = errno_error("join network namespace " + quoted(path), errno);
                return;
            }
            try {
                result = fn();
            } catch (const std::exception& e) {
                result = make_error(std::string("in network namespace of pid ") + std::to_string(pid) +
                                    ": " + e.what());
            }
        });
        worker.join();
    } catch (const std::system_error& e) {
        return make_error(std::string("start a thread for network namespace ") + quoted(path) + ": " + e.what());
    }
    return result;
}

Status ensure_bridge(const std::string& name, const std::string& gateway_cidr) {
    const std::string ctx = "create bridge " + quoted(name);
    ISOLAB_TRY_CTX(check_ifname(name), ctx);
    auto gateway = parse_ipv4_cidr(gateway_cidr, "gateway");
    if (!gateway) return gateway.error().wrap(ctx);
    auto sock = open_route_socket();
    if (!sock) return sock.error().wrap(ctx);

    auto link = find_link(sock->get(), name);
    if (!link) return link.error().wrap(ctx);
    if (!*link) {
        int err = rtnl_link_bridge_add(sock->get(), name.c_str());
        // EEXIST: another isolab process created it between our look-up and now; fine.
        if (err < 0 && err != -NLE_EXIST) return netlink_error(ctx, err);
        link = find_link(sock->get(), name);
        if (!link) return link.error().wrap(ctx);
        if (!*link) return make_error(ctx + ": it vanished right after creation (deleted concurrently?)");
    }
    rtnl_link* bridge = link->get();
    if (!is_bridge(bridge))
        return make_error("link " + quoted(name) + " exists but is a " + kind_of(bridge) +
                          ", not a bridge: delete it or choose another network name");
    int ifindex = rtnl_link_get_ifindex(bridge);

    // Does the bridge carry the gateway address already? Only our own address is looked at;
    // whatever else an administrator put on the bridge stays.
    nl_cache* raw_cache = nullptr;
    int err = rtnl_addr_alloc_cache(sock->get(), &raw_cache);
    if (err < 0) return netlink_error("list addresses of bridge " + quoted(name), err);
    CachePtr addresses(raw_cache);
    bool present = false;
    for (nl_object* obj = nl_cache_get_first(raw_cache); obj; obj = nl_cache_get_next(obj)) {
        auto* a = reinterpret_cast<rtnl_addr*>(obj);
        if (rtnl_addr_get_ifindex(a) != ifindex || rtnl_addr_get_family(a) != AF_INET) continue;
        nl_addr* local = rtnl_addr_get_local(a);
        if (!local || nl_addr_get_len(local) != 4) continue;
        if (std::memcmp(nl_addr_get_binary_addr(local), nl_addr_get_binary_addr(gateway->get()), 4) != 0)
            continue;
        if (static_cast<unsigned>(rtnl_addr_get_prefixlen(a)) != nl_addr_get_prefixlen(gateway->get()))
            return make_error("bridge " + quoted(name) + " already has " + ipv4_text(local) + "/" +
                              std::to_string(rtnl_addr_get_prefixlen(a)) + ", not " + gateway_cidr +
                              ": remove that address or give the network the same subnet");
        present = true;
    }
    if (!present) ISOLAB_TRY(add_ipv4_address(sock->get(), ifindex, gateway->get(), name));

    if (!(rtnl_link_get_flags(bridge) & IFF_UP)) ISOLAB_TRY(set_up(sock->get(), bridge, name));
    return {};
}

Status delete_link(const std::string& name) {
    const std::string ctx = "delete link " + quoted(name);
    ISOLAB_TRY_CTX(check_ifname(name), ctx);
    auto sock = open_route_socket();
    if (!sock) return sock.error().wrap(ctx);
    LinkPtr request(rtnl_link_alloc());
    if (!request) return make_error(ctx + ": out of memory");
    rtnl_link_set_name(request.get(), name.c_str());
    int err = rtnl_link_delete(sock->get(), request.get());
    if (err == 0 || is_missing(err)) return {};
    return netlink_error(ctx, err);
}

bool link_exists(const std::string& name) {
    if (!check_ifname(name)) return false;
    auto sock = open_route_socket();
    if (!sock) return false;
    auto link = find_link(sock->get(), name);
    return link && *link;
}

std::vector<std::string> links_with_prefix(const std::string& prefix) {
    std::vector<std::string> names;
    auto sock = open_route_socket();
    if (!sock) return names;
    nl_cache* raw_cache = nullptr;
    if (rtnl_link_alloc_cache(sock->get(), AF_UNSPEC, &raw_cache) < 0) return names;
    CachePtr cache(raw_cache);
    for (nl_object* obj = nl_cache_get_first(raw_cache); obj; obj = nl_cache_get_next(obj)) {
        const char* name = rtnl_link_get_name(reinterpret_cast<rtnl_link*>(obj));
        if (name && std::string_view(name).starts_with(prefix)) names.emplace_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
}

Status set_link_alias(const std::string& name, const std::string& alias) {
    const std::string ctx = "set the alias of link " + quoted(name);
    ISOLAB_TRY_CTX(check_ifname(name), ctx);
    if (alias.size() > 255) return make_error(ctx + ": `" + alias + "` is longer than 255 bytes");
    auto sock = open_route_socket();
    if (!sock) return sock.error().wrap(ctx);
    auto link = find_link(sock->get(), name);
    if (!link) return link.error().wrap(ctx);
    if (!*link) return make_error(ctx + ": no such link");
    const char* have = rtnl_link_get_ifalias(link->get());
    if (have && alias == have) return {};
    LinkPtr changes(rtnl_link_alloc());
    if (!changes) return make_error(ctx + ": out of memory");
    rtnl_link_set_ifalias(changes.get(), alias.c_str());
    return change_link(sock->get(), link->get(), changes.get(), ctx);
}

Result<std::vector<BridgeInfo>> list_bridges() {
    auto sock = open_route_socket();
    if (!sock) return sock.error().wrap("list bridges");
    nl_cache* raw_links = nullptr;
    int err = rtnl_link_alloc_cache(sock->get(), AF_UNSPEC, &raw_links);
    if (err < 0) return netlink_error("list bridges", err);
    CachePtr links(raw_links);
    nl_cache* raw_addrs = nullptr;
    err = rtnl_addr_alloc_cache(sock->get(), &raw_addrs);
    if (err < 0) return netlink_error("list addresses of bridges", err);
    CachePtr addresses(raw_addrs);

    std::vector<BridgeInfo> out;
    std::vector<int> indexes;
    for (nl_object* obj = nl_cache_get_first(raw_links); obj; obj = nl_cache_get_next(obj)) {
        auto* link = reinterpret_cast<rtnl_link*>(obj);
        if (!is_bridge(link)) continue;
        BridgeInfo b;
        const char* name = rtnl_link_get_name(link);
        const char* alias = rtnl_link_get_ifalias(link);
        b.name = name ? name : "";
        b.alias = alias ? alias : "";
        out.push_back(std::move(b));
        indexes.push_back(rtnl_link_get_ifindex(link));
    }
    for (nl_object* obj = nl_cache_get_first(raw_links); obj; obj = nl_cache_get_next(obj)) {
        int master = rtnl_link_get_master(reinterpret_cast<rtnl_link*>(obj));
        for (size_t i = 0; i < indexes.size(); ++i)
            if (master != 0 && master == indexes[i]) ++out[i].ports;
    }
    for (nl_object* obj = nl_cache_get_first(raw_addrs); obj; obj = nl_cache_get_next(obj)) {
        auto* a = reinterpret_cast<rtnl_addr*>(obj);
        nl_addr* local = rtnl_addr_get_local(a);
        if (rtnl_addr_get_family(a) != AF_INET || !local || nl_addr_get_len(local) != 4) continue;
        for (size_t i = 0; i < indexes.size(); ++i)
            if (rtnl_addr_get_ifindex(a) == indexes[i])
                out[i].ipv4.push_back(ipv4_text(local) + "/" + std::to_string(rtnl_addr_get_prefixlen(a)));
    }
    std::sort(out.begin(), out.end(), [](const BridgeInfo& x, const BridgeInfo& y) { return x.name < y.name; });
    return out;
}

Status create_veth(const std::string& host_name, const std::string& peer_name,
                   const std::string& bridge, pid_t peer_pid) {
    const std::string ctx = "create veth " + quoted(host_name) + " <-> " + quoted(peer_name);
    ISOLAB_TRY_CTX(check_ifname(host_name), ctx);
    ISOLAB_TRY_CTX(check_ifname(peer_name), ctx);
    ISOLAB_TRY_CTX(check_ifname(bridge), ctx);
    // Checked before anything exists, so these failures need no cleanup (STYLE §8).
    if (peer_pid <= 0 || ::kill(peer_pid, 0) != 0)
        return make_error(ctx + ": container process " + std::to_string(peer_pid) +
                          " does not exist (the container must be running to get a network)");
    auto sock = open_route_socket();
    if (!sock) return sock.error().wrap(ctx);
    auto br = find_link(sock->get(), bridge);
    if (!br) return br.error().wrap(ctx);
    if (!*br)
        return make_error(ctx + ": bridge " + quoted(bridge) +
                          " does not exist (create the network first, e.g. `isolab network create`)");
    if (!is_bridge(br->get()))
        return make_error(ctx + ": " + quoted(bridge) + " is a " + kind_of(br->get()) + ", not a bridge");
    int bridge_index = rtnl_link_get_ifindex(br->get());

    {
        LinkPtr veth(rtnl_link_veth_alloc());
        if (!veth) return make_error(ctx + ": out of memory");
        rtnl_link_set_name(veth.get(), host_name.c_str());
        rtnl_link* peer = rtnl_link_veth_get_peer(veth.get());  // +1 reference
        rtnl_link_set_name(peer, peer_name.c_str());
        rtnl_link_set_ns_pid(peer, peer_pid);
        rtnl_link_put(peer);
        // NLM_F_EXCL: an existing HOST_NAME is someone else's link, never ours to reuse.
        int err = rtnl_link_add(sock->get(), veth.get(), NLM_F_CREATE | NLM_F_EXCL);
        if (err == -NLE_EXIST)
            return make_error(ctx + ": a link called " + quoted(host_name) + " (here) or " +
                              quoted(peer_name) + " (in the namespace of pid " + std::to_string(peer_pid) +
                              ") exists already; remove the stale one or pick other names");
        if (err < 0) return netlink_error(ctx + " (peer into the network namespace of pid " +
                                              std::to_string(peer_pid) + ")",
                                          err);
    }

    // From here on the pair exists: any failure deletes it (deleting one end removes both, also
    // the end in the container's namespace).
    auto finish = [&]() -> Status {
        auto host = find_link(sock->get(), host_name);
        if (!host) return host.error();
        if (!*host) return make_error("link " + quoted(host_name) + " vanished right after creation");
        LinkPtr changes(rtnl_link_alloc());
        if (!changes) return make_error("out of memory");
        rtnl_link_set_master(changes.get(), bridge_index);
        ISOLAB_TRY(change_link(sock->get(), host->get(), changes.get(),
                               "attach " + quoted(host_name) + " to bridge " + quoted(bridge)));
        return set_up(sock->get(), host->get(), host_name);
    };
    Status done = finish();
    if (!done) {
        LinkPtr request(rtnl_link_alloc());
        if (request) {
            rtnl_link_set_name(request.get(), host_name.c_str());
            (void)rtnl_link_delete(sock->get(), request.get());
        }
        return done.error().wrap(ctx);
    }
    return {};
}

Status configure_interface(const std::string& ifname, const std::string& new_name,
                           const std::string& mac, const std::string& address_cidr,
                           const std::string& gateway) {
    const std::string ctx = "configure interface " + quoted(ifname);
    ISOLAB_TRY_CTX(check_ifname(ifname), ctx);
    ISOLAB_TRY_CTX(check_ifname(new_name), ctx);
    NlAddrPtr lladdr;
    if (!mac.empty()) {
        nl_addr* raw = nullptr;
        if (nl_addr_parse(mac.c_str(), AF_LLC, &raw) < 0 || raw == nullptr)
            return make_error(ctx + ": MAC address " + quoted(mac) + " does not parse (e.g. `02:42:ac:11:00:02`)");
        lladdr.reset(raw);
        if (nl_addr_get_len(raw) != 6)
            return make_error(ctx + ": MAC address " + quoted(mac) + " is not 6 bytes");
        if (static_cast<const unsigned char*>(nl_addr_get_binary_addr(raw))[0] & 1)
            return make_error(ctx + ": MAC address " + quoted(mac) + " is a multicast address; use a unicast one like `02:42:...`");
    }
    auto address = parse_ipv4_cidr(address_cidr, "address");
    if (!address) return address.error().wrap(ctx);
    NlAddrPtr gw;
    if (!gateway.empty()) {
        auto parsed = parse_ipv4_host(gateway, "gateway");
        if (!parsed) return parsed.error().wrap(ctx);
        gw = std::move(*parsed);
        // The gateway must be on the subnet being added. The kernel would refuse the route too
        // (ENETUNREACH), but only after the rename and the address were done; checked up front,
        // a wrong pair changes nothing and the message says which addresses disagree.
        unsigned prefix = nl_addr_get_prefixlen(address->get());
        uint32_t a = 0, g = 0;
        std::memcpy(&a, nl_addr_get_binary_addr(address->get()), 4);
        std::memcpy(&g, nl_addr_get_binary_addr(gw.get()), 4);
        uint32_t mask = htonl(0xffffffffu << (32 - prefix));  // prefix is 1..32
        if ((a & mask) != (g & mask))
            return make_error(ctx + ": gateway " + gateway + " is not in the subnet of " + address_cidr);
        if (a == g) return make_error(ctx + ": gateway " + gateway + " is the interface's own address");
    }

    auto sock = open_route_socket();
    if (!sock) return sock.error().wrap(ctx);
    auto link = find_link(sock->get(), ifname);
    if (!link) return link.error().wrap(ctx);
    if (!*link) return make_error(ctx + ": no such interface in this network namespace");
    int ifindex = rtnl_link_get_ifindex(link->get());

    // Name and MAC first, while the link is still down: the kernel refuses to rename a running
    // interface (EBUSY).
    if (new_name != ifname || lladdr) {
        LinkPtr changes(rtnl_link_alloc());
        if (!changes) return make_error(ctx + ": out of memory");
        if (new_name != ifname) rtnl_link_set_name(changes.get(), new_name.c_str());
        if (lladdr) rtnl_link_set_addr(changes.get(), lladdr.get());
        std::string what = ctx + ": ";
        if (new_name != ifname) what += "rename to " + quoted(new_name);
        if (new_name != ifname && lladdr) what += " and ";
        if (lladdr) what += "set MAC " + mac;
        ISOLAB_TRY(change_link(sock->get(), link->get(), changes.get(), what));
    }
    const std::string& name = new_name;
    ISOLAB_TRY(add_ipv4_address(sock->get(), ifindex, address->get(), name));
    {
        auto current = find_link(sock->get(), name);
        if (!current) return current.error().wrap(ctx);
        if (!*current) return make_error(ctx + ": " + quoted(name) + " vanished during configuration");
        ISOLAB_TRY(set_up(sock->get(), current->get(), name));
    }

    if (gw) {
        RoutePtr route(rtnl_route_alloc());
        rtnl_nexthop* hop = rtnl_route_nh_alloc();
        if (!route || !hop) {
            if (hop) rtnl_route_nh_free(hop);
            return make_error(ctx + ": out of memory");
        }
        nl_addr* raw_dst = nullptr;
        int err = nl_addr_parse("default", AF_INET, &raw_dst);
        if (err < 0) {
            rtnl_route_nh_free(hop);
            return netlink_error(ctx + ": default route", err);
        }
        NlAddrPtr dst(raw_dst);
        rtnl_route_set_family(route.get(), AF_INET);
        rtnl_route_set_table(route.get(), RT_TABLE_MAIN);
        rtnl_route_set_protocol(route.get(), RTPROT_BOOT);
        rtnl_route_set_scope(route.get(), RT_SCOPE_UNIVERSE);
        rtnl_route_set_type(route.get(), RTN_UNICAST);
        err = rtnl_route_set_dst(route.get(), dst.get());
        rtnl_route_nh_set_ifindex(hop, ifindex);
        rtnl_route_nh_set_gateway(hop, gw.get());
        rtnl_route_add_nexthop(route.get(), hop);  // the route owns HOP from here
        // NLM_F_REPLACE: a repeated call, or a default route left from before, is replaced
        // rather than reported as EEXIST.
        if (err == 0) err = rtnl_route_add(sock->get(), route.get(), NLM_F_REPLACE);
        if (err < 0) return netlink_error(ctx + ": add default route via " + gateway, err);
    }
    return {};
}

Status loopback_up() {
    auto sock = open_route_socket();
    if (!sock) return sock.error().wrap("set `lo` up");
    auto lo = find_link(sock->get(), "lo");
    if (!lo) return lo.error().wrap("set `lo` up");
    if (!*lo) return make_error("set `lo` up: no loopback device in this network namespace");
    if (rtnl_link_get_flags(lo->get()) & IFF_UP) return {};
    return set_up(sock->get(), lo->get(), "lo");
}

}  // namespace isolab::net
