// A simulated engine in a fresh state root of its own, removed afterwards: the engine's logic
// without kernel features, for unit tests that run anywhere.
#pragma once

#include <doctest/doctest.h>

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "sim/engine/engine.hpp"

namespace isolab::test {

struct SimEngine {
    std::string root;
    std::unique_ptr<Engine> engine;
    SimEngine() {
        char tmpl[] = "/tmp/isl-sim.XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        root = tmpl;
        EngineOptions o;
        o.root = root;
        o.backend = "simulated";
        auto e = Engine::open(o);
        REQUIRE(e.ok());
        engine = std::move(*e);
    }
    ~SimEngine() {
        engine.reset();
        std::filesystem::remove_all(root);
    }
    SimEngine(const SimEngine&) = delete;
    SimEngine& operator=(const SimEngine&) = delete;
    Engine* operator->() { return engine.get(); }
    Engine& operator*() { return *engine; }
};

}  // namespace isolab::test
