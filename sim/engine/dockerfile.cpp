// The Dockerfile parser, word expansion and CMD/ENTRYPOINT rules. See dockerfile.hpp for the
// contract and for which BuildKit files each rule was checked against.
//
// Every pass here is a single left-to-right scan over its input, so the whole parse is linear in
// the size of the Dockerfile. The only recursion is ${a:-${b:-...}} nesting in the word lexer, and
// that is cut off at kMaxNesting levels; JSON is read with nlohmann's SAX parser, which keeps its
// own explicit stack.
#include "sim/engine/dockerfile.hpp"

#include <nlohmann/json.hpp>

#include <sys/utsname.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <string_view>

#include "sim/core/strings.hpp"

namespace isolab::dockerfile {

namespace {

constexpr int kMaxNesting = 32;
constexpr std::string_view kBom = "\xEF\xBB\xBF";

// unicode.IsSpace restricted to ASCII (Docker's trimLeadingWhitespace, parseWords).
bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// Docker's reWhitespace `[\t\v\f\r ]+`, used to split FROM/EXPOSE/COPY words and the keyword.
bool is_field_space(char c) {
    return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

// Go's `\s` in the directive regex: [\t\n\f\r ].
bool is_re_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

char to_upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }
char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = to_upper(c);
    return out;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = to_lower(c);
    return out;
}

std::string_view ltrim(std::string_view s) {
    size_t i = 0;
    while (i < s.size() && is_space(s[i])) ++i;
    return s.substr(i);
}

std::string_view rtrim(std::string_view s) {
    size_t n = s.size();
    while (n > 0 && is_space(s[n - 1])) --n;
    return s.substr(0, n);
}

std::string_view trim_view(std::string_view s) { return rtrim(ltrim(s)); }

// Docker's trimNewline: a CRLF file reads like an LF one.
std::string_view trim_newline(std::string_view s) {
    size_t n = s.size();
    while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == '\n')) --n;
    return s.substr(0, n);
}

std::vector<std::string_view> split_fields(std::string_view s) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && is_field_space(s[i])) ++i;
        const size_t start = i;
        while (i < s.size() && !is_field_space(s[i])) ++i;
        if (i > start) out.push_back(s.substr(start, i - start));
    }
    return out;
}

Error line_error(const std::string& name, int line, const std::string& message) {
    return make_error(name + ":" + std::to_string(line) + ": " + message, 1);
}

// ---------------------------------------------------------------------------------------------
// Word lexer (BuildKit shell/lex.go).
//
// Expand: quote removal + variable expansion, what Docker does to ENV/COPY/... words.
// Literalize: quote removal only, output in "expand() form": literal characters that expand()
// would treat specially are escaped, variable references are copied as written. Used for
// Instruction::pairs so that expand(pairs value) == Docker's value.

enum class LexMode { Expand, Literalize };

class WordLexer {
public:
    WordLexer(std::string_view s, char escape, const std::map<std::string, std::string>& vars,
              LexMode mode)
        : s_(s), esc_(escape), vars_(vars), mode_(mode) {}

    // Returns the processed word, or an error message without prefix.
    Result<std::string> run() {
        std::string out;
        ISOLAB_TRY(until(-1, 0, out));
        return out;
    }

private:
    // Processes up to the unquoted, unescaped STOP character (consumed) or, with STOP < 0, to the
    // end of the word.
    Status until(int stop, int depth, std::string& out) {
        while (pos_ < s_.size()) {
            char c = s_[pos_];
            if (stop >= 0 && c == static_cast<char>(stop)) {
                ++pos_;
                return {};
            }
            if (c == '\'') {
                ISOLAB_TRY(single_quote(out));
                continue;
            }
            if (c == '"') {
                ISOLAB_TRY(double_quote(depth, out));
                continue;
            }
            if (c == '$') {
                ISOLAB_TRY(dollar(depth, out));
                continue;
            }
            ++pos_;
            if (c == esc_) {
                // An escape at the very end is dropped (it was a line continuation).
                if (pos_ == s_.size()) break;
                literal(s_[pos_++], out);
            } else {
                out += c;
            }
        }
        if (stop >= 0) {
            return make_error(std::string("unexpected end of statement while looking for matching ") +
                                  static_cast<char>(stop),
                              1);
        }
        return {};
    }

    // A character that must come out literally. In Literalize mode the ones expand() would act
    // on get the escape character in front.
    void literal(char c, std::string& out) const {
        if (mode_ == LexMode::Literalize && (c == esc_ || c == '\'' || c == '"' || c == '$')) {
            out += esc_;
        }
        out += c;
    }

    // Everything up to the next ' is literal; a ' cannot be escaped inside (POSIX sh).
    Status single_quote(std::string& out) {
        const size_t close = s_.find('\'', pos_ + 1);
        if (close == std::string_view::npos) {
            return make_error("unexpected end of statement while looking for matching single-quote", 1);
        }
        for (size_t i = pos_ + 1; i < close; ++i) literal(s_[i], out);
        pos_ = close + 1;
        return {};
    }

    // Literal except $ (expanded); the escape character escapes only " $ and itself, otherwise it
    // stays (POSIX sh, as lex.go does).
    Status double_quote(int depth, std::string& out) {
        ++pos_;
        while (true) {
            if (pos_ == s_.size()) {
                return make_error("unexpected end of statement while looking for matching double-quote", 1);
            }
            char c = s_[pos_];
            if (c == '"') {
                ++pos_;
                return {};
            }
            if (c == '$') {
                ISOLAB_TRY(dollar(depth, out));
                continue;
            }
            ++pos_;
            if (c == esc_) {
                if (pos_ == s_.size()) continue;
                const char next = s_[pos_];
                if (next == '"' || next == '$' || next == esc_) {
                    c = next;
                    ++pos_;
                }
            }
            literal(c, out);
        }
    }

    static bool is_special_param(char c) {
        switch (c) {
            case '@': case '*': case '#': case '?': case '-': case '$': case '!': case '0':
                return true;
            default:
                return false;
        }
    }

    // lex.go processName: digits ($1), one special parameter ($$, $@...), or [A-Za-z0-9_]+.
    std::string read_name() {
        std::string name;
        if (pos_ < s_.size() && is_digit(s_[pos_])) {
            while (pos_ < s_.size() && is_digit(s_[pos_])) name += s_[pos_++];
            return name;
        }
        if (pos_ < s_.size() && is_special_param(s_[pos_])) return std::string(1, s_[pos_++]);
        while (pos_ < s_.size() && (is_alpha(s_[pos_]) || is_digit(s_[pos_]) || s_[pos_] == '_')) {
            name += s_[pos_++];
        }
        return name;
    }

    Status dollar(int depth, std::string& out) {
        const size_t start = pos_;
        ++pos_;  // '$'
        if (pos_ == s_.size() || s_[pos_] != '{') {
            const std::string name = read_name();
            if (name.empty()) {
                // A lone $ is literal. In Literalize mode it needs an escape only when what
                // follows in the output could start a name (`"$"abc`, `$\a`).
                const bool ambiguous = pos_ < s_.size() &&
                                       (s_[pos_] == '\'' || s_[pos_] == '"' || s_[pos_] == esc_);
                if (mode_ == LexMode::Literalize && ambiguous) out += esc_;
                out += '$';
                return {};
            }
            emit(start, lookup(name), out);
            return {};
        }
        ++pos_;  // '{'
        if (pos_ == s_.size()) return make_error("syntax error: missing '}'", 1);
        if (s_[pos_] == '{' || s_[pos_] == '}' || s_[pos_] == ':') {
            return make_error("syntax error: bad substitution", 1);
        }
        const std::string name = read_name();
        if (pos_ == s_.size()) return make_error("syntax error: missing '}'", 1);
        char ch = s_[pos_++];
        if (ch == '}') {
            emit(start, lookup(name), out);
            return {};
        }
        const bool colon = ch == ':';
        if (colon) {
            if (pos_ == s_.size()) return make_error("syntax error: missing '}'", 1);
            ch = s_[pos_++];
        } else if (ch != '-' && ch != '+' && ch != '?') {
            return make_error("syntax error: bad substitution", 1);
        }
        if (depth + 1 > kMaxNesting) {
            return make_error("syntax error: substitutions nested more than " +
                                  std::to_string(kMaxNesting) + " levels deep",
                              1);
        }
        std::string word;
        Status inner = until('}', depth + 1, word);
        if (!inner.ok()) {
            if (pos_ == s_.size()) return make_error("syntax error: missing '}'", 1);
            return inner;
        }
        if (ch != '-' && ch != '+' && ch != '?') {
            return make_error(std::string("unsupported modifier (") + ch + ") in substitution", 1);
        }
        if (mode_ == LexMode::Literalize) {
            // Only the syntax is checked here; expand() evaluates it later.
            out.append(s_.substr(start, pos_ - start));
            return {};
        }
        const auto it = vars_.find(name);
        const bool set = it != vars_.end();
        const std::string value = set ? it->second : std::string();
        // With ':' an empty value counts as unset (POSIX sh).
        const bool present = colon ? !value.empty() : set;
        switch (ch) {
            case '-':
                out += present ? value : word;
                return {};
            case '+':
                if (present) out += word;
                return {};
            default:  // '?'
                if (present) {
                    out += value;
                    return {};
                }
                if (word.empty()) {
                    return make_error("variable `" + name + "` is " + (colon ? "unset or empty" : "unset"), 1);
                }
                return make_error(name + ": " + word, 1);
        }
    }

    std::string lookup(const std::string& name) const {
        const auto it = vars_.find(name);
        return it == vars_.end() ? std::string() : it->second;
    }

    // The value of a reference in Expand mode; the reference as written in Literalize mode.
    void emit(size_t start, const std::string& value, std::string& out) const {
        if (mode_ == LexMode::Expand) {
            out += value;
        } else {
            out.append(s_.substr(start, pos_ - start));
        }
    }

    std::string_view s_;
    char esc_;
    const std::map<std::string, std::string>& vars_;
    LexMode mode_;
    size_t pos_ = 0;
};

Result<std::string> process_word(const std::string& word, const std::map<std::string, std::string>& vars,
                                 char escape, LexMode mode) {
    WordLexer lexer(word, escape, vars, mode);
    Result<std::string> r = lexer.run();
    if (!r.ok()) return make_error("failed to process `" + word + "`: " + r.error().message, 1);
    // Hostile input: a value that grows line by line (ENV A=$A$A) stops here, not in the allocator.
    if (r->size() > kMaxExpandedWord)
        return make_error("failed to process `" + (word.size() > 60 ? word.substr(0, 60) + "…" : word) + "`: it expands to " +
                              std::to_string(r->size()) + " bytes, over 128 KiB (Linux's limit for one argument or "
                              "environment string): shorten the value",
                          1);
    return r;
}

// ---------------------------------------------------------------------------------------------
// Line-level helpers (BuildKit parser.go, line_parsers.go, split_command.go).

struct Directives {
    char escape = '\\';
    bool done = false;
    bool seen_escape = false;
    bool seen_syntax = false;
    bool seen_check = false;
};

// `# name = value` at the top of the file, before any instruction, comment or blank line
// (regex `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`). Anything else ends the directive block.
Status possible_directive(std::string_view line, Directives& d) {
    if (d.done) return {};
    size_t i = 0;
    if (line.empty() || line[0] != '#') {
        d.done = true;
        return {};
    }
    ++i;
    while (i < line.size() && is_re_space(line[i])) ++i;
    const size_t name_start = i;
    if (i < line.size() && is_alpha(line[i])) {
        ++i;
        while (i < line.size() && (is_alpha(line[i]) || is_digit(line[i]))) ++i;
    }
    const std::string name = lower(line.substr(name_start, i - name_start));
    while (i < line.size() && is_re_space(line[i])) ++i;
    if (name.empty() || i == line.size() || line[i] != '=') {
        d.done = true;
        return {};
    }
    ++i;
    while (i < line.size() && is_re_space(line[i])) ++i;
    size_t end = line.size();
    while (end > i && is_re_space(line[end - 1])) --end;
    if (end == i) {
        d.done = true;
        return {};
    }
    const std::string value(line.substr(i, end - i));
    bool* seen = nullptr;
    if (name == "escape") seen = &d.seen_escape;
    else if (name == "syntax") seen = &d.seen_syntax;   // ignored: IsoLab has one frontend
    else if (name == "check") seen = &d.seen_check;     // ignored: no build checks
    if (seen == nullptr) {  // an ordinary comment
        d.done = true;
        return {};
    }
    if (*seen) return make_error("only one " + name + " parser directive can be used", 1);
    *seen = true;
    if (name == "escape") {
        if (value != "`" && value != "\\") {
            return make_error("invalid escape token '" + value + "' does not match ` or \\", 1);
        }
        d.escape = value[0];
    }
    return {};
}

// The escape character as the last non-blank character continues the line, unless it is itself
// escaped (parser.go lineContinuationRegex `([^\e])\e[ \t]*$|^\e[ \t]*$`). Returns the line
// without it and whether the instruction ends here.
std::pair<std::string_view, bool> trim_continuation(std::string_view line, char escape) {
    size_t j = line.size();
    while (j > 0 && (line[j - 1] == ' ' || line[j - 1] == '\t')) --j;
    if (j > 0 && line[j - 1] == escape && (j == 1 || line[j - 2] != escape)) {
        return {line.substr(0, j - 1), false};
    }
    return {line, true};
}

// line_parsers.go parseWords: splits on blanks, quotes and escapes KEPT (quoted blanks do not
// split). Used for ENV/LABEL/ARG and for spotting heredocs.
std::vector<std::string> split_words(std::string_view rest, char escape) {
    enum class Phase { Spaces, Word, Quote };
    Phase phase = Phase::Spaces;
    std::vector<std::string> words;
    std::string word;
    char quote = 0;
    bool blank_ok = false;
    for (size_t pos = 0; pos <= rest.size(); ++pos) {
        const bool at_end = pos == rest.size();
        char ch = at_end ? '\0' : rest[pos];
        if (phase == Phase::Spaces) {
            if (at_end) break;
            if (is_space(ch)) continue;
            phase = Phase::Word;
        }
        if (at_end) {
            if (blank_ok || !word.empty()) words.push_back(std::move(word));
            break;
        }
        if (phase == Phase::Word) {
            if (is_space(ch)) {
                phase = Phase::Spaces;
                if (blank_ok || !word.empty()) words.push_back(std::move(word));
                word.clear();
                blank_ok = false;
                continue;
            }
            if (ch == '\'' || ch == '"') {
                quote = ch;
                blank_ok = true;
                phase = Phase::Quote;
            }
            if (ch == escape) {
                if (pos + 1 == rest.size()) continue;  // a trailing escape is dropped
                word += ch;
                ch = rest[++pos];
            }
            word += ch;
            continue;
        }
        // Phase::Quote
        if (ch == quote) phase = Phase::Word;
        if (ch == escape && quote != '\'') {
            if (pos + 1 == rest.size()) {
                phase = Phase::Word;
                continue;
            }
            word += ch;
            ch = rest[++pos];
        }
        word += ch;
    }
    return words;
}

// One flag word or flag value: quotes removed, backslash escapes (split_command.go always uses a
// backslash here, whatever the escape directive says). Stops at an unquoted blank.
std::string read_flag_word(std::string_view line, size_t& pos) {
    std::string word;
    char quote = 0;
    while (pos < line.size()) {
        char ch = line[pos];
        if (quote == 0) {
            if (is_space(ch)) break;
            if (ch == '\'' || ch == '"') {
                quote = ch;
                ++pos;
                continue;
            }
        } else if (ch == quote) {
            quote = 0;
            ++pos;
            continue;
        }
        if (ch == '\\') {
            if (pos + 1 == line.size()) {
                ++pos;
                continue;
            }
            ch = line[++pos];
        }
        word += ch;
        ++pos;
    }
    return word;
}

// split_command.go extractBuilderFlags: leading `--name=value` (or `--name value`) words, up to
// the first word that does not start with `--` or a lone `--`. Returns the rest of the line.
std::string_view extract_flags(std::string_view line, std::vector<std::string>& flags) {
    size_t pos = 0;
    while (true) {
        while (pos < line.size() && is_space(line[pos])) ++pos;
        if (pos == line.size()) return {};
        if (!(line[pos] == '-' && pos + 1 < line.size() && line[pos + 1] == '-')) return line.substr(pos);
        std::string word = read_flag_word(line, pos);
        if (word == "--") return line.substr(pos);
        if (word.find('=') == std::string::npos) {
            while (pos < line.size() && is_space(line[pos])) ++pos;
            if (pos < line.size()) word += "=" + read_flag_word(line, pos);
        }
        flags.push_back(std::move(word));
    }
}

// A top-level JSON array of strings, read with a SAX handler so nothing is built for rejected
// input and nesting costs no recursion.
struct JsonArrayReader : nlohmann::json_sax<nlohmann::json> {
    int depth = 0;
    bool top_is_array = false;
    bool only_strings = true;
    std::vector<std::string> items;

    bool null() override { return scalar(); }
    bool boolean(bool) override { return scalar(); }
    bool number_integer(number_integer_t) override { return scalar(); }
    bool number_unsigned(number_unsigned_t) override { return scalar(); }
    bool number_float(number_float_t, const string_t&) override { return scalar(); }
    bool binary(binary_t&) override { return scalar(); }
    bool string(string_t& s) override {
        if (depth == 1 && top_is_array) {
            items.push_back(s);
        } else {
            only_strings = false;
        }
        return true;
    }
    bool start_object(std::size_t) override {
        only_strings = false;
        ++depth;
        return true;
    }
    bool key(string_t&) override { return true; }
    bool end_object() override {
        --depth;
        return true;
    }
    bool start_array(std::size_t) override {
        if (depth == 0) {
            top_is_array = true;
        } else {
            only_strings = false;
        }
        ++depth;
        return true;
    }
    bool end_array() override {
        --depth;
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
        return false;
    }

private:
    bool scalar() {
        only_strings = false;
        return true;
    }
};

enum class JsonForm { NotJson, Strings, NotStrings };

// line_parsers.go parseJSON: text starting with `[` that is one valid JSON value. Invalid JSON
// (`CMD [ "a", ]`) is not an error: the caller falls back to shell form, as Docker does. A valid
// array holding anything but strings is an error.
JsonForm parse_json_array(std::string_view rest, std::vector<std::string>& items) {
    rest = ltrim(rest);
    if (rest.empty() || rest[0] != '[') return JsonForm::NotJson;
    JsonArrayReader reader;
    const bool ok = nlohmann::json::sax_parse(rest.begin(), rest.end(), &reader,
                                              nlohmann::json::input_format_t::json, true);
    if (!ok || !reader.top_is_array) return JsonForm::NotJson;
    if (!reader.only_strings) return JsonForm::NotStrings;
    items = std::move(reader.items);
    return JsonForm::Strings;
}

// parser.go reHeredoc `^(\d*)<<(-?)([^<]*)$` with a non-empty name.
bool is_heredoc_word(std::string_view w) {
    size_t i = 0;
    while (i < w.size() && is_digit(w[i])) ++i;
    if (w.substr(i, 2) != "<<") return false;
    i += 2;
    if (i < w.size() && w[i] == '-') ++i;
    const std::string_view name = w.substr(i);
    return !name.empty() && name.find('<') == std::string_view::npos;
}

struct KindInfo {
    std::string_view keyword;
    Kind kind;
};

constexpr std::array<KindInfo, 18> kKinds = {{
    {"FROM", Kind::From}, {"RUN", Kind::Run}, {"CMD", Kind::Cmd},
    {"ENTRYPOINT", Kind::Entrypoint}, {"COPY", Kind::Copy}, {"ADD", Kind::Add},
    {"ENV", Kind::Env}, {"WORKDIR", Kind::Workdir}, {"EXPOSE", Kind::Expose},
    {"LABEL", Kind::Label}, {"USER", Kind::User}, {"ARG", Kind::Arg},
    {"STOPSIGNAL", Kind::StopSignal}, {"SHELL", Kind::Shell}, {"VOLUME", Kind::Volume},
    {"MAINTAINER", Kind::Maintainer}, {"HEALTHCHECK", Kind::Healthcheck}, {"ONBUILD", Kind::Onbuild},
}};

// Flags IsoLab implements, per instruction.
std::vector<std::string_view> accepted_flags(Kind kind) {
    switch (kind) {
        case Kind::From: return {"platform"};
        case Kind::Copy: return {"chown", "chmod", "from"};
        case Kind::Add: return {"chown", "chmod"};
        case Kind::Healthcheck: return {"interval", "timeout", "start-period", "start-interval", "retries"};
        case Kind::Run: case Kind::Cmd: case Kind::Entrypoint: case Kind::Env: case Kind::Workdir:
        case Kind::Expose: case Kind::Label: case Kind::User: case Kind::Arg: case Kind::StopSignal:
        case Kind::Shell: case Kind::Volume: case Kind::Maintainer: case Kind::Onbuild:
            return {};
    }
    return {};
}

// Flags Docker has and IsoLab does not: refused by name instead of as "unknown".
std::vector<std::string_view> docker_only_flags(Kind kind) {
    switch (kind) {
        case Kind::Run: return {"mount", "network", "security", "device"};
        case Kind::Copy: return {"link", "parents", "exclude"};
        case Kind::Add: return {"checksum", "keep-git-dir", "link", "exclude", "unpack"};
        case Kind::From: case Kind::Cmd: case Kind::Entrypoint: case Kind::Env: case Kind::Workdir:
        case Kind::Expose: case Kind::Label: case Kind::User: case Kind::Arg: case Kind::StopSignal:
        case Kind::Shell: case Kind::Volume: case Kind::Maintainer: case Kind::Healthcheck: case Kind::Onbuild:
            return {};
    }
    return {};
}

bool contains(const std::vector<std::string_view>& list, std::string_view s) {
    for (std::string_view x : list) {
        if (x == s) return true;
    }
    return false;
}

// bflag.go Parse, with IsoLab's list of flags.
Status parse_flags(const std::vector<std::string>& words, Instruction& in) {
    const std::vector<std::string_view> accepted = accepted_flags(in.kind);
    for (const std::string& w : words) {
        const std::string body = w.substr(2);  // extract_flags only yields words starting "--"
        const size_t eq = body.find('=');
        const std::string name = body.substr(0, eq);
        if (!contains(accepted, name)) {
            if (contains(docker_only_flags(in.kind), name)) {
                return make_error(in.keyword + " --" + name + " is not supported by IsoLab", 1);
            }
            std::string hint = " (" + in.keyword + " takes no flags)";
            if (!accepted.empty()) {
                hint = " (" + in.keyword + " accepts";
                for (size_t i = 0; i < accepted.size(); ++i) {
                    hint += (i == 0 ? " --" : ", --") + std::string(accepted[i]);
                }
                hint += ")";
            }
            return make_error("unknown flag: --" + name + hint, 1);
        }
        if (eq == std::string::npos) {
            return make_error("missing a value on flag: --" + name + " (write --" + name + "=VALUE)", 1);
        }
        if (in.flags.count(name) != 0) return make_error("duplicate flag specified: --" + name, 1);
        in.flags[name] = body.substr(eq + 1);
    }
    return {};
}

// FROM --platform: IsoLab builds for the machine it runs on, so only that platform (or BuildKit's
// names for it, $BUILDPLATFORM and $TARGETPLATFORM, which are this machine here) is taken; any other
// is refused rather than ignored.
Status check_platform(const std::string& value) {
    struct utsname u {};
    ::uname(&u);
    const std::string machine = u.machine;
    const std::string arch = machine == "x86_64" ? "amd64" : machine == "aarch64" ? "arm64" : machine;
    const std::string here = "linux/" + arch;
    for (const char* ok : {"$BUILDPLATFORM", "${BUILDPLATFORM}", "$TARGETPLATFORM", "${TARGETPLATFORM}"})
        if (value == ok) return {};
    if (value == here) return {};
    return make_error("FROM --platform=" + value + ": IsoLab builds for this machine only (" + here +
                          "): leave --platform out, or write --platform=" + here,
                      1);
}

Status reject_heredoc(const std::string& rest, const std::string& keyword) {
    for (const std::string& w : split_words(rest, '\\')) {
        if (is_heredoc_word(w)) {
            return make_error("heredocs (`" + w + "`) in " + keyword +
                                  " are not supported by IsoLab: put the text in a file and COPY it",
                              1);
        }
    }
    return {};
}

// Stage names: instructions/parse.go `^[a-z][a-z0-9-_\.]*$` after lower-casing.
bool valid_stage_name(std::string_view s) {
    if (s.empty() || !(s[0] >= 'a' && s[0] <= 'z')) return false;
    for (char c : s) {
        if (!((c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '_' || c == '.')) return false;
    }
    return true;
}

Status parse_key_values(const std::string& rest, Instruction& in, char escape) {
    const std::vector<std::string> words = split_words(rest, escape);
    if (words.empty()) return make_error(in.keyword + " requires at least one argument", 1);
    std::vector<std::pair<std::string, std::string>> raw;
    if (words[0].find('=') == std::string::npos) {
        // Legacy `KEY value with spaces`: the key is the first field, the value all the rest.
        std::string_view r = trim_view(rest);
        size_t i = 0;
        while (i < r.size() && !is_field_space(r[i])) ++i;
        const std::string_view key = r.substr(0, i);
        while (i < r.size() && is_field_space(r[i])) ++i;
        if (i == r.size()) return make_error(in.keyword + " must have two arguments", 1);
        raw.emplace_back(std::string(key), std::string(r.substr(i)));
    } else {
        for (const std::string& w : words) {
            const size_t eq = w.find('=');
            if (eq == std::string::npos) {
                return make_error("Syntax error - can't find = in \"" + w +
                                      "\". Must be of the form: name=value",
                                  1);
            }
            raw.emplace_back(w.substr(0, eq), w.substr(eq + 1));
        }
    }
    static const std::map<std::string, std::string> kNoVars;
    for (const auto& [key, value] : raw) {
        if (key.empty()) return make_error(in.keyword + " names can not be blank", 1);
        Result<std::string> k = process_word(key, kNoVars, escape, LexMode::Literalize);
        if (!k.ok()) return k.error();
        Result<std::string> v = process_word(value, kNoVars, escape, LexMode::Literalize);
        if (!v.ok()) return v.error();
        if (k.value().empty()) return make_error(in.keyword + " names can not be blank", 1);
        in.pairs.emplace_back(std::move(k.value()), std::move(v.value()));
    }
    return {};
}

Status parse_arg(const std::string& rest, Instruction& in, char escape) {
    const std::vector<std::string> words = split_words(rest, escape);
    if (words.size() != 1) {
        return make_error("ARG requires exactly one argument (write one `ARG name[=default]` per line)", 1);
    }
    const std::string& w = words[0];
    const size_t eq = w.find('=');
    const std::string raw_name = w.substr(0, eq);
    if (raw_name.empty()) return make_error("ARG names can not be blank", 1);
    static const std::map<std::string, std::string> kNoVars;
    Result<std::string> name = process_word(raw_name, kNoVars, escape, LexMode::Literalize);
    if (!name.ok()) return name.error();
    if (name.value().empty()) return make_error("ARG names can not be blank", 1);
    std::string def;
    if (eq != std::string::npos) {
        in.has_default = true;
        Result<std::string> v = process_word(w.substr(eq + 1), kNoVars, escape, LexMode::Literalize);
        if (!v.ok()) return v.error();
        def = std::move(v.value());
    }
    in.pairs.emplace_back(std::move(name.value()), std::move(def));
    return {};
}

// RUN/CMD/ENTRYPOINT/SHELL (parseMaybeJSON) and the rules of instructions/parse.go.
Status parse_command(const std::string& rest, Instruction& in) {
    if (rest.empty()) return make_error(in.keyword + " requires at least one argument", 1);
    std::vector<std::string> items;
    switch (parse_json_array(rest, items)) {
        case JsonForm::NotStrings:
            return make_error("when using JSON array syntax, arrays must be comprised of strings only", 1);
        case JsonForm::Strings:
            if (items.empty() && (in.kind == Kind::Run || in.kind == Kind::Shell)) {
                return make_error(in.keyword + " requires at least one argument", 1);
            }
            in.json_form = true;
            in.args = std::move(items);
            return {};
        case JsonForm::NotJson:
            break;
    }
    if (in.kind == Kind::Shell) {
        return make_error("SHELL requires the arguments to be in JSON form, e.g. SHELL [\"/bin/bash\", \"-c\"]", 1);
    }
    if (in.kind == Kind::Run) ISOLAB_TRY(reject_heredoc(rest, in.keyword));
    in.args = {rest};
    return {};
}

Status parse_copy(const std::string& rest, Instruction& in) {
    std::vector<std::string> items;
    switch (parse_json_array(rest, items)) {
        case JsonForm::NotStrings:
            return make_error("when using JSON array syntax, arrays must be comprised of strings only", 1);
        case JsonForm::Strings:
            in.json_form = true;
            in.args = std::move(items);
            break;
        case JsonForm::NotJson:
            ISOLAB_TRY(reject_heredoc(rest, in.keyword));
            for (std::string_view f : split_fields(rest)) in.args.emplace_back(f);
            break;
    }
    if (in.args.empty()) {
        return make_error(in.keyword + " requires at least two arguments: one or more sources, then the destination", 1);
    }
    if (in.args.size() < 2) {
        return make_error(in.keyword +
                              " requires at least two arguments, but only one was provided. Destination could not be determined.",
                          1);
    }
    return {};
}

Status parse_from(const std::string& rest, Instruction& in) {
    const std::vector<std::string_view> words = split_fields(rest);
    if (words.size() == 3 && lower(words[1]) == "as") {
        in.stage = lower(words[2]);
        if (!valid_stage_name(in.stage)) {
            return make_error("invalid name for build stage: \"" + std::string(words[2]) +
                                  "\", name can't start with a number or contain symbols",
                              1);
        }
    } else if (words.size() != 1) {
        return make_error("FROM requires either one or three arguments (FROM image [AS name])", 1);
    }
    in.args = {std::string(words[0])};
    return {};
}

Status parse_expose(const std::string& rest, Instruction& in) {
    for (std::string_view f : split_fields(rest)) in.args.emplace_back(f);
    if (in.args.empty()) return make_error("EXPOSE requires at least one argument", 1);
    for (const std::string& w : in.args) {
        // A word with a variable can only be checked after expand(); the executor does that.
        if (w.find('$') == std::string::npos) ISOLAB_TRY(check_port(w));
    }
    return {};
}

// VOLUME (parseMaybeJSONToList, then instructions/parse.go parseVolume): a JSON array of strings,
// or the words split at white space; each path trimmed, none empty. The paths are kept as written
// (the executor expands them); Docker checks nothing else at build time.
Status parse_volume(const std::string& rest, Instruction& in) {
    std::vector<std::string> items;
    switch (parse_json_array(rest, items)) {
        case JsonForm::NotStrings:
            return make_error("when using JSON array syntax, arrays must be comprised of strings only", 1);
        case JsonForm::Strings:
            in.json_form = true;
            for (const std::string& item : items) in.args.emplace_back(trim_view(item));
            break;
        case JsonForm::NotJson:
            for (std::string_view f : split_fields(rest)) in.args.emplace_back(f);
            break;
    }
    if (in.args.empty()) return make_error("VOLUME requires at least one argument", 1);
    for (const std::string& path : in.args)
        if (path.empty()) return make_error("VOLUME specified can not be an empty string", 1);
    return {};
}

Status parse_single(const std::string& rest, Instruction& in) {
    if (rest.empty()) return make_error(in.keyword + " requires exactly one argument", 1);
    in.args = {rest};
    if (in.kind == Kind::StopSignal && rest.find('$') == std::string::npos) {
        ISOLAB_TRY(check_signal(rest));
    }
    return {};
}

// One logical line (continuations joined, comment lines dropped) → an Instruction.
Result<Instruction> parse_instruction(std::string_view line, int lineno, char escape, int depth = 0);

// HEALTHCHECK (instructions/parse.go parseHealthcheck): NONE, or CMD with a command in either
// form; the durations and --retries are checked here, with Docker's words.
Status parse_healthcheck(const std::string& rest, Instruction& in) {
    if (rest.empty()) return make_error("HEALTHCHECK requires at least one argument", 1);
    size_t i = 0;
    while (i < rest.size() && !is_field_space(rest[i])) ++i;
    const std::string type = upper(std::string_view(rest).substr(0, i));
    const std::string command(trim_view(std::string_view(rest).substr(i)));
    if (type == "NONE") {
        if (!command.empty()) return make_error("HEALTHCHECK NONE takes no arguments", 1);
        if (!in.flags.empty())
            return make_error("HEALTHCHECK NONE takes no flags (--" + in.flags.begin()->first + " belongs to HEALTHCHECK CMD)", 1);
        in.args = {"NONE"};
        return {};
    }
    if (type != "CMD") return make_error("Unknown type \"" + type + "\" in HEALTHCHECK (try CMD)", 1);
    std::vector<std::string> items;
    switch (parse_json_array(command, items)) {
        case JsonForm::NotStrings:
            return make_error("when using JSON array syntax, arrays must be comprised of strings only", 1);
        case JsonForm::Strings:
            if (items.empty()) return make_error("Missing command after HEALTHCHECK CMD", 1);
            in.json_form = true;
            in.args = {"CMD"};
            in.args.insert(in.args.end(), items.begin(), items.end());
            break;
        case JsonForm::NotJson:
            if (command.empty()) return make_error("Missing command after HEALTHCHECK CMD", 1);
            in.args = {"CMD-SHELL", command};
            break;
    }
    for (const char* name : {"interval", "timeout", "start-period", "start-interval"}) {
        auto it = in.flags.find(name);
        if (it == in.flags.end() || it->second.empty()) continue;
        Result<int64_t> d = parse_go_duration(it->second);
        if (!d.ok()) return make_error("--" + std::string(name) + ": " + d.error().message + " (write e.g. 30s, 1m30s or 500ms)", 1);
        if (*d < 0) return make_error("Interval \"" + std::string(name) + "\" cannot be negative", 1);
        if (*d > 0 && *d < 1000000) return make_error("Interval \"" + std::string(name) + "\" cannot be less than 1ms", 1);
    }
    if (auto it = in.flags.find("retries"); it != in.flags.end() && !it->second.empty()) {
        std::string_view r = it->second;
        const bool negative = !r.empty() && r[0] == '-';
        if (negative || r[0] == '+') r.remove_prefix(1);
        if (!all_digits(r) || r.size() > 10 || std::stoll(std::string(r)) > 2147483647)
            return make_error("strconv.ParseInt: parsing \"" + it->second + "\": invalid syntax (--retries takes a whole number)", 1);
        if (negative && std::stoll(std::string(r)) != 0)
            return make_error("--retries cannot be negative (" + it->second + ")", 1);
    }
    return {};
}

// ONBUILD (parse.go parseOnBuild): the trigger is stored as written and must itself parse.
Status parse_onbuild(const std::string& rest, Instruction& in, char escape, int depth) {
    if (rest.empty()) return make_error("ONBUILD requires at least one argument", 1);
    size_t i = 0;
    while (i < rest.size() && !is_field_space(rest[i])) ++i;
    const std::string trigger = upper(std::string_view(rest).substr(0, i));
    if (trigger == "ONBUILD") return make_error("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed", 1);
    if (trigger == "MAINTAINER" || trigger == "FROM") return make_error(trigger + " isn't allowed as an ONBUILD trigger", 1);
    if (depth > 0) return make_error("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed", 1);
    Result<Instruction> inner = parse_instruction(rest, in.line, escape, depth + 1);
    if (!inner.ok()) return make_error("ONBUILD " + inner.error().message, 1);
    in.args = {rest};
    return {};
}

Result<Instruction> parse_instruction(std::string_view line, int lineno, char escape, int depth) {
    line = trim_view(line);
    size_t i = 0;
    while (i < line.size() && !is_field_space(line[i])) ++i;
    const std::string keyword = upper(line.substr(0, i));
    const std::string_view written = trim_view(line.substr(i));

    const KindInfo* info = nullptr;
    for (const KindInfo& k : kKinds) {
        if (k.keyword == keyword) info = &k;
    }
    if (info == nullptr) {
        return make_error("unknown instruction: " + keyword +
                              " (Docker accepts ADD, ARG, CMD, COPY, ENTRYPOINT, ENV, EXPOSE, FROM, HEALTHCHECK, LABEL, "
                              "MAINTAINER, ONBUILD, RUN, SHELL, STOPSIGNAL, USER, VOLUME, WORKDIR)",
                          1);
    }

    Instruction in{};
    in.kind = info->kind;
    in.line = lineno;
    in.keyword = keyword;
    in.text = written.empty() ? keyword : keyword + " " + std::string(written);

    std::vector<std::string> flag_words;
    const std::string rest(trim_view(extract_flags(written, flag_words)));
    ISOLAB_TRY(parse_flags(flag_words, in));
    if (in.kind == Kind::From)
        if (auto p = in.flags.find("platform"); p != in.flags.end()) ISOLAB_TRY(check_platform(p->second));

    switch (in.kind) {
        case Kind::From: ISOLAB_TRY(parse_from(rest, in)); break;
        case Kind::Run: case Kind::Cmd: case Kind::Entrypoint: case Kind::Shell:
            ISOLAB_TRY(parse_command(rest, in));
            break;
        case Kind::Copy: case Kind::Add: ISOLAB_TRY(parse_copy(rest, in)); break;
        case Kind::Env: case Kind::Label: ISOLAB_TRY(parse_key_values(rest, in, escape)); break;
        case Kind::Arg: ISOLAB_TRY(parse_arg(rest, in, escape)); break;
        case Kind::Expose: ISOLAB_TRY(parse_expose(rest, in)); break;
        case Kind::Volume: ISOLAB_TRY(parse_volume(rest, in)); break;
        case Kind::Workdir: case Kind::User: case Kind::StopSignal: case Kind::Maintainer:
            ISOLAB_TRY(parse_single(rest, in));
            break;
        case Kind::Healthcheck: ISOLAB_TRY(parse_healthcheck(rest, in)); break;
        case Kind::Onbuild: ISOLAB_TRY(parse_onbuild(rest, in, escape, depth)); break;
    }
    return in;
}

// 0..65535 without overflow on long digit strings.
bool parse_port_number(std::string_view s, unsigned& out) {
    if (!all_digits(s) || s.size() > 5) return false;
    unsigned v = 0;
    for (char c : s) v = v * 10 + static_cast<unsigned>(c - '0');
    if (v > 65535) return false;
    out = v;
    return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

Result<Dockerfile> parse(const std::string& text, const std::string& name) {
    std::string_view all(text);
    if (all.substr(0, kBom.size()) == kBom) all.remove_prefix(kBom.size());

    std::vector<std::string_view> lines;
    for (size_t start = 0; start < all.size();) {
        const size_t nl = all.find('\n', start);
        if (nl == std::string_view::npos) {
            lines.push_back(all.substr(start));
            break;
        }
        lines.push_back(all.substr(start, nl - start));
        start = nl + 1;
    }

    Directives directives;
    Dockerfile df;
    std::vector<std::string> errors;
    bool seen_from = false;
    int first_arg_line = 0;
    size_t i = 0;
    while (i < lines.size()) {
        const int lineno = static_cast<int>(i) + 1;
        const std::string_view first = ltrim(trim_newline(lines[i]));
        ++i;
        Status d = possible_directive(first, directives);
        if (!d.ok()) return line_error(name, lineno, d.error().message);
        if (!first.empty() && first[0] == '#') continue;  // comment (or directive)

        auto [content, ends] = trim_continuation(first, directives.escape);
        if (ends && content.empty()) continue;  // blank line
        std::string joined(content);
        while (!ends && i < lines.size()) {
            const std::string_view next = trim_newline(lines[i]);
            ++i;
            const std::string_view next_trimmed = ltrim(next);
            // Comment lines and empty lines inside a continued instruction are skipped; the
            // continuation goes on past them (Docker warns about the empty ones).
            if (next_trimmed.empty() || next_trimmed[0] == '#') continue;
            auto [more, more_ends] = trim_continuation(next, directives.escape);
            joined.append(more);
            ends = more_ends;
        }
        if (trim_view(joined).empty()) continue;  // only a lone escape character

        Result<Instruction> in = parse_instruction(joined, lineno, directives.escape);
        if (!in.ok()) {
            // Go on: every instruction that is wrong is reported in one build.
            errors.push_back(name + ":" + std::to_string(lineno) + ": " + in.error().message);
            // After a heredoc, the lines that follow are its body, not instructions: stop here.
            if (in.error().message.rfind("heredocs (", 0) == 0) break;
            continue;
        }
        if (!seen_from && in->kind != Kind::From && in->kind != Kind::Arg) {
            errors.push_back(name + ":" + std::to_string(lineno) + ": no build stage in current context: " + in->keyword +
                             " must come after FROM (only ARG may come before the first FROM)");
            continue;
        }
        if (in->kind == Kind::From) seen_from = true;
        if (in->kind == Kind::Arg && first_arg_line == 0) first_arg_line = lineno;
        df.instructions.push_back(std::move(in.value()));
    }
    if (!errors.empty()) {
        std::string all_errors;
        const size_t shown = std::min(errors.size(), static_cast<size_t>(kMaxReportedErrors));
        for (size_t e = 0; e < shown; ++e) all_errors += (e ? "\n" : "") + errors[e];
        if (errors.size() > shown)
            all_errors += "\n" + name + ":" + std::to_string(lines.size()) + ": and " + std::to_string(errors.size() - shown) +
                          " more errors";
        return make_error(all_errors, 1);
    }
    if (df.instructions.empty()) return line_error(name, 1, "file with no instructions");
    if (!seen_from) {
        return line_error(name, first_arg_line,
                          "the Dockerfile contains no stages to build: add a FROM instruction after the ARGs");
    }
    df.escape = directives.escape;
    return df;
}

Result<int64_t> parse_go_duration(const std::string& text) {
    const auto bad = [&] { return make_error("time: invalid duration \"" + text + "\"", 1); };
    std::string_view s(text);
    bool negative = false;
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
        negative = s[0] == '-';
        s.remove_prefix(1);
    }
    if (s == "0") return int64_t{0};
    if (s.empty()) return bad();
    long double total = 0;
    while (!s.empty()) {
        size_t i = 0;
        long double value = 0, scale = 1;
        bool digits = false;
        while (i < s.size() && is_digit(s[i])) value = value * 10 + (s[i++] - '0'), digits = true;
        if (i < s.size() && s[i] == '.') {
            ++i;
            while (i < s.size() && is_digit(s[i])) scale /= 10, value += (s[i++] - '0') * scale, digits = true;
        }
        if (!digits) return bad();
        size_t u = i;
        while (u < s.size() && !is_digit(s[u]) && s[u] != '.') ++u;
        const std::string_view unit = s.substr(i, u - i);
        long double mult = 0;
        if (unit == "ns") mult = 1;
        else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") mult = 1e3;
        else if (unit == "ms") mult = 1e6;
        else if (unit == "s") mult = 1e9;
        else if (unit == "m") mult = 60e9;
        else if (unit == "h") mult = 3600e9;
        else if (unit.empty()) return make_error("time: missing unit in duration \"" + text + "\"", 1);
        else return make_error("time: unknown unit \"" + std::string(unit) + "\" in duration \"" + text + "\"", 1);
        total += value * mult;
        if (total > 9.2e18L) return bad();
        s.remove_prefix(u);
    }
    return static_cast<int64_t>(negative ? -total : total);
}

Result<std::string> expand(const std::string& word, const std::map<std::string, std::string>& vars,
                           char escape) {
    return process_word(word, vars, escape, LexMode::Expand);
}

std::vector<std::string> config_args(const Instruction& in, const std::vector<std::string>& shell) {
    if (in.json_form) return in.args;
    std::vector<std::string> out = shell.empty() ? std::vector<std::string>{"/bin/sh", "-c"} : shell;
    out.insert(out.end(), in.args.begin(), in.args.end());
    return out;
}

std::vector<std::string> effective_command(const std::vector<std::string>& entrypoint,
                                           const std::vector<std::string>& cmd) {
    std::vector<std::string> out = entrypoint;
    out.insert(out.end(), cmd.begin(), cmd.end());
    return out;
}

Status check_port(const std::string& word) {
    const auto bad = [&] {
        return make_error("EXPOSE: invalid port `" + word +
                              "`: use PORT, PORT/tcp, PORT/udp, PORT/sctp or a range START-END (0-65535)",
                          1);
    };
    std::string_view port(word);
    const size_t slash = port.find('/');
    if (slash != std::string_view::npos) {
        const std::string proto = lower(port.substr(slash + 1));
        if (proto != "tcp" && proto != "udp" && proto != "sctp") return bad();
        port = port.substr(0, slash);
    }
    const size_t dash = port.find('-');
    unsigned start = 0;
    unsigned end = 0;
    if (dash == std::string_view::npos) {
        if (!parse_port_number(port, start)) return bad();
        return {};
    }
    if (!parse_port_number(port.substr(0, dash), start) || !parse_port_number(port.substr(dash + 1), end) ||
        start > end) {
        return bad();
    }
    return {};
}

Status check_signal(const std::string& value) {
    const auto bad = [&] {
        return make_error("STOPSIGNAL: invalid signal `" + value +
                              "`: use a name like SIGTERM or SIGQUIT, or a number from 1 to 64",
                          1);
    };
    if (all_digits(value)) {
        if (value.size() > 2) return bad();
        const int n = std::stoi(value);
        if (n < 1 || n > 64) return bad();
        return {};
    }
    std::string s = upper(value);
    if (s.rfind("SIG", 0) == 0) s.erase(0, 3);
    static constexpr std::array<std::string_view, 36> kNames = {
        "ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT",
        "KILL", "PIPE", "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM",
        "TRAP", "TSTP", "TTIN", "TTOU", "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ",
        "RTMIN", "RTMAX",
    };
    for (std::string_view n : kNames) {
        if (s == n) return {};
    }
    // Docker's table also names RTMIN+1..RTMIN+15 and RTMAX-14..RTMAX-1.
    for (std::string_view base : {std::string_view("RTMIN+"), std::string_view("RTMAX-")}) {
        if (s.rfind(base, 0) == 0) {
            const std::string_view num = std::string_view(s).substr(base.size());
            const int max = base == "RTMIN+" ? 15 : 14;
            if (all_digits(num) && num.size() <= 2) {
                const int n = std::stoi(std::string(num));
                if (n >= 1 && n <= max) return {};
            }
        }
    }
    return bad();
}

const char* kind_name(Kind kind) {
    switch (kind) {
        case Kind::From: return "FROM";
        case Kind::Run: return "RUN";
        case Kind::Cmd: return "CMD";
        case Kind::Entrypoint: return "ENTRYPOINT";
        case Kind::Copy: return "COPY";
        case Kind::Add: return "ADD";
        case Kind::Env: return "ENV";
        case Kind::Workdir: return "WORKDIR";
        case Kind::Expose: return "EXPOSE";
        case Kind::Label: return "LABEL";
        case Kind::User: return "USER";
        case Kind::Arg: return "ARG";
        case Kind::StopSignal: return "STOPSIGNAL";
        case Kind::Shell: return "SHELL";
        case Kind::Volume: return "VOLUME";
        case Kind::Maintainer: return "MAINTAINER";
        case Kind::Healthcheck: return "HEALTHCHECK";
        case Kind::Onbuild: return "ONBUILD";
    }
    return "?";
}

}  // namespace isolab::dockerfile
