#version 450
// Stable LSD radix sort of (u32 key, u32 value) pairs, 8 bits per pass. Two kernels from this
// file, chosen by SORT_STEP, with the histogram scan (scan.comp) in between:
//   1 histogram: hist[digit * num_blocks + block] = count of digit in the block's keys
//   2 scatter:   each pair goes to scanned_hist[digit * num_blocks + block] + its rank among
//                equal digits earlier in the block.
// Ranks come from per-digit bitmasks in shared memory (atomicOr + bitCount), not subgroup
// operations, so the result is the same for any subgroup size, and stable by construction:
// within a block, pairs are ranked in index order; blocks are ordered by the scan.
#include "common.glsl"
#include "buffers.glsl"

layout(local_size_x = WORKGROUP) in;

layout(std430, binding = SORT_BINDING_CONTROL) readonly buffer Control { uint control[]; };
layout(std430, binding = SORT_BINDING_HIST) buffer Hist { uint hist[]; };

// The pairs can outgrow one binding (e.g. 50M intersections), so they are addressed directly.
layout(push_constant) uniform Params {
    UintArray keys_in;
    UintArray vals_in;
    UintArray keys_out;
    UintArray vals_out;
    uint info_slot;  // control slot of this sort's SortInfo
    uint shift;      // bit offset of this pass's digit
} pc;

#define ITEMS (SORT_BLOCK_KEYS / WORKGROUP)

#if SORT_STEP == 1
shared uint s_hist[256];
#else
shared uint s_masks[256 * 8];  // s_masks[digit * 8 + word]: which of the 256 lanes hold digit
shared uint s_offsets[256];    // next output position per digit for this block
#endif

void main() {
    uint num_keys = control[pc.info_slot + SORT_NUM_KEYS];
    uint num_blocks = control[pc.info_slot + SORT_NUM_BLOCKS];
    uint b = flat_group();
    if (b >= num_blocks) return;
    uint t = gl_LocalInvocationIndex;
    uint base = b * SORT_BLOCK_KEYS;
#if SORT_STEP == 1
    s_hist[t] = 0u;
    barrier();
    for (uint k = 0u; k < ITEMS; k++) {
        uint i = base + k * WORKGROUP + t;
        if (i < num_keys) atomicAdd(s_hist[(pc.keys_in.v[i] >> pc.shift) & 255u], 1u);
    }
    barrier();
    hist[t * num_blocks + b] = s_hist[t];
#else
    s_offsets[t] = hist[t * num_blocks + b];
    for (uint k = 0u; k < ITEMS; k++) {
        uint first = base + k * WORKGROUP;
        if (first >= num_keys) break;  // uniform across the workgroup
        for (uint w = 0u; w < 8u; w++) s_masks[t * 8u + w] = 0u;
        barrier();
        uint i = first + t;
        bool valid = i < num_keys;
        uint key = 0u, val = 0u, digit = 0u;
        uint word = t >> 5u, bit = 1u << (t & 31u);
        if (valid) {
            key = pc.keys_in.v[i];
            val = pc.vals_in.v[i];
            digit = (key >> pc.shift) & 255u;
            atomicOr(s_masks[digit * 8u + word], bit);
        }
        barrier();
        if (valid) {
            uint rank = bitCount(s_masks[digit * 8u + word] & (bit - 1u));
            for (uint w = 0u; w < word; w++) rank += bitCount(s_masks[digit * 8u + w]);
            uint dst = s_offsets[digit] + rank;
            pc.keys_out.v[dst] = key;
            pc.vals_out.v[dst] = val;
        }
        barrier();
        uint count = 0u;
        for (uint w = 0u; w < 8u; w++) count += bitCount(s_masks[t * 8u + w]);
        s_offsets[t] += count;
        barrier();
    }
#endif
}
