// The Terminal tab's suggestion chips (sim/view/term_text.hpp terminal_examples): a chip fills the
// input line, so each must be a command that exists. Each is parsed here with the CLI's own parser.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "app/cli/args.hpp"
#include "sim/view/term_text.hpp"

TEST_CASE("terminal: every suggestion chip is a command the CLI parses") {
    const auto& chips = isolab::view::terminal_examples();
    REQUIRE(chips.size() >= 5);
    for (const std::string& chip : chips) {
        INFO("chip: " << chip);
        auto words = isolab::split_command_line(chip);
        REQUIRE(words.ok());
        auto parsed = isolab::cli::parse_args(*words);
        CHECK_MESSAGE(parsed.ok(), (parsed.ok() ? std::string() : parsed.error().message));
        if (!parsed.ok()) continue;
        // It runs the verb it names, not help for a verb it got wrong.
        CHECK(parsed->verb == words->front());
        CHECK_FALSE(parsed->help);
        // And the GUI's own entry point reads the same line the same way.
        auto line = isolab::cli::parse_line(chip);
        REQUIRE(line.ok());
        CHECK(line->verb == parsed->verb);
    }
}
