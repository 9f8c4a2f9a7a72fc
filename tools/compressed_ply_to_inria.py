#!/usr/bin/env python3
"""Convert a PlayCanvas/SuperSplat "compressed PLY" to an INRIA 3DGS binary PLY.

Used once to make the bundled sample scene (tests/data/sample/guitar.ply) from PlayCanvas's
guitar.compressed.ply (provenance in tests/data/sample/SOURCES.md), before vksplat read
compressed PLY itself (`vksplat convert IN.compressed.ply OUT.ply` converts it now).
Implemented from the published layout: a `chunk` element with per-256-splat min/max ranges and
a `vertex` element of packed u32 fields (position 11-10-11, rotation 2+10-10-10 smallest-three,
log-scale 11-10-11, colour RGBA 8-8-8-8). Standard library only.

    python3 tools/compressed_ply_to_inria.py IN.compressed.ply OUT.ply
"""
import math
import struct
import sys

SH_C0 = 0.28209479177387814


def read_header(data):
    end = data.index(b"end_header\n") + len(b"end_header\n")
    elements = []
    for line in data[:end].decode("ascii").splitlines():
        parts = line.split()
        if parts[0] == "element":
            elements.append((parts[1], int(parts[2]), []))
        elif parts[0] == "property":
            elements[-1][2].append((parts[1], parts[2]))
    return end, elements


def unorm(v, bits):
    return (v & ((1 << bits) - 1)) / ((1 << bits) - 1)


def lerp(a, b, t):
    return a + (b - a) * t


def main(src, dst):
    data = open(src, "rb").read()
    offset, elements = read_header(data)
    tables = {}
    for name, count, props in elements:
        fmt = "<" + "".join({"float": "f", "uint": "I", "uchar": "B"}[t] for t, _ in props)
        size = struct.calcsize(fmt)
        rows = [struct.unpack_from(fmt, data, offset + i * size) for i in range(count)]
        tables[name] = [dict(zip([p for _, p in props], r)) for r in rows]
        offset += count * size
    chunks, verts = tables["chunk"], tables["vertex"]
    out = []
    for i, v in enumerate(verts):
        c = chunks[i // 256]
        p = v["packed_position"]
        pos = [lerp(c["min_x"], c["max_x"], unorm(p >> 21, 11)),
               lerp(c["min_y"], c["max_y"], unorm(p >> 11, 10)),
               lerp(c["min_z"], c["max_z"], unorm(p, 11))]
        r = v["packed_rotation"]
        norm = 1.0 / (math.sqrt(2) * 0.5)
        a, b, cc = ((unorm(r >> s, 10) - 0.5) * norm for s in (20, 10, 0))
        m = math.sqrt(max(0.0, 1.0 - (a * a + b * b + cc * cc)))
        q = [a, b, cc]
        q.insert(r >> 30, m)  # the largest component's index (rot_0 = w .. rot_3 = z)
        s = v["packed_scale"]
        scale = [lerp(c["min_scale_x"], c["max_scale_x"], unorm(s >> 21, 11)),
                 lerp(c["min_scale_y"], c["max_scale_y"], unorm(s >> 11, 10)),
                 lerp(c["min_scale_z"], c["max_scale_z"], unorm(s, 11))]
        col = v["packed_color"]
        rgb = [unorm(col >> 24, 8), unorm(col >> 16, 8), unorm(col >> 8, 8)]
        if "min_r" in c:
            rgb = [lerp(c["min_" + k], c["max_" + k], t) for k, t in zip("rgb", rgb)]
        alpha = min(max(unorm(col, 8), 1e-6), 1 - 1e-6)
        f_dc = [(x - 0.5) / SH_C0 for x in rgb]
        opacity = -math.log(1.0 / alpha - 1.0)
        out.append(pos + [0.0, 0.0, 0.0] + f_dc + [opacity] + scale + q)
    names = ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2", "opacity",
             "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]
    header = "ply\nformat binary_little_endian 1.0\n"
    header += "comment converted from %s by tools/compressed_ply_to_inria.py\n" % src.split("/")[-1]
    header += "element vertex %d\n" % len(out)
    header += "".join("property float %s\n" % n for n in names) + "end_header\n"
    with open(dst, "wb") as f:
        f.write(header.encode("ascii"))
        for row in out:
            f.write(struct.pack("<%df" % len(row), *row))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
