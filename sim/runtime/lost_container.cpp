#include "sim/runtime/lost_container.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/core/mountinfo.hpp"
#include "sim/runtime/cgroup.hpp"

namespace isolab {

namespace {

std::vector<std::string> cmdline_of(pid_t pid) {
    std::vector<std::string> argv;
    auto text = read_file("/proc/" + std::to_string(pid) + "/cmdline");
    if (!text) return argv;
    std::string cur;
    for (char c : *text) {
        if (c == '\0') {
            argv.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) argv.push_back(cur);
    return argv;
}

// PID is the monitor of container ID in ROOT: its argv says `--root ROOT --id ID` (what
// namespace_runtime.cpp starts it with). A recycled pid, or any other process, is not.
bool is_monitor_of(pid_t pid, const std::string& root, const std::string& id) {
    if (pid <= 1) return false;
    auto argv = cmdline_of(pid);
    bool root_ok = false, id_ok = false;
    for (size_t i = 1; i + 1 < argv.size(); ++i) {
        if (argv[i] == "--root" && argv[i + 1] == root) root_ok = true;
        if (argv[i] == "--id" && argv[i + 1] == id) id_ok = true;
    }
    return root_ok && id_ok;
}

// The process listening on the unix socket SOCK: the kernel hands a connecting client the
// listener's credentials (SO_PEERCRED, set at listen(2)). 0 when nobody listens.
pid_t socket_listener(const std::string& sock) {
    UniqueFd dir(::open(std::filesystem::path(sock).parent_path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid()) return 0;
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid()) return 0;
    // Through /proc/self/fd: a root's path may be longer than sun_path.
    std::string path = "/proc/self/fd/" + std::to_string(dir.get()) + "/" + std::filesystem::path(sock).filename().string();
    struct sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) return 0;
    std::strcpy(addr.sun_path, path.c_str());
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 0;
    struct ucred cred = {};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return 0;
    return cred.pid;
}

std::vector<pid_t> children_of(pid_t pid) {
    std::vector<pid_t> out;
    std::error_code ec;
    for (const auto& t : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
        auto text = read_file(t.path().string() + "/children");
        if (!text) continue;
        std::istringstream in(*text);
        for (pid_t c; in >> c;) out.push_back(c);
    }
    return out;
}

std::vector<pid_t> all_pids() {
    std::vector<pid_t> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
        std::string n = e.path().filename().string();
        if (!n.empty() && n.find_first_not_of("0123456789") == std::string::npos) out.push_back(std::stoi(n));
    }
    return out;
}

// PID's /proc/PID/cgroup names the group NAME or one below it, in any hierarchy.
bool in_cgroup(pid_t pid, const std::string& name) {
    for (const auto& g : read_proc_cgroup("/proc/" + std::to_string(pid) + "/cgroup")) {
        size_t at = g.path.find("/" + name);
        if (at == std::string::npos) continue;
        size_t end = at + 1 + name.size();
        if (end == g.path.size() || g.path[end] == '/') return true;
    }
    return false;
}

bool is_zombie(pid_t pid) {
    auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    size_t close = stat ? stat->rfind(')') : std::string::npos;
    return close != std::string::npos && close + 2 < stat->size() && (*stat)[close + 2] == 'Z';
}

// SIGKILLs PID when it is still the process that started at START, and waits (up to 5 s) until it
// is gone or a zombie: a monitor must not act after this returns.
void kill_and_wait(pid_t pid, uint64_t start) {
    if (!process_matches(pid, start)) return;
    ::kill(pid, SIGKILL);
    for (int i = 0; i < 500 && process_matches(pid, start); ++i) sleep_ms(10);  // a zombie does not match
}

}  // namespace

Status stop_lost_container(const Store& store, const std::string& id, const std::string& cgroup_name) {
    const std::string dir = store.container_dir(id);
    const std::string& root_ = store.root();
    // 1. The monitor, first: alive, it would restart PID 1 (a restart policy) or act on a
    // container that is being removed.
    std::set<pid_t> monitors;
    if (auto text = read_file(dir + "/" + kMonitorPidFile); text) {
        // "PID START": the start time guards against a recycled pid.
        std::istringstream in(*text);
        pid_t p = 0;
        uint64_t start = 0;
        in >> p >> start;
        if ((start == 0 || process_matches(p, start)) && is_monitor_of(p, root_, id)) monitors.insert(p);
    }
    if (pid_t p = socket_listener(dir + "/attach.sock"); is_monitor_of(p, root_, id)) monitors.insert(p);
    std::vector<std::pair<pid_t, uint64_t>> children;
    for (pid_t m : monitors)
        for (pid_t c : children_of(m)) children.push_back({c, process_start_time(c)});
    for (pid_t m : monitors) kill_and_wait(m, process_start_time(m));
    // 2. Its children: PID 1 (killing it ends the container's PID namespace), proxies.
    for (const auto& [pid, start] : children) kill_and_wait(pid, start);
    // 3. Whatever else is in the container's cgroup (its PID 1 on a host without the monitor's
    // help, an exec'd process), until none is left.
    std::vector<pid_t> left;
    for (int round = 0; round < 50; ++round) {
        left.clear();
        if (cgroup_name.empty()) break;
        for (pid_t p : all_pids())
            if (p != ::getpid() && in_cgroup(p, cgroup_name) && !is_zombie(p)) left.push_back(p);
        if (left.empty()) break;
        for (pid_t p : left) kill_and_wait(p, process_start_time(p));
    }
    std::vector<std::string> dirs;
    if (!cgroup_name.empty())
        for (const auto& parent : cgroup_probe().parents)
            if (path_exists(parent + "/" + cgroup_name)) dirs.push_back(parent + "/" + cgroup_name);
    if (!dirs.empty()) {
        auto cg = Cgroup::open_paths(dirs);
        if (cg) {
            (void)cg->thaw();
            if (auto s = cg->destroy(); !s) return s.error().wrap("container " + id + ": remove its cgroup");
        }
    }
    if (!left.empty())
        return make_error("container " + id + ": " + std::to_string(left.size()) + " processes of its cgroup `" +
                          cgroup_name + "` could not be killed");
    ::unlink((dir + "/attach.sock").c_str());
    return {};
}

}  // namespace isolab
