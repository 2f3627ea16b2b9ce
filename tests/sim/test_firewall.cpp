// Firewall rules, for real, but ONLY inside a private network namespace: each case runs in a
// std::thread that calls unshare(CLONE_NEWNET) first. nft and iptables are started from that
// thread, so they see (and change) the private namespace, never the host's firewall; the
// namespace and its rules vanish when the thread ends. Without root or without the tools, the
// cases say SKIPPED loudly.
#include <doctest/doctest.h>

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <string>
#include <thread>

#include "sim/core/files.hpp"
#include "sim/net/firewall.hpp"

using namespace isolab;
using namespace isolab::net;

namespace {

// REQUIRE throws, and an exception leaving the namespace thread would terminate the run: inside
// it, check and return instead. COND is evaluated once.
#define NS_REQUIRE(cond) NS_REQUIRE_MESSAGE(cond, #cond)
#define NS_REQUIRE_MESSAGE(cond, msg)    \
    do {                                 \
        bool ns_ok_ = static_cast<bool>(cond); \
        CHECK_MESSAGE(ns_ok_, msg);      \
        if (!ns_ok_) return;             \
    } while (0)

// Runs BODY in a thread inside a fresh network namespace. Returns "" or why it could not.
std::string in_private_netns(const std::function<void()>& body) {
    std::string why;
    std::thread t([&] {
        if (::unshare(CLONE_NEWNET) != 0) {
            why = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
            return;
        }
        body();
    });
    t.join();
    return why;
}

// Skips loudly; true when the case can run with TOOL.
bool can_run(const char* tool) {
    if (::geteuid() != 0) {
        MESSAGE("SKIPPED: firewall tests need root (they run in a private network namespace)");
        return false;
    }
    if (find_tool(tool).empty()) {
        MESSAGE("SKIPPED: `" << std::string(tool) << "` is not installed in /usr/sbin or /sbin (apt-get install nftables iptables)");
        return false;
    }
    return true;
}

size_t count_with(const std::vector<std::string>& lines, const std::string& needle) {
    return static_cast<size_t>(std::count_if(lines.begin(), lines.end(), [&](const std::string& l) {
        return l.find(needle) != std::string::npos;
    }));
}

bool any_with_all(const std::vector<std::string>& lines, std::initializer_list<std::string> needles) {
    return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) {
        return std::all_of(needles.begin(), needles.end(),
                           [&](const std::string& n) { return l.find(n) != std::string::npos; });
    });
}

std::string ip_forward_value() {
    auto v = read_file("/proc/sys/net/ipv4/ip_forward");
    return v ? trim(*v) : "?";
}

constexpr size_t kRulesPerNetwork = 8;  // 7 forward + 1 masquerade

}  // namespace

TEST_CASE("firewall: bad names are rejected before any tool runs") {
    auto r = ensure_network_rules("net", "172.30.0.0/16", "br x;drop");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("invalid bridge name `br x;drop`") != std::string::npos);
    auto s = ensure_network_rules("net", "172.30.0.1/16", "br-ilnet");
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().message.find("it should be 172.30.0.0/16") != std::string::npos);
    CHECK_FALSE(ensure_network_rules("a\"b", "172.30.0.0/16", "br-ilnet").ok());
    CHECK_FALSE(remove_network_rules("../x", "br-ilnet").ok());
}

TEST_CASE("firewall: nft rules appear, are idempotent and are removed (private netns)") {
    if (!can_run("nft")) return;
    std::string why = in_private_netns([] {
        CHECK(list_rules().empty());
        auto r = ensure_network_rules("fwa", "172.30.0.0/16", "br-ilfwa", FirewallTool::Nft);
        NS_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
        CHECK(r->tool == "nft");
        CHECK(r->warning == "");
        auto rules = list_rules();
        CHECK(count_with(rules, "table ip isolab") == 1);
        CHECK(count_with(rules, "\"isolab:fwa\"") == kRulesPerNetwork);
        CHECK(any_with_all(rules, {"ip saddr 172.30.0.0/16", "oifname != \"br-ilfwa\"", "masquerade"}));
        CHECK(any_with_all(rules, {"iifname \"br-ilfwa\"", "oifname \"br-il*\"", "drop"}));
        CHECK(any_with_all(rules, {"oifname \"br-ilfwa\"", "ct state established,related", "accept"}));
        // ip_forward is per namespace: on here, whatever the host has.
        CHECK(ip_forward_value() == "1");

        NS_REQUIRE(ensure_network_rules("fwa", "172.30.0.0/16", "br-ilfwa", FirewallTool::Nft).ok());
        CHECK(count_with(list_rules(), "\"isolab:fwa\"") == kRulesPerNetwork);
        // A second network; the first one's rules stay as they are.
        NS_REQUIRE(ensure_network_rules("fwb", "172.31.0.0/16", "br-ilfwb").ok());
        rules = list_rules();
        CHECK(count_with(rules, "\"isolab:fwa\"") == kRulesPerNetwork);
        CHECK(count_with(rules, "\"isolab:fwb\"") == kRulesPerNetwork);

        NS_REQUIRE(remove_network_rules("fwa", "br-ilfwa").ok());
        rules = list_rules();
        CHECK(count_with(rules, "isolab:fwa") == 0);
        CHECK(count_with(rules, "\"isolab:fwb\"") == kRulesPerNetwork);
        CHECK(remove_network_rules("fwa", "br-ilfwa").ok());  // idempotent
        NS_REQUIRE(remove_network_rules("fwb", "br-ilfwb").ok());
        CHECK(list_rules().empty());  // the table went with the last network
        auto nft = run_command({find_tool("nft"), "list", "tables"});
        NS_REQUIRE(nft.ok());
        CHECK(nft->out.find("isolab") == std::string::npos);
    });
    if (!why.empty()) {
        MESSAGE("SKIPPED: no private network namespace: " << why);
        return;
    }
    // Nothing leaked to the host. (Only our networks' tags are looked for: other IsoLab processes
    // may change the host's own rules meanwhile.)
    CHECK(count_with(list_rules(), "isolab:fwa") == 0);
    CHECK(count_with(list_rules(), "isolab:fwb") == 0);
}

TEST_CASE("firewall: iptables rules appear in order, are idempotent and are removed (private netns)") {
    if (!can_run("iptables")) return;
    std::string why = in_private_netns([] {
        auto r = ensure_network_rules("fwi", "172.29.0.0/16", "br-ilfwi", FirewallTool::Iptables);
        NS_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
        CHECK(r->tool == "iptables");
        auto rules = list_rules();
        CHECK(count_with(rules, "isolab:fwi") == kRulesPerNetwork);
        CHECK(any_with_all(rules, {"-A POSTROUTING -s 172.29.0.0/16 ! -o br-ilfwi", "MASQUERADE"}));
        // First match wins: same-bridge accept on top, the isolation drops before the accepts.
        auto fwd = run_command({find_tool("iptables"), "-w", "-S", "FORWARD"});
        NS_REQUIRE(fwd.ok());
        auto pos = [&](const std::string& needle) { return fwd->out.find(needle); };
        CHECK(pos("-i br-ilfwi -o br-ilfwi") < pos("-o isolab+"));
        CHECK(pos("-o br-il+") != std::string::npos);
        CHECK(pos("-o br-il+") < pos("-A FORWARD -i br-ilfwi -m comment"));
        CHECK(pos("-i isolab+ -o br-ilfwi") < pos("--ctstate RELATED,ESTABLISHED"));

        NS_REQUIRE(ensure_network_rules("fwi", "172.29.0.0/16", "br-ilfwi", FirewallTool::Iptables).ok());
        CHECK(count_with(list_rules(), "isolab:fwi") == kRulesPerNetwork);
        // A changed bridge replaces the rules instead of adding more.
        NS_REQUIRE(ensure_network_rules("fwi", "172.29.0.0/16", "br-ilfwj", FirewallTool::Iptables).ok());
        rules = list_rules();
        CHECK(count_with(rules, "isolab:fwi") == kRulesPerNetwork);
        CHECK(count_with(rules, "br-ilfwi") == 0);

        NS_REQUIRE(remove_network_rules("fwi", "br-ilfwj").ok());
        CHECK(list_rules().empty());
        CHECK(remove_network_rules("fwi", "br-ilfwj").ok());
    });
    if (!why.empty()) {
        MESSAGE("SKIPPED: no private network namespace: " << why);
        return;
    }
    CHECK(count_with(list_rules(), "isolab:fwi") == 0);
}

TEST_CASE("firewall: with a FORWARD policy of DROP, nft mode also opens the iptables chain") {
    if (!can_run("nft") || !can_run("iptables")) return;
    std::string why = in_private_netns([] {
        const std::string ipt = find_tool("iptables");
        auto p = run_command({ipt, "-w", "-P", "FORWARD", "DROP"});
        NS_REQUIRE(p.ok());
        NS_REQUIRE(p->exit_code == 0);
        auto r = ensure_network_rules("fwd", "172.28.0.0/16", "br-ilfwd");
        NS_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
        CHECK(r->tool == "nft");
        auto rules = list_rules();
        CHECK(count_with(rules, "\"isolab:fwd\"") - count_with(rules, "-A ") == kRulesPerNetwork);  // nft
        CHECK(count_with(rules, "-A FORWARD") == kRulesPerNetwork - 1);   // iptables FORWARD
        CHECK(count_with(rules, "-A POSTROUTING") == 0);                  // NAT stays in nft
        NS_REQUIRE(ensure_network_rules("fwd", "172.28.0.0/16", "br-ilfwd").ok());
        CHECK(count_with(list_rules(), "-A FORWARD") == kRulesPerNetwork - 1);
        NS_REQUIRE(remove_network_rules("fwd", "br-ilfwd").ok());
        CHECK(list_rules().empty());
    });
    if (!why.empty()) MESSAGE("SKIPPED: no private network namespace: " << why);
    CHECK(count_with(list_rules(), "isolab:fwd") == 0);
}
