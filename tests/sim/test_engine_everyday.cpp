// rename and update on the simulated engine: names, Docker's errors and what the record keeps.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "sim/core/files.hpp"
#include "sim/engine/engine.hpp"
#include "tests/sim/sim_engine.hpp"

using namespace isolab;

namespace {

using test::SimEngine;

ContainerSpec spec(const std::string& name) {
    ContainerSpec s;
    s.name = name;
    s.image = "busybox";
    s.cmd = {"sleep", "100"};
    return s;
}

std::string events_text(const std::string& root) {
    std::ifstream in(root + "/events.jsonl");
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("engine (simulated): rename moves the name, frees the old one, refuses Docker's cases") {
    SimEngine e;
    auto web = e->create(spec("web"));
    auto db = e->create(spec("db"));
    REQUIRE(web.ok());
    REQUIRE(db.ok());
    auto renamed = e->rename("web", "site");
    REQUIRE(renamed.ok());
    CHECK(renamed->name == "site");
    CHECK(e->inspect("site")->id == web->id);
    CHECK_FALSE(e->inspect("web").ok());
    // The old name is free again: a new container may take it.
    CHECK(e->create(spec("web")).ok());
    auto taken = e->rename("site", "db");
    REQUIRE_FALSE(taken.ok());
    CHECK(taken.error().message == "Error when allocating new name: Conflict. The container name \"/db\" is already in use by container \"" +
                                       db->id + "\". You have to remove (or rename) that container to be able to reuse that name.");
    CHECK(e->inspect("site")->name == "site");  // unchanged
    auto bad = e->rename("site", "a b");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message == "Error when allocating new name: Invalid container name (/a b), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
    auto same = e->rename("site", "/site");
    REQUIRE_FALSE(same.ok());
    CHECK(same.error().message == "Renaming a container with the same name as its current name");
    CHECK(e->rename("nosuch", "x").error().message == "No such container: nosuch");
    std::string events = events_text(e.root);
    CHECK(events.find("\"type\":\"rename\"") != std::string::npos);
    CHECK(events.find("\"oldName\":\"/web\"") != std::string::npos);
}

TEST_CASE("engine (simulated): concurrent renames to one name: exactly one wins, names stay unique") {
    SimEngine e;
    std::vector<std::string> ids;
    for (int i = 0; i < 6; ++i) {
        auto r = e->create(spec("c" + std::to_string(i)));
        REQUIRE(r.ok());
        ids.push_back(r->id);
    }
    std::vector<int> ok(6, 0);
    std::vector<std::thread> threads;
    for (int i = 0; i < 6; ++i)
        threads.emplace_back([&, i] {
            // Each thread its own engine on the same root, as separate `isolab rename` processes.
            EngineOptions o;
            o.root = e.root;
            o.backend = "simulated";
            auto mine = Engine::open(o);
            if (mine) ok[i] = (*mine)->rename(ids[i], "target").ok() ? 1 : 0;
        });
    for (auto& t : threads) t.join();
    int winners = 0;
    for (int v : ok) winners += v;
    CHECK(winners == 1);
    std::multiset<std::string> names;
    for (const auto& r : e->list(true)) names.insert(r.name);
    CHECK(names.count("target") == 1);
    CHECK(names.size() == 6);
    CHECK(std::set<std::string>(names.begin(), names.end()).size() == 6);
}

TEST_CASE("engine (simulated): update stores the values and refuses what Docker's daemon refuses") {
    SimEngine e;
    auto rec = e->create(spec("web"));
    REQUIRE(rec.ok());
    ResourceUpdate u;
    u.memory_bytes = 32 * 1024 * 1024;
    u.pids_limit = 50;
    u.nano_cpus = 500'000'000;
    u.restart = RestartPolicy{RestartPolicyKind::Always, 0};
    auto up = e->update("web", u);
    REQUIRE(up.ok());
    auto after = e->inspect("web");
    CHECK(after->spec.memory_bytes == 32 * 1024 * 1024);
    CHECK(after->spec.pids_limit == 50);
    CHECK(after->spec.nano_cpus == 500'000'000);
    CHECK(after->spec.restart.kind == RestartPolicyKind::Always);
    CHECK(inspect_json(*after)["HostConfig"]["MemorySwap"] == 64 * 1024 * 1024);

    ResourceUpdate small;
    small.memory_bytes = 4 * 1024 * 1024;
    CHECK(e->update("web", small).error().message == "Minimum memory limit allowed is 6MB");
    ResourceUpdate above_swap;  // 100m > the 64m total in force
    above_swap.memory_bytes = 100 * 1024 * 1024;
    CHECK(e->update("web", above_swap).error().message ==
          "Cannot update container " + rec->id +
              ": Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time");
    ResourceUpdate swap_low;
    swap_low.memory_bytes = 100 * 1024 * 1024;
    swap_low.memory_swap = 50 * 1024 * 1024;
    CHECK(e->update("web", swap_low).error().message == "Minimum memoryswap limit should be larger than memory limit, see usage");
    ResourceUpdate both = swap_low;
    both.memory_swap = 200 * 1024 * 1024;
    REQUIRE(e->update("web", both).ok());
    CHECK(e->inspect("web")->spec.memory_swap == 200 * 1024 * 1024);
    ResourceUpdate unlimited_pids;
    unlimited_pids.pids_limit = -1;
    REQUIRE(e->update("web", unlimited_pids).ok());
    CHECK(e->inspect("web")->spec.pids_limit == 0);
    CHECK(e->inspect("web")->spec.memory_bytes == 100 * 1024 * 1024);  // untouched by a pids update

    auto rm = e->create([] {
        ContainerSpec s = spec("gone");
        s.auto_remove = true;
        return s;
    }());
    REQUIRE(rm.ok());
    ResourceUpdate restart;
    restart.restart = RestartPolicy{RestartPolicyKind::Always, 0};
    CHECK(e->update("gone", restart).error().message ==
          "Cannot update container " + rm->id + ": Restart policy cannot be updated because AutoRemove is enabled for the container");
    CHECK(events_text(e.root).find("\"type\":\"update\"") != std::string::npos);
}
