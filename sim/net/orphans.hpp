// Bridges and firewall rules whose state root is gone ("orphans"), and how IsoLab tells them apart
// from those of live roots and from what IsoLab did not make.
//
// Why: a state root deleted without `isolab system reset` (a test's temporary root, `rm -rf` of an
// ISOLAB_ROOT) leaves its bridges and rules in the kernel. Each bridge holds one of the default
// address pools, so 31 of them used up the pools and every new root failed (issue 12).
//
// Who owns a bridge: the bridge says so itself. When IsoLab makes or reuses a bridge it sets the
// bridge's interface alias (IFLA_IFALIAS; `ip link show` prints "alias isolab-root:/var/lib/isolab")
// to "isolab-root:" and the absolute path of its state root. The record lives and dies with the
// bridge, is per network namespace as the bridge is, and is never out of step with a file. Rules
// carry the owner tag of their root (firewall.hpp), which is traced to the root's path through the
// bridges the root owns.
//
// A root has vanished when ROOT/networks is no longer a directory (the root was deleted, or reset).
//
// What is collected, always under HostNetworkLock:
//   - a bridge whose alias names a vanished root (with its ports: the root's containers are gone);
//   - a rule set whose owner tag belongs only to bridges of vanished roots, or to no bridge at all
//     (IsoLab makes a root's bridge before its rules and deletes the rules first, under the lock,
//     so rules without their bridge are left over; when the root is alive its next start puts
//     them back);
//   - with Sweep::AlsoLegacy (doctor --fix, system reset), what IsoLab made before owners were
//     recorded: bridges without an alias named as IsoLab names them (`isolab0`, `isolab` + 8 hex +
//     `0`, `isolab-` + 8 hex) that have no port (no container uses them) and are not a network of
//     the system root /var/lib/isolab, and rules tagged "isolab:<network>" whose bridges are all
//     gone or collected (so a running container of an older version keeps its NAT). A live root
//     whose bridge or rules this removes gets them back, owned, at its next start.
// Never collected: a bridge or rule set of a root that exists, and any bridge IsoLab does not
// name as its own (docker0, virbr0, podman's cni-podman0) whatever its alias.
#pragma once

#include <string>
#include <vector>

#include "sim/core/result.hpp"
#include "sim/net/netlink.hpp"

namespace isolab::net {

// "isolab-root:": the alias prefix that marks a bridge IsoLab made, followed by its root's path.
extern const char* const kOwnerAliasPrefix;

// Makes bridge NAME (ensure_bridge) and records STATE_ROOT (absolute) as its owner, both under
// HostNetworkLock, so a collector never sees the bridge without its owner. Refuses a bridge that
// another state root still owns (two roots whose bridge names collide).
Status claim_bridge(const std::string& bridge, const std::string& gateway_cidr, const std::string& state_root);
// Deletes bridge NAME unless a live state root other than STATE_ROOT owns it. Success when there
// is none.
Status release_bridge(const std::string& bridge, const std::string& state_root);

bool root_vanished(const std::string& state_root);

// A bridge IsoLab made, as found in the calling thread's namespace.
struct OwnedBridge {
    BridgeInfo info;
    std::string root;     // the owner's state root; "" for a legacy bridge (no alias)
    bool vanished = false;
};
// IsoLab's bridges (owned or legacy-named), sorted by name.
Result<std::vector<OwnedBridge>> isolab_bridges();

enum class Sweep { VanishedRoots, AlsoLegacy };

// One thing collected (or, with DRY_RUN, that would be).
struct Leftover {
    enum class Kind { Bridge, Rules } kind;
    std::string name;                 // the bridge, or the rules' comment
    std::string root;                 // the vanished owner; "" when not known (legacy, no bridge)
    bool legacy = false;              // made by IsoLab before owners were recorded
    std::vector<std::string> ipv4;    // a bridge's addresses
    int rules = 0;                    // how many rules carried the comment
};
struct Collection {
    std::vector<Leftover> removed;    // with DRY_RUN: what would be removed
    std::vector<std::string> errors;  // what could not be removed and why; the rest went on
};
// Removes the orphans of this network namespace (see the top of this file). Never fails as a
// whole: each failure is listed and the others are still removed.
Collection collect_orphans(Sweep sweep, bool dry_run = false);

}  // namespace isolab::net
