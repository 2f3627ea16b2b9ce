// One state root against another's firewall and bridges (issue 12, item 8).
//
// Before: rules were tagged with the network name only, so root B's `run` replaced, and its
// `system reset` deleted, root A's forward and masquerade rules for their common network `bridge`;
// and bridges of deleted roots were never collected, so they used up the address pools and every
// new root failed with "network bridge not found".
//
// Every case runs in a PRIVATE network namespace: the test thread unshares one, and the `isolab`
// processes it starts (fork from that thread) live in it, with their bridges, nft table and
// iptables chains, monitors and port proxies. The kernel objects attacked are the same as on the
// host, and the machine's own firewall (and other users' roots on it) stay out of reach of the
// test's `doctor --fix` and `system reset`, which collect what they find.
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <sstream>
#include <thread>

#include "security.hpp"
#include "sim/net/firewall.hpp"
#include "sim/net/ipam.hpp"
#include "sim/net/netlink.hpp"
#include "sim/net/orphans.hpp"

using namespace isolab;
using namespace isolab::test;

namespace {

// REQUIRE throws, and an exception leaving the namespace thread would end the run.
#define NS_REQUIRE(cond)                           \
    do {                                           \
        bool ns_ok_ = static_cast<bool>(cond);     \
        CHECK_MESSAGE(ns_ok_, #cond);              \
        if (!ns_ok_) return;                       \
    } while (0)

// Runs BODY in a thread inside a fresh network namespace with lo up; "" or why it could not.
std::string in_private_netns(const std::function<void()>& body) {
    std::string why;
    std::thread t([&] {
        if (::unshare(CLONE_NEWNET) != 0) {
            why = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
            return;
        }
        if (auto st = net::loopback_up(); !st) {
            why = st.error().message;
            return;
        }
        body();
    });
    t.join();
    return why;
}

std::string canonical(const std::string& p) { return std::filesystem::weakly_canonical(p).string(); }

// The lines of `nft list ruleset` and `iptables-save` that carry COMMENT, in order.
std::vector<std::string> rules_tagged(const std::string& comment) {
    std::vector<std::string> out;
    for (const char* tool : {"nft", "iptables-save"}) {
        std::string path = net::find_tool(tool);
        if (path.empty()) continue;
        std::vector<std::string> argv{path};
        if (std::string(tool) == "nft") argv.insert(argv.end(), {"list", "ruleset"});
        auto r = net::run_command(argv);
        if (!r) continue;
        std::istringstream in(r->out);
        for (std::string l; std::getline(in, l);)
            if (l.find(comment) != std::string::npos) out.push_back(l);
    }
    return out;
}

bool any_has(const std::vector<std::string>& lines, const std::string& a, const std::string& b) {
    return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) {
        return l.find(a) != std::string::npos && l.find(b) != std::string::npos;
    });
}

// The bridge whose alias names ROOT as its owner; "" when none.
std::string bridge_of(const std::string& root) {
    auto bridges = net::isolab_bridges();
    if (!bridges) return "";
    for (const auto& b : *bridges)
        if (b.root == canonical(root)) return b.info.name;
    return "";
}

bool bridge_exists(const std::string& name) { return !name.empty() && net::link_exists(name); }

// What the published port answers: httpd in the container serves its /etc, so /hostname is the
// container's short id.
std::string fetch(int port) {
    // No -T: the static busybox of Debian 12 crashes with it; run_process has its own time limit.
    auto r = run_process({"/bin/busybox", "wget", "-q", "-O", "-",
                          "http://127.0.0.1:" + std::to_string(port) + "/hostname"},
                         {}, 15000);
    return r.code == 0 ? trim(r.out) : "wget failed (" + std::to_string(r.code) + "): " + r.err + r.out;
}

// Starts httpd in a container of ROOT published on PORT and waits (up to 10 s) until it answers:
// `run -d` returns before httpd listens. Returns the container's short id.
std::string run_web(TempRoot& root, const std::string& name, int port) {
    auto r = root.isolab({"run", "-d", "--name", name, "-p", std::to_string(port) + ":80", "busybox", "httpd", "-f",
                          "-p", "80", "-h", "/etc"});
    CHECK_MESSAGE(r.code == 0, r.err);
    const std::string id = r.out.substr(0, 12);
    for (int i = 0; i < 100 && fetch(port) != id; ++i) ::usleep(100 * 1000);
    return id;
}

}  // namespace

TEST_CASE("firewall roots: another root's run, rm and system reset leave this root's rules and published port") {
    if (!can_attack()) return;
    std::string why = in_private_netns([] {
        // A host with Docker: FORWARD policy DROP, so the forward rules go into iptables as well.
        const bool have_ipt = !net::find_tool("iptables").empty();
        if (have_ipt) NS_REQUIRE(net::run_command({net::find_tool("iptables"), "-w", "-P", "FORWARD", "DROP"}).ok());

        TempRoot a, b;
        const std::string a_id = run_web(a, "web", 8080);
        const std::string a_tag = net::rule_comment(canonical(a.path()), "bridge");
        const auto a_rules = rules_tagged(a_tag);
        const std::string a_bridge = bridge_of(a.path());
        NS_REQUIRE(!a_bridge.empty());
        CHECK(any_has(a_rules, "masquerade", a_bridge));
        CHECK(std::count_if(a_rules.begin(), a_rules.end(), [](auto& l) { return l.find("-A FORWARD") != std::string::npos; }) ==
              (have_ipt ? 7 : 0));
        NS_REQUIRE(fetch(8080) == a_id);

        // The attack: B uses its own network `bridge` in every way a learner does.
        auto a_intact = [&](const char* after) {
            CAPTURE(after);
            CHECK(rules_tagged(a_tag) == a_rules);
            CHECK(bridge_exists(a_bridge));
            CHECK(fetch(8080) == a_id);
        };
        const std::string b_id = run_web(b, "web", 8081);
        CHECK(fetch(8081) == b_id);
        CHECK_FALSE(rules_tagged(net::rule_comment(canonical(b.path()), "bridge")).empty());
        a_intact("B's run");
        NS_REQUIRE(b.isolab({"run", "--rm", "busybox", "true"}).code == 0);
        a_intact("B's second run");
        NS_REQUIRE(b.isolab({"rm", "-f", "web"}).code == 0);
        a_intact("B's rm");
        NS_REQUIRE(b.isolab({"system", "reset", "-f"}).code == 0);
        CHECK(rules_tagged(net::rule_comment(canonical(b.path()), "bridge")).empty());  // B's own went
        a_intact("B's system reset");
    });
    if (!why.empty()) ISOLAB_SKIP("no private network namespace: " << why);
}

TEST_CASE("firewall roots: a deleted root's bridge and rules are collected by doctor --fix and by system reset, a live root's stay") {
    if (!can_attack()) return;
    std::string why = in_private_netns([] {
        TempRoot live;
        const std::string live_id = run_web(live, "web", 8082);
        const std::string live_tag = net::rule_comment(canonical(live.path()), "bridge");
        const auto live_rules = rules_tagged(live_tag);
        const std::string live_bridge = bridge_of(live.path());
        NS_REQUIRE(!live_rules.empty());

        // A root deleted without a reset (a test that crashed, `rm -rf $ISOLAB_ROOT`): its
        // container went, its bridge and rules stay behind, as docker0 outlives containers. (The
        // roots are all made before any is deleted: a root choosing its pool collects vanished
        // roots itself, which the last case checks.)
        auto used = [](TempRoot& r) {
            auto run = r.isolab({"run", "--rm", "busybox", "true"});
            CHECK_MESSAGE(run.code == 0, run.err);
            return std::pair<std::string, std::string>{bridge_of(r.path()), net::rule_comment(canonical(r.path()), "bridge")};
        };
        auto vanish = [](TempRoot& r) {
            std::error_code ec;
            std::filesystem::remove_all(r.path(), ec);
        };
        TempRoot gone1, gone2, gone3, other;
        auto [bridge1, tag1] = used(gone1);
        auto [bridge2, tag2] = used(gone2);
        auto [bridge3, tag3] = used(gone3);
        used(other);
        vanish(gone1);
        vanish(gone2);
        NS_REQUIRE(bridge_exists(bridge1));
        NS_REQUIRE(!rules_tagged(tag1).empty());
        NS_REQUIRE(bridge_exists(bridge2));

        // `doctor` says so, `doctor --fix` removes them and says what it removed.
        auto report = live.isolab({"doctor"});
        CHECK(report.out.find("isolab doctor --fix") != std::string::npos);
        auto fix = live.isolab({"doctor", "--fix"});
        CHECK(fix.code == 0);
        CHECK(fix.out.find("Removed bridge " + bridge1) != std::string::npos);
        CHECK(fix.out.find(tag1) != std::string::npos);
        CHECK(fix.out.find(canonical(gone1.path())) != std::string::npos);
        CHECK_FALSE(bridge_exists(bridge1));
        CHECK(rules_tagged(tag1).empty());
        CHECK_FALSE(bridge_exists(bridge2));
        CHECK(rules_tagged(tag2).empty());
        CHECK(rules_tagged(live_tag) == live_rules);
        CHECK(bridge_exists(live_bridge));
        CHECK(fetch(8082) == live_id);
        CHECK(live.isolab({"doctor", "--fix"}).out.find("Nothing to remove") != std::string::npos);

        // Another root's `system reset` collects too.
        vanish(gone3);
        NS_REQUIRE(bridge_exists(bridge3));
        NS_REQUIRE(!rules_tagged(tag3).empty());
        NS_REQUIRE(other.isolab({"system", "reset", "-f"}).code == 0);
        CHECK_FALSE(bridge_exists(bridge3));
        CHECK(rules_tagged(tag3).empty());
        CHECK(rules_tagged(live_tag) == live_rules);
        CHECK(bridge_exists(live_bridge));
        CHECK(fetch(8082) == live_id);
    });
    if (!why.empty()) ISOLAB_SKIP("no private network namespace: " << why);
}

TEST_CASE("firewall roots: 40 deleted roots' bridges do not stop a new root from running a bridged container") {
    if (!can_attack()) return;
    std::string why = in_private_netns([] {
        // What 40 deleted roots leave: each an owned bridge with its rules. The 31 default pools
        // come first (as they would have been handed out), then addresses of the 10.0.0.0/8 kind.
        const auto pools = net::default_pools();
        for (int i = 0; i < 40; ++i) {
            const std::string root = "/tmp/isl.gone-" + std::to_string(::getpid()) + "-" + std::to_string(i);
            char bridge[16];
            std::snprintf(bridge, sizeof bridge, "isolab%08x0", 0xb0000000u + i);
            net::Subnet s = i < static_cast<int>(pools.size()) ? pools[i] : net::Subnet{(10u << 24) | (static_cast<uint32_t>(i) << 16), 16};
            NS_REQUIRE(net::claim_bridge(bridge, s.gateway() + "/" + std::to_string(s.prefix), root).ok());
            NS_REQUIRE(net::ensure_network_rules(root, "bridge", s.cidr(), bridge).ok());
        }
        TempRoot fresh;
        auto r = fresh.isolab({"run", "--rm", "busybox", "ip", "addr", "show", "eth0"});
        CHECK_MESSAGE(r.code == 0, r.err);
        CHECK(r.err.find("not found") == std::string::npos);
        CHECK(r.out.find("172.17.") != std::string::npos);  // Docker's first pool, reclaimed
        auto left = net::isolab_bridges();
        NS_REQUIRE(left.ok());
        CHECK(left->size() == 1);  // the new root's own; the 40 were collected when it chose a pool
        CHECK(net::rule_sets().size() == 1);
    });
    if (!why.empty()) ISOLAB_SKIP("no private network namespace: " << why);
}
