#include "sim/vm/vm_lifecycle.hpp"

namespace isolab::vm {

std::string_view to_string(VmState s) {
    switch (s) {
        case VmState::PoweredOff: return "poweroff";
        case VmState::Starting: return "starting";
        case VmState::Running: return "running";
        case VmState::Paused: return "paused";
        case VmState::Stopping: return "stopping";
        case VmState::Aborted: return "aborted";
    }
    return "unknown";
}

bool parse_vm_state(std::string_view text, VmState* out) {
    for (VmState s : kAllVmStates) {
        if (to_string(s) == text) {
            *out = s;
            return true;
        }
    }
    return false;
}

std::string_view to_string(VmAction a) {
    switch (a) {
        case VmAction::Start: return "start";
        case VmAction::BootCompleted: return "boot-completed";
        case VmAction::Pause: return "pause";
        case VmAction::Resume: return "resume";
        case VmAction::Shutdown: return "shutdown";
        case VmAction::PowerOff: return "poweroff";
        case VmAction::ProcessExited: return "process-exited";
        case VmAction::ProcessCrashed: return "process-crashed";
        case VmAction::Remove: return "rm";
    }
    return "unknown";
}

bool vm_has_process(VmState s) {
    switch (s) {
        case VmState::Starting:
        case VmState::Running:
        case VmState::Paused:
        case VmState::Stopping: return true;
        case VmState::PoweredOff:
        case VmState::Aborted: return false;
    }
    return false;
}

namespace {

Result<VmTransition> go(VmState to) { return VmTransition{to, false, false}; }
Result<VmTransition> stay(VmState s) { return VmTransition{s, true, false}; }
Result<VmTransition> erase(VmState s) { return VmTransition{s, false, true}; }
// Every refusal of an action in the wrong state is exit code 1, as on the container side.
Result<VmTransition> fail(std::string msg) { return make_error(std::move(msg), 1); }

std::string vm(const std::string& name) { return "VM \"" + name + "\""; }
std::string state_of(VmState s) { return "(state: " + std::string(to_string(s)) + ")"; }

}  // namespace

// Each case says what VirtualBox does (VBoxManage startvm/controlvm/unregistervm) where IsoLab
// follows it, and why where it does not. The switch is exhaustive on both enums; -Werror=switch
// keeps it that way when a state or an action is added.
Result<VmTransition> vm_transition(VmState from, VmAction action, const std::string& name) {
    using S = VmState;
    switch (action) {
        case VmAction::Start:
            // VirtualBox starts a powered-off or an aborted VM alike; starting one that has a
            // process is an error there too ("already locked for a session").
            switch (from) {
                case S::PoweredOff:
                case S::Aborted: return go(S::Starting);
                case S::Starting: return fail(vm(name) + " is already starting");
                case S::Running: return fail(vm(name) + " is already running");
                case S::Paused:
                    return fail(vm(name) + " is paused: resume it instead (isolab vm resume " + name + ")");
                case S::Stopping:
                    return fail(vm(name) + " is stopping: wait until it has powered off, then start it again");
            }
            break;
        case VmAction::BootCompleted:
            // A report from the console follower. It can lose a race with the user (a forced
            // poweroff while the last line was being read), so outside `starting` it changes
            // nothing instead of failing.
            switch (from) {
                case S::Starting: return go(S::Running);
                case S::PoweredOff:
                case S::Running:
                case S::Paused:
                case S::Stopping:
                case S::Aborted: return stay(from);
            }
            break;
        case VmAction::Pause:
            // Pausing mid-boot is refused: `resume` always returns to `running`, and a guest that
            // was stopped while booting would be recorded as booted.
            switch (from) {
                case S::Running: return go(S::Paused);
                case S::Paused: return fail(vm(name) + " is already paused");
                case S::Starting:
                    return fail(vm(name) + " is still starting: wait until it is running, then pause it");
                case S::Stopping: return fail(vm(name) + " is stopping and cannot be paused");
                case S::PoweredOff:
                case S::Aborted: return fail(vm(name) + " is not running " + state_of(from));
            }
            break;
        case VmAction::Resume:
            switch (from) {
                case S::Paused: return go(S::Running);
                case S::PoweredOff:
                case S::Starting:
                case S::Running:
                case S::Stopping:
                case S::Aborted: return fail(vm(name) + " is not paused " + state_of(from));
            }
            break;
        case VmAction::Shutdown:
            // A clean shutdown needs the guest's cooperation. From `paused` it is allowed, and
            // the manager must resume the vCPUs first (QMP `cont`): a stopped guest cannot hear a
            // power button, and `vm stop` on a paused VM should work as `docker stop` does on a
            // paused container. From `starting` it is allowed as well: the manager's grace period
            // ends in a forced poweroff if the guest is not yet able to react. A second request
            // while stopping changes nothing.
            switch (from) {
                case S::Starting:
                case S::Running:
                case S::Paused: return go(S::Stopping);
                case S::Stopping: return stay(from);
                case S::PoweredOff:
                case S::Aborted: return fail(vm(name) + " is not running " + state_of(from));
            }
            break;
        case VmAction::PowerOff:
            // Pulling the plug: allowed whenever a QEMU process exists, the way out of every
            // state with one (also of a shutdown the guest ignores).
            switch (from) {
                case S::Starting:
                case S::Running:
                case S::Paused:
                case S::Stopping: return go(S::PoweredOff);
                case S::PoweredOff:
                case S::Aborted: return fail(vm(name) + " is not running " + state_of(from));
            }
            break;
        case VmAction::ProcessExited:
            // QEMU ended by itself (-no-reboot turns the guest's poweroff or reboot into an exit):
            // VirtualBox shows such a VM as powered off, requested or not. A report about a VM
            // that no longer has a process (the manager already recorded the end) is a no-op.
            switch (from) {
                case S::Starting:
                case S::Running:
                case S::Paused:
                case S::Stopping: return go(S::PoweredOff);
                case S::PoweredOff:
                case S::Aborted: return stay(from);
            }
            break;
        case VmAction::ProcessCrashed:
            // QEMU died unexpectedly: VirtualBox's "aborted". When the VM is already powered off
            // the death was the manager's own SIGKILL of a forced poweroff, reported late: no-op.
            switch (from) {
                case S::Starting:
                case S::Running:
                case S::Paused:
                case S::Stopping: return go(S::Aborted);
                case S::PoweredOff:
                case S::Aborted: return stay(from);
            }
            break;
        case VmAction::Remove:
            // VirtualBox refuses to unregister a VM that has a session; so does IsoLab. `rm -f` is
            // the manager's PowerOff followed by this Remove.
            switch (from) {
                case S::PoweredOff:
                case S::Aborted: return erase(from);
                case S::Starting:
                case S::Running:
                case S::Paused:
                    return fail("cannot remove " + vm(name) + " while it is " + std::string(to_string(from)) +
                                ": stop it first (isolab vm stop " + name + ") or use -f");
                case S::Stopping:
                    return fail("cannot remove " + vm(name) +
                                " while it is stopping: wait until it has powered off, or use -f");
            }
            break;
    }
    return make_error("internal: unhandled VM transition", 125);
}

}  // namespace isolab::vm
