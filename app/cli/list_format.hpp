// What the listing commands (ps, images, network ls) print in Docker's words and shapes: the text
// forms of Docker's formatter structs (cli/command/formatter) and of go-units, used by the default
// tables, `--format TEMPLATE`, `--format json` and `--format '{{json .}}'`.
//
// Measured against the Docker 28.2 client: `--format json` prints one JSON object per line with
// the struct's fields in alphabetical order, every value a string (ps: Platform is null), and
// Go's HTML escaping in it ("\u003cnone\u003e").
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "app/cli/filters.hpp"
#include "sim/engine/images.hpp"
#include "sim/state/container.hpp"

namespace isolab {
class Engine;
}

namespace isolab::cli {

// Go's time.Time.String() of UNIX_NS in UTC: "2026-12-07 12:00:00 +0000 UTC". WITH_FRACTION adds
// the nanoseconds without their trailing zeros ("...:00.52 +0000 UTC"), as a network's CreatedAt;
// containers and images count whole seconds (Docker's API gives Unix seconds).
std::string go_time_text(int64_t unix_ns, bool with_fraction);
// go_time_text of an RFC 3339 time; "" when it cannot be read.
std::string go_time_text(const std::string& rfc3339, bool with_fraction);

// go-units' HumanSizeWithPrecision: decimal units, PRECISION significant digits ("4.26MB" with 3,
// "2.434MB" with 4 = HumanSize, "0B").
std::string go_human_size(int64_t bytes, int precision);

// Docker's Labels column: "k=v" sorted by key, joined by ",".
std::string labels_text(const std::map<std::string, std::string>& labels);

// Docker's ps fields over a container's mount points (what inspect lists under Mounts: every mount
// but --tmpfs): LocalVolumes counts the volumes (local driver), Mounts joins each one's volume name
// or bind source with ",", each cut to 15 characters unless NO_TRUNC.
int local_volume_count(const ContainerRecord& r);
std::string mounts_text(const ContainerRecord& r, bool no_trunc);

// Docker's `ps` asks the daemon for sizes only when -s is given or the template reads .Size: it
// runs the format as typed ("json" is literal text there, `{{json .}}` reads every field) on an
// empty struct. FIELDS are the struct's fields; true when FIELD's value reaches the output.
bool format_reads_field(const std::string& format, const std::vector<std::string>& fields,
                        const std::string& field, const std::string& struct_type);

// What the filters need of each image: its id, tags, config's rootfs.diff_ids, created and
// config.Labels.
std::vector<ImageFacts> image_facts(const std::vector<Image>& images);

// `docker ps -s`: the container's writable layer and, as "virtual", that plus its image's layers.
struct ContainerSize {
    int64_t rw = 0;
    int64_t root_fs = 0;
};
// The writable layer is the overlay's upper directory, or for a copied root file system the
// regular files `diff` reports added or changed; a simulated container has none.
ContainerSize container_size(Engine& e, const ContainerRecord& r);
// Docker's SIZE: "0B (virtual 4.26MB)".
std::string size_text(const ContainerSize& s);

}  // namespace isolab::cli
