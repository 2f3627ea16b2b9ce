// Device rules: Docker's list, the v1 controller's semantics, and a cgroup v2 BPF device program
// loaded with the raw bpf(2) system call.
#include "sim/runtime/device_filter.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstring>

#include "sim/core/files.hpp"

namespace isolab {

namespace {

constexpr int64_t kAny = -1;
constexpr int64_t kMaxMajor = (1 << 12) - 1;  // the kernel's dev_t: 12-bit major, 20-bit minor
constexpr int64_t kMaxMinor = (1 << 20) - 1;

DeviceRule allow_char(int64_t major, int64_t minor, std::string access = "rwm") {
    return {true, 'c', major, minor, std::move(access)};
}

std::string q(const std::string& s) { return "`" + s + "`"; }

// Access letters as the kernel's bits (BPF_DEVCG_ACC_*; the v1 controller uses the same values).
uint32_t access_bits(const std::string& access) {
    uint32_t bits = 0;
    for (char c : access) {
        if (c == 'm') bits |= BPF_DEVCG_ACC_MKNOD;
        if (c == 'r') bits |= BPF_DEVCG_ACC_READ;
        if (c == 'w') bits |= BPF_DEVCG_ACC_WRITE;
    }
    return bits;
}

std::string access_text(uint32_t bits) {
    std::string s;
    if (bits & BPF_DEVCG_ACC_READ) s += 'r';
    if (bits & BPF_DEVCG_ACC_WRITE) s += 'w';
    if (bits & BPF_DEVCG_ACC_MKNOD) s += 'm';
    return s;
}

bool same_node(const DeviceRule& a, const DeviceRule& b) {
    return a.type == b.type && a.major == b.major && a.minor == b.minor;
}

// --- BPF instructions (include/uapi/linux/bpf.h, Documentation/bpf/standardization) ------------

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    bpf_insn i{};
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
}
bpf_insn load_u32(uint8_t dst, uint8_t src, int16_t off) { return insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0); }
bpf_insn alu32_imm(uint8_t op, uint8_t dst, int32_t imm) { return insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm); }
bpf_insn mov32_reg(uint8_t dst, uint8_t src) { return insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0); }
bpf_insn mov64_imm(uint8_t dst, int32_t imm) { return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm); }
bpf_insn jump_imm(uint8_t op, uint8_t dst, int32_t imm, int16_t off) { return insn(BPF_JMP | op | BPF_K, dst, 0, off, imm); }
bpf_insn jump_reg(uint8_t op, uint8_t dst, uint8_t src, int16_t off) { return insn(BPF_JMP | op | BPF_X, dst, src, off, 0); }
bpf_insn exit_insn() { return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

// Registers after the prologue (struct bpf_cgroup_dev_ctx: access_type = access << 16 | type,
// major, minor, each a u32).
constexpr uint8_t R0 = 0, R1 = 1, R2_TYPE = 2, R3_ACCESS = 3, R4_MAJOR = 4, R5_MINOR = 5;

long sys_bpf(int cmd, bpf_attr* attr) { return ::syscall(SYS_bpf, cmd, attr, sizeof(*attr)); }

uint64_t ptr(const void* p) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)); }

Error bpf_error(const std::string& what, int err) {
    std::string hint;
    if (err == EPERM)
        hint = " (loading a cgroup device program needs CAP_SYS_ADMIN or CAP_BPF: run as root)";
    else if (err == EINVAL || err == ENOSYS)
        hint = " (this kernel lacks cgroup BPF device programs: they need Linux 4.15+ built with "
               "CONFIG_CGROUP_BPF=y and CONFIG_BPF_SYSCALL=y)";
    return make_error(errno_error(what, err).message + hint);
}

Result<UniqueFd> load_program(const std::vector<bpf_insn>& prog) {
    static const char kLicense[] = "GPL";  // no GPL-only helper is called; any string would do
    bpf_attr attr{};
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = ptr(prog.data());
    attr.insn_cnt = static_cast<uint32_t>(prog.size());
    attr.license = ptr(kLicense);
    // bpf(2) descriptors are always close-on-exec (the kernel opens them with O_CLOEXEC).
    long fd = sys_bpf(BPF_PROG_LOAD, &attr);
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    int err = errno;
    if (err != EINVAL && err != EACCES) return bpf_error("load the cgroup device program", err);
    // Loaded again with the verifier's log, whose last line says what it refused.
    std::string log(64 * 1024, '\0');
    attr.log_buf = ptr(log.data());
    attr.log_size = static_cast<uint32_t>(log.size());
    attr.log_level = 1;
    fd = sys_bpf(BPF_PROG_LOAD, &attr);
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    log.resize(std::strlen(log.c_str()));
    while (!log.empty() && log.back() == '\n') log.pop_back();
    std::string last = log.substr(log.rfind('\n') == std::string::npos ? 0 : log.rfind('\n') + 1);
    if (last.empty()) return bpf_error("load the cgroup device program", err);
    return make_error("load the cgroup device program: the kernel's verifier refused it: " + last);
}

// Ids of the device programs attached directly to the group (not inherited from ancestors).
Result<std::vector<uint32_t>> attached_programs(int cgroup_fd) {
    std::vector<uint32_t> ids(64);
    bpf_attr attr{};
    attr.query.target_fd = static_cast<uint32_t>(cgroup_fd);
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = ptr(ids.data());
    attr.query.prog_cnt = static_cast<uint32_t>(ids.size());
    if (sys_bpf(BPF_PROG_QUERY, &attr) != 0) return bpf_error("list the device programs attached", errno);
    ids.resize(attr.query.prog_cnt);
    return ids;
}

}  // namespace

std::string device_rule_text(const DeviceRule& r) {
    auto num = [](int64_t v) { return v == kAny ? std::string("*") : std::to_string(v); };
    return std::string(1, r.type) + " " + num(r.major) + ":" + num(r.minor) + " " + r.access;
}

const std::vector<DeviceRule>& moby_default_device_rules() {
    static const std::vector<DeviceRule> rules = {
        {false, 'a', kAny, kAny, "rwm"},
        allow_char(1, 5),  // /dev/zero
        allow_char(1, 3),  // /dev/null
        allow_char(1, 9),  // /dev/urandom
        allow_char(1, 8),  // /dev/random
        allow_char(5, 0),  // /dev/tty
        allow_char(5, 1),  // /dev/console
        {false, 'c', 10, 229, "rwm"},  // /dev/fuse
    };
    return rules;
}

const std::vector<DeviceRule>& runc_default_device_rules() {
    static const std::vector<DeviceRule> rules = {
        allow_char(kAny, kAny, "m"),          // mknod of any character device
        {true, 'b', kAny, kAny, "m"},         // mknod of any block device
        allow_char(1, 3),                     // /dev/null
        allow_char(1, 8),                     // /dev/random
        allow_char(1, 7),                     // /dev/full
        allow_char(5, 0),                     // /dev/tty
        allow_char(1, 5),                     // /dev/zero
        allow_char(1, 9),                     // /dev/urandom
        allow_char(136, kAny),                // /dev/pts/*
        allow_char(5, 2),                     // /dev/ptmx
        allow_char(10, 200),                  // /dev/net/tun
    };
    return rules;
}

std::vector<DeviceRule> docker_default_device_rules() {
    std::vector<DeviceRule> rules = moby_default_device_rules();
    const auto& runc = runc_default_device_rules();
    rules.insert(rules.end(), runc.begin(), runc.end());
    return rules;
}

Status validate_device_rule(const DeviceRule& r, const std::string& where) {
    if (r.type != 'a' && r.type != 'c' && r.type != 'b')
        return make_error(where + ": type must be a, c or b, not " + q(std::string(1, r.type)));
    if (r.access.empty() || r.access.find_first_not_of("rwm") != std::string::npos)
        return make_error(where + ": access must be made of r, w and m (e.g. \"rwm\"), not " + q(r.access));
    if (r.type == 'a' && (r.major != kAny || r.minor != kAny))
        return make_error(where + ": type a stands for every device and takes no major or minor: use type c "
                                  "or b for one device");
    if (r.major < kAny || r.major > kMaxMajor)
        return make_error(where + ": major " + std::to_string(r.major) + " is out of range (0 to " +
                          std::to_string(kMaxMajor) + ", or absent for any)");
    if (r.minor < kAny || r.minor > kMaxMinor)
        return make_error(where + ": minor " + std::to_string(r.minor) + " is out of range (0 to " +
                          std::to_string(kMaxMinor) + ", or absent for any)");
    return {};
}

Result<DevicePolicy> device_policy(const std::vector<DeviceRule>& rules) {
    DevicePolicy p;
    for (size_t i = 0; i < rules.size(); ++i) {
        const DeviceRule& r = rules[i];
        ISOLAB_TRY(validate_device_rule(r, "device rule " + std::to_string(i) + " (" + device_rule_text(r) + ")"));
        if (r.type == 'a') {
            p.default_allow = r.allow;
            p.exceptions.clear();
            continue;
        }
        auto same = std::find_if(p.exceptions.begin(), p.exceptions.end(),
                                 [&](const DeviceRule& e) { return same_node(e, r); });
        if (r.allow != p.default_allow) {
            if (same != p.exceptions.end()) {
                same->access = access_text(access_bits(same->access) | access_bits(r.access));
            } else {
                DeviceRule e = r;
                e.access = access_text(access_bits(r.access));
                p.exceptions.push_back(e);
            }
        } else if (same != p.exceptions.end()) {
            uint32_t left = access_bits(same->access) & ~access_bits(r.access);
            if (left == 0) p.exceptions.erase(same);
            else same->access = access_text(left);
        }
    }
    return p;
}

bool device_allowed(const DevicePolicy& p, char type, uint32_t major, uint32_t minor, const std::string& access) {
    uint32_t want = access_bits(access);
    for (const auto& e : p.exceptions) {
        if (e.type != type) continue;
        if (e.major != kAny && e.major != major) continue;
        if (e.minor != kAny && e.minor != minor) continue;
        uint32_t have = access_bits(e.access);
        if (p.default_allow) {
            if (want & have) return false;  // any shared letter denies
        } else if ((want & ~have) == 0) {
            return true;  // this exception covers every letter asked for
        }
    }
    return p.default_allow;
}

std::vector<DeviceWrite> device_v1_writes(const DevicePolicy& p) {
    std::vector<DeviceWrite> out;
    out.push_back({p.default_allow ? "devices.allow" : "devices.deny", "a"});
    for (const auto& e : p.exceptions)
        out.push_back({p.default_allow ? "devices.deny" : "devices.allow", device_rule_text(e)});
    return out;
}

std::vector<bpf_insn> device_bpf_program(const DevicePolicy& p) {
    std::vector<bpf_insn> prog = {
        load_u32(R2_TYPE, R1, offsetof(bpf_cgroup_dev_ctx, access_type)),
        alu32_imm(BPF_AND, R2_TYPE, 0xffff),
        load_u32(R3_ACCESS, R1, offsetof(bpf_cgroup_dev_ctx, access_type)),
        alu32_imm(BPF_RSH, R3_ACCESS, 16),
        load_u32(R4_MAJOR, R1, offsetof(bpf_cgroup_dev_ctx, major)),
        load_u32(R5_MINOR, R1, offsetof(bpf_cgroup_dev_ctx, minor)),
    };
    const int32_t verdict_on_match = p.default_allow ? 0 : 1;
    for (const auto& e : p.exceptions) {
        // Each failed compare jumps to the next block: its offset is counted from the following
        // instruction to the end of this block, filled in once the block is complete.
        std::vector<bpf_insn> block;
        std::vector<size_t> to_next;
        auto skip_unless = [&](bpf_insn i) {
            to_next.push_back(block.size());
            block.push_back(i);
        };
        skip_unless(jump_imm(BPF_JNE, R2_TYPE, e.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, 0));
        uint32_t bits = access_bits(e.access);
        if (bits != (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)) {
            block.push_back(mov32_reg(R1, R3_ACCESS));
            block.push_back(alu32_imm(BPF_AND, R1, static_cast<int32_t>(bits)));
            // Deny default: the exception must cover every letter asked for (R1 == access).
            // Allow default: it matches when it shares one (R1 != 0).
            skip_unless(p.default_allow ? jump_imm(BPF_JEQ, R1, 0, 0) : jump_reg(BPF_JNE, R1, R3_ACCESS, 0));
        }
        if (e.major != kAny) skip_unless(jump_imm(BPF_JNE, R4_MAJOR, static_cast<int32_t>(e.major), 0));
        if (e.minor != kAny) skip_unless(jump_imm(BPF_JNE, R5_MINOR, static_cast<int32_t>(e.minor), 0));
        block.push_back(mov64_imm(R0, verdict_on_match));
        block.push_back(exit_insn());
        for (size_t at : to_next) block[at].off = static_cast<int16_t>(block.size() - at - 1);
        prog.insert(prog.end(), block.begin(), block.end());
    }
    prog.push_back(mov64_imm(R0, p.default_allow ? 1 : 0));
    prog.push_back(exit_insn());
    return prog;
}

Status attach_device_filter(const std::string& cgroup_dir, const DevicePolicy& policy) {
    const std::string group = "cgroup " + q(cgroup_dir);
    const std::string where = group + ": ";
    UniqueFd dir(::open(cgroup_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid()) return errno_error(where + "open", errno);
    auto prog = load_program(device_bpf_program(policy));
    if (!prog) return prog.error().wrap(group);
    auto old = attached_programs(dir.get());
    if (!old) return old.error().wrap(group);

    bpf_attr attr{};
    attr.target_fd = static_cast<uint32_t>(dir.get());
    attr.attach_bpf_fd = static_cast<uint32_t>(prog->get());
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    if (sys_bpf(BPF_PROG_ATTACH, &attr) != 0) {
        int err = errno;
        if (err == EPERM && !old->empty())
            return make_error(where + "attach the device program: Operation not permitted (a program attached "
                                      "without BPF_F_ALLOW_MULTI holds this group: remove the group and start again)");
        return bpf_error(where + "attach the device program", err);
    }
    // The new program is in place before the old ones go: the group is never unfiltered.
    for (uint32_t id : *old) {
        bpf_attr get{};
        get.prog_id = id;
        long fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &get);
        if (fd < 0) {
            if (errno == ENOENT) continue;  // detached meanwhile
            return bpf_error(where + "open the previous device program " + std::to_string(id), errno);
        }
        UniqueFd old_prog(static_cast<int>(fd));
        bpf_attr detach{};
        detach.target_fd = static_cast<uint32_t>(dir.get());
        detach.attach_bpf_fd = static_cast<uint32_t>(old_prog.get());
        detach.attach_type = BPF_CGROUP_DEVICE;
        if (sys_bpf(BPF_PROG_DETACH, &detach) != 0 && errno != ENOENT)
            return bpf_error(where + "detach the previous device program " + std::to_string(id), errno);
    }
    return {};
}

bool device_rules_enforced_here(std::string* why) {
    auto say = [&](std::string s) {
        if (why) *why = std::move(s);
        return false;
    };
    if (::geteuid() != 0)
        return say("containers of a non-root user run in a user namespace, where the kernel refuses "
                   "device nodes itself");
    // The initial user namespace maps every id to itself; any other map is a user namespace.
    // The initial user namespace has the single identity mapping "0 0 4294967295"; any other map
    // is a user namespace (runc's userns.RunningInUserNS reads it the same way).
    auto map = read_file("/proc/self/uid_map");
    unsigned long inside = 1, outside = 1, count = 0;
    char extra = 0;
    if (map && (std::sscanf(map->c_str(), " %lu %lu %lu %c", &inside, &outside, &count, &extra) != 3 ||
                inside != 0 || outside != 0 || count != 4294967295UL))
        return say("IsoLab runs in a user namespace, where the kernel refuses device nodes itself");
    return true;
}

}  // namespace isolab
