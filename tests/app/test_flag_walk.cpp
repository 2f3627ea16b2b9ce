// Issue 14, item 1: every flag `isolab VERB --help` lists does what Docker's does, or is refused.
// This walks each verb's help text and requires, for each flag, one proof:
//   Test        a named integration or security test case whose body types the verb and the flag
//               (the case asserts the flag's effect against the real engine);
//   SameAsRun   `create` takes run's container flags: one flag table, one spec (test_action proves
//               both print back alike), so run's proof holds;
//   Refused     the parser refuses the flag with a one-line message saying what to use (exit 125);
//   SameAsDocker the flag's effect cannot show on IsoLab's state, exactly as on Docker's with the same
//               state (the reason is written down).
// A new flag without a proof, a renamed test, or a test that stops typing its flag fails here.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "app/cli/args.hpp"

namespace {

struct Proof {
    enum Kind { Test, SameAsRun, Refused, SameAsDocker };
    const char* verb;
    const char* flag;
    Kind kind;
    const char* detail;  // the test case's name, the refused line, or the reason
};

const Proof kProofs[] = {
    {"cp", "--archive", Proof::Test, "cp: -a keeps uid/gid; without it a copy in belongs to the container's root and a copy out to the caller"},
    {"cp", "--follow-link", Proof::Test, "cp: -L follows a symlink in SRC_PATH inside the container; without it the link is copied"},
    {"cp", "--quiet", Proof::Test, "cp: the summary line on a terminal, and -q, as Docker 28"},
    {"export", "--output", Proof::Test, "export: a running container's file system, deletions applied, imports as an image that runs"},
    {"import", "--change", Proof::Test, "export: a running container's file system, deletions applied, imports as an image that runs"},
    {"import", "--message", Proof::Test, "export: a stopped container to stdout, imported from stdin; import -c sets CMD; -m the comment"},
    {"run", "--attach", Proof::Test, "sig-proxy: Ctrl-C (SIGINT) to `run` without -t reaches the container; --sig-proxy=false leaves it running"},
    {"run", "--cap-add", Proof::Test, "security: --cap-drop and --cap-add change the capabilities the process holds"},
    {"run", "--cap-drop", Proof::Test, "security: --cap-drop and --cap-add change the capabilities the process holds"},
    {"run", "--cpus", Proof::Test, "flag effects: run --cpus, --env-file, --pull never, --stop-signal, --stop-timeout; exec --env-file; stop --signal"},
    {"run", "--detach", Proof::Test, "sig-proxy: Ctrl-C (SIGINT) to `run` without -t reaches the container; --sig-proxy=false leaves it running"},
    {"run", "--detach-keys", Proof::Test, "detach keys: ctrl-p ctrl-q leaves `run -it` running; attach --detach-keys joins and leaves again; exit ends attach"},
    {"run", "--entrypoint", Proof::Test, "user: -u NAME or UID:GID gives the primary group as a supplementary one; exec -u the same; a relative command resolves against the working directory"},
    {"run", "--env", Proof::Test, "exec joins the container; logs, wait, top, restart policy, --rm"},
    {"run", "--env-file", Proof::Test, "flag effects: run --cpus, --env-file, --pull never, --stop-signal, --stop-timeout; exec --env-file; stop --signal"},
    {"run", "--health-cmd", Proof::Test, "health: a passing check becomes healthy and a failing one unhealthy after its retries; ps shows and filters Docker's words"},
    {"run", "--health-interval", Proof::Test, "health: a passing check becomes healthy and a failing one unhealthy after its retries; ps shows and filters Docker's words"},
    {"run", "--health-retries", Proof::Test, "health: a passing check becomes healthy and a failing one unhealthy after its retries; ps shows and filters Docker's words"},
    {"run", "--health-start-interval", Proof::Test, "health: the start period holds failures back and the start interval probes faster until the first success"},
    {"run", "--health-start-period", Proof::Test, "health: the start period holds failures back and the start interval probes faster until the first success"},
    {"run", "--health-timeout", Proof::Test, "health: a probe past --health-timeout is killed with its children and recorded in Docker's words"},
    {"run", "--no-healthcheck", Proof::Test, "health: --no-healthcheck disables the image's HEALTHCHECK; a --health-* flag overrides one field of it"},
    {"run", "--hostname", Proof::Test, "container: PID 1, hostname, root file system, no host processes, its own network"},
    {"run", "--init", Proof::Test, "init: --init runs docker-init as PID 1, which forwards stop's SIGTERM and reaps orphans"},
    {"run", "--interactive", Proof::Test, "detach keys: ctrl-p ctrl-q leaves `run -it` running; attach --detach-keys joins and leaves again; exit ends attach"},
    {"run", "--ipc", Proof::Test, "namespace modes: --pid host, --uts host and --ipc host use the host's; the isolation inspector says shared"},
    {"run", "--label", Proof::Test, "ps: --format json, -s, -n and -l as Docker's"},
    {"run", "--log-driver", Proof::Test, "security: log options IsoLab cannot honour are refused with exit 125 and leave no container"},
    {"run", "--log-opt", Proof::Test, "security: --log-opt max-size=1m --log-opt max-file=2 is honoured and shown by inspect"},
    {"run", "--memory", Proof::Test, "container: a memory hog under -m 32m ends 137 with OOMKilled"},
    {"run", "--mount", Proof::Test, "volumes: --mount and --tmpfs, inspect's Mounts/Binds/Tmpfs, bundle's config.json, and rm -f leaves no mount behind"},
    {"run", "--memory-swap", Proof::Test, "everyday: update -m on a running container changes the limit it sees; a stopped one gets it at start"},
    {"run", "--name", Proof::Test, "sig-proxy: Ctrl-C (SIGINT) to `run` without -t reaches the container; --sig-proxy=false leaves it running"},
    {"run", "--network", Proof::Test, "sig-proxy: Ctrl-C (SIGINT) to `run` without -t reaches the container; --sig-proxy=false leaves it running"},
    {"run", "--pid", Proof::Test, "namespace modes: --pid host, --uts host and --ipc host use the host's; the isolation inspector says shared"},
    {"run", "--pids-limit", Proof::Test, "container: --pids-limit 32 contains a fork bomb and the host stays responsive"},
    {"run", "--privileged", Proof::Test, "security: --privileged gives every capability, host devices, no seccomp, unmasked /proc, and a warning"},
    {"run", "--publish", Proof::Test, "gui: every view renders in English, Korean and presenter mode, with live containers and a VM"},
    {"run", "--publish-all", Proof::Test, "security build: ADD of a tar with ../ names, absolute names or symlink-then-write entries leaves the host untouched"},
    {"run", "--pull", Proof::Test, "flag effects: run --cpus, --env-file, --pull never, --stop-signal, --stop-timeout; exec --env-file; stop --signal"},
    {"run", "--quiet", Proof::Test, "sig-proxy: Ctrl-C (SIGINT) to `run` without -t reaches the container; --sig-proxy=false leaves it running"},
    {"run", "--restart", Proof::Test, "exec joins the container; logs, wait, top, restart policy, --rm"},
    {"run", "--read-only", Proof::Test, "volumes: the walkthrough — a volume outlives rm, a read-only bind serves a host folder, --read-only with --tmpfs /tmp"},
    {"run", "--rm", Proof::Test, "sig-proxy: Ctrl-C (SIGINT) to `run` without -t reaches the container; --sig-proxy=false leaves it running"},
    {"run", "--runtime", Proof::Test, "--runtime runc: the engine hands Debian's runc a bundle; same container, same lifecycle"},
    {"run", "--security-opt", Proof::Test, "security: --security-opt no-new-privileges, seccomp=unconfined, seccomp=PROFILE.json"},
    {"run", "--sig-proxy", Proof::Test, "sig-proxy: Ctrl-C (SIGINT) to `run` without -t reaches the container; --sig-proxy=false leaves it running"},
    {"run", "--stop-signal", Proof::Test, "flag effects: run --cpus, --env-file, --pull never, --stop-signal, --stop-timeout; exec --env-file; stop --signal"},
    {"run", "--stop-timeout", Proof::Test, "flag effects: run --cpus, --env-file, --pull never, --stop-signal, --stop-timeout; exec --env-file; stop --signal"},
    {"run", "--volumes-from", Proof::Test, "volumes: --volumes-from shares another container's volumes, :ro makes them read-only, an unknown container is refused"},
    {"run", "--tmpfs", Proof::Test, "volumes: the walkthrough — a volume outlives rm, a read-only bind serves a host folder, --read-only with --tmpfs /tmp"},
    {"run", "--tty", Proof::Test, "detach keys: ctrl-p ctrl-q leaves `run -it` running; attach --detach-keys joins and leaves again; exit ends attach"},
    {"run", "--user", Proof::Test, "rootless: the same container as an unprivileged user, in a user namespace"},
    {"run", "--uts", Proof::Test, "namespace modes: --pid host, --uts host and --ipc host use the host's; the isolation inspector says shared"},
    {"run", "--volume", Proof::Test, "volumes: the walkthrough — a volume outlives rm, a read-only bind serves a host folder, --read-only with --tmpfs /tmp"},
    {"run", "--workdir", Proof::Test, "user: -u NAME or UID:GID gives the primary group as a supplementary one; exec -u the same; a relative command resolves against the working directory"},
    {"create", "--attach", Proof::Test, "attach and -a: Docker's refusals, and only the streams asked for"},
    {"create", "--cap-add", Proof::SameAsRun, ""},
    {"create", "--cap-drop", Proof::SameAsRun, ""},
    {"create", "--cpus", Proof::SameAsRun, ""},
    {"create", "--mount", Proof::SameAsRun, ""},
    {"create", "--read-only", Proof::SameAsRun, ""},
    {"create", "--tmpfs", Proof::SameAsRun, ""},
    {"create", "--volumes-from", Proof::SameAsRun, ""},
    {"create", "--entrypoint", Proof::SameAsRun, ""},
    {"create", "--env", Proof::Test, "gui: every view renders in English, Korean and presenter mode, with live containers and a VM"},
    {"create", "--env-file", Proof::SameAsRun, ""},
    {"create", "--hostname", Proof::Test, "gui: every view renders in English, Korean and presenter mode, with live containers and a VM"},
    {"create", "--init", Proof::SameAsRun, ""},
    {"create", "--interactive", Proof::Test, "start -ai with --detach-keys, and attach --no-stdin"},
    {"create", "--ipc", Proof::Test, "namespace modes: --network, --pid and --ipc container:NAME join a running container; Docker's refusals"},
    {"create", "--label", Proof::Test, "ps: --format json, -s, -n and -l as Docker's"},
    {"create", "--log-driver", Proof::Test, "security: log options IsoLab cannot honour are refused with exit 125 and leave no container"},
    {"create", "--log-opt", Proof::Test, "security: --log-opt max-size=1m --log-opt max-file=2 is honoured and shown by inspect"},
    {"create", "--memory", Proof::Test, "everyday: update -m on a running container changes the limit it sees; a stopped one gets it at start"},
    {"create", "--memory-swap", Proof::Test, "everyday: update -m on a running container changes the limit it sees; a stopped one gets it at start"},
    {"create", "--name", Proof::Test, "attach and -a: Docker's refusals, and only the streams asked for"},
    {"create", "--network", Proof::Test, "attach and -a: Docker's refusals, and only the streams asked for"},
    {"create", "--pid", Proof::Test, "namespace modes: --network, --pid and --ipc container:NAME join a running container; Docker's refusals"},
    {"create", "--pids-limit", Proof::Test, "everyday: update -m on a running container changes the limit it sees; a stopped one gets it at start"},
    {"create", "--privileged", Proof::SameAsRun, ""},
    {"create", "--publish", Proof::Test, "gui: every view renders in English, Korean and presenter mode, with live containers and a VM"},
    {"create", "--publish-all", Proof::SameAsRun, ""},
    {"create", "--pull", Proof::SameAsRun, ""},
    {"create", "--quiet", Proof::Test, "ps filters: `rm -f $(ps -aq -f status=exited)` removes only the exited container"},
    {"create", "--restart", Proof::Test, "flag effects: build --no-cache, update --restart, network create --internal, network ls --no-trunc, prune --filter, system df --format"},
    {"create", "--rm", Proof::Test, "attach and -a: Docker's refusals, and only the streams asked for"},
    {"create", "--runtime", Proof::SameAsRun, ""},
    {"create", "--security-opt", Proof::SameAsRun, ""},
    {"create", "--health-cmd", Proof::SameAsRun, ""},
    {"create", "--health-interval", Proof::SameAsRun, ""},
    {"create", "--health-retries", Proof::SameAsRun, ""},
    {"create", "--health-start-interval", Proof::SameAsRun, ""},
    {"create", "--health-start-period", Proof::SameAsRun, ""},
    {"create", "--health-timeout", Proof::SameAsRun, ""},
    {"create", "--no-healthcheck", Proof::SameAsRun, ""},
    {"create", "--stop-signal", Proof::SameAsRun, ""},
    {"create", "--stop-timeout", Proof::SameAsRun, ""},
    {"create", "--tty", Proof::Test, "start -ai with --detach-keys, and attach --no-stdin"},
    {"create", "--user", Proof::SameAsRun, ""},
    {"create", "--uts", Proof::Test, "namespace modes: --network, --pid and --ipc container:NAME join a running container; Docker's refusals"},
    {"create", "--volume", Proof::Test, "prune: system prune asks Docker's question, removes stopped containers, unused networks, images, cache"},
    {"create", "--workdir", Proof::SameAsRun, ""},
    {"start", "--attach", Proof::Test, "start -ai with --detach-keys, and attach --no-stdin"},
    {"start", "--detach-keys", Proof::Test, "start -ai with --detach-keys, and attach --no-stdin"},
    {"start", "--interactive", Proof::Test, "start -ai with --detach-keys, and attach --no-stdin"},
    {"attach", "--detach-keys", Proof::Test, "detach keys: ctrl-p ctrl-q leaves `run -it` running; attach --detach-keys joins and leaves again; exit ends attach"},
    {"attach", "--no-stdin", Proof::Test, "start -ai with --detach-keys, and attach --no-stdin"},
    {"attach", "--sig-proxy", Proof::Test, "sig-proxy: Ctrl-C (SIGINT) to `run` without -t reaches the container; --sig-proxy=false leaves it running"},
    {"stop", "--signal", Proof::Test, "flag effects: run --cpus, --env-file, --pull never, --stop-signal, --stop-timeout; exec --env-file; stop --signal"},
    {"stop", "--timeout", Proof::Test, "--runtime runc: the engine hands Debian's runc a bundle; same container, same lifecycle"},
    {"restart", "--signal", Proof::Test, "logs -f follows until the container exits; restart runs PID 1 again"},
    {"restart", "--timeout", Proof::Test, "logs -f follows until the container exits; restart runs PID 1 again"},
    {"kill", "--signal", Proof::Test, "logs -f follows until the container exits; restart runs PID 1 again"},
    {"rm", "--force", Proof::Test, "sig-proxy: Ctrl-C (SIGINT) to `run` without -t reaches the container; --sig-proxy=false leaves it running"},
    {"rm", "--link", Proof::Refused, "rm --link web"},
    {"rm", "--volumes", Proof::Test, "volumes: an empty volume is seeded from the image; -v /path and VOLUME make anonymous volumes that rm -v and --rm remove"},
    {"ps", "--all", Proof::Test, "sig-proxy: Ctrl-C (SIGINT) to `run` without -t reaches the container; --sig-proxy=false leaves it running"},
    {"ps", "--filter", Proof::Test, "sig-proxy: Ctrl-C (SIGINT) to `run` without -t reaches the container; --sig-proxy=false leaves it running"},
    {"ps", "--format", Proof::Test, "--runtime runc: the engine hands Debian's runc a bundle; same container, same lifecycle"},
    {"ps", "--last", Proof::Test, "ps: --format json, -s, -n and -l as Docker's"},
    {"ps", "--latest", Proof::Test, "ps: --format json, -s, -n and -l as Docker's"},
    {"ps", "--no-trunc", Proof::Test, "build: steps like Docker's, RUN in a real container, the image runs; diff, commit, cache, sharing"},
    {"ps", "--quiet", Proof::Test, "sig-proxy: Ctrl-C (SIGINT) to `run` without -t reaches the container; --sig-proxy=false leaves it running"},
    {"ps", "--size", Proof::Test, "ps: --format json, -s, -n and -l as Docker's"},
    {"exec", "--detach", Proof::Test, "build: steps like Docker's, RUN in a real container, the image runs; diff, commit, cache, sharing"},
    {"exec", "--detach-keys", Proof::Test, "attach and -a: Docker's refusals, and only the streams asked for"},
    {"exec", "--env", Proof::Test, "exec joins the container; logs, wait, top, restart policy, --rm"},
    {"exec", "--env-file", Proof::Test, "flag effects: run --cpus, --env-file, --pull never, --stop-signal, --stop-timeout; exec --env-file; stop --signal"},
    {"exec", "--interactive", Proof::Test, "exec joins the container; logs, wait, top, restart policy, --rm"},
    {"exec", "--privileged", Proof::Test, "security: exec keeps the container's capabilities; exec --privileged gets them all"},
    {"exec", "--tty", Proof::Test, "build: steps like Docker's, RUN in a real container, the image runs; diff, commit, cache, sharing"},
    {"exec", "--user", Proof::Test, "rootless: the same container as an unprivileged user, in a user namespace"},
    {"exec", "--workdir", Proof::Test, "user: -u NAME or UID:GID gives the primary group as a supplementary one; exec -u the same; a relative command resolves against the working directory"},
    {"logs", "--details", Proof::Test, "flag effects: logs --since/--until/--details, inspect --type, commit --author/--pause, version --format, doctor --json"},
    {"logs", "--follow", Proof::Test, "sig-proxy: Ctrl-C (SIGINT) to `run` without -t reaches the container; --sig-proxy=false leaves it running"},
    {"logs", "--since", Proof::Test, "flag effects: logs --since/--until/--details, inspect --type, commit --author/--pause, version --format, doctor --json"},
    {"logs", "--tail", Proof::Test, "security: a container printing 200 MB leaves at most 10m x 3 of log, and logs --tail reads it in bounded memory"},
    {"logs", "--timestamps", Proof::Test, "start -ai with --detach-keys, and attach --no-stdin"},
    {"logs", "--until", Proof::Test, "flag effects: logs --since/--until/--details, inspect --type, commit --author/--pause, version --format, doctor --json"},
    {"inspect", "--format", Proof::Test, "sig-proxy: Ctrl-C (SIGINT) to `run` without -t reaches the container; --sig-proxy=false leaves it running"},
    {"inspect", "--size", Proof::Test, "listing flags that used to be accepted and ignored: inspect -s, images --digests, history -H=false and --format"},
    {"inspect", "--type", Proof::Test, "flag effects: logs --since/--until/--details, inspect --type, commit --author/--pause, version --format, doctor --json"},
    {"commit", "--author", Proof::Test, "build: steps like Docker's, RUN in a real container, the image runs; diff, commit, cache, sharing"},
    {"commit", "--change", Proof::Test, "build: steps like Docker's, RUN in a real container, the image runs; diff, commit, cache, sharing"},
    {"commit", "--message", Proof::Test, "commit: a container's writable layer becomes an image layer; deletions stay deleted"},
    {"commit", "--pause", Proof::Test, "flag effects: logs --since/--until/--details, inspect --type, commit --author/--pause, version --format, doctor --json"},
    {"history", "--format", Proof::Test, "listing flags that used to be accepted and ignored: inspect -s, images --digests, history -H=false and --format"},
    {"history", "--human", Proof::Test, "listing flags that used to be accepted and ignored: inspect -s, images --digests, history -H=false and --format"},
    {"history", "--no-trunc", Proof::Test, "build: steps like Docker's, RUN in a real container, the image runs; diff, commit, cache, sharing"},
    {"history", "--quiet", Proof::Test, "build: steps like Docker's, RUN in a real container, the image runs; diff, commit, cache, sharing"},
    {"images", "--all", Proof::Test, "build: steps like Docker's, RUN in a real container, the image runs; diff, commit, cache, sharing"},
    {"images", "--digests", Proof::Test, "listing flags that used to be accepted and ignored: inspect -s, images --digests, history -H=false and --format"},
    {"images", "--filter", Proof::Test, "build: steps like Docker's, RUN in a real container, the image runs; diff, commit, cache, sharing"},
    {"images", "--format", Proof::Test, "save/load: an OCI archive round trip keeps every digest; skopeo and podman read it"},
    {"images", "--no-trunc", Proof::Test, "build: steps like Docker's, RUN in a real container, the image runs; diff, commit, cache, sharing"},
    {"images", "--quiet", Proof::Test, "build: steps like Docker's, RUN in a real container, the image runs; diff, commit, cache, sharing"},
    {"rmi", "--force", Proof::Test, "build: steps like Docker's, RUN in a real container, the image runs; diff, commit, cache, sharing"},
    {"rmi", "--no-prune", Proof::SameAsDocker,
     "IsoLab keeps no parent images (a build step's layers belong to the image that names them): there is no untagged parent to keep or delete"},
    {"build", "--build-arg", Proof::Test, "build: steps like Docker's, RUN in a real container, the image runs; diff, commit, cache, sharing"},
    {"build", "--file", Proof::Test, "build: steps like Docker's, RUN in a real container, the image runs; diff, commit, cache, sharing"},
    {"build", "--no-cache", Proof::Test, "flag effects: build --no-cache, update --restart, network create --internal, network ls --no-trunc, prune --filter, system df --format"},
    {"build", "--progress", Proof::Test, "build: `build -` and `build -f - PATH` read the Dockerfile from stdin; --progress; every bad line at once"},
    {"build", "--target", Proof::Test, "build: a multi-stage Dockerfile from a book: toolchain stage, binary copied into a small final stage"},
    {"build", "--quiet", Proof::Test, "build: steps like Docker's, RUN in a real container, the image runs; diff, commit, cache, sharing"},
    {"build", "--tag", Proof::Test, "build: steps like Docker's, RUN in a real container, the image runs; diff, commit, cache, sharing"},
    {"save", "--output", Proof::Test, "save/load: an OCI archive round trip keeps every digest; skopeo and podman read it"},
    {"pull", "--all-tags", Proof::Test, "registry: pull -a pulls every tag of the repository; a tag with -a is refused"},
    {"pull", "--platform", Proof::Test, "registry: pull --platform picks one image from a two-platform index"},
    {"pull", "--quiet", Proof::Test, "registry: pull from a local registry, then images, history and run use the image"},
    {"push", "--all-tags", Proof::Test, "push: a second repository of the same registry mounts the layers; -a pushes every tag; a tag with -a is refused"},
    {"push", "--disable-content-trust", Proof::Test, "push: --platform must be the image's; --disable-content-trust=false is refused with what to do"},
    {"push", "--platform", Proof::Test, "push: --platform must be the image's; --disable-content-trust=false is refused with what to do"},
    {"push", "--quiet", Proof::Test, "push: an image isolab built goes to a local registry; skopeo sees its layers and config; a fresh root pulls and runs it; a second push finds every layer"},
    {"login", "--password", Proof::Refused, "login -u alice -p s3cret registry.example.com"},
    {"login", "--password-stdin", Proof::Test, "login: htpasswd Basic auth: Login Succeeded, config.json 0600 in Docker's shape; a wrong password changes nothing; logout"},
    {"login", "--username", Proof::Test, "login: htpasswd Basic auth: Login Succeeded, config.json 0600 in Docker's shape; a wrong password changes nothing; logout"},
    {"search", "--filter", Proof::Test, "search: Docker Hub's index answered on 127.0.0.1: the table, --limit, --filter, --no-trunc, --format; a registry's index; offline"},
    {"search", "--format", Proof::Test, "search: Docker Hub's index answered on 127.0.0.1: the table, --limit, --filter, --no-trunc, --format; a registry's index; offline"},
    {"search", "--limit", Proof::Test, "search: Docker Hub's index answered on 127.0.0.1: the table, --limit, --filter, --no-trunc, --format; a registry's index; offline"},
    {"search", "--no-trunc", Proof::Test, "search: Docker Hub's index answered on 127.0.0.1: the table, --limit, --filter, --no-trunc, --format; a registry's index; offline"},
    {"load", "--input", Proof::Test, "save/load: an OCI archive round trip keeps every digest; skopeo and podman read it"},
    {"load", "--quiet", Proof::Test, "save/load: an OCI archive round trip keeps every digest; skopeo and podman read it"},
    {"version", "--format", Proof::Test, "flag effects: logs --since/--until/--details, inspect --type, commit --author/--pause, version --format, doctor --json"},
    {"doctor", "--fix", Proof::Test, "firewall roots: a deleted root's bridge and rules are collected by doctor --fix and by system reset, a live root's stay"},
    {"doctor", "--json", Proof::Test, "flag effects: logs --since/--until/--details, inspect --type, commit --author/--pause, version --format, doctor --json"},
    {"update", "--cpus", Proof::Test, "flag effects: run --cpus, --env-file, --pull never, --stop-signal, --stop-timeout; exec --env-file; stop --signal"},
    {"update", "--memory", Proof::Test, "everyday: update -m on a running container changes the limit it sees; a stopped one gets it at start"},
    {"update", "--memory-swap", Proof::Test, "everyday: update -m on a running container changes the limit it sees; a stopped one gets it at start"},
    {"update", "--pids-limit", Proof::Test, "everyday: update -m on a running container changes the limit it sees; a stopped one gets it at start"},
    {"update", "--restart", Proof::Test, "flag effects: build --no-cache, update --restart, network create --internal, network ls --no-trunc, prune --filter, system df --format"},
    {"stats", "--all", Proof::Test, "everyday: stats --no-stream shows the memory used and the limit"},
    {"stats", "--format", Proof::Test, "everyday: stats --no-stream shows the memory used and the limit"},
    {"stats", "--no-stream", Proof::Test, "everyday: stats --no-stream shows the memory used and the limit"},
    {"stats", "--no-trunc", Proof::Test, "everyday: stats --no-stream shows the memory used and the limit"},
    {"events", "--filter", Proof::Test, "everyday: rename a running container, then exec by the new name"},
    {"events", "--format", Proof::Test, "everyday: events --since/--until lists create, start and die of a container run here"},
    {"events", "--since", Proof::Test, "everyday: rename a running container, then exec by the new name"},
    {"events", "--until", Proof::Test, "everyday: rename a running container, then exec by the new name"},
    {"info", "--format", Proof::Test, "everyday: info counts the containers and names the state root"},
    {"container prune", "--filter", Proof::Test, "flag effects: build --no-cache, update --restart, network create --internal, network ls --no-trunc, prune --filter, system df --format"},
    {"container prune", "--force", Proof::Test, "flag effects: build --no-cache, update --restart, network create --internal, network ls --no-trunc, prune --filter, system df --format"},
    {"image prune", "--all", Proof::Test, "prune: image prune removes the dangling image, -a every unused one; busybox comes back the same"},
    {"image prune", "--filter", Proof::Test, "flag effects: build --no-cache, update --restart, network create --internal, network ls --no-trunc, prune --filter, system df --format"},
    {"image prune", "--force", Proof::Test, "flag effects: build --no-cache, update --restart, network create --internal, network ls --no-trunc, prune --filter, system df --format"},
    {"network prune", "--filter", Proof::Test, "flag effects: build --no-cache, update --restart, network create --internal, network ls --no-trunc, prune --filter, system df --format"},
    {"network prune", "--force", Proof::Test, "flag effects: build --no-cache, update --restart, network create --internal, network ls --no-trunc, prune --filter, system df --format"},
    {"system prune", "--all", Proof::Test, "prune: system prune asks Docker's question, removes stopped containers, unused networks, images, cache"},
    {"system prune", "--filter", Proof::Test, "flag effects: build --no-cache, update --restart, network create --internal, network ls --no-trunc, prune --filter, system df --format"},
    {"system prune", "--force", Proof::Test, "flag effects: build --no-cache, update --restart, network create --internal, network ls --no-trunc, prune --filter, system df --format"},
    {"system prune", "--volumes", Proof::Test, "prune: system prune asks Docker's question, removes stopped containers, unused networks, images, cache"},
    {"system df", "--format", Proof::Test, "flag effects: build --no-cache, update --restart, network create --internal, network ls --no-trunc, prune --filter, system df --format"},
    {"system df", "--verbose", Proof::Test, "prune: system prune asks Docker's question, removes stopped containers, unused networks, images, cache"},
    {"system reset", "--force", Proof::Test, "lessons: each lesson is played to the end against the real engine, every check green"},
    {"network create", "--driver", Proof::Test, "images and network ls: --filter, REPOSITORY[:TAG] and --format json"},
    {"network create", "--internal", Proof::Test, "flag effects: build --no-cache, update --restart, network create --internal, network ls --no-trunc, prune --filter, system df --format"},
    {"network create", "--label", Proof::Test, "images and network ls: --filter, REPOSITORY[:TAG] and --format json"},
    {"network create", "--subnet", Proof::Test, "network: bad input is refused with exit 125 and nothing is created"},
    {"network ls", "--filter", Proof::Test, "images and network ls: --filter, REPOSITORY[:TAG] and --format json"},
    {"network ls", "--format", Proof::Test, "images and network ls: --filter, REPOSITORY[:TAG] and --format json"},
    {"network ls", "--no-trunc", Proof::Test, "flag effects: build --no-cache, update --restart, network create --internal, network ls --no-trunc, prune --filter, system df --format"},
    {"network ls", "--quiet", Proof::Test, "images and network ls: --filter, REPOSITORY[:TAG] and --format json"},
    {"network inspect", "--format", Proof::Test, "flag effects: build --no-cache, update --restart, network create --internal, network ls --no-trunc, prune --filter, system df --format"},
    {"network disconnect", "--force", Proof::Test, "network: containers on one user network reach each other by name; other networks cannot"},
    {"volume create", "--driver", Proof::Test, "volumes: create, ls, inspect and rm as Docker's; rm is refused while a container uses the volume"},
    {"volume create", "--label", Proof::Test, "volumes: create, ls, inspect and rm as Docker's; rm is refused while a container uses the volume"},
    {"volume create", "--opt", Proof::Refused, "volume create -o type=tmpfs data"},
    {"volume ls", "--filter", Proof::Test, "volumes: create, ls, inspect and rm as Docker's; rm is refused while a container uses the volume"},
    {"volume ls", "--format", Proof::Test, "volumes: create, ls, inspect and rm as Docker's; rm is refused while a container uses the volume"},
    {"volume ls", "--quiet", Proof::Test, "volumes: create, ls, inspect and rm as Docker's; rm is refused while a container uses the volume"},
    {"volume inspect", "--format", Proof::Test, "volumes: create, ls, inspect and rm as Docker's; rm is refused while a container uses the volume"},
    {"volume rm", "--force", Proof::Test, "volumes: create, ls, inspect and rm as Docker's; rm is refused while a container uses the volume"},
    {"volume prune", "--all", Proof::Test, "volumes: prune keeps named volumes without -a, and what a container uses; system prune --volumes; system df counts them"},
    {"volume prune", "--filter", Proof::Test, "volumes: prune keeps named volumes without -a, and what a container uses; system prune --volumes; system df counts them"},
    {"volume prune", "--force", Proof::Test, "volumes: prune keeps named volumes without -a, and what a container uses; system prune --volumes; system df counts them"},
    {"gui", "--audit", Proof::Test, "gui audit: every view in en/ko, normal/presenter, 1280x720/1920x1080 has no layout fault outside the baseline"},
    {"gui", "--frames", Proof::Test, "gui: every view renders in English, Korean and presenter mode, with live containers and a VM"},
    {"gui", "--fullscreen", Proof::Test, "gui flags: --lessons and --study-group change what is drawn; --fullscreen fills the screen"},
    {"gui", "--lang", Proof::Test, "gui: every view renders in English, Korean and presenter mode, with live containers and a VM"},
    {"gui", "--lesson", Proof::Test, "lessons: a lesson step renders in English, Korean and presenter mode"},
    {"gui", "--lessons", Proof::Test, "gui flags: --lessons and --study-group change what is drawn; --fullscreen fills the screen"},
    {"gui", "--present", Proof::Test, "gui: every view renders in English, Korean and presenter mode, with live containers and a VM"},
    {"gui", "--screenshot", Proof::Test, "gui: every view renders in English, Korean and presenter mode, with live containers and a VM"},
    {"gui", "--select", Proof::Test, "gui: every view renders in English, Korean and presenter mode, with live containers and a VM"},
    {"gui", "--size", Proof::Test, "gui: every view renders in English, Korean and presenter mode, with live containers and a VM"},
    {"gui", "--study-group", Proof::Test, "gui flags: --lessons and --study-group change what is drawn; --fullscreen fills the screen"},
    {"gui", "--view", Proof::Test, "gui: every view renders in English, Korean and presenter mode, with live containers and a VM"},
};

const char* const kVerbs[] = {"run", "create", "start", "attach", "stop", "restart", "kill", "pause", "unpause", "rm", "ps", "exec", "logs", "inspect", "wait", "top", "diff", "port", "commit", "history", "images", "rmi", "build", "tag", "save", "load", "version", "gui", "doctor", "rename", "update", "stats", "events", "info", "container prune", "image prune", "network prune", "system prune", "system df", "system reset", "network create", "network ls", "network inspect", "network rm", "network connect", "network disconnect", "network picture", "export", "import", "cp", "completion", "volume create", "volume ls", "volume inspect", "volume rm", "volume prune", "pull", "push", "login", "logout", "search"};

// "--name" and "-n" of each flag VERB's help lists.
std::vector<std::pair<std::string, std::string>> listed_flags(const std::string& verb) {
    std::vector<std::pair<std::string, std::string>> out;
    const std::string text = isolab::cli::usage(verb);
    size_t at = text.find("\nOptions:\n");
    if (at == std::string::npos) return out;
    std::istringstream in(text.substr(at + 10));
    static const std::regex kRow(R"(^\s+(?:(-\w), )?(--[\w-]+))");
    for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (std::regex_search(line, m, kRow) && m[2] != "--help") out.emplace_back(m[2], m[1]);
    }
    return out;
}

// Every TEST_CASE of the integration and security suites: name → body.
std::vector<std::pair<std::string, std::string>> test_cases() {
    std::vector<std::pair<std::string, std::string>> out;
    namespace fs = std::filesystem;
    for (const char* dir : {"/tests/integration", "/tests/security"})
        for (const auto& e : fs::directory_iterator(std::string(ISOLAB_SOURCE_DIR) + dir)) {
            if (e.path().extension() != ".cpp") continue;
            std::ifstream f(e.path());
            std::stringstream ss;
            ss << f.rdbuf();
            const std::string s = ss.str();
            const std::string mark = "\nTEST_CASE(\"";
            for (size_t at = s.find(mark); at != std::string::npos;) {
                size_t name_end = s.find('"', at + mark.size());
                size_t next = s.find(mark, name_end);
                out.emplace_back(s.substr(at + mark.size(), name_end - at - mark.size()),
                                 s.substr(name_end, next == std::string::npos ? std::string::npos : next - name_end));
                at = next;
            }
        }
    return out;
}

bool types_flag(const std::string& body, const std::string& lng, const std::string& shrt) {
    if (body.find("\"" + lng + "\"") != std::string::npos || body.find("\"" + lng + "=") != std::string::npos) return true;
    if (shrt.empty()) return false;
    // -x alone or among combined shorthands ("-dit").
    return std::regex_search(body, std::regex("\"-[a-zA-Z]*" + shrt.substr(1) + "[a-zA-Z]*\""));
}

std::vector<std::string> words_of(const std::string& line) {
    std::vector<std::string> w;
    std::istringstream in(line);
    for (std::string x; in >> x;) w.push_back(x);
    return w;
}

}  // namespace

TEST_CASE("flag walk: every flag in the help texts has its proof (an effect tested on the real engine, or a refusal)") {
    const auto cases = test_cases();
    REQUIRE(cases.size() > 50);
    size_t walked = 0;
    for (const char* verb : kVerbs) {
        for (const auto& [lng, shrt] : listed_flags(verb)) {
            ++walked;
            INFO("isolab " << verb << " " << lng);
            auto proof = std::find_if(std::begin(kProofs), std::end(kProofs),
                                      [&](const Proof& p) { return p.verb == std::string(verb) && p.flag == lng; });
            REQUIRE_MESSAGE(proof != std::end(kProofs), "no proof for this flag: test its effect, or refuse it");
            switch (proof->kind) {
                case Proof::Test: {
                    auto c = std::find_if(cases.begin(), cases.end(), [&](const auto& tc) { return tc.first == proof->detail; });
                    INFO("test case: " << proof->detail);
                    REQUIRE(c != cases.end());
                    CHECK(types_flag(c->second, lng, shrt));
                    if (std::string(verb) != "gui")
                        for (const auto& w : words_of(verb)) CHECK(c->second.find("\"" + w + "\"") != std::string::npos);
                    break;
                }
                case Proof::SameAsRun: {
                    CHECK(std::string(verb) == "create");
                    auto run = std::find_if(std::begin(kProofs), std::end(kProofs),
                                            [&](const Proof& p) { return p.verb == std::string("run") && p.flag == lng; });
                    CHECK(run != std::end(kProofs));
                    break;
                }
                case Proof::Refused: {
                    auto parsed = isolab::cli::parse_args(words_of(proof->detail));
                    REQUIRE_FALSE(parsed.ok());
                    CHECK(parsed.error().exit_code == 125);
                    CHECK(parsed.error().message.find(lng) != std::string::npos);  // it names the flag
                    break;
                }
                case Proof::SameAsDocker: CHECK(std::string(proof->detail).size() > 40); break;
            }
        }
    }
    CHECK(walked > 150);
    // No proof for a flag that is no longer listed.
    for (const Proof& p : kProofs) {
        auto flags = listed_flags(p.verb);
        INFO("stale proof: isolab " << p.verb << " " << p.flag);
        CHECK(std::any_of(flags.begin(), flags.end(), [&](const auto& f) { return f.first == p.flag; }));
    }
}
