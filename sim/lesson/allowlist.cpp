#include "sim/lesson/allowlist.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <string_view>

#include "sim/core/command_line.hpp"
#include "sim/core/i18n.hpp"
#include "sim/core/safe_path.hpp"
#include "sim/state/mounts.hpp"

namespace isolab::lesson {

namespace fs = std::filesystem;

std::string Refusal::english() const { return i18n::trf_in(i18n::Lang::En, key, args); }
std::string Refusal::translated() const { return i18n::trf_in(i18n::language(), key, args); }

LessonPlace place_of(const std::string& lesson_file) {
    std::error_code ec;
    fs::path file = fs::absolute(lesson_file, ec);
    if (ec) file = lesson_file;
    LessonPlace p;
    p.folder = file.parent_path().lexically_normal().string();
    p.teaching_images = (fs::path(i18n::assets_dir()) / "images").lexically_normal().string();
    return p;
}

namespace {

// ---- The table ------------------------------------------------------------------------------
//
// Derived from the ten shipped lessons (lessons/*.json) and the flags app/cli/args.cpp knows: the
// commands the lessons run, with the flags they use plus the harmless ones of the same commands.
// Everything not listed is refused. A flag that parses but hands the container a piece of the host
// is listed with the key of its reason, so the refusal says why rather than "not allowed".

// What follows a flag.
enum class Value {
    None,     // a switch: -d, --rm (pflag also takes --rm=false)
    Text,     // a value that names nothing on the host: a name, a port, a size, a template
    FileIn,   // a host file IsoLab reads (load -i, build -f): inside the lesson's folder
    FileOut,  // a host file IsoLab writes (save -o): inside the lesson's folder
    Network,  // --network: a network of the state root, but not `host`
    Setting,  // NAME=VALUE (-e, --build-arg): a bare NAME would copy the learner's own environment
    Mount,    // -v, --mount: a volume or a tmpfs, never a bind of a host folder
};

struct FlagRule {
    std::string_view name;          // the long name, without "--"
    char shorthand;                 // 0 = none
    Value value;
    std::string_view refused = {};  // a strings key: the flag parses, but a lesson may not use it
};

// What the words after the flags are.
enum class Operands {
    Refs,     // names or ids of containers, images, VMs and networks; ports ("80/tcp")
    Context,  // build's PATH: a folder inside the lesson's folder, or assets/images/NAME
    Command,  // the first is a name; every word after it is a command for inside the container or
              // guest (run, create, exec, top, vm console), not IsoLab's
};

struct CommandRule {
    std::string_view path;  // "run", "vm create"
    std::vector<FlagRule> flags;
    Operands operands;
};

// Refused everywhere: each hands a container, or the command, a piece of the host.
const FlagRule kPrivileged{"privileged", 0, Value::None, "lesson.refuse.privileged"};
const FlagRule kCapAdd{"cap-add", 0, Value::Text, "lesson.refuse.cap_add"};
const FlagRule kRuntimeFlag{"runtime", 0, Value::Text, "lesson.refuse.runtime_flag"};
// Volumes (named or anonymous) and tmpfs live in the state root or in memory; a bind would show
// the container a folder of the learner's machine, so -v/--mount with a host source is refused.
const FlagRule kVolume{"volume", 'v', Value::Mount};
const FlagRule kMount{"mount", 0, Value::Mount};
// A bare NAME line in the file copies the learner's environment, as a bare `-e NAME` does; the
// file's lines are not checked here, so the flag is refused.
const FlagRule kEnvFile{"env-file", 0, Value::Text, "lesson.refuse.env_copy"};

std::vector<FlagRule> container_flags(bool run) {
    std::vector<FlagRule> f = {
        // The shipped lessons use these.
        {"name", 0, Value::Text},
        {"publish", 'p', Value::Text},
        {"memory", 'm', Value::Text},
        {"pids-limit", 0, Value::Text},
        {"rm", 0, Value::None},
        {"network", 0, Value::Network},
        {"env", 'e', Value::Setting},
        // Harmless: they shape the container inside its own namespaces and cgroup.
        {"attach", 'a', Value::Text},
        {"cap-drop", 0, Value::Text},
        {"cpus", 0, Value::Text},
        {"entrypoint", 0, Value::Text},
        {"hostname", 'h', Value::Text},
        {"init", 0, Value::None},
        {"interactive", 'i', Value::None},
        {"label", 'l', Value::Text},
        {"memory-swap", 0, Value::Text},
        {"net", 0, Value::Network},
        {"publish-all", 'P', Value::None},
        {"pull", 0, Value::Text},
        {"quiet", 'q', Value::None},
        {"read-only", 0, Value::None},
        {"restart", 0, Value::Text},
        {"stop-signal", 0, Value::Text},
        {"stop-timeout", 0, Value::Text},
        {"tmpfs", 0, Value::Text},
        {"tty", 't', Value::None},
        {"user", 'u', Value::Text},
        {"volumes-from", 0, Value::Text},
        {"workdir", 'w', Value::Text},
        kPrivileged, kCapAdd, kRuntimeFlag, kVolume, kMount, kEnvFile,
    };
    if (run) {
        f.push_back({"detach", 'd', Value::None});
        f.push_back({"detach-keys", 0, Value::Text});
        f.push_back({"sig-proxy", 0, Value::None});
    }
    return f;
}

const std::vector<CommandRule>& rules() {
    static const std::vector<CommandRule> table = {
        {"run", container_flags(true), Operands::Command},
        {"create", container_flags(false), Operands::Command},
        {"exec",
         {{"detach", 'd', Value::None},
          {"detach-keys", 0, Value::Text},
          {"env", 'e', Value::Setting},
          {"interactive", 'i', Value::None},
          {"tty", 't', Value::None},
          {"user", 'u', Value::Text},
          {"workdir", 'w', Value::Text},
          kPrivileged,
          kEnvFile},
         Operands::Command},
        {"start", {{"attach", 'a', Value::None}, {"detach-keys", 0, Value::Text}, {"interactive", 'i', Value::None}},
         Operands::Refs},
        {"stop", {{"signal", 's', Value::Text}, {"timeout", 't', Value::Text}, {"time", 0, Value::Text}}, Operands::Refs},
        {"restart", {{"signal", 's', Value::Text}, {"timeout", 't', Value::Text}, {"time", 0, Value::Text}},
         Operands::Refs},
        {"kill", {{"signal", 's', Value::Text}}, Operands::Refs},
        {"rm", {{"force", 'f', Value::None}, {"link", 'l', Value::None}, {"volumes", 'v', Value::None}}, Operands::Refs},
        {"pause", {}, Operands::Refs},
        {"unpause", {}, Operands::Refs},
        {"port", {}, Operands::Refs},
        {"diff", {}, Operands::Refs},
        {"top", {}, Operands::Command},  // CONTAINER [ps OPTIONS]
        // --follow is left out: the step would never end.
        {"logs",
         {{"details", 0, Value::None},
          {"since", 0, Value::Text},
          {"tail", 'n', Value::Text},
          {"timestamps", 't', Value::None},
          {"until", 0, Value::Text}},
         Operands::Refs},
        {"inspect", {{"format", 'f', Value::Text}, {"size", 's', Value::None}, {"type", 0, Value::Text}}, Operands::Refs},
        {"commit",
         {{"author", 'a', Value::Text}, {"change", 'c', Value::Text}, {"message", 'm', Value::Text}, {"pause", 'p', Value::None}},
         Operands::Refs},
        {"history",
         {{"format", 0, Value::Text}, {"human", 'H', Value::None}, {"no-trunc", 0, Value::None}, {"quiet", 'q', Value::None}},
         Operands::Refs},
        {"build",
         {{"tag", 't', Value::Text},
          {"quiet", 'q', Value::None},
          {"no-cache", 0, Value::None},
          {"build-arg", 0, Value::Setting},
          {"file", 'f', Value::FileIn}},
         Operands::Context},
        // An image archive: written and read inside the lesson's folder only.
        {"save", {{"output", 'o', Value::FileOut}}, Operands::Refs},
        {"load", {{"input", 'i', Value::FileIn}, {"quiet", 'q', Value::None}}, Operands::Refs},
        // Read-only listings of the state root.
        {"ps",
         {{"all", 'a', Value::None},
          {"filter", 'f', Value::Text},
          {"format", 0, Value::Text},
          {"last", 'n', Value::Text},
          {"latest", 'l', Value::None},
          {"no-trunc", 0, Value::None},
          {"quiet", 'q', Value::None},
          {"size", 's', Value::None}},
         Operands::Refs},
        {"images",
         {{"all", 'a', Value::None},
          {"digests", 0, Value::None},
          {"filter", 'f', Value::Text},
          {"format", 0, Value::Text},
          {"no-trunc", 0, Value::None},
          {"quiet", 'q', Value::None}},
         Operands::Refs},
        // The boot race (a lesson's `"race": true` runs `isolab race` in the terminal player).
        {"race", {{"json", 0, Value::None}, {"runs", 0, Value::Text}, {"machine", 0, Value::Text}}, Operands::Refs},
        {"vm create",
         {{"memory", 'm', Value::Text}, {"cpus", 0, Value::Text}, {"machine", 0, Value::Text}, {"name", 0, Value::Text}},
         Operands::Refs},
        {"vm start", {{"detach", 'd', Value::None}}, Operands::Refs},
        {"vm stop", {{"force", 'f', Value::None}}, Operands::Refs},
        {"vm console", {}, Operands::Command},  // NAME [COMMAND...]: the command runs in the guest
        {"vm rm", {{"force", 'f', Value::None}}, Operands::Refs},
        {"vm ls", {}, Operands::Refs},
        {"vm inspect", {}, Operands::Refs},
        {"vm pause", {}, Operands::Refs},
        {"vm resume", {}, Operands::Refs},
        {"network create",
         {{"driver", 'd', Value::Text},
          {"gateway", 0, Value::Text},
          {"internal", 0, Value::None},
          {"label", 0, Value::Text},
          {"subnet", 0, Value::Text}},
         Operands::Refs},
        {"network ls", {{"quiet", 'q', Value::None}, {"format", 'f', Value::Text}}, Operands::Refs},
        {"network inspect", {{"format", 'f', Value::Text}}, Operands::Refs},
        {"network rm", {}, Operands::Refs},
        // Volumes: folders of the state root, made and removed by the engine.
        {"volume create", {{"driver", 'd', Value::Text}, {"label", 0, Value::Text}}, Operands::Refs},
        {"volume ls",
         {{"filter", 'f', Value::Text}, {"format", 0, Value::Text}, {"quiet", 'q', Value::None}},
         Operands::Refs},
        {"volume inspect", {{"format", 'f', Value::Text}}, Operands::Refs},
        {"volume rm", {{"force", 'f', Value::None}}, Operands::Refs},
        {"volume prune", {{"all", 'a', Value::None}, {"filter", 0, Value::Text}, {"force", 'f', Value::None}}, Operands::Refs},
    };
    return table;
}

// Commands a lesson may never run, each with the key of its reason. Any other command not in
// rules() is refused too ("not a command lessons may run").
struct RefusedCommand {
    std::string_view verb;
    std::string_view key;
};
constexpr RefusedCommand kRefusedCommands[] = {
    {"system", "lesson.refuse.system"},    // reset/prune: every container and image of the root
    {"runtime", "lesson.refuse.runtime"},  // OCI bundles: config.json may bind-mount the host's `/`
    {"bundle", "lesson.refuse.bundle"},    // writes a bundle into any host folder
    {"lesson", "lesson.refuse.lesson"},
    {"gui", "lesson.refuse.gui"},
    {"doctor", "lesson.refuse.doctor"},
    {"container", "lesson.refuse.long_form"},  // `container run` is `run`: one spelling to check
    {"image", "lesson.refuse.long_form"},
};

// The verbs whose second word is a sub-command with its own rules.
bool is_group(std::string_view verb) { return verb == "vm" || verb == "network" || verb == "volume"; }

// ---- Checking one line ----------------------------------------------------------------------

std::string join(const std::vector<std::string>& items) {
    std::string s;
    for (const auto& i : items) s += (s.empty() ? "" : ", ") + i;
    return s;
}

std::string flag_list(const CommandRule& rule) {
    std::vector<std::string> out;
    for (const auto& f : rule.flags) {
        if (!f.refused.empty()) continue;
        std::string name = "--" + std::string(f.name);
        out.push_back(f.shorthand ? std::string("-") + f.shorthand + "/" + name : name);
    }
    return join(out);
}

// Names or ids of containers, images, VMs and networks, and ports: [A-Za-z0-9][A-Za-z0-9_.:/@-]*
// without a `..` part. Each of them is looked up in the state root by the engine; the check keeps
// a name from being a path (`vm rm ../../x`) whatever the engine does with it.
bool valid_ref(const std::string& s) {
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
    if (s.empty() || !alnum(s[0])) return false;
    for (char c : s)
        if (!alnum(c) && c != '_' && c != '.' && c != ':' && c != '/' && c != '@' && c != '-') return false;
    return ("/" + s + "/").find("/../") == std::string::npos;
}

class Checker {
public:
    Checker(const LessonPlace& place, std::vector<std::string> argv) : place_(place), argv_(std::move(argv)) {}

    std::optional<Refusal> run() {
        // Global flags come before the command. `--root` has its own reason; `isolab` alone would
        // open the window.
        if (argv_.empty()) return refuse("lesson.refuse.empty", {"isolab"});
        const std::string& first = argv_[0];
        if (first.size() > 1 && first[0] == '-') {
            if (first == "--root" || first.rfind("--root=", 0) == 0) return refuse("lesson.refuse.root", {first});
            return refuse("lesson.refuse.global_flag", {first});
        }
        for (const auto& r : kRefusedCommands)
            if (r.verb == first) return refuse(std::string(r.key), {first});
        size_t start = 1;
        std::string path = first;
        if (is_group(first)) {
            path += " " + (argv_.size() > 1 ? argv_[1] : std::string());
            start = 2;
        }
        const CommandRule* rule = nullptr;
        for (const auto& r : rules())
            if (r.path == path) rule = &r;
        if (!rule) return refuse("lesson.refuse.unknown", {path, join(allowed_commands())});
        rule_ = rule;
        if (auto r = flags(start)) return r;
        return operands();
    }

    std::vector<std::string> argv() && { return std::move(argv_); }

private:
    // Where a value lives: word WORD from byte OFFSET on (`--output=x`: offset 9; `-o x`: the next
    // word, offset 0), so that a path can be replaced in place by the host path it resolved to.
    struct Spot {
        size_t word;
        size_t offset;
    };

    static Refusal refuse(std::string key, std::vector<std::string> args) { return Refusal{std::move(key), std::move(args)}; }

    std::string cmd() const { return std::string(rule_->path); }

    const FlagRule* find_long(std::string_view name) const {
        for (const auto& f : rule_->flags)
            if (f.name == name) return &f;
        return nullptr;
    }
    const FlagRule* find_short(char c) const {
        for (const auto& f : rule_->flags)
            if (f.shorthand == c && c != 0) return &f;
        return nullptr;
    }

    std::optional<Refusal> unknown_flag(const std::string& flag) const {
        std::string allowed = flag_list(*rule_);
        if (allowed.empty()) return refuse("lesson.refuse.flag_none", {flag, cmd()});
        return refuse("lesson.refuse.flag", {flag, cmd(), allowed});
    }

    // pflag's syntax, as args.cpp's parse_flags reads it: "--" ends the flags; "--name=value",
    // "--name value"; shorthand clusters "-dit", "-p8080:80", "-p=8080:80", "-e K=V". Without
    // interspersed flags (run, create, exec, top, vm console) the first operand ends them.
    std::optional<Refusal> flags(size_t i) {
        while (i < argv_.size()) {
            const std::string a = argv_[i];
            if (a == "--") {
                for (size_t j = i + 1; j < argv_.size(); ++j) operands_.push_back(j);
                return std::nullopt;
            }
            if (a.size() < 2 || a[0] != '-') {
                operands_.push_back(i++);
                if (rule_->operands == Operands::Command) {
                    // The rest is the command for inside, not IsoLab's words.
                    return std::nullopt;
                }
                continue;
            }
            if (a[1] == '-') {
                std::string body = a.substr(2);
                size_t eq = body.find('=');
                std::string name = body.substr(0, eq);
                const FlagRule* f = name.empty() ? nullptr : find_long(name);
                if (!f) return unknown_flag("--" + name);
                if (!f->refused.empty()) return refuse(std::string(f->refused), {"--" + name, cmd()});
                ++i;
                if (f->value == Value::None) continue;
                Spot spot{};
                if (eq != std::string::npos) spot = {i - 1, 2 + eq + 1};
                else if (i < argv_.size()) spot = {i++, 0};
                else return refuse("lesson.refuse.flag_value", {"--" + name, cmd()});
                if (auto r = value(*f, "--" + name, spot)) return r;
                continue;
            }
            size_t word = i++;
            for (size_t k = 1; k < a.size();) {
                char c = a[k];
                const FlagRule* f = find_short(c);
                std::string shown = std::string("-") + c;
                if (!f) return unknown_flag(shown);
                if (!f->refused.empty()) return refuse(std::string(f->refused), {shown + ", --" + std::string(f->name), cmd()});
                bool with_eq = a.size() > k + 2 && a[k + 1] == '=';
                if (f->value == Value::None) {
                    if (with_eq) break;  // -d=true: the rest is this switch's value
                    ++k;
                    continue;
                }
                Spot spot{};
                if (with_eq) spot = {word, k + 2};
                else if (k + 1 < a.size()) spot = {word, k + 1};
                else if (i < argv_.size()) spot = {i++, 0};
                else return refuse("lesson.refuse.flag_value", {shown, cmd()});
                if (auto r = value(*f, shown, spot)) return r;
                break;
            }
        }
        return std::nullopt;
    }

    std::optional<Refusal> value(const FlagRule& f, const std::string& shown, Spot spot) {
        std::string v = argv_[spot.word].substr(spot.offset);
        switch (f.value) {
            case Value::None:
            case Value::Text: return std::nullopt;
            case Value::Network: {
                std::string lower = v;
                for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                if (lower == "host") return refuse("lesson.refuse.network_host", {shown + " " + v, cmd()});
                return std::nullopt;
            }
            case Value::Setting: {
                size_t eq = v.find('=');
                if (eq == std::string::npos || eq == 0) return refuse("lesson.refuse.env_copy", {shown + " " + v, cmd()});
                return std::nullopt;
            }
            case Value::Mount: {
                // Parsed as the engine will parse it; what does not parse is the engine's to refuse.
                auto m = f.name == "volume" ? parse_volume_flag(v) : parse_mount_flag(v, place_.folder);
                if (m.ok() && m->type == MountType::Bind) return refuse("lesson.refuse.bind", {shown + " " + v, cmd()});
                return std::nullopt;
            }
            case Value::FileIn:
            case Value::FileOut: {
                auto host = in_folder(shown, v);
                if (!host.ok()) return host.refusal;
                argv_[spot.word] = argv_[spot.word].substr(0, spot.offset) + host.path;
                return std::nullopt;
            }
        }
        return std::nullopt;
    }

    std::optional<Refusal> operands() {
        for (size_t n = 0; n < operands_.size(); ++n) {
            size_t w = operands_[n];
            const std::string& v = argv_[w];
            if (rule_->operands == Operands::Context) {
                auto host = context(v);
                if (!host.ok()) return host.refusal;
                argv_[w] = host.path;
                continue;
            }
            if (rule_->operands == Operands::Command && n > 0) break;  // the command for inside
            if (!valid_ref(v)) return refuse("lesson.refuse.operand", {v, cmd()});
        }
        return std::nullopt;
    }

    struct Resolved {
        std::string path;
        std::optional<Refusal> refusal;
        bool ok() const { return !refusal; }
    };

    // A build context: one of IsoLab's teaching images, spelled as the shipped lessons and `needs`
    // spell it (`assets/images/web`), or a folder inside the lesson's folder.
    Resolved context(const std::string& v) {
        std::string clean = safe::clean_in_root(v);
        const std::string prefix = "/assets/images/";
        if (clean.rfind(prefix, 0) == 0 && v.find("..") == std::string::npos && v[0] != '/') {
            std::string name = clean.substr(prefix.size());
            if (name == "web" || name == "hello" || name == "layers") {
                auto root = safe::Root::open(place_.teaching_images);
                if (!root) return {"", refuse("lesson.refuse.path_unusable", {"build", v, place_.teaching_images, root.error().message})};
                return resolve(*root, "build", v, name, /*may_be_missing=*/false, "lesson.refuse.context_outside");
            }
        }
        if (!folder_) {
            auto root = safe::Root::open(place_.folder);
            if (!root) return {"", refuse("lesson.refuse.path_unusable", {"build", v, place_.folder, root.error().message})};
            folder_ = std::move(*root);
        }
        return resolve(*folder_, "build", v, v, /*may_be_missing=*/false, "lesson.refuse.context_outside");
    }

    // A host file a flag names (FLAG is how the line spelled it): inside the lesson's folder.
    Resolved in_folder(const std::string& flag, const std::string& v) {
        if (!folder_) {
            auto root = safe::Root::open(place_.folder);
            if (!root) return {"", refuse("lesson.refuse.path_unusable", {flag, v, place_.folder, root.error().message})};
            folder_ = std::move(*root);
        }
        // A file to read may be one an earlier step writes (`save -o` then `load -i`).
        return resolve(*folder_, flag, v, v, /*may_be_missing=*/true, "lesson.refuse.path_outside");
    }

    // LITERAL (the lesson's words) names INSIDE within ROOT. It must be relative, without `..`,
    // and reach its place without a symlink: then safe::Root's resolution (which keeps `..` and
    // symlinks inside the root) and the kernel's plain lookup of the returned host path agree. A
    // symlink is refused even when it points inside: an attacker can make one point anywhere.
    Resolved resolve(const safe::Root& root, const std::string& flag, const std::string& literal,
                     const std::string& inside, bool may_be_missing, const char* outside_key) {
        const std::string& top = root.host_path();
        if (literal.empty())
            return {"", refuse("lesson.refuse.path_unusable", {flag, "\"\"", top, "an empty path"})};
        bool climbs = literal[0] == '/' || ("/" + literal + "/").find("/../") != std::string::npos;
        if (climbs) {
            if (std::string(outside_key) == "lesson.refuse.context_outside")
                return {"", refuse(outside_key, {literal, place_.folder})};
            return {"", refuse(outside_key, {flag, literal, place_.folder})};
        }
        std::string lexical = safe::clean_in_root(inside);
        // Each part that exists must be no symlink (the message says so, rather than what the
        // kernel makes of the link).
        std::string walked = top;
        for (size_t at = 1; at < lexical.size();) {
            size_t end = lexical.find('/', at);
            if (end == std::string::npos) end = lexical.size();
            walked += "/" + lexical.substr(at, end - at);
            at = end + 1;
            struct stat st {};
            if (::lstat(walked.c_str(), &st) != 0) break;
            if (S_ISLNK(st.st_mode)) return {"", refuse("lesson.refuse.path_symlink", {flag, literal, top})};
        }
        auto where = root.resolve(inside, may_be_missing);
        if (!where) return {"", refuse("lesson.refuse.path_unusable", {flag, literal, top, where.error().message})};
        std::string host = *where == "/" ? top : top + *where;
        if (*where != lexical) return {"", refuse("lesson.refuse.path_symlink", {flag, literal, top})};
        // The last part, when missing, was not resolved: a dangling symlink there would be
        // followed by whoever writes the file.
        struct stat st {};
        if (::lstat(host.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
            return {"", refuse("lesson.refuse.path_symlink", {flag, literal, top})};
        return {host, std::nullopt};
    }

    const LessonPlace& place_;
    std::vector<std::string> argv_;
    const CommandRule* rule_ = nullptr;
    std::vector<size_t> operands_;
    std::optional<safe::Root> folder_;
};

}  // namespace

std::vector<std::string> allowed_commands() {
    std::vector<std::string> out;
    for (const auto& r : rules()) out.emplace_back(r.path);
    std::sort(out.begin(), out.end());
    return out;
}

VettedCommand vet_command(const std::string& line, const LessonPlace& place) {
    VettedCommand v;
    // exec(2) would cut a word at a NUL (JSON can hold "\u0000"): the words checked here would not
    // be the words that run.
    if (line.find('\0') != std::string::npos) {
        v.refusal = Refusal{"lesson.refuse.syntax", {line.substr(0, line.find('\0')), "a NUL character"}};
        return v;
    }
    auto words = split_command_line(line);
    if (!words) {
        v.refusal = Refusal{"lesson.refuse.syntax", {line, words.error().message}};
        return v;
    }
    if (words->empty() || ((*words)[0] != "isolab" && (*words)[0] != "docker")) {
        v.refusal = Refusal{"lesson.refuse.prefix", {line}};
        return v;
    }
    Checker c(place, strip_docker_prefix(std::move(*words)));
    v.refusal = c.run();
    if (!v.refusal) v.argv = std::move(c).argv();
    return v;
}

}  // namespace isolab::lesson
