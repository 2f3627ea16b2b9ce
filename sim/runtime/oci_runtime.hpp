// IsoLab as an OCI runtime (opencontainers/runtime-spec runtime.md; the runtime-tools
// command-line interface): create / start / state / kill / delete for ANY bundle, with runc's
// process model.
//
//   create   the calling process forks a short-lived bootstrap that joins the namespaces given
//            by path (setns, user namespace first) and clones the container's init into the new
//            ones (CLONE_NEW* per linux.namespaces). The caller writes the uid/gid maps, moves the
//            init into its cgroup and says go; the one init (init.hpp) runs the spec's setup plan
//            (setup_plan.hpp: mounts in order, devices, pivot_root, masked and read-only paths,
//            sysctl, hostname, rlimits, capabilities, user, no_new_privs, seccomp, cwd), reports
//            READY, and blocks opening STATE/ID/exec.fifo for writing. The caller then writes
//            STATE/ID/state.json and the pid file and returns; the init lives on.
//   start    opens exec.fifo for reading: the init's open returns, it runs the startContainer
//            hooks and execs process.args; start reads the fifo to its end, which comes with the
//            execve (the init's end is close-on-exec) or with the init's error, then runs the
//            poststart hooks (failures are warnings).
//   state    derived from the process, as runc does: pid gone, recycled or a zombie → stopped;
//            exec.fifo still there → created; otherwise running.
//   delete   only a stopped container (runtime.md; runc and crun also delete a created one
//            without --force, IsoLab follows the spec): kills what is left (--force), removes the
//            cgroup and STATE/ID, then runs the poststop hooks (failures are warnings).
//
// Hooks (oci_hooks.hpp): prestart and createRuntime run in create, while the init waits after its
// mounts; createContainer and startContainer run in the init itself (setup_plan.hpp). A failure
// of any of them fails create or start, stops the container and runs the poststop hooks.
//
// A failed create leaves nothing behind: no state directory, no cgroup, no process, no mount (the
// container's mounts live only in its own mount namespace).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/result.hpp"
#include "sim/runtime/oci_spec.hpp"

namespace isolab::oci {

enum class ContainerStatus { Creating, Created, Running, Stopped };
const char* status_name(ContainerStatus s);  // "creating", "created", "running", "stopped"

struct RuntimeState {
    std::string oci_version;
    std::string id;
    ContainerStatus status = ContainerStatus::Stopped;
    pid_t pid = 0;  // 0 once stopped, as runc reports it
    std::string bundle;
    std::string rootfs;
    std::string created;  // RFC 3339
    std::map<std::string, std::string> annotations;
    std::vector<std::string> cgroup_paths;
    uint64_t pid_start_time = 0;
    std::vector<std::string> warnings;  // from create: setup steps the init could not fully apply
    Hooks hooks;                        // kept from config.json: poststart and poststop need them
};

// The runtime-spec state object: ociVersion, id, status, pid, bundle, annotations (+ rootfs,
// created, as runc prints them).
nlohmann::json state_json(const RuntimeState& s);

// /run/isolab-runtime for root, $XDG_RUNTIME_DIR/isolab-runtime otherwise
// (/tmp/isolab-runtime-UID when XDG_RUNTIME_DIR is unset).
std::string default_runtime_root();

// runc's rule for ids: letters, digits, '_', '+', '-', '.'; not "." or "..".
bool valid_container_id(const std::string& id);

struct CreateOptions {
    std::string id;
    std::string bundle = ".";
    std::string pid_file;        // "" = none; written (absolute pid) once the init is ready
    std::string console_socket;  // required when process.terminal is true
    // `run`: the caller becomes a child subreaper so that the init, orphaned by the bootstrap,
    // is its child and wait() can reap it.
    bool subreaper = false;
};

class OciRuntime {
public:
    explicit OciRuntime(std::string state_root);
    const std::string& root() const { return root_; }

    Result<RuntimeState> create(const CreateOptions& opts);
    // Created only. WARNINGS receives poststart hook failures.
    Status start(const std::string& id, std::vector<std::string>* warnings = nullptr);
    Result<RuntimeState> state(const std::string& id) const;
    // SIG to the init (created or running), or with ALL to every process of its cgroup.
    Status kill(const std::string& id, int sig, bool all = false);
    // Stopped: removes it. Created, creating or running: error unless FORCE (then SIGKILL first).
    // WARNINGS receives poststop hook failures.
    Status remove(const std::string& id, bool force = false, std::vector<std::string>* warnings = nullptr);
    std::vector<RuntimeState> list() const;
    // Only after create with subreaper: waits for the init to exit; its exit code (128+signal).
    Result<int> wait(const std::string& id);

private:
    std::string dir_of(const std::string& id) const { return root_ + "/" + id; }
    Result<RuntimeState> load(const std::string& id) const;
    std::string root_;
};

}  // namespace isolab::oci
