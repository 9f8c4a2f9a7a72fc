#version 450
// Stage 6: start and end of each tile's run in the tile-sorted intersection list. Tiles with
// no intersections keep the (0, 0) the host filled in.
#include "common.glsl"
#include "buffers.glsl"

layout(local_size_x = WORKGROUP) in;

layout(std430, binding = RANGES_BINDING_CONTROL) readonly buffer Control { uint control[]; };
layout(std430, binding = RANGES_BINDING_RANGES) buffer Ranges { uvec2 ranges[]; };
layout(push_constant) uniform Params { UintArray tile_keys; } pc;

void main() {
    uint k = flat_group() * WORKGROUP + gl_LocalInvocationIndex;
    uint n = control[CTL_NUM_ISECT];
    if (k >= n) return;
    UintArray keys = pc.tile_keys;
    uint tile = keys.v[k];
    if (k == 0u || keys.v[k - 1u] != tile) ranges[tile].x = k;
    if (k + 1u == n || keys.v[k + 1u] != tile) ranges[tile].y = k + 1u;
}
