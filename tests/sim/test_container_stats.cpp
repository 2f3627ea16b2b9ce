// `stats` arithmetic and the parsers of the files it reads, on recorded file contents.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <unistd.h>

#include "sim/runtime/container_stats.hpp"

using namespace isolab;

TEST_CASE("container stats: /proc/PID/net/dev sums every interface but lo") {
    const std::string text =
        "Inter-|   Receive                                                |  Transmit\n"
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
        "    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0\n"
        "  eth0:    1886      19    0    0    0     0          0         0      586       7    0    0    0     0       0          0\n"
        "  eth1:     114       1    0    0    0     0          0         0       14       1    0    0    0     0       0          0\n";
    uint64_t rx = 0, tx = 0;
    parse_net_dev(text, rx, tx);
    CHECK(rx == 2000);
    CHECK(tx == 600);
}

TEST_CASE("container stats: block I/O from v1 blkio and v2 io.stat") {
    uint64_t r = 0, w = 0;
    parse_blkio_v1("8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:16 Read 1000\nTotal 13288\n", r, w);
    CHECK(r == 5096);
    CHECK(w == 8192);
    parse_io_stat_v2("8:0 rbytes=4096 wbytes=12 rios=1 wios=1 dbytes=0 dios=0\n8:16 rbytes=4 wbytes=0\n", r, w);
    CHECK(r == 4100);
    CHECK(w == 12);
}

TEST_CASE("container stats: memory.stat keys, /proc/stat total, Docker's CPU and memory percentages") {
    CHECK(stat_value("cache 10\ntotal_inactive_file 4096\n", "total_inactive_file") == 4096);
    CHECK(stat_value("usage_usec 1500\nuser_usec 1000\n", "usage_usec") == 1500);
    CHECK(stat_value("a 1\n", "missing") == 0);
    // user nice system idle iowait irq softirq steal guest guest_nice, in ticks of 1/100 s.
    CHECK(proc_stat_total_ns("cpu  100 0 50 800 10 0 0 40 0 0\ncpu0 1 2 3\n", 100) == 1000ull * 10'000'000ull);
    StatsSample a, b;
    a.cpu_ns = 1'000'000'000;
    b.cpu_ns = 1'500'000'000;  // half a CPU-second used
    a.system_ns = 10'000'000'000;
    b.system_ns = 12'000'000'000;  // 2 s of host time (two CPUs for one second)
    b.online_cpus = 2;
    CHECK(cpu_percent(a, b) == doctest::Approx(50.0));
    CHECK(cpu_percent(b, a) == 0.0);
    b.mem_usage = 8 * 1024 * 1024;
    b.mem_limit = 32 * 1024 * 1024;
    CHECK(mem_percent(b) == doctest::Approx(25.0));
    b.mem_limit = 0;
    CHECK(mem_percent(b) == 0.0);
}

TEST_CASE("container stats: a fake v1 and v2 group read like the kernel's") {
    char tmpl[] = "/tmp/isl-stats.XXXXXX";
    std::string dir = ::mkdtemp(tmpl);
    auto put = [&](const std::string& name, const std::string& text) {
        std::FILE* f = std::fopen((dir + "/" + name).c_str(), "w");
        REQUIRE(f);
        std::fputs(text.c_str(), f);
        std::fclose(f);
    };
    put("memory.current", "10485760\n");
    put("memory.max", "max\n");
    put("memory.stat", "anon 1\ninactive_file 2097152\n");
    put("cpu.stat", "usage_usec 2500\n");
    put("pids.current", "3\n");
    put("io.stat", "8:0 rbytes=100 wbytes=200\n");
    StatsSample v2 = sample_container({dir}, 0, 1 << 30);
    CHECK(v2.mem_usage == 10485760 - 2097152);
    CHECK(v2.mem_limit == (1 << 30));  // unlimited: the host's memory
    CHECK(v2.cpu_ns == 2'500'000);
    CHECK(v2.pids == 3);
    CHECK(v2.blk_read == 100);
    CHECK(v2.blk_write == 200);
    put("memory.max", "33554432\n");
    CHECK(sample_container({dir}, 0, 1 << 30).mem_limit == 33554432);
    std::remove((dir + "/memory.current").c_str());
    put("memory.usage_in_bytes", "5000000\n");
    put("memory.limit_in_bytes", "9223372036854771712\n");
    put("memory.stat", "total_inactive_file 1000000\n");
    put("cpuacct.usage", "123456789\n");
    StatsSample v1 = sample_container({dir}, 0, 1 << 30);
    CHECK(v1.mem_usage == 4000000);
    CHECK(v1.mem_limit == (1 << 30));
    CHECK(v1.cpu_ns == 123456789);
    std::filesystem::remove_all(dir);
}
