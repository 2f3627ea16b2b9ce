// Tests for the `--format` / `inspect -f` template engine (app/cli/go_template.hpp).
//
// Every expected text, output and error alike, was measured with `docker` v28.2.2 (Go 1.24)
// against Podman's API (`podman system service`), on a container named `tpl-a` from
// `localhost/bbtest` created with `sleep 100`: `docker ps -a --format ...` for the struct cases,
// `docker inspect -f ...` for the map cases, `docker images --format ...` for images.
#include <doctest/doctest.h>

#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "app/cli/go_template.hpp"

using isolab::cli::GoTemplate;
using isolab::cli::TemplateDot;
using nlohmann::json;

namespace {

const char* kContainerContext = "*formatter.ContainerContext";

// The row `docker ps` formats for that container (the fields IsoLab fills).
json ps_row() {
    return {{"ID", "803902d362bb"}, {"Image", "localhost/bbtest:latest"}, {"Command", "\"sleep 100\""},
            {"CreatedAt", "2026-12-07 05:04:45 +0000 UTC"}, {"RunningFor", "4 seconds ago"}, {"Status", "Created"},
            {"State", "created"}, {"Ports", ""}, {"Names", "tpl-a"}, {"Networks", "podman"}};
}

// A part of what `docker inspect` returns for it.
json inspect_doc() {
    return json::parse(R"({"Id": "803902d362bb", "Name": "/tpl-a",
        "State": {"Status": "created", "Pid": 0, "ExitCode": 137, "OOMKilled": false},
        "Config": {"Cmd": ["sleep", "100"], "Labels": {}, "Env": ["PATH=/bin"]},
        "NetworkSettings": {"Networks": {"podman": {"IPAddress": "10.88.0.2"}}}})");
}

// Parses and runs FMT on `docker ps`'s row; returns the output or the error text.
std::string ps(const std::string& fmt) {
    auto t = GoTemplate::parse(fmt);
    if (!t) return "PARSE " + t.error().message;
    auto r = t->execute({ps_row(), kContainerContext});
    if (!r) return "EXEC " + r.error().message;
    return *r;
}

std::string inspect(const std::string& fmt) {
    auto t = GoTemplate::parse(fmt);
    if (!t) return "PARSE " + t.error().message;
    auto r = t->execute({inspect_doc(), ""});
    if (!r) return "EXEC " + r.error().message;
    return *r;
}

std::string exec_error(const std::string& where, const std::string& node, const std::string& msg) {
    return "EXEC template: :" + where + ": executing \"\" at <" + node + ">: " + msg;
}

}  // namespace

TEST_CASE("go template: fields, nested fields, {{.ID}}, json, dot and variables") {
    CHECK(ps("{{.ID}}") == "803902d362bb");
    CHECK(ps("{{ .ID }}{{.Command}}") == "803902d362bb\"sleep 100\"");
    CHECK(ps("{{.Names}} is {{.State}}") == "tpl-a is created");
    CHECK(ps("{{json .Names}}") == "\"tpl-a\"");
    CHECK(ps("{{json .}}") == ps_row().dump());
    CHECK(ps("{{(.Names)}}") == "tpl-a");
    CHECK(ps("{{ $x := .Names }}{{ $x }}") == "tpl-a");
    CHECK(ps("{{ $x := 1 }}{{ $x = 2 }}{{$x}}") == "2");
    CHECK(ps("{{$.Names}}") == "tpl-a");

    CHECK(inspect("{{.State.Status}} {{.State.ExitCode}} {{.State.OOMKilled}}") == "created 137 false");
    CHECK(inspect("{{.Config.Cmd}}") == "[sleep 100]");
    CHECK(inspect("{{json .Config.Cmd}}") == "[\"sleep\",\"100\"]");
    CHECK(inspect("{{json .State}}") == inspect_doc()["State"].dump());
    CHECK(inspect("{{.Config.Labels}}") == "map[]");
    CHECK(inspect("{{.NetworkSettings.Networks}}") == "map[podman:map[IPAddress:10.88.0.2]]");
    CHECK(inspect("{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}") == "10.88.0.2");
    CHECK(inspect("{{index .NetworkSettings.Networks \"podman\" | json}}") == "{\"IPAddress\":\"10.88.0.2\"}");
    // A missing key of a Go map in Docker's API struct (labels) prints "<no value>", with index too.
    CHECK(inspect("{{.Config.Labels.x}}") == "<no value>");
    CHECK(inspect("{{index .Config.Labels \"x\"}}") == "<no value>");
}

TEST_CASE("go template: constants print as Go prints them") {
    CHECK(ps("{{ 3 }}") == "3");
    CHECK(ps("{{'a'}}") == "97");
    CHECK(ps("{{`raw`}}") == "raw");
    CHECK(ps("{{\"\\t|\\u00e9\"}}") == "\t|\xc3\xa9");
    CHECK(ps("{{0x1F}}") == "31");
    CHECK(ps("{{-3}}") == "-3");
    CHECK(ps("{{1.50}}") == "1.5");
    CHECK(ps("{{1e3}}") == "1000");
    CHECK(ps("{{ true }}{{ false }}") == "truefalse");
}

TEST_CASE("go template: if/else if/else, with, range, trim markers, comments") {
    CHECK(ps("{{if eq .State \"created\"}}C{{else if eq .State \"running\"}}R{{else}}O{{end}}") == "C");
    CHECK(ps("{{if eq .State \"running\"}}R{{else if eq .State \"exited\"}}E{{else}}O{{end}}") == "O");
    CHECK(ps("{{if .Ports}}P{{else}}none{{end}}") == "none");
    CHECK(ps("{{if $z := .Names}}{{$z}}{{end}}") == "tpl-a");
    CHECK(ps("{{with .Names}}{{.}}{{end}}") == "tpl-a");
    CHECK(ps("{{with $q := \"a\"}}{{$q}}{{else}}n{{end}}") == "a");
    CHECK(ps("{{with .Ports}}{{.}}{{else}}n{{end}}") == "n");
    CHECK(ps("{{range $i, $e := split .Names \"-\"}}{{$i}}={{$e}};{{end}}") == "0=tpl;1=a;");
    CHECK(ps("{{range $i, $e := split \"a,b\" \",\"}}{{$i}}{{$e}}{{else}}none{{end}}") == "0a1b");
    CHECK(ps("{{range split \"\" \",\"}}[{{.}}]{{end}}") == "[]");
    CHECK(ps("{{range 3}}{{.}}{{end}}") == "012");
    CHECK(inspect("{{range .Config.Labels}}x{{else}}no labels{{end}}") == "no labels");
    CHECK(inspect("{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}}{{end}}") == "podman=10.88.0.2");
    CHECK(ps("{{- .Names -}} x") == "tpl-ax");
    CHECK(ps("a  {{- .Names }}  b") == "atpl-a  b");
    CHECK(ps("{{/* c */}}n") == "n");
    CHECK(ps("{{- /* c */ -}}  n") == "n");
}

TEST_CASE("go template: functions") {
    CHECK(ps("{{.Names | upper}}") == "TPL-A");
    CHECK(ps("{{.Names | upper | lower}}") == "tpl-a");
    CHECK(ps("{{.Names | printf \"%q\"}}") == "\"tpl-a\"");
    CHECK(ps("{{upper .Names}}|{{lower \"ABC\"}}|{{title .Names}}|{{printf \"%s-%d\" .Names 3}}|{{split .Names \"-\"}}|"
             "{{join (split .Names \"-\") \"+\"}}|{{truncate .Names 2}}|{{pad .Names 1 1}}|") ==
          "TPL-A|abc|Tpl-A|tpl-a-3|[tpl a]|tpl+a|tp| tpl-a |");
    CHECK(ps("{{title \"hello world-x\"}}") == "Hello World-X");
    CHECK(ps("{{truncate .Names 99}}|{{pad .Names 0 2}}|") == "tpl-a|tpl-a  |");
    CHECK(ps("{{printf \"%5s|%-4d|%q|%v|%x\" .Names 7 \"a\" true 255}}") == "tpl-a|7   |\"a\"|true|ff");
    CHECK(ps("{{printf \"%d\" .Names}}") == "%!d(string=tpl-a)");
    CHECK(ps("{{ printf \"%v %v\" 1.5 1e21 }}") == "1.5 1e+21");
    CHECK(ps("{{ printf \"%s\" 3 }}") == "%!s(int=3)");
    CHECK(ps("{{ printf \"%d %d\" 3 }}") == "3 %!d(MISSING)");
    CHECK(ps("{{ printf \"%d\" 3 4 }}") == "3%!(EXTRA int=4)");
    CHECK(ps("{{print .Names 1 true}}") == "tpl-a1 true");
    CHECK(ps("{{ print \"a\" \"b\" 1 2 \"c\" }}") == "ab1 2c");
    CHECK(ps("{{println .Names}}") == "tpl-a\n");
    CHECK(ps("{{len .Names}}") == "5");
    CHECK(ps("{{ \"a\" | len }}") == "1");
    CHECK(ps("{{index .Names}}") == "tpl-a");
    CHECK(ps("{{index .Names 1}}") == "112");  // Go indexes a string's bytes: 'p'
    CHECK(ps("{{and .Names \"\"}}|{{or \"\" .Names}}") == "|tpl-a");
    CHECK(ps("{{not .Ports}}") == "true");
    CHECK(ps("{{lt .Names \"b\"}}") == "false");
    CHECK(ps("{{ eq \"a\" \"b\" \"a\" }}") == "true");
    CHECK(ps("{{ lt 1 2 }}{{ ge \"b\" \"a\" }}{{ne 1 2}}") == "truetruetrue");
    CHECK(inspect("{{join .Config.Cmd \",\"}}") == "sleep,100");
    CHECK(inspect("{{index .Config.Cmd 1}}") == "100");
    CHECK(inspect("{{len .Config.Env}}") == "1");
    CHECK(inspect("{{if eq .State.ExitCode 137}}killed{{end}}") == "killed");
}

TEST_CASE("go template: malformed templates fail with Go's parse errors") {
    const struct {
        const char* fmt;
        const char* error;
    } cases[] = {
        {"{{.Names", "template: :1: unclosed action"},
        {"{{.Names}}{{", "template: :1: unclosed action"},
        {"{{.Names}", "template: :1: bad character U+007D '}'"},
        {"{{}}", "template: :1: missing value for command"},
        {"{{if .Names}}x", "template: :1: unexpected EOF"},
        {"{{if .Names}}x{{else}}y", "template: :1: unexpected EOF"},
        {"{{range .Names}}", "template: :1: unexpected EOF"},
        {"{{end}}", "template: :1: unexpected {{end}}"},
        {"{{else}}", "template: :1: unexpected {{else}}"},
        {"{{nofunc .Names}}", "template: :1: function \"nofunc\" not defined"},
        {"{{\"abc}}", "template: :1: unterminated quoted string"},
        {"{{$x}}", "template: :1: undefined variable \"$x\""},
        {"{{if .Names}}a{{end}}{{$y}}", "template: :1: undefined variable \"$y\""},
        {"{{.Names )}}", "template: :1: unexpected right paren"},
        {"{{ ( .Names }}", "template: :1: unclosed left paren"},
        {"{{if}}x{{end}}", "template: :1: missing value for if"},
        {"{{ .Names := 3 }}", "template: :1: unexpected \":=\" in operand"},
        {"{{ $a, $b := .Names }}", "template: :1: too many declarations in command"},
        // Not Docker's: IsoLab says what it lacks instead of claiming the function does not exist.
        {"{{slice .Names 1}}", "template: :1: function \"slice\" is not supported by IsoLab's templates"},
        {"{{define \"x\"}}{{end}}", "template: :1: {{define}} is not supported by IsoLab's templates"},
    };
    for (const auto& c : cases) {
        INFO("template: " << c.fmt);
        auto t = GoTemplate::parse(c.fmt);
        REQUIRE_FALSE(t.ok());
        CHECK(t.error().message == c.error);
        CHECK(t.error().exit_code == 1);
    }
    auto two_lines = GoTemplate::parse("{{.Names}}\n{{if .Names}}");
    REQUIRE_FALSE(two_lines.ok());
    CHECK(two_lines.error().message == "template: :2: unexpected EOF");
}

TEST_CASE("go template: execution errors name the line, column and node as Go does") {
    const std::string ctx = "can't evaluate field Nope in type *formatter.ContainerContext";
    CHECK(ps("{{.Nope}}") == exec_error("1:2", ".Nope", ctx));
    CHECK(ps("{{.names}}") == exec_error("1:2", ".names", "can't evaluate field names in type *formatter.ContainerContext"));
    CHECK(ps("{{range .Nope}}{{end}}") == exec_error("1:8", ".Nope", ctx));
    CHECK(ps("{{ .Names }}\n{{ .Nope }}") == exec_error("2:3", ".Nope", ctx));
    CHECK(ps("{{.Names.Foo}}") == exec_error("1:8", ".Names.Foo", "can't evaluate field Foo in type string"));
    CHECK(ps("{{.Names.Foo.Bar}}") == exec_error("1:8", ".Names.Foo.Bar", "can't evaluate field Foo in type string"));
    CHECK(ps("{{.Names \"x\"}}") == exec_error("1:2", ".Names", "wrong number of args for Names: want 0 got 1"));
    CHECK(ps("{{\"x\" | .Names}}") == exec_error("1:8", ".Names", "wrong number of args for Names: want 0 got 1"));
    CHECK(ps("{{range .Names}}{{end}}") == exec_error("1:8", ".Names", "range can't iterate over tpl-a"));
    CHECK(ps("{{printf}}") == exec_error("1:2", "printf", "wrong number of args for printf: want at least 1 got 0"));
    CHECK(ps("{{upper}}") == exec_error("1:2", "upper", "wrong number of args for upper: want 1 got 0"));
    CHECK(ps("{{upper .Names \"x\"}}") == exec_error("1:2", "upper", "wrong number of args for upper: want 1 got 2"));
    CHECK(ps("{{json}}") == exec_error("1:2", "json", "wrong number of args for json: want 1 got 0"));
    CHECK(ps("{{not}}") == exec_error("1:2", "not", "wrong number of args for not: want 1 got 0"));
    CHECK(ps("{{upper 1}}") == exec_error("1:8", "1", "expected string; found 1"));
    CHECK(ps("{{truncate .Names 1.5}}") == exec_error("1:18", "1.5", "expected integer; found 1.5"));
    CHECK(ps("{{truncate .Names \"a\"}}") == exec_error("1:18", "\"a\"", "expected integer; found \"a\""));
    CHECK(ps("{{join \"a\" \",\"}}") == exec_error("1:7", "\"a\"", "can't handle \"a\" for arg of type []string"));
    CHECK(ps("{{join .Names \",\"}}") == exec_error("1:7", ".Names", "wrong type for value; expected []string; got string"));
    CHECK(ps("{{len 3}}") == exec_error("1:2", "len 3", "error calling len: len of type int"));
    CHECK(ps("{{index .Names 9}}") == exec_error("1:2", "index .Names 9", "error calling index: index out of range: 9"));
    CHECK(ps("{{eq .Names 1}}") == exec_error("1:2", "eq .Names 1", "error calling eq: incompatible types for comparison"));
    CHECK(ps("{{ eq 1 1.0 }}") == exec_error("1:3", "eq 1 1.0", "error calling eq: incompatible types for comparison"));
    CHECK(ps("{{3 4}}") == exec_error("1:2", "3", "can't give argument to non-function 3"));
    CHECK(ps("{{\"a\" \"b\"}}") == exec_error("1:2", "\"a\"", "can't give argument to non-function \"a\""));
    CHECK(ps("{{(1) 2}}") == exec_error("1:2", "(1) 2", "can't give argument to non-function 1"));
    CHECK(ps("{{nil}}") == exec_error("1:2", "nil", "nil is not a command"));

    // `inspect` formats decoded JSON with missingkey=error.
    CHECK(inspect("{{.Nope}}") == exec_error("1:2", ".Nope", "map has no entry for key \"Nope\""));
    CHECK(inspect("{{.State.Nope}}") == exec_error("1:8", ".State.Nope", "map has no entry for key \"Nope\""));
    CHECK(inspect("{{upper .State.Pid}}") ==
          exec_error("1:14", ".State.Pid", "wrong type for value; expected string; got json.Number"));
    CHECK(inspect("{{.Name.x}}") == exec_error("1:7", ".Name.x", "can't evaluate field x in type interface {}"));
    CHECK(inspect("{{index .Config.Cmd 5}}") ==
          exec_error("1:2", "index .Config.Cmd 5", "error calling index: index out of range: 5"));
}

TEST_CASE("docker formatter: table with headers, json, and Docker's error prefixes") {
    std::vector<json> rows = {ps_row()};
    json titles = {{"ID", "CONTAINER ID"}, {"Image", "IMAGE"}, {"Names", "NAMES"}, {"State", "STATE"}};
    auto print = [&](const std::string& fmt, std::string* out) {
        std::ostringstream o;
        auto s = isolab::cli::print_formatted(fmt, rows, titles, kContainerContext, o);
        *out = o.str();
        return s;
    };
    std::string out;
    REQUIRE(print("table {{.Names}}\\t{{.Image}}", &out));
    CHECK(out == "NAMES     IMAGE\ntpl-a     localhost/bbtest:latest\n");
    REQUIRE(print("table {{.ID}}\\t{{upper .Names}}\\t{{json .State}}", &out));
    CHECK(out == "CONTAINER ID   NAMES     STATE\n803902d362bb   TPL-A     \"created\"\n");
    REQUIRE(print("{{.Names}}\\t{{.State}}", &out));
    CHECK(out == "tpl-a\tcreated\n");
    REQUIRE(print("json", &out));
    CHECK(out == ps_row().dump() + "\n");
    CHECK(isolab::cli::is_default_table("table"));
    CHECK_FALSE(isolab::cli::is_default_table("table {{.ID}}"));

    auto bad = print("{{.Nope}}", &out);
    REQUIRE_FALSE(bad.ok());
    CHECK(out.empty());
    CHECK(bad.error().message ==
          "template parsing error: template: :1:2: executing \"\" at <.Nope>: can't evaluate field Nope in type "
          "*formatter.ContainerContext");
    auto unclosed = print("{{.Repository", &out);
    REQUIRE_FALSE(unclosed.ok());
    CHECK(unclosed.error().message == "template parsing error: template: :1: unclosed action");
    CHECK(unclosed.error().exit_code == 1);

    // `docker ps` checks the raw --format (the "table " prefix still in it) on an empty row.
    std::vector<std::string> fields = {"ID", "Names", "State"};
    auto check = [&](const std::string& fmt) {
        auto s = isolab::cli::validate_listing_format(fmt, fields, kContainerContext);
        return s ? std::string("ok") : s.error().message;
    };
    CHECK(check("table {{.Names}}\\t{{.State}}") == "ok");
    CHECK(check("{{.Nope}}") ==
          "failed to execute template: template: :1:2: executing \"\" at <.Nope>: can't evaluate field Nope in type "
          "*formatter.ContainerContext");
    CHECK(check("table {{.Nope}}") ==
          "failed to execute template: template: :1:8: executing \"\" at <.Nope>: can't evaluate field Nope in type "
          "*formatter.ContainerContext");
    CHECK(check("{{range .Names}}{{end}}") ==
          "failed to execute template: template: :1:8: executing \"\" at <.Names>: range can't iterate over ");
    CHECK(check("{{index .Names 1}}") ==
          "failed to execute template: template: :1:2: executing \"\" at <index .Names 1>: error calling index: index "
          "out of range: 1");
    CHECK(check("{{.Names") == "failed to parse template: template: :1: unclosed action");
}

TEST_CASE("docker inspect -f: exit 64 for a bad template, an empty line when nothing printed") {
    auto bad = isolab::cli::parse_inspect_format("{{.Name");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message == "template parsing error: template: :1: unclosed action");
    CHECK(bad.error().exit_code == 64);

    auto t = isolab::cli::parse_inspect_format("{{.Name}}");
    REQUIRE(t.ok());
    std::ostringstream two;
    REQUIRE(isolab::cli::print_inspect(*t, json::array({inspect_doc(), inspect_doc()}), two));
    CHECK(two.str() == "/tpl-a\n/tpl-a\n");
    std::ostringstream none;
    REQUIRE(isolab::cli::print_inspect(*t, json::array(), none));
    CHECK(none.str() == "\n");

    auto nope = isolab::cli::parse_inspect_format("{{.Nope}}");
    REQUIRE(nope.ok());
    std::ostringstream out;
    auto r = isolab::cli::print_inspect(*nope, json::array({inspect_doc()}), out);
    REQUIRE_FALSE(r.ok());
    CHECK(out.str() == "\n");
    CHECK(r.error().message ==
          "template parsing error: template: :1:2: executing \"\" at <.Nope>: map has no entry for key \"Nope\"");
    CHECK(r.error().exit_code == 1);
}
