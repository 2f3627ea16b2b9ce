#include "app/cli/everyday_commands.hpp"

#include <signal.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <optional>
#include <thread>
#include <tuple>

#include "app/cli/commands.hpp"
#include "app/cli/go_template.hpp"
#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/core/i18n.hpp"
#include "sim/core/process.hpp"
#include "sim/core/strings.hpp"
#include "sim/host/probe.hpp"
#include "sim/runtime/cgroup.hpp"
#include "sim/runtime/container_stats.hpp"
#include "sim/runtime/json_log.hpp"
#include "sim/runtime/runtime.hpp"

namespace isolab::cli {

using nlohmann::json;

namespace {

constexpr const char* kDaemon = "Error response from daemon: ";
constexpr const char* kIsoLabVersion = "0.1.0";

int fail(std::ostream& err, const Error& e, const std::string& prefix = kDaemon) {
    err << prefix << e.message << "\n";
    return e.exit_code;
}

// go-units' getSizeAndUnit + CustomSize: divide by BASE while the size reaches it.
std::string custom_size(double size, double base, const std::vector<const char*>& units, int precision) {
    size_t i = 0;
    while (size >= base && i + 1 < units.size()) {
        size /= base;
        ++i;
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*g%s", precision, size, units[i]);
    return buf;
}

}  // namespace

std::string bytes_size(double bytes) {
    return custom_size(bytes, 1024.0, {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"}, 4);
}

std::string human_size(double bytes) {
    return custom_size(bytes, 1000.0, {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"}, 3);
}

// ---------------------------------------------------------------------------------------------
// rename

int run_rename_command(Engine& e, const Command& c, std::ostream&, std::ostream& err) {
    const std::string old_name = trim(c.args.at(0)), new_name = trim(c.args.at(1));
    if (old_name.empty() || new_name.empty()) {
        err << "Error: Neither old nor new names may be empty\n";
        return 1;
    }
    if (auto r = e.rename(old_name, new_name); !r) {
        // Docker's client prints the daemon's error, then its own line.
        err << kDaemon << r.error().message << "\n";
        err << "Error: failed to rename container named " << old_name << "\n";
        return 1;
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------
// update

int run_update_command(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    // Docker prints each container that was updated as it goes, and the errors together at the end.
    std::vector<std::string> errors;
    for (const auto& ref : c.args) {
        auto r = e.update(ref, c.update);
        if (!r) {
            errors.push_back(kDaemon + r.error().message);
            continue;
        }
        if (r->backend == Backend::Simulated)
            err << "WARNING: " << r->name << " is simulated: the new limits are stored, no cgroup holds them\n";
        out << ref << "\n";
    }
    for (const auto& line : errors) err << line << "\n";
    return errors.empty() ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------
// stats

namespace {

volatile std::sig_atomic_t g_stats_interrupted = 0;

struct StatsRow {
    ContainerRecord rec;
    std::string typed;  // what the user named it by ("" when listed)
    StatsSample before, after;
    bool measured = false;
};

// The group's directories: those the start recorded, else found by name under this host's parents.
std::vector<std::string> cgroup_dirs(const ContainerRecord& rec) {
    if (!rec.cgroup_paths.empty()) return rec.cgroup_paths;
    std::vector<std::string> dirs;
    if (rec.cgroup_name.empty()) return dirs;
    for (const auto& parent : cgroup_probe().parents)
        if (path_exists(parent + "/" + rec.cgroup_name)) dirs.push_back(parent + "/" + rec.cgroup_name);
    return dirs;
}

bool measurable(const ContainerRecord& r) {
    return r.backend != Backend::Simulated && container_has_process(r.state) && r.pid > 0;
}

json stats_json(const StatsRow& row, bool no_trunc) {
    const ContainerRecord& r = row.rec;
    std::string name = r.name + (r.backend == Backend::Simulated ? " (simulated)" : "");
    std::string id = no_trunc ? r.id : r.id.substr(0, 12);
    std::string container = row.typed.empty() ? id : row.typed;
    if (!row.measured) {
        // Docker's row for a container that is not running (with -a), and IsoLab's for a
        // simulated one: zeros, the name saying which.
        return {{"Container", container}, {"Name", name}, {"ID", id}, {"CPUPerc", "0.00%"}, {"MemUsage", "0B / 0B"},
                {"MemPerc", "0.00%"}, {"NetIO", "0B / 0B"}, {"BlockIO", "0B / 0B"}, {"PIDs", "0"}};
    }
    const StatsSample& s = row.after;
    char cpu[32], mem[32];
    std::snprintf(cpu, sizeof cpu, "%.2f%%", cpu_percent(row.before, s));
    std::snprintf(mem, sizeof mem, "%.2f%%", mem_percent(s));
    return {{"Container", container},
            {"Name", name},
            {"ID", id},
            {"CPUPerc", cpu},
            {"MemUsage", bytes_size(static_cast<double>(s.mem_usage)) + " / " + bytes_size(static_cast<double>(s.mem_limit))},
            {"MemPerc", mem},
            {"NetIO", human_size(static_cast<double>(s.net_rx)) + " / " + human_size(static_cast<double>(s.net_tx))},
            {"BlockIO", human_size(static_cast<double>(s.blk_read)) + " / " + human_size(static_cast<double>(s.blk_write))},
            {"PIDs", std::to_string(s.pids)}};
}

const json& stats_titles() {
    static const json titles = {{"Container", "CONTAINER"}, {"Name", "NAME"},   {"ID", "CONTAINER ID"},
                                {"CPUPerc", "CPU %"},       {"MemUsage", "MEM USAGE / LIMIT"},
                                {"MemPerc", "MEM %"},       {"NetIO", "NET I/O"}, {"BlockIO", "BLOCK I/O"},
                                {"PIDs", "PIDS"}};
    return titles;
}

constexpr const char* kStatsContext = "*container.statsContext";
constexpr const char* kStatsDefault =
    "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";
const std::vector<std::string> kStatsFields = {"Container", "Name",  "ID",      "CPUPerc", "MemUsage",
                                               "MemPerc",   "NetIO", "BlockIO", "PIDs"};

// The containers to show: those named (each must exist), else the running ones (all with -a).
Result<std::vector<StatsRow>> stats_targets(Engine& e, const Command& c) {
    std::vector<StatsRow> rows;
    if (!c.args.empty()) {
        for (const auto& ref : c.args) {
            auto r = e.inspect(ref);
            if (!r) return r.error();
            rows.push_back({*r, ref, {}, {}, false});
        }
        return rows;
    }
    auto recs = e.list(c.all);
    std::reverse(recs.begin(), recs.end());  // oldest first, as Docker lists them
    for (auto& r : recs) rows.push_back({r, "", {}, {}, false});
    return rows;
}

// Two samples of every measurable row, INTERVAL_MS apart (Docker's daemon collects one a second
// and reports it with the one before: CPU % needs the difference).
void measure(std::vector<StatsRow>& rows, int interval_ms, int64_t host_memory) {
    for (auto& row : rows)
        if (measurable(row.rec)) row.before = sample_container(cgroup_dirs(row.rec), row.rec.pid, host_memory);
    sleep_ms(interval_ms);
    for (auto& row : rows) {
        if (!measurable(row.rec)) continue;
        row.after = sample_container(cgroup_dirs(row.rec), row.rec.pid, host_memory);
        row.measured = true;
    }
}

}  // namespace

int run_stats_command(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    const std::string format = c.format.empty() || is_default_table(c.format) ? kStatsDefault : c.format;
    if (auto ok = validate_listing_format(format, kStatsFields, kStatsContext); !ok) return fail(err, ok.error(), "");
    const int64_t host_memory = host_memory_bytes();
    const bool terminal = &out == &std::cout && ::isatty(STDOUT_FILENO);
    if (!c.no_stream) {
        g_stats_interrupted = 0;
        struct sigaction sa = {};
        sa.sa_handler = [](int) { g_stats_interrupted = 1; };
        sigemptyset(&sa.sa_mask);
        ::sigaction(SIGINT, &sa, nullptr);
        ::sigaction(SIGTERM, &sa, nullptr);
    }
    bool noted = false;
    for (;;) {
        auto rows = stats_targets(e, c);
        if (!rows) return fail(err, rows.error());
        measure(*rows, c.no_stream ? 1000 : 1000, host_memory);
        std::vector<json> data;
        bool simulated = false;
        for (const auto& row : *rows) {
            data.push_back(stats_json(row, c.no_trunc));
            simulated = simulated || row.rec.backend == Backend::Simulated;
        }
        std::ostringstream table;
        if (auto printed = print_formatted(format, data, stats_titles(), kStatsContext, table); !printed)
            return fail(err, printed.error(), "");
        if (terminal && !c.no_stream) out << "\033[2J\033[H";  // Docker's redraw: clear, cursor home
        out << table.str() << std::flush;
        if (simulated && !noted) {
            err << i18n::tr("cli.stats.simulated_note") << "\n";
            noted = true;
        }
        if (c.no_stream || g_stats_interrupted) return 0;
        if (g_stats_interrupted) return 0;
    }
}

// ---------------------------------------------------------------------------------------------
// events

namespace {

std::string fixed_rfc3339(int64_t ns) {
    time_t sec = static_cast<time_t>(ns / 1'000'000'000);
    long frac = static_cast<long>(ns % 1'000'000'000);
    struct tm tm;
    ::gmtime_r(&sec, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char out[80];
    std::snprintf(out, sizeof out, "%s.%09ldZ", buf, frac);
    return out;
}

std::string json_word(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
    return v.dump();
}

}  // namespace

DockerEvent docker_event_from(const json& j, std::map<std::string, std::string>& images) {
    DockerEvent ev;
    const std::string word = j.value("type", "");
    ev.time_ns = rfc3339_to_unix_ns(j.value("time", ""));
    static const std::set<std::string> kContainer = {"create", "start",  "die",    "stop",   "kill",
                                                     "pause",  "unpause", "restart", "destroy", "rename",
                                                     "update", "commit", "archive-path", "extract-to-dir"};
    auto attr = [&](const char* from, const char* to) {
        if (j.contains(from) && !j[from].is_null()) ev.attributes[to] = json_word(j[from]);
    };
    if (kContainer.count(word) || word == "exec_create" || word == "exec_start" || word == "exec_die" ||
        word == "health_status") {
        ev.type = "container";
        ev.action = word;
        ev.actor_id = j.value("id", "");
        if (word == "create" && j.contains("image")) images[ev.actor_id] = json_word(j["image"]);
        if (word == "commit") {
            attr("image", "imageID");
        } else if (j.contains("image")) {
            attr("image", "image");
        }
        if (!ev.attributes.count("image") && images.count(ev.actor_id)) ev.attributes["image"] = images[ev.actor_id];
        attr("name", "name");
        if (word == "die") attr("exitCode", "exitCode");
        if (word == "kill") attr("signal", "signal");
        if (word == "rename") attr("oldName", "oldName");
        // Docker's exec_create/exec_start name the command in the action ("exec_start: sh -c ls").
        if ((word == "exec_create" || word == "exec_start") && j.contains("cmd") && j["cmd"].is_array()) {
            std::string cmd;
            for (const auto& w : j["cmd"]) cmd += (cmd.empty() ? "" : " ") + json_word(w);
            ev.action = word + ": " + cmd;
        }
        if (word == "exec_die") attr("exitCode", "exitCode");
        if (word.rfind("exec_", 0) == 0) attr("execID", "execID");  // a health check's probe has one
        if (word == "health_status") ev.action = "health_status: " + j.value("status", "");
        return ev;
    }
    if (word.rfind("network_", 0) == 0) {
        ev.type = "network";
        ev.action = word.substr(8);
        ev.actor_id = j.contains("network") ? json_word(j["network"]) : j.value("id", "");
        if (word == "network_connect" || word == "network_disconnect") {
            attr("id", "container");
            ev.attributes["name"] = ev.actor_id;
        } else {
            attr("name", "name");
            if (j.contains("id")) ev.actor_id = json_word(j["id"]);
        }
        ev.attributes["type"] = "bridge";
        return ev;
    }
    // moby's LogVolumeEvent: the volume's name as the actor, its driver as the attribute; a prune
    // has no actor and says what it reclaimed.
    if (word.rfind("volume_", 0) == 0) {
        ev.type = "volume";
        ev.action = word.substr(7);
        ev.actor_id = j.value("name", "");
        attr("driver", "driver");
        attr("reclaimed", "reclaimed");
        return ev;
    }
    // What Docker has no event for keeps IsoLab's words: vm_start → vm start, build → isolab build.
    if (word.rfind("vm_", 0) == 0) {
        ev.type = "vm";
        ev.action = word.substr(3);
    } else {
        ev.type = "isolab";
        ev.action = word;
    }
    for (auto& [k, v] : j.items())
        if (k != "type" && k != "time") ev.attributes[k] = json_word(v);
    ev.actor_id = ev.attributes.count("id") ? ev.attributes["id"] : ev.attributes.count("name") ? ev.attributes["name"] : "";
    ev.attributes.erase("id");
    return ev;
}

std::string event_line(const DockerEvent& ev) {
    std::string line = fixed_rfc3339(ev.time_ns) + " " + ev.type + " " + ev.action + " " + ev.actor_id;
    if (!ev.attributes.empty()) {
        std::string attrs;
        for (const auto& [k, v] : ev.attributes) attrs += (attrs.empty() ? "" : ", ") + k + "=" + v;
        line += " (" + attrs + ")";
    }
    return line;
}

json event_json(const DockerEvent& ev) {
    json j = {{"Type", ev.type},
              {"Action", ev.action},
              {"Actor", {{"ID", ev.actor_id}, {"Attributes", ev.attributes}}},
              {"scope", "local"},
              {"time", ev.time_ns / 1'000'000'000},
              {"timeNano", ev.time_ns}};
    if (ev.type == "container") {
        // The deprecated fields Docker still sends for container events.
        j["status"] = ev.action;
        j["id"] = ev.actor_id;
        if (ev.attributes.count("image")) j["from"] = ev.attributes.at("image");
    }
    return j;
}

Result<EventFilter> EventFilter::parse(const std::vector<std::string>& words) {
    EventFilter f;
    static const std::set<std::string> kServed = {"container", "event", "type", "image", "network", "volume"};
    static const std::set<std::string> kDocker = {"config", "daemon",  "label",  "node",  "plugin",
                                                  "scope",  "secret", "service"};
    for (const auto& w : words) {
        size_t eq = w.find('=');
        if (eq == std::string::npos)
            return make_error("invalid argument \"" + w + "\" for \"-f, --filter\" flag: bad format of filter (expected name=value)", 125);
        std::string key = trim(w.substr(0, eq)), value = trim(w.substr(eq + 1));
        if (!kServed.count(key)) {
            if (kDocker.count(key))
                return make_error(std::string(kDaemon) + "the events filter '" + key +
                                      "' is not served by IsoLab (it filters on container, event, type, image, network and volume)",
                                  1);
            return make_error(std::string(kDaemon) + "invalid filter '" + key + "'", 1);
        }
        f.values[key].push_back(value);
    }
    return f;
}

bool EventFilter::matches(const DockerEvent& ev) const {
    auto any_of = [&](const std::string& key, auto pred) {
        auto it = values.find(key);
        if (it == values.end()) return true;
        return std::any_of(it->second.begin(), it->second.end(), pred);
    };
    auto attr = [&](const char* k) {
        auto it = ev.attributes.find(k);
        return it == ev.attributes.end() ? std::string() : it->second;
    };
    // Docker's matchEvent compares the action before its ':' ("exec_start: sh" is exec_start).
    const std::string action = ev.action.substr(0, ev.action.find(':'));
    return any_of("type", [&](const std::string& v) { return v == ev.type; }) &&
           any_of("event", [&](const std::string& v) { return v == action; }) &&
           any_of("container", [&](const std::string& v) {
               // FuzzyMatch: the id or its prefix, or the name.
               return ev.type == "container" && !v.empty() &&
                      (ev.actor_id.rfind(v, 0) == 0 || attr("name") == v || attr("container").rfind(v, 0) == 0);
           }) &&
           any_of("image", [&](const std::string& v) {
               std::string image = attr("image");
               auto bare = [](std::string s) { return s.size() > 7 && s.rfind(":latest") == s.size() - 7 ? s.substr(0, s.size() - 7) : s; };
               return !image.empty() && (image == v || bare(image) == bare(v));
           }) &&
           any_of("network", [&](const std::string& v) { return ev.type == "network" && (ev.actor_id == v || attr("name") == v); }) &&
           any_of("volume", [&](const std::string& v) { return ev.type == "volume" && !v.empty() && ev.actor_id.rfind(v, 0) == 0; });
}

namespace {
volatile std::sig_atomic_t g_events_interrupted = 0;
}

int run_events_command(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    auto filter = EventFilter::parse(c.filters);
    if (!filter) {
        err << (filter.error().exit_code == 125 ? "isolab: " : "") << filter.error().message << "\n";
        return filter.error().exit_code;
    }
    std::optional<GoTemplate> tmpl;
    if (!c.format.empty()) {
        auto t = GoTemplate::parse(c.format == "json" ? "{{json .}}" : c.format);
        if (!t) return fail(err, make_error("template parsing error: " + t.error().message, 64), "");
        tmpl = std::move(*t);
    }
    const int64_t now = rfc3339_to_unix_ns(now_rfc3339());
    int64_t since = 0, until = 0;
    for (auto [value, bound, name] : {std::tuple{&c.since, &since, "since"}, std::tuple{&c.until, &until, "until"}}) {
        if (value->empty()) continue;
        auto t = parse_log_time(*value, now);
        if (!t) return fail(err, make_error(t.error().wrap(std::string("invalid value for \"") + name + "\"").message, 1), "");
        *bound = *t;
    }
    if (since != 0 && until != 0 && since > until)
        return fail(err, make_error("`since` time (" + c.since + ") cannot be after `until` time (" + c.until + ")", 1));
    const std::string path = e.store().root() + "/events.jsonl";
    std::ifstream in(path);
    // Without --since or --until Docker streams only what happens from now on.
    const bool replay = since != 0 || until != 0;
    if (!replay && in) in.seekg(0, std::ios::end);
    g_events_interrupted = 0;
    struct sigaction sa = {};
    sa.sa_handler = [](int) { g_events_interrupted = 1; };
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
    std::map<std::string, std::string> images;
    // Images of containers made before the window opens: from their records.
    for (const auto& r : e.list(true)) images[r.id] = r.spec.image;
    std::string partial;
    for (;;) {
        std::string line;
        bool got = false;
        if (in && std::getline(in, line)) {
            got = true;
            if (in.eof()) {  // no newline yet: a writer is mid-line; keep it for the next read
                partial += line;
                in.clear();
                got = false;
            } else {
                line = partial + line;
                partial.clear();
            }
        }
        if (got) {
            auto j = json::parse(line, nullptr, false);
            if (j.is_discarded() || !j.is_object()) continue;
            DockerEvent ev = docker_event_from(j, images);
            if (since != 0 && ev.time_ns < since) continue;
            if (until != 0 && ev.time_ns > until) break;
            if (!filter->matches(ev)) continue;
            if (tmpl) {
                auto text = tmpl->execute({event_json(ev), "", false});
                if (!text) return fail(err, make_error("template parsing error: " + text.error().message, 1), "");
                out << *text << "\n" << std::flush;
            } else {
                out << event_line(ev) << "\n" << std::flush;
            }
            continue;
        }
        // At the end of the log: done once --until has passed, else wait for more.
        if (until != 0 && rfc3339_to_unix_ns(now_rfc3339()) > until) break;
        if (g_events_interrupted) break;
        if (!in.is_open()) in.open(path);
        in.clear();
        sleep_ms(100);
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------
// info and version

namespace {

std::string backing_filesystem(const std::string& dir) {
    struct statfs st;
    if (::statfs(dir.c_str(), &st) != 0) return "unknown";
    switch (static_cast<unsigned long>(st.f_type)) {
        case 0xEF53: return "extfs";
        case 0x58465342: return "xfs";
        case 0x9123683E: return "btrfs";
        case 0x01021994: return "tmpfs";
        case 0x794C7630: return "overlayfs";
        default: return "unknown";
    }
}

json info_json(Engine& e, const host::HostReport& h) {
    int running = 0, paused = 0, stopped = 0;
    auto all = e.list(true);
    for (const auto& r : all) {
        if (r.state == ContainerState::Paused) ++paused;
        else if (r.state == ContainerState::Running || r.state == ContainerState::Restarting) ++running;
        else ++stopped;
    }
    const bool overlay = h.overlay && !(std::getenv("ISOLAB_ROOTFS") && std::string(std::getenv("ISOLAB_ROOTFS")) == "copy") &&
                         (e.backend() == Backend::Namespaces || (e.backend() == Backend::Rootless && h.overlay_in_userns));
    const std::string root = e.store().root();
    json driver_status = json::array();
    if (overlay) {
        driver_status.push_back(json::array({"Backing Filesystem", backing_filesystem(root)}));
        driver_status.push_back(json::array({"Supports d_type", "true"}));
    } else {
        driver_status.push_back(json::array({"Backing Filesystem", backing_filesystem(root)}));
        driver_status.push_back(json::array({"IsoLab", "each container gets a copied root file system (overlayfs is not usable here)"}));
    }
    json runtimes = {{"isolab", {{"path", self_dir() + "/isolab-monitor"}}}};
    if (!runc_binary().empty()) runtimes["runc"] = {{"path", runc_binary()}};
    const std::string cgroup_version = h.cgroup_layout == CgroupLayout::V2 ? "2" : h.cgroup_layout == CgroupLayout::None ? "" : "1";
    char hostname[256] = {};
    ::gethostname(hostname, sizeof hostname - 1);
    long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
    return {{"Containers", all.size()},
            {"ContainersRunning", running},
            {"ContainersPaused", paused},
            {"ContainersStopped", stopped},
            {"Images", e.images().list().size()},
            {"Driver", overlay ? "overlay2" : "vfs"},
            {"DriverStatus", driver_status},
            {"CgroupDriver", h.cgroup_writable ? "cgroupfs" : "none"},
            {"CgroupVersion", cgroup_version},
            {"Runtimes", runtimes},
            {"DefaultRuntime", "isolab"},
            {"KernelVersion", h.kernel},
            {"OperatingSystem", h.distro},
            {"OSType", "linux"},
            {"Architecture", h.arch},
            {"NCPU", cpus > 0 ? cpus : 1},
            {"MemTotal", host_memory_bytes()},
            {"Name", hostname},
            {"DockerRootDir", root},
            {"ServerVersion", kIsoLabVersion},
            {"Debug", false},
            {"IsoLabBackend", e.backend_name()},
            {"ClientInfo", {{"Version", kIsoLabVersion}, {"Context", "default"}, {"Debug", false}}}};
}

std::string info_text(const json& i) {
    std::ostringstream o;
    o << "Client:\n Version:    " << i["ClientInfo"]["Version"].get<std::string>() << "\n Context:    default\n"
      << " Debug Mode: false\n\nServer:\n";
    o << " Containers: " << i["Containers"] << "\n  Running: " << i["ContainersRunning"] << "\n  Paused: "
      << i["ContainersPaused"] << "\n  Stopped: " << i["ContainersStopped"] << "\n";
    o << " Images: " << i["Images"] << "\n";
    o << " Server Version: " << i["ServerVersion"].get<std::string>() << "\n";
    o << " Storage Driver: " << i["Driver"].get<std::string>() << "\n";
    for (const auto& kv : i["DriverStatus"]) o << "  " << kv[0].get<std::string>() << ": " << kv[1].get<std::string>() << "\n";
    o << " Cgroup Driver: " << i["CgroupDriver"].get<std::string>() << "\n";
    o << " Cgroup Version: " << i["CgroupVersion"].get<std::string>() << "\n";
    std::string runtimes;
    for (auto& [name, v] : i["Runtimes"].items()) runtimes += (runtimes.empty() ? "" : " ") + name;
    o << " Runtimes: " << runtimes << "\n";
    o << " Default Runtime: " << i["DefaultRuntime"].get<std::string>() << "\n";
    o << " IsoLab Backend: " << i["IsoLabBackend"].get<std::string>() << "\n";
    o << " Kernel Version: " << i["KernelVersion"].get<std::string>() << "\n";
    o << " Operating System: " << i["OperatingSystem"].get<std::string>() << "\n";
    o << " OSType: linux\n";
    o << " Architecture: " << i["Architecture"].get<std::string>() << "\n";
    o << " CPUs: " << i["NCPU"] << "\n";
    o << " Total Memory: " << bytes_size(static_cast<double>(i["MemTotal"].get<int64_t>())) << "\n";
    o << " Name: " << i["Name"].get<std::string>() << "\n";
    o << " Docker Root Dir: " << i["DockerRootDir"].get<std::string>() << "\n";
    o << " Debug Mode: false\n";
    return o.str();
}

// `info --format` and `version --format`: one object, Docker's template rules (json, fields).
int print_one(const std::string& format, const json& data, std::ostream& out, std::ostream& err) {
    auto tmpl = parse_inspect_format(format == "json" ? "{{json .}}" : format);
    if (!tmpl) return fail(err, tmpl.error(), "");
    auto printed = print_inspect(*tmpl, json::array({data}), out);
    return printed ? 0 : fail(err, printed.error(), "");
}

}  // namespace

int run_info_command(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    host::ProbeOptions options;
    options.child_probes = false;  // files only: `info` must answer at once
    const host::HostReport h = host::probe_host(options);
    json info = info_json(e, h);
    if (!c.format.empty()) return print_one(c.format, info, out, err);
    out << info_text(info);
    return 0;
}

int run_version_format(const Command& c, std::ostream& out, std::ostream& err) {
    struct utsname u;
    ::uname(&u);
    const std::string arch = std::string(u.machine) == "x86_64" ? "amd64" : std::string(u.machine) == "aarch64" ? "arm64" : u.machine;
    json data = {{"Client", {{"Version", kIsoLabVersion}, {"Os", "linux"}, {"Arch", arch}, {"Context", "default"}}},
                 {"Server", {{"Version", kIsoLabVersion}, {"Os", "linux"}, {"Arch", arch}, {"KernelVersion", u.release}}}};
    EngineOptions o;
    o.root = c.global_root;
    if (auto engine = Engine::open(o)) data["Server"]["Backend"] = (*engine)->backend_name();
    return print_one(c.format, data, out, err);
}

}  // namespace isolab::cli
