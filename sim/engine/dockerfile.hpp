// The Dockerfile front end: parser, word expansion, and Docker's CMD/ENTRYPOINT rules.
//
// Pure code (no kernel, no files): it depends only on the standard library, result.hpp and
// nlohmann::json, so the fuzz target (tests/fuzz/fuzz_dockerfile.cpp) links it alone.
//
// Behaviour follows Docker's (BuildKit's) Dockerfile frontend, checked against moby/buildkit
// `frontend/dockerfile/parser/parser.go` (lines, comments, directives, continuation, BOM),
// `parser/line_parsers.go` (JSON form, ENV/LABEL/ARG words), `parser/split_command.go` (flags),
// `instructions/parse.go` (per-instruction argument rules and their error wording),
// `instructions/bflag.go` (flag errors) and `shell/lex.go` (word expansion), and against the
// Dockerfile reference ("Environment replacement", "Understand how CMD and ENTRYPOINT interact").
//
// Where IsoLab differs from Docker, on purpose:
//   - Heredocs (`<<EOF`) are refused with "... is not supported by IsoLab" instead of being
//     half-implemented.
//   - Every instruction that fails to parse is reported, one line each (`Dockerfile:N: ...`), at
//     most kMaxReportedErrors, so a file with three unsupported instructions says so in one build.
//   - Docker-only flags (RUN --mount/--network/--security/--device, COPY --link/--parents/--exclude,
//     ADD --checksum/--keep-git-dir/--link/--exclude) are refused by name the same way.
//   - ARG takes exactly one name[=default] per line (older Docker's rule) because Instruction keeps
//     one has_default.
//   - Problems Docker only finds at build time and that need no variables are reported at parse
//     time with the line: an unmatched quote or a malformed ${...} in ENV/LABEL/ARG, a bad EXPOSE
//     port, a bad STOPSIGNAL. Words that contain `$` are left for the executor to check after
//     expand() (check_port(), check_signal()).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "sim/core/result.hpp"

namespace isolab::dockerfile {

enum class Kind { From, Run, Cmd, Entrypoint, Copy, Add, Env, Workdir, Expose, Label, User, Arg,
                  StopSignal, Shell, Volume, Maintainer, Healthcheck, Onbuild };

struct Instruction {
    Kind kind;
    int line = 0;              // 1-based line where the instruction starts
    std::string keyword;       // "RUN" (upper case)
    std::string text;          // what `Step n/m : TEXT` prints: keyword upper-cased + the arguments
                               // (flags included) as written, continuation lines joined (escape +
                               // newline removed, the next line's indentation kept, as Docker
                               // does), comment lines inside removed
    bool json_form = false;    // RUN/CMD/ENTRYPOINT/SHELL/COPY/ADD written as a JSON array
    std::vector<std::string> args;
    // RUN/CMD/ENTRYPOINT: json form = the array; shell form = one element, the command text.
    // FROM: {image} (and stage name in `stage`)
    // COPY/ADD: sources..., destination last (json or space form)
    // WORKDIR/USER/STOPSIGNAL: {value}; EXPOSE: the port words; SHELL: the array
    // VOLUME: the paths (json form, or the words split at white space: parseMaybeJSONToList)
    // MAINTAINER: {the name as written}
    // HEALTHCHECK: Docker's Healthcheck.Test: {"NONE"}, {"CMD", args...} (json form) or
    //   {"CMD-SHELL", text}; the flags --interval/--timeout/--start-period/--start-interval
    //   (Go durations, checked) and --retries (checked) are in `flags`
    // ONBUILD: {the trigger as written, "ONBUILD" removed} (checked to parse as an instruction)
    // Words are as written (quotes kept, variables not expanded): pass each to expand() with the
    // Dockerfile's escape character to get what Docker uses. RUN/CMD/ENTRYPOINT/SHELL are never
    // expanded (the shell does that at run time).
    std::vector<std::pair<std::string, std::string>> pairs;
    // ENV / LABEL key,value (both `K=V K2="v 2"` and legacy `K V` forms); ARG: {name, default}.
    // Quotes are removed per Docker's rules; variables are NOT expanded yet. The strings are in
    // "expand() form": expand(s, vars, escape) gives exactly the value Docker would use. Text that
    // was quoted or escaped and contains one of ' " $ or the escape character keeps that character
    // escaped, so it stays literal through expand(): `ENV A='$x'` gives `\$x`, which expands to
    // `$x`. Plain values (`K="v 2"` → `v 2`, `PATH=/bin:$PATH`) read as written.
    bool has_default = false;        // ARG with =default
    std::map<std::string, std::string> flags;  // COPY/ADD --chown= --chmod=; COPY --from=;
                                               // FROM --platform= (name without "--", quotes
                                               // removed)
    std::string stage;               // FROM ... AS name (lower-cased, as Docker does)
};

struct Dockerfile {
    std::vector<Instruction> instructions;
    char escape = '\\';             // from a `# escape=` parser directive
};

// Parses TEXT. `name` is used in error messages: "Dockerfile:7: unknown instruction: RUNN".
// Errors (exit code 1) name the line where the instruction starts, one line per failing
// instruction (each `NAME:LINE: ...`); the parse is all-or-nothing. Linear in the size of TEXT; no recursion deeper than a small fixed bound.
inline constexpr int kMaxReportedErrors = 20;
Result<Dockerfile> parse(const std::string& text, const std::string& name = "Dockerfile");

// Go's time.ParseDuration, in nanoseconds ("1m30s", "500ms", "1.5h"); errors in Go's words
// (`time: invalid duration "x"`).
Result<int64_t> parse_go_duration(const std::string& text);

// Docker's word expansion for ENV, ADD, COPY, WORKDIR, EXPOSE, LABEL, USER, STOPSIGNAL, FROM,
// ARG values: $VAR, ${VAR}, ${VAR:-default}, ${VAR:+alt}, ${VAR-default}, ${VAR+alt},
// ${VAR:?message}, ${VAR?message}; quote removal ('...' literal, "..." expands $), escapes with
// the escape char. Unknown variables expand to "". A malformed ${...} or an unmatched quote is an
// error (exit code 1) naming the word. Nesting of ${a:-${b:-...}} is bounded (32 levels), and so
// is the result: a word that expands past kMaxExpandedWord is an error, so that `ENV A=$A$A` on
// line after line cannot double a value until the builder runs out of memory.
inline constexpr size_t kMaxExpandedWord = 128 * 1024;  // Linux's MAX_ARG_STRLEN: one argv/env string
Result<std::string> expand(const std::string& word, const std::map<std::string, std::string>& vars,
                           char escape = '\\');

// RUN/CMD/ENTRYPOINT shell form → SHELL + {text} (default shell {"/bin/sh","-c"} when SHELL is
// empty); json form → the array itself. This is what goes into the image config.
std::vector<std::string> config_args(const Instruction& in, const std::vector<std::string>& shell);

// Docker's CMD/ENTRYPOINT interaction table: what PID 1 runs, from the config's Entrypoint and
// Cmd (already in config form). Docker simply appends Cmd to Entrypoint; a shell-form ENTRYPOINT
// (`/bin/sh -c "entry"`) therefore ignores CMD because the extra words only become $0, $1 of the
// shell script. Empty both → empty (Docker: "no command specified").
// Note for the executor: Docker resets an inherited CMD when a Dockerfile sets ENTRYPOINT.
std::vector<std::string> effective_command(const std::vector<std::string>& entrypoint,
                                           const std::vector<std::string>& cmd);

// Checks one expanded EXPOSE word: PORT, PORT/tcp|udp|sctp, or a range START-END (0..65535,
// START <= END). The error (exit code 1) names the word and the accepted forms.
Status check_port(const std::string& word);

// Checks an expanded STOPSIGNAL value the way Docker's signal.ParseSignal does: a positive number
// up to 64, or a Linux signal name with or without "SIG" (any case), including RTMIN+n/RTMAX-n.
Status check_signal(const std::string& value);

// "RUN", "COPY", ... for messages and for the GUI.
const char* kind_name(Kind kind);

}  // namespace isolab::dockerfile
