#!/bin/sh
# Real-tool check of image archives (sim/engine/image_archive): what `isolab save` writes must be
# read by skopeo (`oci-archive:` and `docker-archive:`) and by podman (load, inspect, run), and
# what `podman save` writes must be read by `isolab load`.
#
# Needs root, skopeo and podman. podman runs on a private store under a temporary directory, so
# nothing is left in the host's podman store; there is no systemd here, hence cgroupfs and file
# events.
#
#   ISOLAB=build/isolab IMAGE=busybox:latest tests/integration/oci_tools_check.sh
#   ARCHIVE=/tmp/x.tar tests/integration/oci_tools_check.sh   # check an existing archive only
set -eu

ISOLAB=${ISOLAB:-$(dirname "$0")/../../build/isolab}
IMAGE=${IMAGE:-busybox:latest}
ARCHIVE=${ARCHIVE:-}

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

[ "$(id -u)" = 0 ] || fail "run as root (podman's private store and the layers' owners need it)"
command -v skopeo >/dev/null || fail "skopeo is not installed (apt-get install skopeo)"
command -v podman >/dev/null || fail "podman is not installed (apt-get install podman)"

work=$(mktemp -d /tmp/isolab-oci-check.XXXXXX)
podman_() {
    podman --root "$work/podman-root" --runroot "$work/podman-run" --cgroup-manager=cgroupfs \
        --events-backend=file --storage-driver=overlay "$@"
}
cleanup() {
    podman_ rmi -a -f >/dev/null 2>&1 || true
    umount -R "$work/podman-root" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# 1. The archive.
if [ -z "$ARCHIVE" ]; then
    [ -x "$ISOLAB" ] || fail "\`$ISOLAB\` is not built (set ISOLAB=path/to/isolab)"
    ARCHIVE=$work/saved.tar
    "$ISOLAB" save -o "$ARCHIVE" "$IMAGE" || fail "isolab save $IMAGE"
    pass "isolab save -o $ARCHIVE $IMAGE"
fi

# 2. skopeo reads it as an OCI archive and as a Docker archive; every layer it lists is a blob.
skopeo inspect "oci-archive:$ARCHIVE" >"$work/oci.json" 2>"$work/err" || fail "skopeo oci-archive: $(cat "$work/err")"
layers=$(sed -n '/"Layers": \[/,/\]/p' "$work/oci.json" | grep -o 'sha256:[0-9a-f]\{64\}' | sort -u)
[ -n "$layers" ] || fail "skopeo lists no layer digests"
for l in $layers; do
    tar tf "$ARCHIVE" | grep -qx "blobs/sha256/${l#sha256:}" || fail "skopeo names $l, which is not a blob"
done
pass "skopeo inspect oci-archive: layers $(echo $layers | tr '\n' ' ')"
skopeo inspect "docker-archive:$ARCHIVE" >/dev/null 2>"$work/err" || fail "skopeo docker-archive: $(cat "$work/err")"
pass "skopeo inspect docker-archive"

# 3. podman loads it, inspects it and runs it.
podman_ load -i "$ARCHIVE" >"$work/load.out" 2>&1 || fail "podman load: $(cat "$work/load.out")"
name=$(sed -n 's/^Loaded image: //p' "$work/load.out" | head -n 1)
[ -n "$name" ] || fail "podman load printed no image name: $(cat "$work/load.out")"
pass "podman load: $name"
diff_ids=$(podman_ image inspect --format '{{range .RootFS.Layers}}{{println .}}{{end}}' "$name" | sort -u | grep .)
[ "$diff_ids" = "$layers" ] || fail "podman's diff_ids ($diff_ids) differ from the archive's layers ($layers)"
pass "podman image inspect: the same diff_ids"
if out=$(podman_ run --rm --network=none "$name" sh -c 'echo hi' 2>&1); then :; else
    # Containers without CAP_SYS_RESOURCE cannot raise rlimits to podman's defaults.
    out=$(podman_ run --rm --network=none --ulimit nofile=1024:1024 --ulimit nproc=1000:1000 "$name" sh -c 'echo hi' 2>&1) ||
        fail "podman run $name: $out"
fi
[ "$out" = hi ] || fail "podman run $name printed \`$out\`, not \`hi\`"
pass "podman run --rm --network=none $name sh -c 'echo hi'"

# 4. The other way: what podman saves, isolab loads.
if [ -x "$ISOLAB" ]; then
    for format in oci-archive docker-archive; do
        podman_ save --format "$format" -o "$work/podman-$format.tar" "$name" >/dev/null 2>&1 || fail "podman save $format"
        "$ISOLAB" load -i "$work/podman-$format.tar" >"$work/isolab-load.out" 2>&1 ||
            fail "isolab load of podman's $format: $(cat "$work/isolab-load.out")"
        pass "isolab load of podman's $format: $(head -n 1 "$work/isolab-load.out")"
    done
fi
echo "all OCI tool checks passed"
