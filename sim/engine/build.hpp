// `isolab build`: a Dockerfile becomes an image, one step at a time, as Docker's classic builder
// does it and prints it ("Step 2/5 : RUN ...").
//
// Each step starts from the image made so far (held in memory: the engine can run a container on
// an image that is not stored yet) and makes either a new layer or only new settings:
//   FROM        the base image's config and layers
//   RUN         a real container on the runtime; its writable layer becomes the step's layer
//   COPY, ADD   files from the build context staged into a new layer directory
//   the rest    settings only (ENV, CMD, ENTRYPOINT, WORKDIR, USER, EXPOSE, LABEL, ...)
// The image is stored and tagged only when every step succeeded. A failed build removes the
// layers it made and its containers: no partial image is ever visible.
//
// Multi-stage builds (BuildKit's rules): the Dockerfile is split into stages at each FROM; only
// the target stage (--target, or the last) and the stages it needs through `FROM stage` and
// `COPY --from` are built, the others are named as skipped. A stage's result stays in memory
// (its layers are in the store); only the target's image is stored and tagged, so intermediate
// stages are no images of their own (their layers stay as build cache). `COPY --from` reads a
// stage or a local image through a read-only overlay of its layers (open_layers_view), every path
// resolved inside it with safe::Root. A name that is neither a stage nor a local image is Docker's
// "pull access denied" (IsoLab cannot pull yet). The base image's ONBUILD triggers run right after
// its FROM and are not inherited.
//
// Build cache: the config after each step is kept under images/build-cache/<key>, where the key
// is the sha256 of the parent config, the step's text and (COPY/ADD) the digest of the staged
// files. A step whose key is known and whose layers are all still in the store is skipped
// (" ---> Using cache"), so an unchanged rebuild gives the same image id.
//
// The build context and the image are trees the Dockerfile's author controls: every source is
// resolved inside the context (a symlink `hd -> /host/dir` means `<context>/host/dir`, as in
// Docker) and every destination inside the layer being staged (`COPY f /../../x` means `/x`), both
// through safe::Root, and files are copied descriptor by descriptor, never by a path the kernel
// would follow out of either tree.
//
// Crash consistency: a build keeps its staged layers in one work folder named after its process
// (ROOT/images/layers/.build-PID-START-RAND) and labels its intermediate containers
// `org.isolab.build.owner=PID:START`. Both go when the build ends, on every path (an error, SIGINT
// or SIGTERM through BuildOptions::interrupted); what a `kill -9` left is collected by
// collect_build_leftovers at the start of the next build.
#pragma once

#include <csignal>
#include <ostream>
#include <string>
#include <vector>

#include "sim/core/result.hpp"
#include "sim/engine/engine.hpp"

namespace isolab {

struct BuildOptions {
    std::string context;                  // the build context directory
    std::string dockerfile;               // "" = CONTEXT/Dockerfile
    std::vector<std::string> tags;        // -t NAME[:TAG], checked before anything is built
    std::vector<std::string> build_args;  // --build-arg KEY=VALUE (or KEY: taken from our env)
    bool no_cache = false;
    std::string target;                   // --target STAGE: build up to that stage ("" = the last)
    // The Dockerfile's text when it came from stdin (`build -`, `build -f - PATH`), with
    // has_dockerfile_text set; CONTEXT is "" for `build -` (no context: COPY/ADD have nothing to read).
    std::string dockerfile_text;
    bool has_dockerfile_text = false;
    // --progress: Classic prints Docker's `Step 1/6 :` lines (the classic builder's output, and
    // IsoLab's `auto`); Plain prints BuildKit's `#1 [internal] load build definition` lines.
    enum class Progress { Classic, Plain, Quiet } progress = Progress::Classic;
    bool quiet = false;                   // -q: print only the image id
    // Set to a signal number by the front end's SIGINT/SIGTERM handler: the build stops at the
    // next check (between steps, every 20 ms of a RUN, every copied file), removes what it made
    // and fails with exit code 128 + the signal. Null: never interrupted.
    const volatile std::sig_atomic_t* interrupted = nullptr;
};

// The label every intermediate container of a build carries: "PID:START" of the building process
// (START is /proc/PID/stat field 22, so a recycled pid is not mistaken for the owner).
inline constexpr const char* kBuildOwnerLabel = "org.isolab.build.owner";

// Builds, printing progress (and RUN output) to OUT. Returns the image id ("sha256:...").
// Errors: exit 1 for Dockerfile and step failures ("Dockerfile:3: unknown instruction: RUNN",
// "The command '/bin/sh -c false' returned a non-zero code: 1"), 125 for bad flags.
Result<std::string> build_image(Engine& engine, const BuildOptions& options, std::ostream& out);

// Removes what builds whose process is gone left behind: their work folders (staged layers,
// unpacked tars), the layers they added that no image names, and their intermediate containers
// (running or not: nobody will read them). A build that is still running is never touched.
// Called at the start of every build; `system reset` removes everything anyway. Never fails: a
// leftover that cannot be removed now is tried again next time. Returns how many were removed.
int collect_build_leftovers(Engine& engine);

// `commit --change` / `import --change`: applies Dockerfile instructions that change only
// settings (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR, STOPSIGNAL) to CONFIG, an
// image config's "config" object. Anything else is refused by name (Docker's list).
Status apply_changes(nlohmann::json& config, const std::vector<std::string>& changes);

}  // namespace isolab
