// The state root (BRIEF §2): every container, image and event of one IsoLab installation lives
// under one directory. Two roots never see each other's objects.
//
//   ROOT/lock                      global lock: name allocation, garbage collection
//   ROOT/names/NAME                a symlink to the owner's id: reserving a name is one symlink(2),
//                                  atomic, with no need to read every record
//   ROOT/events.jsonl              one JSON event per line (the GUI and lessons follow it)
//   ROOT/images/...                the image store (images.hpp)
//   ROOT/containers/ID/container.json   the record (container.hpp), replaced atomically
//   ROOT/containers/ID/lock        the container's lock
//   ROOT/containers/ID/upper work merged   the writable layer and overlayfs' scratch dirs
//   ROOT/containers/ID/container.log       stdout/stderr as Docker's json-file lines
//   ROOT/containers/ID/attach.sock         the monitor's attach socket
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/files.hpp"
#include "sim/core/result.hpp"
#include "sim/engine/container.hpp"

namespace isolab {

// $ISOLAB_ROOT, else /var/lib/isolab for root, else ${XDG_DATA_HOME:-~/.local/share}/isolab.
std::string default_state_root();
// Appends {"time":..., "type":..., ...} to ROOT/events.jsonl (what Store::append_event does, for
// the parts that have no Store: the VM manager, the race). Best effort.
void append_event_to(const std::string& root, const std::string& type, nlohmann::json attrs);

class Store {
public:
    explicit Store(std::string root);

    const std::string& root() const { return root_; }
    std::string containers_dir() const { return root_ + "/containers"; }
    std::string container_dir(const std::string& id) const { return containers_dir() + "/" + id; }
    std::string images_dir() const { return root_ + "/images"; }

    Status ensure_layout() const;
    Result<FileLock> lock_global() const;
    Result<FileLock> lock_container(const std::string& id) const;

    Result<ContainerRecord> load(const std::string& id) const;
    Status save(const ContainerRecord& r) const;
    std::vector<std::string> list_ids() const;
    std::vector<ContainerRecord> list() const;  // skips unreadable records

    // Docker's lookup order: full id, exact name, unique id prefix. Unknown → exit 1 with
    // "No such container: REF" (the front end adds "Error response from daemon: ").
    Result<ContainerRecord> resolve(const std::string& ref) const;
    bool name_in_use(const std::string& name, std::string* owner_id) const;
    // Reserves NAME for ID; false (and the owner) when another container holds it.
    Result<bool> reserve_name(const std::string& name, const std::string& id, std::string* owner_id) const;
    void release_name(const std::string& name, const std::string& id) const;
    // Every name reserved for ID (a create killed before its record was saved has no record to
    // say which).
    void release_names_of(const std::string& id) const;

    // Appends {"time":..., "type":..., ...} to events.jsonl. Best effort: never fails a command.
    void append_event(const std::string& type, nlohmann::json attrs) const;

private:
    std::string root_;
};

}  // namespace isolab
