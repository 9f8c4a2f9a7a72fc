#version 450
// radix_sort.comp shaped for CPU devices (lavapipe/llvmpipe), same result bit for bit: one pass
// of the stable LSD radix sort, 8 bits per pass, histogram (SORT_STEP 1) and scatter
// (SORT_STEP 2) with the same histogram scan (scan.comp) between them.
//
// llvmpipe runs a workgroup on one thread with the invocations as SIMD lanes; every barrier
// splits the shader into coroutines switched per subgroup, and shared-memory atomics are per-lane
// scalar operations. radix_sort.comp pays four barriers and a 256-lane bitmask ranking per 256
// keys. Here there is no barrier and no atomic: a workgroup is LANES invocations and each
// invocation owns one whole block of SORT_BLOCK_KEYS consecutive keys (block = flat group *
// LANES + lane), which it walks serially in index order with its own 256 counters in shared
// memory (a column no other lane touches). The histogram is the same hist[digit * num_blocks +
// block] as radix_sort.comp's, so the scan and the output positions are the same, and the
// scatter is stable by construction: a lane visits its block's keys in order, the scan orders the
// blocks. Nothing depends on the subgroup size. Dispatches sized for one workgroup per block
// (the tile sort's indirect arguments) run LANES times too many groups; the surplus exits at
// once.
#include "common.glsl"
#include "buffers.glsl"

#define LANES 8u
layout(local_size_x = 8) in;  // LANES (engine/core/src/shaders.rs)

layout(std430, binding = SORT_BINDING_CONTROL) readonly buffer Control { uint control[]; };
layout(std430, binding = SORT_BINDING_HIST) buffer Hist { uint hist[]; };

layout(push_constant) uniform Params {
    UintArray keys_in;
    UintArray vals_in;
    UintArray keys_out;
    UintArray vals_out;
    uint info_slot;  // control slot of this sort's SortInfo
    uint shift;      // bit offset of this pass's digit
} pc;

// s_count[digit * LANES + lane]: the lane's counter (step 1) or next output position (step 2)
shared uint s_count[256u * LANES];

void main() {
    uint num_keys = control[pc.info_slot + SORT_NUM_KEYS];
    uint num_blocks = control[pc.info_slot + SORT_NUM_BLOCKS];
    uint first_block = flat_group() * LANES;
    if (first_block >= num_blocks) return;  // uniform: the surplus of a per-block dispatch
    uint lane = gl_LocalInvocationIndex;
    uint b = first_block + lane;
    bool has_block = b < num_blocks;
    uint begin = b * SORT_BLOCK_KEYS;
    uint end = has_block ? min(begin + SORT_BLOCK_KEYS, num_keys) : begin;
    UintArray keys_in = pc.keys_in;
#if SORT_STEP == 1
    for (uint d = 0u; d < 256u; d++) s_count[d * LANES + lane] = 0u;
    for (uint i = begin; i < end; i++) {
        uint s = ((keys_in.v[i] >> pc.shift) & 255u) * LANES + lane;
        s_count[s] += 1u;
    }
    if (has_block) {
        for (uint d = 0u; d < 256u; d++) hist[d * num_blocks + b] = s_count[d * LANES + lane];
    }
#else
    if (has_block) {
        for (uint d = 0u; d < 256u; d++) s_count[d * LANES + lane] = hist[d * num_blocks + b];
    }
    UintArray vals_in = pc.vals_in;
    UintArray keys_out = pc.keys_out;
    UintArray vals_out = pc.vals_out;
    for (uint i = begin; i < end; i++) {
        uint key = keys_in.v[i];
        uint s = ((key >> pc.shift) & 255u) * LANES + lane;
        uint dst = s_count[s];
        s_count[s] = dst + 1u;
        keys_out.v[dst] = key;
        vals_out.v[dst] = vals_in.v[i];
    }
#endif
}
