// The CLI's commands: thin over the engine (STYLE §1). Each prints what Docker prints and returns
// Docker's exit code. The GUI's terminal line calls run_command() too, with its own streams.
#pragma once

#include <iosfwd>
#include <string>

#include <nlohmann/json.hpp>
#include <vector>

#include "app/cli/args.hpp"

namespace isolab {
class Engine;
struct ContainerRecord;
}

namespace isolab::cli {

// Runs a parsed command. `out`/`err` receive what a terminal would show; interactive commands
// (run -it, exec -it, attach) use the process's own stdin/stdout.
int run_command(const Command& cmd, std::ostream& out, std::ostream& err);

// The part of run_command that works on the state root through an engine: E is the caller's (the
// GUI shares one between its views and its jobs; run_command opens one per command). The caller
// has run E's garbage collection first, as Engine::open does.
int run_engine_command(Engine& e, const Command& cmd, std::ostream& out, std::ostream& err);

// Whether CMD may run inside a long-lived process on a shared engine (the GUI's jobs): it works
// only through the engine and OUT/ERR, on the engine's own state root and language, and needs no
// terminal, no signal handler and no current directory. Attached run/start, exec, logs -f, build,
// save/load, vm, race, lesson, runtime, gui, doctor and anything with --root or --lang get a
// process of their own.
bool runs_on_shared_engine(const Command& cmd);

// argv without the program name → exit code (parse, then run_command on std::cout/std::cerr).
int cli_main(const std::vector<std::string>& argv);

// Docker's table layout: columns padded to the widest cell plus 3 spaces, and to at least
// MIN_WIDTH (Docker's formatter tables use 10).
std::string format_table(const std::vector<std::vector<std::string>>& rows, size_t min_width = 0);

// ps's STATUS column ("Up 3 minutes", "Exited (0) 2 seconds ago", "... (simulated)").
std::string container_status_column(const ContainerRecord& r);
// Docker's Ellipsis: S cut to N code points, the last one "…".
std::string docker_ellipsis(const std::string& s, size_t n);

}  // namespace isolab::cli
