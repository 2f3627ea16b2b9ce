// Crash consistency (issue 12, item 10): kill -9 of the CLI, or of the container's monitor, at
// random moments of run, start, rm, commit and build, 20 trials each. After each, the next
// `isolab ps -a` must agree with /proc, and nothing may be left behind: no process, cgroup, veth,
// mount, staging folder or intent of a container that does not run.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "sim/core/clock.hpp"
#include "sim/engine/engine.hpp"
#include "sim/runtime/cgroup.hpp"
#include "security.hpp"

using namespace isolab::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr int kTrials = 20;

// Starts `isolab ARGS` in its own process group; kills the group with SIGKILL after DELAY_MS
// (or lets it finish first). With KILL_MONITOR, the container monitors of this root are killed
// instead of the CLI. Returns whether anything was killed.
bool run_and_kill(const TempRoot& r, const std::vector<std::string>& args, int delay_ms, bool kill_monitor) {
    pid_t pid = ::fork();
    if (pid == 0) {
        ::setpgid(0, 0);
        ::setenv("ISOLAB_ROOT", r.path().c_str(), 1);
        int null = ::open("/dev/null", O_RDWR);
        ::dup2(null, 0);
        ::dup2(null, 1);
        ::dup2(null, 2);
        std::vector<char*> argv = {const_cast<char*>(r.bin.c_str())};
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(r.bin.c_str(), argv.data());
        ::_exit(127);
    }
    ::setpgid(pid, pid);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    bool killed = false;
    if (kill_monitor) {
        for (const auto& e : fs::directory_iterator("/proc")) {
            std::string cmd = read_text(e.path().string() + "/cmdline");
            if (cmd.rfind(r.path()) != std::string::npos && cmd.find("isolab-monitor") != std::string::npos &&
                cmd.find("--exec") == std::string::npos) {
                ::kill(std::atoi(e.path().filename().c_str()), SIGKILL);
                killed = true;
            }
        }
    } else {
        killed = ::kill(-pid, SIGKILL) == 0;
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return kill_monitor ? killed : killed && WIFSIGNALED(status);
}

// Every container id this root ever made (from its event log): a container whose create or rm was
// cut short may no longer be in `ps -a`, but what it left must still be found.
std::set<std::string> ids_ever(const TempRoot& r) {
    std::set<std::string> ids;
    std::istringstream in(read_text(r.path() + "/events.jsonl"));
    for (std::string line; std::getline(in, line);) {
        auto j = json::parse(line, nullptr, false);
        if (!j.is_discarded() && j.contains("id") && j["id"].is_string() && j["id"].get<std::string>().size() == 64)
            ids.insert(j["id"].get<std::string>());
    }
    return ids;
}

// What `ps -a` says (after its garbage collection) against what the kernel and the disk hold.
std::vector<std::string> audit(const TempRoot& r) {
    std::vector<std::string> problems;
    auto ps = r.isolab({"ps", "-aq", "--no-trunc"});
    if (ps.code != 0) problems.push_back("ps -a failed with " + std::to_string(ps.code) + ": " + ps.err + ps.out);
    std::set<std::string> running;
    std::istringstream ids(ps.out);
    for (std::string id; ids >> id;) {
        auto in = r.isolab({"inspect", id});
        auto j = json::parse(in.out, nullptr, false);
        if (!j.is_array() || j.empty()) {
            problems.push_back(id + ": in ps -a but inspect fails (" + std::to_string(in.code) + "): " + in.err);
            continue;
        }
        auto st = j[0]["State"];
        std::string status = st.value("Status", "");
        int pid = st.value("Pid", 0);
        if (status == "running" || status == "paused" || status == "restarting") {
            running.insert(id);
            if (status != "restarting" && !process_alive(pid))
                problems.push_back(id + ": " + status + " but its PID 1 " + std::to_string(pid) + " is gone");
        } else if (pid != 0) {
            problems.push_back(id + ": " + status + " with a PID " + std::to_string(pid));
        }
        if (status == "removing") problems.push_back(id + ": still Removal In Progress");
    }
    std::set<std::string> ever = ids_ever(r);
    // Monitors and exec helpers of this root: each belongs to a running container.
    for (const auto& e : fs::directory_iterator("/proc")) {
        std::string cmd = read_text(e.path().string() + "/cmdline");
        if (cmd.find("isolab-monitor") == std::string::npos || cmd.find(r.path()) == std::string::npos) continue;
        size_t at = cmd.find("--id");
        std::string id = at == std::string::npos ? "" : cmd.substr(at + 5, 64);
        if (!running.count(id)) problems.push_back("a monitor (pid " + e.path().filename().string() + ") of " + id + " runs for a container that does not");
    }
    // Cgroups of this root.
    auto cg = isolab::cgroup_probe();
    std::string prefix = isolab::container_cgroup_name(r.path(), "");
    for (const auto& parent : cg.parents) {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(parent + "/" + prefix, ec))
            if (e.is_directory() && !running.count(e.path().filename().string()))
                problems.push_back("cgroup " + e.path().string() + " of a container that does not run");
    }
    // veths (host ends are named after the container id).
    std::string links = run_process({"/sbin/ip", "-o", "link", "show"}).out;
    for (const auto& id : ever)
        if (!running.count(id) && links.find("veth-il" + id.substr(0, 7)) != std::string::npos)
            problems.push_back("a veth of " + id + ", which does not run");
    // Mounts on the host naming the root (overlays live in the containers' own namespaces).
    if (mounts_mention(r.path() + "/")) problems.push_back("a mount under the state root is visible on the host");
    // Staging folders and intents.
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(r.path() + "/images/layers", ec))
        if (e.path().filename().string()[0] == '.') problems.push_back("staging folder left: " + e.path().string());
    for (const auto& e : fs::directory_iterator(r.path() + "/containers", ec)) {
        if (fs::exists(e.path() / "intent.json")) problems.push_back("intent left: " + e.path().string());
        if (!fs::exists(e.path() / "container.json") && !fs::exists(e.path() / "container.json.bad"))
            problems.push_back("a container folder without a record: " + e.path().string());
    }
    return problems;
}

struct Op {
    const char* name;
    std::function<void(const TempRoot&, int)> before;             // prepares trial N
    std::function<std::vector<std::string>(const TempRoot&, int)> args;  // the command killed in trial N
};

void inject(const Op& op, bool kill_monitor) {
    TempRoot r;
    std::string ctx = r.path() + "/ctx";
    fs::create_directories(ctx);
    std::ofstream(ctx + "/Dockerfile") << "FROM busybox\nCOPY f /f\nRUN echo built > /g\nCMD [\"cat\", \"/g\"]\n";
    std::ofstream(ctx + "/f") << "f\n";
    // The random moments span the operation's whole run: its length is measured first.
    int span = 0;
    for (int warm = 1000; warm < 1002; ++warm) {  // the second run: the first also makes the base image
        if (op.before) op.before(r, warm);
        double t0 = isolab::monotonic_ms();
        auto first = r.isolab(op.args(r, warm));
        REQUIRE_MESSAGE(first.code == 0, first.err);
        span = static_cast<int>(isolab::monotonic_ms() - t0) + 5;
    }
    std::mt19937 rng(1234 + static_cast<unsigned>(span));
    int killed = 0;
    const std::string name = op.name;
    for (int i = 0; i < kTrials; ++i) {
        if (op.before) op.before(r, i);
        int delay = std::uniform_int_distribution<int>(0, span)(rng);
        killed += run_and_kill(r, op.args(r, i), delay, kill_monitor);
        auto problems = audit(r);
        int fds = 0;
        for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++fds;
        if (fds > 50) {
            std::string what;
            for (const auto& e : fs::directory_iterator("/proc/self/fd")) {
                std::error_code ec;
                what += fs::read_symlink(e.path(), ec).string() + " ";
            }
            problems.push_back("the test itself holds " + std::to_string(fds) + " descriptors: " + what);
        }
        CAPTURE(name);
        CAPTURE(i);
        CAPTURE(delay);
        CAPTURE(kill_monitor);
        for (const auto& p : problems) FAIL_CHECK(p);
        if (!problems.empty()) break;
    }
    const std::string who = kill_monitor ? "the monitor" : "the CLI";
    MESSAGE(name << " (" << span << " ms, " << who << " killed): " << killed << " of " << kTrials
                    << " trials cut short");
    CHECK(killed > 0);  // the trials really interrupted something
}

std::string n(const char* p, int i) { return std::string(p) + std::to_string(i); }

}  // namespace

TEST_CASE("fault injection: kill -9 of the CLI during run, start, rm, commit and build leaves nothing behind") {
    if (!can_attack()) return;
    std::vector<Op> ops = {
        {"run", nullptr, [](const TempRoot&, int i) { return std::vector<std::string>{"run", "-d", "--name", n("r", i), "busybox", "sleep", "300"}; }},
        {"start", [](const TempRoot& r, int i) { r.isolab({"create", "--name", n("s", i), "busybox", "sleep", "300"}); },
         [](const TempRoot&, int i) { return std::vector<std::string>{"start", n("s", i)}; }},
        {"rm", [](const TempRoot& r, int i) { r.isolab({"run", "-d", "--name", n("d", i), "busybox", "sleep", "300"}); },
         [](const TempRoot&, int i) { return std::vector<std::string>{"rm", "-f", n("d", i)}; }},
        {"commit", [](const TempRoot& r, int i) {
             r.isolab({"run", "-d", "--name", n("c", i), "busybox", "sh", "-c", "echo x > /x; sleep 300"});
         },
         [](const TempRoot&, int i) { return std::vector<std::string>{"commit", n("c", i), n("img", i)}; }},
        // A new file each trial: COPY misses the cache, so RUN really runs a container.
        {"build", [](const TempRoot& r, int i) { write_text(r.path() + "/ctx/f", "trial " + std::to_string(i) + "\n"); },
         [](const TempRoot& r, int i) { return std::vector<std::string>{"build", "-t", n("b", i), r.path() + "/ctx"}; }},
    };
    for (const auto& op : ops) inject(op, false);
}

TEST_CASE("fault injection: kill -9 of the monitor during run and start leaves nothing behind") {
    if (!can_attack()) return;
    inject({"run", nullptr,
            [](const TempRoot&, int i) { return std::vector<std::string>{"run", "-d", "--name", n("r", i), "busybox", "sleep", "300"}; }},
           true);
    inject({"start", [](const TempRoot& r, int i) { r.isolab({"create", "--name", n("s", i), "busybox", "sleep", "300"}); },
            [](const TempRoot&, int i) { return std::vector<std::string>{"start", n("s", i)}; }},
           true);
}
