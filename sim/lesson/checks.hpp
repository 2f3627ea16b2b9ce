// Completion checks (lessons/SCHEMA.md "Check"), evaluated against the engine's state on disk and
// its event log. GUI-free: the GUI's lesson panel, the terminal player and the tests call the same
// evaluate(). An evaluation only reads (and, for `http`, connects to 127.0.0.1); it never changes
// the world, so it may run as often as the state changes.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace isolab {
class Engine;
namespace vm {
class VmManager;
}
}  // namespace isolab

namespace isolab::lesson {

struct CheckContext {
    Engine* engine = nullptr;
    vm::VmManager* vms = nullptr;
    std::string root;            // the state root (events.jsonl)
    uint64_t events_from = 0;    // byte offset of events.jsonl where the step began
};

struct CheckResult {
    bool ok = false;
    std::string detail;  // what was seen, in English: "web is exited, not running"
};

CheckResult evaluate(const nlohmann::json& check, const CheckContext& ctx);

// The size of ROOT/events.jsonl now: a step's events are those written after this offset.
uint64_t events_offset(const std::string& root);

// True when EVENT (one line of events.jsonl, parsed) is of TYPE and matches WHERE (SCHEMA.md).
bool event_matches(const nlohmann::json& event, const std::string& type, const nlohmann::json& where);

}  // namespace isolab::lesson
