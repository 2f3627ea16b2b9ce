#include "sim/engine/intent.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"

namespace isolab {

using nlohmann::json;

const char* intent_op_name(IntentOp op) {
    switch (op) {
        case IntentOp::Create: return "create";
        case IntentOp::Start: return "start";
        case IntentOp::Remove: return "remove";
        case IntentOp::Commit: return "commit";
    }
    return "create";
}

std::string intent_path(const std::string& container_dir) { return container_dir + "/intent.json"; }

Status write_intent(const std::string& container_dir, Intent intent) {
    intent.pid = ::getpid();
    intent.start_time = process_start_time(intent.pid);
    json j = {{"op", intent_op_name(intent.op)}, {"pid", intent.pid},      {"start_time", intent.start_time},
              {"froze", intent.froze},           {"staged", intent.staged}, {"time", now_rfc3339()}};
    return write_file_atomic(intent_path(container_dir), j.dump() + "\n", 0600);
}

std::optional<Intent> read_intent(const std::string& container_dir) {
    auto text = read_file(intent_path(container_dir));
    if (!text) return std::nullopt;
    auto j = json::parse(*text, nullptr, false);
    Intent in;
    // An unreadable intent (torn by a full disk) is still an intent: its owner is unknown, so it
    // is treated as gone and the operation rolled back or forward like any other.
    if (j.is_discarded() || !j.is_object()) return in;
    std::string op = j.value("op", "");
    in.op = op == "start" ? IntentOp::Start : op == "remove" ? IntentOp::Remove : op == "commit" ? IntentOp::Commit
                                                                                                 : IntentOp::Create;
    in.pid = j.value("pid", 0);
    in.start_time = j.value("start_time", uint64_t{0});
    in.froze = j.value("froze", false);
    in.staged = j.value("staged", "");
    return in;
}

void clear_intent(const std::string& container_dir) { ::unlink(intent_path(container_dir).c_str()); }

bool intent_owner_alive(const Intent& intent) {
    return intent.pid > 0 && intent.start_time != 0 && process_matches(intent.pid, intent.start_time);
}

Result<IntentGuard> IntentGuard::begin(const std::string& container_dir, Intent intent) {
    ISOLAB_TRY(write_intent(container_dir, intent));
    IntentGuard g;
    g.dir_ = container_dir;
    return g;
}

IntentGuard& IntentGuard::operator=(IntentGuard&& o) noexcept {
    if (this != &o) {
        done();
        dir_ = std::move(o.dir_);
        o.dir_.clear();
    }
    return *this;
}

Status IntentGuard::update(Intent intent) const {
    if (dir_.empty()) return {};
    return write_intent(dir_, intent);
}

void IntentGuard::done() {
    if (!dir_.empty()) clear_intent(dir_);
    dir_.clear();
}

}  // namespace isolab
