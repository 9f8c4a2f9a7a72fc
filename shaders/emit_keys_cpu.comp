#version 450
// Stage 4 for CPU devices (SortKernel::Cpu): the pairs of emit_keys.comp, the same ones in the
// same slots, but each invocation walks its own splat's rectangle. On llvmpipe the workgroup-
// wide walk of emit_keys.comp costs a binary search of shared memory per pair, done lane by
// lane; here the loop is the splat's own.
#include "common.glsl"
#include "buffers.glsl"

layout(local_size_x = WORKGROUP) in;

layout(std430, binding = EMIT_BINDING_CONTROL) readonly buffer Control { uint control[]; };
layout(std430, binding = EMIT_BINDING_IDS) readonly buffer Ids { uint ids[]; };        // depth-sorted splats
layout(std430, binding = EMIT_BINDING_OFFSETS) readonly buffer Offsets { uint offsets[]; };
layout(std430, binding = EMIT_BINDING_RECT_LO) readonly buffer RectLo { uint rect_lo[]; };
layout(std430, binding = EMIT_BINDING_RECT_HI) readonly buffer RectHi { uint rect_hi[]; };

layout(push_constant) uniform Params {
    UintArray tile_keys;
    UintArray values;
    uint tiles_x;
    uint num_splats;
} pc;

void main() {
    uint j = flat_group() * WORKGROUP + gl_LocalInvocationIndex;
    if (j >= pc.num_splats) return;
    uint id = ids[j];
    uvec2 r = uvec2(rect_lo[id], rect_hi[id]);
    uvec2 lo = rect_min(r), hi = rect_max(r);
    uint capacity = control[CTL_ISECT_CAPACITY];
    uint o = offsets[j];
    for (uint y = lo.y; y < hi.y; y++) {
        for (uint x = lo.x; x < hi.x; x++) {
            if (o >= capacity) return;  // overflow: the host re-renders with more room
            pc.tile_keys.v[o] = y * pc.tiles_x + x;
            pc.values.v[o] = id;
            o++;
        }
    }
}
