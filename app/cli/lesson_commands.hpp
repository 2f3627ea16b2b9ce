// `isolab lesson list|check|show|play|reset`: the lessons from a terminal (sim/lesson/).
// `play ID --auto` is the automatic player the tests use: it runs every action against the real
// engine, answers each quiz, and fails when a check does not turn green in time.
#pragma once

#include <iosfwd>

#include "app/cli/args.hpp"

namespace isolab::cli {

int run_lesson_command(const Command& c, std::ostream& out, std::ostream& err);

}  // namespace isolab::cli
