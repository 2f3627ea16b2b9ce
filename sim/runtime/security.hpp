// Process hardening applied by a container's init right before execve, and by `exec` when it joins
// a running container: capabilities, no_new_privs, a seccomp filter, and Docker's masked and
// read-only paths. Each function performs one kernel-facing step and reports failure as a value
// whose message names the object ("mask `/proc/kcore`: Permission denied").
//
// Order matters. A container init goes (runc's order when no_new_privs is requested):
//
//   1. apply_masked_paths, apply_readonly_paths  after pivot_root, with the container's /proc,
//                                                /sys and /dev mounted; they need mount(2), which
//                                                the seccomp filter later forbids.
//   2. sethostname and other namespace setup     the filter forbids sethostname, setns, unshare.
//   3. apply_capabilities                        keeps CAP_SETUID/CAP_SETGID (Docker's set), so
//   4. the switch to the container user          still works; leaving uid 0 then empties the
//                                                permitted and effective sets, as in Docker.
//   5. set_no_new_privs                          the kernel loads a filter only for a process with
//   6. apply_seccomp_default                     no_new_privs or CAP_SYS_ADMIN, and step 3 dropped
//                                                CAP_SYS_ADMIN. Without step 5, load the filter
//                                                before step 3 instead.
//   7. execve                                    none of the calls it makes is filtered.
//
// drop_bounding_set and set_process_capabilities are the two halves of apply_capabilities, for a
// runtime that wants to keep capabilities across the user switch: drop the bounding set while
// still root (it needs CAP_SETPCAP), prctl(PR_SET_KEEPCAPS, 1), switch user, then set the sets.
//
// Everything here works as real root and inside a user namespace (rootless), where "privileged"
// means holding the capability in the namespace that owns the object.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/result.hpp"

namespace isolab::security {

// ---- Capabilities -------------------------------------------------------------------------

// Docker's default capability set (moby oci/defaults.go), as "CAP_CHOWN", "CAP_KILL", ...
const std::vector<std::string>& docker_default_capabilities();

// Every capability this kernel has, as "CAP_" names in number order (Docker's GetAllCapabilities:
// what --privileged and --cap-add ALL give).
std::vector<std::string> all_capabilities();

// Docker's NormalizeLegacyCapabilities for --cap-add/--cap-drop: upper case, "CAP_" prefixed
// when missing, "ALL" kept. Docker's daemon words for a bad name: `unknown capability:
// "CAP_BOGUS"`, and for one this kernel lacks `capability not supported by your kernel or not
// available in the current environment: "CAP_X"`.
Result<std::vector<std::string>> normalize_capabilities(const std::vector<std::string>& names);

// Docker's TweakCapabilities (moby oci/caps): privileged gives every capability; ADD containing
// ALL gives every capability but those in DROP; DROP containing ALL gives ADD alone; otherwise
// BASICS without DROP, then ADD. Names as normalize_capabilities checks them.
Result<std::vector<std::string>> tweak_capabilities(const std::vector<std::string>& basics,
                                                    const std::vector<std::string>& add,
                                                    const std::vector<std::string>& drop, bool privileged);

// Leaves the process with exactly `keep`: every other capability is dropped from the bounding
// set (0..the kernel's last cap, from /proc/sys/kernel/cap_last_cap); permitted and effective
// become `keep`; inheritable and ambient are cleared (an inheritable set lets file capabilities
// be gained: CVE-2022-24769, Docker leaves it empty too). Names are "CAP_" + the kernel's name in
// capital letters. All names are checked before anything changes: an unknown name, or one this
// kernel does not have, is an Error naming it and leaves the process untouched.
// Requires CAP_SETPCAP (to drop bounding capabilities) and every capability in `keep` in the
// permitted set. Irreversible for this process and everything it executes.
Status apply_capabilities(const std::vector<std::string>& keep);

// The two halves of apply_capabilities (see the top of this file for when to split them).
Status drop_bounding_set(const std::vector<std::string>& keep);
Status set_process_capabilities(const std::vector<std::string>& keep);

// ---- no_new_privs -------------------------------------------------------------------------

// prctl(PR_SET_NO_NEW_PRIVS): execve can no longer grant privileges (setuid bits, file
// capabilities). Inherited by children, cannot be unset. Lets an unprivileged process load a
// seccomp filter.
Status set_no_new_privs();

// ---- seccomp ------------------------------------------------------------------------------

// Docker's default seccomp profile (moby profiles/seccomp/default.json) turned around: Docker
// lists what is allowed and denies the rest with EPERM; this filter allows by default and
// denies what Docker's list leaves out, so the effect is the same for every syscall that profile
// knows. Syscalls Docker allows only with some capability (mount with CAP_SYS_ADMIN, reboot
// with CAP_SYS_BOOT, ...) are denied unless that capability is in `capabilities`, as Docker does
// for `--cap-add`. Besides whole syscalls the filter denies:
//   - clone with any CLONE_NEW* namespace flag (EPERM), unless CAP_SYS_ADMIN;
//   - clone3 with ENOSYS, unless CAP_SYS_ADMIN: its flags live in memory the filter cannot read,
//     and ENOSYS makes glibc fall back to clone, which the filter can inspect;
//   - socket(AF_VSOCK) (EPERM).
// The filter covers the native architecture only; a syscall made through another ABI (int 0x80
// on x86_64) kills the process, so no compat entry point can bypass it.
// Not reproduced: Docker's limit on personality(2) values.

// Syscalls that fail with EPERM whatever their arguments under Docker's default capabilities,
// including names that do not exist on this architecture (the filter skips those).
const std::vector<std::string>& docker_blocked_syscalls();

// Builds and loads the filter into the calling thread (the init is single-threaded).
// Precondition: no_new_privs is set (set_no_new_privs) or CAP_SYS_ADMIN is still effective;
// otherwise the kernel refuses with EACCES and the Error says so. Irreversible.
// Capability names are checked like apply_capabilities does.
Status apply_seccomp_default(
    const std::vector<std::string>& capabilities = docker_default_capabilities());

// The same profile in the OCI runtime-spec `linux.seccomp` shape, listing only the names that
// exist on this architecture (what apply_seccomp_default loads):
// {"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],
//  "syscalls":[{"names":[...],"action":"SCMP_ACT_ERRNO","errnoRet":1}, ...]}
// A conditional rule carries "args"; several entries for one syscall mean "any of them". Each
// entry also has a "comment" saying why (as Docker's profile files do); runtimes ignore it.
Result<nlohmann::json> seccomp_oci_json(
    const std::vector<std::string>& capabilities = docker_default_capabilities());

// A Docker seccomp profile (--security-opt seccomp=PROFILE.json: moby's format with archMap,
// includes/excludes by capability and architecture) as the OCI `linux.seccomp` the runtime
// loads, for a container holding CAPABILITIES: moby's setupSeccomp. The result is checked again
// where the runtime spec is parsed.
Result<nlohmann::json> seccomp_profile_to_oci(const std::string& profile_text,
                                              const std::vector<std::string>& capabilities);

// ---- Masked and read-only paths -----------------------------------------------------------

// Docker's lists (moby oci/defaults.go): paths hidden from the container, and paths it may read
// but not write. The masked list includes each /sys/devices/system/cpu/cpuN/thermal_throttle
// that exists when first called, as moby does (GHSA-6fw5-f8r9-fgfm).
const std::vector<std::string>& docker_masked_paths();
const std::vector<std::string>& docker_readonly_paths();

// Masks each path of docker_masked_paths() under `rootfs_prefix` ("" once pivot_root is done,
// so "/proc/kcore" is the container's own): a file gets the null device bind-mounted over it, a
// directory gets an empty read-only tmpfs. Paths that do not exist are skipped.
// Preconditions: the caller has mounted the container's /proc (and /sys, if masking there
// matters) and set up `rootfs_prefix`/dev/null; the process is in its own mount namespace with
// CAP_SYS_ADMIN over it. `/dev/null` must be the real null device (char 1:3), checked before use:
// a rootfs could plant a symlink there to bind a host file writable over a masked path
// (CVE-2025-31133). Mounts go through O_PATH descriptors opened without following a final
// symlink, so a path cannot be swapped for a symlink between check and mount.
Status apply_masked_paths(const std::string& rootfs_prefix);
Status mask_path(const std::string& rootfs_prefix, const std::string& path);

// Makes each path of docker_readonly_paths() under `rootfs_prefix` read-only: bind-mounts it
// onto itself, then remounts that bind read-only, keeping the nosuid/nodev/noexec/atime flags of
// the mount it sits on (in a user namespace the kernel refuses to clear those "locked" flags).
// Submounts below a path keep their own flags. Paths that do not exist are skipped.
// Same preconditions as apply_masked_paths, except /dev/null is not needed.
Status apply_readonly_paths(const std::string& rootfs_prefix);
Status readonly_path(const std::string& rootfs_prefix, const std::string& path);

}  // namespace isolab::security
