// Go's text/template, the part `--format` needs (go_template.hpp). The shape follows Go's own
// text/template/parse and exec: a lexer that turns actions into tokens, a parser that builds a
// tree of nodes, an executor that walks it with `.` and variables. Error texts are Go's, byte for
// byte, where the same mistake can be made here.
#include "app/cli/go_template.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <ostream>
#include <set>

#include "app/cli/commands.hpp"

namespace isolab::cli {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// The tree.

namespace {

struct Pipe;

// An operand: what a command's words are made of.
struct Operand {
    enum class Kind { Field, Dot, Variable, Function, String, Number, Bool, Nil, Pipe, Chain };
    Kind kind = Kind::Nil;
    size_t pos = 0;                   // byte offset in the template, for Go's LINE:COL
    std::vector<std::string> fields;  // Field: A, B for .A.B; Variable/Chain: the fields after it
    std::string name;                 // Variable: "$x"; Function: its name
    std::string text;                 // String/Number: as written (Go prints nodes as written)
    std::string str;                  // String: the value
    bool is_int = false;              // Number
    int64_t i = 0;
    double f = 0;
    bool b = false;                   // Bool
    std::shared_ptr<Pipe> pipe;       // Pipe (parenthesized), Chain's base when a pipe
    std::shared_ptr<Operand> base;    // Chain: (pipe).A.B
    std::string to_string() const;
};

struct Command {
    size_t pos = 0;
    std::vector<Operand> args;
    std::string to_string() const;
};

struct Pipe {
    size_t pos = 0;
    bool is_assign = false;          // $x = ... (not :=)
    std::vector<std::string> decl;   // $x, or $i $e in range
    std::vector<Command> cmds;
    std::string to_string() const;
};

std::string Operand::to_string() const {
    auto chain = [&](std::string s) {
        for (const auto& f : fields) s += "." + f;
        return s;
    };
    switch (kind) {
        case Kind::Field: return chain("");
        case Kind::Dot: return ".";
        case Kind::Variable: return chain(name);
        case Kind::Function: return name;
        case Kind::String:
        case Kind::Number: return text;
        case Kind::Bool: return b ? "true" : "false";
        case Kind::Nil: return "nil";
        case Kind::Pipe: return "(" + pipe->to_string() + ")";
        case Kind::Chain: return chain(base->to_string());
    }
    return "";
}

std::string Command::to_string() const {
    std::string s;
    for (const auto& a : args) s += (s.empty() ? "" : " ") + a.to_string();
    return s;
}

std::string Pipe::to_string() const {
    std::string s;
    for (size_t i = 0; i < decl.size(); ++i) s += (i ? ", " : "") + decl[i];
    if (!decl.empty()) s += is_assign ? " = " : " := ";
    for (size_t i = 0; i < cmds.size(); ++i) s += (i ? " | " : "") + cmds[i].to_string();
    return s;
}

}  // namespace

struct GoTemplate::Node {
    enum class Kind { List, Text, Action, If, Range, With };
    Kind kind = Kind::List;
    std::string text;                           // Text
    std::shared_ptr<Pipe> pipe;                 // Action, If, Range, With
    std::vector<std::shared_ptr<Node>> list;    // List; the body of If/Range/With
    std::shared_ptr<Node> else_list;            // If/Range/With; may be null
};

namespace {

using Node = GoTemplate::Node;
using NodePtr = std::shared_ptr<Node>;

// ---------------------------------------------------------------------------------------------
// The lexer: the template becomes text items and actions; an action is a list of tokens.

enum class Tok { Space, Field, Dot, Variable, Identifier, String, RawString, Char, Number, Pipe, LeftParen,
                 RightParen, Declare, Assign, Comma };

struct Token {
    Tok type;
    std::string val;
    size_t pos;
};

struct Item {
    bool is_action = false;
    std::string text;            // a text item, already trimmed by the markers around it
    size_t pos = 0;              // where the action's first token would be
    size_t end = 0;              // offset just after "}}"
    std::vector<Token> tokens;   // an action's tokens (Space tokens between words kept)
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_alnum(char c) {
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           static_cast<unsigned char>(c) >= 0x80;
}

int line_of(const std::string& text, size_t pos) {
    return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(std::min(pos, text.size())), '\n'));
}

Error parse_error(const std::string& text, size_t pos, const std::string& msg) {
    return make_error("template: :" + std::to_string(line_of(text, pos)) + ": " + msg, 1);
}

// Go's %q of a rune for "bad character U+007D '}'".
std::string bad_character(const std::string& text, size_t at) {
    unsigned char c = static_cast<unsigned char>(text[at]);
    uint32_t cp = c;
    size_t len = 1;
    if (c >= 0xC0 && c < 0xE0) cp = c & 0x1F, len = 2;
    else if (c >= 0xE0 && c < 0xF0) cp = c & 0x0F, len = 3;
    else if (c >= 0xF0) cp = c & 0x07, len = 4;
    for (size_t k = 1; k < len && at + k < text.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(text[at + k]) & 0x3F);
    char buf[32];
    std::snprintf(buf, sizeof buf, "U+%04X", cp);
    return std::string("bad character ") + buf + " '" + text.substr(at, len) + "'";
}

Result<std::vector<Item>> lex(const std::string& s) {
    std::vector<Item> items;
    size_t pos = 0;
    bool trim_next = false;  // the previous action ended with " -}}"
    while (pos <= s.size()) {
        size_t open = s.find("{{", pos);
        std::string text = s.substr(pos, open == std::string::npos ? std::string::npos : open - pos);
        if (trim_next) text.erase(0, std::min(text.size(), text.find_first_not_of(" \t\r\n")));
        trim_next = false;
        if (open == std::string::npos) {
            if (!text.empty()) items.push_back({false, text, pos, s.size(), {}});
            break;
        }
        size_t at = open + 2;
        // "{{- " trims the text before it: the dash must be followed by a space, else it is a number.
        if (at + 1 < s.size() && s[at] == '-' && is_space(s[at + 1])) {
            while (!text.empty() && is_space(text.back())) text.pop_back();
            at += 1;
        }
        if (!text.empty()) items.push_back({false, text, pos, open, {}});
        Item action;
        action.is_action = true;
        // A comment: "{{/*", up to "*/", then the closing delimiter at once.
        size_t c = at;
        while (c < s.size() && is_space(s[c]) && at != open + 2) ++c;
        if (s.compare(c, 2, "/*") == 0) {
            size_t end = s.find("*/", c + 2);
            if (end == std::string::npos) return parse_error(s, s.size(), "unclosed comment");
            size_t after = end + 2;
            if (s.compare(after, 4, " -}}") == 0) trim_next = true, after += 4;
            else if (s.compare(after, 2, "}}") == 0) after += 2;
            else return parse_error(s, after, "comment ends before closing delimiter");
            pos = after;
            continue;
        }
        // The tokens, up to "}}" or " -}}".
        size_t i = at;
        bool closed = false;
        while (i < s.size()) {
            char ch = s[i];
            if (s.compare(i, 2, "}}") == 0) {
                i += 2;
                closed = true;
                break;
            }
            if (is_space(ch)) {
                size_t j = i;
                while (j < s.size() && is_space(s[j])) ++j;
                if (s.compare(j, 3, "-}}") == 0) {  // " -}}": trim the text after
                    trim_next = true;
                    i = j + 3;
                    closed = true;
                    break;
                }
                action.tokens.push_back({Tok::Space, s.substr(i, j - i), i});
                i = j;
                continue;
            }
            size_t start = i;
            if (ch == '.' && i + 1 < s.size() && is_alnum(s[i + 1]) && !(s[i + 1] >= '0' && s[i + 1] <= '9')) {
                ++i;
                while (i < s.size() && is_alnum(s[i])) ++i;
                action.tokens.push_back({Tok::Field, s.substr(start + 1, i - start - 1), start});
            } else if (ch == '$') {
                ++i;
                while (i < s.size() && is_alnum(s[i])) ++i;
                action.tokens.push_back({Tok::Variable, s.substr(start, i - start), start});
            } else if (ch == '"' || ch == '`' || ch == '\'') {
                ++i;
                while (i < s.size() && s[i] != ch) {
                    if (ch != '`' && s[i] == '\\') ++i;
                    else if (ch != '`' && s[i] == '\n') break;
                    ++i;
                }
                if (i >= s.size() || s[i] != ch)
                    return parse_error(s, start, ch == '"'    ? "unterminated quoted string"
                                                 : ch == '`' ? "unterminated raw quoted string"
                                                             : "unterminated character constant");
                ++i;
                action.tokens.push_back({ch == '"' ? Tok::String : ch == '`' ? Tok::RawString : Tok::Char,
                                         s.substr(start, i - start), start});
            } else if ((ch >= '0' && ch <= '9') ||
                       ((ch == '-' || ch == '+' || ch == '.') && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9')) {
                ++i;
                while (i < s.size() && (is_alnum(s[i]) || s[i] == '.' ||
                                        ((s[i] == '+' || s[i] == '-') && (s[i - 1] == 'e' || s[i - 1] == 'E'))))
                    ++i;
                action.tokens.push_back({Tok::Number, s.substr(start, i - start), start});
            } else if (ch == '.') {
                ++i;
                action.tokens.push_back({Tok::Dot, ".", start});
            } else if (is_alnum(ch)) {
                while (i < s.size() && is_alnum(s[i])) ++i;
                action.tokens.push_back({Tok::Identifier, s.substr(start, i - start), start});
            } else if (ch == '|') {
                ++i;
                action.tokens.push_back({Tok::Pipe, "|", start});
            } else if (ch == '(') {
                ++i;
                action.tokens.push_back({Tok::LeftParen, "(", start});
            } else if (ch == ')') {
                ++i;
                action.tokens.push_back({Tok::RightParen, ")", start});
            } else if (ch == ',') {
                ++i;
                action.tokens.push_back({Tok::Comma, ",", start});
            } else if (s.compare(i, 2, ":=") == 0) {
                i += 2;
                action.tokens.push_back({Tok::Declare, ":=", start});
            } else if (ch == '=') {
                ++i;
                action.tokens.push_back({Tok::Assign, "=", start});
            } else {
                return parse_error(s, i, bad_character(s, i));
            }
        }
        if (!closed) return parse_error(s, s.size(), "unclosed action");
        action.pos = at;
        action.end = i;
        items.push_back(std::move(action));
        pos = i;
        if (pos == s.size()) break;
    }
    return items;
}

// ---------------------------------------------------------------------------------------------
// The parser.

const std::set<std::string> kFunctions = {"and", "or", "not", "eq", "ne", "lt", "le", "gt", "ge", "len", "index",
                                          "print", "printf", "println", "json", "split", "join", "upper",
                                          "lower", "title", "pad", "truncate"};
const std::set<std::string> kGoOnly = {"slice", "html", "js", "urlquery", "call"};

// Go's strconv.Unquote for "..." and '...' (the escapes Go knows).
std::optional<std::string> unquote(const std::string& q) {
    std::string out;
    for (size_t i = 1; i + 1 < q.size(); ++i) {
        char c = q[i];
        if (c != '\\') {
            out += c;
            continue;
        }
        if (++i + 1 > q.size() - 1) return std::nullopt;
        char e = q[i];
        auto hex = [&](size_t n) -> std::optional<uint32_t> {
            if (i + n >= q.size()) return std::nullopt;
            uint32_t v = 0;
            for (size_t k = 1; k <= n; ++k) {
                char h = q[i + k];
                v <<= 4;
                if (h >= '0' && h <= '9') v |= static_cast<uint32_t>(h - '0');
                else if (h >= 'a' && h <= 'f') v |= static_cast<uint32_t>(h - 'a' + 10);
                else if (h >= 'A' && h <= 'F') v |= static_cast<uint32_t>(h - 'A' + 10);
                else return std::nullopt;
            }
            i += n;
            return v;
        };
        auto utf8 = [&](uint32_t cp) {
            if (cp < 0x80) out += static_cast<char>(cp);
            else if (cp < 0x800) out += static_cast<char>(0xC0 | (cp >> 6)), out += static_cast<char>(0x80 | (cp & 0x3F));
            else if (cp < 0x10000)
                out += static_cast<char>(0xE0 | (cp >> 12)), out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
                    out += static_cast<char>(0x80 | (cp & 0x3F));
            else
                out += static_cast<char>(0xF0 | (cp >> 18)), out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F)),
                    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), out += static_cast<char>(0x80 | (cp & 0x3F));
        };
        switch (e) {
            case 'a': out += '\a'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'v': out += '\v'; break;
            case '\\': out += '\\'; break;
            case '"': out += '"'; break;
            case '\'': out += '\''; break;
            case 'x': {
                auto v = hex(2);
                if (!v) return std::nullopt;
                out += static_cast<char>(*v);
                break;
            }
            case 'u':
            case 'U': {
                auto v = hex(e == 'u' ? 4 : 8);
                if (!v) return std::nullopt;
                utf8(*v);
                break;
            }
            default: return std::nullopt;
        }
    }
    return out;
}

class Parser {
public:
    explicit Parser(const std::string& text) : text_(text) {}

    Result<NodePtr> parse() {
        auto items = lex(text_);
        if (!items) return items.error();
        items_ = std::move(*items);
        vars_ = {"$"};
        NodePtr root;
        std::string stop;
        ISOLAB_TRY(list(&root, &stop));
        if (stop == "end") return fail(end_pos_, "unexpected {{end}}");
        if (stop == "else") return fail(end_pos_, "unexpected {{else}}");
        return root;
    }

private:
    Error fail(size_t pos, const std::string& msg) const { return parse_error(text_, pos, msg); }

    // Parses items up to EOF, {{end}} or {{else}}; STOP says which ("", "end", "else").
    Status list(NodePtr* out, std::string* stop) {
        auto node = std::make_shared<Node>();
        node->kind = Node::Kind::List;
        while (next_ < items_.size()) {
            const Item& it = items_[next_++];
            if (!it.is_action) {
                auto t = std::make_shared<Node>();
                t->kind = Node::Kind::Text;
                t->text = it.text;
                node->list.push_back(t);
                continue;
            }
            toks_ = it.tokens;
            tok_ = 0;
            action_end_ = it.end;
            skip_space();
            if (at_end()) return fail(it.pos, "missing value for command");
            const Token first = toks_[tok_];  // a copy: a nested list() replaces toks_
            if (first.type == Tok::Identifier) {
                const std::string w = first.val;
                if (w == "end" || w == "else") {
                    ++tok_;
                    *stop = w;
                    end_pos_ = first.pos;
                    if (w == "end") {
                        skip_space();
                        if (!at_end()) return fail(toks_[tok_].pos, "unexpected " + quote(toks_[tok_]) + " in end");
                    }
                    *out = node;
                    return {};
                }
                if (w == "if" || w == "range" || w == "with") {
                    ++tok_;
                    NodePtr control;
                    ISOLAB_TRY(parse_control(w, first.pos, &control));
                    node->list.push_back(control);
                    continue;
                }
                if (w == "define" || w == "template" || w == "block" || w == "break" || w == "continue")
                    return fail(first.pos, "{{" + w + "}} is not supported by IsoLab's templates");
            }
            auto action = std::make_shared<Node>();
            action->kind = Node::Kind::Action;
            auto p = pipeline("command", false);
            if (!p) return p.error();
            action->pipe = *p;
            node->list.push_back(action);
        }
        *stop = "";
        *out = node;
        return {};
    }

    // {{if|range|with pipeline}} list [{{else}} list | {{else if ...}}] {{end}}
    Status parse_control(const std::string& word, size_t pos, NodePtr* out) {
        size_t vars_before = vars_.size();
        auto node = std::make_shared<Node>();
        node->kind = word == "if" ? Node::Kind::If : word == "range" ? Node::Kind::Range : Node::Kind::With;
        auto p = pipeline(word, word == "range");
        if (!p) return p.error();
        node->pipe = *p;
        NodePtr body;
        std::string stop;
        size_t body_vars = vars_.size();
        ISOLAB_TRY(list(&body, &stop));
        vars_.resize(body_vars);
        node->list = {body};
        if (stop.empty()) return fail(text_.size(), "unexpected EOF");
        if (stop == "else") {
            skip_space();
            if (!at_end() && toks_[tok_].type == Tok::Identifier && toks_[tok_].val == "if" && word == "if") {
                // {{else if X}}: an if inside the else list that shares this {{end}}.
                size_t at = toks_[tok_].pos;
                ++tok_;
                NodePtr nested;
                ISOLAB_TRY(parse_control("if", at, &nested));
                auto l = std::make_shared<Node>();
                l->kind = Node::Kind::List;
                l->list.push_back(nested);
                node->else_list = l;
            } else {
                if (!at_end()) return fail(toks_[tok_].pos, "unexpected " + quote(toks_[tok_]) + " in else");
                NodePtr else_list;
                ISOLAB_TRY(list(&else_list, &stop));
                vars_.resize(body_vars);
                if (stop.empty()) return fail(text_.size(), "unexpected EOF");
                if (stop == "else") return fail(end_pos_, "expected end; found {{else}}");
                node->else_list = else_list;
            }
        }
        vars_.resize(vars_before);
        (void)pos;
        *out = node;
        return {};
    }

    bool at_end() const { return tok_ >= toks_.size(); }
    void skip_space() {
        while (tok_ < toks_.size() && toks_[tok_].type == Tok::Space) ++tok_;
    }
    static std::string quote(const Token& t) { return "\"" + t.val + "\""; }

    // A pipeline: [decl :=] command [| command]..., up to the end of the action (or ')' when
    // IN_PAREN). CONTEXT names it in Go's "missing value for CONTEXT".
    Result<std::shared_ptr<Pipe>> pipeline(const std::string& context, bool allow_two_vars, bool in_paren = false) {
        auto p = std::make_shared<Pipe>();
        skip_space();
        p->pos = at_end() ? action_end_ : toks_[tok_].pos;
        // Declarations: "$x :=", "$x =", "$i, $e :=".
        size_t save = tok_;
        std::vector<std::string> names;
        while (!at_end() && toks_[tok_].type == Tok::Variable) {
            names.push_back(toks_[tok_].val);
            ++tok_;
            skip_space();
            if (!at_end() && toks_[tok_].type == Tok::Comma && names.size() == 1) {
                ++tok_;
                skip_space();
                continue;
            }
            break;
        }
        if (!names.empty() && !at_end() && (toks_[tok_].type == Tok::Declare || toks_[tok_].type == Tok::Assign)) {
            if (names.size() > 1 && !allow_two_vars) return fail(toks_[tok_].pos, "too many declarations in " + context);
            p->is_assign = toks_[tok_].type == Tok::Assign;
            ++tok_;
            for (const auto& n : names) {
                if (p->is_assign && std::find(vars_.begin(), vars_.end(), n) == vars_.end())
                    return fail(p->pos, "undefined variable \"" + n + "\"");
                if (!p->is_assign) vars_.push_back(n);
            }
            p->decl = names;
        } else {
            tok_ = save;
        }
        for (;;) {
            skip_space();
            Command cmd;
            cmd.pos = at_end() ? action_end_ : toks_[tok_].pos;
            for (;;) {
                skip_space();
                if (at_end()) break;
                Tok t = toks_[tok_].type;
                if (t == Tok::Pipe) break;
                if (t == Tok::RightParen) {
                    if (in_paren) break;
                    return fail(toks_[tok_].pos, "unexpected right paren");
                }
                auto op = operand();
                if (!op) return op.error();
                cmd.args.push_back(std::move(*op));
            }
            if (cmd.args.empty()) {
                if (p->cmds.empty() && (at_end() || toks_[tok_].type != Tok::Pipe) && context != "command")
                    return fail(p->pos, "missing value for " + context);
                return fail(p->pos, "missing value for command");
            }
            p->cmds.push_back(std::move(cmd));
            if (at_end() || toks_[tok_].type != Tok::Pipe) break;
            ++tok_;
        }
        if (in_paren && at_end()) return fail(action_end_, "unclosed left paren");
        return p;
    }

    Result<Operand> operand() {
        const Token& t = toks_[tok_++];
        Operand op;
        op.pos = t.pos;
        switch (t.type) {
            case Tok::Field: {
                op.kind = Operand::Kind::Field;
                op.fields.push_back(t.val);
                break;
            }
            case Tok::Dot: op.kind = Operand::Kind::Dot; break;
            case Tok::Variable:
                if (std::find(vars_.begin(), vars_.end(), t.val) == vars_.end())
                    return fail(t.pos, "undefined variable \"" + t.val + "\"");
                op.kind = Operand::Kind::Variable;
                op.name = t.val;
                break;
            case Tok::Identifier:
                if (t.val == "true" || t.val == "false") {
                    op.kind = Operand::Kind::Bool;
                    op.b = t.val == "true";
                } else if (t.val == "nil") {
                    op.kind = Operand::Kind::Nil;
                } else if (kFunctions.count(t.val)) {
                    op.kind = Operand::Kind::Function;
                    op.name = t.val;
                } else if (kGoOnly.count(t.val)) {
                    return fail(t.pos, "function \"" + t.val + "\" is not supported by IsoLab's templates");
                } else {
                    return fail(t.pos, "function \"" + t.val + "\" not defined");
                }
                break;
            case Tok::String:
            case Tok::RawString: {
                op.kind = Operand::Kind::String;
                op.text = t.val;
                if (t.type == Tok::RawString) {
                    op.str = t.val.substr(1, t.val.size() - 2);
                } else {
                    auto u = unquote(t.val);
                    if (!u) return fail(t.pos, "invalid syntax");
                    op.str = *u;
                }
                break;
            }
            case Tok::Char: {
                auto u = unquote(t.val);
                if (!u || u->empty()) return fail(t.pos, "malformed character constant: " + t.val);
                op.kind = Operand::Kind::Number;
                op.text = t.val;
                op.is_int = true;
                op.i = static_cast<unsigned char>((*u)[0]);
                if (u->size() > 1) {  // a UTF-8 sequence: its code point
                    uint32_t cp = static_cast<unsigned char>((*u)[0]) & (u->size() == 2 ? 0x1F : u->size() == 3 ? 0x0F : 0x07);
                    for (size_t k = 1; k < u->size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>((*u)[k]) & 0x3F);
                    op.i = cp;
                }
                break;
            }
            case Tok::Number: {
                if (!number(t.val, &op)) return fail(t.pos, "bad number syntax: \"" + t.val + "\"");
                break;
            }
            case Tok::LeftParen: {
                auto p = pipeline("parenthesized pipeline", false, true);
                if (!p) return p.error();
                ++tok_;  // ')'
                op.kind = Operand::Kind::Pipe;
                op.pipe = *p;
                break;
            }
            default: return fail(t.pos, "unexpected " + quote(t) + " in operand");
        }
        // Fields right after the term, with no space: .A.B, $x.A, (pipe).A
        if (!at_end() && toks_[tok_].type == Tok::Field) {
            if (op.kind == Operand::Kind::Field || op.kind == Operand::Kind::Variable) {
                if (op.kind == Operand::Kind::Field) op.pos = toks_[tok_].pos;  // Go: where the chain starts
                while (!at_end() && toks_[tok_].type == Tok::Field) op.fields.push_back(toks_[tok_++].val);
            } else if (op.kind == Operand::Kind::Pipe || op.kind == Operand::Kind::Dot) {
                Operand chain;
                chain.kind = Operand::Kind::Chain;
                chain.base = std::make_shared<Operand>(op);
                chain.pos = toks_[tok_].pos;
                while (!at_end() && toks_[tok_].type == Tok::Field) chain.fields.push_back(toks_[tok_++].val);
                op = chain;
            } else {
                return fail(toks_[tok_].pos, "unexpected . after term \"" + op.to_string() + "\"");
            }
        }
        return op;
    }

    static bool number(const std::string& s, Operand* op) {
        op->kind = Operand::Kind::Number;
        op->text = s;
        std::string body = s;
        bool neg = false;
        if (!body.empty() && (body[0] == '+' || body[0] == '-')) neg = body[0] == '-', body.erase(0, 1);
        body.erase(std::remove(body.begin(), body.end(), '_'), body.end());
        bool hex = body.size() > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X');
        if (!hex && body.find_first_of(".eE") != std::string::npos) {
            char* end = nullptr;
            double d = std::strtod(body.c_str(), &end);
            if (*end) return false;
            op->f = neg ? -d : d;
            return true;
        }
        uint64_t v = 0;
        const char* b = body.c_str() + (hex ? 2 : 0);
        auto r = std::from_chars(b, body.c_str() + body.size(), v, hex ? 16 : 10);
        if (r.ec != std::errc() || r.ptr != body.c_str() + body.size()) return false;
        op->is_int = true;
        op->i = neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
        return true;
    }

    const std::string& text_;
    std::vector<Item> items_;
    size_t next_ = 0;
    std::vector<Token> toks_;
    size_t tok_ = 0;
    size_t action_end_ = 0;
    size_t end_pos_ = 0;
    std::vector<std::string> vars_;
};

// ---------------------------------------------------------------------------------------------
// Values. Go's reflect.Value, for JSON data: a JSON value and the Go type it would have.

// Go's json.Marshal escaping of HTML characters and of U+2028/U+2029 in the text of TEXT.
std::string go_html_escaped(const std::string& text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '<') out += "\\u003c";
        else if (c == '>') out += "\\u003e";
        else if (c == '&') out += "\\u0026";
        else if (c == '\xE2' && i + 2 < text.size() && text[i + 1] == '\x80' && (text[i + 2] == '\xA8' || text[i + 2] == '\xA9')) {
            out += text[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

struct Value {
    json v;
    bool invalid = false;  // Go's invalid reflect.Value: a missing map key; prints "<no value>"
    // The Go type: "string", "int", "float64", "bool", "[]string" for literals and function
    // results; "json.Number", "[]interface {}", "map[string]interface {}" for decoded JSON; the
    // struct's type for Docker's formatter structs.
    std::string type;
    bool in_interface = false;  // held in an interface{} (a map's or a slice's element)
    bool is_struct = false;
    bool go_map = false;  // a map in Docker's typed API struct: a missing key is "<no value>"
    // A nil pointer field of Docker's typed struct that its JSON leaves out (State.Health): the
    // field itself is nil ({{json .State.Health}} is null), a field below it sends Docker back to
    // the JSON map, whose error names the missing key.
    std::string omitted_pointer;
};

// Fields that are Go maps in Docker's API structs (labels, options, networks by name, ports).
// Docker formats `inspect` by its typed struct first, where a missing key of these prints
// "<no value>"; a missing field of a struct falls back to the map error.
const std::set<std::string> kGoMapFields = {"Labels", "Options",  "Networks",   "Ports",   "ExposedPorts", "Volumes",
                                            "Containers", "DriverOpts", "Sysctls", "Annotations", "StorageOpt", "Tmpfs"};
// Pointer fields of Docker's inspect structs that its JSON omits when nil (omitempty).
const std::set<std::string> kOmittedPointerFields = {"Health", "Healthcheck"};

Value invalid_value() {
    Value v;
    v.invalid = true;
    return v;
}

std::string decoded_type(const json& j) {
    if (j.is_string()) return "string";
    if (j.is_number()) return "json.Number";
    if (j.is_boolean()) return "bool";
    if (j.is_array()) return "[]interface {}";
    if (j.is_object()) return "map[string]interface {}";
    return "interface {}";
}

Value decoded(json j) {
    Value v;
    v.type = decoded_type(j);
    v.v = std::move(j);
    v.in_interface = true;
    return v;
}

Value of_string(std::string s) {
    Value v;
    v.v = std::move(s);
    v.type = "string";
    return v;
}
Value of_bool(bool b) {
    Value v;
    v.v = b;
    v.type = "bool";
    return v;
}
Value of_int(int64_t i) {
    Value v;
    v.v = i;
    v.type = "int";
    return v;
}

// Go's %v of a float64: shortest round-trip digits, an exponent below 1e-4 and from 1e21 on.
std::string go_float(double d) {
    if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
    if (std::isnan(d)) return "NaN";
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string sci(buf, r.ptr);
    size_t e = sci.find('e');
    int exp = std::atoi(sci.c_str() + e + 1);
    if (exp < -4 || exp >= 21) {
        std::string mant = sci.substr(0, e);
        char es[16];
        std::snprintf(es, sizeof es, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
        return mant + es;
    }
    r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
    return std::string(buf, r.ptr);
}

std::string number_text(const json& j) {
    if (j.is_number_float()) return go_float(j.get<double>());
    return j.dump();
}

// fmt's %v: what {{.X}} prints. NESTED is false at the top (a nil prints "<no value>" there).
std::string print_json(const json& j, bool nested) {
    if (j.is_string()) return j.get<std::string>();
    if (j.is_null()) return nested ? "<nil>" : "<no value>";
    if (j.is_number()) return number_text(j);
    if (j.is_array()) {
        std::string out = "[";
        for (size_t i = 0; i < j.size(); ++i) out += (i ? " " : "") + print_json(j[i], true);
        return out + "]";
    }
    if (j.is_object()) {
        std::string out = "map[";
        bool first = true;
        for (auto& [k, x] : j.items()) {
            out += (first ? "" : " ") + k + ":" + print_json(x, true);
            first = false;
        }
        return out + "]";
    }
    return j.dump();
}

std::string print_value(const Value& v) {
    if (v.invalid) return "<no value>";
    return print_json(v.v, false);
}

// Go's isTrue: false for the zero value of its type.
bool truth(const Value& v) {
    if (v.invalid || v.v.is_null()) return false;
    if (v.is_struct) return true;
    if (v.v.is_boolean()) return v.v.get<bool>();
    if (v.v.is_string()) return !v.v.get<std::string>().empty();
    if (v.v.is_number()) return v.v.get<double>() != 0;
    return !v.v.empty();
}

// ---------------------------------------------------------------------------------------------
// The executor.

struct ExecError {
    Error error;
};

class Exec {
public:
    Exec(const std::string& text, const TemplateDot& dot) : text_(text), header_(dot.table_header) {
        root_ = decoded(dot.value);
        if (!dot.struct_type.empty()) {
            root_.type = dot.struct_type;
            root_.in_interface = false;
            root_.is_struct = true;
        }
        missing_key_error_ = dot.struct_type.empty() && !dot.table_header;
        vars_.push_back({"$", root_});
    }

    const Value& root() const { return root_; }

    void walk(const Node& n, const Value& dot) {
        switch (n.kind) {
            case Node::Kind::List:
                for (const auto& c : n.list) walk(*c, dot);
                return;
            case Node::Kind::Text: out += n.text; return;
            case Node::Kind::Action: {
                Value v = pipeline(*n.pipe, dot);
                if (n.pipe->decl.empty()) out += print_value(v);
                return;
            }
            case Node::Kind::If:
            case Node::Kind::With: {
                size_t mark = vars_.size();
                Value v = pipeline(*n.pipe, dot);
                if (truth(v)) walk(*n.list[0], n.kind == Node::Kind::With ? v : dot);
                else if (n.else_list) walk(*n.else_list, dot);
                vars_.resize(mark);
                return;
            }
            case Node::Kind::Range: range(n, dot); return;
        }
    }

    std::string out;

private:
    [[noreturn]] void fail(size_t pos, const std::string& node, const std::string& msg) const {
        size_t line_start = pos == 0 ? std::string::npos : text_.rfind('\n', pos - 1);
        size_t col = line_start == std::string::npos ? pos : pos - line_start - 1;
        throw ExecError{make_error("template: :" + std::to_string(line_of(text_, pos)) + ":" + std::to_string(col) +
                                       ": executing \"\" at <" + node + ">: " + msg,
                                   1)};
    }
    [[noreturn]] void fail(const Operand& at, const std::string& msg) const { fail(at.pos, at.to_string(), msg); }
    [[noreturn]] void fail(const Command& at, const std::string& msg) const { fail(at.pos, at.to_string(), msg); }

    void range(const Node& n, const Value& dot) {
        size_t mark = vars_.size();
        Value v = pipeline(*n.pipe, dot, false);  // range's variables are set per element
        const Command& last = n.pipe->cmds.back();
        const Operand& at = last.args.size() == 1 ? last.args[0] : last.args.back();
        auto body = [&](const Value& key, const Value& elem) {
            size_t inner = vars_.size();
            if (n.pipe->decl.size() == 1) set_var(n.pipe->decl[0], elem);
            if (n.pipe->decl.size() == 2) set_var(n.pipe->decl[0], key), set_var(n.pipe->decl[1], elem);
            walk(*n.list[0], elem);
            vars_.resize(inner);
        };
        size_t count = 0;
        if (v.invalid || v.v.is_null()) {
            // Go: ranging over nothing is not an error.
        } else if (v.v.is_array()) {
            for (size_t i = 0; i < v.v.size(); ++i, ++count) {
                Value e = v.type == "[]string" ? of_string(v.v[i].get<std::string>()) : decoded(v.v[i]);
                body(of_int(static_cast<int64_t>(i)), e);
            }
        } else if (v.v.is_object() && !v.is_struct) {
            for (auto& [k, x] : v.v.items()) body(of_string(k), decoded(x)), ++count;
        } else if (v.type == "int") {
            for (int64_t i = 0; i < v.v.get<int64_t>(); ++i, ++count) body(of_int(i), of_int(i));
        } else {
            fail(at, "range can't iterate over " + print_value(v));
        }
        if (count == 0 && n.else_list) walk(*n.else_list, dot);
        vars_.resize(mark);
    }

    void set_var(const std::string& name, const Value& v) { vars_.push_back({name, v}); }

    Value& variable(const std::string& name) {
        for (size_t i = vars_.size(); i-- > 0;)
            if (vars_[i].first == name) return vars_[i].second;
        return vars_[0].second;  // the parser checked every name
    }

    Value pipeline(const Pipe& p, const Value& dot, bool declare = true) {
        Value v = invalid_value();
        bool have_final = false;
        for (const auto& cmd : p.cmds) {
            v = command(cmd, dot, have_final ? &v : nullptr);
            have_final = true;
        }
        if (declare)
            for (const auto& name : p.decl) {
                if (p.is_assign) variable(name) = v;
                else set_var(name, v);
            }
        return v;
    }

    Value command(const Command& cmd, const Value& dot, const Value* final) {
        const Operand& first = cmd.args[0];
        size_t nargs = cmd.args.size() - 1 + (final ? 1 : 0);
        switch (first.kind) {
            case Operand::Kind::Function: return call(cmd, dot, final);
            case Operand::Kind::Field: return field_chain(dot, first, first.fields, nargs);
            case Operand::Kind::Variable: {
                if (first.fields.empty() && nargs > 0) fail(first, "can't give argument to non-function " + first.to_string());
                return field_chain(variable(first.name), first, first.fields, nargs);
            }
            case Operand::Kind::Chain: {
                Value base = first.base->kind == Operand::Kind::Dot ? dot : pipeline(*first.base->pipe, dot);
                return field_chain(base, first, first.fields, nargs);
            }
            case Operand::Kind::Nil: fail(first, "nil is not a command");
            default: break;
        }
        if (nargs > 0) {
            if (first.kind != Operand::Kind::Pipe) fail(first, "can't give argument to non-function " + first.to_string());
            fail(cmd, "can't give argument to non-function " + print_value(operand_value(first, dot)));
        }
        return operand_value(first, dot);
    }

    // A word used as a value (an argument to a function taking interface{}, or a whole command).
    Value operand_value(const Operand& op, const Value& dot) {
        switch (op.kind) {
            case Operand::Kind::Dot: return dot;
            case Operand::Kind::Field: return field_chain(dot, op, op.fields, 0);
            case Operand::Kind::Variable: return field_chain(variable(op.name), op, op.fields, 0);
            case Operand::Kind::Chain: {
                Value base = op.base->kind == Operand::Kind::Dot ? dot : pipeline(*op.base->pipe, dot);
                return field_chain(base, op, op.fields, 0);
            }
            case Operand::Kind::Pipe: return pipeline(*op.pipe, dot);
            case Operand::Kind::String: return of_string(op.str);
            case Operand::Kind::Number: {
                if (op.is_int) return of_int(op.i);
                Value v;
                v.v = op.f;
                v.type = "float64";
                return v;
            }
            case Operand::Kind::Bool: return of_bool(op.b);
            case Operand::Kind::Nil: return Value{json(nullptr), false, "interface {}", true, false};
            case Operand::Kind::Function: {
                Command c;
                c.pos = op.pos;
                c.args = {op};
                return call(c, dot, nullptr);
            }
        }
        return invalid_value();
    }

    // .A.B.C from RECEIVER; only the last field may take arguments (Docker's fields are methods).
    Value field_chain(Value receiver, const Operand& at, const std::vector<std::string>& fields, size_t nargs) {
        for (size_t i = 0; i < fields.size(); ++i)
            receiver = field(receiver, at, fields[i], i + 1 == fields.size() ? nargs : 0);
        return receiver;
    }

    Value field(const Value& r, const Operand& at, const std::string& name, size_t nargs) {
        if (r.invalid) {
            if (missing_key_error_) fail(at, "nil data; no entry for key \"" + name + "\"");
            return r;
        }
        if (!r.omitted_pointer.empty()) fail(at, "map has no entry for key \"" + r.omitted_pointer + "\"");
        if (r.is_struct) {
            if (!r.v.contains(name)) fail(at, "can't evaluate field " + name + " in type " + r.type);
            if (nargs > 0) fail(at, "wrong number of args for " + name + ": want 0 got " + std::to_string(nargs));
            const json& f = r.v[name];
            return f.is_string() ? of_string(f.get<std::string>()) : decoded(f);
        }
        if (r.v.is_object()) {
            if (nargs > 0) fail(at, name + " is not a method but has arguments");
            if (r.v.contains(name)) {
                Value v = decoded(r.v[name]);
                v.go_map = kGoMapFields.count(name) > 0;
                return v;
            }
            if (missing_key_error_ && kOmittedPointerFields.count(name)) {
                Value nil = decoded(nullptr);
                nil.omitted_pointer = name;
                return nil;
            }
            if (missing_key_error_ && !r.go_map) fail(at, "map has no entry for key \"" + name + "\"");
            return invalid_value();
        }
        if (r.v.is_null()) fail(at, "nil pointer evaluating interface {}." + name);
        fail(at, "can't evaluate field " + name + " in type " + (r.in_interface ? "interface {}" : r.type));
    }

    // ---- functions

    enum class Param { Any, String, Int, Strings };

    // Converts argument word OP (or the piped FINAL value) to parameter type P, as Go's evalArg
    // and validateType do, with their errors.
    Value arg(const Operand* op, const Value* final, Param p, const Value& dot, const Command& cmd) {
        Value v;
        if (op) {
            bool constant = op->kind == Operand::Kind::String || op->kind == Operand::Kind::Number ||
                            op->kind == Operand::Kind::Bool || op->kind == Operand::Kind::Nil;
            if (constant && p != Param::Any) {
                if (p == Param::String) {
                    if (op->kind != Operand::Kind::String) fail(*op, "expected string; found " + op->to_string());
                } else if (p == Param::Int) {
                    if (op->kind != Operand::Kind::Number || !op->is_int) fail(*op, "expected integer; found " + op->to_string());
                } else {
                    fail(*op, "can't handle " + op->to_string() + " for arg of type []string");
                }
            }
            v = operand_value(*op, dot);
        } else {
            v = *final;
        }
        auto wrong = [&](const std::string& want) {
            std::string msg = v.invalid ? "invalid value; expected " + want
                                        : "wrong type for value; expected " + want + "; got " +
                                              (v.v.is_null() ? std::string("interface {}") : v.type);
            if (op) fail(*op, msg);
            fail(cmd, msg);
        };
        switch (p) {
            case Param::Any: break;
            case Param::String:
                if (v.invalid || !v.v.is_string() || v.is_struct) wrong("string");
                break;
            case Param::Int:
                if (v.invalid || v.type != "int") wrong("int");
                break;
            case Param::Strings: {
                bool ok = !v.invalid && v.v.is_array();
                if (ok)
                    for (const auto& e : v.v) ok = ok && e.is_string();
                if (!ok) wrong("[]string");
                break;
            }
        }
        return v;
    }

    Value call(const Command& cmd, const Value& dot, const Value* final) {
        const Operand& fn = cmd.args[0];
        const std::string& name = fn.name;
        std::vector<const Operand*> words;
        for (size_t i = 1; i < cmd.args.size(); ++i) words.push_back(&cmd.args[i]);
        size_t n = words.size() + (final ? 1 : 0);
        auto want = [&](size_t count) {
            if (n != count)
                fail(fn, "wrong number of args for " + name + ": want " + std::to_string(count) + " got " + std::to_string(n));
        };
        auto want_at_least = [&](size_t count) {
            if (n < count)
                fail(fn, "wrong number of args for " + name + ": want at least " + std::to_string(count) + " got " +
                             std::to_string(n));
        };
        // Argument I (the piped value is the last one), converted to P.
        auto a = [&](size_t i, Param p) {
            return i < words.size() ? arg(words[i], nullptr, p, dot, cmd) : arg(nullptr, final, p, dot, cmd);
        };
        auto error_calling = [&](const std::string& msg) { fail(cmd, "error calling " + name + ": " + msg); };

        if (header_ && (name == "json" || name == "split" || name == "join" || name == "title" || name == "lower" ||
                        name == "upper" || name == "truncate")) {
            // Docker's HeaderFunctions: a table's header shows the column's title untouched.
            want(name == "split" || name == "join" || name == "truncate" ? 2 : 1);
            if (n == 2) (void)a(1, name == "truncate" ? Param::Int : Param::String);
            return a(0, Param::String);
        }
        if (name == "and" || name == "or") {
            want_at_least(1);
            Value v;
            for (size_t i = 0; i < n; ++i) {  // Go stops at the first value that decides
                v = a(i, Param::Any);
                if (truth(v) != (name == "and")) return v;
            }
            return v;
        }
        if (name == "not") {
            want(1);
            return of_bool(!truth(a(0, Param::Any)));
        }
        if (name == "eq" || name == "ne" || name == "lt" || name == "le" || name == "gt" || name == "ge") {
            if (name == "eq") want_at_least(1);
            else want(2);
            Value x = a(0, Param::Any);
            auto basic = [&](const Value& v) {
                if (v.invalid || v.v.is_null()) error_calling("invalid type for comparison");
                if (v.v.is_array() || v.v.is_object()) error_calling("non-comparable type " + v.type + ": " + print_value(v));
            };
            basic(x);
            // Go compares kinds: strings with strings, numbers with numbers (integers and
            // floating point are different kinds), booleans with booleans.
            auto kind = [](const Value& v) {
                if (v.v.is_string()) return 1;
                if (v.v.is_boolean()) return 2;
                if (v.type == "float64") return 3;
                if (v.type == "json.Number") return 4;  // a decoded number compares with either
                return 5;                               // an integer
            };
            auto compare = [&](const Value& y) -> int {
                basic(y);
                int kx = kind(x), ky = kind(y);
                bool numbers = kx >= 3 && ky >= 3;
                if (!(kx == ky || (numbers && (kx == 4 || ky == 4)))) error_calling("incompatible types for comparison");
                if (kx == 2) return x.v.get<bool>() == y.v.get<bool>() ? 0 : 2;  // 2: unordered
                if (kx == 1) {
                    auto s = x.v.get<std::string>(), t = y.v.get<std::string>();
                    return s < t ? -1 : s > t ? 1 : 0;
                }
                double p = x.v.get<double>(), q = y.v.get<double>();
                if (x.v.is_number_integer() && y.v.is_number_integer()) {
                    int64_t i = x.v.get<int64_t>(), j = y.v.get<int64_t>();
                    return i < j ? -1 : i > j ? 1 : 0;
                }
                return p < q ? -1 : p > q ? 1 : 0;
            };
            if (name == "eq") {
                if (n == 1) error_calling("missing argument for comparison");
                for (size_t i = 1; i < n; ++i)
                    if (compare(a(i, Param::Any)) == 0) return of_bool(true);
                return of_bool(false);
            }
            Value y = a(1, Param::Any);
            int c = compare(y);
            if (name == "ne") return of_bool(c != 0);
            if (x.v.is_boolean()) error_calling("invalid type for comparison");
            if (name == "lt") return of_bool(c < 0);
            if (name == "le") return of_bool(c <= 0);
            if (name == "gt") return of_bool(c > 0);
            return of_bool(c >= 0);
        }
        if (name == "len") {
            want(1);
            Value v = a(0, Param::Any);
            if (v.invalid || v.v.is_null()) error_calling("len of nil pointer");
            if (v.v.is_string()) return of_int(static_cast<int64_t>(v.v.get<std::string>().size()));
            if ((v.v.is_array() || v.v.is_object()) && !v.is_struct) return of_int(static_cast<int64_t>(v.v.size()));
            error_calling("len of type " + v.type);
        }
        if (name == "index") {
            want_at_least(1);
            Value item = a(0, Param::Any);
            for (size_t i = 1; i < n; ++i) {
                Value k = a(i, Param::Any);
                if (item.invalid || item.v.is_null()) error_calling("index of untyped nil");
                if (item.v.is_array()) {
                    if (!k.v.is_number_integer()) error_calling("cannot index slice/array with type " + k.type);
                    int64_t x = k.v.get<int64_t>();
                    if (x < 0 || static_cast<size_t>(x) >= item.v.size())
                        error_calling("index out of range: " + std::to_string(x));
                    item = item.type == "[]string" ? of_string(item.v[static_cast<size_t>(x)].get<std::string>())
                                                   : decoded(item.v[static_cast<size_t>(x)]);
                } else if (item.v.is_string()) {
                    if (!k.v.is_number_integer()) error_calling("cannot index slice/array with type " + k.type);
                    int64_t x = k.v.get<int64_t>();
                    const std::string str = item.v.get<std::string>();
                    if (x < 0 || static_cast<size_t>(x) >= str.size()) error_calling("index out of range: " + std::to_string(x));
                    item = of_int(static_cast<unsigned char>(str[static_cast<size_t>(x)]));
                    item.type = "uint8";
                } else if (item.v.is_object() && !item.is_struct) {
                    if (!k.v.is_string()) error_calling("value has type " + k.type + "; should be string");
                    const std::string key = k.v.get<std::string>();
                    item = item.v.contains(key) ? decoded(item.v[key]) : invalid_value();
                } else {
                    error_calling("can't index item of type " + item.type);
                }
            }
            return item;
        }
        if (name == "print" || name == "println" || name == "printf") {
            std::vector<Value> vs;
            if (name == "printf") want_at_least(1);
            for (size_t i = 0; i < n; ++i) vs.push_back(a(i, name == "printf" && i == 0 ? Param::String : Param::Any));
            if (name == "printf") return of_string(go_printf(vs[0].v.get<std::string>(), {vs.begin() + 1, vs.end()}));
            std::string s;
            for (size_t i = 0; i < vs.size(); ++i) {
                // Sprint puts a space between operands when neither is a string; Sprintln always.
                bool space = name == "println" || (i > 0 && !vs[i].v.is_string() && !vs[i - 1].v.is_string());
                if (i > 0 && space) s += " ";
                s += fmt_v(vs[i]);
            }
            return of_string(name == "println" ? s + "\n" : s);
        }
        if (name == "json") {
            want(1);
            Value v = a(0, Param::Any);
            if (v.invalid) return of_string("null");
            // A formatter struct marshals itself with Go's json.Marshal, which escapes <, > and &
            // ("\u003cnone\u003e" in `docker images --format json`); Docker's json function alone,
            // on a plain value, does not.
            if (v.is_struct) return of_string(go_html_escaped(v.v.dump(-1, ' ', false, json::error_handler_t::replace)));
            return of_string(v.v.dump());
        }
        if (name == "upper" || name == "lower" || name == "title") {
            want(1);
            std::string s = a(0, Param::String).v.get<std::string>();
            bool word_start = true;
            for (char& c : s) {
                if (name == "upper" && c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
                if (name == "lower" && c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
                if (name == "title") {
                    if (word_start && c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
                    word_start = !(is_alnum(c) || c == '\'');  // Go's isSeparator, for ASCII
                }
            }
            return of_string(s);
        }
        if (name == "split") {
            want(2);
            std::string s = a(0, Param::String).v.get<std::string>(), sep = a(1, Param::String).v.get<std::string>();
            json parts = json::array();
            if (sep.empty()) {
                for (size_t i = 0; i < s.size();) {
                    size_t len = 1;
                    while (i + len < s.size() && (static_cast<unsigned char>(s[i + len]) & 0xC0) == 0x80) ++len;
                    parts.push_back(s.substr(i, len));
                    i += len;
                }
            } else {
                size_t start = 0;
                for (size_t at; (at = s.find(sep, start)) != std::string::npos; start = at + sep.size())
                    parts.push_back(s.substr(start, at - start));
                parts.push_back(s.substr(start));
            }
            Value v;
            v.v = parts;
            v.type = "[]string";
            return v;
        }
        if (name == "join") {
            want(2);
            Value list = a(0, Param::Strings);
            std::string sep = a(1, Param::String).v.get<std::string>(), s;
            for (size_t i = 0; i < list.v.size(); ++i) s += (i ? sep : "") + list.v[i].get<std::string>();
            return of_string(s);
        }
        if (name == "pad") {
            want(3);
            std::string s = a(0, Param::String).v.get<std::string>();
            int64_t before = a(1, Param::Int).v.get<int64_t>(), after = a(2, Param::Int).v.get<int64_t>();
            return of_string(std::string(static_cast<size_t>(std::max<int64_t>(before, 0)), ' ') + s +
                             std::string(static_cast<size_t>(std::max<int64_t>(after, 0)), ' '));
        }
        if (name == "truncate") {
            want(2);
            std::string s = a(0, Param::String).v.get<std::string>();
            int64_t len = a(1, Param::Int).v.get<int64_t>();
            if (static_cast<int64_t>(s.size()) < len) return of_string(s);
            return of_string(s.substr(0, static_cast<size_t>(std::max<int64_t>(len, 0))));
        }
        fail(fn, "function \"" + name + "\" not defined");
    }

    static std::string fmt_v(const Value& v) {
        if (v.invalid) return "<nil>";
        return print_json(v.v, true);
    }

    // Go's Sprintf for the verbs people use in --format: %v %s %q %d %t %x %X %f %g %e %c %%,
    // with flags, width and precision. A verb that does not fit its operand prints Go's
    // "%!d(string=x)"; a missing operand "%!d(MISSING)"; extra ones "%!(EXTRA type=value)".
    static std::string go_printf(const std::string& f, std::vector<Value> args) {
        std::string out;
        size_t next = 0;
        for (size_t i = 0; i < f.size(); ++i) {
            if (f[i] != '%') {
                out += f[i];
                continue;
            }
            size_t start = i++;
            std::string flags;
            while (i < f.size() && std::string("+-# 0").find(f[i]) != std::string::npos) flags += f[i++];
            std::string width, prec;
            while (i < f.size() && f[i] >= '0' && f[i] <= '9') width += f[i++];
            bool has_prec = false;
            if (i < f.size() && f[i] == '.') {
                has_prec = true;
                ++i;
                while (i < f.size() && f[i] >= '0' && f[i] <= '9') prec += f[i++];
            }
            if (i >= f.size()) {
                out += "%!(NOVERB)";
                break;
            }
            char verb = f[i];
            if (verb == '%') {
                out += '%';
                continue;
            }
            if (next >= args.size()) {
                out += std::string("%!") + verb + "(MISSING)";
                continue;
            }
            const Value& v = args[next++];
            const json& j = v.v;
            std::string spec = "%" + flags + width + (has_prec ? "." + prec : "");
            auto pad = [&](std::string s) {
                size_t w = width.empty() ? 0 : std::stoul(width);
                size_t len = 0;
                for (unsigned char c : s) len += (c & 0xC0) != 0x80;
                if (len >= w) return s;
                std::string fill(w - len, flags.find('0') != std::string::npos && flags.find('-') == std::string::npos ? '0' : ' ');
                return flags.find('-') != std::string::npos ? s + fill : fill + s;
            };
            auto bad = [&] { return std::string("%!") + verb + "(" + (v.invalid ? "<nil>" : v.type + "=" + fmt_v(v)) + ")"; };
            char buf[512];
            bool is_int = !v.invalid && j.is_number_integer();
            bool is_num = !v.invalid && j.is_number();
            switch (verb) {
                case 'v': out += pad(fmt_v(v)); break;
                case 's':
                    if (!v.invalid && j.is_string()) {
                        std::string s = j.get<std::string>();
                        if (has_prec) s = s.substr(0, prec.empty() ? 0 : std::stoul(prec));
                        out += pad(s);
                    } else if (!v.invalid && (j.is_array() || j.is_object())) {
                        out += pad(fmt_v(v));
                    } else {
                        out += bad();
                    }
                    break;
                case 'q':
                    if (!v.invalid && j.is_string()) out += pad(json(j.get<std::string>()).dump());
                    else out += bad();
                    break;
                case 't':
                    if (!v.invalid && j.is_boolean()) out += pad(j.get<bool>() ? "true" : "false");
                    else out += bad();
                    break;
                case 'd':
                case 'c':
                    if (is_int && verb == 'd') {
                        std::snprintf(buf, sizeof buf, (spec + "lld").c_str(), static_cast<long long>(j.get<int64_t>()));
                        out += buf;
                    } else if (is_int) {
                        out += pad(std::string(1, static_cast<char>(j.get<int64_t>())));
                    } else {
                        out += bad();
                    }
                    break;
                case 'x':
                case 'X':
                    if (is_int) {
                        std::snprintf(buf, sizeof buf, (spec + "ll" + verb).c_str(), static_cast<long long>(j.get<int64_t>()));
                        out += buf;
                    } else if (!v.invalid && j.is_string()) {
                        std::string s = j.get<std::string>(), h;
                        for (unsigned char c : s) {
                            std::snprintf(buf, sizeof buf, verb == 'x' ? "%02x" : "%02X", c);
                            h += buf;
                        }
                        out += pad(h);
                    } else {
                        out += bad();
                    }
                    break;
                case 'f':
                case 'F':
                case 'e':
                case 'E':
                case 'g':
                case 'G':
                    if (is_num && !is_int) {
                        std::snprintf(buf, sizeof buf, (spec + verb).c_str(), j.get<double>());
                        out += buf;
                    } else {
                        out += bad();
                    }
                    break;
                default: out += std::string("%!") + verb + "(" + v.type + "=" + fmt_v(v) + ")"; break;
            }
            (void)start;
        }
        if (next < args.size()) {
            out += "%!(EXTRA ";
            for (size_t k = next; k < args.size(); ++k)
                out += (k > next ? ", " : "") + args[k].type + "=" + fmt_v(args[k]);
            out += ")";
        }
        return out;
    }

    const std::string& text_;
    bool header_ = false;
    Value root_;
    bool missing_key_error_ = false;
    std::vector<std::pair<std::string, Value>> vars_;
};

}  // namespace

Result<GoTemplate> GoTemplate::parse(const std::string& text) {
    Parser p(text);
    auto root = p.parse();
    if (!root) return root.error();
    GoTemplate t;
    t.text_ = text;
    t.root_ = *root;
    return t;
}

Result<std::string> GoTemplate::execute(const TemplateDot& dot) const {
    Exec e(text_, dot);
    try {
        e.walk(*root_, e.root());
    } catch (const ExecError& x) {
        if (dot.table_header) return std::move(e.out);  // Docker ignores a header's error
        return x.error;
    }
    return std::move(e.out);
}

// ---------------------------------------------------------------------------------------------
// Docker's formatters.

bool is_default_table(const std::string& format) { return format == "table"; }

Status print_formatted(const std::string& format, const std::vector<json>& rows, const json& titles,
                       const std::string& struct_type, std::ostream& out) {
    // cli/command/formatter's preFormat: the "table" prefix off, "json" is {{json .}}, spaces
    // around trimmed, `\t` and `\n` as typed become a tab and a newline.
    bool table = format.rfind("table", 0) == 0;
    std::string fmt = table ? format.substr(5) : format == "json" ? "{{json .}}" : format;
    fmt.erase(0, fmt.find_first_not_of(' '));
    while (!fmt.empty() && fmt.back() == ' ') fmt.pop_back();
    for (auto [from, to] : {std::pair<const char*, const char*>{"\\t", "\t"}, {"\\n", "\n"}})
        for (size_t at = 0; (at = fmt.find(from, at)) != std::string::npos; at += 1) fmt.replace(at, 2, to);
    auto tmpl = GoTemplate::parse(fmt);
    if (!tmpl) return tmpl.error().wrap("template parsing error");
    std::vector<std::string> lines;
    if (table) {
        // The header is the template run on a map of field -> title: a field without a title
        // prints Go's "<no value>", as Docker's does.
        auto header = tmpl->execute({titles, "", true});
        lines.push_back(header ? *header : "");
    }
    for (const auto& r : rows) {
        auto line = tmpl->execute({r, struct_type});
        if (!line) return line.error().wrap("template parsing error");
        lines.push_back(*line);
    }
    if (!table) {
        for (const auto& l : lines) out << l << "\n";
        return {};
    }
    std::vector<std::vector<std::string>> cells;
    for (const auto& line : lines) {
        std::vector<std::string> v;
        size_t start = 0;
        for (size_t tab; (tab = line.find('\t', start)) != std::string::npos; start = tab + 1)
            v.push_back(line.substr(start, tab - start));
        v.push_back(line.substr(start));
        cells.push_back(v);
    }
    out << format_table(cells, 10);  // Docker's tabwriter: cells of at least 10, padding 3
    return {};
}

Status validate_listing_format(const std::string& format, const std::vector<std::string>& fields,
                               const std::string& struct_type) {
    auto tmpl = GoTemplate::parse(format);
    if (!tmpl) return tmpl.error().wrap("failed to parse template");
    json empty = json::object();
    for (const auto& f : fields) empty[f] = "";
    auto r = tmpl->execute({empty, struct_type});
    if (!r) return r.error().wrap("failed to execute template");
    return {};
}

Result<GoTemplate> parse_inspect_format(const std::string& format) {
    auto tmpl = GoTemplate::parse(format);
    if (!tmpl) return make_error("template parsing error: " + tmpl.error().message, 64);
    return tmpl;
}

int finish_inspect(const std::optional<GoTemplate>& tmpl, const json& objects, const std::string& missing,
                   std::ostream& out, std::ostream& err) {
    if (tmpl) {
        if (auto printed = print_inspect(*tmpl, objects, out); !printed) {
            err << missing << printed.error().message << "\n";
            return printed.error().exit_code;
        }
    } else {
        out << objects.dump(4) << "\n";
    }
    out.flush();
    err << missing;
    return missing.empty() ? 0 : 1;
}

Status print_inspect(const GoTemplate& tmpl, const json& objects, std::ostream& out) {
    std::string buffer;
    Status status;
    for (const auto& o : objects) {
        auto r = tmpl.execute({o, ""});
        if (!r) {
            status = r.error().wrap("template parsing error");
            break;
        }
        buffer += *r + "\n";
    }
    out << (buffer.empty() ? "\n" : buffer);
    return status;
}

}  // namespace isolab::cli
