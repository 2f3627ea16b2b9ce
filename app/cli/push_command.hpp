// `isolab push` (and `image push`): Docker 28's client side over the engine's push_image
// (sim/engine/push.hpp).
#pragma once

#include <iosfwd>

#include "app/cli/args.hpp"

namespace isolab {
class Engine;
}

namespace isolab::cli {

// `push [-a] [-q] [--platform P] [--disable-content-trust] NAME[:TAG]`. Prints "Using default
// tag: latest" for a name alone, Docker's progress to OUT (redrawn on a terminal, status lines
// when piped) and "<tag>: digest: … size: N"; -q prints only the full name pushed. Errors go to
// ERR in Docker's words, exit 1: before the push starts as "Error response from daemon: …", once
// "The push refers to repository" is out as the bare message (Docker's stream error).
int run_push_command(Engine& e, const Command& c, std::ostream& out, std::ostream& err);

}  // namespace isolab::cli
