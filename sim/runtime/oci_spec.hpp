// OCI runtime-spec bundles (opencontainers/runtime-spec config.md, config-linux.md): the typed
// subset of config.json that IsoLab's OCI runtime honours, a validating parser, and the reverse
// direction — the config.json Docker's engine would hand runc for an IsoLab container.
//
// Parsing contract. Every field the spec marks REQUIRED on Linux is checked, each with a one-line
// error naming it ("config.json: process.cwd must be an absolute path"). Fields IsoLab does not
// implement (linux.intelRdt, an apparmorProfile or selinuxLabel that is set, a time namespace,
// linux.personality, a seccomp listenerPath, realtime CPU time, ...) are errors naming the field and
// saying it is not supported: a bundle is never run with part of its configuration silently
// dropped. Keys the spec does not define are allowed, as config.md requires.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/files.hpp"
#include "sim/core/result.hpp"
#include "sim/state/container.hpp"
#include "sim/runtime/cgroup.hpp"
#include "sim/runtime/device_filter.hpp"

namespace isolab {

class Store;

namespace oci {

struct Mount {
    std::string destination;           // absolute, inside the container
    std::string type;                  // "" for a bind mount given only by options
    std::string source;                // relative sources are relative to the bundle (made absolute)
    std::vector<std::string> options;  // fstab-style words: ro, nosuid, rbind, mode=755, ...
};

struct IdMapping {
    uint32_t container_id = 0;
    uint32_t host_id = 0;
    uint32_t size = 0;
};

struct Rlimit {
    std::string type;  // "RLIMIT_NOFILE"
    int resource = 0;  // RLIMIT_NOFILE
    uint64_t soft = 0, hard = 0;
};

struct Namespace {
    std::string type;  // pid network mount ipc uts user cgroup
    std::string path;  // "" = create a new one; else setns(2) into this file
};

using DeviceRule = isolab::DeviceRule;  // linux.resources.devices[]

struct Device {  // linux.devices[]: nodes created in the container's /dev
    std::string path;
    char type = 'c';  // c | b | u | p
    int64_t major = 0, minor = 0;
    std::optional<uint32_t> file_mode;
    std::optional<uint32_t> uid, gid;
};

struct Capabilities {
    std::vector<std::string> bounding, effective, permitted, inheritable, ambient;
};

struct Process {
    bool terminal = false;
    uint32_t console_height = 0, console_width = 0;  // process.consoleSize, 0 = leave as is
    uint32_t uid = 0, gid = 0;
    std::optional<uint32_t> umask;
    std::vector<uint32_t> additional_gids;
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::string cwd = "/";
    Capabilities capabilities;  // absent = all sets empty (the spec's default)
    std::vector<Rlimit> rlimits;
    bool no_new_privileges = false;
    std::optional<int> oom_score_adj;
};

struct HugepageLimit {
    std::string page_size;  // "2MB", "1GB": the kernel's hugetlb.<size>.* file names
    uint64_t limit = 0;     // bytes
};

// linux.resources, with runc's meaning of each number (cgroup.hpp CgroupLimits applies them).
struct Resources {
    std::optional<int64_t> memory_limit;        // bytes; -1 = unlimited
    std::optional<int64_t> memory_reservation;  // bytes (v1 soft limit, v2 memory.low); -1 = none
    std::optional<int64_t> memory_swap;         // memory + swap, bytes; -1 = unlimited
    std::optional<uint64_t> memory_swappiness;  // 0..100 (cgroup v1 only)
    bool disable_oom_killer = false;            // cgroup v1 only
    std::optional<int64_t> pids_limit;          // -1 or 0 = unlimited
    std::optional<uint64_t> cpu_shares;         // v1 cpu.shares; v2 cpu.weight after runc's conversion
    std::optional<int64_t> cpu_quota;           // µs per period; -1 = unlimited
    std::optional<uint64_t> cpu_period;         // µs
    std::string cpuset_cpus, cpuset_mems;       // "0-3", "0"; "" = the parent's
    std::vector<HugepageLimit> hugepage_limits;
    std::optional<uint16_t> blkio_weight;       // 10..1000
    std::vector<DeviceRule> devices;  // in order; the runtime appends runc_default_device_rules()
};

// hooks.* (config.md "POSIX-platform Hooks"): a program the runtime runs at one point of the
// lifecycle with the container's state JSON on its stdin.
struct Hook {
    std::string path;               // absolute; resolved where the hook runs (host or container)
    std::vector<std::string> args;  // argv, including argv[0]; empty = { path }
    std::optional<std::vector<std::string>> env;  // nullopt = the caller's environment, as runc
    std::optional<int> timeout;     // seconds, > 0
};

struct Hooks {
    std::vector<Hook> prestart;         // host, runtime namespace, after the mounts (deprecated)
    std::vector<Hook> create_runtime;   // host, right after prestart
    std::vector<Hook> create_container; // in the container's namespaces, before pivot_root
    std::vector<Hook> start_container;  // in the container, after `start`, before execve
    std::vector<Hook> poststart;        // host, after the user's process is started
    std::vector<Hook> poststop;         // host, when the container is deleted
    bool empty() const {
        return prestart.empty() && create_runtime.empty() && create_container.empty() && start_container.empty() &&
               poststart.empty() && poststop.empty();
    }
};

struct OciSpec {
    std::string oci_version;
    std::string bundle;     // absolute bundle directory
    std::string root_path;  // absolute (root.path resolved against the bundle)
    bool root_readonly = false;
    bool has_process = false;
    Process process;
    std::string hostname;
    std::string domainname;
    std::vector<Mount> mounts;
    std::vector<Namespace> namespaces;
    std::vector<IdMapping> uid_mappings, gid_mappings;
    Resources resources;
    std::vector<Device> devices;
    std::vector<std::string> masked_paths, readonly_paths;
    nlohmann::json seccomp;  // null when absent; validated shape of linux.seccomp
    std::map<std::string, std::string> sysctl;
    std::string rootfs_propagation;  // "" | private | rprivate | slave | rslave | shared | ...
    std::string cgroups_path;        // "" = the runtime picks one
    std::map<std::string, std::string> annotations;
    Hooks hooks;
    nlohmann::json hooks_json;  // hooks as config.json gave them (kept in the runtime's state for poststop)

    const Namespace* find_namespace(const std::string& type) const;
    bool has_namespace(const std::string& type) const { return find_namespace(type) != nullptr; }
};

// Parses and validates config.json text. BUNDLE_DIR resolves a relative root.path and relative
// bind sources; it need not exist (unit tests). Errors start with "config.json: " and have exit
// code 1.
Result<OciSpec> parse_oci_spec(const std::string& json_text, const std::string& bundle_dir);

// The mount(2) flags and data string for an OCI mount's option words (fstab words, as runc's
// parseMountOptions reads them). Propagation words (private, rslave, ...) go to `propagation`;
// "bind"/"rbind" set MS_BIND (| MS_REC). Unknown words are passed on in `data` (file-system
// specific, e.g. mode=755, size=65536k, newinstance).
struct MountFlags {
    unsigned long flags = 0;        // MS_RDONLY | MS_NOSUID | ...
    unsigned long clear = 0;        // flags a word explicitly clears (rw, suid, dev, exec, ...)
    std::vector<unsigned long> propagation;  // MS_PRIVATE | MS_REC, ...
    std::string data;               // "mode=755,size=65536k"
    bool bind = false;
    bool recursive = false;
};
MountFlags parse_mount_options(const std::vector<std::string>& options);

// The hooks of config.json's shape ({"prestart": [{"path": ...}], ...}), as kept in state.json.
Result<Hooks> parse_hooks(const nlohmann::json& hooks);

// The state JSON a hook reads on its stdin (runtime.md "State"), in the spec's order of fields:
// ociVersion, id, status, pid (left out when 0, as runc's omitempty does), bundle, annotations
// (left out when empty).
std::string hook_state_json(const std::string& oci_version, const std::string& id, const std::string& status,
                            pid_t pid, const std::string& bundle,
                            const std::map<std::string, std::string>& annotations);

// "pid" → CLONE_NEWPID, ... for linux.namespaces[].type; 0 when unknown.
int namespace_flag(const std::string& type);

// "RLIMIT_NOFILE" → RLIMIT_NOFILE; -1 when unknown.
int rlimit_from_name(const std::string& name);

// The config.json Docker's engine would hand runc for REC (moby oci/defaults.go + the record's
// spec). CONTAINER_DIR is ROOT/containers/ID (its hostname, hosts and resolv.conf become bind
// mounts); ROOTFS is where the container's /etc/passwd and /etc/group are read to turn a user
// name into numbers ("" = look through the container's writable layer and image layers).
// A user that cannot be resolved is an error, as it would be at `docker start`.
// The namespaces REC joins instead of making (--network container:X, --pid container:X,
// --ipc container:X): OCI namespace type → path (/proc/PID/ns/net of X's PID 1).
using NamespaceJoins = std::map<std::string, std::string>;

// The joins of REC, read from the records of the containers it names. Error (Docker's words,
// exit 125): such a container is gone or has no running process.
Result<NamespaceJoins> namespace_joins(const Store& store, const ContainerRecord& rec);

// JOINS: the paths to put in linux.namespaces; nullptr (a plan, before any start) puts a
// placeholder path that names the container ("/proc/PID-OF-1234abcd5678/ns/net").
Result<nlohmann::json> make_oci_config(const ContainerRecord& rec, bool rootless,
                                       const std::string& container_dir, const std::string& rootfs = "",
                                       const NamespaceJoins* joins = nullptr);

// A container's capabilities, no_new_privs and seccomp filter as Docker derives them from
// --cap-add, --cap-drop, --privileged and --security-opt (the init's process.capabilities and
// linux.seccomp, and what `exec` applies to its process). EXEC_PRIVILEGED: `exec --privileged`,
// every capability for that process. seccomp is null when the container runs without a filter.
struct ContainerSecurity {
    std::vector<std::string> capabilities;
    bool no_new_privileges = true;
    nlohmann::json seccomp;
};
Result<ContainerSecurity> container_security(const ContainerSpec& spec, bool exec_privileged = false);

// Where --init's init is mounted, and the path Docker uses for its own (docker-init).
inline constexpr const char* kInitPath = "/sbin/docker-init";

// The spec IsoLab's own init runs for REC: make_oci_config's, with root.path = ROOT_PATH (the
// container's merged or copied root, which the init assembles) and a user name left for the init
// to resolve inside the container (setup_plan.hpp kUserAnnotation).
Result<OciSpec> engine_spec(const ContainerRecord& rec, bool rootless, const std::string& container_dir,
                            const std::string& root_path, const NamespaceJoins* joins = nullptr);

// Writes DIR/config.json and DIR/rootfs (a copy of the container's merged file system: its image
// layers with its writable layer on top, or its copied root). DIR must not exist or be empty; on
// failure nothing is left behind. Needs mount privileges for overlay-mode containers (the copy is
// taken through a read-only overlay mounted in a private mount namespace).
Status write_bundle(const Store& store, const ContainerRecord& rec, const std::string& dir, bool rootless);

// A descriptor (O_PATH | O_DIRECTORY, close-on-exec) on REC's whole file system as the container
// sees it: its image layers with its writable layer on top, whiteouts applied (`isolab export`).
// Overlay root: a read-only overlay mounted by a child in a private mount namespace (a user
// namespace of the caller's own ids when not root, with `userxattr`) and handed back over a
// socket; when the child exits the mount belongs to no namespace and vanishes with the
// descriptor, so nothing is ever left mounted. Copied root: its directory. Walk it through
// fd_path ("/proc/self/fd/N/..."). Works on running, paused and stopped containers.
Result<UniqueFd> open_merged_root(const Store& store, const ContainerRecord& rec);

// linux.resources as the cgroup manager's limits, with runc's reading of each number: -1 and 0
// mean "no limit" for memory and pids; swap unset leaves memory + swap unlimited; the spec's
// device rules come first, then runc's built-in list (which a spec cannot turn off). Both the
// bundle runtime and the engine's monitor make a container's group from these.
CgroupLimits limits_of(const Resources& r);

}  // namespace oci
}  // namespace isolab
