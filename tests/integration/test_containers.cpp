// Integration tests against the real namespace runtime (run as root in CI). Each case has its own
// ISOLAB_ROOT. A case that cannot run here says so loudly and is counted as skipped, never passed.
#include <doctest/doctest.h>

#include "tests/skip.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <csignal>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "harness.hpp"
#include "sim/host/probe.hpp"

using namespace isolab::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

bool can_run_real() {
    if (::geteuid() != 0) {
        ISOLAB_SKIP("the real-runtime integration tests need root (CI runs them as root)");
        return false;
    }
    if (isolab::host::in_chroot()) {
        ISOLAB_SKIP("this test runs inside a chroot, where pivot_root and private mount propagation "
                "are refused: the container runtime needs a real root (IsoLab uses the simulated backend here)");
        return false;
    }
    return true;
}

json inspect(const TempRoot& r, const std::string& name) {
    auto res = r.isolab({"inspect", name});
    auto j = json::parse(res.out, nullptr, false);
    if (j.is_discarded() || !j.is_array() || j.empty()) return json::object();
    return j[0];
}

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

std::string trim_nl(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
}

}  // namespace

TEST_CASE("container: PID 1, hostname, root file system, no host processes, its own network") {
    if (!can_run_real()) return;
    TempRoot r;
    auto pid = r.isolab({"run", "--rm", "busybox", "sh", "-c", "echo $$"});
    CHECK(pid.code == 0);
    CHECK(trim_nl(pid.out) == "1");

    auto host = r.isolab({"run", "--rm", "--hostname", "box", "busybox", "hostname"});
    CHECK(trim_nl(host.out) == "box");

    auto ls = r.isolab({"run", "--rm", "busybox", "ls", "/"});
    CHECK(ls.out.find("bin\n") != std::string::npos);
    CHECK(ls.out.find("work\n") == std::string::npos);  // the host's /work is not there
    auto os = r.isolab({"run", "--rm", "busybox", "cat", "/etc/os-release"});
    CHECK(os.code != 0);  // the host has one, the busybox image has none

    auto ps = r.isolab({"run", "--rm", "busybox", "ps", "-o", "pid,comm"});
    CHECK(ps.code == 0);
    int lines = 0;
    std::istringstream in(ps.out);
    for (std::string l; std::getline(in, l);) ++lines;
    CHECK(lines == 2);  // header + ps itself as PID 1: the host's processes are invisible

    // Its own network namespace: only lo with --network none, lo and eth0 on the default bridge
    // (test_network.cpp goes further).
    auto net = r.isolab({"run", "--rm", "--network", "none", "busybox", "ls", "/sys/class/net"});
    CHECK(trim_nl(net.out) == "lo");
    CHECK(r.isolab({"run", "--rm", "busybox", "ls", "/sys/class/net"}).out == "eth0\nlo\n");
    auto lo = r.isolab({"run", "--rm", "--network", "none", "busybox", "ip", "-o", "link"});
    CHECK(lo.out.find("lo:") != std::string::npos);
    CHECK(lo.out.find("UP") != std::string::npos);

    auto kernel = r.isolab({"run", "--rm", "busybox", "uname", "-r"});
    auto host_kernel = run_process({"uname", "-r"});
    CHECK(kernel.out == host_kernel.out);  // one shared kernel
}

TEST_CASE("container: writes land in the upper dir, not in the image") {
    if (!can_run_real()) return;
    TempRoot r;
    auto res = r.isolab({"run", "--name", "wr", "busybox", "sh", "-c", "echo hi > /newfile && rm /bin/vi"});
    REQUIRE(res.code == 0);
    std::string id = r.id_of("wr");
    REQUIRE(id.size() == 64);
    std::string upper = r.path() + "/containers/" + id + "/upper";
    CHECK(read_text(upper + "/newfile") == "hi\n");
    struct stat st;
    REQUIRE(::lstat((upper + "/bin/vi").c_str(), &st) == 0);
    CHECK(S_ISCHR(st.st_mode));  // overlayfs' whiteout for the deleted file
    json j = inspect(r, "wr");
    for (const auto& layer : j["IsoLab"]["Layers"]) {
        CHECK_FALSE(std::filesystem::exists(layer.get<std::string>() + "/newfile"));
        CHECK(std::filesystem::exists(layer.get<std::string>() + "/bin/vi"));
    }
    // docker diff: A/C/D against the image, from the writable layer.
    auto diff = r.isolab({"diff", "wr"});
    CHECK(diff.code == 0);
    CHECK(diff.out == "C /bin\nD /bin/vi\nA /newfile\n");
    CHECK(r.isolab({"diff", "nosuch"}).err == "Error response from daemon: No such container: nosuch\n");
    // A second container from the same image sees the image, not w's changes.
    auto other = r.isolab({"run", "--rm", "busybox", "ls", "/newfile"});
    CHECK(other.code != 0);
}

TEST_CASE("container: pause freezes the processes, unpause resumes them") {
    if (!can_run_real()) return;
    TempRoot r;
    auto run = r.isolab({"run", "-d", "--name", "cnt", "busybox", "sh", "-c",
                         "i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.05; done"});
    REQUIRE(run.code == 0);
    std::string counter = r.path() + "/containers/" + trim_nl(run.out) + "/upper/tmp/count";
    poll_until(10s, [&] { return !trim_nl(read_text(counter)).empty(); });  // the loop is counting
    auto p = r.isolab({"pause", "cnt"});
    REQUIRE(p.code == 0);
    CHECK(trim_nl(p.out) == "cnt");
    CHECK(inspect(r, "cnt")["State"]["Status"] == "paused");
    std::string a = read_text(counter);
    sleep_ms(600);  // a fixed interval: what is checked is that nothing happens during it
    std::string b = read_text(counter);
    CHECK(a == b);
    CHECK_FALSE(a.empty());
    auto ps = r.isolab({"ps"});
    CHECK(ps.out.find("(Paused)") != std::string::npos);
    REQUIRE(r.isolab({"unpause", "cnt"}).code == 0);
    // The loop truncates and rewrites the file: read until a whole number above b is there.
    std::string c;
    poll_until(10s, [&] {
        c = read_text(counter);
        return !trim_nl(c).empty() && std::stoi(c) > std::stoi(b);
    });
    REQUIRE_FALSE(trim_nl(c).empty());
    CHECK(std::stoi(c) > std::stoi(b));
}

TEST_CASE("container: stop escalates to SIGKILL for a process that ignores SIGTERM") {
    if (!can_run_real()) return;
    TempRoot r;
    REQUIRE(r.isolab({"run", "-d", "--name", "st", "busybox", "sh", "-c", "trap '' TERM; while true; do sleep 0.1; done"}).code == 0);
    int st_pid = inspect(r, "st")["State"]["Pid"].get<int>();
    REQUIRE(poll_until(10s, [&] { return process_ignores(st_pid, SIGTERM); }));  // the trap is in place
    auto t0 = std::chrono::steady_clock::now();
    auto stop = r.isolab({"stop", "-t", "1", "st"});
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(stop.code == 0);
    CHECK(trim_nl(stop.out) == "st");
    CHECK(secs >= 0.9);
    CHECK(secs < 6.0);
    json j = inspect(r, "st");
    CHECK(j["State"]["Status"] == "exited");
    CHECK(j["State"]["ExitCode"] == 137);

    // A process that handles SIGTERM exits with its own code at once.
    REQUIRE(r.isolab({"run", "-d", "--name", "tt", "busybox", "sh", "-c", "trap 'exit 143' TERM; while true; do sleep 0.1; done"}).code == 0);
    int tt_pid = inspect(r, "tt")["State"]["Pid"].get<int>();
    REQUIRE(poll_until(10s, [&] { return process_catches(tt_pid, SIGTERM); }));
    t0 = std::chrono::steady_clock::now();
    CHECK(r.isolab({"stop", "tt"}).code == 0);
    secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(secs < 3.0);
    CHECK(inspect(r, "tt")["State"]["ExitCode"] == 143);
}

TEST_CASE("container: a memory hog under -m 32m ends 137 with OOMKilled") {
    if (!can_run_real()) return;
    TempRoot r;
    auto res = r.isolab({"run", "--name", "hog", "-m", "32m", "busybox", "sh", "-c", "x=a; while true; do x=$x$x; done"}, 120000);
    CHECK(res.code == 137);
    json j = inspect(r, "hog");
    CHECK(j["State"]["OOMKilled"] == true);
    CHECK(j["State"]["ExitCode"] == 137);
    CHECK(j["HostConfig"]["Memory"] == 32 * 1024 * 1024);
}

TEST_CASE("container: --pids-limit 32 contains a fork bomb and the host stays responsive") {
    if (!can_run_real()) return;
    TempRoot r;
    auto run = r.isolab({"run", "-d", "--name", "bomb", "--pids-limit", "32", "busybox", "sh", "-c",
                         "bomb() { bomb | bomb & }; bomb; sleep 30"});
    REQUIRE(run.code == 0);
    sleep_ms(1500);  // fixed: the time the bomb is given to grow before the host is tried
    json j = inspect(r, "bomb");
    bool found_pids = false;
    for (const auto& p : j["IsoLab"]["CgroupPaths"]) {
        std::string path = p.get<std::string>();
        if (std::filesystem::exists(path + "/pids.max")) {
            found_pids = true;
            CHECK(trim_nl(read_text(path + "/pids.max")) == "32");
            CHECK(std::stoi(read_text(path + "/pids.current")) <= 32);
        }
    }
    CHECK(found_pids);
    auto t0 = std::chrono::steady_clock::now();
    auto host = run_process({"sh", "-c", "echo responsive"});
    CHECK(host.out == "responsive\n");
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 2.0);
    CHECK(r.isolab({"rm", "-f", "bomb"}).code == 0);
    for (const auto& p : j["IsoLab"]["CgroupPaths"]) CHECK_FALSE(std::filesystem::exists(p.get<std::string>()));
}

TEST_CASE("container: detached survives the CLI; kill -9 of the monitor leaves nothing after the next command") {
    if (!can_run_real()) return;
    TempRoot r;
    REQUIRE(r.isolab({"run", "-d", "--name", "dd", "busybox", "sleep", "300"}).code == 0);
    json j;
    poll_until(10s, [&] { return (j = inspect(r, "dd"))["State"]["Status"] == "running"; });
    CHECK(j["State"]["Status"] == "running");
    int pid = j["State"]["Pid"];
    int monitor = j["IsoLab"]["MonitorPid"];
    CHECK(process_alive(pid));
    CHECK(process_alive(monitor));
    CHECK(r.isolab({"ps"}).out.find("Up ") != std::string::npos);

    ::kill(monitor, SIGKILL);
    poll_until(10s, [&] { return !process_alive(monitor); });
    auto ps = r.isolab({"ps", "-a"});
    CHECK(ps.out.find("Exited (255)") != std::string::npos);
    CHECK_FALSE(process_alive(pid));
    for (const auto& p : j["IsoLab"]["CgroupPaths"]) CHECK_FALSE(std::filesystem::exists(p.get<std::string>()));
    CHECK_FALSE(mounts_mention(r.path()));

    // A monitor killed before its cgroup was recorded: the sweep finds the cgroup by its name.
    REQUIRE(r.isolab({"run", "-d", "--name", "d2", "-m", "64m", "busybox", "sleep", "300"}).code == 0);
    json k = inspect(r, "d2");
    std::string rec_path = r.path() + "/containers/" + k["Id"].get<std::string>() + "/container.json";
    json rec = json::parse(read_text(rec_path));
    rec["cgroup_paths"] = json::array();
    { std::ofstream(rec_path) << rec.dump(); }
    int monitor2 = k["IsoLab"]["MonitorPid"].get<int>();
    ::kill(monitor2, SIGKILL);
    poll_until(10s, [&] { return !process_alive(monitor2); });
    CHECK(r.isolab({"ps", "-a"}).out.find("Exited (255)") != std::string::npos);
    CHECK_FALSE(process_alive(k["State"]["Pid"].get<int>()));
    for (const auto& p : k["IsoLab"]["CgroupPaths"]) CHECK_FALSE(std::filesystem::exists(p.get<std::string>()));
}

TEST_CASE("container: rm leaves no mount, cgroup or process") {
    if (!can_run_real()) return;
    TempRoot r;
    REQUIRE(r.isolab({"run", "-d", "--name", "xx", "-m", "64m", "busybox", "sleep", "300"}).code == 0);
    json j = inspect(r, "xx");
    int pid = j["State"]["Pid"];
    std::string id = j["Id"];
    auto rm = r.isolab({"rm", "xx"});
    CHECK(rm.code == 1);
    CHECK(rm.err == "Error response from daemon: cannot remove container \"/xx\": container is running: stop the container before removing or force remove\n");
    // By id too, Docker quotes the name (moby's ctr.Name).
    CHECK(r.isolab({"rm", id.substr(0, 12)}).err == rm.err);
    CHECK(r.isolab({"rm", "-f", "xx"}).code == 0);
    CHECK_FALSE(process_alive(pid));
    CHECK_FALSE(std::filesystem::exists(r.path() + "/containers/" + id));
    for (const auto& p : j["IsoLab"]["CgroupPaths"]) CHECK_FALSE(std::filesystem::exists(p.get<std::string>()));
    CHECK_FALSE(mounts_mention(r.path()));
    CHECK_FALSE(process_alive(j["IsoLab"]["MonitorPid"].get<int>()));
}

TEST_CASE("container: masked paths read empty, /proc/sys is read-only, mount and reboot are refused") {
    if (!can_run_real()) return;
    TempRoot r;
    auto kcore = r.isolab({"run", "--rm", "busybox", "sh", "-c", "wc -c < /proc/timer_list"});
    CHECK(trim_nl(kcore.out) == "0");
    auto keys = r.isolab({"run", "--rm", "busybox", "sh", "-c", "wc -c < /proc/keys"});
    CHECK(trim_nl(keys.out) == "0");
    auto sys = r.isolab({"run", "--rm", "busybox", "sh", "-c", "echo x > /proc/sys/kernel/hostname"});
    CHECK(sys.code != 0);
    CHECK(sys.err.find("Read-only file system") != std::string::npos);
    auto mnt = r.isolab({"run", "--rm", "busybox", "mount", "-t", "tmpfs", "t", "/mnt"});
    CHECK(mnt.code != 0);
    CHECK(mnt.err.find("permission denied") != std::string::npos);
    auto reboot = r.isolab({"run", "--rm", "busybox", "reboot", "-f"});
    CHECK(reboot.code != 0);
    auto caps = r.isolab({"run", "--rm", "busybox", "sh", "-c", "grep CapEff /proc/self/status"});
    CHECK(trim_nl(caps.out) == "CapEff:\t00000000a80425fb");  // Docker's default 14 capabilities
    auto nnp = r.isolab({"run", "--rm", "busybox", "sh", "-c", "grep -E 'NoNewPrivs|Seccomp:' /proc/self/status"});
    CHECK(nnp.out.find("NoNewPrivs:\t1") != std::string::npos);
    CHECK(nnp.out.find("Seccomp:\t2") != std::string::npos);
}

TEST_CASE("container: Docker's wording and exit codes for invalid transitions") {
    if (!can_run_real()) return;
    TempRoot r;
    auto none = r.isolab({"start", "web"});
    CHECK(none.code == 1);
    CHECK(none.err == "Error response from daemon: No such container: web\n");

    REQUIRE(r.isolab({"run", "-d", "--name", "web", "busybox", "sleep", "300"}).code == 0);
    std::string id = r.id_of("web");
    auto conflict = r.isolab({"run", "--name", "web", "busybox", "true"});
    CHECK(conflict.code == 125);
    CHECK(conflict.err.find("Conflict. The container name \"/web\" is already in use by container \"" + id +
                            "\". You have to remove (or rename) that container to be able to reuse that name.") !=
          std::string::npos);

    auto again = r.isolab({"start", "web"});
    CHECK(again.code == 0);
    CHECK(again.out == "web\n");
    auto unpause = r.isolab({"unpause", "web"});
    CHECK(unpause.code == 1);
    CHECK(unpause.err == "Error response from daemon: Container " + id + " is not paused\n");
    REQUIRE(r.isolab({"pause", "web"}).code == 0);
    auto twice = r.isolab({"pause", "web"});
    CHECK(twice.code == 1);
    CHECK(twice.err == "Error response from daemon: container " + id + " is already paused\n");
    auto start_paused = r.isolab({"start", "web"});
    CHECK(start_paused.code == 1);
    CHECK(start_paused.err == "Error response from daemon: cannot start a paused container, try unpause instead\n");
    auto exec_paused = r.isolab({"exec", "web", "true"});
    CHECK(exec_paused.code == 1);
    CHECK(r.isolab({"stop", "-t", "1", "web"}).code == 0);
    auto stop_again = r.isolab({"stop", "web"});
    CHECK(stop_again.code == 0);
    CHECK(stop_again.out == "web\n");
    auto pause_stopped = r.isolab({"pause", "web"});
    CHECK(pause_stopped.code == 1);
    CHECK(pause_stopped.err == "Error response from daemon: container " + id + " is not running\n");
    auto kill_stopped = r.isolab({"kill", "web"});
    CHECK(kill_stopped.code == 1);
    CHECK(kill_stopped.err == "Error response from daemon: cannot kill container: web: container " + id + " is not running\n");
}

TEST_CASE("run: exit codes 125, 126, 127, 137 and the container's own") {
    if (!can_run_real()) return;
    TempRoot r;
    CHECK(r.isolab({"run", "--rm", "busybox", "sh", "-c", "exit 7"}).code == 7);
    auto nf = r.isolab({"run", "--rm", "busybox", "nosuchcmd"});
    CHECK(nf.code == 127);
    CHECK(nf.err.find("exec: \"nosuchcmd\": executable file not found in $PATH") != std::string::npos);
    auto dir = r.isolab({"run", "--rm", "busybox", "/bin"});
    CHECK(dir.code == 126);
    CHECK(dir.err.find("is a directory") != std::string::npos);
    auto perm = r.isolab({"run", "--rm", "busybox", "/etc/passwd"});
    CHECK(perm.code == 126);
    CHECK(perm.err.find("permission denied") != std::string::npos);
    auto killed = r.isolab({"run", "--rm", "busybox", "sh", "-c", "kill -9 $$; sleep 5"});
    // PID 1 cannot be killed by itself with SIGKILL from inside its namespace: it exits 0 after sleeping.
    CHECK((killed.code == 0 || killed.code == 137));
    auto bad_name = r.isolab({"run", "--name", "../../etc", "busybox", "true"});
    CHECK(bad_name.code == 125);
    CHECK(bad_name.err.find("Invalid container name (../../etc)") != std::string::npos);
    auto bad_image = r.isolab({"run", "nosuchimage", "true"});
    CHECK(bad_image.code == 125);
    // Nothing was left behind by the failed runs (--rm removes even a failed start).
    CHECK(r.isolab({"ps", "-aq"}).out.empty());
    CHECK(std::filesystem::is_empty(r.path() + "/containers"));
}

TEST_CASE("exec joins the container; logs, wait, top, restart policy, --rm") {
    if (!can_run_real()) return;
    TempRoot r;
    REQUIRE(r.isolab({"run", "-d", "--name", "ex", "--hostname", "inner", "busybox", "sh", "-c",
                      "echo started; echo oops >&2; sleep 300"}).code == 0);
    // Both lines are written once sh has exec'ed its last command in its place.
    int ex_pid = inspect(r, "ex")["State"]["Pid"].get<int>();
    poll_until(10s, [&] { return read_text("/proc/" + std::to_string(ex_pid) + "/cmdline") == std::string("sleep\0" "300\0", 10); });
    auto h = r.isolab({"exec", "ex", "hostname"});
    CHECK(h.code == 0);
    CHECK(h.out == "inner\n");
    auto ps = r.isolab({"exec", "ex", "ps", "-o", "pid,args"});
    CHECK(ps.out.find("    1 sleep 300") != std::string::npos);  // sh exec'ed its last command as PID 1
    auto caps = r.isolab({"exec", "ex", "sh", "-c", "grep CapEff /proc/self/status"});
    CHECK(trim_nl(caps.out) == "CapEff:\t00000000a80425fb");
    auto code = r.isolab({"exec", "ex", "sh", "-c", "exit 5"});
    CHECK(code.code == 5);
    auto env = r.isolab({"exec", "-e", "GREETING=annyeong", "ex", "sh", "-c", "echo $GREETING"});
    CHECK(env.out == "annyeong\n");
    auto in = r.isolab({"exec", "-i", "ex", "cat"}, 10000, "from stdin\n");
    CHECK(in.out == "from stdin\n");
    auto logs = r.isolab({"logs", "ex"});
    CHECK(logs.out == "started\n");
    CHECK(logs.err == "oops\n");
    auto top = r.isolab({"top", "ex"});
    CHECK(top.out.find("UID") == 0);
    CHECK(top.out.find("sleep 300") != std::string::npos);
    CHECK(r.isolab({"kill", "ex"}).code == 0);
    auto w = r.isolab({"wait", "ex"});
    CHECK(w.out == "137\n");

    auto policy = r.isolab({"run", "-d", "--name", "pp", "--restart", "on-failure:2", "busybox", "sh", "-c", "exit 3"});
    REQUIRE(policy.code == 0);
    CHECK(r.isolab({"wait", "pp"}, 30000).out == "3\n");
    json j = inspect(r, "pp");
    CHECK(j["RestartCount"] == 2);
    CHECK(j["State"]["Status"] == "exited");

    auto rm = r.isolab({"run", "--rm", "--name", "gone", "busybox", "echo", "bye"});
    CHECK(rm.out == "bye\n");
    CHECK(r.isolab({"inspect", "gone"}).code == 1);
}

TEST_CASE("rootless: the same container as an unprivileged user, in a user namespace") {
    if (!can_run_real()) return;
    auto max = read_text("/proc/sys/user/max_user_namespaces");
    if (max.empty() || std::stoi(max) == 0) {
        ISOLAB_SKIP("user namespaces are disabled on this machine (max_user_namespaces = 0)");
        return;
    }
    // The kernel refuses user namespaces to a process in a chroot, and where they are
    // restricted (AppArmor, sysctl): ask an unprivileged child before asserting anything.
    auto probe = run_process({"unshare", "--user", "--map-root-user", "true"}, {}, 10000, "", 65534);
    if (probe.code != 0) {
        ISOLAB_SKIP("uid 65534 cannot create a user namespace here (" << trim_nl(probe.err)
                << "): the rootless path cannot run on this machine");
        return;
    }
    TempRoot r;
    r.use_private_binaries();
    r.uid = 65534;
    ::chown(r.path().c_str(), 65534, 65534);
    auto res = r.isolab({"run", "--rm", "--hostname", "rl", "busybox", "sh", "-c", "echo $$ $(id -u) $(hostname); ls /sys/class/net"});
    INFO(res.err);
    CHECK(res.code == 0);
    CHECK(res.out == "1 0 rl\nlo\n");
    auto warn = r.isolab({"run", "--rm", "-m", "64m", "busybox", "true"});
    CHECK(warn.code == 0);
    CHECK(warn.err.find("WARNING: resource limits are not applied") != std::string::npos);
    REQUIRE(r.isolab({"run", "-d", "--name", "bg", "busybox", "sleep", "300"}).code == 0);
    json j = inspect(r, "bg");
    CHECK(j["IsoLab"]["Backend"] == "rootless");
    auto host_uid = run_process({"sh", "-c", "stat -c %u /proc/" + std::to_string(j["State"]["Pid"].get<int>())});
    CHECK(trim_nl(host_uid.out) == "65534");  // root inside is nobody outside
    auto ex = r.isolab({"exec", "bg", "id", "-u"});
    CHECK(ex.out == "0\n");
    CHECK(j["IsoLab"]["CgroupNote"].get<std::string>().size() > 0);  // inspect says why there are no limits
    auto pause = r.isolab({"pause", "bg"});
    CHECK(pause.code == 1);
    CHECK(pause.err.find("pause needs the cgroup freezer") != std::string::npos);
    auto stop = r.isolab({"stop", "-t", "1", "bg"});
    CHECK(stop.code == 0);
    CHECK(inspect(r, "bg")["State"]["ExitCode"] == 137);
    CHECK_FALSE(process_alive(j["State"]["Pid"].get<int>()));
    auto logs = r.isolab({"run", "--name", "rl-logs", "busybox", "echo", "rootless hello"});
    CHECK(logs.out == "rootless hello\n");
    CHECK(r.isolab({"logs", "rl-logs"}).out == "rootless hello\n");
    CHECK(r.isolab({"rm", "bg", "rl-logs"}).code == 0);
    CHECK(r.isolab({"ps", "-aq"}).out.empty());
}

TEST_CASE("run -t: the terminal is the container's own (/dev/pts/0 of its devpts)") {
    if (!can_run_real()) return;
    TempRoot r;
    // `script` (util-linux) gives the CLI a terminal, as a learner's shell would.
    auto res = run_process({"script", "-qec", std::string(ISOLAB_BIN) + " run -t --rm busybox tty", "/dev/null"},
                           {"ISOLAB_ROOT=" + r.path()}, 20000);
    CHECK(res.code == 0);
    CHECK(res.out.find("/dev/pts/0") != std::string::npos);
    auto it = run_process({"script", "-qec", std::string(ISOLAB_BIN) + " run -it --rm busybox sh", "/dev/null"},
                          {"ISOLAB_ROOT=" + r.path()}, 20000, "echo in-$((6*7)); exit 3\n");
    CHECK(it.code == 3);
    CHECK(it.out.find("in-42") != std::string::npos);
}

TEST_CASE("logs -f follows until the container exits; restart runs PID 1 again") {
    if (!can_run_real()) return;
    TempRoot r;
    REQUIRE(r.isolab({"run", "-d", "--name", "lf", "busybox", "sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.3; done"}).code == 0);
    auto t0 = std::chrono::steady_clock::now();
    auto f = r.isolab({"logs", "-f", "lf"}, 20000);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(f.code == 0);
    CHECK(f.out == "line1\nline2\nline3\n");
    CHECK(secs > 0.4);  // it waited for lines that were not there yet
    REQUIRE(r.isolab({"run", "-d", "--name", "rs", "busybox", "sleep", "300"}).code == 0);
    int pid1 = inspect(r, "rs")["State"]["Pid"];
    auto rs = r.isolab({"restart", "-t", "1", "rs"});
    CHECK(rs.code == 0);
    CHECK(rs.out == "rs\n");
    json j = inspect(r, "rs");
    CHECK(j["State"]["Status"] == "running");
    CHECK(j["State"]["Pid"] != pid1);
    CHECK_FALSE(process_alive(pid1));
    // PID 1 of a PID namespace gets only the signals it handles (and SIGKILL): the handler runs.
    REQUIRE(r.isolab({"run", "-d", "--name", "ks", "busybox", "sh", "-c", "trap 'exit 42' USR1; while true; do sleep 0.1; done"}).code == 0);
    int ks_pid = inspect(r, "ks")["State"]["Pid"].get<int>();
    REQUIRE(poll_until(10s, [&] { return process_catches(ks_pid, SIGUSR1); }));
    auto usr1 = r.isolab({"kill", "-s", "USR1", "ks"});
    CHECK(usr1.code == 0);
    CHECK(usr1.out == "ks\n");
    CHECK(r.isolab({"wait", "ks"}, 10000).out == "42\n");
}

TEST_CASE("concurrent CLI calls: records stay whole and a name is given out once") {
    if (!can_run_real()) return;
    TempRoot r;
    std::vector<std::thread> threads;
    std::vector<CmdResult> results(8);
    for (int i = 0; i < 8; ++i)
        threads.emplace_back([&, i] { results[i] = r.isolab({"run", "-d", "--name", "same", "busybox", "sleep", "300"}); });
    for (auto& t : threads) t.join();
    int won = 0, conflicts = 0;
    for (const auto& res : results) {
        if (res.code == 0) ++won;
        else if (res.code == 125 && res.err.find("Conflict.") != std::string::npos) ++conflicts;
    }
    CHECK(won == 1);
    CHECK(conflicts == 7);
    threads.clear();
    for (int i = 0; i < 6; ++i)
        threads.emplace_back([&, i] {
            results[i] = i % 2 ? r.isolab({"ps", "-a"}) : r.isolab({"run", "-d", "--name", "c" + std::to_string(i) + "x", "busybox", "true"});
        });
    for (auto& t : threads) t.join();
    for (int i = 0; i < 6; ++i) CHECK(results[i].code == 0);
    auto all = r.isolab({"ps", "-aq"});
    int n = 0;
    std::istringstream in(all.out);
    for (std::string id; in >> id;) {
        ++n;
        CHECK(r.isolab({"inspect", id}).code == 0);  // every record parses
    }
    CHECK(n == 4);
}

TEST_CASE("copied root file system: the fallback where overlayfs is not allowed") {
    if (!can_run_real()) return;
    TempRoot r;
    auto res = run_process({ISOLAB_BIN, "run", "--name", "cp", "busybox", "sh", "-c", "echo x > /made-here; ls /bin/busybox"},
                           {"ISOLAB_ROOT=" + r.path(), "ISOLAB_ROOTFS=copy"});
    CHECK(res.code == 0);
    CHECK(res.out == "/bin/busybox\n");
    CHECK(res.err.find("overlayfs is not allowed here: the container gets a copied root file system") != std::string::npos);
    json j = inspect(r, "cp");
    CHECK(j["IsoLab"]["RootfsMode"] == "copy");
    CHECK(j["Driver"] == "vfs");
    CHECK(read_text(r.path() + "/containers/" + j["Id"].get<std::string>() + "/rootfs/made-here") == "x\n");
    for (const auto& layer : j["IsoLab"]["Layers"]) CHECK_FALSE(std::filesystem::exists(layer.get<std::string>() + "/made-here"));
}

TEST_CASE("container: ps and images --format, with Docker's table prefix and escapes") {
    if (!can_run_real()) return;
    TempRoot r;
    REQUIRE(r.isolab({"run", "-d", "--name", "web", "busybox", "sleep", "300"}).code == 0);
    REQUIRE(r.isolab({"run", "--name", "done", "busybox", "true"}).code == 0);
    auto names = r.isolab({"ps", "-a", "--format", "{{.Names}}"});
    CHECK(names.code == 0);
    CHECK(names.out == "done\nweb\n");
    auto table = r.isolab({"ps", "-a", "--format", "table {{.Names}}\\t{{.State}}"});
    INFO(table.out);
    // Docker's tabwriter makes every column at least 10 wide (measured: `docker ps --format
    // 'table {{.Names}}\t{{.Image}}'` prints "NAMES     IMAGE").
    CHECK(table.out.rfind("NAMES     STATE\n", 0) == 0);
    CHECK(table.out.find("done      exited\n") != std::string::npos);
    CHECK(table.out.find("web       running\n") != std::string::npos);
    // A wrong template fails before anything is listed, with Docker's words and exit code 1.
    auto wrong = r.isolab({"ps", "--format", "{{.Nope}}"});
    CHECK(wrong.code == 1);
    CHECK(wrong.out.empty());
    CHECK(wrong.err ==
          "failed to execute template: template: :1:2: executing \"\" at <.Nope>: can't evaluate field Nope in type "
          "*formatter.ContainerContext\n");
    auto unclosed = r.isolab({"inspect", "-f", "{{.Name", "web"});
    CHECK(unclosed.code == 64);
    CHECK(unclosed.err == "template parsing error: template: :1: unclosed action\n");
    auto one = r.isolab({"ps", "--format", "{{json .}}"});
    auto j = json::parse(one.out, nullptr, false);
    REQUIRE(j.is_object());
    CHECK(j.value("Names", "") == "web");
    CHECK(j.value("State", "") == "running");
    auto images = r.isolab({"images", "--format", "{{.Repository}}:{{.Tag}}"});
    CHECK(images.out == "busybox:latest\n");
}
