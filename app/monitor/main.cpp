// isolab-monitor: the per-container monitor process (see sim/runtime/monitor.hpp). Kept as its own
// small binary so that a running container costs the host as little memory as possible. Called
// as docker-init (mounted at /sbin/docker-init by --init), it is the container's minimal init
// (sim/runtime/mini_init.hpp).
#include <cstring>

#include "sim/runtime/mini_init.hpp"
#include "sim/runtime/monitor.hpp"

int main(int argc, char** argv) {
    const char* name = argc > 0 ? std::strrchr(argv[0], '/') : nullptr;
    name = name ? name + 1 : (argc > 0 ? argv[0] : "");
    if (std::strcmp(name, "docker-init") == 0) return isolab::mini_init_main(argc, argv);
    return isolab::monitor_main(argc, argv);
}
