// IsoLab as an OCI runtime, against runc itself: a bundle written by `runc spec` goes through
// create → start → kill → delete with runc's states, and a bundle written by `isolab bundle` gives
// the same output under runc, under `isolab runtime run` and through `isolab exec`.
#include <doctest/doctest.h>

#include "tests/skip.hpp"

#include <sys/stat.h>
#include <unistd.h>

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

namespace {

bool can_run_oci() {
    if (::geteuid() != 0) {
        ISOLAB_SKIP("the OCI runtime tests need root (CI runs them as root)");
        return false;
    }
    if (isolab::host::in_chroot()) {
        ISOLAB_SKIP("inside a chroot pivot_root is refused; the OCI runtime cannot run here");
        return false;
    }
    if (run_process({"runc", "--version"}).code != 0) {
        ISOLAB_SKIP("runc is not installed (apt-get install runc): these tests compare IsoLab with it");
        return false;
    }
    return true;
}

std::string trim_nl(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
}

// A busybox root file system: the static /bin/busybox and one symlink per applet.
bool make_busybox_rootfs(const std::string& rootfs) {
    std::filesystem::create_directories(rootfs + "/bin");
    std::error_code ec;
    std::filesystem::copy_file("/bin/busybox", rootfs + "/bin/busybox", ec);
    if (ec) return false;
    auto list = run_process({"/bin/busybox", "--list"});
    std::istringstream in(list.out);
    for (std::string applet; in >> applet;)
        if (applet != "busybox") std::filesystem::create_symlink("busybox", rootfs + "/bin/" + applet, ec);
    return std::filesystem::exists(rootfs + "/bin/sleep");
}

void edit_config(const std::string& bundle, const std::vector<std::string>& args) {
    std::ifstream in(bundle + "/config.json");
    json c = json::parse(in);
    c["process"]["terminal"] = false;
    c["process"]["args"] = args;
    std::ofstream(bundle + "/config.json") << c.dump(2);
}

struct Runtime {
    std::string root;
    std::string bin;
    CmdResult operator()(const std::vector<std::string>& args, int timeout_ms = 30000) const {
        std::vector<std::string> argv = {bin, "runtime", "--root", root};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_process(argv, {}, timeout_ms);
    }
    // The init keeps create's stdio open (runc's pass-through): send it to files, or the harness
    // would wait for the container's end to see EOF.
    CmdResult create(const std::string& bundle, const std::string& id, const std::string& pid_file) const {
        std::string log = root + ".create-" + id + ".log";
        std::string sh = "'" + bin + "' runtime --root '" + root + "' create --bundle '" + bundle + "' --pid-file '" +
                         pid_file + "' '" + id + "' </dev/null >'" + log + "' 2>&1";
        CmdResult r = run_process({"/bin/sh", "-c", sh});
        r.err = read_text(log);
        return r;
    }
    json state(const std::string& id) const { return json::parse((*this)({"state", id}).out, nullptr, false); }
};

std::string status_of(const Runtime& rt, const std::string& id) {
    json s = rt.state(id);
    return s.is_object() ? s.value("status", "") : "";
}

}  // namespace

TEST_CASE("oci runtime: a `runc spec` bundle goes create → start → kill → delete with runc's states") {
    if (!can_run_oci()) return;
    TempRoot r;
    Runtime rt{r.path() + "/rt", r.bin};
    std::string bundle = r.path() + "/bundle";
    std::filesystem::create_directories(bundle);
    REQUIRE(run_process({"/bin/sh", "-c", "cd '" + bundle + "' && runc spec"}).code == 0);
    REQUIRE(make_busybox_rootfs(bundle + "/rootfs"));
    edit_config(bundle, {"sleep", "30"});  // root.readonly stays true, as runc spec writes it

    std::string pid_file = r.path() + "/t1.pid";
    auto created = rt.create(bundle, "t1", pid_file);
    REQUIRE_MESSAGE(created.code == 0, created.err);
    int pid = std::atoi(read_text(pid_file).c_str());
    REQUIRE(pid > 0);
    json st = rt.state("t1");
    CHECK(st["status"] == "created");
    CHECK(st["id"] == "t1");
    CHECK(st["pid"] == pid);
    CHECK(st["bundle"] == std::filesystem::canonical(bundle).string());
    CHECK(st["ociVersion"] == "1.0.2-dev");
    CHECK(st.contains("annotations"));
    // PID 1 of its own pid namespace.
    auto ns_of = [](const std::string& p) {
        return std::filesystem::read_symlink("/proc/" + p + "/ns/pid").string();
    };
    CHECK(ns_of(std::to_string(pid)) != ns_of("self"));
    CHECK(trim_nl(read_text("/proc/" + std::to_string(pid) + "/status")).find("NSpid:\t" + std::to_string(pid) + "\t1") !=
          std::string::npos);

    auto again = rt.create(bundle, "t1", pid_file);
    CHECK(again.code == 1);
    CHECK(again.err.find("container with id exists: t1") != std::string::npos);

    REQUIRE(rt({"start", "t1"}).code == 0);
    CHECK(status_of(rt, "t1") == "running");
    CHECK(process_alive(pid));
    // The root is read-only, as config.json says.
    CHECK(read_text("/proc/" + std::to_string(pid) + "/mountinfo").find(" / ro,") != std::string::npos);
    auto started_twice = rt({"start", "t1"});
    CHECK(started_twice.code == 1);
    CHECK(trim_nl(started_twice.err) == "cannot start an already running container");
    auto refused = rt({"delete", "t1"});
    CHECK(refused.code == 1);
    CHECK(trim_nl(refused.err) == "cannot delete container t1 that is not stopped: running");

    REQUIRE(rt({"kill", "t1", "KILL"}).code == 0);
    for (int i = 0; i < 200 && status_of(rt, "t1") != "stopped"; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    st = rt.state("t1");
    CHECK(st["status"] == "stopped");
    CHECK(st["pid"] == 0);
    auto start_stopped = rt({"start", "t1"});
    CHECK(start_stopped.code == 1);
    CHECK(trim_nl(start_stopped.err) == "cannot start a container that has stopped");
    auto kill_stopped = rt({"kill", "t1"});
    CHECK(kill_stopped.code == 1);

    REQUIRE(rt({"delete", "t1"}).code == 0);
    auto gone = rt({"state", "t1"});
    CHECK(gone.code == 1);
    CHECK(trim_nl(gone.err) == "container \"t1\" does not exist");
    CHECK_FALSE(std::filesystem::exists(rt.root + "/t1"));

    // delete --force of a running container; kill by name with the default SIGTERM.
    REQUIRE(rt.create(bundle, "t2", r.path() + "/t2.pid").code == 0);
    REQUIRE(rt({"start", "t2"}).code == 0);
    int pid2 = std::atoi(read_text(r.path() + "/t2.pid").c_str());
    CHECK(rt({"kill", "t2", "SIGTERM"}).code == 0);  // PID 1 ignores SIGTERM without a handler
    CHECK(status_of(rt, "t2") == "running");
    CHECK(rt({"delete", "--force", "t2"}).code == 0);
    CHECK_FALSE(process_alive(pid2));
    CHECK_FALSE(std::filesystem::exists(rt.root + "/t2"));
}

TEST_CASE("oci runtime: a failed create leaves nothing behind and prints the init's error") {
    if (!can_run_oci()) return;
    TempRoot r;
    Runtime rt{r.path() + "/rt", r.bin};
    std::string bundle = r.path() + "/bundle";
    std::filesystem::create_directories(bundle);
    REQUIRE(run_process({"/bin/sh", "-c", "cd '" + bundle + "' && runc spec"}).code == 0);
    REQUIRE(make_busybox_rootfs(bundle + "/rootfs"));
    edit_config(bundle, {"no-such-program"});
    auto created = rt.create(bundle, "bad", r.path() + "/bad.pid");
    CHECK(created.code == 1);
    CHECK(created.err.find("no-such-program") != std::string::npos);
    CHECK(created.err.find("container \"bad\"") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(rt.root + "/bad"));
    CHECK_FALSE(std::filesystem::exists(r.path() + "/bad.pid"));
    CHECK(rt({"list", "-q"}).out.empty());

    // terminal without a console socket is refused before anything is made.
    std::ifstream in(bundle + "/config.json");
    json c = json::parse(in);
    c["process"]["terminal"] = true;
    std::ofstream(bundle + "/config.json") << c.dump();
    auto tty = rt.create(bundle, "tty", r.path() + "/tty.pid");
    CHECK(tty.code == 1);
    CHECK(tty.err.find("--console-socket is required") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(rt.root + "/tty"));
}

TEST_CASE("oci runtime: `isolab bundle` runs the same under runc, `isolab runtime run` and `isolab exec`") {
    if (!can_run_oci()) return;
    TempRoot r;
    auto run = r.isolab({"run", "-d", "--name", "bb", "busybox", "sleep", "30"});
    REQUIRE_MESSAGE(run.code == 0, run.err);
    std::string bundle = r.path() + "/bundle-bb";
    auto b = r.isolab({"bundle", "bb", bundle});
    REQUIRE_MESSAGE(b.code == 0, b.err);
    CHECK(trim_nl(b.out) == bundle);
    CHECK(std::filesystem::exists(bundle + "/rootfs/bin/busybox"));
    const std::string script = "hostname; id; ls /";
    edit_config(bundle, {"sh", "-c", script});

    auto by_runc = run_process({"runc", "--root", r.path() + "/runc-state", "run", "--bundle", bundle, "x"});
    auto by_isolab = run_process({r.bin, "runtime", "--root", r.path() + "/rt", "run", "--bundle", bundle, "y"});
    auto by_exec = r.isolab({"exec", "bb", "sh", "-c", script});
    REQUIRE_MESSAGE(by_runc.code == 0, by_runc.err);
    REQUIRE_MESSAGE(by_isolab.code == 0, by_isolab.err);
    REQUIRE_MESSAGE(by_exec.code == 0, by_exec.err);
    CHECK(by_isolab.out == by_runc.out);
    CHECK(by_exec.out == by_runc.out);
    std::string hostname = r.id_of("bb").substr(0, 12);
    CHECK(first_line(by_runc.out) == hostname);
    CHECK(by_runc.out.find("uid=0(root) gid=0(root)") != std::string::npos);
    CHECK(by_runc.out.find("\nbin\n") != std::string::npos);
    // `run` removed its container afterwards.
    CHECK_FALSE(std::filesystem::exists(r.path() + "/rt/y"));

    // A bundle directory that is not empty is refused and left as it was.
    auto twice = r.isolab({"bundle", "bb", bundle});
    CHECK(twice.code == 1);
    CHECK(twice.err.find("is not an empty directory") != std::string::npos);
    CHECK(std::filesystem::exists(bundle + "/config.json"));
}

TEST_CASE("oci runtime: hooks fail create and start, warn after start and at delete; delete needs a stopped container") {
    if (!can_run_oci()) return;
    TempRoot r;
    Runtime rt{r.path() + "/rt", r.bin};
    std::string bundle = r.path() + "/bundle";
    std::filesystem::create_directories(bundle);
    REQUIRE(run_process({"/bin/sh", "-c", "cd '" + bundle + "' && runc spec"}).code == 0);
    REQUIRE(make_busybox_rootfs(bundle + "/rootfs"));
    edit_config(bundle, {"sleep", "30"});
    auto set_hooks = [&](const json& hooks) {
        std::ifstream in(bundle + "/config.json");
        json c = json::parse(in);
        c["hooks"] = hooks;
        std::ofstream(bundle + "/config.json") << c.dump(2);
    };
    const std::string marker = r.path() + "/poststop-ran";
    const json poststop_marker = {{"path", "/bin/sh"}, {"args", {"sh", "-c", "cat > " + marker}}};

    // A created container is not stopped: delete refuses it (runtime.md), kill is allowed.
    REQUIRE(rt.create(bundle, "c1", r.path() + "/c1.pid").code == 0);
    CHECK(status_of(rt, "c1") == "created");
    auto refused = rt({"delete", "c1"});
    CHECK(refused.code == 1);
    CHECK(trim_nl(refused.err) == "cannot delete container c1 that is not stopped: created");
    CHECK(status_of(rt, "c1") == "created");
    REQUIRE(rt({"kill", "c1", "KILL"}).code == 0);
    for (int i = 0; i < 200 && status_of(rt, "c1") != "stopped"; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(status_of(rt, "c1") == "stopped");
    CHECK(rt({"delete", "c1"}).code == 0);

    // A failing prestart hook fails create: nothing is left, and the poststop hooks ran.
    set_hooks({{"prestart", {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "echo out; echo err >&2; exit 3"}}}}},
               {"poststop", {poststop_marker}}});
    auto failed = rt.create(bundle, "c2", r.path() + "/c2.pid");
    CHECK(failed.code == 1);
    CHECK(failed.err.find("error running prestart hook #0 (`/bin/sh`): exit status 3, stdout: out, stderr: err") !=
          std::string::npos);
    CHECK_FALSE(std::filesystem::exists(rt.root + "/c2"));
    CHECK_FALSE(std::filesystem::exists(r.path() + "/c2.pid"));
    CHECK(rt({"list", "-q"}).out.empty());
    CHECK(json::parse(read_text(marker), nullptr, false).value("status", "") == "stopped");
    std::filesystem::remove(marker);

    // A failing startContainer hook fails start; the container is stopped, delete runs poststop.
    set_hooks({{"startContainer", {{{"path", "/bin/false"}}}}, {"poststop", {poststop_marker}}});
    REQUIRE(rt.create(bundle, "c3", r.path() + "/c3.pid").code == 0);
    auto start = rt({"start", "c3"});
    CHECK(start.code == 1);
    CHECK(start.err.find("error running startContainer hook #0 (`/bin/false`): exit status 1") != std::string::npos);
    for (int i = 0; i < 200 && status_of(rt, "c3") != "stopped"; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(status_of(rt, "c3") == "stopped");
    CHECK_FALSE(std::filesystem::exists(marker));
    CHECK(rt({"delete", "c3"}).code == 0);
    CHECK(std::filesystem::exists(marker));
    std::filesystem::remove(marker);

    // poststart and poststop failures are warnings: start and delete succeed.
    set_hooks({{"poststart", {{{"path", "/bin/false"}}}}, {"poststop", {{{"path", "/bin/false"}}}}});
    REQUIRE(rt.create(bundle, "c4", r.path() + "/c4.pid").code == 0);
    auto started = rt({"start", "c4"});
    CHECK(started.code == 0);
    CHECK(started.err.find("warning: error running poststart hook #0 (`/bin/false`): exit status 1") != std::string::npos);
    CHECK(status_of(rt, "c4") == "running");
    auto deleted = rt({"delete", "--force", "c4"});
    CHECK(deleted.code == 0);
    CHECK(deleted.err.find("warning: error running poststop hook #0 (`/bin/false`)") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(rt.root + "/c4"));

    // A hook past its timeout is killed and fails create.
    set_hooks({{"createRuntime", {{{"path", "/bin/sleep"}, {"args", {"sleep", "30"}}, {"timeout", 1}}}}});
    auto t0 = std::chrono::steady_clock::now();
    auto slow = rt.create(bundle, "c5", r.path() + "/c5.pid");
    CHECK(slow.code == 1);
    CHECK(slow.err.find("createRuntime hook #0 (`/bin/sleep`): hook ran past specified timeout of 1.0s") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
    CHECK_FALSE(std::filesystem::exists(rt.root + "/c5"));
}
