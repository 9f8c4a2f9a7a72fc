// dynamic4d, keyframe sequences: per splat, its records in two frames blended (positions,
// log-scales, logits and SH linearly, rotations by normalised lerp on one hemisphere), or
// hidden when the frame has fewer splats. Same operations, in the same order, as `blend` and
// `cpu_frame` in src/keyframes.rs. The plugin defines, after the version line: KF_BUFFERS
// (static buffers the records are split into), KF_CHUNK (floats per buffer), KF_STRIDE
// (floats per record), KF_K (SH coefficients per channel) and KF_SHAPE (1: records hold
// log-scales and logits).
#version 450
#include "variant.glsl"
layout(local_size_x = 128) in;

// Every frame's records, frame after frame, split into KF_CHUNK floats per buffer.
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING) readonly buffer K0 { float k0[]; };
#if KF_BUFFERS > 1
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 1) readonly buffer K1 { float k1[]; };
#endif
#if KF_BUFFERS > 2
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 2) readonly buffer K2 { float k2[]; };
#endif
#if KF_BUFFERS > 3
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 3) readonly buffer K3 { float k3[]; };
#endif
#if KF_BUFFERS > 4
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 4) readonly buffer K4 { float k4[]; };
#endif
#if KF_BUFFERS > 5
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 5) readonly buffer K5 { float k5[]; };
#endif
#if KF_BUFFERS > 6
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 6) readonly buffer K6 { float k6[]; };
#endif
#if KF_BUFFERS > 7
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 7) readonly buffer K7 { float k7[]; };
#endif
#if KF_BUFFERS > 8
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 8) readonly buffer K8 { float k8[]; };
#endif
#if KF_BUFFERS > 9
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 9) readonly buffer K9 { float k9[]; };
#endif
#if KF_BUFFERS > 10
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 10) readonly buffer K10 { float k10[]; };
#endif
#if KF_BUFFERS > 11
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 11) readonly buffer K11 { float k11[]; };
#endif
#if KF_BUFFERS > 12
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 12) readonly buffer K12 { float k12[]; };
#endif
#if KF_BUFFERS > 13
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 13) readonly buffer K13 { float k13[]; };
#endif
#if KF_BUFFERS > 14
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 14) readonly buffer K14 { float k14[]; };
#endif
#if KF_BUFFERS > 15
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 15) readonly buffer K15 { float k15[]; };
#endif

layout(push_constant) uniform Params {
    uint offset0;  // first float of frame a's records
    uint offset1;  // first float of frame b's records
    uint live;     // splats in frame a
    uint count;    // splats drawn
    float w;       // weight of frame b
    float cull;
    uint pad0;
    uint pad1;
} p;

float fetch(uint e) {
    uint o = e % KF_CHUNK;
    switch (e / KF_CHUNK) {
    case 0u: return k0[o];
#if KF_BUFFERS > 1
    case 1u: return k1[o];
#endif
#if KF_BUFFERS > 2
    case 2u: return k2[o];
#endif
#if KF_BUFFERS > 3
    case 3u: return k3[o];
#endif
#if KF_BUFFERS > 4
    case 4u: return k4[o];
#endif
#if KF_BUFFERS > 5
    case 5u: return k5[o];
#endif
#if KF_BUFFERS > 6
    case 6u: return k6[o];
#endif
#if KF_BUFFERS > 7
    case 7u: return k7[o];
#endif
#if KF_BUFFERS > 8
    case 8u: return k8[o];
#endif
#if KF_BUFFERS > 9
    case 9u: return k9[o];
#endif
#if KF_BUFFERS > 10
    case 10u: return k10[o];
#endif
#if KF_BUFFERS > 11
    case 11u: return k11[o];
#endif
#if KF_BUFFERS > 12
    case 12u: return k12[o];
#endif
#if KF_BUFFERS > 13
    case 13u: return k13[o];
#endif
#if KF_BUFFERS > 14
    case 14u: return k14[o];
#endif
#if KF_BUFFERS > 15
    case 15u: return k15[o];
#endif
    }
    return 0.0;
}

float lerp(float a, float b) { return a + p.w * (b - a); }

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= p.count) return;
    if (i >= p.live) {
        // Padding of a frame with fewer splats: hidden.
        for (uint a = 0u; a < 3u; a++) means[3u * i + a] = 0.0;
        rotations[i] = vec4(1.0, 0.0, 0.0, 0.0);
#if KF_SHAPE
        for (uint a = 0u; a < 3u; a++) log_scales[3u * i + a] = -30.0;
        opacity_logits[i] = -30.0;
#endif
        for (uint k = 0u; k < KF_K; k++) {
            sh_r[KF_K * i + k] = 0.0;
            sh_g[KF_K * i + k] = 0.0;
            sh_b[KF_K * i + k] = 0.0;
        }
        opacity_scale[i] = 0.0;
        return;
    }
    uint a = p.offset0 + KF_STRIDE * i;
    uint b = p.offset1 + KF_STRIDE * i;
    for (uint c = 0u; c < 3u; c++) means[3u * i + c] = lerp(fetch(a + c), fetch(b + c));
    vec4 qa = vec4(fetch(a + 3u), fetch(a + 4u), fetch(a + 5u), fetch(a + 6u));
    vec4 qb = vec4(fetch(b + 3u), fetch(b + 4u), fetch(b + 5u), fetch(b + 6u));
    float d = qa[0] * qb[0] + qa[1] * qb[1] + qa[2] * qb[2] + qa[3] * qb[3];
    float s = d < 0.0 ? -1.0 : 1.0;
    vec4 q;
    for (uint c = 0u; c < 4u; c++) q[c] = lerp(qa[c], s * qb[c]);
    float n2 = q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3];
    rotations[i] = n2 > 0.0 ? q / sqrt(n2) : vec4(1.0, 0.0, 0.0, 0.0);
#if KF_SHAPE
    for (uint c = 0u; c < 3u; c++) log_scales[3u * i + c] = lerp(fetch(a + 7u + c), fetch(b + 7u + c));
    float logit = lerp(fetch(a + 10u), fetch(b + 10u));
    opacity_logits[i] = logit;
    const uint SH0 = 11u;
#else
    float logit = opacity_logits[i];
    const uint SH0 = 7u;
#endif
    for (uint k = 0u; k < KF_K; k++) {
        uint e = SH0 + 3u * k;
        sh_r[KF_K * i + k] = lerp(fetch(a + e), fetch(b + e));
        sh_g[KF_K * i + k] = lerp(fetch(a + e + 1u), fetch(b + e + 1u));
        sh_b[KF_K * i + k] = lerp(fetch(a + e + 2u), fetch(b + e + 2u));
    }
    float alpha = 1.0 / (1.0 + exp(-logit));
    opacity_scale[i] = alpha < p.cull ? 0.0 : 1.0;
}
