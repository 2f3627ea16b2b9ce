// The pure parts of rename/update/stats/events/info: Docker's units, event lines and filters.
#include <doctest/doctest.h>

#include "app/cli/args.hpp"
#include "app/cli/everyday_commands.hpp"

using namespace isolab;
using namespace isolab::cli;
using nlohmann::json;

TEST_CASE("everyday: Docker's sizes as `docker stats` prints them") {
    // Values seen from Docker 28's client: "360KiB / 23.54GiB", "472B / 1.06kB".
    CHECK(bytes_size(360 * 1024.0) == "360KiB");
    CHECK(bytes_size(23.54 * 1024 * 1024 * 1024) == "23.54GiB");
    CHECK(bytes_size(32.0 * 1024 * 1024) == "32MiB");
    CHECK(bytes_size(0) == "0B");
    CHECK(human_size(472) == "472B");
    CHECK(human_size(1060) == "1.06kB");
    CHECK(human_size(1886) == "1.89kB");
    CHECK(human_size(0) == "0B");
}

TEST_CASE("everyday: IsoLab's events in Docker's line and JSON") {
    std::map<std::string, std::string> images;
    const std::string id(64, 'a');
    auto create = docker_event_from(json{{"type", "create"}, {"id", id}, {"name", "web"}, {"image", "busybox"},
                                         {"time", "2026-12-07T12:00:00.000000001Z"}},
                                    images);
    CHECK(event_line(create) == "2026-12-07T12:00:00.000000001Z container create " + id + " (image=busybox, name=web)");
    // The start event does not carry the image: it is remembered from the create.
    auto start = docker_event_from(json{{"type", "start"}, {"id", id}, {"name", "web"}, {"pid", 42},
                                        {"time", "2026-12-07T12:00:01.5Z"}},
                                   images);
    CHECK(event_line(start) == "2026-12-07T12:00:01.500000000Z container start " + id + " (image=busybox, name=web)");
    auto die = docker_event_from(json{{"type", "die"}, {"id", id}, {"name", "web"}, {"exitCode", 137},
                                      {"time", "2026-12-07T12:00:02Z"}},
                                 images);
    CHECK(die.attributes.at("exitCode") == "137");
    auto exec = docker_event_from(json{{"type", "exec_start"}, {"id", id}, {"name", "web"}, {"cmd", {"sh", "-c", "ls"}},
                                       {"time", "2026-12-07T12:00:02Z"}},
                                  images);
    CHECK(exec.action == "exec_start: sh -c ls");
    json j = event_json(start);
    CHECK(j["Type"] == "container");
    CHECK(j["Action"] == "start");
    CHECK(j["Actor"]["ID"] == id);
    CHECK(j["from"] == "busybox");
    CHECK(j["timeNano"] == int64_t(1796644801500000000));
    auto other = docker_event_from(json{{"type", "build"}, {"image", "sha256:x"}, {"time", "2026-12-07T12:00:02Z"}}, images);
    CHECK(other.type == "isolab");
    CHECK(other.action == "build");
}

TEST_CASE("everyday: a health check's events in Docker's words (exec_create/exec_start/exec_die, health_status)") {
    std::map<std::string, std::string> images;
    const std::string id(64, 'b'), exec_id(64, 'e');
    (void)docker_event_from(json{{"type", "create"}, {"id", id}, {"name", "web"}, {"image", "busybox"},
                                 {"time", "2026-12-07T12:00:00Z"}},
                            images);
    auto created = docker_event_from(json{{"type", "exec_create"}, {"id", id}, {"name", "web"}, {"execID", exec_id},
                                          {"cmd", {"/bin/sh", "-c", "exit 0"}}, {"time", "2026-12-07T12:00:01Z"}},
                                     images);
    CHECK(event_line(created) == "2026-12-07T12:00:01.000000000Z container exec_create: /bin/sh -c exit 0 " + id +
                                     " (execID=" + exec_id + ", image=busybox, name=web)");
    auto died = docker_event_from(json{{"type", "exec_die"}, {"id", id}, {"name", "web"}, {"execID", exec_id},
                                       {"exitCode", 0}, {"time", "2026-12-07T12:00:01Z"}},
                                  images);
    CHECK(event_line(died) == "2026-12-07T12:00:01.000000000Z container exec_die " + id + " (execID=" + exec_id +
                                  ", exitCode=0, image=busybox, name=web)");
    auto health = docker_event_from(json{{"type", "health_status"}, {"id", id}, {"name", "web"}, {"status", "unhealthy"},
                                         {"time", "2026-12-07T12:00:02Z"}},
                                    images);
    CHECK(event_line(health) == "2026-12-07T12:00:02.000000000Z container health_status: unhealthy " + id +
                                    " (image=busybox, name=web)");
    auto filter = EventFilter::parse({"event=health_status"});
    REQUIRE(filter.ok());
    CHECK(filter->matches(health));  // Docker matches the action before its ':'
    CHECK_FALSE(filter->matches(died));
}

TEST_CASE("everyday: events filters, Docker's matching and errors") {
    std::map<std::string, std::string> images;
    auto ev = docker_event_from(json{{"type", "exec_start"}, {"id", "abcdef0123"}, {"name", "web"}, {"image", "busybox"},
                                     {"cmd", {"ls"}}, {"time", "2026-12-07T12:00:00Z"}},
                                images);
    auto f = [](std::vector<std::string> words) {
        auto r = EventFilter::parse(words);
        REQUIRE(r.ok());
        return *r;
    };
    CHECK(f({"container=web"}).matches(ev));
    CHECK(f({"container=abc"}).matches(ev));  // an id prefix
    CHECK_FALSE(f({"container=db"}).matches(ev));
    CHECK(f({"container=db", "container=web"}).matches(ev));  // one key: OR
    CHECK(f({"event=exec_start"}).matches(ev));                // the action before ':'
    CHECK_FALSE(f({"event=start"}).matches(ev));
    CHECK(f({"type=container", "image=busybox:latest"}).matches(ev));
    CHECK_FALSE(f({"type=network"}).matches(ev));
    CHECK_FALSE(f({"container=web", "event=die"}).matches(ev));  // keys: AND
    auto unknown = EventFilter::parse({"foo=bar"});
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.error().message == "Error response from daemon: invalid filter 'foo'");
    auto malformed = EventFilter::parse({"container"});
    REQUIRE_FALSE(malformed.ok());
    CHECK(malformed.error().message.find("bad format of filter (expected name=value)") != std::string::npos);
}

TEST_CASE("everyday: the parser's new verbs") {
    auto u = parse_args({"update", "-m", "32m", "--memory-swap", "-1", "--cpus", "0.5", "--pids-limit", "-1", "--restart",
                         "on-failure:3", "web", "db"});
    REQUIRE(u.ok());
    CHECK(u->verb == "update");
    CHECK(u->args == std::vector<std::string>{"web", "db"});
    CHECK(*u->update.memory_bytes == 32 * 1024 * 1024);
    CHECK(*u->update.memory_swap == -1);
    CHECK(*u->update.nano_cpus == 500'000'000);
    CHECK(*u->update.pids_limit == -1);
    CHECK(u->update.restart->kind == RestartPolicyKind::OnFailure);
    CHECK(u->update.restart->max_retries == 3);
    CHECK(parse_args(to_argv(*u)).value() == *u);
    auto none = parse_args({"update", "web"});
    REQUIRE_FALSE(none.ok());
    CHECK(none.error().message.find("you must provide one or more flags when using this command") != std::string::npos);
    auto bad_restart = parse_args({"update", "--restart", "sometimes", "web"});
    REQUIRE_FALSE(bad_restart.ok());
    CHECK(bad_restart.error().message.find("invalid restart policy") != std::string::npos);
    auto stats = parse_args({"container", "stats", "--no-stream", "-a", "--no-trunc"});
    REQUIRE(stats.ok());
    CHECK(stats->verb == "stats");
    CHECK(stats->no_stream);
    CHECK(stats->all);
    auto events = parse_args({"events", "--since", "1m", "--until", "0s", "-f", "event=start", "--format", "json"});
    REQUIRE(events.ok());
    CHECK(events->since == "1m");
    CHECK(events->filters == std::vector<std::string>{"event=start"});
    CHECK(parse_args({"rename", "a"}).error().message.find("'isolab rename' requires 2 arguments") != std::string::npos);
    CHECK(parse_args({"info", "-f", "{{.Containers}}"})->format == "{{.Containers}}");
}
