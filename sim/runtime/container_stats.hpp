// `docker stats` numbers for one container, read from its cgroup files (v1 or v2) and the
// /proc/PID/net/dev of its network namespace, with Docker's arithmetic (cli/command/container/
// stats_helpers.go): memory usage without the inactive page cache, CPU % from two samples as the
// container's share of the host's CPU time times the number of CPUs.
//
// The parsers take file text, so unit tests feed them recorded files; sample_container reads the
// real ones and never fails: a file it cannot read leaves its number at zero.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace isolab {

struct StatsSample {
    uint64_t cpu_ns = 0;        // the group's CPU time so far (v1 cpuacct.usage, v2 cpu.stat usage_usec)
    uint64_t system_ns = 0;     // the host's CPU time so far, every CPU (/proc/stat "cpu" line)
    unsigned online_cpus = 1;
    int64_t mem_usage = 0;      // bytes, the inactive file cache left out (Docker's "MEM USAGE")
    int64_t mem_limit = 0;      // bytes: the group's limit, at most the host's memory
    uint64_t net_rx = 0, net_tx = 0;        // bytes, every interface but lo
    uint64_t blk_read = 0, blk_write = 0;   // bytes
    int64_t pids = 0;
};

// Docker's calculateCPUPercentUnix: 0 when either delta is not positive.
double cpu_percent(const StatsSample& before, const StatsSample& after);
// MEM %: usage / limit * 100, 0 without a limit.
double mem_percent(const StatsSample& s);

// /proc/PID/net/dev: received and transmitted bytes summed over every interface except lo.
void parse_net_dev(const std::string& text, uint64_t& rx, uint64_t& tx);
// v1 blkio.throttle.io_service_bytes_recursive ("8:0 Read 4096") or v2 io.stat
// ("8:0 rbytes=4096 wbytes=0 ..."): bytes read and written, summed over devices.
void parse_blkio_v1(const std::string& text, uint64_t& read, uint64_t& write);
void parse_io_stat_v2(const std::string& text, uint64_t& read, uint64_t& write);
// The value of KEY in a "key value" file (memory.stat, cpu.stat); 0 when absent.
uint64_t stat_value(const std::string& text, const std::string& key);
// The host's CPU time in ns from /proc/stat's first line (user .. steal, in clock ticks).
uint64_t proc_stat_total_ns(const std::string& text, long ticks_per_second);

// Reads the group's files in DIRS (its directory in each v1 hierarchy, or its one v2 directory)
// and PID's network statistics (PID <= 0: none). HOST_MEMORY caps the limit (an unlimited group
// shows the host's memory, as Docker's daemon reports it).
StatsSample sample_container(const std::vector<std::string>& dirs, pid_t pid, int64_t host_memory);

// The host's memory in bytes (/proc/meminfo MemTotal).
int64_t host_memory_bytes();

}  // namespace isolab
