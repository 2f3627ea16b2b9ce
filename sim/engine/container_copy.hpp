// `cp` both ways between a container and the host (issue 15, items 6 and 7): Docker 28's path
// rules and words, with every path inside the container resolved in the container's root.
//
// The shape follows Docker's split, in one process: the "daemon" half archives a path of the
// container into a tar stream, or extracts a tar stream into a directory of the container; the
// "client" half decides, from what the source and the destination are, which directory to
// extract into and what the top entry is called (go-archive's CopyInfo / PrepareArchiveCopy),
// and archives or extracts the host's side. The two halves meet in a pipe, so `-` (a tar on
// stdout or stdin) is the same code as a copy to or from a host path, and the byte count Docker
// reports ("Successfully copied 2.05kB to ...") is the size of that tar.
//
// Where the container's files are seen (ContainerFs):
//   running or paused: `/proc/PID/root` of its PID 1 (checked to be the recorded process), the
//     container's own mount namespace: its volumes and bind mounts are where it sees them;
//   created or exited: a mount tree made in a child process, in a private mount namespace: the
//     overlay of its layers with its own writable layer as upperdir (or the copied root, bound
//     onto itself), its volumes and bind mounts at their targets (each target resolved inside the
//     tree), handed back as one detached mount tree (open_tree(2)) over a socket. The tree lives
//     exactly as long as the descriptor. The container's lock is held while it is open, so a
//     `start` waits for the copy (two overlays on one upperdir would corrupt it).
//
// Safety (CVE-2018-15664, CVE-2019-14271): nothing here runs a program or loads a library, and
// nothing reads the container's /etc/passwd; tar is libarchive, in process. Every path inside the
// container goes through safe::Root (openat2 RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) on the
// root descriptor. Below the directory a copy starts from, every step is an *at() call on a held
// directory descriptor with O_NOFOLLOW: a symlink in the tree being archived is archived as a
// symlink, and a symlink in an archive being extracted is created as a symlink and never
// followed; an entry that would be written below a symlink, or above the directory extracted
// into (`../x`), is refused naming the entry. Only SRC_PATH's own last component is followed, with
// -L, and only inside the root. The host's paths are the user's own and are followed as Docker's
// client follows them.
//
// Ownership, as Docker documents it (docs.docker.com, `docker container cp`): files copied into a
// container belong to its root unless -a keeps the source's uid/gid; files copied out belong to
// the caller unless -a keeps them (when the caller may set them: as root, or its own ids). A
// deliberate difference: Docker's daemon has long kept the source's ids on a copy in even without
// -a (moby#34096, docker/cli#4382); IsoLab does what the documentation says. Files copied out
// without -a lose their setuid and setgid bits (they would belong to the caller); device nodes are
// never made on the host (a container could hand out its disk); extended attributes are not
// copied either way.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/core/files.hpp"
#include "sim/core/result.hpp"
#include "sim/core/safe_path.hpp"
#include "sim/state/container.hpp"

namespace isolab {

class Store;

// ---------------------------------------------------------------------------------------------
// Docker's path rules (go-archive copy.go and the CLI's cp.go), as pure functions.

// `CONTAINER:PATH` or a local path (splitCpArg): an absolute path, a word without ':' or one
// starting with '.' is local. CONTAINER is "" for a local path.
struct CpArg {
    std::string container;
    std::string path;
};
CpArg split_cp_arg(const std::string& arg);

// Go's filepath.Clean: "a//b/../c/" → "a/c", "" → ".", "/.." → "/".
std::string go_clean(const std::string& path);
// CLEANED with the trailing "/." or "/" of ORIGINAL put back (PreserveTrailingDotOrSeparator).
std::string preserve_trailing_dot_or_separator(const std::string& cleaned, const std::string& original);
// PATH ends with "/" or its last element is "." (assertsDirectory).
bool asserts_directory(const std::string& path);
// Directory and last element of the cleaned PATH, keeping a final "." (SplitPathDirEntry):
// "/a/b/" → ("/a", "b"), "/a/b/." → ("/a/b", "."), "/" → ("/", "/").
std::pair<std::string, std::string> split_path_dir_entry(const std::string& path);

// What one side of a copy is (CopyInfo): PATH as Docker would name it, whether it exists and is
// a directory, and (a source followed with -L) the name its entries carry instead of the link
// target's.
struct CopyInfo {
    std::string path;
    bool exists = false;
    bool is_dir = false;
    std::string rebase_name;
};

// Where the archive of SRC is extracted for DST, and what its top entry is called there
// (PrepareArchiveCopy): into DST itself when it is a directory; else into DST's parent under
// DST's name. Errors, the CLI's words (exit 1): "cannot copy directory" (a directory onto a
// file), "no such directory" (a file onto a missing `DIR/`).
struct CopyPlan {
    std::string dest_dir;
    std::string top_name;
};
Result<CopyPlan> plan_copy(const CopyInfo& src, const CopyInfo& dst);

// The name the top entry of SRC's archive carries in a tar stream: the last element of SRC's
// path ("." for `DIR/.`, whose entries are then `./NAME`; "." for the root itself).
std::string archive_top_name(const CopyInfo& src);

// Docker's ValidateOutputPath for a host destination, "" when fine: "invalid output path:
// directory \"/x\" does not exist", "invalid output path: \"/dev/null\" must be a directory or a
// regular file: got a device".
std::string validate_output_path(const std::string& path);

// ---------------------------------------------------------------------------------------------
// The container's file system, as cp sees it.

class ContainerFs {
public:
    enum class Access { Read, Write };
    // REF as the user typed it (Docker's lookup). Errors: "No such container: REF" (exit 1), a
    // simulated container or one being removed (one line, exit 1), a mount that fails.
    static Result<ContainerFs> open(const Store& store, const std::string& ref, Access access);

    const ContainerRecord& record() const { return rec_; }
    const safe::Root& root() const { return root_; }
    bool live() const { return live_; }  // seen through its running (or paused) PID 1

private:
    ContainerRecord rec_;
    FileLock lock_;  // held for a stopped container, while the view is open
    safe::Root root_;
    bool live_ = false;
};

// The descriptor of a stopped container's file system with its volumes and bind mounts, writable
// when WRITABLE (see the top of this file). Exposed for the tests; ContainerFs::open calls it.
Result<UniqueFd> open_stopped_view(const Store& store, const ContainerRecord& rec, bool writable);

// A read-only view of an image's merged file system (LAYERS bottom first; overlay `userxattr`
// when ROOTLESS), made the same way in a child's private mount namespace: the build's
// `COPY --from` reads a stage through it with safe::Root. EMPTY_DIR: an empty directory, the view
// of no layers and the second lower layer of one.
Result<UniqueFd> open_layers_view(const std::vector<std::string>& layers, bool rootless, const std::string& empty_dir);

// ---------------------------------------------------------------------------------------------
// The two halves' tar code, on descriptors (host or container alike).

struct ArchiveSource {
    int fd = -1;             // the top object, O_PATH (a symlink itself when not followed)
    std::string top_name;    // its entry's name; "." = its contents under "./"
};
// Writes the tree at SOURCE as an uncompressed tar to OUT_FD (Docker's layout: ustar, pax only
// where needed, directories named "d/", numeric ids, mtimes in seconds, hard links as links).
// Returns the bytes written. WHAT names the tree in errors.
Result<int64_t> write_tree_tar(const ArchiveSource& source, int out_fd, const std::string& what);

enum class Ownership { Caller, KeepArchived, Root };
struct ExtractOptions {
    Ownership owner = Ownership::Caller;
    bool clear_setid = false;     // drop setuid/setgid bits (a copy out without -a)
    bool allow_devices = true;    // false: a device node is refused (the host side)
    std::string shown_dir;        // the directory's name in messages ("/tmp", "/home/u/out")
};
// Extracts the tar read from IN_FD (plain, gzip, xz or zstd) into the directory DIR_FD. Docker's
// Untar with NoOverwriteDirNonDir: an existing directory is not replaced by a file nor a file by a
// directory ("cannot overwrite directory \"/tmp/x\" with non-directory \"/tmp\""); other existing
// files are replaced. See the top of this file for what is refused.
Status extract_tar(int in_fd, int dir_fd, const ExtractOptions& options);

// ---------------------------------------------------------------------------------------------
// The whole copy, Docker's client and daemon together. Errors carry the CLI's whole line
// (with "Error response from daemon: " where Docker's daemon says it) and exit 1.

struct CopyOptions {
    bool follow_link = false;  // -L
    bool archive = false;      // -a
};
struct CopyResult {
    int64_t bytes = 0;       // the tar's size, what Docker's summary line reports
    std::string shown_dest;  // "/abs/host/path" or "CONTAINER:PATH", as the summary names it
};

// `cp CONTAINER:SRC_PATH DEST`: DEST is "-" (the tar goes to OUT_FD) or a host path, made
// absolute by the caller with its trailing "/" or "/." kept.
Result<CopyResult> copy_from_container(const Store& store, const std::string& container, const std::string& src_path,
                                       const std::string& dest, int out_fd, const CopyOptions& options);
// `cp SRC CONTAINER:DEST_PATH`: SRC is "-" (a tar read from IN_FD, extracted into DEST_PATH, which
// must be a directory) or an absolute host path.
Result<CopyResult> copy_to_container(const Store& store, const std::string& container, const std::string& src,
                                     const std::string& dest_path, int in_fd, const CopyOptions& options);

}  // namespace isolab
