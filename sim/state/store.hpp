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
//   ROOT/containers/ID/container.json.bad  a record that could not be read, kept for the user
//
// Who may read what (issue 12: a setuid file in a writable layer, or a record with `-e` secrets,
// must not be reachable by other local users). ROOT is 0711: others may pass through it to
// ROOT/guest (the VM guest kernel and initramfs, which /var/lib/isolab/guest shares with non-root
// users, see vm_manager.cpp), never list it. Every directory below it that IsoLab makes is 0700
// (containers, images, names, networks; vms and runc when they exist) and every record 0600 (the
// default of write_file_atomic). The rootless case keeps its state in the user's home and owns
// all of it. A root made by an older IsoLab is tightened by ensure_layout.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/files.hpp"
#include "sim/core/result.hpp"
#include "sim/state/container.hpp"

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

    // Makes the layout, and tightens the modes of a root made by an older IsoLab (its private
    // directories and records lose every group and other bit). Cheap when nothing is to be done:
    // a stat per top-level entry.
    Status ensure_layout() const;
    Result<FileLock> lock_global() const;
    Result<FileLock> lock_container(const std::string& id) const;

    // A record that cannot be read (not JSON, not a record's shape, another container's id) is
    // moved aside as container.json.bad, once, with a warning (take_warnings) and a
    // `record_corrupt` event. From then on the container is "lost": load() returns what can still
    // be known of it (the id from its directory, the name from ROOT/names, state Dead, the error
    // saying where the record went) so that `ps -a`, `inspect` and `rm -f` still see it; save()
    // refuses to write it (a monitor still running must not recreate a record from nothing);
    // sim/runtime/lost_container.hpp stops what still runs. Only errors reading the file otherwise (EACCES,
    // EIO) are returned as errors.
    Result<ContainerRecord> load(const std::string& id) const;
    Status save(const ContainerRecord& r) const;
    std::vector<std::string> list_ids() const;  // every container with a record, lost ones too
    std::vector<ContainerRecord> list() const;  // lost records as Dead; skips unreadable files
    std::string record_path(const std::string& id) const { return container_dir(id) + "/container.json"; }
    std::string lost_record_path(const std::string& id) const { return record_path(id) + ".bad"; }
    bool has_record(const std::string& id) const;   // container.json or container.json.bad
    bool record_lost(const std::string& id) const;  // only container.json.bad


    // Warnings for the user that this Store produced (a record moved aside), oldest first; each
    // is returned once. The front end prints them ("WARNING: ..."); nothing in sim/ does.
    std::vector<std::string> take_warnings() const;

    // Docker's lookup order: full id, exact name, unique id prefix. Unknown → exit 1 with
    // "No such container: REF" (the front end adds "Error response from daemon: ").
    Result<ContainerRecord> resolve(const std::string& ref) const;
    bool name_in_use(const std::string& name, std::string* owner_id) const;
    // Reserves NAME for ID; false (and the owner) when another container holds it.
    Result<bool> reserve_name(const std::string& name, const std::string& id, std::string* owner_id) const;
    void release_name(const std::string& name, const std::string& id) const;
    // Removes ROOT/containers/ID: renamed first to a scratch name that carries this process
    // (owned_scratch_name), then deleted. The container is gone in one step for every reader; a
    // kill -9 half-way leaves a scratch folder the garbage collector removes, never a folder
    // that looks like a container without a record.
    Status remove_container_dir(const std::string& id) const;
    // Every name reserved for ID (a create killed before its record was saved has no record to
    // say which).
    void release_names_of(const std::string& id) const;

    // Appends {"time":..., "type":..., ...} to events.jsonl. Best effort: never fails a command.
    void append_event(const std::string& type, nlohmann::json attrs) const;

private:
    Result<ContainerRecord> quarantine(const std::string& id, const std::string& why) const;
    ContainerRecord lost_record(const std::string& id) const;
    void warn(std::string text) const;

    std::string root_;
    struct Warnings;
    std::shared_ptr<Warnings> warnings_;  // shared by copies: one queue per opened root
};

// The pid file a container's monitor keeps in its directory: "PID START_TIME\n" (monitor.cpp).
inline constexpr const char* kMonitorPidFile = "monitor.pid";

}  // namespace isolab
