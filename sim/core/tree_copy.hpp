// Copying a directory tree that someone else controls (an image layer, a container's files) into
// another, without ever following a symlink on either side: every step is an *at() call on a
// directory descriptor IsoLab holds, every open has O_NOFOLLOW, a symlink is copied as a symlink.
// A tree joined as text and handed to std::filesystem::copy follows a symlink that an earlier
// layer planted at a destination directory (`etc -> /host/dir`, then `etc/passwd`) out of the
// tree; this cannot.
//
// Used to seed a volume with the image's files at its mount point (Docker's copy of an empty
// volume) and to assemble a copied root file system from image layers.
#pragma once

#include <string>

#include "sim/core/result.hpp"

namespace isolab {

struct TreeCopyOptions {
    // Keep uid/gid (root only; otherwise the caller's ids). Mode bits and mtimes are always kept.
    bool keep_owner = true;
    // Overlay layer semantics: a 0/0 character device deletes the name below it, an opaque
    // directory (trusted./user.overlay.opaque = y) hides what was below it. An entry that exists in
    // TO is replaced (a directory onto a directory merges).
    bool layer = false;
};

// Copies the contents of directory FROM_DIR into directory TO_DIR (both descriptors are only
// read from; neither is closed). WHAT names the copy in errors. Nesting deeper than 4096 levels
// is an error, not a stack overflow.
Status copy_tree_at(int from_dir, int to_dir, const TreeCopyOptions& options, const std::string& what);

// The same on two paths the caller trusts (each opened with O_DIRECTORY | O_NOFOLLOW).
Status copy_tree(const std::string& from, const std::string& to, const TreeCopyOptions& options);

}  // namespace isolab
