#include "sim/net/attach.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

#include "sim/core/files.hpp"
#include "sim/net/firewall.hpp"
#include "sim/net/netlink.hpp"
#include "sim/net/orphans.hpp"

namespace isolab::net {

namespace {

// ROOT/networks/NAME.setup; "" for a network outside a state root (nothing is recorded).
std::string setup_marker_path(const Network& network) {
    if (network.root.empty() || network.root[0] != '/') return "";
    return network.root + "/networks/" + network.name + ".setup";
}

// What the kernel side of NETWORK is, as far as a start can tell without asking the firewall:
// this boot, this network namespace (of the calling thread), the bridge by name AND ifindex, and
// the network's addresses. Equal to the marker's content exactly when nothing that would undo the
// set-up has happened since: a reboot or another namespace changes the first two, and the bridge's
// deletion changes its ifindex (bridges are made again with a new one), which also covers the
// collector of orphans, since it only removes a live root's rules together with a missing bridge.
std::string setup_generation(const Network& network) {
    auto boot = read_file("/proc/sys/kernel/random/boot_id");
    struct stat ns{};
    if (!boot || ::stat("/proc/thread-self/ns/net", &ns) != 0) return "";
    unsigned index = ::if_nametoindex(network.bridge.c_str());
    if (index == 0) return "";
    return "isolab network set-up 1\nboot " + trim(*boot) + "\nnetns " + std::to_string(ns.st_dev) + ":" +
           std::to_string(ns.st_ino) + "\nbridge " + network.bridge + " " + std::to_string(index) + "\nsubnet " +
           network.subnet + " " + network.gateway + "\ninternal " + (network.internal ? "1" : "0") + "\n";
}

}  // namespace

Result<std::string> prepare_network(const Network& network) {
    if (network.driver != net::Driver::Bridge) return std::string();
    // A start on a network already set up does no bridge or firewall work at all: no nft or
    // iptables process, no netlink round trip to nf_tables. It costs a file read and a stat.
    const std::string marker = setup_marker_path(network);
    if (!marker.empty()) {
        auto recorded = read_file(marker);
        if (recorded && !recorded->empty() && *recorded == setup_generation(network)) return std::string();
    }
    ISOLAB_TRY(claim_bridge(network.bridge, network.gateway + "/" + network.subnet.substr(network.subnet.find('/') + 1),
                            network.root));
    std::string warning;
    if (!network.internal) {
        auto fw = ensure_network_rules(network.root, network.name, network.subnet, network.bridge);
        if (!fw) return fw.error().wrap("network " + network.name);
        warning = fw->warning;
    }
    // Not recorded with a warning: the next start tries again (a tool may have been installed),
    // and its container gets the warning too. A marker that cannot be written costs only speed.
    if (!marker.empty() && warning.empty())
        if (std::string gen = setup_generation(network); !gen.empty()) (void)write_file_atomic(marker, gen, 0600);
    return warning;
}

Status teardown_network(const Network& network) {
    if (network.driver != net::Driver::Bridge) return {};
    // The marker goes first: whatever fails below, the next start sets the network up again.
    if (std::string marker = setup_marker_path(network); !marker.empty()) ::unlink(marker.c_str());
    Status rules = remove_network_rules(network.root, network.name, network.bridge);
    ISOLAB_TRY(release_bridge(network.bridge, network.root));
    return rules;
}

Status attach_endpoint(const Endpoint& ep, pid_t pid, bool default_route) {
    if (ep.ip.empty() || ep.bridge.empty()) return {};
    (void)delete_link(ep.host_veth);  // a pair left by a container that died a moment ago
    // The container end gets a temporary name in the host's namespace (where "eth0" may exist)
    // and is renamed once inside.
    std::string peer = "tmp" + ep.host_veth.substr(4);
    ISOLAB_TRY(create_veth(ep.host_veth, peer, ep.bridge, pid));
    std::string cidr = ep.ip + "/" + std::to_string(ep.prefix);
    std::string gw = default_route ? ep.gateway : "";
    Status configured = run_in_netns(pid, [&]() { return configure_interface(peer, ep.ifname, ep.mac, cidr, gw); });
    if (!configured) (void)delete_link(ep.host_veth);  // no half-plugged pair is left
    return configured;
}

Status detach_endpoint(const Endpoint& ep) {
    if (ep.host_veth.empty()) return {};
    return delete_link(ep.host_veth);
}

std::string hosts_file(const std::string& hostname, const std::vector<Endpoint>& own,
                       const std::vector<HostEntry>& peers) {
    std::ostringstream out;
    out << "127.0.0.1\tlocalhost\n"
        << "::1\tlocalhost ip6-localhost ip6-loopback\n"
        << "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";
    for (const auto& e : own)
        if (!e.ip.empty()) out << e.ip << "\t" << hostname << "\n";
    if (!peers.empty()) out << "# other containers on the same networks (kept up to date by IsoLab)\n";
    for (const auto& p : peers) out << p.ip << "\t" << p.name << " " << p.short_id << "\n";
    return out.str();
}

std::string resolv_conf_for_container(const std::string& host) {
    std::istringstream in(host);
    std::ostringstream out;
    bool any = false;
    for (std::string line; std::getline(in, line);) {
        std::istringstream ls(line);
        std::string key, value;
        ls >> key >> value;
        if (key == "nameserver") {
            if (value.rfind("127.", 0) == 0 || value == "::1") continue;
            any = true;
        }
        out << line << "\n";
    }
    return any ? out.str() : "";
}

Status rewrite_in_place(const std::string& path, const std::string& content) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return errno_error("write `" + path + "`", errno);
    size_t off = 0;
    while (off < content.size()) {
        ssize_t n = ::write(fd, content.data() + off, content.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            int err = errno;
            ::close(fd);
            return errno_error("write `" + path + "`", err);
        }
        off += static_cast<size_t>(n);
    }
    ::close(fd);
    return {};
}

}  // namespace isolab::net
