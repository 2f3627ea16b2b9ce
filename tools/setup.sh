#!/usr/bin/env bash
# IsoLab set-up: installs what is missing (Debian packages), builds, prepares the base image, then
#   tools/setup.sh          starts IsoLab (a short live demo in the terminal for now)
#   tools/setup.sh --test   runs the whole test suite
# Idempotent: a second run reuses the packages, the build and the image and finishes fast.
set -euo pipefail

mode=run
for a in "$@"; do
  case "$a" in
    --test) mode=test ;;
    --build-only) mode=build ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option '$a' (use --test, --build-only or nothing)" >&2; exit 2 ;;
  esac
done

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then exec sudo -E bash "$0" "$@"; fi
  echo "setup.sh: run as root (or install sudo): it installs Debian packages" >&2
  exit 1
fi

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

# Every dependency is a Debian package (nothing third-party is vendored).
packages=(g++ make cmake pkg-config nlohmann-json3-dev doctest-dev libseccomp-dev libcap-dev libssl-dev
          busybox-static iproute2 procps util-linux)
if [ "$mode" = test ]; then
  packages+=(runc hyperfine)   # the peers the benchmark compares against, and its timer
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "==> building (build/)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" 2>&1 | grep -E 'error|warning|Error' || true
test -x build/isolab || { echo "setup.sh: the build failed; run: cmake --build build" >&2; exit 1; }
ln -sf "$here/build/isolab" /usr/local/bin/isolab

echo "==> base image busybox (from Debian's busybox-static)"
build/isolab images >/dev/null

case "$mode" in
  build) exit 0 ;;
  test)
    echo "==> tests"
    exec ctest --test-dir build --output-on-failure
    ;;
  run)
    if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
      echo "(the IsoLab window arrives with a later version; here is the terminal demo)"
    fi
    show() { printf '\n$ %s\n' "$*"; "$@"; }
    name=isolab-demo
    isolab rm -f "$name" >/dev/null 2>&1 || true
    show isolab create --name "$name" busybox sh -c 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 1; done'
    show isolab start "$name"
    show isolab exec "$name" sh -c 'echo "inside: hostname=$(hostname), my PID is $$, processes:"; ps'
    show isolab exec "$name" uname -r
    echo "(same kernel as the host: $(uname -r) — a container shares the host's one kernel)"
    show isolab pause "$name"
    show isolab ps
    show isolab unpause "$name"
    show isolab stop -t 1 "$name"
    show isolab logs --tail 3 "$name"
    show isolab rm "$name"
    printf '\nIsoLab is ready. Try: isolab run -it busybox sh    (help: isolab doctor)\n'
    ;;
esac
