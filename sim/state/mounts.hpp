// A container's mounts as the user asks for them: Docker's `-v`, `--mount`, `--tmpfs` and the
// image's VOLUME, in one typed list that the engine resolves (naming anonymous volumes, making
// host paths) and the runtime spec carries (sim/runtime/oci_spec.cpp). The parsers follow moby's
// volume/mounts/linux_parser.go and the CLI's opts/mount.go, with their errors word for word: a
// -v error is the daemon's ("invalid volume specification: 'a:b:c:d'"), a --mount field error the
// client's ("invalid argument ... for \"--mount\" flag: unexpected key 'x' in 'x=1'").
//
// Parsing never touches the file system: whether a bind source exists, or a volume is in use, is
// the engine's question at create time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/result.hpp"

namespace isolab {

enum class MountType { Volume, Bind, Tmpfs };
const char* mount_type_name(MountType t);  // "volume" | "bind" | "tmpfs"

// How a mount was asked for; inspect shows each in its own place (HostConfig.Binds, .Mounts,
// .Tmpfs, Config.Volumes) and Mode/Propagation differ between them, as in Docker.
enum class MountOrigin { VolumeFlag, MountFlag, TmpfsFlag, Image, VolumesFrom };

struct MountSpec {
    MountType type = MountType::Volume;
    MountOrigin origin = MountOrigin::VolumeFlag;
    // Volume: its name; "" for an anonymous one until the engine names it (64 hex digits).
    // Bind: an absolute, cleaned host path. Tmpfs: "".
    std::string source;
    std::string target;            // absolute and cleaned, never "/"
    // Where the source is on the host, filled by the engine at create: a volume's _data
    // (ROOT/volumes/NAME/_data), a bind's source; "" for tmpfs. inspect's Source.
    std::string host_path;
    bool readonly = false;
    std::string propagation;       // bind: rprivate (default) | private | rslave | slave | rshared | shared
    std::string mode;              // -v's third field as typed ("ro,z"), inspect's Mode
    bool anonymous = false;        // a volume the engine named: `rm -v` and `run --rm` remove it
    bool no_copy = false;          // volume: not seeded from the image (nocopy, volume-nocopy)
    bool create_source = false;    // bind from -v: a missing host path is made at start
    int64_t tmpfs_size = 0;        // bytes; 0 = the kernel's default (half of RAM)
    uint32_t tmpfs_mode = 0;       // 0 = 1777
    std::string tmpfs_options;     // --tmpfs's option text after the ':' ("size=64m,mode=1770"), as typed
    std::string as_typed;          // the flag's value, for HostConfig.Binds and error messages
    bool operator==(const MountSpec&) const = default;
};

// `-v [SOURCE:]TARGET[:MODE]` (moby ParseMountRaw): SOURCE absolute = a bind, else a volume name;
// no SOURCE = an anonymous volume. Error: the daemon's words, exit 125.
Result<MountSpec> parse_volume_flag(const std::string& text);
// `--mount type=bind|volume|tmpfs,source=...,target=...,readonly,...` (the CLI's opts/mount.go):
// a CSV of keys; errors name the flag value, exit 125. A relative bind source is made absolute
// against CWD, as Docker's CLI does since 23.0.
Result<MountSpec> parse_mount_flag(const std::string& text, const std::string& cwd);
// `--tmpfs /path[:OPTIONS]`: OPTIONS are mount(8) words (size=64m, mode=1770, exec, ...).
Result<MountSpec> parse_tmpfs_flag(const std::string& text);
// `-v ./site:/www`: a source that starts with "./" or is "." is made absolute against CWD (the
// Docker CLI's rule); others are left as typed (a name is a volume's).
std::string absolute_volume_source(const std::string& text, const std::string& cwd);

// Docker's local driver's rule for a volume name: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (two characters at
// least). The error is the daemon's ("\"a/b\" includes invalid characters for a local volume
// name, ...").
Status check_volume_name(const std::string& name);

// `--volumes-from CONTAINER[:MODE]` (moby ParseVolumesFrom): the container and the mode ("" keeps
// each mount's own, "ro" or "rw" sets it). Error: the daemon's words, exit 125.
struct VolumesFrom {
    std::string container;
    std::string mode;
};
Result<VolumesFrom> parse_volumes_from(const std::string& text);

// Two mounts on one target: Docker's "Duplicate mount point: /data" (exit 125).
Status check_duplicate_targets(const std::vector<MountSpec>& mounts);

// The mount(2) option words for a tmpfs mount: moby's defaults (noexec, nosuid, nodev) merged with
// the user's (a later word replaces an earlier one of its kind: exec clears noexec).
std::vector<std::string> tmpfs_mount_options(const MountSpec& m);

nlohmann::json to_json(const MountSpec& m);
MountSpec mount_from_json(const nlohmann::json& j);

}  // namespace isolab
