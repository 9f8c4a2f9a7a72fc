#version 450
// Stable LSD radix sort of (u32 key, u32 value) pairs, 8 bits per pass. Two kernels from this
// file, chosen by SORT_STEP, with the histogram scan (scan.comp) in between:
//   1 histogram: hist[digit * num_blocks + block] = count of digit in the block's keys
//   2 scatter:   each pair goes to scanned_hist[digit * num_blocks + block] + its rank among
//                equal digits earlier in the block.
// Ranks come from per-digit bitmasks in shared memory (atomicOr + bitCount), not subgroup
// operations, so the result is the same for any subgroup size, and stable by construction:
// within a block, pairs are ranked in index order; blocks are ordered by the scan.
//
// The scatter ranks CHUNK pairs (WORKGROUP at a time), reorders them by digit in shared memory
// and only then writes them out, so consecutive invocations write consecutive addresses of a
// digit's run (about CHUNK / 256 pairs) instead of each of 256 pairs landing in its own
// memory segment.
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
#include "workgroup_scan.glsl"
#define CHUNK (WORKGROUP * 8u)  // pairs reordered together (shared memory: lavapipe has 32 KiB)
#define PER (CHUNK / WORKGROUP)
shared uint s_masks[256 * 8];  // s_masks[digit * 8 + word]: which of the 256 lanes hold digit
shared uint s_offsets[256];    // next output position per digit for this block
shared uint s_run[256];        // pairs per digit ranked so far in this chunk
shared uint s_start[256];      // first position of each digit's run in s_keys/s_vals
shared uint s_keys[CHUNK];     // the chunk's pairs ordered by digit, stably
shared uint s_vals[CHUNK];
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
    s_run[t] = 0u;
    for (uint w = 0u; w < 8u; w++) s_masks[t * 8u + w] = 0u;
    uint word = t >> 5u, bit = 1u << (t & 31u);
    for (uint c = 0u; c < SORT_BLOCK_KEYS; c += CHUNK) {
        uint first = base + c;
        if (first >= num_keys) break;  // uniform across the workgroup
        uint len = min(CHUNK, num_keys - first);
        uint keys[PER], vals[PER], ranks[PER];
        barrier();  // masks cleared, s_run reset, s_keys/s_vals written out
        // Rank: the chunk's k-th row of WORKGROUP pairs after rows 0..k-1, lanes in order.
        for (uint k = 0u; k < PER; k++) {
            bool valid = k * WORKGROUP + t < len;
            uint digit = 0u;
            keys[k] = 0u;
            vals[k] = 0u;
            ranks[k] = 0u;
            if (valid) {
                uint i = first + k * WORKGROUP + t;
                keys[k] = pc.keys_in.v[i];
                vals[k] = pc.vals_in.v[i];
                digit = (keys[k] >> pc.shift) & 255u;
                atomicOr(s_masks[digit * 8u + word], bit);
            }
            barrier();
            if (valid) {
                uint rank = s_run[digit] + bitCount(s_masks[digit * 8u + word] & (bit - 1u));
                for (uint w = 0u; w < word; w++) rank += bitCount(s_masks[digit * 8u + w]);
                ranks[k] = rank;
            }
            barrier();
            // Invocation t owns digit t's counters and mask row.
            uint count = 0u;
            for (uint w = 0u; w < 8u; w++) {
                count += bitCount(s_masks[t * 8u + w]);
                s_masks[t * 8u + w] = 0u;
            }
            s_run[t] += count;
            barrier();
        }
        uint total;
        s_start[t] = workgroup_exclusive_scan(s_run[t], total);
        barrier();
        for (uint k = 0u; k < PER; k++) {
            if (k * WORKGROUP + t < len) {
                uint p = s_start[(keys[k] >> pc.shift) & 255u] + ranks[k];
                s_keys[p] = keys[k];
                s_vals[p] = vals[k];
            }
        }
        barrier();
        for (uint p = t; p < len; p += WORKGROUP) {
            uint key = s_keys[p];
            uint digit = (key >> pc.shift) & 255u;
            uint dst = s_offsets[digit] + (p - s_start[digit]);
            pc.keys_out.v[dst] = key;
            pc.vals_out.v[dst] = s_vals[p];
        }
        barrier();
        s_offsets[t] += s_run[t];
        s_run[t] = 0u;
    }
#endif
}
