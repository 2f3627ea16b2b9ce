// Cgroup manager: layout detection from mountinfo, then one code path per version behind an
// exhaustive switch (STYLE §3, §5).
#include "sim/runtime/cgroup.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <set>
#include <thread>

#include "sim/core/files.hpp"
#include "sim/core/mountinfo.hpp"
#include "sim/core/strings.hpp"

namespace isolab {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The leaf a non-root v2 caller moves itself into so that its own cgroup may enable controllers.
constexpr const char* kSupervisorLeaf = "isolab-supervisor";
constexpr int64_t kCfsPeriodUs = 100000;
constexpr int64_t kMinCfsQuotaUs = 1000;  // the kernel rejects smaller quotas

// v1 hierarchies a container joins. cpuset is left alone: joining it would require copying
// cpuset.cpus and cpuset.mems into every new directory first. devices holds the device rules
// (device_filter.hpp).
const std::vector<std::string> kV1Used = {"memory", "pids", "cpu", "cpuacct", "freezer", "devices"};
// v2 controllers enabled on the way down, in this order, when the parent offers them.
const std::vector<std::string> kV2Used = {"memory", "pids", "cpu"};
std::string q(const std::string& s) { return "`" + s + "`"; }

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

bool starts_with_dir(const std::string& path, const std::string& dir) {
    if (dir == "/") return !path.empty() && path[0] == '/';
    return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                           path[dir.size()] == '/');
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= s.size()) {
        size_t end = s.find(sep, start);
        if (end == std::string::npos) end = s.size();
        if (end > start) out.push_back(s.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

std::vector<std::string> split_ws(const std::string& s) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
        size_t j = i;
        while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
        if (j > i) out.push_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
    return out;
}

std::string dirname_of(const std::string& p) {
    size_t slash = p.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : p.substr(0, slash);
}

std::string basename_of(const std::string& p) {
    size_t slash = p.rfind('/');
    return slash == std::string::npos ? p : p.substr(slash + 1);
}

std::string join_path(const std::string& dir, const std::string& rel) {
    if (rel.empty() || rel == "/") return dir;
    std::string r = rel[0] == '/' ? rel.substr(1) : rel;
    return dir == "/" ? "/" + r : dir + "/" + r;
}

std::string normalize_root(std::string p) {
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    return p;
}

bool exists(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

// Owns one descriptor for the duration of a read or write.

// Returns 0 or the errno of the failing call.
int read_small(const std::string& path, std::string& out) {
    out.clear();
    UniqueFd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (f.get() < 0) return errno;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(f.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (n == 0) return 0;
        out.append(buf, static_cast<size_t>(n));
    }
}

// One write(2) of the whole value: cgroupfs parses each write separately and reports a rejected
// value as that write's errno. On a plain tree the file is created and replaced instead.
int write_small(const std::string& path, const std::string& value, bool plain) {
    int flags = O_WRONLY | O_CLOEXEC | (plain ? O_CREAT | O_TRUNC : 0);
    UniqueFd f(::open(path.c_str(), flags, 0644));
    if (f.get() < 0) return errno;
    ssize_t n;
    do {
        n = ::write(f.get(), value.data(), value.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) return errno;
    return static_cast<size_t>(n) == value.size() ? 0 : EIO;
}

// A hierarchy is "plain" unless statfs proves it is cgroupfs: the safe default, since plain
// hierarchies never have their listed processes signalled.
bool is_plain(const std::string& dir) {
    struct statfs sfs;
    if (::statfs(dir.c_str(), &sfs) != 0) return true;
    return sfs.f_type != CGROUP_SUPER_MAGIC && sfs.f_type != CGROUP2_SUPER_MAGIC;
}

bool parse_int(const std::string& text, int64_t& out) {
    std::string t = trim(text);
    if (t.empty()) return false;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
    return ec == std::errc() && p == t.data() + t.size();
}

// "key value" lines (memory.events, cgroup.events, memory.oom_control). Returns false when the key
// is absent.
bool keyed_value(const std::string& text, const std::string& key, int64_t& out) {
    for (const auto& line : split(text, '\n')) {
        auto f = split_ws(line);
        if (f.size() == 2 && f[0] == key) return parse_int(f[1], out);
    }
    return false;
}

Status set_control(const std::string& dir, const std::string& file, const std::string& value,
                   bool plain) {
    int err = write_small(dir + "/" + file, value, plain);
    if (err != 0) return errno_error("cgroup " + q(dir) + ": set " + file + " to " + value, err);
    return {};
}

Result<std::string> read_control(const std::string& dir, const std::string& file) {
    std::string text;
    int err = read_small(dir + "/" + file, text);
    if (err != 0) return errno_error("cgroup " + q(dir) + ": read " + file, err);
    return text;
}

Result<int64_t> read_int_control(const std::string& dir, const std::string& file) {
    auto text = read_control(dir, file);
    if (!text) return text.error();
    int64_t v = 0;
    if (!parse_int(*text, v))
        return make_error("cgroup " + q(dir) + ": " + file + " holds " + q(trim(*text)) +
                          ", not a number");
    return v;
}

Result<int64_t> read_keyed_control(const std::string& dir, const std::string& file,
                                   const std::string& key, bool missing_is_zero) {
    auto text = read_control(dir, file);
    if (!text) return text.error();
    int64_t v = 0;
    if (keyed_value(*text, key, v)) return v;
    if (missing_is_zero) return int64_t{0};
    return make_error("cgroup " + q(dir) + ": " + file + " has no " + q(key) + " line");
}

// --- Layout detection -----------------------------------------------------------------------

// Cgroup mounts at or below `under`, in mountinfo order (sim/core/mountinfo.hpp reads them).
std::vector<CgroupMount> cgroup_mounts_under(const std::string& mountinfo, const std::string& under) {
    std::vector<CgroupMount> out;
    for (auto& m : cgroup_mounts(parse_mountinfo(mountinfo))) {
        m.mountpoint = normalize_root(m.mountpoint);
        if (starts_with_dir(m.mountpoint, under)) out.push_back(std::move(m));
    }
    return out;
}

std::string self_path_in(const std::vector<CgroupMembership>& self, const CgroupMount& m) {
    const CgroupMembership* g = membership_in(self, m);
    return g ? g->path : "/";
}

struct Hierarchy {
    std::string mount_dir;
    std::vector<std::string> controllers;  // v1; empty for v2
    std::string parent;                    // where named groups go
    std::string own;                       // the caller's cgroup directory
    bool plain = false;
};

struct Layout {
    CgroupVersion version = CgroupVersion::None;
    bool hybrid = false;
    std::string root;
    std::vector<Hierarchy> hierarchies;
    std::vector<std::string> controllers;
    bool writable = false;
    std::string reason;
};

std::string not_writable_reason(CgroupVersion v, const std::string& dir, int err) {
    if (err == EROFS)
        return "cgroup file system at " + q(dir) +
               " is mounted read-only: run IsoLab on the host, or in a container with a writable "
               "cgroup mount (--privileged --cgroupns=private)";
    uid_t uid = ::geteuid();
    if (uid != 0 && v == CgroupVersion::V2)
        return "cgroup v2 is not delegated to user " + std::to_string(uid) + " (cannot write " +
               q(dir) +
               "): run as root or enable delegation (systemd-run --user --scope -p Delegate=yes "
               "isolab ...)";
    if (uid != 0)
        return "cgroup v1 is not delegated to user " + std::to_string(uid) + " (cannot write " +
               q(dir) + "): run as root; cgroup v1 offers no safe delegation to unprivileged users";
    return "cannot create cgroups in " + q(dir) + ": " + std::strerror(err);
}

// Returns 0 when this process may create groups in DIR (and, for non-root v2, move processes and
// enable controllers there), else the errno that says why not.
int writable_errno(CgroupVersion v, const std::string& dir) {
    if (::access(dir.c_str(), W_OK) != 0) return errno;
    if (v == CgroupVersion::V2 && ::geteuid() != 0) {
        for (const char* f : {"/cgroup.procs", "/cgroup.subtree_control"})
            if (::access((dir + f).c_str(), W_OK) != 0) return errno;
    }
    return 0;
}

// EXTRA_V1: v1 controllers joined besides kV1Used (cpuset, blkio, hugetlb when a limit needs
// them); EVERY_V1: join every mounted v1 hierarchy, named ones included (runc's rule); FROM_ROOT:
// groups go under each hierarchy's root, not under the caller's own group (v1).
Layout detect_layout(const CgroupSource& source, const std::vector<std::string>& extra_v1 = {},
                     bool every_v1 = false, bool from_root = false) {
    Layout L;
    L.root = normalize_root(source.sysfs_root);
    std::string text;
    (void)read_small(source.mountinfo, text);  // unreadable: fall back to the tree's contents
    std::vector<CgroupMount> mounts = cgroup_mounts_under(text, L.root);
    (void)read_small(source.self_cgroup, text);
    auto self = parse_proc_cgroup(text);

    // Pure v2: cgroup2 mounted at the root itself, or (fake trees, no mountinfo entries) a root
    // holding cgroup.controllers.
    const CgroupMount* unified = nullptr;
    CgroupMount fake_unified{L.root, "/", true, {}};
    for (const auto& m : mounts)
        if (m.v2 && m.mountpoint == L.root) unified = &m;
    if (!unified && mounts.empty() && exists(L.root + "/cgroup.controllers")) unified = &fake_unified;

    if (unified) {
        L.version = CgroupVersion::V2;
        std::string self_path = self_path_in(self, *unified);
        // After a previous create() moved us into the supervisor leaf, the delegated cgroup we
        // create groups in is its parent.
        if (basename_of(self_path) == kSupervisorLeaf) self_path = dirname_of(self_path);
        Hierarchy h;
        h.mount_dir = unified->mountpoint;
        h.own = cgroup_dir(*unified, self_path);
        h.parent = (from_root || (::geteuid() == 0 && ::access(h.mount_dir.c_str(), W_OK) == 0)) ? h.mount_dir : h.own;
        h.plain = is_plain(h.mount_dir);
        std::string offered;
        (void)read_small(h.parent + "/cgroup.controllers", offered);
        L.controllers = split_ws(offered);
        int err = writable_errno(L.version, h.parent);
        L.writable = err == 0;
        if (err != 0) L.reason = not_writable_reason(L.version, h.parent, err);
        L.hierarchies.push_back(std::move(h));
        return L;
    }

    std::set<std::string> all;
    std::set<std::set<std::string>> seen;
    for (const auto& m : mounts) {
        if (m.v2) {
            L.hybrid = true;
            // A hybrid host's controller-less v2 hierarchy (/sys/fs/cgroup/unified): runc puts
            // its containers there too.
            if (every_v1 && seen.insert(std::set<std::string>{"cgroup2"}).second) {
                Hierarchy h;
                h.mount_dir = m.mountpoint;
                h.own = cgroup_dir(m, self_path_in(self, m));
                h.parent = from_root ? h.mount_dir : h.own;
                h.plain = is_plain(m.mountpoint);
                L.hierarchies.push_back(std::move(h));
            }
            continue;
        }
        if (m.controllers.empty()) continue;
        L.version = CgroupVersion::V1;
        for (const auto& c : m.controllers)
            if (c.rfind("name=", 0) != 0) all.insert(c);
        bool used = every_v1 || std::any_of(m.controllers.begin(), m.controllers.end(), [&](const std::string& c) {
                        return contains(kV1Used, c) || contains(extra_v1, c);
                    });
        // The same hierarchy mounted twice (a bind mount) is joined once.
        if (!used || !seen.insert({m.controllers.begin(), m.controllers.end()}).second) continue;
        Hierarchy h;
        h.mount_dir = m.mountpoint;
        h.controllers = m.controllers;
        h.own = cgroup_dir(m, self_path_in(self, m));
        h.parent = from_root ? h.mount_dir : h.own;
        h.plain = is_plain(m.mountpoint);
        L.hierarchies.push_back(std::move(h));
    }
    if (L.version == CgroupVersion::None) {
        L.hybrid = false;
        L.reason = "no cgroup file system is mounted under " + q(L.root) +
                   ": mount one (mount -t cgroup2 cgroup2 /sys/fs/cgroup)";
        return L;
    }
    L.controllers.assign(all.begin(), all.end());
    if (L.hierarchies.empty()) {
        L.reason = "no cgroup v1 hierarchy with memory, pids, cpu, freezer or devices is mounted under " +
                   q(L.root) + ": mount them (mount -t cgroup -o memory cgroup " + L.root + "/memory)";
        return L;
    }
    for (const auto& h : L.hierarchies) {
        int err = writable_errno(L.version, h.parent);
        if (err != 0) {
            L.reason = not_writable_reason(L.version, h.parent, err);
            return L;
        }
    }
    L.writable = true;
    return L;
}

Status validate_name(const std::string& name) {
    auto parts = split(name, '/');
    bool bad = name.empty() || name[0] == '/' || name.find("//") != std::string::npos ||
               name.back() == '/' ||
               std::any_of(parts.begin(), parts.end(),
                           [](const std::string& p) { return p == "." || p == ".."; });
    if (bad)
        return make_error("invalid cgroup name " + q(name) +
                          ": use a relative path such as isolab/<id>, without `.` or `..`");
    return {};
}

// nano_cpus * period / 1e9, without the overflow of the multiplication.
int64_t cfs_quota_us(int64_t nano_cpus) { return nano_cpus / (1000000000 / kCfsPeriodUs); }

Status validate_limits(const CgroupLimits& l) {
    if (l.memory_bytes < 0) return make_error("memory limit must not be negative");
    if (l.nano_cpus != 0 && (l.cpu_quota_us != 0 || l.cpu_period_us != 0))
        return make_error("give the CPU limit either as cpus or as a CFS quota and period, not both");
    if (l.memory_swap && *l.memory_swap > 0 && *l.memory_swap < l.memory_bytes)
        return make_error("the memory+swap limit must be at least the memory limit");
    if (l.memory_swappiness && *l.memory_swappiness > 100) return make_error("memory swappiness must be between 0 and 100");
    if (l.blkio_weight != 0 && (l.blkio_weight < 10 || l.blkio_weight > 1000))
        return make_error("the block I/O weight must be between 10 and 1000");
    if (l.pids_limit < 0) return make_error("pids limit must not be negative");
    if (l.nano_cpus < 0) return make_error("cpus must not be negative");
    if (l.memory_bytes >= (int64_t{1} << 62)) return make_error("memory limit is too large");
    if (l.nano_cpus != 0 && cfs_quota_us(l.nano_cpus) < kMinCfsQuotaUs)
        return make_error("cpus must be at least 0.01 (the kernel's smallest CFS quota is 1 ms per "
                          "100 ms period)");
    return {};
}

// Controllers the requested limits need (v2 names; v1 calls io "blkio").
std::vector<std::string> required_controllers(const CgroupLimits& l) {
    std::vector<std::string> out;
    if (l.memory_bytes || (l.memory_swap && *l.memory_swap > 0) || l.memory_reservation || l.memory_swappiness ||
        l.disable_oom_killer)
        out.push_back("memory");
    if (l.pids_limit) out.push_back("pids");
    if (l.nano_cpus || l.cpu_shares || l.cpu_quota_us || l.cpu_period_us) out.push_back("cpu");
    if (!l.cpuset_cpus.empty() || !l.cpuset_mems.empty()) out.push_back("cpuset");
    if (!l.hugepages.empty()) out.push_back("hugetlb");
    if (l.blkio_weight) out.push_back("io");
    return out;
}

// The v1 name of a v2 controller.
std::string v1_name(const std::string& c) { return c == "io" ? "blkio" : c; }

// runc's conversions from cgroup v1 numbers to v2's (libcontainer/cgroups/utils.go).
uint64_t cpu_shares_to_weight(uint64_t shares) {
    if (shares == 0) return 0;
    if (shares <= 2) return 1;
    return 1 + ((shares - 2) * 9999) / 262142;
}
uint64_t blkio_to_io_weight(uint64_t weight) { return weight == 0 ? 0 : 1 + (weight - 10) * 9999 / 990; }

// One line into a v1 devices file. cgroupfs parses each write(2) as one rule; a plain tree (unit
// tests) keeps every line, in order, so that a test can read the whole sequence back.
int write_device_line(const std::string& dir, const std::string& file, const std::string& line, bool plain) {
    if (!plain) return write_small(dir + "/" + file, line, false);
    UniqueFd f(::open((dir + "/" + file).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (f.get() < 0) return errno;
    std::string text = line + "\n";
    return ::write(f.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size()) ? 0 : errno;
}

// mkdir; an existing directory is fine (mkdir -p).
Status make_group_dir(const std::string& dir) {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
        return errno_error("cgroup " + q(dir) + ": create directory", errno);
    return {};
}

// Moves this process into OWN/isolab-supervisor so that OWN holds no process and may enable
// controllers for its children (cgroup v2's "no internal processes" rule).
Status move_self_to_supervisor_leaf(const std::string& own, bool plain) {
    std::string leaf = own + "/" + kSupervisorLeaf;
    ISOLAB_TRY(make_group_dir(leaf));
    return set_control(leaf, "cgroup.procs", std::to_string(::getpid()), plain);
}

// Enables WANTED (a subset of what DIR offers) in DIR/cgroup.subtree_control. A failure matters
// only for REQUIRED controllers; an optional one (kept for statistics) may be refused, e.g. cpu
// while a realtime process lives in a non-root cgroup.
Status enable_controllers(const std::string& dir, const std::vector<std::string>& wanted,
                          const std::vector<std::string>& required, const Hierarchy& h) {
    std::string text;
    (void)read_small(dir + "/cgroup.subtree_control", text);
    auto enabled = split_ws(text);
    std::vector<std::string> missing;
    for (const auto& c : wanted)
        if (!contains(enabled, c) && !contains(enabled, "+" + c)) missing.push_back(c);
    if (missing.empty()) return {};

    std::vector<std::string> tokens;
    for (const auto& c : missing) tokens.push_back("+" + c);
    std::string line = join(tokens, " ");
    int err = write_small(dir + "/cgroup.subtree_control", line, h.plain);
    if (err == EBUSY && dir == h.own && dir != h.mount_dir && !h.plain) {
        ISOLAB_TRY(move_self_to_supervisor_leaf(dir, h.plain));
        err = write_small(dir + "/cgroup.subtree_control", line, h.plain);
    }
    if (err == 0) return {};

    std::string hint;
    if (err == EBUSY)
        hint = " (processes live directly in " + q(dir) +
               ", and cgroup v2 enables controllers only in cgroups without processes: start IsoLab "
               "in its own delegated scope, e.g. systemd-run --user --scope -p Delegate=yes isolab "
               "...)";
    auto fail = [&](const std::string& what, int e) {
        return errno_error("cgroup " + q(dir) + ": enable " + what + " in cgroup.subtree_control", e)
            .message + hint;
    };
    if (tokens.size() == 1) {
        if (!contains(required, missing[0])) return {};
        return make_error(fail(line, err));
    }
    // One at a time, to learn which controller was refused.
    for (const auto& c : missing) {
        int e = write_small(dir + "/cgroup.subtree_control", "+" + c, h.plain);
        if (e != 0 && contains(required, c)) return make_error(fail("+" + c, e));
    }
    return {};
}

Status create_v2_path(const Hierarchy& h, const std::string& name,
                      const std::vector<std::string>& wanted,
                      const std::vector<std::string>& required) {
    // Order matters: a directory offers only what its parent enabled, so each parent's
    // subtree_control is written before the child is made.
    std::string cur = h.parent;
    for (const auto& comp : split(name, '/')) {
        ISOLAB_TRY(enable_controllers(cur, wanted, required, h));
        cur += "/" + comp;
        ISOLAB_TRY(make_group_dir(cur));
    }
    return {};
}

Status create_v1_path(const Hierarchy& h, const std::string& name) {
    std::string cur = h.parent;
    const bool cpuset = contains(h.controllers, "cpuset");
    for (const auto& comp : split(name, '/')) {
        std::string parent = cur;
        cur += "/" + comp;
        ISOLAB_TRY(make_group_dir(cur));
        // A new cpuset group starts with no CPUs and no memory nodes, and the kernel refuses a
        // process into it (ENOSPC) until both are set: copy the parent's, as runc does.
        if (cpuset && !h.plain)
            for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
                std::string mine, theirs;
                if (read_small(cur + "/" + f, mine) == 0 && !trim(mine).empty()) continue;
                if (read_small(parent + "/" + f, theirs) != 0) continue;
                ISOLAB_TRY(set_control(cur, f, trim(theirs), false));
            }
    }
    return {};
}

void collect_pids(const std::string& dir, std::set<pid_t>& out) {
    std::string text;
    if (read_small(dir + "/cgroup.procs", text) == 0) {
        for (const auto& tok : split_ws(text)) {
            int64_t v;
            if (parse_int(tok, v) && v > 0) out.insert(static_cast<pid_t>(v));
        }
    }
    DIR* d = ::opendir(dir.c_str());
    if (!d) return;
    std::vector<std::string> subdirs;
    while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n == "." || n == "..") continue;
        bool is_dir = e->d_type == DT_DIR;
        if (e->d_type == DT_UNKNOWN) {
            struct stat st;
            is_dir = ::lstat((dir + "/" + n).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
        }
        if (is_dir) subdirs.push_back(dir + "/" + n);
    }
    ::closedir(d);
    for (const auto& s : subdirs) collect_pids(s, out);
}

// Removes DIR and its child groups. EBUSY is retried until DEADLINE: the kernel keeps a group
// busy for a moment after its last process exited.
Status remove_group_dir(const std::string& dir, bool plain, Clock::time_point deadline) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
        if (errno == ENOENT) return {};
        return errno_error("cgroup " + q(dir) + ": open directory", errno);
    }
    std::vector<std::string> subdirs, files;
    while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n == "." || n == "..") continue;
        struct stat st;
        bool is_dir = e->d_type == DT_DIR ||
                      (e->d_type == DT_UNKNOWN && ::lstat((dir + "/" + n).c_str(), &st) == 0 &&
                       S_ISDIR(st.st_mode));
        (is_dir ? subdirs : files).push_back(dir + "/" + n);
    }
    ::closedir(d);
    for (const auto& s : subdirs) ISOLAB_TRY(remove_group_dir(s, plain, deadline));
    // On cgroupfs the control files vanish with the directory; a plain tree must delete them.
    if (plain)
        for (const auto& f : files) ::unlink(f.c_str());
    for (;;) {
        if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
        int err = errno;
        if (err == EBUSY && Clock::now() < deadline) {
            std::this_thread::sleep_for(milliseconds(10));
            continue;
        }
        std::string hint = err == EBUSY ? " (processes are still inside)" : "";
        return make_error(errno_error("cgroup " + q(dir) + ": remove directory", err).message + hint);
    }
}

}  // namespace

const char* cgroup_version_name(CgroupVersion v) {
    switch (v) {
        case CgroupVersion::V1: return "v1";
        case CgroupVersion::V2: return "v2";
        case CgroupVersion::None: return "none";
    }
    return "none";
}

CgroupHostInfo cgroup_probe(const CgroupSource& source) {
    Layout L = detect_layout(source);
    CgroupHostInfo info;
    info.version = L.version;
    info.hybrid = L.hybrid;
    info.controllers = L.controllers;
    info.writable = L.writable;
    info.reason = L.reason;
    info.root = L.root;
    for (const auto& h : L.hierarchies) info.parents.push_back(h.parent);
    return info;
}

// --- Cgroup -----------------------------------------------------------------------------------

Cgroup Cgroup::disabled(std::string reason) {
    Cgroup cg;
    cg.version_ = CgroupVersion::None;
    cg.reason_ = std::move(reason);
    return cg;
}

Result<Cgroup> Cgroup::create(const std::string& name, const CgroupLimits& limits,
                              const CgroupSource& source) {
    return create(name, limits, CgroupPlacement{}, source);
}

Result<Cgroup> Cgroup::create(const std::string& name, const CgroupLimits& limits, const CgroupPlacement& placement,
                              const CgroupSource& source) {
    ISOLAB_TRY(validate_name(name));
    ISOLAB_TRY(validate_limits(limits));
    std::optional<DevicePolicy> devices;
    if (limits.devices && device_rules_enforced_here()) {
        auto p = device_policy(*limits.devices);
        if (!p) return p.error();
        devices = std::move(*p);
    }
    std::vector<std::string> required = required_controllers(limits);
    std::vector<std::string> extra_v1;
    for (const auto& c : required) extra_v1.push_back(v1_name(c));
    Layout L = detect_layout(source, extra_v1, placement.every_v1_hierarchy, placement.from_root);
    if (!L.writable) {
        if (!required.empty())
            return make_error("cannot apply the " + join(required, ", ") + " limit: " + L.reason);
        if (devices)
            return make_error("cannot keep the container off the host's devices (the cgroup device rules "
                              "need a writable cgroup): " + L.reason);
        return disabled(L.reason);
    }

    Cgroup cg;
    cg.version_ = L.version;
    switch (L.version) {
        case CgroupVersion::V1: {
            for (const auto& r : required) {
                const std::string c = v1_name(r);
                bool mounted = std::any_of(L.hierarchies.begin(), L.hierarchies.end(),
                                           [&](const Hierarchy& h) { return contains(h.controllers, c); });
                if (!mounted)
                    return make_error("the " + c + " limit needs the cgroup v1 " + c +
                                      " controller, which is not mounted under " + q(L.root) +
                                      ": mount it (mount -t cgroup -o " + c + " cgroup " + L.root +
                                      "/" + c + ")");
            }
            bool devices_mounted = std::any_of(L.hierarchies.begin(), L.hierarchies.end(), [](const Hierarchy& h) {
                return contains(h.controllers, "devices");
            });
            if (devices && !devices_mounted)
                return make_error("the device rules that keep a container off the host's devices need the cgroup "
                                  "v1 devices controller, which is not mounted under " + q(L.root) +
                                  ": mount it (mount -t cgroup -o devices cgroup " + L.root + "/devices)");
            for (const auto& h : L.hierarchies) {
                Status s = create_v1_path(h, name);
                if (!s) {
                    // Roll back only what holds no process: a populated leftover is not ours.
                    if (cg.pids().empty()) (void)cg.destroy();
                    return s.error();
                }
                cg.dirs_.push_back({h.parent + "/" + name, h.controllers, h.plain});
            }
            break;
        }
        case CgroupVersion::V2: {
            const Hierarchy& h = L.hierarchies.front();
            for (const auto& c : required) {
                if (contains(L.controllers, c)) continue;
                std::string fix =
                    h.parent == h.mount_dir
                        ? "the kernel lacks it, or a cgroup v1 hierarchy holds it (boot with "
                          "systemd.unified_cgroup_hierarchy=1)"
                        : "delegate it to user " + std::to_string(::geteuid()) +
                              " (/etc/systemd/system/user@.service.d/delegate.conf: [Service] "
                              "Delegate=cpu cpuset io memory pids) or run as root";
                return make_error("the " + c + " limit needs the cgroup v2 controller " + q(c) +
                                  ", which " + q(h.parent) + " does not offer (it offers: " +
                                  (L.controllers.empty() ? "none" : join(L.controllers, " ")) +
                                  "): " + fix);
            }
            std::vector<std::string> wanted;
            for (const auto& c : kV2Used)
                if (contains(L.controllers, c)) wanted.push_back(c);
            for (const auto& c : required)
                if (!contains(wanted, c)) wanted.push_back(c);
            ISOLAB_TRY(create_v2_path(h, name, wanted, required));
            cg.dirs_.push_back({h.parent + "/" + name, {}, h.plain});
            break;
        }
        case CgroupVersion::None:
            return disabled(L.reason);
    }

    // A group left by a crashed run is reused only when empty: processes in it belong to
    // something else that still runs.
    if (auto left = cg.pids(); !left.empty()) {
        std::vector<std::string> ids;
        for (pid_t p : left) ids.push_back(std::to_string(p));
        return make_error("cgroup " + q(cg.dirs_.front().path) + " already exists and holds processes " +
                          join(ids, " ") + ": remove the old container first (isolab rm -f)");
    }
    if (Status s = cg.apply_limits(limits); !s) {
        (void)cg.destroy();
        return s.error();
    }
    if (devices) {
        if (Status s = cg.restrict_devices(*devices); !s) {
            (void)cg.destroy();
            return s.error();
        }
    }
    return cg;
}

Result<Cgroup> Cgroup::open_existing(const std::string& name, const CgroupSource& source) {
    ISOLAB_TRY(validate_name(name));
    Layout L = detect_layout(source);
    if (L.version == CgroupVersion::None) return make_error("cgroup " + q(name) + ": " + L.reason);
    Cgroup cg;
    cg.version_ = L.version;
    std::vector<std::string> looked;
    for (const auto& h : L.hierarchies) {
        std::string dir = h.parent + "/" + name;
        looked.push_back(q(dir));
        if (exists(dir)) cg.dirs_.push_back({dir, h.controllers, h.plain});
    }
    if (cg.dirs_.empty())
        return make_error("no such cgroup " + q(name) + " (looked for " + join(looked, ", ") + ")", 1);
    return cg;
}

Result<Cgroup> Cgroup::open_paths(const std::vector<std::string>& paths, const CgroupSource& source) {
    if (paths.empty()) return disabled("no cgroup was recorded for this container");
    // Every hierarchy: a group may have been made in cpuset, blkio or the hybrid unified one.
    Layout L = detect_layout(source, {}, true);
    if (L.version == CgroupVersion::None) return make_error("cgroup " + q(paths.front()) + ": " + L.reason);
    Cgroup cg;
    cg.version_ = L.version;
    for (const auto& p : paths) {
        const Hierarchy* best = nullptr;
        for (const auto& h : L.hierarchies)
            if (starts_with_dir(p, h.mount_dir) && (!best || h.mount_dir.size() > best->mount_dir.size()))
                best = &h;
        if (!best)
            return make_error("cgroup " + q(p) + " is in none of the cgroup " +
                              std::string(cgroup_version_name(L.version)) + " hierarchies under " +
                              q(L.root) + " (was the host rebooted into another cgroup mode?)");
        cg.dirs_.push_back({normalize_root(p), best->controllers, best->plain});
    }
    return cg;
}

std::vector<std::string> Cgroup::paths() const {
    std::vector<std::string> out;
    for (const auto& d : dirs_) out.push_back(d.path);
    return out;
}

const Cgroup::Dir* Cgroup::dir_with(const char* controller) const {
    if (version_ == CgroupVersion::V2) return dirs_.empty() ? nullptr : &dirs_.front();
    for (const auto& d : dirs_)
        if (contains(d.controllers, controller)) return &d;
    return nullptr;
}

Status Cgroup::check_enabled(const char* what) const {
    if (version_ == CgroupVersion::None)
        return make_error(std::string("cannot ") + what + ": cgroups are disabled (" + reason_ + ")");
    if (dirs_.empty()) return make_error(std::string("cannot ") + what + ": the cgroup has no directory");
    return {};
}

Result<const Cgroup::Dir*> Cgroup::require(const char* controller, const char* what) const {
    ISOLAB_TRY(check_enabled(what));
    const Dir* d = dir_with(controller);
    if (!d)
        return make_error(std::string("cannot ") + what + ": cgroup " + q(dirs_.front().path) +
                          " is in no cgroup v1 " + controller + " hierarchy (mount one: mount -t cgroup -o " +
                          controller + " cgroup /sys/fs/cgroup/" + controller + ")");
    return d;
}

namespace {

// v1: the block I/O weight file the kernel offers (CFQ's blkio.weight on old kernels, BFQ's
// blkio.bfq.weight since 5.0); v2: io.bfq.weight (BFQ's own scale, as v1) or io.weight (converted).
// Neither exists when no proportional-weight I/O scheduler is loaded: an error, as runc's.
Status set_io_weight(const std::string& dir, bool v2, uint16_t weight, bool plain) {
    const char* bfq = v2 ? "io.bfq.weight" : "blkio.bfq.weight";
    const char* plain_file = v2 ? "io.weight" : "blkio.weight";
    if (!v2 && exists(dir + "/blkio.weight")) return set_control(dir, "blkio.weight", std::to_string(weight), plain);
    if (exists(dir + "/" + bfq)) return set_control(dir, bfq, std::to_string(weight), plain);
    if (v2 && exists(dir + "/io.weight"))
        return set_control(dir, "io.weight", std::to_string(blkio_to_io_weight(weight)), plain);
    return make_error("cgroup " + q(dir) + ": cannot set the block I/O weight: neither " + plain_file + " nor " + bfq +
                      " exists (the weight needs the BFQ I/O scheduler: modprobe bfq and select it in "
                      "/sys/block/DEVICE/queue/scheduler)");
}

// "-1" on v1 means unlimited; v2 files say "max" (runc's numToStr).
std::string v2_number(int64_t v) { return v == -1 ? "max" : std::to_string(v); }

}  // namespace

Status Cgroup::update_limits(const CgroupLimits& limits) {
    ISOLAB_TRY(check_enabled("update the limits"));
    return apply_limits(limits);
}

Status Cgroup::apply_limits(const CgroupLimits& l) {
    // Zero limits are written as "unlimited" so that a reused leftover group loses stale values;
    // such writes are skipped where the file does not exist (controller absent, plain tree).
    auto set_or_reset = [](const Dir& d, const std::string& file, int64_t value,
                           const std::string& unlimited) -> Status {
        if (value != 0) return set_control(d.path, file, std::to_string(value), d.plain);
        if (!exists(d.path + "/" + file)) return {};
        return set_control(d.path, file, unlimited, d.plain);
    };
    switch (version_) {
        case CgroupVersion::V1: {
            if (const Dir* d = dir_with("memory")) {
                // memsw (memory + swap) must never be below the memory limit, so it is lifted
                // first and lowered last. Docker's default --memory-swap is twice --memory; an OCI
                // spec gives its own total (or -1).
                bool memsw = exists(d->path + "/memory.memsw.limit_in_bytes");
                if (l.memory_swap && *l.memory_swap > 0 && !memsw)
                    return make_error("cgroup " + q(d->path) +
                                      ": memory.memsw.limit_in_bytes is missing: a swap limit needs swap accounting "
                                      "(boot with swapaccount=1)");
                if (memsw) ISOLAB_TRY(set_control(d->path, "memory.memsw.limit_in_bytes", "-1", d->plain));
                ISOLAB_TRY(set_or_reset(*d, "memory.limit_in_bytes", l.memory_bytes, "-1"));
                int64_t total = l.memory_swap ? *l.memory_swap : 2 * l.memory_bytes;
                if (memsw && total > 0)
                    ISOLAB_TRY(set_control(d->path, "memory.memsw.limit_in_bytes", std::to_string(total), d->plain));
                if (l.memory_reservation)
                    ISOLAB_TRY(set_control(d->path, "memory.soft_limit_in_bytes", std::to_string(l.memory_reservation),
                                           d->plain));
                if (l.disable_oom_killer) ISOLAB_TRY(set_control(d->path, "memory.oom_control", "1", d->plain));
                if (l.memory_swappiness)
                    ISOLAB_TRY(set_control(d->path, "memory.swappiness", std::to_string(*l.memory_swappiness), d->plain));
            }
            if (const Dir* d = dir_with("pids")) ISOLAB_TRY(set_or_reset(*d, "pids.max", l.pids_limit, "max"));
            if (const Dir* d = dir_with("cpu")) {
                if (l.nano_cpus || l.cpu_quota_us) {
                    if (!exists(d->path + "/cpu.cfs_quota_us") && !d->plain)
                        return make_error("cgroup " + q(d->path) +
                                          ": cpu.cfs_quota_us is missing: the cpus limit needs a kernel "
                                          "built with CONFIG_CFS_BANDWIDTH");
                }
                if (l.cpu_shares) {
                    ISOLAB_TRY(set_control(d->path, "cpu.shares", std::to_string(l.cpu_shares), d->plain));
                    // The kernel clamps shares to [2, 262144] without an error: say so, as runc does.
                    auto now = read_control(d->path, "cpu.shares");
                    int64_t got = 0;
                    if (now && parse_int(*now, got) && static_cast<uint64_t>(got) != l.cpu_shares)
                        return make_error("cgroup " + q(d->path) + ": cpu.shares " + std::to_string(l.cpu_shares) +
                                          " is out of the kernel's range (it set " + std::to_string(got) +
                                          "; the range is 2 to 262144)");
                }
                if (l.cpu_quota_us || l.cpu_period_us) {
                    // runc's order: the period first; if the kernel refuses it against the old
                    // quota (EINVAL), the quota, then the period again.
                    bool period_pending = false;
                    if (l.cpu_period_us) {
                        int err = write_small(d->path + "/cpu.cfs_period_us", std::to_string(l.cpu_period_us), d->plain);
                        if (err == EINVAL && l.cpu_quota_us) period_pending = true;
                        else if (err != 0)
                            return errno_error("cgroup " + q(d->path) + ": set cpu.cfs_period_us to " +
                                                   std::to_string(l.cpu_period_us),
                                               err);
                    }
                    if (l.cpu_quota_us)
                        ISOLAB_TRY(set_control(d->path, "cpu.cfs_quota_us", std::to_string(l.cpu_quota_us), d->plain));
                    if (period_pending)
                        ISOLAB_TRY(set_control(d->path, "cpu.cfs_period_us", std::to_string(l.cpu_period_us), d->plain));
                } else {
                    if (l.nano_cpus)
                        ISOLAB_TRY(set_control(d->path, "cpu.cfs_period_us", std::to_string(kCfsPeriodUs), d->plain));
                    ISOLAB_TRY(set_or_reset(*d, "cpu.cfs_quota_us", cfs_quota_us(l.nano_cpus), "-1"));
                }
            }
            if (!l.cpuset_cpus.empty() || !l.cpuset_mems.empty()) {
                const Dir* d = dir_with("cpuset");
                if (!d) return make_error("cgroup " + q(dirs_.front().path) + " is in no cgroup v1 cpuset hierarchy");
                if (!l.cpuset_cpus.empty()) ISOLAB_TRY(set_control(d->path, "cpuset.cpus", l.cpuset_cpus, d->plain));
                if (!l.cpuset_mems.empty()) ISOLAB_TRY(set_control(d->path, "cpuset.mems", l.cpuset_mems, d->plain));
            }
            if (!l.hugepages.empty()) {
                const Dir* d = dir_with("hugetlb");
                if (!d) return make_error("cgroup " + q(dirs_.front().path) + " is in no cgroup v1 hugetlb hierarchy");
                for (const auto& h : l.hugepages)
                    ISOLAB_TRY(set_control(d->path, "hugetlb." + h.page_size + ".limit_in_bytes", std::to_string(h.limit),
                                           d->plain));
            }
            if (l.blkio_weight) {
                const Dir* d = dir_with("blkio");
                if (!d) return make_error("cgroup " + q(dirs_.front().path) + " is in no cgroup v1 blkio hierarchy");
                ISOLAB_TRY(set_io_weight(d->path, false, l.blkio_weight, d->plain));
            }
            return {};
        }
        case CgroupVersion::V2: {
            const Dir& d = dirs_.front();
            if (l.memory_swappiness)
                return make_error("cgroup " + q(d.path) + ": cgroup v2 has no per-group swappiness (memory.swappiness "
                                  "is a cgroup v1 setting): remove it");
            if (l.disable_oom_killer)
                return make_error("cgroup " + q(d.path) + ": cgroup v2 cannot disable the OOM killer of a group "
                                  "(memory.oom_control is a cgroup v1 setting): remove it");
            ISOLAB_TRY(set_or_reset(d, "memory.max", l.memory_bytes, "max"));
            // memory.swap.max counts swap alone. Docker's default (a memory+swap total of twice the
            // memory limit) is "swap = memory"; an OCI total becomes total - memory (runc's
            // ConvertMemorySwapToCgroupV2Value), -1 = "max".
            std::string swap;
            const bool docker_default = !l.memory_swap;
            if (docker_default) swap = l.memory_bytes ? std::to_string(l.memory_bytes) : "max";
            else if (*l.memory_swap == -1) swap = "max";
            else if (*l.memory_swap > 0) swap = std::to_string(*l.memory_swap - l.memory_bytes);
            if (!swap.empty()) {
                if (exists(d.path + "/memory.swap.max")) ISOLAB_TRY(set_control(d.path, "memory.swap.max", swap, d.plain));
                else if (!docker_default && swap != "max" && swap != "0")
                    return make_error("cgroup " + q(d.path) +
                                      ": memory.swap.max is missing: a swap limit needs swap accounting "
                                      "(CONFIG_MEMCG_SWAP, and no swapaccount=0 on the kernel command line)");
            }
            if (l.memory_reservation) ISOLAB_TRY(set_control(d.path, "memory.low", v2_number(l.memory_reservation), d.plain));
            ISOLAB_TRY(set_or_reset(d, "pids.max", l.pids_limit, "max"));
            if (l.cpu_shares)
                ISOLAB_TRY(set_control(d.path, "cpu.weight", std::to_string(cpu_shares_to_weight(l.cpu_shares)), d.plain));
            if (l.cpu_quota_us || l.cpu_period_us) {
                // runc: "max" unless a positive quota; the period only when given (the kernel
                // keeps its own otherwise).
                std::string max = l.cpu_quota_us > 0 ? std::to_string(l.cpu_quota_us) : "max";
                if (l.cpu_period_us) max += " " + std::to_string(l.cpu_period_us);
                ISOLAB_TRY(set_control(d.path, "cpu.max", max, d.plain));
            } else if (l.nano_cpus) {
                ISOLAB_TRY(set_control(d.path, "cpu.max",
                                       std::to_string(cfs_quota_us(l.nano_cpus)) + " " + std::to_string(kCfsPeriodUs),
                                       d.plain));
            } else if (exists(d.path + "/cpu.max")) {
                ISOLAB_TRY(set_control(d.path, "cpu.max", "max " + std::to_string(kCfsPeriodUs), d.plain));
            }
            if (!l.cpuset_cpus.empty()) ISOLAB_TRY(set_control(d.path, "cpuset.cpus", l.cpuset_cpus, d.plain));
            if (!l.cpuset_mems.empty()) ISOLAB_TRY(set_control(d.path, "cpuset.mems", l.cpuset_mems, d.plain));
            for (const auto& h : l.hugepages)
                ISOLAB_TRY(set_control(d.path, "hugetlb." + h.page_size + ".max", std::to_string(h.limit), d.plain));
            if (l.blkio_weight) ISOLAB_TRY(set_io_weight(d.path, true, l.blkio_weight, d.plain));
            return {};
        }
        case CgroupVersion::None:
            return {};
    }
    return {};
}

Status Cgroup::restrict_devices(const DevicePolicy& policy) {
    switch (version_) {
        case CgroupVersion::V1: {
            const Dir* d = dir_with("devices");
            if (!d) return make_error("cgroup " + q(dirs_.front().path) + " is in no cgroup v1 devices hierarchy");
            for (const auto& w : device_v1_writes(policy)) {
                int err = write_device_line(d->path, w.file, w.line, d->plain);
                // A parent group that denies a device refuses to let a child allow it (EPERM):
                // the container then gets less than Docker's list, never more. This happens when
                // IsoLab itself runs in a device-restricted group, e.g. inside another container.
                if (err == EPERM && w.file == "devices.allow" && w.line != "a") continue;
                if (err != 0)
                    return errno_error("cgroup " + q(d->path) + ": write " + q(w.line) + " to " + w.file, err);
            }
            return {};
        }
        case CgroupVersion::V2: {
            const Dir& d = dirs_.front();
            // A plain tree (unit tests) cannot hold a BPF program; the real cgroup2 mount is
            // tested in tests/sim/test_device_filter.cpp.
            if (d.plain) return {};
            return attach_device_filter(d.path, policy);
        }
        case CgroupVersion::None:
            return {};
    }
    return {};
}

Status Cgroup::add_process(pid_t pid) {
    if (version_ == CgroupVersion::None) return {};
    for (const auto& d : dirs_) {
        int err = write_small(d.path + "/cgroup.procs", std::to_string(pid), d.plain);
        if (err != 0)
            return errno_error("cgroup " + q(d.path) + ": add process " + std::to_string(pid) +
                                   " to cgroup.procs",
                               err);
    }
    return {};
}

// Writes the freezer file, then polls until the kernel reports STATE_REACHED. v1 may sit in
// FREEZING while a task is in vfork or an uninterruptible sleep; rewriting FROZEN now and then
// nudges it along (runc does the same).
Status Cgroup::set_frozen(bool frozen, milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    switch (version_) {
        case CgroupVersion::V1: {
            auto d = require("freezer", frozen ? "freeze" : "thaw");
            if (!d) return d.error();
            const Dir& dir = **d;
            const std::string want = frozen ? "FROZEN" : "THAWED";
            ISOLAB_TRY(set_control(dir.path, "freezer.state", want, dir.plain));
            auto last_write = Clock::now();
            for (;;) {
                auto state = read_control(dir.path, "freezer.state");
                if (!state) return state.error();
                if (trim(*state) == want) return {};
                if (Clock::now() >= deadline) break;
                if (Clock::now() - last_write > milliseconds(100)) {
                    ISOLAB_TRY(set_control(dir.path, "freezer.state", want, dir.plain));
                    last_write = Clock::now();
                }
                std::this_thread::sleep_for(milliseconds(2));
            }
            if (frozen) (void)set_control(dir.path, "freezer.state", "THAWED", dir.plain);
            return make_error("cgroup " + q(dir.path) + ": freezer.state did not reach " + want +
                              " within " + std::to_string(timeout.count()) + " ms" +
                              (frozen ? " (a process is stuck in the kernel, e.g. in uninterruptible "
                                        "I/O); the group was thawed again"
                                      : ""));
        }
        case CgroupVersion::V2: {
            ISOLAB_TRY(check_enabled(frozen ? "freeze" : "thaw"));
            const Dir& dir = dirs_.front();
            if (!dir.plain && !exists(dir.path + "/cgroup.freeze"))
                return make_error("cgroup " + q(dir.path) +
                                  ": cgroup.freeze is missing: the cgroup v2 freezer needs Linux 5.2 or later");
            ISOLAB_TRY(set_control(dir.path, "cgroup.freeze", frozen ? "1" : "0", dir.plain));
            for (;;) {
                auto v = read_keyed_control(dir.path, "cgroup.events", "frozen", false);
                if (!v) return v.error();
                if (*v == (frozen ? 1 : 0)) return {};
                if (Clock::now() >= deadline) break;
                std::this_thread::sleep_for(milliseconds(2));
            }
            if (frozen) (void)set_control(dir.path, "cgroup.freeze", "0", dir.plain);
            return make_error("cgroup " + q(dir.path) + ": cgroup.events did not report \"frozen " +
                              (frozen ? "1" : "0") + "\" within " + std::to_string(timeout.count()) +
                              " ms" + (frozen ? "; the group was thawed again" : ""));
        }
        case CgroupVersion::None:
            return check_enabled(frozen ? "freeze" : "thaw");
    }
    return {};
}

Status Cgroup::freeze(milliseconds timeout) { return set_frozen(true, timeout); }
Status Cgroup::thaw(milliseconds timeout) { return set_frozen(false, timeout); }

bool Cgroup::is_frozen() const {
    switch (version_) {
        case CgroupVersion::V1: {
            const Dir* d = dir_with("freezer");
            if (!d) return false;
            auto state = read_control(d->path, "freezer.state");
            return state && trim(*state) == "FROZEN";
        }
        case CgroupVersion::V2: {
            if (dirs_.empty()) return false;
            auto v = read_keyed_control(dirs_.front().path, "cgroup.events", "frozen", false);
            return v && *v == 1;
        }
        case CgroupVersion::None:
            return false;
    }
    return false;
}

Result<int64_t> Cgroup::memory_current() const {
    auto d = require("memory", "read memory usage");
    if (!d) return d.error();
    return read_int_control((*d)->path, version_ == CgroupVersion::V1 ? "memory.usage_in_bytes"
                                                                       : "memory.current");
}

Result<int64_t> Cgroup::memory_limit() const {
    auto d = require("memory", "read the memory limit");
    if (!d) return d.error();
    const std::string file = version_ == CgroupVersion::V1 ? "memory.limit_in_bytes" : "memory.max";
    auto text = read_control((*d)->path, file);
    if (!text) return text.error();
    if (trim(*text) == "max") return int64_t{0};
    int64_t v = 0;
    if (!parse_int(*text, v))
        return make_error("cgroup " + q((*d)->path) + ": " + file + " holds " + q(trim(*text)) +
                          ", not a number");
    // v1 reports "unlimited" as the largest page-aligned counter value (9223372036854771712).
    if (v >= (int64_t{1} << 62)) return int64_t{0};
    return v;
}

Result<int64_t> Cgroup::oom_kill_count() const {
    auto d = require("memory", "read the OOM kill count");
    if (!d) return d.error();
    // Kernels before 4.13 lack the v1 "oom_kill" line; they report 0 rather than a guess.
    if (version_ == CgroupVersion::V1)
        return read_keyed_control((*d)->path, "memory.oom_control", "oom_kill", true);
    return read_keyed_control((*d)->path, "memory.events", "oom_kill", true);
}

Result<int64_t> Cgroup::pids_current() const {
    auto d = require("pids", "count processes");
    if (!d) return d.error();
    return read_int_control((*d)->path, "pids.current");
}

std::vector<pid_t> Cgroup::pids() const {
    std::set<pid_t> all;
    for (const auto& d : dirs_) collect_pids(d.path, all);
    return {all.begin(), all.end()};
}

Status Cgroup::kill_all(int sig, milliseconds timeout) {
    ISOLAB_TRY(check_enabled("signal processes"));
    for (const auto& d : dirs_)
        if (d.plain)
            return make_error(q(d.path) + " is not on a cgroup file system: refusing to signal the "
                              "processes its cgroup.procs lists");
    auto deadline = Clock::now() + timeout;
    const std::string where = "cgroup " + q(dirs_.front().path);

    auto wait_empty = [&](Clock::time_point until) {
        while (!pids().empty()) {
            if (Clock::now() >= until) return false;
            std::this_thread::sleep_for(milliseconds(5));
        }
        return true;
    };

    if (version_ == CgroupVersion::V2 && sig == SIGKILL && exists(dirs_.front().path + "/cgroup.kill")) {
        // cgroup.kill kills every process of the subtree atomically, forks in flight included.
        if (set_control(dirs_.front().path, "cgroup.kill", "1", false) && wait_empty(deadline)) return {};
    }

    bool can_freeze = version_ == CgroupVersion::V1 ? dir_with("freezer") != nullptr
                                                    : exists(dirs_.front().path + "/cgroup.freeze");
    // A paused group stays paused for a catchable signal; SIGKILL needs it thawed to take effect.
    bool was_frozen = can_freeze && is_frozen();
    Status first_error;
    for (;;) {
        // Frozen, the group cannot fork between reading cgroup.procs and the last kill(2). If
        // freezing fails (a task stuck in the kernel), signal anyway.
        bool froze = can_freeze && !was_frozen &&
                     set_frozen(true, std::min(milliseconds(1000), timeout)).ok();
        auto list = pids();
        for (pid_t p : list) {
            if (::kill(p, sig) != 0 && errno != ESRCH && first_error.ok())
                first_error = errno_error(where + ": send signal " + std::to_string(sig) +
                                              " to process " + std::to_string(p),
                                          errno);
        }
        if (froze || (was_frozen && sig == SIGKILL)) {
            if (Status s = set_frozen(false, timeout); !s && first_error.ok()) first_error = s;
            was_frozen = false;
        }
        if (sig != SIGKILL) return first_error;
        if (list.empty() || wait_empty(std::min(deadline, Clock::now() + milliseconds(200)))) return {};
        if (Clock::now() >= deadline) {
            if (!first_error.ok()) return first_error;
            std::vector<std::string> ids;
            for (pid_t p : pids()) ids.push_back(std::to_string(p));
            return make_error(where + ": processes " + join(ids, " ") + " survived SIGKILL for " +
                              std::to_string(timeout.count()) + " ms");
        }
    }
}

Status Cgroup::destroy() {
    if (version_ == CgroupVersion::None) return {};
    bool plain = std::any_of(dirs_.begin(), dirs_.end(), [](const Dir& d) { return d.plain; });
    if (!plain && !pids().empty()) ISOLAB_TRY_CTX(kill_all(SIGKILL), "destroy cgroup");
    auto deadline = Clock::now() + milliseconds(2000);
    for (const auto& d : dirs_) ISOLAB_TRY(remove_group_dir(d.path, d.plain, deadline));
    return {};
}

}  // namespace isolab
