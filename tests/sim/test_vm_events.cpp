// A VM driven through VmManager (as the CLI, the GUI and a lesson all do) writes its events to
// ROOT/events.jsonl, with the fields lessons match (lessons/SCHEMA.md). On the model backend, so no
// QEMU is needed.
#include <doctest/doctest.h>

#include <fstream>

#include "sim/core/files.hpp"
#include "sim/lesson/checks.hpp"
#include "sim/vm/vm_manager.hpp"
#include "tests/sim/lesson_test_util.hpp"

using namespace isolab;
using namespace isolab::vm;
using isolab::test::EnvVar;
using isolab::test::TempDir;
using nlohmann::json;

namespace {

std::vector<json> events(const std::string& root) {
    std::vector<json> out;
    std::ifstream in(root + "/events.jsonl");
    std::string line;
    while (std::getline(in, line)) {
        auto j = json::parse(line, nullptr, false);
        REQUIRE_FALSE(j.is_discarded());
        out.push_back(j);
    }
    return out;
}

std::vector<std::string> types(const std::vector<json>& evs) {
    std::vector<std::string> out;
    for (const auto& e : evs) out.push_back(e.value("type", "?"));
    return out;
}

struct ModelRoot {
    TempDir root{"isolab-vm-events"};
    EnvVar requested{"ISOLAB_VM_BACKEND"};
    ModelRoot() { requested.set("model"); }
};

}  // namespace

TEST_CASE("vm events: every successful action through VmManager writes its event") {
    ModelRoot m;
    VmManager vms(m.root.path);
    REQUIRE(vms.create("v1", 256, 1, "pc").ok());
    auto started = vms.start("v1");
    REQUIRE(started.ok());
    CHECK(started->state == VmState::Running);
    auto said = vms.console_run("v1", {"uname", "-r"});
    REQUIRE(said.ok());
    CHECK(said->find("modeled") != std::string::npos);
    REQUIRE(vms.pause("v1").ok());
    REQUIRE(vms.resume("v1").ok());
    REQUIRE(vms.stop("v1", false).ok());
    REQUIRE(vms.start("v1").ok());
    REQUIRE(vms.remove("v1", true).ok());  // running: rm -f powers it off

    auto evs = events(m.root.path);
    CHECK(types(evs) ==
          std::vector<std::string>{"vm_create", "vm_start", "vm_exec", "vm_stop", "vm_start", "vm_destroy"});
    for (const auto& e : evs) {
        CHECK(e.value("name", "") == "v1");
        CHECK(e.value("time", "").size() >= 20);  // RFC 3339
    }
    REQUIRE(evs.size() == 6);
    CHECK(evs[0]["backend"] == "model");
    CHECK(evs[1]["backend"] == "model");
    CHECK(evs[1]["state"] == "running");
    CHECK(evs[2]["cmd"] == json::array({"uname", "-r"}));
    // Exactly the keys the CLI wrote before the events moved into the manager.
    auto keys = [](const json& e) {
        std::vector<std::string> k;
        for (auto& [key, v] : e.items()) k.push_back(key);
        return k;
    };
    CHECK(keys(evs[0]) == std::vector<std::string>{"backend", "name", "time", "type"});
    CHECK(keys(evs[1]) == std::vector<std::string>{"backend", "name", "state", "time", "type"});
    CHECK(keys(evs[2]) == std::vector<std::string>{"cmd", "name", "time", "type"});
    CHECK(keys(evs[3]) == std::vector<std::string>{"name", "time", "type"});
    CHECK(keys(evs[5]) == std::vector<std::string>{"name", "time", "type"});

    // A lesson's check sees them as it saw the CLI's.
    lesson::CheckContext ctx;
    ctx.vms = &vms;
    ctx.root = m.root.path;
    CHECK(lesson::evaluate(json{{"kind", "event"}, {"type", "vm_exec"}, {"where", {{"name", "v1"}, {"cmd", "uname -r"}}}}, ctx).ok);
    CHECK(lesson::evaluate(json{{"kind", "event"}, {"type", "vm_start"}, {"where", {{"name", "v1"}, {"state", "running"}}}}, ctx).ok);
    CHECK_FALSE(lesson::evaluate(json{{"kind", "event"}, {"type", "vm_exec"}, {"where", {{"cmd", "ps"}}}}, ctx).ok);
}

TEST_CASE("vm events: refused actions write nothing") {
    ModelRoot m;
    VmManager vms(m.root.path);
    REQUIRE(vms.create("v1", 256, 1, "pc").ok());
    auto before = events(m.root.path).size();
    CHECK_FALSE(vms.create("v1", 256, 1, "pc").ok());        // name in use
    CHECK_FALSE(vms.create("bad/name", 256, 1, "pc").ok());  // invalid name
    CHECK_FALSE(vms.stop("v1", false).ok());                 // not running
    CHECK_FALSE(vms.console_run("v1", {"ps"}).ok());         // not running
    CHECK_FALSE(vms.start("ghost").ok());                    // no such VM
    REQUIRE(vms.start("v1").ok());
    CHECK_FALSE(vms.start("v1").ok());                       // already running
    CHECK_FALSE(vms.remove("v1", false).ok());               // running, no -f
    CHECK(types(events(m.root.path)).size() == before + 1);  // only the one start
    CHECK(events(m.root.path).back()["type"] == "vm_start");
}

TEST_CASE("vm events: the race's throw-away VMs write none") {
    ModelRoot m;
    VmManager vms(m.root.path);
    REQUIRE(vms.create("race-1", 256, 1, "pc", /*ephemeral=*/true).ok());
    REQUIRE(vms.start("race-1").ok());
    REQUIRE(vms.remove("race-1", true).ok());
    CHECK(events(m.root.path).empty());
}

TEST_CASE("vm events: a model boot that fails leaves the VM aborted with the reason, and no vm_start") {
    ModelRoot m;
    EnvVar assets("ISOLAB_ASSETS");
    TempDir no_assets("isolab-vm-noassets");
    VmManager vms(m.root.path);
    REQUIRE(vms.create("v1", 256, 1, "pc").ok());
    // The model's data file is read at boot; a manager made where it is missing cannot boot.
    assets.set(no_assets.path);
    VmManager broken(m.root.path);
    auto r = broken.start("v1");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("vm-model.json") != std::string::npos);
    auto rec = vms.get("v1");
    REQUIRE(rec.ok());
    CHECK(rec->state == VmState::Aborted);
    CHECK(rec->error == r.error().message);
    CHECK(types(events(m.root.path)) == std::vector<std::string>{"vm_create"});
}
