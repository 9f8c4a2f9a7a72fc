// Shared by every vksplat compute shader: the constants Rust generates (constants.glsl, from
// engine/core/src/gpu_layout.rs) and two helpers.
#ifndef VKSPLAT_COMMON_GLSL
#define VKSPLAT_COMMON_GLSL
#include "constants.glsl"

// Flat workgroup index for 2D dispatches split at MAX_GROUPS_X.
uint flat_group() {
    return gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
}

uint sat_add(uint a, uint b) {
    return (a > 0xFFFFFFFFu - b) ? 0xFFFFFFFFu : a + b;
}

#endif
