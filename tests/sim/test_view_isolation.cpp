// The Isolation tab's table: the /proc parsers, the shared/isolated decision, and a real read of
// this test process against itself (every namespace shared, the same kernel).
#include <doctest/doctest.h>

#include <unistd.h>

#include "sim/view/isolation.hpp"

using namespace isolab;
using namespace isolab::view;

TEST_CASE("view: NSpid parsing gives the PID in each nested namespace") {
    std::string status = "Name:\thttpd\nUmask:\t0022\nState:\tS (sleeping)\nNSpid:\t4242\t1\nNSpgid:\t4242\t1\n";
    auto v = parse_nspid(status);
    REQUIRE(v.size() == 2);
    CHECK(v[0] == 4242);
    CHECK(v.back() == 1);
    CHECK(parse_nspid("NSpid:\t77\n") == std::vector<pid_t>{77});
    CHECK(parse_nspid("Name:\tx\n").empty());
    // Three levels: the last is the innermost.
    CHECK(parse_nspid("NSpid:\t900\t40\t3\n").back() == 3);
}

TEST_CASE("view: uid_map interpretation") {
    auto host = parse_id_map("         0          0 4294967295\n");
    REQUIRE(host.size() == 1);
    CHECK(is_identity_map(host));
    auto rootless = parse_id_map("         0       1000          1\n         1     100000      65536\n");
    REQUIRE(rootless.size() == 2);
    CHECK_FALSE(is_identity_map(rootless));
    CHECK(rootless[1].outside == 100000);
    CHECK(rootless[1].count == 65536);
    CHECK(describe_id_map(rootless) == "0->1000 ×1, 1->100000 ×65536");
    CHECK_FALSE(is_identity_map(parse_id_map("0 0 65536\n")));
    CHECK_FALSE(is_identity_map({}));
}

TEST_CASE("view: mountinfo summary finds the topmost / mount") {
    std::string text =
        "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
        "27 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
        "30 27 0:50 / /sys rw - sysfs sysfs rw\n";
    auto m = summarize_mounts(text);
    CHECK(m.count == 3);
    CHECK(m.root_source == "/dev/sda1 (ext4)");
    auto c = summarize_mounts("500 400 0:77 / / rw,relatime - overlay overlay rw,lowerdir=/a\n"
                             "501 500 0:78 / /proc rw - proc proc rw\n");
    CHECK(c.count == 2);
    CHECK(c.root_source == "overlay");
}

TEST_CASE("view: cgroup summary") {
    CHECK(cgroup_summary("0::/isolab/ab12/cd34\n") == "/isolab/ab12/cd34");
    CHECK(cgroup_summary("0::/\n") == "/");
    CHECK(cgroup_summary("9:name=systemd:/\n4:memory:/x/y\n0::/\n") == "memory:/x/y");
}

TEST_CASE("view: shared or isolated") {
    CHECK(decide_sharing("pid:[4026531836]", "pid:[4026531836]") == Sharing::Shared);
    CHECK(decide_sharing("pid:[4026531836]", "pid:[4026532201]") == Sharing::Isolated);
    CHECK(decide_sharing("", "pid:[4026532201]") == Sharing::Unknown);
    CHECK(decide_sharing("pid:[1]", "") == Sharing::Unknown);
}

TEST_CASE("view: the test process against itself shares every namespace and the kernel") {
    // Read ourselves by PID as "the container" and /proc/self as the host.
    IsolationFacts f = read_isolation(::getpid(), 0, false);
    REQUIRE(f.error.empty());
    auto rows = build_isolation_rows(f, nullptr);
    REQUIRE(rows.size() == namespace_kinds().size() + 1);
    for (const auto& r : rows) {
        CAPTURE(r.kind);
        CHECK_FALSE(r.lesson.empty());
        CHECK(r.sharing == Sharing::Shared);
        if (!r.punch_line) CHECK(r.host_ns.find(r.kind == "mnt" ? "mnt:[" : r.kind + ":[") == 0);
    }
    CHECK(rows.back().kind == "kernel");
    CHECK(rows.back().punch_line);
    CHECK(rows.back().host_sees == rows.back().container_sees);
    // We are one of the processes of our own PID namespace, and the host sees at least as many.
    bool found = false;
    for (const auto& p : f.container.processes)
        if (p.host_pid == ::getpid()) found = true;
    CHECK(found);
    CHECK(f.host.process_count >= f.container.process_count);
    CHECK(f.container.mounts.count > 0);
    CHECK(f.host.hostname == f.container.hostname);
}

TEST_CASE("view: no container process gives rows with only the host side") {
    IsolationFacts f = read_isolation(0, 0, false);
    CHECK_FALSE(f.error.empty());
    vm::VmRecord vm;
    vm.name = "vm1";
    vm.kernel_release = "6.1.0-guest";
    vm.qemu_pid = 1234;
    auto rows = build_isolation_rows(f, &vm);
    for (const auto& r : rows) {
        CHECK(r.sharing == Sharing::Unknown);
        CHECK(r.container_sees.empty());
        CHECK_FALSE(r.vm_has.empty());
    }
    CHECK(rows.back().vm_has.find("6.1.0-guest") != std::string::npos);
}
