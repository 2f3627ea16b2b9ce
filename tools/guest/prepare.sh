#!/usr/bin/env bash
# IsoLab guest artifacts for the VM side (BRIEF §6), from Debian packages only:
#   tools/guest/prepare.sh ROOT
# makes
#   ROOT/guest/vmlinuz          the kernel of Debian's cloud kernel package (linux-image-cloud-amd64)
#   ROOT/guest/kernel-release   its release, e.g. 6.1.0-56-cloud-amd64
#   ROOT/guest/initramfs.gz     busybox-static + the virtio-net modules + /www/index.html + /init
#   ROOT/guest/modules          the modules packed, in load order (for information)
#   ROOT/guest/cache/           the downloaded .deb files (a second run needs no network)
# Nothing is installed on the host (no /boot, no depmod run on the host's modules).
# Idempotent: when nothing changed it says "up to date" and exits in well under a second.
set -euo pipefail

usage() { echo "usage: $0 ROOT" >&2; exit 2; }
[ $# -eq 1 ] || usage
case "$1" in -h|--help) sed -n '2,11p' "$0"; exit 0 ;; esac

here=$(cd "$(dirname "$0")" && pwd)
root=$1
guest=$root/guest
cache=$guest/cache
init_script=$here/init
meta=linux-image-cloud-amd64
# The modules the guest needs for QEMU user-mode networking: virtio-net-pci on `pc` (virtio_pci) and
# virtio-net-device on `microvm` (virtio_mmio). Their dependencies come from modules.dep.
wanted_modules=(virtio_pci virtio_mmio virtio_net)
# The same page the container side's busybox image serves (sim/engine/images.cpp).
page=$'<h1>Hello from IsoLab</h1>\n<p>served by busybox httpd</p>\n'

say() { echo "prepare: $*"; }
die() { echo "prepare: error: $*" >&2; exit 1; }

mkdir -p "$cache"
# One preparation at a time per ROOT (e.g. parallel test runs).
if command -v flock >/dev/null; then
  exec 9>"$guest/.lock"
  flock 9
fi
[ -r "$init_script" ] || die "missing $init_script"
for tool in dpkg-deb apt-get apt-cache gzip sha256sum; do
  command -v "$tool" >/dev/null || die "'$tool' not found (this needs a Debian host)"
done

# apt-cache rebuilds its cache on every call on hosts that disable pkgcache.bin (Debian's docker
# images do: ~0.5 s a call), so remember answers for as long as the apt lists are unchanged.
lists_key=$(stat -c '%n %s %Y' /var/lib/apt/lists/*Packages* 2>/dev/null | sha256sum | cut -d' ' -f1)
remembered() {   # remembered KEY: prints the value stored for KEY with the current apt lists
  awk -v k="$lists_key $1" 'index($0, k " ") == 1 {print substr($0, length(k) + 2); exit}' \
    "$cache/apt-answers" 2>/dev/null || true
}
remember() {
  { tail -n 40 "$cache/apt-answers" 2>/dev/null || true; echo "$lists_key $1 $2"; } >"$cache/apt-answers.tmp"
  mv "$cache/apt-answers.tmp" "$cache/apt-answers"
}

# fetch PACKAGE: sets $fetched to PACKAGE's candidate .deb in the cache, downloading it if needed.
fetched=
fetch() {
  local pkg=$1 ver file tmp
  fetched=
  ver=$(remembered "candidate:$pkg")
  if [ -z "$ver" ]; then
    ver=$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ {print $2; exit}')
    [ -z "$ver" ] || [ "$ver" = "(none)" ] || remember "candidate:$pkg" "$ver"
  fi
  if [ -n "$ver" ] && [ "$ver" != "(none)" ]; then
    file=$cache/${pkg}_${ver//:/%3a}_amd64.deb
    if [ -s "$file" ]; then
      say "cached  $pkg $ver ($(basename "$file"))"
      fetched=$file; return 0
    fi
    say "download $pkg $ver (apt-get download)"
    tmp=$(mktemp -d "$cache/.dl.XXXXXX")
    # apt-get download drops privileges to _apt when it can: let it write there (no "unsandboxed" W:).
    chmod 0777 "$tmp"
    if (cd "$tmp" && apt-get download -q "$pkg=$ver" >"$tmp/log" 2>&1) && ls "$tmp"/*.deb >/dev/null 2>&1; then
      mv "$tmp"/*.deb "$file"
      rm -rf "$tmp"
      fetched=$file; return 0
    fi
    sed 's/^/    /' "$tmp/log" || true
    rm -rf "$tmp"
    say "apt-get download $pkg=$ver FAILED (no network? no access to the Debian mirror?)"
  else
    say "apt knows no candidate for $pkg (run apt-get update?)"
  fi
  # Offline fallback: an earlier run's .deb of the same package.
  file=$(ls -1 "$cache/${pkg}"_*_amd64.deb 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$file" ]; then
    say "using the cached $(basename "$file") instead"
    fetched=$file; return 0
  fi
  return 1
}

# --- 1. which kernel: the versioned package linux-image-cloud-amd64 depends on -----------------
kpkg=$(remembered "depends:$meta")
if [ -z "$kpkg" ]; then
  kpkg=$(apt-cache depends "$meta" 2>/dev/null |
         awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9].*-cloud-amd64$/ {print $2; exit}' || true)
  [ -z "$kpkg" ] || remember "depends:$meta" "$kpkg"
fi
if [ -z "$kpkg" ]; then
  # No apt lists (or no such package): fall back to a kernel an earlier run cached.
  cached=$(ls -1 "$cache"/linux-image-*-cloud-amd64_*_amd64.deb 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$cached" ] || die "apt-cache cannot resolve $meta and nothing is cached; run 'apt-get update' (needs network)"
  kpkg=$(basename "$cached"); kpkg=${kpkg%%_*}
  say "kernel  $meta not resolvable; using cached $kpkg"
else
  say "kernel  $meta -> $kpkg"
fi
fetch "$kpkg" || die "cannot get $kpkg: apt-get download failed (no network?) and no cached copy in $cache"
kdeb=$fetched

# --- 2. busybox: the static binary of Debian's busybox-static ---------------------------------
if dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "install ok installed" && [ -x /bin/busybox ]; then
  busybox=/bin/busybox
  say "busybox /bin/busybox (installed busybox-static $(dpkg-query -W -f='${Version}' busybox-static))"
else
  fetch busybox-static || die "busybox-static is not installed and apt-get download failed (no network?)"
  bbdeb=$fetched
  busybox=$cache/busybox.$(basename "$bbdeb" .deb)
  if [ ! -x "$busybox" ]; then
    dpkg-deb --fsys-tarfile "$bbdeb" | tar -xO ./bin/busybox >"$busybox.tmp"
    chmod 0755 "$busybox.tmp"; mv "$busybox.tmp" "$busybox"
  fi
  say "busybox $(basename "$bbdeb") (not installed on the host; extracted into the cache)"
fi

# --- 3. up to date? -------------------------------------------------------------------------
stamp=$( { basename "$kdeb"; sha256sum "$busybox" "$init_script" "$0" | cut -d' ' -f1;
           printf '%s' "$page"; printf '%s\n' "${wanted_modules[@]}"; } | sha256sum | cut -d' ' -f1)
if [ -s "$guest/vmlinuz" ] && [ -s "$guest/initramfs.gz" ] && [ -s "$guest/kernel-release" ] &&
   [ "$(cat "$guest/stamp" 2>/dev/null)" = "$stamp" ]; then
  say "up to date: $guest (kernel $(cat "$guest/kernel-release"), initramfs $(stat -c %s "$guest/initramfs.gz") bytes)"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/isolab-guest.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- 4. unpack the kernel package (dpkg -x: into a temp dir, never into /) -------------------
dpkg -x "$kdeb" "$work/pkg"
krel=$(ls -1 "$work/pkg/lib/modules" | head -n 1)
[ -n "$krel" ] && [ -f "$work/pkg/boot/vmlinuz-$krel" ] || die "$(basename "$kdeb") has no boot/vmlinuz-* and lib/modules/*"
say "unpack  $(basename "$kdeb") -> kernel $krel"

# --- 5. modules: built in or not, dependencies, load order ------------------------------------
moddir=$work/pkg/lib/modules/$krel
# The package ships no modules.dep (its postinst runs depmod); generate it inside the temp tree.
"$busybox" depmod -b "$work/pkg" "$krel"
[ -s "$moddir/modules.dep" ] || die "depmod made no modules.dep"

declare -A dep_line=() visited=()
while IFS= read -r line; do
  mod=${line%%:*}
  name=$(basename "$mod"); name=${name%%.ko*}; name=${name//-/_}
  dep_line[$name]=$line
done <"$moddir/modules.dep"

order=()
visit() {   # depth-first: dependencies first
  local name=${1//-/_} line deps d dn
  [ -z "${visited[$name]:-}" ] || return 0
  visited[$name]=1
  line=${dep_line[$name]:-}
  [ -n "$line" ] || die "module $name is neither built in nor in modules.dep"
  deps=${line#*:}
  for d in $deps; do
    dn=$(basename "$d"); dn=${dn%%.ko*}
    visit "$dn"
  done
  order+=("${line%%:*}")
}
builtin=()
for m in "${wanted_modules[@]}"; do
  if grep -qE "/${m//_/[_-]}\.ko$" "$moddir/modules.builtin"; then
    builtin+=("$m")
  else
    visit "$m"
  fi
done
[ ${#builtin[@]} -eq 0 ] || say "modules built into the kernel (nothing to load): ${builtin[*]}"

# --- 6. the initramfs tree ------------------------------------------------------------------
tree=$work/initramfs
mkdir -p "$tree"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,root,etc,www,var/log}
mkdir -p "$tree/lib/modules/$krel"
cp "$busybox" "$tree/bin/busybox"
while IFS= read -r rel; do
  [ -n "$rel" ] && [ "$rel" != bin/busybox ] && [ "$rel" != linuxrc ] || continue
  mkdir -p "$tree/$(dirname "$rel")"
  ln -sf /bin/busybox "$tree/$rel"
done < <("$busybox" --list-full)
applets=$("$busybox" --list | wc -l)

: >"$tree/lib/modules/isolab.load"
: >"$tree/lib/modules/$krel/modules.dep"
names=()
for mod in "${order[@]}"; do
  src=$moddir/$mod
  dst=${mod%.xz}; dst=${dst%.zst}; dst=${dst%.gz}     # busybox insmod gets plain .ko files
  mkdir -p "$tree/lib/modules/$krel/$(dirname "$dst")"
  case "$mod" in
    *.ko.xz)  "$busybox" xz -dc "$src" >"$tree/lib/modules/$krel/$dst" ;;
    *.ko.gz)  gzip -dc "$src" >"$tree/lib/modules/$krel/$dst" ;;
    *.ko.zst) command -v zstd >/dev/null || die "$mod is zstd-compressed and zstd is not installed"
              zstd -qdc "$src" >"$tree/lib/modules/$krel/$dst" ;;
    *)        cp "$src" "$tree/lib/modules/$krel/$dst" ;;
  esac
  echo "$krel/$dst" >>"$tree/lib/modules/isolab.load"
  # a modules.dep for just these modules, so `modprobe` works in the guest too
  deps=$(for d in ${dep_line[$(basename "${dst%.ko}" | tr - _)]#*:}; do d=${d%.xz}; d=${d%.zst}; echo -n " ${d%.gz}"; done)
  echo "$dst:$deps" >>"$tree/lib/modules/$krel/modules.dep"
  names+=("$(basename "${dst%.ko}")")
done
cp "$moddir/modules.builtin" "$tree/lib/modules/$krel/"
say "modules ${names[*]} (load order, from modules.dep)"

printf '%s' "$page" >"$tree/www/index.html"
cp "$init_script" "$tree/init"
chmod 0755 "$tree/init"
echo isolab-guest >"$tree/etc/hostname"
printf 'root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$tree/etc/passwd"
printf 'root:x:0:\ntty:x:5:\nwww-data:x:33:\nnogroup:x:65534:\n' >"$tree/etc/group"
printf '127.0.0.1\tlocalhost\n10.0.2.15\tisolab-guest\n' >"$tree/etc/hosts"
printf 'nameserver 10.0.2.3\n' >"$tree/etc/resolv.conf"
# /dev/console lets the kernel give /init its stdio (needs root for mknod; init copes without it).
mknod -m 600 "$tree/dev/console" c 5 1 2>/dev/null || say "note: no /dev/console node (not root); init mounts devtmpfs first"

# --- 7. the cpio (busybox cpio -o -H newc) and gzip -------------------------------------------
(cd "$tree" && find . -mindepth 1 | LC_ALL=C sort | "$busybox" cpio -o -H newc -R 0:0 2>/dev/null) |
  gzip -9 -n >"$work/initramfs.gz"
say "initramfs busybox ($applets applets), ${#names[@]} modules, /www/index.html, /init -> $(stat -c %s "$work/initramfs.gz") bytes"

# --- 8. install into ROOT/guest (each file replaced atomically) ---------------------------------
install -m 0644 "$work/pkg/boot/vmlinuz-$krel" "$guest/vmlinuz.tmp" && mv "$guest/vmlinuz.tmp" "$guest/vmlinuz"
mv "$work/initramfs.gz" "$guest/initramfs.gz"
echo "$krel" >"$guest/kernel-release.tmp" && mv "$guest/kernel-release.tmp" "$guest/kernel-release"
printf '%s\n' "${names[@]}" >"$guest/modules"
echo "$stamp" >"$guest/stamp"
say "done    $guest: vmlinuz ($(stat -c %s "$guest/vmlinuz") bytes), initramfs.gz, kernel-release $krel"
