#include "sim/net/orphans.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "sim/net/firewall.hpp"
#include "sim/net/networks.hpp"

namespace isolab::net {

const char* const kOwnerAliasPrefix = "isolab-root:";

namespace {

constexpr const char* kSystemRoot = "/var/lib/isolab";

bool all_hex(const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c) && !std::isupper(c); });
}

// The names NetworkStore gives bridges: `isolab0` (system root), `isolab` + 8 hex + `0` (the
// default bridge of another root), `isolab-` + 8 hex (a user-defined network).
bool isolab_bridge_name(const std::string& n) {
    if (n == "isolab0") return true;
    if (n.size() == 15 && n.rfind("isolab-", 0) == 0) return all_hex(n.substr(7));
    if (n.size() == 15 && n.rfind("isolab", 0) == 0 && n.back() == '0') return all_hex(n.substr(6, 8));
    return false;
}

std::string owner_of(const BridgeInfo& b) {
    const std::string prefix = kOwnerAliasPrefix;
    if (b.alias.rfind(prefix, 0) != 0) return "";
    return b.alias.substr(prefix.size());
}

// The bridges of the system root's networks, which a legacy sweep must leave alone: that root
// exists (or its records would not), whatever made its bridges.
std::set<std::string> system_root_bridges() {
    std::set<std::string> out;
    if (root_vanished(kSystemRoot)) return out;
    for (const auto& n : NetworkStore(kSystemRoot, true).list())
        if (!n.bridge.empty()) out.insert(n.bridge);
    return out;
}

}  // namespace

bool root_vanished(const std::string& state_root) {
    struct stat st{};
    return state_root.empty() || state_root[0] != '/' ||
           ::stat((state_root + "/networks").c_str(), &st) != 0 || !S_ISDIR(st.st_mode);
}

Result<std::vector<OwnedBridge>> isolab_bridges() {
    std::vector<OwnedBridge> out;
    auto bridges = list_bridges();
    if (!bridges) return bridges.error();
    for (auto& b : *bridges) {
        OwnedBridge o;
        o.root = owner_of(b);
        // An alias that is not ours on a bridge named like ours: someone else's; never touched.
        if (o.root.empty() && (!b.alias.empty() || !isolab_bridge_name(b.name))) continue;
        o.vanished = !o.root.empty() && root_vanished(o.root);
        o.info = std::move(b);
        out.push_back(std::move(o));
    }
    return out;
}

Status claim_bridge(const std::string& bridge, const std::string& gateway_cidr, const std::string& state_root) {
    const std::string alias = kOwnerAliasPrefix + state_root;
    if (state_root.empty() || state_root[0] != '/')
        return make_error("bridge `" + bridge + "`: the state root `" + state_root + "` is not an absolute path");
    if (alias.size() > 255)
        return make_error("bridge `" + bridge + "`: the state root `" + state_root +
                          "` is too long to be recorded as the bridge's owner (at most " +
                          std::to_string(255 - std::string(kOwnerAliasPrefix).size()) +
                          " bytes): use a shorter ISOLAB_ROOT");
    HostNetworkLock lock;
    if (auto bridges = list_bridges()) {
        for (const auto& b : *bridges) {
            if (b.name != bridge) continue;
            std::string owner = owner_of(b);
            if (!owner.empty() && owner != state_root && !root_vanished(owner))
                return make_error("bridge `" + bridge + "` belongs to the state root `" + owner +
                                  "`: two state roots cannot share a bridge; remove the network and create it again");
        }
    }
    ISOLAB_TRY(ensure_bridge(bridge, gateway_cidr));
    return set_link_alias(bridge, alias);
}

Status release_bridge(const std::string& bridge, const std::string& state_root) {
    HostNetworkLock lock;
    if (auto bridges = list_bridges()) {
        for (const auto& b : *bridges) {
            if (b.name != bridge) continue;
            std::string owner = owner_of(b);
            if (!owner.empty() && owner != state_root && !root_vanished(owner)) return {};
        }
    }
    return delete_link(bridge);
}

Collection collect_orphans(Sweep sweep, bool dry_run) {
    Collection c;
    // Held throughout: no bridge is claimed and no rule is made while we decide and remove.
    HostNetworkLock lock;
    const std::set<std::string> system_bridges =
        sweep == Sweep::AlsoLegacy ? system_root_bridges() : std::set<std::string>{};

    // Owner tag → whether some live root with that tag owns a bridge; and the vanished roots by tag.
    std::map<std::string, bool> tag_alive;
    std::map<std::string, std::string> vanished_root_of;
    std::vector<OwnedBridge> doomed;
    // Without the list of bridges every owned rule set would look ownerless: stop here.
    auto bridges = isolab_bridges();
    if (!bridges) {
        c.errors.push_back(bridges.error().message);
        return c;
    }
    std::set<std::string> kept;  // the IsoLab bridges that stay, which legacy rules may still serve
    for (const auto& b : *bridges) {
        if (!b.root.empty()) {
            std::string tag = owner_tag(b.root);
            if (!b.vanished) {
                tag_alive[tag] = true;
                kept.insert(b.info.name);
                continue;
            }
            tag_alive.try_emplace(tag, false);
            vanished_root_of[tag] = b.root;
            doomed.push_back(b);
        } else if (sweep == Sweep::AlsoLegacy && b.info.ports == 0 && !system_bridges.count(b.info.name)) {
            doomed.push_back(b);
        } else {
            kept.insert(b.info.name);
        }
    }

    // Rules first, as teardown does.
    for (const auto& set : rule_sets()) {
        bool legacy = set.owner.empty();
        if (legacy) {
            bool serves_a_bridge = std::any_of(set.bridges.begin(), set.bridges.end(),
                                               [&](const std::string& b) { return kept.count(b) > 0; });
            if (sweep != Sweep::AlsoLegacy || serves_a_bridge) continue;
        } else if (tag_alive[set.owner]) {
            continue;
        }
        Leftover l{Leftover::Kind::Rules, set.comment, legacy ? "" : vanished_root_of[set.owner], legacy, {}, set.rules};
        if (!dry_run) {
            auto n = remove_rule_set(set.comment);
            if (!n) {
                c.errors.push_back(n.error().message);
                continue;
            }
            l.rules = *n;
        }
        c.removed.push_back(std::move(l));
    }
    for (auto& b : doomed) {
        if (!dry_run) {
            if (auto st = delete_link(b.info.name); !st) {
                c.errors.push_back(st.error().message);
                continue;
            }
        }
        c.removed.push_back({Leftover::Kind::Bridge, b.info.name, b.root, b.root.empty(), b.info.ipv4, 0});
    }
    return c;
}

}  // namespace isolab::net
