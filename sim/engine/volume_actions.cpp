#include "sim/engine/volume_actions.hpp"

#include <algorithm>
#include <set>

#include "sim/core/clock.hpp"
#include "sim/state/mounts.hpp"

namespace isolab {

namespace {

void log_volume_event(const Store& store, const std::string& action, const std::string& name) {
    store.append_event("volume_" + action, {{"name", name}, {"driver", "local"}});
}

}  // namespace

std::map<std::string, std::vector<std::string>> volume_user_map(const Store& store) {
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& rec : store.list()) {
        std::set<std::string> seen;  // a container that mounts one volume twice counts once
        for (const auto& name : volumes_of(rec))
            if (seen.insert(name).second) out[name].push_back(rec.id);
    }
    return out;
}

Result<Volume> create_volume(const Store& store, const VolumeStore& volumes, const std::string& name,
                             const std::map<std::string, std::string>& labels) {
    const bool anonymous = name.empty();
    // moby's stringid.GenerateRandomID: 32 random bytes in hex.
    const std::string chosen = anonymous ? random_hex(32) : name;
    if (auto s = check_volume_name(chosen); !s) return make_error("create " + chosen + ": " + s.error().message, 1);
    bool created = false;
    auto v = volumes.create(chosen, labels, anonymous, &created, true);
    if (!v) {
        Error e = v.error();  // a file-system error ("create volume NAME: ..."): the daemon's exit code
        e.exit_code = 1;
        return e;
    }
    if (created) log_volume_event(store, "create", v->name);
    return v;
}

Status remove_volume(const Store& store, const VolumeStore& volumes, const std::string& name, bool force) {
    auto global = store.lock_global();
    if (!global) return global.error();
    if (auto v = volumes.get(name); !v) {
        if (force) return {};  // moby's PurgeOnError: -f makes an unknown name a success
        return v.error();
    }
    if (auto users = volume_users(store, name); !users.empty()) {
        std::string refs;
        for (const auto& id : users) refs += (refs.empty() ? "" : ", ") + id;
        return make_error("remove " + name + ": volume is in use - [" + refs + "]", 1);
    }
    ISOLAB_TRY(volumes.remove(name));
    log_volume_event(store, "destroy", name);
    return {};
}

std::vector<Volume> prunable_volumes(const std::vector<Volume>& volumes,
                                     const std::map<std::string, std::vector<std::string>>& users, bool all,
                                     const std::function<bool(const Volume&)>& matches) {
    std::vector<Volume> out;
    for (const auto& v : volumes) {
        if (users.count(v.name)) continue;
        if (!all && !v.anonymous) continue;  // Docker 23+: named volumes only with --all
        if (matches && !matches(v)) continue;
        out.push_back(v);
    }
    std::sort(out.begin(), out.end(), [](const Volume& a, const Volume& b) { return a.name < b.name; });
    return out;
}

Result<VolumePruneReport> prune_volumes(const Store& store, const VolumeStore& volumes, bool all,
                                        const std::function<bool(const Volume&)>& matches) {
    VolumePruneReport report;
    {
        auto global = store.lock_global();
        if (!global) return global.error();
        for (const auto& v : prunable_volumes(volumes.list(), volume_user_map(store), all, matches)) {
            const int64_t size = volumes.size_bytes(v.name);
            if (!volumes.remove(v.name)) continue;  // moby logs a warning and goes on
            log_volume_event(store, "destroy", v.name);
            report.deleted.push_back(v.name);
            report.reclaimed += static_cast<uint64_t>(std::max<int64_t>(size, 0));
        }
    }
    store.append_event("volume_prune", {{"reclaimed", report.reclaimed}});
    return report;
}

}  // namespace isolab
