#version 450
// The tile sort for CPU devices (lavapipe/llvmpipe) in one pass: a stable counting sort of the
// (tile id, splat index) pairs by tile id, where the radix sort (radix_sort_cpu.comp) needs
// ceil(bits / 8) passes (2 at 1080p and 4K). Two kernels, chosen by TC_STEP, with the
// histogram's exclusive scan (scan_cpu.comp, over hist in index order) in between:
//   1 count:   hist[tile * num_blocks + block] = pairs of that tile in the block
//   2 scatter: each pair goes to scanned hist[tile * num_blocks + block] + the count of equal
//              tiles earlier in the block.
// A workgroup is LANES invocations; each owns one block of consecutive pairs (block = flat
// group * LANES + lane) and walks it serially, in order, so the result is stable, hence
// identical to the radix sort's. Each lane owns its column of the histogram (zeroed by the host
// with vkCmdFillBuffer), so there are no races and no atomics. The blocks are large, at most
// TILE_COUNT_BLOCK_KEYS pairs (dispatch_args.comp), because the histogram has a row per tile,
// not per 8-bit digit; not larger, because llvmpipe (Mesa 22.3) silently stops an invocation's
// loops after 65535 iterations in all (its guard against endless loops), which blocks of 58k
// pairs plus a loop over 8160 tiles were seen to exceed (100k splats at 1080p lost pairs).
#include "common.glsl"
#include "buffers.glsl"

#define LANES 8u
layout(local_size_x = 8) in;  // LANES (engine/core/src/shaders.rs: SORT_CPU_LANES)

layout(std430, binding = SORT_BINDING_CONTROL) readonly buffer Control { uint control[]; };
layout(std430, binding = SORT_BINDING_HIST) buffer Hist { uint hist[]; };

layout(push_constant) uniform Params {
    UintArray keys_in;
    UintArray vals_in;
    UintArray keys_out;
    UintArray vals_out;
    uint info_slot;  // control slot of the tile sort's SortInfo
    uint shift;      // unused (the whole key is the tile id)
} pc;

#ifdef KEY_TEXELS
// The input pairs as RGBA32UI texels (SortTexelBindings): llvmpipe fetches a texel for
// all lanes in one gather, where a load through an address is a loop over the lanes.
layout(binding = SORT_TEXELS_BINDING_KEYS_IN) uniform usamplerBuffer keys_texels;
layout(binding = SORT_TEXELS_BINDING_VALS_IN) uniform usamplerBuffer vals_texels;
#endif

// min(): a key is a tile id below `tiles` (emit_keys.comp); never outside the column.
#define COUNT_PAIR(key) hist[min(key, tiles - 1u) * num_blocks + b] += 1u
#define SCATTER_PAIR(key, val)                              \
    {                                                       \
        uint k_ = key;                                      \
        uint slot = min(k_, tiles - 1u) * num_blocks + b;   \
        uint dst = hist[slot];                              \
        hist[slot] = dst + 1u;                              \
        pc.keys_out.v[dst] = k_;                            \
        pc.vals_out.v[dst] = val;                           \
    }

void main() {
    uint num_keys = control[pc.info_slot + SORT_NUM_KEYS];
    uint num_blocks = control[pc.info_slot + SORT_NUM_BLOCKS];
    uint block_keys = control[pc.info_slot + SORT_BLOCK_LEN];
    uint tiles = control[CTL_NUM_TILES];
    uint first_block = flat_group() * LANES;
    if (first_block >= num_blocks) return;  // uniform: surplus groups
    uint b = first_block + gl_LocalInvocationIndex;
    bool has_block = b < num_blocks;
    uint begin = min(b * block_keys, num_keys);
    uint end = has_block ? min(begin + block_keys, num_keys) : begin;
    UintArray keys_in = pc.keys_in;
#ifdef KEY_TEXELS
    // Four pairs per texel, a block starting at a texel (SORT_BLOCK_LEN is a multiple of 4).
    for (uint i = begin; i < end; i += 4u) {
        uvec4 keys = texelFetch(keys_texels, int(i >> 2u));
#if TC_STEP == 2
        uvec4 vals = texelFetch(vals_texels, int(i >> 2u));
#endif
        for (uint c = 0u; c < 4u; c++) {
            if (i + c < end) {
#if TC_STEP == 1
                COUNT_PAIR(keys[c]);
#else
                SCATTER_PAIR(keys[c], vals[c]);
#endif
            }
        }
    }
#else
    for (uint i = begin; i < end; i++) {
#if TC_STEP == 1
        COUNT_PAIR(keys_in.v[i]);
#else
        SCATTER_PAIR(keys_in.v[i], pc.vals_in.v[i]);
#endif
    }
#endif
}
