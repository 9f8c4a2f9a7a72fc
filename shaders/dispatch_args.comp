#version 450
// One invocation: turns this frame's intersection count (from the scan) into the sizes and
// indirect dispatch arguments of the later stages. Clamps to the buffers' capacity; the host
// compares the total with the capacity after the frame and re-renders with larger buffers.
#include "common.glsl"

layout(local_size_x = 1) in;
layout(std430, binding = DISPATCH_ARGS_BINDING_CONTROL) buffer Control { uint control[]; };

void set_args(uint slot, uint groups) {
    uint x = min(groups, MAX_GROUPS_X);
    control[slot] = x;
    control[slot + 1u] = x == 0u ? 0u : (groups + x - 1u) / x;
    control[slot + 2u] = 1u;
}

void main() {
    uint n = min(control[CTL_TOTAL_ISECT], control[CTL_ISECT_CAPACITY]);
    control[CTL_NUM_ISECT] = n;
    uint blocks = (n + SORT_BLOCK_KEYS - 1u) / SORT_BLOCK_KEYS;
    control[CTL_TILE_SORT + SORT_NUM_KEYS] = n;
    control[CTL_TILE_SORT + SORT_NUM_BLOCKS] = blocks;
    control[CTL_TILE_SORT + SORT_HIST_LEN] = blocks * 256u;
    set_args(CTL_ARGS_SORT, blocks);
    set_args(CTL_ARGS_HIST_SCAN, (blocks * 256u + SCAN_BLOCK - 1u) / SCAN_BLOCK);
    set_args(CTL_ARGS_ISECT, (n + WORKGROUP - 1u) / WORKGROUP);
}
