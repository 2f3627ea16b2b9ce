#include "sim/vm/qemu.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <thread>

#include "sim/core/clock.hpp"
#include "sim/runtime/monitor.hpp"
#include "sim/vm/boot_stages.hpp"
#include "sim/vm/vm_record.hpp"

namespace isolab::vm {

using nlohmann::json;

std::string default_kernel_append() {
    // earlyprintk: the kernel's first line arrives at once, so the firmware stage ends where the
    // kernel starts (not when the real console registers, 200-300 ms later). tsc_early_khz: under
    // TCG the guest's TSC runs at the host's rate, and telling the kernel spares a calibration that
    // sometimes never finishes on microvm (no HPET or PM timer to calibrate against).
    std::string append = "console=ttyS0 earlyprintk=ttyS0 panic=-1";
    if (auto info = read_file("/proc/cpuinfo"); info) {
        size_t at = info->find("cpu MHz");
        if (at != std::string::npos) {
            size_t colon = info->find(':', at);
            double mhz = colon == std::string::npos ? 0 : std::atof(info->c_str() + colon + 1);
            if (mhz > 0) append += " tsc_early_khz=" + std::to_string(static_cast<long>(mhz * 1000));
        }
    }
    return append;
}

std::vector<std::string> qemu_argv(const QemuConfig& c) {
    std::vector<std::string> a = {c.qemu};
    const bool micro = c.machine == "microvm";
    a.insert(a.end(), {"-machine", micro ? "microvm" : "pc", "-accel", c.kvm ? "kvm" : "tcg"});
    a.insert(a.end(), {"-m", std::to_string(c.memory_mib), "-smp", std::to_string(c.vcpus), "-nodefaults",
                       "-no-user-config", "-display", "none", "-no-reboot", "-kernel", c.kernel, "-initrd", c.initrd,
                       "-append", c.append});
    // The serial console is a unix socket (a client may attach to type into the guest); every byte
    // the guest prints also goes to console.log, attached or not.
    a.insert(a.end(), {"-chardev", "socket,id=ser0,path=" + c.dir + "/serial.sock,server=on,wait=off,logfile=" +
                                       c.dir + "/console.log",
                       "-serial", "chardev:ser0"});
    a.insert(a.end(), {"-qmp", "unix:" + c.dir + "/qmp.sock,server=on,wait=off"});
    std::string fwd = c.host_port ? ",hostfwd=tcp:127.0.0.1:" + std::to_string(c.host_port) + "-:80" : "";
    if (micro) {
        // `-nic user,model=virtio-net-device` makes no card on microvm: the device must be named.
        a.insert(a.end(), {"-netdev", "user,id=n0" + fwd, "-device", "virtio-net-device,netdev=n0"});
    } else {
        a.insert(a.end(), {"-nic", "user,model=virtio-net-pci" + fwd});
    }
    return a;
}

std::string qemu_command_line(const QemuConfig& c) {
    std::string out;
    for (const auto& w : qemu_argv(c)) {
        if (!out.empty()) out += ' ';
        bool plain = w.find_first_of(" \t'\"$;&|<>()") == std::string::npos && !w.empty();
        out += plain ? w : "'" + w + "'";
    }
    return out;
}

Result<pid_t> qemu_launch(const QemuConfig& c) {
    auto argv = qemu_argv(c);
    for (const char* f : {"/serial.sock", "/qmp.sock", "/console.log"}) ::unlink((c.dir + f).c_str());
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) return errno_error("start QEMU: fork", errno);
    if (pid == 0) {
        ::setsid();
        if (c.die_with_parent) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent) ::_exit(1);  // the parent died before the line above
        }
        int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        int log = ::open((c.dir + "/qemu.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ::dup2(devnull, 0);
        ::dup2(log >= 0 ? log : devnull, 1);
        ::dup2(log >= 0 ? log : devnull, 2);
        ::close_range(3, ~0U, 0);
        std::vector<char*> av;
        for (auto& s : argv) av.push_back(s.data());
        av.push_back(nullptr);
        ::execvp(av[0], av.data());
        ::_exit(127);
    }
    return pid;
}

Result<UniqueFd> unix_connect(const std::string& path, int timeout_ms) {
    double deadline = monotonic_ms() + timeout_ms;
    for (;;) {
        int dir_fd = -1;
        std::string p = short_socket_path(path, &dir_fd);
        UniqueFd holder(dir_fd);
        UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        struct sockaddr_un addr = {};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, p.c_str(), sizeof addr.sun_path - 1);
        if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return fd;
        int err = errno;
        if (monotonic_ms() > deadline) return errno_error("connect `" + path + "`", err);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

Result<Qmp> Qmp::connect(const std::string& path, int timeout_ms) {
    auto fd = unix_connect(path, timeout_ms);
    if (!fd) return fd.error().wrap("QMP");
    Qmp q;
    q.fd_ = std::move(*fd);
    auto greeting = q.read_message();  // {"QMP": {...}}
    if (!greeting) return greeting.error();
    auto caps = q.execute("qmp_capabilities");
    if (!caps) return caps.error();
    return q;
}

Result<json> Qmp::read_message() {
    for (;;) {
        size_t nl = buffer_.find('\n');
        if (nl != std::string::npos) {
            std::string line = buffer_.substr(0, nl);
            buffer_.erase(0, nl + 1);
            auto j = json::parse(line, nullptr, false);
            if (!j.is_discarded()) return j;
            continue;
        }
        struct pollfd p = {fd_.get(), POLLIN, 0};
        if (::poll(&p, 1, 5000) <= 0) return make_error("QMP: no answer from QEMU within 5 s");
        char buf[4096];
        ssize_t n = ::read(fd_.get(), buf, sizeof buf);
        if (n <= 0) return make_error("QMP: QEMU closed the monitor socket");
        buffer_.append(buf, static_cast<size_t>(n));
    }
}

Result<json> Qmp::execute(const std::string& command, const json& args) {
    json msg = {{"execute", command}};
    if (!args.is_null()) msg["arguments"] = args;
    std::string text = msg.dump() + "\n";
    if (::write(fd_.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        return errno_error("QMP: write", errno);
    for (;;) {
        auto m = read_message();
        if (!m) return m;
        if (m->contains("return")) return (*m)["return"];
        if (m->contains("error"))
            return make_error("QMP " + command + ": " + (*m)["error"].value("desc", std::string("error")));
        // an asynchronous event ({"event": ...}): keep reading
    }
}

uint64_t process_rss_kib(pid_t pid) {
    auto s = read_file("/proc/" + std::to_string(pid) + "/status");
    if (!s) return 0;
    size_t at = s->find("VmRSS:");
    if (at == std::string::npos) return 0;
    return std::strtoull(s->c_str() + at + 6, nullptr, 10);
}

bool http_get_ok(int port, const std::string& needle, int timeout_ms, std::string* body) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid()) return false;
    struct sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    double deadline = monotonic_ms() + timeout_ms;
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) return false;
    struct pollfd p = {fd.get(), POLLOUT, 0};
    if (::poll(&p, 1, timeout_ms) <= 0 || (p.revents & (POLLERR | POLLHUP))) return false;
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) return false;
    std::string req = "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd.get(), req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return false;
    std::string resp;
    while (monotonic_ms() < deadline) {
        struct pollfd r = {fd.get(), POLLIN, 0};
        int left = static_cast<int>(deadline - monotonic_ms());
        if (::poll(&r, 1, left > 0 ? left : 0) <= 0) break;
        char buf[4096];
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n <= 0) break;
        resp.append(buf, static_cast<size_t>(n));
    }
    if (body) *body = resp;
    return resp.rfind("HTTP/1.", 0) == 0 && resp.find(" 200") != std::string::npos &&
           resp.find(needle) != std::string::npos;
}

int free_local_port() {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    struct sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 0;
    socklen_t len = sizeof addr;
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    return ntohs(addr.sin_port);
}

// ---- QemuBackend -------------------------------------------------------------------------------

namespace {

const char* kPage = "Hello from IsoLab";

std::string boot_id() {
    auto b = read_file("/proc/sys/kernel/random/boot_id");
    return b ? trim(*b) : "";
}

}  // namespace

bool qemu_kvm_known_broken(const std::string& state_root) {
    for (const std::string& f : {state_root + "/vms/kvm-broken", std::string("/run/isolab/kvm-broken")}) {
        auto text = read_file(f);
        if (text && trim(*text) == boot_id()) return true;
    }
    return false;
}

void QemuBackend::remember_kvm_broken() const {
    (void)write_file_atomic(root_ + "/vms/kvm-broken", boot_id() + "\n");
    // Readable by everyone: other users' IsoLab reads it too.
    if (make_dirs("/run/isolab", 0755)) (void)write_file_atomic("/run/isolab/kvm-broken", boot_id() + "\n", 0644);
}

bool QemuBackend::process_alive(const VmRecord& r) const { return process_matches(r.qemu_pid, r.qemu_start_time); }

Result<VmRecord> QemuBackend::boot(VmRecord r, const VmContext& ctx, const BootOptions& o) {
    const std::string& name = r.name;
    QemuConfig c;
    c.machine = r.machine;
    c.memory_mib = r.memory_mib;
    c.vcpus = r.vcpus;
    c.kernel = ctx.guest_dir + "/vmlinuz";
    c.initrd = ctx.guest_dir + "/initramfs.gz";
    c.dir = ctx.dir;
    c.die_with_parent = o.die_with_caller;
    BootStageTracker tracker;
    double t0 = 0;
    // One boot attempt. With KVM, a watchdog: no console output within a few seconds, or no
    // firmware stage within six, means KVM hangs or crawls here (nested KVM does); QEMU is killed
    // and the caller retries with TCG.
    enum class Outcome { Answered, Detached, KvmBroken };
    auto attempt = [&](bool kvm) -> Result<Outcome> {
        c.kvm = kvm;
        c.host_port = free_local_port();
        r.backend = kvm ? VmBackendKind::QemuKvm : VmBackendKind::QemuTcg;
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
        // The process is in the record before anything can fail: a later command (or the garbage
        // collector, if this one dies) finds it there.
        if (auto s = ctx.update([&](VmRecord& x) { x = r; }); !s) {
            ::kill(*pid, SIGKILL);
            ::waitpid(*pid, nullptr, 0);
            return s.error();
        }
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
                (void)ctx.update([&](VmRecord& x) {
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
                (void)ctx.update([&](VmRecord& x) {
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
    auto outcome = attempt(r.backend == VmBackendKind::QemuKvm);
    if (outcome && *outcome == Outcome::KvmBroken) {
        remember_kvm_broken();
        if (o.on_console_line) o.on_console_line(0, "(isolab: KVM did not boot the guest here; falling back to TCG)");
        outcome = attempt(false);
    }
    if (!outcome) return outcome.error();
    // -d: QEMU runs on its own (like VBoxManage startvm); nobody followed the boot, so there are
    // no stages to report.
    if (*outcome == Outcome::Detached) return r;
    r.stages.clear();
    for (const auto& st : tracker.stages()) r.stages.push_back({st.name, st.end_ms - st.start_ms});
    r.answered_ms = tracker.answered_ms();
    r.kernel_release = tracker.kernel_release();
    return r;
}

// pause and resume: one QMP command (`stop` freezes the vCPUs, `cont` lets them run again).
Status QemuBackend::pause(const VmRecord&, const VmContext& ctx) {
    auto q = Qmp::connect(ctx.dir + "/qmp.sock");
    if (!q) return q.error();
    ISOLAB_TRY(q->execute("stop"));
    return {};
}

Status QemuBackend::resume(const VmRecord&, const VmContext& ctx) {
    auto q = Qmp::connect(ctx.dir + "/qmp.sock");
    if (!q) return q.error();
    ISOLAB_TRY(q->execute("cont"));
    return {};
}

void QemuBackend::power_off(const VmRecord& r, const VmContext& ctx, bool force, int timeout_s) {
    if (!process_alive(r)) return;
    if (!force) {
        // A clean shutdown: the guest powers itself off (its init has no ACPI daemon, so the
        // request goes over the serial console, as an administrator would type it).
        if (r.state == VmState::Paused)
            if (auto q = Qmp::connect(ctx.dir + "/qmp.sock"); q) (void)q->execute("cont");
        // The connection stays open until QEMU is gone: QEMU drops what a client wrote if the
        // client hangs up before the guest read it.
        auto serial = unix_connect(ctx.dir + "/serial.sock", 2000);
        if (serial) {
            std::string cmd = "\npoweroff -f\n";
            ssize_t n = ::write(serial->get(), cmd.data(), cmd.size());
            (void)n;
        }
        double deadline = monotonic_ms() + timeout_s * 1000.0;
        while (process_alive(r) && monotonic_ms() < deadline) {
            char buf[512];
            if (serial) while (::recv(serial->get(), buf, sizeof buf, MSG_DONTWAIT) > 0) {
                }
            sleep_ms(20);
        }
    }
    if (process_alive(r)) {
        if (auto q = Qmp::connect(ctx.dir + "/qmp.sock", 1000); q) (void)q->execute("quit");
        double deadline = monotonic_ms() + 3000;
        while (process_alive(r) && monotonic_ms() < deadline) sleep_ms(20);
        if (process_alive(r)) ::kill(r.qemu_pid, SIGKILL);
    }
    ::waitpid(r.qemu_pid, nullptr, WNOHANG);
}

Result<std::string> QemuBackend::console_run(const VmRecord& r, const VmContext& ctx, const std::string& command,
                                             int timeout_ms) {
    auto s = unix_connect(ctx.dir + "/serial.sock", 3000);
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
    return make_error("VM " + r.name + ": no answer on the serial console within " + std::to_string(timeout_ms / 1000) + " s", 1);
}

}  // namespace isolab::vm
