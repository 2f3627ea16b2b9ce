// The Isolation tab's table (GUI-free): for one running container, one row per namespace with the
// host's namespace id and the container's, whether they are shared, and what each side SEES —
// read from the real /proc, not from a model — beside what a VM has instead (its own of
// everything, from its VmRecord).
//
// Reading /proc for every process takes a few milliseconds: read_isolation() runs on a worker
// thread; build_isolation_rows() is cheap and pure.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/net/inspect.hpp"
#include "sim/state/mounts.hpp"
#include "sim/vm/vm_manager.hpp"

namespace isolab::view {

// The namespaces the table shows, in order: pid mnt uts ipc net user cgroup.
const std::vector<std::string>& namespace_kinds();

// --- parsers of /proc text (pure, unit-tested) ---

// The NSpid line of /proc/P/status ("NSpid:\t4242\t1"): the process's PID in each nested PID
// namespace, outermost first; the last one is the PID it has in its own namespace. Empty when
// there is no NSpid line (kernels before 4.1).
std::vector<pid_t> parse_nspid(const std::string& status_text);

struct IdMapLine {
    uint64_t inside = 0, outside = 0, count = 0;
};
// /proc/P/uid_map or gid_map: "inside outside count" per line.
std::vector<IdMapLine> parse_id_map(const std::string& text);
// True for the initial user namespace's map, "0 0 4294967295": the same ids as the host.
bool is_identity_map(const std::vector<IdMapLine>& map);
// "0→0 ×4294967295 (the host's ids)" or "0→100000 ×65536" for display.
std::string describe_id_map(const std::vector<IdMapLine>& map);

struct MountPointSeen {
    std::string mountpoint;   // as the process sees it (relative to its own root)
    std::string fstype;
    bool readonly = false;    // "ro" among the per-mount options
};
struct MountSummary {
    int count = 0;            // mounts listed in mountinfo
    std::string root_source;  // what is mounted on "/": "overlay (overlay)", "/dev/sda1 (ext4)"
    std::vector<MountPointSeen> points;  // every mount, in mountinfo order (the last one on a path is on top)
};
MountSummary summarize_mounts(const std::string& mountinfo);

// One of the container's own mounts (-v, --mount, --tmpfs) as the mount row shows it:
// "TARGET ← SOURCE · ro|rw", and whether the kernel has it where the record says.
struct MountLine {
    MountType type = MountType::Volume;
    bool anonymous = false;
    std::string target;
    std::string source;       // volume name (anonymous: its short id) | host path | "" (tmpfs)
    bool readonly = false;    // the kernel's word when seen, else what was asked
    enum class Seen { Mounted, NotMounted, Unknown } seen = Seen::Unknown;  // Unknown: no mountinfo read
    std::string text;         // "/data ← volume data · rw", in the current language
};
// MOUNTS: the record's spec.mounts. SEEN: the container's mountinfo, or null when it was not read
// (not running, no access): then nothing is claimed about the kernel.
std::vector<MountLine> mount_lines(const std::vector<MountSpec>& mounts, const MountSummary* seen);

// The cgroup a process is in, from /proc/P/cgroup: the unified ("0::") path when it is not "/",
// else the first controller line with a path other than "/" ("memory:/x"), else "/".
std::string cgroup_summary(const std::string& text);

// "pid:[4026531836]" → shared when both are known and equal.
enum class Sharing { Shared, Isolated, Unknown };
Sharing decide_sharing(const std::string& host_ns, const std::string& container_ns);

// --- what read_isolation() finds ---

struct ProcessSeen {
    pid_t host_pid = 0;
    pid_t inner_pid = 0;  // the PID in the container's namespace (last NSpid field)
    std::string comm;
};

struct SideFacts {
    std::vector<std::string> ns;  // readlink of /proc/P/ns/<kind>, in namespace_kinds() order
    int process_count = 0;        // host: every process; container: those in its PID namespace
    std::vector<ProcessSeen> processes;  // container: its processes, by inner PID
    std::string hostname;
    MountSummary mounts;
    std::vector<IdMapLine> uid_map;
    std::string cgroup;
    std::string kernel;           // the kernel release this side sees
    int shm_segments = -1;        // System V shared memory segments visible (host only; -1 unknown)
    std::optional<net::NetPicture> net;
    std::string net_error;
};

struct IsolationFacts {
    pid_t pid = 0;                // the container's PID 1 on the host
    SideFacts host, container;
    std::string error;            // why the container side is missing (not running, gone, no access)
    double read_ms = 0;
};

// Reads both sides from /proc. HOST_PID 0 = this process (the host as IsoLab sees it). With
// WITH_NET the network pictures come from net::inspect_netns (netlink; needs the right to enter
// the container's namespace). Never throws; missing pieces stay empty and `error` says why.
IsolationFacts read_isolation(pid_t container_pid, pid_t host_pid, bool with_net);

// Reads one side only (the unit tests compare the test process with itself).
SideFacts read_side(pid_t pid, bool count_processes_in_pidns);

// --- the rows the tab draws ---

struct IsolationRow {
    std::string kind;                 // "pid", "mnt", ..., "kernel" (no namespace: the punch line)
    std::string host_ns, container_ns;
    Sharing sharing = Sharing::Unknown;
    std::string host_sees, container_sees, vm_has;  // one or two short lines each
    std::string lesson;               // one sentence, in the current language
    bool punch_line = false;          // the kernel row: the same for both, highlighted
    std::vector<MountLine> mounts;    // the mnt row: the container's volumes, binds and tmpfs
};

// VM: the selected or first running VM (nullptr: "not running"). MOUNTS (may be null): the
// container's spec.mounts, shown in the mnt row beside what its mountinfo holds.
std::vector<IsolationRow> build_isolation_rows(const IsolationFacts& f, const vm::VmRecord* vm,
                                               const std::vector<MountSpec>* mounts = nullptr);

}  // namespace isolab::view
