#version 450
// Stage 4: for each splat in depth order, one (tile id, splat index) pair per tile its
// rectangle touches, written at its scanned offset. Emitting in depth order and then sorting
// stably by tile gives per-tile lists ordered by depth, ties by splat index.
//
// Each workgroup owns WORKGROUP consecutive splats (depth order) and the slots
// [offsets[j0], offsets[j0 + WORKGROUP]) they fill; its invocations walk those slots together,
// one slot each per step, and find the slot's splat by a binary search of the offsets in
// shared memory. So consecutive invocations write consecutive slots (one invocation per splat
// would write WORKGROUP scattered runs), and a splat that touches thousands of tiles is
// shared by the whole workgroup instead of keeping one invocation busy.
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

shared uint s_first[WORKGROUP];  // each splat's first slot; 0xFFFFFFFF past the last splat
shared uint s_origin[WORKGROUP]; // tile id of its rectangle's first tile
shared uint s_width[WORKGROUP];  // its rectangle's width in tiles
shared uint s_id[WORKGROUP];

void main() {
    uint j0 = flat_group() * WORKGROUP;
    if (j0 >= pc.num_splats) return;  // uniform across the workgroup
    uint t = gl_LocalInvocationIndex;
    uint j = j0 + t;
    uint capacity = control[CTL_ISECT_CAPACITY];
    s_first[t] = 0xFFFFFFFFu;
    if (j < pc.num_splats) {
        uint id = ids[j];
        uvec2 r = uvec2(rect_lo[id], rect_hi[id]);
        uvec2 lo = rect_min(r), hi = rect_max(r);
        s_first[t] = offsets[j];
        s_origin[t] = lo.y * pc.tiles_x + lo.x;
        s_width[t] = hi.x - lo.x;
        s_id[t] = id;
    }
    // The slots end where the next group's begin, or at the total after the last splat;
    // beyond the capacity nothing is written (the host re-renders with more room).
    uint j1 = j0 + WORKGROUP;
    uint end = min(j1 < pc.num_splats ? offsets[j1] : control[CTL_TOTAL_ISECT], capacity);
    barrier();
    uint start = min(s_first[0], end);  // a saturated offset must not wrap below
    for (uint o = start + t; o < end; o += WORKGROUP) {
        // The last splat whose first slot is at or before o: it owns o (a splat with no
        // tiles shares its first slot with the next one, which wins).
        uint k = 0u;
        for (uint step = WORKGROUP / 2u; step > 0u; step >>= 1u) {
            if (s_first[k + step] <= o) k += step;
        }
        uint local = o - s_first[k];
        uint w = s_width[k];
        uint y = local / w;
        pc.tile_keys.v[o] = s_origin[k] + y * pc.tiles_x + (local - y * w);
        pc.values.v[o] = s_id[k];
    }
}
