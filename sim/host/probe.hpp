// What this machine offers: the facts `isolab doctor` prints, and the ones the engine and the GUI
// use to pick their backends (STYLE §5: "pick at start-up from what doctor finds").
//
// probe_host() never fails and never hangs. Every check that could block or that changes the
// calling process (unshare, opening /dev/kvm, running qemu) runs in a forked child with a hard
// timeout; the caller only reads files and waits with poll(). Nested KVM is the reason: on our
// machines KVM_CREATE_VM, KVM_CREATE_VCPU or the first KVM_RUN can hang forever, so the KVM probe
// (which goes as far as running one guest instruction) is killed with SIGKILL when it does not
// answer in time, and IsoLab falls back to QEMU's TCG.
//
// Texts in Capability::detail are already translated into the current i18n language; code that
// decides something must use the typed fields of HostReport, never parse a detail.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "sim/core/mountinfo.hpp"

namespace isolab::host {

// One thing the machine offers or lacks, in the order doctor prints them.
struct Capability {
    std::string id;              // stable: "kvm", "cgroups", … (probe_host lists them all)
    bool available = false;      // usable as IsoLab needs it
    bool degraded = false;       // usable, with a limit: detail says which, fallback_key its cost
    std::string detail;          // e.g. "cgroup v1 (hybrid): memory pids cpu cpuacct freezer"
    std::string fallback_key;    // i18n key: what IsoLab does instead; empty when nothing is lost
    std::string fix;             // the command that fixes it, e.g. "apt-get install qemu-system-x86";
                                 // empty when no single command does
};

using isolab::CgroupLayout;  // sim/core/mountinfo.hpp, with cgroup_layout_name()
using isolab::cgroup_layout_name;

// What /proc/self/mountinfo says about cgroups. A pure function of the text, for unit tests.
struct CgroupMounts {
    CgroupLayout layout = CgroupLayout::None;
    std::vector<std::string> v1_controllers;    // every controller bound to a v1 hierarchy, sorted
                                                // most useful first (memory pids cpu cpuacct …)
    struct Hierarchy {
        std::string mountpoint;
        std::string root;                       // the mount's root inside the cgroup tree
        std::vector<std::string> controllers;   // empty for a name= hierarchy
    };
    std::vector<Hierarchy> v1_hierarchies;
    std::string v2_mountpoint;                  // "" when no cgroup2 is mounted
    std::string v2_root;
};
CgroupMounts parse_cgroup_mountinfo(std::string_view mountinfo);
CgroupMounts summarize_cgroup_mounts(const std::vector<isolab::CgroupMount>& mounts);

struct ProbeOptions {
    int kvm_timeout_ms = 1500;        // the KVM child is SIGKILLed after this
    int command_timeout_ms = 3000;    // `qemu-system-x86_64 --version`
    int namespace_timeout_ms = 2000;  // the unshare() children
    bool child_probes = true;         // false: read files only, fork nothing (fast, less certain)
    // Tests only: runs in the KVM child instead of the real sequence (which needs /dev/kvm; its
    // device checks are skipped too). It speaks the child's protocol: child_report("ok 12") and
    // return 0 for a working KVM; anything else is a failure; hanging is a timeout.
    std::function<int()> kvm_child_override;
};

struct HostReport {
    std::string error;  // non-empty when /proc cannot be read: then nothing below is meaningful

    bool root = false;
    uid_t euid = 0;
    std::string kernel;  // uname -r
    int kernel_major = 0, kernel_minor = 0;
    std::string distro;  // PRETTY_NAME from /etc/os-release
    std::string arch;    // uname -m

    bool user_namespaces = false;                // this user can create one (and gets privileges in it)
    bool namespaces = false;                     // all six below can be created by this user
    std::vector<std::string> namespaces_created; // of pid mnt uts ipc net cgroup
    std::vector<std::string> namespaces_failed;

    CgroupLayout cgroup_layout = CgroupLayout::None;
    std::vector<std::string> cgroup_controllers;  // v1: mounted hierarchies; v2: usable ones
    bool cgroup_writable = false;                 // this user can create groups where IsoLab would

    bool overlay = false;            // the kernel offers overlayfs (loaded or as a module)
    bool overlay_in_userns = false;  // … and allows it inside a user namespace (≥ 5.11)
    bool seccomp = false;

    std::string qemu_path;     // "" when qemu-system-x86_64 is not on PATH
    std::string qemu_version;  // "7.2.19", "" when unknown
    bool kvm = false;          // the child created a VM and ran a test guest in time
    bool kvm_timed_out = false;

    bool display = false;
    std::string korean_font;   // "" when none was found

    std::string container_backend;  // what fits here: namespaces | rootless | simulated
    std::string vm_backend;         // qemu-kvm | qemu-tcg | model

    std::vector<Capability> capabilities;

    const Capability* find(std::string_view id) const;  // nullptr when there is no such id
};

// Probes everything above. Capabilities, in this order: privileges user_namespaces namespaces
// cgroups overlayfs seccomp qemu kvm display korean_font busybox_static runc bwrap iproute2
// firewall. Takes tens of milliseconds, plus up to the KVM timeout when nested KVM hangs; never
// longer than the sum of the option timeouts plus about two seconds.
HostReport probe_host(const ProbeOptions& options = {});

nlohmann::json to_json(const HostReport& report);

// True when this process's root is not the root of PID 1 (it runs in a chroot). The kernel then
// refuses pivot_root and user namespaces, so the container runtime cannot work and IsoLab falls
// back to the simulated backend. False when it cannot be told (no access to /proc/1/root).
bool in_chroot();

// The first Korean-capable font file on this machine ($ISOLAB_FONT first, then fonts-noto-cjk,
// then fonts-nanum and a few others), or "" when there is none.
std::string korean_font_path();

// NAME as the shell would find it on $PATH, also trying the sbin directories a non-root PATH
// often lacks (ip, nft and runc live there). "" when not found. A NAME containing '/' is checked
// as given.
std::string find_on_path(std::string_view name);

// ---- running a probe in a child ---------------------------------------------------------------

struct ChildOutcome {
    enum class Kind { Exited, Signaled, TimedOut, Failed };
    Kind kind = Kind::Failed;
    int code = 0;              // Exited: the exit code; Signaled: the signal number
    std::string output;        // everything the child wrote to child_output_fd() (≤ 64 KiB)
    pid_t pid = -1;            // the child's pid (-1 when fork failed)
    bool reaped = false;       // false only when a SIGKILLed child is stuck in the kernel; a
                               // background thread then reaps it whenever the kernel lets go
    double elapsed_ms = 0;
    std::string error;         // Failed: why; TimedOut with !reaped: a note
};

// Runs FN in a forked child and waits at most TIMEOUT_MS for it to exit; on timeout the child is
// SIGKILLed and reaped before this returns (see ChildOutcome::reaped for the one exception).
// FN's return value is the child's exit code (& 0xff); FN must not return into the caller's stack
// in any other way (exceptions are caught and turn into exit code 126). The child dies with the
// caller (PR_SET_PDEATHSIG) and starts with default signal dispositions, none blocked. Returns
// within about TIMEOUT_MS + 0.5 s whatever FN does.
ChildOutcome probe_with_timeout(const std::function<int()>& fn, int timeout_ms);

// Inside FN only: the write end of the pipe the parent collects into ChildOutcome::output
// (close-on-exec), and a helper that writes TEXT to it.
int child_output_fd();
void child_report(std::string_view text);

// Runs ARGV (ARGV[0] a path) with stdin from /dev/null and stdout+stderr collected into output,
// killed after TIMEOUT_MS. An exec failure is exit code 127.
ChildOutcome run_with_timeout(const std::vector<std::string>& argv, int timeout_ms);

}  // namespace isolab::host
