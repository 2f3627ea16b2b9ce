// `isolab cp`: Docker 28's client side of `docker cp` (its argument checks, words, exit codes
// and summary line) over the engine's copy_from_container / copy_to_container
// (sim/engine/container_copy.hpp).
#pragma once

#include <iosfwd>
#include <string>

#include "app/cli/args.hpp"

namespace isolab {
class Engine;
}

namespace isolab::cli {

// `cp [-a] [-L] [-q] CONTAINER:SRC DEST|-` and `cp [-a] [-L] [-q] SRC|- CONTAINER:DEST`. Every
// error exits 1, as Docker's cp does ("source can not be empty", "copying between containers is
// not supported", "must specify at least one container source", the daemon's "Could not find the
// file PATH in container NAME", ...). When stdout is a terminal and -q is not given, the summary
// "Successfully copied 2.05kB to DEST" goes to stderr (a tar to stdout prints none).
int run_cp_command(Engine& e, const Command& c, std::ostream& out, std::ostream& err);

// Docker's resolveLocalPath: PATH made absolute against the working directory and cleaned, its
// trailing "/" or "/." kept.
std::string resolve_local_path(const std::string& path);

}  // namespace isolab::cli
