#include "sim/vm/vm_manager.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <regex>

#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/state/store.hpp"
#include "sim/host/probe.hpp"

namespace isolab::vm {

using nlohmann::json;

bool valid_vm_name(const std::string& name) {
    static const std::regex re("^[a-zA-Z0-9][a-zA-Z0-9_.-]+$");
    return std::regex_match(name, re);
}

std::string guest_dir(const std::string& root) {
    if (const char* d = std::getenv("ISOLAB_GUEST_DIR"); d && *d) return d;
    if (path_exists(root + "/guest/vmlinuz")) return root + "/guest";
    return "/var/lib/isolab/guest";
}

VmManager::VmManager(std::string state_root) : root_(std::move(state_root)), qemu_(root_) {
    (void)make_dirs(root_ + "/vms", 0711);
}

Result<VmBackendKind> VmManager::pick_backend() {
    if (picked_) return *picked_;
    VmHostFacts facts;
    if (const char* b = std::getenv("ISOLAB_VM_BACKEND"); b) facts.requested = b;
    std::string g = guest_dir(root_);
    facts.qemu_found = !host::find_on_path("qemu-system-x86_64").empty();
    facts.guest_found = path_exists(g + "/vmlinuz") && path_exists(g + "/initramfs.gz");
    facts.kvm_known_broken = facts.qemu_found && facts.guest_found && qemu_kvm_known_broken(root_);
    facts.kvm_works = [] {
        host::ProbeOptions o;
        o.kvm_timeout_ms = 1500;
        return host::probe_host(o).kvm;
    };
    auto kind = choose_vm_backend(facts);
    if (!kind) return kind.error();
    picked_ = *kind;
    return *kind;
}

VmBackend& VmManager::backend(VmBackendKind kind) {
    switch (kind) {
        case VmBackendKind::QemuKvm:
        case VmBackendKind::QemuTcg: return qemu_;
        case VmBackendKind::Model: return model_;
    }
    return model_;
}

VmContext VmManager::context(const std::string& name) {
    VmContext c;
    c.dir = dir_of(name);
    c.guest_dir = guest_dir(root_);
    c.update = [this, name](const std::function<void(VmRecord&)>& fn) { return update(name, fn); };
    return c;
}

void VmManager::record_event(const VmRecord& r, const std::string& type, json attrs) const {
    if (r.ephemeral) return;
    attrs["name"] = r.name;
    append_event_to(root_, type, std::move(attrs));
}

Result<VmRecord> VmManager::load(const std::string& name) {
    auto text = read_file(dir_of(name) + "/vm.json");
    if (!text) return make_error("No such VM: " + name + " (see `isolab vm ls`)", 1);
    auto j = json::parse(*text, nullptr, false);
    if (j.is_discarded()) return make_error("VM " + name + ": corrupt `vm.json`", 1);
    auto r = vm_record_from_json(j);
    if (!r) return r.error().wrap("VM " + name + ": `vm.json`");
    return r;
}

Status VmManager::save(const VmRecord& r) {
    return write_file_atomic(dir_of(r.name) + "/vm.json", to_json(r).dump(2) + "\n");
}

Result<VmRecord> VmManager::update(const std::string& name, const std::function<void(VmRecord&)>& fn) {
    auto lock = FileLock::acquire(dir_of(name) + "/lock");
    if (!lock) return lock.error();
    auto r = load(name);
    if (!r) return r;
    fn(*r);
    ISOLAB_TRY(save(*r));
    return r;
}

Result<VmRecord> VmManager::get(const std::string& name) { return load(name); }

std::vector<VmRecord> VmManager::list() {
    std::vector<VmRecord> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(root_ + "/vms", ec)) {
        auto r = load(e.path().filename().string());
        if (r && !r->ephemeral) out.push_back(*r);
    }
    std::sort(out.begin(), out.end(), [](const VmRecord& a, const VmRecord& b) { return a.name < b.name; });
    return out;
}

Result<VmRecord> VmManager::create(const std::string& name, int memory_mib, int vcpus, const std::string& machine,
                                   bool ephemeral) {
    if (!valid_vm_name(name))
        return make_error("Invalid VM name (" + name + "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", 125);
    if (memory_mib < 64 || memory_mib > 16384)
        return make_error("VM memory " + std::to_string(memory_mib) + " MiB is out of range: use 64 to 16384 (-m 256m)", 125);
    if (vcpus < 1 || vcpus > 16) return make_error("VM vCPUs " + std::to_string(vcpus) + " out of range: use 1 to 16", 125);
    if (machine != "pc" && machine != "microvm")
        return make_error("unknown machine type `" + machine + "`: use pc or microvm", 125);
    auto kind = pick_backend();
    if (!kind) return kind.error();
    std::string dir = dir_of(name);
    if (::mkdir(dir.c_str(), 0711) != 0) {
        if (errno == EEXIST)
            return make_error("Conflict. The VM name \"" + name + "\" is already in use: remove it first (isolab vm rm " +
                                  name + ")",
                              125);
        return errno_error("create VM `" + dir + "`", errno);
    }
    VmRecord r;
    r.name = name;
    r.created = now_rfc3339();
    r.memory_mib = memory_mib;
    r.vcpus = vcpus;
    r.machine = machine;
    r.backend = *kind;
    r.ephemeral = ephemeral;
    if (auto s = save(r); !s) {
        (void)remove_tree(dir);
        return s.error();
    }
    record_event(r, "vm_create", {{"backend", to_string(r.backend)}});
    return r;
}

Result<VmRecord> VmManager::start(const std::string& name, const BootOptions& o) {
    // Under the VM's lock: the transition to `starting`, stored with this process as the owner,
    // so a second `vm start` is refused and, should this process die mid-boot, the garbage
    // collector ends what it launched. The lock is not held during the boot, which takes minutes
    // under TCG and must not block `vm ls` or `vm stop`.
    VmRecord r;
    if (auto exists = load(name); !exists) return exists;  // "No such VM", not a lock error
    {
        auto lock = FileLock::acquire(dir_of(name) + "/lock");
        if (!lock) return lock.error();
        auto rec = load(name);
        if (!rec) return rec;
        auto t = vm_transition(rec->state, VmAction::Start, name);
        if (!t) return t.error();
        r = *rec;
        r.state = t->to;
        r.error.clear();
        r.started_at = now_rfc3339();
        r.owner_pid = ::getpid();
        r.owner_start_time = process_start_time(r.owner_pid);
        ISOLAB_TRY(save(r));
    }
    const VmBackendKind asked = r.backend;
    auto booted = backend(r.backend).boot(r, context(name), o);
    if (!booted) {
        // A backend that failed before launching anything leaves the record `starting`: it did
        // not start, and the message says why.
        (void)update(name, [&](VmRecord& x) {
            if (x.state != VmState::Starting) return;
            x.state = VmState::Aborted;
            x.error = booted.error().message;
            x.qemu_pid = 0;
            x.owner_pid = 0;
            x.owner_start_time = 0;
        });
        return booted.error();
    }
    // KVM that did not boot the guest here: this manager's next VMs go to TCG straight away.
    if (booted->backend != asked) picked_ = booted->backend;
    // What the boot found, onto the record as it is now: a `vm stop` that came in meanwhile
    // keeps its state (BootCompleted is then a no-op).
    auto stored = update(name, [&](VmRecord& x) {
        x.backend = booted->backend;
        x.stages = booted->stages;
        x.answered_ms = booted->answered_ms;
        x.kernel_release = booted->kernel_release;
        x.owner_pid = 0;
        x.owner_start_time = 0;
        auto tr = vm_transition(x.state, VmAction::BootCompleted, x.name);
        if (tr) x.state = tr->to;
    });
    if (!stored) return stored;
    record_event(*stored, "vm_start",
                 {{"backend", to_string(stored->backend)}, {"state", to_string(stored->state)}});
    return stored;
}

Result<VmRecord> VmManager::freeze_or_thaw(const std::string& name, VmAction action) {
    auto r = load(name);
    if (!r) return r;
    auto t = vm_transition(r->state, action, name);
    if (!t) return t.error();
    VmBackend& b = backend(r->backend);
    ISOLAB_TRY(action == VmAction::Pause ? b.pause(*r, context(name)) : b.resume(*r, context(name)));
    return update(name, [&](VmRecord& x) { x.state = t->to; });
}

Result<VmRecord> VmManager::pause(const std::string& name) { return freeze_or_thaw(name, VmAction::Pause); }
Result<VmRecord> VmManager::resume(const std::string& name) { return freeze_or_thaw(name, VmAction::Resume); }

Result<VmRecord> VmManager::stop(const std::string& name, bool force, int timeout_s) {
    auto r = load(name);
    if (!r) return r;
    auto t = vm_transition(r->state, force ? VmAction::PowerOff : VmAction::Shutdown, name);
    if (!t) return t.error();
    backend(r->backend).power_off(*r, context(name), force, timeout_s);
    auto stopped = update(name, [&](VmRecord& x) {
        x.state = VmState::PoweredOff;
        x.qemu_pid = 0;
        x.owner_pid = 0;
    });
    if (stopped) record_event(*stopped, "vm_stop");
    return stopped;
}

Status VmManager::remove(const std::string& name, bool force) {
    auto r = load(name);
    if (!r) return r.error();
    auto t = vm_transition(r->state, VmAction::Remove, name);
    if (!t) {
        if (!force) return t.error();
        // rm -f of a live VM: power it off first. As `isolab vm rm -f` always did, only
        // `vm_destroy` is written for it, no `vm_stop`.
        auto off = vm_transition(r->state, VmAction::PowerOff, name);
        if (!off) return off.error();
        backend(r->backend).power_off(*r, context(name), true, 0);
    }
    ISOLAB_TRY(remove_tree(dir_of(name)));
    record_event(*r, "vm_destroy");
    return {};
}

Result<std::string> VmManager::console_run(const std::string& name, const std::vector<std::string>& argv,
                                           int timeout_ms) {
    auto r = load(name);
    if (!r) return r.error();
    if (r->state != VmState::Running)
        return make_error("VM \"" + name + "\" is not running (state: " + std::string(to_string(r->state)) +
                              "): start it first (isolab vm start " + name + ")",
                          1);
    std::string command;
    for (const auto& w : argv) command += (command.empty() ? "" : " ") + w;
    auto out = backend(r->backend).console_run(*r, context(name), command, timeout_ms);
    if (out) record_event(*r, "vm_exec", {{"cmd", argv}});
    return out;
}

void VmManager::collect_garbage() {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(root_ + "/vms", ec)) {
        std::string name = e.path().filename().string();
        auto r = load(name);
        if (!r) continue;
        const VmBackend& b = backend(r->backend);
        bool guest_alive = b.process_alive(*r);
        bool owner_dead = r->owner_pid && !process_matches(r->owner_pid, r->owner_start_time);
        if (r->state == VmState::Starting && owner_dead) {
            // The CLI that was booting it died (kill -9 mid-boot): nothing may stay behind.
            if (guest_alive) ::kill(r->qemu_pid, SIGKILL);
            if (r->ephemeral) {
                (void)remove_tree(dir_of(name));
                continue;
            }
            (void)update(name, [&](VmRecord& x) {
                x.state = VmState::Aborted;
                x.error = "the command that was booting this VM died; IsoLab ended QEMU";
                x.qemu_pid = 0;
                x.owner_pid = 0;
            });
        } else if (b.has_process() && (r->state == VmState::Running || r->state == VmState::Paused) && !guest_alive) {
            (void)update(name, [&](VmRecord& x) {
                x.state = VmState::Aborted;
                x.error = "QEMU exited unexpectedly";
                x.qemu_pid = 0;
            });
        } else if (r->ephemeral && !r->owner_pid && !guest_alive) {
            (void)remove_tree(dir_of(name));
        }
    }
}

}  // namespace isolab::vm
