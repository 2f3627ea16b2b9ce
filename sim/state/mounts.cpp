#include "sim/state/mounts.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <sstream>

namespace isolab {

using nlohmann::json;

namespace {

// path.Clean of Go for an absolute or relative slash path.
std::string clean(const std::string& p) {
    if (p.empty()) return ".";
    const bool abs = p[0] == '/';
    std::vector<std::string> parts;
    std::stringstream ss(p);
    for (std::string c; std::getline(ss, c, '/');) {
        if (c.empty() || c == ".") continue;
        if (c == "..") {
            if (!parts.empty() && parts.back() != "..") parts.pop_back();
            else if (!abs) parts.push_back("..");
            continue;
        }
        parts.push_back(c);
    }
    std::string out = abs ? "/" : "";
    for (size_t i = 0; i < parts.size(); ++i) out += (i ? "/" : "") + parts[i];
    return out.empty() ? "." : out;
}

bool absolute(const std::string& p) { return !p.empty() && p[0] == '/'; }

const std::set<std::string> kPropagation = {"private", "rprivate", "slave", "rslave", "shared", "rshared"};

// moby linuxValidMountMode: each word of one kind at most once.
bool valid_mode(const std::string& mode) {
    if (mode.empty()) return true;
    int rw = 0, label = 0, prop = 0, copy = 0, consistency = 0;
    std::stringstream ss(mode);
    for (std::string o; std::getline(ss, o, ',');) {
        if (o == "rw" || o == "ro") ++rw;
        else if (o == "z" || o == "Z") ++label;
        else if (kPropagation.count(o)) ++prop;
        else if (o == "nocopy") ++copy;
        else if (o == "consistent" || o == "cached" || o == "delegated") ++consistency;
        else return false;
    }
    return rw <= 1 && label <= 1 && prop <= 1 && copy <= 1 && consistency <= 1;
}

bool mode_has(const std::string& mode, const std::string& word) {
    std::stringstream ss(mode);
    for (std::string o; std::getline(ss, o, ',');)
        if (o == word) return true;
    return false;
}

Error mount_config_error(MountType t, const std::string& why) {
    return make_error(std::string("invalid mount config for type \"") + mount_type_name(t) + "\": " + why, 125);
}

// moby validateMountConfigImpl, without the bind source's existence (the engine checks it).
Status validate(const MountSpec& m, const std::string& raw_target) {
    if (raw_target.empty()) return mount_config_error(m.type, "field Target must not be empty");
    if (clean(raw_target) == "/") return mount_config_error(m.type, "invalid specification: destination can't be '/'");
    if (!absolute(raw_target))
        return mount_config_error(m.type, "invalid mount path: '" + raw_target + "' mount path must be absolute");
    if (m.type == MountType::Bind) {
        if (m.source.empty()) return mount_config_error(m.type, "field Source must not be empty");
        if (!absolute(m.source))
            return mount_config_error(m.type, "invalid mount path: '" + m.source + "' mount path must be absolute");
        if (!m.propagation.empty() && !kPropagation.count(m.propagation))
            return mount_config_error(m.type, "invalid propagation mode: " + m.propagation);
    }
    if (m.type == MountType::Volume && m.readonly && m.source.empty())
        return mount_config_error(m.type, "must not set ReadOnly mode when using anonymous volumes");
    if (m.type == MountType::Volume && !m.source.empty()) ISOLAB_TRY(check_volume_name(m.source));
    if (m.type == MountType::Tmpfs && !m.source.empty()) return mount_config_error(m.type, "field Source must not be specified");
    return {};
}

std::optional<bool> parse_go_bool(const std::string& v) {
    static const std::map<std::string, bool> words = {{"1", true},     {"t", true},     {"T", true},  {"TRUE", true},
                                                      {"true", true},  {"True", true},  {"0", false}, {"f", false},
                                                      {"F", false},    {"FALSE", false}, {"false", false},
                                                      {"False", false}};
    auto it = words.find(v);
    if (it == words.end()) return std::nullopt;
    return it->second;
}

// go-units RAMInBytes: a number with an optional binary suffix (k, m, g, t, p, with or without
// "b"/"ib"), case-insensitive.
std::optional<int64_t> ram_in_bytes(const std::string& v) {
    size_t i = 0;
    while (i < v.size() && (std::isdigit(static_cast<unsigned char>(v[i])) || v[i] == '.')) ++i;
    if (i == 0) return std::nullopt;
    double n = 0;
    try {
        n = std::stod(v.substr(0, i));
    } catch (...) {
        return std::nullopt;
    }
    std::string unit = v.substr(i);
    for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (unit.size() > 1 && (unit.substr(unit.size() - 2) == "ib")) unit.resize(unit.size() - 2);
    else if (!unit.empty() && unit.back() == 'b') unit.pop_back();
    static const std::map<std::string, double> mult = {
        {"", 1}, {"k", 1024.0}, {"m", 1048576.0}, {"g", 1073741824.0}, {"t", 1099511627776.0}, {"p", 1125899906842624.0}};
    auto it = mult.find(unit);
    if (it == mult.end()) return std::nullopt;
    return static_cast<int64_t>(n * it->second);
}

// A CSV record as Go's encoding/csv reads one line: fields split on ',', a field in double quotes
// may hold commas and "" for a quote.
std::optional<std::vector<std::string>> csv_fields(const std::string& s) {
    std::vector<std::string> out;
    std::string cur;
    size_t i = 0;
    bool start = true;
    while (i <= s.size()) {
        if (i == s.size()) {
            out.push_back(cur);
            break;
        }
        char c = s[i];
        if (start && c == '"') {
            ++i;
            for (;;) {
                if (i >= s.size()) return std::nullopt;  // extraneous or missing " in quoted-field
                if (s[i] == '"') {
                    if (i + 1 < s.size() && s[i + 1] == '"') {
                        cur += '"';
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                cur += s[i++];
            }
            if (i < s.size() && s[i] != ',') return std::nullopt;
            start = false;
            continue;
        }
        if (c == ',') {
            out.push_back(cur);
            cur.clear();
            start = true;
        } else {
            cur += c;
            start = false;
        }
        ++i;
    }
    return out;
}

}  // namespace

const char* mount_type_name(MountType t) {
    switch (t) {
        case MountType::Volume: return "volume";
        case MountType::Bind: return "bind";
        case MountType::Tmpfs: return "tmpfs";
    }
    return "volume";
}

Status check_volume_name(const std::string& name) {
    bool ok = name.size() >= 2 && std::isalnum(static_cast<unsigned char>(name[0]));
    for (char c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) ok = false;
    if (ok) return {};
    if (name.size() < 2 && !name.empty() && std::isalnum(static_cast<unsigned char>(name[0])))
        return make_error("volume name is too short, names should be at least two alphanumeric characters", 125);
    return make_error("\"" + name + "\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. "
                      "If you intended to pass a host directory, use absolute path",
                      125);
}

std::string absolute_volume_source(const std::string& text, const std::string& cwd) {
    auto colon = text.find(':');
    if (colon == std::string::npos) return text;
    std::string host = text.substr(0, colon);
    if (host == "." || host.rfind("./", 0) == 0) return clean(cwd + "/" + host) + text.substr(colon);
    return text;
}

Result<MountSpec> parse_volume_flag(const std::string& raw) {
    const Error invalid = make_error("invalid volume specification: '" + raw + "'", 125);
    std::vector<std::string> arr;
    {
        std::string rest = raw;
        for (int i = 0; i < 3; ++i) {
            auto c = rest.find(':');
            if (c == std::string::npos) break;
            arr.push_back(rest.substr(0, c));
            rest = rest.substr(c + 1);
        }
        arr.push_back(rest);
    }
    if (arr[0].empty()) return invalid;
    MountSpec m;
    m.origin = MountOrigin::VolumeFlag;
    m.as_typed = raw;
    std::string target, mode;
    switch (arr.size()) {
        case 1: target = arr[0]; break;
        case 2:
            if (valid_mode(arr[1])) return invalid;  // "/foo:rw": a volume cannot have only a mode
            m.source = arr[0];
            target = arr[1];
            break;
        case 3:
            m.source = arr[0];
            target = arr[1];
            mode = arr[2];
            break;
        default: return invalid;
    }
    if (!valid_mode(mode)) return make_error("invalid mode: " + mode, 125);
    m.type = absolute(m.source) ? MountType::Bind : MountType::Volume;
    m.readonly = mode_has(mode, "ro");
    m.no_copy = mode_has(mode, "nocopy");
    m.mode = mode;
    for (const auto& p : kPropagation)
        if (mode_has(mode, p)) m.propagation = p;
    if (m.type == MountType::Volume && !m.propagation.empty()) {
        // moby: BindOptions on a volume mount.
        return make_error("invalid volume specification: '" + raw + "': invalid mount config for type \"volume\": field BindOptions must not be specified", 125);
    }
    if (auto s = validate(m, target); !s) {
        if (s.error().message.rfind("invalid mount config", 0) == 0)
            return make_error("invalid volume specification: '" + raw + "': " + s.error().message, 125);
        return s.error();
    }
    m.target = clean(target);
    if (m.type == MountType::Bind) {
        m.source = clean(m.source);
        if (m.propagation.empty()) m.propagation = "rprivate";
        m.create_source = true;
    }
    m.anonymous = m.type == MountType::Volume && m.source.empty();
    return m;
}

Result<MountSpec> parse_mount_flag(const std::string& text, const std::string& cwd) {
    auto fields = csv_fields(text);
    if (!fields) return make_error("parse error: extraneous or missing \" in quoted-field", 125);
    MountSpec m;
    m.origin = MountOrigin::MountFlag;
    m.as_typed = text;
    std::string type = "volume", target;
    bool volume_opts = false, bind_opts = false, tmpfs_opts = false;
    auto bad_value = [](const std::string& key, const std::string& val) {
        return make_error("invalid value for " + key + ": " + val, 125);
    };
    for (const std::string& field : *fields) {
        auto eq = field.find('=');
        if (eq == std::string::npos) {
            if (field == "readonly" || field == "ro") m.readonly = true;
            else if (field == "volume-nocopy") m.no_copy = volume_opts = true;
            else if (field == "bind-nonrecursive")
                return make_error("bind-nonrecursive is not supported by IsoLab: leave it out (binds are recursive, as Docker's default)", 125);
            else return make_error("invalid field '" + field + "' must be a key=value pair", 125);
            continue;
        }
        std::string key = field.substr(0, eq), val = field.substr(eq + 1);
        if (key == "type") {
            type = val;
            for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        } else if (key == "source" || key == "src") {
            m.source = val;
            if (val == "." || val.rfind("./", 0) == 0) m.source = clean(cwd + "/" + val);
        } else if (key == "target" || key == "dst" || key == "destination") {
            target = val;
        } else if (key == "readonly" || key == "ro") {
            auto b = parse_go_bool(val);
            if (!b) return bad_value(key, val);
            m.readonly = *b;
        } else if (key == "consistency") {
            // Docker Desktop's file sharing hint; no effect on Linux, as in Docker.
        } else if (key == "bind-propagation") {
            m.propagation = val;
            for (char& c : m.propagation) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            bind_opts = true;
        } else if (key == "volume-nocopy") {
            auto b = parse_go_bool(val);
            if (!b) return make_error("invalid value for volume-nocopy: " + val, 125);
            m.no_copy = *b;
            volume_opts = true;
        } else if (key == "tmpfs-size") {
            auto n = ram_in_bytes(val);
            if (!n) return bad_value(key, val);
            m.tmpfs_size = *n;
            tmpfs_opts = true;
        } else if (key == "tmpfs-mode") {
            char* end = nullptr;
            errno = 0;
            unsigned long v = std::strtoul(val.c_str(), &end, 8);
            if (val.empty() || *end || errno || v > 0xffffffffUL) return bad_value(key, val);
            m.tmpfs_mode = static_cast<uint32_t>(v);
            tmpfs_opts = true;
        } else if (key == "volume-label" || key == "volume-driver" || key == "volume-opt" || key == "volume-subpath" ||
                   key == "bind-recursive" || key == "bind-create-src" || key == "image-subpath") {
            return make_error(key + " is not supported by IsoLab: leave it out (IsoLab's volumes use the local driver; "
                                    "label a volume with `isolab volume create --label`)",
                              125);
        } else {
            return make_error("unexpected key '" + key + "' in '" + field + "'", 125);
        }
    }
    if (type.empty()) return make_error("type is required", 125);
    if (target.empty()) return make_error("target is required", 125);
    if (type == "volume") m.type = MountType::Volume;
    else if (type == "bind") m.type = MountType::Bind;
    else if (type == "tmpfs") m.type = MountType::Tmpfs;
    else return make_error("invalid mount config for type \"" + type + "\": mount type unknown", 125);
    if (volume_opts && m.type != MountType::Volume) return make_error("cannot mix 'volume-*' options with mount type '" + type + "'", 125);
    if (bind_opts && m.type != MountType::Bind) return make_error("cannot mix 'bind-*' options with mount type '" + type + "'", 125);
    if (tmpfs_opts && m.type != MountType::Tmpfs) return make_error("cannot mix 'tmpfs-*' options with mount type '" + type + "'", 125);
    ISOLAB_TRY(validate(m, target));
    m.target = clean(target);
    if (m.type == MountType::Bind) {
        m.source = clean(m.source);
        if (m.propagation.empty()) m.propagation = "rprivate";
    }
    m.anonymous = m.type == MountType::Volume && m.source.empty();
    return m;
}

Result<MountSpec> parse_tmpfs_flag(const std::string& text) {
    MountSpec m;
    m.type = MountType::Tmpfs;
    m.origin = MountOrigin::TmpfsFlag;
    m.as_typed = text;
    auto colon = text.find(':');
    std::string target = text.substr(0, colon);
    if (colon != std::string::npos) m.tmpfs_options = text.substr(colon + 1);
    if (target.empty() || !absolute(target)) return make_error("invalid mount path: '" + target + "' mount path must be absolute", 125);
    if (clean(target) == "/") return make_error("invalid specification: destination can't be '/'", 125);
    std::stringstream ss(m.tmpfs_options);
    for (std::string o; std::getline(ss, o, ',');) {
        if (o.rfind("size=", 0) == 0) {
            auto n = ram_in_bytes(o.substr(5));
            // tmpfs also takes a percentage of RAM ("size=50%"): the kernel reads it.
            if (!n && (o.empty() || o.back() != '%')) return make_error("invalid tmpfs option [\"" + o + "\"]: size is not a number of bytes (64m, 1g)", 125);
            if (n) m.tmpfs_size = *n;
        } else if (o.rfind("mode=", 0) == 0) {
            char* end = nullptr;
            unsigned long v = std::strtoul(o.c_str() + 5, &end, 8);
            if (o.size() == 5 || *end || v > 07777) return make_error("invalid tmpfs option [\"" + o + "\"]: mode is an octal number (1777)", 125);
            m.tmpfs_mode = static_cast<uint32_t>(v);
        } else if (o == "ro") {
            m.readonly = true;
        } else if (!(o == "rw" || o == "exec" || o == "noexec" || o == "suid" || o == "nosuid" || o == "dev" ||
                     o == "nodev" || o == "atime" || o == "noatime" || o == "relatime" || o == "strictatime" ||
                     o == "diratime" || o == "nodiratime" || o.rfind("nr_inodes=", 0) == 0 || o.rfind("uid=", 0) == 0 ||
                     o.rfind("gid=", 0) == 0 || o == "sync" || o == "async" || o.empty())) {
            return make_error("invalid tmpfs option [\"" + o + "\"]", 125);
        }
    }
    m.target = clean(target);
    return m;
}

Result<VolumesFrom> parse_volumes_from(const std::string& text) {
    if (text.empty()) return make_error("volumes-from specification cannot be an empty string", 125);
    VolumesFrom out;
    auto colon = text.find(':');
    out.container = text.substr(0, colon);
    if (colon == std::string::npos) return out;
    std::string mode = text.substr(colon + 1);
    // Only rw/ro and the SELinux label words: no propagation and no copy mode (moby).
    bool ok = valid_mode(mode) && !mode_has(mode, "nocopy");
    for (const auto& p : kPropagation)
        if (mode_has(mode, p)) ok = false;
    if (!ok) return make_error("invalid mode: " + mode, 125);
    if (mode_has(mode, "ro")) out.mode = "ro";
    else if (mode_has(mode, "rw")) out.mode = "rw";
    return out;
}

Status check_duplicate_targets(const std::vector<MountSpec>& mounts) {
    std::set<std::string> seen;
    for (const auto& m : mounts)
        if (!seen.insert(m.target).second) return make_error("Duplicate mount point: " + m.target, 125);
    return {};
}

std::vector<std::string> tmpfs_mount_options(const MountSpec& m) {
    // moby: noexec, nosuid, nodev first; then the user's words, a later one of a pair replacing
    // an earlier one (mount.MergeTmpfsOptions).
    std::vector<std::string> words = {"noexec", "nosuid", "nodev"};
    if (m.origin == MountOrigin::TmpfsFlag) {
        std::stringstream ss(m.tmpfs_options);
        for (std::string o; std::getline(ss, o, ',');)
            if (!o.empty()) words.push_back(o);
    } else {
        if (m.readonly) words.push_back("ro");
        if (m.tmpfs_mode) {
            std::ostringstream o;
            o << "mode=" << std::oct << m.tmpfs_mode;
            words.push_back(o.str());
        }
        if (m.tmpfs_size) words.push_back("size=" + std::to_string(m.tmpfs_size));
    }
    static const std::map<std::string, std::string> opposite = {
        {"exec", "noexec"}, {"noexec", "exec"}, {"suid", "nosuid"}, {"nosuid", "suid"},
        {"dev", "nodev"},   {"nodev", "dev"},   {"ro", "rw"},       {"rw", "ro"}};
    std::vector<std::string> out;
    for (const auto& w : words) {
        std::string key = w.substr(0, w.find('='));
        if (auto it = opposite.find(w); it != opposite.end()) std::erase(out, it->second);
        std::erase_if(out, [&](const std::string& x) { return x == w || (w.find('=') != std::string::npos && x.rfind(key + "=", 0) == 0); });
        out.push_back(w);
    }
    return out;
}

json to_json(const MountSpec& m) {
    json j = {{"type", mount_type_name(m.type)}, {"source", m.source}, {"target", m.target}};
    static const char* const origins[] = {"volume_flag", "mount_flag", "tmpfs_flag", "image", "volumes_from"};
    j["origin"] = origins[static_cast<int>(m.origin)];
    if (!m.host_path.empty()) j["host_path"] = m.host_path;
    if (m.readonly) j["readonly"] = true;
    if (!m.propagation.empty()) j["propagation"] = m.propagation;
    if (!m.mode.empty()) j["mode"] = m.mode;
    if (m.anonymous) j["anonymous"] = true;
    if (m.no_copy) j["no_copy"] = true;
    if (m.create_source) j["create_source"] = true;
    if (m.tmpfs_size) j["tmpfs_size"] = m.tmpfs_size;
    if (m.tmpfs_mode) j["tmpfs_mode"] = m.tmpfs_mode;
    if (!m.tmpfs_options.empty()) j["tmpfs_options"] = m.tmpfs_options;
    if (!m.as_typed.empty()) j["as_typed"] = m.as_typed;
    return j;
}

MountSpec mount_from_json(const json& j) {
    MountSpec m;
    std::string t = j.value("type", "volume");
    m.type = t == "bind" ? MountType::Bind : t == "tmpfs" ? MountType::Tmpfs : MountType::Volume;
    std::string o = j.value("origin", "volume_flag");
    m.origin = o == "mount_flag" ? MountOrigin::MountFlag
               : o == "tmpfs_flag" ? MountOrigin::TmpfsFlag
               : o == "image"      ? MountOrigin::Image
               : o == "volumes_from" ? MountOrigin::VolumesFrom
                                   : MountOrigin::VolumeFlag;
    m.source = j.value("source", "");
    m.target = j.value("target", "");
    m.host_path = j.value("host_path", "");
    m.readonly = j.value("readonly", false);
    m.propagation = j.value("propagation", "");
    m.mode = j.value("mode", "");
    m.anonymous = j.value("anonymous", false);
    m.no_copy = j.value("no_copy", false);
    m.create_source = j.value("create_source", false);
    m.tmpfs_size = j.value("tmpfs_size", int64_t{0});
    m.tmpfs_mode = j.value("tmpfs_mode", uint32_t{0});
    m.tmpfs_options = j.value("tmpfs_options", "");
    m.as_typed = j.value("as_typed", "");
    return m;
}

}  // namespace isolab
