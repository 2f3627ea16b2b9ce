// What a user asks for when creating a container: the engine-level equivalent of `docker create`'s
// flags. The CLI parser, the GUI and lessons all build one of these; the engine validates it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/state/health.hpp"
#include "sim/state/mounts.hpp"

namespace isolab {

enum class RestartPolicyKind { No, OnFailure, Always, UnlessStopped };

struct RestartPolicy {
    RestartPolicyKind kind = RestartPolicyKind::No;
    int max_retries = 0;  // only for OnFailure; 0 = unlimited
    bool operator==(const RestartPolicy&) const = default;
};

struct PortMapping {          // -p [IP:]HOST:CONTAINER[/proto] (served by the network issue)
    std::string host_ip;      // "" = 0.0.0.0
    int host_port = 0;        // 0 = pick a free one (-P)
    int container_port = 0;
    std::string proto = "tcp";
    bool operator==(const PortMapping&) const = default;
};

// Docker's json-file log driver with its two size options (--log-opt max-size=SIZE,
// --log-opt max-file=N); sim/runtime/json_log.hpp writes and reads it. Docker's own default is
// no limit at all (one file that grows while the container prints); IsoLab always caps the log,
// by default at 10m x 3 (the example in Docker's json-file documentation) (issue 12: a container printing
// without end filled the host's disk). "10m" is Docker's decimal reading: 10,000,000 bytes.
struct LogConfig {
    int64_t max_size = 10'000'000;      // bytes a file reaches before it is rotated
    std::string max_size_text = "10m";  // as typed, which `inspect` shows
    int max_file = 3;                   // files kept, the current one included
    bool operator==(const LogConfig&) const = default;
};

struct ContainerSpec {
    std::string name;                        // "" = engine picks one
    std::string image = "busybox";
    std::vector<std::string> cmd;            // empty = image's Cmd
    std::optional<std::vector<std::string>> entrypoint;  // set = overrides image's
    std::vector<std::string> env;            // KEY=VALUE
    std::string hostname;                    // "" = first 12 chars of the id
    std::string workdir;                     // "" = image's or "/"
    std::string user;                        // "" = image's or root
    bool tty = false;                        // -t
    bool interactive = false;                // -i
    bool auto_remove = false;                // --rm
    int64_t memory_bytes = 0;                // -m; 0 = no limit
    int64_t pids_limit = 0;                  // --pids-limit; 0 = no limit (-1 also unlimited)
    int64_t nano_cpus = 0;                   // --cpus 1.5 = 1'500'000'000
    int64_t memory_swap = 0;                 // memory + swap (`update --memory-swap`); 0 = Docker's
                                             // default (twice -m), -1 = unlimited
    RestartPolicy restart;
    std::string network = "default";         // none | host | bridge | default | NAME | container:ID
    std::vector<PortMapping> ports;          // -p
    bool publish_all = false;                // -P
    std::map<std::string, std::string> labels;
    int stop_timeout = -1;                   // --stop-timeout; -1 = 10 s
    std::string stop_signal;                 // "" = SIGTERM
    std::string runtime;                     // "" = IsoLab's own; "runc" = Debian's runc (--runtime)
    LogConfig log;                           // --log-driver json-file, --log-opt
    // --health-cmd/--health-interval/... ({"CMD-SHELL", cmd}, zero = the image's), or
    // --no-healthcheck ({"NONE"}); nullopt = the image's HEALTHCHECK as it is (health.hpp).
    std::optional<HealthConfig> healthcheck;

    // Security (sim/runtime/oci_spec.cpp turns these into the runtime spec, with Docker's rules).
    std::vector<std::string> cap_add;        // --cap-add, as typed ("NET_ADMIN", "cap_sys_time", "ALL")
    std::vector<std::string> cap_drop;       // --cap-drop, as typed
    bool privileged = false;                 // --privileged: every capability, host devices, no seccomp,
                                             // no masked or read-only paths
    bool init = false;                       // --init: IsoLab's minimal init runs as PID 1 (docker-init)
    // --security-opt no-new-privileges[=BOOL]; nullopt = IsoLab's default (set, unless privileged).
    std::optional<bool> no_new_privileges;
    // --security-opt seccomp=...: "" = Docker's default profile, "unconfined" = no filter, else a
    // Docker seccomp profile's JSON text (the client reads the file, as Docker's CLI does).
    std::string seccomp;
    bool unmask_system_paths = false;        // --security-opt systempaths=unconfined

    // Namespaces shared instead of made (Docker's HostConfig PidMode, IpcMode, UTSMode): "" = its
    // own; "host" = the host's; "container:ID" (pid, ipc) = that running container's. ipc_mode also
    // takes Docker's "private", "shareable" and "none" (all three get a new IPC namespace here; "none"
    // also has no /dev/shm).
    std::string pid_mode;
    std::string ipc_mode;
    std::string uts_mode;

    // Data that outlives the container (mounts.hpp): -v, --mount, --tmpfs and, after create, the
    // image's VOLUMEs, with anonymous volumes named. --read-only: the root file system is mounted
    // read-only (the mounts stay as asked).
    std::vector<MountSpec> mounts;
    bool read_only = false;
    std::vector<std::string> volumes_from;   // --volumes-from CONTAINER[:ro|rw], as typed
    bool operator==(const ContainerSpec&) const = default;
};

// `docker update`: the values a user changes on an existing container. Unset fields keep the
// container's own; the engine checks them with Docker's rules (Engine::update).
struct ResourceUpdate {
    std::optional<int64_t> memory_bytes;  // -m
    std::optional<int64_t> memory_swap;   // --memory-swap (-1 = unlimited)
    std::optional<int64_t> nano_cpus;     // --cpus
    std::optional<int64_t> pids_limit;    // --pids-limit (0 or -1 = unlimited)
    std::optional<RestartPolicy> restart; // --restart
    bool any() const { return memory_bytes || memory_swap || nano_cpus || pids_limit || restart; }
    bool operator==(const ResourceUpdate&) const = default;
};

}  // namespace isolab
