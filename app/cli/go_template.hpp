// `--format` and `inspect -f`: the part of Go's text/template that Docker users type, over JSON
// data, with Go's and Docker's error texts (measured against `docker` v28; see
// tests/app/test_go_template.cpp for every case and the words it expects).
//
// Supported: text; {{.Field.Chain}}, {{.}}, {{$}}, {{$var}}, {{$var.Field}}; string ("..." and
// `...`), character, number, true/false/nil constants; pipelines with `|`; parentheses;
// {{$x := pipeline}} and {{$x = pipeline}}; {{if}}/{{else if}}/{{else}}/{{end}},
// {{range [$i,] [$e :=] pipeline}}/{{else}}/{{end}} (arrays, maps in key order, integers),
// {{with}}/{{else}}/{{end}}; {{/* comments */}}; {{- and -}} trim markers. Functions: Go's
// and, or, not, eq, ne, lt, le, gt, ge, len, index, print, printf, println and Docker's json,
// split, join, upper, lower, title, pad, truncate.
//
// Deliberate differences from Go and Docker:
// - {{define}}, {{template}}, {{block}}, {{break}}, {{continue}} and the functions slice, html,
//   js, urlquery and call are refused at parse time with a message saying IsoLab lacks them (never
//   Go's "not defined", which would be untrue of Docker).
// - Data is JSON, not Go values. Docker formats `inspect` by the typed API struct first and only
//   falls back to the decoded JSON; IsoLab has the JSON only, so a key its record lacks is Docker's
//   fallback error (`map has no entry for key "X"`), where Docker might print a zero value.
// - Numbers from JSON compare and print as numbers (Go's json.Number would refuse `eq` with an
//   integer constant; Docker's typed pass accepts it, and so does IsoLab). `upper`/`lower`/`title`
//   change ASCII letters only.
#pragma once

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/result.hpp"

namespace isolab::cli {

// What `.` is, as Go would see it. Docker's listing commands (ps, images) format Go structs whose
// fields are methods returning strings: a field the struct lacks is "can't evaluate field X in
// type *formatter.ContainerContext". `inspect` formats JSON decoded into Go maps with
// missingkey=error: a missing key is `map has no entry for key "X"`.
struct TemplateDot {
    nlohmann::json value;
    std::string struct_type;  // "*formatter.ContainerContext"; empty: `value` is decoded JSON
    // A table's header row: `value` maps fields to titles, a missing key prints "<no value>",
    // Docker's json/split/join/title/lower/upper/truncate return the title untouched, and an
    // error ends the header where it happened instead of failing (Docker's HeaderFunctions).
    bool table_header = false;
};

class GoTemplate {
public:
    // Parses TEXT. The error is Go's: "template: :LINE: MESSAGE" (exit code 1).
    static Result<GoTemplate> parse(const std::string& text);
    // Runs the template on DOT. The error is Go's: "template: :LINE:COL: executing \"\" at
    // <NODE>: MESSAGE" (exit code 1). Output written before an error is discarded.
    Result<std::string> execute(const TemplateDot& dot) const;

    struct Node;

private:
    std::string text_;
    std::shared_ptr<const Node> root_;  // immutable once parsed: copies share it
};

// Docker's `--format` for the listing commands (cli/command/formatter): "table" alone means the
// command's default table (the caller's business: is_default_table), "json" is {{json .}}, a
// "table " prefix adds a header row (the template run on TITLES, field -> column title) and aligns
// the columns at the tabs; `\t` and `\n` typed in the template become a tab and a newline.
// Errors are Docker's: "template parsing error: ..." for both parse and execution failures.
// Nothing is written to OUT on error.
bool is_default_table(const std::string& format);
Status print_formatted(const std::string& format, const std::vector<nlohmann::json>& rows,
                       const nlohmann::json& titles, const std::string& struct_type, std::ostream& out);

// `docker ps --format` checks the template before listing, against its struct with every field
// empty, so that a wrong template fails even when no container matches: "failed to parse
// template: ..." or "failed to execute template: ..." (exit 1). FIELDS are the struct's fields.
Status validate_listing_format(const std::string& format, const std::vector<std::string>& fields,
                               const std::string& struct_type);

// `docker inspect -f`: one line per object. A parse error is "template parsing error: ..." with
// exit code 64, before any object is looked at; an execution error is the same words with exit
// code 1 and stops at that object. Docker writes an empty line when nothing else was written.
Result<GoTemplate> parse_inspect_format(const std::string& format);
Status print_inspect(const GoTemplate& tmpl, const nlohmann::json& objects, std::ostream& out);
// The end of every `inspect`: OBJECTS through TMPL (or as indented JSON, "[]" when empty), then
// MISSING (Docker's one error line per name not found, printed after what was found). Returns
// Docker's exit code: the template's error's, else 1 when a name was missing, else 0.
int finish_inspect(const std::optional<GoTemplate>& tmpl, const nlohmann::json& objects, const std::string& missing,
                   std::ostream& out, std::ostream& err);

}  // namespace isolab::cli
