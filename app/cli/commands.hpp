// The CLI's commands: thin over the engine (STYLE §1). Each prints what Docker prints and returns
// Docker's exit code. The GUI's terminal line calls run_command() too, with its own streams.
#pragma once

#include <iosfwd>
#include <string>

#include <nlohmann/json.hpp>
#include <vector>

#include "app/cli/args.hpp"

namespace isolab::cli {

// Runs a parsed command. `out`/`err` receive what a terminal would show; interactive commands
// (run -it, exec -it, attach) use the process's own stdin/stdout.
int run_command(const Command& cmd, std::ostream& out, std::ostream& err);

// argv without the program name → exit code (parse, then run_command on std::cout/std::cerr).
int cli_main(const std::vector<std::string>& argv);

// Docker's table layout: columns padded to the widest cell plus 3 spaces, and to at least
// MIN_WIDTH (Docker's formatter tables use 10).
std::string format_table(const std::vector<std::vector<std::string>>& rows, size_t min_width = 0);

}  // namespace isolab::cli
