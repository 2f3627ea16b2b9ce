// Outbound NAT and forwarding rules for bridge networks, through nft (preferred: one
// `table ip isolab` that can be deleted as a whole) or iptables, whichever is installed; with
// neither, a warning, not an error.
//
// Whose rules: every rule carries the comment "isolab:<owner>:<network>", where <owner> is
// owner_tag(state root). Several state roots share the table and the chains (tests, users with
// their own ISOLAB_ROOT), and each has a network called `bridge`: a root only ever lists, replaces
// or deletes rules carrying its own owner tag, so one root's `run` or `system reset` never takes
// another root's NAT away (issue 12). Rules tagged "isolab:<network>" (IsoLab before the owner tag)
// belong to no root anymore: sim/net/orphans.hpp collects them.
//
// How: nft commands go through libnftables in this process (loaded with dlopen, see firewall.cpp
// for why), or the nft program when the library is not installed; iptables always runs as a child
// process (posix_spawn with an argv, no shell). Either way the work happens in the CALLING
// THREAD's network namespace (the library's netlink socket is opened by that thread, a child
// inherits it): a thread that entered a private namespace with unshare(CLONE_NEWNET) changes the
// rules of that namespace only. The tests rely on this.
//
// When: once per network, not per container. attach.hpp's prepare_network records what it set up
// in a marker file and does no firewall work while the marker holds; so the spawns of the iptables
// path (and the library's netlink round trips) are a cost of a network's first start only.
//
// Published ports need no rule: `-p` is served by the userland proxy (port_proxy.hpp), whose
// traffic is the host's own (OUTPUT and INPUT, never FORWARD), which no rule here filters.
#pragma once

#include <string>
#include <vector>

#include "sim/core/files.hpp"
#include "sim/core/result.hpp"

namespace isolab::net {

struct FirewallReport {
    std::string tool;     // "nft" | "iptables" | "" (none usable)
    std::string warning;  // what could not be done and what the user loses, or ""
};

// Auto: nft when it works, else iptables. The others force one (tests, `doctor`).
enum class FirewallTool { Auto, Nft, Iptables };

// 12 hex digits of the FNV-1a hash of STATE_ROOT, an absolute path without a trailing slash
// (NetworkStore hands out its roots that way, so two spellings of one root get one tag).
std::string owner_tag(const std::string& state_root);
// "isolab:<owner_tag(STATE_ROOT)>:<NETWORK>": the comment on every rule of NETWORK of STATE_ROOT.
std::string rule_comment(const std::string& state_root, const std::string& network);

// For NETWORK of STATE_ROOT with SUBNET on BRIDGE, in this order of precedence within the
// forward chain:
//   - accept BRIDGE → BRIDGE (containers of one network talk to each other);
//   - drop BRIDGE ↔ any other IsoLab bridge ("isolab*", "br-il*"): networks stay isolated;
//   - accept BRIDGE → anywhere, and anywhere → BRIDGE for established/related connections only
//     (as Docker: from outside, containers are reachable through published ports, i.e. the
//     userland proxy, which is not forwarding);
//   - masquerade SUBNET leaving through any interface but BRIDGE.
// Also enables net.ipv4.ip_forward (per network namespace) and, when the host's iptables filter
// FORWARD chain has policy DROP (hosts with Docker), inserts the same forward rules there, since
// an accept in our own nft table does not override another table's drop.
// Idempotent: the old rules of NETWORK of STATE_ROOT are replaced in one nft transaction, so
// calling it twice leaves one set, and traffic never sees a moment without rules. Other roots'
// rules are never touched, even for a network of the same name.
Result<FirewallReport> ensure_network_rules(const std::string& state_root, const std::string& network,
                                            const std::string& subnet_cidr,
                                            const std::string& bridge,
                                            FirewallTool tool = FirewallTool::Auto);
// Removes exactly what ensure_network_rules added for NETWORK of STATE_ROOT (with nft, the whole
// table once no rule is left in it), whichever tool added it. Idempotent. BRIDGE is accepted for
// symmetry; rules are found by their comment.
Status remove_network_rules(const std::string& state_root, const std::string& network,
                            const std::string& bridge);
// The rules IsoLab currently has, of every state root: the lines of `nft list table ip isolab` and
// the iptables -S lines carrying an "isolab:" comment. For tests and `doctor`.
std::vector<std::string> list_rules();

// ---- for the collector of orphans (sim/net/orphans.hpp)

// One comment found on IsoLab rules, and how many rules carry it (nft and iptables together).
struct RuleSet {
    std::string comment;  // "isolab:<owner>:<network>", or "isolab:<network>" (legacy)
    std::string owner;    // the owner tag; "" for the legacy format
    std::string network;
    int rules = 0;
    std::vector<std::string> bridges;  // the interfaces its rules name (wildcards left out)
};
std::vector<RuleSet> rule_sets();
// Removes every rule whose comment is exactly COMMENT (the nft table, iptables filter FORWARD and
// nat POSTROUTING). Returns how many went.
Result<int> remove_rule_set(const std::string& comment);

// Serializes IsoLab's changes to bridges and firewall rules between processes and threads:
// list-then-replace is not atomic, and a collector must see a bridge together with its owner and
// never delete rules that are being made. Held by ensure/remove_network_rules, by claim_bridge and
// across a whole collection. Re-entrant within one thread (a collector holding it calls
// remove_rule_set). Without a writable /run it holds nothing: IsoLab still works, only without
// that guarantee.
class HostNetworkLock {
public:
    HostNetworkLock();
    ~HostNetworkLock();
    HostNetworkLock(const HostNetworkLock&) = delete;
    HostNetworkLock& operator=(const HostNetworkLock&) = delete;

private:
    FileLock lock_;
};

// ---- exposed for tests and `doctor`
struct CommandOutput {
    int exit_code = -1;  // 128+N when killed by signal N
    std::string out, err;
};
// Runs ARGV[0] (an absolute path) with ARGV, stdin from /dev/null, a minimal environment
// (PATH, LC_ALL=C), from the calling thread. Error only when it cannot be started.
Result<CommandOutput> run_command(const std::vector<std::string>& argv);
// "/usr/sbin/nft" or "/sbin/nft" (likewise "iptables"), "" when neither exists.
std::string find_tool(const std::string& name);
// How nft commands run in this process: "libnftables", or the path of the nft program when the
// library cannot be loaded, or "" (neither). For tests and `doctor`.
std::string nft_backend();

}  // namespace isolab::net
