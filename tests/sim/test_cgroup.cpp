// Cgroup manager tests.
//
// Unit tests run the v1 and v2 code paths on fake trees (ordinary directories plus a fake
// mountinfo and /proc/self/cgroup), where control files are plain files. Integration tests
// ("real:") run against this host's cgroup file system; they need root and a writable cgroupfs and
// say loudly why they skip otherwise. Real groups are named "isolab-test/<pid>/<tag>" and removed
// by RAII guards even when an assertion fails.
#include <doctest/doctest.h>

#include "tests/skip.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "sim/runtime/cgroup.hpp"

namespace fs = std::filesystem;
using namespace isolab;
using namespace std::chrono_literals;

namespace {

// A scratch directory removed on scope exit. Writes are atomic (temp + rename) because a helper
// thread may rewrite a file while the code under test polls it.
struct TempTree {
    fs::path dir;
    TempTree() {
        char tmpl[] = "/tmp/isolab-cgroup-test-XXXXXX";
        char* d = ::mkdtemp(tmpl);
        REQUIRE(d != nullptr);
        dir = d;
    }
    ~TempTree() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    std::string path(const std::string& rel) const { return (dir / rel).string(); }
    void mkdir(const std::string& rel) const { fs::create_directories(dir / rel); }
    void write(const std::string& rel, const std::string& content) const {
        fs::path p = dir / rel;
        fs::create_directories(p.parent_path());
        fs::path tmp = p;
        tmp += ".tmp";
        {
            std::ofstream out(tmp);
            out << content;
        }
        fs::rename(tmp, p);
    }
    std::string read(const std::string& rel) const { return read_path(path(rel)); }
    bool exists(const std::string& rel) const { return fs::exists(dir / rel); }

    static std::string read_path(const std::string& p) {
        std::ifstream in(p);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
};

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

// Waits (up to 5 s) until FILE holds WANT, e.g. for the code under test to write cgroup.freeze.
bool wait_for_content(const std::string& file, const std::string& want) {
    auto until = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < until) {
        if (trimmed(TempTree::read_path(file)) == want) return true;
        std::this_thread::sleep_for(1ms);
    }
    return false;
}

// A fake pure-v2 host: cgroup.controllers at the root, no mountinfo entry, caller in "/".
struct FakeV2 {
    TempTree t;
    CgroupSource src;
    explicit FakeV2(const std::string& controllers = "cpuset cpu io memory hugetlb pids rdma") {
        t.write("cgroup/cgroup.controllers", controllers + "\n");
        // Present so that a non-root run finds the "delegated" files writable, as on a real host.
        t.write("cgroup/cgroup.procs", "");
        t.write("cgroup/cgroup.subtree_control", "");
        t.write("mountinfo", "");
        t.write("self", "0::/\n");
        src = {t.path("cgroup"), t.path("mountinfo"), t.path("self")};
    }
    std::string root() const { return t.path("cgroup"); }
};

// MEMORY, PIDS and NANO_CPUS set, every other limit as a new CgroupLimits has it.
CgroupLimits limits(int64_t memory, int64_t pids, int64_t nano_cpus) {
    CgroupLimits l;
    l.memory_bytes = memory;
    l.pids_limit = pids;
    l.nano_cpus = nano_cpus;
    return l;
}

// No device rules at all (what --privileged asks for), every other limit unset.
CgroupLimits no_device_rules() {
    CgroupLimits l;
    l.devices = std::nullopt;
    return l;
}

const CgroupLimits kLimits = limits(32 << 20, 16, 500000000);  // 32 MiB, 16 pids, 0.5 CPU

}  // namespace

// --- unit: validation and the disabled stand-in ------------------------------------------------

TEST_CASE("cgroup names and limits are checked before touching the file system") {
    FakeV2 h;
    for (const char* bad : {"", "/abs", "a/../b", "a//b", "a/", "./a"}) {
        auto r = Cgroup::create(bad, {}, h.src);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message.find("invalid cgroup name") != std::string::npos);
    }
    auto neg = Cgroup::create("isolab/x", limits(-1, 0, 0), h.src);
    REQUIRE_FALSE(neg.ok());
    CHECK(neg.error().message.find("negative") != std::string::npos);
    auto tiny = Cgroup::create("isolab/x", limits(0, 0, 1000000), h.src);  // 0.001 CPU
    REQUIRE_FALSE(tiny.ok());
    CHECK(tiny.error().message.find("at least 0.01") != std::string::npos);
    CHECK_FALSE(h.t.exists("cgroup/isolab"));
}

TEST_CASE("disabled cgroup accepts processes, refuses limits-dependent actions with its reason") {
    Cgroup cg = Cgroup::disabled("cgroup v2 is not delegated to user 1000");
    CHECK(cg.version() == CgroupVersion::None);
    CHECK(cg.paths().empty());
    CHECK(cg.add_process(::getpid()).ok());
    CHECK(cg.pids().empty());
    CHECK_FALSE(cg.is_frozen());
    auto f = cg.freeze();
    REQUIRE_FALSE(f.ok());
    CHECK(f.error().message.find("not delegated to user 1000") != std::string::npos);
    CHECK_FALSE(cg.memory_current().ok());
    CHECK_FALSE(cg.kill_all(SIGKILL).ok());
    CHECK(cg.destroy().ok());
    CHECK(std::string(cgroup_version_name(CgroupVersion::None)) == "none");
}

TEST_CASE("a host without cgroups yields a disabled group, or an error when limits are asked for") {
    TempTree t;
    t.mkdir("empty");
    t.write("mountinfo", "");
    t.write("self", "");
    CgroupSource src{t.path("empty"), t.path("mountinfo"), t.path("self")};
    auto info = cgroup_probe(src);
    CHECK(info.version == CgroupVersion::None);
    CHECK_FALSE(info.writable);
    CHECK(info.reason.find("no cgroup file system is mounted") != std::string::npos);

    auto with_limit = Cgroup::create("isolab/c", limits(1 << 20, 0, 0), src);
    REQUIRE_FALSE(with_limit.ok());
    CHECK(with_limit.error().message.find("cannot apply the memory limit") != std::string::npos);
    CHECK(with_limit.error().message.find("no cgroup file system") != std::string::npos);

    // Device rules are requirements too, where this process can enforce them (root): a container
    // is never started with the host's devices open to it for want of a cgroup.
    auto with_devices = Cgroup::create("isolab/c", {}, src);
    if (device_rules_enforced_here()) {
        REQUIRE_FALSE(with_devices.ok());
        CHECK(with_devices.error().message.find("cannot keep the container off the host's devices") != std::string::npos);
        CHECK(with_devices.error().message.find("no cgroup file system") != std::string::npos);
    } else {
        CHECK(with_devices.ok());
    }

    auto without = Cgroup::create("isolab/c", no_device_rules(), src);
    REQUIRE(without.ok());
    CHECK(without->version() == CgroupVersion::None);
    CHECK(without->disabled_reason() == info.reason);
    CHECK(Cgroup::open_paths({}, src)->version() == CgroupVersion::None);
}

// --- unit: cgroup v2 on a fake tree ------------------------------------------------------------

TEST_CASE("v2 fake tree: probe") {
    FakeV2 h;
    auto info = cgroup_probe(h.src);
    CHECK(info.version == CgroupVersion::V2);
    CHECK_FALSE(info.hybrid);
    CHECK(info.root == h.root());
    CHECK(info.controllers == std::vector<std::string>{"cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma"});
    CHECK(info.writable);
    CHECK(info.parents == std::vector<std::string>{h.root()});
}

TEST_CASE("v2 fake tree: a cgroup not delegated to the caller is reported with the fix") {
    if (::geteuid() != 0) {
        ISOLAB_SKIP("needs root to switch to an unprivileged user for the check");
        return;
    }
    FakeV2 h;
    fs::permissions(h.t.dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                 fs::perms::others_read | fs::perms::others_exec);
    h.t.mkdir("cgroup/user.slice");
    h.t.write("self", "0::/user.slice\n");
    // The probe runs as user 65534 in a child; the tree stays owned by root.
    int p[2];
    REQUIRE(::pipe(p) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) ::_exit(1);
        auto info = cgroup_probe(h.src);
        std::string out = std::string(info.writable ? "writable" : "denied") + "|" + info.reason;
        for (const auto& d : info.parents) out += "|" + d;
        if (::write(p[1], out.data(), out.size()) < 0) ::_exit(1);
        ::_exit(0);
    }
    ::close(p[1]);
    std::string got;
    char buf[1024];
    for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;) got.append(buf, static_cast<size_t>(n));
    ::close(p[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    CHECK(got.rfind("denied|", 0) == 0);
    CHECK(got.find("cgroup v2 is not delegated to user 65534") != std::string::npos);
    CHECK(got.find("systemd-run --user --scope -p Delegate=yes") != std::string::npos);
    CHECK(got.find("|" + h.root() + "/user.slice") != std::string::npos);  // its own cgroup
}

TEST_CASE("v2 fake tree: create enables controllers on the way down and writes limits") {
    FakeV2 h;
    // A leftover leaf reused by create(); its memory.swap.max shows the swap file is honoured.
    h.t.write("cgroup/isolab/abc/c1/memory.swap.max", "max\n");
    auto cg = Cgroup::create("isolab/abc/c1", kLimits, h.src);
    REQUIRE_MESSAGE(cg.ok(), (cg.ok() ? "" : cg.error().message));
    CHECK(cg->version() == CgroupVersion::V2);
    CHECK(cg->paths() == std::vector<std::string>{h.root() + "/isolab/abc/c1"});

    for (const char* parent : {"cgroup", "cgroup/isolab", "cgroup/isolab/abc"})
        CHECK(h.t.read(std::string(parent) + "/cgroup.subtree_control") == "+memory +pids +cpu");
    CHECK_FALSE(h.t.exists("cgroup/isolab/abc/c1/cgroup.subtree_control"));
    CHECK(h.t.read("cgroup/isolab/abc/c1/memory.max") == "33554432");
    CHECK(h.t.read("cgroup/isolab/abc/c1/memory.swap.max") == "33554432");
    CHECK(h.t.read("cgroup/isolab/abc/c1/pids.max") == "16");
    CHECK(h.t.read("cgroup/isolab/abc/c1/cpu.max") == "50000 100000");
}

TEST_CASE("v2 fake tree: an OCI spec's resources in cgroup v2's files, with runc's conversions") {
    FakeV2 h;
    // Files the kernel would offer; a plain tree writes only where they exist for the optional ones.
    h.t.write("cgroup/oci/c/memory.swap.max", "max\n");
    h.t.write("cgroup/oci/c/io.weight", "default 100\n");
    CgroupLimits l;
    l.memory_bytes = 64 << 20;
    l.memory_swap = 96 << 20;  // memory + swap: v2's swap file gets the difference
    l.memory_reservation = 32 << 20;
    l.cpu_shares = 512;
    l.cpu_quota_us = 50000;
    l.cpu_period_us = 200000;
    l.cpuset_cpus = "0-1";
    l.cpuset_mems = "0";
    l.hugepages = {{"2MB", 4 << 20}, {"1GB", 0}};
    l.blkio_weight = 500;
    l.pids_limit = 42;
    auto cg = Cgroup::create("oci/c", l, h.src);
    REQUIRE_MESSAGE(cg.ok(), (cg.ok() ? "" : cg.error().message));
    // cpuset, hugetlb and io are enabled on the way down because a limit needs them.
    CHECK(h.t.read("cgroup/cgroup.subtree_control") == "+memory +pids +cpu +cpuset +hugetlb +io");
    auto rd = [&](const char* f) { return h.t.read(std::string("cgroup/oci/c/") + f); };
    CHECK(rd("memory.max") == "67108864");
    CHECK(rd("memory.swap.max") == "33554432");
    CHECK(rd("memory.low") == "33554432");
    CHECK(rd("cpu.weight") == "20");  // 1 + (512 - 2) * 9999 / 262142
    CHECK(rd("cpu.max") == "50000 200000");
    CHECK(rd("cpuset.cpus") == "0-1");
    CHECK(rd("cpuset.mems") == "0");
    CHECK(rd("hugetlb.2MB.max") == "4194304");
    CHECK(rd("hugetlb.1GB.max") == "0");
    CHECK(rd("io.weight") == "4950");  // 1 + (500 - 10) * 9999 / 990
    CHECK(rd("pids.max") == "42");

    // With BFQ the weight keeps v1's scale; an unlimited quota with a period is "max PERIOD";
    // -1 swap is "max", the same total as the limit is "0" (no swap).
    h.t.write("cgroup/oci/d/io.bfq.weight", "100\n");
    h.t.write("cgroup/oci/d/memory.swap.max", "max\n");
    CgroupLimits b;
    b.blkio_weight = 300;
    b.cpu_quota_us = -1;
    b.cpu_period_us = 100000;
    b.memory_bytes = 1 << 20;
    b.memory_swap = 1 << 20;
    REQUIRE(Cgroup::create("oci/d", b, h.src).ok());
    CHECK(h.t.read("cgroup/oci/d/io.bfq.weight") == "300");
    CHECK(h.t.read("cgroup/oci/d/cpu.max") == "max 100000");
    CHECK(h.t.read("cgroup/oci/d/memory.swap.max") == "0");
    h.t.write("cgroup/oci/e/memory.swap.max", "0\n");
    CgroupLimits unlimited;
    unlimited.memory_swap = -1;
    REQUIRE(Cgroup::create("oci/e", unlimited, h.src).ok());
    CHECK(h.t.read("cgroup/oci/e/memory.swap.max") == "max");

    // What v2 cannot do is refused, naming the setting, and nothing is left behind.
    CgroupLimits swappiness;
    swappiness.memory_swappiness = 10;
    auto refused = Cgroup::create("oci/f", swappiness, h.src);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message.find("memory.swappiness") != std::string::npos);
    CHECK_FALSE(h.t.exists("cgroup/oci/f"));
    CgroupLimits oom;
    oom.disable_oom_killer = true;
    REQUIRE_FALSE(Cgroup::create("oci/g", oom, h.src).ok());
    // A weight with no weight file at all: the BFQ scheduler is missing, and the message says so.
    CgroupLimits weight;
    weight.blkio_weight = 100;
    auto no_bfq = Cgroup::create("oci/h", weight, h.src);
    REQUIRE_FALSE(no_bfq.ok());
    CHECK(no_bfq.error().message.find("BFQ") != std::string::npos);
}

TEST_CASE("v2 fake tree: a controller an OCI limit needs and the parent does not offer") {
    FakeV2 h("cpu memory pids");
    CgroupLimits l;
    l.hugepages = {{"2MB", 0}};
    auto cg = Cgroup::create("oci/x", l, h.src);
    REQUIRE_FALSE(cg.ok());
    CHECK(cg.error().message.find("controller `hugetlb`") != std::string::npos);
    CgroupLimits both;
    both.nano_cpus = 500000000;
    both.cpu_quota_us = 1000;
    REQUIRE_FALSE(Cgroup::create("oci/y", both, h.src).ok());
}

TEST_CASE("v2 fake tree: controllers already enabled are not written again") {
    FakeV2 h;
    h.t.write("cgroup/cgroup.subtree_control", "cpu io memory pids\n");  // the kernel's read format
    h.t.write("cgroup/isolab/cgroup.subtree_control", "memory\n");
    auto cg = Cgroup::create("isolab/c2", {}, h.src);
    REQUIRE(cg.ok());
    CHECK(h.t.read("cgroup/cgroup.subtree_control") == "cpu io memory pids\n");
    CHECK(h.t.read("cgroup/isolab/cgroup.subtree_control") == "+pids +cpu");
    // No limit requested: nothing is written where the control file does not exist.
    CHECK_FALSE(h.t.exists("cgroup/isolab/c2/memory.max"));
}

TEST_CASE("v2 fake tree: a controller the parent does not offer") {
    FakeV2 h("memory pids");
    auto cg = Cgroup::create("isolab/c3", kLimits, h.src);
    REQUIRE_FALSE(cg.ok());
    CHECK(cg.error().message.find("controller `cpu`") != std::string::npos);
    CHECK(cg.error().message.find("it offers: memory pids") != std::string::npos);
    CHECK_FALSE(h.t.exists("cgroup/isolab"));

    auto ok = Cgroup::create("isolab/c3", limits(32 << 20, 16, 0), h.src);
    REQUIRE_MESSAGE(ok.ok(), (ok.ok() ? "" : ok.error().message));
    CHECK(h.t.read("cgroup/cgroup.subtree_control") == "+memory +pids");
}

TEST_CASE("v2 fake tree: freeze and thaw wait for cgroup.events") {
    FakeV2 h;
    auto cg = Cgroup::create("isolab/f", {}, h.src);
    REQUIRE(cg.ok());
    const std::string leaf = "cgroup/isolab/f/";
    h.t.write(leaf + "cgroup.events", "populated 1\nfrozen 0\n");

    // The "kernel": reports frozen a little after cgroup.freeze was written.
    std::thread kernel([&] {
        if (wait_for_content(h.t.path(leaf + "cgroup.freeze"), "1")) {
            std::this_thread::sleep_for(50ms);
            h.t.write(leaf + "cgroup.events", "populated 1\nfrozen 1\n");
        }
    });
    auto t0 = std::chrono::steady_clock::now();
    Status s = cg->freeze();
    kernel.join();
    REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
    CHECK(std::chrono::steady_clock::now() - t0 >= 50ms);
    CHECK(cg->is_frozen());

    std::thread kernel2([&] {
        if (wait_for_content(h.t.path(leaf + "cgroup.freeze"), "0"))
            h.t.write(leaf + "cgroup.events", "populated 1\nfrozen 0\n");
    });
    Status t = cg->thaw();
    kernel2.join();
    CHECK(t.ok());
    CHECK_FALSE(cg->is_frozen());

    // Nobody answers: the freeze times out, names the group and undoes itself.
    Status late = cg->freeze(100ms);
    REQUIRE_FALSE(late.ok());
    CHECK(late.error().message.find(h.root() + "/isolab/f") != std::string::npos);
    CHECK(late.error().message.find("thawed again") != std::string::npos);
    CHECK(trimmed(h.t.read(leaf + "cgroup.freeze")) == "0");
}

TEST_CASE("v2 fake tree: statistics, processes, reopen and destroy") {
    FakeV2 h;
    auto cg = Cgroup::create("isolab/s", {}, h.src);
    REQUIRE(cg.ok());
    const std::string leaf = "cgroup/isolab/s/";
    h.t.write(leaf + "memory.current", "1234\n");
    h.t.write(leaf + "memory.max", "max\n");
    h.t.write(leaf + "memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n");
    h.t.write(leaf + "pids.current", "3\n");
    CHECK(*cg->memory_current() == 1234);
    CHECK(*cg->memory_limit() == 0);
    CHECK(*cg->oom_kill_count() == 2);
    CHECK(*cg->pids_current() == 3);

    // Plain-file pids are listed (also from child groups) but never signalled.
    REQUIRE(cg->add_process(4242).ok());
    h.t.write(leaf + "inner/cgroup.procs", "4343\n4242\n");
    CHECK(cg->pids() == std::vector<pid_t>{4242, 4343});
    auto k = cg->kill_all(SIGKILL);
    REQUIRE_FALSE(k.ok());
    CHECK(k.error().message.find("refusing") != std::string::npos);

    auto again = Cgroup::open_existing("isolab/s", h.src);
    REQUIRE(again.ok());
    CHECK(again->paths() == cg->paths());
    auto missing = Cgroup::open_existing("isolab/none", h.src);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().exit_code == 1);
    auto by_path = Cgroup::open_paths(cg->paths(), h.src);
    REQUIRE(by_path.ok());
    CHECK(by_path->version() == CgroupVersion::V2);
    CHECK(by_path->pids() == cg->pids());
    CHECK_FALSE(Cgroup::open_paths({"/nowhere/x"}, h.src).ok());

    REQUIRE(by_path->destroy().ok());
    CHECK_FALSE(h.t.exists("cgroup/isolab/s"));
    CHECK(h.t.exists("cgroup/isolab"));  // shared parents stay
    CHECK(cg->destroy().ok());           // idempotent, through another copy too
}

// --- unit: cgroup v1 layout on a fake tree -----------------------------------------------------

namespace {

// A hybrid v1 host like this machine's, with cpu,cpuacct co-mounted, a bind-mounted duplicate, a
// mount outside the root and the caller in non-root cgroups of some hierarchies.
struct FakeV1 {
    TempTree t;
    CgroupSource src;
    std::string R;
    FakeV1() {
        R = t.path("sys fs/cgroup");  // the space exercises mountinfo's octal escapes
        std::string E = t.path("sys\\040fs/cgroup");
        for (const char* d : {"cpu,cpuacct", "memory/user.slice", "devices", "freezer",
                              "pids/user.slice/user-1000.slice", "systemd", "unified"})
            t.mkdir(std::string("sys fs/cgroup/") + d);
        t.write("mountinfo",
                "31 23 0:28 / " + E + " rw,relatime - tmpfs tmpfs rw,mode=755\n"
                "32 31 0:29 / " + E + "/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
                "35 31 0:32 / " + E + "/memory rw,relatime - cgroup cgroup rw,memory\n"
                "36 31 0:33 / " + E + "/devices rw,relatime - cgroup cgroup rw,devices\n"
                "37 31 0:34 / " + E + "/freezer rw,relatime - cgroup cgroup rw,freezer\n"
                "39 31 0:36 / " + E + "/pids rw,relatime shared:5 - cgroup cgroup rw,pids\n"
                "40 31 0:37 / " + E + "/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
                "41 31 0:38 / " + E + "/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n"
                "50 31 0:32 / " + E + "/memory-again rw - cgroup cgroup rw,memory\n"
                "60 22 0:40 / /elsewhere/blkio rw - cgroup cgroup rw,blkio\n");
        t.write("self",
                "12:pids:/user.slice/user-1000.slice\n"
                "4:memory:/user.slice\n"
                "3:freezer:/\n"
                "2:cpu,cpuacct:/\n"
                "1:name=systemd:/user.slice/session-1.scope\n"
                "0::/user.slice/session-1.scope\n");
        src = {R, t.path("mountinfo"), t.path("self")};
    }
};

}  // namespace

TEST_CASE("v1 fake tree: layout from mountinfo and /proc/self/cgroup") {
    FakeV1 h;
    auto info = cgroup_probe(h.src);
    CHECK(info.version == CgroupVersion::V1);
    CHECK(info.hybrid);
    CHECK(info.controllers == std::vector<std::string>{"cpu", "cpuacct", "devices", "freezer", "memory", "pids"});
    CHECK(info.parents == std::vector<std::string>{h.R + "/cpu,cpuacct", h.R + "/memory/user.slice",
                                                   h.R + "/devices", h.R + "/freezer",
                                                   h.R + "/pids/user.slice/user-1000.slice"});
    CHECK(info.writable);
}

TEST_CASE("v1 fake tree: separate cpu and cpuacct, and a mount of a sub-hierarchy") {
    TempTree t;
    std::string R = t.path("cg");
    t.mkdir("cg/cpu/inner");
    t.mkdir("cg/cpuacct");
    t.write("mountinfo",
            "32 31 0:29 /docker/abc " + R + "/cpu rw - cgroup cgroup rw,cpu\n"
            "33 31 0:30 / " + R + "/cpuacct rw - cgroup cgroup rw,cpuacct\n");
    t.write("self", "2:cpuacct:/\n1:cpu:/docker/abc/inner\n");
    auto info = cgroup_probe({R, t.path("mountinfo"), t.path("self")});
    CHECK(info.version == CgroupVersion::V1);
    CHECK_FALSE(info.hybrid);
    CHECK(info.parents == std::vector<std::string>{R + "/cpu/inner", R + "/cpuacct"});

    // Limits whose controller is not mounted are refused up front.
    auto cg = Cgroup::create("isolab/x", limits(0, 16, 0), {R, t.path("mountinfo"), t.path("self")});
    REQUIRE_FALSE(cg.ok());
    CHECK(cg.error().message.find("cgroup v1 pids controller") != std::string::npos);
    CHECK_FALSE(t.exists("cg/cpuacct/isolab"));
}

TEST_CASE("v1 fake tree: create, limits, freeze, statistics, destroy") {
    FakeV1 h;
    h.t.write("sys fs/cgroup/memory/user.slice/isolab/x/c1/memory.memsw.limit_in_bytes", "-1\n");
    auto cg = Cgroup::create("isolab/x/c1", kLimits, h.src);
    REQUIRE_MESSAGE(cg.ok(), (cg.ok() ? "" : cg.error().message));
    CHECK(cg->version() == CgroupVersion::V1);
    // The devices hierarchy is joined like the others, so PID 1's self-join (tasks files from
    // paths()), kill_all and destroy cover it.
    std::vector<std::string> want = {h.R + "/cpu,cpuacct/isolab/x/c1", h.R + "/memory/user.slice/isolab/x/c1",
                                     h.R + "/devices/isolab/x/c1", h.R + "/freezer/isolab/x/c1",
                                     h.R + "/pids/user.slice/user-1000.slice/isolab/x/c1"};
    CHECK(cg->paths() == want);
    CHECK_FALSE(h.t.exists("sys fs/cgroup/systemd/isolab"));

    auto rd = [&](const std::string& dir, const char* file) { return TempTree::read_path(dir + "/" + file); };
    CHECK(rd(want[1], "memory.limit_in_bytes") == "33554432");
    CHECK(rd(want[1], "memory.memsw.limit_in_bytes") == "67108864");
    CHECK(rd(want[4], "pids.max") == "16");
    CHECK(rd(want[0], "cpu.cfs_period_us") == "100000");
    CHECK(rd(want[0], "cpu.cfs_quota_us") == "50000");
    if (device_rules_enforced_here()) {
        // "deny all" first, then Docker's exceptions, one write each (the plain tree keeps them all).
        CHECK(rd(want[2], "devices.deny") == "a\n");
        CHECK(rd(want[2], "devices.allow") ==
              "c 1:5 rwm\nc 1:3 rwm\nc 1:9 rwm\nc 1:8 rwm\nc 5:0 rwm\nc 5:1 rwm\nc *:* m\nb *:* m\n"
              "c 1:7 rwm\nc 136:* rwm\nc 5:2 rwm\nc 10:200 rwm\n");
    } else {
        CHECK_FALSE(fs::exists(want[2] + "/devices.deny"));
    }

    REQUIRE(cg->add_process(4242).ok());
    for (const auto& p : want) CHECK(rd(p, "cgroup.procs") == "4242");
    CHECK(cg->pids() == std::vector<pid_t>{4242});

    REQUIRE(cg->freeze().ok());  // a plain freezer.state reads back FROZEN at once
    CHECK(rd(want[3], "freezer.state") == "FROZEN");
    CHECK(cg->is_frozen());
    REQUIRE(cg->thaw().ok());
    CHECK_FALSE(cg->is_frozen());

    h.t.write("sys fs/cgroup/memory/user.slice/isolab/x/c1/memory.usage_in_bytes", "4096\n");
    h.t.write("sys fs/cgroup/memory/user.slice/isolab/x/c1/memory.limit_in_bytes", "9223372036854771712\n");
    h.t.write("sys fs/cgroup/memory/user.slice/isolab/x/c1/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\n");
    h.t.write("sys fs/cgroup/pids/user.slice/user-1000.slice/isolab/x/c1/pids.current", "1\n");
    CHECK(*cg->memory_current() == 4096);
    CHECK(*cg->memory_limit() == 0);
    CHECK(*cg->oom_kill_count() == 0);  // kernels before 4.13 have no oom_kill line
    CHECK(*cg->pids_current() == 1);

    REQUIRE(cg->destroy().ok());
    for (const auto& p : want) CHECK_FALSE(fs::exists(p));
    CHECK(h.t.exists("sys fs/cgroup/memory/user.slice/isolab/x"));
    CHECK(cg->destroy().ok());
}

TEST_CASE("v1 fake tree: an OCI spec's resources in cgroup v1's files, and runc's placement") {
    FakeV1 h;
    // cpuset, blkio and hugetlb hierarchies, joined only when a limit needs them (or every one is
    // asked for).
    std::string E = h.t.path("sys\\040fs/cgroup");
    h.t.write("mountinfo", h.t.read("mountinfo") + "70 31 0:50 / " + E + "/cpuset rw - cgroup cgroup rw,cpuset\n" +
                               "71 31 0:51 / " + E + "/blkio rw - cgroup cgroup rw,blkio\n");
    h.t.mkdir("sys fs/cgroup/cpuset");
    h.t.mkdir("sys fs/cgroup/blkio");
    const std::string mem = "sys fs/cgroup/memory/user.slice/oci/c/";
    h.t.write(mem + "memory.memsw.limit_in_bytes", "-1\n");
    h.t.write("sys fs/cgroup/blkio/oci/c/blkio.bfq.weight", "100\n");
    h.t.write("sys fs/cgroup/cpu,cpuacct/oci/c/cpu.shares", "512\n");  // what the kernel reads back
    CgroupLimits l;
    l.memory_bytes = 64 << 20;
    l.memory_swap = 96 << 20;
    l.memory_reservation = 32 << 20;
    l.memory_swappiness = 17;
    l.disable_oom_killer = true;
    l.cpu_shares = 512;
    l.cpu_quota_us = 50000;
    l.cpu_period_us = 200000;
    l.cpuset_cpus = "0";
    l.cpuset_mems = "0";
    l.blkio_weight = 500;
    auto cg = Cgroup::create("oci/c", l, h.src);
    REQUIRE_MESSAGE(cg.ok(), (cg.ok() ? "" : cg.error().message));
    CHECK(h.t.read(mem + "memory.limit_in_bytes") == "67108864");
    CHECK(h.t.read(mem + "memory.memsw.limit_in_bytes") == "100663296");  // the spec's total, not Docker's 2x
    CHECK(h.t.read(mem + "memory.soft_limit_in_bytes") == "33554432");
    CHECK(h.t.read(mem + "memory.swappiness") == "17");
    CHECK(h.t.read(mem + "memory.oom_control") == "1");
    CHECK(h.t.read("sys fs/cgroup/cpu,cpuacct/oci/c/cpu.cfs_quota_us") == "50000");
    CHECK(h.t.read("sys fs/cgroup/cpu,cpuacct/oci/c/cpu.cfs_period_us") == "200000");
    CHECK(h.t.read("sys fs/cgroup/cpuset/oci/c/cpuset.cpus") == "0");
    CHECK(h.t.read("sys fs/cgroup/cpuset/oci/c/cpuset.mems") == "0");
    CHECK(h.t.read("sys fs/cgroup/blkio/oci/c/blkio.bfq.weight") == "500");
    CHECK_FALSE(h.t.exists("sys fs/cgroup/systemd/oci"));  // not asked for every hierarchy
    REQUIRE(cg->destroy().ok());

    // Docker's default when no swap total is given: twice the memory limit.
    h.t.write("sys fs/cgroup/memory/user.slice/oci/d/memory.memsw.limit_in_bytes", "-1\n");
    auto d = Cgroup::create("oci/d", limits(1 << 20, 0, 0), h.src);
    REQUIRE(d.ok());
    CHECK(h.t.read("sys fs/cgroup/memory/user.slice/oci/d/memory.memsw.limit_in_bytes") == "2097152");
    REQUIRE(d->destroy().ok());

    // No hugetlb hierarchy: the limit is refused before anything is made.
    CgroupLimits huge;
    huge.hugepages = {{"2MB", 0}};
    auto no_hugetlb = Cgroup::create("oci/h", huge, h.src);
    REQUIRE_FALSE(no_hugetlb.ok());
    CHECK(no_hugetlb.error().message.find("cgroup v1 hugetlb controller") != std::string::npos);
    CHECK_FALSE(h.t.exists("sys fs/cgroup/memory/user.slice/oci/h"));

    // runc's placement: an absolute cgroupsPath from each hierarchy's root, and every hierarchy
    // joined, the hybrid host's unified one included.
    CgroupPlacement runc_like;
    runc_like.from_root = true;
    runc_like.every_v1_hierarchy = true;
    auto all = Cgroup::create("abs/c", no_device_rules(), runc_like, h.src);
    REQUIRE_MESSAGE(all.ok(), (all.ok() ? "" : all.error().message));
    std::vector<std::string> want = {h.R + "/cpu,cpuacct/abs/c", h.R + "/memory/abs/c", h.R + "/devices/abs/c",
                                     h.R + "/freezer/abs/c",     h.R + "/pids/abs/c",   h.R + "/systemd/abs/c",
                                     h.R + "/unified/abs/c",     h.R + "/cpuset/abs/c", h.R + "/blkio/abs/c"};
    CHECK_MESSAGE(all->paths() == want, [&] { std::string o; for (auto& p : all->paths()) o += p + " "; return o; }());
    // Reopened from its paths by another process (runtime delete), every directory is found.
    auto again = Cgroup::open_paths(all->paths(), h.src);
    REQUIRE(again.ok());
    CHECK(again->paths() == want);
    REQUIRE(again->destroy().ok());
    for (const auto& p : want) CHECK_FALSE(fs::exists(p));
}

TEST_CASE("v1 fake tree: device rules need the devices hierarchy, and bad rules touch nothing") {
    TempTree t;
    std::string R = t.path("cg");
    t.mkdir("cg/memory");
    t.write("mountinfo", "35 31 0:32 / " + R + "/memory rw - cgroup cgroup rw,memory\n");
    t.write("self", "4:memory:/\n");
    CgroupSource src{R, t.path("mountinfo"), t.path("self")};

    CgroupLimits bad;
    bad.devices->push_back({true, 'a', 1, 3, "rwm"});
    auto refused = Cgroup::create("isolab/d", bad, src);
    if (device_rules_enforced_here()) {
        REQUIRE_FALSE(refused.ok());
        CHECK(refused.error().message.find("type a stands for every device") != std::string::npos);
        CHECK_FALSE(t.exists("cg/memory/isolab"));

        auto no_devices = Cgroup::create("isolab/d", {}, src);
        REQUIRE_FALSE(no_devices.ok());
        CHECK(no_devices.error().message.find("cgroup v1 devices controller, which is not mounted") != std::string::npos);
        CHECK(no_devices.error().message.find("mount -t cgroup -o devices cgroup " + R + "/devices") != std::string::npos);
        CHECK_FALSE(t.exists("cg/memory/isolab"));
    } else {
        MESSAGE("not root: device rules are left to the user namespace; only the unenforced path is checked");
        CHECK(refused.ok());
    }
    // Without device rules (--privileged's nullopt) the memory hierarchy alone is enough.
    auto open_devices = Cgroup::create("isolab/d", no_device_rules(), src);
    REQUIRE_MESSAGE(open_devices.ok(), (open_devices.ok() ? "" : open_devices.error().message));
    CHECK(open_devices->paths() == std::vector<std::string>{R + "/memory/isolab/d"});
}

// --- integration: this host's cgroups ----------------------------------------------------------

namespace {

bool real_cgroups_usable(std::string& why) {
    if (::geteuid() != 0) {
        why = "not running as root";
        return false;
    }
    auto info = cgroup_probe();
    if (info.version == CgroupVersion::None || !info.writable) {
        why = info.reason;
        return false;
    }
    return true;
}

#define REQUIRE_REAL_CGROUPS()                                                                    \
    do {                                                                                          \
        std::string why_;                                                                         \
        if (!real_cgroups_usable(why_)) {                                                         \
            ISOLAB_SKIP("real cgroup test (needs root and a writable cgroupfs): " << why_); \
            return;                                                                               \
        }                                                                                         \
    } while (0)

std::string test_name(const std::string& tag) {
    return "isolab-test/" + std::to_string(::getpid()) + "/" + tag;
}

// Destroys the group and the "isolab-test/<pid>" and "isolab-test" parents it left, whatever
// happened in the test.
struct RealGroup {
    std::optional<Cgroup> cg;
    std::vector<std::string> dirs;
    explicit RealGroup(const std::string& tag, const CgroupLimits& limits = kLimits) {
        auto r = Cgroup::create(test_name(tag), limits);
        REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
        cg = std::move(r.value());
        dirs = cg->paths();
    }
    ~RealGroup() {
        if (cg) (void)cg->destroy();
        for (const auto& d : dirs) {
            std::string per_run = fs::path(d).parent_path().string();
            ::rmdir(per_run.c_str());
            ::rmdir(fs::path(per_run).parent_path().c_str());
        }
    }
    Cgroup* operator->() { return &*cg; }
};

// Kills and reaps a forked child on scope exit unless the test reaped it.
struct Child {
    pid_t pid = -1;
    ~Child() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }
    int reap() {
        int status = 0;
        ::waitpid(pid, &status, 0);
        pid = -1;
        return status;
    }
};

// Forks a child that blocks until released, so that it runs its body only inside the group.
struct GatedChild : Child {
    int gate[2] = {-1, -1};
    template <class Body>
    explicit GatedChild(Body body) {
        REQUIRE(::pipe2(gate, O_CLOEXEC) == 0);
        pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            char c;
            ::close(gate[1]);
            if (::read(gate[0], &c, 1) != 1) ::_exit(1);
            body();
            ::_exit(0);
        }
        ::close(gate[0]);
    }
    void release() {
        char c = 'g';
        REQUIRE(::write(gate[1], &c, 1) == 1);
        ::close(gate[1]);
        gate[1] = -1;
    }
    ~GatedChild() {
        if (gate[1] >= 0) ::close(gate[1]);
    }
};

std::string file_in_group(const Cgroup& cg, const std::string& file) {
    for (const auto& p : cg.paths())
        if (fs::exists(p + "/" + file)) return trimmed(TempTree::read_path(p + "/" + file));
    return "<missing " + file + ">";
}

bool contains(const std::vector<pid_t>& v, pid_t p) { return std::find(v.begin(), v.end(), p) != v.end(); }

}  // namespace

TEST_CASE("real: create writes the limits") {
    REQUIRE_REAL_CGROUPS();
    RealGroup g("limits");
    MESSAGE("cgroup " << std::string(cgroup_version_name(g->version())) << " directories: " << [&] {
        std::string s;
        for (const auto& p : g->paths()) s += p + " ";
        return s;
    }());
    if (g->version() == CgroupVersion::V1) {
        CHECK(file_in_group(*g.cg, "memory.limit_in_bytes") == "33554432");
        if (file_in_group(*g.cg, "memory.memsw.limit_in_bytes").rfind("<missing", 0) != 0)
            CHECK(file_in_group(*g.cg, "memory.memsw.limit_in_bytes") == "67108864");
        CHECK(file_in_group(*g.cg, "pids.max") == "16");
        CHECK(file_in_group(*g.cg, "cpu.cfs_period_us") == "100000");
        CHECK(file_in_group(*g.cg, "cpu.cfs_quota_us") == "50000");
        CHECK(file_in_group(*g.cg, "freezer.state") == "THAWED");
    } else {
        CHECK(file_in_group(*g.cg, "memory.max") == "33554432");
        CHECK(file_in_group(*g.cg, "pids.max") == "16");
        CHECK(file_in_group(*g.cg, "cpu.max") == "50000 100000");
    }
    CHECK(*g->memory_limit() == 32 << 20);
    CHECK(*g->pids_current() == 0);
    CHECK(g->memory_current().ok());
    CHECK(*g->oom_kill_count() == 0);
    CHECK(g->pids().empty());
}

TEST_CASE("real: processes join, freeze stops them, thaw resumes, kill_all empties, destroy removes") {
    REQUIRE_REAL_CGROUPS();
    RealGroup g("procs");

    Child sleeper;
    sleeper.pid = ::fork();
    REQUIRE(sleeper.pid >= 0);
    if (sleeper.pid == 0) {
        for (;;) ::pause();
    }
    REQUIRE(g->add_process(sleeper.pid).ok());
    CHECK(contains(g->pids(), sleeper.pid));
    CHECK(*g->pids_current() >= 1);
    std::string own = TempTree::read_path("/proc/" + std::to_string(sleeper.pid) + "/cgroup");
    CHECK(own.find(test_name("procs")) != std::string::npos);

    // A counter in shared memory shows whether the child runs.
    void* mem = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(mem != MAP_FAILED);
    auto* counter = new (mem) std::atomic<uint64_t>(0);
    Child counting;
    counting.pid = ::fork();
    REQUIRE(counting.pid >= 0);
    if (counting.pid == 0) {
        for (;;) counter->fetch_add(1, std::memory_order_relaxed);
    }
    REQUIRE(g->add_process(counting.pid).ok());
    auto advances = [&](std::chrono::milliseconds within) {
        uint64_t before = counter->load();
        auto until = std::chrono::steady_clock::now() + within;
        while (std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(10ms);
            if (counter->load() != before) return true;
        }
        return false;
    };
    CHECK(advances(2s));

    Status f = g->freeze();
    REQUIRE_MESSAGE(f.ok(), (f.ok() ? "" : f.error().message));
    CHECK(g->is_frozen());
    if (g->version() == CgroupVersion::V1) CHECK(file_in_group(*g.cg, "freezer.state") == "FROZEN");
    CHECK_FALSE(advances(300ms));

    // A catchable signal leaves a paused group paused (it is delivered after thaw).
    REQUIRE(g->kill_all(SIGCONT).ok());
    CHECK(g->is_frozen());

    REQUIRE(g->thaw().ok());
    CHECK_FALSE(g->is_frozen());
    CHECK(advances(2s));

    Status k = g->kill_all(SIGKILL);
    REQUIRE_MESSAGE(k.ok(), (k.ok() ? "" : k.error().message));
    CHECK(g->pids().empty());
    for (Child* c : {&sleeper, &counting}) {
        int status = c->reap();
        CHECK(WIFSIGNALED(status));
        CHECK(WTERMSIG(status) == SIGKILL);
    }
    ::munmap(mem, 4096);

    REQUIRE(g->destroy().ok());
    for (const auto& p : g.dirs) CHECK_FALSE(fs::exists(p));
    CHECK(g->destroy().ok());
}

TEST_CASE("real: pids.max bounds a fork bomb and kill_all catches every fork") {
    REQUIRE_REAL_CGROUPS();
    RealGroup g("forkbomb");
    GatedChild bomb([] {
        for (;;)
            if (::fork() < 0) ::usleep(1000);
    });
    REQUIRE(g->add_process(bomb.pid).ok());
    bomb.release();

    auto until = std::chrono::steady_clock::now() + 3s;
    while (*g->pids_current() < 16 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(10ms);
    CHECK(*g->pids_current() == 16);
    CHECK(g->pids().size() >= 2);
    CHECK(g->pids().size() <= 16);

    Status k = g->kill_all(SIGKILL);
    REQUIRE_MESSAGE(k.ok(), (k.ok() ? "" : k.error().message));
    CHECK(g->pids().empty());
    int status = bomb.reap();
    CHECK(WIFSIGNALED(status));
    REQUIRE(g->destroy().ok());
    for (const auto& p : g.dirs) CHECK_FALSE(fs::exists(p));
}

TEST_CASE("real: the memory limit OOM-kills and is counted") {
    REQUIRE_REAL_CGROUPS();
    RealGroup g("oom");
    GatedChild hog([] {
        // Touch 256 MiB, far past the 32 MiB limit plus the 32 MiB of swap Docker's default allows.
        for (int i = 0; i < 256; ++i) {
            char* p = static_cast<char*>(std::malloc(1 << 20));
            if (!p) ::_exit(2);
            for (int j = 0; j < (1 << 20); j += 4096) p[j] = 1;
        }
        ::_exit(3);
    });
    REQUIRE(g->add_process(hog.pid).ok());
    hog.release();
    int status = hog.reap();
    CHECK(WIFSIGNALED(status));
    if (WIFSIGNALED(status)) CHECK(WTERMSIG(status) == SIGKILL);
    CHECK(*g->oom_kill_count() >= 1);
}

TEST_CASE("real: a group reopened from its paths is destroyed with its processes") {
    REQUIRE_REAL_CGROUPS();
    RealGroup g("reopen");
    Child sleeper;
    sleeper.pid = ::fork();
    REQUIRE(sleeper.pid >= 0);
    if (sleeper.pid == 0) {
        for (;;) ::pause();
    }
    REQUIRE(g->add_process(sleeper.pid).ok());

    auto again = Cgroup::open_paths(g->paths());
    REQUIRE(again.ok());
    CHECK(again->version() == g->version());
    CHECK(again->pids() == std::vector<pid_t>{sleeper.pid});
    auto by_name = Cgroup::open_existing(test_name("reopen"));
    REQUIRE(by_name.ok());
    CHECK(by_name->paths() == g->paths());

    // Creating the same name again while it holds a process is refused, and leaves it intact.
    auto dup = Cgroup::create(test_name("reopen"), {});
    REQUIRE_FALSE(dup.ok());
    CHECK(dup.error().message.find("already exists and holds processes") != std::string::npos);
    CHECK(again->pids() == std::vector<pid_t>{sleeper.pid});

    REQUIRE(again->destroy().ok());
    int status = sleeper.reap();
    CHECK(WIFSIGNALED(status));
    for (const auto& p : g.dirs) CHECK_FALSE(fs::exists(p));
}
