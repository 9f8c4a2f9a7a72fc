// dynamic4d, Spacetime Gaussians lite (also splaTV .splatv): per splat at time t, the
// polynomial mean, the rotating quaternion and the temporal opacity factor. Same operations,
// in the same order, as `evaluate` in src/stg.rs.
#version 450
#include "variant.glsl"
layout(local_size_x = 128) in;

// Per splat, STRIDE floats: mean (3), trbf_center, exp(-trbf_scale), sigmoid(opacity),
// motion (9), rotation w x y z (4), omega (4), padding.
const uint STRIDE = 24u;
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING) readonly buffer Stg { float stg[]; };
layout(push_constant) uniform Params {
    float time;
    float cull;
    uint count;
    float cutoff;
} p;

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= p.count) return;
    uint b = STRIDE * i;
    float dt = p.time - stg[b + 3u];
    float dt2 = dt * dt;
    float dt3 = dt2 * dt;
    for (uint a = 0u; a < 3u; a++)
        means[3u * i + a] = stg[b + a] + stg[b + 6u + a] * dt + stg[b + 9u + a] * dt2
                            + stg[b + 12u + a] * dt3;
    float u = dt * stg[b + 4u];
    float f = exp(-(u * u));
    opacity_scale[i] = (f < p.cutoff || stg[b + 5u] * f < p.cull) ? 0.0 : f;
    vec4 q;
    for (uint k = 0u; k < 4u; k++) q[k] = stg[b + 15u + k] + dt * stg[b + 19u + k];
    float n2 = q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3];
    rotations[i] = n2 > 0.0 ? q / sqrt(n2) : vec4(1.0, 0.0, 0.0, 0.0);
}
