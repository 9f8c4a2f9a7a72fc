#version 450
// Device-wide exclusive prefix sum, reduce-then-scan (no inter-workgroup waiting, so it needs
// no forward-progress guarantee). Three kernels from this file, chosen by SCAN_STEP:
//   1 reduce:      block_sums[b] = sum of block b's SCAN_BLOCK elements
//   2 scan blocks: one workgroup scans block_sums in place; writes the total to control
//   3 downsweep:   out[i] = block_sums[b] + exclusive prefix within the block
// The length comes from control[len_slot], so data-dependent sizes need no readback. With
// `gather` set, element j is the tile count of splat ids[j] (the depth-sorted order) instead
// of input[j]. Sums saturate at 2^32-1; the host treats that as "too many intersections".
#include "common.glsl"
#include "projected.glsl"
#include "workgroup_scan.glsl"

layout(local_size_x = WORKGROUP) in;

layout(std430, binding = SCAN_BINDING_CONTROL) buffer Control { uint control[]; };
layout(std430, binding = SCAN_BINDING_INPUT) readonly buffer Input { uint data_in[]; };
layout(std430, binding = SCAN_BINDING_OUTPUT) buffer Output { uint data_out[]; };
layout(std430, binding = SCAN_BINDING_BLOCK_SUMS) buffer BlockSums { uint block_sums[]; };
layout(std430, binding = SCAN_BINDING_RECT_LO) readonly buffer RectLo { uint rect_lo[]; };
layout(std430, binding = SCAN_BINDING_RECT_HI) readonly buffer RectHi { uint rect_hi[]; };
layout(std430, binding = SCAN_BINDING_IDS) readonly buffer Ids { uint ids[]; };

layout(push_constant) uniform Params {
    uint len_slot;    // control slot holding the number of elements
    uint total_slot;  // control slot receiving the total (0xFFFFFFFF: none)
    uint gather;      // 1: element j = the tile count of splat ids[j]'s rectangle
    uint pad;
} pc;

uint element(uint j) {
    if (pc.gather == 0u) return data_in[j];
    uint id = ids[j];
    return rect_area(uvec2(rect_lo[id], rect_hi[id]));
}

void main() {
    uint len = control[pc.len_slot];
    uint num_blocks = (len + SCAN_BLOCK - 1u) / SCAN_BLOCK;
    uint t = gl_LocalInvocationIndex;
#if SCAN_STEP == 1
    uint b = flat_group();
    if (b >= num_blocks) return;
    uint sum = 0u;
    for (uint k = 0u; k < 4u; k++) {
        uint j = b * SCAN_BLOCK + t * 4u + k;
        if (j < len) sum = sat_add(sum, element(j));
    }
    uint total;
    workgroup_exclusive_scan(sum, total);
    if (t == 0u) block_sums[b] = total;
#elif SCAN_STEP == 2
    uint running = 0u;
    for (uint base = 0u; base < num_blocks; base += SCAN_BLOCK) {
        uint v[4];
        uint sum = 0u;
        for (uint k = 0u; k < 4u; k++) {
            uint j = base + t * 4u + k;
            v[k] = j < num_blocks ? block_sums[j] : 0u;
            sum = sat_add(sum, v[k]);
        }
        uint total;
        uint prefix = sat_add(running, workgroup_exclusive_scan(sum, total));
        for (uint k = 0u; k < 4u; k++) {
            uint j = base + t * 4u + k;
            if (j < num_blocks) block_sums[j] = prefix;
            prefix = sat_add(prefix, v[k]);
        }
        running = sat_add(running, total);
    }
    if (t == 0u && pc.total_slot != 0xFFFFFFFFu) control[pc.total_slot] = running;
#else
    uint b = flat_group();
    if (b >= num_blocks) return;
    uint v[4];
    uint sum = 0u;
    for (uint k = 0u; k < 4u; k++) {
        uint j = b * SCAN_BLOCK + t * 4u + k;
        v[k] = j < len ? element(j) : 0u;
        sum = sat_add(sum, v[k]);
    }
    uint total;
    uint prefix = sat_add(block_sums[b], workgroup_exclusive_scan(sum, total));
    for (uint k = 0u; k < 4u; k++) {
        uint j = b * SCAN_BLOCK + t * 4u + k;
        if (j < len) data_out[j] = prefix;
        prefix = sat_add(prefix, v[k]);
    }
#endif
}
