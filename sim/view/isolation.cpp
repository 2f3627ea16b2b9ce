#include "sim/view/isolation.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "sim/core/mountinfo.hpp"
#include "sim/core/strings.hpp"
#include "sim/core/i18n.hpp"

namespace isolab::view {

using i18n::tr;
using i18n::trf;

const std::vector<std::string>& namespace_kinds() {
    static const std::vector<std::string> k = {"pid", "mnt", "uts", "ipc", "net", "user", "cgroup"};
    return k;
}

// ---- parsers ----

std::vector<pid_t> parse_nspid(const std::string& status_text) {
    std::vector<pid_t> out;
    std::istringstream in(status_text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("NSpid:", 0) != 0) continue;
        std::istringstream fields(line.substr(6));
        long v;
        while (fields >> v) out.push_back(static_cast<pid_t>(v));
        break;
    }
    return out;
}

std::vector<IdMapLine> parse_id_map(const std::string& text) {
    std::vector<IdMapLine> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream f(line);
        IdMapLine m;
        if (f >> m.inside >> m.outside >> m.count) out.push_back(m);
    }
    return out;
}

bool is_identity_map(const std::vector<IdMapLine>& map) {
    return map.size() == 1 && map[0].inside == 0 && map[0].outside == 0 && map[0].count == 4294967295ULL;
}

std::string describe_id_map(const std::vector<IdMapLine>& map) {
    if (map.empty()) return "?";
    std::string out;
    for (const auto& m : map) {
        if (!out.empty()) out += ", ";
        out += std::to_string(m.inside) + "->" + std::to_string(m.outside) + " ×" + std::to_string(m.count);
    }
    return out;
}

MountSummary summarize_mounts(const std::string& mountinfo) {
    // The last "/" line is the one on top.
    MountSummary s;
    for (const auto& e : isolab::parse_mountinfo(mountinfo)) {
        ++s.count;
        MountPointSeen p;
        p.mountpoint = e.mountpoint;
        p.fstype = e.fstype;
        p.readonly = e.options == "ro" || e.options.rfind("ro,", 0) == 0;
        s.points.push_back(std::move(p));
        if (e.mountpoint != "/") continue;
        s.root_source = e.source == e.fstype ? e.fstype : e.source + " (" + e.fstype + ")";
    }
    return s;
}

std::string cgroup_summary(const std::string& text) {
    std::string first_other;
    for (const auto& g : parse_proc_cgroup(text)) {
        if (g.v2()) {
            if (g.path != "/") return g.path;
            continue;
        }
        if (g.path == "/" || !first_other.empty()) continue;
        std::string controllers;
        for (const auto& c : g.controllers) controllers += (controllers.empty() ? "" : ",") + c;
        first_other = controllers + ":" + g.path;
    }
    return first_other.empty() ? "/" : first_other;
}

std::vector<MountLine> mount_lines(const std::vector<MountSpec>& mounts, const MountSummary* seen) {
    std::vector<MountLine> out;
    for (const auto& m : mounts) {
        MountLine l;
        l.type = m.type;
        l.anonymous = m.anonymous;
        l.target = m.target;
        l.readonly = m.readonly;
        l.source = m.type == MountType::Tmpfs ? "" : m.anonymous ? m.source.substr(0, 12) : m.source;
        if (seen) {
            // The last entry on a path is the one on top: what the container's processes see there.
            const MountPointSeen* top = nullptr;
            for (const auto& p : seen->points)
                if (p.mountpoint == m.target) top = &p;
            l.seen = top ? MountLine::Seen::Mounted : MountLine::Seen::NotMounted;
            if (top) l.readonly = top->readonly;
        }
        std::string from = m.type == MountType::Tmpfs ? tr("gui.mounts.from_tmpfs")
                           : m.type == MountType::Bind ? trf("gui.mounts.from_bind", {l.source})
                           : m.anonymous               ? trf("gui.mounts.from_anonymous", {l.source})
                                                       : trf("gui.mounts.from_volume", {l.source});
        l.text = l.target + " ← " + from + " · " + (l.readonly ? "ro" : "rw");
        if (l.seen == MountLine::Seen::NotMounted) l.text += " " + tr("gui.mounts.not_mounted");
        out.push_back(std::move(l));
    }
    return out;
}

Sharing decide_sharing(const std::string& host_ns, const std::string& container_ns) {
    if (host_ns.empty() || container_ns.empty()) return Sharing::Unknown;
    return host_ns == container_ns ? Sharing::Shared : Sharing::Isolated;
}

// ---- reading /proc ----

namespace {

std::string slurp(const std::string& path) {
    std::ifstream f(path);
    if (!f) return "";
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::string link_of(const std::string& path) {
    char buf[256];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
    if (n <= 0) return "";
    return std::string(buf, static_cast<size_t>(n));
}

std::string proc_dir(pid_t pid) { return pid == 0 ? "/proc/self" : "/proc/" + std::to_string(pid); }

// The hostname and kernel release as uname(2) answers them in PID's UTS namespace: a thread of
// ours joins that namespace (setns with CLONE_NEWUTS acts on the calling thread only) and ends
// right after, so no other code ever runs there. Needs CAP_SYS_ADMIN over the namespace's owner.
bool uname_in(pid_t pid, std::string* hostname, std::string* release) {
    if (pid == 0 || link_of(proc_dir(pid) + "/ns/uts") == link_of("/proc/self/ns/uts")) {
        struct utsname u {};
        if (::uname(&u) != 0) return false;
        *hostname = u.nodename;
        *release = u.release;
        return true;
    }
    std::string path = "/proc/" + std::to_string(pid) + "/ns/uts";
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = false;
    std::thread t([&] {
        if (::setns(fd, CLONE_NEWUTS) != 0) return;
        struct utsname u {};
        if (::uname(&u) != 0) return;
        *hostname = u.nodename;
        *release = u.release;
        ok = true;
    });
    t.join();
    ::close(fd);
    return ok;
}


// Every process on the host; those whose PID namespace is PIDNS go to MATCHED with their PID
// inside it (the last NSpid field).
int scan_processes(const std::string& pidns, std::vector<ProcessSeen>* matched) {
    int total = 0;
    DIR* d = ::opendir("/proc");
    if (!d) return 0;
    while (struct dirent* e = ::readdir(d)) {
        if (!all_digits(e->d_name)) continue;
        ++total;
        if (!matched || pidns.empty()) continue;
        std::string dir = std::string("/proc/") + e->d_name;
        if (link_of(dir + "/ns/pid") != pidns) continue;
        ProcessSeen p;
        p.host_pid = static_cast<pid_t>(std::atoi(e->d_name));
        auto ns = parse_nspid(slurp(dir + "/status"));
        p.inner_pid = ns.empty() ? p.host_pid : ns.back();
        p.comm = trim(slurp(dir + "/comm"));
        matched->push_back(p);
    }
    ::closedir(d);
    if (matched)
        std::sort(matched->begin(), matched->end(),
                  [](const ProcessSeen& a, const ProcessSeen& b) { return a.inner_pid < b.inner_pid; });
    return total;
}

int count_shm(const std::string& text) {
    if (text.empty()) return -1;
    int lines = static_cast<int>(std::count(text.begin(), text.end(), '\n'));
    return std::max(lines - 1, 0);  // the first line is the header
}

}  // namespace

SideFacts read_side(pid_t pid, bool count_processes_in_pidns) {
    SideFacts s;
    const std::string dir = proc_dir(pid);
    for (const auto& k : namespace_kinds()) s.ns.push_back(link_of(dir + "/ns/" + k));
    if (!uname_in(pid, &s.hostname, &s.kernel) && pid != 0) {
        // No right to enter the UTS namespace: what the container's files say.
        s.hostname = trim(slurp(dir + "/root/etc/hostname"));
        s.kernel = trim(slurp(dir + "/root/proc/sys/kernel/osrelease"));
    }
    s.mounts = summarize_mounts(slurp(dir + "/mountinfo"));
    s.uid_map = parse_id_map(slurp(dir + "/uid_map"));
    s.cgroup = cgroup_summary(slurp(dir + "/cgroup"));
    if (pid == 0) s.shm_segments = count_shm(slurp("/proc/sysvipc/shm"));
    if (count_processes_in_pidns) {
        scan_processes(s.ns.empty() ? "" : s.ns[0], &s.processes);
        s.process_count = static_cast<int>(s.processes.size());
    } else {
        s.process_count = scan_processes("", nullptr);
    }
    return s;
}

IsolationFacts read_isolation(pid_t container_pid, pid_t host_pid, bool with_net) {
    IsolationFacts f;
    f.pid = container_pid;
    auto t0 = std::chrono::steady_clock::now();
    f.host = read_side(host_pid, false);
    if (container_pid <= 0) {
        f.error = i18n::tr("gui.stack.no_process");
    } else if (::access(("/proc/" + std::to_string(container_pid)).c_str(), F_OK) != 0) {
        f.error = "/proc/" + std::to_string(container_pid) + ": " + std::strerror(errno);
    } else {
        f.container = read_side(container_pid, true);
        if (f.container.ns.empty() || f.container.ns[0].empty())
            f.error = "readlink /proc/" + std::to_string(container_pid) + "/ns/pid: " + std::strerror(EACCES);
    }
    if (with_net) {
        auto h = net::inspect_netns(0);
        if (h.ok()) f.host.net = std::move(h.value());
        else f.host.net_error = h.error().message;
        if (container_pid > 0 && f.error.empty()) {
            auto c = net::inspect_netns(container_pid);
            if (c.ok()) f.container.net = std::move(c.value());
            else f.container.net_error = c.error().message;
        }
    }
    f.read_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return f;
}

// ---- rows ----

namespace {

std::string interfaces_text(const SideFacts& s, size_t max_items) {
    if (!s.net) return s.net_error.empty() ? "..." : s.net_error;
    std::string out;
    size_t shown = 0;
    for (const auto& i : s.net->interfaces) {
        if (shown == max_items) {
            out += " ...+" + std::to_string(s.net->interfaces.size() - shown);
            break;
        }
        if (!out.empty()) out += " · ";
        out += i.name;
        for (const auto& a : i.addresses)
            if (a.family == "inet") {
                out += " " + a.cidr;
                break;
            }
        ++shown;
    }
    return out;
}

std::string processes_text(const SideFacts& c) {
    std::string list;
    size_t n = 0;
    for (const auto& p : c.processes) {
        if (n == 6) {
            list += ", ...";
            break;
        }
        if (!list.empty()) list += ", ";
        list += "PID " + std::to_string(p.inner_pid) + " " + p.comm;
        ++n;
    }
    if (c.process_count == 1) return trf("gui.isolation.pid.container_one", {list});
    return trf("gui.isolation.pid.container", {std::to_string(c.process_count), list});
}

std::string users_text(const SideFacts& s) {
    if (is_identity_map(s.uid_map)) return tr("gui.isolation.user.identity");
    return trf("gui.isolation.user.mapped", {describe_id_map(s.uid_map)});
}

std::string ns_of(const SideFacts& s, size_t i) { return i < s.ns.size() ? s.ns[i] : ""; }

}  // namespace

std::vector<IsolationRow> build_isolation_rows(const IsolationFacts& f, const vm::VmRecord* vm,
                                               const std::vector<MountSpec>* mounts) {
    std::vector<IsolationRow> rows;
    const auto& kinds = namespace_kinds();
    const SideFacts& h = f.host;
    const SideFacts& c = f.container;
    const bool have_c = f.error.empty();
    const std::string vm_off = tr("gui.isolation.vm_not_running");
    std::string guest_kernel = vm && !vm->kernel_release.empty() ? vm->kernel_release : tr("gui.isolation.vm.kernel_unknown");

    for (size_t i = 0; i < kinds.size(); ++i) {
        IsolationRow r;
        r.kind = kinds[i];
        r.host_ns = ns_of(h, i);
        r.container_ns = have_c ? ns_of(c, i) : "";
        r.sharing = decide_sharing(r.host_ns, r.container_ns);
        const bool shared = r.sharing == Sharing::Shared;
        const std::string& k = r.kind;
        if (k == "pid") {
            r.host_sees = trf("gui.isolation.pid.host", {std::to_string(h.process_count)});
            r.container_sees = have_c ? processes_text(c) : "";
            r.vm_has = vm ? trf("gui.isolation.pid.vm", {std::to_string(vm->qemu_pid)}) : vm_off;
        } else if (k == "mnt") {
            r.host_sees = trf("gui.isolation.mnt.sees", {std::to_string(h.mounts.count), h.mounts.root_source});
            r.container_sees =
                have_c ? trf("gui.isolation.mnt.sees", {std::to_string(c.mounts.count), c.mounts.root_source}) : "";
            r.vm_has = vm ? tr("gui.isolation.mnt.vm") : vm_off;
            if (mounts) r.mounts = mount_lines(*mounts, have_c ? &c.mounts : nullptr);
        } else if (k == "uts") {
            r.host_sees = h.hostname;
            r.container_sees = have_c ? c.hostname : "";
            r.vm_has = vm ? tr("gui.isolation.uts.vm") : vm_off;
        } else if (k == "ipc") {
            r.host_sees = h.shm_segments >= 0 ? trf("gui.isolation.ipc.host", {std::to_string(h.shm_segments)}) : "?";
            r.container_sees = !have_c ? "" : shared ? tr("gui.isolation.ipc.shared") : tr("gui.isolation.ipc.own");
            r.vm_has = vm ? tr("gui.isolation.ipc.vm") : vm_off;
        } else if (k == "net") {
            r.host_sees = interfaces_text(h, 5);
            r.container_sees = have_c ? interfaces_text(c, 5) : "";
            r.vm_has = !vm ? vm_off
                       : vm->host_port > 0 ? trf("gui.isolation.net.vm_port", {std::to_string(vm->host_port)})
                                           : tr("gui.isolation.net.vm");
        } else if (k == "user") {
            r.host_sees = users_text(h);
            r.container_sees = have_c ? users_text(c) : "";
            r.vm_has = vm ? tr("gui.isolation.user.vm") : vm_off;
        } else if (k == "cgroup") {
            r.host_sees = h.cgroup;
            r.container_sees = have_c ? c.cgroup : "";
            r.vm_has = vm ? tr("gui.isolation.cgroup.vm") : vm_off;
        }
        // The user and cgroup rows teach differently when the namespace is shared.
        if ((k == "user" || k == "cgroup") && shared) r.lesson = tr("gui.isolation." + k + ".lesson_shared");
        else if (k == "mnt" && !r.mounts.empty()) r.lesson = tr("gui.isolation.mnt.lesson_mounts");
        else r.lesson = tr("gui.isolation." + k + ".lesson");
        rows.push_back(r);
    }

    // The punch line: no namespace for the kernel. uname -r asked in the container's own UTS
    // namespace answers the host's kernel release.
    IsolationRow kr;
    kr.kind = "kernel";
    kr.host_sees = h.kernel;
    kr.container_sees = have_c ? c.kernel : "";
    kr.sharing = decide_sharing(kr.host_sees, kr.container_sees);
    kr.vm_has = vm ? trf("gui.isolation.kernel.vm", {guest_kernel}) : vm_off;
    kr.lesson = tr("gui.isolation.kernel.lesson");
    kr.punch_line = true;
    rows.push_back(kr);
    return rows;
}

}  // namespace isolab::view
