// The "data that outlives a container" picture of the Images & layers tab (GUI-free, issue 15):
// each container drawn as its writable layer on top of its image, and the data it mounts drawn as
// separate boxes OUTSIDE that stack, joined to it by a line. The lesson, at a glance: `rm`
// deletes the writable layer (and a tmpfs is memory, gone at stop), while a volume or a host folder
// stays, so a volume no container uses any more is still drawn (dangling).
//
//   - a named volume: its name, size, and every container that mounts it (name → target, ro/rw);
//   - an anonymous volume: the same, labelled anonymous, by its short id (12 of its 64 hex digits);
//   - a bind mount: a host folder, by its host path; two containers binding one path share a box;
//   - a tmpfs: memory inside the container's column, not a box outside it (it does not outlive
//     the container; it does not even outlive a stop).
//
// The inputs are plain values (the records the store keeps, the volumes VolumeStore lists, sizes
// measured by the caller on a worker thread), so the unit tests need no window.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/state/container.hpp"
#include "sim/state/volumes.hpp"
#include "sim/view/snapshot.hpp"

namespace isolab::view {

enum class DataKind {
    Volume,  // named or anonymous; lives under ROOT/volumes/NAME/_data
    Bind,    // a host folder
};

// One container's mount of a box (or of a tmpfs).
struct DataUse {
    std::string container;      // name
    std::string container_id;
    std::string target;         // the path inside the container
    bool readonly = false;
    bool simulated = false;     // the container runs on the simulated backend: nothing is mounted
};

// A box outside the container stacks: a volume or a host folder.
struct DataBox {
    DataKind kind = DataKind::Volume;
    std::string source;         // the volume's full name | the host path
    std::string label;          // what the box says: the name, an anonymous volume's short id, the host path
    bool anonymous = false;     // volume: named by the engine (-v /path, VOLUME)
    bool dangling = false;      // volume: no container uses it (it still exists: that is the lesson)
    bool missing = false;       // volume: a container names it, the store does not have it (yet)
    int64_t size = -1;          // volume: bytes under _data; -1 = not measured; bind: always -1
    std::string path;           // volume: its Mountpoint (…/_data); bind: the host path
    std::string created;        // volume: RFC 3339; bind: ""
    std::vector<DataUse> users; // in column order, then mount order
};

// A tmpfs of one container: memory, drawn inside the container's column.
struct TmpfsChip {
    std::string target;
    int64_t size = 0;           // bytes; 0 = the kernel's default (half of RAM)
    bool readonly = false;
};

// One line from a container's column to a box.
struct DataEdge {
    size_t box = 0;             // index into DataPicture::boxes
    std::string target;
    bool readonly = false;
};

struct ContainerColumn {
    std::string name, id;
    ContainerState state = ContainerState::Created;
    bool simulated = false;
    bool selected = false;
    std::string image_id;
    std::string image_title;    // the image's first tag, else its short id
    int image_layers = 0;       // the record's layer directories
    std::vector<DataEdge> edges;  // in mount order
    std::vector<TmpfsChip> tmpfs;
};

struct DataPicture {
    std::vector<ContainerColumn> columns;  // the snapshot's order (newest first)
    std::vector<DataBox> boxes;            // by first use (column, then mount order), dangling volumes last
    int hidden_columns = 0;                // containers left out by MAX_COLUMNS
    int volume_count = 0, dangling_count = 0, bind_count = 0, tmpfs_count = 0;
    bool empty() const { return columns.empty() && boxes.empty(); }
};

// CONTAINERS: every record (newest first, as the snapshot lists them). A column is drawn for each
// container that mounts something, and for SELECTED (its name or id) even when it mounts nothing:
// its writable layer is all it has, and `rm` would take it. At most MAX_COLUMNS columns (the
// selected one first among equals is kept); the rest are counted in hidden_columns, but their
// mounts still count as uses (a volume a hidden container uses is not dangling).
// VOLUMES: every volume of the store (VolumeStore::list), each drawn, used or not.
// SIZES: volume name → bytes (VolumeStore::size_bytes); names not in it stay -1.
DataPicture build_data_picture(const std::vector<ContainerRecord>& containers, const std::vector<Volume>& volumes,
                               const std::map<std::string, int64_t>& sizes, const std::string& selected,
                               size_t max_columns = 6);

// The same from what the window holds: the snapshot's containers and volumes, with image titles
// from its images.
DataPicture build_data_picture(const WorldSnapshot& w, const std::map<std::string, int64_t>& sizes,
                               const std::string& selected, size_t max_columns = 6);

// An anonymous volume's name as a learner reads it: its first 12 characters (Docker's short id).
std::string short_volume_name(const std::string& name);

}  // namespace isolab::view
