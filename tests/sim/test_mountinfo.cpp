// sim/core/mountinfo: the one reader of mountinfo, /proc/PID/cgroup and the cgroup layout.
#include <doctest/doctest.h>

#include "sim/core/mountinfo.hpp"

using namespace isolab;

namespace {

const char* kHybrid =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "25 22 0:23 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755\n"
    "26 25 0:24 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
    "27 25 0:25 / /sys/fs/cgroup/systemd rw shared:11 - cgroup cgroup rw,xattr,name=systemd\n"
    "30 25 0:28 / /sys/fs/cgroup/cpu,cpuacct rw shared:14 - cgroup cgroup rw,cpu,cpuacct\n"
    "31 25 0:29 / /sys/fs/cgroup/memory rw shared:15 - cgroup cgroup rw,memory\n"
    "32 25 0:30 /docker /sys/fs/cgroup/pids rw shared:16 - cgroup cgroup rw,pids,release_agent=/x\n";

const char* kSelf =
    "12:pids:/docker/abc\n"
    "4:memory:/user.slice\n"
    "3:cpu,cpuacct:/user.slice\n"
    "1:name=systemd:/user.slice/session-1.scope\n"
    "0::/user.slice/session-1.scope\n";

}  // namespace

TEST_CASE("mountinfo: fields, optional fields and escapes") {
    auto e = parse_mountinfo(
        "36 35 98:0 /mnt1 /mnt\\040two rw,noatime master:1 shared:7 - ext3 /dev/root rw,errors=continue\n"
        "garbage line\n"
        "\n"
        "40 35 0:3 / /x rw - proc proc rw\n");
    REQUIRE(e.size() == 2);
    CHECK(e[0].root == "/mnt1");
    CHECK(e[0].mountpoint == "/mnt two");
    CHECK(e[0].options == "rw,noatime");
    CHECK(e[0].optional_fields == std::vector<std::string>{"master:1", "shared:7"});
    CHECK(e[0].fstype == "ext3");
    CHECK(e[0].source == "/dev/root");
    CHECK(e[0].super_options == "rw,errors=continue");
    CHECK(e[1].optional_fields.empty());
    CHECK(unescape_mountinfo("a\\011b\\134c\\0") == "a\tb\\c\\0");
}

TEST_CASE("mountinfo: cgroup mounts, controllers and the layout") {
    auto mounts = cgroup_mounts(parse_mountinfo(kHybrid));
    REQUIRE(mounts.size() == 5);
    CHECK(mounts[0].v2);
    CHECK(mounts[1].controllers == std::vector<std::string>{"name=systemd"});
    CHECK(mounts[1].named());
    CHECK(mounts[2].controllers == std::vector<std::string>{"cpu", "cpuacct"});
    CHECK(mounts[4].controllers == std::vector<std::string>{"pids"});  // release_agent= is an option
    CHECK(cgroup_layout_of(mounts) == CgroupLayout::Hybrid);
    CHECK(cgroup_layout_of({mounts[0]}) == CgroupLayout::V2);
    CHECK(cgroup_layout_of({mounts[1]}) == CgroupLayout::None);  // name=systemd alone
    CHECK(cgroup_layout_of({mounts[3]}) == CgroupLayout::V1);
    CHECK(cgroup_layout_of({}) == CgroupLayout::None);
    CHECK(std::string(cgroup_layout_name(CgroupLayout::Hybrid)) == "hybrid");
}

TEST_CASE("mountinfo: a process's groups map to directories") {
    auto mounts = cgroup_mounts(parse_mountinfo(kHybrid));
    auto self = parse_proc_cgroup(kSelf);
    REQUIRE(self.size() == 5);
    CHECK(self[4].v2());
    CHECK(self[2].controllers == std::vector<std::string>{"cpu", "cpuacct"});

    const CgroupMembership* g = membership_in(self, mounts[2]);  // cpu,cpuacct
    REQUIRE(g);
    CHECK(cgroup_dir(mounts[2], g->path) == "/sys/fs/cgroup/cpu,cpuacct/user.slice");
    g = membership_in(self, mounts[0]);
    REQUIRE(g);
    CHECK(cgroup_dir(mounts[0], g->path) == "/sys/fs/cgroup/unified/user.slice/session-1.scope");
    // pids is mounted from /docker: the path inside it is relative to that root.
    g = membership_in(self, mounts[4]);
    REQUIRE(g);
    CHECK(cgroup_dir(mounts[4], g->path) == "/sys/fs/cgroup/pids/abc");
    // A path outside the mounted subtree maps to the mount point.
    CHECK(cgroup_dir(mounts[4], "/elsewhere") == "/sys/fs/cgroup/pids");
    CHECK(cgroup_dir(mounts[3], "/") == "/sys/fs/cgroup/memory");
    // A hierarchy the process is not listed in.
    CHECK(membership_in(parse_proc_cgroup("0::/x\n"), mounts[3]) == nullptr);
}
