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
# libarchive and the compression libraries it was built with are linked statically into `isolab`.
packages=(g++ make cmake pkg-config nlohmann-json3-dev doctest-dev libseccomp-dev libcap-dev libssl-dev
          libarchive-dev libacl1-dev libzstd-dev liblzma-dev zlib1g-dev libnl-3-dev libnl-route-3-dev libnftables-dev
          libcurl4-openssl-dev
          libimgui-dev libglfw3-dev libepoxy-dev libpng-dev libfontconfig-dev fonts-nanum fonts-dejavu-core
          busybox-static iproute2 nftables procps util-linux qemu-system-x86 bash-completion)
if [ "$mode" = test ]; then
  # runc: the peer the benchmark compares against and the OCI runtime the bundle tests run;
  # skopeo and podman: real tools that must read the archives `isolab save` writes;
  # clang with libFuzzer: the Dockerfile parser's fuzz target.
  # xvfb and Mesa's software renderer: the GUI smoke test draws every view without a display.
  # iptables: the firewall code's second path (nftables is the first) is tested too.
  # strace: the network test counts the processes and netfilter sockets a container start uses.
  # docker-registry (its service is not started: the registry tests start it on 127.0.0.1) and
  # apache2-utils (htpasswd) and openssl (the TLS case's CA): the pull tests run against a real
  # registry without the internet.
  # nginx-light: the push test builds a real nginx image from its binary and libraries (ldd),
  # pushes it to the local registry and runs it (its service is not started: see below).
  packages+=(nginx-light docker-registry apache2-utils openssl runc hyperfine skopeo podman clang-14 libclang-rt-14-dev xvfb xauth xdotool libgl1-mesa-dri iptables strace)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Two test packages ship a service (nginx on :80, docker-registry on :5000) that their install
  # scripts would start; the tests start their own copies on 127.0.0.1 instead. A policy-rc.d
  # that answers 101 (Debian's switch for this, invoke-rc.d(8)) keeps them from starting, and
  # their units are disabled afterwards. An existing policy-rc.d is left as it is.
  policy=/usr/sbin/policy-rc.d
  made_policy=no
  if [ "$mode" = test ] && [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && made_policy=yes
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ "$made_policy" = yes ] && rm -f "$policy"
  if [ "$mode" = test ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    for unit in nginx docker-registry; do
      if printf '%s\n' "${missing[@]}" | grep -qx -e "$unit" -e "$unit-light"; then
        systemctl disable --now --quiet "$unit" 2>/dev/null || true
      fi
    done
  fi
fi

echo "==> building (build/)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# (glibc's notes about NSS functions in the static binaries are expected: IsoLab never calls them.)
cmake --build build -j"$(nproc)" 2>&1 | grep -E 'error|warning|Error' | grep -v 'statically linked applications' || true
test -x build/isolab || { echo "setup.sh: the build failed; run: cmake --build build" >&2; exit 1; }
ln -sf "$here/build/isolab" /usr/local/bin/isolab

echo "==> bash completion (/usr/share/bash-completion/completions/isolab)"
# Generated from the binary's own verb and flag tables, so it is rewritten with every build;
# bash-completion loads it the first time `isolab` is completed in a new shell.
mkdir -p /usr/share/bash-completion/completions
build/isolab completion bash > /usr/share/bash-completion/completions/isolab.tmp
mv /usr/share/bash-completion/completions/isolab.tmp /usr/share/bash-completion/completions/isolab

echo "==> base image busybox (from Debian's busybox-static)"
build/isolab images >/dev/null

echo "==> teaching images (assets/images, built from busybox)"
for dir in assets/images/*/; do
  name="isolab/$(basename "$dir")"
  if ! out=$(build/isolab build -q -t "$name" "$dir" 2>&1); then
    echo "setup.sh: could not build $name: $out" >&2
  fi
done

echo "==> guest kernel and initramfs for the VM side (from Debian's cloud kernel package)"
# Shared by every state root (vm_manager looks in /var/lib/isolab/guest last).
if ! bash tools/guest/prepare.sh /var/lib/isolab; then
  echo "setup.sh: could not prepare the guest kernel: the VM side will be modeled (see isolab doctor)" >&2
fi

case "$mode" in
  build) exit 0 ;;
  test)
    echo "==> lesson files (isolab lesson check, lessons/SCHEMA.md)"
    build/isolab lesson check || { echo "setup.sh: a lesson file is invalid (see above)" >&2; exit 1; }
    echo "==> tests"
    # ctest -V keeps each test's own output, so skipped cases are reported even when all pass.
    log=build/ctest.log
    set +e
    # Under a small descriptor limit, as users have it: a leaked descriptor fails a test instead of
    # hiding in a million-entry table (issue 12).
    (ulimit -n 1024 && ctest --test-dir build -V >"$log" 2>&1)
    rc=$?
    set -e
    if [ $rc -ne 0 ]; then cat "$log"; fi
    grep -E "SKIPPED" "$log" | sed 's/^[0-9]*: //' || true
    grep -E "^[0-9]+: \[doctest\] (test cases|assertions)|tests passed|tests failed" "$log" | sed 's/^[0-9]*: //'
    echo "==> fuzzing the Dockerfile parser and the lesson loader, ${ISOLAB_FUZZ_SECONDS:-60} s each (tests/fuzz/README.md)"
    if ! bash tests/fuzz/run.sh "${ISOLAB_FUZZ_SECONDS:-60}"; then
      echo "setup.sh: the fuzzer found a crash (see above)" >&2
      rc=1
    fi
    exit $rc
    ;;
  run)
    # The narration is for learners: English, then Korean.
    say() { printf '\n# %s\n# %s\n' "$1" "$2"; }
    show() {
      printf '$'
      for a in "$@"; do case "$a" in *[[:space:]\;\$\"]*) printf " '%s'" "$a" ;; *) printf ' %s' "$a" ;; esac; done
      printf '\n'
      "$@"
    }
    name=isolab-demo
    isolab rm -f "$name" >/dev/null 2>&1 || true
    backend=$(isolab version | sed -n 's/^Backend: //p')
    if [ "$backend" = simulated ]; then
      say "namespaces are not available here, so this demo runs on the SIMULATED backend (see: isolab doctor)" \
          "이 컴퓨터에서는 네임스페이스를 쓸 수 없어서, 이 시연은 시뮬레이션으로 실행됩니다 (확인: isolab doctor)"
    fi
    say "create: the container exists, but no process runs yet" \
        "create: 컨테이너가 만들어졌지만 아직 실행 중인 프로세스는 없습니다"
    show isolab create --name "$name" busybox sh -c 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 1; done'
    show isolab ps -a
    say "start: now its process runs (run = create + start)" \
        "start: 이제 프로세스가 실행됩니다 (run = create + start)"
    show isolab start "$name"
    sleep 2
    if [ "$backend" != simulated ]; then
    say "inside, the container's first process is PID 1 and it sees only its own processes" \
        "컨테이너 안에서 첫 프로세스는 PID 1이고, 자기 프로세스만 보입니다"
    show isolab exec "$name" sh -c 'echo "hostname=$(hostname)"; ps'
    say "the kernel inside is the host's kernel: containers share the host's one kernel" \
        "컨테이너 안의 커널은 호스트의 커널입니다: 컨테이너는 호스트의 커널 하나를 함께 씁니다"
    show isolab exec "$name" uname -r
    printf 'host: %s\n' "$(uname -r)"
    fi
    say "pause freezes every process of the container (cgroup freezer)" \
        "pause는 컨테이너의 모든 프로세스를 얼립니다 (cgroup freezer)"
    show isolab pause "$name"
    show isolab ps
    show isolab unpause "$name"
    say "stop sends SIGTERM, waits, then SIGKILL; logs shows what the container printed" \
        "stop은 SIGTERM을 보내고 기다린 뒤 SIGKILL을 보냅니다; logs는 컨테이너가 출력한 내용을 보여 줍니다"
    show isolab stop -t 1 "$name"
    show isolab logs --tail 3 "$name"
    show isolab rm "$name"
    say "the boot race: a VM boots its own kernel, a container starts a process on the host's kernel" \
        "부팅 경주: VM은 자기 커널을 부팅하고, 컨테이너는 호스트 커널 위에서 프로세스 하나를 시작합니다"
    show isolab race
    printf '\nIsoLab is ready. Try: isolab run -it busybox sh, isolab vm create demo && isolab vm start demo    (help: isolab doctor)\n'
    printf 'IsoLab 준비 완료. 해 보세요: isolab run -it busybox sh, isolab vm create demo && isolab vm start demo    (도움말: isolab doctor)\n'
    if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
      say "the window: both worlds side by side, on the same engine (isolab gui)" \
          "창: 두 세계를 나란히, 같은 엔진 위에서 (isolab gui)"
      isolab gui &
    else
      printf 'The window: run `isolab gui` on a desktop (no display here). / 창: 데스크톱에서 `isolab gui`를 실행하세요 (여기에는 화면이 없습니다).\n'
    fi
    ;;
esac
