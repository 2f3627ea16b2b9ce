// `isolab container prune`, `image prune`, `network prune`, `system prune` and `system df`: thin
// over the engine's public lists and removals (Engine::list/remove, ImageStore::list/remove,
// NetworkStore::list and Engine::remove_network), with Docker 28's prompts, output and sizes.
//
// What IsoLab's state root has and Docker's daemon does not, and how it is counted:
// - A container's SIZE is the bytes of its writable layer (ROOT/containers/ID/upper); a container
//   on the copy root file system (no overlayfs) counts its whole copy, which is what removing it
//   frees. Simulated containers have none (0B).
// - The build cache is ImageStore::build_cache(): one small file per cached Dockerfile step. Its
//   layers are counted with the images. `system prune` removes the dangling entries (whose layers
//   are gone), `system prune -a` all of them. IsoLab records no use of an entry: `system df -v`
//   leaves LAST USED and USAGE empty.
// - Volumes (sim/state/volumes.hpp) are counted as Docker's local driver does: a volume's SIZE is
//   the blocks its _data folder holds, it is active (LINKS > 0) while any container's record mounts
//   it, in any state. `system prune --volumes` removes the anonymous ones no container uses
//   (sim/engine/volume_actions.hpp), never a named one.
// - The base image busybox is an image like any other: `image prune -a` removes it when no
//   container uses it, and the image store makes it again from the host's static busybox at the
//   next `run busybox` or `images` (ImageStore::ensure_busybox), with the same id.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/cli/args.hpp"
#include "app/cli/filters.hpp"
#include "sim/core/result.hpp"

namespace isolab {
class Engine;
}

namespace isolab::cli {

// go-units' HumanSizeWithPrecision: decimal units (B, kB, MB, GB, TB, PB, EB, ZB, YB; a step is
// 1000) and the number with PRECISION significant digits as Go's %.*g prints it, whatever the
// locale: "0B", "12B", "12.3kB", "1.235MB" (HumanSize is precision 4; Docker's per-object SIZE
// columns use 3: "1.23MB").
std::string go_human_size(double bytes, int precision = 4);

// Docker's PromptForConfirmation: writes MESSAGE + " [y/N] " to OUT (no newline), reads one line
// of IN and says yes only for "y" or "Y" (surrounding spaces ignored). End of input is no.
bool confirm(std::istream& in, std::ostream& out, std::string_view message);

// The question `system prune` asks: its list changes with -a and --volumes, and the filters
// (label, label! and until, in natural order) are named when given.
std::string system_prune_warning(bool all, bool volumes, const std::vector<std::string>& filters);

// The prune filters as Docker's daemon reads them, over the listings' FilterArgs (filters.hpp).
// WORDS are "name=value" as --filter kept them; ACCEPTED the names this kind of object knows.
// Errors (exit 1) are the daemon's words: "invalid filter 'name'", "more than one until filter
// specified", `failed to parse value as time or duration: "x"`.
struct PruneFilters {
    FilterArgs args;
    std::optional<int64_t> until_ns;  // only what was created up to then (Unix ns)
};
Result<PruneFilters> parse_prune_filters(const std::vector<std::string>& words,
                                         const std::vector<std::string>& accepted, int64_t now_ns);
// Whether an object created at CREATED (RFC 3339) with LABELS passes F's until, label and label!
// (Docker's matchLabels: an object with every label! given is kept).
bool prune_filters_match(const PruneFilters& f, const std::string& created,
                         const std::map<std::string, std::string>& labels);

// "container prune", "image prune", "network prune", "system prune", "system df".
bool is_prune_verb(std::string_view verb);
// Runs one of them; the prompt reads IN.
int run_prune_command(Engine& e, const Command& c, std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace isolab::cli
