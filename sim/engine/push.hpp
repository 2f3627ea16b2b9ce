// `isolab push`: an image from the store (images.hpp) to a registry, as Docker 28's daemon pushes
// it (moby's distribution/push_v2.go), through the registry client (registry.hpp).
//
// For each tag: the layers, top first in the messages ("<12 hex of the diff_id>: Preparing"), then
// for each layer, in order:
//   1. a blob this store knows the layer by on this registry (a pull or an earlier push recorded
//      it, see LayerSource) and that the target repository has (HEAD): "Layer already exists";
//   2. one known from another repository of the same registry: a cross-repository mount (POST
//      ?mount=&from=): "Mounted from <path>" on 201; a 202 opens an ordinary upload instead;
//   3. otherwise the layer's tar (the bytes its diff_id is the sha256 of: the tar `load` kept, or
//      write_layer_tar's) is gzip-compressed into ROOT/images/push/ and, unless the repository
//      has that digest already (HEAD: "Layer already exists"), uploaded (POST, PATCH, PUT
//      ?digest=): "Pushing" with the bytes sent, then "Pushed".
// Then the config blob (HEAD, upload if missing) and the Docker schema 2 manifest (PUT with its
// media type); the last line is "<tag>: digest: sha256:… size: N". The manifest's digest becomes
// the image's RepoDigest.
//
// Compression is deterministic (zlib level 6, no name and no time in the gzip header), so the same
// image pushed twice, from this store or another, has the same layer and manifest digests. A pulled
// image pushed back to its registry reuses the layer blobs it was pulled as (step 1 or 2), so its
// layers keep their digests; the manifest is IsoLab's schema 2 rendering and differs from the
// original when that was an OCI manifest or spelled differently. A layer whose only known blob is
// zstd or uncompressed is compressed anew (a schema 2 manifest names gzip layers only).
//
// Uploads run one after the other on the calling thread (registry.hpp: libcurl is used from one
// thread in the static binary); Docker's daemon runs five at once. So "Waiting" is said of the
// layers beyond the fifth, as Docker would.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "sim/core/result.hpp"
#include "sim/engine/images.hpp"
#include "sim/engine/pull.hpp"
#include "sim/engine/registry.hpp"

namespace isolab {

// A blob a layer is known by on a registry (Docker's distribution metadata, v2metadata-by-diffid):
// recorded by pull for each layer it fetched and by push for each layer it pushed or found.
// Stored in ROOT/images/layer-sources.json: {"sha256:<diff_id>": [{"digest", "repository",
// "mediaType", "size"}]}, newest first, at most 8 per layer. It is a cache: a missing or unreadable
// file only means layers are compressed and uploaded again.
struct LayerSource {
    std::string digest;      // the blob: "sha256:<hex>" of the compressed bytes
    std::string repository;  // "127.0.0.1:5000/app", "docker.io/library/busybox"
    std::string media_type;  // the blob's type as the manifest named it
    int64_t size = -1;
};
std::vector<LayerSource> layer_sources(const ImageStore& store, const std::string& diff_id);
// Records each (diff_id, source) pair in one rewrite of the file (under the store's lock).
Status add_layer_sources(const ImageStore& store, const std::vector<std::pair<std::string, LayerSource>>& sources);

struct PushRequest {
    std::string name;      // as typed: "localhost:5000/app", "localhost:5000/app:v1"
    bool all_tags = false; // -a: every local tag of the repository (NAME has no tag)
    std::string platform;  // --platform: the image must be this platform
    RegistryCredentials credentials;
};

struct PushedTag {
    std::string tag;
    std::string digest;  // the manifest's
    size_t size = 0;     // the manifest's bytes
};

// Docker's messages arrive as PullProgress events (the same drawing): "The push refers to
// repository [...]" (id ""), per layer (id = 12 hex of the diff_id) Preparing, Waiting, Pushing
// (current/total bytes of the compressed blob), Pushed, Layer already exists, Mounted from X, and
// "<tag>: digest: … size: N" (layer false).
// Errors in Docker's words, exit 1: "An image does not exist locally with the tag: NAME", "tag does
// not exist: NAME:TAG", the registry's ("denied: requested access to the resource is denied",
// "unauthorized: authentication required"), the offline line. Nothing is sent to the registry when
// the image is not in the store.
Result<std::vector<PushedTag>> push_image(ImageStore& store, const PushRequest& request, const RegistrySettings& settings,
                                          const std::function<void(const PullProgress&)>& progress);

// Writes the gzip of file IN to OUT (created 0600): zlib level 6, an empty gzip header (no name,
// time 0), so the same input always gives the same bytes. Returns "sha256:<hex>" of OUT's bytes
// and their count.
struct CompressedBlob {
    std::string digest;
    int64_t size = 0;
};
Result<CompressedBlob> gzip_file(const std::string& in, const std::string& out);

}  // namespace isolab
