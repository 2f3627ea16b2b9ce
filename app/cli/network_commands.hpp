// `isolab network ...` (but `network prune`: prune_commands.hpp), `isolab port` and
// `isolab system reset`: thin over the engine's network functions (sim/engine/engine.hpp, sim/net/).
#pragma once

#include <iosfwd>

#include "app/cli/args.hpp"
#include "sim/engine/engine.hpp"

namespace isolab::cli {

int run_network_command(Engine& e, const Command& c, std::ostream& out, std::ostream& err);
int run_port_command(Engine& e, const Command& c, std::ostream& out, std::ostream& err);
int run_system_command(Engine& e, const Command& c, std::ostream& out, std::ostream& err);

}  // namespace isolab::cli
