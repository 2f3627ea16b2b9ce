// How the monitor brings a container's PID 1 into being. The monitor (monitor.cpp: stdio, logs,
// attach clients, restart policy, the record) is the same for every container; what differs is
// who creates the process: IsoLab's one init (isolab_launcher.cpp: clone, then run_init of the
// container's OCI spec) or Debian's runc (runc_launcher.cpp: `runc create`/`start` of a bundle
// made from the same spec). A launcher is chosen once per monitor, from the record.
//
// The lifecycle follows the OCI runtime's own: create (PID 1 exists, set up, the user's program
// not yet running), then the monitor plugs the networks and opens the published ports, then start
// (execve) — or abort, which leaves nothing behind.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "sim/core/files.hpp"
#include "sim/core/result.hpp"
#include "sim/state/container.hpp"

namespace isolab {

class Cgroup;
class Store;

struct LaunchRequest {
    const Store* store = nullptr;
    const ContainerRecord* rec = nullptr;
    std::string container_dir;
    bool rootless = false;
    Cgroup* cgroup = nullptr;  // the monitor's, or null (runc makes its own; none configured)
    // The container's ends of its stdio (-1: /dev/null), or a console socket with -t.
    int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;
    int console_fd = -1;
};

struct Launched {
    pid_t pid = 0;                           // PID 1 as the host sees it
    std::vector<RuntimeStep> steps;          // timed, in order
    std::vector<std::string> cgroup_paths;   // where PID 1's limits live
    UniqueFd console_master;                 // with -t: the pty master
    double started_ms = 0;                   // monotonic time the launch began
};

class Launcher {
public:
    virtual ~Launcher() = default;
    // Once per monitor, before the first create (runc: become a subreaper and get a private
    // mount namespace for the bundle's root).
    virtual Status prepare() { return {}; }
    // runc creates the container's cgroup from cgroupsPath; IsoLab's monitor makes it otherwise.
    virtual bool makes_own_cgroup() const { return false; }
    // PID 1 set up and waiting. On error (its exit_code is Docker's: 125, 126, 127) nothing is
    // left: the process is killed and reaped.
    virtual Result<Launched> create(const LaunchRequest& req) = 0;
    // Runs the user's program. Appends its steps. On error the process is killed and reaped.
    virtual Status start(Launched& l) = 0;
    // A created container that must not start: killed, reaped, cleaned.
    virtual void abort(Launched& l) = 0;
    // PID 1 has exited (reaped by the monitor): what the runtime still holds goes.
    virtual void after_exit() {}
};

std::unique_ptr<Launcher> make_isolab_launcher();
std::unique_ptr<Launcher> make_runc_launcher(const std::string& state_root, const std::string& id);

}  // namespace isolab
