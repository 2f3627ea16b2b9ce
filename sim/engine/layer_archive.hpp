// Layer tars: the bridge between IsoLab's layer directories and OCI layers.
//
// A layer in the image store is a plain directory used as an overlayfs lowerdir, so deletions in
// it are OVERLAYFS whiteouts: a character device 0/0 named like the deleted file, and a directory
// whose lower content is hidden carries the xattr `trusted.overlay.opaque=y` (or
// `user.overlay.opaque=y` when the layer was made rootless with the overlay `userxattr` option).
// In an OCI layer tar the same facts are spelled as OCI whiteouts (image-spec layer.md): an empty
// file `.wh.NAME` next to the deleted NAME, and `.wh..wh..opq` inside an opaque directory. The
// functions here translate in both directions, through libarchive (never a hand-written tar
// codec).
//
// A layer's identity is its OCI diff_id: the sha256 of its UNCOMPRESSED tar. write_layer_tar is
// deterministic so that the same tree gives the same diff_id on any machine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "sim/core/result.hpp"

namespace isolab {

struct LayerTar {
    std::string diff_id;  // "sha256:<hex>" of the uncompressed tar
    int64_t size = 0;     // bytes of the uncompressed tar
};

// Writes layer directory DIR as an uncompressed tar (ustar, with pax extended headers only where
// a name, a size, an id or `security.capability` needs them) to TAR_PATH, or, when TAR_PATH is "",
// only computes the digest (the bytes stream through sha256 and are not kept). TAR_PATH appears
// complete or not at all (written to a temporary name, then renamed).
//
// Overlay whiteouts become OCI whiteouts: char 0/0 `a/b` → empty regular file `a/.wh.b` (same
// owner, permission bits and mtime as the device); an opaque dir `d` → entry `d/` plus
// `d/.wh..wh..opq`. The output is deterministic: entries sorted by name bytewise, names without
// "./", directories end with "/", numeric uid/gid with empty uname/gname, mtime in whole seconds,
// no atime/ctime, no xattrs except `security.capability`, hard links inside the layer as tar hard
// links (to the first name in sort order). The root directory itself is not an entry. Symlinks,
// fifos and char/block devices other than whiteouts are kept; sockets cannot be put in a tar and
// are skipped (Docker does the same).
Result<LayerTar> write_layer_tar(const std::string& dir, const std::string& tar_path);
// The same tar streamed to the open descriptor FD (`isolab export` to stdout or to a file): the
// bytes go out as they are made, so a failure leaves a truncated stream that the caller must
// discard. WHAT names the tree in errors ("container `web`"); DIR may be a /proc/self/fd/N path.
// One difference: names are not forced to binary pax headers (a `hdrcharset=BINARY` record on
// every entry, which GNU tar warns about once per entry); ASCII names give plain ustar entries.
Result<LayerTar> write_layer_tar_to_fd(const std::string& dir, int fd, const std::string& what);

// Extracts a layer tar (plain, gzip, zstd or xz, as libarchive detects) into DEST, which is
// created and must be empty or absent. OCI whiteouts become overlay whiteouts (mknod c 0 0, which
// needs root or a user namespace on Linux 5.8+; EPERM is reported as such) and `.wh..wh..opq`
// becomes the opaque xattr (`trusted.overlay.opaque=y` as real root, else `user.overlay.opaque=y`).
// Entries with absolute names, `..` components, or that would be written through a symlink or
// hard-link outside DEST are refused, naming the entry. Keeps modes, owners (when root), mtimes,
// symlinks, hard links and `security.capability`; every other xattr in the tar is dropped (a
// layer must not be able to plant `trusted.overlay.*` redirects). Returns the diff_id of the
// UNCOMPRESSED stream, so a gzip layer gives the same diff_id as its plain tar. When PLAIN_COPY is
// not empty, that uncompressed stream is also written there (created 0600, the exact bytes the
// diff_id is the digest of). On error DEST (and PLAIN_COPY) may hold part of the layer; the caller
// removes them.
Result<LayerTar> extract_layer_tar(const std::string& tar_path, const std::string& dest,
                                   const std::string& plain_copy = "");

// The tar a layer directory was loaded from, when the store keeps it: DIR + ".tar" (images.hpp).
// A tar made by another tool (podman, skopeo, Go's archive/tar) orders and spells its headers
// differently from write_layer_tar, so re-archiving its extraction gives another digest; the
// layer's diff_id is the digest of the bytes the archive carried, and those bytes are kept to be
// written again by `save`. "" when DIR has none (its own write_layer_tar gives its diff_id).
std::string original_layer_tar(const std::string& dir);
// sha256 of a file's bytes, "sha256:<hex>".
Result<std::string> file_diff_id(const std::string& path);

// Incremental sha256 (OpenSSL EVP) for streams too big to hold in memory; shared with the image
// archive code.
class Sha256Stream {
public:
    Sha256Stream();
    ~Sha256Stream();
    Sha256Stream(const Sha256Stream&) = delete;
    Sha256Stream& operator=(const Sha256Stream&) = delete;
    void update(const void* data, size_t n);
    void update(const std::string& s) { update(s.data(), s.size()); }
    std::string hex();  // lowercase; call once, at the end

private:
    void* ctx_;  // EVP_MD_CTX*
};

// The name of the overlay opaque xattr this process writes: `trusted.overlay.opaque` as root of
// the initial user namespace, `user.overlay.opaque` otherwise (overlay's `userxattr` option).
const char* overlay_opaque_xattr_for_writing();

}  // namespace isolab
