#version 450
// radix_sort.comp shaped for CPU devices (lavapipe/llvmpipe), same result bit for bit: one pass
// of the stable LSD radix sort, 8 bits per pass, in three kernels chosen by SORT_STEP:
//   1 histogram: hist[digit * num_blocks + block] = count of digit in the block's keys
//   2 offsets:   hist scanned in place, digit-major (an exclusive prefix sum over all of it)
//   3 scatter:   each pair goes to scanned_hist[digit * num_blocks + block] + the count of
//                equal digits earlier in the block.
//
// llvmpipe runs a workgroup on one thread with the invocations as SIMD lanes; every barrier
// splits the shader into coroutines switched per subgroup, and shared-memory accesses with
// per-lane addresses are scalar loops over the lanes. radix_sort.comp pays four barriers and a
// 256-lane bitmask ranking per 256 keys, and its scan (scan.comp) a barrier per step of a
// 256-wide tree. Here steps 1 and 3 have no barrier, no atomic and no shared memory: a
// workgroup is LANES invocations and each invocation owns one whole block of SORT_BLOCK_KEYS
// consecutive keys (block = flat group * LANES + lane), which it walks serially in index order
// with its own 256 counters in a private array. Step 2 is one workgroup of 256 invocations, one
// per digit, each scanning its digit's row of blocks serially; one barrier shares the row
// totals. The histogram layout and the offsets are radix_sort.comp's, and the scatter is
// stable by construction: a lane visits its block's keys in order, the offsets order the
// blocks. Nothing depends on the subgroup size. Steps 1 and 3 dispatched for one workgroup per
// block (the tile sort's indirect arguments) run LANES times too many groups; the surplus exits
// at once.
#include "common.glsl"
#include "buffers.glsl"

#define LANES 8u
#if SORT_STEP == 2
layout(local_size_x = 256) in;  // one invocation per digit
#else
layout(local_size_x = 8) in;  // LANES (engine/core/src/shaders.rs)
#endif

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

#ifdef KEY_TEXELS
// The input pairs as RGBA32UI texels (SortTexelBindings): llvmpipe fetches a texel for all
// lanes in one gather, where a load through an address is a loop over the lanes.
layout(binding = SORT_TEXELS_BINDING_KEYS_IN) uniform usamplerBuffer keys_texels;
layout(binding = SORT_TEXELS_BINDING_VALS_IN) uniform usamplerBuffer vals_texels;
#endif

// Step 3: the pair goes to its digit's next output position.
#define SCATTER_PAIR(key, val)                      \
    {                                               \
        uint k_ = key;                              \
        uint digit = (k_ >> pc.shift) & 255u;       \
        uint dst = count[digit];                    \
        count[digit] = dst + 1u;                    \
        keys_out.v[dst] = k_;                       \
        vals_out.v[dst] = val;                      \
    }

#if SORT_STEP == 2
shared uint s_total[256];

void main() {
    uint num_blocks = control[pc.info_slot + SORT_NUM_BLOCKS];
    uint d = gl_LocalInvocationIndex;
    uint row = d * num_blocks;
    uint sum = 0u;  // at most the number of keys: no overflow
    for (uint b = 0u; b < num_blocks; b++) {
        uint c = hist[row + b];
        hist[row + b] = sum;
        sum += c;
    }
    s_total[d] = sum;
    barrier();
    uint base = 0u;
    for (uint e = 0u; e < d; e++) base += s_total[e];
    for (uint b = 0u; b < num_blocks; b++) hist[row + b] += base;
}
#else
void main() {
    uint num_keys = control[pc.info_slot + SORT_NUM_KEYS];
    uint num_blocks = control[pc.info_slot + SORT_NUM_BLOCKS];
    uint first_block = flat_group() * LANES;
    if (first_block >= num_blocks) return;  // uniform: the surplus of a per-block dispatch
    uint b = first_block + gl_LocalInvocationIndex;
    bool has_block = b < num_blocks;
    uint begin = b * SORT_BLOCK_KEYS;
    uint end = has_block ? min(begin + SORT_BLOCK_KEYS, num_keys) : begin;
    UintArray keys_in = pc.keys_in;
    // The lane's counter (step 1) or next output position (step 3) per digit. Private memory:
    // llvmpipe reaches it with vector gathers, shared memory with a scalar loop per lane.
    uint count[256];
#if SORT_STEP == 1
    for (uint d = 0u; d < 256u; d++) count[d] = 0u;
#ifdef KEY_TEXELS
    // Four pairs per texel; a block starts at a texel (SORT_BLOCK_KEYS is a multiple of 4).
    for (uint i = begin; i < end; i += 4u) {
        uvec4 keys = texelFetch(keys_texels, int(i >> 2u));
        for (uint c = 0u; c < 4u; c++) {
            if (i + c < end) count[(keys[c] >> pc.shift) & 255u] += 1u;
        }
    }
#else
    for (uint i = begin; i < end; i++) count[(keys_in.v[i] >> pc.shift) & 255u] += 1u;
#endif
    if (has_block) {
        for (uint d = 0u; d < 256u; d++) hist[d * num_blocks + b] = count[d];
    }
#else
    if (has_block) {
        for (uint d = 0u; d < 256u; d++) count[d] = hist[d * num_blocks + b];
    }
    UintArray vals_in = pc.vals_in;
    UintArray keys_out = pc.keys_out;
    UintArray vals_out = pc.vals_out;
#ifdef KEY_TEXELS
    for (uint i = begin; i < end; i += 4u) {
        uvec4 keys = texelFetch(keys_texels, int(i >> 2u));
        uvec4 vals = texelFetch(vals_texels, int(i >> 2u));
        for (uint c = 0u; c < 4u; c++) {
            if (i + c < end) SCATTER_PAIR(keys[c], vals[c]);
        }
    }
#else
    for (uint i = begin; i < end; i++) SCATTER_PAIR(keys_in.v[i], vals_in.v[i]);
#endif
#endif
}
#endif
