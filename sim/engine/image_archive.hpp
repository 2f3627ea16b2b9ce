// Image archives: `isolab save` and `isolab load`.
//
// The archive is an OCI image layout (image-spec image-layout.md) in a tar, with Docker's
// `manifest.json` next to it, which is exactly what Docker 25+ `docker save` writes: podman,
// skopeo (`oci-archive:`) and `docker load` all read it. Layers are stored as uncompressed tars,
// so a layer blob's digest IS its diff_id.
#pragma once

#include <string>
#include <vector>

#include "sim/core/result.hpp"

namespace isolab {

struct ArchiveImage {
    std::string config_bytes;             // the exact bytes; the image id is sha256 of these
    std::vector<std::string> layer_dirs;  // save: layer directories, lowest first; load: staging dirs
    std::vector<std::string> repo_tags;   // "hello:latest" (save: names to record; load: found)
    std::vector<std::string> diff_ids;    // load: from the config, verified against the layers
    std::vector<std::string> layer_tars;  // load: the uncompressed tar of each layer dir (same order),
                                          // the bytes its diff_id is the digest of
};

// `isolab save -o FILE IMAGE...`. Each image's config must list in rootfs.diff_ids exactly its
// layer_dirs, in order; a layer is written from the tar the store kept for it
// (original_layer_tar: a layer loaded from another tool's archive), else re-archived with
// write_layer_tar; either must still give that diff_id, else the error names the layer
// ("the store is damaged"). A layer shared by
// several images is written once. index.json has one manifest per tag, annotated with
// `io.containerd.image.name` (the full name, "docker.io/library/hello:latest", as Docker 25+
// writes it) and `org.opencontainers.image.ref.name` (the same full name, as `podman save` writes
// it and as podman 4 reads it from multi-image archives; skopeo selects one with
// `oci-archive:FILE:docker.io/library/hello:latest`); an untagged image gets one manifest without
// names. manifest.json's RepoTags hold the full names too (podman 4 loads a multi-image archive
// through manifest.json and would otherwise call `hello:latest` localhost/hello:latest; Docker
// normalizes either spelling).
// The archive is built in OUT.tmp.PID (layer tars in OUT.tmp.PID.d/) and renamed to OUT, so a
// failed save leaves nothing. OUT "-" streams the archive to stdout (layer tars then go to
// $TMPDIR, default /var/tmp).
Status save_image_archive(const std::vector<ArchiveImage>& images, const std::string& out_path);

// `isolab load -i FILE` (FILE "-" = stdin). Reads an OCI layout archive (index.json, nested
// indexes followed for this machine's platform) or a `docker save` archive (manifest.json, legacy
// or 25+), optionally gzip/zstd/xz-compressed as a whole. Blobs stream to temp files under
// STAGING_DIR/.archive/ (removed before returning); each `blobs/sha256/<hex>` is checked against
// its name and every descriptor against its size and digest. Each distinct layer is extracted with
// extract_layer_tar into STAGING_DIR/<n>/, its uncompressed tar kept as STAGING_DIR/<n>.tar
// (layer_tars), and its diff_id (the sha256 of that tar) compared with the config's. Images are
// returned once per config (tags from all index entries and manifest.json rows merged); tags are
// familiar names ("docker.io/library/x:tag" and "localhost/x:tag" → "x:tag"; a bare ref.name such
// as "latest" names no repository and gives no tag). A layer shared by two images appears as the
// same staging dir in both. The caller moves the layer dirs into its store and removes STAGING_DIR
// afterwards, also after an error.
Result<std::vector<ArchiveImage>> load_image_archive(const std::string& in_path, const std::string& staging_dir);

// "hello:latest" / "docker.io/library/hello:latest" / "localhost/hello" → "hello:latest";
// "" when REF names no repository (BARE_IS_TAG: a ref without '/' or ':' is only a tag, the way
// Docker writes `org.opencontainers.image.ref.name`) or is a digest reference.
std::string familiar_image_name(const std::string& ref, bool bare_is_tag);
// "hello:latest" → "docker.io/library/hello:latest"; "me/app" → "docker.io/me/app:latest".
std::string full_image_name(const std::string& familiar);
// This machine's architecture in OCI words ("amd64", "arm64", ...), what `load` picks from a
// multi-platform index and `import` writes into a new config; "" for one IsoLab has no word for.
std::string host_oci_architecture();

}  // namespace isolab
