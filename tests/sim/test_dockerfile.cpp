// The Dockerfile parser, word expansion and CMD/ENTRYPOINT rules against Docker's documented
// behaviour (Dockerfile reference; moby/buildkit frontend/dockerfile parser, instructions, shell).
// Error cases check the exact message, including the line where the instruction starts.
#include <doctest/doctest.h>

#include <sys/utsname.h>

#include <string>
#include <vector>

#include "sim/engine/dockerfile.hpp"

using namespace isolab;
using namespace isolab::dockerfile;
using Strings = std::vector<std::string>;
using Pairs = std::vector<std::pair<std::string, std::string>>;
using Vars = std::map<std::string, std::string>;

namespace {

const std::string kAccepted =
    " (Docker accepts ADD, ARG, CMD, COPY, ENTRYPOINT, ENV, EXPOSE, FROM, HEALTHCHECK, LABEL, MAINTAINER, ONBUILD, RUN, "
    "SHELL, STOPSIGNAL, USER, VOLUME, WORKDIR)";

Dockerfile parse_ok(const std::string& text) {
    Result<Dockerfile> r = parse(text);
    if (!r.ok()) FAIL_CHECK("unexpected parse error: " << r.error().message);
    REQUIRE(r.ok());
    return r.value();
}

// The one instruction after `FROM scratch`.
Instruction second(const std::string& line) {
    Dockerfile df = parse_ok("FROM scratch\n" + line + "\n");
    REQUIRE(df.instructions.size() == 2);
    return df.instructions[1];
}

std::string parse_error(const std::string& text, const std::string& name = "Dockerfile") {
    Result<Dockerfile> r = parse(text, name);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().exit_code == 1);
    // One line per bad instruction, each naming the file and the line.
    for (size_t at = 0; at != std::string::npos;) {
        CHECK(r.error().message.compare(at, name.size() + 1, name + ":") == 0);
        at = r.error().message.find('\n', at);
        if (at != std::string::npos) ++at;
    }
    return r.error().message;
}

std::string expand_ok(const std::string& word, const Vars& vars, char escape = '\\') {
    Result<std::string> r = expand(word, vars, escape);
    if (!r.ok()) FAIL_CHECK("unexpected expand error: " << r.error().message);
    REQUIRE(r.ok());
    return r.value();
}

std::string expand_error(const std::string& word, const Vars& vars = {}) {
    Result<std::string> r = expand(word, vars);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().exit_code == 1);
    return r.error().message;
}

}  // namespace

TEST_CASE("dockerfile: a small file gives one instruction per line with its line and text") {
    Dockerfile df = parse_ok(
        "FROM alpine:3.19\n"
        "\n"
        "RUN apk add --no-cache curl\n"
        "CMD [\"curl\", \"--version\"]\n");
    REQUIRE(df.instructions.size() == 3);
    CHECK(df.escape == '\\');
    const Instruction& from = df.instructions[0];
    CHECK(from.kind == Kind::From);
    CHECK(from.line == 1);
    CHECK(from.keyword == "FROM");
    CHECK(from.text == "FROM alpine:3.19");
    CHECK(from.args == Strings{"alpine:3.19"});
    CHECK(from.stage.empty());
    const Instruction& run = df.instructions[1];
    CHECK(run.kind == Kind::Run);
    CHECK(run.line == 3);
    CHECK_FALSE(run.json_form);
    CHECK(run.args == Strings{"apk add --no-cache curl"});
    CHECK(run.text == "RUN apk add --no-cache curl");
    const Instruction& cmd = df.instructions[2];
    CHECK(cmd.kind == Kind::Cmd);
    CHECK(cmd.line == 4);
    CHECK(cmd.json_form);
    CHECK(cmd.args == Strings{"curl", "--version"});
    CHECK(cmd.text == "CMD [\"curl\", \"--version\"]");
}

TEST_CASE("dockerfile: keywords are case-insensitive and reported upper-cased") {
    Dockerfile df = parse_ok("from busybox\nRuN echo hi\n  cmd    echo   two  \n");
    REQUIRE(df.instructions.size() == 3);
    CHECK(df.instructions[0].keyword == "FROM");
    CHECK(df.instructions[1].kind == Kind::Run);
    CHECK(df.instructions[1].keyword == "RUN");
    CHECK(df.instructions[1].text == "RUN echo hi");
    CHECK(df.instructions[2].keyword == "CMD");
    // Leading and trailing blanks go, the arguments stay as written.
    CHECK(df.instructions[2].text == "CMD echo   two");
    CHECK(df.instructions[2].args == Strings{"echo   two"});
}

TEST_CASE("dockerfile: every instruction kind is recognised") {
    Dockerfile df = parse_ok(
        "ARG BASE=alpine\n"
        "FROM $BASE AS build\n"
        "RUN make\n"
        "CMD make run\n"
        "ENTRYPOINT [\"/entry\"]\n"
        "COPY a /a\n"
        "ADD b /b\n"
        "ENV X=1\n"
        "WORKDIR /src\n"
        "EXPOSE 80\n"
        "LABEL a=b\n"
        "USER nobody\n"
        "STOPSIGNAL SIGTERM\n"
        "SHELL [\"/bin/bash\", \"-c\"]\n"
        "VOLUME /v\n");
    const std::vector<Kind> kinds = {Kind::Arg, Kind::From, Kind::Run, Kind::Cmd, Kind::Entrypoint,
                                     Kind::Copy, Kind::Add, Kind::Env, Kind::Workdir, Kind::Expose,
                                     Kind::Label, Kind::User, Kind::StopSignal, Kind::Shell, Kind::Volume};
    REQUIRE(df.instructions.size() == kinds.size());
    for (size_t i = 0; i < kinds.size(); ++i) {
        CAPTURE(i);
        CHECK(df.instructions[i].kind == kinds[i]);
        CHECK(df.instructions[i].line == static_cast<int>(i) + 1);
        CHECK(df.instructions[i].keyword == kind_name(kinds[i]));
    }
}

TEST_CASE("dockerfile: comments, blank lines and continuation lines") {
    Dockerfile df = parse_ok(
        "# a comment\n"
        "   # an indented comment\n"
        "FROM debian\n"
        "\n"
        "RUN apt-get update && \\\n"
        "    # a comment inside is dropped\n"
        "    apt-get install -y curl \\   \n"  // blanks after the escape are allowed
        "\n"                                   // an empty continuation line is skipped
        "    && rm -rf /var/lib/apt/lists/*\n"
        "RUN echo '# not a comment' # nor this\n");
    REQUIRE(df.instructions.size() == 3);
    const Instruction& run = df.instructions[1];
    CHECK(run.line == 5);
    // Escape + newline removed, the next line's indentation kept (Docker's behaviour).
    CHECK(run.args == Strings{"apt-get update &&     apt-get install -y curl     && rm -rf /var/lib/apt/lists/*"});
    CHECK(run.text == "RUN apt-get update &&     apt-get install -y curl     && rm -rf /var/lib/apt/lists/*");
    CHECK(df.instructions[2].line == 10);
    CHECK(df.instructions[2].args == Strings{"echo '# not a comment' # nor this"});
}

TEST_CASE("dockerfile: an escaped escape at the end of a line does not continue it") {
    Dockerfile df = parse_ok("FROM a\nRUN echo foo\\\\\nRUN echo bar\n");
    REQUIRE(df.instructions.size() == 3);
    CHECK(df.instructions[1].args == Strings{"echo foo\\\\"});
    CHECK(df.instructions[2].line == 3);
}

TEST_CASE("dockerfile: a continuation on the last line ends the instruction") {
    Dockerfile df = parse_ok("FROM a\nRUN echo hi \\");
    REQUIRE(df.instructions.size() == 2);
    CHECK(df.instructions[1].args == Strings{"echo hi"});
}

TEST_CASE("dockerfile: CRLF line endings and a UTF-8 byte-order mark") {
    Dockerfile df = parse_ok("\xEF\xBB\xBF" "FROM alpine\r\nRUN echo a \\\r\n  b\r\nCMD [\"sh\"]\r\n");
    REQUIRE(df.instructions.size() == 3);
    CHECK(df.instructions[0].keyword == "FROM");
    CHECK(df.instructions[0].args == Strings{"alpine"});
    CHECK(df.instructions[1].args == Strings{"echo a   b"});
    CHECK(df.instructions[2].json_form);
    CHECK(df.instructions[2].args == Strings{"sh"});
    // A BOM in front of a directive still leaves it a directive.
    Dockerfile esc = parse_ok("\xEF\xBB\xBF# escape=`\r\nFROM a\r\n");
    CHECK(esc.escape == '`');
}

TEST_CASE("dockerfile: the escape directive switches the escape and continuation character") {
    Dockerfile df = parse_ok(
        "# escape=`\n"
        "FROM mcr.microsoft.com/windows\n"
        "COPY testfile.txt c:\\\n"  // a backslash at the end is now an ordinary character
        "RUN dir c:\\ `\n"
        "    /s\n");
    CHECK(df.escape == '`');
    REQUIRE(df.instructions.size() == 3);
    CHECK(df.instructions[1].args == Strings{"testfile.txt", "c:\\"});
    CHECK(df.instructions[2].line == 4);
    CHECK(df.instructions[2].args == Strings{"dir c:\\     /s"});
}

TEST_CASE("dockerfile: directive spellings and where directives count") {
    CHECK(parse_ok("#escape=`\nFROM a\n").escape == '`');
    CHECK(parse_ok("#  ESCAPE  =  `  \nFROM a\n").escape == '`');
    CHECK(parse_ok("# escape=\\\nFROM a\n").escape == '\\');
    // syntax= is accepted and ignored; escape may follow it.
    CHECK(parse_ok("# syntax=docker/dockerfile:1\n# escape=`\nFROM a\n").escape == '`');
    // After a comment, a blank line or an instruction it is only a comment.
    CHECK(parse_ok("# hello\n# escape=`\nFROM a\n").escape == '\\');
    CHECK(parse_ok("\n# escape=`\nFROM a\n").escape == '\\');
    CHECK(parse_ok("FROM a\n# escape=`\nRUN x\n").escape == '\\');
    // Not a directive at all without a value: an ordinary comment.
    CHECK(parse_ok("# escape=\n# escape=`\nFROM a\n").escape == '\\');
}

TEST_CASE("dockerfile: bad directives are errors on their line") {
    CHECK(parse_error("# escape=`\n# escape=\\\nFROM a\n") ==
          "Dockerfile:2: only one escape parser directive can be used");
    CHECK(parse_error("# escape=x\nFROM a\n") ==
          "Dockerfile:1: invalid escape token 'x' does not match ` or \\");
}

TEST_CASE("dockerfile: JSON form is detected as Docker does") {
    const Instruction run = second("RUN [\"/bin/echo\", \"a b\", \"c\\\"d\"]");
    CHECK(run.json_form);
    CHECK(run.args == Strings{"/bin/echo", "a b", "c\"d"});

    const Instruction ep = second("ENTRYPOINT   [ \"/entry.sh\" ]  ");
    CHECK(ep.json_form);
    CHECK(ep.args == Strings{"/entry.sh"});

    // Not valid JSON (trailing comma, single quotes, unclosed): shell form, as Docker does.
    const Instruction trailing = second("CMD [ \"a\", ]");
    CHECK_FALSE(trailing.json_form);
    CHECK(trailing.args == Strings{"[ \"a\", ]"});
    const Instruction single = second("CMD ['a']");
    CHECK_FALSE(single.json_form);
    CHECK(single.args == Strings{"['a']"});
    const Instruction unclosed = second("RUN [\"a\"");
    CHECK_FALSE(unclosed.json_form);
    CHECK(unclosed.args == Strings{"[\"a\""});
    const Instruction after = second("CMD [\"a\"] b");
    CHECK_FALSE(after.json_form);

    // Empty exec form is allowed for CMD and ENTRYPOINT (it clears them).
    const Instruction empty_cmd = second("CMD []");
    CHECK(empty_cmd.json_form);
    CHECK(empty_cmd.args.empty());
    const Instruction empty_ep = second("ENTRYPOINT []");
    CHECK(empty_ep.json_form);
    CHECK(empty_ep.args.empty());
}

TEST_CASE("dockerfile: a JSON array that is not all strings is an error") {
    const std::string msg = "when using JSON array syntax, arrays must be comprised of strings only";
    CHECK(parse_error("FROM a\nCMD [\"a\", 1]\n") == "Dockerfile:2: " + msg);
    CHECK(parse_error("FROM a\nRUN [[\"a\"]]\n") == "Dockerfile:2: " + msg);
    CHECK(parse_error("FROM a\nENTRYPOINT [null]\n") == "Dockerfile:2: " + msg);
    CHECK(parse_error("FROM a\nCOPY [\"a\", {}]\n") == "Dockerfile:2: " + msg);
    CHECK(parse_error("FROM a\nSHELL [true]\n") == "Dockerfile:2: " + msg);
}

TEST_CASE("dockerfile: SHELL takes only a non-empty JSON array") {
    const Instruction sh = second("SHELL [\"/bin/bash\", \"-euo\", \"pipefail\", \"-c\"]");
    CHECK(sh.kind == Kind::Shell);
    CHECK(sh.json_form);
    CHECK(sh.args == Strings{"/bin/bash", "-euo", "pipefail", "-c"});
    CHECK(parse_error("FROM a\nSHELL /bin/bash -c\n") ==
          "Dockerfile:2: SHELL requires the arguments to be in JSON form, e.g. SHELL [\"/bin/bash\", \"-c\"]");
    CHECK(parse_error("FROM a\nSHELL []\n") == "Dockerfile:2: SHELL requires at least one argument");
    CHECK(parse_error("FROM a\nRUN []\n") == "Dockerfile:2: RUN requires at least one argument");
}

TEST_CASE("dockerfile: COPY and ADD in space and JSON form, with flags") {
    const Instruction c1 = second("COPY a.txt b.txt /dst/");
    CHECK(c1.kind == Kind::Copy);
    CHECK_FALSE(c1.json_form);
    CHECK(c1.args == Strings{"a.txt", "b.txt", "/dst/"});
    CHECK(c1.flags.empty());

    const Instruction c2 = second("COPY [\"my file.txt\", \"/dst dir/\"]");
    CHECK(c2.json_form);
    CHECK(c2.args == Strings{"my file.txt", "/dst dir/"});

    const Instruction c3 = second("COPY --chown=1000:1000 --chmod=0644 --from=build /out /app");
    CHECK(c3.flags == std::map<std::string, std::string>{{"chown", "1000:1000"}, {"chmod", "0644"}, {"from", "build"}});
    CHECK(c3.args == Strings{"/out", "/app"});
    CHECK(c3.text == "COPY --chown=1000:1000 --chmod=0644 --from=build /out /app");

    // `--flag value` and quoted flag values (split_command.go). A word that does not start with
    // `--` ends the flags, even a quoted one.
    const Instruction c4 = second("COPY --chown app:app --chmod=\"755\" \"--x\" /y");
    CHECK(c4.flags == std::map<std::string, std::string>{{"chown", "app:app"}, {"chmod", "755"}});
    CHECK(c4.args == Strings{"\"--x\"", "/y"});

    const Instruction c5 = second("COPY --chown=1 [\"a\", \"b\"]");
    CHECK(c5.json_form);
    CHECK(c5.flags.at("chown") == "1");
    CHECK(c5.args == Strings{"a", "b"});

    // A lone `--` ends the flags.
    const Instruction c6 = second("COPY -- --weird-name /dst");
    CHECK(c6.flags.empty());
    CHECK(c6.args == Strings{"--weird-name", "/dst"});

    const Instruction a1 = second("ADD --chown=app https://example.com/x.tgz /opt/");
    CHECK(a1.kind == Kind::Add);
    CHECK(a1.flags.at("chown") == "app");
    CHECK(a1.args == Strings{"https://example.com/x.tgz", "/opt/"});

    // Words are kept as written for expand(): quotes are not removed here.
    const Instruction a2 = second("ADD $SRC \"${DST}\"");
    CHECK(a2.args == Strings{"$SRC", "\"${DST}\""});
    CHECK(expand_ok(a2.args[1], {{"DST", "/d"}}) == "/d");
}

TEST_CASE("dockerfile: COPY and ADD errors") {
    CHECK(parse_error("FROM a\nCOPY onlyone\n") ==
          "Dockerfile:2: COPY requires at least two arguments, but only one was provided. Destination could not be determined.");
    CHECK(parse_error("FROM a\nADD [\"one\"]\n") ==
          "Dockerfile:2: ADD requires at least two arguments, but only one was provided. Destination could not be determined.");
    CHECK(parse_error("FROM a\nCOPY\n") ==
          "Dockerfile:2: COPY requires at least two arguments: one or more sources, then the destination");
    CHECK(parse_error("FROM a\nCOPY --owner=1 a b\n") ==
          "Dockerfile:2: unknown flag: --owner (COPY accepts --chown, --chmod, --from)");
    CHECK(parse_error("FROM a\nADD --from=x a b\n") ==
          "Dockerfile:2: unknown flag: --from (ADD accepts --chown, --chmod)");
    CHECK(parse_error("FROM a\nCOPY --link a b\n") == "Dockerfile:2: COPY --link is not supported by IsoLab");
    CHECK(parse_error("FROM a\nADD --checksum=sha256:00 a b\n") ==
          "Dockerfile:2: ADD --checksum is not supported by IsoLab");
    CHECK(parse_error("FROM a\nCOPY --chown=1 --chown=2 a b\n") ==
          "Dockerfile:2: duplicate flag specified: --chown");
    CHECK(parse_error("FROM a\nCOPY --chown\n") ==
          "Dockerfile:2: missing a value on flag: --chown (write --chown=VALUE)");
    CHECK(parse_error("FROM a\nRUN --mount=type=cache,target=/x make\n") ==
          "Dockerfile:2: RUN --mount is not supported by IsoLab");
    CHECK(parse_error("FROM a\nRUN --frobnicate make\n") ==
          "Dockerfile:2: unknown flag: --frobnicate (RUN takes no flags)");
    CHECK(parse_error("FROM a\nENV --x=1 A=b\n") == "Dockerfile:2: unknown flag: --x (ENV takes no flags)");
}

TEST_CASE("dockerfile: ENV in both forms, quotes removed per Docker's rules") {
    const Instruction e1 = second("ENV A=1 B=\"v 2\" C='single $quoted' D=plain\\ space E=");
    CHECK(e1.kind == Kind::Env);
    CHECK(e1.pairs == Pairs{{"A", "1"}, {"B", "v 2"}, {"C", "single \\$quoted"}, {"D", "plain space"}, {"E", ""}});
    // The pair values are in expand() form: expanding gives exactly Docker's value.
    CHECK(expand_ok(e1.pairs[2].second, {{"quoted", "NO"}}) == "single $quoted");

    // Legacy form: the first word is the key, everything after the first blank is the value.
    const Instruction e2 = second("ENV MY_NAME John Doe \"the  second\"");
    CHECK(e2.pairs == Pairs{{"MY_NAME", "John Doe the  second"}});

    // Variables stay references until the executor expands them.
    const Instruction e3 = second("ENV PATH=/usr/local/bin:$PATH HOME=${HOME:-/root}");
    CHECK(e3.pairs == Pairs{{"PATH", "/usr/local/bin:$PATH"}, {"HOME", "${HOME:-/root}"}});
    CHECK(expand_ok(e3.pairs[0].second, {{"PATH", "/bin"}}) == "/usr/local/bin:/bin");
    CHECK(expand_ok(e3.pairs[1].second, {}) == "/root");

    // Quote characters that are part of the value survive expand() (Docker keeps them).
    const Instruction e4 = second("ENV MSG=\"it's \\\"ok\\\"\" WIN=\"C:\\dir\"");
    REQUIRE(e4.pairs.size() == 2);
    CHECK(expand_ok(e4.pairs[0].second, {}) == "it's \"ok\"");
    CHECK(expand_ok(e4.pairs[1].second, {}) == "C:\\dir");

    // Continued over several lines.
    Dockerfile df = parse_ok("FROM a\nENV A=1 \\\n    B=2 \\\n    C=3\n");
    CHECK(df.instructions[1].pairs == Pairs{{"A", "1"}, {"B", "2"}, {"C", "3"}});
    CHECK(df.instructions[1].text == "ENV A=1     B=2     C=3");
}

TEST_CASE("dockerfile: ENV and LABEL errors use Docker's wording") {
    CHECK(parse_error("FROM a\nENV\n") == "Dockerfile:2: ENV requires at least one argument");
    CHECK(parse_error("FROM a\nENV A\n") == "Dockerfile:2: ENV must have two arguments");
    CHECK(parse_error("FROM a\nENV =x\n") == "Dockerfile:2: ENV names can not be blank");
    CHECK(parse_error("FROM a\nENV A=1 B\n") ==
          "Dockerfile:2: Syntax error - can't find = in \"B\". Must be of the form: name=value");
    CHECK(parse_error("FROM a\nENV A=\"unclosed\n") ==
          "Dockerfile:2: failed to process `\"unclosed`: unexpected end of statement while looking for matching double-quote");
    CHECK(parse_error("FROM a\nENV A=${B\n") == "Dockerfile:2: failed to process `${B`: syntax error: missing '}'");
    CHECK(parse_error("FROM a\nLABEL\n") == "Dockerfile:2: LABEL requires at least one argument");
    CHECK(parse_error("FROM a\nLABEL onlykey\n") == "Dockerfile:2: LABEL must have two arguments");
    CHECK(parse_error("FROM a\nLABEL =v\n") == "Dockerfile:2: LABEL names can not be blank");
}

TEST_CASE("dockerfile: LABEL in both forms") {
    const Instruction l1 = second("LABEL \"com.example.vendor\"=\"ACME Inc\" version=1.0 description=\"multi \\\n  line\"");
    CHECK(l1.kind == Kind::Label);
    CHECK(l1.pairs == Pairs{{"com.example.vendor", "ACME Inc"}, {"version", "1.0"}, {"description", "multi   line"}});
    const Instruction l2 = second("LABEL maintainer Jane Doe <jane@example.com>");
    CHECK(l2.pairs == Pairs{{"maintainer", "Jane Doe <jane@example.com>"}});
}

TEST_CASE("dockerfile: ARG with and without default, before and after FROM") {
    Dockerfile df = parse_ok(
        "ARG VERSION\n"
        "ARG BASE=\"alpine:3.19\"\n"
        "FROM ${BASE}\n"
        "ARG EMPTY=\n"
        "ARG user='a b'\n");
    REQUIRE(df.instructions.size() == 5);
    CHECK(df.instructions[0].kind == Kind::Arg);
    CHECK(df.instructions[0].pairs == Pairs{{"VERSION", ""}});
    CHECK_FALSE(df.instructions[0].has_default);
    CHECK(df.instructions[1].pairs == Pairs{{"BASE", "alpine:3.19"}});
    CHECK(df.instructions[1].has_default);
    CHECK(df.instructions[2].args == Strings{"${BASE}"});
    CHECK(expand_ok(df.instructions[2].args[0], {{"BASE", "alpine:3.19"}}) == "alpine:3.19");
    CHECK(df.instructions[3].pairs == Pairs{{"EMPTY", ""}});
    CHECK(df.instructions[3].has_default);
    CHECK(df.instructions[4].pairs == Pairs{{"user", "a b"}});
}

TEST_CASE("dockerfile: ARG errors") {
    CHECK(parse_error("FROM a\nARG\n") ==
          "Dockerfile:2: ARG requires exactly one argument (write one `ARG name[=default]` per line)");
    CHECK(parse_error("FROM a\nARG a=1 b=2\n") ==
          "Dockerfile:2: ARG requires exactly one argument (write one `ARG name[=default]` per line)");
    CHECK(parse_error("FROM a\nARG =x\n") == "Dockerfile:2: ARG names can not be blank");
}

TEST_CASE("dockerfile: FROM forms and multi-stage") {
    Dockerfile df = parse_ok(
        "FROM golang:1.22 AS Build\n"
        "RUN go build\n"
        "FROM --platform=linux/amd64 alpine as runtime\n"
        "COPY --from=build /app /app\n");
    REQUIRE(df.instructions.size() == 4);
    CHECK(df.instructions[0].args == Strings{"golang:1.22"});
    CHECK(df.instructions[0].stage == "build");  // lower-cased, as Docker does
    CHECK(df.instructions[2].args == Strings{"alpine"});
    CHECK(df.instructions[2].stage == "runtime");
    CHECK(df.instructions[2].flags.at("platform") == "linux/amd64");
    CHECK(df.instructions[3].flags.at("from") == "build");
}

TEST_CASE("dockerfile: FROM errors") {
    CHECK(parse_error("FROM\n") == "Dockerfile:1: FROM requires either one or three arguments (FROM image [AS name])");
    CHECK(parse_error("FROM a b\n") == "Dockerfile:1: FROM requires either one or three arguments (FROM image [AS name])");
    CHECK(parse_error("FROM a AS b c\n") ==
          "Dockerfile:1: FROM requires either one or three arguments (FROM image [AS name])");
    CHECK(parse_error("FROM a AS 1st\n") ==
          "Dockerfile:1: invalid name for build stage: \"1st\", name can't start with a number or contain symbols");
    CHECK(parse_error("FROM a AS my$stage\n") ==
          "Dockerfile:1: invalid name for build stage: \"my$stage\", name can't start with a number or contain symbols");
    CHECK(parse_error("FROM --chown=1 a\n") == "Dockerfile:1: unknown flag: --chown (FROM accepts --platform)");
}

TEST_CASE("dockerfile: only ARG may come before the first FROM") {
    CHECK(parse_error("RUN echo hi\nFROM a\n") ==
          "Dockerfile:1: no build stage in current context: RUN must come after FROM (only ARG may come before the first FROM)");
    CHECK(parse_error("# comment\nARG A=1\n\nENV B=2\nFROM a\n") ==
          "Dockerfile:4: no build stage in current context: ENV must come after FROM (only ARG may come before the first FROM)");
    CHECK(parse_error("ARG A=1\nARG B\n") ==
          "Dockerfile:1: the Dockerfile contains no stages to build: add a FROM instruction after the ARGs");
}

TEST_CASE("dockerfile: WORKDIR, USER, STOPSIGNAL take the rest of the line") {
    CHECK(second("WORKDIR /usr/src/app").args == Strings{"/usr/src/app"});
    CHECK(second("WORKDIR \"/path with space\"").args == Strings{"\"/path with space\""});
    CHECK(second("USER 1000:1000").args == Strings{"1000:1000"});
    CHECK(second("USER app").kind == Kind::User);
    CHECK(second("STOPSIGNAL SIGQUIT").args == Strings{"SIGQUIT"});
    CHECK(second("STOPSIGNAL 9").args == Strings{"9"});
    CHECK(second("STOPSIGNAL sigrtmin+3").args == Strings{"sigrtmin+3"});
    CHECK(second("STOPSIGNAL $SIG").args == Strings{"$SIG"});  // checked after expansion
    CHECK(parse_error("FROM a\nWORKDIR\n") == "Dockerfile:2: WORKDIR requires exactly one argument");
    CHECK(parse_error("FROM a\nUSER\n") == "Dockerfile:2: USER requires exactly one argument");
    CHECK(parse_error("FROM a\nSTOPSIGNAL\n") == "Dockerfile:2: STOPSIGNAL requires exactly one argument");
    CHECK(parse_error("FROM a\nSTOPSIGNAL SIGBOGUS\n") ==
          "Dockerfile:2: STOPSIGNAL: invalid signal `SIGBOGUS`: use a name like SIGTERM or SIGQUIT, or a number from 1 to 64");
    CHECK(parse_error("FROM a\nSTOPSIGNAL 0\n") ==
          "Dockerfile:2: STOPSIGNAL: invalid signal `0`: use a name like SIGTERM or SIGQUIT, or a number from 1 to 64");
}

TEST_CASE("dockerfile: check_signal accepts Docker's names and numbers") {
    for (const std::string ok : {"SIGTERM", "TERM", "sigkill", "Sigusr1", "1", "64", "RTMIN", "SIGRTMIN+15", "RTMAX-14", "SIGRTMAX"}) {
        CAPTURE(ok);
        CHECK(check_signal(ok).ok());
    }
    for (const std::string bad : {"", "0", "65", "100", "SIG", "SIGFOO", "RTMIN+16", "RTMAX-15", "RTMIN+", "-1", "TERM "}) {
        CAPTURE(bad);
        CHECK_FALSE(check_signal(bad).ok());
    }
}

TEST_CASE("dockerfile: EXPOSE validates each port word") {
    const Instruction e = second("EXPOSE 80 443/tcp 53/udp 8000-8010 9000/SCTP $PORT");
    CHECK(e.kind == Kind::Expose);
    CHECK(e.args == Strings{"80", "443/tcp", "53/udp", "8000-8010", "9000/SCTP", "$PORT"});
    CHECK(parse_error("FROM a\nEXPOSE\n") == "Dockerfile:2: EXPOSE requires at least one argument");
    CHECK(parse_error("FROM a\nEXPOSE 80 http\n") ==
          "Dockerfile:2: EXPOSE: invalid port `http`: use PORT, PORT/tcp, PORT/udp, PORT/sctp or a range START-END (0-65535)");
    for (const std::string bad : {"70000", "80/icmp", "80/", "/tcp", "9000-8000", "1-", "-5", "80-90-100", "123456", "8o"}) {
        CAPTURE(bad);
        CHECK_FALSE(check_port(bad).ok());
        CHECK(parse("FROM a\nEXPOSE " + bad + "\n").error().message.find("EXPOSE: invalid port") !=
              std::string::npos);
    }
    for (const std::string ok : {"0", "65535", "1-65535", "22/TCP", "7/udp"}) {
        CAPTURE(ok);
        CHECK(check_port(ok).ok());
    }
}

TEST_CASE("dockerfile: MAINTAINER, HEALTHCHECK and ONBUILD as instructions/parse.go reads them") {
    const Instruction m = second("MAINTAINER Jane <j@x.org>");
    CHECK(m.kind == Kind::Maintainer);
    CHECK(m.args == std::vector<std::string>{"Jane <j@x.org>"});
    CHECK(parse_error("FROM a\nMAINTAINER\n") == "Dockerfile:2: MAINTAINER requires exactly one argument");

    const Instruction shell = second("HEALTHCHECK --interval=30s --timeout=3s --start-period=1m --start-interval=500ms "
                                     "--retries=4 CMD curl -f http://localhost/ || exit 1");
    CHECK(shell.kind == Kind::Healthcheck);
    CHECK(shell.args == std::vector<std::string>{"CMD-SHELL", "curl -f http://localhost/ || exit 1"});
    CHECK(shell.flags.at("interval") == "30s");
    CHECK(shell.flags.at("retries") == "4");
    const Instruction json_form = second("healthcheck CMD [\"/bin/check\", \"-q\"]");
    CHECK(json_form.args == std::vector<std::string>{"CMD", "/bin/check", "-q"});
    CHECK(second("HEALTHCHECK none").args == std::vector<std::string>{"NONE"});
    CHECK(parse_error("FROM a\nHEALTHCHECK\n") == "Dockerfile:2: HEALTHCHECK requires at least one argument");
    CHECK(parse_error("FROM a\nHEALTHCHECK NONE x\n") == "Dockerfile:2: HEALTHCHECK NONE takes no arguments");
    CHECK(parse_error("FROM a\nHEALTHCHECK RUN x\n") == "Dockerfile:2: Unknown type \"RUN\" in HEALTHCHECK (try CMD)");
    CHECK(parse_error("FROM a\nHEALTHCHECK CMD\n") == "Dockerfile:2: Missing command after HEALTHCHECK CMD");
    CHECK(parse_error("FROM a\nHEALTHCHECK --retries=-1 CMD x\n") == "Dockerfile:2: --retries cannot be negative (-1)");
    CHECK(parse_error("FROM a\nHEALTHCHECK --interval=-5s CMD x\n") == "Dockerfile:2: Interval \"interval\" cannot be negative");
    CHECK(parse_error("FROM a\nHEALTHCHECK --timeout=10us CMD x\n") ==
          "Dockerfile:2: Interval \"timeout\" cannot be less than 1ms");
    CHECK(parse_error("FROM a\nHEALTHCHECK --interval=5 CMD x\n") ==
          "Dockerfile:2: --interval: time: missing unit in duration \"5\" (write e.g. 30s, 1m30s or 500ms)");
    CHECK(parse_error("FROM a\nHEALTHCHECK --every=5s CMD x\n") ==
          "Dockerfile:2: unknown flag: --every (HEALTHCHECK accepts --interval, --timeout, --start-period, --start-interval, "
          "--retries)");

    const Instruction on = second("onbuild COPY . /app");
    CHECK(on.kind == Kind::Onbuild);
    CHECK(on.args == std::vector<std::string>{"COPY . /app"});
    CHECK(parse_error("FROM a\nONBUILD\n") == "Dockerfile:2: ONBUILD requires at least one argument");
    CHECK(parse_error("FROM a\nONBUILD ONBUILD RUN x\n") == "Dockerfile:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    CHECK(parse_error("FROM a\nONBUILD from b\n") == "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger");
    CHECK(parse_error("FROM a\nONBUILD MAINTAINER me\n") == "Dockerfile:2: MAINTAINER isn't allowed as an ONBUILD trigger");
    CHECK(parse_error("FROM a\nONBUILD RUNN x\n") == "Dockerfile:2: ONBUILD unknown instruction: RUNN" + kAccepted);
}

TEST_CASE("dockerfile: every bad instruction of a file is reported in one parse, one line each") {
    CHECK(parse_error("FROM a\nRUNN x\nRUN ok\nHEALTHCHECK BAD\nCOPY --link a b\n") ==
          "Dockerfile:2: unknown instruction: RUNN" + kAccepted + "\n"
          "Dockerfile:4: Unknown type \"BAD\" in HEALTHCHECK (try CMD)\n"
          "Dockerfile:5: COPY --link is not supported by IsoLab");
    std::string many = "FROM a\n";
    for (int i = 0; i < 25; ++i) many += "BOGUS\n";
    const std::string e = parse_error(many);
    size_t lines = 1;
    for (char c : e) lines += c == '\n';
    CHECK(lines == 21);  // 20 errors and the count of the rest
    CHECK(e.substr(e.rfind('\n') + 1) == "Dockerfile:26: and 5 more errors");
}

TEST_CASE("dockerfile: Go durations as time.ParseDuration reads them") {
    CHECK(parse_go_duration("1m30s").value() == 90'000'000'000);
    CHECK(parse_go_duration("1.5h").value() == 5'400'000'000'000);
    CHECK(parse_go_duration("500ms").value() == 500'000'000);
    CHECK(parse_go_duration("0").value() == 0);
    CHECK(parse_go_duration("-2s").value() == -2'000'000'000);
    CHECK(parse_go_duration("").error().message == "time: invalid duration \"\"");
    CHECK(parse_go_duration("3x").error().message == "time: unknown unit \"x\" in duration \"3x\"");
    CHECK(parse_go_duration("s").error().message == "time: invalid duration \"s\"");
}

TEST_CASE("dockerfile: VOLUME takes a JSON array or words, as BuildKit's parseMaybeJSONToList and parseVolume") {
    Instruction json_form = second("VOLUME [\"/data\", \" /logs \"]");
    CHECK(json_form.kind == Kind::Volume);
    CHECK(json_form.keyword == "VOLUME");
    CHECK(json_form.json_form);
    CHECK(json_form.args == Strings{"/data", "/logs"});  // each path trimmed
    CHECK(json_form.text == "VOLUME [\"/data\", \" /logs \"]");
    Instruction words = second("volume /a   $DIR\t/c");
    CHECK_FALSE(words.json_form);
    CHECK(words.args == Strings{"/a", "$DIR", "/c"});  // expanded by the builder, not here
    // Invalid JSON is the word form, as for CMD.
    CHECK(second("VOLUME [/data]").args == Strings{"[/data]"});
    CHECK(parse_error("FROM a\nVOLUME\n") == "Dockerfile:2: VOLUME requires at least one argument");
    CHECK(parse_error("FROM a\nVOLUME []\n") == "Dockerfile:2: VOLUME requires at least one argument");
    CHECK(parse_error("FROM a\nVOLUME [\"/a\", \" \"]\n") == "Dockerfile:2: VOLUME specified can not be an empty string");
    CHECK(parse_error("FROM a\nVOLUME [\"/a\", 1]\n") ==
          "Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only");
    CHECK(parse_error("FROM a\nVOLUME --x=1 /a\n").find("Dockerfile:2: ") == 0);  // VOLUME has no flags
}

TEST_CASE("dockerfile: heredocs are refused, look-alikes are not") {
    CHECK(parse_error("FROM a\nRUN <<EOF\necho hi\nEOF\n") ==
          "Dockerfile:2: heredocs (`<<EOF`) in RUN are not supported by IsoLab: put the text in a file and COPY it");
    CHECK(parse_error("FROM a\nRUN cat <<-'END' > /f\n") ==
          "Dockerfile:2: heredocs (`<<-'END'`) in RUN are not supported by IsoLab: put the text in a file and COPY it");
    CHECK(parse_error("FROM a\nCOPY <<EOF /etc/motd\n") ==
          "Dockerfile:2: heredocs (`<<EOF`) in COPY are not supported by IsoLab: put the text in a file and COPY it");
    CHECK(second("RUN echo \"<<EOF\"").args == Strings{"echo \"<<EOF\""});
    CHECK(second("RUN cat <<< hi").args == Strings{"cat <<< hi"});
    CHECK(second("RUN [\"sh\", \"-c\", \"cat <<EOF\"]").json_form);
}

TEST_CASE("dockerfile: unknown instructions and missing arguments") {
    CHECK(parse_error("FROM a\nRUNN echo\n") == "Dockerfile:2: unknown instruction: RUNN" + kAccepted);
    CHECK(parse_error("FROM a\ncopyy a b\n") == "Dockerfile:2: unknown instruction: COPYY" + kAccepted);
    CHECK(parse_error("FROM a\nRUN\n") == "Dockerfile:2: RUN requires at least one argument");
    CHECK(parse_error("FROM a\nCMD   \n") == "Dockerfile:2: CMD requires at least one argument");
    CHECK(parse_error("FROM a\nENTRYPOINT\n") == "Dockerfile:2: ENTRYPOINT requires at least one argument");
    CHECK(parse_error("FROM a\nSHELL\n") == "Dockerfile:2: SHELL requires at least one argument");
    CHECK(parse_error("FROM a\nRUN \\\n\n") == "Dockerfile:2: RUN requires at least one argument");
}

TEST_CASE("dockerfile: errors name the line where the instruction starts") {
    // After comments and a continued instruction with a comment inside.
    const std::string text =
        "# syntax=docker/dockerfile:1\n"   // 1
        "FROM alpine\n"                    // 2
        "# install\n"                      // 3
        "RUN apk add \\\n"                 // 4
        "    # curl for the health page\n" // 5
        "    curl \\\n"                    // 6
        "\n"                               // 7
        "    jq\n"                         // 8
        "RUNN oops\n";                     // 9
    CHECK(parse_error(text) == "Dockerfile:9: unknown instruction: RUNN" + kAccepted);
    // An error inside a continued instruction is reported on its first line.
    CHECK(parse_error("FROM a\n\nCOPY \\\n  # x\n  onlyone\n") ==
          "Dockerfile:3: COPY requires at least two arguments, but only one was provided. Destination could not be determined.");
    CHECK(parse_error("FROM a\nENV A=1 \\\n  B=2 \\\n  C\n") ==
          "Dockerfile:2: Syntax error - can't find = in \"C\". Must be of the form: name=value");
    CHECK(parse_error("FROM a\r\n\r\nEXPOSE \\\r\n  80 \\\r\n  eighty\r\n") ==
          "Dockerfile:3: EXPOSE: invalid port `eighty`: use PORT, PORT/tcp, PORT/udp, PORT/sctp or a range START-END (0-65535)");
    // The file name given by the caller is used.
    CHECK(parse_error("FROM a\nBOGUS\n", "web/Dockerfile.dev") == "web/Dockerfile.dev:2: unknown instruction: BOGUS" + kAccepted);
}

TEST_CASE("dockerfile: a file with no instructions") {
    CHECK(parse_error("") == "Dockerfile:1: file with no instructions");
    CHECK(parse_error("\n\n   \n") == "Dockerfile:1: file with no instructions");
    CHECK(parse_error("# only\n# comments\n") == "Dockerfile:1: file with no instructions");
    CHECK(parse_error("\xEF\xBB\xBF") == "Dockerfile:1: file with no instructions");
}

TEST_CASE("dockerfile: expand() variables and modifiers") {
    const Vars vars = {{"foo", "/bar"}, {"empty", ""}, {"name", "web"}};
    struct Case {
        const char* word;
        const char* want;
    };
    const Case cases[] = {
        {"$foo", "/bar"},
        {"${foo}", "/bar"},
        {"${foo}_x", "/bar_x"},
        {"$foo_x", ""},             // the name is foo_x, which is unset
        {"$unset", ""},
        {"a${unset}b", "ab"},
        {"${foo:-dflt}", "/bar"},
        {"${unset:-dflt}", "dflt"},
        {"${empty:-dflt}", "dflt"},  // ':' treats empty as unset
        {"${empty-dflt}", ""},       // without ':' only unset counts
        {"${unset-dflt}", "dflt"},
        {"${foo:+alt}", "alt"},
        {"${empty:+alt}", ""},
        {"${unset:+alt}", ""},
        {"${empty+alt}", "alt"},
        {"${unset+alt}", ""},
        {"${unset:-$foo/x}", "/bar/x"},
        {"${unset:-${also:-${name}}}", "web"},
        {"${foo:?must be set}", "/bar"},
        {"\\$foo", "$foo"},
        {"\\${foo}", "${foo}"},
        {"'$foo'", "$foo"},          // no expansion inside single quotes
        {"\"$foo\"", "/bar"},        // expansion inside double quotes
        {"\"a\\\"b\"", "a\"b"},
        {"\"a\\b\"", "a\\b"},        // in double quotes the escape only escapes \" \\ \$
        {"'a\\b'", "a\\b"},
        {"a\\ b", "a b"},
        {"it\\'s", "it's"},
        {"cost$", "cost$"},
        {"$ x", "$ x"},
        {"$1", ""},
        {"${unset:-a}}", "a}"},
        {"${unset:-'}'}", "}"},
        {"${unset:-\\}}", "}"},
        {"trailing\\", "trailing"},
        {"", ""},
    };
    for (const Case& c : cases) {
        const std::string word = c.word;
        CAPTURE(word);
        CHECK(expand_ok(c.word, vars) == c.want);
    }
}

TEST_CASE("dockerfile: expand() with the backtick escape") {
    const Vars vars = {{"foo", "/bar"}};
    CHECK(expand_ok("`$foo", vars, '`') == "$foo");
    CHECK(expand_ok("c:\\$foo", vars, '`') == "c:\\/bar");
    CHECK(expand_ok("\"a`\"b\"", vars, '`') == "a\"b");
}

TEST_CASE("dockerfile: expand() errors name the word") {
    CHECK(expand_error("${") == "failed to process `${`: syntax error: missing '}'");
    CHECK(expand_error("${foo") == "failed to process `${foo`: syntax error: missing '}'");
    CHECK(expand_error("${}") == "failed to process `${}`: syntax error: bad substitution");
    CHECK(expand_error("${:-x}") == "failed to process `${:-x}`: syntax error: bad substitution");
    CHECK(expand_error("${a b}") == "failed to process `${a b}`: syntax error: bad substitution");
    CHECK(expand_error("${a:=x}") == "failed to process `${a:=x}`: unsupported modifier (=) in substitution");
    CHECK(expand_error("${a:-x") == "failed to process `${a:-x`: syntax error: missing '}'");
    CHECK(expand_error("'abc") ==
          "failed to process `'abc`: unexpected end of statement while looking for matching single-quote");
    CHECK(expand_error("\"abc") ==
          "failed to process `\"abc`: unexpected end of statement while looking for matching double-quote");
    CHECK(expand_error("${a:?need a}") == "failed to process `${a:?need a}`: a: need a");
    CHECK(expand_error("${a?}") == "failed to process `${a?}`: variable `a` is unset");
    // Deep nesting is an error, not a stack overflow.
    std::string deep;
    for (int i = 0; i < 200; ++i) deep += "${a:-";
    deep += "x";
    for (int i = 0; i < 200; ++i) deep += "}";
    CHECK(expand_error(deep).find("nested more than 32 levels deep") != std::string::npos);
    std::string ok_depth;
    for (int i = 0; i < 20; ++i) ok_depth += "${a:-";
    ok_depth += "x";
    for (int i = 0; i < 20; ++i) ok_depth += "}";
    CHECK(expand_ok(ok_depth, {}) == "x");
}

TEST_CASE("dockerfile: pair values round-trip through expand()") {
    // Whatever the quoting, expand(pair value) must equal expand(the word as written), which is
    // what Docker computes. Each case is written once as an ENV line and once as a raw word.
    const Vars vars = {{"x", "X"}, {"e", ""}};
    const char* words[] = {
        "plain", "\"a b\"", "'a b'", "'$x'", "\"$x\"", "\\$x", "$x", "${x:-d}", "${e-d}${e:-d}",
        "\"it's\"", "'say \"hi\"'", "a\\\\b", "\"a\\b\"", "\"$\"x", "\"a'b\"'c\"d'", "$",
        "\"${x:-'q'}\"", "pre\"${nope:-a b}\"post", "\"tab\\\tx\"",
    };
    for (const std::string w : words) {
        CAPTURE(w);
        const Instruction env = second("ENV K=" + w);
        REQUIRE(env.pairs.size() == 1);
        CHECK(expand_ok(env.pairs[0].second, vars) == expand_ok(w, vars));
        const Instruction arg = second("ARG K=" + w);
        REQUIRE(arg.pairs.size() == 1);
        CHECK(expand_ok(arg.pairs[0].second, vars) == expand_ok(w, vars));
    }
}

TEST_CASE("dockerfile: config_args puts the shell in front of shell form only") {
    const std::vector<std::string> dflt = {};
    const Instruction run_shell = second("RUN echo $HOME && ls");
    CHECK(config_args(run_shell, dflt) == Strings{"/bin/sh", "-c", "echo $HOME && ls"});
    CHECK(config_args(run_shell, {"/bin/bash", "-o", "pipefail", "-c"}) ==
          Strings{"/bin/bash", "-o", "pipefail", "-c", "echo $HOME && ls"});
    const Instruction cmd_json = second("CMD [\"nginx\", \"-g\", \"daemon off;\"]");
    CHECK(config_args(cmd_json, {"/bin/bash", "-c"}) == Strings{"nginx", "-g", "daemon off;"});
    const Instruction ep_shell = second("ENTRYPOINT exec top -b");
    CHECK(config_args(ep_shell, dflt) == Strings{"/bin/sh", "-c", "exec top -b"});
    const Instruction empty = second("ENTRYPOINT []");
    CHECK(config_args(empty, dflt).empty());
}

TEST_CASE("dockerfile: the CMD/ENTRYPOINT interaction table from Docker's reference") {
    // Rows: no ENTRYPOINT / ENTRYPOINT exec_entry p1_entry / ENTRYPOINT ["exec_entry", "p1_entry"]
    // Columns: no CMD / CMD ["exec_cmd", "p1_cmd"] / CMD exec_cmd p1_cmd
    const std::vector<std::string> shell = {"/bin/sh", "-c"};
    const Strings none;
    const Strings ep_shell = config_args(second("ENTRYPOINT exec_entry p1_entry"), shell);
    const Strings ep_exec = config_args(second("ENTRYPOINT [\"exec_entry\", \"p1_entry\"]"), shell);
    const Strings cmd_exec = config_args(second("CMD [\"exec_cmd\", \"p1_cmd\"]"), shell);
    const Strings cmd_shell = config_args(second("CMD exec_cmd p1_cmd"), shell);

    // No ENTRYPOINT
    CHECK(effective_command(none, none).empty());  // Docker: error, not allowed
    CHECK(effective_command(none, cmd_exec) == Strings{"exec_cmd", "p1_cmd"});
    CHECK(effective_command(none, cmd_shell) == Strings{"/bin/sh", "-c", "exec_cmd p1_cmd"});
    // ENTRYPOINT exec_entry p1_entry: the shell runs "exec_entry p1_entry"; CMD words only become
    // $0 $1 of that script, so CMD is ignored (the table's "/bin/sh -c exec_entry p1_entry").
    CHECK(effective_command(ep_shell, none) == Strings{"/bin/sh", "-c", "exec_entry p1_entry"});
    CHECK(effective_command(ep_shell, cmd_exec) ==
          Strings{"/bin/sh", "-c", "exec_entry p1_entry", "exec_cmd", "p1_cmd"});
    CHECK(effective_command(ep_shell, cmd_shell) ==
          Strings{"/bin/sh", "-c", "exec_entry p1_entry", "/bin/sh", "-c", "exec_cmd p1_cmd"});
    // ENTRYPOINT ["exec_entry", "p1_entry"]
    CHECK(effective_command(ep_exec, none) == Strings{"exec_entry", "p1_entry"});
    CHECK(effective_command(ep_exec, cmd_exec) == Strings{"exec_entry", "p1_entry", "exec_cmd", "p1_cmd"});
    CHECK(effective_command(ep_exec, cmd_shell) ==
          Strings{"exec_entry", "p1_entry", "/bin/sh", "-c", "exec_cmd p1_cmd"});
}

TEST_CASE("dockerfile: long inputs stay linear and deep JSON does not recurse") {
    // 200k-character line with many words and quotes; a million '[' in a JSON-looking CMD.
    std::string words;
    for (int i = 0; i < 20000; ++i) words += " K" + std::to_string(i) + "=\"v v\"";
    Dockerfile df = parse_ok("FROM a\nENV" + words + "\n");
    CHECK(df.instructions[1].pairs.size() == 20000);
    CHECK(df.instructions[1].pairs.back() == std::make_pair(std::string("K19999"), std::string("v v")));
    const Instruction deep = second("CMD " + std::string(1000000, '['));
    CHECK_FALSE(deep.json_form);
    CHECK(parse_error("FROM a\nCMD " + std::string(100000, '[') + std::string(100000, ']') + "\n") ==
          "Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only");
    // 100k continuation lines.
    std::string cont = "FROM a\nRUN echo";
    for (int i = 0; i < 100000; ++i) cont += " x \\\n";
    cont += "end\n";
    Dockerfile many = parse_ok(cont);
    CHECK(many.instructions[1].args[0].size() > 300000);
}

TEST_CASE("dockerfile: a value that doubles line after line (ENV A=$A$A) stops at 128 KiB, not in the allocator") {
    std::map<std::string, std::string> vars = {{"A", "x"}};
    Result<std::string> r = expand("$A$A", vars);
    int lines = 0;
    for (; r.ok() && lines < 64; ++lines) {
        vars["A"] = *r;
        r = expand("$A$A", vars);
    }
    REQUIRE_FALSE(r.ok());
    CHECK(lines == 17);  // A reached 2^17 bytes = 128 KiB, the last that fits; 2^18 is refused
    CHECK(r.error().message.find("expands to 262144 bytes, over 128 KiB") != std::string::npos);
    CHECK(r.error().exit_code == 1);
    CHECK(expand("$A", vars).ok());  // exactly 128 KiB still expands
}

TEST_CASE("dockerfile: FROM --platform takes this machine's platform (or $BUILDPLATFORM/$TARGETPLATFORM) and refuses another") {
    struct utsname u {};
    ::uname(&u);
    const std::string machine = u.machine;
    const std::string here = "linux/" + (machine == "x86_64" ? std::string("amd64") : machine == "aarch64" ? std::string("arm64") : machine);
    parse_ok("FROM --platform=" + here + " busybox\n");
    parse_ok("FROM --platform=$BUILDPLATFORM busybox AS b\n");
    const std::string other = here == "linux/arm64" ? "linux/amd64" : "linux/arm64";
    const std::string e = parse_error("FROM --platform=" + other + " busybox\n");
    CHECK(e.find("IsoLab builds for this machine only") != std::string::npos);
    CHECK(e.find("Dockerfile:1") != std::string::npos);
}
