#include "sim/engine/engine.hpp"
#include "sim/runtime/oci_spec.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <poll.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <optional>
#include <thread>

#include "sim/core/i18n.hpp"
#include "sim/core/strings.hpp"
#include "sim/core/clock.hpp"
#include "sim/core/safe_path.hpp"
#include "sim/engine/build.hpp"
#include "sim/engine/container_mounts.hpp"
#include "sim/engine/intent.hpp"
#include "sim/runtime/lost_container.hpp"
#include "sim/net/attach.hpp"
#include "sim/net/inspect.hpp"
#include "sim/net/netlink.hpp"
#include "sim/net/orphans.hpp"
#include "sim/net/port_proxy.hpp"
#include "sim/host/probe.hpp"
#include "sim/runtime/cgroup.hpp"

namespace isolab {

namespace {

// The host's cgroup layout does not change while a command runs: probe it once per process.
const CgroupHostInfo& host_cgroups() {
    static const CgroupHostInfo info = cgroup_probe();
    return info;
}

bool overlay_available() {
    auto fs = read_file("/proc/filesystems");
    return fs && fs->find("\toverlay\n") != std::string::npos;
}

bool kernel_at_least(int major, int minor) {
    struct utsname u;
    if (::uname(&u) != 0) return false;
    int a = 0, b = 0;
    std::sscanf(u.release, "%d.%d", &a, &b);
    return a > major || (a == major && b >= minor);
}

// Whether a child can make the namespaces a container needs (with a user namespace when not
// root). A forked child tries, so nothing changes in the caller.
bool namespaces_work(bool rootless) {
    pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) {
        int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET;
        if (rootless) flags |= CLONE_NEWUSER;
        ::_exit(::unshare(flags) == 0 ? 0 : 1);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// auto: namespaces as root, rootless (a user namespace) otherwise, simulated when the kernel
// refuses either. The answer is kept in ROOT/backend.auto for this boot (keyed by boot_id), so
// the probe costs one fork per boot, not one per command.
std::string choose_backend(const std::string& wanted, const std::string& root) {
    std::string w = wanted;
    if (const char* e = std::getenv("ISOLAB_BACKEND"); e && *e && (w.empty() || w == "auto")) w = e;
    if (!w.empty() && w != "auto") return w;
    auto boot = read_file("/proc/sys/kernel/random/boot_id");
    std::string key = (boot ? trim(*boot) : "") + " uid=" + std::to_string(::geteuid());
    std::string cache = root + "/backend.auto";
    if (auto cached = read_file(cache); cached) {
        std::string text = trim(*cached);
        size_t sp = text.rfind(' ');
        if (sp != std::string::npos && text.substr(0, sp) == key) return text.substr(sp + 1);
    }
    const bool rootless = ::geteuid() != 0;
    std::string backend = !host::in_chroot() && namespaces_work(rootless) ? (rootless ? "rootless" : "namespaces")
                                                                          : "simulated";
    (void)write_file_atomic(cache, key + " " + backend + "\n");
    return backend;
}

}  // namespace

namespace {
std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}
}  // namespace

Result<int> parse_signal(const std::string& raw) {
    std::string_view text = raw;
    auto invalid = [&] { return make_error("Invalid signal: " + std::string(text), 1); };
    if (all_digits(text)) {
        if (text.size() > 3) return invalid();
        int n = std::stoi(std::string(text));
        if (n < 1 || n > SIGRTMAX) return invalid();
        return n;
    }
    std::string name = upper(text);
    if (name.rfind("SIG", 0) == 0) name.erase(0, 3);
    static const std::pair<const char*, int> kSignals[] = {
        {"ABRT", SIGABRT}, {"ALRM", SIGALRM}, {"BUS", SIGBUS},   {"CHLD", SIGCHLD}, {"CLD", SIGCHLD},
        {"CONT", SIGCONT}, {"FPE", SIGFPE},   {"HUP", SIGHUP},   {"ILL", SIGILL},   {"INT", SIGINT},
        {"IO", SIGIO},     {"IOT", SIGIOT},   {"KILL", SIGKILL}, {"PIPE", SIGPIPE}, {"POLL", SIGPOLL},
        {"PROF", SIGPROF}, {"PWR", SIGPWR},   {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV}, {"STKFLT", SIGSTKFLT},
        {"STOP", SIGSTOP}, {"SYS", SIGSYS},   {"TERM", SIGTERM}, {"TRAP", SIGTRAP}, {"TSTP", SIGTSTP},
        {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU}, {"URG", SIGURG},   {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
        {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH}, {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
    };
    for (const auto& [n, value] : kSignals)
        if (name == n) return value;
    if (name == "RTMIN") return SIGRTMIN;
    if (name == "RTMAX") return SIGRTMAX;
    auto rt_offset = [&](std::string_view prefix, int& off) {
        if (name.rfind(prefix, 0) != 0) return false;
        std::string_view digits = std::string_view(name).substr(prefix.size());
        if (!all_digits(digits) || digits.size() > 2) return false;
        off = std::stoi(std::string(digits));
        return true;
    };
    int off = 0;
    if (rt_offset("RTMIN+", off) && SIGRTMIN + off <= SIGRTMAX) return SIGRTMIN + off;
    if (rt_offset("RTMAX-", off) && SIGRTMAX - off >= SIGRTMIN) return SIGRTMAX - off;
    return invalid();
}

bool valid_container_name(const std::string& name) {
    static const std::regex re("^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$");
    return std::regex_match(name, re);
}

std::string container_cgroup_name(const std::string& root, const std::string& id) {
    return "isolab/" + sha256_hex(root).substr(0, 12) + "/" + id;
}

std::string generate_name() {
    static const char* left[] = {"admiring", "brave", "calm", "eager", "focused", "gentle", "happy",
                                 "jolly", "keen", "lucid", "modest", "nifty", "quirky", "serene",
                                 "trusting", "vibrant", "wizardly", "zen"};
    static const char* right[] = {"turing", "hopper", "lovelace", "ritchie", "thompson", "torvalds",
                                  "knuth", "dijkstra", "lamport", "liskov", "hamilton", "kay",
                                  "sejong", "jang", "heo", "yi"};
    std::string r = random_hex(2);
    unsigned v = static_cast<unsigned>(std::stoul(r, nullptr, 16));
    return std::string(left[v % std::size(left)]) + "_" + right[(v / 31) % std::size(right)];
}

Engine::Engine(Store store, ImageStore images, std::unique_ptr<Runtime> runtime, Backend backend)
    : store_(std::move(store)),
      images_(std::move(images)),
      networks_(store_.root(), store_.root() == "/var/lib/isolab"),
      ipam_(networks_.leases_dir()),
      volumes_(store_.root()),
      runtime_(std::move(runtime)),
      backend_(backend) {}

Result<std::unique_ptr<Engine>> Engine::open(EngineOptions options) {
    Store store(options.root.empty() ? default_state_root() : options.root);
    ISOLAB_TRY(store.ensure_layout());
    const std::string word = choose_backend(options.backend, store.root());
    auto backend = backend_from_name(word);
    if (!backend) return make_error("unknown backend `" + word + "`: use namespaces, rootless or simulated");
    std::unique_ptr<Runtime> rt;
    switch (*backend) {
        case Backend::Namespaces: rt = make_namespace_runtime(false); break;
        case Backend::Rootless: rt = make_namespace_runtime(true); break;
        case Backend::Simulated: rt = make_simulated_runtime(store.root()); break;
    }
    ImageStore images(store.images_dir(), options.busybox_path);
    auto engine = std::unique_ptr<Engine>(new Engine(std::move(store), std::move(images), std::move(rt), *backend));
    engine->collect_garbage();
    return engine;
}

namespace {
// The monitor recorded in DIR/monitor.pid, if it still runs (pid and start time both match).
pid_t live_monitor_of(const std::string& dir) {
    auto text = read_file(dir + "/monitor.pid");
    if (!text) return 0;
    long long pid = 0;
    unsigned long long start = 0;
    if (std::sscanf(text->c_str(), "%lld %llu", &pid, &start) != 2 || pid <= 0) return 0;
    return process_matches(static_cast<pid_t>(pid), start) ? static_cast<pid_t>(pid) : 0;
}
}  // namespace

void Engine::stop_leftovers(ContainerRecord& rec) {
    if (rec.backend == Backend::Simulated) return;
    std::string dir = store_.container_dir(rec.id);
    // The monitor first: it would otherwise restart PID 1 or record an exit over ours.
    if (pid_t m = live_monitor_of(dir); m > 0) {
        ::kill(m, SIGKILL);
        for (int i = 0; i < 200 && process_matches(m, 0); ++i) sleep_ms(5);
    }
    runtime_->reap_orphan(store_, rec);
    // Its cgroup by name too: a start that failed early never recorded the group's directories.
    if (rec.backend == Backend::Namespaces && !rec.cgroup_name.empty()) {
        std::vector<std::string> dirs;
        for (const auto& parent : host_cgroups().parents)
            if (path_exists(parent + "/" + rec.cgroup_name)) dirs.push_back(parent + "/" + rec.cgroup_name);
        if (!dirs.empty())
            if (auto cg = Cgroup::open_paths(dirs); cg) {
                (void)cg->thaw();
                (void)cg->kill_all(SIGKILL);
                (void)cg->destroy();
            }
    }
    if (rec.backend == Backend::Namespaces)
        for (const auto& ep : rec.endpoints) (void)net::detach_endpoint(ep);
    ::unlink((dir + "/monitor.pid").c_str());
}

bool Engine::roll_intent(const std::string& id) {
    const std::string dir = store_.container_dir(id);
    auto intent = read_intent(dir);
    if (!intent || intent_owner_alive(*intent)) return false;
    switch (intent->op) {
        case IntentOp::Create: {
            // Finished when its record exists (saved atomically, last); otherwise never visible:
            // its directory and name go.
            if (path_exists(dir + "/container.json")) break;
            (void)remove_tree(dir);
            store_.release_names_of(id);
            return true;
        }
        case IntentOp::Start: {
            auto lock = store_.lock_container(id);
            auto rec = store_.load(id);
            if (!lock || !rec) break;
            bool live = container_has_process(rec->state) || rec->state == ContainerState::Restarting;
            if (live && runtime_->alive(*rec)) break;  // the start was recorded: it completed
            // Rolled back: whatever the start had begun (a monitor, PID 1, its cgroup, veths) is
            // stopped; the container is as it was before, with the reason in its error.
            stop_leftovers(*rec);
            if (live) rec->state = ContainerState::Exited;
            rec->pid = 0;
            rec->monitor_pid = 0;
            rec->error = "the start was interrupted (the isolab process running it was killed); IsoLab stopped what it had begun";
            (void)store_.save(*rec);
            store_.append_event("die", {{"id", id}, {"name", rec->name}, {"exitCode", rec->exit_code}, {"gc", true}});
            break;
        }
        case IntentOp::Remove:
            clear_intent(dir);
            (void)finish_removal(id);
            return true;
        case IntentOp::Commit: {
            auto lock = store_.lock_container(id);
            auto rec = store_.load(id);
            // The commit froze the container for its copy: thaw it, unless the user had paused it.
            if (intent->froze && rec && rec->state != ContainerState::Paused) (void)runtime_->thaw(*rec);
            if (!intent->staged.empty() && intent->staged.rfind(images_.dir() + "/", 0) == 0) (void)remove_tree(intent->staged);
            break;
        }
    }
    clear_intent(dir);
    return true;
}

void Engine::collect_garbage() {
    // Set when something was found dead: only then are the cgroups of this root worth a look.
    bool reaped = false;
    // Operations whose process was killed half-way (intent.hpp): rolled forward or back first.
    {
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(store_.containers_dir(), ec)) {
            std::string id = e.path().filename().string();
            if (id.size() == 64 && path_exists(e.path().string() + "/intent.json") && roll_intent(id)) reaped = true;
        }
    }
    for (const auto& id : store_.list_ids()) {
        // A container with a monitor has its attach socket; one without cannot have been
        // orphaned, and skipping it keeps every command O(running containers) in JSON parsing.
        if (runtime_->backend() != Backend::Simulated && !path_exists(store_.container_dir(id) + "/attach.sock")) continue;
        // Its monitor still runs (pid and start time match monitor.pid): supervised, nothing to
        // collect, and no lock or record to read (100 running containers made every command slow).
        if (runtime_->backend() != Backend::Simulated && live_monitor_of(store_.container_dir(id)) > 0) continue;
        auto lock = store_.lock_container(id);
        if (!lock) continue;
        auto rec = store_.load(id);
        if (!rec) continue;
        bool live_state = container_has_process(rec->state) || rec->state == ContainerState::Restarting;
        if (!live_state || rec->backend == Backend::Simulated || runtime_->alive(*rec)) continue;
        if (rec->backend != runtime_->backend()) continue;  // another backend's container: not ours to judge
        stop_leftovers(*rec);  // PID 1, its cgroup, and its veths now (not when the kernel gets to its namespace)
        reaped = true;
        rec->state = ContainerState::Exited;
        rec->exit_code = 255;
        rec->error = "monitor process " + std::to_string(rec->monitor_pid) +
                     " died unexpectedly; IsoLab stopped the container and cleaned up";
        rec->pid = 0;
        rec->monitor_pid = 0;
        rec->finished_at = now_rfc3339();
        if (rec->health) rec->health = health_on_stop(*rec->health);  // its checks ended with its monitor
        (void)store_.save(*rec);
        store_.append_event("die", {{"id", rec->id}, {"name", rec->name}, {"exitCode", 255}, {"gc", true}});
        if (rec->spec.auto_remove) {
            (void)runtime_->destroy(store_, *rec);
            store_.release_name(rec->name, rec->id);
            release_addresses(*rec);
            (void)remove_anonymous_volumes(store_, *rec);
        }
    }
    // Addresses whose container is gone (removed by its monitor with --rm, or by a crash between
    // lease and record): released, and the peers' hosts files forget them.
    for (const auto& n : networks_.list()) {
        if (n.driver != net::Driver::Bridge) continue;
        int gone = ipam_.release_unless(n.name, [&](const std::string& owner) {
            return path_exists(store_.container_dir(owner) + "/container.json") ||
                   path_exists(store_.container_dir(owner));  // a create in progress
        });
        if (gone > 0)
            for (const auto& [member, ep] : network_members(n.name)) {
                refresh_hosts(member);
                break;
            }
    }
    // What a create or an rm left when its process was killed. A create builds its folder under
    // a scratch name carrying its owner and renames it into place with its intent inside; an rm
    // renames the folder to such a name before deleting it (Store::remove_container_dir). So a
    // scratch folder whose owner is gone, or a container folder with neither a record nor an
    // intent, is garbage, and nothing still being made or removed ever looks like it.
    {
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(store_.containers_dir(), ec)) {
            std::string name = e.path().filename().string();
            std::string dir = e.path().string();
            if (name[0] == '.') {
                if ((name.rfind(".creating-", 0) == 0 || name.rfind(".removing-", 0) == 0) && owned_scratch_abandoned(name)) {
                    if (pid_t m = live_monitor_of(dir); m > 0) ::kill(m, SIGKILL);
                    (void)remove_tree(dir);
                    reaped = true;
                }
                continue;
            }
            if (name.size() != 64 || store_.has_record(name) || path_exists(dir + "/intent.json")) continue;
            if (pid_t m = live_monitor_of(dir); m > 0) ::kill(m, SIGKILL);
            (void)remove_tree(dir);
            store_.release_names_of(name);
            reaped = true;
        }
    }
    // Cgroups of this root whose container is gone or not running: removed, killing what is left
    // inside. Only worth the look when something was just found dead above (a killed monitor, a
    // rolled-back intent, an abandoned folder); each container is judged once, whatever the
    // number of hierarchies.
    if (runtime_->backend() == Backend::Namespaces && reaped) {
        std::string prefix = container_cgroup_name(store_.root(), "");
        std::map<std::string, std::vector<std::string>> groups;  // id → its directories
        for (const auto& parent : host_cgroups().parents) {
            std::error_code ec;
            for (const auto& e : std::filesystem::directory_iterator(parent + "/" + prefix, ec))
                if (e.is_directory(ec)) groups[e.path().filename().string()].push_back(e.path().string());
        }
        for (const auto& [id, dirs] : groups) {
            // A start in progress holds the container's lock while its record still says
            // "created": wait for it, then judge the record it saved.
            std::optional<FileLock> held;
            if (path_exists(store_.container_dir(id))) {
                auto l = store_.lock_container(id);
                if (l) held.emplace(std::move(*l));
            }
            if (auto in = read_intent(store_.container_dir(id)); in && intent_owner_alive(*in)) continue;
            if (store_.record_lost(id)) continue;  // a garbled record: shown as Dead, `rm -f` decides
            auto rec = store_.load(id);
            if (rec && (container_has_process(rec->state) || rec->state == ContainerState::Restarting)) continue;
            if (auto cg = Cgroup::open_paths(dirs); cg) {
                (void)cg->thaw();
                (void)cg->kill_all(SIGKILL);
                (void)cg->destroy();
            }
        }
    }
    volumes_.collect_garbage();
    // Scratch folders of the image store whose process was killed (owned_scratch_name); a
    // build's work folder is its own collector's (below), which also removes its journaled layers.
    {
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(images_.dir() + "/layers", ec)) {
            std::string n = e.path().filename().string();
            if (n[0] == '.' && n.rfind(".build-", 0) != 0 && owned_scratch_abandoned(n)) (void)remove_tree(e.path().string());
        }
    }
    // A build killed half-way left its work folder (ROOT/images/layers/.build-PID-START-*) and
    // perhaps intermediate containers: collected once its owner is gone (build.hpp).
    {
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(images_.dir() + "/layers", ec))
            if (e.path().filename().string().rfind(".build-", 0) == 0) {
                (void)collect_build_leftovers(*this);
                break;
            }
    }
}

// ---- create's steps, in the order create() runs them ----

namespace {

// SPEC's name is valid (its leading '/' dropped) and its memory limit is at least Docker's
// minimum. Nothing is made.
Status check_container_spec(ContainerSpec& spec) {
    if (!spec.name.empty()) {
        if (!valid_container_name(spec.name))
            return make_error("Invalid container name (" + spec.name +
                                  "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                              125);
        if (spec.name[0] == '/') spec.name.erase(0, 1);
    }
    if (spec.memory_bytes != 0 && spec.memory_bytes < 6 * 1024 * 1024)
        return make_error("Minimum memory limit allowed is 6MB", 125);
    if (spec.healthcheck) ISOLAB_TRY(validate_healthcheck(*spec.healthcheck));
    return {};
}

// A record for SPEC on BACKEND with the image's configuration resolved into it (command,
// environment, working directory, user, exposed ports), or the error that makes SPEC unrunnable.
// No id, name or network yet; nothing is made.
Result<ContainerRecord> record_from_image(const ContainerSpec& spec, const Image& image, Backend backend) {
    ContainerRecord rec;
    rec.spec = spec;
    rec.backend = backend;
    rec.image_id = image.id;
    rec.layers = image.layer_dirs;
    // Docker's ENTRYPOINT/CMD rule: an entrypoint given at run time drops the image's CMD.
    std::vector<std::string> entry = spec.entrypoint ? *spec.entrypoint : image.entrypoint();
    std::vector<std::string> cmd = !spec.cmd.empty() ? spec.cmd
                                   : spec.entrypoint ? std::vector<std::string>{}
                                                     : image.cmd();
    rec.path_args = entry;
    rec.path_args.insert(rec.path_args.end(), cmd.begin(), cmd.end());
    if (rec.path_args.empty()) return make_error("no command specified", 125);
    rec.env = image.env();
    if (std::none_of(rec.env.begin(), rec.env.end(), [](auto& e) { return e.rfind("PATH=", 0) == 0; }))
        rec.env.insert(rec.env.begin(), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    rec.workdir = !spec.workdir.empty() ? spec.workdir : (image.workdir().empty() ? "/" : image.workdir());
    if (rec.workdir[0] != '/')
        return make_error("the working directory '" + rec.workdir + "' is invalid, it needs to be an absolute path", 125);
    if (spec.user.empty()) rec.spec.user = image.user();
    // Docker: the image's STOPSIGNAL is what `stop` sends unless `--stop-signal` says otherwise.
    if (spec.stop_signal.empty() && image.config.contains("config") && image.config["config"].is_object() &&
        image.config["config"].contains("StopSignal") && image.config["config"]["StopSignal"].is_string())
        rec.spec.stop_signal = image.config["config"]["StopSignal"].get<std::string>();
    if (image.config.contains("config") && image.config["config"].contains("ExposedPorts") &&
        image.config["config"]["ExposedPorts"].is_object())
        for (auto& [port, v] : image.config["config"]["ExposedPorts"].items()) rec.exposed_ports.push_back(port);
    // Docker's merge of the health check (the container's fields over the image's HEALTHCHECK),
    // and the image's SHELL, which a CMD-SHELL check runs under.
    std::optional<HealthConfig> image_check;
    if (image.config.contains("config") && image.config["config"].is_object()) {
        const auto& cfg = image.config["config"];
        if (auto it = cfg.find("Healthcheck"); it != cfg.end() && it->is_object())
            image_check = health_config_from_docker_json(*it);
        if (auto it = cfg.find("Shell"); it != cfg.end() && it->is_array())
            for (const auto& w : *it)
                if (w.is_string()) rec.shell.push_back(w.get<std::string>());
    }
    rec.healthcheck = merge_healthcheck(spec.healthcheck, image_check);
    return rec;
}

// REC (with its id) gets its creation time, its hostname and its environment: the image's, then
// HOSTNAME, TERM for -t, then SPEC's -e, each replacing an earlier value of its key.
void fill_hostname_and_env(const ContainerSpec& spec, ContainerRecord& rec) {
    rec.created = now_rfc3339();
    rec.hostname = rec.spec.hostname.empty() ? rec.id.substr(0, 12) : rec.spec.hostname;
    auto set_env = [&](const std::string& kv) {
        std::string key = kv.substr(0, kv.find('='));
        std::erase_if(rec.env, [&](const std::string& x) { return x.compare(0, key.size() + 1, key + "=") == 0; });
        rec.env.push_back(kv);
    };
    set_env("HOSTNAME=" + rec.hostname);
    if (spec.tty) set_env("TERM=xterm");
    for (const auto& e : spec.env) set_env(e);
}

// DIR exists and holds a create intent (owned by the returned guard), or an error and no scratch
// folder. It is made as `.creating-ID` under CONTAINERS_DIR with the intent inside, then renamed
// into place: the garbage collector never mistakes a folder being made for one a killed create left.
Result<IntentGuard> make_container_folder(const std::string& containers_dir, const std::string& dir) {
    const std::string fresh = containers_dir + "/" + owned_scratch_name(".creating");
    if (auto s = make_dirs(fresh, 0700); !s) return s.error();
    auto intent = IntentGuard::begin(fresh, {IntentOp::Create});
    if (!intent) {
        (void)remove_tree(fresh);
        return intent.error();
    }
    if (::rename(fresh.c_str(), dir.c_str()) != 0) {
        int err = errno;
        (void)remove_tree(fresh);
        return errno_error("create `" + dir + "`", err);
    }
    intent->moved_to(dir);
    return intent;
}

// DIR/hosts and DIR/resolv.conf, the files name resolution reads, for REC on NETWORK: its own
// address (the host's files on the host network). A simulated container gets none. Best effort.
void write_name_files(const ContainerRecord& rec, const net::Network& network, const std::string& dir) {
    if (rec.backend == Backend::Simulated) return;
    const bool bridged = network.driver == net::Driver::Bridge;
    if (network.driver == net::Driver::Host) {
        auto hosts = read_file("/etc/hosts");
        (void)write_file(dir + "/hosts", hosts ? *hosts : "127.0.0.1\tlocalhost\n");
    } else {
        (void)write_file(dir + "/hosts", net::hosts_file(rec.hostname, rec.endpoints, {}));
    }
    auto resolv = read_file("/etc/resolv.conf");
    std::string conf = !resolv ? "" : network.driver == net::Driver::Host ? *resolv : net::resolv_conf_for_container(*resolv);
    if (network.driver == net::Driver::Null || (bridged && rec.backend == Backend::Rootless))
        conf = "# IsoLab: this container has only the loopback interface\n";
    (void)write_file(dir + "/resolv.conf", conf);
}

}  // namespace

Status Engine::check_runtime_choice(const ContainerSpec& spec) {
    if (spec.runtime.empty()) return {};
    // Docker's wording for a runtime it does not know; then what runc needs here.
    if (spec.runtime != "runc")
        return make_error("unknown or invalid runtime name: " + spec.runtime + " (IsoLab knows `isolab` and `runc`)", 125);
    if (runc_binary().empty())
        return make_error("unknown or invalid runtime name: runc (it is not installed: apt-get install runc)", 125);
    if (runtime_->backend() != Backend::Namespaces)
        return make_error("--runtime runc needs the root namespace backend; this one is " + runtime_->name(), 125);
    if (spec.tty) return make_error("--runtime runc with -t is not supported by IsoLab yet: leave out -t", 125);
    if (const char* m = std::getenv("ISOLAB_ROOTFS"); m && std::string(m) == "copy")
        return make_error("--runtime runc needs overlayfs (ISOLAB_ROOTFS=copy is set)", 125);
    return {};
}

Result<net::Network> Engine::choose_network(const ContainerSpec& spec, ContainerRecord& rec) {
    // The network must exist and the ports asked for must be free before anything is made (a
    // conflict leaves nothing behind).
    // --network container:X shares X's network namespace: no endpoint of its own, X's hostname
    // and name files (moby initializeNetworking). X is looked up now, joined at each start.
    if (spec.network.rfind("container:", 0) == 0) {
        auto other = store_.resolve(spec.network.substr(10));
        if (!other) return make_error(other.error().message, 125);
        rec.spec.network = "container:" + other->id;
        rec.spec.hostname = other->hostname;
        auto none = networks_.get("none");
        if (!none) return make_error(none.error().message, 125);
        return none;
    }
    std::string wanted = spec.network.empty() || spec.network == "default" ? "bridge" : spec.network;
    auto network = networks_.get(wanted);
    if (!network) return make_error(network.error().message, 125);  // "not found", a corrupt network file, or why the default bridge cannot be made
    rec.spec.network = network->name;
    const bool bridged = network->driver == net::Driver::Bridge;
    if (!bridged && (!spec.ports.empty() || spec.publish_all)) {
        rec.warnings.push_back("Published ports are discarded when using " + network->name + " network mode");
        rec.spec.ports.clear();
        rec.spec.publish_all = false;
    }
    if (bridged && rec.backend == Backend::Rootless) {
        rec.warnings.push_back("rootless containers get only the loopback interface here (a bridge needs root): "
                               "run as root for networking");
    }
    if (bridged && rec.backend != Backend::Simulated)
        for (const auto& p : rec.spec.ports)
            if (p.host_port != 0)
                if (auto st = net::check_port_free(p.proto, p.host_ip, p.host_port); !st)
                    return make_error("driver failed programming external connectivity on endpoint " +
                                          (spec.name.empty() ? std::string("(new container)") : spec.name) + ": " +
                                          st.error().message,
                                      125);
    if ((network->driver == net::Driver::Host || spec.uts_mode == "host") && spec.hostname.empty()) {
        char host[256] = {};
        ::gethostname(host, sizeof host - 1);
        rec.spec.hostname = host;
    }
    return network;
}

Status Engine::reserve_id_and_name(const ContainerSpec& spec, ContainerRecord& rec) {
    rec.id = random_hex(32);
    if (!spec.name.empty()) {
        std::string owner;
        auto reserved = store_.reserve_name(spec.name, rec.id, &owner);
        if (!reserved) return reserved.error();
        if (!*reserved)
            return make_error("Conflict. The container name \"/" + spec.name +
                                  "\" is already in use by container \"" + owner +
                                  "\". You have to remove (or rename) that container to be able to reuse that name.",
                              125);
        rec.name = spec.name;
    } else {
        for (;;) {
            rec.name = generate_name();
            auto reserved = store_.reserve_name(rec.name, rec.id, nullptr);
            if (!reserved) return reserved.error();
            if (*reserved) break;
        }
    }
    return {};
}

void Engine::choose_rootfs_and_cgroup(const ContainerSpec& spec, ContainerRecord& rec) {
    if (rec.backend == Backend::Simulated) {
        rec.rootfs_mode = RootfsMode::None;
        rec.warnings.push_back("namespaces are not available here: this container is simulated (no process runs; "
                               "timings are modeled). Run `isolab doctor` to see why.");
        return;
    }
    bool overlay = overlay_available() && (rec.backend == Backend::Namespaces || kernel_at_least(5, 11));
    // ISOLAB_ROOTFS=copy forces the fallback, to try (and test) it on a machine with overlayfs.
    if (const char* m = std::getenv("ISOLAB_ROOTFS"); m && std::string(m) == "copy") overlay = false;
    rec.rootfs_mode = overlay ? RootfsMode::Overlay : RootfsMode::Copy;
    if (!overlay) rec.warnings.push_back("overlayfs is not allowed here: the container gets a copied root file system");
    const auto& cg = host_cgroups();
    if (cg.writable) {
        rec.cgroup_name = container_cgroup_name(store_.root(), rec.id);
    } else {
        rec.cgroup_note = cg.reason.empty() ? "cgroups are not writable here" : cg.reason;
        if (spec.memory_bytes || spec.pids_limit || spec.nano_cpus)
            rec.warnings.push_back("resource limits are not applied: " + rec.cgroup_note);
    }
}

Result<net::Endpoint> Engine::lease_endpoint(const net::Network& network, const ContainerRecord& rec) {
    net::Endpoint ep;
    ep.network = network.name;
    ep.network_id = network.id;
    if (network.driver == net::Driver::Bridge && rec.backend != Backend::Rootless) {
        auto subnet = net::parse_subnet(network.subnet);
        if (!subnet) return subnet.error().wrap("network " + network.name);
        auto ip = ipam_.allocate(network.name, *subnet, rec.id);
        if (!ip) return ip.error();
        ep.ip = *ip;
        ep.prefix = subnet->prefix;
        ep.gateway = network.gateway;
        ep.mac = net::docker_mac(*ip);
        ep.bridge = network.bridge;
        ep.host_veth = net::host_veth_name(rec.id, 0);
        ep.ifname = "eth0";
    }
    return ep;
}

Error Engine::undo_create(const ContainerRecord& rec, const Error& e) {
    (void)remove_tree(store_.container_dir(rec.id));
    store_.release_name(rec.name, rec.id);
    release_addresses(rec);
    return e;
}

// Nothing is made until the global lock is taken; from the name's reservation on, every error
// goes through undo_create, and a crash leaves only what the garbage collector removes (a
// `.creating-*` folder, or the container's folder with its create intent and no record). The
// record is saved last: no half-created container is ever visible.
Result<ContainerRecord> Engine::create(ContainerSpec spec, const Image* prebuilt) {
    ISOLAB_TRY(check_container_spec(spec));
    ISOLAB_TRY(check_runtime_choice(spec));
    Result<Image> image = prebuilt ? Result<Image>(*prebuilt) : images_.resolve(spec.image);
    if (!image) return image.error();
    auto from_image = record_from_image(spec, *image, runtime_->backend());
    if (!from_image) return from_image.error();
    ContainerRecord rec = std::move(*from_image);
    // A build step's container (PREBUILT) mounts none of the image's VOLUMEs, as BuildKit.
    ISOLAB_TRY(add_volumes_from(store_, rec));
    ISOLAB_TRY(plan_mounts(rec, *image, prebuilt != nullptr, volumes_));
    auto network = choose_network(spec, rec);
    if (!network) return network.error();
    // --pid and --ipc container:X name X by its id from now on (a rename keeps the link).
    for (std::string* mode : {&rec.spec.pid_mode, &rec.spec.ipc_mode})
        if (mode->rfind("container:", 0) == 0) {
            auto other = store_.resolve(mode->substr(10));
            if (!other) return make_error(other.error().message, 125);
            *mode = "container:" + other->id;
        }
    const bool joins_network = rec.spec.network.rfind("container:", 0) == 0;

    // Held until create returns: ids, names and addresses are handed out one create at a time.
    auto global = store_.lock_global();
    if (!global) return global.error();
    ISOLAB_TRY(reserve_id_and_name(spec, rec));
    fill_hostname_and_env(spec, rec);
    choose_rootfs_and_cgroup(spec, rec);
    // In IsoLab's own words, in the learner's language: what --privileged gives away.
    if (spec.privileged && rec.backend != Backend::Simulated) rec.warnings.push_back(i18n::tr("engine.warning.privileged"));

    // From here on an error removes the folder and releases the name and the addresses.
    const std::string dir = store_.container_dir(rec.id);
    if (!joins_network) {
        auto endpoint = lease_endpoint(*network, rec);
        if (!endpoint) return undo_create(rec, endpoint.error());
        rec.endpoints.push_back(*endpoint);
    }
    auto intent = make_container_folder(store_.containers_dir(), dir);
    if (!intent) return undo_create(rec, intent.error());
    if (auto s = runtime_->prepare(store_, rec); !s) return undo_create(rec, s.error().wrap("create " + rec.name));
    if (joins_network) {
        // The joined container's name files, as Docker shares them (copied: best effort).
        const std::string other_dir = store_.container_dir(rec.spec.network.substr(10));
        for (const char* f : {"/hosts", "/resolv.conf"}) {
            auto text = read_file(other_dir + f);
            (void)write_file(dir + f, text ? *text : "");
        }
    } else {
        write_name_files(rec, *network, dir);
    }
    // The volumes last, under the global lock (a `volume rm` takes it too, so a volume cannot go
    // between its check and this container's record naming it).
    auto made = make_volumes(store_, rec, volumes_);
    if (!made) return undo_create(rec, made.error());
    if (auto s = store_.save(rec); !s) {
        undo_volumes(*made, volumes_);
        return undo_create(rec, s.error());
    }
    refresh_hosts(rec);
    store_.append_event("create", {{"id", rec.id}, {"name", rec.name}, {"image", spec.image}});
    return rec;
}

Result<Engine::LockedRecord> Engine::lock_record(const std::string& ref) {
    auto found = store_.resolve(ref);
    if (!found) return found.error();
    auto lock = store_.lock_container(found->id);
    if (!lock) return lock.error();
    auto rec = store_.load(found->id);
    if (!rec) return rec.error();
    return LockedRecord{std::move(*lock), std::move(*rec)};
}

Result<Engine::Locked> Engine::lock_for(const std::string& ref, ContainerAction action) {
    auto held = lock_record(ref);
    if (!held) return held.error();
    auto t = container_transition(held->rec.state, action, {ref, held->rec.id, held->rec.name});
    if (!t) return t.error();
    return Locked{std::move(held->lock), std::move(held->rec), *t};
}

Result<ContainerRecord> Engine::start(const std::string& ref, bool attach) {
    auto locked = lock_for(ref, ContainerAction::Start);
    if (!locked) return locked.error();
    ContainerRecord* rec = &locked->rec;
    const Transition* t = &locked->transition;
    if (t->noop) return *rec;
    auto intent = IntentGuard::begin(store_.container_dir(rec->id), {IntentOp::Start});
    if (!intent) return intent.error().wrap("start " + rec->name);
    rec->stopped_by_user = false;
    // The networks' bridges and rules, and the published ports, before the monitor (which reads
    // the record) plugs PID 1 in and starts the port proxies.
    if (rec->backend == Backend::Namespaces)
        for (const auto& ep : rec->endpoints) {
            if (ep.ip.empty()) continue;
            auto nw = networks_.get(ep.network);
            if (!nw) return nw.error().wrap("start " + rec->name);
            auto warning = net::prepare_network(*nw);
            if (!warning) return warning.error().wrap("start " + rec->name);
            if (!warning->empty() && std::find(rec->warnings.begin(), rec->warnings.end(), *warning) == rec->warnings.end())
                rec->warnings.push_back(*warning);
        }
    ISOLAB_TRY(resolve_published(*rec));
    // Bind sources made (-v) or checked (--mount), empty volumes seeded from the image.
    if (rec->backend != Backend::Simulated)
        ISOLAB_TRY(prepare_mounts(store_, *rec, volumes_));
    // A container it joins must run (Docker's words); the monitor resolves the paths again.
    if (rec->backend != Backend::Simulated)
        if (auto joins = oci::namespace_joins(store_, *rec); !joins) return joins.error();
    ISOLAB_TRY(store_.save(*rec));
    if (auto s = runtime_->start(store_, *rec, attach); !s) {
        // A failed start leaves nothing running: the monitor (if it got that far), PID 1, its
        // cgroup and its veths go now, not when the kernel gets round to a dead namespace.
        stop_leftovers(*rec);
        rec->error = s.error().message;
        rec->exit_code = s.error().exit_code;
        (void)store_.save(*rec);
        locked->lock = FileLock();  // released: the sweep takes the lock itself
        collect_garbage();
        return s.error();
    }
    rec->state = t->to;
    rec->error.clear();
    rec->exit_code = 0;
    rec->oom_killed = false;
    // Docker's initHealthMonitor: a checked container starts "starting" (its old log kept); the
    // monitor runs the probes from here. The simulated backend runs no process to probe.
    if (runs_probe(rec->healthcheck) && rec->backend != Backend::Simulated) rec->health = health_on_start(rec->health);
    rec->started_at = now_rfc3339();
    rec->finished_at = "0001-01-01T00:00:00Z";
    ISOLAB_TRY(store_.save(*rec));
    store_.append_event("start", {{"id", rec->id}, {"name", rec->name}, {"pid", rec->pid}});
    return *rec;
}

bool Engine::wait_exit(const std::string& id, double timeout_ms) {
    double deadline = monotonic_ms() + timeout_ms;
    int pause = 1;
    UniqueFd monitor;  // a pidfd: the wait wakes the moment the monitor exits, not at a poll tick
    for (;;) {
        auto r = store_.load(id);
        if (!r) return true;  // removed (--rm)
        if (!container_has_process(r->state) && r->state != ContainerState::Restarting) return true;
        if (r->backend != Backend::Simulated && !runtime_->alive(*r)) {
            collect_garbage();
            return true;
        }
        if (monotonic_ms() > deadline) return false;
        if (!monitor.valid() && r->monitor_pid > 0)
            monitor.reset(static_cast<int>(::syscall(SYS_pidfd_open, r->monitor_pid, 0)));
        if (monitor.valid()) {
            struct pollfd p = {monitor.get(), POLLIN, 0};
            (void)::poll(&p, 1, pause);
        } else {
            sleep_ms(pause);
        }
        pause = std::min(pause * 2, 10);
    }
}

Result<ContainerRecord> Engine::stop(const std::string& ref, int timeout, const std::string& signal) {
    ContainerRecord rec;
    int sig = SIGTERM;
    {
        auto locked = lock_for(ref, ContainerAction::Stop);
        if (!locked) return locked.error();
        ContainerRecord* r = &locked->rec;
        if (locked->transition.noop) return *r;
        // Marked before the signal so the monitor does not apply the restart policy. Docker's
        // containerStop stops the health checks first, which leaves the status unhealthy (the
        // monitor sees the mark and ends its probes).
        r->stopped_by_user = true;
        if (r->health) r->health = health_on_stop(*r->health);
        ISOLAB_TRY(store_.save(*r));
        rec = *r;
        std::string sname = !signal.empty() ? signal : rec.spec.stop_signal;
        if (!sname.empty()) {
            auto s = parse_signal(sname);
            if (!s) return s.error();
            sig = *s;
        }
    }  // the monitor needs the lock to record the exit
    if (timeout < 0) timeout = rec.spec.stop_timeout >= 0 ? rec.spec.stop_timeout : 10;
    if (rec.state != ContainerState::Restarting) {
        ISOLAB_TRY(runtime_->signal(rec, sig));
        if (rec.state == ContainerState::Paused) (void)runtime_->thaw(rec);
    }
    if (!wait_exit(rec.id, timeout * 1000.0)) {
        ISOLAB_TRY(runtime_->signal(rec, SIGKILL));
        if (!wait_exit(rec.id, 10000))
            return make_error("cannot stop container: " + ref + ": tried to kill container, but did not receive an exit event", 1);
    }
    store_.append_event("stop", {{"id", rec.id}, {"name", rec.name}});
    auto after = store_.load(rec.id);
    return after ? *after : rec;
}

Result<ContainerRecord> Engine::kill(const std::string& ref, const std::string& signal) {
    auto sig = parse_signal(signal.empty() ? "KILL" : signal);
    if (!sig) return sig.error();
    ContainerRecord rec;
    {
        auto locked = lock_for(ref, ContainerAction::Kill);
        if (!locked) return locked.error();
        ContainerRecord* r = &locked->rec;
        if (*sig == SIGKILL || *sig == SIGTERM || *sig == SIGINT) {
            r->stopped_by_user = true;
            ISOLAB_TRY(store_.save(*r));
        }
        rec = *r;
    }
    ISOLAB_TRY(runtime_->signal(rec, *sig));
    if (rec.state == ContainerState::Paused && *sig == SIGKILL) (void)runtime_->thaw(rec);
    store_.append_event("kill", {{"id", rec.id}, {"name", rec.name}, {"signal", *sig}});
    if (*sig == SIGKILL) wait_exit(rec.id, 10000);
    auto after = store_.load(rec.id);
    return after ? *after : rec;
}

Result<ContainerRecord> Engine::pause(const std::string& ref) {
    auto locked = lock_for(ref, ContainerAction::Pause);
    if (!locked) return locked.error();
    ContainerRecord* rec = &locked->rec;
    const Transition* t = &locked->transition;
    if (rec->backend != Backend::Simulated && rec->cgroup_name.empty())
        return make_error("cannot pause container " + rec->id + ": pause needs the cgroup freezer, and this container has no cgroup (" +
                              rec->cgroup_note + ")",
                          1);
    ISOLAB_TRY(runtime_->freeze(*rec));
    rec->state = t->to;
    // No probe runs while paused (the monitor ends them when it sees this save); Docker's
    // CloseMonitorChannel leaves the status unhealthy until a probe after the unpause says otherwise.
    if (rec->health) rec->health = health_on_stop(*rec->health);
    if (auto saved = store_.save(*rec); !saved) {
        // Never a frozen container whose record says it runs (a full disk): exec would hang in it.
        (void)runtime_->thaw(*rec);
        return saved.error().wrap("pause " + rec->name);
    }
    store_.append_event("pause", {{"id", rec->id}, {"name", rec->name}});
    return *rec;
}

Result<ContainerRecord> Engine::unpause(const std::string& ref) {
    auto locked = lock_for(ref, ContainerAction::Unpause);
    if (!locked) return locked.error();
    ContainerRecord* rec = &locked->rec;
    const Transition* t = &locked->transition;
    ISOLAB_TRY(runtime_->thaw(*rec));
    rec->state = t->to;
    ISOLAB_TRY(store_.save(*rec));
    store_.append_event("unpause", {{"id", rec->id}, {"name", rec->name}});
    return *rec;
}

Result<ContainerRecord> Engine::restart(const std::string& ref, int timeout) {
    auto found = store_.resolve(ref);
    if (!found) return found.error();
    auto t = container_transition(found->state, ContainerAction::Restart, {ref, found->id});
    if (!t) return t.error();
    if (container_has_process(found->state) || found->state == ContainerState::Restarting) {
        auto s = stop(found->id, timeout);
        if (!s) return s.error();
    }
    auto r = start(found->id);
    if (r) store_.append_event("restart", {{"id", r->id}, {"name", r->name}});
    return r;
}

Status Engine::remove(const std::string& ref, bool force, bool volumes) {
    // A removal whose process was killed ("Removal In Progress" with no live owner) resumes here.
    if (auto found = store_.resolve(ref); found && found->state == ContainerState::Removing) {
        auto in = read_intent(store_.container_dir(found->id));
        if (!in || !intent_owner_alive(*in)) return finish_removal(found->id, volumes);
    }
    ContainerRecord rec;
    IntentGuard intent;
    {
        auto locked = lock_for(ref, force ? ContainerAction::ForceRemove : ContainerAction::Remove);
        if (!locked) return locked.error();
        ContainerRecord* r = &locked->rec;
        rec = *r;
        auto begun = IntentGuard::begin(store_.container_dir(rec.id), {IntentOp::Remove});
        if (!begun) return begun.error().wrap("remove " + rec.name);
        intent = std::move(*begun);
        if (container_has_process(r->state) || r->state == ContainerState::Restarting) {
            r->stopped_by_user = true;
            r->spec.auto_remove = false;  // we remove it ourselves, below
            ISOLAB_TRY(store_.save(*r));
        }
    }
    if (container_has_process(rec.state) || rec.state == ContainerState::Restarting) {
        if (rec.state != ContainerState::Restarting) {
            ISOLAB_TRY(runtime_->signal(rec, SIGKILL));
            if (rec.state == ContainerState::Paused) (void)runtime_->thaw(rec);
        }
        if (!wait_exit(rec.id, 10000))
            return make_error("cannot remove container \"" + ref + "\": could not kill it", 1);
    }
    return finish_removal(rec.id, volumes);
}

Status Engine::finish_removal(const std::string& id, bool volumes) {
    auto global = store_.lock_global();
    auto lock = store_.lock_container(id);
    auto r = store_.load(id);
    if (!r) return {};  // --rm got there first
    r->state = ContainerState::Removing;
    (void)store_.save(*r);
    // Whatever still runs (a removal resumed after a kill, a monitor that outlived its record's
    // state) is stopped before anything is deleted; a lost record's monitor and PID 1 are found
    // by its pidfile, its attach socket and its cgroup.
    if (store_.record_lost(r->id))
        ISOLAB_TRY(stop_lost_container(store_, r->id, container_cgroup_name(store_.root(), r->id)));
    else
        stop_leftovers(*r);
    ISOLAB_TRY(runtime_->destroy(store_, *r));
    store_.release_name(r->name, r->id);
    release_addresses(*r);
    refresh_hosts(*r);  // *r is gone from the store: its peers forget it
    store_.append_event("destroy", {{"id", r->id}, {"name", r->name}});
    if (volumes) (void)remove_anonymous_volumes(store_, *r);
    return {};
}

Result<int> Engine::wait(const std::string& ref) {
    auto found = store_.resolve(ref);
    if (!found) return found.error();
    int last = found->exit_code;
    for (;;) {
        auto r = store_.load(found->id);
        if (!r) return last;
        last = r->exit_code;
        if (r->state == ContainerState::Exited || r->state == ContainerState::Dead ||
            r->state == ContainerState::Created)
            return r->exit_code;
        if (r->backend != Backend::Simulated && container_has_process(r->state) && !runtime_->alive(*r)) collect_garbage();
        sleep_ms(20);
    }
}

Result<int> Engine::exec(const std::string& ref, const ExecRequest& req) {
    auto rec = store_.resolve(ref);
    if (!rec) return rec.error();
    auto t = container_transition(rec->state, ContainerAction::Exec, {ref, rec->id});
    if (!t) return t.error();
    store_.append_event("exec_start", {{"id", rec->id}, {"name", rec->name}, {"cmd", req.cmd}});
    auto code = runtime_->exec(store_, *rec, req);
    // A command that could not be run (not found: 127, not executable: 126) ended too.
    int exit_code = code ? *code : code.error().exit_code;
    store_.append_event("exec_die", {{"id", rec->id}, {"name", rec->name}, {"cmd", req.cmd}, {"exitCode", exit_code}});
    return code;
}

Result<std::vector<ProcessRow>> Engine::top(const std::string& ref) {
    auto rec = store_.resolve(ref);
    if (!rec) return rec.error();
    if (!container_has_process(rec->state)) return make_error("container " + rec->id + " is not running", 1);
    return runtime_->top(*rec);
}

Result<ContainerRecord> Engine::inspect(const std::string& ref) { return store_.resolve(ref); }

namespace {

// "/a/b" for TOP/a/b, lexically. Never std::filesystem::relative: it canonicalises, which follows
// the container's own symlinks on the host (a link to /etc in the writable layer would make diff
// stat the host's /etc).
std::string below(const std::filesystem::path& p, const std::string& top) { return p.string().substr(top.size()); }

// An overlayfs whiteout: a character device 0/0 in the upper dir hides the lower file.
bool is_whiteout(const struct stat& st) { return S_ISCHR(st.st_mode) && st.st_rdev == 0; }

// The image's layers (lowest first) and the copied root, opened once: each path is looked up
// inside its own tree (safe_path.hpp), so a symlink in one layer never sends the lookup of another
// layer's path to the host.
std::vector<safe::Root> open_roots(const std::vector<std::string>& dirs) {
    std::vector<safe::Root> out;
    for (const auto& d : dirs)
        if (auto r = safe::Root::open(d)) out.push_back(std::move(*r));
    return out;
}

bool stat_in(const safe::Root& root, const std::string& rel, struct stat* st) {
    auto fd = root.open(rel, O_PATH | O_NOFOLLOW);
    return fd && ::fstat(fd->get(), st) == 0;
}

bool in_lower(const std::vector<safe::Root>& layers, const std::string& rel) {
    struct stat st;
    for (const auto& l : layers)
        if (stat_in(l, rel, &st)) return true;
    return false;
}

// The topmost layer's entry for REL (false when absent or deleted by a whiteout).
bool lower_stat(const std::vector<safe::Root>& layers, const std::string& rel, struct stat* st) {
    for (auto it = layers.rbegin(); it != layers.rend(); ++it)
        if (stat_in(*it, rel, st)) return !is_whiteout(*st);
    return false;
}

// What Docker's archive.ChangesDirs compares: type and mode, owner, size and modification time
// (directories: only type, mode and owner, since copying a tree changes their times).
bool changed(const struct stat& a, const struct stat& b) {
    if (a.st_mode != b.st_mode || a.st_uid != b.st_uid || a.st_gid != b.st_gid) return true;
    if (S_ISDIR(a.st_mode)) return false;
    return a.st_size != b.st_size || a.st_mtim.tv_sec != b.st_mtim.tv_sec;
}

}  // namespace

Result<std::string> Engine::commit(const std::string& ref, const std::string& tag, const std::string& message,
                                   const std::vector<std::string>& changes, bool pause, const std::string& author) {
    auto rec = store_.resolve(ref);
    if (!rec) return rec.error();
    auto parent = images_.resolve(rec->spec.image);
    if (!parent || parent->id != rec->image_id) {
        // The tag moved since the container was made: commit on the image it really runs.
        parent = images_.resolve(rec->image_id);
        if (!parent) return make_error("commit " + ref + ": its image " + rec->image_id + " is gone", 1);
    }
    nlohmann::json settings = parent->config.value("config", nlohmann::json::object());
    ISOLAB_TRY(apply_changes(settings, changes));
    // The container is frozen while its layer is copied (Docker's default): directly through the
    // cgroup, with the intent saying so, and thawed on every path — an error, a full disk, or the
    // next command's garbage collector after a kill -9.
    const std::string cdir = store_.container_dir(rec->id);
    Intent what{IntentOp::Commit};
    if (rec->rootfs_mode == RootfsMode::Copy) what.staged = images_.dir() + "/layers/" + owned_scratch_name(".commit");
    auto intent = IntentGuard::begin(cdir, what);
    if (!intent) return intent.error().wrap("commit " + rec->name);
    // Docker's commit pauses through its containerPause, which logs "pause" and "unpause" events.
    struct Thaw {
        Runtime* rt = nullptr;
        const ContainerRecord* rec = nullptr;
        Store* store = nullptr;
        ~Thaw() {
            if (!rt) return;
            (void)rt->thaw(*rec);
            store->append_event("unpause", {{"id", rec->id}, {"name", rec->name}});
        }
    } thaw;
    if (pause && rec->state == ContainerState::Running && rec->backend != Backend::Simulated && !rec->cgroup_name.empty()) {
        what.froze = true;
        ISOLAB_TRY(intent->update(what));
        thaw.rec = &*rec;
        thaw.store = &store_;
        if (runtime_->freeze(*rec)) {
            thaw.rt = runtime_.get();
            store_.append_event("pause", {{"id", rec->id}, {"name", rec->name}});
        }
    }
    std::string upper = cdir + "/upper";
    std::string staged = what.staged;
    struct Unstage {
        std::string path;
        ~Unstage() {
            if (!path.empty()) (void)remove_tree(path);
        }
    } unstage{staged};
    if (!staged.empty()) {
        // A copied root holds the whole file system: only its changes become the layer.
        ISOLAB_TRY(export_changes(rec->id, staged));
        upper = staged;
    }
    std::string by = "isolab commit " + rec->name + " (" + command_line(rec->path_args) + ")";
    auto id = images_.commit(*parent, upper, tag, by, message, settings, author);
    if (id) store_.append_event("commit", {{"id", rec->id}, {"name", rec->name}, {"image", *id}});
    return id;
}

Result<std::vector<Engine::Change>> Engine::diff(const std::string& ref) {
    auto rec = store_.resolve(ref);
    if (!rec) return rec.error();
    std::string upper = store_.container_dir(rec->id) + (rec->rootfs_mode == RootfsMode::Copy ? "/rootfs" : "/upper");
    std::vector<Change> out;
    const std::vector<safe::Root> layers = open_roots(rec->layers);
    if (rec->rootfs_mode == RootfsMode::Copy) {
        // A copied root has no whiteouts: compare it with the image's layers both ways.
        std::error_code ec;
        namespace fs = std::filesystem;
        for (auto it = fs::recursive_directory_iterator(upper, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
            std::string rel = below(it->path(), upper);
            struct stat now, was;
            if (::lstat(it->path().c_str(), &now) != 0) continue;
            if (!lower_stat(layers, rel, &was)) out.push_back({'A', rel});
            else if (changed(now, was)) out.push_back({'C', rel});
        }
        std::set<std::string> seen;
        auto copied = safe::Root::open(upper);
        if (!copied) return copied.error();
        for (const auto& layer : rec->layers)
            for (auto it = fs::recursive_directory_iterator(layer, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
                std::string rel = below(it->path(), layer);
                struct stat st;
                if (::lstat(it->path().c_str(), &st) != 0 || is_whiteout(st)) continue;
                if (!stat_in(*copied, rel, &st)) {
                    if (seen.insert(rel).second) out.push_back({'D', rel});
                    it.disable_recursion_pending();  // Docker names only the deleted directory
                }
            }
    } else {
        std::error_code ec;
        for (auto it = std::filesystem::recursive_directory_iterator(upper, ec); !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
            std::string rel = below(it->path(), upper);
            struct stat st;
            if (::lstat(it->path().c_str(), &st) != 0) continue;
            if (is_whiteout(st)) out.push_back({'D', rel});
            else out.push_back({in_lower(layers, rel) ? 'C' : 'A', rel});
        }
    }
    std::sort(out.begin(), out.end(), [](const Change& a, const Change& b) { return a.path < b.path; });
    return out;
}

Status Engine::export_changes(const std::string& ref, const std::string& dest) {
    auto rec = store_.resolve(ref);
    if (!rec) return rec.error();
    ISOLAB_TRY(make_dirs(dest));
    std::string dir = store_.container_dir(rec->id);
    if (rec->rootfs_mode != RootfsMode::Copy) {
        // cp -a keeps whiteout devices, the opaque xattr, owners, modes and times.
        auto copied = run_capture({"/bin/cp", "-a", dir + "/upper/.", dest + "/"});
        if (!copied) return copied.error().wrap("copy the writable layer of " + rec->name);
        return {};
    }
    auto changes = diff(rec->id);
    if (!changes) return changes.error();
    for (const auto& ch : *changes) {
        std::string target = dest + ch.path;
        ISOLAB_TRY(make_dirs(std::filesystem::path(target).parent_path().string()));
        if (ch.kind == 'D') {
            // An overlayfs whiteout: a character device 0/0.
            if (::mknod(target.c_str(), S_IFCHR | 0000, 0) != 0) return errno_error("whiteout `" + ch.path + "`", errno);
            continue;
        }
        struct stat st;
        std::string src = dir + "/rootfs" + ch.path;
        if (::lstat(src.c_str(), &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            ::mkdir(target.c_str(), st.st_mode & 07777);
            ::lchown(target.c_str(), st.st_uid, st.st_gid);
        } else {
            auto copied = run_capture({"/bin/cp", "-a", src, target});
            if (!copied) return copied.error().wrap("copy `" + ch.path + "`");
        }
    }
    return {};
}

Status Engine::resolve_published(ContainerRecord& rec) {
    rec.published.clear();
    bool bridged = std::any_of(rec.endpoints.begin(), rec.endpoints.end(), [](const net::Endpoint& e) { return !e.ip.empty(); });
    if (!bridged) return {};
    std::vector<PortMapping> want = rec.spec.ports;
    if (rec.spec.publish_all)
        for (const auto& e : rec.exposed_ports) {
            PortMapping p;
            p.container_port = std::atoi(e.c_str());
            p.proto = e.find('/') == std::string::npos ? "tcp" : e.substr(e.find('/') + 1);
            bool mapped = std::any_of(want.begin(), want.end(), [&](const PortMapping& w) {
                return w.container_port == p.container_port && w.proto == p.proto;
            });
            if (!mapped && p.container_port > 0) want.push_back(p);
        }
    for (auto p : want) {
        if (rec.backend != Backend::Simulated) {
            if (p.host_port == 0) {
                auto port = net::pick_free_port(p.proto, p.host_ip);
                if (!port) return port.error();
                p.host_port = *port;
            } else if (auto st = net::check_port_free(p.proto, p.host_ip, p.host_port); !st) {
                return make_error("driver failed programming external connectivity on endpoint " + rec.name + " (" +
                                      rec.id + "): " + st.error().message,
                                  125);
            }
        }
        rec.published.push_back(p);
    }
    return {};
}

void Engine::release_addresses(const ContainerRecord& rec) {
    for (const auto& ep : rec.endpoints)
        if (!ep.ip.empty()) (void)ipam_.release(ep.network, rec.id);
}

std::vector<std::pair<ContainerRecord, net::Endpoint>> Engine::network_members(const std::string& network) {
    std::vector<std::pair<ContainerRecord, net::Endpoint>> out;
    for (const auto& r : store_.list())
        for (const auto& ep : r.endpoints)
            if (ep.network == network) out.push_back({r, ep});
    return out;
}

void Engine::refresh_hosts(const ContainerRecord& changed) {
    if (changed.backend == Backend::Simulated) return;
    // Every container that shares a user-defined network with CHANGED (and CHANGED itself, if it
    // still exists) gets its hosts file written again. The default bridge has no name resolution.
    auto user_networks = [&](const ContainerRecord& r) {
        std::vector<std::string> out;
        for (const auto& ep : r.endpoints)
            if (!ep.ip.empty() && ep.network != "bridge") out.push_back(ep.network);
        return out;
    };
    std::vector<std::string> touched = user_networks(changed);
    if (touched.empty()) {
        // On no user-defined network, CHANGED has no peers and is nobody's: only its own file,
        // and no reading of every record (it made each create and start O(containers)).
        if (changed.spec.network != "host" && changed.spec.network.rfind("container:", 0) != 0 &&
            path_exists(store_.container_dir(changed.id) + "/container.json"))
            (void)net::rewrite_in_place(store_.container_dir(changed.id) + "/hosts",
                                        net::hosts_file(changed.hostname, changed.endpoints, {}));
        return;
    }
    std::vector<ContainerRecord> all = store_.list();
    for (const auto& r : all) {
        auto mine = user_networks(r);
        bool affected = r.id == changed.id ||
                        std::any_of(mine.begin(), mine.end(), [&](const std::string& n) {
                            return std::find(touched.begin(), touched.end(), n) != touched.end();
                        });
        if (!affected || r.spec.network == "host") continue;
        std::vector<net::HostEntry> peers;
        for (const auto& other : all) {
            if (other.id == r.id) continue;
            for (const auto& ep : other.endpoints)
                if (!ep.ip.empty() && std::find(mine.begin(), mine.end(), ep.network) != mine.end())
                    peers.push_back({ep.ip, other.name, other.id.substr(0, 12)});
        }
        (void)net::rewrite_in_place(store_.container_dir(r.id) + "/hosts", net::hosts_file(r.hostname, r.endpoints, peers));
    }
}

Result<net::Network> Engine::create_network(const std::string& name, const std::string& subnet, bool internal,
                                            const std::map<std::string, std::string>& labels) {
    auto n = networks_.create(name, subnet, internal, labels);
    if (n) store_.append_event("network_create", {{"name", n->name}, {"id", n->id}, {"subnet", n->subnet}});
    return n;
}

Status Engine::remove_network(const std::string& ref) {
    auto n = networks_.get(ref);
    if (!n) return n.error();
    if (n->builtin) return make_error(n->name + " is a pre-defined network and cannot be removed", 1);
    if (!network_members(n->name).empty())
        return make_error("error while removing network: network " + n->name + " id " + n->id + " has active endpoints", 1);
    if (runtime_->backend() == Backend::Namespaces) ISOLAB_TRY(net::teardown_network(*n));
    (void)ipam_.remove_network(n->name);
    ISOLAB_TRY(networks_.remove(n->name));
    store_.append_event("network_destroy", {{"name", n->name}, {"id", n->id}});
    return {};
}

Status Engine::connect(const std::string& network, const std::string& ref) {
    auto n = networks_.get(network);
    if (!n) return n.error();
    auto held = lock_record(ref);
    if (!held) return held.error();
    ContainerRecord* rec = &held->rec;
    if (n->driver != net::Driver::Bridge || rec->spec.network == "host" || rec->spec.network == "none")
        return make_error("container cannot be disconnected from host network or connected to host network", 1);
    for (const auto& ep : rec->endpoints)
        if (ep.network == n->name)
            return make_error("endpoint with name " + rec->name + " already exists in network " + n->name, 1);
    if (rec->backend == Backend::Rootless) return make_error("rootless containers have only the loopback interface here", 1);
    auto subnet = net::parse_subnet(n->subnet);
    if (!subnet) return subnet.error();
    auto ip = ipam_.allocate(n->name, *subnet, rec->id);
    if (!ip) return ip.error();
    net::Endpoint ep;
    ep.network = n->name;
    ep.network_id = n->id;
    ep.ip = *ip;
    ep.prefix = subnet->prefix;
    ep.gateway = n->gateway;
    ep.mac = net::docker_mac(*ip);
    ep.bridge = n->bridge;
    int index = static_cast<int>(rec->endpoints.size());
    ep.host_veth = net::host_veth_name(rec->id, index);
    ep.ifname = "eth" + std::to_string(index);
    bool first_bridge = std::none_of(rec->endpoints.begin(), rec->endpoints.end(), [](const net::Endpoint& e) { return !e.ip.empty(); });
    if (container_has_process(rec->state) && rec->backend == Backend::Namespaces) {
        auto warning = net::prepare_network(*n);
        Status plugged = warning ? net::attach_endpoint(ep, rec->pid, first_bridge) : Status(warning.error());
        if (!plugged) {
            (void)ipam_.release(n->name, rec->id);
            return plugged.error().wrap("connect " + rec->name + " to " + n->name);
        }
    }
    rec->endpoints.push_back(ep);
    ISOLAB_TRY(store_.save(*rec));
    refresh_hosts(*rec);
    store_.append_event("network_connect", {{"network", n->name}, {"id", rec->id}, {"name", rec->name}});
    return {};
}

Status Engine::disconnect(const std::string& network, const std::string& ref, bool force) {
    auto n = networks_.get(network);
    if (!n && !force) return n.error();
    std::string name = n ? n->name : network;
    auto held = lock_record(ref);
    if (!held) return held.error();
    ContainerRecord* rec = &held->rec;
    auto it = std::find_if(rec->endpoints.begin(), rec->endpoints.end(), [&](const net::Endpoint& e) { return e.network == name; });
    if (it == rec->endpoints.end())
        return make_error("container " + rec->id + " is not connected to network " + name, 1);
    if (name == "host" || rec->spec.network == "host")
        return make_error("container cannot be disconnected from host network or connected to host network", 1);
    net::Endpoint gone = *it;
    if (container_has_process(rec->state) && rec->backend == Backend::Namespaces) (void)net::detach_endpoint(gone);
    rec->endpoints.erase(it);
    if (!gone.ip.empty()) (void)ipam_.release(name, rec->id);
    ISOLAB_TRY(store_.save(*rec));
    ContainerRecord before = *rec;
    before.endpoints.push_back(gone);
    refresh_hosts(before);  // the peers of the network it left forget it
    store_.append_event("network_disconnect", {{"network", name}, {"id", rec->id}, {"name", rec->name}});
    return {};
}

Result<nlohmann::json> Engine::network_picture() {
    nlohmann::json out;
    auto host = net::inspect_netns(0);
    if (!host) return host.error();
    out["host"] = net::to_json(*host);
    out["containers"] = nlohmann::json::array();
    for (const auto& r : list(false)) {
        nlohmann::json c = {{"id", r.id}, {"name", r.name}, {"network_mode", r.spec.network}};
        nlohmann::json eps = nlohmann::json::array();
        for (const auto& ep : r.endpoints) eps.push_back(net::to_json(ep));
        c["endpoints"] = eps;
        c["published"] = ports_to_json(r.published);
        if (r.backend == Backend::Simulated || r.pid <= 0) {
            c["simulated"] = r.backend == Backend::Simulated;
        } else if (r.spec.network == "host") {
            c["shares_host_namespace"] = true;
        } else if (auto p = net::inspect_netns(r.pid)) {
            c["picture"] = net::to_json(*p);
        } else {
            c["error"] = p.error().message;
        }
        out["containers"].push_back(c);
    }
    out["networks"] = nlohmann::json::array();
    for (const auto& n : networks_.list()) out["networks"].push_back(net::to_json(n));
    return out;
}

Status Engine::reset() {
    for (const auto& r : list(true)) (void)remove(r.id, true);
    if (runtime_->backend() == Backend::Namespaces)
        for (const auto& n : networks_.list()) (void)net::teardown_network(n);
    ISOLAB_TRY(networks_.remove_all());
    // Also what deleted roots left (issue 12): a reset is where a learner starts over.
    if (runtime_->backend() == Backend::Namespaces) (void)net::collect_orphans(net::Sweep::AlsoLegacy);
    ISOLAB_TRY(remove_tree(images_.dir()));
    ISOLAB_TRY(remove_tree(volumes_.dir()));
    store_.append_event("reset", nlohmann::json::object());
    return {};
}

std::vector<ContainerRecord> Engine::list(bool all) {
    auto recs = store_.list();
    std::erase_if(recs, [&](const ContainerRecord& r) { return !all && !container_has_process(r.state) && r.state != ContainerState::Restarting; });
    std::sort(recs.begin(), recs.end(), [](const auto& a, const auto& b) { return a.created > b.created; });
    return recs;
}

}  // namespace isolab

// ---- rename and update (`docker rename`, `docker update`) ----

namespace isolab {

Result<ContainerRecord> Engine::rename(const std::string& ref, const std::string& new_name_raw) {
    if (ref.empty() || new_name_raw.empty()) return make_error("Neither old nor new names may be empty", 1);
    // Docker canonicalises the new name with a leading '/' and quotes it so in its errors.
    const std::string slashed = new_name_raw[0] == '/' ? new_name_raw : "/" + new_name_raw;
    const std::string new_name = slashed.substr(1);
    // Names before containers, as create and rm take them: the global lock first.
    auto global = store_.lock_global();
    if (!global) return global.error();
    auto held = lock_record(ref);
    if (!held) return held.error();
    ContainerRecord* rec = &held->rec;
    if (rec->name == new_name) return make_error("Renaming a container with the same name as its current name", 1);
    if (!valid_container_name(new_name))
        return make_error("Error when allocating new name: Invalid container name (" + slashed +
                              "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                          1);
    std::string owner;
    auto reserved = store_.reserve_name(new_name, rec->id, &owner);
    if (!reserved) return reserved.error().wrap("rename " + rec->name);
    if (!*reserved)
        return make_error("Error when allocating new name: Conflict. The container name \"" + slashed +
                              "\" is already in use by container \"" + owner +
                              "\". You have to remove (or rename) that container to be able to reuse that name.",
                          1);
    const std::string old_name = rec->name;
    rec->name = new_name;
    if (auto saved = store_.save(*rec); !saved) {
        store_.release_name(new_name, rec->id);
        return saved.error().wrap("rename " + old_name);
    }
    store_.release_name(old_name, rec->id);
    refresh_hosts(*rec);  // peers on its user-defined networks resolve the new name
    store_.append_event("rename", {{"id", rec->id}, {"name", new_name}, {"oldName", "/" + old_name}, {"image", rec->spec.image}});
    return *rec;
}

namespace {

// Docker's daemon checks for an update (verifyPlatformContainerResources with update=true, then
// Container.UpdateContainer), with its words. REC is the container as it is.
Status check_update(const ContainerRecord& rec, const ResourceUpdate& u) {
    constexpr int64_t kMinMemory = 6 * 1024 * 1024;
    if (u.memory_bytes && *u.memory_bytes != 0 && *u.memory_bytes < kMinMemory)
        return make_error("Minimum memory limit allowed is 6MB", 1);
    if (u.memory_bytes && u.memory_swap && *u.memory_bytes > 0 && *u.memory_swap > 0 && *u.memory_swap < *u.memory_bytes)
        return make_error("Minimum memoryswap limit should be larger than memory limit, see usage", 1);
    if (u.nano_cpus && *u.nano_cpus != 0) {
        long host_cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
        if (host_cpus < 1) host_cpus = 1;
        if (*u.nano_cpus < 10'000'000 || *u.nano_cpus > int64_t(host_cpus) * 1'000'000'000) {
            std::string n = std::to_string(host_cpus);
            return make_error("range of CPUs is from 0.01 to " + n + ".00, as there are only " + n + " CPUs available", 1);
        }
    }
    const std::string cannot = "Cannot update container " + rec.id + ": ";
    if (rec.state == ContainerState::Removing || rec.state == ContainerState::Dead)
        return make_error(cannot + "container is marked for removal and cannot be \"update\"", 1);
    // The memory + swap total in force: what was set, else Docker's default of twice the memory.
    const int64_t swap_now = rec.spec.memory_swap != 0 ? rec.spec.memory_swap : 2 * rec.spec.memory_bytes;
    if (u.memory_bytes && *u.memory_bytes != 0 && !u.memory_swap && swap_now > 0 && *u.memory_bytes > swap_now)
        return make_error(cannot + "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time", 1);
    if (u.restart && u.restart->kind != RestartPolicyKind::No && rec.spec.auto_remove)
        return make_error(cannot + "Restart policy cannot be updated because AutoRemove is enabled for the container", 1);
    return {};
}

}  // namespace

Result<ContainerRecord> Engine::update(const std::string& ref, const ResourceUpdate& asked) {
    // Docker's update changes memory, swap and CPUs only when the value is not zero.
    ResourceUpdate u = asked;
    for (auto* field : {&u.memory_bytes, &u.memory_swap, &u.nano_cpus})
        if (*field && **field == 0) field->reset();
    auto held = lock_record(ref);
    if (!held) return held.error();
    ContainerRecord* rec = &held->rec;
    ISOLAB_TRY(check_update(*rec, u));
    ContainerRecord next = *rec;
    ContainerSpec& s = next.spec;
    // A memory limit given alone keeps Docker's default total (twice it) unless one was set.
    if (u.memory_bytes) s.memory_bytes = *u.memory_bytes;
    if (u.memory_swap) s.memory_swap = *u.memory_swap;
    if (u.nano_cpus) s.nano_cpus = *u.nano_cpus;
    if (u.pids_limit) s.pids_limit = *u.pids_limit > 0 ? *u.pids_limit : 0;  // 0 and -1: unlimited
    if (u.restart) s.restart = *u.restart;
    const bool limits_changed = u.memory_bytes || u.memory_swap || u.nano_cpus || u.pids_limit;
    const bool live = container_has_process(rec->state) && rec->backend == Backend::Namespaces;
    if (limits_changed && rec->backend != Backend::Simulated && rec->cgroup_name.empty())
        return make_error("Cannot update container " + rec->id + ": this container has no cgroup (" + rec->cgroup_note + ")", 1);
    if (limits_changed && live) {
        // The group's directories by name, as stop_leftovers finds them: the record need not list them.
        std::vector<std::string> dirs;
        for (const auto& parent : host_cgroups().parents)
            if (path_exists(parent + "/" + rec->cgroup_name)) dirs.push_back(parent + "/" + rec->cgroup_name);
        auto cg = Cgroup::open_paths(dirs);
        if (!cg) return cg.error().wrap("Cannot update container " + rec->id);
        CgroupLimits limits;
        limits.memory_bytes = s.memory_bytes;
        limits.pids_limit = s.pids_limit;
        limits.nano_cpus = s.nano_cpus;
        if (s.memory_swap != 0) limits.memory_swap = s.memory_swap;
        limits.devices = std::nullopt;
        if (auto st = cg->update_limits(limits); !st) return st.error().wrap("Cannot update container " + rec->id);
    }
    ISOLAB_TRY(store_.save(next));
    store_.append_event("update", {{"id", next.id}, {"name", next.name}, {"image", next.spec.image}});
    return next;
}

}  // namespace isolab
