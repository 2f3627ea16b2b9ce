#include "sim/engine/build.hpp"

#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/core/i18n.hpp"
#include "sim/engine/dockerfile.hpp"
#include "sim/engine/layer_archive.hpp"
#include "sim/runtime/json_log.hpp"

namespace isolab {

namespace fs = std::filesystem;
using nlohmann::json;
using dockerfile::Instruction;
using dockerfile::Kind;

namespace {

std::string short_id(const std::string& id) {
    std::string hex = id.substr(id.find(':') + 1);
    return hex.substr(0, 12);
}

std::string human_size(int64_t bytes) {
    char buf[32];
    if (bytes >= 1000000) std::snprintf(buf, sizeof buf, "%.2fMB", static_cast<double>(bytes) / 1e6);
    else if (bytes >= 1000) std::snprintf(buf, sizeof buf, "%.1fkB", static_cast<double>(bytes) / 1e3);
    else std::snprintf(buf, sizeof buf, "%lldB", static_cast<long long>(bytes));
    return buf;
}

Error step_error(const Instruction& in, const std::string& dockerfile_name, const std::string& message) {
    return make_error(dockerfile_name + ":" + std::to_string(in.line) + ": " + message, 1);
}

// The image being built: its config and what an Image needs to run a container on it.
struct Stage {
    json config;
    bool cmd_set_here = false;  // CMD given in this Dockerfile (ENTRYPOINT then keeps it)

    std::string text() const { return config.dump(2) + "\n"; }
    std::string id() const { return "sha256:" + sha256_hex(text()); }
    std::vector<std::string> diff_ids() const {
        std::vector<std::string> out;
        if (config.contains("rootfs") && config["rootfs"].contains("diff_ids"))
            for (const auto& d : config["rootfs"]["diff_ids"]) out.push_back(d.get<std::string>());
        return out;
    }
    json& cfg() {
        if (!config.contains("config") || !config["config"].is_object()) config["config"] = json::object();
        return config["config"];
    }
    std::vector<std::string> env() const {
        if (config.contains("config") && config["config"].contains("Env") && config["config"]["Env"].is_array())
            return config["config"]["Env"].get<std::vector<std::string>>();
        return {};
    }
    void set_env(const std::string& key, const std::string& value) {
        auto list = env();
        std::erase_if(list, [&](const std::string& e) { return e.compare(0, key.size() + 1, key + "=") == 0; });
        list.push_back(key + "=" + value);
        cfg()["Env"] = list;
    }
    std::string workdir() const {
        return config.contains("config") ? config["config"].value("WorkingDir", "") : "";
    }
    void add_history(const std::string& created_by, bool empty_layer) {
        json h = {{"created", config.value("created", now_rfc3339())}, {"created_by", created_by}};
        if (empty_layer) h["empty_layer"] = true;
        if (!config.contains("history") || !config["history"].is_array()) config["history"] = json::array();
        config["history"].push_back(h);
    }
};

// .dockerignore: one pattern per line, `#` comments, `!` re-includes. Patterns match paths
// relative to the context; `*` does not cross `/` (Go's filepath.Match), `**` does.
class IgnoreRules {
public:
    explicit IgnoreRules(const std::string& context) {
        std::ifstream in(context + "/.dockerignore");
        for (std::string line; std::getline(in, line);) {
            line = trim(line);
            if (line.empty() || line[0] == '#') continue;
            bool exclude = line[0] != '!';
            if (!exclude) line = trim(line.substr(1));
            while (line.rfind("./", 0) == 0) line = line.substr(2);
            while (!line.empty() && line[0] == '/') line = line.substr(1);
            while (line.size() > 1 && line.back() == '/') line.pop_back();
            rules_.push_back({line, exclude});
        }
    }
    bool excluded(const std::string& rel) const {
        bool out = false;
        for (const auto& r : rules_)
            if (matches(r.pattern, rel)) out = r.exclude;
        return out;
    }

private:
    static bool matches(const std::string& pattern, const std::string& rel) {
        // A pattern matches the path or any of its parent directories ("node_modules" excludes
        // everything below it).
        std::string p = rel;
        for (;;) {
            int flags = pattern.find("**") != std::string::npos ? 0 : FNM_PATHNAME;
            if (::fnmatch(pattern.c_str(), p.c_str(), flags) == 0) return true;
            size_t slash = p.rfind('/');
            if (slash == std::string::npos) return false;
            p = p.substr(0, slash);
        }
    }
    struct Rule {
        std::string pattern;
        bool exclude;
    };
    std::vector<Rule> rules_;
};

// A path inside the context, lexically: "../x" and absolute paths outside it are refused.
Result<std::string> context_path(const std::string& context, const std::string& src) {
    fs::path rel = fs::path(src).lexically_normal();
    if (rel.is_absolute()) rel = rel.lexically_relative("/");
    std::string r = rel.string();
    if (r == ".." || r.rfind("../", 0) == 0)
        return make_error("forbidden path outside the build context: " + src, 1);
    if (r == "." || r.empty()) return context;
    return context + "/" + r;
}

// Copies SRC (a file, symlink or directory tree from the context) to DEST, owned by uid:gid,
// keeping modes and modification times (as Docker's COPY does); directories are merged.
Status copy_entry(const std::string& src, const std::string& dest, uid_t uid, gid_t gid, int chmod_mode,
                  const std::string& context, const IgnoreRules& ignore) {
    struct stat st;
    if (::lstat(src.c_str(), &st) != 0) return errno_error("stat `" + src + "`", errno);
    std::string rel = fs::path(src).lexically_relative(context).string();
    if (rel != "." && ignore.excluded(rel)) return {};
    if (S_ISDIR(st.st_mode)) {
        if (::mkdir(dest.c_str(), st.st_mode & 07777) != 0 && errno != EEXIST)
            return errno_error("mkdir `" + dest + "`", errno);
        std::vector<std::string> names;
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(src, ec)) names.push_back(e.path().filename().string());
        std::sort(names.begin(), names.end());
        for (const auto& n : names) ISOLAB_TRY(copy_entry(src + "/" + n, dest + "/" + n, uid, gid, chmod_mode, context, ignore));
        ::chmod(dest.c_str(), chmod_mode >= 0 ? static_cast<mode_t>(chmod_mode) : st.st_mode & 07777);
    } else if (S_ISLNK(st.st_mode)) {
        std::error_code ec;
        auto target = fs::read_symlink(src, ec);
        if (ec) return make_error("readlink `" + src + "`: " + ec.message());
        ::unlink(dest.c_str());
        if (::symlink(target.c_str(), dest.c_str()) != 0) return errno_error("symlink `" + dest + "`", errno);
    } else if (S_ISREG(st.st_mode)) {
        std::error_code ec;
        fs::copy_file(src, dest, fs::copy_options::overwrite_existing, ec);
        if (ec) return make_error("copy `" + src + "`: " + ec.message());
        ::chmod(dest.c_str(), chmod_mode >= 0 ? static_cast<mode_t>(chmod_mode) : st.st_mode & 07777);
    } else {
        return make_error("COPY `" + rel + "`: only files, directories and symlinks can be copied", 1);
    }
    if (::lchown(dest.c_str(), uid, gid) != 0 && geteuid() == 0) return errno_error("chown `" + dest + "`", errno);
    struct timespec times[2] = {st.st_mtim, st.st_mtim};
    ::utimensat(AT_FDCWD, dest.c_str(), times, AT_SYMLINK_NOFOLLOW);
    return {};
}

bool is_url(const std::string& s) {
    return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0 || s.rfind("git@", 0) == 0 ||
           s.rfind("ftp://", 0) == 0;
}

bool looks_like_tar(const std::string& path) {
    for (const char* ext : {".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.zst", ".tar.bz2"}) {
        std::string e = ext;
        if (path.size() > e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0) return true;
    }
    return false;
}

// "1000", "1000:1000", "www-data", "www-data:www-data": names are looked up in the image's own
// /etc/passwd and /etc/group (the topmost layer that has the file), never the host's.
Result<std::pair<uid_t, gid_t>> resolve_chown(const std::string& spec, const std::vector<std::string>& layer_dirs) {
    auto lookup = [&](const char* file, const std::string& name) -> Result<std::pair<unsigned, unsigned>> {
        if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos)
            return std::pair<unsigned, unsigned>{static_cast<unsigned>(std::stoul(name)), ~0u};
        for (auto it = layer_dirs.rbegin(); it != layer_dirs.rend(); ++it) {
            auto text = read_file(*it + "/" + file);
            if (!text) continue;
            std::istringstream in(*text);
            for (std::string line; std::getline(in, line);) {
                std::vector<std::string> f;
                std::istringstream ls(line);
                for (std::string x; std::getline(ls, x, ':');) f.push_back(x);
                if (f.size() >= 3 && f[0] == name)
                    return std::pair<unsigned, unsigned>{static_cast<unsigned>(std::stoul(f[2])),
                                                         f.size() >= 4 && !f[3].empty() ? static_cast<unsigned>(std::stoul(f[3])) : ~0u};
            }
            break;
        }
        return make_error(std::string("unable to find ") + (std::string(file) == "etc/passwd" ? "user " : "group ") + name, 1);
    };
    std::string user = spec, group;
    if (size_t c = spec.find(':'); c != std::string::npos) {
        user = spec.substr(0, c);
        group = spec.substr(c + 1);
    }
    auto u = lookup("etc/passwd", user);
    if (!u) return u.error();
    gid_t gid = u->second == ~0u ? u->first : u->second;
    if (!group.empty()) {
        auto g = lookup("etc/group", group);
        if (!g) return g.error();
        gid = g->first;
    }
    return std::pair<uid_t, gid_t>{u->first, gid};
}

// Applies an instruction that changes only settings to STAGE (the builder and `commit --change`
// share it). VARS are what $NAME expands to.
Status apply_setting(Stage& stage, const Instruction& in, const std::map<std::string, std::string>& vars, char escape,
                     std::vector<std::string>& shell, const std::string& name) {
    auto xp = [&](const std::string& word) -> Result<std::string> {
        auto r = dockerfile::expand(word, vars, escape);
        if (!r) return step_error(in, name, r.error().message);
        return r;
    };
    switch (in.kind) {
    case Kind::Env: {
        // All values are expanded with the environment as it was before this ENV.
        std::vector<std::pair<std::string, std::string>> expanded;
        for (const auto& [k, v] : in.pairs) {
            auto val = xp(v);
            if (!val) return val.error();
            expanded.push_back({k, *val});
        }
        for (const auto& [k, v] : expanded) stage.set_env(k, v);
        break;
    }
    case Kind::Label: {
        if (!stage.cfg().contains("Labels") || !stage.cfg()["Labels"].is_object()) stage.cfg()["Labels"] = json::object();
        for (const auto& [k, v] : in.pairs) {
            auto key = xp(k), val = xp(v);
            if (!key) return key.error();
            if (!val) return val.error();
            stage.cfg()["Labels"][*key] = *val;
        }
        break;
    }
    case Kind::Expose: {
        if (!stage.cfg().contains("ExposedPorts") || !stage.cfg()["ExposedPorts"].is_object())
            stage.cfg()["ExposedPorts"] = json::object();
        for (const auto& w : in.args) {
            auto port = xp(w);
            if (!port) return port.error();
            std::string p = *port;
            if (p.find('/') == std::string::npos) p += "/tcp";
            stage.cfg()["ExposedPorts"][p] = json::object();
        }
        break;
    }
    case Kind::Workdir: {
        auto dir = xp(in.args.at(0));
        if (!dir) return dir.error();
        std::string wd = *dir;
        if (wd.empty() || wd[0] != '/') {
            std::string base = stage.workdir().empty() ? "/" : stage.workdir();
            wd = (base.back() == '/' ? base : base + "/") + wd;
        }
        stage.cfg()["WorkingDir"] = fs::path(wd).lexically_normal().string();
        break;
    }
    case Kind::User: {
        auto user = xp(in.args.at(0));
        if (!user) return user.error();
        stage.cfg()["User"] = *user;
        break;
    }
    case Kind::StopSignal: {
        auto sig = xp(in.args.at(0));
        if (!sig) return sig.error();
        if (!parse_signal(*sig)) return step_error(in, name, "STOPSIGNAL " + *sig + ": invalid signal");
        stage.cfg()["StopSignal"] = *sig;
        break;
    }
    case Kind::Shell:
        shell = in.args;
        stage.cfg()["Shell"] = in.args;
        break;
    case Kind::Cmd:
        stage.cfg()["Cmd"] = dockerfile::config_args(in, shell);
        stage.cmd_set_here = true;
        break;
    case Kind::Entrypoint:
        stage.cfg()["Entrypoint"] = dockerfile::config_args(in, shell);
        // Docker: ENTRYPOINT resets a CMD inherited from the base image (not one set here).
        if (!stage.cmd_set_here) stage.cfg()["Cmd"] = nullptr;
        break;
    default:
        return step_error(in, name, in.keyword + " cannot be applied as a settings change");
    }
    return {};
}

class Builder {
public:
    Builder(Engine& engine, const BuildOptions& options, std::ostream& out)
        : engine_(engine), opt_(options), out_(options.quiet ? null_ : out) {}

    Result<std::string> run();

private:
    void say(const std::string& line) { out_ << line << "\n" << std::flush; }
    Status step(const Instruction& in);
    Status step_from(const Instruction& in);
    Status step_run(const Instruction& in);
    Status step_copy(const Instruction& in);
    // Finishes a step: stores the cache entry and prints the id (and the layer, if one was made).
    void finish_step(const std::string& key, const std::string& new_layer);
    bool try_cache(const std::string& key);
    std::map<std::string, std::string> vars() const;  // ENV of the stage + ARGs in scope
    Result<std::string> expand(const Instruction& in, const std::string& word) const;
    void cleanup();

    Engine& engine_;
    const BuildOptions& opt_;
    std::ostream null_{nullptr};
    std::ostream& out_;
    std::string name_ = "Dockerfile";
    dockerfile::Dockerfile file_;
    Stage stage_;
    bool have_stage_ = false;
    std::vector<std::string> shell_ = {"/bin/sh", "-c"};
    std::map<std::string, std::string> build_args_;          // --build-arg
    std::set<std::string> used_args_;
    std::map<std::string, std::string> global_args_;         // ARG before FROM
    std::vector<std::pair<std::string, std::string>> args_;  // ARG in the stage, in order
    std::vector<std::string> new_layers_;                    // made by this build
    std::string live_container_;                             // a RUN container to remove on failure
    int layers_made_ = 0, cached_ = 0;
};

std::map<std::string, std::string> Builder::vars() const {
    std::map<std::string, std::string> v;
    for (const auto& [k, val] : args_) v[k] = val;
    for (const auto& e : stage_.env()) {
        size_t eq = e.find('=');
        if (eq != std::string::npos) v[e.substr(0, eq)] = e.substr(eq + 1);
    }
    return v;
}

Result<std::string> Builder::expand(const Instruction& in, const std::string& word) const {
    auto r = dockerfile::expand(word, vars(), file_.escape);
    if (!r) return step_error(in, name_, r.error().message);
    return r;
}

void Builder::cleanup() {
    if (!live_container_.empty()) (void)engine_.remove(live_container_, true);
    live_container_.clear();
    engine_.images().remove_unused_layers(new_layers_);
}

bool Builder::try_cache(const std::string& key) {
    if (opt_.no_cache) return false;
    auto text = read_file(engine_.images().dir() + "/build-cache/" + key);
    if (!text) return false;
    auto j = json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.contains("config")) return false;
    Stage next;
    next.config = j["config"];
    for (const auto& d : next.diff_ids())
        if (!path_exists(engine_.images().layer_path(d))) return false;
    stage_.config = next.config;
    stage_.cmd_set_here = j.value("cmd_set_here", false);
    say(" ---> Using cache");
    say(" ---> " + short_id(stage_.id()));
    ++cached_;
    return true;
}

void Builder::finish_step(const std::string& key, const std::string& new_layer) {
    if (!key.empty() && !opt_.no_cache) {
        std::string dir = engine_.images().dir() + "/build-cache";
        (void)make_dirs(dir);
        json entry = {{"config", stage_.config}, {"cmd_set_here", stage_.cmd_set_here}};
        (void)write_file_atomic(dir + "/" + key, entry.dump() + "\n");
    }
    std::string line = " ---> " + short_id(stage_.id());
    if (!new_layer.empty())
        line += "   " + i18n::trf("build.new_layer", {short_id(new_layer),
                                                      human_size(ImageStore::layer_size(engine_.images().layer_path(new_layer)))});
    else
        line += "   " + i18n::tr("build.no_layer");
    say(line);
}

Status Builder::step_from(const Instruction& in) {
    if (have_stage_)
        return step_error(in, name_, "a second FROM (a multi-stage build) is not supported by IsoLab yet: "
                                     "build each stage as its own image");
    std::map<std::string, std::string> v;
    for (const auto& [k, val] : global_args_) v[k] = val;
    auto ref = dockerfile::expand(in.args.at(0), v, file_.escape);
    if (!ref) return step_error(in, name_, ref.error().message);
    auto base = engine_.images().resolve(*ref);
    if (!base) return step_error(in, name_, "FROM " + *ref + ": " + base.error().message);
    stage_.config = base->config;
    if (base->id == "scratch") stage_.config.erase("history");
    have_stage_ = true;
    say(" ---> " + (base->id == "scratch" ? std::string("scratch (an empty file system)") : short_id(base->id)));
    return {};
}

Status Builder::step_run(const Instruction& in) {
    std::vector<std::string> args = dockerfile::config_args(in, shell_);
    // Build arguments reach RUN as environment variables, and so they are part of the cache key.
    std::vector<std::string> arg_env;
    for (const auto& [k, val] : args_) {
        arg_env.push_back(k + "=" + val);
        used_args_.insert(k);
    }
    std::string parent = stage_.id();
    std::string key = sha256_hex(parent + "\nRUN " + json(args).dump() + "\n" + json(arg_env).dump());
    if (try_cache(key)) return {};

    Image img;
    img.id = parent;
    img.config = stage_.config;
    for (const auto& d : stage_.diff_ids()) img.layer_dirs.push_back(engine_.images().layer_path(d));
    ContainerSpec spec;
    spec.image = "(build step " + std::to_string(in.line) + ")";
    spec.cmd = args;
    spec.entrypoint = std::vector<std::string>{};  // RUN ignores ENTRYPOINT
    spec.env = arg_env;
    spec.workdir = stage_.workdir();
    spec.labels["org.isolab.build.step"] = std::to_string(in.line);
    auto rec = engine_.create(spec, &img);
    if (!rec) return step_error(in, name_, rec.error().message);
    live_container_ = rec->id;
    say(" ---> Running in " + rec->id.substr(0, 12));
    auto started = engine_.start(rec->id, false);
    if (!started) return step_error(in, name_, started.error().message);

    // Follow the container's log while it runs: the learner sees RUN's output as it comes.
    // Through JsonLogReader, which follows the log across rotations (a RUN printing more than
    // the log keeps is shown whole as long as the builder keeps up).
    auto log = JsonLogReader::open(engine_.log_path(rec->id));
    auto drain = [&]() {
        if (!log) return;
        (void)log->poll([&](std::string_view line) {
            auto j = json::parse(line.begin(), line.end(), nullptr, false);
            if (!j.is_discarded() && j.is_object()) out_ << j.value("log", "");
        });
        out_ << std::flush;
    };
    for (;;) {
        drain();
        auto r = engine_.store().load(rec->id);
        if (!r || !(container_has_process(r->state) || r->state == ContainerState::Restarting)) break;
        sleep_ms(20);
    }
    auto code = engine_.wait(rec->id);
    drain();
    if (!code) return step_error(in, name_, code.error().message);
    if (*code != 0)
        return make_error("The command '" + command_line(args) + "' returned a non-zero code: " + std::to_string(*code), 1);

    std::string staged = engine_.images().dir() + "/layers/.run-" + random_hex(6);
    if (auto s = engine_.export_changes(rec->id, staged); !s) {
        (void)remove_tree(staged);
        return step_error(in, name_, s.error().message);
    }
    say("Removing intermediate container " + rec->id.substr(0, 12));
    (void)engine_.remove(rec->id, true);
    live_container_.clear();
    auto diff_id = engine_.images().add_layer(staged, true);
    if (!diff_id) return step_error(in, name_, diff_id.error().message);
    new_layers_.push_back(*diff_id);
    ++layers_made_;
    stage_.config["created"] = now_rfc3339();
    stage_.config["rootfs"]["diff_ids"].push_back(*diff_id);
    stage_.add_history("RUN " + command_line(args), false);
    finish_step(key, *diff_id);
    return {};
}

Status Builder::step_copy(const Instruction& in) {
    const bool add = in.kind == Kind::Add;
    const std::string verb = add ? "ADD" : "COPY";
    if (in.flags.count("from"))
        return step_error(in, name_, verb + " --from needs a multi-stage build, which IsoLab does not support yet");
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<std::string> layer_dirs;
    for (const auto& d : stage_.diff_ids()) layer_dirs.push_back(engine_.images().layer_path(d));
    if (auto it = in.flags.find("chown"); it != in.flags.end()) {
        auto who = expand(in, it->second);
        if (!who) return who.error();
        auto ids = resolve_chown(*who, layer_dirs);
        if (!ids) return step_error(in, name_, verb + " --chown=" + *who + ": " + ids.error().message);
        uid = ids->first;
        gid = ids->second;
    }
    int chmod_mode = -1;
    if (auto it = in.flags.find("chmod"); it != in.flags.end()) {
        char* end = nullptr;
        long m = std::strtol(it->second.c_str(), &end, 8);
        if (it->second.empty() || *end || m < 0 || m > 07777)
            return step_error(in, name_, verb + " --chmod=" + it->second + ": not an octal mode like 755");
        chmod_mode = static_cast<int>(m);
    }
    std::vector<std::string> words;
    for (const auto& a : in.args) {
        auto w = expand(in, a);
        if (!w) return w.error();
        words.push_back(*w);
    }
    std::string dest = words.back();
    words.pop_back();
    for (const auto& w : words)
        if (is_url(w))
            return step_error(in, name_, verb + " " + w + ": downloading from a URL is not supported: IsoLab works "
                                         "offline. Download the file into the build context and COPY it");
    bool dest_is_dir = !dest.empty() && dest.back() == '/';
    if (dest.empty() || dest[0] != '/') {
        std::string wd = stage_.workdir().empty() ? "/" : stage_.workdir();
        dest = (wd.back() == '/' ? wd : wd + "/") + (dest == "." ? "" : dest);
        if (dest.back() == '/' || words.size() > 1) dest_is_dir = true;
    }
    // Sources: context paths, with glob patterns.
    IgnoreRules ignore(opt_.context);
    std::vector<std::string> sources;
    for (const auto& w : words) {
        auto p = context_path(opt_.context, w);
        if (!p) return make_error(verb + " failed: " + p.error().message, 1);
        if (w.find_first_of("*?[") != std::string::npos) {
            glob_t g = {};
            int rc = ::glob(p->c_str(), GLOB_NOSORT, nullptr, &g);
            std::vector<std::string> found;
            for (size_t i = 0; rc == 0 && i < g.gl_pathc; ++i) found.push_back(g.gl_pathv[i]);
            ::globfree(&g);
            std::sort(found.begin(), found.end());
            std::erase_if(found, [&](const std::string& f) { return ignore.excluded(fs::path(f).lexically_relative(opt_.context).string()); });
            if (found.empty())
                return make_error(verb + " failed: no source files were specified (nothing in the build context matches " + w + ")", 1);
            sources.insert(sources.end(), found.begin(), found.end());
        } else {
            std::string rel = fs::path(*p).lexically_relative(opt_.context).string();
            if (!path_exists(*p) || (rel != "." && ignore.excluded(rel)))
                return make_error(verb + " failed: file not found in build context or excluded by .dockerignore: stat " + w +
                                      ": file does not exist",
                                  1);
            sources.push_back(*p);
        }
    }
    if (sources.size() > 1 && !dest_is_dir)
        return step_error(in, name_, "When using " + verb + " with more than one source file, the destination must be a "
                                     "directory and end with a /");

    // Stage the files in a new layer directory: the destination's parents are created as root,
    // 0755, as Docker does.
    std::string staged = engine_.images().dir() + "/layers/.copy-" + random_hex(6);
    auto fail = [&](Error e) {
        (void)remove_tree(staged);
        return e;
    };
    if (auto s = make_dirs(staged); !s) return fail(s.error());
    for (const auto& src : sources) {
        struct stat st;
        if (::lstat(src.c_str(), &st) != 0) return fail(errno_error("stat `" + src + "`", errno));
        std::string target = staged + dest;
        if (S_ISDIR(st.st_mode)) {
            // A directory's contents are copied, not the directory itself.
            if (auto s = make_dirs(target); !s) return fail(s.error());
            if (auto s = copy_entry(src, target, uid, gid, chmod_mode, opt_.context, ignore); !s) return fail(s.error());
        } else if (add && S_ISREG(st.st_mode) && looks_like_tar(src)) {
            // ADD unpacks a local tar archive into the destination directory.
            std::string tmp = staged + ".tar-" + random_hex(4);
            auto x = extract_layer_tar(src, tmp);
            if (!x) {
                (void)remove_tree(tmp);
                return fail(step_error(in, name_, "ADD " + fs::path(src).filename().string() + ": " + x.error().message));
            }
            if (auto s = make_dirs(target); !s) return fail(s.error());
            auto copied = run_capture({"/bin/cp", "-a", tmp + "/.", target + "/"});
            (void)remove_tree(tmp);
            if (!copied) return fail(copied.error());
        } else {
            if (dest_is_dir) target += (target.back() == '/' ? "" : "/") + fs::path(src).filename().string();
            if (auto s = make_dirs(fs::path(target).parent_path().string()); !s) return fail(s.error());
            if (auto s = copy_entry(src, target, uid, gid, chmod_mode, opt_.context, ignore); !s) return fail(s.error());
        }
    }
    auto content = tree_digest(staged);
    if (!content) return fail(content.error());
    std::string key = sha256_hex(stage_.id() + "\n" + in.text + "\n" + *content);
    if (try_cache(key)) {
        (void)remove_tree(staged);
        return {};
    }
    auto diff_id = engine_.images().add_layer(staged, true);
    if (!diff_id) return fail(diff_id.error());
    new_layers_.push_back(*diff_id);
    ++layers_made_;
    stage_.config["created"] = now_rfc3339();
    stage_.config["rootfs"]["diff_ids"].push_back(*diff_id);
    std::string shown;
    for (const auto& w : words) shown += w + " ";
    stage_.add_history(verb + " " + shown + dest, false);
    finish_step(key, *diff_id);
    return {};
}

Status Builder::step(const Instruction& in) {
    if (in.kind == Kind::From) return step_from(in);
    if (in.kind == Kind::Arg && !have_stage_) {
        auto& [name, def] = in.pairs.at(0);
        std::string value;
        if (auto it = build_args_.find(name); it != build_args_.end()) {
            value = it->second;
            used_args_.insert(name);
        } else if (in.has_default) {
            auto v = dockerfile::expand(def, global_args_, file_.escape);
            if (!v) return step_error(in, name_, v.error().message);
            value = *v;
        }
        global_args_[name] = value;
        say(" ---> (ARG " + name + " for FROM)");
        return {};
    }
    if (!have_stage_) return step_error(in, name_, "no build stage in current context: the first instruction must be FROM");

    const std::string parent = stage_.id();
    std::string history;
    switch (in.kind) {
    case Kind::From:
        break;  // handled above
    case Kind::Run:
        return step_run(in);
    case Kind::Copy:
    case Kind::Add:
        return step_copy(in);
    case Kind::Arg: {
        auto [name, value] = in.pairs.at(0);
        bool has_value = in.has_default;
        if (auto g = global_args_.find(name); g != global_args_.end() && !has_value) {
            value = g->second;  // `ARG NAME` in the stage re-declares a global ARG
            has_value = true;
        }
        if (auto it = build_args_.find(name); it != build_args_.end()) {
            value = it->second;
            used_args_.insert(name);
        } else if (has_value) {
            auto v = expand(in, value);
            if (!v) return v.error();
            value = *v;
        }
        std::erase_if(args_, [&](const auto& p) { return p.first == name; });
        args_.push_back({name, value});
        say(" ---> " + short_id(parent) + "   " + i18n::tr("build.no_layer"));
        return {};
    }
    default:
        ISOLAB_TRY(apply_setting(stage_, in, vars(), file_.escape, shell_, name_));
        break;
    }
    std::string key = sha256_hex(parent + "\n" + in.text + "\n" + json(vars()).dump());
    if (try_cache(key)) return {};
    stage_.config["created"] = now_rfc3339();
    stage_.add_history(in.text, true);
    finish_step(key, "");
    return {};
}

Result<std::string> Builder::run() {
    // Everything that can be checked is checked before the first step runs.
    struct stat st;
    if (opt_.context.empty() || ::stat(opt_.context.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        return make_error("unable to prepare context: path \"" + opt_.context + "\" not found", 1);
    for (const auto& t : opt_.tags)
        if (!ImageStore::valid_reference(t))
            return make_error("invalid argument \"" + t + "\" for \"-t, --tag\" flag: invalid reference format", 125);
    for (const auto& a : opt_.build_args) {
        size_t eq = a.find('=');
        if (eq == std::string::npos) {
            if (const char* v = std::getenv(a.c_str())) build_args_[a] = v;  // Docker: KEY alone = from env
        } else {
            build_args_[a.substr(0, eq)] = a.substr(eq + 1);
        }
    }
    std::string path = opt_.dockerfile.empty() ? opt_.context + "/Dockerfile" : opt_.dockerfile;
    if (!opt_.dockerfile.empty() && !path_exists(path) && path_exists(opt_.context + "/" + opt_.dockerfile))
        path = opt_.context + "/" + opt_.dockerfile;
    auto text = read_file(path);
    if (!text)
        return make_error("unable to prepare context: cannot read the Dockerfile `" + path +
                              "`: write one there, or name another with -f",
                          1);
    name_ = fs::path(path).filename().string();
    auto parsed = dockerfile::parse(*text, name_);
    if (!parsed) return parsed.error();
    file_ = std::move(*parsed);
    for (const auto& in : file_.instructions)
        if (in.kind == Kind::Run && engine_.backend() == "simulated")
            return step_error(in, name_, "RUN needs the real container runtime, but this machine uses the simulated "
                                         "backend (`isolab doctor` says why)");

    const size_t n = file_.instructions.size();
    for (size_t i = 0; i < n; ++i) {
        const auto& in = file_.instructions[i];
        say("Step " + std::to_string(i + 1) + "/" + std::to_string(n) + " : " + in.text);
        if (auto s = step(in); !s) {
            cleanup();
            return s.error();
        }
    }
    if (!have_stage_) return make_error(name_ + ": no FROM instruction: nothing to build", 1);
    auto id = engine_.images().store_config(stage_.text(), opt_.tags);
    if (!id) {
        cleanup();
        return id.error();
    }
    std::vector<std::string> unused;
    for (const auto& [k, v] : build_args_)
        if (!used_args_.count(k)) unused.push_back(k);
    if (!unused.empty()) {
        std::string list;
        for (const auto& u : unused) list += (list.empty() ? "" : " ") + u;
        say("[Warning] One or more build-args [" + list + "] were not consumed");
    }
    say("Successfully built " + short_id(*id));
    for (const auto& t : opt_.tags) say("Successfully tagged " + ImageStore::normalize_ref(t));
    engine_.store().append_event("build", {{"image", *id}, {"tags", opt_.tags}, {"layers_made", layers_made_},
                                           {"cached_steps", cached_}});
    return id;
}

}  // namespace

Status apply_changes(json& settings, const std::vector<std::string>& changes) {
    Stage stage;
    stage.config = {{"config", settings.is_object() ? settings : json::object()}};
    std::vector<std::string> shell = {"/bin/sh", "-c"};
    if (stage.config["config"].contains("Shell") && stage.config["config"]["Shell"].is_array())
        shell = stage.config["config"]["Shell"].get<std::vector<std::string>>();
    for (const auto& change : changes) {
        // Each change is one Dockerfile line; line 2 after a FROM the parser requires.
        auto parsed = dockerfile::parse("FROM scratch\n" + change + "\n", "change");
        if (!parsed) {
            // "change:2: VOLUME is not supported by IsoLab" → the part after the line number.
            std::string why = parsed.error().message;
            if (why.rfind("change:", 0) == 0 && why.find(": ") != std::string::npos) why = why.substr(why.find(": ") + 2);
            return make_error("dockerfile parse error in --change \"" + change + "\": " + why, 125);
        }
        for (size_t i = 1; i < parsed->instructions.size(); ++i) {
            const auto& in = parsed->instructions[i];
            switch (in.kind) {
            case Kind::Cmd: case Kind::Entrypoint: case Kind::Env: case Kind::Expose: case Kind::Label:
            case Kind::User: case Kind::Workdir: case Kind::StopSignal:
                break;
            default:
                return make_error(in.keyword + " is not a valid change command (use CMD, ENTRYPOINT, ENV, EXPOSE, "
                                  "LABEL, STOPSIGNAL, USER or WORKDIR)", 125);
            }
            std::map<std::string, std::string> vars;
            for (const auto& e : stage.env())
                if (size_t eq = e.find('='); eq != std::string::npos) vars[e.substr(0, eq)] = e.substr(eq + 1);
            stage.cmd_set_here = true;  // a change never resets CMD the way a Dockerfile's ENTRYPOINT does
            if (auto s = apply_setting(stage, in, vars, parsed->escape, shell, "change"); !s)
                return make_error(s.error().message, 125);
        }
    }
    settings = stage.config["config"];
    return {};
}

Result<std::string> build_image(Engine& engine, const BuildOptions& options, std::ostream& out) {
    Builder b(engine, options, out);
    return b.run();
}

}  // namespace isolab
