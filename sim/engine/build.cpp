#include "sim/engine/build.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/core/i18n.hpp"
#include "sim/core/safe_path.hpp"
#include "sim/engine/container_copy.hpp"
#include "sim/engine/dockerfile.hpp"
#include "sim/engine/layer_archive.hpp"
#include "sim/engine/registry.hpp"
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
    // TEXT: the file's content ("" when there is none).
    explicit IgnoreRules(const std::string& text) {
        std::istringstream in(text);
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
    // REL: a path relative to the context ("data/a.txt"); "." is the context itself.
    bool excluded(const std::string& rel) const {
        if (rel.empty() || rel == ".") return false;
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

// ---- The build context (read) and the staged layer (written): trees the Dockerfile controls ----
//
// Every path in either tree goes through safe::Root, and every entry is held by a descriptor
// opened with O_NOFOLLOW from its parent's descriptor: a symlink in the context (`hd ->
// /host/dir`) resolves inside the context as Docker resolves it, a symlink in the staged layer
// (one an earlier source of the same COPY made, or an ADD tar's `etc -> /tmp`) resolves inside the
// layer, and a link swapped in while a tree is being copied is copied as a link, never followed.
// The same class of bug as CVE-2018-15664 (docker cp) and CVE-2019-14271.

std::string join_rel(const std::string& dir, const std::string& name) {
    return dir.empty() || dir == "." ? name : dir + "/" + name;
}

std::string join_in_root(const std::string& dir, const std::string& name) {
    return dir == "/" || dir.empty() ? "/" + name : dir + "/" + name;
}

// The names in the directory DIR (any descriptor of it, O_PATH included), sorted bytewise.
Result<std::vector<std::string>> list_dir(int dir, const std::string& what) {
    int fd = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno_error("read directory `" + what + "`", errno);
    DIR* d = ::fdopendir(fd);
    if (!d) {
        int err = errno;
        ::close(fd);
        return errno_error("read directory `" + what + "`", err);
    }
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") names.push_back(std::move(n));
    }
    int err = errno;
    ::closedir(d);
    if (err != 0) return errno_error("read directory `" + what + "`", err);
    std::sort(names.begin(), names.end());
    return names;
}

// What the symlink held by LINK (O_PATH | O_NOFOLLOW) points to.
Result<std::string> read_link_fd(int link, const std::string& what) {
    char buf[4096];
    ssize_t n = ::readlinkat(link, "", buf, sizeof buf);
    if (n < 0) return errno_error("readlink `" + what + "`", errno);
    if (static_cast<size_t>(n) == sizeof buf) return errno_error("readlink `" + what + "`", ENAMETOOLONG);
    return std::string(buf, static_cast<size_t>(n));
}

Status copy_bytes(int in, int out, const std::string& what) {
    for (;;) {
        ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, 1 << 20, 0);
        if (n == 0) return {};
        if (n > 0) continue;
        if (errno == EINTR) continue;
        if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
            return errno_error("copy `" + what + "`", errno);
        break;  // a file system without copy_file_range: copy through a buffer
    }
    std::vector<char> buf(1 << 16);
    for (;;) {
        ssize_t n = ::read(in, buf.data(), buf.size());
        if (n == 0) return {};
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno_error("copy `" + what + "`", errno);
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = ::write(out, buf.data() + off, static_cast<size_t>(n - off));
            if (w < 0) {
                if (errno == EINTR) continue;
                return errno_error("copy `" + what + "`", errno);
            }
            off += w;
        }
    }
}

// Copies entries, each held by a descriptor, into the staged layer at paths resolved inside it.
class LayerWriter {
public:
    struct Options {
        // An unpacked ADD tar (already checked by extract_layer_tar): its owners, device nodes
        // (overlay whiteouts), hard links and xattrs are kept. Otherwise the build context: owned
        // by UID:GID, --chmod applied, .dockerignore honoured, nothing but files, directories and
        // symlinks, and no xattrs (a context must not plant `trusted.overlay.*` in a layer).
        bool from_archive = false;
        bool keep_owner = false;  // another stage's files (COPY --from): owners kept, as BuildKit
        uid_t uid = 0;
        gid_t gid = 0;
        int chmod_mode = -1;
        const IgnoreRules* ignore = nullptr;
    };
    LayerWriter(const safe::Root& layer, Options options, std::function<Status()> check_interrupted)
        : layer_(layer), opt_(options), check_interrupted_(std::move(check_interrupted)) {}

    // Copies the entry held by ENTRY (O_PATH | O_NOFOLLOW) to DEST inside the layer. REL is the
    // entry's path in its own tree ("." for its top), for .dockerignore and messages. A directory
    // is merged into DEST; anything else replaces a non-directory at DEST.
    Status copy(int entry, const std::string& rel, const std::string& dest) {
        ISOLAB_TRY(check_interrupted_());
        struct stat st;
        if (::fstat(entry, &st) != 0) return errno_error("stat `" + rel + "`", errno);
        if (opt_.ignore && opt_.ignore->excluded(rel)) return {};
        if (S_ISDIR(st.st_mode)) return copy_dir(entry, st, rel, dest);
        return copy_leaf(entry, st, rel, dest);
    }

private:
    Status copy_dir(int entry, const struct stat& st, const std::string& rel, const std::string& dest) {
        auto made = layer_.make_dirs(dest);  // a dangling link on the way gets its target, inside the layer
        if (!made) return made.error();
        UniqueFd out(::openat(made->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!out.valid()) return errno_error("open `" + dest + "` in the new layer", errno);
        UniqueFd in(::openat(entry, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!in.valid()) return errno_error("open `" + rel + "`", errno);
        auto names = list_dir(in.get(), rel);
        if (!names) return names.error();
        for (const auto& n : *names) {
            UniqueFd child(::openat(in.get(), n.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
            if (!child.valid()) {
                if (errno == ENOENT) continue;  // removed while we copy: as if it never was
                return errno_error("open `" + join_rel(rel, n) + "`", errno);
            }
            ISOLAB_TRY(copy(child.get(), join_rel(rel, n), join_in_root(dest, n)));
        }
        // Times last: creating the children changed the directory's mtime.
        return set_metadata(out.get(), in.get(), st, dest);
    }

    Status copy_leaf(int entry, const struct stat& st, const std::string& rel, const std::string& dest) {
        const bool is_reg = S_ISREG(st.st_mode), is_link = S_ISLNK(st.st_mode);
        const bool is_node = S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode);
        if (S_ISSOCK(st.st_mode) && opt_.from_archive) return {};  // a tar cannot hold one anyway
        if (!is_reg && !is_link && !(is_node && opt_.from_archive))
            return make_error("COPY `" + rel + "`: only files, directories and symlinks can be copied", 1);
        // DEST is clean ("/a/b": safe::clean_in_root, then names from readdir).
        const size_t slash = dest.rfind('/');
        const std::string leaf = slash == std::string::npos ? dest : dest.substr(slash + 1);
        if (leaf.empty() || leaf == "." || leaf == "..")
            return make_error("cannot copy `" + rel + "` to `" + dest + "`: not a file name", 1);
        auto parent = layer_.make_dirs(slash == std::string::npos || slash == 0 ? "/" : dest.substr(0, slash));
        if (!parent) return parent.error();
        const int dir = parent->get();
        const char* name = leaf.c_str();
        struct stat old;
        if (::fstatat(dir, name, &old, AT_SYMLINK_NOFOLLOW) == 0) {
            if (S_ISDIR(old.st_mode))
                return make_error("cannot copy `" + rel + "` to `" + dest + "`: a directory is there", 1);
            if (::unlinkat(dir, name, 0) != 0) return errno_error("replace `" + dest + "` in the new layer", errno);
        }
        if (opt_.from_archive && st.st_nlink > 1) {
            // A hard link of the tar: the second name links to the first copy, as in the tar.
            auto key = std::make_pair(st.st_dev, st.st_ino);
            if (auto it = links_.find(key); it != links_.end()) {
                auto first = layer_.open_parent(it->second, false);
                if (!first) return first.error();
                if (::linkat(first->dir.get(), first->name.c_str(), dir, name, 0) != 0)
                    return errno_error("link `" + dest + "` to `" + it->second + "`", errno);
                return {};
            }
            links_[key] = dest;
        }
        const uid_t uid = opt_.from_archive || opt_.keep_owner ? st.st_uid : opt_.uid;
        const gid_t gid = opt_.from_archive || opt_.keep_owner ? st.st_gid : opt_.gid;
        struct timespec times[2] = {st.st_mtim, st.st_mtim};
        if (is_reg) {
            // Reopened through the descriptor, not by name: the entry cannot have been swapped.
            UniqueFd in(::open(safe::fd_path(entry).c_str(), O_RDONLY | O_CLOEXEC));
            if (!in.valid()) return errno_error("open `" + rel + "`", errno);
            UniqueFd out(::openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
            if (!out.valid()) return errno_error("create `" + dest + "` in the new layer", errno);
            ISOLAB_TRY(copy_bytes(in.get(), out.get(), rel));
            return set_metadata(out.get(), in.get(), st, dest);
        }
        if (is_link) {
            auto target = read_link_fd(entry, rel);
            if (!target) return target.error();
            if (::symlinkat(target->c_str(), dir, name) != 0) return errno_error("symlink `" + dest + "`", errno);
        } else {
            if (::mknodat(dir, name, st.st_mode & (S_IFMT | 07777), st.st_rdev) != 0)
                return errno_error("create `" + dest + "` in the new layer", errno);
            // The umask took bits away; AT_SYMLINK_NOFOLLOW: the name was just made, never follow it.
            (void)::fchmodat(dir, name, st.st_mode & 07777, AT_SYMLINK_NOFOLLOW);
        }
        if (::fchownat(dir, name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0 && ::geteuid() == 0)
            return errno_error("chown `" + dest + "`", errno);
        ::utimensat(dir, name, times, AT_SYMLINK_NOFOLLOW);
        return {};
    }

    // Owner, mode, xattrs (from an archive only) and mtime of a file or directory just written,
    // in that order: chown clears the set-id bits, and every change moves the ctime only.
    Status set_metadata(int out, int in, const struct stat& st, const std::string& dest) {
        const uid_t uid = opt_.from_archive || opt_.keep_owner ? st.st_uid : opt_.uid;
        const gid_t gid = opt_.from_archive || opt_.keep_owner ? st.st_gid : opt_.gid;
        if (::fchown(out, uid, gid) != 0 && ::geteuid() == 0) return errno_error("chown `" + dest + "`", errno);
        mode_t mode = !opt_.from_archive && opt_.chmod_mode >= 0 ? static_cast<mode_t>(opt_.chmod_mode)
                                                                 : st.st_mode & 07777;
        if (::fchmod(out, mode) != 0) return errno_error("chmod `" + dest + "`", errno);
        if (opt_.from_archive) ISOLAB_TRY(copy_xattrs(in, out, dest));
        struct timespec times[2] = {st.st_mtim, st.st_mtim};
        ::futimens(out, times);
        return {};
    }

    // extract_layer_tar kept only `security.capability` and the overlay opaque marker.
    static Status copy_xattrs(int in, int out, const std::string& dest) {
        ssize_t n = ::flistxattr(in, nullptr, 0);
        if (n <= 0) return {};
        std::string names(static_cast<size_t>(n), '\0');
        n = ::flistxattr(in, names.data(), names.size());
        if (n <= 0) return {};
        for (size_t i = 0; i < static_cast<size_t>(n);) {
            std::string key = names.c_str() + i;
            i += key.size() + 1;
            ssize_t len = ::fgetxattr(in, key.c_str(), nullptr, 0);
            if (len < 0) continue;
            std::string value(static_cast<size_t>(len), '\0');
            len = ::fgetxattr(in, key.c_str(), value.data(), value.size());
            if (len < 0) continue;
            if (::fsetxattr(out, key.c_str(), value.data(), static_cast<size_t>(len), 0) != 0)
                return errno_error("set xattr `" + key + "` on `" + dest + "`", errno);
        }
        return {};
    }

    const safe::Root& layer_;
    Options opt_;
    std::function<Status()> check_interrupted_;
    std::map<std::pair<dev_t, ino_t>, std::string> links_;  // archive hard links: first copy's path
};

// One COPY/ADD source, resolved inside the context.
struct Source {
    std::string name;  // its last component as the Dockerfile (or the wildcard) named it
    std::string real;  // where it really is inside the context ("/a/b"), every symlink resolved
};

Error not_in_context(const std::string& verb, const std::string& word) {
    return make_error(verb + " failed: file not found in build context or excluded by .dockerignore: stat " + word +
                          ": file does not exist",
                      1);
}

// Docker matches a wildcard source against the paths it sees while walking the context without
// following symlinks (Go's filepath.Match, where `*` never crosses `/`): nothing below a symlink
// is a candidate, so `h*/s.txt` cannot reach through `hd -> /host/dir`. PARTS: the pattern's
// components; DIR: the directory at depth DEPTH, PREFIX its path relative to the context.
Status glob_context(int dir, const std::vector<std::string>& parts, size_t depth, const std::string& prefix,
                    std::vector<std::string>& out) {
    auto names = list_dir(dir, prefix.empty() ? "." : prefix);
    if (!names) return names.error();
    for (const auto& n : *names) {
        if (::fnmatch(parts[depth].c_str(), n.c_str(), 0) != 0) continue;
        std::string rel = join_rel(prefix, n);
        if (depth + 1 == parts.size()) {
            out.push_back(rel);
            continue;
        }
        UniqueFd sub(::openat(dir, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (sub.valid()) ISOLAB_TRY(glob_context(sub.get(), parts, depth + 1, rel, out));
    }
    return {};
}

// The sources WORD names in the context CTX: the path itself or, with wildcards, every match.
// Each is resolved inside the context; what is missing there (a symlink to a host path usually
// is) or excluded by .dockerignore is Docker's "file not found in build context".
Result<std::vector<Source>> context_sources(const safe::Root& ctx, const std::string& word, const std::string& verb,
                                            const IgnoreRules& ignore) {
    fs::path lexical = fs::path(word).lexically_normal();
    if (lexical.is_absolute()) lexical = lexical.lexically_relative("/");
    std::string rel = lexical.string();
    while (!rel.empty() && rel.back() == '/') rel.pop_back();
    if (rel == ".." || rel.rfind("../", 0) == 0)
        return make_error(verb + " failed: forbidden path outside the build context: " + word, 1);
    if (rel.empty()) rel = ".";
    std::vector<std::string> rels;
    if (word.find_first_of("*?[") != std::string::npos) {
        std::vector<std::string> parts;
        for (const auto& p : fs::path(rel)) {
            std::string c = p.string();
            if (!c.empty() && c != ".") parts.push_back(c);
        }
        if (!parts.empty()) ISOLAB_TRY(glob_context(ctx.fd(), parts, 0, "", rels));
        std::erase_if(rels, [&](const std::string& r) { return ignore.excluded(r); });
        if (rels.empty())
            return make_error(verb + " failed: no source files were specified (nothing in the build context matches " +
                                  word + ")",
                              1);
    } else {
        if (ignore.excluded(rel)) return not_in_context(verb, word);
        rels.push_back(rel);
    }
    std::vector<Source> out;
    for (const auto& r : rels) {
        auto real = ctx.resolve(r);
        if (!real) return not_in_context(verb, r == rel ? word : r);
        if (ignore.excluded(real->substr(1))) return not_in_context(verb, r == rel ? word : r);
        out.push_back({fs::path(r).filename().string(), *real});
    }
    return out;
}

// The sources WORD names in a stage's file system (a tree without a host path: a detached mount).
// The path is kept as written, lexically cleaned inside the root; opening it later follows its
// links inside the root (openat2 RESOLVE_IN_ROOT). Wildcards match as in the context.
Result<std::vector<Source>> stage_sources(const safe::Root& root, const std::string& word) {
    const std::string rel = safe::clean_in_root(word).substr(1);
    std::vector<std::string> rels;
    if (word.find_first_of("*?[") != std::string::npos) {
        std::vector<std::string> parts;
        for (const auto& p : fs::path(rel)) {
            std::string c = p.string();
            if (!c.empty() && c != ".") parts.push_back(c);
        }
        if (!parts.empty()) ISOLAB_TRY(glob_context(root.fd(), parts, 0, "", rels));
        if (rels.empty()) return make_error("no source files were specified", 1);
    } else {
        rels.push_back(rel.empty() ? "." : rel);
    }
    std::vector<Source> out;
    for (const auto& r : rels) {
        auto fd = root.open(r, O_PATH);
        if (!fd) return fd.error();
        out.push_back({r == "." ? std::string(".") : fs::path(r).filename().string(), r == "." ? "/" : "/" + r});
    }
    return out;
}

bool is_url(const std::string& s) {
    return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0 || s.rfind("git@", 0) == 0 ||
           s.rfind("ftp://", 0) == 0;
}

// Go's url.Parse: %XX in the path decoded. False for a malformed escape.
bool percent_decode(const std::string& in, std::string& out) {
    out.clear();
    for (size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out += in[i];
            continue;
        }
        if (i + 2 >= in.size() || !std::isxdigit(static_cast<unsigned char>(in[i + 1])) ||
            !std::isxdigit(static_cast<unsigned char>(in[i + 2])))
            return false;
        out += static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16));
        i += 2;
    }
    return true;
}

// The name a downloaded file takes (moby's downloadSource): the URL path's last element, else the
// answer's Content-Disposition filename. Never a path: no '/', not "." or "..".
Result<std::string> download_name(const std::string& url, const std::string& disposition) {
    std::string path = url.substr(url.find("://") + 3);
    size_t slash = path.find('/');
    path = slash == std::string::npos ? "" : path.substr(slash);
    path = path.substr(0, path.find_first_of("?#"));
    std::string decoded;
    if (!percent_decode(path, decoded)) return make_error("invalid URL escape in `" + url + "`", 1);
    std::string name = decoded.substr(decoded.find_last_of('/') == std::string::npos ? 0 : decoded.find_last_of('/') + 1);
    if (name.empty() || name == "." || name == "..") name = disposition;
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
        name.find('\0') != std::string::npos)
        return make_error("cannot determine filename from url: " + url, 1);
    return name;
}

// RFC 7231's IMF-fixdate ("Tue, 15 Nov 1994 08:12:31 GMT"); 0 (the epoch) when absent or not one.
time_t http_time(const std::string& text) {
    struct tm tm = {};
    const char* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end) return 0;
    return ::timegm(&tm);
}

// A download bigger than this is refused: a server that never stops cannot fill the disk.
constexpr int64_t kMaxUrlBytes = int64_t{4} << 30;

// Downloads URL into DIR (the build's own folder) and returns the file's name there.
Result<std::string> fetch_url(const std::string& dir, const std::string& url) {
    const std::string tmp = dir + "/.download";
    auto got = download_url(url, tmp, kMaxUrlBytes);
    if (!got) return got.error();
    auto name = download_name(url, got->disposition_filename);
    if (!name) {
        (void)::unlink(tmp.c_str());
        return name.error();
    }
    const std::string file = dir + "/" + *name;
    if (::rename(tmp.c_str(), file.c_str()) != 0) return errno_error("rename `" + tmp + "`", errno, 1);
    const time_t t = http_time(got->last_modified);
    const struct timespec times[2] = {{t, 0}, {t, 0}};
    if (::utimensat(AT_FDCWD, file.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
        return errno_error("set the time of `" + file + "`", errno, 1);
    return *name;
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
            // Inside the layer: an `/etc` that is a symlink must not read the host's passwd.
            auto layer = safe::Root::open(*it);
            if (!layer) continue;
            auto fd = layer->open(file, O_PATH);
            struct stat st;
            if (!fd || ::fstat(fd->get(), &st) != 0 || !S_ISREG(st.st_mode)) continue;  // a FIFO would block
            auto text = read_file(safe::fd_path(fd->get()));
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
    case Kind::Volume: {
        // Only the image's config: Docker's `Config.Volumes` ({"/data": {}}), paths as written after
        // expansion. The engine makes an anonymous volume for each at `run`; RUN steps of this
        // build mount none (BuildKit's behaviour).
        if (!stage.cfg().contains("Volumes") || !stage.cfg()["Volumes"].is_object()) stage.cfg()["Volumes"] = json::object();
        for (const auto& w : in.args) {
            auto path = xp(w);
            if (!path) return path.error();
            std::string p = trim(*path);
            if (p.empty()) return step_error(in, name, "VOLUME specified can not be an empty string");
            stage.cfg()["Volumes"][p] = json::object();
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
    case Kind::Maintainer: {
        // Docker stores MAINTAINER as the image's Author and, since BuildKit, as this label.
        auto who = xp(in.args.at(0));
        if (!who) return who.error();
        if (!stage.cfg().contains("Labels") || !stage.cfg()["Labels"].is_object()) stage.cfg()["Labels"] = json::object();
        stage.cfg()["Labels"]["maintainer"] = *who;
        stage.config["author"] = *who;
        break;
    }
    case Kind::Healthcheck: {
        // Docker's shape: {"Test": [...], "Interval": ns, "Timeout": ns, "StartPeriod": ns,
        // "StartInterval": ns, "Retries": n}, only what was given (0 = Docker's default).
        json h = {{"Test", in.args}};
        const std::pair<const char*, const char*> durations[] = {
            {"interval", "Interval"}, {"timeout", "Timeout"}, {"start-period", "StartPeriod"}, {"start-interval", "StartInterval"}};
        for (const auto& [flag, key] : durations)
            if (auto it = in.flags.find(flag); it != in.flags.end() && !it->second.empty()) {
                auto ns = dockerfile::parse_go_duration(it->second);
                if (!ns) return step_error(in, name, ns.error().message);
                if (*ns != 0) h[key] = *ns;
            }
        if (auto it = in.flags.find("retries"); it != in.flags.end() && !it->second.empty())
            if (long long r = std::stoll(it->second); r != 0) h["Retries"] = r;
        stage.cfg()["Healthcheck"] = h;
        break;
    }
    case Kind::Onbuild: {
        if (!stage.cfg().contains("OnBuild") || !stage.cfg()["OnBuild"].is_array()) stage.cfg()["OnBuild"] = json::array();
        stage.cfg()["OnBuild"].push_back(in.args.at(0));
        break;
    }
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

// ---- Crash consistency: who owns a build's leftovers ----

// This process as a build owner: "PID" and its start time (/proc/PID/stat field 22), which tell
// a live owner from a recycled pid.
struct Owner {
    pid_t pid = 0;
    uint64_t start = 0;
    static Owner self() { return {::getpid(), process_start_time(::getpid())}; }
    bool alive() const { return process_matches(pid, start); }
};

// "PID<SEP>START" → an owner; nothing when TEXT is not one.
std::optional<Owner> parse_owner(const std::string& text, char sep) {
    size_t at = text.find(sep);
    if (at == 0 || at == std::string::npos || at + 1 == text.size()) return std::nullopt;
    std::string pid = text.substr(0, at), start = text.substr(at + 1);
    if (pid.size() > 9 || start.size() > 19 || pid.find_first_not_of("0123456789") != std::string::npos ||
        start.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    Owner o{static_cast<pid_t>(std::stol(pid)), std::stoull(start)};
    if (o.pid <= 0 || o.start == 0) return std::nullopt;
    return o;
}

constexpr const char* kWorkPrefix = ".build-";
constexpr const char* kLayersJournal = "layers-made";

// The build's work folder ROOT/images/layers/.build-PID-START-RAND (see build.hpp): staged layers
// and unpacked tars live here, on the layers' file system (a staged layer is renamed into the
// store), and the list of layers the build added is kept here for collect_build_leftovers. Made
// on first use; removed with the object, on every path out of the builder.
class WorkDir {
public:
    explicit WorkDir(std::string layers_dir) : layers_dir_(std::move(layers_dir)) {}
    WorkDir(const WorkDir&) = delete;
    WorkDir& operator=(const WorkDir&) = delete;
    ~WorkDir() {
        if (!path_.empty()) (void)remove_tree(path_);
    }

    // A fresh path in the folder for KIND ("run", "copy", "add"); not created.
    Result<std::string> staging(const std::string& kind) {
        if (path_.empty()) {
            Owner me = Owner::self();
            std::string p = layers_dir_ + "/" + kWorkPrefix + std::to_string(me.pid) + "-" + std::to_string(me.start) +
                            "-" + random_hex(4);
            ISOLAB_TRY(make_dirs(layers_dir_));
            if (::mkdir(p.c_str(), 0700) != 0) return errno_error("create the build's work folder `" + p + "`", errno);
            path_ = p;
        }
        return path_ + "/" + kind + "-" + std::to_string(++count_);
    }

    // Records that the build added layer DIFF_ID to the store: a build killed before it stores
    // its image leaves layers no image names, and this list is how the next build finds them.
    void note_layer(const std::string& diff_id) {
        layers_ += diff_id + "\n";
        if (!path_.empty()) (void)write_file_atomic(path_ + "/" + kLayersJournal, layers_, 0600);
    }

private:
    std::string layers_dir_, path_, layers_;
    int count_ = 0;
};

// The end of a process this one did not start, as an event: a pidfd (Linux 5.3+) polls readable
// once the process has exited. The start time is checked after pidfd_open, so the descriptor is
// known to be the process that was recorded, not one that reused its pid. Without pidfd_open (an
// old kernel, a seccomp filter) the watch polls /proc.
class ProcessWatch {
public:
    ProcessWatch(pid_t pid, uint64_t start_time) : pid_(pid), start_(start_time) {
        if (pid <= 0) {
            ended_ = true;
            return;
        }
        long fd = ::syscall(SYS_pidfd_open, pid, 0);  // always close-on-exec
        if (fd >= 0) fd_.reset(static_cast<int>(fd));
        if (!process_matches(pid, start_time)) ended_ = true;
    }
    // Waits at most MS milliseconds (less when a signal arrives); true once the process ended.
    bool wait_ended(int ms) {
        if (ended_) return true;
        if (fd_.valid()) {
            struct pollfd p = {fd_.get(), POLLIN, 0};
            if (::poll(&p, 1, ms) > 0) ended_ = true;
            return ended_;
        }
        sleep_ms(ms);
        ended_ = !process_matches(pid_, start_);
        return ended_;
    }

private:
    pid_t pid_;
    uint64_t start_;
    UniqueFd fd_;
    bool ended_ = false;
};

class Builder {
public:
    Builder(Engine& engine, const BuildOptions& options, std::ostream& out)
        : engine_(engine), opt_(options), out_(options.quiet ? null_ : out), work_(engine.images().dir() + "/layers") {}
    Builder(const Builder&) = delete;
    Builder& operator=(const Builder&) = delete;
    // Whatever way run() was left (an error, an interrupt, an exception), a build that did not
    // store its image removes its intermediate container and its layers; work_ goes after.
    ~Builder() {
        if (!stored_) cleanup();
    }

    Result<std::string> run();

private:
    // A line of the classic output (`Step 1/6 :`, ` ---> ...`); --progress plain prints its own.
    void say(const std::string& line) {
        if (!plain_) out_ << line << "\n" << std::flush;
    }
    // A line printed in every mode but quiet (warnings, skipped stages).
    void tell(const std::string& line) { out_ << line << "\n" << std::flush; }
    // --progress plain: BuildKit's vertices. Opens one (`#N NAME`) and returns its number.
    int vertex(const std::string& name) {
        ++vertex_;
        out_ << "\n#" << vertex_ << " " << name << "\n" << std::flush;
        vertex_start_ = std::chrono::steady_clock::now();
        return vertex_;
    }
    double vertex_seconds() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - vertex_start_).count();
    }
    void vertex_done(const std::string& how = "") {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1fs", vertex_seconds());
        out_ << "#" << vertex_ << " " << (how.empty() ? std::string("DONE ") + buf : how) << "\n" << std::flush;
    }
    // RUN's output under --progress plain: each line as `#N 0.123 text`.
    void plain_output(const std::string& chunk) {
        run_line_ += chunk;
        for (size_t nl; (nl = run_line_.find('\n')) != std::string::npos;) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.3f", vertex_seconds());
            out_ << "#" << vertex_ << " " << buf << " " << run_line_.substr(0, nl) << "\n";
            run_line_.erase(0, nl + 1);
        }
    }
    Status step(const Instruction& in);
    Status step_from(const Instruction& in);
    Status step_run(const Instruction& in);
    Status step_copy(const Instruction& in);
    // Runs the ONBUILD triggers of the base image FROM just read (Docker runs them right after it).
    Status run_triggers(const Instruction& from, const json& triggers);
    // Splits the Dockerfile into stages, checks names and --from references, and picks the stages
    // the target needs (BuildKit's rule: the others are skipped).
    Status plan_stages();
    // The stage index NAME (a name or a number) refers to from stage CURRENT, or nothing when it
    // names no stage (then it is an image).
    Result<std::optional<size_t>> stage_ref(const Instruction& in, const std::string& name, size_t current) const;
    // Finishes a step: stores the cache entry and prints the id (and the layer, if one was made).
    void finish_step(const std::string& key, const std::string& new_layer);
    bool try_cache(const std::string& key);
    std::map<std::string, std::string> vars() const;  // ENV of the stage + ARGs in scope
    Result<std::string> expand(const Instruction& in, const std::string& word) const;
    // An error once the front end's handler saw SIGINT or SIGTERM (BuildOptions::interrupted).
    Status check_interrupted() const;
    // A layer staged in DIR joins the store; the build remembers it (and so does its work folder).
    Result<std::string> add_layer(const std::string& dir);
    // Removes the RUN container in flight and the layers this build added that no image names.
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
    struct StagePlan {
        size_t first = 0, end = 0;  // its instructions: [first, end), FROM first
        std::string name;           // "" when unnamed
        bool needed = false;        // the target depends on it
    };
    std::vector<StagePlan> stages_;
    std::vector<std::string> warnings_;                      // printed after the build, as BuildKit
    bool plain_ = false;                                     // --progress plain
    int vertex_ = 0;
    std::chrono::steady_clock::time_point vertex_start_;
    std::string run_line_;                                   // RUN output not yet ended by a newline
    size_t current_ = 0;                                     // the stage being built
    std::map<size_t, Stage> finished_;                       // built stages, by index
    std::vector<std::pair<std::string, std::string>> args_;  // ARG in the stage, in order
    std::vector<std::string> new_layers_;                    // made by this build
    std::string live_container_;                             // a RUN container to remove on failure
    int layers_made_ = 0, cached_ = 0;
    bool stored_ = false;                                    // the image is in the store
    safe::Root context_;                                     // the build context, opened once
    WorkDir work_;                                           // declared last: removed first
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
    new_layers_.clear();
}

Status Builder::check_interrupted() const {
    if (!opt_.interrupted || *opt_.interrupted == 0) return {};
    int sig = *opt_.interrupted;
    const char* abbrev = ::sigabbrev_np(sig);
    return make_error(std::string("the build was interrupted by SIG") + (abbrev ? abbrev : std::to_string(sig).c_str()) +
                          ": its intermediate container and staged layers were removed",
                      128 + sig);
}

Result<std::string> Builder::add_layer(const std::string& dir) {
    auto diff_id = engine_.images().add_layer(dir, true);
    if (!diff_id) return diff_id.error();
    new_layers_.push_back(*diff_id);
    work_.note_layer(*diff_id);
    ++layers_made_;
    return diff_id;
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

// Docker's words for an image that is neither a stage nor in the store (the daemon would pull it).
Error missing_image(const Instruction& in, const std::string& file, const std::string& ref) {
    return step_error(in, file, i18n::trf("build.pull_denied", {ref}));
}

Status Builder::step_from(const Instruction& in) {
    // A new stage: nothing of the previous one carries over but what FROM names (Docker's rule:
    // ARGs and SHELL are per stage).
    have_stage_ = true;
    args_.clear();
    stage_ = Stage{};
    std::map<std::string, std::string> v;
    for (const auto& [k, val] : global_args_) v[k] = val;
    auto ref = dockerfile::expand(in.args.at(0), v, file_.escape);
    if (!ref) return step_error(in, name_, ref.error().message);
    auto earlier = stage_ref(in, *ref, current_);
    if (!earlier) return earlier.error();
    json triggers;
    if (*earlier) {
        // FROM an earlier stage: its config and layers as that stage left them.
        stage_.config = finished_.at(**earlier).config;
        say(" ---> " + short_id(finished_.at(**earlier).id()) + "   " +
            i18n::trf("build.from_stage", {stages_[**earlier].name.empty() ? std::to_string(**earlier) : stages_[**earlier].name}));
    } else {
        auto base = engine_.images().resolve(*ref);
        if (!base) {
            if (ImageStore::valid_reference(*ref)) return missing_image(in, name_, *ref);
            return step_error(in, name_, "FROM " + *ref + ": " + base.error().message);
        }
        stage_.config = base->config;
        if (base->id == "scratch") stage_.config.erase("history");
        say(" ---> " + (base->id == "scratch" ? std::string("scratch (an empty file system)") : short_id(base->id)));
        if (stage_.config.contains("config") && stage_.config["config"].is_object())
            triggers = stage_.config["config"].value("OnBuild", json());
    }
    shell_ = {"/bin/sh", "-c"};
    if (stage_.config.contains("config") && stage_.config["config"].is_object() &&
        stage_.config["config"].contains("Shell") && stage_.config["config"]["Shell"].is_array())
        shell_ = stage_.config["config"]["Shell"].get<std::vector<std::string>>();
    // Docker: the triggers run once, in the image that names the base; they are not inherited.
    if (stage_.config.contains("config") && stage_.config["config"].is_object())
        stage_.config["config"].erase("OnBuild");
    if (triggers.is_array() && !triggers.empty()) return run_triggers(in, triggers);
    return {};
}

Status Builder::run_triggers(const Instruction& from, const json& triggers) {
    say(i18n::trf("build.triggers", {std::to_string(triggers.size())}));
    for (const auto& t : triggers) {
        if (!t.is_string()) continue;
        const std::string text = t.get<std::string>();
        // Each trigger is one Dockerfile line of the base image; parsed as Docker does at this FROM.
        auto parsed = dockerfile::parse("FROM scratch\n" + text + "\n", "ONBUILD");
        if (!parsed || parsed->instructions.size() != 2)
            return step_error(from, name_, "the base image's ONBUILD trigger `" + text + "` is not valid: " +
                                               (parsed ? std::string("one instruction expected") : parsed.error().message));
        Instruction in = parsed->instructions[1];
        in.line = from.line;
        if (in.kind == Kind::From || in.kind == Kind::Onbuild || in.kind == Kind::Maintainer)
            return step_error(from, name_, in.keyword + " isn't allowed as an ONBUILD trigger");
        say("Step " + std::string("ONBUILD") + " : " + in.text);
        ISOLAB_TRY(step(in));
    }
    return {};
}

Result<std::optional<size_t>> Builder::stage_ref(const Instruction& in, const std::string& raw, size_t current) const {
    std::string name = raw;
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos && in.kind != Kind::From) {
        // COPY --from=N: the N-th stage (from 0), which must come before this one.
        if (name.size() > 6 || std::stoul(name) >= current)
            return step_error(in, name_, i18n::trf("build.from_index", {raw, std::to_string(current)}));
        return std::optional<size_t>(std::stoul(name));
    }
    for (size_t i = 0; i < stages_.size(); ++i) {
        if (stages_[i].name.empty() || stages_[i].name != name) continue;
        if (i == current) return step_error(in, name_, "circular dependency detected on stage: " + name);
        if (i > current) return step_error(in, name_, i18n::trf("build.stage_later", {name}));
        return std::optional<size_t>(i);
    }
    return std::optional<size_t>();
}

Status Builder::plan_stages() {
    for (size_t i = 0; i < file_.instructions.size(); ++i) {
        const auto& in = file_.instructions[i];
        if (in.kind != Kind::From) continue;
        if (!stages_.empty()) stages_.back().end = i;
        for (const auto& st : stages_)
            if (!in.stage.empty() && st.name == in.stage)
                return step_error(in, name_, "Duplicate stage name '" + in.stage + "', stage names should be unique");
        stages_.push_back({i, file_.instructions.size(), in.stage, false});
    }
    size_t target = stages_.size() - 1;
    if (!opt_.target.empty()) {
        std::string want = opt_.target;
        for (char& c : want) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        auto it = std::find_if(stages_.begin(), stages_.end(), [&](const StagePlan& p) { return p.name == want; });
        if (it == stages_.end()) return make_error(i18n::trf("build.no_target", {opt_.target}), 1);
        target = static_cast<size_t>(it - stages_.begin());
    }
    // What each stage needs: its FROM (when it names a stage) and every COPY --from that does.
    // Names are expanded with the global ARGs only (what FROM can see).
    std::map<std::string, std::string> globals;
    for (const auto& in : file_.instructions) {
        if (in.kind == Kind::From) break;
        if (in.kind == Kind::Arg && !in.pairs.empty()) {
            auto& [k, def] = in.pairs[0];
            if (auto b = build_args_.find(k); b != build_args_.end()) globals[k] = b->second;
            else if (auto v = dockerfile::expand(def, globals, file_.escape); v) globals[k] = *v;
        }
    }
    std::vector<std::set<size_t>> deps(stages_.size());
    for (size_t s = 0; s < stages_.size(); ++s) {
        for (size_t i = stages_[s].first; i < stages_[s].end; ++i) {
            const auto& in = file_.instructions[i];
            std::string word;
            if (in.kind == Kind::From) word = in.args.at(0);
            else if ((in.kind == Kind::Copy || in.kind == Kind::Add) && in.flags.count("from")) word = in.flags.at("from");
            else continue;
            auto ref = dockerfile::expand(word, globals, file_.escape);
            if (!ref) return step_error(in, name_, ref.error().message);
            auto dep = stage_ref(in, *ref, s);
            if (!dep) return dep.error();
            if (*dep) deps[s].insert(**dep);
        }
    }
    // Dependencies point to earlier stages only, so one walk from the target down marks them all.
    stages_[target].needed = true;
    for (size_t s = target + 1; s-- > 0;)
        if (stages_[s].needed)
            for (size_t d : deps[s]) stages_[d].needed = true;
    stages_.resize(target + 1);  // stages after the target are never built
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
    // Whose container this is: if this process dies without removing it, the next build does.
    Owner me = Owner::self();
    spec.labels[kBuildOwnerLabel] = std::to_string(me.pid) + ":" + std::to_string(me.start);
    auto rec = engine_.create(spec, &img);
    if (!rec) return step_error(in, name_, rec.error().message);
    live_container_ = rec->id;
    say(" ---> Running in " + rec->id.substr(0, 12));
    auto started = engine_.start(rec->id, false);
    if (!started) return step_error(in, name_, started.error().message);
    // The monitor records PID 1's exit; if it dies first (kill -9, the OOM killer), the record
    // would say "running" forever and this loop would never end.
    ProcessWatch monitor(started->monitor_pid, started->monitor_start_time);
    bool monitor_ended = false;

    // Follow the container's log while it runs: the learner sees RUN's output as it comes.
    // Through JsonLogReader, which follows the log across rotations (a RUN printing more than
    // the log keeps is shown whole as long as the builder keeps up).
    auto log = JsonLogReader::open(engine_.log_path(rec->id));
    auto drain = [&]() {
        if (!log) return;
        (void)log->poll([&](std::string_view line) {
            auto j = json::parse(line.begin(), line.end(), nullptr, false);
            if (!j.is_discarded() && j.is_object()) {
                if (plain_) plain_output(j.value("log", ""));
                else out_ << j.value("log", "");
            }
        });
        out_ << std::flush;
    };
    for (;;) {
        drain();
        auto r = engine_.store().load(rec->id);
        if (!r || !(container_has_process(r->state) || r->state == ContainerState::Restarting)) break;
        if (monitor_ended) {
            // The record was read after the monitor ended and still says running: the exit
            // will never be recorded by it. The garbage collector stops what is left and
            // records exit 255; the container itself goes with the failed build.
            engine_.collect_garbage();
            return make_error("The command '" + command_line(args) + "' did not finish: the monitor of its container (pid " +
                                  std::to_string(started->monitor_pid) +
                                  ") died unexpectedly; IsoLab stopped the container and cleaned up",
                              1);
        }
        ISOLAB_TRY(check_interrupted());
        monitor_ended = monitor.wait_ended(20);
    }
    auto code = engine_.wait(rec->id);
    drain();
    if (!code) return step_error(in, name_, code.error().message);
    if (*code != 0)
        return make_error("The command '" + command_line(args) + "' returned a non-zero code: " + std::to_string(*code), 1);

    auto staged = work_.staging("run");
    if (!staged) return step_error(in, name_, staged.error().message);
    if (auto s = engine_.export_changes(rec->id, *staged); !s) {
        (void)remove_tree(*staged);
        return step_error(in, name_, s.error().message);
    }
    say("Removing intermediate container " + rec->id.substr(0, 12));
    (void)engine_.remove(rec->id, true);
    live_container_.clear();
    ISOLAB_TRY(check_interrupted());
    auto diff_id = add_layer(*staged);
    if (!diff_id) {
        (void)remove_tree(*staged);
        return step_error(in, name_, diff_id.error().message);
    }
    stage_.config["created"] = now_rfc3339();
    stage_.config["rootfs"]["diff_ids"].push_back(*diff_id);
    stage_.add_history("RUN " + command_line(args), false);
    finish_step(key, *diff_id);
    return {};
}

Status Builder::step_copy(const Instruction& in) {
    const bool add = in.kind == Kind::Add;
    const std::string verb = add ? "ADD" : "COPY";
    // COPY --from: the sources are read from an earlier stage's (or a local image's) file system,
    // a read-only overlay of its layers, every path resolved inside it with safe::Root: a stage's
    // `/app -> /etc/shadow` copies the stage's own /etc/shadow, never the host's.
    std::optional<safe::Root> from_root;
    std::string from_label;
    if (auto f = in.flags.find("from"); f != in.flags.end()) {
        auto ref = expand(in, f->second);
        if (!ref) return ref.error();
        if (add) return step_error(in, name_, "ADD --from is not a Docker flag: use COPY --from=" + *ref);
        auto idx = stage_ref(in, *ref, current_);
        if (!idx) return idx.error();
        std::vector<std::string> layers;
        if (*idx) {
            for (const auto& d : finished_.at(**idx).diff_ids()) layers.push_back(engine_.images().layer_path(d));
            from_label = "stage " + (stages_[**idx].name.empty() ? std::to_string(**idx) : stages_[**idx].name);
        } else {
            auto image = engine_.images().resolve(*ref);
            if (!image) return missing_image(in, name_, *ref);
            layers = image->layer_dirs;
            from_label = "image " + *ref;
        }
        auto empty = work_.staging("empty");
        if (!empty) return step_error(in, name_, empty.error().message);
        if (::mkdir(empty->c_str(), 0755) != 0) return step_error(in, name_, errno_error("create `" + *empty + "`", errno).message);
        auto view = open_layers_view(layers, engine_.backend() == Backend::Rootless, *empty);
        if (!view) return step_error(in, name_, "COPY --from=" + *ref + ": " + view.error().message);
        from_root = safe::Root::adopt(std::move(*view), from_label);
    }
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
    // URLs: ADD downloads them (below); COPY takes none, as Docker's builder.
    std::vector<std::string> urls;
    for (const auto& w : words) {
        if (!is_url(w)) continue;
        if (!add) return step_error(in, name_, "source can't be a URL for COPY: use ADD " + w + " to download it");
        if (w.rfind("http://", 0) != 0 && w.rfind("https://", 0) != 0)
            return step_error(in, name_, "ADD " + w + ": only http:// and https:// URLs are downloaded; clone a git "
                                         "repository into the build context and COPY it");
        urls.push_back(w);
    }
    std::erase_if(words, [](const std::string& w) { return is_url(w); });
    bool dest_is_dir = !dest.empty() && dest.back() == '/';
    if (dest.empty() || dest[0] != '/') {
        std::string wd = stage_.workdir().empty() ? "/" : stage_.workdir();
        dest = (wd.back() == '/' ? wd : wd + "/") + (dest == "." ? "" : dest);
        if (dest.back() == '/' || words.size() > 1) dest_is_dir = true;
    }
    // Sources, resolved inside the context (see "The build context" above).
    std::string ignore_text;
    if (auto f = context_.open(".dockerignore", O_PATH); f) {
        struct stat st;
        if (::fstat(f->get(), &st) == 0 && S_ISREG(st.st_mode)) {
            auto text = read_file(safe::fd_path(f->get()));
            if (text) ignore_text = *text;
        }
    }
    IgnoreRules ignore(from_root ? std::string() : ignore_text);  // .dockerignore is the context's only
    const safe::Root& source_root = from_root ? *from_root : context_;
    if (!from_root && context_.fd() < 0 && !words.empty())
        return step_error(in, name_, i18n::trf("build.no_context", {verb}));
    std::vector<Source> sources;
    for (const auto& w : words) {
        auto found = from_root ? stage_sources(*from_root, w) : context_sources(source_root, w, verb, ignore);
        if (!found) {
            if (from_root) return step_error(in, name_, verb + " --from: " + w + ": not found in " + from_label);
            return found.error();
        }
        sources.insert(sources.end(), found->begin(), found->end());
    }
    if (sources.size() + urls.size() > 1 && !dest_is_dir)
        return step_error(in, name_, "When using " + verb + " with more than one source file, the destination must be a "
                                     "directory and end with a /");

    // The destination is a path inside the image: `/../../x` is `/x`, as in Docker. The layer is
    // staged in a new directory; the destination's parents are created as root, 0755, as Docker
    // does.
    const std::string target = safe::clean_in_root(dest);
    if (target == "/") dest_is_dir = true;
    auto staged = work_.staging("copy");
    if (!staged) return staged.error();
    auto fail = [&](Error e) {
        (void)remove_tree(*staged);
        return e;
    };
    if (::mkdir(staged->c_str(), 0755) != 0) return fail(errno_error("create `" + *staged + "`", errno));
    auto layer = safe::Root::open(*staged);
    if (!layer) return fail(layer.error());
    auto interrupted = [this] { return check_interrupted(); };
    LayerWriter::Options from_context;
    from_context.uid = uid;
    from_context.gid = gid;
    from_context.chmod_mode = chmod_mode;
    from_context.ignore = &ignore;
    if (from_root && uid == 0 && gid == 0 && chmod_mode < 0 && !in.flags.count("chown")) {
        // Files from a stage keep their owners and modes (BuildKit's COPY --from).
        from_context.keep_owner = true;
    }
    for (const auto& src : sources) {
        // A stage's source is followed (inside the stage's root) as Docker follows it; the
        // context's is resolved already.
        auto entry = source_root.open(src.real, from_root ? O_PATH : O_PATH | O_NOFOLLOW);
        if (!entry) return fail(not_in_context(verb, src.name));
        struct stat st;
        if (::fstat(entry->get(), &st) != 0) return fail(errno_error("stat `" + src.real + "`", errno));
        const std::string rel = src.real == "/" ? "." : src.real.substr(1);
        if (S_ISDIR(st.st_mode)) {
            // A directory's contents are copied, not the directory itself.
            LayerWriter w(*layer, from_context, interrupted);
            if (auto s = w.copy(entry->get(), rel, target); !s) return fail(s.error());
        } else if (add && S_ISREG(st.st_mode) && looks_like_tar(src.real)) {
            // ADD unpacks a local tar archive into the destination directory: first into a
            // folder of its own (extract_layer_tar refuses `..`, absolute names and writes
            // through symlinks), then merged into the layer like any tree.
            auto tmp = work_.staging("add");
            if (!tmp) return fail(tmp.error());
            auto x = extract_layer_tar(safe::fd_path(entry->get()), *tmp);
            if (!x) {
                (void)remove_tree(*tmp);
                return fail(step_error(in, name_, "ADD " + src.name + ": " + x.error().message));
            }
            Status merged = [&]() -> Status {
                UniqueFd top(::open(tmp->c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
                if (!top.valid()) return errno_error("open `" + *tmp + "`", errno);
                LayerWriter::Options from_archive;
                from_archive.from_archive = true;
                LayerWriter w(*layer, from_archive, interrupted);
                return w.copy(top.get(), ".", target);
            }();
            (void)remove_tree(*tmp);
            if (!merged) return fail(step_error(in, name_, "ADD " + src.name + ": " + merged.error().message));
        } else {
            std::string to = dest_is_dir ? join_in_root(target, src.name) : target;
            LayerWriter w(*layer, from_context, interrupted);
            if (auto s = w.copy(entry->get(), rel, to); !s) return fail(s.error());
        }
    }
    for (const auto& url : urls) {
        // Downloaded into a folder of the build's own, then copied like a file of the context:
        // mode 0600 and the Last-Modified time (else the epoch), as Docker's builder; never
        // unpacked, even a tar. The file's name is the URL's last path element.
        auto dir = work_.staging("url");
        if (!dir) return fail(dir.error());
        if (::mkdir(dir->c_str(), 0700) != 0) return fail(errno_error("create `" + *dir + "`", errno));
        auto got = fetch_url(*dir, url);
        if (!got) {
            (void)remove_tree(*dir);
            return fail(step_error(in, name_, "ADD " + url + ": " + got.error().message));
        }
        UniqueFd file(::open((*dir + "/" + *got).c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
        Status copied = file.valid() ? Status{} : errno_error("open the download of " + url, errno);
        if (copied) {
            LayerWriter::Options from_url = from_context;
            from_url.ignore = nullptr;  // .dockerignore is about the context, not about URLs
            LayerWriter w(*layer, from_url, interrupted);
            copied = w.copy(file.get(), *got, dest_is_dir ? join_in_root(target, *got) : target);
        }
        (void)remove_tree(*dir);
        if (!copied) return fail(copied.error());
    }
    auto content = tree_digest(*staged);
    if (!content) return fail(content.error());
    std::string key = sha256_hex(stage_.id() + "\n" + in.text + "\n" + *content);
    if (try_cache(key)) {
        (void)remove_tree(*staged);
        return {};
    }
    auto diff_id = add_layer(*staged);
    if (!diff_id) return fail(diff_id.error());
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
        if (in.kind == Kind::Maintainer)  // BuildKit's check MaintainerDeprecated, in its words
            warnings_.push_back("MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label (line " +
                                std::to_string(in.line) + ")");
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
    // What builds killed before they could clean up left behind (their process is gone).
    (void)collect_build_leftovers(engine_);

    // Everything that can be checked is checked before the first step runs.
    struct stat st;
    const bool no_context = opt_.has_dockerfile_text && opt_.context.empty();  // `build -`
    if (!no_context) {
        if (opt_.context.empty() || ::stat(opt_.context.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
            return make_error("unable to prepare context: path \"" + opt_.context + "\" not found", 1);
        auto context = safe::Root::open(opt_.context);
        if (!context) return make_error("unable to prepare context: " + context.error().message, 1);
        context_ = std::move(*context);
    }
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
    Result<std::string> text = opt_.dockerfile_text;
    if (!opt_.has_dockerfile_text) {
        std::string path = opt_.dockerfile.empty() ? opt_.context + "/Dockerfile" : opt_.dockerfile;
        if (!opt_.dockerfile.empty() && !path_exists(path) && path_exists(opt_.context + "/" + opt_.dockerfile))
            path = opt_.context + "/" + opt_.dockerfile;
        text = read_file(path);
        if (!text)
            return make_error("unable to prepare context: cannot read the Dockerfile `" + path +
                                  "`: write one there, or name another with -f",
                              1);
        name_ = fs::path(path).filename().string();
    }
    auto parsed = dockerfile::parse(*text, name_);
    if (!parsed) return parsed.error();
    file_ = std::move(*parsed);
    for (const auto& in : file_.instructions)
        if (in.kind == Kind::Run && engine_.backend() == Backend::Simulated)
            return step_error(in, name_, "RUN needs the real container runtime, but this machine uses the simulated "
                                         "backend (`isolab doctor` says why)");

    ISOLAB_TRY(plan_stages());
    plain_ = opt_.progress == BuildOptions::Progress::Plain && !opt_.quiet;
    if (plain_) {
        // BuildKit's first vertices: the Dockerfile and .dockerignore it loaded.
        vertex("[internal] load build definition from " + name_);
        vertex_done("transferring dockerfile: " + std::to_string(text->size()) + "B done");
        vertex_done();
        if (context_.fd() >= 0) {
            vertex("[internal] load .dockerignore");
            struct stat ig;
            auto f = context_.open(".dockerignore", O_PATH);
            const long long size = f && ::fstat(f->get(), &ig) == 0 && S_ISREG(ig.st_mode) ? ig.st_size : 0;
            vertex_done("transferring context: " + std::to_string(size) + "B done");
            vertex_done();
        }
    }
    // The steps that run: the ARGs before the first FROM and every instruction of a needed stage.
    std::vector<size_t> steps;
    for (size_t i = 0; i < stages_.front().first; ++i) steps.push_back(i);
    for (const auto& st : stages_)
        if (st.needed)
            for (size_t i = st.first; i < st.end; ++i) steps.push_back(i);
    for (size_t s = 0; s < stages_.size(); ++s)
        if (!stages_[s].needed) {
            const auto& from = file_.instructions[stages_[s].first];
            tell(i18n::trf("build.stage_skipped", {stages_[s].name.empty() ? std::to_string(s) : stages_[s].name,
                                                  name_ + ":" + std::to_string(from.line)}));
        }
    const size_t n = steps.size();
    size_t stage_index = 0;
    for (size_t k = 0; k < n; ++k) {
        const size_t i = steps[k];
        const auto& in = file_.instructions[i];
        ISOLAB_TRY(check_interrupted());
        if (in.kind == Kind::From) {
            if (have_stage_) finished_[current_] = stage_;  // the stage before is complete
            while (stages_[stage_index].first != i) ++stage_index;
            current_ = stage_index;
        }
        say("Step " + std::to_string(k + 1) + "/" + std::to_string(n) + " : " + in.text);
        // BuildKit shows only the instructions that change the file system, as `[stage k/m]`.
        const bool is_vertex = in.kind == Kind::From || in.kind == Kind::Run || in.kind == Kind::Copy ||
                               in.kind == Kind::Add || in.kind == Kind::Workdir;
        const int cached_before = cached_;
        if (plain_ && is_vertex) {
            const StagePlan& st = stages_[current_];
            int total = 0, at = 0;
            for (size_t j = st.first; j < st.end; ++j) {
                const Kind kd = file_.instructions[j].kind;
                if (kd == Kind::From || kd == Kind::Run || kd == Kind::Copy || kd == Kind::Add || kd == Kind::Workdir) {
                    ++total;
                    if (j <= i) ++at;
                }
            }
            std::string prefix = stages_.size() == 1 ? "" : (st.name.empty() ? "stage-" + std::to_string(current_) : st.name) + " ";
            std::string shown = in.text;
            if (in.kind == Kind::From) {  // BuildKit names the base as resolved: ARGs expanded
                std::map<std::string, std::string> v(global_args_.begin(), global_args_.end());
                if (auto ref = dockerfile::expand(in.args.at(0), v, file_.escape); ref) shown = "FROM " + *ref;
            }
            vertex("[" + prefix + std::to_string(at) + "/" + std::to_string(total) + "] " + shown);
        }
        auto s = step(in);
        if (plain_ && is_vertex) {
            if (!run_line_.empty()) plain_output("\n");
            if (!s) vertex_done("ERROR: " + s.error().message);
            else vertex_done(cached_ > cached_before ? "CACHED" : "");
        }
        if (!s) {
            cleanup();
            // A signal can also surface as the failure it caused (a poll cut short): say which.
            if (auto i = check_interrupted(); !i) return i.error();
            return s.error();
        }
    }
    if (!have_stage_) return make_error(name_ + ": no FROM instruction: nothing to build", 1);
    ISOLAB_TRY(check_interrupted());
    auto id = engine_.images().store_config(stage_.text(), opt_.tags);
    if (!id) {
        cleanup();
        return id.error();
    }
    stored_ = true;
    std::vector<std::string> unused;
    for (const auto& [k, v] : build_args_)
        if (!used_args_.count(k)) unused.push_back(k);
    if (!unused.empty()) {
        std::string list;
        for (const auto& u : unused) list += (list.empty() ? "" : " ") + u;
        say("[Warning] One or more build-args [" + list + "] were not consumed");
    }
    if (plain_) {
        vertex("exporting to image");
        out_ << "#" << vertex_ << " exporting layers done\n#" << vertex_ << " writing image " << *id << " done\n";
        for (const auto& t : opt_.tags) {
            // BuildKit prints the fully qualified name: `web:1` is docker.io/library/web:1.
            std::string ref = ImageStore::normalize_ref(t);
            const size_t slash = ref.find('/');
            const std::string first = slash == std::string::npos ? "" : ref.substr(0, slash);
            if (slash == std::string::npos) ref = "docker.io/library/" + ref;
            else if (first.find_first_of(".:") == std::string::npos && first != "localhost") ref = "docker.io/" + ref;
            out_ << "#" << vertex_ << " naming to " << ref << " done\n";
        }
        vertex_done();
    }
    if (!warnings_.empty()) {
        tell(" " + std::to_string(warnings_.size()) + (warnings_.size() == 1 ? " warning found:" : " warnings found:"));
        for (const auto& w : warnings_) tell(" - " + w);
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
            // "change:2: ONBUILD is not supported by IsoLab" → the part after the line number.
            std::string why = parsed.error().message;
            if (why.rfind("change:", 0) == 0 && why.find(": ") != std::string::npos) why = why.substr(why.find(": ") + 2);
            return make_error("dockerfile parse error in --change \"" + change + "\": " + why, 125);
        }
        for (size_t i = 1; i < parsed->instructions.size(); ++i) {
            const auto& in = parsed->instructions[i];
            switch (in.kind) {
            case Kind::Cmd: case Kind::Entrypoint: case Kind::Env: case Kind::Expose: case Kind::Label:
            case Kind::User: case Kind::Workdir: case Kind::StopSignal: case Kind::Volume: case Kind::Onbuild:
                break;
            default:
                return make_error(in.keyword + " is not a valid change command (use CMD, ENTRYPOINT, ENV, EXPOSE, "
                                  "LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME or WORKDIR)", 125);
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

int collect_build_leftovers(Engine& engine) {
    int removed = 0;
    // Intermediate containers first: one may still run a RUN step of the dead build.
    for (const auto& rec : engine.list(true)) {
        auto label = rec.spec.labels.find(kBuildOwnerLabel);
        if (label == rec.spec.labels.end()) continue;
        auto owner = parse_owner(label->second, ':');
        if (!owner || owner->alive()) continue;
        if (engine.remove(rec.id, true)) ++removed;
    }
    const std::string layers = engine.images().dir() + "/layers";
    auto top = safe::Root::open(layers);
    if (!top) return removed;  // no layers yet: nothing was ever staged
    auto names = list_dir(top->fd(), layers);
    if (!names) return removed;
    for (const auto& n : *names) {
        if (n.rfind(kWorkPrefix, 0) != 0) continue;
        // ".build-PID-START-RAND"
        std::string rest = n.substr(std::string(kWorkPrefix).size());
        size_t last = rest.rfind('-');
        if (last == std::string::npos) continue;
        auto owner = parse_owner(rest.substr(0, last), '-');
        if (!owner || owner->alive()) continue;
        // The layers it added that no image names went with the build that never stored one.
        if (auto journal = read_file(layers + "/" + n + "/" + kLayersJournal); journal) {
            std::vector<std::string> made;
            std::istringstream in(*journal);
            for (std::string line; std::getline(in, line);)
                if (line.rfind("sha256:", 0) == 0 && line.size() == 71 &&
                    line.find_first_not_of("0123456789abcdef", 7) == std::string::npos)
                    made.push_back(line);
            removed += engine.images().remove_unused_layers(made);
        }
        if (remove_tree(layers + "/" + n)) ++removed;
    }
    return removed;
}

Result<std::string> build_image(Engine& engine, const BuildOptions& options, std::ostream& out) {
    Builder b(engine, options, out);
    return b.run();
}

}  // namespace isolab
