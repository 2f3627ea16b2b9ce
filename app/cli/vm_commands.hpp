// `isolab vm ...` and `isolab race`: the hosted side's commands, thin over sim/vm.
#pragma once

#include <iosfwd>

#include "app/cli/args.hpp"

namespace isolab::cli {

int run_vm_command(const Command& c, std::ostream& out, std::ostream& err);
int run_race_command(const Command& c, std::ostream& out, std::ostream& err);

}  // namespace isolab::cli
