#version 450
// tile_ranges.comp shaped for CPU devices (lavapipe/llvmpipe), the same ranges: start and end of
// each tile's run in the tile-sorted intersection list. Tiles with no intersections keep the
// (0, 0) the host filled in.
//
// tile_ranges.comp has an invocation per intersection reading three keys (its own and both
// neighbours'), each a per-lane gather on llvmpipe. Here a workgroup is LANES invocations
// covering the same WORKGROUP intersections, each walking its KEYS_PER_LANE consecutive ones
// serially with the previous key in a register: one read per intersection. The boundary between
// intersections k-1 and k is written by the invocation owning k. Same dispatch size as
// tile_ranges.comp (one workgroup per WORKGROUP intersections).
#include "common.glsl"
#include "buffers.glsl"

#define LANES 8u
#define KEYS_PER_LANE (WORKGROUP / LANES)
layout(local_size_x = 8) in;  // LANES (engine/core/src/shaders.rs)

layout(std430, binding = RANGES_BINDING_CONTROL) readonly buffer Control { uint control[]; };
layout(std430, binding = RANGES_BINDING_RANGES) buffer Ranges { uvec2 ranges[]; };
layout(push_constant) uniform Params { UintArray tile_keys; } pc;

void main() {
    uint n = control[CTL_NUM_ISECT];
    uint begin = flat_group() * WORKGROUP + gl_LocalInvocationIndex * KEYS_PER_LANE;
    uint end = min(begin + KEYS_PER_LANE, n);
    if (begin >= end) return;
    UintArray keys = pc.tile_keys;
    uint prev = keys.v[max(begin, 1u) - 1u];  // unused at k = 0
    for (uint k = begin; k < end; k++) {
        uint tile = keys.v[k];
        if (k == 0u || tile != prev) {
            ranges[tile].x = k;
            if (k != 0u) ranges[prev].y = k;
        }
        prev = tile;
    }
    if (end == n) ranges[prev].y = n;
}
