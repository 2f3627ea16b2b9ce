// What the GUI draws, taken from the same state the CLI reads (STYLE §6: views keep only view
// state). A poller thread takes a WorldSnapshot a few times a second from the engine's records,
// the VM manager's, /proc and the cgroups; views read the newest one. GUI-free, so the
// unit tests cover it without a window.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sim/engine/engine.hpp"
#include "sim/state/volumes.hpp"
#include "sim/vm/vm_manager.hpp"

namespace isolab::view {

struct HostInfo {
    std::string kernel;        // uname -r: the one kernel every container shares
    std::string hostname;
    std::string distro;        // PRETTY_NAME
    std::string arch;
    int cpus = 0;
    int64_t mem_total = 0;     // bytes
    int64_t mem_available = 0;
    std::string backend;       // namespaces | rootless | simulated
    vm::VmBackendKind hypervisor = vm::VmBackendKind::Model;  // what new VMs boot on
};

struct ContainerView {
    ContainerRecord rec;
    std::vector<std::string> image_tags;   // of the image it runs
    std::vector<std::string> layer_ids;    // diff_ids, lowest first
    int64_t mem_current = -1;              // bytes; -1 = unknown (not running, no cgroup)
    int64_t mem_limit = 0;                 // 0 = no limit
    double cpu_seconds = 0;                // user+system of PID 1's tree (cgroup or /proc)
    int processes = 0;                     // pids.current or 1
};

struct VmView {
    vm::VmRecord rec;
    int64_t rss_bytes = 0;                 // QEMU's resident memory
    double cpu_seconds = 0;
    std::string last_stage;                // the boot stage reached
};

struct WorldSnapshot {
    uint64_t generation = 0;               // bumps when anything visible changed
    std::string state_root;
    HostInfo host;
    std::vector<ContainerView> containers; // newest first
    std::vector<VmView> vms;
    std::vector<Image> images;
    std::vector<net::Network> networks;
    std::vector<Volume> volumes;           // every volume of the state root, by name (used or not)
    std::string error;                     // why the snapshot is incomplete, if it is
    const ContainerView* container(const std::string& name_or_id) const;
    const VmView* vm(const std::string& name) const;
};

// Host facts that do not change while the app runs (uname, CPU count, the backends).
HostInfo read_host_info(const std::string& backend);

// Reads every record and the live figures. Never throws; an unreadable part is left out and
// named in `error`.
WorldSnapshot take_snapshot(Engine& engine, vm::VmManager& vms, const HostInfo& host);

// A digest of what views show (states, names, pids; memory to the MiB, CPU to the second), to
// decide whether to wake the window: equal fingerprints mean nothing visible changed.
std::string fingerprint(const WorldSnapshot& w);

// "12.3 MiB", "1.0 GiB"
std::string human_bytes(int64_t bytes);

}  // namespace isolab::view
