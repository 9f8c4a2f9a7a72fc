#!/bin/sh
# The libraries a host links, from a Cargo build: tools/package-lib.sh PROFILE_DIR OUT_DIR
#
# PROFILE_DIR is target/debug or target/release after `cargo build -p vksplat-capi`. Writes:
#   OUT_DIR/libvksplat.a          the static library of tools/static-archive.sh (only the C
#                                 API's vksplat_* symbols are global)
#   OUT_DIR/libvksplat.so.N       the shared library, SONAME libvksplat.so.N where N is the C
#                                 ABI version (VKSPLAT_ABI_VERSION in include/vksplat.h): a
#                                 host built against ABI N loads only a library of ABI N;
#                                 vksplat_version() tells the release
#   OUT_DIR/libvksplat.so         a link to it, for `-lvksplat` at build time
# The shared library is linked from that static library with a version script that exports
# vksplat_* alone, so its bundled shaderc, glslang and SPIRV-Tools never interpose on a host's.
# CC (default cc) links it.
set -eu
if [ $# -ne 2 ]; then
    echo "usage: $0 PROFILE_DIR OUT_DIR" >&2
    exit 2
fi
profile=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
header="$here/../include/vksplat.h"
abi=$(sed -n 's/^#define VKSPLAT_ABI_VERSION \([0-9][0-9]*\)$/\1/p' "$header")
[ -n "$abi" ] || { echo "$0: no VKSPLAT_ABI_VERSION in $header" >&2; exit 1; }
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
"$here/static-archive.sh" "$profile/libvksplat.a" "$tmp/libvksplat.a"
printf '{\n  global: vksplat_*;\n  local: *;\n};\n' >"$tmp/exports.map"
"${CC:-cc}" -shared -o "$tmp/libvksplat.so.$abi" \
    -Wl,-soname,"libvksplat.so.$abi" -Wl,--version-script="$tmp/exports.map" \
    -Wl,--gc-sections -Wl,-z,defs \
    -Wl,--whole-archive "$tmp/libvksplat.a" -Wl,--no-whole-archive \
    -lstdc++ -lzstd -lm -ldl -lpthread
# Into place only when both libraries were made.
mv -f "$tmp/libvksplat.a" "$out/libvksplat.a"
mv -f "$tmp/libvksplat.so.$abi" "$out/libvksplat.so.$abi"
ln -sfn "libvksplat.so.$abi" "$out/libvksplat.so"
