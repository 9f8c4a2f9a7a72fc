// dynamic4d, keyframe sequences: per splat, its records in two frames blended (positions,
// log-scales, logits and SH linearly, rotations by normalised lerp on one hemisphere), or
// hidden when the frame has fewer splats. Same operations, in the same order, as `blend` and
// `cpu_frame` in src/keyframes.rs. The plugin defines, after the version line: KF_BUFFERS
// (static buffers the records are split into), KF_CHUNK (floats per buffer, whole records), KF_STRIDE
// (floats per record), KF_K (SH coefficients per channel) and KF_SHAPE (1: records hold
// log-scales and logits).
#version 450
#include "variant.glsl"
layout(local_size_x = 128) in;

// Every frame's records, frame after frame, split into KF_CHUNK floats (whole records) per
// buffer.
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

// Record e (its first float) of the keyframes into r. KF_CHUNK holds whole records, so a
// record lies in one buffer: one switch per record, not per float.
#define KF_CASE(n, buf) case n: for (uint k = 0u; k < KF_STRIDE; k++) r[k] = buf[o + k]; break;
void load(uint e, out float r[KF_STRIDE]) {
    uint o = e % KF_CHUNK;
    switch (e / KF_CHUNK) {
    KF_CASE(0u, k0)
#if KF_BUFFERS > 1
    KF_CASE(1u, k1)
#endif
#if KF_BUFFERS > 2
    KF_CASE(2u, k2)
#endif
#if KF_BUFFERS > 3
    KF_CASE(3u, k3)
#endif
#if KF_BUFFERS > 4
    KF_CASE(4u, k4)
#endif
#if KF_BUFFERS > 5
    KF_CASE(5u, k5)
#endif
#if KF_BUFFERS > 6
    KF_CASE(6u, k6)
#endif
#if KF_BUFFERS > 7
    KF_CASE(7u, k7)
#endif
#if KF_BUFFERS > 8
    KF_CASE(8u, k8)
#endif
#if KF_BUFFERS > 9
    KF_CASE(9u, k9)
#endif
#if KF_BUFFERS > 10
    KF_CASE(10u, k10)
#endif
#if KF_BUFFERS > 11
    KF_CASE(11u, k11)
#endif
#if KF_BUFFERS > 12
    KF_CASE(12u, k12)
#endif
#if KF_BUFFERS > 13
    KF_CASE(13u, k13)
#endif
#if KF_BUFFERS > 14
    KF_CASE(14u, k14)
#endif
#if KF_BUFFERS > 15
    KF_CASE(15u, k15)
#endif
    default: for (uint k = 0u; k < KF_STRIDE; k++) r[k] = 0.0; break;
    }
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
    float ra[KF_STRIDE];
    float rb[KF_STRIDE];
    load(p.offset0 + KF_STRIDE * i, ra);
    load(p.offset1 + KF_STRIDE * i, rb);
    for (uint c = 0u; c < 3u; c++) means[3u * i + c] = lerp(ra[c], rb[c]);
    float d = ra[3] * rb[3] + ra[4] * rb[4] + ra[5] * rb[5] + ra[6] * rb[6];
    float s = d < 0.0 ? -1.0 : 1.0;
    vec4 q;
    for (uint c = 0u; c < 4u; c++) q[c] = lerp(ra[3u + c], s * rb[3u + c]);
    float n2 = q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3];
    rotations[i] = n2 > 0.0 ? q / sqrt(n2) : vec4(1.0, 0.0, 0.0, 0.0);
#if KF_SHAPE
    for (uint c = 0u; c < 3u; c++) log_scales[3u * i + c] = lerp(ra[7u + c], rb[7u + c]);
    float logit = lerp(ra[10], rb[10]);
    opacity_logits[i] = logit;
    const uint SH0 = 11u;
#else
    float logit = opacity_logits[i];
    const uint SH0 = 7u;
#endif
    for (uint k = 0u; k < KF_K; k++) {
        uint e = SH0 + 3u * k;
        sh_r[KF_K * i + k] = lerp(ra[e], rb[e]);
        sh_g[KF_K * i + k] = lerp(ra[e + 1u], rb[e + 1u]);
        sh_b[KF_K * i + k] = lerp(ra[e + 2u], rb[e + 2u]);
    }
    float alpha = 1.0 / (1.0 + exp(-logit));
    opacity_scale[i] = alpha < p.cull ? 0.0 : 1.0;
}
