// Replays tests/app/cli_golden.txt: `--help` of every command and subcommand, and every refused
// command line that tests/app/cli_golden.sh derives from the help (each flag without its value,
// with a malformed bool/int/size/decimal, unknown flags, wrong positional counts, value checks).
// The file was written by the `isolab` binary before the parser became table-driven; each case
// must print the same bytes on stdout and stderr and exit with the same code. After a deliberate
// change of a message or of the help, regenerate it with
//   tests/app/cli_golden.sh build/isolab > tests/app/cli_golden.txt
// and review the diff.
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "app/cli/args.hpp"
#include "app/cli/commands.hpp"

namespace {

struct GoldenCase {
    std::string line;  // the argv after `isolab`, shell-quoted
    int exit_code = 0;
    std::string out, err;
};

// The record format is cli_golden.sh's: "@@ LINE", "exit N", "stdout N" + N bytes + "\n",
// "stderr N" + N bytes + "\n".
std::vector<GoldenCase> read_golden(const std::string& text) {
    std::vector<GoldenCase> cases;
    size_t pos = 0;
    auto header = [&](const std::string& key) {
        size_t nl = text.find('\n', pos);
        REQUIRE(nl != std::string::npos);
        std::string line = text.substr(pos, nl - pos);
        pos = nl + 1;
        REQUIRE_MESSAGE(line.rfind(key + " ", 0) == 0, "expected `" << key << "` at byte " << pos << ": " << line);
        return line.substr(key.size() + 1);
    };
    auto bytes = [&](const std::string& key) {
        size_t n = std::stoul(header(key));
        REQUIRE(pos + n < text.size());
        std::string body = text.substr(pos, n);
        pos += n;
        REQUIRE(text[pos] == '\n');
        ++pos;
        return body;
    };
    while (pos < text.size()) {
        GoldenCase c;
        c.line = header("@@");
        c.exit_code = std::stoi(header("exit"));
        c.out = bytes("stdout");
        c.err = bytes("stderr");
        cases.push_back(std::move(c));
    }
    return cases;
}

}  // namespace

TEST_CASE("cli golden: help and refusals are byte for byte what the parser printed before") {
    std::ifstream f(ISOLAB_SOURCE_DIR "/tests/app/cli_golden.txt", std::ios::binary);
    REQUIRE(f);
    const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const std::vector<GoldenCase> cases = read_golden(text);
    // The generator covers ~30 verbs x their flags; far fewer means a truncated file.
    REQUIRE(cases.size() > 600);

    int helps = 0, refusals = 0;
    for (const GoldenCase& g : cases) {
        INFO("isolab " << g.line);
        auto words = isolab::split_command_line(g.line);
        REQUIRE(words.ok());
        std::ostringstream out, err;
        int code;
        auto cmd = isolab::cli::parse_args(*words);
        if (!cmd.ok()) {
            // What cli_main does with a parse error.
            err << cmd.error().message << "\n";
            code = cmd.error().exit_code;
            ++refusals;
        } else {
            // Only help may parse: anything else would have run a command when it was recorded.
            REQUIRE((cmd->help || cmd->verb == "help"));
            code = isolab::cli::run_command(*cmd, out, err);
            ++helps;
        }
        CHECK(code == g.exit_code);
        CHECK(out.str() == g.out);
        CHECK(err.str() == g.err);
    }
    CHECK(helps > 60);
    CHECK(refusals > 500);
}
