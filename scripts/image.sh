#!/usr/bin/env bash
# Builds the controller's OCI image on this machine, offline, from the project's build and
# Debian's packages (umoci assembles it, skopeo writes the archive):
#   - /usr/local/bin/stepline-controller and /usr/local/bin/stepline-artifacts (the binary that
#     stages step artifacts to and from S3 inside step pods; both stripped) and exactly the
#     shared libraries they load (ldd), with the dynamic loader;
#   - /etc/ssl/certs/ca-certificates.crt from Debian's ca-certificates;
#   - /etc/passwd and /etc/group naming user and group 65532 (nonroot), the image's user;
#   - nothing else: no shell, no package manager, no writable path needed (runs with a
#     read-only root filesystem).
# Output: build/image/stepline-controller-<version>.oci.tar, an OCI archive tagged with the
# project's version (CMakeLists.txt), which `skopeo copy`, `podman load` and `docker load`
# accept. Push it to a registry with
#   skopeo copy oci-archive:build/image/stepline-controller-0.1.0.oci.tar \
#     docker://REGISTRY/stepline-controller:0.1.0
#
# usage: scripts/image.sh [--no-build]   (--no-build: use build/bin as it is)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${STEPLINE_BUILD_DIR:-$ROOT/build}"
OUT_DIR="$BUILD_DIR/image"
# Debian 12's packages, pinned.
TOOLS=(umoci=0.4.7+ds-3+b7 skopeo=1.9.3+ds1-1+b10 binutils ca-certificates)
say() { echo "==> $*" >&2; }
die() { echo "image.sh: $*" >&2; exit 1; }

build=1
for a in "$@"; do
  case $a in
    --no-build) build=0 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) die "unknown argument $a" ;;
  esac
done

missing=()
for t in "${TOOLS[@]}"; do
  pkg=${t%%=*} want=${t#*=}
  have=$(dpkg-query -W -f='${Status} ${Version}' "$pkg" 2>/dev/null || true)
  if [[ $have != "install ok installed"* ]] || { [[ $t == *=* ]] && [[ $have != *" $want" ]]; }; then
    missing+=("$t")
  fi
done
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
  { $SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y \
      --no-install-recommends "${missing[@]}"; } >&2 || die "apt-get failed"
fi

if ((build)); then "$ROOT/scripts/setup.sh" >&2; fi
BINS=("$BUILD_DIR/bin/stepline-controller" "$BUILD_DIR/bin/stepline-artifacts")
for BIN in "${BINS[@]}"; do [[ -x $BIN ]] || die "$BIN not found (run scripts/setup.sh)"; done
VERSION="$(sed -n 's/^project(stepline .*VERSION \([0-9.]*\)).*/\1/p' "$ROOT/CMakeLists.txt")"
[[ -n $VERSION ]] || die "no project VERSION in CMakeLists.txt"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
say "assembling the root filesystem"
mkdir -p "$rootfs/usr/local/bin" "$rootfs/etc/ssl/certs" "$rootfs/tmp"
chmod 1777 "$rootfs/tmp"   # an empty mount point; the controller writes nothing
# The binaries, and the shared libraries they load, at their paths, and the loader.
for BIN in "${BINS[@]}"; do
  strip --strip-all -o "$rootfs/usr/local/bin/$(basename "$BIN")" "$BIN"
  ldd "$BIN" | awk '/=> \//{print $3} /^[ \t]*\/[^ ]*ld-linux/{print $1}' >>"$work/libs.all"
done
sort -u "$work/libs.all" >"$work/libs"
[[ -s $work/libs ]] || die "ldd found no libraries for ${BINS[*]}"
while read -r lib; do
  real="$(readlink -f "$lib")"
  mkdir -p "$rootfs$(dirname "$lib")"
  cp "$real" "$rootfs$lib"
done <"$work/libs"
# /lib64 -> usr paths as in Debian (merged /usr): keep the loader where the ELF header says.
cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' \
  >"$rootfs/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$rootfs/etc/group"
printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"

say "building the image (umoci)"
layout="$work/layout"
umoci init --layout "$layout"
umoci new --image "$layout:$VERSION"
umoci insert --image "$layout:$VERSION" "$rootfs" /
umoci config --image "$layout:$VERSION" --config.user 65532:65532 \
  --config.entrypoint /usr/local/bin/stepline-controller --config.workingdir / \
  --config.env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
  --config.exposedports 8080/tcp --config.exposedports 8081/tcp \
  --config.label org.opencontainers.image.title=stepline-controller \
  --config.label org.opencontainers.image.version="$VERSION" \
  --config.label org.opencontainers.image.licenses=Apache-2.0 \
  --architecture amd64 --os linux --author "Stepline" \
  --history.comment "scripts/image.sh: stepline-controller and stepline-artifacts $VERSION, their shared libraries, CA certificates"
umoci gc --layout "$layout"

mkdir -p "$OUT_DIR"
archive="$OUT_DIR/stepline-controller-$VERSION.oci.tar"
rm -f "$archive"
skopeo copy --quiet "oci:$layout:$VERSION" "oci-archive:$archive:stepline-controller:$VERSION" >&2
say "image: $archive ($(du -h "$archive" | cut -f1), $(wc -l <"$work/libs") shared libraries)"
echo "$archive"
