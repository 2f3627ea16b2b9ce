// The volume commands' engine side (`volume create`, `volume rm`, `volume prune`, `system prune
// --volumes`, and what `volume ls`, `system df` and `ps --filter volume=` need to know): free
// functions over the state root's Store (which containers exist and what they mount) and its
// VolumeStore (the files), with moby's daemon words (volume/service/service.go and store.go).
//
// Who uses a volume: every container whose record mounts it, in any state — created, running,
// exited or dead — exactly as moby keeps a reference from `create` to `rm`. A lost record (moved
// aside as container.json.bad) names no mounts, so it holds no volume.
//
// Check then remove: `volume rm` and the prunes hold Store::lock_global() from the moment they
// look at the records until the volume is gone, and the engine's create holds the same lock while
// it names a volume in a new record; so a `run -v NAME:/x` racing a `volume rm NAME` either saves
// its record first (and the removal is refused as in use) or finds no volume and makes a new,
// empty one — never a record pointing at a removed folder.
//
// Events (ROOT/events.jsonl, `isolab events` prints them as Docker's type `volume`):
//   volume_create  {"name", "driver": "local"}       only when the volume was made now
//   volume_destroy {"name", "driver": "local"}
//   volume_prune   {"reclaimed": bytes}              once per prune, as moby's ActionPrune
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "sim/core/result.hpp"
#include "sim/state/store.hpp"
#include "sim/state/volumes.hpp"

namespace isolab {

// Volume name → the ids of the containers whose records mount it, in the store's order. Volumes
// no container mounts are absent.
std::map<std::string, std::vector<std::string>> volume_user_map(const Store& store);

// `volume create [--label K=V]... [NAME]`. An empty NAME makes an anonymous volume with a fresh
// 64-hex-digit name (moby: stringid.GenerateRandomID). A NAME that exists is returned unchanged
// (Docker's create of an existing volume succeeds and changes nothing, labels included) and logs
// no event. Errors (exit 1), the daemon's words: `create NAME: "NAME" includes invalid characters
// for a local volume name, ...`, `create NAME: volume name is too short, ...`.
Result<Volume> create_volume(const Store& store, const VolumeStore& volumes, const std::string& name,
                             const std::map<std::string, std::string>& labels);

// `volume rm [-f] NAME`. Refused (exit 1) while a container uses it: "remove NAME: volume is in
// use - [ID, ID]" (full ids); an unknown NAME is "get NAME: no such volume" (exit 1), or success
// with FORCE, which ignores nothing else. Takes the global lock.
Status remove_volume(const Store& store, const VolumeStore& volumes, const std::string& name, bool force);

struct VolumePruneReport {
    std::vector<std::string> deleted;  // names, in name order
    uint64_t reclaimed = 0;            // bytes the removed volumes held
};

// Which of VOLUMES `volume prune` removes: not used by any container (USERS from volume_user_map),
// anonymous unless ALL (Docker 23+), and accepted by MATCHES (the caller's label/label! filters;
// null accepts all). Pure: the selection rule, testable without files.
std::vector<Volume> prunable_volumes(const std::vector<Volume>& volumes,
                                     const std::map<std::string, std::vector<std::string>>& users, bool all,
                                     const std::function<bool(const Volume&)>& matches);

// `volume prune [-a]` and `system prune --volumes` (never -a there): removes prunable_volumes
// under the global lock, measuring each first; one volume_destroy event each and one volume_prune.
// A volume that cannot be removed is skipped, as moby's prune does.
Result<VolumePruneReport> prune_volumes(const Store& store, const VolumeStore& volumes, bool all,
                                        const std::function<bool(const Volume&)>& matches);

}  // namespace isolab
