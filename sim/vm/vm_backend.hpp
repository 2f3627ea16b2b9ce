// The hypervisor behind a VM: one interface, two implementations (STYLE §5, after crun's cgroup
// managers behind one table of functions):
//
//   QemuBackend   (sim/vm/qemu.hpp)      a real guest kernel under QEMU, accelerated by KVM or
//                                        emulated by TCG; its numbers are measurements
//   ModelBackend  (sim/vm/vm_model.hpp)  no guest at all: boot stages from assets/vm-model.json,
//                                        labeled "modeled" wherever a learner sees them
//
// The kind is chosen once per VmManager, from what the machine offers (choose_vm_backend), and
// stored in each VM's record; every later action on that VM goes to the implementation of the
// record's kind. Only the record's JSON, events and front ends turn the kind into words.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/core/result.hpp"

namespace isolab::vm {

enum class VmBackendKind {
    QemuKvm,  // QEMU with KVM: the guest runs on the CPU
    QemuTcg,  // QEMU's software emulation (no usable KVM here)
    Model,    // no QEMU or no guest kernel here: modeled timings, nothing runs
};

inline constexpr VmBackendKind kAllVmBackendKinds[] = {VmBackendKind::QemuKvm, VmBackendKind::QemuTcg,
                                                       VmBackendKind::Model};

// "qemu-kvm", "qemu-tcg", "model": the words of vm.json, `vm inspect`, events and `race --json`.
std::string_view to_string(VmBackendKind k);
// The inverse of to_string(VmBackendKind); false (and *out untouched) for any other text.
bool parse_vm_backend(std::string_view text, VmBackendKind* out);
// True for the model: no guest ran, so its numbers are modeled, never measurements (BRIEF §6).
bool is_modeled(VmBackendKind k);
// True when TEXT, a backend word read back from JSON (a race side, which may also name a
// container backend), names the model.
bool names_modeled_vm(std::string_view text);

// What the machine offers, as choose_vm_backend() weighs it. Kept apart from the probing so the
// choice itself is a pure function the unit tests walk through.
struct VmHostFacts {
    std::string requested;            // $ISOLAB_VM_BACKEND ("" when unset)
    bool qemu_found = false;          // qemu-system-x86_64 on PATH
    bool guest_found = false;         // vmlinuz and initramfs.gz in guest_dir()
    bool kvm_known_broken = false;    // a KVM boot already failed here since the host booted
    std::function<bool()> kvm_works;  // the KVM probe; slow, so called only when it decides
};

// The backend for new VMs: the requested one if any (an unknown name is an error naming the three
// choices), else the model without QEMU or the guest, else TCG when KVM is known broken or the
// probe says no, else KVM.
Result<VmBackendKind> choose_vm_backend(const VmHostFacts& facts);

struct VmRecord;

// How a boot is followed (the CLI prints stages; the race animates them).
struct BootOptions {
    bool wait = true;                    // follow the boot until the web server answers
    int timeout_ms = 180000;
    bool die_with_caller = false;        // race: the VM lives only as long as this process
    std::function<void(double ms, const std::string& line)> on_console_line;  // live console
    std::function<void(const std::string& stage, double ms)> on_stage;        // a stage finished
};

// What a backend may use of the manager's state for one VM.
struct VmContext {
    std::string dir;        // ROOT/vms/NAME: serial.sock, qmp.sock, console.log, qemu.log
    std::string guest_dir;  // vmlinuz and initramfs.gz
    // Applies FN to the stored record under the VM's lock and returns what was stored. The
    // manager does not hold that lock while it calls a backend.
    std::function<Result<VmRecord>(const std::function<void(VmRecord&)>&)> update;
};

// One hypervisor. The manager has already checked the action against the VM's state machine
// (sim/vm/vm_lifecycle.hpp) and stores the resulting state itself: a backend only does the
// hypervisor's part and reports what it saw.
class VmBackend {
public:
    virtual ~VmBackend() = default;

    // Boots the VM of record R (state `starting`, already stored). A process it launches goes
    // into the record through ctx.update before anything else can fail. Returns R with what the
    // boot found, which the manager then stores: the kind that really booted it (QEMU falls back
    // from KVM to TCG), stages, answered_ms and kernel_release. On failure the backend has ended
    // what it started.
    virtual Result<VmRecord> boot(VmRecord r, const VmContext& ctx, const BootOptions& o) = 0;
    // Freezes / thaws the guest's vCPUs.
    virtual Status pause(const VmRecord& r, const VmContext& ctx) = 0;
    virtual Status resume(const VmRecord& r, const VmContext& ctx) = 0;
    // Ends the guest: asks it to power itself off within TIMEOUT_S, or at once when FORCE (and
    // after the timeout). Never fails: afterwards no process of the VM is left.
    virtual void power_off(const VmRecord& r, const VmContext& ctx, bool force, int timeout_s) = 0;
    // Types COMMAND on the guest's console and returns what it printed.
    virtual Result<std::string> console_run(const VmRecord& r, const VmContext& ctx, const std::string& command,
                                            int timeout_ms) = 0;
    // True when a host process backs a booted VM, so the garbage collector must watch it.
    virtual bool has_process() const = 0;
    // True when the process recorded in R is still the VM's (false for a backend without one).
    virtual bool process_alive(const VmRecord& r) const = 0;
};

}  // namespace isolab::vm
