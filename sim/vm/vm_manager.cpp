#include "sim/vm/vm_manager.hpp"

#include <dirent.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <regex>
#include <thread>

#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/core/i18n.hpp"
#include "sim/host/probe.hpp"
#include "sim/vm/boot_stages.hpp"
#include "sim/vm/qemu.hpp"
#include "sim/vm/vm_model.hpp"

namespace isolab::vm {

using nlohmann::json;

namespace {

const char* kPage = "Hello from IsoLab";

}  // namespace

bool valid_vm_name(const std::string& name) {
    static const std::regex re("^[a-zA-Z0-9][a-zA-Z0-9_.-]+$");
    return std::regex_match(name, re);
}

json to_json(const VmRecord& r) {
    json stages = json::array();
    for (const auto& s : r.stages) stages.push_back({{"name", s.name}, {"ms", s.ms}});
    return {{"name", r.name},         {"created", r.created},
            {"memory_mib", r.memory_mib}, {"vcpus", r.vcpus},
            {"machine", r.machine},   {"backend", r.backend},
            {"state", to_string(r.state)}, {"qemu_pid", r.qemu_pid},
            {"qemu_start_time", r.qemu_start_time}, {"owner_pid", r.owner_pid},
            {"owner_start_time", r.owner_start_time}, {"host_port", r.host_port},
            {"started_at", r.started_at}, {"kernel_release", r.kernel_release},
            {"answered_ms", r.answered_ms}, {"stages", stages},
            {"command_line", r.command_line}, {"error", r.error},
            {"ephemeral", r.ephemeral}};
}

VmRecord vm_record_from_json(const json& j) {
    VmRecord r;
    r.name = j.value("name", "");
    r.created = j.value("created", "");
    r.memory_mib = j.value("memory_mib", 256);
    r.vcpus = j.value("vcpus", 1);
    r.machine = j.value("machine", "pc");
    r.backend = j.value("backend", "");
    std::string st = j.value("state", "poweroff");
    for (VmState s : kAllVmStates)
        if (to_string(s) == st) r.state = s;
    r.qemu_pid = j.value("qemu_pid", 0);
    r.qemu_start_time = j.value("qemu_start_time", uint64_t{0});
    r.owner_pid = j.value("owner_pid", 0);
    r.owner_start_time = j.value("owner_start_time", uint64_t{0});
    r.host_port = j.value("host_port", 0);
    r.started_at = j.value("started_at", "");
    r.kernel_release = j.value("kernel_release", "");
    r.answered_ms = j.value("answered_ms", 0.0);
    for (const auto& s : j.value("stages", json::array())) r.stages.push_back({s.value("name", ""), s.value("ms", 0.0)});
    r.command_line = j.value("command_line", "");
    r.error = j.value("error", "");
    r.ephemeral = j.value("ephemeral", false);
    return r;
}

std::string guest_dir(const std::string& root) {
    if (const char* d = std::getenv("ISOLAB_GUEST_DIR"); d && *d) return d;
    if (path_exists(root + "/guest/vmlinuz")) return root + "/guest";
    return "/var/lib/isolab/guest";
}

namespace {
std::string boot_id() {
    auto b = read_file("/proc/sys/kernel/random/boot_id");
    return b ? trim(*b) : "";
}
}  // namespace

// KVM that passes the probe can still hang or fail on the first real boot (nested KVM on our
// machines does both). A failed KVM boot is remembered until the host reboots.
// Kept in the state root and, for every other root on this host, in /run (emptied at reboot).
bool VmManager::kvm_known_broken() const {
    for (const std::string& f : {root_ + "/vms/kvm-broken", std::string("/run/isolab/kvm-broken")}) {
        auto text = read_file(f);
        if (text && trim(*text) == boot_id()) return true;
    }
    return false;
}

void VmManager::remember_kvm_broken() const {
    (void)write_file_atomic(root_ + "/vms/kvm-broken", boot_id() + "\n");
    // Readable by everyone: other users' IsoLab reads it too.
    if (make_dirs("/run/isolab", 0755)) (void)write_file_atomic("/run/isolab/kvm-broken", boot_id() + "\n", 0644);
}

VmManager::VmManager(std::string state_root) : root_(std::move(state_root)) {
    (void)make_dirs(root_ + "/vms", 0711);
}

std::string VmManager::pick_backend() {
    if (!backend_cache_.empty()) return backend_cache_;
    if (const char* b = std::getenv("ISOLAB_VM_BACKEND"); b && *b) return backend_cache_ = b;
    std::string g = guest_dir(root_);
    if (host::find_on_path("qemu-system-x86_64").empty() || !path_exists(g + "/vmlinuz") ||
        !path_exists(g + "/initramfs.gz"))
        return backend_cache_ = "model";
    if (kvm_known_broken()) return backend_cache_ = "qemu-tcg";
    host::ProbeOptions o;
    o.kvm_timeout_ms = 1500;
    auto report = host::probe_host(o);
    return backend_cache_ = report.kvm ? "qemu-kvm" : "qemu-tcg";
}

Result<VmRecord> VmManager::load(const std::string& name) {
    auto text = read_file(dir_of(name) + "/vm.json");
    if (!text) return make_error("No such VM: " + name + " (see `isolab vm ls`)", 1);
    auto j = json::parse(*text, nullptr, false);
    if (j.is_discarded()) return make_error("VM " + name + ": corrupt `vm.json`", 1);
    return vm_record_from_json(j);
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
    r.backend = pick_backend();
    r.ephemeral = ephemeral;
    if (auto s = save(r); !s) {
        (void)remove_tree(dir);
        return s.error();
    }
    return r;
}

Result<VmRecord> VmManager::boot_model(VmRecord r, const BootOptions& o) {
    auto model = load_vm_model(i18n::assets_dir() + "/vm-model.json");
    if (!model) return model.error();
    const auto* profile = model->find(r.machine == "microvm" ? "microvm-kvm" : "desktop-virtualbox");
    if (!profile) return make_error("vm-model.json has no profile for machine " + r.machine);
    r.stages.clear();
    double total = 0;
    for (const auto& st : profile->stages) {
        total += st.ms;
        r.stages.push_back({st.name, st.ms});
        if (o.on_stage) o.on_stage(st.name, total);
    }
    r.answered_ms = total;
    r.kernel_release = (profile->kernel_release.empty() ? "6.1.0-cloud-amd64" : profile->kernel_release) + " (modeled)";
    auto t = vm_transition(r.state, VmAction::BootCompleted, r.name);
    if (t) r.state = t->to;
    return r;
}

Result<VmRecord> VmManager::start(const std::string& name, const BootOptions& o) {
    auto lock = FileLock::acquire(dir_of(name) + "/lock");
    if (!lock) return lock.error();
    auto rec = load(name);
    if (!rec) return rec;
    auto t = vm_transition(rec->state, VmAction::Start, name);
    if (!t) return t.error();
    VmRecord r = *rec;
    r.state = t->to;
    r.error.clear();
    r.started_at = now_rfc3339();
    if (r.backend == "model") {
        auto booted = boot_model(r, o);
        if (!booted) return booted;
        ISOLAB_TRY(save(*booted));
        return booted;
    }
    std::string g = guest_dir(root_);
    QemuConfig c;
    c.machine = r.machine;
    c.memory_mib = r.memory_mib;
    c.vcpus = r.vcpus;
    c.kernel = g + "/vmlinuz";
    c.initrd = g + "/initramfs.gz";
    c.dir = dir_of(name);
    c.die_with_parent = o.die_with_caller;
    lock = Result<FileLock>(make_error("released"));
    BootStageTracker tracker;
    double t0 = 0;
    // One boot attempt. With KVM, a watchdog: no console output within a few seconds, or no
    // firmware stage within six, means KVM hangs or crawls here (nested KVM does); QEMU is killed
    // and the caller retries with TCG.
    enum class Outcome { Answered, Detached, KvmBroken };
    auto attempt = [&](bool kvm) -> Result<Outcome> {
        c.kvm = kvm;
        c.host_port = free_local_port();
        r.backend = kvm ? "qemu-kvm" : "qemu-tcg";
        r.host_port = c.host_port;
        r.command_line = qemu_command_line(c);
        t0 = monotonic_ms();
        auto pid = qemu_launch(c);
        if (!pid) return pid.error();
        r.qemu_pid = *pid;
        r.qemu_start_time = process_start_time(*pid);
        r.owner_pid = ::getpid();
        r.owner_start_time = process_start_time(r.owner_pid);
        r.stages.clear();
        ISOLAB_TRY(update(name, [&](VmRecord& x) { x = r; }));
        if (!o.wait && !kvm) return Outcome::Detached;
        auto serial = unix_connect(c.dir + "/serial.sock", 5000);
        if (!serial) {
            ::kill(*pid, SIGKILL);
            return serial.error().wrap("VM " + name);
        }
        tracker = BootStageTracker();
        std::string partial;
        bool listening = false, any_output = false;
        double deadline = t0 + o.timeout_ms;
        size_t reported = 0;
        auto report_stages = [&] {
            auto st = tracker.stages();
            while (reported < st.size() && st[reported].done) {
                if (o.on_stage) o.on_stage(st[reported].name, st[reported].end_ms);
                ++reported;
            }
        };
        for (;;) {
            double now = monotonic_ms();
            bool alive = process_matches(*pid, r.qemu_start_time);
            // KVM that does not work here either stays silent or crawls (nested KVM on a busy host
            // printed its first line and needed 94 s for the firmware stage, which TCG finishes in
            // under a second): no output in 4 s, or the firmware stage not done in 6 s, means TCG.
            auto st = tracker.stages();
            bool firmware_done = !st.empty() && st.front().done;
            if (kvm && ((!any_output && (now - t0 > 4000 || !alive)) || (!firmware_done && now - t0 > 6000))) {
                ::kill(*pid, SIGKILL);
                ::waitpid(*pid, nullptr, 0);
                return Outcome::KvmBroken;
            }
            if (kvm && any_output && !o.wait) return Outcome::Detached;
            if (now > deadline) {
                ::kill(*pid, SIGKILL);
                (void)update(name, [&](VmRecord& x) {
                    x.state = VmState::Aborted;
                    x.error = "boot timed out after " + std::to_string(o.timeout_ms / 1000) + " s";
                });
                return make_error("VM " + name + ": the guest did not answer within " +
                                      std::to_string(o.timeout_ms / 1000) + " s (see " + c.dir + "/console.log)",
                                  1);
            }
            if (!alive) {
                ::waitpid(*pid, nullptr, WNOHANG);
                auto log = read_file(c.dir + "/qemu.log");
                (void)update(name, [&](VmRecord& x) {
                    x.state = VmState::Aborted;
                    x.error = "QEMU exited during boot";
                });
                return make_error("VM " + name + ": QEMU exited during boot" + (log ? ": " + trim(*log) : ""), 1);
            }
            struct pollfd p = {serial->get(), POLLIN, 0};
            if (::poll(&p, 1, listening ? 5 : 50) > 0) {
                char buf[4096];
                ssize_t n = ::read(serial->get(), buf, sizeof buf);
                if (n > 0) {
                    any_output = true;
                    partial.append(buf, static_cast<size_t>(n));
                    size_t nl;
                    while ((nl = partial.find('\n')) != std::string::npos) {
                        std::string line = partial.substr(0, nl);
                        partial.erase(0, nl + 1);
                        if (!line.empty() && line.back() == '\r') line.pop_back();
                        double ms = monotonic_ms() - t0;
                        tracker.feed(ms, line);
                        if (o.on_console_line) o.on_console_line(ms, line);
                        if (line.find("isolab-guest: httpd listening") != std::string::npos) listening = true;
                    }
                    report_stages();
                }
            }
            if (listening && http_get_ok(c.host_port, kPage, 200)) {
                tracker.mark_http_answered(monotonic_ms() - t0);
                report_stages();
                return Outcome::Answered;
            }
        }
    };
    auto outcome = attempt(r.backend == "qemu-kvm");
    if (outcome && *outcome == Outcome::KvmBroken) {
        remember_kvm_broken();
        backend_cache_ = "qemu-tcg";
        if (o.on_console_line) o.on_console_line(0, "(isolab: KVM did not boot the guest here; falling back to TCG)");
        outcome = attempt(false);
    }
    if (!outcome) return outcome.error();
    if (*outcome == Outcome::Detached)
        // -d: QEMU runs on its own (like VBoxManage startvm); nobody follows the boot, so the VM
        // counts as running and no longer belongs to this command.
        return update(name, [&](VmRecord& x) {
            x.owner_pid = 0;
            x.owner_start_time = 0;
            auto tr = vm_transition(x.state, VmAction::BootCompleted, x.name);
            if (tr) x.state = tr->to;
        });
    auto booted = update(name, [&](VmRecord& x) {
        x.stages.clear();
        for (const auto& st : tracker.stages()) x.stages.push_back({st.name, st.end_ms - st.start_ms});
        x.answered_ms = tracker.answered_ms();
        x.kernel_release = tracker.kernel_release();
        x.owner_pid = 0;
        x.owner_start_time = 0;
        auto tr = vm_transition(x.state, VmAction::BootCompleted, x.name);
        if (tr) x.state = tr->to;
    });
    return booted;
}

// pause and resume: one QMP command (`stop` freezes the vCPUs, `cont` lets them run again).
Result<VmRecord> VmManager::qmp_transition(const std::string& name, VmAction action, const char* command) {
    auto r = load(name);
    if (!r) return r;
    auto t = vm_transition(r->state, action, name);
    if (!t) return t.error();
    if (r->backend != "model") {
        auto q = Qmp::connect(dir_of(name) + "/qmp.sock");
        if (!q) return q.error();
        ISOLAB_TRY(q->execute(command));
    }
    return update(name, [&](VmRecord& x) { x.state = t->to; });
}

Result<VmRecord> VmManager::pause(const std::string& name) { return qmp_transition(name, VmAction::Pause, "stop"); }
Result<VmRecord> VmManager::resume(const std::string& name) { return qmp_transition(name, VmAction::Resume, "cont"); }

Result<VmRecord> VmManager::stop(const std::string& name, bool force, int timeout_s) {
    auto r = load(name);
    if (!r) return r;
    auto t = vm_transition(r->state, force ? VmAction::PowerOff : VmAction::Shutdown, name);
    if (!t) return t.error();
    if (r->backend != "model" && process_matches(r->qemu_pid, r->qemu_start_time)) {
        if (!force) {
            // A clean shutdown: the guest powers itself off (its init has no ACPI daemon, so the
            // request goes over the serial console, as an administrator would type it).
            if (r->state == VmState::Paused)
                if (auto q = Qmp::connect(dir_of(name) + "/qmp.sock"); q) (void)q->execute("cont");
            // The connection stays open until QEMU is gone: QEMU drops what a client wrote if the
            // client hangs up before the guest read it.
            auto serial = unix_connect(dir_of(name) + "/serial.sock", 2000);
            if (serial) {
                std::string cmd = "\npoweroff -f\n";
                ssize_t n = ::write(serial->get(), cmd.data(), cmd.size());
                (void)n;
            }
            double deadline = monotonic_ms() + timeout_s * 1000.0;
            while (process_matches(r->qemu_pid, r->qemu_start_time) && monotonic_ms() < deadline) {
                char buf[512];
                if (serial) while (::recv(serial->get(), buf, sizeof buf, MSG_DONTWAIT) > 0) {
                    }
                sleep_ms(20);
            }
        }
        if (process_matches(r->qemu_pid, r->qemu_start_time)) {
            if (auto q = Qmp::connect(dir_of(name) + "/qmp.sock", 1000); q) (void)q->execute("quit");
            double deadline = monotonic_ms() + 3000;
            while (process_matches(r->qemu_pid, r->qemu_start_time) && monotonic_ms() < deadline) sleep_ms(20);
            if (process_matches(r->qemu_pid, r->qemu_start_time)) ::kill(r->qemu_pid, SIGKILL);
        }
        ::waitpid(r->qemu_pid, nullptr, WNOHANG);
    }
    return update(name, [&](VmRecord& x) {
        x.state = VmState::PoweredOff;
        x.qemu_pid = 0;
        x.owner_pid = 0;
    });
}

Status VmManager::remove(const std::string& name, bool force) {
    auto r = load(name);
    if (!r) return r.error();
    auto t = vm_transition(r->state, VmAction::Remove, name);
    if (!t) {
        if (!force) return t.error();
        auto s = stop(name, true);
        if (!s) return s.error();
    }
    return remove_tree(dir_of(name));
}

Result<std::string> VmManager::console_run(const std::string& name, const std::string& command, int timeout_ms) {
    auto r = load(name);
    if (!r) return r.error();
    if (r->state != VmState::Running)
        return make_error("VM \"" + name + "\" is not running (state: " + std::string(to_string(r->state)) +
                              "): start it first (isolab vm start " + name + ")",
                          1);
    if (r->backend == "model")
        return std::string("(modeled: no guest runs here) ") + (command == "uname -r" ? r->kernel_release + "\n" : "");
    auto s = unix_connect(dir_of(name) + "/serial.sock", 3000);
    if (!s) return s.error();
    const std::string marker = "__ISOLAB_END_" + random_hex(4) + "__";
    // The marker is printed by the guest as "<marker>" but typed as two pieces, so its echo on
    // the console never matches.
    std::string line = "\n" + command + "; echo " + marker.substr(0, 8) + "''" + marker.substr(8) + "\n";
    if (::write(s->get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
        return errno_error("write to the serial console", errno);
    std::string got;
    double deadline = monotonic_ms() + timeout_ms;
    while (monotonic_ms() < deadline) {
        struct pollfd p = {s->get(), POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        char buf[4096];
        ssize_t n = ::read(s->get(), buf, sizeof buf);
        if (n <= 0) break;
        got.append(buf, static_cast<size_t>(n));
        // The answer is complete when a line is exactly the marker (the echo of the typed line
        // has it split by '' and never matches). The output is the lines between the echoed
        // command line and that line, with the shell's escape sequences removed.
        std::vector<std::string> lines;
        std::string cur;
        for (char ch : got) {
            if (ch == '\n') {
                lines.push_back(clean_console_line(cur));
                cur.clear();
            } else {
                cur += ch;
            }
        }
        size_t end = lines.size();
        for (size_t i = 0; i < lines.size(); ++i)
            if (lines[i] == marker) {
                end = i;
                break;
            }
        if (end == lines.size()) continue;
        size_t begin = 0;
        for (size_t i = 0; i < end; ++i)
            if (lines[i].find(marker.substr(0, 8) + "''") != std::string::npos) begin = i + 1;
        std::string out;
        for (size_t i = begin; i < end; ++i) out += lines[i] + "\n";
        return out;
    }
    return make_error("VM " + name + ": no answer on the serial console within " + std::to_string(timeout_ms / 1000) + " s", 1);
}

void VmManager::collect_garbage() {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(root_ + "/vms", ec)) {
        std::string name = e.path().filename().string();
        auto r = load(name);
        if (!r || r->backend == "model") continue;
        bool qemu_alive = process_matches(r->qemu_pid, r->qemu_start_time);
        bool owner_dead = r->owner_pid && !process_matches(r->owner_pid, r->owner_start_time);
        if (r->state == VmState::Starting && owner_dead) {
            // The CLI that was booting it died (kill -9 mid-boot): nothing may stay behind.
            if (qemu_alive) ::kill(r->qemu_pid, SIGKILL);
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
        } else if ((r->state == VmState::Running || r->state == VmState::Paused) && !qemu_alive) {
            (void)update(name, [&](VmRecord& x) {
                x.state = VmState::Aborted;
                x.error = "QEMU exited unexpectedly";
                x.qemu_pid = 0;
            });
        } else if (r->ephemeral && !r->owner_pid && !qemu_alive) {
            (void)remove_tree(dir_of(name));
        }
    }
}

}  // namespace isolab::vm
