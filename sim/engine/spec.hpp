// What a user asks for when creating a container: the engine-level equivalent of `docker create`'s
// flags. The CLI parser, the GUI and lessons all build one of these; the engine validates it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace isolab {

enum class RestartPolicyKind { No, OnFailure, Always, UnlessStopped };

struct RestartPolicy {
    RestartPolicyKind kind = RestartPolicyKind::No;
    int max_retries = 0;  // only for OnFailure; 0 = unlimited
};

struct PortMapping {          // -p [IP:]HOST:CONTAINER[/proto] (served by the network issue)
    std::string host_ip;      // "" = 0.0.0.0
    int host_port = 0;        // 0 = pick a free one (-P)
    int container_port = 0;
    std::string proto = "tcp";
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
    RestartPolicy restart;
    std::string network = "default";         // none | host | bridge | default | NAME
    std::vector<PortMapping> ports;          // -p
    bool publish_all = false;                // -P
    std::map<std::string, std::string> labels;
    int stop_timeout = -1;                   // --stop-timeout; -1 = 10 s
    std::string stop_signal;                 // "" = SIGTERM
    std::string runtime;                     // "" = IsoLab's own; "runc" = Debian's runc (--runtime)
};

}  // namespace isolab
