// The per-container monitor (Podman's conmon is the model): a small daemonless process that owns
// the container's PID 1. It clones the container, reports start-up to the CLI over a sync pipe,
// copies the container's output into the log file and to attached clients, applies the restart
// policy, records the exit code and removes the cgroup when the container ends.
//
//   isolab-monitor --root ROOT --id ID --sync-fd N [--attach]
#pragma once

#include <string>

namespace isolab {

int monitor_main(int argc, char** argv);

// Turns a socket path that may exceed sun_path's 108 bytes into a short one through an O_PATH
// descriptor of its directory ("/proc/self/fd/N/attach.sock"). `dir_fd` keeps that descriptor
// open for as long as the short path is used.
std::string short_socket_path(const std::string& path, int* dir_fd);

}  // namespace isolab
