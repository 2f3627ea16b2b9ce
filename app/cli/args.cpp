// The IsoLab command-line parser. See args.hpp for the contract and the message formats.
//
// Shape: one table of verbs (VerbDef), each with a table of flags (FlagDef). A small engine,
// parse_flags(), implements pflag's syntax (combined shorthands, --name=value, "--", bool
// =true/=false, interspersed or not); then a per-verb `finish` step moves positionals into the
// Command and runs the checks Docker runs after flag parsing (client side in `parse()`, daemon side
// in the engine's verifyContainerSettings). Keeping both kinds of check here lets the GUI terminal
// and the CLI report the same words before anything touches the kernel (STYLE §8).
#include "app/cli/args.hpp"

#include "app/cli/filters.hpp"
#include "sim/core/i18n.hpp"
#include "sim/core/strings.hpp"
#include "sim/engine/dockerfile.hpp"
#include "sim/engine/engine.hpp"
#include "sim/core/files.hpp"
#include "sim/runtime/attach.hpp"
#include "sim/runtime/json_log.hpp"
#include "sim/runtime/security.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <span>
#include <type_traits>
#include <utility>

namespace isolab::cli {
namespace {

// Every parse error exits 125, as Docker's flag errors do (cli.FlagErrorFunc). Docker itself
// exits 1 for a wrong number of positionals (cobra's Args check is a plain error); IsoLab keeps
// one code for everything the parser refuses, so scripts and lessons test a single value.
constexpr int kUsageExit = 125;
// `docker foo` and `docker container foo` are plain cobra errors: exit 1.
constexpr int kUnknownCommandExit = 1;
// Docker's daemon refuses memory limits below 6 MiB (linuxMinMemory).
constexpr int64_t kMinMemoryBytes = 6 * 1024 * 1024;
// The smallest --cpus the range message promises (0.01 CPU); below it a CFS quota would be
// shorter than the kernel's 1 ms minimum.
constexpr int64_t kMinNanoCpus = 10'000'000;

// ---------------------------------------------------------------------------------------------
// Small string helpers

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

std::string join(const std::vector<std::string>& words, std::string_view sep) {
    std::string out;
    for (size_t i = 0; i < words.size(); ++i) {
        if (i) out += sep;
        out += words[i];
    }
    return out;
}

// Go's %q for one byte, as pflag prints the offending shorthand: 'z'.
std::string go_quote_char(char c) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '\'') return "'\\''";
    if (c == '\\') return "'\\\\'";
    if (u < 0x20 || u >= 0x7f) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "'\\x%02x'", u);
        return buf;
    }
    return std::string("'") + c + "'";
}

// Go's strconv.ParseBool, whose error pflag shows for `--rm=maybe`.
Result<bool> go_parse_bool(std::string_view s) {
    if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" || s == "True") return true;
    if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false" || s == "False") return false;
    return make_error("strconv.ParseBool: parsing " + go_quote(s) + ": invalid syntax");
}

// Go's strconv.ParseInt(s, 10, 64) (pflag uses base 0; the 0x/0o forms are not accepted here).
Result<int64_t> go_parse_int64(std::string_view s) {
    auto fail = [&](const char* why) {
        return make_error("strconv.ParseInt: parsing " + go_quote(s) + ": " + why);
    };
    size_t i = 0;
    bool negative = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
    if (i == s.size()) return fail("invalid syntax");
    uint64_t magnitude = 0;
    bool overflow = false;
    for (; i < s.size(); ++i) {
        if (!is_digit(s[i])) return fail("invalid syntax");
        uint64_t digit = static_cast<uint64_t>(s[i] - '0');
        if (magnitude > (UINT64_MAX - digit) / 10) overflow = true;
        else magnitude = magnitude * 10 + digit;
    }
    const uint64_t limit = negative ? uint64_t(INT64_MAX) + 1 : uint64_t(INT64_MAX);
    if (overflow || magnitude > limit) return fail("value out of range");
    if (negative) return magnitude == uint64_t(INT64_MAX) + 1 ? INT64_MIN : -static_cast<int64_t>(magnitude);
    return static_cast<int64_t>(magnitude);
}

// As above, for the `int` fields of Command (Go's int is 64-bit; ours is not).
Result<int> go_parse_int(std::string_view s) {
    auto v = go_parse_int64(s);
    if (!v.ok()) return v.error();
    if (*v < INT_MIN || *v > INT_MAX)
        return make_error("strconv.ParseInt: parsing " + go_quote(s) + ": value out of range");
    return static_cast<int>(*v);
}

// Go's strconv.Atoi, as ParseRestartPolicy uses it (only success matters: its error is replaced).
bool go_atoi(std::string_view s, int& out) {
    auto v = go_parse_int(s);
    if (!v.ok()) return false;
    out = *v;
    return true;
}

// os.LookupEnv: set and possibly empty is different from unset.
bool lookup_env(const std::string& key, std::string& value) {
    const char* v = std::getenv(key.c_str());
    if (!v) return false;
    value = v;
    return true;
}

// Docker's opts.ValidateEnv, run when the flag is set: "K=V" stays; a bare "K" takes K's value
// from the current environment when set, else stays bare and is dropped later (the container
// does not get K, as with Docker).
Result<std::string> validate_env(std::string_view val) {
    std::string_view key = val.substr(0, val.find('='));
    if (key.empty()) return make_error("invalid environment variable: " + std::string(val));
    if (val.find('=') != std::string_view::npos) return std::string(val);
    std::string value;
    if (lookup_env(std::string(key), value)) return std::string(key) + "=" + value;
    return std::string(val);
}

// Docker's ParseEnvFile (opts/envfile.go): one KEY=VALUE per line, '#' comments, blank lines,
// a bare KEY copied from the environment. The file is opened close-on-exec (STYLE §9).
Result<std::vector<std::string>> read_env_file(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "re");
    if (!f) {
        int err = errno;  // saved before any other call can change it
        std::string reason = std::strerror(err);
        if (!reason.empty()) reason[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(reason[0])));
        return make_error("open " + path + ": " + reason);  // Go's wording: lowercase strerror
    }
    std::string content;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) content.append(buf, n);
    std::fclose(f);

    std::vector<std::string> lines;
    size_t pos = 0;
    bool first = true;
    while (pos <= content.size()) {
        size_t end = content.find('\n', pos);
        if (end == std::string::npos) end = content.size();
        std::string line = content.substr(pos, end - pos);
        pos = end + 1;
        if (!line.empty() && line.back() == '\r') line.pop_back();  // bufio.ScanLines drops \r
        if (first && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // UTF-8 BOM
        first = false;
        size_t start = 0;
        while (start < line.size() && is_space(line[start])) ++start;
        line.erase(0, start);
        if (line.empty() || line[0] == '#') {
            if (end == content.size()) break;
            continue;
        }
        size_t eq = line.find('=');
        std::string variable = line.substr(0, eq);
        if (std::any_of(variable.begin(), variable.end(), is_space))
            return make_error("poorly formatted environment: variable '" + variable + "' contains whitespaces");
        if (variable.empty())
            return make_error("poorly formatted environment: no variable name on line '" + line + "'");
        if (eq != std::string::npos) {
            lines.push_back(line);
        } else {
            std::string value;
            lines.push_back(lookup_env(variable, value) ? variable + "=" + value : variable);
        }
        if (end == content.size()) break;
    }
    return lines;
}

// The engine's env is KEY=VALUE only: bare names that had no value in the environment go.
std::vector<std::string> only_assignments(std::vector<std::string> env) {
    std::erase_if(env, [](const std::string& e) { return e.find('=') == std::string::npos; });
    return env;
}

// ---------------------------------------------------------------------------------------------
// Ports (go-connections nat.ParsePortSpec, newest order of checks)

// nat.ParsePortRange: "80" or "8000-8010", each 0..65535.
bool parse_port_range(std::string_view s, int& start, int& end) {
    auto one = [](std::string_view p, int& out) {
        if (!all_digits(p) || p.size() > 5) return false;
        int v = std::stoi(std::string(p));
        if (v > 65535) return false;
        out = v;
        return true;
    };
    size_t dash = s.find('-');
    if (dash == std::string_view::npos) {
        if (!one(s, start)) return false;
        end = start;
        return true;
    }
    if (!one(s.substr(0, dash), start) || !one(s.substr(dash + 1), end)) return false;
    return end >= start;
}

bool valid_ip(const std::string& ip) {
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, ip.c_str(), buf) == 1 || inet_pton(AF_INET6, ip.c_str(), buf) == 1;
}

// Docker's convertToStandardNotation: "published=8080,target=80,protocol=udp" -> "8080:80/udp".
Result<std::string> long_publish_to_short(std::string_view spec) {
    std::string published, target, protocol = "tcp";
    size_t pos = 0;
    while (pos <= spec.size()) {
        size_t comma = spec.find(',', pos);
        if (comma == std::string_view::npos) comma = spec.size();
        std::string_view param = spec.substr(pos, comma - pos);
        size_t eq = param.find('=');
        if (eq == std::string_view::npos || eq == 0)
            return make_error("invalid publish opts format (should be name=value but got '" + std::string(param) + "')");
        std::string key(param.substr(0, eq));
        std::string value(param.substr(eq + 1));
        if (key == "published") published = value;
        else if (key == "target") target = value;
        else if (key == "protocol") protocol = value;
        // mode=, host_ip= ...: ignored, as Docker's converter ignores keys it does not use.
        pos = comma + 1;
    }
    return published + ":" + target + "/" + protocol;
}

// ---------------------------------------------------------------------------------------------
// Restart policy, split as Docker splits it: the format is checked by the CLI, the name and the
// count by the daemon. parse_args reports the two with different prefixes.

struct RawRestart {
    std::string name;
    int count = 0;
};

Result<RawRestart> parse_restart_format(std::string_view text) {
    RawRestart r;
    size_t colon = text.find(':');
    r.name = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos && r.name.empty())
        return make_error("invalid restart policy format: no policy provided before colon");
    if (colon != std::string_view::npos && colon + 1 < text.size()) {
        if (!go_atoi(text.substr(colon + 1), r.count))
            return make_error("invalid restart policy format: maximum retry count must be an integer");
    }
    return r;
}

Result<RestartPolicy> validate_restart(const RawRestart& r) {
    RestartPolicy p;
    if (r.name == "no" || r.name == "always" || r.name == "unless-stopped" || r.name.empty()) {
        if (r.count != 0 && !r.name.empty()) {
            std::string msg = "invalid restart policy: maximum retry count can only be used with 'on-failure'";
            if (r.count < 0) msg += " and cannot be negative";
            return make_error(msg);
        }
        p.kind = r.name == "always"           ? RestartPolicyKind::Always
                 : r.name == "unless-stopped" ? RestartPolicyKind::UnlessStopped
                                              : RestartPolicyKind::No;
        return p;
    }
    if (r.name == "on-failure") {
        if (r.count < 0) return make_error("invalid restart policy: maximum retry count cannot be negative");
        p.kind = RestartPolicyKind::OnFailure;
        p.max_retries = r.count;
        return p;
    }
    return make_error("invalid restart policy: unknown policy '" + r.name +
                      "'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'");
}

// ---------------------------------------------------------------------------------------------
// The flag engine

enum class FlagType { Bool, String, List, Int, Bytes, Decimal, Network, Filter, Mount, Map, Duration };

std::string_view type_word(FlagType t) {
    switch (t) {
        case FlagType::Bool: return "";
        case FlagType::String: return "string";
        case FlagType::List: return "list";
        case FlagType::Int: return "int";
        case FlagType::Bytes: return "bytes";
        case FlagType::Decimal: return "decimal";
        case FlagType::Network: return "network";
        case FlagType::Filter: return "filter";
        case FlagType::Mount: return "mount";
        case FlagType::Map: return "map";
        case FlagType::Duration: return "duration";
    }
    return "";
}

// Everything a verb's flags write into while parsing, beyond the Command itself: values that
// Docker validates only after all flags are read (so the order of flags does not matter). The
// finish step folds them into the Command, which is all that leaves the parser.
struct ParseState {
    explicit ParseState(Command& c) : cmd(c) {}
    Command& cmd;
    std::vector<std::string> env;        // -e, after validate_env, in order
    std::vector<std::string> env_files;  // --env-file, in order
    std::vector<std::string> publish;    // -p, as typed
    std::vector<std::string> volumes;    // -v, as typed (the daemon's checks, in finish)
    std::vector<MountSpec> mounts;       // --mount, parsed (the client's checks, as Docker's CLI)
    std::vector<std::string> tmpfs;      // --tmpfs, as typed
    std::string mount_daemon_error;      // the first --mount the daemon would refuse
    std::string restart;                 // --restart as typed ("" = not given)
    std::string log_driver;              // --log-driver as typed ("" = not given)
    std::vector<std::string> log_opts;   // --log-opt KEY=VALUE, as typed
    std::vector<std::string> security_opts;  // --security-opt, as typed
    std::string volume_name;                 // volume create --name (hidden, Docker's old spelling)
    std::vector<std::string> volume_opts;    // volume create -o/--opt, as typed (refused in finish)
    // --health-*: Docker's containerOptions fields (durations in ns), checked in finish.
    std::string health_cmd;
    int64_t health_interval = 0, health_timeout = 0, health_start_period = 0, health_start_interval = 0;
    int health_retries = 0;
    bool no_healthcheck = false;
    bool password_given = false;             // login -p/--password (refused in finish_login)
};

struct FlagDef;

// Applies one flag value. Bool flags receive "true" or "false". Returns the bare reason on error;
// the engine adds `invalid argument "V" for "-x, --name" flag: `.
using ApplyFn = Status (*)(ParseState&, const std::string&);

// Appends the words that give C this flag's value (to_argv), nothing when C holds the value the
// flag's absence gives. Null for aliases and for flags whose value another flag prints (the
// hidden --net, --time; gui's --lang, printed with the global flags; --env-file, printed as -e).
using PrintFn = void (*)(const Command& c, const FlagDef& f, std::vector<std::string>& words);

struct FlagDef {
    std::string_view name;  // long name, without "--"
    char shorthand;         // 0 = none
    FlagType type;          // Bool: takes no value; the others take one (and name it in usage)
    std::string_view help;
    ApplyFn apply;
    PrintFn print;
    std::string_view default_text = {};  // shown as (default ...) in usage
    bool hidden = false;                 // aliases and deprecated spellings
};

enum class ArgRule { Any, None, Min, Max, Exact, Range };

struct VerbDef;
using FinishFn = Status (*)(ParseState&, std::vector<std::string>&, const VerbDef&, const std::string& path);
// The positionals that give a finished C back (to_argv): the inverse of FinishFn's moves.
using PositionalsFn = std::vector<std::string> (*)(const Command& c);

struct VerbDef {
    std::string_view name;
    std::string_view use;  // what follows the command path in the usage line
    std::string_view summary;
    std::string_view description = {};  // the help's text when it says more than SUMMARY (cobra's Long)
    std::span<const FlagDef> flags;
    std::span<const FlagDef> more_flags;  // run's own flags on top of the container flags
    bool interspersed = true;             // false: the first positional ends the flags
    ArgRule rule = ArgRule::Any;
    int min = 0, max = 0;
    FinishFn finish = nullptr;
    PositionalsFn positionals = nullptr;  // null: Command::args
    bool group = false;  // everything after the verb goes to Command::rest
};

const FlagDef* find_long(const VerbDef& v, std::string_view name) {
    for (auto span : {v.flags, v.more_flags})
        for (const FlagDef& f : span)
            if (f.name == name) return &f;
    return nullptr;
}

const FlagDef* find_short(const VerbDef& v, char c) {
    for (auto span : {v.flags, v.more_flags})
        for (const FlagDef& f : span)
            if (f.shorthand == c && c != 0) return &f;
    return nullptr;
}

std::string flag_display(const FlagDef& f) {
    if (f.shorthand) return std::string("-") + f.shorthand + ", --" + std::string(f.name);
    return "--" + std::string(f.name);
}

std::string full_path(const std::string& path) { return path.empty() ? "isolab" : "isolab " + path; }

std::string use_line(const VerbDef& v, const std::string& path) {
    std::string line = full_path(path);
    if (!v.use.empty()) line += " " + std::string(v.use);
    return line;
}

// pflag/cobra flag error, as cli.FlagErrorFunc formats it in Docker v28+.
Error flag_error(const VerbDef& v, const std::string& path, const std::string& reason) {
    return make_error(reason + "\n\nUsage:  " + use_line(v, path) + "\n\nRun '" + full_path(path) +
                          " --help' for more information",
                      kUsageExit);
}

// Docker's reportError for run/create: errors found after flag parsing.
Error run_error(const std::string& path, const std::string& reason) {
    return make_error("isolab: " + reason + "\n\nRun '" + full_path(path) + " --help' for more information",
                      kUsageExit);
}

// Checks Docker makes in the daemon keep the daemon's prefix, so that learners see the words
// Docker shows (the same convention as "Error response from daemon: No such container").
Error daemon_error(const std::string& path, const std::string& reason) {
    return run_error(path, "Error response from daemon: " + reason);
}

Status set_flag(ParseState& st, const FlagDef& f, const std::string& value) {
    std::string v = value;
    if (f.type == FlagType::Bool) {
        auto b = go_parse_bool(value);
        if (!b.ok()) return make_error("invalid argument " + go_quote(value) + " for " + go_quote(flag_display(f)) +
                                       " flag: " + b.error().message);
        v = *b ? "true" : "false";
    }
    Status s = f.apply(st, v);
    if (!s.ok())
        return make_error("invalid argument " + go_quote(value) + " for " + go_quote(flag_display(f)) +
                          " flag: " + s.error().message);
    return {};
}

// pflag's parse loop. On error returns the bare pflag reason (the caller adds the usage footer).
// `--help`, and `-h` where the verb has no -h of its own, set cmd.help.
Status parse_flags(const VerbDef& v, const std::vector<std::string>& args, size_t start, ParseState& st,
                   std::vector<std::string>& positionals) {
    size_t i = start;
    while (i < args.size()) {
        const std::string& a = args[i++];
        if (a == "--") {
            positionals.insert(positionals.end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
            break;
        }
        if (a.size() < 2 || a[0] != '-') {  // includes "-" alone, which is a positional
            positionals.push_back(a);
            if (!v.interspersed) {
                positionals.insert(positionals.end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
                break;
            }
            continue;
        }
        if (a[1] == '-') {
            std::string_view body = std::string_view(a).substr(2);
            if (body[0] == '-' || body[0] == '=') return make_error("bad flag syntax: " + a);
            size_t eq = body.find('=');
            std::string name(body.substr(0, eq));
            const FlagDef* f = find_long(v, name);
            if (!f) {
                if (name == "help") {
                    bool on = true;
                    if (eq != std::string_view::npos) {
                        auto b = go_parse_bool(body.substr(eq + 1));
                        if (!b.ok()) return make_error("invalid argument " + go_quote(body.substr(eq + 1)) +
                                                       " for \"-h, --help\" flag: " + b.error().message);
                        on = *b;
                    }
                    st.cmd.help = st.cmd.help || on;
                    continue;
                }
                return make_error("unknown flag: --" + name);
            }
            std::string value;
            if (eq != std::string_view::npos) value = std::string(body.substr(eq + 1));
            else if (f->type == FlagType::Bool) value = "true";
            else if (i < args.size()) value = args[i++];  // pflag takes the next word even if it starts with '-'
            else return make_error("flag needs an argument: " + a);
            ISOLAB_TRY(set_flag(st, *f, value));
            continue;
        }
        // One or more shorthands: -d, -dit, -p8080:80, -p=8080:80, -e K=V.
        std::string_view sh = std::string_view(a).substr(1);
        while (!sh.empty()) {
            char c = sh[0];
            const FlagDef* f = find_short(v, c);
            if (!f) {
                if (c == 'h') {
                    st.cmd.help = true;
                    sh.remove_prefix(1);
                    continue;
                }
                // pflag names the rest of the cluster, not the whole word: -dz -> "in -z".
                return make_error("unknown shorthand flag: " + go_quote_char(c) + " in -" + std::string(sh));
            }
            std::string value;
            if (sh.size() > 2 && sh[1] == '=') {
                value = std::string(sh.substr(2));
                sh = {};
            } else if (f->type == FlagType::Bool) {
                value = "true";
                sh.remove_prefix(1);
            } else if (sh.size() > 1) {
                value = std::string(sh.substr(1));
                sh = {};
            } else if (i < args.size()) {
                value = args[i++];
                sh = {};
            } else {
                return make_error("flag needs an argument: " + go_quote_char(c) + " in -" + std::string(sh));
            }
            ISOLAB_TRY(set_flag(st, *f, value));
        }
    }
    return {};
}

std::string_view plural(int n) { return n == 1 ? "argument" : "arguments"; }

// cobra's positional checks as Docker's cli/required.go words them; exit 1, as Docker 28's client.
Status check_arg_count(const VerbDef& v, const std::string& path, size_t count) {
    const std::string p = full_path(path);
    const std::string usage_part = "\n\nUsage:  " + use_line(v, path) + "\n\n";
    const int n = static_cast<int>(count);
    switch (v.rule) {
        case ArgRule::Any: return {};
        case ArgRule::None:
            if (n == 0) return {};
            return make_error("isolab: '" + p + "' accepts no arguments" + usage_part + "Run '" + p +
                                  " --help' for more information",
                              1);
        case ArgRule::Min:
            if (n >= v.min) return {};
            return make_error("isolab: '" + p + "' requires at least " + std::to_string(v.min) + " " +
                                  std::string(plural(v.min)) + usage_part + "See '" + p + " --help' for more information",
                              1);
        case ArgRule::Max:
            if (n <= v.max) return {};
            return make_error("isolab: '" + p + "' requires at most " + std::to_string(v.max) + " " +
                                  std::string(plural(v.max)) + usage_part + "Run '" + p + " --help' for more information",
                              1);
        case ArgRule::Exact:
            if (n == v.min) return {};
            return make_error("isolab: '" + p + "' requires " + std::to_string(v.min) + " " +
                                  std::string(plural(v.min)) + usage_part + "Run '" + p + " --help' for more information",
                              1);
        case ArgRule::Range:
            if (n >= v.min && n <= v.max) return {};
            return make_error("isolab: '" + p + "' requires at least " + std::to_string(v.min) + " and at most " +
                                  std::to_string(v.max) + " " + std::string(plural(v.max)) + usage_part + "Run '" +
                                  p + " --help' for more information",
                              1);
    }
    return {};
}

// ---------------------------------------------------------------------------------------------
// Flag tables. Help texts are Docker's where the flag is Docker's.
//
// Most flags store their value in one field of the Command (or of Command::spec): bool_flag and
// value_flag make those from the field alone, with the setter and the printer to_argv uses. The
// rest, whose values are checked, converted or gathered for the finish step, are custom_flag
// with their own pair.

// The owner and type of a pointer to member, for the two helpers below.
template <class M>
struct MemberOf;
template <class Owner, class T>
struct MemberOf<T Owner::*> {
    using owner = Owner;
    using type = T;
};

// The field FIELD names in C (a Command, const or not): a member of Command, or of Command::spec.
template <auto Field, class C>
auto& field_of(C& c) {
    using Owner = typename MemberOf<decltype(Field)>::owner;
    static_assert(std::is_same_v<Owner, Command> || std::is_same_v<Owner, ContainerSpec>);
    if constexpr (std::is_same_v<Owner, Command>) return c.*Field;
    else return c.spec.*Field;
}

// What every field holds when no flag has set it.
const Command& default_command() {
    static const Command c;
    return c;
}

// "-x" when the flag has a shorthand, else "--name".
void push_flag(std::vector<std::string>& words, const FlagDef& f) {
    words.push_back(f.shorthand ? std::string{'-', f.shorthand} : "--" + std::string(f.name));
}

void push_flag(std::vector<std::string>& words, const FlagDef& f, std::string value) {
    push_flag(words, f);
    words.push_back(std::move(value));
}

template <auto Field>
Status set_bool(ParseState& st, const std::string& v) {
    field_of<Field>(st.cmd) = v == "true";
    return {};
}

template <auto Field>
void print_bool(const Command& c, const FlagDef& f, std::vector<std::string>& words) {
    const bool v = field_of<Field>(c);
    if (v == field_of<Field>(default_command())) return;
    if (v) push_flag(words, f);
    else words.push_back("--" + std::string(f.name) + "=false");  // a flag whose default is true
}

template <class T>
constexpr bool kUnsupportedField = false;

// A string is stored as typed, a list appends, an int is Go's ParseInt (pflag's int and int64).
template <auto Field>
Status set_value(ParseState& st, const std::string& v) {
    auto& field = field_of<Field>(st.cmd);
    using T = std::remove_reference_t<decltype(field)>;
    if constexpr (std::is_same_v<T, std::string>) {
        field = v;
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
        field.push_back(v);
    } else if constexpr (std::is_same_v<T, int>) {
        auto n = go_parse_int(v);
        if (!n.ok()) return n.error();
        field = *n;
    } else if constexpr (std::is_same_v<T, int64_t>) {
        auto n = go_parse_int64(v);
        if (!n.ok()) return n.error();
        field = *n;
    } else {
        static_assert(kUnsupportedField<T>, "value_flag: string, list, int or int64 fields only");
    }
    return {};
}

template <auto Field>
void print_value(const Command& c, const FlagDef& f, std::vector<std::string>& words) {
    const auto& v = field_of<Field>(c);
    using T = std::remove_cvref_t<decltype(v)>;
    if constexpr (std::is_same_v<T, std::vector<std::string>>) {
        for (const std::string& item : v) push_flag(words, f, item);
    } else if (v != field_of<Field>(default_command())) {
        if constexpr (std::is_same_v<T, std::string>) push_flag(words, f, v);
        else push_flag(words, f, std::to_string(v));
    }
}

// A flag without a value, stored in FIELD (a bool of Command or of its spec).
template <auto Field>
constexpr FlagDef bool_flag(std::string_view name, char shorthand, std::string_view help,
                            std::string_view default_text = {}) {
    static_assert(std::is_same_v<typename MemberOf<decltype(Field)>::type, bool>);
    return FlagDef{name, shorthand, FlagType::Bool, help, set_bool<Field>, print_bool<Field>, default_text};
}

// A flag with a value of TYPE (the word usage shows), stored in FIELD as set_value says.
template <auto Field>
constexpr FlagDef value_flag(std::string_view name, char shorthand, FlagType type, std::string_view help,
                             std::string_view default_text = {}) {
    return FlagDef{name, shorthand, type, help, set_value<Field>, print_value<Field>, default_text};
}

// A flag that checks, converts or gathers its value: its own setter and printer.
constexpr FlagDef custom_flag(std::string_view name, char shorthand, FlagType type, std::string_view help,
                              ApplyFn apply, PrintFn print, std::string_view default_text = {},
                              bool hidden = false) {
    return FlagDef{name, shorthand, type, help, apply, print, default_text, hidden};
}

// ---- Sizes and CPUs as to_argv prints them (parse_bytes and parse_cpus read them back exactly).

// The largest binary unit that divides N: 536870912 -> "512m"; otherwise the plain number.
std::string bytes_word(int64_t n) {
    if (n > 0) {
        static constexpr std::pair<char, int64_t> kUnits[] = {
            {'p', int64_t(1) << 50}, {'t', int64_t(1) << 40}, {'g', int64_t(1) << 30},
            {'m', int64_t(1) << 20}, {'k', int64_t(1) << 10}};
        for (auto [unit, size] : kUnits)
            if (n % size == 0) return std::to_string(n / size) + unit;
    }
    return std::to_string(n);
}

// Nano-CPUs as the shortest decimal: 1'500'000'000 -> "1.5".
std::string cpus_word(int64_t nano) {
    constexpr int64_t kNano = 1'000'000'000;
    const bool negative = nano < 0;
    const uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(nano) : static_cast<uint64_t>(nano);
    std::string out = (negative ? "-" : "") + std::to_string(magnitude / kNano);
    if (uint64_t frac = magnitude % kNano) {
        std::string digits = std::to_string(frac);
        digits.insert(0, 9 - digits.size(), '0');
        digits.erase(digits.find_last_not_of('0') + 1);
        out += "." + digits;
    }
    return out;
}

// One mapping as -p reads it: [IP:][HOST:]CONTAINER[/PROTO], an IPv6 address in brackets.
std::string publish_word(const PortMapping& m) {
    std::string out;
    if (!m.host_ip.empty()) {
        out = m.host_ip.find(':') != std::string::npos ? "[" + m.host_ip + "]:" : m.host_ip + ":";
        out += (m.host_port ? std::to_string(m.host_port) : "") + ":";
    } else if (m.host_port) {
        out = std::to_string(m.host_port) + ":";
    }
    out += std::to_string(m.container_port);
    if (m.proto != "tcp") out += "/" + m.proto;
    return out;
}

std::string restart_word(const RestartPolicy& p) {
    switch (p.kind) {
        case RestartPolicyKind::No: return "no";
        case RestartPolicyKind::Always: return "always";
        case RestartPolicyKind::UnlessStopped: return "unless-stopped";
        case RestartPolicyKind::OnFailure:
            return p.max_retries ? "on-failure:" + std::to_string(p.max_retries) : "on-failure";
    }
    return "no";
}

// ---- The custom flags' setters and printers.

Status apply_attach_stream(ParseState& st, const std::string& v) {
    std::string s = lower(v);
    if (s != "stdin" && s != "stdout" && s != "stderr") return make_error("valid streams are STDIN, STDOUT and STDERR");
    st.cmd.attach_streams.push_back(s);
    return {};
}

Status apply_env(ParseState& st, const std::string& v) {
    auto e = validate_env(v);
    if (!e.ok()) return e.error();
    st.env.push_back(*e);
    return {};
}

Status apply_env_file(ParseState& st, const std::string& v) {
    st.env_files.push_back(v);
    return {};
}

Status apply_cpus(ParseState& st, const std::string& v) {
    auto n = parse_cpus(v);
    if (!n.ok()) return n.error();
    st.cmd.spec.nano_cpus = *n;
    return {};
}

void print_cpus(const Command& c, const FlagDef& f, std::vector<std::string>& words) {
    if (c.spec.nano_cpus != 0) push_flag(words, f, cpus_word(c.spec.nano_cpus));
}

Status apply_entrypoint(ParseState& st, const std::string& v) {
    // One word, never split; `--entrypoint ""` clears the image's entrypoint.
    st.cmd.spec.entrypoint = v.empty() ? std::vector<std::string>{} : std::vector<std::string>{v};
    return {};
}

void print_entrypoint(const Command& c, const FlagDef& f, std::vector<std::string>& words) {
    // parse_action makes at most one word (Docker's --entrypoint has no spelling for more).
    if (c.spec.entrypoint) push_flag(words, f, c.spec.entrypoint->empty() ? "" : c.spec.entrypoint->front());
}

// run/create keep the environment in the spec, exec in exec_env; both after --env-file is read.
void print_spec_env(const Command& c, const FlagDef& f, std::vector<std::string>& words) {
    for (const std::string& e : c.spec.env) push_flag(words, f, e);
}

void print_exec_env(const Command& c, const FlagDef& f, std::vector<std::string>& words) {
    for (const std::string& e : c.exec_env) push_flag(words, f, e);
}

Status apply_label(ParseState& st, const std::string& v) {
    size_t eq = v.find('=');
    std::string key = v.substr(0, eq);
    size_t b = key.find_first_not_of(" \t"), e = key.find_last_not_of(" \t");
    key = b == std::string::npos ? "" : key.substr(b, e - b + 1);
    if (key.empty()) return make_error("invalid label '" + v + "': empty name");
    st.cmd.spec.labels[key] = eq == std::string::npos ? "" : v.substr(eq + 1);
    return {};
}

void print_labels(const Command& c, const FlagDef& f, std::vector<std::string>& words) {
    for (const auto& [key, value] : c.spec.labels) push_flag(words, f, key + "=" + value);
}

Status apply_log_driver(ParseState& st, const std::string& v) {
    st.log_driver = v;
    return {};
}

Status apply_log_opt(ParseState& st, const std::string& v) {
    st.log_opts.push_back(v);
    return {};
}

// The driver is always json-file once parsed, so only the options that differ are printed.
void print_log_opts(const Command& c, const FlagDef& f, std::vector<std::string>& words) {
    const LogConfig& log = c.spec.log;
    const LogConfig& def = default_command().spec.log;
    if (log.max_size != def.max_size || log.max_size_text != def.max_size_text)
        push_flag(words, f, "max-size=" + log.max_size_text);
    if (log.max_file != def.max_file) push_flag(words, f, "max-file=" + std::to_string(log.max_file));
}

Status apply_security_opt(ParseState& st, const std::string& v) {
    st.security_opts.push_back(v);
    return {};
}

// The spec's security fields as the options that set them (a seccomp profile as its JSON text,
// which the parser takes inline as Docker's API does).
void print_security_opts(const Command& c, const FlagDef& f, std::vector<std::string>& words) {
    const ContainerSpec& s = c.spec;
    if (s.no_new_privileges) push_flag(words, f, std::string("no-new-privileges=") + (*s.no_new_privileges ? "true" : "false"));
    if (!s.seccomp.empty()) push_flag(words, f, "seccomp=" + s.seccomp);
    if (s.unmask_system_paths) push_flag(words, f, "systempaths=unconfined");
}

Status apply_memory(ParseState& st, const std::string& v) {
    auto n = parse_bytes(v);
    if (!n.ok()) return n.error();
    st.cmd.spec.memory_bytes = *n;
    return {};
}

void print_memory(const Command& c, const FlagDef& f, std::vector<std::string>& words) {
    if (c.spec.memory_bytes != 0) push_flag(words, f, bytes_word(c.spec.memory_bytes));
}

Status apply_memory_swap(ParseState& st, const std::string& v) {
    if (v == "-1") {
        st.cmd.memory_swap = -1;
        return {};
    }
    auto n = parse_bytes(v);
    if (!n.ok()) return n.error();
    st.cmd.memory_swap = *n;
    return {};
}

void print_memory_swap(const Command& c, const FlagDef& f, std::vector<std::string>& words) {
    if (c.memory_swap != 0) push_flag(words, f, c.memory_swap == -1 ? "-1" : bytes_word(c.memory_swap));
}

Status apply_network(ParseState& st, const std::string& v) {
    st.cmd.spec.network = v.empty() ? "default" : v;
    return {};
}

Status apply_publish(ParseState& st, const std::string& v) {
    st.publish.push_back(v);
    return {};
}

void print_publish(const Command& c, const FlagDef& f, std::vector<std::string>& words) {
    for (const PortMapping& m : c.spec.ports) push_flag(words, f, publish_word(m));
}

Status apply_restart(ParseState& st, const std::string& v) {
    st.restart = v;
    return {};
}

void print_restart(const Command& c, const FlagDef& f, std::vector<std::string>& words) {
    if (c.spec.restart != RestartPolicy{}) push_flag(words, f, restart_word(c.spec.restart));
}

Status apply_runtime(ParseState& st, const std::string& v) {
    st.cmd.spec.runtime = v == "isolab" ? "" : v;
    return {};
}

Status apply_volume(ParseState& st, const std::string& v) {
    st.volumes.push_back(v);
    return {};
}

Status apply_mount(ParseState& st, const std::string& v) {
    std::error_code ec;
    auto m = parse_mount_flag(v, std::filesystem::current_path(ec).string());
    if (!m) {
        // The CLI reads the fields; whether they make a valid mount is the daemon's question,
        // asked after every flag is read, with its prefix (Docker's order of errors).
        const std::string& why = m.error().message;
        if (why.rfind("invalid mount config", 0) == 0 || why.find("volume name") != std::string::npos) {
            if (st.mount_daemon_error.empty()) st.mount_daemon_error = why;
            return {};
        }
        return make_error(why);
    }
    st.mounts.push_back(*m);
    return {};
}

Status apply_tmpfs(ParseState& st, const std::string& v) {
    st.tmpfs.push_back(v);
    return {};
}

template <MountOrigin O>
void print_mounts(const Command& c, const FlagDef& f, std::vector<std::string>& words) {
    for (const MountSpec& m : c.spec.mounts)
        if (m.origin == O) push_flag(words, f, m.as_typed);
}

Status apply_timeout(ParseState& st, const std::string& v) {
    auto n = go_parse_int(v);
    if (!n.ok()) return n.error();
    st.cmd.time = *n;
    st.cmd.time_given = true;
    return {};
}

void print_timeout(const Command& c, const FlagDef& f, std::vector<std::string>& words) {
    if (c.time_given) push_flag(words, f, std::to_string(c.time));
}

// kill's finish step turns "no -s" into KILL, so KILL is not printed.
void print_kill_signal(const Command& c, const FlagDef& f, std::vector<std::string>& words) {
    if (!c.signal.empty() && c.signal != "KILL") push_flag(words, f, c.signal);
}

// `container inspect` and `image inspect` set the type before the flags are read.
std::string implied_inspect_type(const Command& c) {
    for (std::string_view group : {"container", "image"})
        if (c.command_path.rfind(std::string(group) + " ", 0) == 0) return std::string(group);
    return "";
}

void print_inspect_type(const Command& c, const FlagDef& f, std::vector<std::string>& words) {
    if (c.inspect_type != implied_inspect_type(c)) push_flag(words, f, c.inspect_type);
}

Status apply_frames(ParseState& st, const std::string& v) {
    auto n = go_parse_int(v);
    if (!n.ok()) return n.error();
    if (*n < 1) return make_error("must be at least 1");
    st.cmd.frames = *n;
    return {};
}

Status apply_lang(ParseState& st, const std::string& v) {
    if (v != "ko" && v != "en") return make_error("must be ko or en");
    st.cmd.lang = v;
    return {};
}

// --health-cmd and the other --health-* flags land in ParseState (Docker folds them after every
// flag is read); they print back from the spec's folded check.
template <std::string ParseState::*Field>
Status apply_health_text(ParseState& st, const std::string& v) {
    st.*Field = v;
    return {};
}

// pflag's DurationVar: Go's time.ParseDuration.
template <int64_t ParseState::*Field>
Status apply_health_duration(ParseState& st, const std::string& v) {
    auto ns = dockerfile::parse_go_duration(v);
    if (!ns.ok()) return make_error(ns.error().message);
    st.*Field = *ns;
    return {};
}

Status apply_health_retries(ParseState& st, const std::string& v) {
    auto n = go_parse_int(v);
    if (!n.ok()) return n.error();
    st.health_retries = *n;
    return {};
}

Status apply_no_healthcheck(ParseState& st, const std::string& v) {
    st.no_healthcheck = v == "true";
    return {};
}

const HealthConfig* typed_check(const Command& c) {
    if (!c.spec.healthcheck || (c.spec.healthcheck->test.size() == 1 && c.spec.healthcheck->test[0] == "NONE")) return nullptr;
    return &*c.spec.healthcheck;
}

void print_health_cmd(const Command& c, const FlagDef& f, std::vector<std::string>& words) {
    if (const HealthConfig* h = typed_check(c); h && h->test.size() == 2 && h->test[0] == "CMD-SHELL") push_flag(words, f, h->test[1]);
}

template <int64_t HealthConfig::*Field>
void print_health_duration(const Command& c, const FlagDef& f, std::vector<std::string>& words) {
    if (const HealthConfig* h = typed_check(c); h && h->*Field != 0) push_flag(words, f, go_duration_string(h->*Field));
}

void print_health_retries(const Command& c, const FlagDef& f, std::vector<std::string>& words) {
    if (const HealthConfig* h = typed_check(c); h && h->retries != 0) push_flag(words, f, std::to_string(h->retries));
}

void print_no_healthcheck(const Command& c, const FlagDef& f, std::vector<std::string>& words) {
    if (c.spec.healthcheck && !typed_check(c)) push_flag(words, f);
}

// ---- The tables.

const FlagDef kAttachStreamFlag = custom_flag("attach", 'a', FlagType::List, "Attach to STDIN, STDOUT or STDERR",
                                              apply_attach_stream, print_value<&Command::attach_streams>);
const FlagDef kEnvFileFlag = custom_flag("env-file", 0, FlagType::List, "Read in a file of environment variables",
                                         apply_env_file, nullptr);
constexpr std::string_view kEnvHelp = "Set environment variables";
constexpr std::string_view kDetachKeysHelp = "Override the key sequence for detaching a container";

// The flags `run` and `create` share (Docker's containerOptions plus create's own).
const FlagDef kContainerFlags[] = {
    kAttachStreamFlag,
    value_flag<&ContainerSpec::cap_add>("cap-add", 0, FlagType::List, "Add Linux capabilities"),
    value_flag<&ContainerSpec::cap_drop>("cap-drop", 0, FlagType::List, "Drop Linux capabilities"),
    custom_flag("cpus", 0, FlagType::Decimal, "Number of CPUs", apply_cpus, print_cpus),
    custom_flag("entrypoint", 0, FlagType::String, "Overwrite the default ENTRYPOINT of the image", apply_entrypoint,
                print_entrypoint),
    custom_flag("env", 'e', FlagType::List, kEnvHelp, apply_env, print_spec_env),
    kEnvFileFlag,
    custom_flag("health-cmd", 0, FlagType::String, "Command to run to check health",
                apply_health_text<&ParseState::health_cmd>, print_health_cmd),
    custom_flag("health-interval", 0, FlagType::Duration, "Time between running the check (ms|s|m|h) (default 0s)",
                apply_health_duration<&ParseState::health_interval>, print_health_duration<&HealthConfig::interval_ns>),
    custom_flag("health-retries", 0, FlagType::Int, "Consecutive failures needed to report unhealthy",
                apply_health_retries, print_health_retries),
    custom_flag("health-start-interval", 0, FlagType::Duration,
                "Time between running the check during the start period (ms|s|m|h) (default 0s)",
                apply_health_duration<&ParseState::health_start_interval>,
                print_health_duration<&HealthConfig::start_interval_ns>),
    custom_flag("health-start-period", 0, FlagType::Duration,
                "Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) "
                "(default 0s)",
                apply_health_duration<&ParseState::health_start_period>,
                print_health_duration<&HealthConfig::start_period_ns>),
    custom_flag("health-timeout", 0, FlagType::Duration, "Maximum time to allow one check to run (ms|s|m|h) (default 0s)",
                apply_health_duration<&ParseState::health_timeout>, print_health_duration<&HealthConfig::timeout_ns>),
    value_flag<&ContainerSpec::hostname>("hostname", 'h', FlagType::String, "Container host name"),
    bool_flag<&ContainerSpec::init>("init", 0,
                              "Run an init inside the container that forwards signals and reaps processes"),
    bool_flag<&ContainerSpec::interactive>("interactive", 'i', "Keep STDIN open even if not attached"),
    custom_flag("label", 'l', FlagType::List, "Set meta data on a container", apply_label, print_labels),
    custom_flag("log-driver", 0, FlagType::String, "Logging driver for the container", apply_log_driver, nullptr),
    custom_flag("log-opt", 0, FlagType::List, "Log driver options", apply_log_opt, print_log_opts),
    custom_flag("memory", 'm', FlagType::Bytes, "Memory limit", apply_memory, print_memory),
    custom_flag("mount", 0, FlagType::Mount, "Attach a filesystem mount to the container", apply_mount,
                print_mounts<MountOrigin::MountFlag>),
    custom_flag("memory-swap", 0, FlagType::Bytes, "Swap limit equal to memory plus swap: '-1' to enable unlimited swap",
                apply_memory_swap, print_memory_swap),
    // Validated in finish, as Docker's daemon does.
    value_flag<&ContainerSpec::name>("name", 0, FlagType::String, "Assign a name to the container"),
    custom_flag("network", 0, FlagType::Network, "Connect a container to a network", apply_network,
                print_value<&ContainerSpec::network>),
    custom_flag("net", 0, FlagType::Network, "Connect a container to a network", apply_network, nullptr, {}, true),
    custom_flag("no-healthcheck", 0, FlagType::Bool, "Disable any container-specified HEALTHCHECK", apply_no_healthcheck,
                print_no_healthcheck),
    value_flag<&ContainerSpec::ipc_mode>("ipc", 0, FlagType::String, "IPC mode to use"),
    value_flag<&ContainerSpec::pid_mode>("pid", 0, FlagType::String, "PID namespace to use"),
    value_flag<&ContainerSpec::pids_limit>("pids-limit", 0, FlagType::Int,
                                           "Tune container pids limit (set -1 for unlimited)"),
    bool_flag<&ContainerSpec::privileged>("privileged", 0, "Give extended privileges to this container"),
    custom_flag("publish", 'p', FlagType::List, "Publish a container's port(s) to the host", apply_publish,
                print_publish),
    bool_flag<&ContainerSpec::publish_all>("publish-all", 'P', "Publish all exposed ports to random ports"),
    value_flag<&Command::pull>("pull", 0, FlagType::String,
                               "Pull image before running (\"always\", \"missing\", \"never\")", "\"missing\""),
    bool_flag<&Command::quiet>("quiet", 'q', "Suppress the pull output"),
    bool_flag<&ContainerSpec::read_only>("read-only", 0, "Mount the container's root filesystem as read only"),
    custom_flag("restart", 0, FlagType::String, "Restart policy to apply when a container exits", apply_restart,
                print_restart, "\"no\""),
    custom_flag("security-opt", 0, FlagType::List, "Security Options", apply_security_opt, print_security_opts),
    bool_flag<&ContainerSpec::auto_remove>(
        "rm", 0, "Automatically remove the container and its associated anonymous volumes when it exits"),
    custom_flag("runtime", 0, FlagType::String, "Runtime to use for this container (isolab, or runc when installed)",
                apply_runtime, print_value<&ContainerSpec::runtime>),
    value_flag<&ContainerSpec::stop_signal>("stop-signal", 0, FlagType::String, "Signal to stop the container"),
    value_flag<&ContainerSpec::stop_timeout>("stop-timeout", 0, FlagType::Int,
                                             "Timeout (in seconds) to stop a container"),
    custom_flag("tmpfs", 0, FlagType::List, "Mount a tmpfs directory", apply_tmpfs, print_mounts<MountOrigin::TmpfsFlag>),
    bool_flag<&ContainerSpec::tty>("tty", 't', "Allocate a pseudo-TTY"),
    value_flag<&ContainerSpec::user>("user", 'u', FlagType::String,
                                     "Username or UID (format: <name|uid>[:<group|gid>])"),
    custom_flag("volume", 'v', FlagType::List, "Bind mount a volume", apply_volume, print_mounts<MountOrigin::VolumeFlag>),
    value_flag<&ContainerSpec::volumes_from>("volumes-from", 0, FlagType::List,
                                             "Mount volumes from the specified container(s)"),
    value_flag<&ContainerSpec::uts_mode>("uts", 0, FlagType::String, "UTS namespace to use"),
    value_flag<&ContainerSpec::workdir>("workdir", 'w', FlagType::String, "Working directory inside the container"),
};

const FlagDef kRunOnlyFlags[] = {
    bool_flag<&Command::detach>("detach", 'd', "Run container in background and print container ID"),
    value_flag<&Command::detach_keys>("detach-keys", 0, FlagType::String, kDetachKeysHelp),
    bool_flag<&Command::sig_proxy>("sig-proxy", 0, "Proxy received signals to the process", "true"),
};

const FlagDef kStartFlags[] = {
    bool_flag<&Command::attach>("attach", 'a', "Attach STDOUT/STDERR and forward signals"),
    value_flag<&Command::detach_keys>("detach-keys", 0, FlagType::String, kDetachKeysHelp),
    bool_flag<&Command::interactive>("interactive", 'i', "Attach container's STDIN"),
};

const FlagDef kAttachFlags[] = {
    value_flag<&Command::detach_keys>("detach-keys", 0, FlagType::String, kDetachKeysHelp),
    bool_flag<&Command::no_stdin>("no-stdin", 0, "Do not attach STDIN"),
    bool_flag<&Command::sig_proxy>("sig-proxy", 0, "Proxy all received signals to the process", "true"),
};

const FlagDef kStopFlags[] = {
    value_flag<&Command::signal>("signal", 's', FlagType::String, "Signal to send to the container"),
    custom_flag("timeout", 't', FlagType::Int, "Seconds to wait before killing the container", apply_timeout,
                print_timeout),
    custom_flag("time", 0, FlagType::Int, "Seconds to wait before killing the container (deprecated: use --timeout)",
                apply_timeout, nullptr, {}, true),
};

const FlagDef kKillFlags[] = {
    custom_flag("signal", 's', FlagType::String, "Signal to send to the container", set_value<&Command::signal>,
                print_kill_signal, "\"KILL\""),
};

const FlagDef kRmFlags[] = {
    bool_flag<&Command::force>("force", 'f', "Force the removal of a running container (uses SIGKILL)"),
    bool_flag<&Command::link>("link", 'l', "Remove the specified link"),
    bool_flag<&Command::volumes>("volumes", 'v', "Remove anonymous volumes associated with the container"),
};

const FlagDef kFormatFlag =
    value_flag<&Command::format>("format", 0, FlagType::String, "Format output using a custom template");
// Docker's client keeps a filter word as KEY=VALUE (key lowercased, both sides trimmed) and drops
// an empty one; a word without '=' is a flag error (filters.hpp).
Status apply_filter(ParseState& st, const std::string& v) {
    auto word = FilterArgs::normalize(v);
    if (!word) return word.error();
    if (!word->empty()) st.cmd.filters.push_back(*word);
    return {};
}
const FlagDef kFilterFlag = custom_flag("filter", 'f', FlagType::Filter, "Filter output based on conditions provided",
                                        apply_filter, print_value<&Command::filters>);
const FlagDef kNoTruncFlag = bool_flag<&Command::no_trunc>("no-trunc", 0, "Don't truncate output");

const FlagDef kPsFlags[] = {
    bool_flag<&Command::all>("all", 'a', "Show all containers (default shows just running)"),
    kFilterFlag,
    kFormatFlag,
    value_flag<&Command::last>("last", 'n', FlagType::Int, "Show n last created containers (includes all states)",
                               "-1"),
    bool_flag<&Command::latest>("latest", 'l', "Show the latest created container (includes all states)"),
    kNoTruncFlag,
    bool_flag<&Command::quiet>("quiet", 'q', "Only display container IDs"),
    bool_flag<&Command::size>("size", 's', "Display total file sizes"),
};

const FlagDef kLogsFlags[] = {
    bool_flag<&Command::details>("details", 0, "Show extra details provided to logs"),
    bool_flag<&Command::follow>("follow", 'f', "Follow log output"),
    value_flag<&Command::since>(
        "since", 0, FlagType::String,
        "Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for 42 minutes)"),
    value_flag<&Command::tail>("tail", 'n', FlagType::String, "Number of lines to show from the end of the logs",
                               "\"all\""),
    bool_flag<&Command::timestamps>("timestamps", 't', "Show timestamps"),
    value_flag<&Command::until>(
        "until", 0, FlagType::String,
        "Show logs before a timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for 42 minutes)"),
};

const FlagDef kExecFlags[] = {
    bool_flag<&Command::detach>("detach", 'd', "Detached mode: run command in the background"),
    value_flag<&Command::detach_keys>("detach-keys", 0, FlagType::String, kDetachKeysHelp),
    custom_flag("env", 'e', FlagType::List, kEnvHelp, apply_env, print_exec_env),
    kEnvFileFlag,
    bool_flag<&Command::interactive>("interactive", 'i', "Keep STDIN open even if not attached"),
    bool_flag<&Command::privileged>("privileged", 0, "Give extended privileges to the command"),
    bool_flag<&Command::tty>("tty", 't', "Allocate a pseudo-TTY"),
    value_flag<&Command::exec_user>("user", 'u', FlagType::String,
                                    "Username or UID (format: \"<name|uid>[:<group|gid>]\")"),
    value_flag<&Command::exec_workdir>("workdir", 'w', FlagType::String, "Working directory inside the container"),
};

const FlagDef kInspectFlags[] = {
    value_flag<&Command::format>("format", 'f', FlagType::String, "Format output using a custom template"),
    bool_flag<&Command::size>("size", 's', "Display total file sizes if the type is container"),
    custom_flag("type", 0, FlagType::String, "Only inspect objects of the given type",
                set_value<&Command::inspect_type>, print_inspect_type),
};

const FlagDef kCommitFlags[] = {
    value_flag<&Command::author>("author", 'a', FlagType::String,
                                 "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")"),
    value_flag<&Command::changes>("change", 'c', FlagType::List, "Apply Dockerfile instruction to the created image"),
    value_flag<&Command::message>("message", 'm', FlagType::String, "Commit message"),
    bool_flag<&Command::pause>("pause", 'p', "Pause container during commit", "true"),
};

const FlagDef kHistoryFlags[] = {
    kFormatFlag,
    bool_flag<&Command::human>("human", 'H', "Print sizes and dates in human readable format", "true"),
    kNoTruncFlag,
    bool_flag<&Command::quiet>("quiet", 'q', "Only show image IDs"),
};

const FlagDef kImagesFlags[] = {
    bool_flag<&Command::all>("all", 'a', "Show all images (default hides intermediate images)"),
    bool_flag<&Command::digests>("digests", 0, "Show digests"),
    kFilterFlag,
    kFormatFlag,
    kNoTruncFlag,
    bool_flag<&Command::quiet>("quiet", 'q', "Only show image IDs"),
};

const FlagDef kRmiFlags[] = {
    bool_flag<&Command::force>("force", 'f', "Force removal of the image"),
    bool_flag<&Command::no_prune>("no-prune", 0, "Do not delete untagged parents"),
};

const FlagDef kBuildFlags[] = {
    value_flag<&Command::build_args>("build-arg", 0, FlagType::List, "Set build-time variables"),
    value_flag<&Command::dockerfile>("file", 'f', FlagType::String,
                                     "Name of the Dockerfile (default: \"PATH/Dockerfile\")"),
    bool_flag<&Command::no_cache>("no-cache", 0, "Do not use cache when building the image"),
    value_flag<&Command::progress>("progress", 0, FlagType::String,
                                   "Set type of progress output (\"auto\", \"plain\", \"quiet\")"),
    bool_flag<&Command::quiet>("quiet", 'q', "Suppress the build output and print image ID on success"),
    value_flag<&Command::tags>("tag", 't', FlagType::List, "Name and optionally a tag (format: \"name:tag\")"),
    value_flag<&Command::target>("target", 0, FlagType::String, "Set the target build stage to build"),
};

const FlagDef kSaveFlags[] = {
    value_flag<&Command::output>("output", 'o', FlagType::String, "Write to a file, instead of STDOUT"),
};

// Docker 28's pull; --disable-content-trust is not offered (IsoLab verifies digests, not signatures).
const FlagDef kPullFlags[] = {
    bool_flag<&Command::all>("all-tags", 'a', "Download all tagged images in the repository"),
    value_flag<&Command::platform>("platform", 0, FlagType::String, "Set platform if server is multi-platform capable"),
    bool_flag<&Command::quiet>("quiet", 'q', "Suppress verbose output"),
};

// Docker 28's push. --disable-content-trust keeps Docker's default (true: no signing); false asks
// for Docker Content Trust, which IsoLab does not offer, and is refused with what to do instead.
const FlagDef kPushFlags[] = {
    bool_flag<&Command::all>("all-tags", 'a', "Push all tags of an image to the repository"),
    bool_flag<&Command::disable_content_trust>("disable-content-trust", 0, "Skip image signing", "true"),
    value_flag<&Command::platform>("platform", 0, FlagType::String,
                                   "Push a platform-specific manifest as a single-platform image to the registry. Image "
                                   "index won't be pushed, meaning that other manifests, including attestations won't be "
                                   "preserved. 'os[/arch[/variant]]': Explicit platform (eg. linux/amd64)"),
    bool_flag<&Command::quiet>("quiet", 'q', "Suppress verbose output"),
};

// Docker 28's login, except -p/--password: listed (so that a learner who types it reads why) and
// always refused by finish_login.
Status apply_login_password(ParseState& st, const std::string&) {
    st.password_given = true;
    return {};
}

const FlagDef kLoginFlags[] = {
    custom_flag("password", 'p', FlagType::String,
                "Refused: a password on the command line stays in the shell history; use --password-stdin",
                apply_login_password, nullptr),
    bool_flag<&Command::password_stdin>("password-stdin", 0, "Take the Password or Personal Access Token (PAT) from stdin"),
    value_flag<&Command::username>("username", 'u', FlagType::String, "Username"),
};

// Docker 28's search: the deprecated --automated and --stars are gone there too.
const FlagDef kSearchFlags[] = {
    kFilterFlag,
    value_flag<&Command::format>("format", 0, FlagType::String, "Pretty-print search using a Go template"),
    value_flag<&Command::limit>("limit", 0, FlagType::Int, "Max number of search results"),
    kNoTruncFlag,
};

const FlagDef kLoadFlags[] = {
    value_flag<&Command::input>("input", 'i', FlagType::String, "Read from tar archive file, instead of STDIN"),
    bool_flag<&Command::quiet>("quiet", 'q', "Suppress the load output"),
};

// Docker's cp: -q wraps its help over three lines there; IsoLab's flag rows are one line each.
const FlagDef kCpFlags[] = {
    bool_flag<&Command::archive>("archive", 'a', "Archive mode (copy all uid/gid information)"),
    bool_flag<&Command::follow_link>("follow-link", 'L', "Always follow symbol link in SRC_PATH"),
    bool_flag<&Command::quiet>("quiet", 'q',
                               "Suppress progress output during copy. Progress output is automatically suppressed if no "
                               "terminal is attached"),
};

const FlagDef kExportFlags[] = {
    value_flag<&Command::output>("output", 'o', FlagType::String, "Write to a file, instead of STDOUT"),
};

// Docker's --platform is left out: IsoLab imports for this machine only.
const FlagDef kImportFlags[] = {
    value_flag<&Command::changes>("change", 'c', FlagType::List, "Apply Dockerfile instruction to the created image"),
    value_flag<&Command::message>("message", 'm', FlagType::String, "Set commit message for imported image"),
};

// The prune commands' --filter: the listings' words (apply_filter); which names a command accepts
// is the daemon's check (prune_commands.cpp).
constexpr FlagDef prune_filter_flag(std::string_view example) {
    return custom_flag("filter", 0, FlagType::Filter, example, apply_filter, print_value<&Command::filters>);
}
const FlagDef kPruneForceFlag = bool_flag<&Command::force>("force", 'f', "Do not prompt for confirmation");

const FlagDef kPruneFlags[] = {  // container prune, network prune
    prune_filter_flag("Provide filter values (e.g. \"until=<timestamp>\")"),
    kPruneForceFlag,
};

const FlagDef kImagePruneFlags[] = {
    bool_flag<&Command::all>("all", 'a', "Remove all unused images, not just dangling ones"),
    prune_filter_flag("Provide filter values (e.g. \"until=<timestamp>\")"),
    kPruneForceFlag,
};

const FlagDef kSystemPruneFlags[] = {
    bool_flag<&Command::all>("all", 'a', "Remove all unused images not just dangling ones"),
    prune_filter_flag("Provide filter values (e.g. \"label=<key>=<value>\")"),
    kPruneForceFlag,
    bool_flag<&Command::volumes>("volumes", 0, "Prune anonymous volumes"),
};

const FlagDef kNetworkCreateFlags[] = {
    value_flag<&Command::network_driver>("driver", 'd', FlagType::String, "Driver to manage the Network", "\"bridge\""),
    bool_flag<&Command::internal>("internal", 0, "Restrict external access to the network"),
    value_flag<&Command::network_labels>("label", 0, FlagType::List, "Set metadata on a network"),
    value_flag<&Command::subnet>("subnet", 0, FlagType::String, "Subnet in CIDR format that represents a network segment"),
};

const FlagDef kNetworkLsFlags[] = {
    kFilterFlag,
    value_flag<&Command::format>("format", 0, FlagType::String, "Format output using a custom template"),
    kNoTruncFlag,
    bool_flag<&Command::quiet>("quiet", 'q', "Only display network IDs"),
};

const FlagDef kNetworkInspectFlags[] = {
    value_flag<&Command::format>("format", 'f', FlagType::String, "Format output using a custom template"),
};

const FlagDef kNetworkDisconnectFlags[] = {
    bool_flag<&Command::force>("force", 'f', "Force the container to disconnect from a network"),
};

// volume create: Docker's local driver only; -o/--opt (the local driver's mount options: tmpfs, NFS,
// a device) is refused in finish_volume_create, never accepted and ignored. Docker's cluster-volume
// flags (swarm) are left out.
Status apply_volume_label(ParseState& st, const std::string& v) {
    size_t eq = v.find('=');
    std::string key = trim(v.substr(0, eq));
    if (key.empty()) return make_error("invalid label '" + v + "': empty name");
    if (key.find_first_of(" \t\n\r\v\f") != std::string::npos)
        return make_error("label '" + key + "' contains whitespaces");
    st.cmd.volume_labels[v.substr(0, eq)] = eq == std::string::npos ? "" : v.substr(eq + 1);
    return {};
}

void print_volume_labels(const Command& c, const FlagDef& f, std::vector<std::string>& words) {
    for (const auto& [key, value] : c.volume_labels) push_flag(words, f, key + "=" + value);
}

Status apply_volume_name(ParseState& st, const std::string& v) {
    st.volume_name = v;
    return {};
}

Status apply_volume_opt(ParseState& st, const std::string& v) {
    st.volume_opts.push_back(v);
    return {};
}

const FlagDef kVolumeCreateFlags[] = {
    value_flag<&Command::volume_driver>("driver", 'd', FlagType::String, "Specify volume driver name", "\"local\""),
    custom_flag("label", 0, FlagType::List, "Set metadata for a volume", apply_volume_label, print_volume_labels),
    // Moved into the positional by finish_volume_create, which prints it back.
    custom_flag("name", 0, FlagType::String, "Specify volume name", apply_volume_name, nullptr, {}, true),
    // Always refused by finish_volume_create, so a parsed Command has nothing to print.
    custom_flag("opt", 'o', FlagType::Map, "Set driver specific options", apply_volume_opt, nullptr, "map[]"),
};

const FlagDef kVolumeLsFlags[] = {
    custom_flag("filter", 'f', FlagType::Filter, "Provide filter values (e.g. \"dangling=true\")", apply_filter,
                print_value<&Command::filters>),
    value_flag<&Command::format>("format", 0, FlagType::String,
                                 "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or 'TEMPLATE'"),
    bool_flag<&Command::quiet>("quiet", 'q', "Only display volume names"),
};

const FlagDef kVolumeInspectFlags[] = {
    value_flag<&Command::format>("format", 'f', FlagType::String,
                                 "Format output using a custom template: 'json' or 'TEMPLATE'"),
};

const FlagDef kVolumeRmFlags[] = {
    bool_flag<&Command::force>("force", 'f', "Force the removal of one or more volumes"),
};

const FlagDef kVolumePruneFlags[] = {
    bool_flag<&Command::all>("all", 'a', "Remove all unused volumes, not just anonymous ones"),
    prune_filter_flag("Provide filter values (e.g. \"label=<label>\")"),
    kPruneForceFlag,
};

const FlagDef kSystemDfFlags[] = {
    kFormatFlag,
    bool_flag<&Command::verbose>("verbose", 'v', "Show detailed information on space usage"),
};

const FlagDef kSystemResetFlags[] = {
    bool_flag<&Command::force>("force", 'f', "Do it: without -f, reset only says what it would remove"),
};

const FlagDef kDoctorFlags[] = {
    bool_flag<&Command::fix>("fix", 0,
                             "Remove the bridges and firewall rules that deleted state roots and older IsoLab "
                             "versions left, and print what was removed"),
    bool_flag<&Command::json>("json", 0, "Print the report as JSON"),
};

const FlagDef kVersionFlags[] = {
    value_flag<&Command::format>("format", 'f', FlagType::String, "Format output using a custom template"),
};

const FlagDef kGuiFlags[] = {
    bool_flag<&Command::gui_audit>("audit", 0, "With --screenshot: write each picture's layout audit to FILE.audit.json"),
    custom_flag("frames", 0, FlagType::Int, "Render N frames, write --screenshot and exit", apply_frames,
                print_value<&Command::frames>),
    // The same field as the global --lang, which prints it.
    custom_flag("lang", 0, FlagType::String, "Language of the window: ko or en", apply_lang, nullptr),
    value_flag<&Command::lesson>("lesson", 0, FlagType::String,
                                 "Open the lesson with this ID (with --present: the clicker demo)"),
    bool_flag<&Command::lessons>("lessons", 0, "Start in the Lessons mode (the lesson list)"),
    bool_flag<&Command::study_group>("study-group", 0,
                                     "Lessons for a group at one screen: a timer, discussion prompts, reveal"),
    bool_flag<&Command::present>("present", 0, "Projector mode: larger text and widgets"),
    value_flag<&Command::screenshot>("screenshot", 0, FlagType::String, "Write a PNG of the window to this file"),
    value_flag<&Command::gui_select>("select", 0, FlagType::String,
                                     "Select a container (or vm:NAME) when the window opens"),
    value_flag<&Command::gui_size>("size", 0, FlagType::String, "Window size WIDTHxHEIGHT (default 1600x900)"),
    bool_flag<&Command::fullscreen>("fullscreen", 0, "Open fullscreen (F11 toggles)"),
    value_flag<&Command::gui_view>("view", 0, FlagType::String,
                                   "Tab to show: race, lifecycle, isolation, images, network, terminal, resources"),
};

// rename, update, stats, events, info (app/cli/everyday_commands.cpp runs them).
Status apply_update_memory(ParseState& st, const std::string& v) {
    auto n = parse_bytes(v);
    if (!n.ok()) return n.error();
    st.cmd.update.memory_bytes = *n;
    return {};
}

Status apply_update_memory_swap(ParseState& st, const std::string& v) {
    if (v == "-1") {
        st.cmd.update.memory_swap = -1;
        return {};
    }
    auto n = parse_bytes(v);
    if (!n.ok()) return n.error();
    st.cmd.update.memory_swap = *n;
    return {};
}

Status apply_update_cpus(ParseState& st, const std::string& v) {
    auto n = parse_cpus(v);
    if (!n.ok()) return n.error();
    st.cmd.update.nano_cpus = *n;
    return {};
}

Status apply_update_pids(ParseState& st, const std::string& v) {
    auto n = go_parse_int64(v);
    if (!n.ok()) return n.error();
    st.cmd.update.pids_limit = *n;
    return {};
}

void print_update(const Command& c, const FlagDef& f, std::vector<std::string>& words) {
    const ResourceUpdate& u = c.update;
    if (f.name == "memory" && u.memory_bytes) push_flag(words, f, bytes_word(*u.memory_bytes));
    if (f.name == "memory-swap" && u.memory_swap) push_flag(words, f, *u.memory_swap == -1 ? "-1" : bytes_word(*u.memory_swap));
    if (f.name == "cpus" && u.nano_cpus) push_flag(words, f, cpus_word(*u.nano_cpus));
    if (f.name == "pids-limit" && u.pids_limit) push_flag(words, f, std::to_string(*u.pids_limit));
    if (f.name == "restart" && u.restart) push_flag(words, f, restart_word(*u.restart));
}

const FlagDef kUpdateFlags[] = {
    custom_flag("cpus", 0, FlagType::Decimal, "Number of CPUs", apply_update_cpus, print_update),
    custom_flag("memory", 'm', FlagType::Bytes, "Memory limit", apply_update_memory, print_update),
    custom_flag("memory-swap", 0, FlagType::Bytes, "Swap limit equal to memory plus swap: -1 to enable unlimited swap",
                apply_update_memory_swap, print_update),
    custom_flag("pids-limit", 0, FlagType::Int, "Tune container pids limit (set -1 for unlimited)", apply_update_pids,
                print_update),
    custom_flag("restart", 0, FlagType::String, "Restart policy to apply when a container exits", apply_restart,
                print_update),
};

const FlagDef kStatsFlags[] = {
    bool_flag<&Command::all>("all", 'a', "Show all containers (default shows just running)"),
    kFormatFlag,
    bool_flag<&Command::no_stream>("no-stream", 0, "Disable streaming stats and only pull the first result"),
    bool_flag<&Command::no_trunc>("no-trunc", 0, "Do not truncate output"),
};

const FlagDef kEventsFlags[] = {
    kFilterFlag,
    kFormatFlag,
    value_flag<&Command::since>("since", 0, FlagType::String, "Show all events created since timestamp"),
    value_flag<&Command::until>("until", 0, FlagType::String, "Stream events until this timestamp"),
};

const FlagDef kInfoFlags[] = {
    value_flag<&Command::format>("format", 'f', FlagType::String, "Format output using a custom template"),
};

// Flags before the verb (Docker's global options, IsoLab's own).
const FlagDef kGlobalFlags[] = {
    bool_flag<&Command::debug>("debug", 'D', "Enable debug mode"),
    custom_flag("lang", 0, FlagType::String, "Language of messages and the window: ko or en", apply_lang,
                print_value<&Command::lang>),
    value_flag<&Command::global_root>("root", 0, FlagType::String,
                                      "State root (default $ISOLAB_ROOT, else /var/lib/isolab as root)"),
    bool_flag<&Command::short_version>("version", 'v', "Print version information and quit"),
};

// ---------------------------------------------------------------------------------------------
// Per-verb finishing: positionals into the Command, then Docker's post-parse checks.

// --log-driver and --log-opt. IsoLab has one driver, Docker's json-file, and of its options the
// two that bound its size; everything else is refused, naming what IsoLab takes, rather than
// accepted and ignored. The json-file words are Docker's (its ValidateLogOpt and New).
Status apply_log_options(const std::string& driver, const std::vector<std::string>& opts, LogConfig& log) {
    if (!driver.empty() && driver != "json-file")
        return make_error("log driver \"" + driver +
                          "\" is not supported: IsoLab logs only with json-file (leave out --log-driver, or use "
                          "--log-driver json-file with --log-opt max-size=SIZE and --log-opt max-file=N)");
    for (const std::string& kv : opts) {
        size_t eq = kv.find('=');
        const std::string key = kv.substr(0, eq), value = eq == std::string::npos ? "" : kv.substr(eq + 1);
        if (key == "max-size") {
            auto n = parse_log_max_size(value);
            if (!n.ok()) return n.error().wrap("failed to initialize logging driver: log opt '" + key + "'");
            log.max_size = *n;
            log.max_size_text = value;
        } else if (key == "max-file") {
            auto n = parse_log_max_file(value);
            if (!n.ok()) return n.error().wrap("failed to initialize logging driver: log opt '" + key + "'");
            log.max_file = *n;
        } else if (key == "compress" || key == "labels" || key == "labels-regex" || key == "env" ||
                   key == "env-regex" || key == "tag") {  // Docker's json-file knows these
            return make_error("log opt '" + key +
                              "' is not supported by IsoLab's json-file log driver (IsoLab supports max-size and "
                              "max-file)");
        } else {
            return make_error("unknown log opt '" + key +
                              "' for json-file log driver (IsoLab supports max-size and max-file)");
        }
    }
    return {};
}

// Precondition (checked by check_arg_count): pos.size() >= 1.
// One --security-opt, with Docker's rules: the CLI reads a seccomp profile file (opts.go
// parseSecurityOpts), the daemon checks the rest (parseSecurityOpt). IsoLab's confinement is
// namespaces, capabilities and seccomp: an AppArmor or SELinux option is refused, not ignored.
Status apply_security_option(const std::string& opt, ContainerSpec& s, const std::string& path) {
    if (opt == "no-new-privileges") {
        s.no_new_privileges = true;
        return {};
    }
    size_t sep = opt.find('=');
    if (sep == std::string::npos) sep = opt.find(':');  // Docker's deprecated separator
    if (sep == std::string::npos) return daemon_error(path, "invalid --security-opt 1: \"" + opt + "\"");
    const std::string key = opt.substr(0, sep), value = opt.substr(sep + 1);
    if (key == "no-new-privileges") {
        static const std::set<std::string> yes = {"1", "t", "T", "TRUE", "true", "True"};
        static const std::set<std::string> no = {"0", "f", "F", "FALSE", "false", "False"};  // Go's ParseBool
        if (!yes.count(value) && !no.count(value)) return daemon_error(path, "invalid --security-opt 2: \"" + opt + "\"");
        s.no_new_privileges = yes.count(value) > 0;
        return {};
    }
    if (key == "seccomp") {
        if (value == "unconfined") s.seccomp = "unconfined";
        else if (value == "builtin") s.seccomp.clear();
        else if (!value.empty() && value[0] == '{') s.seccomp = value;  // a profile given inline (the API's form)
        else {
            auto text = read_file(value);
            if (!text) return run_error(path, "opening seccomp profile (" + value + ") failed: " + text.error().message);
            auto j = nlohmann::json::parse(*text, nullptr, false);
            if (j.is_discarded()) return run_error(path, "compacting json for seccomp profile (" + value + ") failed: invalid JSON");
            s.seccomp = j.dump();
        }
        return {};
    }
    if (key == "systempaths") {
        if (value != "unconfined")
            return run_error(path, "invalid value \"" + value + "\" for systempaths: only \"unconfined\" is supported");
        s.unmask_system_paths = true;
        return {};
    }
    if (key == "apparmor" || key == "label")
        return run_error(path, i18n::trf("cli.refuse.security_opt_lsm", {opt, key == "apparmor" ? "AppArmor" : "SELinux"}));
    if (key == "writable-cgroups")
        return run_error(path, i18n::trf("cli.refuse.writable_cgroups", {opt}));
    return daemon_error(path, "invalid --security-opt 2: \"" + opt + "\"");
}

// Docker's client (cli/command/container/opts.go): --no-healthcheck is {"NONE"} and takes no
// --health-* beside it; any --health-* makes a check ({"CMD-SHELL", cmd} when a command was
// given), none of its durations or retries negative. nullopt: no flag said anything.
Result<std::optional<HealthConfig>> fold_healthcheck(const ParseState& st) {
    const bool settings = !st.health_cmd.empty() || st.health_interval != 0 || st.health_timeout != 0 ||
                          st.health_start_period != 0 || st.health_retries != 0 || st.health_start_interval != 0;
    if (st.no_healthcheck) {
        if (settings) return make_error("--no-healthcheck conflicts with --health-* options");
        return std::optional<HealthConfig>(HealthConfig{{"NONE"}});
    }
    if (!settings) return std::optional<HealthConfig>();
    if (st.health_interval < 0) return make_error("--health-interval cannot be negative");
    if (st.health_timeout < 0) return make_error("--health-timeout cannot be negative");
    if (st.health_retries < 0) return make_error("--health-retries cannot be negative");
    if (st.health_start_period < 0) return make_error("--health-start-period cannot be negative");
    if (st.health_start_interval < 0) return make_error("--health-start-interval cannot be negative");
    HealthConfig h;
    if (!st.health_cmd.empty()) h.test = {"CMD-SHELL", st.health_cmd};
    h.interval_ns = st.health_interval;
    h.timeout_ns = st.health_timeout;
    h.start_period_ns = st.health_start_period;
    h.start_interval_ns = st.health_start_interval;
    h.retries = st.health_retries;
    return std::optional<HealthConfig>(h);
}

Status finish_container(ParseState& st, std::vector<std::string>& pos, const VerbDef&, const std::string& path) {
    Command& c = st.cmd;
    ContainerSpec& s = c.spec;
    s.image = pos[0];
    s.cmd.assign(pos.begin() + 1, pos.end());
    if (s.image.empty()) return run_error(path, "invalid reference format");

    // Client-side checks, in the order of Docker's RunRun/parse().
    if (c.pull != "always" && c.pull != "missing" && c.pull != "never")
        return run_error(path, "invalid pull option: '" + c.pull + "': must be one of \"always\", \"missing\" or \"never\"");
    for (const std::string& p : st.publish) {
        auto ports = parse_publish(p);
        if (!ports.ok()) return run_error(path, ports.error().message);
        s.ports.insert(s.ports.end(), ports->begin(), ports->end());
    }
    std::vector<std::string> env;
    for (const std::string& file : st.env_files) {
        auto lines = read_env_file(file);
        if (!lines.ok()) return run_error(path, lines.error().message);
        env.insert(env.end(), lines->begin(), lines->end());
    }
    env.insert(env.end(), st.env.begin(), st.env.end());
    s.env = only_assignments(std::move(env));

    RawRestart raw_restart;
    if (!st.restart.empty()) {
        auto r = parse_restart_format(st.restart);
        if (!r.ok()) return run_error(path, r.error().message);
        raw_restart = *r;
    }
    bool restarts = !raw_restart.name.empty() && raw_restart.name != "no";
    if (s.auto_remove && restarts) return run_error(path, "conflicting options: cannot specify both --restart and --rm");
    if (c.verb == "run" && c.detach && !c.attach_streams.empty())
        return make_error("Conflicting options: -a and -d", kUsageExit);
    // Mounts: -v (the daemon parses it: its errors), --mount (parsed as the flag was read),
    // --tmpfs, in HostConfig's order (Binds, Mounts, Tmpfs); two on one target is the daemon's
    // "Duplicate mount point".
    {
        std::error_code ec;
        const std::string cwd = std::filesystem::current_path(ec).string();
        for (const std::string& v : st.volumes) {
            auto m = parse_volume_flag(absolute_volume_source(v, cwd));
            if (!m) return daemon_error(path, m.error().message);
            s.mounts.push_back(*m);
        }
        if (!st.mount_daemon_error.empty()) return daemon_error(path, st.mount_daemon_error);
        s.mounts.insert(s.mounts.end(), st.mounts.begin(), st.mounts.end());
        for (const std::string& t : st.tmpfs) {
            auto m = parse_tmpfs_flag(t);
            if (!m) return daemon_error(path, m.error().message);
            s.mounts.push_back(*m);
        }
        if (auto d = check_duplicate_targets(s.mounts); !d) return daemon_error(path, d.error().message);
        for (const std::string& v : s.volumes_from)
            if (auto f = parse_volumes_from(v); !f) return daemon_error(path, f.error().message);
    }
    for (const std::string& opt : st.security_opts)
        if (Status so = apply_security_option(opt, s, path); !so) return so.error();
    if (auto keys = parse_detach_keys(c.detach_keys); !keys) return daemon_error(path, keys.error().message);
    // Namespace modes, as Docker's client validates them (container.IpcMode/PidMode/UTSMode Valid).
    auto joins_container = [](const std::string& m) { return m.rfind("container:", 0) == 0 && m.size() > 10; };
    if (const std::string& m = s.ipc_mode;
        !(m.empty() || m == "none" || m == "private" || m == "shareable" || m == "host" || joins_container(m)))
        return run_error(path, "--ipc: invalid IPC mode");
    if (!(s.pid_mode.empty() || s.pid_mode == "host" || joins_container(s.pid_mode)))
        return run_error(path, "--pid: invalid PID mode");
    if (!(s.uts_mode.empty() || s.uts_mode == "host")) return run_error(path, "--uts: invalid UTS mode");
    if (auto check = fold_healthcheck(st); !check) return run_error(path, check.error().message);
    else s.healthcheck = *check;

    // Daemon-side checks (Docker's verifyContainerSettings), same words.
    const bool net_container = s.network.rfind("container:", 0) == 0;
    if (net_container && s.network.size() == 10) return daemon_error(path, "invalid container format container:<name|id>");
    if (net_container && !s.hostname.empty()) return daemon_error(path, "conflicting options: hostname and the network mode");
    if (net_container && (!st.publish.empty() || s.publish_all))
        return daemon_error(path, "conflicting options: port publishing and the container type network mode");
    if (s.uts_mode == "host" && !s.hostname.empty()) return daemon_error(path, "conflicting options: hostname and the UTS mode");
    if (!s.workdir.empty() && s.workdir[0] != '/')
        return daemon_error(path, "the working directory '" + s.workdir + "' is invalid, it needs to be an absolute path");
    if (s.healthcheck)
        if (auto h = validate_healthcheck(*s.healthcheck); !h) return daemon_error(path, h.error().message);
    if (s.memory_bytes > 0 && s.memory_bytes < kMinMemoryBytes)
        return daemon_error(path, "Minimum memory limit allowed is 6MB");
    if (s.memory_bytes > 0 && c.memory_swap > 0 && c.memory_swap < s.memory_bytes)
        return daemon_error(path, "Minimum memoryswap limit should be larger than memory limit, see usage");
    if (s.memory_bytes == 0 && c.memory_swap > 0)
        return daemon_error(path, "You should always set the Memory limit when using Memoryswap limit, see usage");
    s.memory_swap = c.memory_swap;
    if (s.nano_cpus != 0) {
        long host_cpus = sysconf(_SC_NPROCESSORS_ONLN);
        if (host_cpus < 1) host_cpus = 1;
        // Docker's daemon checks 0 <= nano <= N*1e9 (0 = no limit); IsoLab also holds it to the
        // 0.01 its own message promises, because a smaller CFS quota is refused by the kernel.
        if (s.nano_cpus < kMinNanoCpus || s.nano_cpus > int64_t(host_cpus) * 1'000'000'000) {
            std::string n = std::to_string(host_cpus);
            return daemon_error(path, "range of CPUs is from 0.01 to " + n + ".00, as there are only " + n +
                                          " CPUs available");
        }
    }
    if (!s.stop_signal.empty()) {
        auto sig = parse_signal(s.stop_signal);
        if (!sig.ok()) return daemon_error(path, sig.error().message);
    }
    if (!st.restart.empty()) {
        auto policy = validate_restart(raw_restart);
        if (!policy.ok()) return daemon_error(path, policy.error().message);
        s.restart = *policy;
    }
    if (Status log = apply_log_options(st.log_driver, st.log_opts, s.log); !log)
        return daemon_error(path, log.error().message);
    if (auto caps = security::normalize_capabilities(s.cap_add); !caps) return daemon_error(path, "invalid CapAdd: " + caps.error().message);
    if (auto caps = security::normalize_capabilities(s.cap_drop); !caps) return daemon_error(path, "invalid CapDrop: " + caps.error().message);
    if (!s.name.empty()) {
        auto name = validate_container_name(s.name);
        if (!name.ok()) return daemon_error(path, name.error().message);
        s.name = *name;
    }
    return {};
}

// start, attach: the detach keys checked before anything happens (Docker's words).
Status finish_detach_keys(ParseState& st, std::vector<std::string>& pos, const VerbDef&, const std::string& path) {
    st.cmd.args = pos;
    if (auto keys = parse_detach_keys(st.cmd.detach_keys); !keys) return daemon_error(path, keys.error().message);
    return {};
}

Status finish_exec(ParseState& st, std::vector<std::string>& pos, const VerbDef&, const std::string& path) {
    Command& c = st.cmd;
    // An exec session runs on the caller's own terminal and ends with its command: there is no
    // attach stream to detach from.
    if (!c.detach_keys.empty())
        return run_error(path, i18n::tr("cli.refuse.exec_detach_keys"));
    c.args = {pos[0]};
    c.exec_cmd.assign(pos.begin() + 1, pos.end());
    std::vector<std::string> env;
    for (const std::string& file : st.env_files) {
        auto lines = read_env_file(file);
        if (!lines.ok()) return run_error(path, lines.error().message);
        env.insert(env.end(), lines->begin(), lines->end());
    }
    env.insert(env.end(), st.env.begin(), st.env.end());
    c.exec_env = only_assignments(std::move(env));
    return {};
}

// rm --link removes a legacy link (--link at run), never the container; IsoLab has no links.
Status finish_rm(ParseState& st, std::vector<std::string>& pos, const VerbDef&, const std::string& path) {
    st.cmd.args = pos;
    if (st.cmd.link)
        return run_error(path, i18n::tr("cli.refuse.rm_link"));
    return {};
}

Status finish_top(ParseState& st, std::vector<std::string>& pos, const VerbDef&, const std::string&) {
    st.cmd.args = {pos[0]};
    st.cmd.ps_args.assign(pos.begin() + 1, pos.end());
    return {};
}

// The inverses of the finish steps' moves, for to_argv.

std::vector<std::string> container_positionals(const Command& c) {
    std::vector<std::string> words{c.spec.image};
    words.insert(words.end(), c.spec.cmd.begin(), c.spec.cmd.end());
    return words;
}

std::vector<std::string> exec_positionals(const Command& c) {
    std::vector<std::string> words = c.args;
    words.insert(words.end(), c.exec_cmd.begin(), c.exec_cmd.end());
    return words;
}

std::vector<std::string> top_positionals(const Command& c) {
    std::vector<std::string> words = c.args;
    words.insert(words.end(), c.ps_args.begin(), c.ps_args.end());
    return words;
}

// update: Docker's client checks (a flag is needed; the restart policy's syntax), then the daemon's
// restart rules. The resource values are checked by the engine against the container.
Status finish_update(ParseState& st, std::vector<std::string>& pos, const VerbDef&, const std::string& path) {
    st.cmd.args = pos;
    if (!st.restart.empty()) {
        auto policy = parse_restart_policy(st.restart);
        if (!policy.ok()) return run_error(path, policy.error().message);
        st.cmd.update.restart = *policy;
    }
    if (!st.cmd.update.any()) return run_error(path, "you must provide one or more flags when using this command");
    return {};
}

Status finish_kill(ParseState& st, std::vector<std::string>& pos, const VerbDef&, const std::string&) {
    st.cmd.args = pos;
    if (st.cmd.signal.empty()) st.cmd.signal = "KILL";
    return {};
}

// `completion` alone is its help (as Docker's); `completion bash` the script; other shells are refused.
Status finish_completion(ParseState& st, std::vector<std::string>& pos, const VerbDef&, const std::string&) {
    st.cmd.args = pos;
    if (pos.empty()) {
        st.cmd.help = true;
        return {};
    }
    if (pos[0] != "bash") return make_error("isolab: " + i18n::trf("cli.completion.only_bash", {pos[0]}), 1);
    return {};
}

// `volume create`: the hidden --name and the positional are one name (Docker's check); a driver
// other than local and any -o are refused, saying what to use instead.
Status finish_volume_create(ParseState& st, std::vector<std::string>& pos, const VerbDef&, const std::string& path) {
    if (!st.volume_name.empty()) {
        if (!pos.empty())
            return make_error("conflicting options: cannot specify a volume-name through both --name and as a "
                              "positional arg",
                              1);
        pos.push_back(st.volume_name);
    }
    st.cmd.args = pos;
    if (!st.cmd.volume_driver.empty() && st.cmd.volume_driver != "local")
        return run_error(path, i18n::trf("cli.refuse.volume_driver", {st.cmd.volume_driver}));
    if (!st.volume_opts.empty()) return run_error(path, i18n::trf("cli.refuse.volume_opt", {st.volume_opts.front()}));
    return {};
}

// login: a password is never taken from the command line (it would stay in the shell's history
// and show in `ps`); the refusal says what to use.
Status finish_login(ParseState& st, std::vector<std::string>& pos, const VerbDef&, const std::string& path) {
    st.cmd.args = pos;
    if (st.password_given) return run_error(path, i18n::tr("cli.refuse.login_password"));
    return {};
}

Status finish_inspect(ParseState& st, std::vector<std::string>& pos, const VerbDef&, const std::string&) {
    st.cmd.args = pos;
    const std::string& t = st.cmd.inspect_type;
    if (!t.empty() && t != "container" && t != "image" && t != "network" && t != "volume")
        return make_error(go_quote(t) + " is not a valid value for --type", kUsageExit);
    return {};
}

// ---------------------------------------------------------------------------------------------
// The verbs

const std::span<const FlagDef> kNone{};

constexpr VerbDef verb(std::string_view name, std::string_view use, std::string_view summary,
                       std::span<const FlagDef> flags, ArgRule rule, int min = 0, int max = 0,
                       FinishFn finish = nullptr, PositionalsFn positionals = nullptr) {
    VerbDef v;
    v.name = name;
    v.use = use;
    v.summary = summary;
    v.flags = flags;
    v.rule = rule;
    v.min = min;
    v.max = max;
    v.finish = finish;
    v.positionals = positionals;
    return v;
}

VerbDef make_run() {
    VerbDef v = verb("run", "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create and run a new container from an image",
                     kContainerFlags, ArgRule::Min, 1, 0, finish_container, container_positionals);
    v.more_flags = kRunOnlyFlags;
    v.interspersed = false;
    return v;
}

// Docker's cp: two usage lines and a longer text under them.
VerbDef make_cp() {
    VerbDef v = verb("cp", "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tisolab cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
                     "Copy files/folders between a container and the local filesystem", kCpFlags, ArgRule::Exact, 2);
    v.description =
        "Copy files/folders between a container and the local filesystem\n\n"
        "Use '-' as the source to read a tar archive from stdin\n"
        "and extract it to a directory destination in a container.\n"
        "Use '-' as the destination to stream a tar archive of a\n"
        "container source to stdout.";
    return v;
}

VerbDef make_not_interspersed(VerbDef v) {
    v.interspersed = false;
    return v;
}

VerbDef with_description(VerbDef v, std::string_view description) {
    v.description = description;
    return v;
}

VerbDef make_group(std::string_view name, std::string_view use, std::string_view summary) {
    VerbDef v = verb(name, use, summary, kNone, ArgRule::Any);
    v.group = true;
    return v;
}

const std::vector<VerbDef>& verbs() {
    static const std::vector<VerbDef> table = {
        make_run(),
        make_not_interspersed(verb("create", "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create a new container",
                                   kContainerFlags, ArgRule::Min, 1, 0, finish_container, container_positionals)),
        verb("start", "[OPTIONS] CONTAINER [CONTAINER...]", "Start one or more stopped containers", kStartFlags,
             ArgRule::Min, 1, 0, finish_detach_keys),
        verb("stop", "[OPTIONS] CONTAINER [CONTAINER...]", "Stop one or more running containers", kStopFlags,
             ArgRule::Min, 1),
        verb("attach", "[OPTIONS] CONTAINER", "Attach local standard input, output, and error streams to a running container",
             kAttachFlags, ArgRule::Exact, 1, 0, finish_detach_keys),
        verb("restart", "[OPTIONS] CONTAINER [CONTAINER...]", "Restart one or more containers", kStopFlags,
             ArgRule::Min, 1),
        verb("kill", "[OPTIONS] CONTAINER [CONTAINER...]", "Kill one or more running containers", kKillFlags,
             ArgRule::Min, 1, 0, finish_kill),
        verb("pause", "CONTAINER [CONTAINER...]", "Pause all processes within one or more containers", kNone,
             ArgRule::Min, 1),
        verb("unpause", "CONTAINER [CONTAINER...]", "Unpause all processes within one or more containers", kNone,
             ArgRule::Min, 1),
        verb("rm", "[OPTIONS] CONTAINER [CONTAINER...]", "Remove one or more containers", kRmFlags, ArgRule::Min, 1, 0,
             finish_rm),
        verb("ps", "[OPTIONS]", "List containers", kPsFlags, ArgRule::None),
        make_not_interspersed(verb("exec", "[OPTIONS] CONTAINER COMMAND [ARG...]",
                                   "Execute a command in a running container", kExecFlags, ArgRule::Min, 2, 0,
                                   finish_exec, exec_positionals)),
        verb("logs", "[OPTIONS] CONTAINER", "Fetch the logs of a container", kLogsFlags, ArgRule::Exact, 1),
        verb("inspect", "[OPTIONS] NAME|ID [NAME|ID...]", "Return low-level information on Docker-style objects",
             kInspectFlags, ArgRule::Min, 1, 0, finish_inspect),
        verb("wait", "CONTAINER [CONTAINER...]", "Block until one or more containers stop, then print their exit codes",
             kNone, ArgRule::Min, 1),
        make_not_interspersed(verb("top", "CONTAINER [ps OPTIONS]", "Display the running processes of a container",
                                   kNone, ArgRule::Min, 1, 0, finish_top, top_positionals)),
        verb("diff", "CONTAINER", "Inspect changes to files or directories on a container's filesystem", kNone,
             ArgRule::Exact, 1),
        verb("port", "CONTAINER [PRIVATE_PORT[/PROTO]]", "List port mappings or a specific mapping for the container",
             kNone, ArgRule::Range, 1, 2),
        verb("commit", "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]", "Create a new image from a container's changes",
             kCommitFlags, ArgRule::Range, 1, 2),
        verb("history", "[OPTIONS] IMAGE", "Show the history of an image", kHistoryFlags, ArgRule::Exact, 1),
        verb("images", "[OPTIONS] [REPOSITORY[:TAG]]", "List images", kImagesFlags, ArgRule::Max, 0, 1),
        verb("rmi", "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more images", kRmiFlags, ArgRule::Min, 1),
        verb("build", "[OPTIONS] PATH | -", "Build an image from a Dockerfile", kBuildFlags, ArgRule::Exact, 1),
        verb("tag", "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
             kNone, ArgRule::Exact, 2),
        verb("save", "[OPTIONS] IMAGE [IMAGE...]", "Save one or more images to a tar archive (streamed to STDOUT by default)",
             kSaveFlags, ArgRule::Min, 1),
        verb("load", "[OPTIONS]", "Load an image from a tar archive or STDIN", kLoadFlags, ArgRule::None),
        verb("pull", "[OPTIONS] NAME[:TAG|@DIGEST]", "Download an image from a registry", kPullFlags, ArgRule::Exact, 1),
        verb("push", "[OPTIONS] NAME[:TAG]", "Upload an image to a registry", kPushFlags, ArgRule::Exact, 1),
        with_description(verb("login", "[OPTIONS] [SERVER]", "Authenticate to a registry", kLoginFlags, ArgRule::Max, 0,
                              1, finish_login),
                         "Authenticate to a registry.\nDefaults to Docker Hub if no server is specified."),
        with_description(verb("logout", "[SERVER]", "Log out from a registry", kNone, ArgRule::Max, 0, 1),
                         "Log out from a registry.\nIf no server is specified, the default is Docker Hub."),
        verb("search", "[OPTIONS] TERM", "Search Docker Hub for images", kSearchFlags, ArgRule::Exact, 1),
        make_cp(),
        verb("export", "[OPTIONS] CONTAINER", "Export a container's filesystem as a tar archive", kExportFlags,
             ArgRule::Exact, 1),
        verb("import", "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
             "Import the contents from a tarball to create a filesystem image", kImportFlags, ArgRule::Range, 1, 2),
        verb("completion", "bash", "Print the bash completion script (tools/setup.sh installs it)", kNone,
             ArgRule::Max, 0, 1, finish_completion),
        verb("rename", "CONTAINER NEW_NAME", "Rename a container", kNone, ArgRule::Exact, 2),
        verb("update", "[OPTIONS] CONTAINER [CONTAINER...]", "Update configuration of one or more containers",
             kUpdateFlags, ArgRule::Min, 1, 0, finish_update),
        verb("stats", "[OPTIONS] [CONTAINER...]", "Display a live stream of container(s) resource usage statistics",
             kStatsFlags, ArgRule::Any),
        verb("events", "[OPTIONS]", "Get real time events from the server", kEventsFlags, ArgRule::None),
        verb("info", "[OPTIONS]", "Display system-wide information", kInfoFlags, ArgRule::None),
        verb("version", "[OPTIONS]", "Show the IsoLab version information", kVersionFlags, ArgRule::None),
        verb("gui", "[OPTIONS]", "Open the IsoLab window (what `isolab` alone does)", kGuiFlags, ArgRule::None),
        verb("help", "[COMMAND]", "Help about any command", kNone, ArgRule::Any),
        verb("doctor", "[OPTIONS]", "Show what this machine offers, and what IsoLab does without the rest",
             kDoctorFlags, ArgRule::None),
        make_group("race", "[OPTIONS]", "Boot a VM and start a container running the same web server, and time both"),
        make_group("vm", "COMMAND", "Manage virtual machines"),
        make_group("network", "COMMAND", "Manage networks"),
        make_group("volume", "COMMAND", "Manage volumes"),
        make_group("lesson", "COMMAND", "Take, list and check the lessons"),
        make_group("runtime", "COMMAND", "Run OCI bundles: the OCI runtime command line (create, start, state, kill, delete)"),
        make_group("system", "COMMAND", "Manage IsoLab itself (system reset: start over)"),
        make_group("bundle", "CONTAINER DIR", "Write a container's OCI runtime bundle (config.json + rootfs), what Docker hands to runc"),
        make_group("container", "COMMAND", "Manage containers"),
        make_group("image", "COMMAND", "Manage images"),
        // Reached only through their group's word (`isolab container prune`): a name with a space
        // is never a top-level command.
        verb("container prune", "[OPTIONS]", "Remove all stopped containers", kPruneFlags, ArgRule::None),
        verb("image prune", "[OPTIONS]", "Remove unused images", kImagePruneFlags, ArgRule::None),
        verb("network connect", "[OPTIONS] NETWORK CONTAINER", "Connect a container to a network", kNone,
             ArgRule::Exact, 2),
        verb("network create", "[OPTIONS] NETWORK", "Create a network", kNetworkCreateFlags, ArgRule::Exact, 1),
        verb("network disconnect", "[OPTIONS] NETWORK CONTAINER", "Disconnect a container from a network",
             kNetworkDisconnectFlags, ArgRule::Exact, 2),
        verb("network inspect", "[OPTIONS] NETWORK [NETWORK...]", "Display detailed information on one or more networks",
             kNetworkInspectFlags, ArgRule::Min, 1),
        verb("network ls", "[OPTIONS]", "List networks", kNetworkLsFlags, ArgRule::None),
        verb("network rm", "NETWORK [NETWORK...]", "Remove one or more networks", kNone, ArgRule::Min, 1),
        verb("network picture", "",
             "Print the network as the GUI draws it, as JSON (interfaces, addresses, routes, sockets)",
             kNone, ArgRule::None),
        verb("network prune", "[OPTIONS]", "Remove all unused networks", kPruneFlags, ArgRule::None),
        verb("volume create", "[OPTIONS] [VOLUME]", "Create a volume", kVolumeCreateFlags, ArgRule::Max, 0, 1,
             finish_volume_create),
        verb("volume inspect", "[OPTIONS] VOLUME [VOLUME...]", "Display detailed information on one or more volumes",
             kVolumeInspectFlags, ArgRule::Min, 1),
        verb("volume ls", "[OPTIONS]", "List volumes", kVolumeLsFlags, ArgRule::None),
        verb("volume prune", "[OPTIONS]", "Remove unused local volumes", kVolumePruneFlags, ArgRule::None),
        with_description(verb("volume rm", "[OPTIONS] VOLUME [VOLUME...]", "Remove one or more volumes", kVolumeRmFlags,
                              ArgRule::Min, 1),
                         "Remove one or more volumes. You cannot remove a volume that is in use by a container."),
        verb("system df", "[OPTIONS]", "Show IsoLab disk usage", kSystemDfFlags, ArgRule::None),
        verb("system prune", "[OPTIONS]", "Remove unused data", kSystemPruneFlags, ArgRule::None),
        verb("system reset", "[OPTIONS]",
             "Start over: remove every container, VM, network, image and the build cache of this state root",
             kSystemResetFlags, ArgRule::None),
    };
    return table;
}

// Docker's top-level commands IsoLab leaves out, each with what to use instead (README's list).
std::string docker_command_left_out(const std::string& word) {
    // The hint is IsoLab's own words, in the learner's language (assets/strings cli.left_out.*).
    static const char* const kLeftOut[] = {"compose", "swarm", "service", "stack", "node", "secret", "config", "context", "plugin", "trust", "manifest", "buildx", "builder", "checkpoint", "init", "scout"};
    for (const char* name : kLeftOut)
        if (word == name) return i18n::tr(std::string("cli.left_out.") + name);
    return "";
}

// The flags before the verb, read as a verb whose first positional (the verb) ends them.
const VerbDef& global_verb() {
    static const VerbDef global = [] {
        VerbDef v = verb("", "[OPTIONS] COMMAND [ARG...]", "", kGlobalFlags, ArgRule::Any);
        v.interspersed = false;
        return v;
    }();
    return global;
}

const VerbDef* find_verb(std::string_view name) {
    for (const VerbDef& v : verbs())
        if (v.name == name) return &v;
    return nullptr;
}

// A verb typed as the first word: never one of the "group sub" verbs above.
const VerbDef* find_top_verb(std::string_view name) {
    return name.find(' ') == std::string_view::npos ? find_verb(name) : nullptr;
}

struct SubCommand {
    std::string_view word;
    std::string_view verb;
};

// `docker container X` and `docker image X` forms that IsoLab serves, mapped to flat verbs.
constexpr SubCommand kContainerSubs[] = {
    {"attach", "attach"}, {"commit", "commit"}, {"create", "create"}, {"diff", "diff"},       {"exec", "exec"},
    {"inspect", "inspect"}, {"kill", "kill"},   {"logs", "logs"},       {"ls", "ps"},
    {"list", "ps"},       {"ps", "ps"},         {"pause", "pause"},     {"port", "port"},
    {"prune", "container prune"},
    {"restart", "restart"}, {"rm", "rm"},       {"remove", "rm"},       {"run", "run"},
    {"start", "start"},   {"stop", "stop"},     {"top", "top"},         {"unpause", "unpause"},
    {"wait", "wait"},     {"rename", "rename"}, {"update", "update"},   {"stats", "stats"},
    {"export", "export"}, {"cp", "cp"},
};
constexpr SubCommand kImageSubs[] = {
    {"build", "build"}, {"history", "history"}, {"inspect", "inspect"}, {"load", "load"}, {"ls", "images"},
    {"list", "images"}, {"prune", "image prune"}, {"rm", "rmi"}, {"remove", "rmi"}, {"save", "save"},
    {"tag", "tag"},       {"import", "import"},   {"pull", "pull"},       {"push", "push"},
};
constexpr SubCommand kNetworkSubs[] = {
    {"connect", "network connect"}, {"create", "network create"}, {"disconnect", "network disconnect"},
    {"inspect", "network inspect"}, {"ls", "network ls"},         {"list", "network ls"},
    {"picture", "network picture"}, {"prune", "network prune"},   {"rm", "network rm"},
    {"remove", "network rm"},
};
constexpr SubCommand kVolumeSubs[] = {
    {"create", "volume create"}, {"inspect", "volume inspect"}, {"ls", "volume ls"}, {"list", "volume ls"},
    {"prune", "volume prune"},   {"rm", "volume rm"},           {"remove", "volume rm"},
};
constexpr SubCommand kSystemSubs[] = {
    {"df", "system df"}, {"prune", "system prune"}, {"reset", "system reset"},
};

std::span<const SubCommand> subs_of(std::string_view group) {
    if (group == "container") return kContainerSubs;
    if (group == "image") return kImageSubs;
    if (group == "system") return kSystemSubs;
    if (group == "network") return kNetworkSubs;
    if (group == "volume") return kVolumeSubs;
    return {};
}

// "unknown flag: --x" / "unknown shorthand flag: 'x' in -x" for a word that no flag table knows.
std::string unknown_flag_reason(const std::string& word) {
    if (word.rfind("--", 0) == 0) return "unknown flag: --" + word.substr(2, word.find('=') - 2);
    return "unknown shorthand flag: " + go_quote_char(word[1]) + " in " + word;
}

// ---------------------------------------------------------------------------------------------
// Usage text

std::string flag_lines(std::span<const FlagDef> a, std::span<const FlagDef> b, bool with_help) {
    std::vector<std::pair<std::string, std::string>> rows;
    std::vector<const FlagDef*> all;
    for (auto span : {a, b})
        for (const FlagDef& f : span)
            if (!f.hidden && !f.name.empty()) all.push_back(&f);
    std::sort(all.begin(), all.end(), [](const FlagDef* x, const FlagDef* y) { return x->name < y->name; });
    for (const FlagDef* f : all) {
        std::string left = f->shorthand ? std::string("  -") + f->shorthand + ", --" : std::string("      --");
        left += f->name;
        if (!type_word(f->type).empty()) left += " " + std::string(type_word(f->type));
        std::string right(f->help);
        if (!f->default_text.empty()) right += " (default " + std::string(f->default_text) + ")";
        rows.emplace_back(std::move(left), std::move(right));
    }
    if (with_help) rows.emplace_back("      --help", "Print usage");
    size_t width = 0;
    for (auto& r : rows) width = std::max(width, r.first.size());
    std::string out;
    for (auto& r : rows) out += r.first + std::string(width - r.first.size() + 3, ' ') + r.second + "\n";
    if (!out.empty()) out.pop_back();
    return out;
}

std::string aliases_of(std::string_view verb_name) {
    // `docker inspect` is its own command, no aliases; nor has a "group sub" verb.
    if (verb_name == "network ls") return "isolab network ls, isolab network list";
    if (verb_name == "network rm") return "isolab network rm, isolab network remove";
    if (verb_name == "volume ls") return "isolab volume ls, isolab volume list";
    if (verb_name == "volume rm") return "isolab volume rm, isolab volume remove";
    if (verb_name == "inspect" || verb_name.find(' ') != std::string_view::npos) return "";
    std::vector<std::string> names;
    for (std::string_view group : {"container", "image"})
        for (const SubCommand& s : subs_of(group))
            if (s.verb == verb_name) names.push_back("isolab " + std::string(group) + " " + std::string(s.word));
    if (names.empty()) return "";
    names.push_back("isolab " + std::string(verb_name));
    return join(names, ", ");
}

std::string top_level_usage() {
    std::string out =
        "Usage:  isolab [OPTIONS] COMMAND [ARG...]\n\n"
        "Containers and virtual machines, side by side, for learning.\n"
        "Type the commands you would type for Docker; `isolab` alone opens the window.\n\n"
        "Common Commands:\n";
    auto row = [](std::string_view name, std::string_view summary) {
        std::string n(name);
        return "  " + n + std::string(n.size() < 12 ? 12 - n.size() : 1, ' ') + std::string(summary) + "\n";
    };
    const char* common[] = {"run", "exec", "ps", "build", "images", "gui", "race", "doctor"};
    for (const char* name : common) out += row(name, find_verb(name)->summary);
    out += "\nManagement Commands:\n";
    const char* groups[] = {"container", "image", "lesson", "network", "runtime", "system", "vm", "volume"};
    for (const char* name : groups) out += row(name, find_verb(name)->summary);
    out += "\nCommands:\n";
    std::vector<const VerbDef*> rest;
    for (const VerbDef& v : verbs()) {
        bool listed = std::find_if(std::begin(common), std::end(common), [&](const char* n) { return v.name == n; }) !=
                          std::end(common) ||
                      std::find_if(std::begin(groups), std::end(groups), [&](const char* n) { return v.name == n; }) !=
                          std::end(groups);
        if (!listed && v.name.find(' ') == std::string_view::npos) rest.push_back(&v);
    }
    std::sort(rest.begin(), rest.end(), [](const VerbDef* a, const VerbDef* b) { return a->name < b->name; });
    for (const VerbDef* v : rest) out += row(v->name, v->summary);
    out += "\nGlobal Options:\n" + flag_lines(kGlobalFlags, kNone, false) + "\n\n";
    out += "Run 'isolab COMMAND --help' for more information on a command.";
    return out;
}

std::string verb_usage(const VerbDef& v, const std::string& path) {
    std::string out = "Usage:  " + use_line(v, path) + "\n\n" +
                      std::string(v.description.empty() ? v.summary : v.description);
    std::span<const SubCommand> subs = subs_of(v.name);
    if (!subs.empty()) {
        out += "\n\nCommands:\n";
        std::vector<std::string_view> shown;  // one row per command; ls/list/ps are aliases
        for (const SubCommand& s : subs) {
            if (std::find(shown.begin(), shown.end(), s.verb) != shown.end()) continue;
            shown.push_back(s.verb);
            const VerbDef* target = find_verb(s.verb);
            std::string w(s.word);
            out += "  " + w + std::string(w.size() < 12 ? 12 - w.size() : 1, ' ') + std::string(target->summary) + "\n";
        }
        out += "\nRun '" + full_path(path) + " COMMAND --help' for more information on a command.";
        return out;
    }
    if (v.group) return out + "\n\nRun '" + full_path(path) + " COMMAND --help' for more information on a command.";
    std::string aliases = aliases_of(v.name);
    if (!aliases.empty()) out += "\n\nAliases:\n  " + aliases;
    out += "\n\nOptions:\n" + flag_lines(v.flags, v.more_flags, true);
    return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public value parsers

Result<int64_t> parse_bytes(std::string_view text) { return go_ram_in_bytes(text); }

Result<int64_t> parse_cpus(std::string_view text) {
    // big.Rat.SetString subset: [+-]digits[.digits] or [+-]N/D; exact to 1e-9.
    auto not_rational = [&] { return make_error("failed to parse " + std::string(text) + " as a rational number"); };
    std::string_view s = text;
    bool negative = false;
    if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
        negative = s[0] == '-';
        s.remove_prefix(1);
    }
    constexpr int64_t kNano = 1'000'000'000;
    constexpr int64_t kHuge = INT64_MAX;  // beyond any host: the range check reports it
    size_t slash = s.find('/');
    if (slash != std::string_view::npos) {
        std::string_view num = s.substr(0, slash), den = s.substr(slash + 1);
        if (!all_digits(num) || !all_digits(den)) return not_rational();
        if (num.size() > 9 || den.size() > 9) return kHuge;
        int64_t n = std::stoll(std::string(num)), d = std::stoll(std::string(den));
        if (d == 0) return not_rational();
        if ((n * kNano) % d != 0) return make_error("value is too precise");
        int64_t nano = n * kNano / d;
        return negative ? -nano : nano;
    }
    size_t dot = s.find('.');
    std::string_view int_part = s.substr(0, dot);
    std::string_view frac_part = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
    if (int_part.empty() && frac_part.empty()) return not_rational();
    if ((!int_part.empty() && !all_digits(int_part)) || (!frac_part.empty() && !all_digits(frac_part)))
        return not_rational();
    if (frac_part.size() > 9) {
        if (frac_part.substr(9).find_first_not_of('0') != std::string_view::npos)
            return make_error("value is too precise");
        frac_part = frac_part.substr(0, 9);
    }
    size_t first = int_part.find_first_not_of('0');
    int_part = first == std::string_view::npos ? std::string_view{} : int_part.substr(first);
    if (int_part.size() > 9) return negative ? -kHuge : kHuge;
    int64_t whole = int_part.empty() ? 0 : std::stoll(std::string(int_part));
    std::string frac(frac_part);
    frac.resize(9, '0');
    int64_t nano = whole * kNano + std::stoll(frac);
    return negative ? -nano : nano;
}

Result<std::vector<PortMapping>> parse_publish(std::string_view spec_in) {
    std::string raw(spec_in);
    if (raw.find('=') != std::string::npos) {
        auto converted = long_publish_to_short(raw);
        if (!converted.ok()) return converted.error();
        raw = *converted;
    }
    // splitParts: the last two ':'-fields are host and container port, anything before is the IP
    // (which may itself contain ':' for IPv6, in brackets).
    std::vector<std::string> parts;
    size_t pos = 0;
    while (true) {
        size_t colon = raw.find(':', pos);
        parts.push_back(raw.substr(pos, colon == std::string::npos ? std::string::npos : colon - pos));
        if (colon == std::string::npos) break;
        pos = colon + 1;
    }
    std::string ip, host, container;
    if (parts.size() == 1) {
        container = parts[0];
    } else if (parts.size() == 2) {
        host = parts[0];
        container = parts[1];
    } else {
        std::vector<std::string> ip_parts(parts.begin(), parts.end() - 2);
        ip = join(ip_parts, ":");
        host = parts[parts.size() - 2];
        container = parts.back();
    }
    // SplitProtoPort: "80/udp" -> 80, udp; no proto -> tcp; no port -> nothing.
    std::string proto = "tcp";
    if (size_t slash = container.find('/'); slash != std::string::npos) {
        std::string p = container.substr(slash + 1);
        container = container.substr(0, slash);
        if (!p.empty()) proto = p;
    }
    if (container.empty()) return make_error("no port specified: " + raw + "<empty>");
    proto = lower(proto);
    if (proto != "tcp" && proto != "udp" && proto != "sctp") return make_error("invalid proto: " + proto);
    if (!ip.empty() && ip.front() == '[') {
        if (ip.back() != ']') return make_error("invalid IP address " + ip + ": missing ']' in address");
        ip = ip.substr(1, ip.size() - 2);
    }
    if (!ip.empty() && !valid_ip(ip)) return make_error("invalid IP address: " + ip);

    int c_start = 0, c_end = 0;
    // IsoLab also refuses container port 0, which can never receive a connection.
    if (!parse_port_range(container, c_start, c_end) || c_start == 0)
        return make_error("invalid containerPort: " + container);
    int h_start = 0, h_end = 0;
    if (!host.empty()) {
        if (!parse_port_range(host, h_start, h_end)) return make_error("invalid hostPort: " + host);
        if (c_end - c_start != h_end - h_start) {
            if (c_end != c_start)
                return make_error("invalid ranges specified for container and host Ports: " + container + " and " + host);
            // Docker reads "8000-8010:80" as "any free port in 8000-8010"; PortMapping holds one.
            return make_error("host port ranges for one container port are not supported yet: " + host);
        }
    }
    std::vector<PortMapping> out;
    for (int k = 0; k <= c_end - c_start; ++k) {
        PortMapping m;
        m.host_ip = ip;
        m.host_port = host.empty() ? 0 : h_start + k;
        m.container_port = c_start + k;
        m.proto = proto;
        out.push_back(m);
    }
    return out;
}

Result<RestartPolicy> parse_restart_policy(std::string_view text) {
    if (text.empty()) return RestartPolicy{};
    auto raw = parse_restart_format(text);
    if (!raw.ok()) return raw.error();
    return validate_restart(*raw);
}

Result<std::string> validate_container_name(std::string_view name) {
    // Docker's validContainerNamePattern: ^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$. The name becomes a
    // directory under the state root, so this rule is also what keeps "../x" out of paths.
    std::string_view n = name;
    if (!n.empty() && n[0] == '/') n.remove_prefix(1);
    auto alnum = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    };
    bool valid = n.size() >= 2 && alnum(n[0]) &&
                 std::all_of(n.begin() + 1, n.end(), [&](char c) { return alnum(c) || c == '_' || c == '.' || c == '-'; });
    if (!valid)
        return make_error("Invalid container name (" + std::string(name) +
                          "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
    return std::string(n);
}

Result<int> parse_signal(std::string_view text) {
    // One signal table for the whole program: the engine's (parse_signal in sim/engine).
    auto sig = isolab::parse_signal(std::string(text));
    if (!sig) return make_error("invalid signal: " + std::string(text));
    return sig;
}

// ---------------------------------------------------------------------------------------------
// parse_args

Result<Command> parse_action(const std::vector<std::string>& argv) {
    Command cmd;
    ParseState st{cmd};

    // Global flags stop at the first word that is not a flag: the verb.
    const VerbDef& global = global_verb();
    std::vector<std::string> words;
    if (Status s = parse_flags(global, argv, 0, st, words); !s.ok())
        return flag_error(global, "", s.error().message);

    if (words.empty()) {
        cmd.bare = argv.empty();
        if (cmd.help) {
            cmd.verb = cmd.command_path = "help";
            cmd.help = false;  // `isolab --help` *is* the help command
        } else if (cmd.short_version) {
            cmd.verb = cmd.command_path = "version";
        } else {
            cmd.verb = cmd.command_path = "gui";
        }
        return cmd;
    }

    size_t next = 1;
    std::string path = words[0];
    const VerbDef* def = find_top_verb(words[0]);
    if (!def) {
        // A Docker command IsoLab does not have is not a typo: say so, and what to use.
        if (std::string instead = docker_command_left_out(words[0]); !instead.empty())
            return make_error("isolab: '" + words[0] + "' is not an IsoLab command: " + instead, kUnknownCommandExit);
        return make_error("isolab: unknown command: isolab " + words[0] + "\n\nRun 'isolab --help' for more information",
                          kUnknownCommandExit);
    }

    if (def->name == "container" || def->name == "image" || def->name == "system" || def->name == "network" ||
        def->name == "volume") {
        std::string group(def->name);
        if (words.size() == 1 || words[1] == "--help" || words[1] == "-h") {
            cmd.verb = cmd.command_path = group;
            cmd.help = true;
            return cmd;
        }
        const std::string& sub = words[1];
        if (sub.size() > 1 && sub[0] == '-') return flag_error(*def, group, unknown_flag_reason(sub));
        const SubCommand* found = nullptr;
        for (const SubCommand& s : subs_of(group))
            if (s.word == sub) found = &s;
        if (!found)
            return make_error("isolab: unknown command: isolab " + group + " " + sub + "\n\nUsage:  isolab " + group +
                                  " COMMAND\n\nRun 'isolab " + group + " --help' for more information",
                              kUnknownCommandExit);
        def = find_verb(found->verb);
        path = group + " " + sub;
        next = 2;
        if (def->name == "inspect") cmd.inspect_type = group;
    }

    cmd.verb = std::string(def->name);
    cmd.command_path = path;

    if (def->group) {
        cmd.rest.assign(words.begin() + static_cast<std::ptrdiff_t>(next), words.end());
        return cmd;
    }

    std::vector<std::string> positionals;
    if (Status s = parse_flags(*def, words, next, st, positionals); !s.ok())
        return flag_error(*def, path, s.error().message);
    if (cmd.help) {
        // As cobra: with --help, neither positionals nor values are checked.
        cmd.args = positionals;
        return cmd;
    }
    ISOLAB_TRY(check_arg_count(*def, path, positionals.size()));
    if (def->finish) {
        ISOLAB_TRY(def->finish(st, positionals, *def, path));
    } else {
        cmd.args = std::move(positionals);
    }
    return cmd;
}

Result<Command> parse_args(const std::vector<std::string>& argv) { return parse_action(argv); }

// ---------------------------------------------------------------------------------------------
// Back to words

std::vector<std::string> to_argv(const Command& c) {
    std::vector<std::string> words;
    if (c.bare || c.verb.empty()) return words;
    auto print_flags = [&](std::span<const FlagDef> flags) {
        for (const FlagDef& f : flags)
            if (f.print) f.print(c, f, words);
    };
    print_flags(kGlobalFlags);
    // `isolab -v` is the version command with nothing else to say.
    if (c.verb == "version" && c.short_version && c.format.empty() && !c.help && c.args.empty()) return words;

    for (size_t pos = 0; pos <= c.command_path.size();) {
        size_t space = std::min(c.command_path.find(' ', pos), c.command_path.size());
        words.push_back(c.command_path.substr(pos, space - pos));
        pos = space + 1;
    }
    const VerbDef* def = find_verb(c.verb);
    if (!def) return words;  // not a Command parse_action made
    if (def->group) {  // `container`/`image` alone are help; the other groups keep their words
        if (c.help) words.push_back("--help");
        words.insert(words.end(), c.rest.begin(), c.rest.end());
        return words;
    }
    print_flags(def->more_flags);
    print_flags(def->flags);
    if (c.help) words.push_back("--help");

    // With --help the finish step did not run: the positionals are still in args.
    std::vector<std::string> positionals = !c.help && def->positionals ? def->positionals(c) : c.args;
    auto flag_like = [](const std::string& w) { return w.size() > 1 && w[0] == '-'; };
    bool needs_dashes = def->interspersed ? std::any_of(positionals.begin(), positionals.end(), flag_like)
                                          : !positionals.empty() && flag_like(positionals.front());
    if (needs_dashes) words.push_back("--");
    words.insert(words.end(), positionals.begin(), positionals.end());
    return words;
}

std::string to_command_line(const Command& c) {
    if (c.verb.empty() && !c.bare) return "";
    std::string line = "isolab";
    for (const std::string& w : to_argv(c)) {
        line += ' ';
        // Safe characters stand as they are; anything else goes in single quotes, a quote inside
        // as '\'' (split_command_line: '...' is literal, \' outside quotes is a quote).
        bool plain = !w.empty() && std::all_of(w.begin(), w.end(), [](char ch) {
            return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || is_digit(ch) ||
                   std::string_view("_@%+=:,./-").find(ch) != std::string_view::npos;
        });
        if (plain) {
            line += w;
            continue;
        }
        line += '\'';
        for (char ch : w) line += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
        line += '\'';
    }
    return line;
}

std::string usage(std::string_view verb_or_path) {
    std::string path(verb_or_path);
    while (!path.empty() && path.back() == ' ') path.pop_back();
    if (path.empty() || path == "help") return path.empty() ? top_level_usage() : verb_usage(*find_verb("help"), path);
    if (const VerbDef* whole = find_verb(path); whole && path.find(' ') != std::string::npos)
        return verb_usage(*whole, path);  // `network prune`, `system df`, ...
    size_t space = path.find(' ');
    std::string first = path.substr(0, space);
    const VerbDef* def = find_top_verb(first);
    if (!def) return top_level_usage();
    if (space != std::string::npos) {
        std::string sub = path.substr(space + 1);
        for (const SubCommand& s : subs_of(first))
            if (s.word == sub) return verb_usage(*find_verb(s.verb), first + " " + sub);
        return verb_usage(*def, first);
    }
    return verb_usage(*def, first);
}

// ---------------------------------------------------------------------------------------------
// The tables as data

namespace {
FlagInfo flag_info(const FlagDef& f) {
    return FlagInfo{std::string(f.name), f.shorthand, f.type != FlagType::Bool, f.hidden};
}
}  // namespace

std::vector<VerbInfo> verb_infos() {
    std::vector<VerbInfo> out;
    for (const VerbDef& v : verbs()) {
        VerbInfo info{std::string(v.name), std::string(v.use), v.group, {}, {}};
        for (auto span : {v.flags, v.more_flags})
            for (const FlagDef& f : span)
                if (!f.name.empty()) info.flags.push_back(flag_info(f));
        for (const SubCommand& sub : subs_of(v.name)) info.subcommands.push_back({std::string(sub.word), std::string(sub.verb)});
        out.push_back(std::move(info));
    }
    return out;
}

std::vector<FlagInfo> global_flag_infos() {
    std::vector<FlagInfo> out;
    for (const FlagDef& f : kGlobalFlags) out.push_back(flag_info(f));
    return out;
}

// ---------------------------------------------------------------------------------------------
// The terminal line

Result<Command> parse_line(std::string_view line) {
    auto words = split_command_line(line);
    if (!words.ok()) return words.error();
    if (words->empty()) return Command{};
    std::vector<std::string> rest = strip_docker_prefix(*words);
    if (rest.empty()) {
        Command c;
        c.verb = c.command_path = "help";
        return c;
    }
    return parse_args(rest);
}

}  // namespace isolab::cli
