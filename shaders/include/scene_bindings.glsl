// Generated from engine/core/src/gpu_layout.rs: do not edit. Regenerate with
//   cargo run -p vksplat-core --example generate_glsl
// (a test fails while this file differs from what Rust generates).
#ifndef VKSPLAT_SCENE_BINDINGS_GLSL
#define VKSPLAT_SCENE_BINDINGS_GLSL

// The scene's buffers in set 0 of a scene-variant stage (variant.glsl declares them).
#define VKSPLAT_BINDING_MEANS 0
#define VKSPLAT_BINDING_ROTATIONS 1
#define VKSPLAT_BINDING_LOG_SCALES 2
#define VKSPLAT_BINDING_OPACITY_LOGITS 3
#define VKSPLAT_BINDING_SH_R 4
#define VKSPLAT_BINDING_SH_G 5
#define VKSPLAT_BINDING_SH_B 6
#define VKSPLAT_BINDING_COVARIANCES 7
#define VKSPLAT_BINDING_OPACITY_SCALE 8

// The first binding of the plugin's own buffers.
#define VKSPLAT_FIRST_PLUGIN_BINDING 9

#endif
