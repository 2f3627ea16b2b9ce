// Attacks from inside a container on the runtime's own channels: the report the CLI reads, the
// descriptors and terminal `exec` hands over, the IsoLab binary that enters the container, and an
// image whose /etc is a symlink to the host (issue 12, items 1, 2 and 5).
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/runtime/sealed_exec.hpp"
#include "security.hpp"

using namespace isolab::test;
using nlohmann::json;

namespace {

std::string trim_nl(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
}

json inspect(const TempRoot& r, const std::string& name) {
    auto j = json::parse(r.isolab({"inspect", name}).out, nullptr, false);
    return j.is_array() && !j.empty() ? j[0] : json::object();
}

// A host process the attacker would like IsoLab to treat as the container: a plain `sleep`.
struct HostDecoy {
    pid_t pid = -1;
    HostDecoy() {
        pid = ::fork();
        if (pid == 0) {
            ::setsid();
            ::execl("/bin/sleep", "sleep", "300", nullptr);
            ::_exit(127);
        }
    }
    ~HostDecoy() {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
};

std::string sha_of(const std::string& path) { return run_process({"/usr/bin/sha256sum", path}).out.substr(0, 64); }

}  // namespace

TEST_CASE("security: a container cannot forge the report the CLI reads (the sync channel)") {
    if (!can_attack()) return;
    TempRoot r;
    HostDecoy decoy;
    std::string forged = json{{"status", "running"}, {"pid", decoy.pid}, {"monitor_pid", decoy.pid},
                              {"cgroup_paths", json::array()}, {"steps", json::array()}}.dump();
    // PID 1 writes the forged report to every descriptor it may have inherited, at once.
    std::string script = "for f in /proc/self/fd/*; do n=${f##*/}; [ \"$n\" -gt 2 ] 2>/dev/null && echo '" + forged +
                         "' >&$n; done 2>/dev/null; ls /proc/self/fd; sleep 300";
    auto run = r.isolab({"run", "-d", "--name", "forger", "busybox", "sh", "-c", script});
    REQUIRE(run.code == 0);
    auto j = inspect(r, "forger");
    int pid = j["State"]["Pid"].get<int>();
    CHECK(pid != decoy.pid);
    CHECK(pid > 0);
    // The recorded PID 1 is the monitor's child and lives in a pid namespace of its own.
    std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
    CHECK(isolab::process_parent(pid) != decoy.pid);
    CHECK(std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/ns/pid") !=
          std::filesystem::read_symlink("/proc/self/ns/pid"));
    // PID 1 saw only its stdio (ls's own directory descriptor is 3).
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto logs = r.isolab({"logs", "forger"});
    CHECK(logs.out == "0\n1\n2\n3\n");
    // exec runs in the container, not in the decoy's namespaces; kill signals the container.
    auto ex = r.isolab({"exec", "forger", "cat", "/etc/hostname"});
    CHECK(trim_nl(ex.out) == j["Id"].get<std::string>().substr(0, 12));  // the container's, not the host's
    CHECK(r.isolab({"kill", "forger"}).code == 0);
    CHECK(process_alive(decoy.pid));
}

TEST_CASE("security: exec refuses a PID 1 the process tree does not vouch for (a tampered record)") {
    if (!can_attack()) return;
    TempRoot r;
    HostDecoy decoy;
    REQUIRE(r.isolab({"run", "-d", "--name", "ctr", "busybox", "sleep", "300"}).code == 0);
    std::string id = r.id_of("ctr");
    std::string path = r.path() + "/containers/" + id + "/container.json";
    auto rec = json::parse(read_text(path));
    rec["pid"] = decoy.pid;
    rec["pid_start_time"] = isolab::process_start_time(decoy.pid);
    REQUIRE(isolab::write_file_atomic(path, rec.dump(2), 0600).ok());
    auto ex = r.isolab({"exec", "ctr", "cat", "/etc/hostname"});
    CHECK(ex.code != 0);
    CHECK(ex.err.find("not the container's PID 1") != std::string::npos);
    CHECK(ex.out.empty());
}

TEST_CASE("security: exec hands over no descriptor of the caller's and never its terminal") {
    if (!can_attack()) return;
    TempRoot r;
    std::string secret = r.path() + "/host-secret";
    {
        std::ofstream(secret) << "HOST-SECRET-7f3a\n";
    }
    REQUIRE(r.isolab({"run", "-d", "--name", "ctr", "busybox", "sleep", "300"}).code == 0);
    // `exec c cat /proc/self/fd/9 9</host/file`: the shell opens fd 9 for the CLI.
    std::string cmd = "ISOLAB_ROOT=" + r.path() + " " + r.bin + " exec ctr sh -c 'cat /proc/self/fd/9; ls /proc/self/fd' 9<" + secret;
    auto leak = run_process({"/bin/sh", "-c", cmd});
    CHECK(leak.out.find("HOST-SECRET") == std::string::npos);
    CHECK(leak.out == "0\n1\n2\n3\n");
    // The same for PID 1 of a new container.
    std::string cmd2 = "ISOLAB_ROOT=" + r.path() + " " + r.bin + " run --rm busybox sh -c 'cat /proc/self/fd/9; ls /proc/self/fd' 9<" + secret;
    auto leak2 = run_process({"/bin/sh", "-c", cmd2});
    CHECK(leak2.out.find("HOST-SECRET") == std::string::npos);
    CHECK(leak2.out == "0\n1\n2\n3\n");

    // Run from a real terminal (script(1) gives the CLI a pty as its controlling terminal): the
    // exec'd process must have no controlling terminal (tty_nr 0, /dev/tty unopenable), so
    // TIOCSTI cannot push keystrokes into the administrator's shell.
    std::string in_tty = "ISOLAB_ROOT=" + r.path() + " " + r.bin +
                         " exec ctr sh -c 'cut -d\" \" -f7 /proc/self/stat; (: </dev/tty) 2>/dev/null && echo HAS-TTY || echo NO-TTY; [ -t 0 ] && echo STDIN-TTY'";
    auto t = run_process({"/usr/bin/script", "-qec", in_tty, "/dev/null"});
    CHECK(t.out.find("NO-TTY") != std::string::npos);
    CHECK(t.out.find("HAS-TTY") == std::string::npos);
    CHECK(t.out.find("STDIN-TTY") == std::string::npos);
    CHECK(first_line(t.out).find('0') == 0);
}

TEST_CASE("security: the binary that enters a container cannot be written through /proc/PID/exe (CVE-2019-5736)") {
    if (!can_attack()) return;
    // The mechanism on its own: a program started through ReadOnlyExec, kept by an O_PATH
    // descriptor, cannot be reopened for writing once it stops; one started plainly can.
    std::string dir = "/tmp/isolab-roexec-" + std::to_string(::getpid());
    std::filesystem::create_directories(dir);
    std::string prog = dir + "/sleep";
    std::filesystem::copy_file("/bin/sleep", prog, std::filesystem::copy_options::overwrite_existing);
    auto reopen_for_write_after_exit = [&](bool read_only) {
        isolab::ReadOnlyExec ro({prog, "30"});
        pid_t pid = ::fork();
        if (pid == 0) {
            if (read_only) ro.exec();
            ::execl(prog.c_str(), "sleep", "30", nullptr);
            ::_exit(127);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        int path_fd = ::open(("/proc/" + std::to_string(pid) + "/exe").c_str(), O_PATH | O_CLOEXEC);
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        int w = ::open(("/proc/self/fd/" + std::to_string(path_fd)).c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
        int err = errno;
        if (w >= 0) ::close(w);
        ::close(path_fd);
        return w >= 0 ? 0 : err;
    };
    CHECK(reopen_for_write_after_exit(false) == 0);       // the attack works on a plain exec
    CHECK(reopen_for_write_after_exit(true) == EROFS);    // and not on IsoLab's
    std::filesystem::remove_all(dir);

    // The attack from inside (tests/security/attack_procexe.c as the container's PID 1): it waits
    // for IsoLab's binary to run in its pid namespace (`exec CTR /proc/self/exe` runs it there),
    // keeps its executable open, and appends to it once it exits. The binaries are private copies,
    // so a failure cannot damage the build.
    TempRoot r;
    r.use_private_binaries();
    std::string monitor = r.path() + "/bin/isolab-monitor";
    std::string before = sha_of(monitor);
    std::string ctx = r.path() + "/ctx";
    std::filesystem::create_directories(ctx);
    std::filesystem::copy_file(ISOLAB_ATTACK_PROCEXE, ctx + "/attack");
    std::ofstream(ctx + "/Dockerfile") << "FROM busybox\nCOPY attack /attack\nCMD [\"/attack\"]\n";
    REQUIRE(r.isolab({"build", "-q", "-t", "attacker", ctx}).code == 0);
    REQUIRE(r.isolab({"run", "-d", "--name", "ctr", "attacker"}).code == 0);
    std::string logs;
    // A race the attacker usually wins at the first try; a busy machine may need more.
    const double give_up = isolab::monotonic_ms() + 90000;
    for (int i = 0; i < 500 && isolab::monotonic_ms() < give_up && logs.find("DENIED") == std::string::npos &&
                    logs.find("OVERWROTE") == std::string::npos;
         ++i) {
        r.isolab({"exec", "ctr", "/proc/self/exe"});  // IsoLab's own binary, run inside the container
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        logs = r.isolab({"logs", "ctr"}).out;
    }
    MESSAGE("the attacker in the container reported: " << logs);
    CHECK(logs.find("FOUND") != std::string::npos);   // the race was won: the attack really ran
    // EROFS from the read-only bind; ETXTBSY while the container's own monitor (the same file)
    // runs. Either way the write is refused; the mechanism's EROFS is checked above on its own.
    CHECK(logs.find("DENIED") != std::string::npos);
    CHECK(logs.find("OVERWROTE") == std::string::npos);
    CHECK(sha_of(monitor) == before);

    // Without racing: the monitor (whose clone becomes PID 1) runs from a read-only mount of its
    // binary.
    REQUIRE(r.isolab({"run", "-d", "--name", "mon", "busybox", "sleep", "300"}).code == 0);
    int monitor_pid = isolab::process_parent(inspect(r, "mon")["State"]["Pid"].get<int>());
    struct statvfs sv = {};
    REQUIRE(::statvfs(("/proc/" + std::to_string(monitor_pid) + "/exe").c_str(), &sv) == 0);
    CHECK((sv.f_flag & ST_RDONLY) != 0);
    // And the exec helper, found on the host while it waits for its command.
    pid_t cli = ::fork();
    if (cli == 0) {
        ::setenv("ISOLAB_ROOT", r.path().c_str(), 1);
        int null = ::open("/dev/null", O_RDWR);
        ::dup2(null, 0);
        ::dup2(null, 1);
        ::execl(r.bin.c_str(), "isolab", "exec", "mon", "sleep", "3", nullptr);
        ::_exit(127);
    }
    int helper = 0;
    for (int i = 0; i < 100 && helper == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        for (const auto& e : std::filesystem::directory_iterator("/proc")) {
            std::string cmdline = read_text(e.path().string() + "/cmdline");
            if (cmdline.find("isolab-monitor") != std::string::npos && cmdline.find("--exec") != std::string::npos &&
                isolab::process_parent(std::atoi(e.path().filename().c_str())) == cli)
                helper = std::atoi(e.path().filename().c_str());
        }
    }
    REQUIRE(helper > 0);
    REQUIRE(::statvfs(("/proc/" + std::to_string(helper) + "/exe").c_str(), &sv) == 0);
    CHECK((sv.f_flag & ST_RDONLY) != 0);
    ::waitpid(cli, nullptr, 0);
}

TEST_CASE("security: an image whose /etc is a symlink to the host gets its files inside the container") {
    if (!can_attack()) return;
    TempRoot r;
    std::string host_dir = "/tmp/isolab-etc-target-" + std::to_string(::getpid());
    std::filesystem::remove_all(host_dir);
    std::filesystem::create_directories(host_dir);
    for (std::string target : {host_dir, "../../../../../../.." + host_dir}) {
        CAPTURE(target);
        // The image: busybox and an /etc that is a symlink (a RUN cannot make it: /etc holds
        // the bind-mounted hosts files while RUN runs).
        std::string ctx = r.path() + "/ctx";
        std::filesystem::remove_all(ctx);
        std::filesystem::create_directories(ctx + "/rootfs/bin");
        std::filesystem::copy_file("/bin/busybox", ctx + "/rootfs/bin/busybox");
        std::filesystem::create_symlink(target, ctx + "/rootfs/etc");
        std::ofstream(ctx + "/Dockerfile") << "FROM scratch\nCOPY rootfs/ /\n";
        auto b = r.isolab({"build", "-q", "-t", "etclink", ctx});
        REQUIRE(b.code == 0);
        auto run = r.isolab({"run", "--rm", "--hostname", "inside", "etclink", "/bin/busybox", "cat", "/etc/hostname"});
        CHECK(run.code == 0);
        CHECK(trim_nl(run.out) == "inside");
        CHECK(std::filesystem::is_empty(host_dir));  // nothing was created on the host
    }
    std::filesystem::remove_all(host_dir);
}

TEST_CASE("security: diff never resolves a container's symlinks on the host") {
    if (!can_attack()) return;
    TempRoot r;
    REQUIRE(r.isolab({"run", "--name", "ctr", "busybox", "sh", "-c", "mkdir /d && ln -s /etc /d/etc && ln -s / /d/root"}).code == 0);
    auto d = r.isolab({"diff", "ctr"});
    REQUIRE(d.code == 0);
    CHECK(d.out == "A /d\nA /d/etc\nA /d/root\n");
}
