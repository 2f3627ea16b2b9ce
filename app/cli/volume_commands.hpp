// `isolab volume create|ls|inspect|rm|prune`: thin over sim/engine/volume_actions.hpp, with Docker
// 28's output and the daemon's error words (moby volume/service) after "Error response from
// daemon: ", exit 1; what the parser refuses (a driver other than local, -o) exits 125.
//
// Measured against the Docker 28.2 client: `volume ls` is a DRIVER / VOLUME NAME table in natural
// name order (formatter tables: columns at least 10 wide, 3 spaces apart), `--format json` one
// object per line with Availability, Group, Links, Size and Status "N/A" (no cluster, no usage
// data in a listing); `volume rm` prints each removed name, then every error, one per line, and
// exits 1 if any; `volume prune` asks Docker's question (anonymous volumes, or with -a all local
// volumes, "not used by at least one container"), and an answer other than y/Y ends it silently
// with exit 0.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "app/cli/args.hpp"
#include "sim/core/result.hpp"
#include "sim/state/volumes.hpp"

namespace isolab {
class Engine;
}

namespace isolab::cli {

// "volume create", "volume ls", "volume inspect", "volume rm", "volume prune".
bool is_volume_verb(const std::string& verb);
// Runs one of them; `volume prune`'s prompt reads IN.
int run_volume_command(Engine& e, const Command& c, std::istream& in, std::ostream& out, std::ostream& err);

// `volume ls`'s filters as moby's daemon reads them (dangling, name, driver, label; values of one
// key OR'ed, label's AND'ed, name a regular expression): the volumes of ALL that pass, in natural
// name order. USED[i] says whether a container mounts all[i]. Errors (exit 1): "invalid filter
// 'KEY'", "invalid filter 'dangling=[maybe]'".
Result<std::vector<Volume>> filter_volumes(const std::vector<Volume>& all, const std::vector<bool>& used,
                                           const std::vector<std::string>& filter_words);

// The label/label! part of a prune's --filter as a predicate over volumes (label values AND'ed,
// label! excludes), for prunable_volumes. WORDS may hold `all` (volume prune's own); anything else
// is the daemon's "invalid filter 'KEY'" (exit 1). *ALL is set when `all=true` was among them.
Result<std::function<bool(const Volume&)>> volume_prune_filter(const std::vector<std::string>& words, bool* all);

}  // namespace isolab::cli
