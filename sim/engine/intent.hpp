// Crash consistency: an operation on a container writes what it is about to do before it acts
// (ROOT/containers/ID/intent.json), and removes it when done, on every path. A `kill -9` of the
// CLI between the two leaves the intent behind; the next command's garbage collector finds it,
// sees its owner is gone (pid + start time), and rolls the operation forward (create, rm: finish
// it) or back (start: stop what was begun; commit: thaw the container, remove the staged layer).
// No operation is ever half-visible for longer than until the next command.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "sim/core/result.hpp"

namespace isolab {

enum class IntentOp { Create, Start, Remove, Commit };

struct Intent {
    Intent() = default;
    Intent(IntentOp what) : op(what) {}  // NOLINT: `{IntentOp::Start}` reads as what it is
    IntentOp op = IntentOp::Create;
    pid_t pid = 0;                 // the process doing it
    uint64_t start_time = 0;       // and its start time: a recycled pid is not the owner
    bool froze = false;            // commit: the container's cgroup was frozen by the commit
    std::string staged;            // commit: the staging folder to remove
};

const char* intent_op_name(IntentOp op);
std::string intent_path(const std::string& container_dir);
// Written atomically, 0600. OWNER fields are filled with the calling process.
Status write_intent(const std::string& container_dir, Intent intent);
std::optional<Intent> read_intent(const std::string& container_dir);
void clear_intent(const std::string& container_dir);
// The process that wrote it still runs (the operation may still be going on).
bool intent_owner_alive(const Intent& intent);

// Writes INTENT now and removes it when the guard goes out of scope (every return path). A
// kill -9 skips the destructor: that is the point.
class IntentGuard {
public:
    IntentGuard() = default;
    static Result<IntentGuard> begin(const std::string& container_dir, Intent intent);
    IntentGuard(IntentGuard&& o) noexcept : dir_(std::move(o.dir_)) { o.dir_.clear(); }
    IntentGuard& operator=(IntentGuard&& o) noexcept;
    IntentGuard(const IntentGuard&) = delete;
    IntentGuard& operator=(const IntentGuard&) = delete;
    ~IntentGuard() { done(); }
    // The folder holding the intent was renamed (create: `.creating-ID` → `ID`).
    void moved_to(std::string container_dir) { dir_ = std::move(container_dir); }
    // Rewrites the intent (e.g. commit: once the container is frozen).
    Status update(Intent intent) const;
    void done();

private:
    std::string dir_;
};

}  // namespace isolab
