#include "sim/engine/images.hpp"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <sstream>
#include <utility>

#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/core/process.hpp"
#include "sim/engine/layer_archive.hpp"
#include "sim/engine/reference.hpp"

namespace isolab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string to_hex(const unsigned char* d, unsigned n) {
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < n; ++i) {
        out += hex[d[i] >> 4];
        out += hex[d[i] & 15];
    }
    return out;
}

class Sha256 {
public:
    Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
    ~Sha256() { EVP_MD_CTX_free(ctx_); }
    void update(const void* p, size_t n) { EVP_DigestUpdate(ctx_, p, n); }
    void update(const std::string& s) { update(s.data(), s.size()); }
    std::string hex() {
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned n = 0;
        EVP_DigestFinal_ex(ctx_, d, &n);
        return to_hex(d, n);
    }

private:
    EVP_MD_CTX* ctx_;
};

constexpr const char* kNotFound = "Unable to find image '";

// The error of `docker tag/rmi/history` for REF: "No such image" when resolve() found nothing,
// else resolve()'s own error (a tags file that could not be read is not a missing image).
Error no_such_image(const Error& resolved, const std::string& full_ref) {
    if (resolved.message.rfind(kNotFound, 0) == 0) return make_error("No such image: " + full_ref, 1);
    return resolved;
}

std::vector<std::string> json_strings(const json& j, const char* key) {
    if (!j.contains("config") || !j["config"].contains(key) || !j["config"][key].is_array()) return {};
    return j["config"][key].get<std::vector<std::string>>();
}

}  // namespace

Result<std::string> run_capture(const std::vector<std::string>& argv) {
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) return errno_error("pipe", errno);
    Argv child(argv);
    pid_t pid = ::fork();
    if (pid < 0) return errno_error("fork", errno);
    if (pid == 0) {
        ::dup2(pipefd[1], 1);
        child.exec();
    }
    ::close(pipefd[1]);
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(pipefd[0]);
    if (wait_exit_code(pid) != 0) return make_error("`" + argv[0] + "` failed");
    return out;
}

std::string sha256_hex(const std::string& data) {
    Sha256 h;
    h.update(data);
    return h.hex();
}

Result<std::string> tree_digest(const std::string& dir) {
    std::vector<std::string> entries;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::none, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
        entries.push_back(fs::relative(it->path(), dir).string());
    if (ec) return make_error("digest `" + dir + "`: " + ec.message());
    std::sort(entries.begin(), entries.end());
    Sha256 h;
    for (const auto& rel : entries) {
        std::string p = dir + "/" + rel;
        struct stat st;
        if (::lstat(p.c_str(), &st) != 0) return errno_error("digest `" + p + "`", errno);
        std::ostringstream line;
        line << rel << '\0' << std::oct << (st.st_mode & 07777) << '\0' << (st.st_mode & S_IFMT) << '\0';
        h.update(line.str());
        if (S_ISLNK(st.st_mode)) {
            h.update(fs::read_symlink(p, ec).string());
        } else if (S_ISREG(st.st_mode)) {
            auto content = read_file(p);
            if (!content) return content.error();
            h.update(sha256_hex(*content));
        }
    }
    return h.hex();
}

Result<json> ImageStore::repositories() const {
    const std::string path = dir_ + "/repositories.json";
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        if (errno == ENOENT) return json::object();  // no tag yet (or the last file was moved aside)
        return errno_error("image tags: read `" + path + "`", errno);
    }
    auto text = read_file("/proc/self/fd/" + std::to_string(fd.get()));
    if (!text) return text.error().wrap("image tags");
    json repos = json::parse(*text, nullptr, false);
    std::string why;
    if (repos.is_discarded()) why = text->empty() ? "the file is empty" : "not valid JSON";
    else if (!repos.is_object()) why = "not a JSON object";
    for (auto it = repos.begin(); why.empty() && it != repos.end(); ++it)
        if (!it->is_string() || it->get<std::string>().rfind("sha256:", 0) != 0)
            why = "the tag `" + it.key() + "` does not name an image id";
    if (why.empty()) return repos;
    // Moved aside only while it is still the file that was read (a writer may have replaced it).
    // Moved aside only while it is still the file that was read (a writer may have replaced it);
    // the warning is queued here, where it happens once, whatever the caller does with the error.
    struct stat read_st, now_st;
    const std::string bad = path + ".bad";
    if (::fstat(fd.get(), &read_st) == 0 && ::stat(path.c_str(), &now_st) == 0 &&
        (read_st.st_ino != now_st.st_ino || read_st.st_dev != now_st.st_dev))
        return make_error("image tags `" + path + "` changed while they were read: nothing was changed, run the command again", 1);
    if (::rename(path.c_str(), bad.c_str()) != 0)
        return make_error("image tags `" + path + "` are corrupt (" + why + ") and could not be moved aside (" +
                              std::strerror(errno) + "): move the file away; the images stay, untagged",
                          1);
    {
        std::lock_guard<std::mutex> g(warnings_->mu);
        warnings_->items.push_back("the image tags `" + path + "` were corrupt (" + why + "); they were moved to `" + bad +
                                   "`: the images are kept, untagged (`isolab tag IMAGE-ID NAME` names one again)");
    }
    return make_error("image tags `" + path + "` were corrupt: nothing was changed; run the command again", 1);
}

Status ImageStore::save_repositories(const json& repos) const {
    return write_file_atomic(dir_ + "/repositories.json", repos.dump(2) + "\n");
}

json ImageStore::repo_digests() const {
    auto text = read_file(dir_ + "/repo-digests.json");
    if (!text) return json::object();
    auto j = json::parse(*text, nullptr, false);
    return j.is_object() ? j : json::object();
}

Status ImageStore::add_repo_digest(const std::string& repo_digest, const std::string& image_id) {
    auto lock = FileLock::acquire(dir_ + "/lock");
    if (!lock) return lock.error();
    json all = repo_digests();
    all[repo_digest] = image_id;
    return write_file_atomic(dir_ + "/repo-digests.json", all.dump(2) + "\n");
}

std::vector<std::string> ImageStore::take_warnings() {
    std::lock_guard<std::mutex> g(warnings_->mu);
    return std::exchange(warnings_->items, {});
}

Status ImageStore::remove_layer_dir(const std::string& path) {
    if (std::string tar = original_layer_tar(path); !tar.empty() && ::unlink(tar.c_str()) != 0 && errno != ENOENT)
        return errno_error("remove `" + tar + "`", errno);
    return remove_tree(path);
}

std::vector<std::string> Image::cmd() const { return json_strings(config, "Cmd"); }
std::vector<std::string> Image::entrypoint() const { return json_strings(config, "Entrypoint"); }
std::vector<std::string> Image::env() const { return json_strings(config, "Env"); }
std::string Image::workdir() const {
    return config.contains("config") ? config["config"].value("WorkingDir", "") : "";
}
std::string Image::user() const {
    return config.contains("config") ? config["config"].value("User", "") : "";
}

ImageStore::ImageStore(std::string images_dir, std::string busybox_path)
    : dir_(std::move(images_dir)), busybox_path_(std::move(busybox_path)) {}

std::string ImageStore::normalize_ref(const std::string& ref) {
    // The familiar name with a tag (reference.hpp), the tags file's key: `busybox` and
    // `docker.io/library/busybox` are both `busybox:latest`. Text that is no reference (an id,
    // a digest reference) keeps the old rule.
    if (auto parsed = parse_reference_with_default_tag(ref); parsed && parsed->digest.empty()) return parsed->familiar();
    size_t slash = ref.rfind('/');
    size_t colon = ref.rfind(':');
    if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) return ref + ":latest";
    return ref;
}

Result<Image> ImageStore::load(const std::string& hex) const {
    auto text = read_file(dir_ + "/configs/" + hex + ".json");
    if (!text) return text.error();
    auto j = json::parse(*text, nullptr, false);
    if (j.is_discarded()) return make_error("image sha256:" + hex + ": corrupt config");
    Image img;
    img.id = "sha256:" + hex;
    img.config = j;
    if (j.contains("rootfs") && j["rootfs"].contains("diff_ids"))
        for (const auto& d : j["rootfs"]["diff_ids"]) {
            std::string id = d.get<std::string>();
            img.layer_dirs.push_back(dir_ + "/layers/" + id.substr(id.find(':') + 1));
        }
    // Read-only: a tags file that cannot be read leaves the image untagged here (the failed read
    // moved it aside and queued the warning); writers stop at the error.
    auto repos = repositories();
    if (repos)
        for (auto& [tag, id] : repos->items())
            if (id == img.id) img.repo_tags.push_back(tag);
    const json digests = repo_digests();  // a named object: items() refers into it
    for (auto& [name, id] : digests.items())
        if (id.is_string() && id.get<std::string>() == img.id) img.repo_digests.push_back(name);
    return img;
}

Result<Image> ImageStore::resolve(const std::string& ref) {
    std::string full = normalize_ref(ref);
    // The familiar spelling of REF (reference.hpp): `docker.io/library/busybox` is `busybox:latest`.
    std::string familiar = full;
    if (auto parsed = parse_reference_with_default_tag(ref); parsed && parsed->digest.empty())
        familiar = parsed->familiar();
    if (full == "busybox:latest" || familiar == "busybox:latest") ISOLAB_TRY(ensure_busybox());
    if (full == "scratch:latest") {
        Image img;
        img.id = "scratch";
        img.repo_tags = {"scratch:latest"};
        img.config = {{"architecture", "amd64"}, {"os", "linux"}, {"config", json::object()},
                      {"rootfs", {{"type", "layers"}, {"diff_ids", json::array()}}}};
        return img;
    }
    auto repos = repositories();
    if (!repos) return repos.error();
    if (repos->contains(full)) {
        std::string id = (*repos)[full].get<std::string>();
        return load(id.substr(id.find(':') + 1));
    }
    if (familiar != full && repos->contains(familiar)) {
        std::string id = (*repos)[familiar].get<std::string>();
        return load(id.substr(id.find(':') + 1));
    }
    // `name@sha256:…`: the image a pull by that digest (or of a tag that had it) stored.
    if (auto parsed = parse_reference(ref); parsed && !parsed->digest.empty()) {
        json digests = repo_digests();
        std::string key = parsed->familiar_name() + "@" + parsed->digest;
        if (digests.contains(key) && digests[key].is_string()) {
            std::string id = digests[key].get<std::string>();
            std::string hex = id.substr(id.find(':') + 1);
            if (path_exists(dir_ + "/configs/" + hex + ".json")) return load(hex);
        }
    }
    // An image id or a unique prefix of one.
    std::string want = ref.rfind("sha256:", 0) == 0 ? ref.substr(7) : ref;
    if (want.size() >= 4 && want.find_first_not_of("0123456789abcdef") == std::string::npos) {
        std::string found;
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(dir_ + "/configs", ec)) {
            std::string stem = e.path().stem().string();
            if (stem.compare(0, want.size(), want) == 0) {
                if (!found.empty()) return make_error("multiple images found with prefix: " + ref);
                found = stem;
            }
        }
        if (!found.empty()) return load(found);
    }
    return make_error(kNotFound + full + "' locally (IsoLab works offline: build it "
                      "with `isolab build -t " + full + " DIR`, or use `busybox`)", 125);
}

std::vector<Image> ImageStore::list() const {
    std::vector<Image> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_ + "/configs", ec)) {
        if (e.path().extension() != ".json") continue;
        auto img = load(e.path().stem().string());
        if (img) out.push_back(std::move(*img));
    }
    return out;
}

bool ImageStore::valid_reference(const std::string& ref) {
    auto parsed = parse_reference(ref);
    return parsed && parsed->digest.empty();
}

std::string ImageStore::layer_path(const std::string& diff_id) const {
    return dir_ + "/layers/" + diff_id.substr(diff_id.find(':') + 1);
}

Result<std::string> ImageStore::add_layer(const std::string& src, bool move, const std::string& original_tar) {
    ISOLAB_TRY(make_dirs(dir_ + "/layers"));
    std::string claimed;  // the diff_id of ORIGINAL_TAR
    if (!original_tar.empty()) {
        auto digest = file_diff_id(original_tar);
        if (!digest) return digest.error().wrap("add layer `" + src + "`");
        claimed = *digest;
    }
    std::string tmp = dir_ + "/layers/" + owned_scratch_name(".add");
    if (!move || ::rename(src.c_str(), tmp.c_str()) != 0) {
        if (move && errno != EXDEV) return errno_error("move layer `" + src + "`", errno);
        ISOLAB_TRY(make_dirs(tmp));
        // cp -a keeps what a layer must keep: whiteout devices, the opaque-directory xattr, modes,
        // owners, times and symlinks.
        auto copied = run_capture({"/bin/cp", "-a", src + "/.", tmp + "/"});
        if (!copied) {
            (void)remove_tree(tmp);
            return copied.error().wrap("copy layer `" + src + "`");
        }
        if (move) (void)remove_tree(src);
    }
    auto tar = write_layer_tar(tmp, "");
    if (!tar) {
        (void)remove_tree(tmp);
        return tar.error();
    }
    const std::string diff_id = claimed.empty() ? tar->diff_id : claimed;
    std::string layer = layer_path(diff_id);
    // A layer whose own tar is not the one it came with keeps that one: its digest is the layer's
    // name in every config that uses it. The tar goes in first: a crash then leaves a spare tar,
    // never a layer that `save` could not write with its digest.
    if (diff_id != tar->diff_id && original_layer_tar(layer).empty()) {
        std::string kept = layer + ".tar", part = kept + ".tmp." + std::to_string(::getpid());
        bool moved = move && ::rename(original_tar.c_str(), part.c_str()) == 0;
        if (!moved) {
            std::error_code ec;
            fs::copy_file(original_tar, part, fs::copy_options::overwrite_existing, ec);
            if (ec) {
                (void)remove_tree(tmp);
                ::unlink(part.c_str());
                return make_error("add layer `" + layer + "`: copy `" + original_tar + "`: " + ec.message());
            }
        }
        ::chmod(part.c_str(), 0600);
        if (::rename(part.c_str(), kept.c_str()) != 0) {
            int err = errno;
            (void)remove_tree(tmp);
            ::unlink(part.c_str());
            return errno_error("add layer `" + kept + "`", err);
        }
    }
    if (path_exists(layer)) {
        (void)remove_tree(tmp);
    } else if (::rename(tmp.c_str(), layer.c_str()) != 0) {
        int err = errno;
        (void)remove_tree(tmp);
        return errno_error("add layer `" + layer + "`", err);
    }
    return diff_id;
}

Result<std::string> ImageStore::store_config(const std::string& bytes, const std::vector<std::string>& tags) {
    auto j = json::parse(bytes, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return make_error("image config: not a JSON object");
    if (j.contains("rootfs") && j["rootfs"].contains("diff_ids"))
        for (const auto& d : j["rootfs"]["diff_ids"])
            if (!d.is_string() || !path_exists(layer_path(d.get<std::string>())))
                return make_error("image config names layer " + d.dump() + ", which is not in the store");
    for (const auto& t : tags)
        if (!valid_reference(t))
            return make_error("invalid reference format: repository name (" + t + ") must be lowercase", 125);
    ISOLAB_TRY(make_dirs(dir_ + "/configs"));
    std::string hex = sha256_hex(bytes);
    std::string path = dir_ + "/configs/" + hex + ".json";
    if (!path_exists(path)) ISOLAB_TRY(write_file_atomic(path, bytes));
    if (!tags.empty()) {
        auto lock = FileLock::acquire(dir_ + "/lock");
        if (!lock) return lock.error();
        auto repos = repositories();
        if (!repos) return repos.error();
        for (const auto& t : tags) (*repos)[normalize_ref(t)] = "sha256:" + hex;
        ISOLAB_TRY(save_repositories(*repos));
    }
    return "sha256:" + hex;
}

Result<std::string> ImageStore::config_bytes(const Image& image) const {
    if (image.id == "scratch") return make_error("'scratch' is a reserved name: it has no content to save", 1);
    return read_file(dir_ + "/configs/" + image.id.substr(image.id.find(':') + 1) + ".json");
}

int ImageStore::remove_unused_layers(const std::vector<std::string>& candidates) {
    std::vector<std::string> used;
    for (const auto& img : list()) used.insert(used.end(), img.layer_dirs.begin(), img.layer_dirs.end());
    int removed = 0;
    for (const auto& c : candidates) {
        std::string path = c.rfind("sha256:", 0) == 0 ? layer_path(c) : c;
        if (std::find(used.begin(), used.end(), path) != used.end() || !path_exists(path)) continue;
        if (remove_layer_dir(path)) ++removed;
    }
    return removed;
}

int64_t ImageStore::layer_size(const std::string& dir) {
    int64_t bytes = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
        if (!it->is_symlink(ec) && it->is_regular_file(ec)) bytes += static_cast<int64_t>(it->file_size(ec));
    return bytes;
}

Status ImageStore::tag(const std::string& source, const std::string& target) {
    if (!valid_reference(target))
        return make_error("invalid reference format: repository name (" + target + ") must be lowercase", 125);
    auto img = resolve(source);
    if (!img) return no_such_image(img.error(), normalize_ref(source));
    if (img->id == "scratch") return make_error("'scratch' is a reserved name and cannot be tagged", 1);
    auto lock = FileLock::acquire(dir_ + "/lock");
    if (!lock) return lock.error();
    auto repos = repositories();
    if (!repos) return repos.error();
    (*repos)[normalize_ref(target)] = img->id;
    return save_repositories(*repos);
}

Status ImageStore::remove(const std::string& ref, std::vector<std::string>* report, bool keep_content) {
    auto img = resolve(ref);
    if (!img) return no_such_image(img.error(), normalize_ref(ref));
    auto lock = FileLock::acquire(dir_ + "/lock");
    if (!lock) return lock.error();
    auto read = repositories();
    if (!read) return read.error();
    json& repos = *read;
    std::string name = normalize_ref(ref);
    bool by_tag = repos.contains(name);
    if (by_tag) {
        repos.erase(name);
        report->push_back("Untagged: " + name);
    } else {
        for (auto it = repos.begin(); it != repos.end();)
            if (*it == img->id) {
                report->push_back("Untagged: " + it.key());
                it = repos.erase(it);
            } else {
                ++it;
            }
    }
    ISOLAB_TRY(save_repositories(repos));
    if (keep_content) return {};
    for (const auto& [tag, id] : repos.items())
        if (id == img->id) return {};  // other tags still name the image: only the tag goes
    // The last name is gone: delete the config and the layers no other image uses.
    std::vector<std::string> used;
    for (const auto& other : list())
        if (other.id != img->id) used.insert(used.end(), other.layer_dirs.begin(), other.layer_dirs.end());
    ::unlink((dir_ + "/configs/" + img->id.substr(7) + ".json").c_str());
    report->push_back("Deleted: " + img->id);
    for (const auto& layer : img->layer_dirs) {
        if (std::find(used.begin(), used.end(), layer) != used.end()) continue;
        (void)remove_layer_dir(layer);
        report->push_back("Deleted: sha256:" + fs::path(layer).filename().string());
    }
    return {};
}

Result<std::string> ImageStore::commit(const Image& parent, const std::string& diff_dir, const std::string& tag,
                                      const std::string& created_by, const std::string& comment,
                                      const json& settings, const std::string& author) {
    if (!tag.empty() && !valid_reference(tag))
        return make_error("invalid reference format: repository name (" + tag + ") must be lowercase", 125);
    auto diff_id = add_layer(diff_dir, false);
    if (!diff_id) return diff_id.error().wrap("commit");
    json config = parent.config;
    std::string now = now_rfc3339();
    config["created"] = now;
    config["config"] = settings.is_object() ? settings : json::object();
    if (!config.contains("rootfs")) config["rootfs"] = {{"type", "layers"}, {"diff_ids", json::array()}};
    config["rootfs"]["diff_ids"].push_back(*diff_id);
    json entry = {{"created", now}, {"created_by", created_by}};
    if (!comment.empty()) entry["comment"] = comment;
    if (!author.empty()) entry["author"] = author;
    config.erase("author");  // the parent's is not this image's (Docker writes the one given, or none)
    if (!author.empty()) config["author"] = author;
    if (!config.contains("history")) config["history"] = json::array();
    config["history"].push_back(entry);
    std::vector<std::string> tags;
    if (!tag.empty()) tags.push_back(tag);
    return store_config(config.dump(2) + "\n", tags);
}

std::vector<ImageStore::BuildCacheEntry> ImageStore::build_cache() const {
    std::vector<BuildCacheEntry> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_ + "/build-cache", ec)) {
        std::string key = e.path().filename().string();
        // Only finished entries: the builder writes each one atomically through a scratch name.
        if (key.size() != 64 || key.find_first_not_of("0123456789abcdef") != std::string::npos) continue;
        struct stat st{};
        if (::lstat(e.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        BuildCacheEntry entry;
        entry.key = key;
        entry.size = st.st_size;
        entry.modified_unix = st.st_mtim.tv_sec;
        auto text = read_file(e.path().string());
        auto j = text ? json::parse(*text, nullptr, false) : json();
        const json diff_ids = j.is_object() ? j.value("config", json::object()).value("rootfs", json::object())
                                                   .value("diff_ids", json::array())
                                            : json::array();
        entry.dangling = !j.is_object();
        for (const auto& d : diff_ids)
            if (!d.is_string() || !path_exists(layer_path(d.get<std::string>()))) entry.dangling = true;
        out.push_back(std::move(entry));
    }
    std::sort(out.begin(), out.end(), [](const BuildCacheEntry& a, const BuildCacheEntry& b) { return a.key < b.key; });
    return out;
}

Status ImageStore::remove_build_cache(const std::string& key) {
    if (key.size() != 64 || key.find_first_not_of("0123456789abcdef") != std::string::npos)
        return make_error("not a build cache key: " + key);
    std::string path = dir_ + "/build-cache/" + key;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return errno_error("remove `" + path + "`", errno);
    return {};
}

Result<std::vector<ImageStore::HistoryRow>> ImageStore::history(const std::string& ref) {
    auto img = resolve(ref);
    if (!img) return no_such_image(img.error(), normalize_ref(ref));
    std::vector<HistoryRow> rows;
    size_t layer = 0;
    for (const auto& h : img->config.value("history", json::array())) {
        HistoryRow row;
        row.created = h.value("created", "");
        row.created_by = h.value("created_by", "");
        row.comment = h.value("comment", "");
        row.empty_layer = h.value("empty_layer", false);
        if (!row.empty_layer && layer < img->layer_dirs.size()) row.size = layer_size(img->layer_dirs[layer++]);
        rows.push_back(row);
    }
    std::reverse(rows.begin(), rows.end());
    return rows;
}

Status ImageStore::ensure_busybox() {
    ISOLAB_TRY(make_dirs(dir_ + "/configs"));
    ISOLAB_TRY(make_dirs(dir_ + "/layers"));
    auto lock = FileLock::acquire(dir_ + "/lock");
    if (!lock) return lock.error();
    auto read = repositories();
    if (!read) return read.error();
    json& repos = *read;
    // Layout 1 named layers by a tree digest; since layout 2 a layer's name is its OCI diff_id.
    // An old busybox entry is rebuilt (its old layer stays for the containers that use it).
    auto layout = read_file(dir_ + "/layout");
    bool current_layout = layout && trim(*layout) == "2";
    if (repos.contains("busybox:latest") && current_layout) {
        std::string id = repos["busybox:latest"].get<std::string>();
        if (path_exists(dir_ + "/configs/" + id.substr(7) + ".json")) return {};
    }
    // A busybox the container can run must not need the host's dynamic loader or libc.
    if (elf_is_static(busybox_path_) != 1)
        return make_error("base image busybox: `" + busybox_path_ +
                          "` is missing or not statically linked: apt-get install busybox-static");

    // Build the layer in a scratch directory, then rename it to its digest: a crash leaves only
    // a scratch directory, never a half-built layer under a real name.
    std::string tmp = dir_ + "/layers/" + owned_scratch_name(".base");
    ISOLAB_TRY(make_dirs(tmp));
    auto fail = [&](Error e) { (void)remove_tree(tmp); return e; };
    for (const char* d : {"bin", "sbin", "usr/bin", "usr/sbin", "etc", "dev", "proc", "sys", "tmp",
                          "root", "home", "var/www", "var/log", "run"})
        if (auto s = make_dirs(tmp + "/" + d); !s) return fail(s.error());
    ::chmod((tmp + "/tmp").c_str(), 01777);
    ::chmod((tmp + "/root").c_str(), 0700);
    std::error_code ec;
    fs::copy_file(busybox_path_, tmp + "/bin/busybox", ec);
    if (ec) return fail(make_error("copy `" + busybox_path_ + "`: " + ec.message()));
    ::chmod((tmp + "/bin/busybox").c_str(), 0755);
    auto applets = run_capture({busybox_path_, "--list-full"});
    if (!applets) return fail(applets.error().wrap("list busybox applets"));
    std::istringstream in(*applets);
    for (std::string rel; std::getline(in, rel);) {
        rel = trim(rel);
        if (rel.empty() || rel == "bin/busybox") continue;
        std::string link = tmp + "/" + rel;
        (void)make_dirs(fs::path(link).parent_path().string());
        ::symlink("/bin/busybox", link.c_str());
    }
    ISOLAB_TRY(write_file(tmp + "/etc/passwd",
                          "root:x:0:0:root:/root:/bin/sh\n"
                          "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
                          "www-data:x:33:33:www-data:/var/www:/bin/false\n"
                          "nobody:x:65534:65534:nobody:/home:/bin/false\n"));
    ISOLAB_TRY(write_file(tmp + "/etc/group",
                          "root:x:0:\ndaemon:x:1:\ntty:x:5:\nwww-data:x:33:\nnogroup:x:65534:\n"));
    for (const char* f : {"etc/hostname", "etc/hosts", "etc/resolv.conf"})
        ISOLAB_TRY(write_file(tmp + "/" + f, ""));
    ISOLAB_TRY(write_file(tmp + "/var/www/index.html",
                          "<h1>Hello from IsoLab</h1>\n<p>served by busybox httpd</p>\n"));

    // Every entry gets the busybox binary's time, so that the layer's tar, and with it the
    // diff_id and the image id, are the same on every machine with the same busybox.
    struct stat bst;
    if (::stat(busybox_path_.c_str(), &bst) == 0) {
        std::vector<std::string> paths;
        std::error_code ec;
        for (auto it = fs::recursive_directory_iterator(tmp, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
            paths.push_back(it->path().string());
        paths.push_back(tmp);
        std::sort(paths.rbegin(), paths.rend());  // children before their directory
        struct timespec times[2] = {bst.st_mtim, bst.st_mtim};
        for (const auto& p : paths) ::utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW);
    }
    auto diff_id = add_layer(tmp, true);
    if (!diff_id) return fail(diff_id.error());
    auto version = run_capture({busybox_path_});
    std::string first_line = version ? version->substr(0, version->find('\n')) : "BusyBox";
    // The image's time is the busybox binary's: the same busybox always gives the same image id.
    std::string created = now_rfc3339();
    if (::stat(busybox_path_.c_str(), &bst) == 0) {
        char buf[40];
        struct tm tm;
        ::gmtime_r(&bst.st_mtime, &tm);
        std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
        created = buf;
    }
    json config = {
        {"architecture", "amd64"},
        {"os", "linux"},
        {"created", created},
        {"config",
         {{"Env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
          {"Cmd", {"sh"}},
          {"WorkingDir", ""},
          {"Labels", {{"org.isolab.source", "Debian busybox-static: " + first_line}}}}},
        {"rootfs", {{"type", "layers"}, {"diff_ids", {*diff_id}}}},
        {"history", {{{"created", created},
                      {"created_by", "isolab: ADD busybox-static (" + busybox_path_ + ") in /"}},
                     {{"created", created},
                      {"created_by", "isolab: CMD [\"sh\"]"},
                      {"empty_layer", true}}}},
    };
    std::string text = config.dump(2) + "\n";
    std::string hex = sha256_hex(text);
    ISOLAB_TRY(write_file_atomic(dir_ + "/configs/" + hex + ".json", text));
    repos["busybox:latest"] = "sha256:" + hex;
    ISOLAB_TRY(save_repositories(repos));
    return write_file_atomic(dir_ + "/layout", "2\n");
}

}  // namespace isolab
