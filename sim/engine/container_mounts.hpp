// The engine's side of a container's mounts (issue 15): what `create` checks and completes, what
// `start` makes on the host before the runtime mounts them. The runtime spec (oci_spec.cpp)
// turns the completed list into config.json mounts; the init mounts each on a target resolved
// inside the container's root (init.cpp mount_one).
#pragma once

#include <string>
#include <vector>

#include "sim/core/result.hpp"
#include "sim/engine/images.hpp"
#include "sim/state/container.hpp"
#include "sim/state/store.hpp"
#include "sim/state/volumes.hpp"

namespace isolab {

// --volumes-from: the volumes and binds of each container REC names, with its mode, where no
// mount of REC's own has that target (moby registerMountPoints: the user's -v wins). Errors:
// Docker's "No such container: X" (exit 125), the mode's.
Status add_volumes_from(const Store& store, ContainerRecord& rec);

// REC's mounts completed for create, nothing made: the image's VOLUMEs added as anonymous
// volumes where no mount of the user's has that target (not for a build step's container, as
// BuildKit mounts none), anonymous volumes named, host paths filled in. Checked with the
// daemon's words: a --mount bind source that does not exist, a bind source a rootless user
// cannot read, two mounts on one target.
Status plan_mounts(ContainerRecord& rec, const Image& image, bool build_step, const VolumeStore& volumes);

// Under the global lock: the volumes REC names that do not exist yet are made (a "volume_create"
// event each). Returns the names made, for undo_volumes.
Result<std::vector<std::string>> make_volumes(const Store& store, const ContainerRecord& rec, const VolumeStore& volumes);
void undo_volumes(const std::vector<std::string>& made, const VolumeStore& volumes);

// Before each start: a -v bind source that is missing is made (mkdir -p, as Docker's -v), a
// --mount bind source that is missing is the daemon's error, a volume that was removed is made
// again, and an empty volume (without nocopy) is seeded with what the container's file system
// holds at its target (Docker's copy: owner, mode and times kept).
Status prepare_mounts(const Store& store, const ContainerRecord& rec, const VolumeStore& volumes);

}  // namespace isolab
