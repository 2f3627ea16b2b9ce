// The numbers of the Resources tab (GUI-free): memory and CPU per container and per VM from
// successive WorldSnapshots, a short history per row for the sparklines, the totals of both
// sides, and the "density" experiment (start N idle containers, see what they cost). The
// window only draws what this returns.
//
// The lesson in numbers: a VM reserves its memory whole (memory_mib, handed to a guest that runs a
// whole kernel), a container costs what its processes touch (its cgroup's memory.current).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/view/snapshot.hpp"

namespace isolab::view {

// A fixed number of the newest samples; pushing into a full ring drops the oldest.
class SampleRing {
public:
    explicit SampleRing(size_t capacity = 60);
    void push(double v);
    size_t size() const { return size_; }
    size_t capacity() const { return data_.size(); }
    bool empty() const { return size_ == 0; }
    // I-th sample, 0 = the oldest kept.
    double at(size_t i) const;
    double last() const;      // 0 when empty
    double max() const;       // 0 when empty
    std::vector<double> values() const;  // oldest first

private:
    std::vector<double> data_;
    size_t head_ = 0;  // where the next sample goes
    size_t size_ = 0;
};

struct CpuSample {
    double cpu_seconds = 0;  // user + system time used so far
    double wall_ms = 0;      // when it was read (monotonic)
};

// CPU use between two samples, in percent of ONE core (two busy cores = 200). 0 when no time
// passed or the counter went back (the container restarted: a new process tree).
double cpu_percent(const CpuSample& before, const CpuSample& after);

struct ResourceRow {
    std::string key;           // "c/<id>" | "vm/<name>": stable across snapshots
    std::string name;
    bool vm = false;
    std::string state;         // Docker's state for a container, the VM state for a VM
    bool live = false;         // has processes: running or paused (VM: booting, running, paused)
    int64_t mem_used = -1;     // bytes: a container's cgroup memory, a VM's QEMU resident memory; -1 unknown
    int64_t mem_limit = 0;     // a container's memory limit (0 = none)
    int64_t mem_reserved = 0;  // a VM's memory_mib in bytes: given whole to the guest
    double cpu_seconds = 0;
    double cpu_pct = -1;       // since the previous sample, % of one core; -1 before two samples
    int processes = 0;         // a container's process count (pids.current)
    std::vector<double> mem_history;  // bytes, oldest first (only while live)
    std::vector<double> cpu_history;  // % of one core, oldest first
};

struct ResourceTotals {
    int containers = 0, containers_live = 0;
    int vms = 0, vms_live = 0;
    int64_t containers_mem = 0;   // sum of live containers' known memory
    int containers_mem_known = 0; // how many of them had a figure
    int64_t vms_rss = 0;          // sum of live VMs' QEMU resident memory
    int64_t vms_reserved = 0;     // sum of live VMs' reservations
    double containers_cpu_pct = 0, vms_cpu_pct = 0;
    int processes = 0;            // in live containers
    int64_t avg_container_mem = 0;  // per live container with a figure (0 when none)
    int64_t avg_vm_reserved = 0;    // per live VM (0 when none)
};

// Follows the snapshots: call sample() about once a second; rows() carries the newest figures
// with their history. Rows of containers and VMs that disappeared are dropped.
class ResourceTracker {
public:
    explicit ResourceTracker(size_t history = 60);
    void sample(const WorldSnapshot& w, double wall_ms);
    const std::vector<ResourceRow>& rows() const { return rows_; }  // VMs first, then containers (snapshot order)
    size_t samples() const { return samples_; }

private:
    struct Track {
        CpuSample last;
        bool has_last = false;
        SampleRing mem, cpu;
        explicit Track(size_t n) : mem(n), cpu(n) {}
    };
    size_t history_;
    std::map<std::string, Track> tracks_;
    std::vector<ResourceRow> rows_;
    size_t samples_ = 0;
};

ResourceTotals resource_totals(const std::vector<ResourceRow>& rows);

// How many times a VM's reservation is a container's use ("a VM takes 512× the memory"); 0 when
// either figure is missing.
double lightweight_ratio(int64_t vm_bytes, int64_t container_bytes);

// The memory a VM gets when `vm create` is not told otherwise (VmRecord's default), in bytes.
int64_t default_vm_reservation();

// ---- the density experiment: N idle busybox containers named density-1..N ----
inline constexpr int kDensityMax = 50;
inline constexpr int kDensityDefault = 10;
int clamp_density(int n);  // 1..kDensityMax
std::string density_name(int k);                 // "density-K"
std::string density_run_command(int k);          // "run -d --name density-K busybox sleep 3600"
// One `rm -f` for all NAMES; "" when there are none.
std::string density_remove_command(const std::vector<std::string>& names);

struct DensityStatus {
    int wanted = 0;             // N
    int exist = 0;              // density-1..N containers present in any state
    int running = 0;            // of them, running
    int64_t total_mem = 0;      // memory of the running ones that report a figure
    int mem_known = 0;
    int64_t avg_mem = 0;        // total_mem / mem_known
    bool all_running = false;   // running == wanted
    std::vector<std::string> present;  // every density-K container of the snapshot (any K), for removal
};
DensityStatus density_status(const WorldSnapshot& w, int wanted);

}  // namespace isolab::view
