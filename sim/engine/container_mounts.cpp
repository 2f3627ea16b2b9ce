#include "sim/engine/container_mounts.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/core/safe_path.hpp"
#include "sim/core/tree_copy.hpp"
#include "sim/runtime/oci_spec.hpp"

namespace isolab {

namespace {

Error bind_missing(const std::string& source) {
    return make_error("invalid mount config for type \"bind\": bind source path does not exist: " + source, 125);
}

// The target exists in one of REC's layers or its writable layer (resolved inside each): only
// then is there anything to seed, and only then is the merged view worth assembling.
bool target_in_layers(const Store& store, const ContainerRecord& rec, const std::string& target) {
    std::vector<std::string> dirs = rec.layers;
    if (rec.rootfs_mode == RootfsMode::Copy) dirs = {store.container_dir(rec.id) + "/rootfs"};
    else dirs.push_back(store.container_dir(rec.id) + "/upper");
    for (const auto& d : dirs) {
        auto root = safe::Root::open(d);
        if (!root) continue;
        if (auto fd = root->open(target, O_PATH | O_DIRECTORY)) return true;
    }
    return false;
}

Status seed_volume(const Store& store, const ContainerRecord& rec, const MountSpec& m, const VolumeStore& volumes) {
    if (!target_in_layers(store, rec, m.target)) return {};
    auto merged = oci::open_merged_root(store, rec);
    if (!merged) return merged.error().wrap("copy the image's " + m.target + " into volume " + m.source);
    auto root = safe::Root::open(safe::fd_path(merged->get()));
    if (!root) return root.error();
    // Resolved inside the container's root: a target that is a symlink to /etc seeds from the
    // container's /etc, never the host's.
    auto from = root->open(m.target, O_RDONLY | O_DIRECTORY);
    if (!from) return {};  // not a directory in the image: nothing to copy (Docker's rule)
    UniqueFd to(::open(volumes.data_dir(m.source).c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!to.valid()) return errno_error("open volume " + m.source, errno);
    TreeCopyOptions o;
    ISOLAB_TRY(copy_tree_at(from->get(), to.get(), o, "copy the image's " + m.target + " into volume " + m.source));
    // The volume's top takes the owner and mode of the image's directory, as Docker's copy does.
    struct stat st;
    if (::fstat(from->get(), &st) == 0) {
        if (::geteuid() == 0) (void)::fchown(to.get(), st.st_uid, st.st_gid);
        (void)::fchmod(to.get(), st.st_mode & 07777);
    }
    return {};
}

}  // namespace

Status add_volumes_from(const Store& store, ContainerRecord& rec) {
    auto& mounts = rec.spec.mounts;
    for (const std::string& text : rec.spec.volumes_from) {
        auto from = parse_volumes_from(text);
        if (!from) return from.error();
        auto other = store.resolve(from->container);
        if (!other) return make_error(other.error().message, 125);
        for (MountSpec m : other->spec.mounts) {
            if (m.type == MountType::Tmpfs) continue;  // a tmpfs is the other container's memory
            if (std::any_of(mounts.begin(), mounts.end(), [&](const MountSpec& x) { return x.target == m.target; })) continue;
            if (from->mode == "ro") m.readonly = true;
            if (from->mode == "rw") m.readonly = false;
            m.origin = MountOrigin::VolumesFrom;
            mounts.push_back(m);
        }
    }
    return {};
}

Status plan_mounts(ContainerRecord& rec, const Image& image, bool build_step, const VolumeStore& volumes) {
    auto& mounts = rec.spec.mounts;
    ISOLAB_TRY(check_duplicate_targets(mounts));
    if (!build_step && image.config.contains("config") && image.config["config"].is_object()) {
        const auto& cfg = image.config["config"];
        if (auto it = cfg.find("Volumes"); it != cfg.end() && it->is_object())
            for (const auto& [target, unused] : it->items()) {
                (void)unused;
                if (target.empty() || target[0] != '/') continue;
                std::string clean = safe::clean_in_root(target);
                if (clean == "/") continue;
                if (std::any_of(mounts.begin(), mounts.end(), [&](const MountSpec& m) { return m.target == clean; })) continue;
                MountSpec m;
                m.type = MountType::Volume;
                m.origin = MountOrigin::Image;
                m.target = clean;
                m.anonymous = true;
                mounts.push_back(m);
            }
    }
    for (MountSpec& m : mounts) {
        switch (m.type) {
            case MountType::Volume:
                if (m.source.empty()) {
                    m.source = random_hex(32);
                    m.anonymous = true;
                }
                m.host_path = volumes.data_dir(m.source);
                break;
            case MountType::Bind: {
                m.host_path = m.source;
                struct stat st;
                const bool exists = ::stat(m.source.c_str(), &st) == 0;
                if (!exists && !m.create_source) return bind_missing(m.source);
                // Rootless: the kernel would let a user namespace's root bind what the user
                // cannot read only to fail later; say it now.
                if (exists && rec.backend == Backend::Rootless && ::access(m.source.c_str(), R_OK) != 0)
                    return make_error("invalid mount config for type \"bind\": " + m.source +
                                          " is not readable by you (uid " + std::to_string(::geteuid()) +
                                          "), and a rootless container binds only what its user can read",
                                      125);
                break;
            }
            case MountType::Tmpfs: break;
        }
    }
    return {};
}

Result<std::vector<std::string>> make_volumes(const Store& store, const ContainerRecord& rec, const VolumeStore& volumes) {
    std::vector<std::string> made;
    for (const MountSpec& m : rec.spec.mounts) {
        if (m.type != MountType::Volume) continue;
        bool created = false;
        auto v = volumes.create(m.source, {}, m.anonymous, &created);
        if (!v) {
            undo_volumes(made, volumes);
            return v.error();
        }
        if (created) {
            made.push_back(m.source);
            store.append_event("volume_create", {{"name", m.source}});
        }
    }
    return made;
}

void undo_volumes(const std::vector<std::string>& made, const VolumeStore& volumes) {
    for (const auto& n : made) (void)volumes.remove(n);
}

Status prepare_mounts(const Store& store, const ContainerRecord& rec, const VolumeStore& volumes) {
    for (const MountSpec& m : rec.spec.mounts) {
        if (m.type == MountType::Bind) {
            struct stat st;
            if (::stat(m.source.c_str(), &st) == 0) continue;
            if (!m.create_source) return bind_missing(m.source);
            if (auto s = make_dirs(m.source, 0755); !s)
                return make_error("error while creating mount source path '" + m.source + "': " + s.error().message, 125);
        } else if (m.type == MountType::Volume) {
            bool created = false;
            auto v = volumes.create(m.source, {}, m.anonymous, &created);
            if (!v) return v.error();
            if (created) store.append_event("volume_create", {{"name", m.source}});
            if (!m.no_copy && rec.rootfs_mode != RootfsMode::None && volumes.empty(m.source))
                ISOLAB_TRY(seed_volume(store, rec, m, volumes));
        }
    }
    return {};
}

}  // namespace isolab
