// The engine's splat buffers as a scene-variant plugin's compute stage sees them. The guide
// for plugin authors is PLUGINS.md at the repository root; this is the summary.
//
// A variant shader does `#include "variant.glsl"` (the engine resolves it, wherever vksplat is
// installed), declares its own buffers from VKSPLAT_FIRST_PLUGIN_BINDING on (the static
// buffers of its VksplatGpuStage in order, then its frame buffer) and a push-constant block of
// exactly the size its stage states, and writes this frame's splats. The engine runs it as the
// frame's first stage, before preprocess, with ceil(invocations / local_size_x) workgroups
// along x (local_size_y = local_size_z = 1, at most 1024 invocations per workgroup).
//
// What the shader is told: only what its own buffers and push constants hold. The engine passes
// no splat count, time or parameter values of its own: gpu_frame writes them into the push
// constants (or the frame buffer) every frame. The last workgroup runs past the splat count,
// so compare gl_GlobalInvocationID.x with the count you pushed before writing.
//
// Set 0, storage buffers, std430, i = splat index, N = the description's splat_count, K =
// (sh_degree + 1)^2 SH coefficients per channel (coefficient 0 is the DC term):
//   binding  array              layout                          written with output bit
//   0        means              means[3i + axis] (x, y, z)      VKSPLAT_OUTPUT_MEANS
//   1        rotations          rotations[i] = (w, x, y, z)     VKSPLAT_OUTPUT_ROTATIONS
//                               (need not be normalised)
//   2        log_scales         log_scales[3i + axis]           VKSPLAT_OUTPUT_LOG_SCALES
//                               (natural log of each axis' scale)
//   3        opacity_logits     opacity_logits[i] (before the   VKSPLAT_OUTPUT_OPACITY_LOGITS
//                               sigmoid)
//   4, 5, 6  sh_r, sh_g, sh_b   sh_c[i * K + k]: one plane per  VKSPLAT_OUTPUT_SH
//                               colour channel
//   7        covariances        covariances[6i + (xx, xy, xz,   VKSPLAT_OUTPUT_COVARIANCES
//                               yy, yz, zz)], world space; used
//                               instead of rotation and scale
//                               (VKSPLAT_VARIANT_COVARIANCE)
//   8        opacity_scale      opacity_scale[i], multiplies    VKSPLAT_OUTPUT_OPACITY_SCALE
//                               the opacity after the sigmoid
//                               (VKSPLAT_VARIANT_OPACITY_SCALE)
// Each array holds exactly N splats (covariances and opacity_scale only when the description
// asks for them). Arrays the plugin does not write every frame hold its `initial` data (zero,
// or 1 for opacity_scale, where it gave none).
//
// Rules the host checks before it makes a pipeline (the message names the binding):
// - declare an engine binding only through this file, or exactly like it (same element type
//   and stride, the array the block's only member); one block per binding: a block of your own
//   at 0..8 would alias the engine's buffer;
// - write only the arrays of the outputs your description declares, and never read an array
//   you write: it holds the previous frame's output, so reading it (means[i] += ...) would
//   make every frame depend on the frames rendered before it;
// - your own buffers are inputs: declare them readonly; a fixed-size block must fit the
//   buffer behind it;
// - the module passes the SPIR-V validator (Vulkan 1.2).
#ifndef VKSPLAT_VARIANT_GLSL
#define VKSPLAT_VARIANT_GLSL
#include "scene_bindings.glsl"
layout(std430, binding = VKSPLAT_BINDING_MEANS) buffer VkspMeans { float means[]; };
layout(std430, binding = VKSPLAT_BINDING_ROTATIONS) buffer VkspRotations { vec4 rotations[]; };
layout(std430, binding = VKSPLAT_BINDING_LOG_SCALES) buffer VkspLogScales { float log_scales[]; };
layout(std430, binding = VKSPLAT_BINDING_OPACITY_LOGITS) buffer VkspOpacities {
    float opacity_logits[];
};
layout(std430, binding = VKSPLAT_BINDING_SH_R) buffer VkspShR { float sh_r[]; };
layout(std430, binding = VKSPLAT_BINDING_SH_G) buffer VkspShG { float sh_g[]; };
layout(std430, binding = VKSPLAT_BINDING_SH_B) buffer VkspShB { float sh_b[]; };
layout(std430, binding = VKSPLAT_BINDING_COVARIANCES) buffer VkspCovariances {
    float covariances[];
};
layout(std430, binding = VKSPLAT_BINDING_OPACITY_SCALE) buffer VkspOpacityScale {
    float opacity_scale[];
};
// VKSPLAT_FIRST_PLUGIN_BINDING (scene_bindings.glsl): the first binding of the plugin's
// buffers (its static buffers in order, then its frame buffer).
#endif
