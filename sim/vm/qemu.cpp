#include "sim/vm/qemu.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <thread>

#include "sim/core/clock.hpp"
#include "sim/runtime/monitor.hpp"

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

}  // namespace isolab::vm
