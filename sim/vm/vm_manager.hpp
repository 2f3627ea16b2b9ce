// The hosted side's manager: guest VMs as VirtualBox-like records under ROOT/vms/NAME/, booted by
// QEMU (qemu-kvm or qemu-tcg) or, where QEMU or the guest artifacts are missing, by the model
// backend (labeled "modeled" everywhere). Also the boot race against a container.
//
//   ROOT/vms/NAME/vm.json      the record, replaced atomically under ROOT/vms/NAME/lock
//   ROOT/vms/NAME/console.log  everything the guest printed on its serial console
//   ROOT/vms/NAME/serial.sock  the serial console (type into the guest)
//   ROOT/vms/NAME/qmp.sock     QEMU's monitor (pause, resume, quit)
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/result.hpp"
#include "sim/vm/vm_lifecycle.hpp"

namespace isolab::vm {

struct StageTime {
    std::string name;
    double ms = 0;  // duration of the stage
};

struct VmRecord {
    std::string name;
    std::string created;
    int memory_mib = 256;
    int vcpus = 1;
    std::string machine = "pc";
    std::string backend;  // qemu-kvm | qemu-tcg | model
    VmState state = VmState::PoweredOff;
    pid_t qemu_pid = 0;
    uint64_t qemu_start_time = 0;
    pid_t owner_pid = 0;  // the CLI booting it; if it dies mid-boot, the VM is ended
    uint64_t owner_start_time = 0;
    int host_port = 0;
    std::string started_at;
    std::string kernel_release;  // the guest's own kernel
    double answered_ms = 0;      // QEMU start → first HTTP 200 from the guest's web server
    std::vector<StageTime> stages;
    std::string command_line;    // the QEMU command, shown to learners
    std::string error;
    bool ephemeral = false;      // made by `race`, removed afterwards
};

nlohmann::json to_json(const VmRecord& r);
VmRecord vm_record_from_json(const nlohmann::json& j);

// Where the guest kernel and initramfs are: $ISOLAB_GUEST_DIR, ROOT/guest, /var/lib/isolab/guest.
std::string guest_dir(const std::string& root);

struct BootOptions {
    bool wait = true;                    // follow the boot until the web server answers
    int timeout_ms = 180000;
    bool die_with_caller = false;        // race: the VM lives only as long as this process
    std::function<void(double ms, const std::string& line)> on_console_line;  // live console
    std::function<void(const std::string& stage, double ms)> on_stage;        // a stage finished
};

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
    // Types COMMAND on the guest's serial console and returns what it printed (model: modeled).
    Result<std::string> console_run(const std::string& name, const std::string& command, int timeout_ms = 20000);
    // Ends QEMU processes whose VM says poweroff, whose booting CLI died, or that crashed.
    void collect_garbage();

    // qemu-kvm | qemu-tcg | model, from what this machine offers (KVM probe with a hard timeout).
    std::string pick_backend();
    std::string dir_of(const std::string& name) const { return root_ + "/vms/" + name; }

private:
    Result<VmRecord> load(const std::string& name);
    Status save(const VmRecord& r);
    Result<VmRecord> boot_model(VmRecord r, const BootOptions& o);
    Result<VmRecord> update(const std::string& name, const std::function<void(VmRecord&)>& fn);
    Result<VmRecord> qmp_transition(const std::string& name, VmAction action, const char* command);
    bool kvm_known_broken() const;
    void remember_kvm_broken() const;

    std::string root_;
    std::string backend_cache_;
};

// Docker-like name rule for VMs too.
bool valid_vm_name(const std::string& name);

}  // namespace isolab::vm
