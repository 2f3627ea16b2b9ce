// Firewall rules and the bridges they belong to, for real, but ONLY inside a private network
// namespace: each case runs in a
// std::thread that calls unshare(CLONE_NEWNET) first. nft and iptables are started from that
// thread, so they see (and change) the private namespace, never the host's firewall; the
// namespace and its rules vanish when the thread ends. Without root or without the tools, the
// cases say SKIPPED loudly.
#include <doctest/doctest.h>

#include "tests/skip.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <cstring>
#include <functional>
#include <string>
#include <thread>

#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/net/firewall.hpp"
#include "sim/net/netlink.hpp"
#include "sim/net/networks.hpp"
#include "sim/net/orphans.hpp"

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
        ISOLAB_SKIP("firewall tests need root (they run in a private network namespace)");
        return false;
    }
    if (find_tool(tool).empty()) {
        ISOLAB_SKIP("`" << std::string(tool) << "` is not installed in /usr/sbin or /sbin (apt-get install nftables iptables)");
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

// Two state roots; the firewall only hashes the paths, so they need not exist for the tagging
// cases (the collector's cases make real ones).
const std::string kRootA = "/tmp/isolab-unit-fw-root-a";
const std::string kRootB = "/tmp/isolab-unit-fw-root-b";

std::string tag_of(const std::string& network, const std::string& root = kRootA) {
    return rule_comment(root, network);
}
std::string quoted_tag(const std::string& network, const std::string& root = kRootA) {
    return "\"" + rule_comment(root, network) + "\"";
}

}  // namespace

TEST_CASE("firewall: bad names are rejected before any tool runs") {
    auto r = ensure_network_rules(kRootA, "net", "172.30.0.0/16", "br x;drop");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("invalid bridge name `br x;drop`") != std::string::npos);
    auto s = ensure_network_rules(kRootA, "net", "172.30.0.1/16", "br-ilnet");
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().message.find("it should be 172.30.0.0/16") != std::string::npos);
    CHECK_FALSE(ensure_network_rules(kRootA, "a\"b", "172.30.0.0/16", "br-ilnet").ok());
    CHECK_FALSE(remove_network_rules(kRootA, "../x", "br-ilnet").ok());
}

TEST_CASE("firewall: nft commands go through libnftables, not a process") {
    // A build dependency (libnftables-dev pulls in the library), so it must load here.
    CHECK(nft_backend() == "libnftables");
}

TEST_CASE("firewall: nft rules appear, are idempotent and are removed (private netns)") {
    if (!can_run("nft")) return;
    std::string why = in_private_netns([] {
        CHECK(list_rules().empty());
        auto r = ensure_network_rules(kRootA, "fwa", "172.30.0.0/16", "br-ilfwa", FirewallTool::Nft);
        NS_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
        CHECK(r->tool == "nft");
        CHECK(r->warning == "");
        auto rules = list_rules();
        CHECK(count_with(rules, "table ip isolab") == 1);
        CHECK(count_with(rules, quoted_tag("fwa")) == kRulesPerNetwork);
        CHECK(any_with_all(rules, {"ip saddr 172.30.0.0/16", "oifname != \"br-ilfwa\"", "masquerade"}));
        CHECK(any_with_all(rules, {"iifname \"br-ilfwa\"", "oifname \"br-il*\"", "drop"}));
        CHECK(any_with_all(rules, {"oifname \"br-ilfwa\"", "ct state established,related", "accept"}));
        // ip_forward is per namespace: on here, whatever the host has.
        CHECK(ip_forward_value() == "1");

        NS_REQUIRE(ensure_network_rules(kRootA, "fwa", "172.30.0.0/16", "br-ilfwa", FirewallTool::Nft).ok());
        CHECK(count_with(list_rules(), quoted_tag("fwa")) == kRulesPerNetwork);
        // A second network; the first one's rules stay as they are.
        NS_REQUIRE(ensure_network_rules(kRootA, "fwb", "172.31.0.0/16", "br-ilfwb").ok());
        rules = list_rules();
        CHECK(count_with(rules, quoted_tag("fwa")) == kRulesPerNetwork);
        CHECK(count_with(rules, quoted_tag("fwb")) == kRulesPerNetwork);

        NS_REQUIRE(remove_network_rules(kRootA, "fwa", "br-ilfwa").ok());
        rules = list_rules();
        CHECK(count_with(rules, tag_of("fwa")) == 0);
        CHECK(count_with(rules, quoted_tag("fwb")) == kRulesPerNetwork);
        CHECK(remove_network_rules(kRootA, "fwa", "br-ilfwa").ok());  // idempotent
        NS_REQUIRE(remove_network_rules(kRootA, "fwb", "br-ilfwb").ok());
        CHECK(list_rules().empty());  // the table went with the last network
        auto nft = run_command({find_tool("nft"), "list", "tables"});
        NS_REQUIRE(nft.ok());
        CHECK(nft->out.find("isolab") == std::string::npos);
    });
    if (!why.empty()) {
        ISOLAB_SKIP("no private network namespace: " << why);
        return;
    }
    // Nothing leaked to the host. (Only our networks' tags are looked for: other IsoLab processes
    // may change the host's own rules meanwhile.)
    CHECK(count_with(list_rules(), tag_of("fwa")) == 0);
    CHECK(count_with(list_rules(), tag_of("fwb")) == 0);
}

TEST_CASE("firewall: iptables rules appear in order, are idempotent and are removed (private netns)") {
    if (!can_run("iptables")) return;
    std::string why = in_private_netns([] {
        auto r = ensure_network_rules(kRootA, "fwi", "172.29.0.0/16", "br-ilfwi", FirewallTool::Iptables);
        NS_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
        CHECK(r->tool == "iptables");
        auto rules = list_rules();
        CHECK(count_with(rules, tag_of("fwi")) == kRulesPerNetwork);
        CHECK(any_with_all(rules, {"-A POSTROUTING -s 172.29.0.0/16 ! -o br-ilfwi", "MASQUERADE"}));
        // First match wins: same-bridge accept on top, the isolation drops before the accepts.
        auto fwd = run_command({find_tool("iptables"), "-w", "-S", "FORWARD"});
        NS_REQUIRE(fwd.ok());
        auto pos = [&](const std::string& needle) { return fwd->out.find(needle); };
        CHECK(pos("-i br-ilfwi -o br-ilfwi") < pos("-o isolab+"));
        CHECK(pos("-o br-il+") != std::string::npos);
        CHECK(pos("-o br-il+") < pos("-A FORWARD -i br-ilfwi -m comment"));
        CHECK(pos("-i isolab+ -o br-ilfwi") < pos("--ctstate RELATED,ESTABLISHED"));

        NS_REQUIRE(ensure_network_rules(kRootA, "fwi", "172.29.0.0/16", "br-ilfwi", FirewallTool::Iptables).ok());
        CHECK(count_with(list_rules(), tag_of("fwi")) == kRulesPerNetwork);
        // A changed bridge replaces the rules instead of adding more.
        NS_REQUIRE(ensure_network_rules(kRootA, "fwi", "172.29.0.0/16", "br-ilfwj", FirewallTool::Iptables).ok());
        rules = list_rules();
        CHECK(count_with(rules, tag_of("fwi")) == kRulesPerNetwork);
        CHECK(count_with(rules, "br-ilfwi") == 0);

        NS_REQUIRE(remove_network_rules(kRootA, "fwi", "br-ilfwj").ok());
        CHECK(list_rules().empty());
        CHECK(remove_network_rules(kRootA, "fwi", "br-ilfwj").ok());
    });
    if (!why.empty()) {
        ISOLAB_SKIP("no private network namespace: " << why);
        return;
    }
    CHECK(count_with(list_rules(), tag_of("fwi")) == 0);
}

TEST_CASE("firewall: with a FORWARD policy of DROP, nft mode also opens the iptables chain") {
    if (!can_run("nft") || !can_run("iptables")) return;
    std::string why = in_private_netns([] {
        const std::string ipt = find_tool("iptables");
        auto p = run_command({ipt, "-w", "-P", "FORWARD", "DROP"});
        NS_REQUIRE(p.ok());
        NS_REQUIRE(p->exit_code == 0);
        auto r = ensure_network_rules(kRootA, "fwd", "172.28.0.0/16", "br-ilfwd");
        NS_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
        CHECK(r->tool == "nft");
        auto rules = list_rules();
        CHECK(count_with(rules, quoted_tag("fwd")) - count_with(rules, "-A ") == kRulesPerNetwork);  // nft
        CHECK(count_with(rules, "-A FORWARD") == kRulesPerNetwork - 1);   // iptables FORWARD
        CHECK(count_with(rules, "-A POSTROUTING") == 0);                  // NAT stays in nft
        NS_REQUIRE(ensure_network_rules(kRootA, "fwd", "172.28.0.0/16", "br-ilfwd").ok());
        CHECK(count_with(list_rules(), "-A FORWARD") == kRulesPerNetwork - 1);
        NS_REQUIRE(remove_network_rules(kRootA, "fwd", "br-ilfwd").ok());
        CHECK(list_rules().empty());
    });
    if (!why.empty()) ISOLAB_SKIP("no private network namespace: " << why);
    CHECK(count_with(list_rules(), tag_of("fwd")) == 0);
}

// ---- one state root never touches another's rules (issue 12) -----------------------------------

TEST_CASE("firewall: the comment names the state root and the network") {
    CHECK(owner_tag(kRootA).size() == 12);
    CHECK(owner_tag(kRootA) != owner_tag(kRootB));
    CHECK(owner_tag(kRootA) == owner_tag(std::string(kRootA)));  // a function of the path only
    CHECK(rule_comment(kRootA, "bridge") == "isolab:" + owner_tag(kRootA) + ":bridge");
    CHECK_FALSE(ensure_network_rules("relative/root", "bridge", "172.30.0.0/16", "br-ilx").ok());
}

namespace {

// Root A and root B each have a network called `bridge`; B's ensure (twice: a second `run`),
// then B's removal (`rm` of its last container is not one, `system reset` is) leave A's rules
// exactly as they were.
void two_roots_same_network(FirewallTool tool) {
    auto a = ensure_network_rules(kRootA, "bridge", "172.30.0.0/16", "br-ila", tool);
    NS_REQUIRE_MESSAGE(a.ok(), (a.ok() ? "" : a.error().message));
    auto before = list_rules();
    CHECK(count_with(before, tag_of("bridge")) == kRulesPerNetwork);

    NS_REQUIRE(ensure_network_rules(kRootB, "bridge", "172.31.0.0/16", "br-ilb", tool).ok());
    NS_REQUIRE(ensure_network_rules(kRootB, "bridge", "172.31.0.0/16", "br-ilb", tool).ok());
    auto both = list_rules();
    CHECK(count_with(both, tag_of("bridge")) == kRulesPerNetwork);
    CHECK(count_with(both, tag_of("bridge", kRootB)) == kRulesPerNetwork);
    CHECK(any_with_all(both, {"172.30.0.0/16", tag_of("bridge")}));  // A's masquerade is still there

    NS_REQUIRE(remove_network_rules(kRootB, "bridge", "br-ilb").ok());
    auto after = list_rules();
    CHECK(count_with(after, tag_of("bridge", kRootB)) == 0);
    CHECK(count_with(after, tag_of("bridge")) == kRulesPerNetwork);
    // Not one of A's rules changed, in content or in order.
    std::vector<std::string> mine_before, mine_after;
    for (auto& l : before)
        if (l.find(tag_of("bridge")) != std::string::npos) mine_before.push_back(l);
    for (auto& l : after)
        if (l.find(tag_of("bridge")) != std::string::npos) mine_after.push_back(l);
    CHECK(mine_before == mine_after);

    NS_REQUIRE(remove_network_rules(kRootA, "bridge", "br-ila").ok());
    CHECK(list_rules().empty());
}

}  // namespace

TEST_CASE("firewall: two state roots with a network of one name keep each other's nft rules (private netns)") {
    if (!can_run("nft")) return;
    std::string why = in_private_netns([] { two_roots_same_network(FirewallTool::Nft); });
    if (!why.empty()) ISOLAB_SKIP("no private network namespace: " << why);
}

TEST_CASE("firewall: two state roots with a network of one name keep each other's iptables rules (private netns)") {
    if (!can_run("iptables")) return;
    std::string why = in_private_netns([] { two_roots_same_network(FirewallTool::Iptables); });
    if (!why.empty()) ISOLAB_SKIP("no private network namespace: " << why);
}

TEST_CASE("firewall: rule_sets finds every root's comments and the legacy format; remove_rule_set takes one") {
    if (!can_run("nft") || !can_run("iptables")) return;
    std::string why = in_private_netns([] {
        NS_REQUIRE(ensure_network_rules(kRootA, "web", "172.30.0.0/16", "br-ila", FirewallTool::Nft).ok());
        NS_REQUIRE(ensure_network_rules(kRootB, "web", "172.31.0.0/16", "br-ilb", FirewallTool::Iptables).ok());
        // What IsoLab wrote before rules had an owner: a comment with the network only.
        auto legacy = run_command({find_tool("nft"), "add rule ip isolab postrouting ip saddr 172.29.0.0/16 "
                                                     "oifname != \"isolab0\" masquerade comment \"isolab:bridge\""});
        NS_REQUIRE(legacy.ok());
        NS_REQUIRE_MESSAGE(legacy->exit_code == 0, legacy->err);
        auto legacy_ipt = run_command({find_tool("iptables"), "-w", "-A", "FORWARD", "-i", "isolab0", "-m", "comment",
                                       "--comment", "isolab:bridge", "-j", "ACCEPT"});
        NS_REQUIRE(legacy_ipt.ok());
        NS_REQUIRE(legacy_ipt->exit_code == 0);

        auto sets = rule_sets();
        auto find = [&](const std::string& comment) -> const RuleSet* {
            for (auto& r : sets)
                if (r.comment == comment) return &r;
            return nullptr;
        };
        CHECK(sets.size() == 3);
        const RuleSet* a = find(tag_of("web"));
        const RuleSet* b = find(tag_of("web", kRootB));
        const RuleSet* old = find("isolab:bridge");
        NS_REQUIRE(a && b && old);
        CHECK(a->owner == owner_tag(kRootA));
        CHECK(a->network == "web");
        CHECK(a->rules == static_cast<int>(kRulesPerNetwork));
        CHECK(b->rules == static_cast<int>(kRulesPerNetwork));
        CHECK(old->owner == "");
        CHECK(old->network == "bridge");
        CHECK(old->rules == 2);  // one nft, one iptables
        // The bridges the rules name, in both tools' spelling, wildcards left out.
        CHECK(old->bridges == std::vector<std::string>{"isolab0"});
        CHECK(a->bridges == std::vector<std::string>{"br-ila"});
        CHECK(b->bridges == std::vector<std::string>{"br-ilb"});

        auto n = remove_rule_set("isolab:bridge");
        NS_REQUIRE(n.ok());
        CHECK(*n == 2);
        auto rules = list_rules();
        CHECK(count_with(rules, "\"isolab:bridge\"") == 0);
        CHECK(count_with(rules, "isolab:bridge ") == 0);
        CHECK(count_with(rules, tag_of("web")) == kRulesPerNetwork);
        CHECK(count_with(rules, tag_of("web", kRootB)) == kRulesPerNetwork);
        CHECK_FALSE(remove_rule_set("docker:bridge").ok());  // never anything but IsoLab's
    });
    if (!why.empty()) ISOLAB_SKIP("no private network namespace: " << why);
}

// ---- what vanished roots leave, and what is collected ------------------------------------------

namespace {

// A state root that exists (ROOT/networks is a directory) for the lifetime of the object.
struct LiveRoot {
    std::string path = "/tmp/isolab-unit-live-" + random_hex(4);
    LiveRoot() { std::filesystem::create_directories(path + "/networks"); }
    ~LiveRoot() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

std::vector<std::string> bridge_names() {
    std::vector<std::string> out;
    if (auto b = list_bridges())
        for (auto& x : *b) out.push_back(x.name);
    return out;
}

bool has(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

bool ip(std::initializer_list<std::string> args) {
    std::vector<std::string> argv{find_tool("ip")};
    argv.insert(argv.end(), args);
    auto r = run_command(argv);
    return r && r->exit_code == 0;
}

}  // namespace

TEST_CASE("orphans: bridges and rules of vanished roots go, a live root's and foreign ones stay (private netns)") {
    if (!can_run("nft") || !can_run("ip")) return;
    LiveRoot live;
    const std::string gone = "/tmp/isolab-unit-gone-" + random_hex(4);  // never created: vanished
    const std::string gone_too = "/tmp/isolab-unit-gone-" + random_hex(4);
    std::string why = in_private_netns([&] {
        CHECK_FALSE(root_vanished(live.path));
        CHECK(root_vanished(gone));
        // The live root's bridge and rules; a vanished root's; rules whose bridge is gone; what an
        // older IsoLab made (no alias, comment without owner), one with a container on it; and
        // bridges IsoLab did not make.
        NS_REQUIRE(claim_bridge("isolab111111110", "172.18.0.1/16", live.path).ok());
        NS_REQUIRE(ensure_network_rules(live.path, "bridge", "172.18.0.0/16", "isolab111111110").ok());
        NS_REQUIRE(claim_bridge("isolab222222220", "172.19.0.1/16", gone).ok());
        NS_REQUIRE(ensure_network_rules(gone, "bridge", "172.19.0.0/16", "isolab222222220").ok());
        NS_REQUIRE(ensure_network_rules(gone_too, "web", "172.20.0.0/16", "isolab-33333333").ok());
        NS_REQUIRE(ensure_bridge("isolab-44444444", "172.21.0.1/16").ok());
        NS_REQUIRE(ensure_bridge("isolab555555550", "172.22.0.1/16").ok());
        NS_REQUIRE(ip({"link", "add", "veth-ilt0", "type", "veth", "peer", "name", "veth-ilt1"}));
        NS_REQUIRE(ip({"link", "set", "veth-ilt0", "master", "isolab555555550"}));
        NS_REQUIRE(ip({"link", "add", "docker0", "type", "bridge"}));
        NS_REQUIRE(ip({"link", "add", "virbr0", "type", "bridge"}));
        NS_REQUIRE(ip({"link", "add", "isolab-abcdef01", "type", "bridge"}));  // an IsoLab name, someone else's alias
        NS_REQUIRE(set_link_alias("isolab-abcdef01", "made by hand").ok());
        auto legacy = run_command({find_tool("nft"), "add rule ip isolab forward iifname \"isolab-44444444\" accept "
                                                     "comment \"isolab:study\""});
        NS_REQUIRE(legacy.ok());
        NS_REQUIRE(legacy->exit_code == 0);
        // An older version's rules for a bridge a container still uses: its NAT must stay.
        auto in_use = run_command({find_tool("nft"), "add rule ip isolab postrouting ip saddr 172.22.0.0/16 oifname != "
                                                     "\"isolab555555550\" masquerade comment \"isolab:inuse\""});
        NS_REQUIRE(in_use.ok());
        NS_REQUIRE(in_use->exit_code == 0);

        auto owned = isolab_bridges();
        NS_REQUIRE(owned.ok());
        std::vector<std::string> names;
        for (auto& b : *owned) names.push_back(b.info.name);
        std::string joined;
        for (auto& n : names) joined += n + " ";
        CAPTURE(joined);
        CHECK(names == std::vector<std::string>{"isolab-44444444", "isolab111111110", "isolab222222220", "isolab555555550"});
        for (auto& b : *owned) {
            if (b.info.name == "isolab111111110") CHECK((b.root == live.path && !b.vanished));
            if (b.info.name == "isolab222222220") CHECK((b.root == gone && b.vanished));
            if (b.info.name == "isolab555555550") CHECK((b.root.empty() && b.info.ports == 1));
        }

        // A dry run says what would go and removes nothing.
        auto plan = collect_orphans(Sweep::VanishedRoots, true);
        CHECK(plan.errors.empty());
        CHECK(plan.removed.size() == 3);  // gone's bridge, gone's rules, gone_too's rules
        CHECK(has(bridge_names(), "isolab222222220"));
        CHECK(count_with(list_rules(), tag_of("bridge", gone)) == kRulesPerNetwork);

        auto first = collect_orphans(Sweep::VanishedRoots);
        CHECK(first.errors.empty());
        NS_REQUIRE(first.removed.size() == 3);
        for (auto& l : first.removed) {
            if (l.kind == Leftover::Kind::Bridge) {
                CHECK(l.name == "isolab222222220");
                CHECK(l.root == gone);
                CHECK(l.ipv4 == std::vector<std::string>{"172.19.0.1/16"});
            } else if (l.name == tag_of("bridge", gone)) {
                CHECK(l.root == gone);
                CHECK(l.rules == static_cast<int>(kRulesPerNetwork));
            } else {
                CHECK(l.name == tag_of("web", gone_too));
                CHECK(l.root == "");  // no bridge says whose they were
                CHECK_FALSE(l.legacy);
            }
        }
        auto bridges = bridge_names();
        auto rules = list_rules();
        CHECK_FALSE(has(bridges, "isolab222222220"));
        CHECK(count_with(rules, tag_of("bridge", gone)) == 0);
        CHECK(count_with(rules, tag_of("web", gone_too)) == 0);
        CHECK(has(bridges, "isolab111111110"));
        CHECK(count_with(rules, tag_of("bridge", live.path)) == kRulesPerNetwork);
        CHECK(has(bridges, "isolab-44444444"));  // legacy: only on request
        CHECK(count_with(rules, "\"isolab:study\"") == 1);

        auto second = collect_orphans(Sweep::AlsoLegacy);
        CHECK(second.errors.empty());
        CHECK(second.removed.size() == 2);  // the legacy bridge without a port, the legacy rule
        bridges = bridge_names();
        rules = list_rules();
        CHECK_FALSE(has(bridges, "isolab-44444444"));
        CHECK(count_with(rules, "\"isolab:study\"") == 0);
        CHECK(has(bridges, "isolab555555550"));  // a container is on it: not presumed dead
        CHECK(count_with(rules, "\"isolab:inuse\"") == 1);
        CHECK(has(bridges, "isolab111111110"));
        CHECK(count_with(rules, tag_of("bridge", live.path)) == kRulesPerNetwork);
        for (const char* foreign : {"docker0", "virbr0", "isolab-abcdef01"}) CHECK(has(bridges, foreign));
        CHECK(collect_orphans(Sweep::AlsoLegacy).removed.empty());  // nothing left to do

        // Ownership: a live root's bridge is refused to another root and not deleted by it; a
        // vanished root's bridge is taken over.
        auto stolen = claim_bridge("isolab111111110", "172.18.0.1/16", gone);
        CHECK_FALSE(stolen.ok());
        CHECK(stolen.error().message.find(live.path) != std::string::npos);
        CHECK(release_bridge("isolab111111110", gone).ok());
        CHECK(has(bridge_names(), "isolab111111110"));
        NS_REQUIRE(claim_bridge("isolab666666660", "172.23.0.1/16", gone).ok());
        CHECK(claim_bridge("isolab666666660", "172.23.0.1/16", live.path).ok());
        auto after_claim = isolab_bridges();
        NS_REQUIRE(after_claim.ok());
        for (auto& b : *after_claim)
            if (b.info.name == "isolab666666660") CHECK(b.root == live.path);
        CHECK(release_bridge("isolab666666660", live.path).ok());
        CHECK_FALSE(has(bridge_names(), "isolab666666660"));
    });
    if (!why.empty()) ISOLAB_SKIP("no private network namespace: " << why);
}

TEST_CASE("orphans: a new root's default bridge reclaims a vanished root's pool; exhausted pools say why (private netns)") {
    if (!can_run("nft")) return;
    LiveRoot fresh, other;
    std::string why = in_private_netns([&] {
        // A vanished root holds 172.17.0.0/16, Docker's first pool.
        NS_REQUIRE(claim_bridge("isolab777777770", "172.17.0.1/16", "/tmp/isolab-unit-gone-" + random_hex(4)).ok());
        auto net = NetworkStore(fresh.path, false).get("bridge");
        NS_REQUIRE_MESSAGE(net.ok(), (net.ok() ? "" : net.error().message));
        CHECK(net->subnet == "172.17.0.0/16");
        CHECK(net->root == fresh.path);
        CHECK_FALSE(has(bridge_names(), "isolab777777770"));
        NS_REQUIRE(claim_bridge(net->bridge, "172.17.0.1/16", fresh.path).ok());  // what its first `run` does

        // Every other pool held by bridges an older IsoLab left (no owner recorded): nothing is
        // reclaimed behind the user's back, and the error names the holders and the fix.
        NS_REQUIRE(claim_bridge("isolab888888880", "172.18.0.1/16", other.path).ok());
        int i = 0;
        for (const Subnet& pool : default_pools()) {
            if (pool.cidr() == "172.17.0.0/16" || pool.cidr() == "172.18.0.0/16") continue;
            char name[16];
            std::snprintf(name, sizeof name, "isolab-%08x", 0xa0000000u + i++);
            NS_REQUIRE(ensure_bridge(name, pool.gateway() + "/" + std::to_string(pool.prefix)).ok());
        }
        LiveRoot third;
        auto full = NetworkStore(third.path, false).get("bridge");
        NS_REQUIRE(!full.ok());
        const std::string& m = full.error().message;
        CHECK(m.find("default bridge network: could not find an available, non-overlapping IPv4 address pool") == 0);
        CHECK(m.find("1 by bridges of the state root `" + fresh.path + "` (`" + net->bridge + "`)") != std::string::npos);
        CHECK(m.find("1 by bridges of the state root `" + other.path + "` (`isolab888888880`)") != std::string::npos);
        CHECK(m.find("29 by bridges left by an older IsoLab (`isolab-a0000000`, `isolab-a0000001`, `isolab-a0000002`, ...)") !=
              std::string::npos);
        CHECK(m.find("isolab doctor --fix") != std::string::npos);
        CHECK(m.find("not found") == std::string::npos);
        // The fix it names frees them.
        CHECK(collect_orphans(Sweep::AlsoLegacy).removed.size() == 29);
        auto now = NetworkStore(third.path, false).get("bridge");
        NS_REQUIRE_MESSAGE(now.ok(), (now.ok() ? "" : now.error().message));
        CHECK(now->subnet == "172.19.0.0/16");
    });
    if (!why.empty()) ISOLAB_SKIP("no private network namespace: " << why);
}
