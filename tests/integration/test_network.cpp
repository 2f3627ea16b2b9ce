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

#include "harness.hpp"

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
    CHECK(host_wget("http://127.0.0.1:18082/").out.find("Hello from IsoLab") != std::string::npos);
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
