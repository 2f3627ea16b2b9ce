#include "sim/view/snapshot.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "sim/core/files.hpp"
#include "sim/runtime/cgroup.hpp"
#include "sim/vm/qemu.hpp"

namespace isolab::view {

namespace {

int64_t meminfo_kib(const std::string& text, const std::string& key) {
    size_t at = text.find(key + ":");
    if (at == std::string::npos) return 0;
    return std::atoll(text.c_str() + at + key.size() + 1);
}

// utime + stime of PID (fields 14 and 15 of /proc/PID/stat), in seconds.
double process_cpu_seconds(pid_t pid) {
    auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) return 0;
    size_t close = stat->rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream in(stat->substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && in >> field; ++i) {
        if (i == 14) utime = std::stoull(field);
        if (i == 15) stime = std::stoull(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// cpuacct.usage (v1, ns) or cpu.stat usage_usec (v2) under the container's cgroup directories.
double cgroup_cpu_seconds(const std::vector<std::string>& paths) {
    for (const auto& p : paths) {
        if (auto v = read_file(p + "/cpuacct.usage")) return static_cast<double>(std::atoll(v->c_str())) / 1e9;
        if (auto v = read_file(p + "/cpu.stat")) {
            size_t at = v->find("usage_usec ");
            if (at != std::string::npos) return static_cast<double>(std::atoll(v->c_str() + at + 11)) / 1e6;
        }
    }
    return -1;
}

}  // namespace

const ContainerView* WorldSnapshot::container(const std::string& ref) const {
    for (const auto& c : containers)
        if (c.rec.name == ref || (ref.size() >= 4 && c.rec.id.compare(0, ref.size(), ref) == 0)) return &c;
    return nullptr;
}

const VmView* WorldSnapshot::vm(const std::string& name) const {
    for (const auto& v : vms)
        if (v.rec.name == name) return &v;
    return nullptr;
}

HostInfo read_host_info(const std::string& backend) {
    HostInfo h;
    struct utsname u;
    if (::uname(&u) == 0) {
        h.kernel = u.release;
        h.hostname = u.nodename;
        h.arch = u.machine;
    }
    if (auto os = read_file("/etc/os-release")) {
        size_t at = os->find("PRETTY_NAME=");
        if (at != std::string::npos) {
            std::string v = os->substr(at + 12, os->find('\n', at) - at - 12);
            if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
            h.distro = v;
        }
    }
    h.cpus = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
    if (auto mi = read_file("/proc/meminfo")) {
        h.mem_total = meminfo_kib(*mi, "MemTotal") * 1024;
        h.mem_available = meminfo_kib(*mi, "MemAvailable") * 1024;
    }
    h.backend = backend;
    return h;
}

WorldSnapshot take_snapshot(Engine& engine, vm::VmManager& vms, const HostInfo& host) {
    WorldSnapshot w;
    w.state_root = engine.store().root();
    w.host = host;
    if (auto mi = read_file("/proc/meminfo")) w.host.mem_available = meminfo_kib(*mi, "MemAvailable") * 1024;
    w.images = engine.images().list();
    for (auto& rec : engine.list(true)) {
        ContainerView c;
        c.rec = rec;
        for (const auto& img : w.images)
            if (img.id == rec.image_id) {
                c.image_tags = img.repo_tags;
                if (img.config.contains("rootfs"))
                    c.layer_ids = img.config["rootfs"].value("diff_ids", std::vector<std::string>{});
            }
        c.mem_limit = rec.spec.memory_bytes;
        if (container_has_process(rec.state) && rec.pid > 0 && rec.backend != Backend::Simulated) {
            if (!rec.cgroup_paths.empty()) {
                if (auto cg = Cgroup::open_paths(rec.cgroup_paths)) {
                    if (auto m = cg->memory_current()) c.mem_current = *m;
                    if (auto n = cg->pids_current()) c.processes = static_cast<int>(*n);
                }
                c.cpu_seconds = cgroup_cpu_seconds(rec.cgroup_paths);
            }
            if (c.mem_current < 0) c.mem_current = static_cast<int64_t>(vm::process_rss_kib(rec.pid)) * 1024;
            if (c.cpu_seconds < 0) c.cpu_seconds = process_cpu_seconds(rec.pid);
            if (c.processes == 0) c.processes = 1;
        }
        w.containers.push_back(std::move(c));
    }
    for (auto& rec : vms.list()) {
        VmView v;
        v.rec = rec;
        if (rec.qemu_pid > 0 && (rec.state == vm::VmState::Running || rec.state == vm::VmState::Paused ||
                                 rec.state == vm::VmState::Starting)) {
            v.rss_bytes = static_cast<int64_t>(vm::process_rss_kib(rec.qemu_pid)) * 1024;
            v.cpu_seconds = process_cpu_seconds(rec.qemu_pid);
        }
        if (!rec.stages.empty()) v.last_stage = rec.stages.back().name;
        w.vms.push_back(std::move(v));
    }
    w.networks = engine.networks().list();
    // A small record per volume (no sizes: measuring walks every file, the Images tab's worker does it).
    w.volumes = engine.volumes().list();
    return w;
}

std::string fingerprint(const WorldSnapshot& w) {
    std::ostringstream f;
    f << w.host.kernel << '|' << w.images.size() << '|' << w.networks.size() << '\n';
    for (const auto& c : w.containers)
        f << c.rec.id << ' ' << to_string(c.rec.state) << ' ' << c.rec.pid << ' ' << c.rec.exit_code << ' '
          << c.rec.endpoints.size() << ' ' << c.rec.published.size() << ' ' << (c.mem_current >> 20) << ' '
          << static_cast<int64_t>(c.cpu_seconds) << ' ' << (c.rec.health ? health_status_name(c.rec.health->status) : "none")
          << '\n';
    for (const auto& v : w.vms)
        f << v.rec.name << ' ' << vm::to_string(v.rec.state) << ' ' << v.rec.stages.size() << ' ' << (v.rss_bytes >> 22) << ' '
          << static_cast<int64_t>(v.cpu_seconds / 5) << '\n';
    for (const auto& i : w.images) f << i.id << i.repo_tags.size() << '\n';
    for (const auto& v : w.volumes) f << "volume " << v.name << '\n';
    return f.str();
}

std::string human_bytes(int64_t bytes) {
    char buf[32];
    double b = static_cast<double>(bytes);
    if (bytes < 0) return "?";
    if (b >= 1024.0 * 1024 * 1024) std::snprintf(buf, sizeof buf, "%.1f GiB", b / (1024.0 * 1024 * 1024));
    else if (b >= 1024.0 * 1024) std::snprintf(buf, sizeof buf, "%.1f MiB", b / (1024.0 * 1024));
    else if (b >= 1024.0) std::snprintf(buf, sizeof buf, "%.0f KiB", b / 1024.0);
    else std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(bytes));
    return buf;
}

}  // namespace isolab::view
