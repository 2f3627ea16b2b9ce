#include "sim/engine/archive_handles.hpp"
#include "sim/engine/image_archive.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/engine/layer_archive.hpp"

namespace isolab {

using nlohmann::json;

namespace {

constexpr const char* kManifestType = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* kIndexType = "application/vnd.oci.image.index.v1+json";
constexpr const char* kConfigType = "application/vnd.oci.image.config.v1+json";
constexpr const char* kLayerType = "application/vnd.oci.image.layer.v1.tar";
constexpr const char* kDockerManifestType = "application/vnd.docker.distribution.manifest.v2+json";
constexpr const char* kDockerListType = "application/vnd.docker.distribution.manifest.list.v2+json";
constexpr const char* kRefNameAnnotation = "org.opencontainers.image.ref.name";
constexpr const char* kContainerdNameAnnotation = "io.containerd.image.name";
// index.json, manifests and configs are read into memory; nothing legitimate comes near this.
constexpr int64_t kMaxJsonBytes = 32 << 20;

using archive_handles::ArchiveReader;
using archive_handles::ArchiveWriter;
using archive_handles::Entry;
using archive_handles::archive_message;

std::string sha256_of(const std::string& bytes) {
    Sha256Stream h;
    h.update(bytes);
    return h.hex();
}

bool is_hex64(const std::string& s) {
    if (s.size() != 64) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

// Removes a temporary path on every exit unless disarmed.
class TreeGuard {
public:
    explicit TreeGuard(std::string path) : path_(std::move(path)) {}
    ~TreeGuard() {
        if (!path_.empty()) (void)remove_tree(path_);
    }
    void disarm() { path_.clear(); }

private:
    std::string path_;
};

// ---------------------------------------------------------------------------------------------
// save

struct Blob {
    std::string hex;
    int64_t size = 0;
    std::string file;   // temp file holding the bytes, or
    std::string bytes;  // the bytes themselves (config, manifest)
};

json descriptor(const char* media_type, const Blob& b) {
    return json{{"mediaType", media_type}, {"digest", "sha256:" + b.hex}, {"size", b.size}};
}

struct OutSink {
    int fd = -1;
};

la_ssize_t out_write(struct archive* a, void* client, const void* buf, size_t n) {
    auto* sink = static_cast<OutSink*>(client);
    const char* p = static_cast<const char*>(buf);
    size_t left = n;
    while (left > 0) {
        ssize_t w = ::write(sink->fd, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            archive_set_error(a, errno, "write: %s", std::strerror(errno));
            return -1;
        }
        p += w;
        left -= static_cast<size_t>(w);
    }
    return static_cast<la_ssize_t>(n);
}

// Every entry of the outer archive: root-owned, mtime 0, so the same images give the same archive.
Entry plain_entry(const std::string& name, mode_t type, int64_t size) {
    Entry e(archive_entry_new());
    archive_entry_copy_pathname(e.get(), name.c_str());
    archive_entry_set_filetype(e.get(), type);
    archive_entry_set_perm(e.get(), type == AE_IFDIR ? 0755 : 0644);
    archive_entry_set_size(e.get(), type == AE_IFDIR ? 0 : size);
    archive_entry_set_mtime(e.get(), 0, 0);
    return e;
}

Status add_bytes(struct archive* a, const std::string& name, const std::string& bytes) {
    Entry e = plain_entry(name, AE_IFREG, static_cast<int64_t>(bytes.size()));
    if (archive_write_header(a, e.get()) < ARCHIVE_WARN ||
        (!bytes.empty() && archive_write_data(a, bytes.data(), bytes.size()) < 0))
        return make_error("write `" + name + "`: " + archive_message(a));
    return {};
}

Status add_dir(struct archive* a, const std::string& name) {
    Entry e = plain_entry(name, AE_IFDIR, 0);
    if (archive_write_header(a, e.get()) < ARCHIVE_WARN)
        return make_error("write `" + name + "`: " + archive_message(a));
    return {};
}

Status add_file(struct archive* a, const std::string& name, const std::string& file, int64_t size) {
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return errno_error("open `" + file + "`", errno);
    Entry e = plain_entry(name, AE_IFREG, size);
    if (archive_write_header(a, e.get()) < ARCHIVE_WARN) return make_error("write `" + name + "`: " + archive_message(a));
    std::vector<char> buf(1 << 16);
    int64_t total = 0;
    for (;;) {
        ssize_t n = ::read(fd.get(), buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno_error("read `" + file + "`", errno);
        }
        if (n == 0) break;
        total += n;
        if (archive_write_data(a, buf.data(), static_cast<size_t>(n)) < 0)
            return make_error("write `" + name + "`: " + archive_message(a));
    }
    if (total != size) return make_error("`" + file + "` changed while it was archived");
    return {};
}

Result<std::vector<std::string>> config_diff_ids(const std::string& config_bytes, const std::string& what) {
    json config = json::parse(config_bytes, nullptr, false);
    if (config.is_discarded() || !config.is_object()) return make_error(what + ": the config is not a JSON object");
    const json* ids = nullptr;
    if (config.contains("rootfs") && config["rootfs"].is_object() && config["rootfs"].contains("diff_ids"))
        ids = &config["rootfs"]["diff_ids"];
    if (!ids || !ids->is_array()) return make_error(what + ": the config has no rootfs.diff_ids list");
    std::vector<std::string> out;
    for (const auto& d : *ids) {
        if (!d.is_string()) return make_error(what + ": rootfs.diff_ids holds a non-string");
        out.push_back(d.get<std::string>());
    }
    return out;
}

std::string image_label(const ArchiveImage& img, const std::string& config_hex) {
    return img.repo_tags.empty() ? "image sha256:" + config_hex.substr(0, 12) : "image `" + img.repo_tags[0] + "`";
}

// ---------------------------------------------------------------------------------------------
// load

struct StoredFile {
    std::string file;  // temp file
    std::string hex;   // sha256 of the content
    int64_t size = 0;
};

// The archive's table of contents after one streaming pass: regular files land in temp files,
// links are remembered by name.
struct ArchiveFiles {
    std::map<std::string, StoredFile> files;
    std::map<std::string, std::string> links;  // name → target name (symlinks resolved lexically)

    const StoredFile* find(std::string name) const {
        for (int hop = 0; hop < 16; ++hop) {
            auto f = files.find(name);
            if (f != files.end()) return &f->second;
            auto l = links.find(name);
            if (l == links.end()) return nullptr;
            name = l->second;
        }
        return nullptr;
    }
};

// Lexical normalisation of a name inside the archive: no "./", no empty or "." components, ".."
// pops (never above the archive root). These names index the table above; nothing is written to
// disk under them.
std::string clean_name(const std::string& name) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= name.size()) {
        size_t end = name.find('/', start);
        if (end == std::string::npos) end = name.size();
        std::string comp = name.substr(start, end - start);
        start = end + 1;
        if (comp.empty() || comp == ".") continue;
        if (comp == "..") {
            if (!parts.empty()) parts.pop_back();
            continue;
        }
        parts.push_back(comp);
    }
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : "/") + p;
    return out;
}

Status read_archive(const std::string& in_path, const std::string& tmp_dir, ArchiveFiles* out) {
    ArchiveReader a(archive_read_new());
    if (!a) return make_error("libarchive: out of memory");
    archive_read_support_format_tar(a.get());
    archive_read_support_filter_gzip(a.get());
    archive_read_support_filter_zstd(a.get());
    archive_read_support_filter_xz(a.get());
    int r = in_path == "-" ? archive_read_open_fd(a.get(), 0, 1 << 16)
                           : archive_read_open_filename(a.get(), in_path.c_str(), 1 << 16);
    if (r != ARCHIVE_OK) return make_error(archive_message(a.get()));
    int n = 0;
    std::vector<char> buf(1 << 16);
    for (;;) {
        struct archive_entry* e = nullptr;
        r = archive_read_next_header(a.get(), &e);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN) return make_error(archive_message(a.get()));
        std::string name = clean_name(archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
        if (name.empty()) continue;
        if (const char* hl = archive_entry_hardlink(e)) {
            out->links[name] = clean_name(hl);
            continue;
        }
        mode_t type = archive_entry_filetype(e);
        if (type == AE_IFLNK) {
            std::string target = archive_entry_symlink(e) ? archive_entry_symlink(e) : "";
            size_t slash = name.rfind('/');
            std::string dir = slash == std::string::npos ? "" : name.substr(0, slash);
            out->links[name] = clean_name(target.rfind('/', 0) == 0 ? target : dir + "/" + target);
            continue;
        }
        if (type != AE_IFREG) continue;
        StoredFile sf;
        sf.file = tmp_dir + "/" + std::to_string(n++);
        UniqueFd fd(::open(sf.file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (!fd.valid()) return errno_error("create `" + sf.file + "`", errno);
        Sha256Stream h;
        for (;;) {
            la_ssize_t got = archive_read_data(a.get(), buf.data(), buf.size());
            if (got < 0) return make_error("`" + name + "`: " + archive_message(a.get()));
            if (got == 0) break;
            h.update(buf.data(), static_cast<size_t>(got));
            sf.size += got;
            size_t off = 0;
            while (off < static_cast<size_t>(got)) {
                ssize_t w = ::write(fd.get(), buf.data() + off, static_cast<size_t>(got) - off);
                if (w < 0) {
                    if (errno == EINTR) continue;
                    return errno_error("write `" + sf.file + "`", errno);
                }
                off += static_cast<size_t>(w);
            }
        }
        sf.hex = h.hex();
        // A later entry with the same name replaces the earlier one, as tar extraction would.
        out->files[name] = std::move(sf);
    }
    return {};
}

Result<std::string> read_small(const StoredFile& f, const std::string& what) {
    if (f.size > kMaxJsonBytes) return make_error(what + " is " + std::to_string(f.size) + " bytes, too big for JSON metadata");
    return read_file(f.file);
}

Result<json> read_json(const StoredFile& f, const std::string& what) {
    auto bytes = read_small(f, what);
    ISOLAB_TRY(bytes);
    json j = json::parse(*bytes, nullptr, false);
    if (j.is_discarded()) return make_error(what + " is not valid JSON");
    return j;
}

// "sha256:<hex>" → <hex>, or an error naming WHAT.
Result<std::string> digest_hex(const json& d, const std::string& what) {
    if (!d.is_string()) return make_error(what + " has no digest");
    std::string s = d.get<std::string>();
    if (s.rfind("sha256:", 0) != 0)
        return make_error(what + " has digest `" + s + "`: only sha256 digests are supported");
    std::string hex = s.substr(7);
    if (!is_hex64(hex)) return make_error(what + " has a malformed digest `" + s + "`");
    return hex;
}

std::string this_arch() {
#if defined(__x86_64__)
    return "amd64";
#elif defined(__aarch64__)
    return "arm64";
#elif defined(__arm__)
    return "arm";
#elif defined(__riscv) && __riscv_xlen == 64
    return "riscv64";
#elif defined(__s390x__)
    return "s390x";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return "ppc64le";
#else
    return "";
#endif
}

class Loader {
public:
    Loader(std::string staging, ArchiveFiles files) : staging_(std::move(staging)), files_(std::move(files)) {}

    Status load_oci_index(const json& index, const std::vector<std::string>& outer_tags, int depth);
    Status load_docker_manifest(const json& manifest);
    std::vector<ArchiveImage> take() {
        std::vector<ArchiveImage> out;
        for (const auto& hex : order_) out.push_back(std::move(images_[hex]));
        return out;
    }

private:
    struct Extracted {
        std::string dir;
        std::string tar;  // the uncompressed tar DIR was extracted from
        std::string diff_id;
    };
    // The stored bytes of a blob named by DESC (a descriptor), size and digest checked.
    Result<const StoredFile*> blob(const json& desc, const std::string& what);
    Status add_image(const std::string& config_bytes, const std::vector<std::string>& layer_names,
                     const std::vector<std::string>& tags, const std::string& what);
    Result<const Extracted*> layer_dir(const std::string& name, const std::string& expected_diff_id, const std::string& what);
    void add_tags(ArchiveImage* img, const std::vector<std::string>& tags);

    std::string staging_;
    ArchiveFiles files_;
    std::map<std::string, ArchiveImage> images_;  // config hex → image
    std::vector<std::string> order_;
    std::map<std::string, Extracted> extracted_;  // archive file (resolved) → its extraction
    int next_layer_ = 0;
};

Result<const StoredFile*> Loader::blob(const json& desc, const std::string& what) {
    if (!desc.is_object()) return make_error(what + ": the descriptor is not an object");
    auto hex = digest_hex(desc.value("digest", json()), what);
    ISOLAB_TRY(hex);
    const StoredFile* f = files_.find("blobs/sha256/" + *hex);
    if (!f) return make_error(what + ": blob sha256:" + *hex + " is missing from the archive");
    if (f->hex != *hex)
        return make_error(what + ": blob sha256:" + *hex + " is damaged (its content has sha256:" + f->hex + ")");
    if (desc.contains("size") && (!desc["size"].is_number_integer() || desc["size"].get<int64_t>() != f->size))
        return make_error(what + ": blob sha256:" + *hex + " has " + std::to_string(f->size) +
                          " bytes, not the size its descriptor says");
    return f;
}

void Loader::add_tags(ArchiveImage* img, const std::vector<std::string>& tags) {
    for (const auto& t : tags) {
        bool seen = false;
        for (const auto& have : img->repo_tags) seen = seen || have == t;
        if (!seen) img->repo_tags.push_back(t);
    }
}

Result<const Loader::Extracted*> Loader::layer_dir(const std::string& name, const std::string& expected,
                                                   const std::string& what) {
    const StoredFile* f = files_.find(name);
    if (!f) return make_error(what + ": `" + name + "` is missing from the archive");
    auto it = extracted_.find(f->file);
    if (it == extracted_.end()) {
        std::string dir = staging_ + "/" + std::to_string(next_layer_++);
        // The uncompressed bytes are kept: they are the layer whose digest the config names.
        auto r = extract_layer_tar(f->file, dir, dir + ".tar");
        if (!r.ok()) return r.error().wrap(what + " (`" + name + "`)");
        it = extracted_.emplace(f->file, Extracted{dir, dir + ".tar", r->diff_id}).first;
    }
    if (it->second.diff_id != expected)
        return make_error(what + ": `" + name + "` has diff_id " + it->second.diff_id + " but the config expects " +
                          expected + ": the archive is damaged");
    return &it->second;
}

Status Loader::add_image(const std::string& config_bytes, const std::vector<std::string>& layer_names,
                         const std::vector<std::string>& tags, const std::string& what) {
    std::string hex = sha256_of(config_bytes);
    auto found = images_.find(hex);
    if (found != images_.end()) {
        add_tags(&found->second, tags);
        return {};
    }
    auto ids = config_diff_ids(config_bytes, what);
    ISOLAB_TRY(ids);
    if (ids->size() != layer_names.size())
        return make_error(what + ": the config lists " + std::to_string(ids->size()) + " diff_ids but the manifest " +
                          std::to_string(layer_names.size()) + " layers");
    ArchiveImage img;
    img.config_bytes = config_bytes;
    img.diff_ids = *ids;
    for (size_t i = 0; i < layer_names.size(); ++i) {
        auto layer = layer_dir(layer_names[i], (*ids)[i], what + ", layer " + std::to_string(i + 1));
        ISOLAB_TRY(layer);
        img.layer_dirs.push_back((*layer)->dir);
        img.layer_tars.push_back((*layer)->tar);
    }
    add_tags(&img, tags);
    images_.emplace(hex, std::move(img));
    order_.push_back(hex);
    return {};
}

Status Loader::load_oci_index(const json& index, const std::vector<std::string>& outer_tags, int depth) {
    if (depth > 4) return make_error("index.json: indexes nested too deep");
    if (!index.is_object() || !index.contains("manifests") || !index["manifests"].is_array())
        return make_error("index.json: no `manifests` list");
    const std::string arch = this_arch();
    for (const auto& desc : index["manifests"]) {
        std::string type = desc.is_object() ? desc.value("mediaType", "") : "";
        std::vector<std::string> tags = outer_tags;
        if (desc.is_object() && desc.contains("annotations") && desc["annotations"].is_object()) {
            const auto& ann = desc["annotations"];
            std::string name;
            if (ann.contains(kContainerdNameAnnotation) && ann[kContainerdNameAnnotation].is_string())
                name = familiar_image_name(ann[kContainerdNameAnnotation].get<std::string>(), false);
            if (name.empty() && ann.contains(kRefNameAnnotation) && ann[kRefNameAnnotation].is_string())
                name = familiar_image_name(ann[kRefNameAnnotation].get<std::string>(), true);
            if (!name.empty()) tags.push_back(name);
        }
        if (depth > 0 && desc.is_object() && desc.contains("platform") && desc["platform"].is_object()) {
            const auto& p = desc["platform"];
            if (p.value("os", "linux") != "linux" || p.value("architecture", arch) != arch) continue;
        }
        std::string what = "manifest " + (desc.is_object() ? desc.value("digest", std::string("?")) : std::string("?"));
        auto f = blob(desc, what);
        ISOLAB_TRY(f);
        auto body = read_json(**f, what);
        ISOLAB_TRY(body);
        if (type.empty()) type = body->value("mediaType", "");
        if (type == kIndexType || type == kDockerListType) {
            ISOLAB_TRY(load_oci_index(*body, tags, depth + 1));
            continue;
        }
        if (type != kManifestType && type != kDockerManifestType)
            return make_error(what + ": media type `" + type + "` is not an image manifest");
        if (!body->contains("config") || !body->contains("layers") || !(*body)["layers"].is_array())
            return make_error(what + ": no config or layers");
        auto cf = blob((*body)["config"], what + ", config");
        ISOLAB_TRY(cf);
        auto config_bytes = read_small(**cf, what + ", config");
        ISOLAB_TRY(config_bytes);
        std::vector<std::string> layer_names;
        for (const auto& ld : (*body)["layers"]) {
            auto lf = blob(ld, what + ", layer");
            ISOLAB_TRY(lf);
            layer_names.push_back("blobs/sha256/" + (*lf)->hex);
        }
        ISOLAB_TRY(add_image(*config_bytes, layer_names, tags, what));
    }
    return {};
}

Status Loader::load_docker_manifest(const json& manifest) {
    if (!manifest.is_array()) return make_error("manifest.json: not a list");
    for (const auto& row : manifest) {
        if (!row.is_object() || !row.contains("Config") || !row["Config"].is_string() || !row.contains("Layers") ||
            !row["Layers"].is_array())
            return make_error("manifest.json: an entry has no Config or Layers");
        std::string config_name = clean_name(row["Config"].get<std::string>());
        std::string what = "manifest.json entry `" + config_name + "`";
        const StoredFile* cf = files_.find(config_name);
        if (!cf) return make_error(what + ": the config is missing from the archive");
        // The config's name carries its digest in both layouts: blobs/sha256/<hex> or <hex>.json.
        std::string base = config_name.substr(config_name.rfind('/') + 1);
        if (base.size() > 5 && base.compare(base.size() - 5, 5, ".json") == 0) base.resize(base.size() - 5);
        if (is_hex64(base) && base != cf->hex)
            return make_error(what + ": the config is damaged (its content has sha256:" + cf->hex + ")");
        auto config_bytes = read_small(*cf, what);
        ISOLAB_TRY(config_bytes);
        std::vector<std::string> layer_names;
        for (const auto& l : row["Layers"]) {
            if (!l.is_string()) return make_error(what + ": a layer name is not a string");
            std::string name = clean_name(l.get<std::string>());
            if (name.rfind("blobs/sha256/", 0) == 0) {
                const StoredFile* lf = files_.find(name);
                if (lf && lf->hex != name.substr(13))
                    return make_error(what + ": blob `" + name + "` is damaged (its content has sha256:" + lf->hex + ")");
            }
            layer_names.push_back(name);
        }
        std::vector<std::string> tags;
        if (row.contains("RepoTags") && row["RepoTags"].is_array())
            for (const auto& t : row["RepoTags"])
                if (t.is_string()) {
                    std::string name = familiar_image_name(t.get<std::string>(), false);
                    if (!name.empty()) tags.push_back(name);
                }
        ISOLAB_TRY(add_image(*config_bytes, layer_names, tags, what));
    }
    return {};
}

}  // namespace

std::string familiar_image_name(const std::string& ref_in, bool bare_is_tag) {
    std::string ref = ref_in;
    size_t at = ref.find('@');
    if (at != std::string::npos) ref.resize(at);  // "x:tag@sha256:..." keeps its tag; "x@sha256:..." has none
    if (ref.empty() || ref.find_first_of(" \t\n") != std::string::npos) return "";
    size_t slash = ref.rfind('/');
    size_t colon = ref.rfind(':');
    bool has_tag = colon != std::string::npos && (slash == std::string::npos || colon > slash);
    if (at != std::string::npos && !has_tag) return "";
    if (slash == std::string::npos && !has_tag && bare_is_tag) return "";
    if (!has_tag) ref += ":latest";
    for (const char* prefix : {"docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/",
                               "localhost/"}) {
        size_t n = std::strlen(prefix);
        if (ref.compare(0, n, prefix) == 0 && ref.size() > n) {
            ref.erase(0, n);
            break;
        }
    }
    if (ref.front() == ':' || ref.front() == '/') return "";
    return ref;
}

std::string host_oci_architecture() { return this_arch(); }

std::string full_image_name(const std::string& familiar) {
    std::string ref = familiar;
    size_t slash = ref.rfind('/');
    size_t colon = ref.rfind(':');
    if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) ref += ":latest";
    size_t first = ref.find('/');
    if (first == std::string::npos) return "docker.io/library/" + ref;
    std::string host = ref.substr(0, first);
    // Docker's rule: the first component is a registry when it has a dot or a port, or is localhost.
    if (host.find('.') != std::string::npos || host.find(':') != std::string::npos || host == "localhost") return ref;
    return "docker.io/" + ref;
}

Status save_image_archive(const std::vector<ArchiveImage>& images, const std::string& out_path) {
    const std::string ctx = "save to `" + out_path + "`";
    if (images.empty()) return make_error(ctx + ": no images given");
    const bool to_stdout = out_path == "-";
    std::string tmp_archive, work;
    if (to_stdout) {
        const char* t = std::getenv("TMPDIR");
        work = std::string(t && *t ? t : "/var/tmp") + "/isolab-save." + std::to_string(::getpid()) + "." + random_hex(4);
    } else {
        tmp_archive = out_path + ".tmp." + std::to_string(::getpid());
        work = tmp_archive + ".d";
    }
    TreeGuard work_guard(work);
    TreeGuard archive_guard(tmp_archive);
    ISOLAB_TRY_CTX(make_dirs(work, 0700), ctx);

    std::map<std::string, Blob> blobs;            // hex → blob, each written once
    std::map<std::string, LayerTar> layer_cache;  // layer dir → its tar
    json index_manifests = json::array();
    json docker_manifest = json::array();
    int n_tar = 0;
    for (const auto& img : images) {
        std::string config_hex = sha256_of(img.config_bytes);
        std::string what = image_label(img, config_hex);
        auto ids = config_diff_ids(img.config_bytes, what);
        if (!ids.ok()) return ids.error().wrap(ctx);
        if (ids->size() != img.layer_dirs.size())
            return make_error(ctx + ": " + what + ": the config lists " + std::to_string(ids->size()) +
                              " diff_ids but the image has " + std::to_string(img.layer_dirs.size()) + " layers");
        json layers = json::array();
        json docker_layers = json::array();
        for (size_t i = 0; i < img.layer_dirs.size(); ++i) {
            const std::string& dir = img.layer_dirs[i];
            auto cached = layer_cache.find(dir);
            if (cached == layer_cache.end()) {
                LayerTar tar;
                std::string file;
                if (std::string kept = original_layer_tar(dir); !kept.empty()) {
                    // The exact bytes it was loaded with (its digest is checked below like any other).
                    auto digest = file_diff_id(kept);
                    if (!digest.ok()) return digest.error().wrap(ctx);
                    struct stat st;
                    if (::stat(kept.c_str(), &st) != 0) return errno_error(ctx + ": `" + kept + "`", errno);
                    tar = LayerTar{*digest, static_cast<int64_t>(st.st_size)};
                    file = kept;
                } else {
                    file = work + "/" + std::to_string(n_tar++) + ".tar";
                    auto made = write_layer_tar(dir, file);
                    if (!made.ok()) return made.error().wrap(ctx);
                    tar = *made;
                }
                cached = layer_cache.emplace(dir, tar).first;
                std::string hex = tar.diff_id.substr(7);
                if (!blobs.count(hex)) blobs[hex] = Blob{hex, tar.size, file, ""};
            }
            const LayerTar& tar = cached->second;
            if (tar.diff_id != (*ids)[i])
                return make_error(ctx + ": layer `" + dir + "` no longer matches " + (*ids)[i] + ": the store is damaged");
            const Blob& b = blobs[tar.diff_id.substr(7)];
            layers.push_back(descriptor(kLayerType, b));
            docker_layers.push_back("blobs/sha256/" + b.hex);
        }
        Blob config{config_hex, static_cast<int64_t>(img.config_bytes.size()), "", img.config_bytes};
        blobs.emplace(config_hex, config);
        json manifest = {{"schemaVersion", 2},
                         {"mediaType", kManifestType},
                         {"config", descriptor(kConfigType, config)},
                         {"layers", layers}};
        std::string manifest_bytes = manifest.dump();
        Blob mb{sha256_of(manifest_bytes), static_cast<int64_t>(manifest_bytes.size()), "", manifest_bytes};
        blobs.emplace(mb.hex, mb);
        std::vector<std::string> tags;
        for (const auto& t : img.repo_tags) {
            std::string familiar = familiar_image_name(t, false);
            if (familiar.empty()) return make_error(ctx + ": `" + t + "` is not an image name with a tag");
            tags.push_back(familiar);
        }
        if (tags.empty()) index_manifests.push_back(descriptor(kManifestType, mb));
        for (const auto& t : tags) {
            json d = descriptor(kManifestType, mb);
            // Both annotations carry the full name: podman 4 names a single-image archive by
            // io.containerd.image.name but a multi-image one by ref.name alone (a short
            // "hello:latest" would become localhost/hello:latest there); it writes ref.name
            // this way itself.
            d["annotations"] = {{kContainerdNameAnnotation, full_image_name(t)}, {kRefNameAnnotation, full_image_name(t)}};
            index_manifests.push_back(d);
        }
        // Full names in RepoTags too: podman 4 reads multi-image archives through manifest.json and
        // puts localhost/ before a name without a registry; Docker parses them as normalized names.
        json repo_tags = json::array();
        for (const auto& t : tags) repo_tags.push_back(full_image_name(t));
        docker_manifest.push_back(
            {{"Config", "blobs/sha256/" + config_hex}, {"RepoTags", repo_tags}, {"Layers", docker_layers}});
    }
    json index = {{"schemaVersion", 2}, {"mediaType", kIndexType}, {"manifests", index_manifests}};

    UniqueFd out;
    if (to_stdout) {
        out.reset(::fcntl(1, F_DUPFD_CLOEXEC, 3));
        if (!out.valid()) return errno_error(ctx + ": stdout", errno);
    } else {
        out.reset(::open(tmp_archive.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (!out.valid()) return errno_error(ctx + ": create `" + tmp_archive + "`", errno);
    }
    OutSink sink{out.get()};
    ArchiveWriter a(archive_write_new());
    if (!a || archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK ||
        archive_write_add_filter_none(a.get()) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a.get(), 1) != ARCHIVE_OK ||
        archive_write_open2(a.get(), &sink, nullptr, out_write, nullptr, nullptr) != ARCHIVE_OK)
        return make_error(ctx + ": libarchive: " + (a ? archive_message(a.get()) : "out of memory"));
    // Metadata first, so a reader can learn what follows; then the blobs, sorted by digest.
    ISOLAB_TRY_CTX(add_bytes(a.get(), "oci-layout", json{{"imageLayoutVersion", "1.0.0"}}.dump()), ctx);
    ISOLAB_TRY_CTX(add_bytes(a.get(), "index.json", index.dump()), ctx);
    ISOLAB_TRY_CTX(add_bytes(a.get(), "manifest.json", docker_manifest.dump()), ctx);
    ISOLAB_TRY_CTX(add_dir(a.get(), "blobs/"), ctx);
    ISOLAB_TRY_CTX(add_dir(a.get(), "blobs/sha256/"), ctx);
    for (const auto& [hex, b] : blobs) {
        std::string name = "blobs/sha256/" + hex;
        if (b.file.empty()) {
            ISOLAB_TRY_CTX(add_bytes(a.get(), name, b.bytes), ctx);
        } else {
            ISOLAB_TRY_CTX(add_file(a.get(), name, b.file, b.size), ctx);
        }
    }
    if (archive_write_close(a.get()) != ARCHIVE_OK) return make_error(ctx + ": " + archive_message(a.get()));
    if (!to_stdout) {
        if (::fsync(out.get()) != 0) return errno_error(ctx + ": sync `" + tmp_archive + "`", errno);
        out.reset();
        if (::rename(tmp_archive.c_str(), out_path.c_str()) != 0)
            return errno_error(ctx + ": rename `" + tmp_archive + "`", errno);
        archive_guard.disarm();
    }
    return {};
}

Result<std::vector<ArchiveImage>> load_image_archive(const std::string& in_path, const std::string& staging_dir) {
    const std::string ctx = "load `" + in_path + "`";
    ISOLAB_TRY_CTX(make_dirs(staging_dir, 0700), ctx);
    const std::string tmp = staging_dir + "/.archive";
    ISOLAB_TRY_CTX(make_dirs(tmp, 0700), ctx);
    TreeGuard tmp_guard(tmp);
    ArchiveFiles files;
    ISOLAB_TRY_CTX(read_archive(in_path, tmp, &files), ctx);
    // Every blob is checked against its name, used or not: a damaged archive is reported as such.
    for (const auto& [name, f] : files.files) {
        if (name.rfind("blobs/sha256/", 0) != 0) continue;
        std::string hex = name.substr(13);
        if (is_hex64(hex) && hex != f.hex)
            return make_error(ctx + ": blob `" + name + "` is damaged (its content has sha256:" + f.hex + ")");
    }
    const StoredFile* index_file = files.find("index.json");
    const StoredFile* manifest_file = files.find("manifest.json");
    if (!index_file && !manifest_file)
        return make_error(ctx + ": neither index.json nor manifest.json found; not an OCI layout or `docker save` archive");
    json index, manifest;
    if (index_file) {
        auto j = read_json(*index_file, "index.json");
        if (!j.ok()) return j.error().wrap(ctx);
        index = std::move(*j);
    }
    if (manifest_file) {
        auto j = read_json(*manifest_file, "manifest.json");
        if (!j.ok()) return j.error().wrap(ctx);
        manifest = std::move(*j);
    }
    // Both when Docker 25+ wrote the archive: the index gives the images, manifest.json may add tags.
    Loader loader(staging_dir, std::move(files));
    if (!index.is_null()) ISOLAB_TRY_CTX(loader.load_oci_index(index, {}, 0), ctx);
    if (!manifest.is_null()) ISOLAB_TRY_CTX(loader.load_docker_manifest(manifest), ctx);
    auto images = loader.take();
    if (images.empty()) return make_error(ctx + ": the archive holds no image");
    return images;
}

}  // namespace isolab
