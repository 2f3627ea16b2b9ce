#include "app/cli/vm_commands.hpp"

#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <sstream>

#include "app/cli/commands.hpp"
#include "sim/core/clock.hpp"
#include "sim/core/i18n.hpp"
#include "sim/engine/engine.hpp"
#include "sim/state/store.hpp"
#include "sim/vm/qemu.hpp"
#include "sim/vm/race.hpp"
#include "sim/vm/vm_manager.hpp"

namespace isolab::cli {

namespace {

constexpr const char* kVmUsage =
    "Usage:  isolab vm COMMAND\n\n"
    "Manage guest VMs (hosted virtualization: QEMU boots a real guest kernel)\n\n"
    "Commands:\n"
    "  create [-m MEMORY] [--cpus N] [--machine pc|microvm] NAME\n"
    "  start [-d] NAME          boot it (and follow the boot until its web server answers)\n"
    "  stop [-f] NAME           shut it down (-f: power off at once)\n"
    "  pause NAME / resume NAME\n"
    "  rm [-f] NAME\n"
    "  ls                       NAME STATE KERNEL MEMORY VCPUS UPTIME\n"
    "  console NAME [COMMAND...]  run COMMAND in the guest over its serial console, or attach\n"
    "                           to the console (Ctrl-] leaves)\n"
    "  inspect NAME";

std::string root_of(const Command& c) { return c.global_root.empty() ? default_state_root() : c.global_root; }

int fail(std::ostream& err, const Error& e) {
    err << "Error: " << e.message << "\n";
    return e.exit_code;
}

int parse_memory_mib(const std::string& text, int* out) {
    auto bytes = parse_bytes(text);
    if (!bytes) return 0;
    // A bare number means MiB for VMs (VirtualBox's --memory unit).
    bool bare = text.find_first_not_of("0123456789") == std::string::npos;
    *out = bare ? std::stoi(text) : static_cast<int>(*bytes / (1024 * 1024));
    return 1;
}

std::string uptime_text(const vm::VmRecord& r) {
    if (r.state != vm::VmState::Running && r.state != vm::VmState::Paused) return "-";
    int64_t s = (rfc3339_to_unix_ns(now_rfc3339()) - rfc3339_to_unix_ns(r.started_at)) / 1000000000LL;
    return human_duration(s);
}

// `vm console NAME`: the guest's serial console in this terminal, raw, until Ctrl-].
int interactive_console(vm::VmManager& vms, const std::string& name, std::ostream& out, std::ostream& err) {
    auto r = vms.get(name);
    if (!r) return fail(err, r.error());
    if (r->state != vm::VmState::Running) {
        err << "Error: VM \"" << name << "\" is not running (state: " << vm::to_string(r->state) << ")\n";
        return 1;
    }
    if (vm::is_modeled(r->backend)) {
        err << "Error: VM \"" << name << "\" is modeled: there is no guest console to attach to\n";
        return 1;
    }
    auto sock = vm::unix_connect(vms.dir_of(name) + "/serial.sock", 3000);
    if (!sock) return fail(err, sock.error());
    out << "Connected to the serial console of " << name << " (guest kernel " << r->kernel_release
        << "). Press Ctrl-] to leave.\n" << std::flush;
    struct termios saved {};
    bool raw = ::isatty(0) && ::tcgetattr(0, &saved) == 0;
    if (raw) {
        struct termios t = saved;
        ::cfmakeraw(&t);
        ::tcsetattr(0, TCSANOW, &t);
    }
    const char* nl = "\n";
    ssize_t w = ::write(sock->get(), nl, 1);  // a fresh prompt
    (void)w;
    for (;;) {
        struct pollfd fds[2] = {{sock->get(), POLLIN, 0}, {0, POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) break;
        char buf[4096];
        if (fds[0].revents & (POLLIN | POLLHUP)) {
            ssize_t n = ::read(sock->get(), buf, sizeof buf);
            if (n <= 0) break;
            w = ::write(1, buf, static_cast<size_t>(n));
        }
        if (fds[1].revents & (POLLIN | POLLHUP)) {
            ssize_t n = ::read(0, buf, sizeof buf);
            if (n <= 0) break;
            if (std::memchr(buf, 0x1d, static_cast<size_t>(n))) break;  // Ctrl-]
            w = ::write(sock->get(), buf, static_cast<size_t>(n));
        }
    }
    if (raw) ::tcsetattr(0, TCSANOW, &saved);
    out << "\n";
    return 0;
}

}  // namespace

int run_vm_command(const Command& c, std::ostream& out, std::ostream& err) {
    const auto& a = c.rest;
    if (a.empty() || a[0] == "--help" || a[0] == "-h" || a[0] == "help") {
        out << kVmUsage << "\n";
        return a.empty() ? 1 : 0;
    }
    vm::VmManager vms(root_of(c));
    vms.collect_garbage();
    const std::string sub = a[0];
    std::vector<std::string> pos;
    bool force = false, detach = false;
    int memory = 256, cpus = 1;
    std::string machine = "pc";
    for (size_t i = 1; i < a.size(); ++i) {
        const std::string& w = a[i];
        auto value = [&](const char* flag) -> const std::string* {
            if (i + 1 >= a.size()) {
                err << "flag needs an argument: " << flag << "\n";
                return nullptr;
            }
            return &a[++i];
        };
        if (sub == "console" && !pos.empty()) {
            pos.push_back(w);  // the guest command, verbatim
        } else if (w == "-f" || w == "--force") {
            force = true;
        } else if (w == "-d" || w == "--detach") {
            detach = true;
        } else if (w == "-m" || w == "--memory") {
            auto v = value("--memory");
            if (!v) return 125;
            if (!parse_memory_mib(*v, &memory)) {
                err << "invalid memory: " << *v << " (use e.g. 256m or 1g)\n";
                return 125;
            }
        } else if (w == "--cpus") {
            auto v = value("--cpus");
            if (!v) return 125;
            cpus = std::atoi(v->c_str());
        } else if (w == "--machine") {
            auto v = value("--machine");
            if (!v) return 125;
            machine = *v;
        } else if (w == "--name") {
            auto v = value("--name");
            if (!v) return 125;
            pos.insert(pos.begin(), *v);
        } else if (!w.empty() && w[0] == '-') {
            err << "unknown flag: " << w << "\n\n" << kVmUsage << "\n";
            return 125;
        } else {
            pos.push_back(w);
        }
    }
    auto need_name = [&]() -> bool {
        if (!pos.empty()) return true;
        err << "\"isolab vm " << sub << "\" requires a VM name.\nSee 'isolab vm --help'.\n";
        return false;
    };
    if (sub == "ls" || sub == "list") {
        std::vector<std::vector<std::string>> rows = {{"NAME", "STATE", "KERNEL", "MEMORY", "VCPUS", "UPTIME"}};
        for (const auto& r : vms.list()) {
            std::string state(vm::to_string(r.state));
            if (vm::is_modeled(r.backend)) state += " (modeled)";
            rows.push_back({r.name, state, r.kernel_release.empty() ? "-" : r.kernel_release,
                            std::to_string(r.memory_mib) + "MiB", std::to_string(r.vcpus), uptime_text(r)});
        }
        out << format_table(rows);
        return 0;
    }
    if (!need_name()) return 125;
    const std::string& name = pos[0];
    if (sub == "create") {
        auto r = vms.create(name, memory, cpus, machine);
        if (!r) return fail(err, r.error());
        if (vm::is_modeled(r->backend))
            err << "WARNING: QEMU or the guest kernel is missing here: this VM is modeled (see isolab doctor)\n";
        out << name << "\n";
        return 0;
    }
    if (sub == "start") {
        vm::BootOptions o;
        o.wait = !detach;
        o.on_stage = [&](const std::string& stage, double ms) {
            out << "  " << stage << " done at " << static_cast<int>(ms) << " ms\n" << std::flush;
        };
        auto r = vms.start(name, o);
        if (!r) return fail(err, r.error());
        if (detach) {
            out << name << "\n";
            return 0;
        }
        out << name << ": running, guest kernel " << r->kernel_release << ", page answered after "
            << static_cast<int>(r->answered_ms) << " ms (" << vm::to_string(r->backend)
            << (vm::is_modeled(r->backend) ? ", modeled" : "")
            << ")\n";
        return 0;
    }
    if (sub == "stop") {
        auto r = vms.stop(name, force);
        if (!r) return fail(err, r.error());
        out << name << "\n";
        return 0;
    }
    if (sub == "pause" || sub == "resume") {
        auto r = sub == "pause" ? vms.pause(name) : vms.resume(name);
        if (!r) return fail(err, r.error());
        out << name << "\n";
        return 0;
    }
    if (sub == "rm") {
        int rc = 0;
        for (const auto& n : pos) {
            if (auto s = vms.remove(n, force); !s) rc = fail(err, s.error());
            else out << n << "\n";
        }
        return rc;
    }
    if (sub == "inspect") {
        auto r = vms.get(name);
        if (!r) return fail(err, r.error());
        out << vm::to_json(*r).dump(4) << "\n";
        return 0;
    }
    if (sub == "console") {
        if (pos.size() < 2) return interactive_console(vms, name, out, err);
        auto r = vms.console_run(name, std::vector<std::string>(pos.begin() + 1, pos.end()));
        if (!r) return fail(err, r.error());
        out << *r;
        return 0;
    }
    err << "isolab vm: unknown command '" << sub << "'\nSee 'isolab vm --help'.\n";
    return 125;
}

int run_race_command(const Command& c, std::ostream& out, std::ostream& err) {
    bool as_json = false;
    vm::RaceOptions o;
    for (size_t i = 0; i < c.rest.size(); ++i) {
        const std::string& w = c.rest[i];
        if (w == "--json") as_json = true;
        else if (w == "--runs" && i + 1 < c.rest.size()) o.runs = std::atoi(c.rest[++i].c_str());
        else if (w.rfind("--runs=", 0) == 0) o.runs = std::atoi(w.c_str() + 7);
        else if (w == "--machine" && i + 1 < c.rest.size()) o.machine = c.rest[++i];
        else if (w == "--help" || w == "-h") {
            out << "Usage:  isolab race [--json] [--runs N] [--machine pc|microvm]\n\n"
                   "Boots a VM and starts a container that serve the same page, one after the other,\n"
                   "and reports the time until each answers over HTTP, with the stages on the way.\n";
            return 0;
        } else {
            err << "unknown flag: " << w << "\nSee 'isolab race --help'.\n";
            return 125;
        }
    }
    if (o.runs < 1 || o.runs > 50) {
        err << "invalid --runs " << o.runs << ": use 1 to 50\n";
        return 125;
    }
    EngineOptions eo;
    eo.root = c.global_root;
    auto engine = Engine::open(eo);
    if (!engine) return fail(err, engine.error());
    if (!as_json)
        o.progress = [&](const std::string& side, const std::string& what) {
            err << "[" << (side == "vm" ? std::string("VM") : side == "container" ? i18n::tr("race.container") : side)
                << "] " << what << "\n";
        };
    auto r = vm::run_race(**engine, (*engine)->store().root(), o);
    if (!r) return fail(err, r.error());
    if (as_json) out << vm::to_json(*r).dump() << "\n";
    else out << "\n" << vm::format_race(*r);
    return 0;
}

}  // namespace isolab::cli
