#include "sim/net/ipam.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/core/files.hpp"

namespace isolab::net {

// ---- Subnet ------------------------------------------------------------------------------------

static uint32_t prefix_mask(int prefix) {
    if (prefix <= 0) return 0;
    if (prefix >= 32) return 0xFFFFFFFFu;
    return ~((1u << (32 - prefix)) - 1u);
}

uint32_t Subnet::mask() const { return prefix_mask(prefix); }
uint32_t Subnet::broadcast() const { return network | ~mask(); }
std::string Subnet::cidr() const { return format_ipv4(network) + "/" + std::to_string(prefix); }
std::string Subnet::gateway() const { return format_ipv4(network + 1); }
bool Subnet::contains(uint32_t addr) const { return (addr & mask()) == network; }

bool Subnet::overlaps(const Subnet& o) const {
    // Two CIDR blocks overlap exactly when the wider one contains the other's network address.
    uint32_t m = prefix_mask(std::min(prefix, o.prefix));
    return (network & m) == (o.network & m);
}

Result<uint32_t> parse_ipv4(const std::string& s) {
    in_addr a{};
    if (s.empty() || ::inet_pton(AF_INET, s.c_str(), &a) != 1)
        return make_error("invalid IPv4 address: " + s);
    return static_cast<uint32_t>(ntohl(a.s_addr));
}

std::string format_ipv4(uint32_t a) {
    char buf[INET_ADDRSTRLEN];
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xFF, (a >> 8) & 0xFF,
                  a & 0xFF);
    return buf;
}

Result<Subnet> parse_subnet(const std::string& cidr) {
    auto slash = cidr.find('/');
    if (slash == std::string::npos)
        return make_error("invalid subnet " + cidr + ": expected an IPv4 CIDR such as 172.20.0.0/16");
    auto addr = parse_ipv4(cidr.substr(0, slash));
    if (!addr) return make_error("invalid subnet " + cidr + ": " + addr.error().message);
    std::string p = cidr.substr(slash + 1);
    if (p.empty() || p.size() > 2 || !std::all_of(p.begin(), p.end(), ::isdigit))
        return make_error("invalid subnet " + cidr + ": the prefix length must be a number");
    int prefix = std::atoi(p.c_str());
    if (prefix < 8 || prefix > 30)
        return make_error("invalid subnet " + cidr +
                          ": the prefix length must be between 8 and 30 (a bridge network needs a "
                          "gateway and at least one container address)");
    Subnet s{*addr & prefix_mask(prefix), prefix};
    if (s.network != *addr)
        return make_error("invalid subnet " + cidr + ": it should be " + s.cidr());
    return s;
}

// ---- host routes and pools ---------------------------------------------------------------------

std::vector<Subnet> host_routes() {
    std::vector<Subnet> out;
    // /proc/net is /proc/self/net, and /proc/self names the thread-group leader: a thread that
    // entered another network namespace would read its leader's routes. thread-self is exact.
    auto text = read_file("/proc/thread-self/net/route");
    if (!text) text = read_file("/proc/net/route");
    if (text) {
        std::istringstream in(*text);
        std::string line;
        std::getline(in, line);  // header
        while (std::getline(in, line)) {
            std::istringstream f(line);
            std::string iface, dest, gw, flags, refcnt, use, metric, mask;
            if (!(f >> iface >> dest >> gw >> flags >> refcnt >> use >> metric >> mask)) continue;
            // The kernel prints the raw network-order word with %08X: read it back as a native
            // integer, and ntohl gives host order.
            uint32_t d = ntohl(static_cast<uint32_t>(std::strtoul(dest.c_str(), nullptr, 16)));
            uint32_t m = ntohl(static_cast<uint32_t>(std::strtoul(mask.c_str(), nullptr, 16)));
            if (m == 0) continue;  // default route
            out.push_back(Subnet{d & m, std::popcount(m)});
        }
    }
    // getifaddrs talks netlink to the kernel of the caller's namespace; no NSS involved.
    struct ifaddrs* ifs = nullptr;
    if (::getifaddrs(&ifs) == 0) {
        for (auto* i = ifs; i; i = i->ifa_next) {
            if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !i->ifa_netmask) continue;
            uint32_t a = ntohl(reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr);
            uint32_t m = ntohl(reinterpret_cast<sockaddr_in*>(i->ifa_netmask)->sin_addr.s_addr);
            Subnet s{a & m, std::popcount(m)};
            if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
        }
        ::freeifaddrs(ifs);
    }
    return out;
}

std::vector<Subnet> default_pools() {
    std::vector<Subnet> pools;
    for (uint32_t b = 17; b <= 31; ++b) pools.push_back(Subnet{(172u << 24) | (b << 16), 16});
    for (uint32_t c = 0; c < 256; c += 16)
        pools.push_back(Subnet{(192u << 24) | (168u << 16) | (c << 8), 20});
    return pools;
}

Result<Subnet> pick_free_subnet(const std::vector<Subnet>& taken) {
    for (const Subnet& cand : default_pools()) {
        bool clash = std::any_of(taken.begin(), taken.end(),
                                 [&](const Subnet& t) { return t.overlaps(cand); });
        if (!clash) return cand;
    }
    return make_error(
        "could not find an available, non-overlapping IPv4 address pool among the defaults to "
        "assign to the network (172.17.0.0/16 ... 172.31.0.0/16, 192.168.0.0/20 ... "
        "192.168.240.0/20 are all in use): remove unused networks (`isolab network prune`) or "
        "pass --subnet");
}

Error pools_exhausted(const std::vector<TakenSubnet>& taken, const std::string& fix) {
    struct Group {
        std::string holder;
        int pools = 0;
        std::vector<std::string> names;
    };
    std::vector<Group> groups;  // in TAKEN's order
    for (const Subnet& pool : default_pools()) {
        auto it = std::find_if(taken.begin(), taken.end(), [&](const TakenSubnet& t) { return t.subnet.overlaps(pool); });
        if (it == taken.end()) continue;
        auto g = std::find_if(groups.begin(), groups.end(), [&](const Group& x) { return x.holder == it->holder; });
        if (g == groups.end()) g = groups.insert(groups.end(), Group{it->holder, 0, {}});
        ++g->pools;
        if (std::find(g->names.begin(), g->names.end(), it->name) == g->names.end()) g->names.push_back(it->name);
    }
    std::string msg =
        "could not find an available, non-overlapping IPv4 address pool among the defaults to assign "
        "to the network: the " + std::to_string(default_pools().size()) +
        " default pools (172.17.0.0/16 ... 172.31.0.0/16, 192.168.0.0/20 ... 192.168.240.0/20) are taken";
    for (size_t i = 0; i < groups.size(); ++i) {
        const Group& g = groups[i];
        msg += (i ? ", " : ": ") + std::to_string(g.pools) + " by " + g.holder + " (";
        for (size_t k = 0; k < g.names.size() && k < 3; ++k) msg += (k ? ", " : "") + g.names[k];
        msg += g.names.size() > 3 ? ", ...)" : ")";
    }
    return make_error(msg + ": " + fix);
}

// ---- Ipam --------------------------------------------------------------------------------------

namespace {

// Network names become file names: Docker's rule [a-zA-Z0-9][a-zA-Z0-9_.-]* keeps them inside DIR.
Status check_network_name(const std::string& n) {
    bool ok = !n.empty() && std::isalnum(static_cast<unsigned char>(n[0]));
    for (char c : n)
        ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-');
    if (!ok)
        return make_error("invalid network name `" + n +
                          "`: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
    return {};
}

struct LeaseFile {
    std::string subnet;                         // cidr the leases were given in
    uint32_t last = 0;                          // last address handed out (0: none yet)
    std::map<std::string, std::string> leases;  // owner → address
};

std::string lease_path(const std::string& dir, const std::string& network) {
    return dir + "/" + network + ".json";
}

// A missing file is an empty one; a corrupt file is an error (handing out addresses from an
// empty table could give one twice).
Result<LeaseFile> load(const std::string& dir, const std::string& network) {
    LeaseFile f;
    std::string path = lease_path(dir, network);
    if (!path_exists(path)) return f;
    auto text = read_file(path);
    if (!text) return text.error();
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return make_error("corrupt lease file `" + path + "`: remove it and restart the containers of network " + network);
    f.subnet = j.value("subnet", "");
    if (auto last = parse_ipv4(j.value("last", "")); last) f.last = *last;
    if (j.contains("leases") && j["leases"].is_object())
        for (auto& [owner, addr] : j["leases"].items())
            if (addr.is_string()) f.leases[owner] = addr.get<std::string>();
    return f;
}

Status save(const std::string& dir, const std::string& network, const LeaseFile& f) {
    nlohmann::json j;
    j["network"] = network;
    j["subnet"] = f.subnet;
    j["last"] = f.last ? format_ipv4(f.last) : "";
    j["leases"] = f.leases;
    return write_file_atomic(lease_path(dir, network), j.dump(2) + "\n");
}

// One lock for the whole directory: a per-network lock file could not be deleted safely by
// remove_network (a waiter would hold a lock on the unlinked inode while a newcomer locks a new one).
Result<FileLock> lock_dir(const std::string& dir) {
    ISOLAB_TRY_CTX(make_dirs(dir, 0755), "IP address leases");
    return FileLock::acquire(dir + "/.lock");
}

}  // namespace

Ipam::Ipam(std::string dir) : dir_(std::move(dir)) {
    while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
}

Result<std::string> Ipam::allocate(const std::string& network, const Subnet& subnet,
                                   const std::string& owner, const std::string& requested) {
    ISOLAB_TRY(check_network_name(network));
    if (subnet.prefix < 8 || subnet.prefix > 30 || (subnet.network & ~subnet.mask()) != 0)
        return make_error("network " + network + ": invalid subnet " + subnet.cidr());
    uint32_t want = 0;
    if (!requested.empty()) {
        auto r = parse_ipv4(requested);
        if (!r) return r.error();
        want = *r;
        if (!subnet.contains(want))
            return make_error("invalid endpoint settings: no configured subnet or ip-range contain "
                              "the IP address " + requested);
        if (want == subnet.network || want == subnet.broadcast())
            return make_error("invalid endpoint settings: " + requested +
                              " is the network or broadcast address of " + subnet.cidr());
        if (want == subnet.network + 1)
            return make_error("Address already in use: " + requested + " is the gateway of network " + network);
    }

    auto lock = lock_dir(dir_);
    if (!lock) return lock.error();
    auto loaded = load(dir_, network);
    if (!loaded) return loaded.error();
    LeaseFile f = std::move(*loaded);
    if (f.subnet != subnet.cidr()) {
        // The network was created again with another subnet: keep only leases still valid.
        for (auto it = f.leases.begin(); it != f.leases.end();) {
            auto a = parse_ipv4(it->second);
            it = (a && subnet.contains(*a)) ? std::next(it) : f.leases.erase(it);
        }
        f.subnet = subnet.cidr();
        f.last = 0;
    }

    if (auto it = f.leases.find(owner); it != f.leases.end()) {
        if (want == 0 || it->second == requested) return it->second;
        return make_error("container " + owner + " already has address " + it->second +
                          " on network " + network + ", not " + requested);
    }

    std::set<uint32_t> used;
    for (auto& [o, a] : f.leases)
        if (auto v = parse_ipv4(a); v) used.insert(*v);

    const uint32_t first = subnet.network + 2;       // .0 is the network, .1 the gateway
    const uint32_t last_host = subnet.broadcast() - 1;
    uint32_t chosen = 0;
    if (want) {
        if (used.count(want)) return make_error("Address already in use: " + requested);
        chosen = want;
    } else {
        uint32_t start = (f.last >= first && f.last < last_host) ? f.last + 1 : first;
        uint64_t count = static_cast<uint64_t>(last_host) - first + 1;
        uint32_t a = start;
        for (uint64_t i = 0; i < count; ++i) {
            if (!used.count(a)) {
                chosen = a;
                break;
            }
            a = (a == last_host) ? first : a + 1;
        }
        if (!chosen)
            return make_error("no available IPv4 addresses on this network's address pools: " +
                              network + " (" + subnet.cidr() + ")");
    }
    f.leases[owner] = format_ipv4(chosen);
    // A requested address does not move the pointer, as in Docker (only serial allocations do).
    if (!want) f.last = chosen;
    ISOLAB_TRY_CTX(save(dir_, network, f), "network " + network);
    return format_ipv4(chosen);
}

Status Ipam::release(const std::string& network, const std::string& owner) {
    ISOLAB_TRY(check_network_name(network));
    auto lock = lock_dir(dir_);
    if (!lock) return lock.error();
    auto f = load(dir_, network);
    if (!f) return f.error();
    if (f->leases.erase(owner) == 0) return {};
    return save(dir_, network, *f);
}

std::map<std::string, std::string> Ipam::leases(const std::string& network) const {
    if (!check_network_name(network)) return {};
    // No lock: save() replaces the file with rename(2), so a reader sees one whole version.
    auto f = load(dir_, network);
    return f ? f->leases : std::map<std::string, std::string>{};
}

int Ipam::release_unless(const std::string& network,
                         const std::function<bool(const std::string&)>& keep) {
    if (!check_network_name(network)) return 0;
    auto lock = lock_dir(dir_);
    if (!lock) return 0;
    auto f = load(dir_, network);
    if (!f) return 0;
    int dropped = 0;
    for (auto it = f->leases.begin(); it != f->leases.end();) {
        if (keep(it->first)) {
            ++it;
        } else {
            it = f->leases.erase(it);
            ++dropped;
        }
    }
    if (dropped && !save(dir_, network, *f)) return 0;
    return dropped;
}

Status Ipam::remove_network(const std::string& network) {
    ISOLAB_TRY(check_network_name(network));
    auto lock = lock_dir(dir_);
    if (!lock) return lock.error();
    std::string path = lease_path(dir_, network);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        return errno_error("remove lease file `" + path + "`", errno);
    return {};
}

}  // namespace isolab::net
