#include "sim/state/volumes.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/state/container.hpp"
#include "sim/state/store.hpp"

namespace isolab {

using nlohmann::json;

VolumeStore::VolumeStore(std::string state_root) : root_(std::move(state_root)) {}

Result<Volume> VolumeStore::create(const std::string& name, const std::map<std::string, std::string>& labels,
                                   bool anonymous, bool* created, bool by_volume_create) const {
    if (created) *created = false;
    ISOLAB_TRY(check_volume_name(name));
    if (auto existing = get(name)) return existing;
    // volumes/ is 0701 as Docker's: containers' processes never list it, root passes through.
    if (auto s = make_dirs(dir(), 0701); !s) return s.error();
    const std::string fresh = dir() + "/" + owned_scratch_name(".creating");
    if (::mkdir(fresh.c_str(), 0701) != 0) return errno_error("create volume " + name, errno);
    // Docker's local driver keeps RFC 3339 to the second.
    std::string now = now_rfc3339();
    if (auto dot = now.find('.'); dot != std::string::npos) now = now.substr(0, dot) + "Z";
    json rec = {{"created", now}, {"labels", labels}, {"anonymous", anonymous}};
    if (by_volume_create) rec["by_volume_create"] = true;
    Status s = write_file_atomic(fresh + "/volume.json", rec.dump(2) + "\n", 0600);
    if (s && ::mkdir((fresh + "/_data").c_str(), 0755) != 0) s = errno_error("create volume " + name + " data", errno);
    if (!s) {
        (void)remove_tree(fresh);
        return s.error();
    }
    if (::rename(fresh.c_str(), (dir() + "/" + name).c_str()) != 0) {
        int err = errno;
        (void)remove_tree(fresh);
        if (err == EEXIST || err == ENOTEMPTY) return get(name);  // another create won the race
        return errno_error("create volume " + name, err);
    }
    if (created) *created = true;
    return get(name);
}

Result<Volume> VolumeStore::get(const std::string& name) const {
    if (name.empty() || name[0] == '.' || name.find('/') != std::string::npos)
        return make_error("get " + name + ": no such volume", 1);
    auto text = read_file(dir() + "/" + name + "/volume.json");
    if (!text) return make_error("get " + name + ": no such volume", 1);
    Volume v;
    v.name = name;
    v.mountpoint = data_dir(name);
    try {
        json j = json::parse(*text);
        v.created = j.value("created", "");
        v.labels = j.value("labels", std::map<std::string, std::string>{});
        v.anonymous = j.value("anonymous", false);
        v.by_volume_create = j.value("by_volume_create", false);
    } catch (const std::exception& e) {
        return make_error("volume " + name + ": its record " + dir() + "/" + name + "/volume.json is not valid JSON (" +
                              e.what() + "): remove the folder to drop the volume",
                          1);
    }
    return v;
}

std::vector<Volume> VolumeStore::list() const {
    std::vector<Volume> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir(), ec)) {
        std::string n = e.path().filename().string();
        if (n.empty() || n[0] == '.') continue;
        if (auto v = get(n)) out.push_back(*v);
    }
    std::sort(out.begin(), out.end(), [](const Volume& a, const Volume& b) { return a.name < b.name; });
    return out;
}

Status VolumeStore::remove(const std::string& name) const {
    ISOLAB_TRY(get(name));
    const std::string gone = dir() + "/" + owned_scratch_name(".removing");
    if (::rename((dir() + "/" + name).c_str(), gone.c_str()) != 0) return errno_error("remove volume " + name, errno);
    return remove_tree(gone);
}

bool VolumeStore::empty(const std::string& name) const {
    DIR* d = ::opendir(data_dir(name).c_str());
    if (!d) return false;
    bool none = true;
    while (dirent* e = ::readdir(d))
        if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
            none = false;
            break;
        }
    ::closedir(d);
    return none;
}

int64_t VolumeStore::size_bytes(const std::string& name) const {
    int64_t total = 0;
    std::error_code ec;
    auto it = std::filesystem::recursive_directory_iterator(data_dir(name), std::filesystem::directory_options::none, ec);
    for (; !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        struct stat st;
        if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) total += st.st_blocks * 512;
    }
    return total;
}

void VolumeStore::collect_garbage() const {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir(), ec)) {
        std::string n = e.path().filename().string();
        if ((n.rfind(".creating-", 0) == 0 || n.rfind(".removing-", 0) == 0) && owned_scratch_abandoned(n))
            (void)remove_tree(e.path().string());
    }
}

std::vector<std::string> volumes_of(const ContainerRecord& rec) {
    std::vector<std::string> out;
    for (const auto& m : rec.spec.mounts)
        if (m.type == MountType::Volume && !m.source.empty()) out.push_back(m.source);
    return out;
}

std::map<std::string, std::string> volume_labels(const Volume& v) {
    std::map<std::string, std::string> out = v.labels;
    if (v.anonymous) out[kAnonymousVolumeLabel] = "";
    return out;
}

std::vector<std::string> volume_users(const Store& store, const std::string& name, const std::string& except_id) {
    std::vector<std::string> out;
    for (const auto& r : store.list()) {
        if (r.id == except_id) continue;
        const auto used = volumes_of(r);
        if (std::find(used.begin(), used.end(), name) != used.end()) out.push_back(r.id);
    }
    return out;
}

std::vector<std::string> remove_anonymous_volumes(const Store& store, const ContainerRecord& rec) {
    VolumeStore volumes(store.root());
    std::vector<std::string> removed;
    for (const auto& m : rec.spec.mounts) {
        if (m.type != MountType::Volume || !m.anonymous || m.source.empty()) continue;
        if (!volume_users(store, m.source, rec.id).empty()) continue;
        if (volumes.remove(m.source)) {
            removed.push_back(m.source);
            store.append_event("volume_destroy", {{"name", m.source}, {"driver", "local"}});
        }
    }
    return removed;
}

json volume_inspect_json(const Volume& v) {
    const auto labels = volume_labels(v);
    return {{"CreatedAt", v.created},
            {"Driver", "local"},
            {"Labels", labels.empty() && !v.by_volume_create ? json(nullptr) : json(labels)},
            {"Mountpoint", v.mountpoint},
            {"Name", v.name},
            {"Options", v.by_volume_create ? json::object() : json(nullptr)},
            {"Scope", "local"}};
}

}  // namespace isolab
