// Named and anonymous volumes with Docker's `local` driver semantics: a directory per volume
// under the state root that outlives every container using it.
//
//   ROOT/volumes/NAME/volume.json   {"created": RFC 3339, "labels": {...}, "anonymous": bool,
//                                    "by_volume_create": true when `volume create` made it}
//   ROOT/volumes/NAME/_data         what containers see at the mount's target (Mountpoint)
//
// A volume appears in one step: it is made as a scratch folder (owned_scratch_name) holding its
// record and _data, then renamed into place; a rename that finds NAME taken means another create
// won, and that volume is returned. Removal renames it to a scratch name first, so no reader ever
// sees half a volume; the garbage collector removes scratch folders whose owner is gone.
// Whether a volume is in use is the engine's question (the containers' records name their
// volumes); this store only keeps the files.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/result.hpp"

namespace isolab {

struct ContainerRecord;

struct Volume {
    std::string name;
    std::string created;     // RFC 3339, UTC
    std::map<std::string, std::string> labels;
    bool anonymous = false;  // named by the engine (-v /path, VOLUME): `rm -v` and `run --rm` remove it
    // Made by `volume create` (Docker's API then stores the empty label and option maps it was sent,
    // so inspect shows "Labels": {} and "Options": {}, where a volume `run -v` made shows null).
    bool by_volume_create = false;
    std::string mountpoint;  // ROOT/volumes/NAME/_data
};

class VolumeStore {
public:
    explicit VolumeStore(std::string state_root);

    std::string dir() const { return root_ + "/volumes"; }
    std::string data_dir(const std::string& name) const { return dir() + "/" + name + "/_data"; }

    // NAME (check_volume_name's rule) made, or the one that exists (Docker's `volume create` of an
    // existing name succeeds and changes nothing). CREATED is false when it already existed.
    // BY_VOLUME_CREATE: the `volume create` command makes it (see Volume::by_volume_create).
    Result<Volume> create(const std::string& name, const std::map<std::string, std::string>& labels, bool anonymous,
                          bool* created = nullptr, bool by_volume_create = false) const;
    // Error (exit 1): "get NAME: no such volume", Docker's daemon words.
    Result<Volume> get(const std::string& name) const;
    std::vector<Volume> list() const;  // sorted by name
    Status remove(const std::string& name) const;
    // _data has no entries (Docker seeds only an empty volume with the image's files).
    bool empty(const std::string& name) const;
    // Bytes and files under _data (`system df -v`, `volume ls` size in the GUI); best effort.
    int64_t size_bytes(const std::string& name) const;
    // Removes scratch folders whose owner is gone (a create or remove killed half-way).
    void collect_garbage() const;

private:
    std::string root_;
};

// Docker's label on a volume the daemon named (moby's AnonymousLabel): `volume create` without a
// name, `-v /path` and an image's VOLUME. `volume prune` without --all removes only these.
inline constexpr const char* kAnonymousVolumeLabel = "com.docker.volume.anonymous";

// V's labels as Docker shows and filters them: its own, plus kAnonymousVolumeLabel ("") when it is
// anonymous (IsoLab keeps that as Volume::anonymous, Docker as the label).
std::map<std::string, std::string> volume_labels(const Volume& v);

// The names of the volumes REC mounts, in its mounts' order.
std::vector<std::string> volumes_of(const ContainerRecord& rec);

class Store;
// The ids of the containers of STORE (any state) whose mounts name volume NAME, but EXCEPT_ID.
std::vector<std::string> volume_users(const Store& store, const std::string& name, const std::string& except_id = "");
// `rm -v` and `run --rm`: REC's anonymous volumes that no other container uses are removed
// (Docker keeps named volumes, and anonymous ones another container mounts). Best effort: the
// caller holds the global lock; returns the names removed.
std::vector<std::string> remove_anonymous_volumes(const Store& store, const ContainerRecord& rec);

// Docker's `volume inspect` object for V: Labels from volume_labels; Labels and Options are {}
// after `volume create`, else null when empty (Volume::by_volume_create).
nlohmann::json volume_inspect_json(const Volume& v);

}  // namespace isolab
