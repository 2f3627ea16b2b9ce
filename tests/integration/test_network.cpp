// Container networking on real network namespaces: the isolation boundary a learner hits, and
// the ways through it (a shared user network, a published port, the bridge's gateway). Every
// address used is on this machine (loopback, or a bridge IsoLab makes).
#include <doctest/doctest.h>

#include "tests/skip.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "harness.hpp"
#include "sim/net/firewall.hpp"

using namespace isolab::test;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> cat(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

bool can_network(const TempRoot& r) {
    if (::geteuid() != 0) {
        ISOLAB_SKIP("container networking needs root (bridges and veth pairs)");
        return false;
    }
    auto v = r.isolab({"version"});
    if (v.out.find("Backend: namespaces") == std::string::npos) {
        ISOLAB_SKIP("no real containers here: " << v.out);
        return false;
    }
    return true;
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

// busybox wget from the host (the host side of the boundary). Not `wget -T`: busybox 1.35's
// wget crashes with it; the process's time limit does the job.
CmdResult host_wget(const std::string& url) {
    return run_process({"/bin/busybox", "wget", "-q", "-O", "-", url}, {}, 5000);
}

// The words of a wget run inside a container, bounded to 3 s by busybox `timeout`. Not as PID 1:
// busybox timeout signals its parent, and PID 1 of a namespace ignores signals from inside it;
// the `exit` keeps sh from exec'ing the command in its place.
std::vector<std::string> wget_in(const std::string& url) {
    return {"sh", "-c", "timeout -s KILL 3 wget -q -O - " + url + "; exit $?"};
}

// A failure that is the network's doing (refused, unreachable, timed out), not a crash.
bool network_failure(const CmdResult& r) { return r.code != 0 && r.code != 139; }

// A busybox httpd on the host, serving DIR on ADDR:PORT, for as long as the object lives.
class HostServer {
public:
    HostServer(const std::string& dir, const std::string& addr_port) {
        pid_ = ::fork();
        if (pid_ == 0) {
            ::setpgid(0, 0);
            ::execl("/bin/busybox", "busybox", "httpd", "-f", "-p", addr_port.c_str(), "-h", dir.c_str(), nullptr);
            ::_exit(127);
        }
        int port = std::atoi(addr_port.substr(addr_port.rfind(':') + 1).c_str());
        poll_until(std::chrono::seconds(10), [&] { return local_port_open(port); });
    }
    ~HostServer() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }

private:
    pid_t pid_ = -1;
};

int count_links(const std::string& prefix) {
    auto r = run_process({"/bin/sh", "-c", "ip -o link show | grep -c ' " + prefix + "' || true"});
    return std::atoi(r.out.c_str());
}

// What one `isolab` command (and every process it started: the monitor, the container) did to the
// firewall, seen by strace: the nft and iptables programs it ran, and the netfilter netlink
// sockets it opened (libnftables and iptables-nft talk to nf_tables through one each).
struct FirewallWork {
    CmdResult result;
    bool monitor_seen = false;        // strace followed the command into its monitor
    std::vector<std::string> spawned; // nft/iptables programs started
    int netfilter_sockets = 0;
};

const char* const kStrace = "/usr/bin/strace";

FirewallWork traced(const TempRoot& r, const std::vector<std::string>& args, const std::string& log) {
    FirewallWork w;
    std::vector<std::string> argv{kStrace, "-f", "-qq", "-e", "trace=execve,socket", "-o", log, r.bin};
    argv.insert(argv.end(), args.begin(), args.end());
    w.result = run_process(argv, {"ISOLAB_ROOT=" + r.path(), "ISOLAB_LANG=en"});
    std::istringstream in(read_text(log));
    for (std::string l; std::getline(in, l);) {
        auto e = l.find("execve(\"");
        if (e != std::string::npos) {
            std::string path = l.substr(e + 8, l.find('"', e + 8) - e - 8);
            std::string base = path.substr(path.rfind('/') + 1);
            if (base == "isolab-monitor") w.monitor_seen = true;
            if (base == "nft" || base.find("iptables") != std::string::npos || base.find("xtables") != std::string::npos)
                w.spawned.push_back(path);
        }
        if (l.find("socket(") != std::string::npos && l.find("NETLINK_NETFILTER") != std::string::npos)
            ++w.netfilter_sockets;
    }
    return w;
}

// This root's rules for NETWORK, as `nft list table ip isolab` and `iptables -S` print them.
std::vector<std::string> rules_of(const TempRoot& r, const std::string& network) {
    const std::string tag = isolab::net::rule_comment(fs::weakly_canonical(r.path()).string(), network);
    std::vector<std::string> out;
    for (auto& l : isolab::net::list_rules())
        if (l.find(tag) != std::string::npos) out.push_back(l);
    return out;
}

}  // namespace

TEST_CASE("network none: only lo, and the host cannot be reached") {
    TempRoot r;
    if (!can_network(r)) return;
    auto links = r.isolab({"run", "--rm", "--network", "none", "busybox", "sh", "-c", "ls /sys/class/net"});
    CHECK(links.out == "lo\n");
    auto route = r.isolab({"run", "--rm", "--network", "none", "busybox", "ip", "route"});
    CHECK(route.out.empty());
    auto inspect = r.isolab({"network", "inspect", "-f", "{{.Driver}}", "none"});
    CHECK(inspect.out == "null\n");
}

TEST_CASE("network: the default bridge gives eth0, an address, a route; publishing opens the boundary") {
    TempRoot r;
    if (!can_network(r)) return;
    auto net = r.isolab({"run", "--rm", "busybox", "sh", "-c", "ls /sys/class/net; ip -4 -o addr show eth0; ip route"});
    INFO(net.err);
    REQUIRE(net.code == 0);
    CHECK(net.out.find("eth0\nlo\n") == 0);
    CHECK(net.out.find("default via ") != std::string::npos);
    std::string gateway = trim(r.isolab({"network", "inspect", "-f", "{{range .IPAM.Config}}{{.Gateway}}{{end}}", "bridge"}).out);
    REQUIRE(!gateway.empty());

    std::string site = r.path() + "/site";
    fs::create_directories(site);
    std::ofstream(site + "/index.html") << "host page\n";

    // Unpublished: the container's server is not on the host's 127.0.0.1.
    REQUIRE(r.isolab({"run", "-d", "--name", "hidden", "busybox", "httpd", "-f", "-p", "80", "-h", "/var/www"}).code == 0);
    CHECK(host_wget("http://127.0.0.1:18080/").code != 0);
    std::string ip = trim(r.isolab({"inspect", "-f", "{{.NetworkSettings.IPAddress}}", "hidden"}).out);
    CHECK(ip.rfind(gateway.substr(0, gateway.rfind('.')), 0) == 0);  // on the bridge's subnet
    CHECK(host_wget("http://" + ip + ":80/").out.find("Hello from IsoLab") != std::string::npos);  // via the bridge

    // Published: 127.0.0.1:18080 on the host is the container's port 80.
    auto pub = r.isolab({"run", "-d", "--name", "web", "-p", "18080:80", "busybox", "httpd", "-f", "-p", "80", "-h", "/var/www"});
    INFO(pub.err);
    REQUIRE(pub.code == 0);
    CHECK(host_wget("http://127.0.0.1:18080/").out.find("Hello from IsoLab") != std::string::npos);
    CHECK(r.isolab({"port", "web"}).out == "80/tcp -> 0.0.0.0:18080\n");
    CHECK(r.isolab({"port", "web", "80"}).out == "0.0.0.0:18080\n");
    CHECK(r.isolab({"port", "web", "81"}).code == 1);
    CHECK(r.isolab({"ps", "--filter", "name=web", "--format", "{{.Ports}}"}).out.find("0.0.0.0:18080->80/tcp") != std::string::npos);

    // The lesson's point: 127.0.0.1 inside is the container's own loopback, not the host's.
    HostServer local(site, "127.0.0.1:18090");
    HostServer wide(site, "0.0.0.0:18091");
    CHECK(host_wget("http://127.0.0.1:18090/").out == "host page\n");
    CHECK(network_failure(r.isolab(cat({"exec", "web"}, wget_in("http://127.0.0.1:18090/")))));
    auto via_gw = r.isolab(cat({"exec", "web"}, wget_in("http://" + gateway + ":18091/")));
    CHECK(via_gw.out == "host page\n");

    // Stopping the container closes the published port; rm leaves no veth.
    std::string id = r.id_of("web");
    CHECK(r.isolab({"stop", "-t", "1", "web"}).code == 0);
    CHECK(host_wget("http://127.0.0.1:18080/").code != 0);
    CHECK(r.isolab({"port", "web"}).out.empty());
    CHECK(r.isolab({"rm", "-f", "web", "hidden"}).code == 0);
    CHECK(count_links("veth-il" + id.substr(0, 7)) == 0);
}

TEST_CASE("network: containers on one user network reach each other by name; other networks cannot") {
    TempRoot r;
    if (!can_network(r)) return;
    auto created = r.isolab({"network", "create", "study"});
    INFO(created.err);
    REQUIRE(created.code == 0);
    CHECK(trim(created.out).size() == 64);
    REQUIRE(r.isolab({"network", "create", "other"}).code == 0);
    CHECK(r.isolab({"network", "create", "study"}).err == "Error response from daemon: network with name study already exists\n");
    auto ls = r.isolab({"network", "ls"});
    for (const char* n : {"bridge", "host", "none", "study", "other"}) CHECK(ls.out.find(std::string(" ") + n + " ") != std::string::npos);

    REQUIRE(r.isolab({"run", "-d", "--name", "web", "--network", "study", "busybox", "httpd", "-f", "-p", "80", "-h", "/var/www"}).code == 0);
    auto by_name = r.isolab(cat({"run", "--rm", "--network", "study", "busybox"}, wget_in("http://web/")));
    INFO(by_name.err);
    CHECK(by_name.out.find("Hello from IsoLab") != std::string::npos);
    // Another network: the name is unknown there and the address unreachable.
    std::string ip = trim(r.isolab({"inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", "web"}).out);
    REQUIRE(!ip.empty());
    CHECK(network_failure(r.isolab(cat({"run", "--rm", "--network", "other", "busybox"}, wget_in("http://web/")))));
    CHECK(network_failure(r.isolab(cat({"run", "--rm", "--network", "other", "busybox"}, wget_in("http://" + ip + "/")))));
    // The default bridge has no names either (as Docker's).
    CHECK(network_failure(r.isolab(cat({"run", "--rm", "busybox"}, wget_in("http://web/")))));

    // connect: a container on `other` joins `study` and then reaches web by name.
    REQUIRE(r.isolab({"run", "-d", "--name", "client", "--network", "other", "busybox", "sleep", "60"}).code == 0);
    CHECK(r.isolab({"network", "connect", "study", "client"}).code == 0);
    CHECK(r.isolab({"exec", "client", "ls", "/sys/class/net"}).out == "eth0\neth1\nlo\n");
    CHECK(r.isolab(cat({"exec", "client"}, wget_in("http://web/"))).out.find("Hello from IsoLab") != std::string::npos);
    CHECK(r.isolab({"network", "connect", "study", "client"}).code == 1);  // already there
    CHECK(r.isolab({"network", "disconnect", "study", "client"}).code == 0);
    CHECK(r.isolab({"exec", "client", "ls", "/sys/class/net"}).out == "eth0\nlo\n");

    // rm of a network in use is refused; once empty it goes, bridge included.
    auto busy = r.isolab({"network", "rm", "study"});
    CHECK(busy.code == 1);
    CHECK(busy.err.find("has active endpoints") != std::string::npos);
    std::string bridge = trim(r.isolab({"network", "inspect", "-f", "{{index .Options \"com.docker.network.bridge.name\"}}", "study"}).out);
    CHECK(bridge.rfind("isolab-", 0) == 0);
    CHECK(r.isolab({"rm", "-f", "web", "client"}).code == 0);
    auto removed = r.isolab({"network", "rm", "study", "other"});
    INFO(removed.err);
    CHECK(removed.out == "study\nother\n");
    CHECK(count_links(bridge) == 0);
    CHECK(r.isolab({"network", "rm", "bridge"}).err.find("bridge is a pre-defined network and cannot be removed") != std::string::npos);
}

TEST_CASE("network: bad input is refused with exit 125 and nothing is created") {
    TempRoot r;
    if (!can_network(r)) return;
    auto unknown = r.isolab({"run", "--network", "nope", "busybox", "true"});
    CHECK(unknown.code == 125);
    CHECK(unknown.err.find("network nope not found") != std::string::npos);
    auto syntax = r.isolab({"run", "-p", "80:abc", "busybox", "true"});
    CHECK(syntax.code == 125);
    // A host port in use is refused before the container exists.
    HostServer squatter(r.path(), "127.0.0.1:18081");
    auto busy = r.isolab({"run", "-d", "--name", "late", "-p", "18081:80", "busybox", "sleep", "5"});
    CHECK(busy.code == 125);
    CHECK(busy.err.find("18081") != std::string::npos);
    CHECK(busy.err.find("port is already allocated") != std::string::npos);
    CHECK(r.isolab({"ps", "-aq"}).out.empty());
    CHECK(r.isolab({"network", "create", "--subnet", "10.1.2.3/24", "badnet"}).code == 125);
}

TEST_CASE("network: 50 containers on one network get 50 different addresses; rm leaves no veth") {
    TempRoot r;
    if (!can_network(r)) return;
    REQUIRE(r.isolab({"network", "create", "--subnet", "10.213.0.0/24", "crowd"}).code == 0);
    std::set<std::string> ips;
    for (int i = 0; i < 50; ++i) {
        auto c = r.isolab({"run", "-d", "--network", "crowd", "--name", "c" + std::to_string(i), "busybox", "sleep", "120"});
        REQUIRE(c.code == 0);
    }
    for (int i = 0; i < 50; ++i)
        ips.insert(trim(r.isolab({"inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", "c" + std::to_string(i)}).out));
    CHECK(ips.size() == 50);
    CHECK(ips.count("10.213.0.1") == 0);  // the gateway
    std::vector<std::string> ids;
    for (int i = 0; i < 50; ++i) ids.push_back(r.id_of("c" + std::to_string(i)));
    auto veths_of_crowd = [&]() {
        int n = 0;
        for (const auto& id : ids) n += count_links("veth-il" + id.substr(0, 7));
        return n;
    };
    CHECK(veths_of_crowd() == 50);
    // The last one reaches the first by name, across the crowd.
    CHECK(r.isolab({"exec", "c49", "ping", "-c", "1", "-W", "2", "c0"}).code == 0);
    std::vector<std::string> rm = {"rm", "-f"};
    for (int i = 0; i < 50; ++i) rm.push_back("c" + std::to_string(i));
    CHECK(r.isolab(rm, 120000).code == 0);
    CHECK(veths_of_crowd() == 0);
    // The addresses are free again (a new container gets one) and the leases file is empty.
    auto again = r.isolab({"run", "--rm", "--network", "crowd", "busybox", "ip", "-4", "-o", "addr", "show", "eth0"});
    CHECK(again.out.find("10.213.0.") != std::string::npos);
}

TEST_CASE("network: kill -9 of the monitor leaves no veth and no proxy after the next command") {
    TempRoot r;
    if (!can_network(r)) return;
    REQUIRE(r.isolab({"run", "-d", "--name", "doomed", "-p", "18082:80", "busybox", "httpd", "-f", "-p", "80", "-h", "/var/www"}).code == 0);
    // httpd listens a moment after `run -d` returns (longer on a loaded machine): wait for it.
    CHECK(poll_until(std::chrono::seconds(10), [&] {
        return host_wget("http://127.0.0.1:18082/").out.find("Hello from IsoLab") != std::string::npos;
    }));
    std::string id = r.id_of("doomed");
    int monitor = std::atoi(r.isolab({"inspect", "-f", "{{.IsoLab.MonitorPid}}", "doomed"}).out.c_str());
    REQUIRE(monitor > 0);
    ::kill(monitor, SIGKILL);
    poll_until(std::chrono::seconds(10), [&] { return !process_alive(monitor); });
    auto ps = r.isolab({"ps", "-a", "--format", "{{.Status}}"});
    CHECK(ps.out.find("Exited (255)") != std::string::npos);
    CHECK(host_wget("http://127.0.0.1:18082/").code != 0);
    CHECK(count_links("veth-il" + id.substr(0, 7)) == 0);
    // The port is free again for a new container.
    CHECK(r.isolab({"run", "-d", "--name", "next", "-p", "18082:80", "busybox", "sleep", "30"}).code == 0);
}

TEST_CASE("network: only a network's first start does firewall work; a published port adds no rule") {
    TempRoot r;
    if (!can_network(r)) return;
    if (::access(kStrace, X_OK) != 0) {
        MESSAGE("SKIPPED: strace is not installed (apt-get install strace): it is how this case sees processes");
        return;
    }
    REQUIRE(r.isolab({"network", "create", "--subnet", "10.214.0.0/24", "once"}).code == 0);
    // The first start makes the bridge and the rules: the trace sees it (so it could see it later).
    auto first = traced(r, {"run", "--rm", "--network", "once", "busybox", "true"}, r.path() + "/trace.1");
    INFO(first.result.err);
    REQUIRE(first.result.code == 0);
    CHECK(first.monitor_seen);
    CHECK(first.spawned.size() + first.netfilter_sockets > 0);
    const auto rules = rules_of(r, "once");
    CHECK(!rules.empty());
    CHECK(fs::exists(r.path() + "/networks/once.setup"));

    // The second start: a veth, no firewall. No nft, no iptables, no netfilter socket anywhere in
    // the CLI, the monitor or the container.
    auto second = traced(r, {"run", "--rm", "--network", "once", "busybox", "ip", "-4", "-o", "addr", "show", "eth0"},
                         r.path() + "/trace.2");
    REQUIRE(second.result.code == 0);
    CHECK(second.monitor_seen);
    CHECK(second.result.out.find("10.214.0.") != std::string::npos);
    CHECK(second.spawned == std::vector<std::string>{});
    CHECK(second.netfilter_sockets == 0);
    CHECK(rules_of(r, "once") == rules);

    // A published port is the proxy's listening socket, open while the container runs and closed
    // when it stops; it needs no rule (the proxy's traffic is the host's own), and none appears.
    std::string page;
    std::vector<std::string> rules_meanwhile;
    FirewallWork pub;
    std::thread run([&] {
        pub = traced(r, {"run", "--rm", "--network", "once", "-p", "18083:80", "busybox", "sh", "-c",
                         "httpd -p 80 -h /var/www; sleep 3"},
                     r.path() + "/trace.3");
    });
    for (int i = 0; i < 50 && page.empty(); ++i) {
        ::usleep(100 * 1000);
        auto got = host_wget("http://127.0.0.1:18083/");
        if (got.code == 0) {
            page = got.out;
            rules_meanwhile = rules_of(r, "once");
        }
    }
    run.join();
    INFO(pub.result.err);
    CHECK(pub.result.code == 0);
    CHECK(page.find("Hello from IsoLab") != std::string::npos);
    CHECK(rules_meanwhile == rules);
    CHECK(pub.spawned == std::vector<std::string>{});
    CHECK(pub.netfilter_sockets == 0);
    CHECK(host_wget("http://127.0.0.1:18083/").code != 0);  // closed with the container
    CHECK(rules_of(r, "once") == rules);

    // A bridge deleted behind IsoLab's back (its rules may have been collected with it) voids the
    // record: the next start makes bridge and rules again.
    std::string bridge = trim(r.isolab({"network", "inspect", "-f", "{{index .Options \"com.docker.network.bridge.name\"}}", "once"}).out);
    REQUIRE(bridge.rfind("isolab-", 0) == 0);
    REQUIRE(run_process({"ip", "link", "del", bridge}).code == 0);
    auto again = traced(r, {"run", "--rm", "--network", "once", "busybox", "true"}, r.path() + "/trace.4");
    CHECK(again.result.code == 0);
    CHECK(again.spawned.size() + again.netfilter_sockets > 0);
    CHECK(count_links(bridge) == 1);
    CHECK(rules_of(r, "once") == rules);

    // network rm takes the rules and the record.
    REQUIRE(r.isolab({"network", "rm", "once"}).code == 0);
    CHECK(rules_of(r, "once").empty());
    CHECK_FALSE(fs::exists(r.path() + "/networks/once.setup"));
}
