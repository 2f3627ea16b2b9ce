// The one reader of /proc/PID/mountinfo and /proc/PID/cgroup, and of the cgroup layout they
// describe (issue 13 found four). Pure functions of the text, so tests hand in fake files; the
// read_* helpers only add the file read.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace isolab {

// One line of mountinfo (proc(5)): "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] -
// FSTYPE SOURCE SUPEROPTIONS". Paths are unescaped (the kernel writes space, tab, newline and
// backslash as \ooo).
struct MountInfoEntry {
    std::string root;        // the path inside the file system mounted here
    std::string mountpoint;  // relative to the reading process's root
    std::string options;     // per-mount options ("rw,nosuid")
    std::vector<std::string> optional_fields;  // "shared:1", "master:2", ...
    std::string fstype;
    std::string source;
    std::string super_options;  // per-file-system options ("rw,memory" for a v1 cgroup)
};

// Lines that do not have the shape above are skipped.
std::vector<MountInfoEntry> parse_mountinfo(std::string_view text);
// "" when the file cannot be read.
std::vector<MountInfoEntry> read_mountinfo(const std::string& path = "/proc/self/mountinfo");
std::string unescape_mountinfo(std::string_view s);

// ---- cgroups ---------------------------------------------------------------------------------

enum class CgroupLayout { None, V1, V2, Hybrid };  // Hybrid: v1 controllers plus a cgroup2 mount

const char* cgroup_layout_name(CgroupLayout layout);  // "none" | "v1" | "v2" | "hybrid"

// A cgroup or cgroup2 mount.
struct CgroupMount {
    std::string mountpoint;
    std::string root;                      // the hierarchy path mounted there
    bool v2 = false;                       // cgroup2
    std::vector<std::string> controllers;  // v1: the kernel's controller names and "name=X", in
                                           // super-option order; v2: empty
    bool named() const;                    // a v1 "name=X" hierarchy (e.g. name=systemd)
};

// One line of /proc/PID/cgroup: "ID:CONTROLLERS:PATH". The v2 line has ID 0 and no controllers.
struct CgroupMembership {
    std::vector<std::string> controllers;
    std::string path;
    bool v2() const { return controllers.empty(); }
};

// The cgroup mounts among ENTRIES, in mountinfo order.
std::vector<CgroupMount> cgroup_mounts(const std::vector<MountInfoEntry>& entries);
std::vector<CgroupMembership> parse_proc_cgroup(std::string_view text);
// "" when the file cannot be read.
std::vector<CgroupMembership> read_proc_cgroup(const std::string& path = "/proc/self/cgroup");

// A name the kernel uses for a v1 controller (cpu, memory, pids, ...).
bool is_v1_controller(std::string_view name);

// v1 and v2 from what is mounted.
CgroupLayout cgroup_layout_of(const std::vector<CgroupMount>& mounts);

// The line of GROUPS for hierarchy M: the v2 line for a cgroup2 mount, the line with exactly M's
// controllers for a v1 one. nullptr when the process is in no group there.
const CgroupMembership* membership_in(const std::vector<CgroupMembership>& groups, const CgroupMount& m);

// The directory of hierarchy path PATH under mount M. A path outside the mounted subtree (hidden
// by a cgroup namespace or a bind mount) maps to the mount point itself.
std::string cgroup_dir(const CgroupMount& m, const std::string& path);

}  // namespace isolab
