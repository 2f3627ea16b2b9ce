// The container engine: Docker's container commands over a Store, an ImageStore and a Runtime.
// One engine action per Docker command; the CLI, the GUI and lessons call the same functions
// (STYLE §2). Every action appends an event to ROOT/events.jsonl so that other front ends see it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sim/core/result.hpp"
#include "sim/state/container.hpp"
#include "sim/engine/images.hpp"
#include "sim/state/store.hpp"
#include "sim/state/volumes.hpp"
#include "sim/net/ipam.hpp"
#include "sim/net/networks.hpp"
#include "sim/runtime/runtime.hpp"

namespace isolab {

struct EngineOptions {
    std::string root;              // "" = default_state_root()
    std::string backend = "auto";  // auto | namespaces | rootless | simulated ($ISOLAB_BACKEND)
    std::string busybox_path = "/bin/busybox";
};

class Engine {
public:
    static Result<std::unique_ptr<Engine>> open(EngineOptions options = {});

    Store& store() { return store_; }
    ImageStore& images() { return images_; }
    Runtime& runtime() { return *runtime_; }
    net::NetworkStore& networks() { return networks_; }
    const VolumeStore& volumes() const { return volumes_; }
    Backend backend() const { return backend_; }
    const char* backend_name() const { return isolab::backend_name(backend_); }

    // Finds containers whose monitor died (crash, kill -9) and cleans up after them: kills what
    // is left of the container, removes its cgroup, records the exit. Runs before every command.
    void collect_garbage();

    // IMAGE, when given, is used instead of resolving spec.image in the store: the builder runs
    // each RUN step on the image made so far, which is not stored until the build ends.
    Result<ContainerRecord> create(ContainerSpec spec, const Image* image = nullptr);
    // With `attach`, PID 1 waits for an attach client on ROOT/containers/ID/attach.sock.
    Result<ContainerRecord> start(const std::string& ref, bool attach = false);
    // SIGTERM (or the container's stop signal), wait `timeout` s (-1 = the container's, else 10),
    // then SIGKILL. Returns the record after the exit has been recorded.
    Result<ContainerRecord> stop(const std::string& ref, int timeout = -1, const std::string& signal = "");
    Result<ContainerRecord> kill(const std::string& ref, const std::string& signal = "KILL");
    Result<ContainerRecord> pause(const std::string& ref);
    Result<ContainerRecord> unpause(const std::string& ref);
    Result<ContainerRecord> restart(const std::string& ref, int timeout = -1);
    // VOLUMES (`rm -v`): the container's anonymous volumes that no other container uses go too.
    Status remove(const std::string& ref, bool force = false, bool volumes = false);
    // Blocks until the container is not running; returns its exit code.
    Result<int> wait(const std::string& ref);
    Result<int> exec(const std::string& ref, const ExecRequest& req);
    Result<std::vector<ProcessRow>> top(const std::string& ref);
    Result<ContainerRecord> inspect(const std::string& ref);
    // `docker diff`: what the container changed against its image, from its writable layer.
    // 'A' added, 'C' changed, 'D' deleted; sorted by path.
    struct Change {
        char kind;
        std::string path;
    };
    Result<std::vector<Change>> diff(const std::string& ref);
    // `docker commit [-m MSG] [-c 'CMD ...'] CONTAINER [REPO[:TAG]]`: pauses a running container
    // while its writable layer is copied (unless pause is false). Returns the new image id.
    Result<std::string> commit(const std::string& ref, const std::string& tag, const std::string& message,
                               const std::vector<std::string>& changes, bool pause = true,
                               const std::string& author = "");
    // Writes what the container changed against its image into DEST (created here) as a layer
    // directory: overlayfs whiteouts for deletions, the opaque xattr for replaced directories.
    // Overlay root: a copy of the writable layer. Copied root: the changes `diff` finds.
    Status export_changes(const std::string& ref, const std::string& dest);
    std::vector<ContainerRecord> list(bool all);
    // `docker rename`: REF (running or not) takes NEW_NAME (Docker's rule, an optional leading
    // '/'). Under the global lock (names are handed out one at a time, as create does) and then
    // the container's: the new name is reserved before the old one is released, so two renames
    // racing for one name cannot both win. Peers on its networks learn the name; a "rename" event
    // carries oldName. Docker's errors ("Error when allocating new name: Conflict. ...").
    Result<ContainerRecord> rename(const std::string& ref, const std::string& new_name);
    // `docker update`: CHANGE's values go into REF's record (inspect and the next start use them)
    // and, while it runs, into its cgroup. Docker's checks first (6MB minimum, swap not below
    // memory, the CPU range, restart with --rm); a failed cgroup write leaves the record as it
    // was. An "update" event.
    Result<ContainerRecord> update(const std::string& ref, const ResourceUpdate& change);

    // ---- Networks (`docker network ...`) ----
    Result<net::Network> create_network(const std::string& name, const std::string& subnet, bool internal,
                                        const std::map<std::string, std::string>& labels);
    // Refuses a network a container is on (Docker's wording), removes its bridge, rules, leases.
    Status remove_network(const std::string& ref);
    // Connects a container (running or not) to a user-defined or the default bridge network: an
    // address now, the veth now when it runs (else at its next start). Disconnect undoes it.
    Status connect(const std::string& network, const std::string& ref);
    Status disconnect(const std::string& network, const std::string& ref, bool force);
    // The containers on NETWORK: id → endpoint.
    std::vector<std::pair<ContainerRecord, net::Endpoint>> network_members(const std::string& network);
    // What the GUI draws: the host's interfaces, routes and listeners, and each running
    // container's, with which veth pairs with which ({"host": ..., "containers": [...]}).
    Result<nlohmann::json> network_picture();
    // `isolab system reset`: every container, every network (bridges and firewall rules included),
    // every image and the build cache of this state root go.
    Status reset();
    std::string attach_socket(const std::string& id) const { return store_.container_dir(id) + "/attach.sock"; }
    std::string log_path(const std::string& id) const { return store_.container_dir(id) + "/container.log"; }

private:
    // The prologue of every state-changing action: find REF, take its lock, reload the record
    // under the lock and ask the state machine whether ACTION is allowed.
    struct Locked {
        FileLock lock;
        ContainerRecord rec;
        Transition transition;
    };
    Result<Locked> lock_for(const std::string& ref, ContainerAction action);
    // REF's record, reloaded under its lock (lock_for without the state machine's question).
    struct LockedRecord {
        FileLock lock;
        ContainerRecord rec;
    };
    Result<LockedRecord> lock_record(const std::string& ref);

    Engine(Store store, ImageStore images, std::unique_ptr<Runtime> runtime, Backend backend);

    // create()'s steps that need the engine's state, in the order it runs them (the others are
    // file-local in engine.cpp).
    // SPEC's --runtime, if any, is one this engine can honour here (Docker's wording if not).
    Status check_runtime_choice(const ContainerSpec& spec);
    // SPEC's network exists and the host ports it publishes are free; REC gets the network's
    // name (and, on the host network, the host's hostname) and drops ports it cannot publish,
    // with a warning. Nothing is made.
    Result<net::Network> choose_network(const ContainerSpec& spec, ContainerRecord& rec);
    // Caller holds the global lock. REC gets a fresh id and SPEC's name (or a generated one),
    // reserved for that id; on error no name is reserved.
    Status reserve_id_and_name(const ContainerSpec& spec, ContainerRecord& rec);
    // REC's root file system mode and cgroup name, with a warning for what this host cannot do.
    void choose_rootfs_and_cgroup(const ContainerSpec& spec, ContainerRecord& rec);
    // REC's endpoint on NETWORK: with an address leased for REC's id on a bridge (not rootless).
    Result<net::Endpoint> lease_endpoint(const net::Network& network, const ContainerRecord& rec);
    // Undoes a failed create after its name was reserved: REC's folder, name and addresses go.
    // Returns E unchanged.
    Error undo_create(const ContainerRecord& rec, const Error& e);
    // The end of `rm`, also resumed by the garbage collector and by `rm -f` after a killed rm:
    // stops what still runs, removes the container's kernel objects, files, name and addresses.
    Status finish_removal(const std::string& id, bool volumes = false);
    // Kills a container's monitor (from its pidfile), PID 1 and its cgroup, and removes its veths.
    void stop_leftovers(ContainerRecord& rec);
    // Rolls the intent of container ID forward or back when its owner is gone (intent.hpp).
    // True when it acted.
    bool roll_intent(const std::string& id);
    // Waits (polling the record) until PID 1's exit is recorded or `timeout_ms` passes.
    bool wait_exit(const std::string& id, double timeout_ms);

    // Rewrites /etc/hosts of every container on the user-defined networks of REC (names resolve
    // between containers there), and REC's own.
    void refresh_hosts(const ContainerRecord& rec);
    // Releases REC's addresses (rm, and the garbage collector's --rm).
    void release_addresses(const ContainerRecord& rec);
    // Resolves the published ports for a start: host port 0 and -P get a free port; each is
    // checked free now, so a busy one is an error before anything runs.
    Status resolve_published(ContainerRecord& rec);

    Store store_;
    ImageStore images_;
    net::NetworkStore networks_;
    net::Ipam ipam_;
    VolumeStore volumes_;
    std::unique_ptr<Runtime> runtime_;
    Backend backend_;
};

// "KILL", "SIGKILL", "9" → 9. Unknown → error naming it (exit 125? Docker: invalid signal, 1).
Result<int> parse_signal(const std::string& name);
// Docker's rule for names: [a-zA-Z0-9][a-zA-Z0-9_.-]+, an optional leading '/'.
bool valid_container_name(const std::string& name);
// "isolab/<hash of the state root>/<id>": cgroups of different state roots never mix.
std::string container_cgroup_name(const std::string& root, const std::string& id);
// Docker-like generated names ("eager_turing").
std::string generate_name();

}  // namespace isolab
