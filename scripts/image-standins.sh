#!/usr/bin/env bash
# Test-only: make local stand-ins for the public base images the
# Dockerfile names, for a builder that cannot reach an image registry.
#
# Each stand-in is built from Debian's packages: debootstrap makes a
# minimal bookworm root, imported as debian:bookworm-slim; node's image
# adds Debian's nodejs and npm to it; golang's adds gcc and this
# machine's Go toolchain, copied in. They are tagged with the public
# names, so the Dockerfile builds unchanged, and cached as tarballs in
# STANDIN_CACHE (default .cache/standins) so that a second run only
# imports them. Needs root, debootstrap and buildah.
#
# Usage: scripts/image-standins.sh [BUILDAH_FLAGS...]
#   for instance --storage-driver vfs, passed to every buildah command.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${STANDIN_CACHE:-$root/.cache/standins}
suite=bookworm
slim=docker.io/library/debian:bookworm-slim
node=docker.io/library/node:22-bookworm-slim
golang=docker.io/library/golang:1.26-bookworm
bh=(buildah "$@")

for tool in buildah debootstrap go; do
  command -v "$tool" >/dev/null || { echo "image-standins: $tool is needed" >&2; exit 1; }
done
mkdir -p "$cache"

# has IMAGE: whether the builder's storage holds IMAGE already.
has() { "${bh[@]}" inspect --type image "$1" >/dev/null 2>&1; }

# load IMAGE TARBALL [ENV...]: import a cached stand-in, with the
# environment the public image sets, unless the storage has it.
load() {
  local image=$1 tarball=$2 c env
  shift 2
  has "$image" && return 0
  [ -f "$tarball" ] || return 1
  c=$("${bh[@]}" from --pull-never scratch)
  "${bh[@]}" add "$c" "$tarball" / >/dev/null
  for env in PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"; do
    "${bh[@]}" config --env "$env" "$c"
  done
  "${bh[@]}" config --cmd bash "$c"
  "${bh[@]}" commit --quiet --rm "$c" "$image" >/dev/null
}

# derive TARBALL SCRIPT [DIR DEST]: run SCRIPT in a container of the slim
# stand-in, copy this machine's DIR to DEST in it, and save its root as
# TARBALL.
derive() {
  local c mnt
  c=$("${bh[@]}" from --pull-never "$slim")
  # The certificate authorities this machine adds to Debian's, which
  # ca-certificates' install takes in: the stand-ins reach the package
  # registries as this machine does.
  "${bh[@]}" copy "$c" /usr/local/share/ca-certificates /usr/local/share/ca-certificates >/dev/null
  "${bh[@]}" run --isolation chroot "$c" -- sh -ec "$2"
  if [ $# -eq 4 ]; then
    "${bh[@]}" copy "$c" "$3" "$4" >/dev/null
  fi
  mnt=$("${bh[@]}" mount "$c")
  tar -C "$mnt" --numeric-owner -cf "$1.part" .
  "${bh[@]}" umount "$c" >/dev/null
  "${bh[@]}" rm "$c" >/dev/null
  mv "$1.part" "$1"
}

apt='apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends'
clean='rm -rf /var/lib/apt/lists/*'
go_env=(PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  GOPATH=/go GOTOOLCHAIN=local "GOLANG_VERSION=$(go env GOVERSION | sed 's/^go//')")

if ! load "$slim" "$cache/debian-$suite-slim.tar"; then
  echo "image-standins: debootstrapping Debian $suite for $slim" >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  debootstrap --variant=minbase "$suite" "$tmp/root" >"$tmp/log" 2>&1 || { tail -20 "$tmp/log" >&2; exit 1; }
  rm -rf "$tmp/root/var/cache/apt/archives/"*.deb "$tmp/root/var/lib/apt/lists/"*
  tar -C "$tmp/root" --numeric-owner -cf "$cache/debian-$suite-slim.tar.part" .
  mv "$cache/debian-$suite-slim.tar.part" "$cache/debian-$suite-slim.tar"
  load "$slim" "$cache/debian-$suite-slim.tar"
fi

if ! load "$node" "$cache/node-$suite.tar" NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt; then
  echo "image-standins: $node from Debian's nodejs and npm" >&2
  derive "$cache/node-$suite.tar" "$apt nodejs npm ca-certificates >/dev/null && $clean"
  load "$node" "$cache/node-$suite.tar" NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi

if ! load "$golang" "$cache/golang-$suite.tar" "${go_env[@]}"; then
  echo "image-standins: $golang from Debian's gcc and this machine's $(go env GOVERSION)" >&2
  derive "$cache/golang-$suite.tar" "$apt gcc libc6-dev ca-certificates git >/dev/null && $clean && mkdir -p /go" \
    "$(go env GOROOT)" /usr/local/go
  load "$golang" "$cache/golang-$suite.tar" "${go_env[@]}"
fi
echo "image-standins: $slim, $node and $golang are ready" >&2
