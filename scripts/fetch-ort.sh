#!/usr/bin/env bash
# Fetch onnxruntime's shared library into the repository's cache, once.
#
# The only source this project relies on is the npm package onnxruntime-node,
# whose tarball ships the library for linux x64 and arm64. The tarball and the
# library are both checked against the sha256 sums pinned below; a mismatch
# stops the build.
set -euo pipefail

version=1.24.1
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 lib_sha=53ef1ac028dd1b05554b8da28d9159eb3876f99868193d2aaa6e67f0243c23d4 ;;
  aarch64 | arm64) arch=arm64 lib_sha=7954e8bdedb497f830c6a679e818d98399b7f4d81ade1126c3e0be74d28111ab ;;
  *) echo "fetch-ort: no onnxruntime build for $(uname -m)" >&2; exit 1 ;;
esac
tgz_sha=57181cf6e6e711b155c5b942d591fd63ded0b5de5c4922d51fd994e7f6ac2772

root=$(cd "$(dirname "$0")/.." && pwd)
dest=$root/.cache/ort/$version/linux-$arch
lib=$dest/libonnxruntime.so.1

check() { # check FILE SHA256
  echo "$2  $1" | sha256sum --check --status
}

if [ -f "$lib" ] && check "$lib" "$lib_sha"; then
  exit 0
fi

command -v npm >/dev/null || { echo "fetch-ort: npm is needed to fetch onnxruntime-node@$version" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetch-ort: fetching onnxruntime-node@$version" >&2
(cd "$tmp" && npm pack --silent "onnxruntime-node@$version" >/dev/null)
tgz=$tmp/onnxruntime-node-$version.tgz
check "$tgz" "$tgz_sha" || { echo "fetch-ort: sha256 of $(basename "$tgz") does not match the pinned value" >&2; exit 1; }
member=package/bin/napi-v6/linux/$arch/libonnxruntime.so.1
tar -xzf "$tgz" -C "$tmp" "$member"
check "$tmp/$member" "$lib_sha" || { echo "fetch-ort: sha256 of libonnxruntime.so.1 does not match the pinned value" >&2; exit 1; }
mkdir -p "$dest"
mv "$tmp/$member" "$lib"
echo "fetch-ort: onnxruntime $version ready at ${lib#$root/}" >&2
