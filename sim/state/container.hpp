// A container as the engine keeps it on disk: the user's spec, what the engine resolved from the
// image, and the live state. One JSON file per container (`containers/<id>/container.json`),
// replaced atomically under the container's lock, is the single source of truth that the CLI, the
// monitor and the GUI all read.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/state/lifecycle.hpp"
#include "sim/state/spec.hpp"
#include "sim/net/networks.hpp"

namespace isolab {

// The runtime a container runs on: IsoLab's namespaces as root, the same inside a user namespace
// (rootless), or the simulated stand-in (no process; every number it shows is labeled). The words
// appear only at the edges: the record on disk, JSON, the CLI.
enum class Backend { Namespaces, Rootless, Simulated };
const char* backend_name(Backend b);  // "namespaces" | "rootless" | "simulated"
std::optional<Backend> backend_from_name(const std::string& word);

// How the container's root file system is made: an overlay of its image layers with its own
// writable layer on top, a copy (where overlayfs is not allowed), or none (simulated).
enum class RootfsMode { Overlay, Copy, None };
const char* rootfs_mode_name(RootfsMode m);  // "overlay" | "copy" | "none"
std::optional<RootfsMode> rootfs_mode_from_name(const std::string& word);

// In JSON these are their words, never numbers (nlohmann would otherwise write an enum as an int).
NLOHMANN_JSON_SERIALIZE_ENUM(Backend, {{Backend::Namespaces, "namespaces"},
                                       {Backend::Rootless, "rootless"},
                                       {Backend::Simulated, "simulated"}})
NLOHMANN_JSON_SERIALIZE_ENUM(RootfsMode, {{RootfsMode::Overlay, "overlay"},
                                          {RootfsMode::Copy, "copy"},
                                          {RootfsMode::None, "none"}})

// One step of the runtime's setup list with its measured duration (bubblewrap's SetupOp list;
// the GUI animates these).
struct RuntimeStep {
    std::string name;    // "clone", "overlay", "pivot_root", ...
    double ms = 0;       // wall time of the step
    std::string detail;  // "CLONE_NEWPID|CLONE_NEWNS|...", "lowerdir=1 layer"
};

struct ContainerRecord {
    std::string id;          // 64 hex chars
    std::string name;        // without the leading '/'
    std::string created;     // RFC 3339 with nanoseconds, UTC
    ContainerSpec spec;

    // Resolved at create time from the spec and the image config.
    std::string image_id;                 // sha256:...
    std::vector<std::string> layers;      // layer directories, lowest first
    std::vector<std::string> path_args;   // entrypoint + cmd: what PID 1 executes
    std::vector<std::string> env;         // image env overridden by spec env
    std::string hostname;
    std::string workdir = "/";
    // The health check the container runs: its flags merged over the image's HEALTHCHECK
    // (health.hpp); nullopt = none. SHELL is the image's, which a CMD-SHELL check runs under.
    std::optional<HealthConfig> healthcheck;
    std::vector<std::string> shell;
    Backend backend = Backend::Namespaces;
    RootfsMode rootfs_mode = RootfsMode::None;

    // Live state.
    ContainerState state = ContainerState::Created;
    pid_t pid = 0;                        // PID 1 of the container, as the host sees it
    pid_t monitor_pid = 0;
    uint64_t monitor_start_time = 0;      // /proc/PID/stat field 22: guards against pid reuse
    uint64_t pid_start_time = 0;
    int exit_code = 0;
    bool oom_killed = false;
    std::string error;                    // State.Error
    std::string started_at = "0001-01-01T00:00:00Z";
    std::string finished_at = "0001-01-01T00:00:00Z";
    int restart_count = 0;
    bool stopped_by_user = false;         // for unless-stopped and to suppress policy restarts
    std::string cgroup_name;              // isolab/<root hash>/<id>; "" = no cgroup
    std::vector<std::string> cgroup_paths;
    std::string cgroup_note;              // why limits are not applied, if they are not
    std::vector<RuntimeStep> plan;        // setup steps planned at create (ms 0): drawn before a start
    std::vector<RuntimeStep> steps;       // setup steps of the last start, each timed
    std::vector<std::string> warnings;
    // State.Health: set at each start of a container whose check runs a probe, then kept by its
    // monitor (one write per probe, under the container's lock); nullopt = "none".
    std::optional<HealthState> health;

    // Networking. An endpoint per network the container is on (its address is leased from create
    // to rm); the published ports as resolved at the last start (host port 0 / -P picked).
    std::vector<net::Endpoint> endpoints;
    std::vector<std::string> exposed_ports;   // from the image config: "80/tcp"
    std::vector<PortMapping> published;       // empty while not running
};

nlohmann::json ports_to_json(const std::vector<PortMapping>& ports);
std::vector<PortMapping> ports_from_json(const nlohmann::json& j);

nlohmann::json to_json(const ContainerSpec& s);
ContainerSpec spec_from_json(const nlohmann::json& j);
nlohmann::json to_json(const ContainerRecord& r);
ContainerRecord record_from_json(const nlohmann::json& j);

// Docker's `docker inspect` shape, built from a record.
nlohmann::json inspect_json(const ContainerRecord& r);

// "sh -c 'echo hi'" for display: Docker's COMMAND column ("\"sh -c 'echo hi'\"").
std::string command_line(const std::vector<std::string>& args);

}  // namespace isolab
