// Outbound NAT and forwarding rules for bridge networks, through nft (preferred: one
// `table ip isolab` that can be deleted as a whole) or iptables (rules tagged with the comment
// "isolab:<network>"), whichever is installed; with neither, a warning, not an error.
//
// The tools run as child processes (posix_spawn with an argv, no shell) from the CALLING THREAD,
// and a child inherits that thread's network namespace: a thread that entered a private namespace
// with unshare(CLONE_NEWNET) changes the rules of that namespace only. The tests rely on this.
#pragma once

#include <string>
#include <vector>

#include "sim/core/result.hpp"

namespace isolab::net {

struct FirewallReport {
    std::string tool;     // "nft" | "iptables" | "" (none usable)
    std::string warning;  // what could not be done and what the user loses, or ""
};

// Auto: nft when it works, else iptables. The others force one (tests, `doctor`).
enum class FirewallTool { Auto, Nft, Iptables };

// For NETWORK with SUBNET on BRIDGE, in this order of precedence within the forward chain:
//   - accept BRIDGE → BRIDGE (containers of one network talk to each other);
//   - drop BRIDGE ↔ any other IsoLab bridge ("isolab*", "br-il*"): networks stay isolated;
//   - accept BRIDGE → anywhere, and anywhere → BRIDGE for established/related connections only
//     (as Docker: from outside, containers are reachable through published ports, i.e. the
//     userland proxy, which is not forwarding);
//   - masquerade SUBNET leaving through any interface but BRIDGE.
// Also enables net.ipv4.ip_forward (per network namespace) and, when the host's iptables filter
// FORWARD chain has policy DROP (hosts with Docker), inserts the same forward rules there, since
// an accept in our own nft table does not override another table's drop.
// Idempotent: the old rules of NETWORK are replaced in one nft transaction, so calling it twice
// leaves one set, and traffic never sees a moment without rules.
Result<FirewallReport> ensure_network_rules(const std::string& network,
                                            const std::string& subnet_cidr,
                                            const std::string& bridge,
                                            FirewallTool tool = FirewallTool::Auto);
// Removes exactly what ensure_network_rules added for NETWORK (with nft, the whole table once no
// network is left), whichever tool added it. Idempotent. BRIDGE is accepted for symmetry; rules
// are found by their comment.
Status remove_network_rules(const std::string& network, const std::string& bridge);
// The rules IsoLab currently has: the lines of `nft list table ip isolab` and the iptables -S
// lines carrying an "isolab:" comment. For tests and `doctor`.
std::vector<std::string> list_rules();

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

}  // namespace isolab::net
