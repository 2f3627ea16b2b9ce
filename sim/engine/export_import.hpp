// `isolab export` and `isolab import`: a container's file system as a tar, and a tar as a new
// one-layer image. Both are built from the pieces `bundle`, `save` and `load` already trust:
// oci::open_merged_root for the container's view, write_layer_tar's deterministic libarchive
// writer for the tar, extract_layer_tar (the loader's extraction, the only one) for the hostile
// input, and apply_changes (`commit --change`) for the settings.
#pragma once

#include <string>
#include <vector>

#include "sim/core/result.hpp"

namespace isolab {

class Engine;

// `docker export [-o FILE] CONTAINER`: REF's whole file system as the container sees it (image
// layers and writable layer, whiteouts applied), running, paused or stopped, as an uncompressed
// tar in write_layer_tar's format (sorted names without "./", numeric owners, hard links as
// links, no root entry). OUT_PATH "-" streams to descriptor 1 (the caller checks it is not a
// terminal); a file appears complete or not at all (written as OUT.tmp.PID, then renamed), as
// Docker's CopyToFile does. The container is not paused: like Docker's export, files that change
// meanwhile may be caught half-way (a file that changes size is reported as an error instead).
// Appends an "export" event.
Status export_container(Engine& engine, const std::string& ref, const std::string& out_path);

struct ImportOptions {
    std::string source;                // a local tar (plain, gzip, zstd or xz), or "-" for stdin
    std::string tag;                   // REPOSITORY[:TAG]; "" = untagged
    std::string message;               // "" = Docker's "Imported from -"
    std::vector<std::string> changes;  // -c: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, WORKDIR
};

// `docker import`: a new image of one layer, extracted from SOURCE exactly as `load` extracts a
// layer (extract_layer_tar: absolute names, `..`, writes through symlinks and hard links out of
// the layer are refused with the entry's name, device nodes kept as the loader keeps them, only
// `security.capability` of the xattrs), with a config of CHANGES applied to an empty one, this
// machine's os and architecture, and one history entry whose comment is MESSAGE. Nothing is left
// on failure (the staging folder goes; a layer no image uses is removed). Returns "sha256:<id>".
// Appends an "import" event.
Result<std::string> import_image(Engine& engine, const ImportOptions& options);

}  // namespace isolab
