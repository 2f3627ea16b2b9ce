// The hosted side's manager: guest VMs as VirtualBox-like records under ROOT/vms/NAME/, booted by
// a VmBackend (sim/vm/vm_backend.hpp): QEMU (qemu-kvm or qemu-tcg) or, where QEMU or the guest
// artifacts are missing, the model (labeled "modeled" everywhere). Also the boot race against a
// container.
//
//   ROOT/vms/NAME/vm.json      the record, replaced atomically under ROOT/vms/NAME/lock
//   ROOT/vms/NAME/console.log  everything the guest printed on its serial console
//   ROOT/vms/NAME/serial.sock  the serial console (type into the guest)
//   ROOT/vms/NAME/qmp.sock     QEMU's monitor (pause, resume, quit)
//
// Every action that succeeds appends its event to ROOT/events.jsonl (the writer container events
// use, sim/state/store.hpp), whichever front end asked: the CLI, the GUI or a lesson.
//   vm_create {name, backend}   vm_start {name, backend, state}   vm_stop {name}
//   vm_destroy {name}           vm_exec {name, cmd: [words]}
// A VM made by the race (ephemeral) writes none: the race writes its own `race` event.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/result.hpp"
#include "sim/vm/qemu.hpp"
#include "sim/vm/vm_backend.hpp"
#include "sim/vm/vm_lifecycle.hpp"
#include "sim/vm/vm_model.hpp"
#include "sim/vm/vm_record.hpp"

namespace isolab::vm {

// Where the guest kernel and initramfs are: $ISOLAB_GUEST_DIR, ROOT/guest, /var/lib/isolab/guest.
std::string guest_dir(const std::string& root);

class VmManager {
public:
    explicit VmManager(std::string state_root);

    Result<VmRecord> create(const std::string& name, int memory_mib, int vcpus, const std::string& machine,
                            bool ephemeral = false);
    Result<VmRecord> start(const std::string& name, const BootOptions& options = {});
    Result<VmRecord> stop(const std::string& name, bool force, int timeout_s = 10);
    Result<VmRecord> pause(const std::string& name);
    Result<VmRecord> resume(const std::string& name);
    Status remove(const std::string& name, bool force);
    std::vector<VmRecord> list();
    Result<VmRecord> get(const std::string& name);
    // Types ARGV, joined by spaces, on the guest's serial console and returns what it printed
    // (model: says that no guest runs).
    Result<std::string> console_run(const std::string& name, const std::vector<std::string>& argv,
                                    int timeout_ms = 20000);
    // Ends QEMU processes whose VM says poweroff, whose booting CLI died, or that crashed.
    void collect_garbage();

    // The backend for new VMs, chosen at the first call from what this machine offers
    // (choose_vm_backend; the KVM probe has a hard timeout) and kept for this manager's life,
    // except that a KVM boot that fell back to TCG makes it TCG. An unknown $ISOLAB_VM_BACKEND is
    // an error.
    Result<VmBackendKind> pick_backend();
    // The implementation behind KIND.
    VmBackend& backend(VmBackendKind kind);
    std::string dir_of(const std::string& name) const { return root_ + "/vms/" + name; }

private:
    Result<VmRecord> load(const std::string& name);
    Status save(const VmRecord& r);
    Result<VmRecord> update(const std::string& name, const std::function<void(VmRecord&)>& fn);
    VmContext context(const std::string& name);
    Result<VmRecord> freeze_or_thaw(const std::string& name, VmAction action);
    // Appends TYPE with ATTRS (and the VM's name) to ROOT/events.jsonl, unless R is ephemeral.
    void record_event(const VmRecord& r, const std::string& type, nlohmann::json attrs = nlohmann::json::object()) const;

    std::string root_;
    std::optional<VmBackendKind> picked_;
    QemuBackend qemu_;
    ModelBackend model_;
};

// Docker-like name rule for VMs too.
bool valid_vm_name(const std::string& name);

}  // namespace isolab::vm
