#version 450
// scan.comp shaped for CPU devices (lavapipe/llvmpipe), same result bit for bit: the
// device-wide exclusive prefix sum in the same three kernels, chosen by SCAN_STEP:
//   1 reduce:      block_sums[b] = sum of block b's SCAN_BLOCK elements
//   2 scan blocks: block_sums scanned in place by one invocation; the total to control
//   3 downsweep:   out[i] = block_sums[b] + exclusive prefix within the block
// scan.comp gives a block to a workgroup of WORKGROUP invocations and scans it with a tree of
// barriers; on llvmpipe every barrier splits the shader into coroutines switched per subgroup
// and every shared-memory access is a scalar loop over the lanes. Here a workgroup is LANES
// invocations and each owns a whole block (block = flat group * LANES + lane), which it walks
// serially: no barrier, no shared memory. The blocks and block_sums are scan.comp's, and sums
// saturate at 2^32-1 the same way (a saturating sum of unsigned values is the true sum clamped,
// whatever the order), so the outputs are identical. Dispatched for one workgroup per block,
// the surplus groups exit at once; record_scan divides a direct dispatch by LANES.
#include "common.glsl"
#include "projected.glsl"

#define LANES 8u
#if SCAN_STEP == 2
layout(local_size_x = 1) in;
#else
layout(local_size_x = 8) in;  // LANES (engine/core/src/shaders.rs: SCAN_CPU_LANES)
#endif

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
#if SCAN_STEP == 2
    uint running = 0u;
    for (uint b = 0u; b < num_blocks; b++) {
        uint s = block_sums[b];
        block_sums[b] = running;
        running = sat_add(running, s);
    }
    if (pc.total_slot != 0xFFFFFFFFu) control[pc.total_slot] = running;
#else
    uint first_block = flat_group() * LANES;
    if (first_block >= num_blocks) return;  // uniform: the surplus of a per-block dispatch
    uint b = first_block + gl_LocalInvocationIndex;
    uint begin = b * SCAN_BLOCK;
    uint end = b < num_blocks ? min(begin + SCAN_BLOCK, len) : begin;
#if SCAN_STEP == 1
    uint sum = 0u;
    for (uint j = begin; j < end; j++) sum = sat_add(sum, element(j));
    if (b < num_blocks) block_sums[b] = sum;
#else
    uint prefix = b < num_blocks ? block_sums[b] : 0u;
    for (uint j = begin; j < end; j++) {
        uint v = element(j);
        data_out[j] = prefix;
        prefix = sat_add(prefix, v);
    }
#endif
#endif
}
