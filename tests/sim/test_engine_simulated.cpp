// The engine's logic on the simulated backend: no kernel features needed, so these run anywhere.
#include <algorithm>
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>

#include "sim/core/files.hpp"
#include "sim/engine/engine.hpp"
#include "tests/sim/sim_engine.hpp"

using namespace isolab;

namespace {

using test::SimEngine;

ContainerSpec spec(const std::string& name, std::vector<std::string> cmd = {"sleep", "100"}) {
    ContainerSpec s;
    s.name = name;
    s.image = "busybox";
    s.cmd = std::move(cmd);
    return s;
}

}  // namespace

TEST_CASE("engine (simulated): create resolves the image, names and hostname; nothing runs") {
    SimEngine e;
    CHECK(e->backend() == Backend::Simulated);
    auto rec = e->create(spec("web"));
    REQUIRE(rec.ok());
    CHECK(rec->id.size() == 64);
    CHECK(rec->name == "web");
    CHECK(rec->state == ContainerState::Created);
    CHECK(rec->hostname == rec->id.substr(0, 12));
    CHECK(rec->path_args == std::vector<std::string>{"sleep", "100"});
    CHECK(rec->image_id.rfind("sha256:", 0) == 0);
    CHECK(rec->backend == Backend::Simulated);
    CHECK(std::find(rec->env.begin(), rec->env.end(), "HOSTNAME=" + rec->hostname) != rec->env.end());
    auto by_prefix = e->inspect(rec->id.substr(0, 5));
    REQUIRE(by_prefix.ok());
    CHECK(by_prefix->name == "web");
    CHECK(e->list(false).empty());
    CHECK(e->list(true).size() == 1);
}

TEST_CASE("engine (simulated): the image's CMD and ENTRYPOINT rules") {
    SimEngine e;
    auto def = e->create(spec("defcmd", {}));
    REQUIRE(def.ok());
    CHECK(def->path_args == std::vector<std::string>{"sh"});  // busybox's CMD
    ContainerSpec s = spec("ep", {"-c", "echo hi"});
    s.entrypoint = std::vector<std::string>{"sh"};
    auto ep = e->create(s);
    REQUIRE(ep.ok());
    CHECK(ep->path_args == std::vector<std::string>{"sh", "-c", "echo hi"});
    ContainerSpec only_ep = spec("ep2", {});
    only_ep.entrypoint = std::vector<std::string>{"date"};
    auto ep2 = e->create(only_ep);
    REQUIRE(ep2.ok());
    CHECK(ep2->path_args == std::vector<std::string>{"date"});  // the image's CMD is dropped
    ContainerSpec scratch = spec("sc", {});
    scratch.image = "scratch";
    auto sc = e->create(scratch);
    REQUIRE_FALSE(sc.ok());
    CHECK(sc.error().message == "no command specified");
    CHECK(sc.error().exit_code == 125);
}

TEST_CASE("engine (simulated): bad input is refused before anything is created") {
    SimEngine e;
    auto count = [&] {
        size_t n = 0;
        for (auto& d : std::filesystem::directory_iterator(e.root + "/containers")) n += d.is_directory();
        return n;
    };
    auto bad = e->create(spec("../../etc"));
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().exit_code == 125);
    CHECK(bad.error().message == "Invalid container name (../../etc), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
    auto one_char = e->create(spec("a"));
    CHECK_FALSE(one_char.ok());
    auto img = e->create([] { auto s = spec("img"); s.image = "nginx"; return s; }());
    REQUIRE_FALSE(img.ok());
    CHECK(img.error().exit_code == 125);
    CHECK(img.error().message.rfind("Unable to find image 'nginx:latest' locally", 0) == 0);
    auto mem = e->create([] { auto s = spec("mem"); s.memory_bytes = 1024; return s; }());
    REQUIRE_FALSE(mem.ok());
    CHECK(mem.error().message == "Minimum memory limit allowed is 6MB");
    auto wd = e->create([] { auto s = spec("wd"); s.workdir = "relative"; return s; }());
    CHECK_FALSE(wd.ok());
    CHECK(count() == 0);
    CHECK(e->list(true).empty());

    REQUIRE(e->create(spec("web")).ok());
    auto dup = e->create(spec("web"));
    REQUIRE_FALSE(dup.ok());
    CHECK(dup.error().exit_code == 125);
    CHECK(dup.error().message.rfind("Conflict. The container name \"/web\" is already in use by container \"", 0) == 0);
    CHECK(count() == 1);
}

TEST_CASE("engine (simulated): the lifecycle through the engine, with Docker's errors") {
    SimEngine e;
    auto rec = e->create(spec("web"));
    REQUIRE(rec.ok());
    const std::string id = rec->id;
    // The plan exists before the start, from the real runtime's planner (issue 13).
    REQUIRE_FALSE(rec->plan.empty());
    CHECK(rec->plan.front().name == "clone");
    CHECK(std::any_of(rec->plan.begin(), rec->plan.end(), [](const RuntimeStep& s) { return s.name == "pivot_root"; }));
    CHECK(rec->plan.back().name == "exec");
    auto k = e->kill("web");
    REQUIRE_FALSE(k.ok());
    CHECK(k.error().message == "cannot kill container: web: container " + id + " is not running");
    auto started = e->start("web");
    REQUIRE(started.ok());
    CHECK(started->state == ContainerState::Running);
    CHECK(started->pid > 0);
    REQUIRE(started->steps.size() == rec->plan.size());
    for (size_t i = 0; i < started->steps.size(); ++i) {
        CHECK(started->steps[i].name == rec->plan[i].name);
        CHECK(started->steps[i].detail.rfind("simulated", 0) == 0);  // labeled as modeled, every one
    }
    CHECK(e->list(false).size() == 1);
    auto again = e->start("web");  // a no-op, like Docker
    REQUIRE(again.ok());
    CHECK(again->pid == started->pid);
    REQUIRE(e->pause("web").ok());
    CHECK(e->inspect("web")->state == ContainerState::Paused);
    auto sp = e->start("web");
    REQUIRE_FALSE(sp.ok());
    CHECK(sp.error().message == "cannot start a paused container, try unpause instead");
    auto rm = e->remove("web");
    REQUIRE_FALSE(rm.ok());
    CHECK(rm.error().exit_code == 1);
    REQUIRE(e->unpause("web").ok());
    auto stopped = e->stop("web", 1);
    REQUIRE(stopped.ok());
    CHECK(stopped->state == ContainerState::Exited);
    CHECK(stopped->exit_code == 143);  // the modeled process dies of SIGTERM
    auto w = e->wait("web");
    REQUIRE(w.ok());
    CHECK(*w == 143);
    auto restarted = e->restart("web");
    REQUIRE(restarted.ok());
    CHECK(restarted->state == ContainerState::Running);
    auto killed = e->kill("web", "SIGKILL");
    REQUIRE(killed.ok());
    CHECK(killed->exit_code == 137);
    ExecRequest req;
    req.cmd = {"true"};
    auto exec = e->exec("web", req);
    REQUIRE_FALSE(exec.ok());
    CHECK(exec.error().message == "container " + id + " is not running");
    REQUIRE(e->remove("web").ok());
    CHECK_FALSE(std::filesystem::exists(e.root + "/containers/" + id));
    auto gone = e->inspect("web");
    REQUIRE_FALSE(gone.ok());
    CHECK(gone.error().message == "No such container: web");
    CHECK(gone.error().exit_code == 1);
}

TEST_CASE("engine (simulated): rm -f removes a running container; events are recorded") {
    SimEngine e;
    REQUIRE(e->create(spec("job")).ok());
    REQUIRE(e->start("job").ok());
    REQUIRE(e->remove("job", true).ok());
    CHECK(e->list(true).empty());
    auto events = read_file(e.root + "/events.jsonl");
    REQUIRE(events.ok());
    for (const char* type : {"\"create\"", "\"start\"", "\"destroy\""})
        CHECK(events->find(std::string("\"type\":") + type) != std::string::npos);
}

TEST_CASE("engine: signal names and numbers") {
    CHECK(*parse_signal("KILL") == 9);
    CHECK(*parse_signal("sigterm") == 15);
    CHECK(*parse_signal("9") == 9);
    CHECK(*parse_signal("SIGUSR1") == 10);
    CHECK_FALSE(parse_signal("NOPE").ok());
    CHECK_FALSE(parse_signal("0").ok());
    CHECK(valid_container_name("web-1.a_b"));
    CHECK(valid_container_name("/web"));
    CHECK_FALSE(valid_container_name("a"));
    CHECK_FALSE(valid_container_name("../etc"));
    CHECK_FALSE(valid_container_name("-web"));
}

#include "sim/lesson/stage.hpp"
#include "sim/vm/vm_manager.hpp"

TEST_CASE("engine (simulated): volumes are made at create, anonymous ones named; a lesson's reset removes the volumes made since it opened") {
    SimEngine e;
    ContainerSpec s = spec("vols");
    auto named = parse_volume_flag("data:/data");
    auto anon = parse_volume_flag("/scratch");
    REQUIRE(named.ok());
    REQUIRE(anon.ok());
    vm::VmManager vms(e.root);
    auto before = lesson::take_baseline(*e.engine, vms);
    s.mounts = {*named, *anon};
    auto rec = e->create(s);
    REQUIRE(rec.ok());
    REQUIRE(rec->spec.mounts.size() == 2);
    CHECK(rec->spec.mounts[1].source.size() == 64);
    CHECK(rec->spec.mounts[1].anonymous);
    CHECK(rec->spec.mounts[0].host_path == e.root + "/volumes/data/_data");
    CHECK(e->volumes().get("data").ok());
    CHECK(e->volumes().get(rec->spec.mounts[1].source).ok());
    // Two mounts on one target: nothing is made.
    ContainerSpec dup = spec("dup");
    dup.mounts = {*parse_volume_flag("other:/x"), *parse_volume_flag("/x")};
    auto refused = e->create(dup);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message == "Duplicate mount point: /x");
    CHECK_FALSE(e->volumes().get("other").ok());
    // The reset: the container first, then both volumes it made.
    lesson::Lesson l;
    auto lines = lesson::stage_commands(l, *e.engine, vms, &before);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == "isolab rm -f vols");
    CHECK(lines[1].rfind("isolab volume rm -f ", 0) == 0);
    CHECK(lines[2].rfind("isolab volume rm -f ", 0) == 0);
    // A volume that was there before the lesson stays, unless the stage names it.
    auto kept = lesson::take_baseline(*e.engine, vms);
    CHECK(lesson::stage_commands(l, *e.engine, vms, &kept).empty());
    l.stage.volumes = {"data"};
    CHECK(lesson::stage_commands(l, *e.engine, vms, &kept) == std::vector<std::string>{"isolab volume rm -f data"});
}
