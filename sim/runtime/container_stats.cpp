#include "sim/runtime/container_stats.hpp"

#include <unistd.h>

#include <sstream>

#include "sim/core/files.hpp"

namespace isolab {

double cpu_percent(const StatsSample& before, const StatsSample& after) {
    if (after.cpu_ns <= before.cpu_ns || after.system_ns <= before.system_ns) return 0.0;
    const double cpu_delta = static_cast<double>(after.cpu_ns - before.cpu_ns);
    const double system_delta = static_cast<double>(after.system_ns - before.system_ns);
    return cpu_delta / system_delta * static_cast<double>(after.online_cpus) * 100.0;
}

double mem_percent(const StatsSample& s) {
    if (s.mem_limit <= 0) return 0.0;
    return static_cast<double>(s.mem_usage) / static_cast<double>(s.mem_limit) * 100.0;
}

void parse_net_dev(const std::string& text, uint64_t& rx, uint64_t& tx) {
    rx = tx = 0;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        size_t colon = line.find(':');
        if (colon == std::string::npos) continue;  // the two header lines
        std::string name = line.substr(0, colon);
        name.erase(0, name.find_first_not_of(' '));
        if (name == "lo") continue;
        std::istringstream fields(line.substr(colon + 1));
        uint64_t v[9] = {};
        for (auto& x : v) fields >> x;
        rx += v[0];  // receive bytes
        tx += v[8];  // transmit bytes
    }
}

void parse_blkio_v1(const std::string& text, uint64_t& read, uint64_t& write) {
    read = write = 0;
    std::istringstream in(text);
    std::string dev, op;
    uint64_t n = 0;
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        if (!(fields >> dev >> op >> n)) continue;  // "Total N"
        if (op == "Read") read += n;
        else if (op == "Write") write += n;
    }
}

void parse_io_stat_v2(const std::string& text, uint64_t& read, uint64_t& write) {
    read = write = 0;
    std::istringstream in(text);
    std::string word;
    while (in >> word) {
        if (word.rfind("rbytes=", 0) == 0) read += std::stoull(word.substr(7));
        else if (word.rfind("wbytes=", 0) == 0) write += std::stoull(word.substr(7));
    }
}

uint64_t stat_value(const std::string& text, const std::string& key) {
    std::istringstream in(text);
    std::string k;
    uint64_t v = 0;
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        if (fields >> k >> v && k == key) return v;
    }
    return 0;
}

uint64_t proc_stat_total_ns(const std::string& text, long ticks_per_second) {
    std::istringstream in(text);
    std::string label;
    in >> label;
    if (label != "cpu" || ticks_per_second <= 0) return 0;
    uint64_t total = 0, v = 0;
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    for (int i = 0; i < 8 && in >> v; ++i) total += v;
    return total * (1'000'000'000ULL / static_cast<uint64_t>(ticks_per_second));
}

int64_t host_memory_bytes() {
    auto text = read_file("/proc/meminfo");
    if (!text) return 0;
    return static_cast<int64_t>(stat_value(*text, "MemTotal:")) * 1024;
}

namespace {
// The first of DIRS that holds FILE, read whole; "" when none does.
std::string read_first(const std::vector<std::string>& dirs, const std::string& file, bool* found = nullptr) {
    for (const auto& d : dirs)
        if (auto text = read_file(d + "/" + file)) {
            if (found) *found = true;
            return *text;
        }
    if (found) *found = false;
    return "";
}

int64_t to_int(const std::string& text) {
    try {
        return std::stoll(text);
    } catch (...) {
        return 0;
    }
}
}  // namespace

StatsSample sample_container(const std::vector<std::string>& dirs, pid_t pid, int64_t host_memory) {
    StatsSample s;
    long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
    s.online_cpus = cpus > 0 ? static_cast<unsigned>(cpus) : 1;
    if (auto stat = read_file("/proc/stat")) s.system_ns = proc_stat_total_ns(*stat, ::sysconf(_SC_CLK_TCK));
    bool v1 = false;
    std::string usage = read_first(dirs, "memory.usage_in_bytes", &v1);
    if (v1) {
        // cgroup v1
        s.cpu_ns = static_cast<uint64_t>(to_int(read_first(dirs, "cpuacct.usage")));
        int64_t used = to_int(usage);
        uint64_t inactive = stat_value(read_first(dirs, "memory.stat"), "total_inactive_file");
        s.mem_usage = inactive < static_cast<uint64_t>(used) ? used - static_cast<int64_t>(inactive) : used;
        s.mem_limit = to_int(read_first(dirs, "memory.limit_in_bytes"));
        parse_blkio_v1(read_first(dirs, "blkio.throttle.io_service_bytes_recursive"), s.blk_read, s.blk_write);
    } else {
        s.cpu_ns = stat_value(read_first(dirs, "cpu.stat"), "usage_usec") * 1000;
        int64_t used = to_int(read_first(dirs, "memory.current"));
        uint64_t inactive = stat_value(read_first(dirs, "memory.stat"), "inactive_file");
        s.mem_usage = inactive < static_cast<uint64_t>(used) ? used - static_cast<int64_t>(inactive) : used;
        std::string max = read_first(dirs, "memory.max");
        s.mem_limit = max.rfind("max", 0) == 0 ? 0 : to_int(max);
        parse_io_stat_v2(read_first(dirs, "io.stat"), s.blk_read, s.blk_write);
    }
    if (s.mem_limit <= 0 || (host_memory > 0 && s.mem_limit > host_memory)) s.mem_limit = host_memory;
    s.pids = to_int(read_first(dirs, "pids.current"));
    if (pid > 0)
        if (auto net = read_file("/proc/" + std::to_string(pid) + "/net/dev")) parse_net_dev(*net, s.net_rx, s.net_tx);
    return s;
}

}  // namespace isolab
