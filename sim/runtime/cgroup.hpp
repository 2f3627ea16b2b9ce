// Cgroups for containers: one interface over cgroup v1, cgroup v2 and "disabled" (STYLE §5, after
// crun's cgroupfs / disabled managers).
//
// Where groups live. A name such as "isolab/<hash>/<id>" is created under a parent directory that
// cgroup_probe() reports in CgroupHostInfo::parents:
//   * v1: the caller's own cgroup in each hierarchy (runc's rule for a relative cgroupsPath), so a
//     container never escapes limits its launcher is under;
//   * v2 as root: the root of the mounted hierarchy (Docker's cgroupfs layout), which is exempt
//     from v2's "no processes in a cgroup with enabled controllers" rule;
//   * v2 otherwise: the caller's own cgroup, which must be delegated to the caller's user. Enabling
//     controllers there requires the caller to leave it, so create() moves the calling process into
//     the leaf "<own cgroup>/isolab-supervisor" when the kernel answers EBUSY, and treats that leaf
//     as "own cgroup = its parent" afterwards.
// Because the parent depends on the caller, a different process reopening a group must use
// open_paths() with the directories recorded from paths(), not open_existing().
//
// Fake trees. Every function honours CgroupSource, so unit tests can point the manager at an
// ordinary directory tree with a fake mountinfo. A hierarchy that is not on a cgroup file system is
// treated as plain files: writes create the control file, destroy() deletes files before rmdir, and
// nothing listed in a plain cgroup.procs is ever signalled.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/core/result.hpp"
#include "sim/runtime/device_filter.hpp"

namespace isolab {

enum class CgroupVersion { V1, V2, None };

const char* cgroup_version_name(CgroupVersion v);  // "v1", "v2", "none"

// 0 means unlimited. nano_cpus is Docker's unit: 1e9 = one CPU (period 100 ms).
struct CgroupLimits {
    int64_t memory_bytes = 0;
    int64_t pids_limit = 0;
    int64_t nano_cpus = 0;
    // Device access (device_filter.hpp), applied on top of "deny everything": Docker's default list
    // unless replaced. nullopt leaves device access as the parent group has it (what Docker does for
    // --privileged). Not applied where device_rules_enforced_here() is false: there the kernel
    // already refuses device nodes to the container's user namespace.
    std::optional<std::vector<DeviceRule>> devices = docker_default_device_rules();

    // The rest of an OCI spec's linux.resources, with runc's meaning of each number (runc's
    // libcontainer/cgroups/fs and fs2). Zero, empty and nullopt mean "not set": the file keeps
    // what the kernel gives a new group.
    //
    // memory + swap together, bytes (cgroup v1 memory.memsw.limit_in_bytes; on v2 memory.swap.max
    // gets the difference to memory_bytes). -1 = unlimited. nullopt = Docker's default: twice
    // memory_bytes.
    std::optional<int64_t> memory_swap;
    int64_t memory_reservation = 0;             // v1 memory.soft_limit_in_bytes, v2 memory.low; -1 = none
    std::optional<uint64_t> memory_swappiness;  // v1 memory.swappiness; v2 has none (refused)
    bool disable_oom_killer = false;            // v1 memory.oom_control; v2 has none (refused)
    uint64_t cpu_shares = 0;                    // v1 cpu.shares; v2 cpu.weight = 1 + (shares-2)*9999/262142
    // CFS bandwidth as given, instead of nano_cpus: v1 cpu.cfs_quota_us / cpu.cfs_period_us, v2
    // cpu.max "QUOTA PERIOD". quota -1 = unlimited.
    int64_t cpu_quota_us = 0;
    uint64_t cpu_period_us = 0;
    std::string cpuset_cpus, cpuset_mems;  // cpuset.cpus / cpuset.mems ("" = the parent's)
    struct Hugepages {
        std::string page_size;  // "2MB"
        uint64_t limit = 0;     // bytes
    };
    std::vector<Hugepages> hugepages;  // v1 hugetlb.SIZE.limit_in_bytes, v2 hugetlb.SIZE.max
    uint16_t blkio_weight = 0;         // v1 blkio.weight or blkio.bfq.weight; v2 io.bfq.weight or io.weight

    bool any() const { return memory_bytes != 0 || pids_limit != 0 || nano_cpus != 0; }
};

// Where a group is made (OCI linux.cgroupsPath with runc's rules). The engine uses the defaults.
struct CgroupPlacement {
    // An absolute cgroupsPath: NAME is under each hierarchy's root, not under the caller's own
    // group (v1) or the v2 parent that cgroup_probe() reports.
    bool from_root = false;
    // Join every mounted v1 hierarchy (cpuset, blkio, net_cls, name=systemd, ...), as runc does,
    // not only those that hold a limit IsoLab sets; a new cpuset group gets its parent's cpus and
    // mems first, as the kernel requires before a process may join.
    bool every_v1_hierarchy = false;
};

// Where the manager looks. The defaults describe the running host; tests substitute fake files.
struct CgroupSource {
    std::string sysfs_root = "/sys/fs/cgroup";
    std::string mountinfo = "/proc/self/mountinfo";
    std::string self_cgroup = "/proc/self/cgroup";
};

struct CgroupHostInfo {
    CgroupVersion version = CgroupVersion::None;
    bool hybrid = false;                   // v1 controllers plus a controller-less cgroup2 mount
    std::vector<std::string> controllers;  // v1: mounted controllers; v2: those usable in the parent
    bool writable = false;                 // this process can create groups under `parents`
    std::string reason;                    // why not, with the fix; empty when writable
    std::string root;                      // sysfs_root as probed
    std::vector<std::string> parents;      // directories under which named groups are created
};

// Never fails: a host without usable cgroups is reported as version None or writable == false.
CgroupHostInfo cgroup_probe(const CgroupSource& source = {});

// One container's cgroup: a directory in each v1 hierarchy that holds memory, pids, cpu, cpuacct,
// freezer or devices, plus cpuset, blkio or hugetlb when a limit needs them (other v1 hierarchies
// are left alone unless CgroupPlacement::every_v1_hierarchy), or one v2 directory. Copies refer to the same directories; destroy() through any copy removes them.
class Cgroup {
public:
    // Creates NAME (mkdir -p semantics; a leftover empty group of that name is reused) and applies
    // every limit, zero ones as "unlimited". On v2, enables memory, pids and cpu (those the parent
    // offers) in cgroup.subtree_control of the parent and of every directory on the way down.
    // Device rules are in force when this returns, before any process can join: v1 writes them to
    // the group's devices.deny and devices.allow, v2 attaches a BPF device program to the group.
    // When the host cannot create groups, returns a disabled Cgroup carrying the reason if no limit
    // and no enforceable device rule is requested, and an error naming the reason otherwise:
    // limits and device rules are never dropped silently.
    static Result<Cgroup> create(const std::string& name, const CgroupLimits& limits,
                                 const CgroupSource& source = {});
    static Result<Cgroup> create(const std::string& name, const CgroupLimits& limits,
                                 const CgroupPlacement& placement, const CgroupSource& source = {});
    // Reopens NAME as created by a process in the same cgroup as the caller.
    static Result<Cgroup> open_existing(const std::string& name, const CgroupSource& source = {});
    // Reopens the directories previously returned by paths(); an empty list yields a disabled
    // Cgroup. The directories need not exist any more (destroy() stays idempotent).
    static Result<Cgroup> open_paths(const std::vector<std::string>& paths,
                                     const CgroupSource& source = {});
    // The stand-in used without cgroups: add_process() and destroy() succeed and do nothing;
    // freezing, statistics and kill_all() fail with REASON.
    static Cgroup disabled(std::string reason);

    CgroupVersion version() const { return version_; }
    const std::string& disabled_reason() const { return reason_; }
    std::vector<std::string> paths() const;

    // `docker update`: writes LIMITS' memory, swap, pids and cpu values into the existing group,
    // zero ones as "unlimited" (the same conversions as create). Device rules are not touched.
    // Fails on a disabled group, naming why it has none.
    Status update_limits(const CgroupLimits& limits);

    // Moves PID (the whole thread group) into the group in every hierarchy.
    Status add_process(pid_t pid);

    // Returns once the kernel reports the group frozen (v1 freezer.state FROZEN, v2 cgroup.events
    // "frozen 1"); on timeout it thaws again and fails, so a half-frozen group is never left.
    Status freeze(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    Status thaw(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    bool is_frozen() const;

    Result<int64_t> memory_current() const;
    Result<int64_t> memory_limit() const;  // 0 when unlimited
    // Processes killed by the OOM killer in this group (v1 memory.oom_control, v2 memory.events);
    // 0 on v1 kernels that do not count them.
    Result<int64_t> oom_kill_count() const;
    Result<int64_t> pids_current() const;
    // Every process in the group and its descendant groups, sorted, without duplicates. Zombies
    // are not listed (the kernel drops them from cgroup.procs).
    std::vector<pid_t> pids() const;

    // Sends SIG to every process. v2 with SIGKILL uses cgroup.kill when the kernel has it (5.14+);
    // otherwise the group is frozen while signalled so no process can fork past the list. For
    // SIGKILL, returns only once the group is empty (or fails after `timeout`).
    Status kill_all(int sig, std::chrono::milliseconds timeout = std::chrono::seconds(5));

    // Kills what is left (SIGKILL) and removes the group's directories, child groups first,
    // retrying EBUSY while processes finish exiting. Idempotent: missing directories are fine.
    // Parent directories such as "isolab/<hash>" are left for other containers.
    Status destroy();

private:
    struct Dir {
        std::string path;
        std::vector<std::string> controllers;  // v1 hierarchy controllers; empty on v2
        bool plain = false;                    // not on a cgroup file system (unit tests)
    };

    Cgroup() = default;
    const Dir* dir_with(const char* controller) const;  // v2: the single directory
    Status check_enabled(const char* what) const;       // fails when disabled, naming WHAT
    Result<const Dir*> require(const char* controller, const char* what) const;
    Status apply_limits(const CgroupLimits& limits);
    Status restrict_devices(const DevicePolicy& policy);
    Status set_frozen(bool frozen, std::chrono::milliseconds timeout);

    CgroupVersion version_ = CgroupVersion::None;
    std::vector<Dir> dirs_;
    std::string reason_;
};

}  // namespace isolab
