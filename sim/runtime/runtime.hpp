// Backends behind one interface (STYLE §5, after crun's cgroup manager table): the real namespace
// runtime and a simulated stand-in for machines without namespaces and for unit tests of the
// engine's logic. The engine picks one at start-up and says which is live (`backend` in every
// record, `isolab doctor`, the GUI's badge).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sim/core/result.hpp"
#include "sim/state/container.hpp"
#include "sim/state/store.hpp"

namespace isolab {

struct ExecRequest {
    std::vector<std::string> cmd;
    std::vector<std::string> env;   // added to the container's
    std::string workdir;            // "" = the container's
    std::string user;
    bool interactive = false;
    bool tty = false;
    bool detach = false;
    bool privileged = false;        // exec --privileged: every capability for this process
};

struct ProcessRow {  // one line of `top`
    std::string uid;
    pid_t pid = 0, ppid = 0;
    std::string stime, tty, time, cmd;
};

class Runtime {
public:
    virtual ~Runtime() = default;
    virtual Backend backend() const = 0;
    std::string name() const { return backend_name(backend()); }  // namespaces | rootless | simulated

    // create: the writable layer and the files the engine writes for the container.
    virtual Status prepare(const Store& store, ContainerRecord& rec) = 0;
    // start: PID 1 runs when this returns (or, with `attach`, is ready and waits for the attach
    // client). Fills pid, monitor_pid, steps, cgroup_paths. Errors carry 125/126/127.
    virtual Status start(const Store& store, ContainerRecord& rec, bool attach) = 0;
    virtual Status signal(const ContainerRecord& rec, int sig) = 0;
    virtual Status freeze(const ContainerRecord& rec) = 0;
    virtual Status thaw(const ContainerRecord& rec) = 0;
    // The monitor (or, for the simulated backend, the modeled process) is alive.
    virtual bool alive(const ContainerRecord& rec) = 0;
    // After a monitor died without recording the exit: kill what is left, remove the cgroup.
    virtual void reap_orphan(const Store& store, ContainerRecord& rec) = 0;
    // Removes everything the container owns on disk and in the kernel.
    virtual Status destroy(const Store& store, const ContainerRecord& rec) = 0;
    virtual Result<int> exec(const Store& store, const ContainerRecord& rec, const ExecRequest& req) = 0;
    virtual Result<std::vector<ProcessRow>> top(const ContainerRecord& rec) = 0;
};

std::unique_ptr<Runtime> make_namespace_runtime(bool rootless);
// The stand-in: no process runs; PID 1 is modeled and its setup steps carry modeled timings.
// Everything it reports says "simulated".
std::unique_ptr<Runtime> make_simulated_runtime(const std::string& state_root);

// The path of the isolab-monitor binary: $ISOLAB_MONITOR, else next to /proc/self/exe.
std::string monitor_binary();

// Debian's runc, for containers made with `--runtime runc`: $ISOLAB_RUNC, else the first of
// /usr/sbin/runc, /usr/bin/runc, /usr/local/sbin/runc, /usr/local/bin/runc; "" when none.
std::string runc_binary();
// runc keeps its state per IsoLab state root: ROOT/runc.
inline std::string runc_state_dir(const std::string& root) { return root + "/runc"; }
// `runc delete --force ID`: removes what runc still holds for the container (its state
// directory, its cgroup); quiet, and harmless when runc has nothing.
void runc_delete(const std::string& root, const std::string& id);

}  // namespace isolab
