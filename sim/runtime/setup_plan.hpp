// The container's setup as data (STYLE §4, after bubblewrap's SetupOp list): an OCI runtime spec
// becomes a list of typed steps first, and only then is the list executed, one step at a time, by
// the one container init (init.hpp). So the GUI and `inspect` can draw the plan before a start,
// and the same list with each step's measured time after it; the engine's containers, `isolab
// runtime` bundles and the simulated backend all go through this one planner.
//
// Planning is pure: no system call, no file read. It decides what the init will do and in which
// order (runc's libcontainer/standard_init_linux.go order, each position explained in
// plan_setup), never how.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "sim/runtime/oci_spec.hpp"

namespace isolab {

// Where the container's root file system comes from. An OCI bundle names a directory
// (root.path); the engine assembles its container's root inside the container's own mount
// namespace, so a crash can never leave the overlay mounted on the host.
struct RootfsSource {
    enum class Kind { BundleDir, Overlay, Copy };
    Kind kind = Kind::BundleDir;
    std::vector<std::string> layers;  // Overlay: lower layers, lowest first; empty = scratch
    std::string container_dir;        // Overlay/Copy: ROOT/containers/ID (upper, work, rootfs, empty)
    bool userxattr = false;           // Overlay in a user namespace
};

// An annotation the engine sets when `--user` names a user or group: the init looks the names up
// in the container's own /etc/passwd and /etc/group after pivot_root (never the host's, and never
// through a host path into the image), then applies Docker's rule that a non-root user starts
// with no effective or permitted capabilities. process.user must be 0:0 alongside it.
inline constexpr const char* kUserAnnotation = "org.isolab.user";

// What the engine adds to a spec, none of which the OCI spec can say.
struct InitOptions {
    RootfsSource rootfs;
    // cgroup v1: `tasks` files the init writes "0" into to move itself (moving the current single
    // thread skips the kernel's threadgroup lock and its RCU grace period, ~10 ms per hierarchy,
    // that the host writing cgroup.procs would pay).
    std::vector<std::string> cgroup_self_join;
    // The host plugs the network in between clone and the first go (a veth per network).
    bool host_plugs_network = false;
    // Stdio: the engine hands the init its pipes (Stdio step); `isolab runtime` leaves the
    // caller's, as runc does.
    bool own_stdio = false;
    // The container's id in the state JSON the createContainer and startContainer hooks read.
    std::string container_id;
};

enum class StepKind {
    Clone,          // the host clones the init into its new namespaces
    HostNetwork,    // the host plugs a veth into the new network namespace
    CgroupJoin,     // v1: the init moves itself into the container's cgroup
    UserNsRoot,     // in a new user namespace: become its root (the maps are written)
    CgroupNs,       // unshare the cgroup namespace, now that the cgroup is joined
    OomScore,       // process.oomScoreAdj
    Loopback,       // lo up in a new network namespace
    Propagation,    // / made rslave (or linux.rootfsPropagation): nothing propagates back
    Rootfs,         // the root file system: overlay, copy or the bundle's directory
    Mount,          // one entry of mounts[], in order
    Devices,        // the default /dev nodes and linux.devices
    RuntimeHooks,   // the init waits while the host runs hooks.prestart and hooks.createRuntime
    CreateContainerHooks,  // hooks.createContainer, in the container's namespaces, old root still there
    Pivot,          // pivot_root, old root detached
    RootPropagation,// linux.rootfsPropagation applied to the new /
    Terminal,       // process.terminal: a pty from the container's own devpts
    Stdio,          // the engine's pipes become 0, 1, 2
    ReadonlyRoot,   // root.readonly
    Hostname,       // hostname, domainname
    Sysctl,         // linux.sysctl
    ReadonlyPaths,  // linux.readonlyPaths
    MaskedPaths,    // linux.maskedPaths
    Rlimits,        // process.rlimits
    Umask,          // process.user.umask (022 when unset)
    SeccompEarly,   // without noNewPrivileges: loaded while CAP_SYS_ADMIN is still held
    Workdir,        // a missing process.cwd is made (as root, before the user switch)
    User,           // bounding set, groups, uid/gid, capability sets
    NoNewPrivs,     // process.noNewPrivileges
    Ready,          // command resolved; READY reported; wait for start
    SeccompLate,    // with noNewPrivileges: loaded as late as possible
    StartContainerHooks,  // hooks.startContainer, after `start`, in the container, as the user
    Exec,           // execve(process.args)
};

struct SetupStep {
    StepKind kind;
    std::string name;    // short, stable: "mount", "pivot_root", ... (what `inspect` lists)
    std::string detail;  // what this step does for this spec: "/proc (proc)", "14 capabilities"
    size_t index = 0;    // Mount: the index into spec.mounts
    bool host = false;   // done by the host (monitor or `runtime create`), not the init
};

std::vector<SetupStep> plan_setup(const oci::OciSpec& spec, const InitOptions& opts);

// The step's name as `inspect` and the GUI show it ("mount", "pivot_root", ...).
const char* step_name(StepKind k);

// The engine's container REC as init options: its root assembled from its layers (or its copied
// root) inside its own mount namespace, the host plugging its bridge networks, its pipes as
// stdio; CGROUP_V1_PATHS are joined by the init itself.
InitOptions engine_init_options(const ContainerRecord& rec, const std::string& container_dir, bool rootless,
                                const std::vector<std::string>& cgroup_v1_paths = {});

// ROOT/containers/ID/merged, or /rootfs for a copied root: the spec's root.path.
std::string engine_root_path(const ContainerRecord& rec, const std::string& container_dir);

// The plan of REC's next start as `inspect` and the GUI show it before it runs (ms 0). The same
// planner the monitor runs it with; the timed list replaces it after a start.
Result<std::vector<RuntimeStep>> engine_plan(const ContainerRecord& rec, const std::string& container_dir,
                                             bool rootless);

}  // namespace isolab
