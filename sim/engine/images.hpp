// The image store: images are templates (a file system in layers + settings), containers are
// those templates running. Layout under ROOT/images:
//
//   repositories.json       {"busybox:latest": "sha256:<config digest>"}; a file that cannot be
//                           read is moved aside as repositories.json.bad (see repositories())
//   repo-digests.json       {"localhost:5000/app@sha256:<manifest digest>": "sha256:<config digest>"}:
//                           what a registry called the image when it was pulled (Docker's
//                           RepoDigests); entries whose config is gone are ignored
//   configs/<hex>.json      the image config in the OCI image-config shape
//   layers/<hex>/           one directory per layer, named by its OCI diff_id (the sha256 of the
//                           layer as an uncompressed tar, see layer_archive.hpp); shared between
//                           images and used directly as an overlayfs lowerdir, so deletions in it
//                           are overlayfs whiteouts (translated to OCI `.wh.` entries in tars)
//   layers/<hex>.tar        for a layer loaded from another tool's archive whose tar IsoLab would
//                           write differently: the exact uncompressed tar (sha256 = <hex>), which
//                           `save` writes again so that the digests survive a round trip
//   build-cache/<key>       the image config after one Dockerfile step (see build.hpp)
//   layout                  "2": layers named by tar digests (version 1 used a tree digest)
//
// Images come from the base image `busybox` (one layer built from Debian's busybox-static),
// `scratch`, `isolab build`, `isolab commit` and `isolab load`.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/result.hpp"

namespace isolab {

struct Image {
    std::string id;                        // sha256:<hex of the config>
    std::vector<std::string> repo_tags;    // busybox:latest
    nlohmann::json config;                 // OCI image config
    std::vector<std::string> layer_dirs;   // absolute paths, lowest first
    std::vector<std::string> repo_digests; // "busybox@sha256:<manifest digest>", from pulls
    std::vector<std::string> cmd() const;
    std::vector<std::string> entrypoint() const;
    std::vector<std::string> env() const;
    std::string workdir() const;
    std::string user() const;
};

class ImageStore {
public:
    explicit ImageStore(std::string images_dir, std::string busybox_path = "/bin/busybox");

    // `busybox` → busybox:latest; also full or short image ids. Unknown → Docker's wording:
    // "Unable to find image 'x:latest' locally" (exit 125; IsoLab never pulls).
    Result<Image> resolve(const std::string& ref);
    std::vector<Image> list() const;

    // Creates busybox:latest from the static busybox binary if it is missing. Idempotent and safe
    // against concurrent callers (takes the store's lock).
    Status ensure_busybox();

    static std::string normalize_ref(const std::string& ref);  // "busybox" → "busybox:latest"

    // `docker tag SOURCE TARGET`: TARGET names the same image as SOURCE.
    Status tag(const std::string& source, const std::string& target);
    // `docker rmi`: removes the tag REF; when it was the image's last tag (or REF is an id), the
    // image's config and every layer no other image uses. Each removed name/object is appended to
    // *report as Docker prints it ("Untagged: busybox:latest", "Deleted: sha256:...").
    // KEEP_CONTENT: untag only, even when it was the last tag (`rmi -f` of an image a container uses).
    Status remove(const std::string& ref, std::vector<std::string>* report, bool keep_content = false);

    // Adds the layer directory DIR to the store under its diff_id and returns "sha256:<hex>".
    // MOVE renames DIR into the store (it must be on the same file system; falls back to a copy);
    // otherwise DIR is copied with `cp -a` (whiteout devices, opaque xattrs, owners kept). A layer
    // already present is kept and DIR discarded (when moved). Layer directories never change
    // once added: their name is their content.
    // ORIGINAL_TAR (load): the uncompressed tar DIR was extracted from. Its sha256 is then the
    // diff_id, whatever write_layer_tar would make of DIR; when the two differ the tar is kept as
    // layers/<hex>.tar (moved when MOVE). Without it the diff_id is write_layer_tar's.
    Result<std::string> add_layer(const std::string& dir, bool move, const std::string& original_tar = "");
    std::string layer_path(const std::string& diff_id) const;
    // Stores CONFIG_BYTES verbatim as an image config (the id is their sha256) after checking
    // that every diff_id it names is in the store, then points each of TAGS at it.
    Result<std::string> store_config(const std::string& config_bytes, const std::vector<std::string>& tags);
    // Records that the registry's manifest REPO_DIGEST ("name@sha256:…", familiar name) is the
    // image IMAGE_ID (`pull`). resolve() then finds the image by that digest reference.
    Status add_repo_digest(const std::string& repo_digest, const std::string& image_id);
    // The exact bytes of an image's config (what `save` writes; the id is their sha256).
    Result<std::string> config_bytes(const Image& image) const;
    // Removes layers that no image config names and that are not in KEEP (the layers a failed
    // build made). Returns how many were removed.
    int remove_unused_layers(const std::vector<std::string>& candidates);
    const std::string& dir() const { return dir_; }
    static bool valid_reference(const std::string& ref);
    // Warnings for the user (a tags file moved aside), oldest first, each returned once; the front
    // end prints them.
    std::vector<std::string> take_warnings();

    // `docker commit`: makes a new image from PARENT plus a layer copied from DIFF_DIR (a
    // container's writable layer; overlayfs whiteouts are kept, they work in lower layers too),
    // with SETTINGS as the new config's "config" object (Cmd, Env, ...; the caller applies
    // `--change`s to the parent's). Tags the result TAG ("" = untagged). Returns the new image id.
    // AUTHOR (`commit -a`) becomes the config's "author" and the history entry's, as Docker's.
    Result<std::string> commit(const Image& parent, const std::string& diff_dir, const std::string& tag,
                               const std::string& created_by, const std::string& comment,
                               const nlohmann::json& settings, const std::string& author = "");

    // The build cache (build.hpp): one entry per Dockerfile step, under build-cache/<key>. An
    // entry is dangling when a layer its config names is no longer in the store: no build can
    // use it again. `system df` counts them, `system prune` removes them (-a: all of them).
    struct BuildCacheEntry {
        std::string key;           // 64 hex
        int64_t size = 0;          // bytes of the entry itself; its layers count with the images
        int64_t modified_unix = 0; // when the step was cached (the file's mtime), Unix seconds
        bool dangling = false;
    };
    std::vector<BuildCacheEntry> build_cache() const;
    Status remove_build_cache(const std::string& key);

    // One row of `docker history`, newest first.
    struct HistoryRow {
        std::string created;      // RFC 3339
        std::string created_by;
        int64_t size = 0;         // bytes of the layer this step made; 0 for an empty layer
        std::string comment;
        bool empty_layer = false;
    };
    Result<std::vector<HistoryRow>> history(const std::string& ref);
    static int64_t layer_size(const std::string& dir);

private:
    Result<Image> load(const std::string& config_hex) const;
    // repositories.json: tag → image id; an empty object when the file does not exist. Writers
    // hold the store's lock and write only what they read successfully: a file that is not a JSON
    // object of "name": "sha256:<hex>" strings is moved aside as repositories.json.bad (with a
    // warning, take_warnings) and the read FAILS, so that no command rewrites the tags from
    // nothing and loses every other one; a reader that can do without tags (load) goes on. The tags cannot be rebuilt honestly: image configs do not carry names
    // (only `isolab tag ID NAME` gives the images their names back). Later reads find no file:
    // the images are there, untagged.
    Result<nlohmann::json> repositories() const;
    Status save_repositories(const nlohmann::json& repos) const;
    // repo-digests.json; an empty object when absent or unreadable (it only adds names).
    nlohmann::json repo_digests() const;
    // Removes layer directory PATH and the tar kept with it, if any.
    static Status remove_layer_dir(const std::string& path);
    std::string dir_;
    std::string busybox_path_;
    struct Warnings {
        std::mutex mu;
        std::vector<std::string> items;
    };
    std::shared_ptr<Warnings> warnings_ = std::make_shared<Warnings>();
};

// sha256 of a byte string, lowercase hex.
std::string sha256_hex(const std::string& data);
// A digest of a directory tree's content (paths, modes, link targets, file bytes), stable across
// machines for the same content. Used for build-cache keys of COPY sources.
Result<std::string> tree_digest(const std::string& dir);
// Runs ARGV (argv[0] an absolute path) and returns its stdout; an error when it fails.
Result<std::string> run_capture(const std::vector<std::string>& argv);

}  // namespace isolab
