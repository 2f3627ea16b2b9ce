// Device access for containers: which device nodes a container may create (m), read (r) and
// write (w), Docker's default rule list, and the two ways the kernel enforces it on a cgroup.
//
// Why. CAP_MKNOD is in Docker's default capability set and the container's root file system is an
// overlay mounted without nodev (as Docker's is), so nothing but these rules stops container root
// from `mknod /tmp/m c 1 1` and reading the host's memory, or any user from opening a 0666 device
// node an image layer ships. The rules are the cgroup's, not the mount's: they hold for every
// node the container can reach, wherever it came from.
//
// Meaning. Rules are applied in order to a state that starts as "deny everything", exactly as the
// cgroup v1 devices controller applies lines written to devices.deny / devices.allow
// (Documentation/admin-guide/cgroup-v1/devices.rst; runc's device emulator models the same):
//   * a rule of type `a` resets the state: allow or deny by default, no exceptions;
//   * a rule whose verdict differs from the default adds an exception (access letters of the
//     same type, major and minor are merged);
//   * a rule whose verdict equals the default takes its letters away from the exception with the
//     same type, major and minor, never from a wider one (a rule cannot punch a hole into a
//     wildcard).
// device_policy() computes that state once. cgroup v1 writes it (device_v1_writes), cgroup v2
// compiles it into a BPF_PROG_TYPE_CGROUP_DEVICE program (device_bpf_program) that the kernel runs
// on every open(2) and mknod(2) of a device node, and device_allowed() answers the same question
// in plain C++ for tests and explanations.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/result.hpp"

namespace isolab {

// One device cgroup rule: an OCI linux.resources.devices[] entry, a line of v1 devices.allow.
struct DeviceRule {
    bool allow = false;
    char type = 'a';                 // 'a' every device, 'c' character, 'b' block
    int64_t major = -1, minor = -1;  // -1: any (*)
    std::string access = "rwm";      // a non-empty subset of r (read), w (write), m (mknod)

    bool operator==(const DeviceRule&) const = default;
};

// "c 1:3 rwm", "c 136:* rwm", "a *:* rwm": the syntax of v1 devices.allow and devices.list.
std::string device_rule_text(const DeviceRule& rule);

// The rules Docker's engine writes into config.json (moby oci/defaults.go DefaultLinuxSpec):
//   deny  a *:* rwm
//   allow c 1:5 rwm  /dev/zero      allow c 1:3 rwm  /dev/null     allow c 1:9 rwm  /dev/urandom
//   allow c 1:8 rwm  /dev/random    allow c 5:0 rwm  /dev/tty      allow c 5:1 rwm  /dev/console
//   deny  c 10:229 rwm  /dev/fuse (a no-op after "deny all": kept because Docker writes it)
const std::vector<DeviceRule>& moby_default_device_rules();

// The rules runc appends to every container's list, whatever config.json says (libcontainer/
// specconv AllowedDevices; a bundle made by `runc spec`, whose only rule is "deny all", relies on
// them for /dev/null):
//   allow c *:* m    mknod of any character device   allow b *:* m   mknod of any block device
//   allow c 1:3 rwm  /dev/null      allow c 1:8 rwm  /dev/random   allow c 1:7 rwm  /dev/full
//   allow c 5:0 rwm  /dev/tty       allow c 1:5 rwm  /dev/zero     allow c 1:9 rwm  /dev/urandom
//   allow c 136:* rwm  /dev/pts/*   allow c 5:2 rwm  /dev/ptmx
//   allow c 10:200 rwm  /dev/net/tun: removed in runc 1.2.0 and put back in 1.2.4 (runc#4555,
//   "users rely on it"); the runc that Docker 27 and 28 ship has it.
const std::vector<DeviceRule>& runc_default_device_rules();

// What a `docker run` container gets: moby's rules, then runc's. Mknod of any node is allowed (it
// is harmless once opening is not); opening is allowed for the nodes above only.
std::vector<DeviceRule> docker_default_device_rules();

// Checks one rule: type a, c or b; access a non-empty subset of "rwm"; major and minor -1 or in
// the kernel's range (12 and 20 bits); a type-`a` rule names no major or minor (the kernel would
// ignore them and reset everything, which is not what such a rule seems to say). WHERE names the
// rule in the message ("linux.resources.devices[2]").
Status validate_device_rule(const DeviceRule& rule, const std::string& where);

// The state the rules leave (see "Meaning" above), starting from "deny everything".
struct DevicePolicy {
    bool default_allow = false;
    std::vector<DeviceRule> exceptions;  // each with allow == !default_allow, in first-added order
};
Result<DevicePolicy> device_policy(const std::vector<DeviceRule>& rules);

// The kernel's decision for ACCESS ("r", "w", "rw" for open; "m" for mknod) on a node of TYPE
// ('c' or 'b'), MAJOR:MINOR. With a deny default a single exception must cover every letter; with
// an allow default an exception sharing any letter denies.
bool device_allowed(const DevicePolicy& policy, char type, uint32_t major, uint32_t minor,
                    const std::string& access);

// cgroup v1: the lines to write, in order, each with one write(2): "a" to devices.deny (or
// devices.allow for an allow default), then every exception to the other file.
struct DeviceWrite {
    std::string file;  // "devices.deny" or "devices.allow"
    std::string line;  // "a" or device_rule_text(exception)
};
std::vector<DeviceWrite> device_v1_writes(const DevicePolicy& policy);

// cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program returning 1 (allow) or 0 (deny, EPERM) for the
// access in its context, one block of compares per exception (the shape of runc's
// devicefilter.go and crun's ebpf.c).
std::vector<bpf_insn> device_bpf_program(const DevicePolicy& policy);

// Loads device_bpf_program(POLICY) and attaches it to the cgroup v2 directory CGROUP_DIR with
// BPF_F_ALLOW_MULTI (as runc and crun do: programs of ancestor groups, e.g. systemd's, keep
// running and every one must allow), then detaches the programs a previous run left attached to
// that directory, so a reused group never runs stale rules and is never without a filter. The
// program stays attached after this returns, until the directory is removed. Needs CAP_SYS_ADMIN
// (or CAP_BPF) and a kernel with CONFIG_CGROUP_BPF (Linux 4.15+); the error says which is missing.
//
// The raw bpf(2) system call, not libbpf: the monitor is a fully static binary and libbpf would
// pull in libelf and zlib for what is a dozen instructions.
Status attach_device_filter(const std::string& cgroup_dir, const DevicePolicy& policy);

// Whether device rules can and need be enforced by this process: real root in the initial user
// namespace. Anyone else (a non-root user, root inside a user namespace) runs containers in a user
// namespace, where the kernel itself refuses mknod of devices (CAP_MKNOD counts only in the initial
// namespace) and opens no device node on a file system mounted there (SB_I_NODEV); such a caller
// can neither write v1 devices files nor load a device program. runc skips device rules in a user
// namespace for the same reasons. WHY, when given, receives the reason when the answer is false.
bool device_rules_enforced_here(std::string* why = nullptr);

}  // namespace isolab
