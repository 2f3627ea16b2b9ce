// One command line split into words: the GUI terminal, the CLI's lesson player, the GUI's lesson
// runner and the lesson checker all read `isolab ...` lines with this one splitter, so a line means
// the same words wherever it is checked and wherever it runs (a second splitter could disagree
// with the first on a quote, and a lesson checked by one would run by the other).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sim/core/result.hpp"

namespace isolab {

// Splits one terminal line into words like a POSIX shell, without expansions: whitespace
// separates words; '...' is literal; "..." is literal except that backslash escapes $ ` " \ and
// newline; a backslash outside quotes escapes the next character (backslash-newline joins lines);
// '#' at the start of a word starts a comment; adjacent pieces join ("a"'b'c -> abc); "" and ''
// make an empty word. | ; & < > are ordinary characters here. An unterminated quote is an error
// (exit code 2, as a shell syntax error): "unterminated double quote (opened at column 12)".
Result<std::vector<std::string>> split_command_line(std::string_view line);

// Drops one leading "docker" or "isolab" word: learners type `docker ps` in the GUI terminal.
std::vector<std::string> strip_docker_prefix(std::vector<std::string> words);

}  // namespace isolab
