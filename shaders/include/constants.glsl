// Generated from engine/core/src/gpu_layout.rs: do not edit. Regenerate with
//   cargo run -p vksplat-core --example generate_glsl
// (a test fails while this file differs from what Rust generates).
#ifndef VKSPLAT_CONSTANTS_GLSL
#define VKSPLAT_CONSTANTS_GLSL

// Tiles and workgroups.
#define TILE_SIZE 16u               // tile edge in pixels; blend: one TILE_SIZE^2 group per tile
#define WORKGROUP 256u              // invocations of the 1D kernels' workgroups
#define SORT_BLOCK_KEYS 4096u       // keys per sort workgroup (WORKGROUP x 16)
#define SCAN_BLOCK 1024u            // elements per scan workgroup (WORKGROUP x 4)
#define MAX_GROUPS_X 65535u         // 2D dispatches split at this x count

// Slots of the per-frame control buffer (uint array).
#define CTL_NUM_SPLATS 0u           // splats in the scene (host)
#define CTL_TOTAL_ISECT 1u          // sum of tiles touched (saturating; scan)
#define CTL_ISECT_CAPACITY 2u       // capacity of the intersection buffers (host)
#define CTL_NUM_ISECT 3u            // min(total, capacity) (dispatch_args)
#define CTL_DEPTH_SORT 4u           // SortInfo of the depth sort (4 uints)
#define CTL_TILE_SORT 8u            // SortInfo of the tile sort (4 uints)
#define CTL_ARGS_SORT 12u           // VkDispatchIndirectCommand: tile sort blocks
#define CTL_ARGS_HIST_SCAN 15u      // VkDispatchIndirectCommand: histogram scan
#define CTL_ARGS_ISECT 18u          // VkDispatchIndirectCommand: one per intersection
#define CTL_VISIBLE 21u             // splats touching at least one tile (preprocess)
#define CTL_LEN 24u                 // length of the control buffer

// SortInfo fields, relative to its slot.
#define SORT_NUM_KEYS 0u
#define SORT_NUM_BLOCKS 1u
#define SORT_HIST_LEN 2u

// Preprocess flags: which optional per-splat inputs a scene provides.
#define SPLAT_USE_COVARIANCE 1u     // world-space covariance instead of rotation+scale
#define SPLAT_USE_OPACITY_SCALE 2u  // per-splat opacity factor
#define SPLAT_SH_HALF 4u            // SH stored as IEEE half pairs

// Render modes (`mode` of preprocess and blend).
#define MODE_CLASSIC 0u
#define MODE_ANTIALIASED 1u
#define MODE_INRIA 2u
#define MODE_KHR 3u

// Depth output kinds (`depth_kind` of blend).
#define DEPTH_EXPECTED 0u
#define DEPTH_MEDIAN 1u
#define DEPTH_FIRST 2u

// Binding numbers of set 0, PREFIX_BINDING_NAME, for each kernel's buffers.
#define PREPROCESS_BINDING_RECT_LO 0
#define PREPROCESS_BINDING_RECT_HI 1
#define PREPROCESS_BINDING_DEPTH_KEYS 2
#define PREPROCESS_BINDING_SPLAT_IDS 3
#define PREPROCESS_BINDING_PARAMS 4
#define PREPROCESS_BINDING_CONTROL 5
#define PREPROCESS_TEXELS_BINDING_RECT_LO 0
#define PREPROCESS_TEXELS_BINDING_RECT_HI 1
#define PREPROCESS_TEXELS_BINDING_DEPTH_KEYS 2
#define PREPROCESS_TEXELS_BINDING_SPLAT_IDS 3
#define PREPROCESS_TEXELS_BINDING_PARAMS 4
#define PREPROCESS_TEXELS_BINDING_CONTROL 5
#define PREPROCESS_TEXELS_BINDING_SH_R 6
#define PREPROCESS_TEXELS_BINDING_SH_G 7
#define PREPROCESS_TEXELS_BINDING_SH_B 8
#define PREPROCESS_TEXELS_BINDING_MEANS 9
#define PREPROCESS_TEXELS_BINDING_ROTATIONS 10
#define PREPROCESS_TEXELS_BINDING_LOG_SCALES 11
#define PREPROCESS_TEXELS_BINDING_OPACITY_LOGITS 12
#define SCAN_BINDING_CONTROL 0
#define SCAN_BINDING_INPUT 1
#define SCAN_BINDING_OUTPUT 2
#define SCAN_BINDING_BLOCK_SUMS 3
#define SCAN_BINDING_RECT_LO 4
#define SCAN_BINDING_RECT_HI 5
#define SCAN_BINDING_IDS 6
#define SORT_BINDING_CONTROL 0
#define SORT_BINDING_HIST 1
#define SORT_TEXELS_BINDING_CONTROL 0
#define SORT_TEXELS_BINDING_HIST 1
#define SORT_TEXELS_BINDING_KEYS_IN 2
#define SORT_TEXELS_BINDING_VALS_IN 3
#define DISPATCH_ARGS_BINDING_CONTROL 0
#define EMIT_BINDING_CONTROL 0
#define EMIT_BINDING_IDS 1
#define EMIT_BINDING_OFFSETS 2
#define EMIT_BINDING_RECT_LO 3
#define EMIT_BINDING_RECT_HI 4
#define RANGES_BINDING_CONTROL 0
#define RANGES_BINDING_RANGES 1
#define BLEND_BINDING_RANGES 0
#define BLEND_CPU_BINDING_RANGES 0
#define BLEND_CPU_BINDING_PROJECTED 1

#endif
