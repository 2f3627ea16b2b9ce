// `isolab runtime ...`: the OCI runtime command-line interface (runtime-tools
// docs/command-line-interface.md) with runc's flags, over sim/runtime/oci_runtime.
// `isolab bundle CONTAINER DIR`: an OCI bundle of an IsoLab container, for runc or for us.
#include "app/cli/runtime_commands.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <set>

#include "sim/engine/engine.hpp"
#include "sim/runtime/oci_runtime.hpp"
#include "sim/runtime/oci_spec.hpp"

namespace isolab::cli {

namespace {

const char* kRuntimeUsage =
    "Usage: isolab runtime [--root DIR] COMMAND [OPTIONS] ID\n"
    "\n"
    "An OCI runtime (runc-compatible flags). Commands:\n"
    "  create [--bundle|-b DIR] [--pid-file FILE] [--console-socket SOCKET] ID\n"
    "  start ID\n"
    "  state ID\n"
    "  kill [--all|-a] ID [SIGNAL]        (default SIGTERM)\n"
    "  delete [--force|-f] ID\n"
    "  run [--bundle|-b DIR] [--pid-file FILE] [--console-socket SOCKET] [--detach|-d] ID\n"
    "  list [--quiet|-q] [--format table|json]\n"
    "\n"
    "--root is the state directory (default /run/isolab-runtime for root, else\n"
    "$XDG_RUNTIME_DIR/isolab-runtime).\n";

int fail(const std::string& message) {
    std::cerr << message << "\n";
    return 1;
}

int fail(const Error& e) { return fail(e.message); }

// Hook failures that the spec makes warnings (poststart, poststop): printed, not fatal.
void print_warnings(const std::vector<std::string>& warnings) {
    for (const auto& w : warnings) std::cerr << "warning: " << w << "\n";
}

// Options of one subcommand: "--flag VALUE", "--flag=VALUE", "-f VALUE" and booleans; the rest
// are positional.
struct Parsed {
    std::map<std::string, std::string> values;
    std::set<std::string> bools;
    std::vector<std::string> positional;
    std::string error;
};

Parsed parse_options(const std::vector<std::string>& args, size_t from,
                     const std::map<std::string, std::string>& value_flags,  // alias → canonical
                     const std::map<std::string, std::string>& bool_flags) {
    Parsed p;
    for (size_t i = from; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a.size() > 1 && a[0] == '-' && p.positional.empty()) {
            std::string name = a, value;
            bool inline_value = false;
            if (size_t eq = a.find('='); eq != std::string::npos && a.rfind("--", 0) == 0) {
                name = a.substr(0, eq);
                value = a.substr(eq + 1);
                inline_value = true;
            }
            if (auto it = value_flags.find(name); it != value_flags.end()) {
                if (!inline_value) {
                    if (i + 1 >= args.size()) {
                        p.error = "flag " + name + " needs a value";
                        return p;
                    }
                    value = args[++i];
                }
                p.values[it->second] = value;
            } else if (auto b = bool_flags.find(name); b != bool_flags.end()) {
                p.bools.insert(b->second);
            } else {
                p.error = "unknown flag " + name;
                return p;
            }
        } else {
            p.positional.push_back(a);
        }
    }
    return p;
}

const std::map<std::string, std::string> kCreateFlags = {
    {"--bundle", "bundle"}, {"-b", "bundle"}, {"--pid-file", "pid-file"}, {"--console-socket", "console-socket"}};

oci::CreateOptions create_options(const Parsed& p) {
    oci::CreateOptions o;
    o.id = p.positional.empty() ? "" : p.positional[0];
    if (auto it = p.values.find("bundle"); it != p.values.end()) o.bundle = it->second;
    if (auto it = p.values.find("pid-file"); it != p.values.end()) o.pid_file = it->second;
    if (auto it = p.values.find("console-socket"); it != p.values.end()) o.console_socket = it->second;
    return o;
}

// `run` forwards the signals a user sends to the runtime to the container's PID 1, as runc does.
volatile sig_atomic_t g_forward_pid = 0;
void forward_signal(int sig) {
    if (g_forward_pid > 0) ::kill(g_forward_pid, sig);
}

int cmd_run(oci::OciRuntime& rt, const Parsed& p) {
    oci::CreateOptions o = create_options(p);
    bool detach = p.bools.count("detach") > 0;
    o.subreaper = !detach;
    auto created = rt.create(o);
    if (!created) return fail(created.error());
    print_warnings(created->warnings);
    std::vector<std::string> warnings;
    if (auto s = rt.start(o.id, &warnings); !s) {
        (void)rt.remove(o.id, true, &warnings);
        print_warnings(warnings);
        return fail(s.error());
    }
    print_warnings(warnings);
    warnings.clear();
    if (detach) return 0;
    g_forward_pid = created->pid;
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH}) ::signal(sig, forward_signal);
    auto code = rt.wait(o.id);
    g_forward_pid = 0;
    if (auto s = rt.remove(o.id, true, &warnings); !s) std::cerr << s.error().message << "\n";
    print_warnings(warnings);
    if (!code) return fail(code.error());
    return *code;
}

int cmd_list(oci::OciRuntime& rt, const Parsed& p) {
    auto all = rt.list();
    if (p.bools.count("quiet")) {
        for (const auto& s : all) std::cout << s.id << "\n";
        return 0;
    }
    std::string format = p.values.count("format") ? p.values.at("format") : "table";
    if (format == "json") {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& s : all) arr.push_back(oci::state_json(s));
        std::cout << arr.dump() << "\n";
        return 0;
    }
    if (format != "table") return fail("list: --format must be table or json");
    std::vector<std::vector<std::string>> rows = {{"ID", "PID", "STATUS", "BUNDLE", "CREATED"}};
    for (const auto& s : all)
        rows.push_back({s.id, std::to_string(s.pid), oci::status_name(s.status), s.bundle, s.created});
    std::vector<size_t> width(rows[0].size(), 0);
    for (const auto& r : rows)
        for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
    for (const auto& r : rows) {
        std::string line;
        for (size_t i = 0; i < r.size(); ++i)
            line += i + 1 < r.size() ? r[i] + std::string(width[i] - r[i].size() + 3, ' ') : r[i];
        std::cout << line << "\n";
    }
    return 0;
}

}  // namespace

int run_runtime_command(const std::vector<std::string>& args) {
    std::string root = oci::default_runtime_root();
    size_t i = 0;
    // Global flags before the command. --log and --log-format are what containerd passes to
    // every runtime; errors already go to stderr, so they are accepted and not needed.
    while (i < args.size() && args[i].size() > 1 && args[i][0] == '-') {
        std::string a = args[i];
        if (a == "--help" || a == "-h") {
            std::cout << kRuntimeUsage;
            return 0;
        }
        std::string name = a, value;
        bool has_value = false;
        if (size_t eq = a.find('='); eq != std::string::npos) {
            name = a.substr(0, eq);
            value = a.substr(eq + 1);
            has_value = true;
        }
        if (name == "--root" || name == "--log" || name == "--log-format") {
            if (!has_value) {
                if (i + 1 >= args.size()) return fail("runtime: flag " + name + " needs a value");
                value = args[++i];
            }
            if (name == "--root") root = value;
        } else if (name != "--debug" && name != "--systemd-cgroup") {
            return fail("runtime: unknown global flag " + name + "\n" + kRuntimeUsage);
        }
        ++i;
    }
    if (i >= args.size()) {
        std::cerr << kRuntimeUsage;
        return 1;
    }
    std::string cmd = args[i++];
    oci::OciRuntime rt(root);
    auto need_id = [&](const Parsed& p, const char* usage) -> std::optional<int> {
        if (!p.error.empty()) return fail(cmd + ": " + p.error + "\nUsage: isolab runtime " + usage);
        if (p.positional.empty()) return fail(cmd + ": a container id is required\nUsage: isolab runtime " + usage);
        return std::nullopt;
    };

    if (cmd == "create" || cmd == "run") {
        auto bools = cmd == "run" ? std::map<std::string, std::string>{{"--detach", "detach"}, {"-d", "detach"}}
                                  : std::map<std::string, std::string>{};
        Parsed p = parse_options(args, i, kCreateFlags, bools);
        if (auto r = need_id(p, "create [--bundle DIR] [--pid-file FILE] [--console-socket SOCKET] ID")) return *r;
        if (p.positional.size() > 1) return fail(cmd + ": too many arguments (one container id)");
        if (cmd == "run") return cmd_run(rt, p);
        auto created = rt.create(create_options(p));
        if (!created) return fail(created.error());
        print_warnings(created->warnings);
        return 0;
    }
    if (cmd == "start" || cmd == "state") {
        Parsed p = parse_options(args, i, {}, {});
        if (auto r = need_id(p, (cmd + " ID").c_str())) return *r;
        if (cmd == "start") {
            std::vector<std::string> warnings;
            Status s = rt.start(p.positional[0], &warnings);
            print_warnings(warnings);
            return s ? 0 : fail(s.error());
        }
        auto st = rt.state(p.positional[0]);
        if (!st) return fail(st.error());
        std::cout << oci::state_json(*st).dump(2) << "\n";
        return 0;
    }
    if (cmd == "kill") {
        Parsed p = parse_options(args, i, {}, {{"--all", "all"}, {"-a", "all"}});
        if (auto r = need_id(p, "kill [--all] ID [SIGNAL]")) return *r;
        int sig = SIGTERM;
        if (p.positional.size() > 1) {
            auto s = parse_signal(p.positional[1]);
            if (!s) return fail(s.error());
            sig = *s;
        }
        if (auto s = rt.kill(p.positional[0], sig, p.bools.count("all") > 0); !s) return fail(s.error());
        return 0;
    }
    if (cmd == "delete") {
        Parsed p = parse_options(args, i, {}, {{"--force", "force"}, {"-f", "force"}});
        if (auto r = need_id(p, "delete [--force] ID")) return *r;
        std::vector<std::string> warnings;
        Status s = rt.remove(p.positional[0], p.bools.count("force") > 0, &warnings);
        print_warnings(warnings);
        return s ? 0 : fail(s.error());
    }
    if (cmd == "list" || cmd == "ps") {
        Parsed p = parse_options(args, i, {{"--format", "format"}, {"-f", "format"}}, {{"--quiet", "quiet"}, {"-q", "quiet"}});
        if (!p.error.empty()) return fail("list: " + p.error);
        return cmd_list(rt, p);
    }
    return fail("runtime: unknown command \"" + cmd + "\"\n" + kRuntimeUsage);
}

int run_bundle_command(const std::vector<std::string>& args) {
    const char* usage = "Usage: isolab bundle [--root STATE_ROOT] CONTAINER DIR\n"
                        "Writes DIR/config.json and DIR/rootfs: the OCI bundle Docker's engine would hand runc.\n";
    Parsed p = parse_options(args, 0, {{"--root", "root"}}, {{"--help", "help"}, {"-h", "help"}});
    if (p.bools.count("help")) {
        std::cout << usage;
        return 0;
    }
    if (!p.error.empty()) return fail("bundle: " + p.error + "\n" + usage);
    if (p.positional.size() != 2) return fail(std::string("bundle: needs a container and a directory\n") + usage);
    EngineOptions o;
    if (p.values.count("root")) o.root = p.values.at("root");
    auto engine = Engine::open(o);
    if (!engine) return fail(engine.error());
    auto rec = (*engine)->inspect(p.positional[0]);
    if (!rec) return fail("Error response from daemon: " + rec.error().message);
    bool rootless = (*engine)->backend() == Backend::Rootless || rec->backend == Backend::Rootless;
    if (auto s = oci::write_bundle((*engine)->store(), *rec, p.positional[1], rootless); !s) return fail(s.error());
    std::cout << p.positional[1] << "\n";
    return 0;
}

}  // namespace isolab::cli
