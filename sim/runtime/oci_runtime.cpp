#include "sim/runtime/oci_runtime.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <seccomp.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <memory>
#include <optional>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/core/process.hpp"
#include "sim/runtime/cgroup.hpp"
#include "sim/runtime/console.hpp"
#include "sim/runtime/init.hpp"
#include "sim/runtime/oci_hooks.hpp"
#include "sim/runtime/setup_plan.hpp"
#include "sim/runtime/security.hpp"

namespace isolab::oci {

using nlohmann::json;

const char* status_name(ContainerStatus s) {
    switch (s) {
        case ContainerStatus::Creating: return "creating";
        case ContainerStatus::Created: return "created";
        case ContainerStatus::Running: return "running";
        case ContainerStatus::Stopped: return "stopped";
    }
    return "unknown";
}

json state_json(const RuntimeState& s) {
    return json{{"ociVersion", s.oci_version}, {"id", s.id},          {"status", status_name(s.status)},
                {"pid", s.pid},                {"bundle", s.bundle},  {"rootfs", s.rootfs},
                {"created", s.created},        {"annotations", s.annotations}};
}

std::string default_runtime_root() {
    if (::geteuid() == 0) return "/run/isolab-runtime";
    if (const char* x = std::getenv("XDG_RUNTIME_DIR"); x && *x) return std::string(x) + "/isolab-runtime";
    return "/tmp/isolab-runtime-" + std::to_string(::geteuid());
}

bool valid_container_id(const std::string& id) {
    if (id.empty() || id == "." || id == ".." || id.size() > 1024) return false;
    for (char c : id)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '+' && c != '-' && c != '.') return false;
    return true;
}

namespace {


// "125 message" → "message": the init's exit code, which runc's interface does not carry (every
// failed create exits 1).
std::string without_code(const std::string& rest) {
    size_t sp = rest.find(' ');
    if (sp != std::string::npos && sp > 0 && rest.find_first_not_of("0123456789") == sp) return rest.substr(sp + 1);
    return rest;
}

// The bootstrap's error channel: one line, as the init reports ("ERROR <code> <message>").
[[noreturn]] void bootstrap_die(int report_fd, const std::string& what) {
    std::string l = "ERROR 1 " + what + ": " + std::strerror(errno) + "\n";
    ssize_t n = ::write(report_fd, l.data(), l.size());
    (void)n;
    ::_exit(1);
}

// ---- Host side ----------------------------------------------------------------------------

// /proc/PID/stat: state letter and start time; false when the process is gone.
bool proc_stat(pid_t pid, char* state, uint64_t* start) {
    auto text = read_file("/proc/" + std::to_string(pid) + "/stat");
    if (!text) return false;
    size_t close = text->rfind(')');
    if (close == std::string::npos || close + 2 >= text->size()) return false;
    *state = (*text)[close + 2];
    std::istringstream rest(text->substr(close + 2));
    std::string field;
    for (int i = 3; i <= 22 && rest >> field; ++i)
        if (i == 22) *start = std::strtoull(field.c_str(), nullptr, 10);
    return true;
}

// Alive: running or sleeping, not a zombie, and the very process we recorded.
bool init_alive(pid_t pid, uint64_t start_time) {
    if (pid <= 0) return false;
    char state = 0;
    uint64_t start = 0;
    if (!proc_stat(pid, &state, &start)) return false;
    if (state == 'Z' || state == 'X') return false;
    return start_time == 0 || start == start_time;
}

bool wait_gone(pid_t pid, uint64_t start_time, int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (init_alive(pid, start_time)) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        // Reap it if it is ours (run, or a subreaper).
        ::waitpid(pid, nullptr, WNOHANG);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

Status write_id_map(pid_t pid, const char* file, const std::vector<IdMapping>& maps) {
    std::string text;
    for (const auto& m : maps)
        text += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " + std::to_string(m.size) + "\n";
    std::string path = "/proc/" + std::to_string(pid) + "/" + file;
    if (auto s = write_file(path, text); !s)
        return s.error().wrap(std::string("write linux.") + (file[0] == 'u' ? "uidMappings" : "gidMappings"));
    return {};
}

Result<int> connect_console_socket(const std::string& path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return errno_error("console socket", errno);
    struct sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) {
        ::close(fd);
        return make_error("--console-socket `" + path + "`: path too long", 1);
    }
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        int err = errno;
        ::close(fd);
        return errno_error("connect to --console-socket `" + path + "`", err, 1);
    }
    return fd;
}

Error container_error(const std::string& id, const std::string& msg) {
    return make_error("container \"" + id + "\": " + msg, 1);
}

// The state a hook reads, from what state.json keeps.
std::string hook_state(const RuntimeState& s, ContainerStatus status, pid_t pid) {
    return hook_state_json(s.oci_version, s.id, status_name(status), pid, s.bundle, s.annotations);
}

// poststop: every hook runs, each failure is a warning (runtime.md lifecycle step 12).
void run_poststop(const RuntimeState& s, std::vector<std::string>* warnings) {
    for (size_t i = 0; i < s.hooks.poststop.size(); ++i)
        if (auto st = run_hook(s.hooks.poststop[i], "poststop", i, hook_state(s, ContainerStatus::Stopped, 0)); !st) {
            if (warnings) warnings->push_back("error running " + st.error().message);
        }
}

}  // namespace

OciRuntime::OciRuntime(std::string state_root) : root_(std::move(state_root)) {}

Result<RuntimeState> OciRuntime::load(const std::string& id) const {
    if (!valid_container_id(id)) return make_error("invalid container id \"" + id + "\"", 1);
    auto text = read_file(dir_of(id) + "/state.json");
    if (!text) {
        if (!path_exists(dir_of(id))) return make_error("container \"" + id + "\" does not exist", 1);
        RuntimeState s;
        s.id = id;
        s.status = ContainerStatus::Creating;
        return s;
    }
    try {
        json j = json::parse(*text);
        RuntimeState s;
        s.id = id;
        s.oci_version = j.value("ociVersion", "");
        s.pid = j.value("pid", 0);
        s.pid_start_time = j.value("pid_start_time", uint64_t{0});
        s.bundle = j.value("bundle", "");
        s.rootfs = j.value("rootfs", "");
        s.created = j.value("created", "");
        s.annotations = j.value("annotations", std::map<std::string, std::string>{});
        s.cgroup_paths = j.value("cgroup_paths", std::vector<std::string>{});
        if (j.contains("hooks")) {
            auto hooks = parse_hooks(j["hooks"]);
            if (!hooks) return make_error("container \"" + id + "\": `" + dir_of(id) + "/state.json`: " + hooks.error().message, 1);
            s.hooks = std::move(*hooks);
        }
        if (j.value("creating", false)) {
            s.status = ContainerStatus::Creating;
        } else if (!init_alive(s.pid, s.pid_start_time)) {
            s.status = ContainerStatus::Stopped;
        } else {
            s.status = path_exists(dir_of(id) + "/exec.fifo") ? ContainerStatus::Created : ContainerStatus::Running;
        }
        return s;
    } catch (const json::exception& e) {
        return make_error("container \"" + id + "\": unreadable `" + dir_of(id) + "/state.json`: " + e.what(), 1);
    }
}

Result<RuntimeState> OciRuntime::state(const std::string& id) const {
    auto s = load(id);
    if (s && s->status == ContainerStatus::Stopped) s->pid = 0;
    return s;
}

Result<RuntimeState> OciRuntime::create(const CreateOptions& o) {
    const std::string& id = o.id;
    if (!valid_container_id(id))
        return make_error("invalid container id \"" + id + "\": use letters, digits, '_', '+', '-' and '.'", 1);
    char real[PATH_MAX];
    if (!::realpath(o.bundle.c_str(), real)) return errno_error("bundle `" + o.bundle + "`", errno, 1);
    std::string bundle = real;
    auto text = read_file(bundle + "/config.json");
    if (!text) return make_error("bundle `" + bundle + "`: " + text.error().message, 1);
    auto parsed = parse_oci_spec(*text, bundle);
    if (!parsed) return parsed.error();
    const OciSpec& spec = *parsed;
    if (!spec.has_process) return make_error("config.json: process is required to create a container", 1);
    if (!spec.has_namespace("mount"))
        return make_error("config.json: linux.namespaces must include a mount namespace (IsoLab's runtime needs one for pivot_root)", 1);
    struct stat st;
    if (::stat(spec.root_path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        return make_error("config.json: root.path `" + spec.root_path + "` is not a directory", 1);
    if (spec.process.terminal && o.console_socket.empty())
        return make_error("process.terminal is true in config.json: --console-socket is required (or set terminal to false)", 1);
    if (!spec.process.terminal && !o.console_socket.empty())
        return make_error("--console-socket given but process.terminal is false in config.json", 1);

    ISOLAB_TRY(make_dirs(root_, 0711));
    std::string dir = dir_of(id);
    if (::mkdir(dir.c_str(), 0711) != 0) {
        if (errno == EEXIST) return make_error("container with id exists: " + id, 1);
        return errno_error("create `" + dir + "`", errno, 1);
    }

    // From here on every failure undoes what was done: process, cgroup, state directory.
    pid_t init_pid = 0;
    std::optional<Cgroup> cgroup;
    auto fail = [&](Error e) -> Error {
        if (init_pid > 0) {
            ::kill(init_pid, SIGKILL);
            wait_gone(init_pid, 0, 2000);
        }
        if (cgroup) (void)cgroup->destroy();
        (void)remove_tree(dir);
        return e;
    };

    std::string created = now_rfc3339();
    json state = {{"ociVersion", spec.oci_version}, {"id", id},           {"pid", 0},
                  {"bundle", bundle},               {"rootfs", spec.root_path}, {"created", created},
                  {"annotations", spec.annotations}, {"creating", true}};
    // The hooks are kept for start (poststart) and delete (poststop): the bundle may be gone then.
    if (!spec.hooks.empty()) state["hooks"] = spec.hooks_json;
    RuntimeState hook_view;  // what the hooks' state JSON says about this container
    hook_view.oci_version = spec.oci_version;
    hook_view.id = id;
    hook_view.bundle = bundle;
    hook_view.annotations = spec.annotations;
    hook_view.hooks = spec.hooks;
    if (auto s = write_file_atomic(dir + "/state.json", state.dump()); !s) return fail(s.error());
    {
        mode_t old = ::umask(0);
        int rc = ::mkfifo((dir + "/exec.fifo").c_str(), 0622);
        int err = errno;
        ::umask(old);
        if (rc != 0) return fail(errno_error("create `" + dir + "/exec.fifo`", err, 1));
    }

    const CgroupLimits limits = limits_of(spec.resources);
    // cgroupsPath as runc reads it: absolute = from each hierarchy's root, relative = under the
    // caller's own group; every v1 hierarchy is joined, as runc does.
    CgroupPlacement placement;
    placement.from_root = !spec.cgroups_path.empty() && spec.cgroups_path[0] == '/';
    placement.every_v1_hierarchy = true;
    std::string cg_name = spec.cgroups_path.empty() ? "isolab-runtime/" + id : spec.cgroups_path;
    while (!cg_name.empty() && cg_name[0] == '/') cg_name.erase(0, 1);
    {
        auto cg = Cgroup::create(cg_name, limits, placement);
        if (!cg) return fail(cg.error().wrap("container \"" + id + "\": cgroup `" + cg_name + "`"));
        cgroup.emplace(std::move(*cg));
    }

    UniqueFd console;
    if (spec.process.terminal) {
        auto c = connect_console_socket(o.console_socket);
        if (!c) return fail(c.error());
        console.reset(*c);
    }

    int go[2], rep[2], pidp[2];
    if (::pipe2(go, O_CLOEXEC) != 0) return fail(errno_error("pipe", errno));
    UniqueFd go_r(go[0]), go_w(go[1]);
    if (::pipe2(rep, O_CLOEXEC) != 0) return fail(errno_error("pipe", errno));
    UniqueFd rep_r(rep[0]), rep_w(rep[1]);
    if (::pipe2(pidp, O_CLOEXEC) != 0) return fail(errno_error("pipe", errno));
    UniqueFd pid_r(pidp[0]), pid_w(pidp[1]);

    if (o.subreaper) ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    // The one init (init.hpp) runs the spec's plan; a bundle's root is its root.path.
    InitOptions init_opts;
    init_opts.rootfs.kind = RootfsSource::Kind::BundleDir;
    init_opts.container_id = id;
    const std::vector<SetupStep> plan = plan_setup(spec, init_opts);
    InitContext ctx;
    ctx.spec = &spec;
    ctx.plan = &plan;
    ctx.opts = &init_opts;
    ctx.go_fd = go_r.get();
    ctx.report_fd = rep_w.get();
    ctx.console_fd = console.get();
    ctx.fifo_path = dir + "/exec.fifo";

    int clone_flags = 0;
    for (const auto& ns : spec.namespaces)
        if (ns.path.empty()) clone_flags |= namespace_flag(ns.type);
    clone_flags &= ~CLONE_NEWCGROUP;  // unshared by the init once it is in its cgroup

    pid_t bootstrap = ::fork();
    if (bootstrap < 0) return fail(errno_error("fork", errno));
    if (bootstrap == 0) {
        // The bootstrap: join the namespaces given by path (user first: it decides what the others
        // may do), then clone the init into the new ones. Its only output is the init's pid.
        go_w.reset();
        rep_r.reset();
        pid_r.reset();
        std::vector<std::pair<int, int>> joins;  // fd, flag
        for (int pass = 0; pass < 2; ++pass)
            for (const auto& ns : spec.namespaces) {
                if (ns.path.empty() || (pass == 0) != (ns.type == "user")) continue;
                int fd = ::open(ns.path.c_str(), O_RDONLY | O_CLOEXEC);
                if (fd < 0) bootstrap_die(rep_w.get(), "open namespace `" + ns.path + "` (linux.namespaces type " + ns.type + ")");
                joins.push_back({fd, namespace_flag(ns.type)});
            }
        for (auto [fd, flag] : joins)
            if (::setns(fd, flag) != 0) bootstrap_die(rep_w.get(), "setns into a namespace of linux.namespaces");
        pid_t child = static_cast<pid_t>(::syscall(SYS_clone, clone_flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
        if (child < 0) bootstrap_die(rep_w.get(), "clone the container's init");
        if (child == 0) {
            pid_w.reset();
            run_init(ctx);
        }
        ssize_t n = ::write(pid_w.get(), &child, sizeof child);
        ::_exit(n == sizeof child ? 0 : 1);
    }
    pid_w.reset();
    rep_w.reset();
    go_r.reset();
    {
        ssize_t n;
        do n = ::read(pid_r.get(), &init_pid, sizeof init_pid);
        while (n < 0 && errno == EINTR);
        int status = 0;
        while (::waitpid(bootstrap, &status, 0) < 0 && errno == EINTR) {
        }
        if (n != sizeof init_pid) {
            init_pid = 0;
            char buf[4096];
            ssize_t r = ::read(rep_r.get(), buf, sizeof buf - 1);
            std::string msg = r > 0 ? std::string(buf, static_cast<size_t>(r)) : "the bootstrap process failed";
            if (msg.rfind("ERROR ", 0) == 0) msg = without_code(trim(msg.substr(6)));
            return fail(container_error(id, msg));
        }
    }
    uint64_t start_time = process_start_time(init_pid);

    if (const Namespace* user = spec.find_namespace("user"); user && user->path.empty()) {
        // Unprivileged, the kernel allows a gid map only once setgroups is denied.
        if (::geteuid() != 0) (void)write_file("/proc/" + std::to_string(init_pid) + "/setgroups", "deny");
        if (auto s = write_id_map(init_pid, "uid_map", spec.uid_mappings); !s) return fail(container_error(id, s.error().message));
        if (auto s = write_id_map(init_pid, "gid_map", spec.gid_mappings); !s) return fail(container_error(id, s.error().message));
    }
    if (auto s = cgroup->add_process(init_pid); !s) return fail(container_error(id, s.error().message));
    if (::write(go_w.get(), "g", 1) != 1) return fail(container_error(id, "the init exited before setup"));

    // WARN lines, then READY or ERROR. Warnings go to create's caller, not into the container's
    // output (with a terminal, the init's stderr is the container's pty).
    std::string buffered, line;
    std::vector<std::string> warnings;
    for (;;) {
        size_t nl = buffered.find('\n');
        if (nl != std::string::npos) {
            line = buffered.substr(0, nl);
            buffered.erase(0, nl + 1);
            if (line.rfind("STEP ", 0) == 0) {  // the plan's timings: not part of runc's interface
                line.clear();
                continue;
            }
            if (line.rfind("WARN ", 0) == 0) {
                warnings.push_back(line.substr(5));
                line.clear();
                continue;
            }
            if (line == "HOOKS") {
                // The init has its mounts and waits before pivot_root: prestart, then
                // createRuntime, in the runtime's namespaces, with the init's pid. A failure fails
                // create: the container is destroyed and the poststop hooks run (runtime.md
                // lifecycle steps 3 and 12).
                const std::string st = hook_state(hook_view, ContainerStatus::Creating, init_pid);
                Status hs = run_hooks(spec.hooks.prestart, "prestart", st);
                if (hs) hs = run_hooks(spec.hooks.create_runtime, "createRuntime", st);
                if (!hs) {
                    Error e = fail(container_error(id, "error running " + hs.error().message));
                    run_poststop(hook_view, nullptr);
                    return e;
                }
                if (::write(go_w.get(), "g", 1) != 1) return fail(container_error(id, "the init exited during its setup"));
                line.clear();
                continue;
            }
            break;
        }
        char buf[4096];
        ssize_t n = ::read(rep_r.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        buffered.append(buf, static_cast<size_t>(n));
    }
    line = trim(line);
    if (line != "READY") {
        std::string msg = line.rfind("ERROR ", 0) == 0 ? without_code(line.substr(6)) : "the container's init exited during setup";
        Error e = fail(container_error(id, msg));
        // A createContainer hook that failed, like any failure after the runtime hooks ran: the
        // lifecycle goes on at the poststop hooks.
        if (!spec.hooks.prestart.empty() || !spec.hooks.create_runtime.empty() || !spec.hooks.create_container.empty())
            run_poststop(hook_view, nullptr);
        return e;
    }

    state["pid"] = init_pid;
    state["pid_start_time"] = start_time;
    state["cgroup_paths"] = cgroup->paths();
    state.erase("creating");
    if (auto s = write_file_atomic(dir + "/state.json", state.dump()); !s) return fail(s.error());
    if (!o.pid_file.empty())  // readable by others, as runc writes it (containerd reads it)
        if (auto s = write_file_atomic(o.pid_file, std::to_string(init_pid), 0644); !s) return fail(s.error().wrap("--pid-file"));
    auto loaded = load(id);
    if (loaded) loaded->warnings = std::move(warnings);
    return loaded;
}

Status OciRuntime::start(const std::string& id, std::vector<std::string>* warnings) {
    auto s = load(id);
    if (!s) return s.error();
    switch (s->status) {
        case ContainerStatus::Created: break;
        case ContainerStatus::Creating: return make_error("cannot start a container that is still being created", 1);
        case ContainerStatus::Running: return make_error("cannot start an already running container", 1);
        case ContainerStatus::Stopped: return make_error("cannot start a container that has stopped", 1);
    }
    std::string fifo_path = dir_of(id) + "/exec.fifo";
    // Non-blocking open: it succeeds without a writer, so a dead init cannot hang us; the init's
    // own (blocking) open for writing then completes and it writes one byte.
    UniqueFd fifo(::open(fifo_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fifo.valid()) return errno_error("container \"" + id + "\": open `" + fifo_path + "`", errno, 1);
    for (;;) {
        struct pollfd p = {fifo.get(), POLLIN, 0};
        int n = ::poll(&p, 1, 100);
        if (n > 0 && (p.revents & POLLIN)) {
            char c;
            if (::read(fifo.get(), &c, 1) == 1) break;
        }
        if (!init_alive(s->pid, s->pid_start_time)) return make_error("cannot start a container that has stopped", 1);
    }
    ::unlink(fifo_path.c_str());
    // The gate is open: the init runs its startContainer hooks and execs. Its end of the fifo
    // closes with the execve; anything written before that is the reason it did not get there.
    std::string error;
    for (;;) {
        struct pollfd p = {fifo.get(), POLLIN, 0};
        if (::poll(&p, 1, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        char buf[4096];
        ssize_t r = ::read(fifo.get(), buf, sizeof buf);
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (r <= 0) break;
        error.append(buf, static_cast<size_t>(r));
    }
    if (!error.empty()) {
        if (error[0] == 'E') error.erase(0, 1);
        return container_error(id, error);
    }
    // poststart: after the user's process started, before start returns; failures are warnings
    // (runtime.md lifecycle step 8).
    for (size_t i = 0; i < s->hooks.poststart.size(); ++i)
        if (auto st = run_hook(s->hooks.poststart[i], "poststart", i, hook_state(*s, ContainerStatus::Running, s->pid));
            !st && warnings)
            warnings->push_back("error running " + st.error().message);
    return {};
}

Status OciRuntime::kill(const std::string& id, int sig, bool all) {
    auto s = load(id);
    if (!s) return s.error();
    if (s->status == ContainerStatus::Stopped || s->status == ContainerStatus::Creating)
        return make_error("container \"" + id + "\" is not running", 1);
    if (all) {
        auto cg = Cgroup::open_paths(s->cgroup_paths);
        if (!cg) return cg.error();
        if (auto k = cg->kill_all(sig); !k) return k.error().wrap("container \"" + id + "\"");
        return {};
    }
    if (::kill(s->pid, sig) != 0) return errno_error("container \"" + id + "\": kill " + std::to_string(s->pid), errno, 1);
    return {};
}

Status OciRuntime::remove(const std::string& id, bool force, std::vector<std::string>* warnings) {
    auto s = load(id);
    if (!s) return s.error();
    if (s->status != ContainerStatus::Stopped && !force)
        return make_error("cannot delete container " + id + " that is not stopped: " + status_name(s->status),
                          1);
    if (s->status != ContainerStatus::Stopped && s->pid > 0) {
        ::kill(s->pid, SIGKILL);  // PID 1 of a pid namespace: the kernel kills the rest with it
        if (!wait_gone(s->pid, s->pid_start_time, 10000))
            return make_error("container \"" + id + "\": process " + std::to_string(s->pid) + " did not die after SIGKILL", 1);
    }
    auto cg = Cgroup::open_paths(s->cgroup_paths);
    if (cg) {
        if (auto d = cg->destroy(); !d) return d.error().wrap("container \"" + id + "\": remove its cgroup");
        // The shared parent "isolab-runtime" goes with its last container (rmdir fails while
        // another container's group is in it, which is what we want).
        for (const auto& p : s->cgroup_paths)
            if (size_t slash = p.rfind('/'); slash != std::string::npos && slash >= 15 &&
                                             p.compare(slash - 15, 15, "/isolab-runtime") == 0)
                ::rmdir(p.substr(0, slash).c_str());
    }
    if (auto r = remove_tree(dir_of(id)); !r) return r.error();
    // The container is gone: poststop (runtime.md lifecycle step 12), failures are warnings.
    run_poststop(*s, warnings);
    return {};
}

std::vector<RuntimeState> OciRuntime::list() const {
    std::vector<RuntimeState> out;
    DIR* d = ::opendir(root_.c_str());
    if (!d) return out;
    std::vector<std::string> ids;
    while (const dirent* e = ::readdir(d))
        if (e->d_name[0] != '.' && valid_container_id(e->d_name)) ids.push_back(e->d_name);
    ::closedir(d);
    std::sort(ids.begin(), ids.end());
    for (const auto& id : ids)
        if (auto s = state(id)) out.push_back(*s);
    return out;
}

Result<int> OciRuntime::wait(const std::string& id) {
    auto s = load(id);
    if (!s) return s.error();
    if (s->pid <= 0) return make_error("container \"" + id + "\" has no process", 1);
    int status = 0;
    for (;;) {
        pid_t r = ::waitpid(s->pid, &status, 0);
        if (r == s->pid) break;
        if (r < 0 && errno == EINTR) continue;
        return errno_error("container \"" + id + "\": wait for " + std::to_string(s->pid), errno, 1);
    }
    return exit_code_of(status);
}

}  // namespace isolab::oci
