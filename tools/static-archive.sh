#!/bin/sh
# Makes the static library a host links: tools/static-archive.sh IN.a OUT.a
#
# Cargo's libvksplat.a holds every object of every dependency with its global symbols, the
# bundled shaderc, glslang and SPIRV-Tools included: a host that links its own copy of one of
# them gets "multiple definition" errors, or one of the two copies silently calls the other.
# This script links the archive's objects into one relocatable object (ld -r), keeps only the
# C API (the vksplat_* symbols) global, makes everything else local to that object, drops the
# COMDAT groups (so the linker cannot swap an inline function of ours for a host's), and
# writes an archive of that one object. Undefined references (libc, libstdc++, libzstd, libm)
# stay undefined: link with -lstdc++ -lzstd -lm -ldl -lpthread as for Cargo's archive.
#
# Tools: LD, OBJCOPY, AR, READELF, OBJDUMP (GNU binutils; defaults ld, objcopy, ar, readelf,
# objdump). The BFD target is named explicitly so that binutils never hands the object to a
# linker plugin (LLVMgold rejects Rust's objects).
set -eu
if [ $# -ne 2 ]; then
    echo "usage: $0 IN.a OUT.a" >&2
    exit 2
fi
in=$1
out=$2
LD=${LD:-ld}
OBJCOPY=${OBJCOPY:-objcopy}
AR=${AR:-ar}
READELF=${READELF:-readelf}
OBJDUMP=${OBJDUMP:-objdump}
[ -f "$in" ] || { echo "$0: $in: no such archive" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
"$LD" -r --whole-archive "$in" -o "$tmp/all.o"
"$READELF" -sW "$tmp/all.o" |
    awk '($5 == "GLOBAL" || $5 == "WEAK") && $7 != "UND" && $8 ~ /^vksplat_/ { print $8 }' |
    sort -u >"$tmp/keep"
if [ ! -s "$tmp/keep" ]; then
    echo "$0: $in defines no vksplat_* symbol" >&2
    exit 1
fi
target=$("$OBJDUMP" -f "$tmp/all.o" | sed -n 's/.*file format //p' | head -n 1)
[ -n "$target" ] || { echo "$0: cannot tell the object format of $in" >&2; exit 1; }
"$OBJCOPY" -I "$target" -O "$target" --remove-section=.group \
    --keep-global-symbols="$tmp/keep" "$tmp/all.o" "$tmp/vksplat.o"
"$AR" --target="$target" rcs "$tmp/out.a" "$tmp/vksplat.o"
# Rename into place only when everything worked: OUT is never left half written.
mv -f "$tmp/out.a" "$out"
