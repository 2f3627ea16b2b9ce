// QEMU as the hypervisor of IsoLab's hosted side: building its command line, launching it, and
// talking to it (QMP for pause/resume/quit, the serial console for the guest's own output and for
// typing commands into the guest). The pieces know nothing about VM records; QemuBackend, at the
// end, puts them together as the VmBackend that boots a record's guest (sim/vm/vm_backend.hpp).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/files.hpp"
#include "sim/core/result.hpp"
#include "sim/vm/vm_backend.hpp"

namespace isolab::vm {

// The guest kernel's command line: serial console, early printk, panic → exit, the TSC rate.
std::string default_kernel_append();

struct QemuConfig {
    std::string qemu = "qemu-system-x86_64";
    std::string machine = "pc";  // pc | microvm
    bool kvm = false;            // false: TCG (software emulation)
    int memory_mib = 256;
    int vcpus = 1;
    std::string kernel, initrd;
    std::string append = default_kernel_append();
    int host_port = 0;           // 127.0.0.1:host_port → guest :80 (user-mode networking)
    std::string dir;             // serial.sock, qmp.sock, console.log, qemu.log live here
    bool die_with_parent = false;  // PR_SET_PDEATHSIG: for a VM owned by one CLI call (race)
};

std::vector<std::string> qemu_argv(const QemuConfig& c);
// The command line as one shell-quoted string, for the learner ("what IsoLab runs").
std::string qemu_command_line(const QemuConfig& c);

// Starts QEMU in its own session, stdout/stderr to DIR/qemu.log. Returns its pid.
Result<pid_t> qemu_launch(const QemuConfig& c);

// Connects to a unix socket, retrying while it does not exist yet (QEMU creates it at start).
Result<UniqueFd> unix_connect(const std::string& path, int timeout_ms);

// QMP: the machine protocol of QEMU's monitor.
class Qmp {
public:
    static Result<Qmp> connect(const std::string& path, int timeout_ms = 3000);
    Result<nlohmann::json> execute(const std::string& command, const nlohmann::json& args = nullptr);

private:
    Result<nlohmann::json> read_message();
    UniqueFd fd_;
    std::string buffer_;
};

// Resident memory of a process in KiB (VmRSS), 0 when gone.
uint64_t process_rss_kib(pid_t pid);

// One GET of http://127.0.0.1:PORT/ with a short timeout; true on an HTTP 200 whose body
// contains NEEDLE. A readiness probe, not an HTTP client.
bool http_get_ok(int port, const std::string& needle, int timeout_ms, std::string* body = nullptr);

// A free TCP port on 127.0.0.1 (bind to port 0, read it back, close).
int free_local_port();

// True when a KVM boot already failed on this host since it booted. KVM that passes the probe can
// still hang or crawl on the first real boot (nested KVM on our machines does both); QemuBackend
// remembers such a failure in STATE_ROOT/vms/kvm-broken and, for every other state root on this
// host, in /run/isolab/kvm-broken (emptied at reboot).
bool qemu_kvm_known_broken(const std::string& state_root);

// The real hypervisor: QEMU with KVM or TCG, the guest kernel from the guest directory, its web
// server forwarded to a free port on 127.0.0.1. A boot on KVM that stays silent or crawls is
// ended and retried on TCG, and the record then says qemu-tcg.
class QemuBackend final : public VmBackend {
public:
    explicit QemuBackend(std::string state_root) : root_(std::move(state_root)) {}

    Result<VmRecord> boot(VmRecord r, const VmContext& ctx, const BootOptions& o) override;
    Status pause(const VmRecord& r, const VmContext& ctx) override;
    Status resume(const VmRecord& r, const VmContext& ctx) override;
    void power_off(const VmRecord& r, const VmContext& ctx, bool force, int timeout_s) override;
    Result<std::string> console_run(const VmRecord& r, const VmContext& ctx, const std::string& command,
                                    int timeout_ms) override;
    bool has_process() const override { return true; }
    bool process_alive(const VmRecord& r) const override;

private:
    void remember_kvm_broken() const;
    std::string root_;
};

}  // namespace isolab::vm
