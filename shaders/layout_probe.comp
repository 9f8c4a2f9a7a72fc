#version 450
// Test-only: writes a distinct value into every field of the shared structs so the Rust side
// can check that its #[repr(C)] mirrors put each field at the same offset (tests/layout.rs).
#include "common.glsl"
#include "projected.glsl"

layout(local_size_x = 1) in;
layout(std430, binding = 0) writeonly buffer Proj { Projected projected[]; };
layout(std430, binding = 1) writeonly buffer Control { uint control[]; };

void main() {
    Projected p;
    p.mean_depth_opacity = vec4(1.0, 2.0, 3.0, 4.0);
    p.conic = vec4(5.0, 6.0, 7.0, 8.0);
    p.color = vec4(9.0, 10.0, 11.0, 12.0);
    projected[0] = p;
    projected[1] = p;
    control[0] = CTL_NUM_SPLATS; control[1] = CTL_TOTAL_ISECT; control[2] = CTL_ISECT_CAPACITY;
    control[3] = CTL_NUM_ISECT; control[4] = CTL_DEPTH_SORT; control[5] = CTL_TILE_SORT;
    control[6] = CTL_ARGS_SORT; control[7] = CTL_ARGS_HIST_SCAN; control[8] = CTL_ARGS_ISECT;
    control[9] = CTL_LEN; control[10] = SORT_BLOCK_KEYS; control[11] = SCAN_BLOCK;
    control[12] = TILE_SIZE; control[13] = SORT_NUM_KEYS; control[14] = SORT_NUM_BLOCKS;
    control[15] = SORT_HIST_LEN;
}
