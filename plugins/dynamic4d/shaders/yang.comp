// dynamic4d, native 4D Gaussians (Yang et al.): per splat at time t, the conditional mean,
// the temporal marginal as the opacity multiplier and, with time bands, the SH folded to one
// set of degree-3 coefficients. Same operations, in the same order, as `evaluate`,
// `band_weights` and `cpu_frame` in src/yang.rs. The plugin defines YANG_BANDS (1-3) after
// the version line.
#version 450
#include "variant.glsl"
layout(local_size_x = 128) in;

// Per splat, STRIDE floats: mean (3), t0, velocity (3), 0.5 / sigma_t^2, opacity.
const uint STRIDE = 9u;
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING) readonly buffer Yang { float yang[]; };
#if YANG_BANDS > 1
// Per time band and channel, count x 16 SH coefficients.
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 1) readonly buffer B0R { float b0r[]; };
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 2) readonly buffer B0G { float b0g[]; };
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 3) readonly buffer B0B { float b0b[]; };
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 4) readonly buffer B1R { float b1r[]; };
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 5) readonly buffer B1G { float b1g[]; };
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 6) readonly buffer B1B { float b1b[]; };
#endif
#if YANG_BANDS > 2
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 7) readonly buffer B2R { float b2r[]; };
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 8) readonly buffer B2G { float b2g[]; };
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 9) readonly buffer B2B { float b2b[]; };
#endif
layout(push_constant) uniform Params {
    float time;
    float cull;
    float cutoff;
    float inv_duration;
    uint count;
    uint pad0;
    uint pad1;
    uint pad2;
} p;

const float TAU = 6.28318530717958647692;

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= p.count) return;
    uint b = STRIDE * i;
    float dt = p.time - yang[b + 3u];
    float pt = exp(-(yang[b + 7u] * (dt * dt)));
    opacity_scale[i] = (pt <= p.cutoff || yang[b + 8u] * pt < p.cull) ? 0.0 : pt;
    for (uint a = 0u; a < 3u; a++)
        means[3u * i + a] = yang[b + a] + yang[b + 4u + a] * dt;
#if YANG_BANDS > 1
    float x = -dt * p.inv_duration;
    float c1 = cos(TAU * x);
    float c2 = cos(2.0 * TAU * x);
    for (uint j = 0u; j < 16u; j++) {
        uint s = 16u * i + j;
        float r = b0r[s] + c1 * b1r[s];
        float g = b0g[s] + c1 * b1g[s];
        float bl = b0b[s] + c1 * b1b[s];
#if YANG_BANDS > 2
        r += c2 * b2r[s];
        g += c2 * b2g[s];
        bl += c2 * b2b[s];
#endif
        sh_r[s] = r;
        sh_g[s] = g;
        sh_b[s] = bl;
    }
#endif
}
