#include "sim/engine/push.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "sim/core/files.hpp"
#include "sim/engine/image_archive.hpp"
#include "sim/engine/layer_archive.hpp"
#include "sim/engine/reference.hpp"

namespace isolab {

using nlohmann::json;

namespace {

constexpr size_t kMaxSourcesPerLayer = 8;
constexpr size_t kParallelUploads = 5;  // Docker's max-concurrent-uploads: "Waiting" beyond it
constexpr int kMaxMountAttempts = 3;
constexpr const char* kDockerLayerType = "application/vnd.docker.image.rootfs.diff.tar.gzip";
constexpr const char* kDockerConfigType = "application/vnd.docker.container.image.v1+json";

std::string short_id(const std::string& digest) { return digest.substr(7, 12); }

bool gzip_layer_type(const std::string& t) {
    return t == kDockerLayerType || t == "application/vnd.oci.image.layer.v1.tar+gzip";
}

// "127.0.0.1:5000/team/app" → "127.0.0.1:5000"; the domain is the part before the first '/'.
std::string domain_of(const std::string& repository) { return repository.substr(0, repository.find('/')); }
std::string path_of(const std::string& repository) {
    size_t slash = repository.find('/');
    return slash == std::string::npos ? "" : repository.substr(slash + 1);
}

json read_sources(const ImageStore& store) {
    auto text = read_file(store.dir() + "/layer-sources.json");
    if (!text) return json::object();
    auto j = json::parse(*text, nullptr, false);
    return j.is_object() ? j : json::object();
}

// Removes its files when the push ends, whatever way it ends.
struct TempFiles {
    std::vector<std::string> paths;
    ~TempFiles() {
        for (const auto& p : paths) ::unlink(p.c_str());
    }
};

// Docker's schema 2 manifest as Go's json.MarshalIndent(m, "", "   ") writes it (what a Docker
// daemon pushes), so the bytes, and the digest, are the same every time.
std::string schema2_manifest(const std::string& config_digest, int64_t config_size,
                             const std::vector<LayerSource>& layers) {
    std::string m = "{\n   \"schemaVersion\": 2,\n   \"mediaType\": \"" + std::string(kDockerManifestType) +
                    "\",\n   \"config\": {\n      \"mediaType\": \"" + kDockerConfigType + "\",\n      \"size\": " +
                    std::to_string(config_size) + ",\n      \"digest\": \"" + config_digest + "\"\n   },\n   \"layers\": [";
    for (size_t i = 0; i < layers.size(); ++i) {
        m += std::string(i ? "," : "") + "\n      {\n         \"mediaType\": \"" + kDockerLayerType +
             "\",\n         \"size\": " + std::to_string(layers[i].size) + ",\n         \"digest\": \"" +
             layers[i].digest + "\"\n      }";
    }
    m += layers.empty() ? "]\n}" : "\n   ]\n}";
    return m;
}

// The platform an image's config names, in containerd's format ("linux/amd64", "linux/arm/v7").
std::string image_platform(const json& config) {
    std::string p = config.value("os", std::string("linux")) + "/" + config.value("architecture", std::string());
    if (config.contains("variant") && config["variant"].is_string() && !config["variant"].get<std::string>().empty())
        p += "/" + config["variant"].get<std::string>();
    return p;
}

}  // namespace

std::vector<LayerSource> layer_sources(const ImageStore& store, const std::string& diff_id) {
    std::vector<LayerSource> out;
    json all = read_sources(store);
    if (!all.contains(diff_id) || !all[diff_id].is_array()) return out;
    for (const auto& e : all[diff_id]) {
        if (!e.is_object() || !e.contains("digest") || !e["digest"].is_string() || !e.contains("repository") ||
            !e["repository"].is_string())
            continue;
        LayerSource s{e["digest"].get<std::string>(), e["repository"].get<std::string>(),
                      e.value("mediaType", std::string()), -1};
        if (e.contains("size") && e["size"].is_number_integer()) s.size = e["size"].get<int64_t>();
        const std::string& d = s.digest;  // the digest names a URL: the sha256 form only
        if (d.size() != 71 || d.rfind("sha256:", 0) != 0 || d.find_first_not_of("0123456789abcdef", 7) != std::string::npos)
            continue;
        out.push_back(std::move(s));
    }
    return out;
}

Status add_layer_sources(const ImageStore& store, const std::vector<std::pair<std::string, LayerSource>>& sources) {
    if (sources.empty()) return {};
    auto lock = FileLock::acquire(store.dir() + "/lock");
    if (!lock) return lock.error();
    json all = read_sources(store);
    for (const auto& [diff_id, s] : sources) {
        json list = json::array();
        list.push_back({{"digest", s.digest}, {"repository", s.repository}, {"mediaType", s.media_type}, {"size", s.size}});
        if (all.contains(diff_id) && all[diff_id].is_array())
            for (const auto& e : all[diff_id]) {
                if (list.size() >= kMaxSourcesPerLayer) break;
                if (!e.is_object() || (e.value("digest", std::string()) == s.digest &&
                                       e.value("repository", std::string()) == s.repository))
                    continue;
                list.push_back(e);
            }
        all[diff_id] = list;
    }
    return write_file_atomic(store.dir() + "/layer-sources.json", all.dump(2) + "\n");
}

Result<CompressedBlob> gzip_file(const std::string& in, const std::string& out) {
    UniqueFd src(::open(in.c_str(), O_RDONLY | O_CLOEXEC));
    if (!src.valid()) return errno_error("open `" + in + "`", errno, 1);
    UniqueFd dst(::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!dst.valid()) return errno_error("create `" + out + "`", errno, 1);
    z_stream zs{};
    // windowBits 15 + 16: a gzip wrapper with zlib's empty header (no name, mtime 0).
    if (::deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return make_error("zlib: cannot start compressing", 1);
    struct Ender {
        z_stream* z;
        ~Ender() { ::deflateEnd(z); }
    } ender{&zs};
    Sha256Stream hash;
    CompressedBlob blob;
    std::vector<unsigned char> ibuf(1 << 17), obuf(1 << 17);
    for (bool done = false; !done;) {
        ssize_t n;
        do n = ::read(src.get(), ibuf.data(), ibuf.size());
        while (n < 0 && errno == EINTR);
        if (n < 0) return errno_error("read `" + in + "`", errno, 1);
        done = n == 0;
        zs.next_in = ibuf.data();
        zs.avail_in = static_cast<uInt>(n);
        do {
            zs.next_out = obuf.data();
            zs.avail_out = static_cast<uInt>(obuf.size());
            int rc = ::deflate(&zs, done ? Z_FINISH : Z_NO_FLUSH);
            if (rc == Z_STREAM_ERROR) return make_error("zlib: compressing `" + in + "` failed", 1);
            size_t have = obuf.size() - zs.avail_out;
            for (size_t off = 0; off < have;) {
                ssize_t w = ::write(dst.get(), obuf.data() + off, have - off);
                if (w < 0 && errno == EINTR) continue;
                if (w <= 0) return errno_error("write `" + out + "`", errno, 1);
                off += static_cast<size_t>(w);
            }
            hash.update(obuf.data(), have);
            blob.size += static_cast<int64_t>(have);
        } while (zs.avail_out == 0);
    }
    blob.digest = "sha256:" + hash.hex();
    return blob;
}

Result<std::vector<PushedTag>> push_image(ImageStore& store, const PushRequest& request, const RegistrySettings& settings,
                                          const std::function<void(const PullProgress&)>& progress) {
    auto say = [&](const std::string& id, const std::string& status, int64_t cur = -1, int64_t total = -1) {
        if (progress) progress(PullProgress{id, status, cur, total, true});
    };
    auto line = [&](const std::string& id, const std::string& status) {
        if (progress) progress(PullProgress{id, status, -1, -1, false});
    };
    auto parsed = parse_reference(request.name);
    if (!parsed) return make_error(parsed.error().message, 1);
    ImageReference ref = *parsed;
    if (!ref.digest.empty()) return make_error("cannot push a digest reference", 1);
    if (request.all_tags && !ref.tag.empty()) return make_error("tag can't be used with --all-tags/-a", 1);

    // The local tags of this repository (Docker's ReferencesByName: sorted by name).
    if (ref.familiar_name() == "busybox") (void)store.ensure_busybox();
    std::map<std::string, Image> local;  // tag → image
    for (const Image& img : store.list())
        for (const auto& t : img.repo_tags) {
            auto r = parse_reference(t);
            if (r && r->repository() == ref.repository() && !r->tag.empty()) local.emplace(r->tag, img);
        }

    // --platform: checked before anything is said, as Docker's daemon does (its error comes as an
    // "Error response from daemon").
    if (!request.platform.empty()) {
        auto want = parse_platform(request.platform);
        if (!want) return make_error(want.error().message, 1);
        std::string wanted = want->os + "/" + (want->architecture.empty() ? host_oci_architecture() : want->architecture) +
                             (want->variant.empty() ? "" : "/" + want->variant);
        const std::string tag = ref.tag.empty() ? "latest" : ref.tag;
        for (const auto& [t, img] : local) {
            if (!request.all_tags && t != tag) continue;
            if (std::string actual = image_platform(img.config); actual != wanted)
                return make_error("image with reference " + ref.familiar_name() + ":" + t +
                                      " was found but does not match the specified platform: wanted " + wanted +
                                      ", actual: " + actual,
                                  1);
        }
    }

    line("", "The push refers to repository [" + ref.repository() + "]");
    if (local.empty()) return make_error("An image does not exist locally with the tag: " + ref.familiar_name(), 1);
    std::vector<std::string> tags;
    if (request.all_tags) {
        for (const auto& [t, img] : local) tags.push_back(t);
    } else {
        tags.push_back(ref.tag.empty() ? "latest" : ref.tag);
        if (!local.count(tags[0])) return make_error("tag does not exist: " + ref.familiar_name() + ":" + tags[0], 1);
    }

    const std::string work = store.dir() + "/push";
    ISOLAB_TRY(make_dirs(work, 0700));
    RegistryClient client(ref, settings, request.credentials);
    client.request_push_access();
    // Docker's pusher reaches the registry (and authenticates) before it prepares any layer.
    ISOLAB_TRY(client.ping());
    std::map<std::string, LayerSource> remote;  // diff_id → blob, known to be in the repository
    std::vector<PushedTag> pushed;

    for (const std::string& tag : tags) {
        const Image& img = local.at(tag);
        auto config_bytes = store.config_bytes(img);
        if (!config_bytes) return make_error(config_bytes.error().message, 1);
        std::vector<std::string> diff_ids;
        if (img.config.contains("rootfs") && img.config["rootfs"].contains("diff_ids") &&
            img.config["rootfs"]["diff_ids"].is_array())
            for (const auto& d : img.config["rootfs"]["diff_ids"])
                if (d.is_string()) diff_ids.push_back(d.get<std::string>());
        if (diff_ids.size() != img.layer_dirs.size())
            return make_error("image " + ref.familiar_name() + ":" + tag + " names " + std::to_string(diff_ids.size()) +
                                  " layers but the store has " + std::to_string(img.layer_dirs.size()) +
                                  ": the store is damaged",
                              1);

        // Docker's order: the top layer first.
        std::vector<size_t> order;
        for (size_t i = diff_ids.size(); i-- > 0;) order.push_back(i);
        for (size_t i : order) say(short_id(diff_ids[i]), "Preparing");
        for (size_t k = kParallelUploads; k < order.size(); ++k) say(short_id(diff_ids[order[k]]), "Waiting");

        std::vector<LayerSource> blobs(diff_ids.size());
        std::vector<std::pair<std::string, LayerSource>> learned;
        for (size_t i : order) {
            const std::string& diff_id = diff_ids[i];
            const std::string id = short_id(diff_id);
            LayerSource here{"", ref.repository(), kDockerLayerType, -1};
            if (auto it = remote.find(diff_id); it != remote.end()) {
                blobs[i] = it->second;
                say(id, "Layer already exists");
                continue;
            }
            // 1. A blob this layer is known by, already in the repository.
            std::vector<LayerSource> known;
            for (auto& s : layer_sources(store, diff_id))
                if (gzip_layer_type(s.media_type) && domain_of(s.repository) == ref.domain) known.push_back(s);
            std::stable_sort(known.begin(), known.end(), [&](const LayerSource& a, const LayerSource& b) {
                return (a.repository == ref.repository()) > (b.repository == ref.repository());
            });
            std::optional<LayerSource> found;
            for (size_t k = 0; k < known.size() && k < 3 && !found; ++k) {
                auto size = client.blob_size(known[k].digest);
                if (!size) return size.error();
                if (*size) {
                    found = known[k];
                    if (**size >= 0) found->size = **size;
                }
            }
            if (found) {
                here.digest = found->digest;
                here.size = found->size;
                say(id, "Layer already exists");
            }
            // 2. A blob of another repository of this registry: mounted, not sent.
            int attempts = 0;
            for (const auto& s : known) {
                if (found || attempts >= kMaxMountAttempts) break;
                if (s.repository == ref.repository() || s.size < 0) continue;
                ++attempts;
                auto mounted = client.start_blob_upload(s.digest, path_of(s.repository));
                if (!mounted || !*mounted) continue;  // Docker goes on to an upload after a failed mount
                found = s;
                here.digest = s.digest;
                here.size = s.size;
                say(id, "Mounted from " + path_of(s.repository));
            }
            // 3. Compressed here and uploaded, unless the repository has those bytes already.
            if (!found) {
                TempFiles temp;
                const std::string stem = work + "/" + diff_id.substr(7) + "." + std::to_string(::getpid());
                std::string tar = original_layer_tar(img.layer_dirs[i]);
                if (tar.empty()) {
                    tar = stem + ".tar";
                    temp.paths.push_back(tar);
                    auto made = write_layer_tar(img.layer_dirs[i], tar);
                    if (!made) return make_error(made.error().message, 1);
                    if (made->diff_id != diff_id)
                        return make_error("layer " + diff_id + " archives to " + made->diff_id + ": the store is damaged", 1);
                }
                temp.paths.push_back(stem + ".tar.gz");
                auto gz = gzip_file(tar, stem + ".tar.gz");
                if (!gz) return gz.error();
                here.digest = gz->digest;
                here.size = gz->size;
                auto size = client.blob_size(gz->digest);
                if (!size) return size.error();
                if (*size) {
                    say(id, "Layer already exists");
                } else {
                    const int64_t total = gz->size;
                    say(id, "Pushing", 0, total);
                    auto st = client.upload_blob(stem + ".tar.gz", gz->digest, gz->size,
                                                 [&](int64_t sent) { say(id, "Pushing", sent, total); });
                    if (!st.ok()) return st.error();
                    say(id, "Pushed");
                }
            }
            blobs[i] = here;
            remote[diff_id] = here;
            learned.emplace_back(diff_id, here);
        }
        (void)add_layer_sources(store, learned);  // a cache: a push that cannot record it still worked

        // The config, then the manifest that names it and the layers.
        Sha256Stream ch;
        ch.update(*config_bytes);
        const std::string config_digest = "sha256:" + ch.hex();
        auto have_config = client.blob_size(config_digest);
        if (!have_config) return have_config.error();
        if (!*have_config) {
            TempFiles temp;
            const std::string file = work + "/config." + std::to_string(::getpid());
            temp.paths.push_back(file);
            ISOLAB_TRY(write_file_atomic(file, *config_bytes));
            ISOLAB_TRY(client.upload_blob(file, config_digest, static_cast<int64_t>(config_bytes->size()), nullptr));
        }
        const std::string manifest = schema2_manifest(config_digest, static_cast<int64_t>(config_bytes->size()), blobs);
        Sha256Stream mh;
        mh.update(manifest);
        const std::string digest = "sha256:" + mh.hex();
        auto answered = client.put_manifest(tag, kDockerManifestType, manifest);
        if (!answered) return answered.error();
        if (!answered->empty() && *answered != digest)
            return make_error("the registry stored the manifest as " + *answered + ", IsoLab sent " + digest, 1);
        line(tag, "digest: " + digest + " size: " + std::to_string(manifest.size()));
        (void)store.add_repo_digest(ref.familiar_name() + "@" + digest, img.id);
        pushed.push_back({tag, digest, manifest.size()});
    }
    return pushed;
}

}  // namespace isolab
