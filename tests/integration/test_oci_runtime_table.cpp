// IsoLab's OCI runtime against runc, one field of the runtime spec per row: each row edits a
// `runc spec` config, runs the same bundle with `runc run` and with `isolab runtime run`, and
// compares what the container's process printed (and what the row's hooks wrote). Only what
// must differ between two runs is normalised (host pids, mount ids, peer groups, the runtime's own
// cgroup name); a row that differs fails and shows both outputs.
//
// The rows run on the host as it is: on this project's machines cgroup v1 (hybrid), where runc
// and IsoLab both refuse hugepageLimits (no hugetlb hierarchy is mounted) and blockIO.weight (no
// BFQ scheduler): those rows compare the refusal. cgroup v2's file names are unit-tested on fake
// trees (tests/sim/test_cgroup.cpp).
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "harness.hpp"
#include "sim/host/probe.hpp"

using namespace isolab::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

bool can_compare_with_runc() {
    if (::geteuid() != 0) {
        MESSAGE("SKIPPED: the OCI runtime table needs root (CI runs it as root)");
        return false;
    }
    if (isolab::host::in_chroot()) {
        MESSAGE("SKIPPED: inside a chroot pivot_root is refused; the OCI runtime cannot run here");
        return false;
    }
    if (run_process({"runc", "--version"}).code != 0) {
        MESSAGE("SKIPPED: runc is not installed (apt-get install runc): this table compares IsoLab with it");
        return false;
    }
    return true;
}

bool make_rootfs(const std::string& rootfs) {
    fs::create_directories(rootfs + "/bin");
    for (const char* d : {"tmp", "mnt", "proc", "sys", "dev", "etc"}) fs::create_directories(rootfs + "/" + d);
    std::error_code ec;
    fs::copy_file("/bin/busybox", rootfs + "/bin/busybox", ec);
    if (ec) return false;
    auto list = run_process({"/bin/busybox", "--list"});
    std::istringstream in(list.out);
    for (std::string applet; in >> applet;)
        if (applet != "busybox") fs::create_symlink("busybox", rootfs + "/bin/" + applet, ec);
    return fs::exists(rootfs + "/bin/sh");
}

std::string ns_inode(const std::string& pid, const std::string& type) {
    std::error_code ec;
    return fs::read_symlink("/proc/" + pid + "/ns/" + type, ec).string();
}

// A process holding namespaces that rows join by path; killed with the table.
struct NamespaceHolder {
    pid_t pid = -1;   // the `unshare` process
    pid_t held = -1;  // the process inside every new namespace
    explicit NamespaceHolder(const std::vector<std::string>& argv) {
        pid = ::fork();
        if (pid == 0) {
            std::vector<char*> av;
            for (const auto& a : argv) av.push_back(const_cast<char*>(a.c_str()));
            av.push_back(nullptr);
            ::execvp(av[0], av.data());
            ::_exit(127);
        }
        // With --fork, the process in the new pid namespace is unshare's child.
        for (int i = 0; i < 200 && held < 0; ++i) {
            std::string kids = read_text("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
            if (!kids.empty()) held = std::atoi(kids.c_str());
            else std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        if (held < 0) held = pid;
    }
    ~NamespaceHolder() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            if (held != pid) ::kill(held, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }
    std::string ns(const std::string& type) const { return "/proc/" + std::to_string(held) + "/ns/" + type; }
};

struct Row {
    std::string field;
    std::function<void(json&)> edit;
    std::string script;
    // Applied to both outputs, after the common normalisation; each says why it must differ.
    std::vector<std::pair<std::string, std::string>> normalise = {};
    // A place where runc 1.1.5 does not do what the runtime spec says: the reason, and what IsoLab
    // (following the spec) must print instead of runc's output (a regular expression matched
    // against IsoLab's whole normalised output).
    std::string runc_gap = {};
    std::string isolab_expect = {};
};

class Table {
public:
    explicit Table(const TempRoot& r) : r_(r) {
        base_dir_ = r.path() + "/base";
        fs::create_directories(base_dir_);
        ok_ = run_process({"/bin/sh", "-c", "cd '" + base_dir_ + "' && runc spec"}).code == 0 &&
              make_rootfs(r.path() + "/rootfs");
        hooks_ = r.path() + "/hooks";
        fs::create_directories(hooks_);
        ::chmod(hooks_.c_str(), 0777);
    }
    bool ok() const { return ok_; }
    const std::string& hooks() const { return hooks_; }

    json base() const {
        std::ifstream in(base_dir_ + "/config.json");
        json c = json::parse(in);
        c["process"]["terminal"] = false;
        c["root"]["path"] = r_.path() + "/rootfs";
        // Every row has its own cgroup namespace, so /sys/fs/cgroup/<controller> is the
        // container's own group under both runtimes.
        c["linux"]["namespaces"].push_back({{"type", "cgroup"}});
        return c;
    }

    // Runs ROW under RUNTIME ("runc" or "isolab"); returns what the row compares.
    std::string run(const Row& row, const std::string& runtime, int n) {
        std::string bundle = r_.path() + "/bundle-" + std::to_string(n);  // the same for both runtimes
        fs::create_directories(bundle);
        json c = base();
        c["process"]["args"] = {"sh", "-c", row.script};
        row.edit(c);
        std::ofstream(bundle + "/config.json") << c.dump(2);
        fs::remove_all(hooks_);
        fs::create_directories(hooks_);
        ::chmod(hooks_.c_str(), 0777);
        std::string state = r_.path() + "/state-" + runtime;
        CmdResult res = runtime == "runc"
                            ? run_process({"runc", "--root", state, "run", "--bundle", bundle, "tt"}, {}, 60000)
                            : run_process({r_.bin, "runtime", "--root", state, "run", "--bundle", bundle, "tt"}, {}, 60000);
        std::string out = res.out + "-- exit " + (res.code == 0 ? "0" : "non-zero") + "\n";
        std::vector<std::string> files;
        for (const auto& e : fs::directory_iterator(hooks_)) files.push_back(e.path().filename().string());
        std::sort(files.begin(), files.end());
        for (const auto& f : files) out += "-- " + f + ": " + read_text(hooks_ + "/" + f) + "\n";
        // The container is gone after `run` under both runtimes.
        if (fs::exists(state + "/tt")) out += "-- state directory left behind\n";
        last_err_[runtime] = res.err;
        return normalise(out, row);
    }
    std::string err(const std::string& runtime) { return last_err_[runtime]; }

private:
    static std::string normalise(std::string s, const Row& row) {
        // Host pids of the container's init in hook state (1 inside its pid namespace stays).
        s = std::regex_replace(s, std::regex("\"pid\":([02-9]|1[0-9]+|[2-9][0-9]+)[0-9]*"), "\"pid\":HOSTPID");
        for (const auto& [from, to] : row.normalise) s = std::regex_replace(s, std::regex(from), to);
        return s;
    }
    const TempRoot& r_;
    std::string base_dir_, hooks_;
    std::map<std::string, std::string> last_err_;
    bool ok_ = false;
};

// A mountinfo line without what differs between two mounts of the same thing: mount and parent
// ids, the device number of a fresh tmpfs or proc, and peer-group numbers.
const std::vector<std::pair<std::string, std::string>> kMountinfo = {
    {"(^|\\n)[0-9]+ [0-9]+ [0-9]+:[0-9]+ ", "$1ID PARENT DEV "},
    {"(shared|master|propagate_from):[0-9]+", "$1:N"},
};

json hook(const std::string& out, const std::string& extra = "") {
    return {{"path", "/bin/sh"},
            {"args", {"sh", "-c", "cat > " + out + "; echo \" $0 $1 FOO=$FOO\" >> " + out + extra, "arg0", "arg1"}},
            {"env", {"FOO=bar"}}};
}

}  // namespace

TEST_CASE("oci runtime table: each runtime-spec field gives what runc gives") {
    if (!can_compare_with_runc()) return;
    TempRoot r;
    Table t(r);
    REQUIRE(t.ok());
    const std::string H = t.hooks();
    const std::string self = std::to_string(::getpid());
    NamespaceHolder holder({"unshare", "--ipc", "--uts", "--net", "--cgroup", "--pid", "--fork", "sleep", "1000"});
    NamespaceHolder user_holder({"unshare", "--user", "sleep", "1000"});
    REQUIRE(holder.held > 0);
    REQUIRE(user_holder.held > 0);
    // The user namespace's maps, written from here (root needs no newuidmap).
    for (int i = 0; i < 200 && ns_inode(std::to_string(user_holder.held), "user") == ns_inode("self", "user"); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    write_text("/proc/" + std::to_string(user_holder.held) + "/uid_map", "0 100000 65536\n");
    write_text("/proc/" + std::to_string(user_holder.held) + "/gid_map", "0 100000 65536\n");
    const std::string cg_abs = "/isolab-oci-table-" + self;

    // Prints, for each namespace type, whether the process is in the host's, the holder's or a new one.
    auto ns_report = [&](json& c) {
        std::vector<std::string> env = c["process"]["env"];
        for (const char* t : {"pid", "net", "ipc", "uts", "mnt", "cgroup", "user"}) {
            env.push_back(std::string("HOST_") + t + "=" + ns_inode("self", t));
            env.push_back(std::string("HOLD_") + t + "=" + ns_inode(std::to_string(holder.held), t));
            env.push_back(std::string("UHOLD_") + t + "=" + ns_inode(std::to_string(user_holder.held), t));
        }
        c["process"]["env"] = env;
    };
    const std::string ns_script =
        "for t in pid net ipc uts mnt cgroup user; do n=$(readlink /proc/self/ns/$t); "
        "eval h=\\$HOST_$t; eval o=\\$HOLD_$t; eval u=\\$UHOLD_$t; "
        "if [ \"$n\" = \"$h\" ]; then echo $t host; elif [ \"$n\" = \"$o\" ]; then echo $t holder; "
        "elif [ \"$n\" = \"$u\" ]; then echo $t user-holder; else echo $t new; fi; done";
    auto set_ns = [](json& c, const std::vector<std::pair<std::string, std::string>>& nss) {
        json list = json::array();
        for (const auto& [type, path] : nss) {
            json n = {{"type", type}};
            if (!path.empty()) n["path"] = path;
            list.push_back(n);
        }
        c["linux"]["namespaces"] = list;
    };
    auto resources = [](json& c, const char* key, json value) { c["linux"]["resources"][key] = std::move(value); };
    auto mount = [](json& c, json m) { c["mounts"].push_back(std::move(m)); };
    const std::string mem = "/sys/fs/cgroup/memory/";
    const std::string hostdir = r.path() + "/shared";
    fs::create_directories(hostdir + "/sub");
    write_text(hostdir + "/file", "hello\n");

    std::vector<Row> rows = {
        // ---- linux.resources
        {"linux.resources.memory.limit", [&](json& c) { resources(c, "memory", {{"limit", 64 << 20}}); },
         "cat " + mem + "memory.limit_in_bytes " + mem + "memory.memsw.limit_in_bytes"},
        {"linux.resources.memory.swap", [&](json& c) { resources(c, "memory", {{"limit", 64 << 20}, {"swap", 96 << 20}}); },
         "cat " + mem + "memory.limit_in_bytes " + mem + "memory.memsw.limit_in_bytes"},
        {"linux.resources.memory.reservation", [&](json& c) { resources(c, "memory", {{"reservation", 32 << 20}}); },
         "cat " + mem + "memory.soft_limit_in_bytes"},
        {"linux.resources.memory.swappiness", [&](json& c) { resources(c, "memory", {{"swappiness", 17}}); },
         "cat " + mem + "memory.swappiness"},
        {"linux.resources.memory.disableOOMKiller", [&](json& c) { resources(c, "memory", {{"disableOOMKiller", true}}); },
         "grep oom_kill_disable " + mem + "memory.oom_control"},
        {"linux.resources.cpu.shares", [&](json& c) { resources(c, "cpu", {{"shares", 512}}); },
         "cat /sys/fs/cgroup/cpu/cpu.shares"},
        {"linux.resources.cpu.quota+period",
         [&](json& c) { resources(c, "cpu", {{"quota", 50000}, {"period", 200000}}); },
         "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us"},
        {"linux.resources.cpu.cpus+mems", [&](json& c) { resources(c, "cpu", {{"cpus", "0"}, {"mems", "0"}}); },
         "cat /sys/fs/cgroup/cpuset/cpuset.cpus /sys/fs/cgroup/cpuset/cpuset.mems; grep Cpus_allowed_list /proc/self/status"},
        {"linux.resources.pids.limit", [&](json& c) { resources(c, "pids", {{"limit", 42}}); },
         "cat /sys/fs/cgroup/pids/pids.max"},
        {"linux.resources.devices (allow, deny)",
         [&](json& c) {
             c["linux"]["devices"] = {{{"path", "/dev/fuse"}, {"type", "c"}, {"major", 10}, {"minor", 229}, {"fileMode", 0666}}};
             c["linux"]["resources"]["devices"].push_back(
                 {{"allow", true}, {"type", "c"}, {"major", 10}, {"minor", 229}, {"access", "r"}});
         },
         "exec 3</dev/fuse && echo read opened; (exec 4>/dev/fuse) 2>&1; echo write $?"},
        {"linux.resources.hugepageLimits (no hugetlb hierarchy here: both refuse)",
         [&](json& c) { resources(c, "hugepageLimits", {{{"pageSize", "2MB"}, {"limit", 4 << 20}}}); }, "echo ran"},
        {"linux.resources.blockIO.weight (no BFQ scheduler here: both refuse)",
         [&](json& c) { resources(c, "blockIO", {{"weight", 500}}); }, "echo ran"},
        // ---- hooks
        {"hooks.prestart", [&](json& c) { c["hooks"]["prestart"] = {hook(H + "/prestart")}; }, "echo ran"},
        {"hooks.createRuntime", [&](json& c) { c["hooks"]["createRuntime"] = {hook(H + "/createRuntime")}; }, "echo ran"},
        // Before pivot_root: its path and its file are the host's.
        {"hooks.createContainer", [&](json& c) { c["hooks"]["createContainer"] = {hook(H + "/createContainer")}; },
         "echo ran"},
        // After pivot_root: /bin/sh and /hooks are the container's.
        {"hooks.startContainer",
         [&](json& c) {
             mount(c, {{"destination", "/hooks"}, {"type", "bind"}, {"source", H}, {"options", {"rbind"}}});
             c["hooks"]["startContainer"] = {hook("/hooks/startContainer", "; id >> /hooks/startContainer")};
         },
         "echo ran"},
        // runc 1.1.5 runs poststart before the process is started and reports "created"; the spec
        // (and runc 1.2) run it after, with "running": the status word is the one difference.
        {"hooks.poststart", [&](json& c) { c["hooks"]["poststart"] = {hook(H + "/poststart")}; }, "echo ran",
         {{"\"status\":\"(created|running)\"", "\"status\":\"created-or-running\""}}},
        {"hooks.poststop", [&](json& c) { c["hooks"]["poststop"] = {hook(H + "/poststop")}; }, "echo ran"},
        {"hooks: several, in order, env and args",
         [&](json& c) {
             c["hooks"]["prestart"] = {hook(H + "/order", "; echo first >> " + H + "/order"),
                                       hook(H + "/order2", "; echo second >> " + H + "/order")};
         },
         "echo ran"},
        {"hooks.*.timeout (a hook past it fails create)",
         [&](json& c) {
             c["hooks"]["createRuntime"] = {{{"path", "/bin/sleep"}, {"args", {"sleep", "10"}}, {"timeout", 1}}};
         },
         "echo ran"},
        {"hooks: a failing createRuntime hook fails create and destroys the container",
         [&](json& c) {
             c["hooks"]["createRuntime"] = {{{"path", "/bin/false"}}};
             c["hooks"]["poststop"] = {hook(H + "/poststop")};
         },
         "echo ran"},
        {"hooks: a failing startContainer hook fails start",
         [&](json& c) { c["hooks"]["startContainer"] = {{{"path", "/bin/false"}}}; }, "echo ran"},
        // ---- namespaces
        {"linux.namespaces (each type new)",
         [&](json& c) {
             set_ns(c, {{"pid", ""}, {"network", ""}, {"ipc", ""}, {"uts", ""}, {"mount", ""}, {"cgroup", ""}});
             ns_report(c);
         },
         ns_script},
        {"linux.namespaces (host's: only pid and mount new)",
         [&](json& c) {
             set_ns(c, {{"pid", ""}, {"mount", ""}});
             c.erase("hostname");
             ns_report(c);
         },
         ns_script},
        {"linux.namespaces[].path (pid, network, ipc, uts, cgroup joined)",
         [&](json& c) {
             set_ns(c, {{"pid", holder.ns("pid")}, {"network", holder.ns("net")}, {"ipc", holder.ns("ipc")},
                        {"uts", holder.ns("uts")}, {"cgroup", holder.ns("cgroup")}, {"mount", ""}});
             ns_report(c);
         },
         // Pid numbers in a joined namespace depend on what ran there before: only "not 1" is shared.
         ns_script + "; [ $$ -ne 1 ] && echo pid is not 1"},
        {"linux.namespaces user, uidMappings, gidMappings",
         [&](json& c) {
             c["linux"]["namespaces"].push_back({{"type", "user"}});
             c["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
             c["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
             ns_report(c);
         },
         "cat /proc/self/uid_map /proc/self/gid_map; id; " + ns_script},
        {"linux.namespaces user by path",
         [&](json& c) {
             c["linux"]["namespaces"].push_back({{"type", "user"}, {"path", user_holder.ns("user")}});
             // The namespace's own maps: runc 1.1.5 insists on them (and checks them), IsoLab
             // writes no map into a namespace it joins.
             c["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
             c["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
             ns_report(c);
         },
         "cat /proc/self/uid_map; id; " + ns_script},
        // ---- file system
        {"root.readonly", [&](json& c) { c["root"]["readonly"] = true; },
         "touch /new 2>&1; awk '$5 == \"/\"' /proc/self/mountinfo", kMountinfo},
        {"root.readonly false",
[&](json& c) { c["root"]["readonly"] = false; },
         "awk '$5 == \"/\"' /proc/self/mountinfo", kMountinfo},
        {"linux.rootfsPropagation rslave", [&](json& c) { c["linux"]["rootfsPropagation"] = "rslave"; },
         "awk '$5 == \"/\"' /proc/self/mountinfo", kMountinfo},
        {"linux.rootfsPropagation private", [&](json& c) { c["linux"]["rootfsPropagation"] = "private"; },
         "awk '$5 == \"/\"' /proc/self/mountinfo", kMountinfo},
        {"linux.rootfsPropagation shared",
         [&](json& c) { c["linux"]["rootfsPropagation"] = "shared"; },
         "awk '$5 == \"/\"' /proc/self/mountinfo | grep -o 'shared:[0-9]*' || echo not shared",
         kMountinfo,
         "runc 1.1.5 leaves the root private (it applies the propagation before pivot_root only)",
         "shared:N\n-- exit 0\n"},
        {"mounts (types and options)",
         [&](json& c) {
             mount(c, {{"destination", "/mnt/tmp"}, {"type", "tmpfs"}, {"source", "tmpfs"},
                       {"options", {"nosuid", "nodev", "noexec", "size=1m", "mode=710", "uid=5", "gid=6"}}});
             mount(c, {{"destination", "/mnt/ro"}, {"type", "bind"}, {"source", hostdir}, {"options", {"rbind", "ro", "nosuid"}}});
             mount(c, {{"destination", "/mnt/file"}, {"type", "none"}, {"source", hostdir + "/file"},
                       {"options", {"bind", "noexec", "rprivate"}}});
             mount(c, {{"destination", "/mnt/tmp/proc"}, {"type", "proc"}, {"source", "proc"}, {"options", {"ro", "nosuid"}}});
             mount(c, {{"destination", "/mnt/sub"}, {"type", "bind"}, {"source", "../shared/sub"}, {"options", {"bind", "relatime"}}});
         },
         "for m in /mnt/tmp /mnt/ro /mnt/file /mnt/tmp/proc /mnt/sub; do grep \" $m \" /proc/self/mountinfo; done; "
         "stat -c '%a %u %g' /mnt/tmp; cat /mnt/file; touch /mnt/ro/x 2>&1",
         {{"(^|\\n)[0-9]+ [0-9]+ [0-9]+:[0-9]+ ", "$1ID PARENT DEV "}, {"(shared|master):[0-9]+", "$1:N"}}},
        {"linux.maskedPaths, linux.readonlyPaths",
         [&](json& c) {
             c["linux"]["maskedPaths"] = {"/proc/kcore", "/proc/timer_list", "/sys/firmware", "/proc/no-such-file"};
             c["linux"]["readonlyPaths"] = {"/proc/sys", "/proc/sysrq-trigger", "/proc/no-such-dir"};
         },
         "wc -c < /proc/timer_list; ls /sys/firmware | wc -l; "
         "grep -E ' /proc/(kcore|timer_list|sys|sysrq-trigger) | /sys/firmware ' /proc/self/mountinfo; "
         "echo 1 > /proc/sys/kernel/ns_last_pid 2>&1",
         // IsoLab masks a directory with a tmpfs that is also nosuid,nodev,noexec (security.cpp),
         // deliberately stricter than runc's read-only alone.
         {kMountinfo[0], kMountinfo[1], {" ro,nosuid,nodev,noexec,relatime - tmpfs", " ro,relatime - tmpfs"}}},
        {"linux.devices",
         [&](json& c) {
             c["linux"]["devices"] = {
                 {{"path", "/dev/mydev"}, {"type", "c"}, {"major", 1}, {"minor", 3}, {"fileMode", 0640}, {"uid", 7}, {"gid", 8}},
                 {{"path", "/dev/sub/blk"}, {"type", "b"}, {"major", 7}, {"minor", 200}},
                 {{"path", "/dev/pipe"}, {"type", "p"}}};
         },
         "stat -c '%n %F %a %u %g %t %T' /dev/mydev /dev/sub/blk /dev/pipe; ls /dev | sort | tr '\\n' ' '"},
        // ---- process
        {"process.rlimits",
         [&](json& c) {
             c["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", 100}, {"hard", 200}},
                                        {{"type", "RLIMIT_CORE"}, {"soft", 0}, {"hard", 0}},
                                        {{"type", "RLIMIT_NPROC"}, {"soft", 1000}, {"hard", 2000}},
                                        {{"type", "RLIMIT_MSGQUEUE"}, {"soft", 4096}, {"hard", 8192}}};
         },
         "cat /proc/self/limits"},
        {"process.oomScoreAdj", [&](json& c) { c["process"]["oomScoreAdj"] = 345; }, "cat /proc/self/oom_score_adj"},
        {"process.user (uid, gid, additionalGids, umask)",
         [&](json& c) {
             c["process"]["user"] = {{"uid", 1000}, {"gid", 1001}, {"additionalGids", {10, 20, 1001}}, {"umask", 027}};
             // Not on the image's /tmp: runc 1.1.5 chmods a tmpfs back to the mode of the directory it
             // covers, ignoring mode=.
             mount(c, {{"destination", "/scratch"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"mode=1777"}}});
         },
         "id; umask; touch /scratch/f; stat -c '%a %u %g' /scratch/f; grep -E '^(Uid|Gid|Groups)' /proc/self/status; "
         "echo HOME=$HOME"},
        {"process.capabilities (all five sets)",
         [&](json& c) {
             c["process"]["capabilities"] = {{"bounding", {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETPCAP", "CAP_SYS_ADMIN"}},
                                             {"effective", {"CAP_CHOWN", "CAP_KILL"}},
                                             {"permitted", {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"}},
                                             {"inheritable", {"CAP_KILL", "CAP_NET_BIND_SERVICE"}},
                                             {"ambient", {"CAP_KILL", "CAP_NET_BIND_SERVICE"}}};
         },
         "grep ^Cap /proc/self/status"},
        {"process.capabilities as uid 1000",
         [&](json& c) {
             c["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
             c["process"]["capabilities"]["inheritable"] = c["process"]["capabilities"]["bounding"];
         },
         "grep ^Cap /proc/self/status"},
        {"process.noNewPrivileges false", [&](json& c) { c["process"]["noNewPrivileges"] = false; },
         "grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status"},
        {"process.noNewPrivileges true", [&](json& c) { c["process"]["noNewPrivileges"] = true; },
         "grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status"},
        {"process (args, env, cwd)",
         [&](json& c) {
             c["process"]["env"] = {"PATH=/bin", "A=1", "B=two words"};
             c["process"]["cwd"] = "/etc";
         },
         "pwd; env | grep -v '^PWD=' | grep -v '^SHLVL=' | sort; echo \"$0\""},
        {"linux.seccomp",
         [&](json& c) {
             c["linux"]["seccomp"] = {
                 {"defaultAction", "SCMP_ACT_ALLOW"},
                 {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
                 {"syscalls",
                  {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 13}},
                   // kill(pid, 0) only: a condition on an argument.
                   {{"names", {"kill"}},
                    {"action", "SCMP_ACT_ERRNO"},
                    {"errnoRet", 38},
                    {"args", {{{"index", 1}, {"value", 0}, {"op", "SCMP_CMP_EQ"}}}}}}}};
         },
         "grep -E '^Seccomp' /proc/self/status; mkdir /x 2>&1; echo $?; kill -0 $$ 2>&1; echo $?; "
         "kill -CONT $$; echo $?"},
        {"linux.seccomp without noNewPrivileges",
         [&](json& c) {
             c["process"]["noNewPrivileges"] = false;
             c["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                      {"syscalls", {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}}}}};
         },
         "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; mkdir /x 2>&1"},
        {"linux.sysctl",
         [&](json& c) { c["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}, {"kernel.shmmax", "123456"}, {"kernel.domainname", "sysctl.example"}}; },
         "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax /proc/sys/kernel/domainname"},
        {"hostname", [&](json& c) { c["hostname"] = "table-host"; }, "hostname; cat /proc/sys/kernel/domainname"},
        {"domainname",
         [&](json& c) {
             c["hostname"] = "table-host";
             c["domainname"] = "example.org";
         },
         "hostname; cat /proc/sys/kernel/domainname", {},
         "runc 1.1.5 does not apply config.md's domainname (runc 1.2 does)", "table-host\nexample.org\n-- exit 0\n"},
        {"linux.cgroupsPath (absolute)",
         [&](json& c) {
             set_ns(c, {{"pid", ""}, {"network", ""}, {"ipc", ""}, {"uts", ""}, {"mount", ""}});
             c["linux"]["cgroupsPath"] = cg_abs + "/c";
         },
         "cat /proc/self/cgroup"},
        {"linux.cgroupsPath (relative)",
         [&](json& c) {
             set_ns(c, {{"pid", ""}, {"network", ""}, {"ipc", ""}, {"uts", ""}, {"mount", ""}});
             c["linux"]["cgroupsPath"] = "isolab-oci-table-rel-" + self + "/c";
         },
         "cat /proc/self/cgroup"},
        {"annotations (in the hooks' state)",
         [&](json& c) {
             c["annotations"] = {{"org.example.b", "2"}, {"org.example.a", "one"}};
             c["hooks"]["prestart"] = {hook(H + "/prestart")};
             c["hooks"]["poststop"] = {hook(H + "/poststop")};
         },
         "echo ran"},
    };

    int failed = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
        const Row& row = rows[i];
        std::string by_runc = t.run(row, "runc", static_cast<int>(i));
        std::string by_isolab = t.run(row, "isolab", static_cast<int>(i));
        if (!row.runc_gap.empty()) {
            MESSAGE((std::string("runc differs from the spec: ") + row.field + ": " + row.runc_gap + "; runc printed:\n" +
                     by_runc));
            if (std::regex_match(by_isolab, std::regex(row.isolab_expect))) continue;
            ++failed;
            FAIL_CHECK((std::string("row `") + row.field + "`: IsoLab does not do what the spec says\n--- expected:\n" +
                        row.isolab_expect + "--- isolab runtime:\n" + by_isolab + "--- isolab stderr:\n" + t.err("isolab")));
            continue;
        }
        if (by_runc == by_isolab) {
            MESSAGE((std::string("same: ") + row.field + "\n" + by_runc));
            continue;
        }
        ++failed;
        std::string report = "row `" + row.field + "` differs\n--- runc:\n" + by_runc + "--- runc stderr:\n" +
                             t.err("runc") + "\n--- isolab runtime:\n" + by_isolab + "--- isolab stderr:\n" +
                             t.err("isolab");
        FAIL_CHECK(report);
    }
    size_t gaps = 0;
    for (const auto& row : rows) gaps += row.runc_gap.empty() ? 0 : 1;
    MESSAGE((std::to_string(rows.size() - static_cast<size_t>(failed)) + " of " + std::to_string(rows.size()) +
             " rows pass: " + std::to_string(rows.size() - gaps) + " compared with runc, " + std::to_string(gaps) +
             " where runc 1.1.5 departs from the spec checked against the spec"));
    // The parents of the groups the cgroupsPath rows made (each runtime removes only its own group).
    run_process({"/bin/sh", "-c", "find /sys/fs/cgroup -depth -type d -name 'isolab-oci-table-*" + self +
                                      "' -exec rmdir {} \\; 2>/dev/null; true"});
}
