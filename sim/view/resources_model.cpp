#include "sim/view/resources_model.hpp"

#include <algorithm>
#include <set>

#include "sim/state/lifecycle.hpp"
#include "sim/vm/vm_lifecycle.hpp"

namespace isolab::view {

SampleRing::SampleRing(size_t capacity) : data_(std::max<size_t>(capacity, 1), 0.0) {}

void SampleRing::push(double v) {
    data_[head_] = v;
    head_ = (head_ + 1) % data_.size();
    if (size_ < data_.size()) ++size_;
}

double SampleRing::at(size_t i) const {
    if (i >= size_) return 0;
    size_t oldest = (head_ + data_.size() - size_) % data_.size();
    return data_[(oldest + i) % data_.size()];
}

double SampleRing::last() const { return size_ == 0 ? 0 : at(size_ - 1); }

double SampleRing::max() const {
    double m = 0;
    for (size_t i = 0; i < size_; ++i) m = std::max(m, at(i));
    return m;
}

std::vector<double> SampleRing::values() const {
    std::vector<double> v;
    v.reserve(size_);
    for (size_t i = 0; i < size_; ++i) v.push_back(at(i));
    return v;
}

double cpu_percent(const CpuSample& before, const CpuSample& after) {
    double wall = after.wall_ms - before.wall_ms;
    double cpu = after.cpu_seconds - before.cpu_seconds;
    if (wall <= 0 || cpu <= 0) return 0;
    return cpu * 1000.0 / wall * 100.0;
}

namespace {

bool vm_live(vm::VmState s) {
    switch (s) {
    case vm::VmState::Starting:
    case vm::VmState::Running:
    case vm::VmState::Paused:
    case vm::VmState::Stopping:
        return true;
    case vm::VmState::PoweredOff:
    case vm::VmState::Aborted:
        return false;
    }
    return false;
}

}  // namespace

ResourceTracker::ResourceTracker(size_t history) : history_(std::max<size_t>(history, 2)) {}

void ResourceTracker::sample(const WorldSnapshot& w, double wall_ms) {
    ++samples_;
    std::vector<ResourceRow> rows;
    std::set<std::string> seen;
    auto follow = [&](ResourceRow& r) {
        seen.insert(r.key);
        Track& t = tracks_.try_emplace(r.key, history_).first->second;
        CpuSample now{r.cpu_seconds, wall_ms};
        if (!r.live) {
            t.has_last = false;  // a restart starts a new process tree: no delta across it
        } else {
            if (t.has_last && wall_ms > t.last.wall_ms) {
                r.cpu_pct = cpu_percent(t.last, now);
                t.cpu.push(r.cpu_pct);
            }
            t.mem.push(static_cast<double>(std::max<int64_t>(r.mem_used, 0)));
            // Keep the older sample when this one came too soon to say anything.
            if (!t.has_last || wall_ms > t.last.wall_ms) t.last = now;
            t.has_last = true;
        }
        if (r.cpu_pct < 0 && r.live && !t.cpu.empty() && t.has_last) r.cpu_pct = t.cpu.last();
        r.mem_history = t.mem.values();
        r.cpu_history = t.cpu.values();
        rows.push_back(std::move(r));
    };
    for (const auto& v : w.vms) {
        ResourceRow r;
        r.key = "vm/" + v.rec.name;
        r.name = v.rec.name;
        r.vm = true;
        r.state = std::string(vm::to_string(v.rec.state));
        r.live = vm_live(v.rec.state);
        r.mem_used = r.live ? v.rss_bytes : -1;
        r.mem_reserved = static_cast<int64_t>(v.rec.memory_mib) * 1024 * 1024;
        r.cpu_seconds = v.cpu_seconds;
        follow(r);
    }
    for (const auto& c : w.containers) {
        ResourceRow r;
        r.key = "c/" + c.rec.id;
        r.name = c.rec.name;
        r.state = std::string(to_string(c.rec.state));
        r.live = container_has_process(c.rec.state);
        r.mem_used = r.live ? c.mem_current : -1;
        r.mem_limit = c.mem_limit;
        r.cpu_seconds = c.cpu_seconds;
        r.processes = r.live ? c.processes : 0;
        follow(r);
    }
    for (auto it = tracks_.begin(); it != tracks_.end();)
        it = seen.count(it->first) ? std::next(it) : tracks_.erase(it);
    rows_ = std::move(rows);
}

ResourceTotals resource_totals(const std::vector<ResourceRow>& rows) {
    ResourceTotals t;
    for (const auto& r : rows) {
        if (r.vm) {
            ++t.vms;
            if (!r.live) continue;
            ++t.vms_live;
            t.vms_rss += std::max<int64_t>(r.mem_used, 0);
            t.vms_reserved += r.mem_reserved;
            t.vms_cpu_pct += std::max(r.cpu_pct, 0.0);
        } else {
            ++t.containers;
            if (!r.live) continue;
            ++t.containers_live;
            if (r.mem_used >= 0) {
                t.containers_mem += r.mem_used;
                ++t.containers_mem_known;
            }
            t.containers_cpu_pct += std::max(r.cpu_pct, 0.0);
            t.processes += r.processes;
        }
    }
    if (t.containers_mem_known > 0) t.avg_container_mem = t.containers_mem / t.containers_mem_known;
    if (t.vms_live > 0) t.avg_vm_reserved = t.vms_reserved / t.vms_live;
    return t;
}

double lightweight_ratio(int64_t vm_bytes, int64_t container_bytes) {
    if (vm_bytes <= 0 || container_bytes <= 0) return 0;
    return static_cast<double>(vm_bytes) / static_cast<double>(container_bytes);
}

int64_t default_vm_reservation() { return static_cast<int64_t>(vm::VmRecord{}.memory_mib) * 1024 * 1024; }

int clamp_density(int n) { return std::clamp(n, 1, kDensityMax); }

std::string density_name(int k) { return "density-" + std::to_string(k); }

std::string density_run_command(int k) { return "run -d --name " + density_name(k) + " busybox sleep 3600"; }

std::string density_remove_command(const std::vector<std::string>& names) {
    if (names.empty()) return "";
    std::string line = "rm -f";
    for (const auto& n : names) line += " " + n;
    return line;
}

namespace {

// K when NAME is "density-K" with K ≥ 1, else 0.
int density_index(const std::string& name) {
    const std::string prefix = "density-";
    if (name.rfind(prefix, 0) != 0 || name.size() == prefix.size() || name.size() > prefix.size() + 6) return 0;
    int k = 0;
    for (size_t i = prefix.size(); i < name.size(); ++i) {
        if (name[i] < '0' || name[i] > '9') return 0;
        k = k * 10 + (name[i] - '0');
    }
    return name[prefix.size()] == '0' ? 0 : k;
}

}  // namespace

DensityStatus density_status(const WorldSnapshot& w, int wanted) {
    DensityStatus s;
    s.wanted = wanted;
    std::vector<std::pair<int, std::string>> present;
    for (const auto& c : w.containers) {
        int k = density_index(c.rec.name);
        if (k == 0) continue;
        present.emplace_back(k, c.rec.name);
        if (k > wanted) continue;
        ++s.exist;
        if (c.rec.state != ContainerState::Running) continue;
        ++s.running;
        if (c.mem_current >= 0) {
            s.total_mem += c.mem_current;
            ++s.mem_known;
        }
    }
    std::sort(present.begin(), present.end());
    for (auto& [k, name] : present) s.present.push_back(name);
    if (s.mem_known > 0) s.avg_mem = s.total_mem / s.mem_known;
    s.all_running = wanted > 0 && s.running == wanted;
    return s;
}

}  // namespace isolab::view
