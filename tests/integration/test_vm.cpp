// The hosted side against real QEMU: a guest boots to its web server, shows its own kernel, pauses,
// powers off, and leaves nothing behind when the CLI dies mid-boot; the race reports both sides.
// Needs QEMU and the guest artifacts (tools/guest/prepare.sh, run by tools/setup.sh); without them
// each case says SKIPPED and why.
#include <doctest/doctest.h>

#include "tests/skip.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "harness.hpp"
#include "sim/host/probe.hpp"
#include "sim/vm/vm_manager.hpp"

using namespace isolab::test;
using nlohmann::json;

namespace {

std::string trim_nl(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}

bool can_run_vm(const TempRoot& r) {
    if (isolab::host::find_on_path("qemu-system-x86_64").empty()) {
        ISOLAB_SKIP("qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)");
        return false;
    }
    std::string g = isolab::vm::guest_dir(r.path());
    if (read_text(g + "/vmlinuz").empty() || read_text(g + "/kernel-release").empty()) {
        ISOLAB_SKIP("no guest kernel in " << g << " (run tools/guest/prepare.sh /var/lib/isolab)");
        return false;
    }
    return true;
}

json vm_inspect(const TempRoot& r, const std::string& name) {
    auto j = json::parse(r.isolab({"vm", "inspect", name}).out, nullptr, false);
    return j.is_discarded() ? json::object() : j;
}

}  // namespace

TEST_CASE("vm: boots a real guest kernel to its web server; its kernel is not the host's") {
    TempRoot r;
    if (!can_run_vm(r)) return;
    REQUIRE(r.isolab({"vm", "create", "-m", "256m", "v1"}).code == 0);
    auto start = r.isolab({"vm", "start", "v1"}, 240000);
    INFO(start.err);
    REQUIRE(start.code == 0);
    CHECK(start.out.find("kernel done at") != std::string::npos);
    json j = vm_inspect(r, "v1");
    CHECK(j["state"] == "running");
    CHECK((j["backend"] == "qemu-tcg" || j["backend"] == "qemu-kvm"));
    std::string guest_release = trim_nl(read_text(isolab::vm::guest_dir(r.path()) + "/kernel-release"));
    CHECK(j["kernel_release"] == guest_release);
    auto page = run_process({"busybox", "wget", "-qO-", "http://127.0.0.1:" + std::to_string(j["host_port"].get<int>()) + "/"});
    CHECK(page.out.find("Hello from IsoLab") != std::string::npos);

    auto guest = r.isolab({"vm", "console", "v1", "uname", "-r"}, 30000);
    CHECK(guest.code == 0);
    CHECK(trim_nl(guest.out) == guest_release);
    CHECK(trim_nl(guest.out) != trim_nl(run_process({"uname", "-r"}).out));  // its own kernel

    auto ls = r.isolab({"vm", "ls"});
    CHECK(ls.out.find("NAME") == 0);
    CHECK(ls.out.find("running") != std::string::npos);
    CHECK(ls.out.find(guest_release) != std::string::npos);

    // Pause: the guest's clock stops with it.
    auto up = [&] { return std::stod(trim_nl(r.isolab({"vm", "console", "v1", "cut", "-d.", "-f1", "/proc/uptime"}, 30000).out)); };
    double u1 = up();
    auto t0 = std::chrono::steady_clock::now();
    REQUIRE(r.isolab({"vm", "pause", "v1"}).code == 0);
    CHECK(vm_inspect(r, "v1")["state"] == "paused");
    std::this_thread::sleep_for(std::chrono::seconds(3));  // fixed: the check is that the clock does not move
    REQUIRE(r.isolab({"vm", "resume", "v1"}).code == 0);
    double u2 = up();
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(u2 - u1 < wall - 2.0);

    int qemu = j["qemu_pid"];
    CHECK(process_alive(qemu));
    REQUIRE(r.isolab({"vm", "stop", "v1"}, 60000).code == 0);
    CHECK_FALSE(process_alive(qemu));
    CHECK(vm_inspect(r, "v1")["state"] == "poweroff");
    CHECK(r.isolab({"vm", "rm", "v1"}).code == 0);
    CHECK(r.isolab({"vm", "inspect", "v1"}).code == 1);
}

TEST_CASE("vm: kill -9 of the CLI during boot leaves no QEMU after the next command") {
    TempRoot r;
    if (!can_run_vm(r)) return;
    REQUIRE(r.isolab({"vm", "create", "v2"}).code == 0);
    pid_t cli = ::fork();
    if (cli == 0) {
        ::setenv("ISOLAB_ROOT", r.path().c_str(), 1);
        int devnull = ::open("/dev/null", O_WRONLY);
        ::dup2(devnull, 1);
        ::dup2(devnull, 2);
        ::execl(ISOLAB_BIN, ISOLAB_BIN, "vm", "start", "v2", (char*)nullptr);
        ::_exit(127);
    }
    int qemu = 0;
    poll_until(std::chrono::seconds(5), [&] { return (qemu = vm_inspect(r, "v2").value("qemu_pid", 0)) > 0; });
    REQUIRE(qemu > 0);
    ::kill(cli, SIGKILL);
    ::waitpid(cli, nullptr, 0);
    auto ls = r.isolab({"vm", "ls"});
    CHECK(ls.out.find("aborted") != std::string::npos);
    poll_until(std::chrono::seconds(5), [&] { return !process_alive(qemu); });
    CHECK_FALSE(process_alive(qemu));
    CHECK(r.isolab({"vm", "rm", "v2"}).code == 0);
}

TEST_CASE("race --json: both sides answer over HTTP, the container first") {
    TempRoot r;
    if (!can_run_vm(r)) return;
    if (::geteuid() != 0 || isolab::host::in_chroot()) {
        ISOLAB_SKIP("the race's container side needs root and a real root file system");
        return;
    }
    auto res = r.isolab({"race", "--json"}, 300000);
    INFO(res.err);
    REQUIRE(res.code == 0);
    json j = json::parse(res.out);
    CHECK((j["vm"]["backend"] == "qemu-tcg" || j["vm"]["backend"] == "qemu-kvm"));
    CHECK(j["container"]["backend"] == "namespaces");
    CHECK(j["vm"]["answered_ms"].get<double>() > j["container"]["answered_ms"].get<double>());
    CHECK(j["container"]["answered_ms"].get<double>() > 0);
    CHECK(j["ratio"].get<double>() > 1.0);
    CHECK(j["vm"]["stages"].size() >= 4);
    CHECK(j["vm"]["memory_mib"].get<double>() > 10);
    // Nothing is left: no VM, no container.
    CHECK(r.isolab({"vm", "ls"}).out.find("race-") == std::string::npos);
    CHECK(r.isolab({"ps", "-aq"}).out.empty());
}

TEST_CASE("vm: the microvm machine type boots to its web server too") {
    TempRoot r;
    if (!can_run_vm(r)) return;
    REQUIRE(r.isolab({"vm", "create", "--machine", "microvm", "mv"}).code == 0);
    auto start = r.isolab({"vm", "start", "mv"}, 240000);
    INFO(start.err);
    REQUIRE(start.code == 0);
    json j = vm_inspect(r, "mv");
    CHECK(j["machine"] == "microvm");
    CHECK(j["command_line"].get<std::string>().find("-machine microvm") != std::string::npos);
    auto page = run_process({"busybox", "wget", "-qO-", "http://127.0.0.1:" + std::to_string(j["host_port"].get<int>()) + "/"});
    CHECK(page.out.find("Hello from IsoLab") != std::string::npos);
    auto two = r.isolab({"vm", "console", "mv", "echo one; echo two"}, 30000);
    CHECK(two.out == "one\ntwo\n");
    CHECK(r.isolab({"vm", "rm", "-f", "mv"}, 60000).code == 0);
}
