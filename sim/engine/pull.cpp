#include "sim/engine/pull.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>

#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/files.hpp"
#include "sim/engine/layer_archive.hpp"
#include "sim/engine/push.hpp"
#include "sim/engine/reference.hpp"

namespace isolab {

using nlohmann::json;

namespace {

constexpr int kParallelDownloads = 3;  // Docker's max-concurrent-downloads default
constexpr int64_t kMaxConfigBytes = 32 << 20;

struct Descriptor {
    std::string media_type;
    std::string digest;
    int64_t size = -1;
};

bool known_layer_type(const std::string& t) {
    for (const char* ok : {"application/vnd.oci.image.layer.v1.tar", "application/vnd.oci.image.layer.v1.tar+gzip",
                           "application/vnd.oci.image.layer.v1.tar+zstd",
                           "application/vnd.docker.image.rootfs.diff.tar.gzip",
                           "application/vnd.docker.image.rootfs.diff.tar"})
        if (t == ok) return true;
    return false;
}

Result<Descriptor> descriptor(const json& d, const std::string& what) {
    if (!d.is_object() || !d.contains("digest") || !d["digest"].is_string() || !d.contains("size") ||
        !d["size"].is_number_integer())
        return make_error("the manifest's " + what + " has no digest or size", 1);
    Descriptor out{d.value("mediaType", std::string()), d["digest"].get<std::string>(), d["size"].get<int64_t>()};
    if (out.size < 0) return make_error("the manifest's " + what + " has a negative size", 1);
    // The digest names files under pull/ and in messages: only the sha256 form is taken (no
    // other algorithm, no `/` or `..` a hostile manifest could slip into a path).
    const std::string& dg = out.digest;
    if (dg.size() != 71 || dg.rfind("sha256:", 0) != 0 || dg.find_first_not_of("0123456789abcdef", 7) != std::string::npos)
        return make_error("the manifest's " + what + " has digest `" + dg + "`, which is not a sha256 digest: refused", 1);
    return out;
}

// Removes what pulls that were killed left in WORK: extraction folders (`x-<pid>-<n>`,
// `x-<pid>-<n>.tar`) of processes that no longer exist, and their partial downloads
// (`<hex>.part.<pid>`) once a day old. Younger partial downloads stay for the next pull of that
// blob to resume (registry.cpp), and verified blobs (`<hex>`) stay for it to use.
void sweep_dead_pulls(const std::string& work) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(work, ec)) {
        std::string n = e.path().filename().string();
        std::string pid_text;
        if (size_t at = n.find(".part."); at != std::string::npos) pid_text = n.substr(at + 6);
        else if (n.rfind("x-", 0) == 0) pid_text = n.substr(2, n.find('-', 2) - 2);
        else continue;
        if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
        pid_t pid = static_cast<pid_t>(std::stol(pid_text));
        if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
        if (n.find(".part.") != std::string::npos) {
            auto age = std::filesystem::file_time_type::clock::now() - std::filesystem::last_write_time(e.path(), ec);
            if (ec || age < std::chrono::hours(24)) continue;
        }
        (void)remove_tree(e.path().string());
    }
}

bool pid_gone(const std::string& text) {
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return false;
    pid_t pid = static_cast<pid_t>(std::stol(text));
    return pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH;
}

std::string hex_of(const std::string& digest) { return digest.substr(7); }

// After a complete pull: the partial downloads of LAYERS that dead pulls left.
void remove_dead_partials(const std::string& work, const std::vector<Descriptor>& layers) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(work, ec)) {
        std::string n = e.path().filename().string();
        size_t at = n.find(".part.");
        if (at == std::string::npos || !pid_gone(n.substr(at + 6))) continue;
        for (const auto& l : layers)
            if (n.compare(0, at, hex_of(l.digest)) == 0) (void)::unlink(e.path().c_str());
    }
}

std::string short_id(const std::string& digest) { return digest.substr(7, 12); }
}  // namespace

Result<std::vector<std::string>> list_remote_tags(const std::string& name, const RegistrySettings& settings,
                                                  const RegistryCredentials& credentials) {
    auto ref = parse_reference(name);
    if (!ref) return make_error(ref.error().message, 1);
    RegistryClient client(*ref, settings, credentials);
    return client.tags();
}

Result<PullResult> pull_image(ImageStore& store, const PullRequest& request, const RegistrySettings& settings,
                              const std::function<void(const PullProgress&)>& progress) {
    auto say = [&](const std::string& id, const std::string& status, int64_t cur = -1, int64_t total = -1) {
        if (progress) progress(PullProgress{id, status, cur, total, true});
    };
    auto parsed = parse_reference_with_default_tag(request.name);
    if (!parsed) return make_error(parsed.error().message, 1);
    ImageReference ref = *parsed;
    Platform platform;
    if (!request.platform.empty()) {
        auto p = parse_platform(request.platform);
        ISOLAB_TRY(p);
        platform = *p;
    }
    RegistryClient client(ref, settings, request.credentials);

    // 1. The manifest (through the index for the platform).
    auto top = client.manifest(ref.manifest_reference());
    if (!top) {
        const std::string& msg = top.error().message;
        if (msg.rfind("manifest unknown", 0) == 0)
            return make_error("manifest for " + ref.familiar() + " not found: " + msg +
                                  (msg == "manifest unknown" ? ": manifest unknown" : ""),
                              1);
        return top.error();
    }
    if (progress) progress(PullProgress{ref.tag.empty() ? ref.digest : ref.tag, "Pulling from " + ref.path, -1, -1, false});
    FetchedManifest manifest = *top;
    if (manifest.media_type == kOciIndexType || manifest.media_type == kDockerManifestListType) {
        auto chosen = RegistryClient::choose_platform(manifest, platform);
        ISOLAB_TRY(chosen);
        auto m = client.manifest(*chosen);
        ISOLAB_TRY(m);
        if (m->media_type != kOciManifestType && m->media_type != kDockerManifestType)
            return make_error("the index entry " + *chosen + " is not an image manifest", 1);
        manifest = *m;
    }
    auto body = json::parse(manifest.bytes, nullptr, false);
    if (!body.is_object() || !body.contains("layers") || !body["layers"].is_array())
        return make_error("the manifest for " + ref.familiar() + " has no layers", 1);
    auto config_desc = descriptor(body.value("config", json()), "config");
    ISOLAB_TRY(config_desc);
    std::vector<Descriptor> layers;
    for (const auto& l : body["layers"]) {
        auto d = descriptor(l, "layer " + std::to_string(layers.size() + 1));
        ISOLAB_TRY(d);
        if (!known_layer_type(d->media_type))
            return make_error("layer " + d->digest + " has media type `" + d->media_type + "`, which IsoLab cannot unpack", 1);
        layers.push_back(*d);
    }

    // 2. The config: small, fetched first, so layers already in the store are known by diff_id.
    const std::string work = store.dir() + "/pull";
    ISOLAB_TRY(make_dirs(work, 0700));
    sweep_dead_pulls(work);
    if (config_desc->size > kMaxConfigBytes) return make_error("the image config is larger than 32 MiB: refused", 1);
    {
        std::vector<BlobRequest> one{{config_desc->digest, config_desc->size, work + "/" + hex_of(config_desc->digest)}};
        if (auto st = client.fetch_blobs(one, 1, nullptr); !st.ok()) return st.error();
    }
    const std::string config_file = work + "/" + hex_of(config_desc->digest);
    auto config_bytes = read_file(config_file);
    ISOLAB_TRY(config_bytes);
    auto config = json::parse(*config_bytes, nullptr, false);
    std::vector<std::string> diff_ids;
    if (config.is_object() && config.contains("rootfs") && config["rootfs"].is_object() &&
        config["rootfs"].contains("diff_ids") && config["rootfs"]["diff_ids"].is_array())
        for (const auto& d : config["rootfs"]["diff_ids"])
            if (d.is_string()) diff_ids.push_back(d.get<std::string>());
    if (diff_ids.size() != layers.size())
        return make_error("the image config lists " + std::to_string(diff_ids.size()) + " layers, the manifest " +
                              std::to_string(layers.size()) + ": refused",
                          1);
    for (const auto& d : diff_ids)
        if (d.size() != 71 || d.rfind("sha256:", 0) != 0 || d.find_first_not_of("0123456789abcdef", 7) != std::string::npos)
            return make_error("the image config names a malformed diff_id `" + d + "`", 1);

    PullResult result;
    result.image_id = config_desc->digest;
    result.digest = manifest.digest == top->digest ? manifest.digest : top->digest;
    result.familiar = ref.digest.empty() ? ref.familiar() : "";
    result.full = ref.full();
    std::vector<std::string> tags;
    if (!result.familiar.empty()) tags.push_back(result.familiar);

    const std::string repo_digest = ref.familiar_name() + "@" + result.digest;
    // What each layer is called on this registry, for a later push (push.hpp: "Layer already
    // exists", "Mounted from"). A cache: failing to record it fails nothing.
    auto record_sources = [&] {
        std::vector<std::pair<std::string, LayerSource>> sources;
        for (size_t i = 0; i < layers.size(); ++i)
            sources.emplace_back(diff_ids[i], LayerSource{layers[i].digest, ref.repository(), layers[i].media_type, layers[i].size});
        (void)add_layer_sources(store, sources);
    };
    // Already there under this name: nothing to do (Docker's "Image is up to date").
    if (auto have = store.resolve(result.familiar.empty() ? repo_digest : result.familiar);
        have && have->id == result.image_id) {
            result.up_to_date = true;
            (void)::unlink(config_file.c_str());
            for (const auto& l : layers) (void)::unlink((work + "/" + hex_of(l.digest)).c_str());
            (void)store.add_repo_digest(repo_digest, result.image_id);
            record_sources();
            return result;
        }

    // 3. The layers the store lacks, downloaded concurrently.
    std::vector<BlobRequest> wanted;
    std::vector<size_t> wanted_layer;  // index into LAYERS
    std::set<std::string> seen;
    for (size_t i = 0; i < layers.size(); ++i) {
        if (path_exists(store.layer_path(diff_ids[i]))) {
            say(short_id(layers[i].digest), "Already exists");
            continue;
        }
        if (!seen.insert(layers[i].digest).second) continue;
        say(short_id(layers[i].digest), "Pulling fs layer");
        wanted.push_back({layers[i].digest, layers[i].size, work + "/" + hex_of(layers[i].digest)});
        wanted_layer.push_back(i);
    }
    for (size_t k = kParallelDownloads; k < wanted.size(); ++k) say(short_id(wanted[k].digest), "Waiting");
    auto fetched = client.fetch_blobs(wanted, kParallelDownloads, [&](const BlobProgress& p) {
        const std::string id = short_id(wanted[p.index].digest);
        switch (p.phase) {
            case BlobProgress::Phase::Waiting: break;
            case BlobProgress::Phase::Downloading: say(id, "Downloading", p.current, p.total); break;
            case BlobProgress::Phase::Verifying: say(id, "Verifying Checksum"); break;
            case BlobProgress::Phase::Done: say(id, "Download complete"); break;
        }
    });
    if (!fetched.ok()) return fetched.error();

    // 4. Extract in order, check each diff_id, move into the store. Nothing is tagged yet.
    std::vector<std::string> added;
    auto fail = [&](const Error& e) -> Error {
        store.remove_unused_layers(added);
        return e;
    };
    for (size_t k = 0; k < wanted.size(); ++k) {
        const size_t i = wanted_layer[k];
        const std::string id = short_id(layers[i].digest);
        const std::string dir = work + "/x-" + std::to_string(::getpid()) + "-" + std::to_string(k);
        (void)remove_tree(dir);
        ::unlink((dir + ".tar").c_str());
        say(id, "Extracting", layers[i].size, layers[i].size);
        auto x = extract_layer_tar(wanted[k].dest, dir, dir + ".tar");
        if (!x) {
            (void)remove_tree(dir);
            ::unlink((dir + ".tar").c_str());
            return fail(x.error().wrap("layer " + layers[i].digest).wrap("failed to register layer"));
        }
        if (x->diff_id != diff_ids[i]) {
            (void)remove_tree(dir);
            ::unlink((dir + ".tar").c_str());
            return fail(make_error("layer " + layers[i].digest + " unpacks to " + x->diff_id + " but the config expects " +
                                       diff_ids[i] + ": refused",
                                   1));
        }
        auto added_id = store.add_layer(dir, true, dir + ".tar");
        ::unlink((dir + ".tar").c_str());
        (void)remove_tree(dir);
        if (!added_id) return fail(added_id.error());
        added.push_back(*added_id);
        say(id, "Pull complete");
    }

    // 5. The config, then the tag: the image becomes visible in one rename.
    auto stored = store.store_config(*config_bytes, tags);
    if (!stored) return fail(make_error(stored.error().message, 1));
    result.image_id = *stored;
    // Docker's RepoDigests: what the registry calls it (a digest pull has no tag, only this).
    if (auto st = store.add_repo_digest(repo_digest, result.image_id); !st.ok()) return make_error(st.error().message, 1);
    record_sources();
    // Verified blobs and partial downloads of earlier, interrupted pulls of these layers go too.
    for (const auto& l : layers) (void)::unlink((work + "/" + hex_of(l.digest)).c_str());
    remove_dead_partials(work, layers);
    (void)::unlink(config_file.c_str());
    return result;
}

}  // namespace isolab
