// Shared by every vksplat compute shader. Mirrored in Rust by engine/core/src/gpu_layout.rs;
// the layout test (tests/layout.rs) checks both sides agree.
#ifndef VKSPLAT_COMMON_GLSL
#define VKSPLAT_COMMON_GLSL

#define TILE_SIZE 16u
#define WORKGROUP 256u

// Slots of the per-frame control buffer (uint array). Counts flow between stages through it,
// so no stage needs a host readback.
#define CTL_NUM_SPLATS      0u   // splats in the scene (written by the host)
#define CTL_TOTAL_ISECT     1u   // sum of tiles touched (saturating; written by the scan)
#define CTL_ISECT_CAPACITY  2u   // capacity of the intersection buffers (host)
#define CTL_NUM_ISECT       3u   // min(total, capacity) (dispatch_args)
#define CTL_DEPTH_SORT      4u   // SortInfo of the per-splat depth sort (4 uints)
#define CTL_TILE_SORT       8u   // SortInfo of the per-intersection tile sort (4 uints)
#define CTL_ARGS_SORT      12u   // VkDispatchIndirectCommand: tile sort blocks
#define CTL_ARGS_HIST_SCAN 15u   // VkDispatchIndirectCommand: tile sort histogram scan blocks
#define CTL_ARGS_ISECT     18u   // VkDispatchIndirectCommand: one thread per intersection
#define CTL_VISIBLE        21u   // splats that touch at least one tile (preprocess)
#define CTL_LEN            24u

// SortInfo fields, relative to its slot.
#define SORT_NUM_KEYS   0u
#define SORT_NUM_BLOCKS 1u
#define SORT_HIST_LEN   2u

// Preprocess flags: which optional per-splat inputs a scene provides.
#define SPLAT_USE_COVARIANCE    1u
#define SPLAT_USE_OPACITY_SCALE 2u
#define SPLAT_SH_HALF           4u  // SH stored as IEEE half pairs

#define SORT_BLOCK_KEYS 4096u  // keys per sort workgroup (256 threads x 16)
#define SCAN_BLOCK      1024u  // elements per scan workgroup (256 threads x 4)
#define MAX_GROUPS_X    65535u

// Flat workgroup index for 2D dispatches split at MAX_GROUPS_X.
uint flat_group() {
    return gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
}

uint sat_add(uint a, uint b) {
    return (a > 0xFFFFFFFFu - b) ? 0xFFFFFFFFu : a + b;
}

#endif
