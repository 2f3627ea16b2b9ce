// Device rules (sim/runtime/device_filter.hpp).
//
// Unit tests check Docker's list, the v1 controller's semantics, the v1 write sequence, and the
// cgroup v2 BPF program: a small interpreter for the instructions it uses runs the program on
// every node of a table and must decide as device_allowed() does. The "real:" cases load the
// program into this kernel and attach it, through Cgroup::create, to a group of the cgroup2 mount
// (/sys/fs/cgroup on a v2 host, /sys/fs/cgroup/unified on a hybrid one such as CI's: the kernel
// runs a v2 group's device program even when the v1 devices controller is mounted too). They
// need root and say loudly why they skip otherwise.
#include <doctest/doctest.h>

#include "tests/skip.hpp"

#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sim/runtime/cgroup.hpp"
#include "sim/runtime/device_filter.hpp"

namespace fs = std::filesystem;
using namespace isolab;

namespace {

// A node and an access to ask about, with what Docker's default list answers.
struct Ask {
    char type;
    uint32_t major, minor;
    const char* access;
    bool docker_allows;
    const char* what;
};

const Ask kTable[] = {
    {'c', 1, 3, "rw", true, "/dev/null"},
    {'c', 1, 5, "r", true, "/dev/zero"},
    {'c', 1, 7, "w", true, "/dev/full"},
    {'c', 1, 8, "r", true, "/dev/random"},
    {'c', 1, 9, "r", true, "/dev/urandom"},
    {'c', 5, 0, "rw", true, "/dev/tty"},
    {'c', 5, 1, "rw", true, "/dev/console"},
    {'c', 5, 2, "rw", true, "/dev/ptmx"},
    {'c', 136, 0, "rw", true, "/dev/pts/0"},
    {'c', 136, 4095, "rw", true, "/dev/pts/4095"},
    {'c', 10, 200, "rw", true, "/dev/net/tun"},
    {'c', 1, 1, "r", false, "/dev/mem"},
    {'c', 1, 1, "m", true, "mknod /dev/mem"},
    {'c', 1, 2, "r", false, "/dev/kmem"},
    {'c', 1, 4, "rw", false, "/dev/port"},
    {'c', 1, 11, "w", false, "/dev/kmsg"},
    {'c', 10, 229, "rw", false, "/dev/fuse (denied by moby's explicit rule too)"},
    {'c', 10, 229, "m", true, "mknod /dev/fuse"},
    {'c', 4, 0, "rw", false, "/dev/tty0"},
    {'c', 5, 3, "r", false, "5:3, next to /dev/ptmx"},
    {'c', 137, 0, "r", false, "137:0, next to the ptys"},
    {'b', 8, 0, "r", false, "/dev/sda"},
    {'b', 8, 0, "w", false, "/dev/sda for writing"},
    {'b', 7, 0, "rw", false, "/dev/loop0"},
    {'b', 8, 0, "m", true, "mknod /dev/sda"},
    {'b', 1, 3, "r", false, "a block device numbered like /dev/null"},
    {'c', 1, 3, "rwm", true, "/dev/null, every letter"},
};

// Runs a BPF_PROG_TYPE_CGROUP_DEVICE program on one context. Knows exactly the instructions
// device_bpf_program emits; anything else fails the test.
int run_program(const std::vector<bpf_insn>& prog, char type, uint32_t major, uint32_t minor, const std::string& access) {
    uint32_t acc = 0;
    for (char c : access) acc |= c == 'r' ? BPF_DEVCG_ACC_READ : c == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
    bpf_cgroup_dev_ctx ctx{(acc << 16) | (type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR), major, minor};
    uint64_t r[11] = {};
    size_t pc = 0;
    bool r1_is_ctx = true;
    for (int steps = 0; steps < 4096; ++steps) {
        REQUIRE(pc < prog.size());
        const bpf_insn& i = prog[pc++];
        const uint8_t cls = BPF_CLASS(i.code);
        if (i.code == (BPF_LDX | BPF_MEM | BPF_W)) {
            REQUIRE(i.src_reg == 1);
            REQUIRE(r1_is_ctx);
            REQUIRE(i.off >= 0);
            REQUIRE(static_cast<size_t>(i.off) + 4 <= sizeof ctx);
            uint32_t v;
            std::memcpy(&v, reinterpret_cast<const char*>(&ctx) + i.off, 4);
            r[i.dst_reg] = v;
        } else if (cls == BPF_ALU || cls == BPF_ALU64) {
            uint64_t src = BPF_SRC(i.code) == BPF_X ? r[i.src_reg] : static_cast<uint64_t>(static_cast<int64_t>(i.imm));
            uint64_t& d = r[i.dst_reg];
            if (i.dst_reg == 1) r1_is_ctx = false;
            switch (BPF_OP(i.code)) {
                case BPF_MOV: d = src; break;
                case BPF_AND: d &= src; break;
                case BPF_RSH: d >>= src; break;
                default: FAIL("unexpected ALU op " << int(i.code));
            }
            if (cls == BPF_ALU) d &= 0xffffffffu;
        } else if (i.code == (BPF_JMP | BPF_EXIT)) {
            return static_cast<int>(r[0]);
        } else if (cls == BPF_JMP) {
            uint64_t src = BPF_SRC(i.code) == BPF_X ? r[i.src_reg] : static_cast<uint64_t>(static_cast<int64_t>(i.imm));
            bool jump = false;
            switch (BPF_OP(i.code)) {
                case BPF_JNE: jump = r[i.dst_reg] != src; break;
                case BPF_JEQ: jump = r[i.dst_reg] == src; break;
                default: FAIL("unexpected jump op " << int(i.code));
            }
            if (jump) pc += static_cast<size_t>(i.off);
        } else {
            FAIL("unexpected instruction " << int(i.code));
        }
    }
    FAIL("the program did not exit");
    return -1;
}

DevicePolicy policy_of(const std::vector<DeviceRule>& rules) {
    auto p = device_policy(rules);
    REQUIRE_MESSAGE(p.ok(), (p.ok() ? "" : p.error().message));
    return *p;
}

std::vector<std::string> texts(const std::vector<DeviceRule>& rules) {
    std::vector<std::string> out;
    for (const auto& r : rules) out.push_back(device_rule_text(r));
    return out;
}

}  // namespace

TEST_CASE("device rules: Docker's list is moby's rules followed by runc's") {
    CHECK(texts(moby_default_device_rules()) ==
          std::vector<std::string>{"a *:* rwm", "c 1:5 rwm", "c 1:3 rwm", "c 1:9 rwm", "c 1:8 rwm", "c 5:0 rwm",
                                   "c 5:1 rwm", "c 10:229 rwm"});
    CHECK_FALSE(moby_default_device_rules().front().allow);
    CHECK_FALSE(moby_default_device_rules().back().allow);  // fuse: a deny
    CHECK(texts(runc_default_device_rules()) ==
          std::vector<std::string>{"c *:* m", "b *:* m", "c 1:3 rwm", "c 1:8 rwm", "c 1:7 rwm", "c 5:0 rwm",
                                   "c 1:5 rwm", "c 1:9 rwm", "c 136:* rwm", "c 5:2 rwm", "c 10:200 rwm"});
    for (const auto& r : runc_default_device_rules()) CHECK(r.allow);
    auto all = docker_default_device_rules();
    CHECK(all.size() == moby_default_device_rules().size() + runc_default_device_rules().size());

    DevicePolicy p = policy_of(all);
    CHECK_FALSE(p.default_allow);
    // Duplicates merge; the order is the one the kernel lists them in (devices.list).
    CHECK(texts(p.exceptions) == std::vector<std::string>{"c 1:5 rwm", "c 1:3 rwm", "c 1:9 rwm", "c 1:8 rwm",
                                                          "c 5:0 rwm", "c 5:1 rwm", "c *:* m", "b *:* m",
                                                          "c 1:7 rwm", "c 136:* rwm", "c 5:2 rwm", "c 10:200 rwm"});
    for (const auto& a : kTable) {
        INFO(a.what << " (" << a.type << " " << a.major << ":" << a.minor << " " << a.access << ")");
        CHECK(device_allowed(p, a.type, a.major, a.minor, a.access) == a.docker_allows);
    }
}

TEST_CASE("device rules: the v1 controller's semantics") {
    auto allow = [](char t, int64_t ma, int64_t mi, const char* acc) { return DeviceRule{true, t, ma, mi, acc}; };
    auto deny = [](char t, int64_t ma, int64_t mi, const char* acc) { return DeviceRule{false, t, ma, mi, acc}; };
    const DeviceRule allow_all{true, 'a', -1, -1, "rwm"}, deny_all{false, 'a', -1, -1, "rwm"};

    // No rule at all: deny everything (runc's emulator starts there too).
    DevicePolicy none = policy_of({});
    CHECK_FALSE(none.default_allow);
    CHECK_FALSE(device_allowed(none, 'c', 1, 3, "r"));

    // Letters of one node merge, and a deny takes letters away from that exact node.
    DevicePolicy merged = policy_of({allow('c', 1, 3, "r"), allow('c', 1, 3, "wm"), deny('c', 1, 3, "m")});
    CHECK(texts(merged.exceptions) == std::vector<std::string>{"c 1:3 rw"});
    CHECK(device_allowed(merged, 'c', 1, 3, "rw"));
    CHECK_FALSE(device_allowed(merged, 'c', 1, 3, "m"));
    CHECK(policy_of({allow('c', 1, 3, "r"), deny('c', 1, 3, "rwm")}).exceptions.empty());

    // A deny never punches a hole into a wildcard exception (the kernel's dev_exception_rm).
    DevicePolicy wide = policy_of({allow('c', 136, -1, "rwm"), deny('c', 136, 1, "rwm")});
    CHECK(texts(wide.exceptions) == std::vector<std::string>{"c 136:* rwm"});
    CHECK(device_allowed(wide, 'c', 136, 1, "r"));

    // One exception must cover every letter asked for: "c *:* m" and "c 1:3 r" do not add up to "rm".
    DevicePolicy split = policy_of({allow('c', -1, -1, "m"), allow('c', 1, 3, "r")});
    CHECK(device_allowed(split, 'c', 1, 3, "r"));
    CHECK(device_allowed(split, 'c', 1, 3, "m"));
    CHECK_FALSE(device_allowed(split, 'c', 1, 3, "rm"));
    CHECK_FALSE(device_allowed(split, 'b', 1, 3, "m"));

    // "a" resets: everything before it is forgotten.
    DevicePolicy reset = policy_of({allow('c', 1, 3, "rwm"), allow_all, deny('b', 8, -1, "w")});
    CHECK(reset.default_allow);
    CHECK(texts(reset.exceptions) == std::vector<std::string>{"b 8:* w"});
    // With an allow default an exception sharing any letter denies.
    CHECK(device_allowed(reset, 'b', 8, 0, "r"));
    CHECK_FALSE(device_allowed(reset, 'b', 8, 0, "w"));
    CHECK_FALSE(device_allowed(reset, 'b', 8, 0, "rw"));
    CHECK(device_allowed(reset, 'c', 8, 0, "w"));
    // An allow in allow-default mode removes letters from the matching exception.
    CHECK(policy_of({allow_all, deny('b', 8, -1, "rw"), allow('b', 8, -1, "w")}).exceptions.front().access == "r");
    CHECK(policy_of({allow_all, deny('c', 1, 1, "rwm"), deny_all}).exceptions.empty());

    // v1 writes: the default first, then each exception to the other file.
    auto writes = device_v1_writes(policy_of(docker_default_device_rules()));
    REQUIRE(writes.size() == 13);
    CHECK(writes[0].file == "devices.deny");
    CHECK(writes[0].line == "a");
    CHECK(writes[1].file == "devices.allow");
    CHECK(writes[1].line == "c 1:5 rwm");
    CHECK(writes[12].line == "c 10:200 rwm");
    auto inverse = device_v1_writes(reset);
    REQUIRE(inverse.size() == 2);
    CHECK(inverse[0].file == "devices.allow");
    CHECK(inverse[1].file == "devices.deny");
    CHECK(inverse[1].line == "b 8:* w");
}

TEST_CASE("device rules: malformed rules are refused, naming the rule") {
    struct Bad {
        DeviceRule rule;
        const char* says;
    };
    const Bad bad[] = {
        {{true, 'x', 1, 3, "rwm"}, "type must be a, c or b"},
        {{true, 'c', 1, 3, ""}, "access must be made of r, w and m"},
        {{true, 'c', 1, 3, "rwx"}, "access must be made of r, w and m"},
        {{true, 'a', 1, -1, "rwm"}, "type a stands for every device"},
        {{true, 'c', 4096, 0, "rwm"}, "major 4096 is out of range"},
        {{true, 'c', 1, 1 << 20, "rwm"}, "minor 1048576 is out of range"},
        {{true, 'c', -2, 0, "rwm"}, "major -2 is out of range"},
    };
    for (const auto& b : bad) {
        INFO(b.says);
        auto p = device_policy({DeviceRule{false, 'a', -1, -1, "rwm"}, b.rule});
        REQUIRE_FALSE(p.ok());
        CHECK(p.error().message.find(b.says) != std::string::npos);
        CHECK(p.error().message.find("device rule 1") != std::string::npos);
        CHECK_FALSE(validate_device_rule(b.rule, "here").ok());
    }
    CHECK(validate_device_rule({true, 'c', 4095, (1 << 20) - 1, "m"}, "here").ok());
}

TEST_CASE("device rules: the BPF program decides as the v1 controller does") {
    const DeviceRule allow_all{true, 'a', -1, -1, "rwm"};
    const std::vector<std::vector<DeviceRule>> rule_sets = {
        docker_default_device_rules(),
        {},
        {allow_all},
        {allow_all, {false, 'b', 8, -1, "w"}, {false, 'c', 1, 1, "rwm"}, {false, 'c', -1, 11, "r"}},
        {{true, 'c', -1, -1, "m"}, {true, 'c', 1, 3, "r"}, {true, 'b', 7, -1, "rw"}},
    };
    for (size_t s = 0; s < rule_sets.size(); ++s) {
        DevicePolicy p = policy_of(rule_sets[s]);
        auto prog = device_bpf_program(p);
        // The prologue (6), per exception at most 8, and the default verdict (2).
        CHECK(prog.size() <= 8 + 8 * p.exceptions.size());
        CHECK(prog.back().code == (BPF_JMP | BPF_EXIT));
        for (size_t i = 0; i < prog.size(); ++i)
            if (BPF_CLASS(prog[i].code) == BPF_JMP && prog[i].code != (BPF_JMP | BPF_EXIT))
                CHECK(i + 1 + static_cast<size_t>(prog[i].off) < prog.size());  // jumps stay inside
        for (const auto& a : kTable) {
            for (const char* access : {"r", "w", "m", "rw", a.access}) {
                INFO("rule set " << s << ", " << a.what << " " << access);
                CHECK(run_program(prog, a.type, a.major, a.minor, access) ==
                      (device_allowed(p, a.type, a.major, a.minor, access) ? 1 : 0));
            }
        }
    }
}

// --- real: this kernel, a group on the cgroup2 mount ---------------------------------------------

namespace {

// The cgroup2 mount point (pure v2 or hybrid), or "" when there is none.
std::string cgroup2_mount() {
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
        auto dash = line.find(" - cgroup2 ");
        if (dash == std::string::npos) continue;
        std::istringstream f(line);
        std::string id, parent, devno, root, point;
        f >> id >> parent >> devno >> root >> point;
        if (point.rfind("/sys/fs/cgroup", 0) == 0) return point;
    }
    return "";
}

// Forks a child, moves it into CG, and has it try each access on a node it can reach; returns the
// errno of each try (0 = allowed). Nodes are made in DIR by the parent (outside the group), except
// for "m" tries, which the child makes itself.
std::vector<int> try_in_group(Cgroup& cg, const std::string& dir, const std::vector<Ask>& asks) {
    for (size_t i = 0; i < asks.size(); ++i) {
        std::string node = dir + "/n" + std::to_string(i);
        ::unlink(node.c_str());
        if (std::string(asks[i].access) == "m") continue;
        mode_t type = asks[i].type == 'b' ? S_IFBLK : S_IFCHR;
        REQUIRE(::mknod(node.c_str(), type | 0666, makedev(asks[i].major, asks[i].minor)) == 0);
    }
    int gate[2], out[2];
    REQUIRE(::pipe2(gate, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        char c;
        if (::read(gate[0], &c, 1) != 1) ::_exit(1);
        std::vector<int> errs;
        for (size_t i = 0; i < asks.size(); ++i) {
            std::string node = dir + "/n" + std::to_string(i);
            std::string acc = asks[i].access;
            int rc;
            if (acc == "m") {
                rc = ::mknod(node.c_str(), (asks[i].type == 'b' ? S_IFBLK : S_IFCHR) | 0600,
                             makedev(asks[i].major, asks[i].minor));
            } else {
                int flags = acc == "rw" ? O_RDWR : acc == "w" ? O_WRONLY : O_RDONLY;
                rc = ::open(node.c_str(), flags | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
                if (rc >= 0) ::close(rc);
            }
            // Past the cgroup check a node may still fail (no such hardware: ENXIO, ENODEV);
            // only EPERM is the device rules' answer.
            errs.push_back(rc < 0 ? errno : 0);
        }
        ssize_t n = ::write(out[1], errs.data(), errs.size() * sizeof(int));
        ::_exit(n == static_cast<ssize_t>(errs.size() * sizeof(int)) ? 0 : 1);
    }
    ::close(gate[0]);
    ::close(out[1]);
    Status joined = cg.add_process(pid);
    char go = 'g';
    if (joined) REQUIRE(::write(gate[1], &go, 1) == 1);
    ::close(gate[1]);
    std::vector<int> errs(asks.size(), -1);
    ssize_t n = ::read(out[0], errs.data(), errs.size() * sizeof(int));
    ::close(out[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE_MESSAGE(joined.ok(), (joined.ok() ? "" : joined.error().message));
    REQUIRE(n == static_cast<ssize_t>(errs.size() * sizeof(int)));
    for (size_t i = 0; i < asks.size(); ++i) ::unlink((dir + "/n" + std::to_string(i)).c_str());
    return errs;
}

struct ScratchDir {
    std::string path;
    ScratchDir() {
        char tmpl[] = "/tmp/isolab-devices-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~ScratchDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

}  // namespace

TEST_CASE("real: the device program, attached to a cgroup2 group, allows Docker's nodes and denies the rest") {
    std::string why;
    std::string mount = cgroup2_mount();
    if (!device_rules_enforced_here(&why)) {
        ISOLAB_SKIP("real device program test: " << why);
        return;
    }
    if (mount.empty()) {
        ISOLAB_SKIP("real device program test: no cgroup2 mount under /sys/fs/cgroup");
        return;
    }
    ScratchDir dir;
    struct statvfs sv;
    REQUIRE(::statvfs(dir.path.c_str(), &sv) == 0);
    if (sv.f_flag & ST_NODEV) {
        ISOLAB_SKIP("real device program test: " << dir.path << " is on a nodev mount");
        return;
    }
    // Through Cgroup::create, pointed at the cgroup2 mount: the v2 code path of the manager, with
    // the real kernel under it.
    CgroupSource v2{mount, "/proc/self/mountinfo", "/proc/self/cgroup"};
    const std::string name = "isolab-test/" + std::to_string(::getpid()) + "/devices";
    const std::string group_dir = mount + "/" + name;
    auto cleanup = [&] {
        if (auto cg = Cgroup::open_paths({group_dir}, v2)) (void)cg->destroy();
        ::rmdir(fs::path(group_dir).parent_path().c_str());
        ::rmdir(fs::path(group_dir).parent_path().parent_path().c_str());
    };
    struct Guard {
        std::function<void()> f;
        ~Guard() { f(); }
    } guard{cleanup};

    auto cg = Cgroup::create(name, CgroupLimits{}, v2);
    REQUIRE_MESSAGE(cg.ok(), (cg.ok() ? "" : cg.error().message));
    REQUIRE(cg->version() == CgroupVersion::V2);
    CHECK(cg->paths() == std::vector<std::string>{group_dir});

    // The accesses a process can ask for one at a time: open for r, w or rw, and mknod.
    std::vector<Ask> asks;
    for (const auto& a : kTable)
        if (std::string(a.access) != "rwm") asks.push_back(a);
    auto errs = try_in_group(*cg, dir.path, asks);
    DevicePolicy docker = policy_of(docker_default_device_rules());
    for (size_t i = 0; i < asks.size(); ++i) {
        INFO(asks[i].what << " " << asks[i].access << ": errno " << errs[i] << " (" << std::strerror(errs[i]) << ")");
        CHECK((errs[i] != EPERM) == asks[i].docker_allows);
        CHECK((errs[i] != EPERM) == device_allowed(docker, asks[i].type, asks[i].major, asks[i].minor, asks[i].access));
    }

    // The group reused with other rules (kmsg allowed too): the previous program is detached, or
    // it would still deny (every attached program must allow).
    CHECK(cg->pids().empty());
    CgroupLimits with_kmsg;
    with_kmsg.devices->push_back({true, 'c', 1, 11, "rw"});
    auto again = Cgroup::create(name, with_kmsg, v2);
    REQUIRE_MESSAGE(again.ok(), (again.ok() ? "" : again.error().message));
    auto kmsg = try_in_group(*again, dir.path, {{'c', 1, 11, "r", true, "/dev/kmsg"}, {'c', 1, 1, "r", false, "/dev/mem"}});
    CHECK(kmsg[0] != EPERM);
    CHECK(kmsg[1] == EPERM);

    // nullopt leaves device access alone: no program, the parent's answer (allow) holds.
    REQUIRE(again->destroy().ok());
    auto open_group = Cgroup::create(name, CgroupLimits{.devices = std::nullopt}, v2);
    REQUIRE(open_group.ok());
    auto mem = try_in_group(*open_group, dir.path, {{'c', 1, 1, "r", true, "/dev/mem"}});
    CHECK(mem[0] != EPERM);
}

TEST_CASE("real: a group of this host's cgroup layout enforces Docker's device rules") {
    std::string why;
    if (!device_rules_enforced_here(&why)) {
        ISOLAB_SKIP("real device rules test: " << why);
        return;
    }
    auto info = cgroup_probe();
    if (!info.writable) {
        ISOLAB_SKIP("real device rules test: " << info.reason);
        return;
    }
    ScratchDir dir;
    struct statvfs sv;
    REQUIRE(::statvfs(dir.path.c_str(), &sv) == 0);
    if (sv.f_flag & ST_NODEV) {
        ISOLAB_SKIP("real device rules test: " << dir.path << " is on a nodev mount");
        return;
    }
    const std::string name = "isolab-test/" + std::to_string(::getpid()) + "/host-devices";
    auto cg = Cgroup::create(name, CgroupLimits{});
    REQUIRE_MESSAGE(cg.ok(), (cg.ok() ? "" : cg.error().message));
    std::vector<std::string> dirs = cg->paths();
    struct Guard {
        Cgroup& cg;
        std::vector<std::string> dirs;
        ~Guard() {
            (void)cg.destroy();
            for (const auto& d : dirs) {
                ::rmdir(fs::path(d).parent_path().c_str());
                ::rmdir(fs::path(d).parent_path().parent_path().c_str());
            }
        }
    } guard{*cg, dirs};
    MESSAGE("cgroup " << std::string(cgroup_version_name(cg->version())));

    if (cg->version() == CgroupVersion::V1) {
        // The kernel's own listing of the group's exceptions is Docker's list, in order.
        std::string list;
        for (const auto& d : dirs)
            if (fs::exists(d + "/devices.list")) {
                std::ifstream in(d + "/devices.list");
                std::stringstream ss;
                ss << in.rdbuf();
                list = ss.str();
            }
        std::string want;
        for (const auto& e : policy_of(docker_default_device_rules()).exceptions) want += device_rule_text(e) + "\n";
        CHECK(list == want);
    }
    auto errs = try_in_group(*cg, dir.path,
                             {{'c', 1, 1, "m", true, "mknod /dev/mem"},
                              {'c', 1, 1, "r", false, "/dev/mem"},
                              {'c', 1, 11, "r", false, "/dev/kmsg"},
                              {'b', 7, 0, "r", false, "/dev/loop0"},
                              {'c', 1, 3, "rw", true, "/dev/null"},
                              {'c', 1, 9, "r", true, "/dev/urandom"},
                              {'c', 5, 2, "rw", true, "/dev/ptmx"}});
    CHECK(errs[0] == 0);
    CHECK(errs[1] == EPERM);
    CHECK(errs[2] == EPERM);
    CHECK(errs[3] == EPERM);
    CHECK(errs[4] == 0);
    CHECK(errs[5] == 0);
    CHECK(errs[6] != EPERM);
}
