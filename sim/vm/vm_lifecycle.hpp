// The VM lifecycle as one visible state machine (STYLE §3), the hosted-side twin of
// sim/state/lifecycle.hpp.
//
// VirtualBox's states and words: the state names are what `VBoxManage showvminfo --machinereadable`
// prints as VMState ("poweroff", "running", ...). VirtualBox's "saved" state (suspend to disk) is
// left out. `vm_transition` is the only function that decides whether an action is allowed; the VM
// manager performs what it returns (launch or kill QEMU, `stop`/`cont` over QMP, delete files) and
// then stores `to`.
//
//   poweroff ──start──▶ starting ──boot-completed──▶ running ◀──resume── paused
//      ▲  ▲                 │                          │  └────pause────▶  │
//      │  └─── shutdown ────┴──▶ stopping ◀────────────┴───────────────────┘
//      │         (clean; the guest powers itself off → process-exited → poweroff)
//      └── poweroff (forced) from starting / running / paused / stopping
//   aborted ◀── process-crashed from any state with a QEMU process; aborted ──start──▶ starting
//
// Every wrong-state error has exit code 1 (like Docker's invalid-state errors on the container
// side) and names the VM, its state and, where there is one, the command that fixes it.
#pragma once

#include <string>
#include <string_view>

#include "sim/core/result.hpp"

namespace isolab::vm {

enum class VmState {
    PoweredOff,  // no QEMU process; the VM exists only as its record and files
    Starting,    // QEMU launched, the guest is booting (not yet answering)
    Running,     // the guest finished booting
    Paused,      // QEMU is alive but its vCPUs are stopped (QMP `stop`)
    Stopping,    // a clean shutdown was requested; waiting for the guest to power itself off
    Aborted,     // QEMU died without being asked to (crash, kill -9, host OOM killer)
};

enum class VmAction {
    Start,           // isolab vm start (VBoxManage startvm)
    BootCompleted,   // event: the boot stage tracker saw the guest's web server answer
    Pause,           // isolab vm pause (VBoxManage controlvm pause; QMP `stop`)
    Resume,          // isolab vm resume (VBoxManage controlvm resume; QMP `cont`)
    Shutdown,        // isolab vm stop: ask the guest to power itself off (ACPI/clean)
    PowerOff,        // isolab vm stop -f: end QEMU now (VBoxManage controlvm poweroff)
    ProcessExited,   // event: QEMU exited on its own after the guest powered off
    ProcessCrashed,  // event: QEMU died by a signal or error nobody in IsoLab sent or asked for,
                     // or the guest's kernel panicked (with panic=-1 and -no-reboot QEMU then exits
                     // with status 0: tell it apart by BootStageTracker::failure())
    Remove,          // isolab vm rm (VBoxManage unregistervm --delete)
};

inline constexpr VmState kAllVmStates[] = {VmState::PoweredOff, VmState::Starting, VmState::Running,
                                           VmState::Paused,     VmState::Stopping, VmState::Aborted};

inline constexpr VmAction kAllVmActions[] = {
    VmAction::Start,         VmAction::BootCompleted,  VmAction::Pause,
    VmAction::Resume,        VmAction::Shutdown,       VmAction::PowerOff,
    VmAction::ProcessExited, VmAction::ProcessCrashed, VmAction::Remove};

// "poweroff", "starting", "running", "paused", "stopping", "aborted": VBoxManage's VMState words.
std::string_view to_string(VmState s);
// The inverse of to_string(VmState); false (and *out untouched) for any other text.
bool parse_vm_state(std::string_view text, VmState* out);
// "start", "boot-completed", "pause", "resume", "shutdown", "poweroff", "process-exited",
// "process-crashed", "rm".
std::string_view to_string(VmAction a);

// What the manager must do when the action is allowed:
//   - move the record to `to` (noop: `to` is the current state and nothing is to be done — a late
//     or duplicate event, or a second `vm stop` while the first one waits);
//   - remove: delete the VM's record and files (only ever true for Remove; `to` is then the
//     current state, which the record keeps until it is gone).
struct VmTransition {
    VmState to;
    bool noop = false;
    bool remove = false;
};

// Decides one action in one state. VM_NAME is the name the user typed; it appears, quoted, in
// every error ("VM \"web\" is already paused"). Never fails for events that may arrive late
// (BootCompleted, ProcessExited, ProcessCrashed): those are no-ops where they no longer apply.
Result<VmTransition> vm_transition(VmState from, VmAction action, const std::string& vm_name);

// True when a QEMU process belongs to the VM in this state (starting, running, paused, stopping):
// the states the garbage collector must check against a live process.
bool vm_has_process(VmState s);

}  // namespace isolab::vm
