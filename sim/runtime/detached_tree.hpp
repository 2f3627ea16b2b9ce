// A mounted tree handed back as one descriptor, with nothing left mounted anywhere: a forked child
// enters a private mount namespace (without root, a user namespace that maps only the caller's own
// ids to root, which grants CAP_SYS_ADMIN over that namespace's mounts and nothing beyond them),
// mounts the base and the binds on a temporary point, and sends back a detached clone of the whole
// tree (open_tree(OPEN_TREE_CLONE|AT_RECURSIVE), Linux 5.2+). When the child exits its namespace
// goes away; the tree lives exactly as long as the descriptor, so there is nothing to unmount.
//
// Used by `export`, `bundle` (oci::open_merged_root), `cp` and `COPY --from` of a stopped container
// or a build stage (container_copy.cpp).
#pragma once

#include <string>
#include <vector>

#include "sim/core/files.hpp"
#include "sim/core/result.hpp"

namespace isolab {

// One bind of the tree: SOURCE (a host path) onto TARGET inside it.
struct TreeBind {
    std::string source;
    std::string target;
    bool readonly = false;
};

struct DetachedTree {
    // The base: an overlay with OVERLAY_OPTIONS ("lowerdir=…[,upperdir=…,workdir=…]"), or, when
    // BIND_SOURCE is set, a recursive bind of that directory.
    std::string overlay_options;
    std::string bind_source;
    std::string base_words;  // what the base is, for errors: "the container's overlay"
    // Binds in order, parents first; each target is resolved inside the tree (safe::Root) and the
    // bind goes onto the resolved descriptor (runc's fix for CVE-2021-30465). A source that does
    // not exist is skipped (nothing there yet: nothing to show).
    std::vector<TreeBind> binds;
    // A writable tree makes missing bind targets, as the runtime would at start; a read-only one
    // (the overlay mounted MS_RDONLY) makes nothing and skips a bind whose target is missing.
    bool writable = false;
};

// The tree's descriptor. Errors start with WHAT and carry EXIT_CODE.
Result<UniqueFd> open_detached_tree(const std::string& what, const DetachedTree& tree, int exit_code = 125);

}  // namespace isolab
