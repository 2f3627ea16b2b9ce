// `isolab pull`: an image from a registry into the image store (images.hpp).
//
// Steps: parse the name (reference.hpp) → the manifest (an index or list picks the platform) →
// the config and the layers are downloaded into ROOT/images/pull/<hex> (registry.hpp: a few at a
// time, each size- and sha256-checked before its final name) → each layer is extracted with
// extract_layer_tar (the same rules as `load`: no `..`, no absolute names, nothing written through
// a symlink) and its diff_id compared with the config's → add_layer, then store_config with the
// tag. The tag is written last, so a pull killed at any moment leaves no visible image; verified
// blobs stay in pull/ and the next pull uses them without fetching them again, then removes them.
//
// Progress is reported as Docker's messages (moby's distribution/pull_v2.go), one event per
// change; the front end draws them (redrawn in place on a terminal, status lines only when piped).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "sim/core/result.hpp"
#include "sim/engine/images.hpp"
#include "sim/engine/registry.hpp"

namespace isolab {

struct PullProgress {
    // ID "" : a line of its own ("latest: Pulling from library/busybox" has ID "latest").
    std::string id;      // the layer's short id (12 hex of its blob digest), or the tag
    std::string status;  // "Pulling fs layer", "Downloading", "Verifying Checksum", ...
    int64_t current = -1;  // with TOTAL: a progress bar (Downloading, Extracting)
    int64_t total = -1;
    bool layer = true;     // false for a message line of its own ("latest: Pulling from …")
};

struct PullRequest {
    std::string name;      // as typed: "busybox", "localhost:5000/app:v1", "x@sha256:…"
    std::string platform;  // --platform ("" = this machine's)
    RegistryCredentials credentials;
};

struct PullResult {
    std::string image_id;    // sha256:<config hex>
    std::string digest;      // the manifest digest the tag pointed at ("Digest: …")
    std::string familiar;    // "busybox:latest" (the store's tag)
    std::string full;        // "docker.io/library/busybox:latest" (what Docker prints last)
    bool up_to_date = false; // the store already had this image under this name
};

// The tags of NAME's repository on its registry (`pull -a`), in the registry's order.
Result<std::vector<std::string>> list_remote_tags(const std::string& name, const RegistrySettings& settings,
                                                  const RegistryCredentials& credentials);

// Errors: Docker's words (exit 1), e.g. "manifest for busybox:nope not found: manifest unknown:
// manifest unknown", the offline line, "unauthorized: authentication required".
Result<PullResult> pull_image(ImageStore& store, const PullRequest& request, const RegistrySettings& settings,
                              const std::function<void(const PullProgress&)>& progress);

}  // namespace isolab
