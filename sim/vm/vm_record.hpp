// A VM's record, ROOT/vms/NAME/vm.json: what the VM is (like VirtualBox's .vbox file) and what it
// is doing now. The JSON keys and words are the on-disk format `vm inspect` prints; the backend's
// kind and the state are enums everywhere else.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/result.hpp"
#include "sim/vm/vm_backend.hpp"
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
    VmBackendKind backend = VmBackendKind::Model;
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
// The record in J. A backend word other than qemu-kvm, qemu-tcg or model is an error: guessing
// could leave a QEMU process nobody watches.
Result<VmRecord> vm_record_from_json(const nlohmann::json& j);

}  // namespace isolab::vm
