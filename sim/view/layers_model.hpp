// The "Images & layers" tab as data (GUI-free): an image drawn as a stack of read-only slabs,
// lowest first, each with the history step that made it, the settings-only steps (ENV, CMD,
// EXPOSE: `empty_layer` in the image config's history) as thin lines between them, and — when a
// container of that image is selected — its writable layer on top: the image is a template, the
// container only adds a thin layer of its own changes.
//
// Matching history to layers follows the OCI image-config rule (image-spec config.md, "history"):
// the entries are oldest first, and each entry WITHOUT empty_layer made the next diff_id of
// rootfs.diff_ids, in order. The inputs are plain values (an Image, sizes measured by the caller
// on a worker thread), so the unit tests need no disk.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/engine/images.hpp"
#include "sim/view/snapshot.hpp"

namespace isolab::view {

enum class SlabKind {
    Layer,     // a read-only layer of the image
    Settings,  // a history step that changed only the config (empty_layer): a thin line
    Writable,  // the selected container's own layer (overlayfs upperdir)
};

struct Slab {
    SlabKind kind = SlabKind::Layer;
    std::string diff_id;        // "sha256:<hex>" (Layer)
    std::string short_id;       // 12 hex (Layer)
    std::string dir;            // the layer directory / the writable layer's directory
    int64_t size = -1;          // bytes; -1 = not measured (yet)
    std::string step;           // the history step, readable ("COPY index.html /var/www/")
    std::string created;        // RFC 3339 of the step ("" = unknown)
    std::string comment;        // the history entry's comment (commit -m)
    bool no_history = false;    // Layer: no history entry names it (an imported image)
    bool missing_layer = false; // Layer: history names a layer rootfs.diff_ids does not have
    int changes = -1;           // Writable: entries of `diff`; -1 = unknown
};

// What the caller knows of the selected container's writable layer.
struct WritableLayer {
    std::string container;      // name
    std::string dir;            // ROOT/containers/ID/upper, or .../rootfs for a copied root
    int64_t size = -1;
    int changes = -1;
    bool copied_root = false;   // rootfs_mode "copy": the whole file system was copied
};

struct LayerStack {
    std::string image_id, short_id;
    std::string title;          // first tag, or the short id of an untagged image
    std::vector<Slab> slabs;    // lowest first: Layer / Settings interleaved, Writable last
    int layer_count = 0;        // read-only layers
    int settings_count = 0;
    int64_t image_size = 0;     // sum of the measured read-only layers
    bool has_writable = false;
};

// SIZES: layer directory → bytes (ImageStore::layer_size); directories not in it stay -1.
// WRITABLE (may be null) goes on top.
LayerStack build_layer_stack(const Image& image, const std::map<std::string, int64_t>& sizes,
                             const WritableLayer* writable = nullptr);

// One row of the image list.
struct ImageRow {
    std::string id, short_id;
    std::string tags;           // "isolab/web:latest, web:1" or "<none>"
    std::string created;        // "2024-05-01 12:00" from the config's created
    int64_t size = -1;          // -1 until every layer is measured
    int layers = 0;
    int containers = 0;         // containers of the snapshot made from it
};
std::vector<ImageRow> image_rows(const WorldSnapshot& w, const std::map<std::string, int64_t>& sizes);

// The image the tab shows: CHOSEN (an id the learner clicked) while it exists, else the selected
// container's image, else the first. "" when there are no images.
std::string pick_image(const WorldSnapshot& w, const std::string& chosen, const std::string& selected_container);

// "sha256:0123456789abcdef…" → "0123456789ab"; other strings: their first 12 characters.
std::string short_id(const std::string& id);
// A history entry's created_by as a learner reads it: Docker's "/bin/sh -c #(nop)  CMD [..]"
// becomes "CMD [..]", "/bin/sh -c apk add x" becomes "RUN apk add x", IsoLab's "isolab: " prefix
// goes; anything else is kept.
std::string step_text(const std::string& created_by);
// "2024-05-01T12:00:03.123Z" → "2024-05-01 12:00"; unknown shapes are returned as they are.
std::string short_time(const std::string& rfc3339);

}  // namespace isolab::view
