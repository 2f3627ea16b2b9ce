// `isolab rename`, `update`, `stats`, `events`, `info` and `version --format`: Docker 28's
// everyday commands, thin over the engine (STYLE §1), with Docker's output layout and wording.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/cli/args.hpp"
#include "sim/core/result.hpp"
#include "sim/engine/engine.hpp"

namespace isolab::cli {

int run_rename_command(Engine& e, const Command& c, std::ostream& out, std::ostream& err);
int run_update_command(Engine& e, const Command& c, std::ostream& out, std::ostream& err);
int run_stats_command(Engine& e, const Command& c, std::ostream& out, std::ostream& err);
int run_events_command(Engine& e, const Command& c, std::ostream& out, std::ostream& err);
int run_info_command(Engine& e, const Command& c, std::ostream& out, std::ostream& err);
// `version --format TEMPLATE` (and `{{json .}}`): Docker's {Client, Server} shape.
int run_version_format(const Command& c, std::ostream& out, std::ostream& err);

// ---- Pure parts (unit-tested) ----

// go-units BytesSize: binary units, "%.4g" ("360KiB", "23.54GiB", "0B").
std::string bytes_size(double bytes);
// go-units HumanSizeWithPrecision(n, 3): decimal units ("472B", "1.06kB").
std::string human_size(double bytes);

// One event of ROOT/events.jsonl as Docker's API shows it (events.Message).
struct DockerEvent {
    std::string type;    // container | network | volume | vm | isolab
    std::string action;  // start, die, "exec_start: sh -c ...", connect, ...
    std::string actor_id;
    std::map<std::string, std::string> attributes;  // sorted, as Docker prints them
    int64_t time_ns = 0;
};
// Docker's line: "2026-12-07T12:00:00.000000000Z container start ID (image=busybox, name=web)".
std::string event_line(const DockerEvent& ev);
// events.Message as JSON (for --format): status, id, from, Type, Action, Actor, scope, time, timeNano.
nlohmann::json event_json(const DockerEvent& ev);

// One line of ROOT/events.jsonl in Docker's terms. IMAGES remembers each container's image from
// its create event (later events of IsoLab's log do not repeat it); a type Docker does not have
// becomes type "isolab" (or "vm" for vm_*), its words kept.
DockerEvent docker_event_from(const nlohmann::json& line, std::map<std::string, std::string>& images);

// `--filter` of events: KEY=VALUE words, values of one key OR'd, keys AND'd. Keys IsoLab serves:
// container (id prefix or name), event, type, image, network, volume (name prefix). Errors in
// Docker's words.
struct EventFilter {
    std::map<std::string, std::vector<std::string>> values;
    static Result<EventFilter> parse(const std::vector<std::string>& words);
    bool matches(const DockerEvent& ev) const;
};

}  // namespace isolab::cli
