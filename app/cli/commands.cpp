#include "app/cli/commands.hpp"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include <nlohmann/json.hpp>

#include "sim/core/process.hpp"
#include "app/cli/completion.hpp"
#include "app/cli/doctor.hpp"
#include "app/cli/everyday_commands.hpp"
#include "app/cli/cp_command.hpp"
#include "app/cli/export_commands.hpp"
#include "app/cli/pull_command.hpp"
#include "app/cli/push_command.hpp"
#include "app/cli/registry_commands.hpp"
#include "app/cli/filters.hpp"
#include "app/cli/list_format.hpp"
#include "app/cli/go_template.hpp"
#include "app/cli/vm_commands.hpp"
#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/core/i18n.hpp"
#include "sim/engine/engine.hpp"
#include "sim/net/firewall.hpp"
#include "sim/runtime/attach.hpp"
#include "sim/state/volumes.hpp"
#include "app/cli/lesson_commands.hpp"
#include "app/cli/network_commands.hpp"
#include "app/cli/volume_commands.hpp"
#include "app/cli/prune_commands.hpp"
#include "app/cli/runtime_commands.hpp"
#include "sim/engine/build.hpp"
#include "sim/engine/image_archive.hpp"
#include "sim/runtime/json_log.hpp"

namespace isolab::cli {

using nlohmann::json;

std::string format_table(const std::vector<std::vector<std::string>>& rows, size_t min_width) {
    std::vector<size_t> width;
    auto display_len = [](const std::string& s) {
        size_t n = 0;
        for (unsigned char c : s) n += (c & 0xC0) != 0x80;  // count UTF-8 code points
        return n;
    };
    for (const auto& r : rows)
        for (size_t i = 0; i < r.size(); ++i) {
            if (width.size() <= i) width.push_back(0);
            width[i] = std::max(width[i], display_len(r[i]));
        }
    std::string out;
    for (const auto& r : rows) {
        std::string line;
        for (size_t i = 0; i < r.size(); ++i) {
            line += r[i];
            if (i + 1 < r.size()) line += std::string(std::max(width[i] + 3, min_width) - display_len(r[i]), ' ');
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line + "\n";
    }
    return out;
}

namespace {

constexpr const char* kDaemon = "Error response from daemon: ";

int fail(std::ostream& err, const Error& e, const std::string& prefix = kDaemon) {
    err << prefix << e.message << "\n";
    return e.exit_code;
}

// Docker's ellipsis: cut to n code points, the last one "…".
std::string ellipsis(const std::string& s, size_t n) {
    std::vector<std::string> cps;
    for (size_t i = 0; i < s.size();) {
        size_t len = 1;
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 0xF0) len = 4;
        else if (c >= 0xE0) len = 3;
        else if (c >= 0xC0) len = 2;
        cps.push_back(s.substr(i, len));
        i += len;
    }
    if (cps.size() <= n) return s;
    std::string out;
    for (size_t i = 0; i + 1 < n; ++i) out += cps[i];
    return out + "…";
}

int64_t seconds_since(const std::string& rfc3339) {
    int64_t t = rfc3339_to_unix_ns(rfc3339);
    if (t == 0) return 0;
    return (rfc3339_to_unix_ns(now_rfc3339()) - t) / 1000000000LL;
}

std::string status_text(const ContainerRecord& r);

// Every place a learner sees a simulated container says so.
std::string labeled_status(const ContainerRecord& r) {
    return r.backend == Backend::Simulated ? status_text(r) + " (simulated)" : status_text(r);
}

std::string status_text(const ContainerRecord& r) {
    switch (r.state) {
        case ContainerState::Created: return "Created";
        case ContainerState::Running:
            // Docker's State.String(): the health in parentheses ("health: starting", "healthy").
            if (r.health)
                return "Up " + human_duration(seconds_since(r.started_at)) + " (" +
                       (r.health->status == HealthStatus::Starting ? "health: starting" : health_status_name(r.health->status)) + ")";
            return "Up " + human_duration(seconds_since(r.started_at));
        case ContainerState::Paused: return "Up " + human_duration(seconds_since(r.started_at)) + " (Paused)";
        case ContainerState::Restarting:
            return "Restarting (" + std::to_string(r.exit_code) + ") " + human_duration(seconds_since(r.finished_at)) + " ago";
        case ContainerState::Exited:
            return "Exited (" + std::to_string(r.exit_code) + ") " + human_duration(seconds_since(r.finished_at)) + " ago";
        case ContainerState::Dead: return "Dead";
        case ContainerState::Removing: return "Removal In Progress";
    }
    return "";
}

// Docker's PORTS column: the bindings of a running container ("0.0.0.0:8080->80/tcp"), and
// exposed ports that are not published ("80/tcp").
std::string ports_text(const ContainerRecord& r) {
    std::string out;
    for (const auto& e : r.exposed_ports) {
        bool bound = std::any_of(r.published.begin(), r.published.end(), [&](const PortMapping& p) {
            return std::to_string(p.container_port) + "/" + p.proto == e;
        });
        if (bound || !container_has_process(r.state)) continue;
        if (!out.empty()) out += ", ";
        out += e;
    }
    for (const auto& p : r.published) {
        if (!out.empty()) out += ", ";
        out += (p.host_ip.empty() ? "0.0.0.0" : p.host_ip) + ":" + std::to_string(p.host_port) + "->" +
               std::to_string(p.container_port) + "/" + p.proto;
    }
    return out;
}

std::string image_label(const ContainerRecord& r) { return r.spec.image; }

Result<std::unique_ptr<Engine>> open_engine(const Command& c) {
    EngineOptions o;
    o.root = c.global_root;
    return Engine::open(o);
}

void print_warnings(const ContainerRecord& r, std::ostream& err) {
    for (const auto& w : r.warnings) err << "WARNING: " << w << "\n";
}

// Docker's `docker ps` formats a *formatter.ContainerContext; these are its fields (Docker 28).
constexpr const char* kContainerContext = "*formatter.ContainerContext";
const std::vector<std::string> kContainerFields = {"Command",  "CreatedAt", "ID",    "Image",      "Labels",
                                                   "LocalVolumes", "Mounts", "Names", "Networks", "Platform",
                                                   "Ports",    "RunningFor", "Size", "State",      "Status"};

// `docker ps [-a] [-f KEY=VALUE]... [-n N | -l] [-q] [-s] [--format F]`: filters.hpp decides which
// containers, this prints them.
int cmd_ps(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    // Docker checks the template before listing: a wrong one fails even when nothing matches.
    if (!c.format.empty())
        if (auto ok = validate_listing_format(c.format, kContainerFields, kContainerContext); !ok)
            return fail(err, ok.error(), "");
    auto filters = FilterArgs::parse(c.filters);
    if (!filters) return fail(err, filters.error(), "isolab: ");
    PsQuery query;
    query.all = c.all;
    query.limit = c.last;
    if (c.latest && query.limit == -1) query.limit = 1;  // Docker's client: -l is -n 1
    std::vector<ImageFacts> images;
    if (filters->contains("ancestor")) images = image_facts(e.images().list());
    auto recs = filter_containers(e.list(true), *filters, query, images);
    // IsoLab's own refusals (exit 125) carry their prefix; the rest are Docker's daemon errors.
    if (!recs) return fail(err, recs.error(), recs.error().exit_code == 125 ? "" : kDaemon);
    if (c.quiet) {
        for (const auto& r : *recs) out << (c.no_trunc ? r.id : r.id.substr(0, 12)) << "\n";
        return 0;
    }
    const bool table = c.format.empty() || is_default_table(c.format);
    const bool sizes = c.size || (!table && format_reads_field(c.format, kContainerFields, "Size", kContainerContext));
    auto size_of = [&](const ContainerRecord& r) { return sizes ? size_text(container_size(e, r)) : "0B"; };
    if (!table) {
        std::vector<json> rows;
        for (const auto& r : *recs) {
            std::string cmd = command_line(r.path_args);
            std::vector<std::string> names;
            for (const auto& ep : r.endpoints) names.push_back(ep.network);
            std::sort(names.begin(), names.end());
            std::string nets;
            for (const auto& n : names) nets += (nets.empty() ? "" : ",") + n;
            rows.push_back({{"Command", "\"" + (c.no_trunc ? cmd : ellipsis(cmd, 20)) + "\""},
                            {"CreatedAt", go_time_text(r.created, false)},
                            {"ID", c.no_trunc ? r.id : r.id.substr(0, 12)},
                            {"Image", image_label(r)},
                            {"Labels", labels_text(r.spec.labels)},
                            {"LocalVolumes", std::to_string(local_volume_count(r))},
                            {"Mounts", mounts_text(r, c.no_trunc)},
                            {"Names", r.name},
                            {"Networks", nets},
                            {"Platform", nullptr},  // Docker 28's daemon sends none for a local image
                            {"Ports", ports_text(r)},
                            {"RunningFor", human_duration(seconds_since(r.created)) + " ago"},
                            {"Size", size_of(r)},
                            {"State", std::string(to_string(r.state))},
                            {"Status", labeled_status(r)}});
        }
        auto printed = print_formatted(
            c.format, rows,
            {{"ID", "CONTAINER ID"}, {"Image", "IMAGE"}, {"Command", "COMMAND"}, {"CreatedAt", "CREATED AT"},
             {"RunningFor", "CREATED"}, {"Status", "STATUS"}, {"State", "STATE"}, {"Ports", "PORTS"},
             {"Names", "NAMES"}, {"Networks", "NETWORKS"}, {"Labels", "LABELS"}, {"LocalVolumes", "LOCAL VOLUMES"},
             {"Mounts", "MOUNTS"}, {"Size", "SIZE"}, {"Platform", "PLATFORM"}},
            kContainerContext, out);
        return printed ? 0 : fail(err, printed.error(), "");
    }
    std::vector<std::vector<std::string>> rows = {
        {"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"}};
    if (sizes) rows[0].push_back("SIZE");
    for (const auto& r : *recs) {
        std::string cmd = command_line(r.path_args);
        rows.push_back({c.no_trunc ? r.id : r.id.substr(0, 12), image_label(r),
                        "\"" + (c.no_trunc ? cmd : ellipsis(cmd, 20)) + "\"",
                        human_duration(seconds_since(r.created)) + " ago", labeled_status(r), ports_text(r), r.name});
        if (sizes) rows.back().push_back(size_of(r));
    }
    out << format_table(rows);
    return 0;
}

// `logs` reads through JsonLogReader: the last N lines are found by reading the files backwards,
// so the memory and time it needs are those of the lines shown, not of the log (issue 12: `--tail
// 1` on a 1 GiB log took 1.1 GB and 10 s). The order of Docker's daemon: the tail first, then
// --since and --until on what it holds; -f goes on from there across rotations.
int cmd_logs(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    auto rec = e.inspect(c.args.at(0));
    if (!rec) return fail(err, rec.error());
    // Docker's client turns --since and --until into times before it asks for the logs.
    const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    int64_t since = 0, until = 0;
    for (auto [value, bound, name] : {std::tuple{&c.since, &since, "since"}, std::tuple{&c.until, &until, "until"}}) {
        if (value->empty()) continue;
        auto t = parse_log_time(*value, now);
        if (!t) return fail(err, make_error(t.error().wrap(std::string("invalid value for \"") + name + "\"").message, 1), "");
        *bound = *t;
    }
    auto reader = JsonLogReader::open(e.log_path(rec->id));
    if (!reader) return fail(err, reader.error());
    // Docker's daemon: a --tail that is not a number (or is negative) means all.
    char* end = nullptr;
    long tail = std::strtol(c.tail.c_str(), &end, 10);
    if (!c.tail.empty() && *end == '\0' && tail >= 0)
        if (auto s = reader->seek_tail(static_cast<size_t>(tail)); !s) return fail(err, s.error());
    bool past_until = false;
    auto emit = [&](std::string_view line) {
        if (past_until) return;
        auto j = json::parse(line.begin(), line.end(), nullptr, false);
        if (j.is_discarded() || !j.is_object()) return;
        if (since != 0 || until != 0) {
            int64_t t = rfc3339_to_unix_ns(j.value("time", ""));
            if (since != 0 && t < since) return;
            if (until != 0 && t > until) {
                past_until = true;
                return;
            }
        }
        std::string text = j.value("log", "");
        if (c.details) text = " " + text;  // Docker: the entry's attributes, then a space; IsoLab logs none
        if (c.timestamps) text = j.value("time", "") + " " + text;
        (j.value("stream", "") == "stderr" ? err : out) << text;
    };
    if (auto s = reader->read_snapshot(emit); !s) return fail(err, s.error());
    out << std::flush;
    err << std::flush;
    if (!c.follow) return 0;
    for (;;) {
        // The state is read before the poll, so the last poll sees everything the container
        // wrote before it stopped.
        auto r = e.store().load(rec->id);
        const bool live = r && (container_has_process(r->state) || r->state == ContainerState::Restarting);
        if (auto s = reader->poll(emit); !s) return fail(err, s.error());
        out << std::flush;
        err << std::flush;
        if (!live || past_until) return 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

// This terminal attached to a running container, as `docker run`, `start -a` and `attach` do:
// the detach keys (with a terminal) and, with --sig-proxy and no terminal, every signal this
// process receives sent on to the container (Docker's CLI calls the kill API with it). Returns the
// container's exit code, or 0 after the detach keys.
Result<int> attach_to(Engine& e, const ContainerRecord& rec, AttachOptions o, const Command& c) {
    auto keys = parse_detach_keys(c.detach_keys);
    if (!keys) return keys.error();
    o.detach_keys = *keys;
    o.tty = rec.spec.tty;
    if (c.sig_proxy && !o.tty) {
        const std::string id = rec.id;
        o.forward_signal = [&e, id](int sig) { (void)e.kill(id, std::to_string(sig)); };
    }
    auto end = attach_session(e.attach_socket(rec.id), o);
    if (!end) return end.error();
    return end->detached ? 0 : end->exit_code;
}

// `docker attach CONTAINER`.
int cmd_attach(Engine& e, const Command& c, std::ostream& err) {
    auto rec = e.inspect(c.args.at(0));
    if (!rec) return fail(err, rec.error());
    if (rec->state == ContainerState::Paused)
        return fail(err, make_error("You cannot attach to a paused container, unpause it first", 1), "");
    if (!container_has_process(rec->state))
        return fail(err, make_error("You cannot attach to a stopped container, start it first", 1), "");
    if (rec->backend == Backend::Simulated) {
        err << "(simulated: no process runs here, so there is nothing to attach to)\n";
        return 0;
    }
    AttachOptions o;
    o.stdin_attached = rec->spec.interactive && !c.no_stdin;
    if (rec->spec.tty && o.stdin_attached && !::isatty(0))
        return fail(err, make_error("the input device is not a TTY", 1), "");
    auto code = attach_to(e, *rec, o, c);
    if (!code) return fail(err, code.error(), "isolab: ");
    return *code;
}

int cmd_run(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    const bool run = c.verb == "run";
    // -D/--debug: where the time of `run` goes, phase by phase (the runtime's own steps are in
    // `inspect`, IsoLab.SetupSteps).
    double t_last = monotonic_ms();
    auto phase = [&](const char* name) {
        if (!c.debug) return;
        double now = monotonic_ms();
        err << "debug: " << name << " " << (now - t_last) << " ms\n";
        t_last = now;
    };
    const std::string help_footer = "\n\nRun 'isolab " + c.command_path + " --help' for more information";
    // --pull never: Docker's daemon answers a missing image with its own words, no pull attempted.
    // missing (the default): a name the store lacks is pulled first, after Docker's "Unable to find
    // image 'x:latest' locally" line; always: pulled every time (an up-to-date image is kept).
    if (c.pull == "never" && !e.images().resolve(c.spec.image)) {
        err << "isolab: " << kDaemon << "No such image: " << ImageStore::normalize_ref(c.spec.image) << help_footer << "\n";
        return 125;
    }
    bool pull = c.pull == "always";
    if (c.pull == "missing") {
        auto have = e.images().resolve(c.spec.image);
        pull = !have && have.error().message.rfind("Unable to find image", 0) == 0;
    }
    if (pull) {
        auto pulled = pull_for_run(e, c.spec.image, c.pull == "missing", err);
        if (!pulled.ok()) {
            err << "isolab: " << kDaemon << pulled.error().message << help_footer << "\n";
            return 125;
        }
    }
    auto rec = e.create(c.spec);
    if (!rec) {
        err << "isolab: " << kDaemon << rec.error().message << help_footer << "\n";
        return rec.error().exit_code;
    }
    phase("create");
    print_warnings(*rec, err);
    if (!run) {
        out << rec->id << "\n";
        return 0;
    }
    const bool attach = !c.detach;
    auto started = e.start(rec->id, attach);
    if (!started) {
        err << "isolab: " << kDaemon << started.error().message << help_footer << "\n";
        if (c.spec.auto_remove) (void)e.remove(rec->id, true, true);
        return started.error().exit_code;
    }
    phase(attach ? "start (PID 1 ready)" : "start (PID 1 running)");
    if (c.detach) {
        out << rec->id << "\n";
        return 0;
    }
    if (started->backend == Backend::Simulated) {
        // No process runs, so there is nothing to attach to: say so instead of failing.
        if (c.spec.auto_remove) {
            err << "(simulated: no process ran here, so there is no output)\n";
            (void)e.remove(rec->id, true, true);
        } else {
            err << "(simulated: no process runs here, so there is no output; the container stays up until `isolab stop "
                << rec->name << "`)\n";
        }
        return 0;
    }
    out.flush();
    // -a picks the streams (Docker: stdin with -i or -a stdin; without -a, stdout and stderr).
    auto streams = [&](const char* name) {
        return std::find(c.attach_streams.begin(), c.attach_streams.end(), name) != c.attach_streams.end();
    };
    AttachOptions o;
    o.stdin_attached = c.spec.interactive || streams("stdin");
    o.stdout_attached = c.attach_streams.empty() || streams("stdout");
    o.stderr_attached = c.attach_streams.empty() || streams("stderr");
    auto code = attach_to(e, *started, o, c);
    phase("attach until exit");
    if (!code) return fail(err, code.error(), "isolab: ");
    return *code;
}

int cmd_start(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    if (c.attach || c.interactive) {
        auto rec = e.start(c.args.at(0), true);
        if (!rec) return fail(err, rec.error());
        if (rec->state == ContainerState::Running && rec->monitor_pid == 0) return 0;
        AttachOptions o;
        o.stdin_attached = c.interactive;
        auto code = attach_to(e, *rec, o, c);
        if (!code) return fail(err, code.error());
        return *code;
    }
    int rc = 0;
    for (const auto& ref : c.args) {
        auto rec = e.start(ref);
        if (!rec) rc = fail(err, rec.error());
        else out << ref << "\n";
    }
    if (rc != 0 && c.args.size() > 1) {
        // Docker: "Error: failed to start containers: a, b" after the individual errors.
    }
    return rc;
}

template <class Fn>
int for_each_ref(const Command& c, std::ostream& out, std::ostream& err, Fn fn) {
    int rc = 0;
    for (const auto& ref : c.args) {
        auto r = fn(ref);
        if (!r) rc = fail(err, r.error());
        else out << ref << "\n";
    }
    return rc;
}

// `docker image inspect`: Docker's shape, plus where IsoLab keeps each layer (for learners who
// want to look at the directories).
json image_inspect_json(const Image& img) {
    const json& cfg = img.config;
    int64_t bytes = 0;
    for (const auto& l : img.layer_dirs) bytes += ImageStore::layer_size(l);
    std::string comment;
    for (const auto& h : cfg.value("history", json::array())) comment = h.value("comment", comment);
    return {{"Id", img.id},
            {"RepoTags", img.repo_tags},
            {"RepoDigests", img.repo_digests},
            {"Parent", ""},
            {"Comment", comment},
            {"Created", cfg.value("created", "")},
            {"Author", cfg.value("author", "")},
            {"Config", cfg.value("config", json::object())},
            {"Architecture", cfg.value("architecture", "amd64")},
            {"Os", cfg.value("os", "linux")},
            {"Size", bytes},
            {"RootFS", {{"Type", "layers"}, {"Layers", cfg.contains("rootfs") ? cfg["rootfs"].value("diff_ids", json::array()) : json::array()}}},
            {"IsoLab", {{"LayerDirs", img.layer_dirs}, {"History", cfg.value("history", json::array())}}}};
}

int cmd_inspect(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    // Docker parses the template before it looks at any object (exit 64 when it cannot).
    std::optional<GoTemplate> tmpl;
    if (!c.format.empty()) {
        auto parsed = parse_inspect_format(c.format);
        if (!parsed) return fail(err, parsed.error(), "");
        tmpl = std::move(*parsed);
    }
    json arr = json::array();
    std::string missing;  // Docker prints what it found first, then one error line per object it did not
    const std::string& type = c.inspect_type;
    const VolumeStore volumes(e.store().root());
    for (const auto& ref : c.args) {
        if (type != "image" && type != "volume")
            if (auto rec = e.inspect(ref)) {
                arr.push_back(inspect_json(*rec));
                if (c.size) {  // -s: Docker's SizeRw (the writable layer) and SizeRootFs (all of it)
                    ContainerSize sz = container_size(e, *rec);
                    arr.back()["SizeRw"] = sz.rw;
                    arr.back()["SizeRootFs"] = sz.root_fs;
                }
                continue;
            }
        if (type != "container" && type != "volume")
            if (auto img = e.images().resolve(ref); img && img->id != "scratch") {
                arr.push_back(image_inspect_json(*img));
                continue;
            }
        // Docker's inspect looks for a volume after containers and images.
        if (type.empty() || type == "volume")
            if (auto v = volumes.get(ref)) {
                arr.push_back(volume_inspect_json(*v));
                continue;
            }
        missing += "Error: No such " + (c.inspect_type.empty() ? std::string("object") : c.inspect_type) + ": " + ref + "\n";
    }
    return finish_inspect(tmpl, arr, missing, out, err);
}

// `docker top CTR PS_ARGS...`: moby runs the host's `ps` with the arguments and keeps the rows
// whose PID column names one of the container's processes (daemon/top_unix.go), with its errors.
int top_with_ps_args(const std::vector<ProcessRow>& procs, const std::vector<std::string>& ps_args, std::ostream& out,
                     std::ostream& err) {
    std::string ps;
    for (const char* p : {"/usr/bin/ps", "/bin/ps"})
        if (::access(p, X_OK) == 0) ps = p;
    if (ps.empty()) return fail(err, make_error("Error running ps: exec: \"ps\": executable file not found in $PATH", 1));
    std::vector<std::string> argv = {ps};
    for (const auto& a : ps_args)
        for (size_t start = 0; start <= a.size();) {  // Docker splits the arguments at spaces too
            size_t sp = a.find(' ', start);
            std::string w = a.substr(start, sp == std::string::npos ? std::string::npos : sp - start);
            if (!w.empty()) argv.push_back(w);
            if (sp == std::string::npos) break;
            start = sp + 1;
        }
    auto ran = net::run_command(argv);
    if (!ran) return fail(err, make_error("Error running ps: " + ran.error().message, 1));
    if (ran->exit_code != 0) {
        std::string args;
        for (size_t i = 1; i < argv.size(); ++i) args += (i > 1 ? " " : "") + argv[i];
        return fail(err, make_error("ps: Error running ps " + args + ": exit status " + std::to_string(ran->exit_code) +
                                        (ran->err.empty() ? "" : ": " + trim(ran->err)),
                                    1));
    }
    std::istringstream lines(ran->out);
    std::string header;
    std::getline(lines, header);
    std::vector<std::string> titles;
    {
        std::istringstream h(header);
        for (std::string w; h >> w;) titles.push_back(w);
    }
    auto pid_col = std::find(titles.begin(), titles.end(), "PID");
    if (pid_col == titles.end()) return fail(err, make_error("Couldn't find PID field in ps output", 1));
    const size_t pid_index = static_cast<size_t>(pid_col - titles.begin());
    std::set<std::string> pids;
    for (const auto& p : procs) pids.insert(std::to_string(p.pid));
    std::vector<std::vector<std::string>> t = {titles};
    for (std::string line; std::getline(lines, line);) {
        std::istringstream in(line);
        std::vector<std::string> f;
        for (std::string w; f.size() + 1 < titles.size() && in >> w;) f.push_back(w);
        std::string rest;
        std::getline(in, rest);
        rest = trim(rest);
        if (!rest.empty()) f.push_back(rest);  // the last column (the command) keeps its spaces
        if (f.size() > pid_index && pids.count(f[pid_index])) t.push_back(f);
    }
    out << format_table(t);
    return 0;
}

int cmd_top(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    auto rows = e.top(c.args.at(0));
    if (!rows) return fail(err, rows.error());
    if (!c.ps_args.empty()) return top_with_ps_args(*rows, c.ps_args, out, err);
    std::vector<std::vector<std::string>> t = {{"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"}};
    for (const auto& r : *rows)
        t.push_back({r.uid, std::to_string(r.pid), std::to_string(r.ppid), "0", r.stime, r.tty, r.time, r.cmd});
    out << format_table(t);
    return 0;
}

// `docker images [-f KEY=VALUE]... [REPOSITORY[:TAG]]`: newest first; an image without a name
// shows as <none> <none> (what a rebuild leaves behind when its tag moved on). filters.hpp decides
// which images and tags; Docker's client turns REPOSITORY[:TAG] into a `reference` filter.
int cmd_images(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    (void)e.images().ensure_busybox();
    std::vector<std::string> words = c.filters;
    if (!c.args.empty()) words.push_back("reference=" + c.args[0]);
    auto filters = FilterArgs::parse(words);
    if (!filters) return fail(err, filters.error(), "isolab: ");
    const auto images = e.images().list();
    const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    auto matches = filter_images(image_facts(images), *filters, now);
    if (!matches) return fail(err, matches.error());
    std::vector<std::vector<std::string>> rows = {{"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"}};
    // --digests: Docker's DIGEST column after TAG: the manifest digest a pull of that repository
    // recorded (RepoDigests), else "<none>" (what Docker shows for a locally built image).
    if (c.digests) rows[0].insert(rows[0].begin() + 2, "DIGEST");
    std::vector<json> formatted;  // the same rows for --format
    for (const auto& m : *matches) {
        const Image& img = images[m.index];
        std::string id = c.no_trunc ? img.id : img.id.substr(7, 12);
        if (c.quiet) {
            out << id << "\n";
            continue;
        }
        int64_t bytes = 0;
        for (const auto& l : img.layer_dirs) bytes += ImageStore::layer_size(l);
        const std::string size = go_human_size(bytes, 3);  // Docker's SIZE: 3 significant digits
        const std::string created_at = img.config.value("created", "");
        std::string created = human_duration(seconds_since(created_at)) + " ago";
        std::vector<std::string> tags = m.tags;
        // Pulled by digest only: Docker shows the repository with TAG <none>.
        if (tags.empty())
            for (const auto& rd : img.repo_digests) tags.push_back(rd.substr(0, rd.rfind('@')) + ":<none>");
        if (tags.empty()) tags.push_back("<none>:<none>");
        for (const auto& tag : tags) {
            size_t colon = tag.rfind(':');
            std::string digest = "<none>";
            for (const auto& rd : img.repo_digests)
                if (rd.compare(0, colon + 1, tag.substr(0, colon) + "@") == 0) digest = rd.substr(colon + 1);
            rows.push_back({tag.substr(0, colon), tag.substr(colon + 1), id, created, size});
            if (c.digests) rows.back().insert(rows.back().begin() + 2, digest);
            // Docker 28's daemon counts neither containers nor shared sizes for `images`: "N/A".
            formatted.push_back({{"Containers", "N/A"},
                                 {"CreatedAt", go_time_text(created_at, false)},
                                 {"CreatedSince", created},
                                 {"Digest", digest},
                                 {"ID", id},
                                 {"Repository", tag.substr(0, colon)},
                                 {"SharedSize", "N/A"},
                                 {"Size", size},
                                 {"Tag", tag.substr(colon + 1)},
                                 {"UniqueSize", "N/A"},
                                 {"VirtualSize", go_human_size(bytes, 4)}});
        }
    }
    if (c.quiet) return 0;
    if (!c.format.empty() && !is_default_table(c.format)) {
        auto printed = print_formatted(c.format, formatted,
                                       {{"Repository", "REPOSITORY"}, {"Tag", "TAG"}, {"ID", "IMAGE ID"},
                                        {"CreatedSince", "CREATED"}, {"CreatedAt", "CREATED AT"}, {"Size", "SIZE"},
                                        {"Containers", "CONTAINERS"}, {"Digest", "DIGEST"},
                                        {"SharedSize", "SHARED SIZE"}, {"UniqueSize", "UNIQUE SIZE"},
                                        {"VirtualSize", "SIZE"}},
                                       "*formatter.imageContext", out);
        if (!printed) return fail(err, printed.error(), "");
    } else {
        out << format_table(rows);
    }
    return 0;
}

// Go's time.RFC3339 of a stored RFC 3339 time: whole seconds ("2024-05-10T12:00:00Z").
std::string go_rfc3339(const std::string& t) {
    size_t dot = t.find('.');
    if (dot == std::string::npos) return t;
    size_t end = t.find_first_not_of("0123456789", dot + 1);
    return t.substr(0, dot) + (end == std::string::npos ? "" : t.substr(end));
}

// `docker history [-H=false] [--no-trunc] [-q] [--format F] IMAGE`: one row per step, newest
// first; the image's own id on the top row, "<missing>" below (Docker's for steps whose image is
// not kept). -H=false prints RFC 3339 times and sizes in bytes.
int cmd_history(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    static const std::vector<std::string> kFields = {"ID", "CreatedSince", "CreatedAt", "CreatedBy", "Size", "Comment"};
    if (!c.format.empty())
        if (auto ok = validate_listing_format(c.format, kFields, "*formatter.historyContext"); !ok)
            return fail(err, ok.error(), "");
    auto rows = e.images().history(c.args.at(0));
    if (!rows) return fail(err, rows.error());
    auto img = e.images().resolve(c.args.at(0));
    std::vector<std::vector<std::string>> t = {{"IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"}};
    std::vector<json> formatted;
    for (size_t i = 0; i < rows->size(); ++i) {
        const auto& r = (*rows)[i];
        const std::string id = i == 0 ? (c.no_trunc ? img->id : img->id.substr(7, 12)) : "<missing>";
        if (c.quiet) {
            out << id << "\n";
            continue;
        }
        const std::string created = c.human ? human_duration(seconds_since(r.created)) + " ago" : go_rfc3339(r.created);
        const std::string size = c.human ? go_human_size(r.size, 3) : std::to_string(r.size);
        const std::string by = c.no_trunc ? r.created_by : ellipsis(r.created_by, 45);
        t.push_back({id, created, by, size, r.comment});
        formatted.push_back({{"ID", id}, {"CreatedSince", created}, {"CreatedAt", go_rfc3339(r.created)},
                             {"CreatedBy", by}, {"Size", size}, {"Comment", r.comment}});
    }
    if (c.quiet) return 0;
    if (!c.format.empty() && !is_default_table(c.format)) {
        auto printed = print_formatted(c.format, formatted,
                                       {{"ID", "IMAGE"}, {"CreatedSince", "CREATED"}, {"CreatedAt", "CREATED AT"},
                                        {"CreatedBy", "CREATED BY"}, {"Size", "SIZE"}, {"Comment", "COMMENT"}},
                                       "*formatter.historyContext", out);
        if (!printed) return fail(err, printed.error(), "");
        return 0;
    }
    out << format_table(t);
    return 0;
}

// `docker save -o FILE IMAGE...`: an OCI image layout archive that Docker, Podman and skopeo read.
int cmd_save(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    if (c.output.empty() && ::isatty(1))
        return fail(err, make_error("cowardly refusing to save to a terminal. Use the -o flag or redirect", 1), "");
    std::vector<ArchiveImage> images;
    for (const auto& ref : c.args) {
        auto img = e.images().resolve(ref);
        if (!img) return fail(err, make_error("No such image: " + ImageStore::normalize_ref(ref), 1));
        auto bytes = e.images().config_bytes(*img);
        if (!bytes) return fail(err, bytes.error());
        // The name asked for is recorded; an id names no tag (Docker does the same).
        std::vector<std::string> tags;
        std::string full = ImageStore::normalize_ref(ref);
        if (std::find(img->repo_tags.begin(), img->repo_tags.end(), full) != img->repo_tags.end()) tags.push_back(full);
        auto same = std::find_if(images.begin(), images.end(), [&](const ArchiveImage& a) { return a.config_bytes == *bytes; });
        if (same != images.end()) {
            same->repo_tags.insert(same->repo_tags.end(), tags.begin(), tags.end());
            continue;
        }
        images.push_back({*bytes, img->layer_dirs, tags, {}, {}});
    }
    out.flush();
    if (auto s = save_image_archive(images, c.output.empty() ? "-" : c.output); !s) return fail(err, s.error());
    return 0;
}

// `docker load -i FILE`: reads an OCI layout or `docker save` archive; every digest is checked.
int cmd_load(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    std::string input = c.input.empty() ? "-" : c.input;
    if (input == "-" && ::isatty(0))
        return fail(err, make_error("requested load from stdin, but stdin is empty", 1), "");
    std::string staging = e.images().dir() + "/layers/" + owned_scratch_name(".load");
    auto loaded = load_image_archive(input, staging);
    if (!loaded) {
        (void)remove_tree(staging);
        return fail(err, loaded.error().exit_code == 125 ? make_error(loaded.error().message, 1) : loaded.error());
    }
    std::vector<std::string> added;
    int rc = 0;
    std::set<std::string> moved;  // a layer shared by two images is staged once
    for (auto& img : *loaded) {
        bool ok = true;
        for (size_t i = 0; i < img.layer_dirs.size(); ++i) {
            const std::string& dir = img.layer_dirs[i];
            if (!moved.insert(dir).second) continue;
            // With the tar it came in: the layer keeps that tar's digest (its diff_id).
            auto id = e.images().add_layer(dir, true, img.layer_tars.at(i));
            if (!id) {
                rc = fail(err, id.error());
                ok = false;
                break;
            }
            added.push_back(*id);
        }
        if (!ok) break;
        auto id = e.images().store_config(img.config_bytes, img.repo_tags);
        if (!id) {
            rc = fail(err, id.error());
            break;
        }
        if (!c.quiet) {
            if (img.repo_tags.empty()) out << "Loaded image ID: " << *id << "\n";
            for (const auto& t : img.repo_tags) out << "Loaded image: " << ImageStore::normalize_ref(t) << "\n";
        }
    }
    if (rc != 0) e.images().remove_unused_layers(added);
    (void)remove_tree(staging);
    return rc;
}

// `isolab gui`: the window is its own binary (isolab-gui, dynamically linked for OpenGL), next to
// this one. Replaces this process.
int exec_gui(const Command& c, std::ostream& err) {
    std::string dir = self_dir();
    std::string gui = dir + "/isolab-gui";
    if (::access(gui.c_str(), X_OK) != 0) {
        err << "isolab: the window is not installed here (`" << gui << "` is missing): run `sudo tools/setup.sh`, "
               "or use the command line (isolab --help)\n";
        return 1;
    }
    std::vector<std::string> args = {gui};
    auto add = [&](const char* flag, const std::string& v) {
        if (!v.empty()) args.insert(args.end(), {flag, v});
    };
    add("--root", c.global_root);
    add("--lang", c.lang);
    add("--view", c.gui_view);
    add("--select", c.gui_select);
    add("--size", c.gui_size);
    add("--screenshot", c.screenshot);
    add("--lesson", c.lesson);
    if (c.frames > 0) add("--frames", std::to_string(c.frames));
    if (c.present) args.push_back("--present");
    if (c.lessons) args.push_back("--lessons");
    if (c.study_group) args.push_back("--study-group");
    if (c.fullscreen) args.push_back("--fullscreen");
    if (c.gui_audit) args.push_back("--audit");
    std::vector<char*> av;
    for (auto& a : args) av.push_back(a.data());
    av.push_back(nullptr);
    std::cout.flush();
    ::execv(av[0], av.data());
    err << "isolab: cannot start `" << gui << "`: " << std::strerror(errno) << "\n";
    return 126;
}


}  // namespace

std::string container_status_column(const ContainerRecord& r) { return labeled_status(r); }
std::string docker_ellipsis(const std::string& s, size_t n) { return ellipsis(s, n); }

int run_command(const Command& c, std::ostream& out, std::ostream& err) {
    if (!c.lang.empty()) i18n::set_language(c.lang == "ko" ? i18n::Lang::Ko : i18n::Lang::En);
    if (c.help || c.verb == "help") {
        out << usage(c.verb == "help" ? (c.args.empty() ? "" : c.args[0]) : c.command_path) << "\n";
        return 0;
    }
    if (c.verb.empty()) return 0;
    if (c.verb == "version" && !c.format.empty() && !c.short_version) return run_version_format(c, out, err);
    if (c.verb == "version") {
        out << "IsoLab version 0.1.0" << (c.short_version ? "" : "\n") << std::flush;
        if (!c.short_version) {
            auto e = open_engine(c);
            out << "Backend: " << (e ? (*e)->backend_name() : "unavailable") << "\n";
        } else {
            out << "\n";
        }
        return 0;
    }
    if (c.verb == "doctor") return c.fix ? run_doctor_fix(c.json, out, err) : run_doctor(c.json, out);
    // The OCI runtime side has its own state (like runc's /run/runc) and needs no engine.
    if (c.verb == "runtime") return run_runtime_command(c.rest);
    if (c.verb == "bundle") {
        auto a = c.rest;  // the global --root names the state root the container lives in
        if (!c.global_root.empty()) a.insert(a.begin(), {"--root", c.global_root});
        return run_bundle_command(a);
    }
    if (c.verb == "gui") return exec_gui(c, err);
    if (c.verb == "completion") return run_completion_command(c, out, err);
    if (c.verb == "lesson") return run_lesson_command(c, out, err);
    if (c.verb == "vm") return run_vm_command(c, out, err);
    if (c.verb == "race") return run_race_command(c, out, err);
    // The registry's own commands: a config file and the network, no state root.
    if (c.verb == "login") return run_login_command(c, out, err);
    if (c.verb == "logout") return run_logout_command(c, out, err);
    if (c.verb == "search") return run_search_command(c, out, err);
    double t_open = monotonic_ms();
    auto engine = open_engine(c);
    if (!engine) return fail(err, engine.error(), "isolab: ");
    if (c.debug) err << "debug: open engine + garbage collection " << (monotonic_ms() - t_open) << " ms\n";
    return run_engine_command(**engine, c, out, err);
}

bool runs_on_shared_engine(const Command& c) {
    if (!c.global_root.empty() || !c.lang.empty() || c.help || c.bare) return false;
    const std::string& v = c.verb;
    if (v == "run") return c.detach && !c.spec.interactive && !c.spec.tty && c.attach_streams.empty();
    if (v == "start") return !c.attach && !c.interactive;
    if (v == "logs") return !c.follow;
    static const char* const kEngineOnly[] = {"create", "stop",  "restart", "kill", "pause",   "unpause", "rm",
                                              "ps",     "inspect", "top",   "wait", "images",  "diff",    "tag",
                                              "history", "rmi",  "commit", "port", "system reset"};
    if (v.rfind("network ", 0) == 0 && v != "network prune") return true;  // create, ls, inspect, rm, connect, ...
    if (is_volume_verb(v) && v != "volume prune") return true;              // prune asks on stdin
    return std::any_of(std::begin(kEngineOnly), std::end(kEngineOnly), [&](const char* k) { return v == k; });
}

int run_engine_command(Engine& e, const Command& c, std::ostream& out, std::ostream& err) {
    // What the state root had to set right (a record moved aside), once after the garbage
    // collection of open() and once after the command.
    auto print_state_warnings = [&] {
        for (const auto& w : e.store().take_warnings()) err << "WARNING: " << w << "\n";
        for (const auto& w : e.images().take_warnings()) err << "WARNING: " << w << "\n";
    };
    print_state_warnings();
    struct AtExit {
        std::function<void()> fn;
        ~AtExit() { fn(); }
    } warn_after{print_state_warnings};
    const std::string& v = c.verb;
    if (v == "run" || v == "create") return cmd_run(e, c, out, err);
    if (v == "start") return cmd_start(e, c, out, err);
    if (v == "attach") return cmd_attach(e, c, err);
    if (v == "stop")
        return for_each_ref(c, out, err, [&](const std::string& r) { return e.stop(r, c.time_given ? c.time : -1, c.signal); });
    if (v == "restart")
        return for_each_ref(c, out, err, [&](const std::string& r) { return e.restart(r, c.time_given ? c.time : -1); });
    if (v == "kill")
        return for_each_ref(c, out, err, [&](const std::string& r) { return e.kill(r, c.signal.empty() ? "KILL" : c.signal); });
    if (v == "pause") return for_each_ref(c, out, err, [&](const std::string& r) { return e.pause(r); });
    if (v == "unpause") return for_each_ref(c, out, err, [&](const std::string& r) { return e.unpause(r); });
    if (v == "rm") {
        int rc = 0;
        for (const auto& ref : c.args) {
            if (auto s = e.remove(ref, c.force, c.volumes); !s) rc = fail(err, s.error());
            else out << ref << "\n";
        }
        return rc;
    }
    if (v == "ps") return cmd_ps(e, c, out, err);
    if (v == "logs") return cmd_logs(e, c, out, err);
    if (v == "inspect") return cmd_inspect(e, c, out, err);
    if (v == "top") return cmd_top(e, c, out, err);
    if (v == "wait") {
        int rc = 0;
        for (const auto& ref : c.args) {
            auto code = e.wait(ref);
            if (!code) rc = fail(err, code.error());
            else out << *code << "\n";
        }
        return rc;
    }
    if (v == "exec") {
        ExecRequest req;
        req.cmd = c.exec_cmd;
        req.env = c.exec_env;
        req.workdir = c.exec_workdir;
        req.user = c.exec_user;
        req.interactive = c.interactive;
        req.tty = c.tty;
        req.detach = c.detach;
        req.privileged = c.privileged;
        out.flush();
        auto code = e.exec(c.args.at(0), req);
        if (!code) return fail(err, code.error(), code.error().exit_code >= 126 ? "" : kDaemon);
        return *code;
    }
    if (v == "images") return cmd_images(e, c, out, err);
    if (v == "diff") {
        auto changes = e.diff(c.args.at(0));
        if (!changes) return fail(err, changes.error());
        for (const auto& ch : *changes) out << ch.kind << " " << ch.path << "\n";
        return 0;
    }
    if (v == "tag") {
        if (auto st = e.images().tag(c.args.at(0), c.args.at(1)); !st) return fail(err, st.error());
        return 0;
    }
    if (v == "history") return cmd_history(e, c, out, err);
    if (v == "rmi") {
        int rc = 0;
        for (const auto& ref : c.args) {
            auto img = e.images().resolve(ref);
            if (!img) {
                rc = fail(err, make_error("No such image: " + ImageStore::normalize_ref(ref), 1));
                continue;
            }
            std::string user;
            for (const auto& rec : e.list(true))
                if (rec.image_id == img->id) user = rec.id;
            if (!user.empty() && !c.force) {
                rc = fail(err, make_error("conflict: unable to remove repository reference \"" + ref +
                                              "\" (must force) - container " + user.substr(0, 12) +
                                              " is using its referenced image " + img->id.substr(7, 12),
                                          1));
                continue;
            }
            std::vector<std::string> report;
            if (auto st = e.images().remove(ref, &report, !user.empty()); !st) {
                rc = fail(err, st.error());
                continue;
            }
            for (const auto& line : report) out << line << "\n";
        }
        return rc;
    }
    if (v == "commit") {
        auto id = e.commit(c.args.at(0), c.args.size() > 1 ? c.args[1] : "", c.message, c.changes, c.pause, c.author);
        if (!id) return fail(err, id.error());
        out << *id << "\n";
        return 0;
    }
    if (v == "build") {
        BuildOptions o;
        o.context = c.args.at(0);
        o.dockerfile = c.dockerfile;
        o.target = c.target;
        // Docker 28: `build -` reads the Dockerfile from stdin and has no context; `build -f - PATH`
        // reads it from stdin with PATH as the context.
        if (o.context == "-" || o.dockerfile == "-") {
            if (o.context == "-" && o.dockerfile == "-") {
                err << "invalid argument: can't use stdin for both build context and dockerfile\n";
                return 125;
            }
            if (o.context == "-" && !o.dockerfile.empty()) {
                err << "isolab: `build -` reads the Dockerfile from stdin: -f names none (drop -f, or give a context PATH)\n";
                return 125;
            }
            std::ostringstream text;
            text << std::cin.rdbuf();
            o.dockerfile_text = text.str();
            o.has_dockerfile_text = true;
            if (o.context == "-") o.context.clear();
            o.dockerfile.clear();
        }
        if (c.progress.empty() || c.progress == "auto") o.progress = BuildOptions::Progress::Classic;
        else if (c.progress == "plain") o.progress = BuildOptions::Progress::Plain;
        else if (c.progress == "quiet") o.quiet = true;
        else {
            err << "invalid argument \"" << c.progress << "\" for \"--progress\" flag: IsoLab accepts auto (Docker's classic "
                   "`Step 1/6 :` output), plain (BuildKit's `#1 [internal] ...` lines) and quiet; "
                << (c.progress == "tty" || c.progress == "rawjson" ? "BuildKit's " + c.progress + " view is not supported by IsoLab"
                                                                    : std::string("no other mode exists"))
                << "\n";
            return 125;
        }
        o.tags = c.tags;
        o.build_args = c.build_args;
        o.no_cache = c.no_cache;
        o.quiet = o.quiet || c.quiet;
        // SIGINT (Ctrl-C), SIGTERM and SIGHUP end the build cleanly: the builder sees the flag,
        // removes its intermediate container and staged layers, and fails with 128 + the signal.
        // SA_RESETHAND: a second signal kills at once; the next build collects what that leaves.
        static volatile std::sig_atomic_t interrupted = 0;
        struct sigaction sa = {};
        sa.sa_handler = [](int sig) { interrupted = sig; };
        sa.sa_flags = SA_RESETHAND | SA_RESTART;
        sigemptyset(&sa.sa_mask);
        for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
        o.interrupted = &interrupted;
        auto id = build_image(e, o, out);
        if (!id) return fail(err, id.error(), "");
        if (o.quiet) out << *id << "\n";
        return 0;
    }
    if (v == "save") return cmd_save(e, c, out, err);
    if (v == "load") return cmd_load(e, c, out, err);
    if (v.rfind("network ", 0) == 0 && v != "network prune") return run_network_command(e, c, out, err);
    if (is_volume_verb(v)) return run_volume_command(e, c, std::cin, out, err);
    if (v == "export") return run_export_command(e, c, out, err);
    if (v == "cp") return run_cp_command(e, c, out, err);
    if (v == "import") return run_import_command(e, c, out, err);
    if (v == "pull") return run_pull_command(e, c, out, err);
    if (v == "push") return run_push_command(e, c, out, err);
    if (v == "port") return run_port_command(e, c, out, err);
    if (v == "system reset") return run_system_command(e, c, out, err);
    if (is_prune_verb(v)) return run_prune_command(e, c, std::cin, out, err);
    if (v == "rename") return run_rename_command(e, c, out, err);
    if (v == "update") return run_update_command(e, c, out, err);
    if (v == "stats") return run_stats_command(e, c, out, err);
    if (v == "events") return run_events_command(e, c, out, err);
    if (v == "info") return run_info_command(e, c, out, err);
    err << "isolab: '" << v << "' is not an isolab command.\nSee 'isolab --help'\n";
    return 1;
}

int cli_main(const std::vector<std::string>& argv) {
    i18n::set_language(i18n::detect_language(nullptr));
    auto cmd = parse_args(argv);
    if (!cmd) {
        std::cerr << cmd.error().message << "\n";
        return cmd.error().exit_code;
    }
    if (cmd->bare) {
        // `isolab` alone opens the window when there is a display to open it on.
        const char* x = std::getenv("DISPLAY");
        const char* wl = std::getenv("WAYLAND_DISPLAY");
        if ((!x || !*x) && (!wl || !*wl)) {
            std::cout << usage("") << "\n";
            return 0;
        }
    }
    return run_command(*cmd, std::cout, std::cerr);
}

}  // namespace isolab::cli
