// The engine's splat buffers as a scene-variant stage sees them (bindings 0-8 of set 0). A
// variant shader includes this file, declares its own buffers from
// VKSPLAT_FIRST_PLUGIN_BINDING on, and writes this frame's splats before preprocess runs.
// Layouts (i = splat index, K = (sh_degree + 1)^2 coefficients):
//   means[3i + axis]; rotations[i] = (w, x, y, z) (need not be normalised);
//   log_scales[3i + axis]; opacity_logits[i]; sh_r/g/b[i * K + k];
//   covariances[6i + (xx, xy, xz, yy, yz, zz)] (world space; used instead of rotation and
//   scale when the scene was created with covariances); opacity_scale[i] (multiplies the
//   opacity after the sigmoid, when the scene was created with it).
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
// buffers.
#endif
