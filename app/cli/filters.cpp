#include "app/cli/filters.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <regex>
#include <set>

#include "sim/core/clock.hpp"
#include "sim/core/i18n.hpp"
#include "sim/engine/images.hpp"
#include "sim/runtime/json_log.hpp"

namespace isolab::cli {

namespace {

// Go's strings.TrimSpace for the ASCII spaces a shell lets through.
std::string trim_space(const std::string& s) {
    const char* ws = " \t\n\v\f\r";
    size_t b = s.find_first_not_of(ws);
    if (b == std::string::npos) return "";
    size_t e = s.find_last_not_of(ws);
    return s.substr(b, e - b + 1);
}

std::string ascii_lower(std::string s) {
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

bool has_value(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

// Go's regexp.MatchString, with ECMAScript for RE2: a value that does not compile matches nothing
// (Docker's Match skips it).
bool regex_search(const std::string& pattern, const std::string& source) {
    try {
        return std::regex_search(source, std::regex(pattern, std::regex::ECMAScript));
    } catch (const std::regex_error&) {
        return false;
    }
}

// Go's strconv.Atoi on a 64-bit machine: an optional sign, then decimal digits only.
Result<int64_t> go_atoi(const std::string& s) {
    auto syntax = [&] { return make_error("strconv.Atoi: parsing \"" + s + "\": invalid syntax", 1); };
    size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
    if (i == s.size()) return syntax();
    for (size_t k = i; k < s.size(); ++k)
        if (s[k] < '0' || s[k] > '9') return syntax();
    errno = 0;
    long long v = std::strtoll(s.c_str(), nullptr, 10);
    if (errno == ERANGE) return make_error("strconv.Atoi: parsing \"" + s + "\": value out of range", 1);
    return static_cast<int64_t>(v);
}

bool is_hex(const std::string& s) {
    return !s.empty() && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Docker's zero time (a container never started).
bool zero_time(const std::string& rfc3339) {
    return rfc3339.empty() || rfc3339.rfind("0001-01-01", 0) == 0;
}

// Docker's container.Running: the process exists, frozen or not, or the daemon is about to start
// it again.
bool has_running_flag(ContainerState s) {
    return container_has_process(s) || s == ContainerState::Restarting;
}

// A container by full id, name or unique id prefix (see the header's differences); nullptr when
// none or ambiguous.
const ContainerRecord* find_container(const std::vector<ContainerRecord>& all, const std::string& ref) {
    std::string name = ref.rfind('/', 0) == 0 ? ref.substr(1) : ref;
    for (const auto& r : all)
        if (r.id == ref || r.name == name) return &r;
    const ContainerRecord* found = nullptr;
    if (!is_hex(ref)) return nullptr;
    for (const auto& r : all)
        if (r.id.rfind(ref, 0) == 0) {
            if (found) return nullptr;
            found = &r;
        }
    return found;
}

// The images whose layers extend BASE's (longer, with BASE's diff_ids first).
bool extends_layers(const ImageFacts& image, const ImageFacts& base) {
    return image.diff_ids.size() > base.diff_ids.size() &&
           std::equal(base.diff_ids.begin(), base.diff_ids.end(), image.diff_ids.begin());
}

// ---- Go's path.Match

struct Rune {
    char32_t r;
    size_t n;
};

// utf8.DecodeRuneInString: an invalid byte is U+FFFD of width 1.
Rune decode_rune(std::string_view s) {
    if (s.empty()) return {0xFFFD, 0};
    unsigned char c = static_cast<unsigned char>(s[0]);
    if (c < 0x80) return {c, 1};
    size_t n = c >= 0xF0 && c < 0xF8 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (n == 0 || s.size() < n) return {0xFFFD, 1};
    char32_t r = c & (0x7F >> n);
    for (size_t i = 1; i < n; ++i) {
        unsigned char k = static_cast<unsigned char>(s[i]);
        if ((k & 0xC0) != 0x80) return {0xFFFD, 1};
        r = (r << 6) | (k & 0x3F);
    }
    return {r, n};
}

const Error& bad_pattern() {
    static const Error e = make_error("syntax error in pattern", 1);
    return e;
}

// Go's getEsc: one character of a class, possibly escaped.
bool get_esc(std::string_view& chunk, char32_t& r) {
    if (chunk.empty() || chunk[0] == '-' || chunk[0] == ']') return false;
    if (chunk[0] == '\\') {
        chunk.remove_prefix(1);
        if (chunk.empty()) return false;
    }
    Rune d = decode_rune(chunk);
    r = d.r;
    bool ok = !(d.r == 0xFFFD && d.n == 1);
    chunk.remove_prefix(d.n);
    return ok && !chunk.empty();
}

// Go's scanChunk.
void scan_chunk(std::string_view& pattern, bool& star, std::string_view& chunk) {
    star = false;
    while (!pattern.empty() && pattern[0] == '*') {
        pattern.remove_prefix(1);
        star = true;
    }
    bool inrange = false;
    size_t i = 0;
    for (; i < pattern.size(); ++i) {
        char c = pattern[i];
        if (c == '\\') {
            if (i + 1 < pattern.size()) ++i;
        } else if (c == '[') {
            inrange = true;
        } else if (c == ']') {
            inrange = false;
        } else if (c == '*' && !inrange) {
            break;
        }
    }
    chunk = pattern.substr(0, i);
    pattern.remove_prefix(i);
}

// Go's matchChunk: after a failure it goes on checking the chunk's syntax without reading S.
// Returns false on a bad pattern; *OK says whether it matched, *REST what of S is left.
bool match_chunk(std::string_view chunk, std::string_view s, std::string_view& rest, bool& ok) {
    bool failed = false;
    while (!chunk.empty()) {
        if (!failed && s.empty()) failed = true;
        char c = chunk[0];
        if (c == '[') {
            char32_t r = 0;
            if (!failed) {
                Rune d = decode_rune(s);
                r = d.r;
                s.remove_prefix(d.n);
            }
            chunk.remove_prefix(1);
            bool negated = false;
            if (!chunk.empty() && chunk[0] == '^') {
                negated = true;
                chunk.remove_prefix(1);
            }
            bool match = false;
            int nrange = 0;
            for (;;) {
                if (!chunk.empty() && chunk[0] == ']' && nrange > 0) {
                    chunk.remove_prefix(1);
                    break;
                }
                char32_t lo = 0, hi = 0;
                if (!get_esc(chunk, lo)) return false;
                hi = lo;
                if (chunk[0] == '-') {
                    chunk.remove_prefix(1);
                    if (!get_esc(chunk, hi)) return false;
                }
                if (lo <= r && r <= hi) match = true;
                ++nrange;
            }
            if (match == negated) failed = true;
        } else if (c == '?') {
            if (!failed) {
                if (s[0] == '/') failed = true;
                s.remove_prefix(decode_rune(s).n);
            }
            chunk.remove_prefix(1);
        } else {
            if (c == '\\') {
                chunk.remove_prefix(1);
                if (chunk.empty()) return false;
            }
            if (!failed) {
                if (chunk[0] != s[0]) failed = true;
                s.remove_prefix(1);
            }
            chunk.remove_prefix(1);
        }
    }
    ok = !failed;
    rest = failed ? std::string_view() : s;
    return true;
}

// Docker's reference.FamiliarMatch on a "name:tag": the whole, then the name alone. The error is
// the first match's (Go ignores the second's).
Result<bool> familiar_match(const std::string& pattern, const std::string& tag) {
    auto whole = go_path_match(pattern, tag);
    if (!whole) return whole.error();
    if (*whole) return true;
    size_t slash = tag.rfind('/');
    size_t colon = tag.rfind(':');
    if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) return false;
    auto name = go_path_match(pattern, tag.substr(0, colon));
    return name && *name;
}

}  // namespace

// ---- FilterArgs

Result<std::string> FilterArgs::normalize(const std::string& word) {
    if (word.empty()) return std::string();
    size_t eq = word.find('=');
    if (eq == std::string::npos) return make_error(kBadFilterFormat, 125);
    return ascii_lower(trim_space(word.substr(0, eq))) + "=" + trim_space(word.substr(eq + 1));
}

Result<FilterArgs> FilterArgs::parse(const std::vector<std::string>& words) {
    FilterArgs f;
    for (const auto& w : words) {
        auto n = normalize(w);
        if (!n) return n.error();
        if (n->empty()) continue;
        size_t eq = n->find('=');
        std::string key = n->substr(0, eq), value = n->substr(eq + 1);
        auto [it, fresh] = f.fields_.try_emplace(key);
        if (fresh) f.keys_.push_back(key);
        if (!has_value(it->second, value)) it->second.push_back(value);
    }
    return f;
}

const std::vector<std::string>& FilterArgs::get(const std::string& key) const {
    static const std::vector<std::string> none;
    auto it = fields_.find(key);
    return it == fields_.end() ? none : it->second;
}

Status FilterArgs::validate(const std::vector<std::string>& accepted) const {
    for (const auto& k : keys_)
        if (!has_value(accepted, k)) return make_error("invalid filter '" + k + "'", 1);
    return {};
}

bool FilterArgs::exact_match(const std::string& key, const std::string& source) const {
    auto it = fields_.find(key);
    if (it == fields_.end() || it->second.empty()) return true;
    return has_value(it->second, source);
}

bool FilterArgs::match(const std::string& key, const std::string& source) const {
    if (exact_match(key, source)) return true;
    for (const auto& v : get(key))
        if (regex_search(v, source)) return true;
    return false;
}

bool FilterArgs::match_kv_list(const std::string& key, const std::map<std::string, std::string>& labels) const {
    const auto& values = get(key);
    if (values.empty()) return true;
    if (labels.empty()) return false;
    for (const auto& v : values) {
        size_t eq = v.find('=');
        auto it = labels.find(v.substr(0, eq));
        if (it == labels.end()) return false;
        if (eq != std::string::npos && it->second != v.substr(eq + 1)) return false;
    }
    return true;
}

Result<bool> FilterArgs::get_bool_or_default(const std::string& key, bool dflt) const {
    if (!contains(key)) return dflt;
    const auto& values = get(key);
    const bool is_false = has_value(values, "0") || has_value(values, "false");
    const bool is_true = has_value(values, "1") || has_value(values, "true");
    if (is_false == is_true) {
        std::string list;
        for (const auto& v : values) list += (list.empty() ? "" : " ") + v;
        return make_error("invalid filter '" + key + "=[" + list + "]'", 1);
    }
    return is_true;
}

// ---- Images

const ImageFacts* find_image(const std::vector<ImageFacts>& images, const std::string& ref) {
    if (ref.empty()) return nullptr;
    const std::string full = ImageStore::normalize_ref(ref);
    for (const auto& img : images)
        if (has_value(img.repo_tags, full)) return &img;
    std::string want = ref.rfind("sha256:", 0) == 0 ? ref.substr(7) : ref;
    if (!is_hex(want)) return nullptr;
    const ImageFacts* found = nullptr;
    for (const auto& img : images) {
        std::string hex = img.id.rfind("sha256:", 0) == 0 ? img.id.substr(7) : img.id;
        if (hex.rfind(want, 0) != 0) continue;
        if (found) return nullptr;  // ambiguous
        found = &img;
    }
    return found;
}

Result<bool> go_path_match(const std::string& pattern_text, const std::string& name_text) {
    std::string_view pattern = pattern_text, name = name_text;
    while (!pattern.empty()) {
        bool star = false;
        std::string_view chunk;
        scan_chunk(pattern, star, chunk);
        if (star && chunk.empty()) return name.find('/') == std::string_view::npos;  // trailing *
        std::string_view t;
        bool ok = false;
        bool valid = match_chunk(chunk, name, t, ok);
        if (ok && (t.empty() || !pattern.empty())) {
            name = t;
            continue;
        }
        if (!valid) return bad_pattern();
        bool advanced = false;
        if (star) {
            for (size_t i = 0; i < name.size() && name[i] != '/'; ++i) {
                bool ok2 = false;
                bool valid2 = match_chunk(chunk, name.substr(i + 1), t, ok2);
                if (ok2) {
                    if (pattern.empty() && !t.empty()) continue;  // the last chunk must use up NAME
                    name = t;
                    advanced = true;
                    break;
                }
                if (!valid2) return bad_pattern();
            }
        }
        if (advanced) continue;
        // Go checks the rest of the pattern before it answers false.
        while (!pattern.empty()) {
            scan_chunk(pattern, star, chunk);
            std::string_view ignored;
            bool ignored_ok = false;
            if (!match_chunk(chunk, "", ignored, ignored_ok)) return bad_pattern();
        }
        return false;
    }
    return name.empty();
}

Result<std::vector<ImageMatch>> filter_images(const std::vector<ImageFacts>& images, const FilterArgs& filters,
                                              int64_t now_ns) {
    ISOLAB_TRY(filters.validate({"before", "dangling", "label", "reference", "since", "until"}));
    auto dangling_only = filters.get_bool_or_default("dangling", false);
    if (!dangling_only) return dangling_only.error();

    // Docker's order: before, until, since. Several befores mean the oldest, several sinces the
    // newest (all of them ANDed).
    int64_t before = 0, since = 0;
    for (const auto& v : filters.get("before")) {
        const ImageFacts* img = find_image(images, v);
        if (!img) return make_error("No such image: " + ImageStore::normalize_ref(v), 1);
        int64_t t = rfc3339_to_unix_ns(img->created);
        if (t != 0 && (before == 0 || t < before)) before = t;
    }
    for (const auto& v : filters.get("until")) {
        auto t = parse_log_time(v, now_ns);
        if (!t) return make_error(t.error().message, 1);
        if (before == 0 || *t < before) before = *t;
    }
    for (const auto& v : filters.get("since")) {
        const ImageFacts* img = find_image(images, v);
        if (!img) return make_error("No such image: " + ImageStore::normalize_ref(v), 1);
        int64_t t = rfc3339_to_unix_ns(img->created);
        if (t != 0 && t > since) since = t;
    }

    std::vector<ImageMatch> out;
    for (size_t i = 0; i < images.size(); ++i) {
        const ImageFacts& img = images[i];
        const int64_t created = rfc3339_to_unix_ns(img.created);
        if (before != 0 && (created == 0 || created >= before)) continue;
        if (since != 0 && (created == 0 || created <= since)) continue;
        if (filters.contains("label") && !filters.match_kv_list("label", img.labels)) continue;
        std::vector<std::string> tags;
        for (const auto& tag : img.repo_tags) {
            if (filters.contains("reference")) {
                bool found = false;
                for (const auto& pattern : filters.get("reference")) {
                    auto m = familiar_match(pattern, tag);
                    if (!m) return m.error();
                    if ((found = *m)) break;
                }
                if (!found) continue;
            }
            tags.push_back(tag);
        }
        if (tags.empty()) {
            if (filters.contains("dangling") && !*dangling_only) continue;  // dangling=false
            if (filters.contains("reference")) continue;
        } else if (*dangling_only) {
            continue;
        }
        std::sort(tags.begin(), tags.end());
        out.push_back({i, std::move(tags)});
    }
    std::stable_sort(out.begin(), out.end(), [&](const ImageMatch& a, const ImageMatch& b) {
        return rfc3339_to_unix_ns(images[a.index].created) > rfc3339_to_unix_ns(images[b.index].created);
    });
    return out;
}

// ---- Containers

// moby's `volume` filter (daemon/list.go): a value equal to one of the container's mount points'
// destination, or to its name (a volume's name; a bind's host path). The mount points are what
// `inspect` lists under Mounts: everything but --tmpfs, which Docker keeps in HostConfig.Tmpfs.
namespace {
bool mounts_any(const ContainerRecord& r, const std::vector<std::string>& values) {
    for (const auto& m : r.spec.mounts) {
        if (m.origin == MountOrigin::TmpfsFlag) continue;
        for (const auto& v : values)
            if (v == m.target || (!m.source.empty() && v == m.source)) return true;
    }
    return false;
}
}  // namespace

Result<std::vector<ContainerRecord>> filter_containers(const std::vector<ContainerRecord>& all_newest_first,
                                                       const FilterArgs& filters, const PsQuery& query,
                                                       const std::vector<ImageFacts>& images) {
    ISOLAB_TRY(filters.validate({"ancestor", "before", "exited", "expose", "health", "id", "isolation", "is-task",
                                 "label", "name", "network", "publish", "since", "status", "volume"}));
    // Keys Docker knows and IsoLab cannot answer: refused, never ignored (exit 125).
    for (const char* key : {"expose", "publish", "isolation", "is-task"})
        if (filters.contains(key)) return make_error(i18n::trf("filters.unsupported", {key}), 125);

    // moby's list.go: each health value is one of container.IsValidHealthString's words.
    for (const auto& v : filters.get("health"))
        if (v != "starting" && v != "healthy" && v != "unhealthy" && v != "none")
            return make_error("Unrecognised filter value for health: " + v, 1);

    // Docker's foldFilter, in its order: exited, status, before, since, ancestor.
    std::vector<int64_t> exited;
    for (const auto& v : filters.get("exited")) {
        auto code = go_atoi(v);
        if (!code) return code.error();
        exited.push_back(*code);
    }
    bool all = query.all;
    for (const auto& v : filters.get("status")) {
        ContainerState s;
        if (!parse_container_state(v, &s)) return make_error("invalid filter 'status=" + v + "'", 1);
        all = true;
    }
    const ContainerRecord* before = nullptr;
    const ContainerRecord* since = nullptr;
    for (auto [key, bound] : {std::pair{"before", &before}, std::pair{"since", &since}})
        for (const auto& v : filters.get(key)) {
            const ContainerRecord* r = find_container(all_newest_first, v);
            if (!r) return make_error("No such container: " + v, 1);
            if (!*bound) *bound = r;  // several values: the first one typed
        }
    const bool ancestor_filter = filters.contains("ancestor");
    std::set<std::string> ancestor_images;
    for (const auto& v : filters.get("ancestor")) {
        const ImageFacts* base = find_image(images, v);
        if (!base) continue;  // Docker logs a warning and goes on
        ancestor_images.insert(base->id);
        for (const auto& img : images)
            if (extends_layers(img, *base)) ancestor_images.insert(img.id);
    }
    // `id`: Docker looks each value up as a full id or unique prefix (its truncindex).
    std::set<std::string> ids;
    for (const auto& v : filters.get("id")) {
        std::vector<const ContainerRecord*> found;
        for (const auto& r : all_newest_first)
            if (!v.empty() && r.id.rfind(v, 0) == 0) found.push_back(&r);
        if (found.size() == 1) ids.insert(found[0]->id);
    }

    std::string before_id = before ? before->id : "";
    std::vector<ContainerRecord> out;
    for (const auto& r : all_newest_first) {
        // Containers newer than `before` are skipped, `before` itself too.
        if (!before_id.empty()) {
            if (r.id == before_id) before_id.clear();
            continue;
        }
        if (since && r.id == since->id) break;
        const bool running = has_running_flag(r.state);
        if (!running && !all && query.limit <= 0) continue;
        if (!filters.match("name", "/" + r.name) && !filters.match("name", r.name)) continue;
        if (filters.contains("id") && !ids.count(r.id)) continue;
        if (!filters.match_kv_list("label", r.spec.labels)) continue;
        if (query.limit > 0 && out.size() == static_cast<size_t>(query.limit)) break;
        if (!exited.empty()) {
            bool ok = !running && !zero_time(r.started_at) &&
                      std::find(exited.begin(), exited.end(), r.exit_code) != exited.end();
            if (!ok) continue;
        }
        if (!filters.match("status", std::string(to_string(r.state)))) continue;
        // The snapshot's Health: the status word, "none" for a container that has no State.Health.
        if (!filters.exact_match("health", r.health ? health_status_name(r.health->status) : "none")) continue;
        if (ancestor_filter && !ancestor_images.count(r.image_id)) continue;
        if (filters.contains("volume") && !mounts_any(r, filters.get("volume"))) continue;
        if (filters.contains("network")) {
            bool on = false;
            for (const auto& v : filters.get("network"))
                for (const auto& ep : r.endpoints)
                    on = on || ep.network == v || ep.network_id.rfind(v, 0) == 0;
            if (!on) continue;
        }
        out.push_back(r);
    }
    return out;
}

// ---- Networks

Result<std::vector<net::Network>> filter_networks(const std::vector<net::Network>& networks,
                                                  const std::vector<bool>& in_use, const FilterArgs& filters) {
    ISOLAB_TRY(filters.validate({"dangling", "driver", "id", "label", "name", "scope", "type"}));
    bool by_use = false, dangling_only = false;
    if (const auto& values = filters.get("dangling"); !values.empty()) {
        if (values.size() > 1) return make_error("got more than one value for filter key \"dangling\"", 1);
        by_use = true;
        if (values[0] == "1" || values[0] == "true") dangling_only = true;
        else if (values[0] != "0" && values[0] != "false")
            return make_error("invalid value for filter 'dangling', must be \"true\" (or \"1\"), or \"false\" (or \"0\")", 1);
    }
    for (const auto& t : filters.get("type"))
        if (t != "builtin" && t != "custom") return make_error("invalid filter: 'type'='" + t + "'", 1);

    std::vector<net::Network> out;
    for (size_t i = 0; i < networks.size(); ++i) {
        const net::Network& n = networks[i];
        const bool used = i < in_use.size() && in_use[i];
        if (filters.contains("driver") && !filters.exact_match("driver", net::driver_name(n.driver))) continue;
        if (filters.contains("name") && !filters.match("name", n.name)) continue;
        if (filters.contains("id") && !filters.match("id", n.id)) continue;
        if (filters.contains("label") && !filters.match_kv_list("label", n.labels)) continue;
        if (filters.contains("scope") && !filters.exact_match("scope", "local")) continue;
        if (by_use && (dangling_only ? (n.builtin || used) : !(n.builtin || used))) continue;
        if (filters.contains("type")) {
            bool matched = false;
            for (const auto& t : filters.get("type")) matched = matched || (t == "builtin") == n.builtin;
            if (!matched) continue;
        }
        out.push_back(n);
    }
    return out;
}

}  // namespace isolab::cli
