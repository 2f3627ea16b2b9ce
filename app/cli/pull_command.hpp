// `isolab pull` and the implicit pull of `run`/`create`: Docker 28's client side over the
// engine's pull_image (sim/engine/pull.hpp).
#pragma once

#include <functional>
#include <iosfwd>
#include <string>

#include "app/cli/args.hpp"
#include "sim/core/result.hpp"
#include "sim/engine/pull.hpp"

namespace isolab {
class Engine;
}

namespace isolab::cli {

// `pull [-q] [--platform P] NAME[:TAG|@DIGEST]`. Prints Docker's progress to OUT: redrawn in
// place when OUT is a terminal (fd TERMINAL_FD), status lines without progress bars otherwise;
// then `Digest:`, `Status:` and the full name. Errors: "Error response from daemon: …", exit 1.
int run_pull_command(Engine& e, const Command& c, std::ostream& out, std::ostream& err);

// For `run`/`create`: pulls NAME with the progress on ERR (Docker's client writes it there), after
// the "Unable to find image 'NAME' locally" line when ANNOUNCE. The error has exit code 125.
Status pull_for_run(Engine& e, const std::string& name, bool announce, std::ostream& err);

// Docker's progress drawing (jsonmessage) for pull and push: redrawn in place when fd FD is a
// terminal, status lines without progress bars otherwise. An event with an empty id and layer
// false is a line of its own ("The push refers to repository [...]").
std::function<void(const PullProgress&)> progress_printer(std::ostream& out, int fd);

}  // namespace isolab::cli
