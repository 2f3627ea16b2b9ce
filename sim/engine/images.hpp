// The image store: images are templates (a file system in layers + settings), containers are
// those templates running. Layout under ROOT/images:
//
//   repositories.json       {"busybox:latest": "sha256:<config digest>"}
//   configs/<hex>.json      the image config in the OCI image-config shape
//   layers/<hex>/           one directory per layer, named by its digest; shared between images
//
// This first version knows the base image `busybox` (one layer built from Debian's busybox-static)
// and `scratch`; builds, commits and OCI archives extend it (the images issue).
#pragma once

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

    // `docker commit`: makes a new image from PARENT plus a layer copied from DIFF_DIR (a
    // container's writable layer; overlayfs whiteouts are kept, they work in lower layers too).
    // CMD, when not empty, replaces the parent's. Tags the result TAG ("" = untagged). Returns
    // the new image id.
    Result<std::string> commit(const Image& parent, const std::string& diff_dir, const std::string& tag,
                               const std::string& created_by, const std::string& comment,
                               const std::vector<std::string>& cmd);

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
    // repositories.json: tag → image id. Writers hold the store's lock.
    nlohmann::json repositories() const;
    Status save_repositories(const nlohmann::json& repos) const;
    std::string dir_;
    std::string busybox_path_;
};

// sha256 of a byte string, lowercase hex.
std::string sha256_hex(const std::string& data);
// A digest of a directory tree's content (paths, modes, link targets, file bytes), stable across
// machines for the same content.
Result<std::string> tree_digest(const std::string& dir);

}  // namespace isolab
