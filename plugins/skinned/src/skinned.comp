// skinned: exact linear blend skinning of splats (glTF skins). The same arithmetic, in the same
// order, as the CPU path (plugins/skinned/src/lbs.rs). The host prepends `#version` and
// `#define POLAR 0|1`.
#include "variant.glsl"
layout(local_size_x = 128) in;
// Per splat: the rest point each of the 4 joint slots moves (12; all the mean for PLY sources),
// then POLAR=0: covariance xx xy xz yy yz zz (6); POLAR=1: rotation w x y z (4), log-scales (3).
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING) readonly buffer Rest { float rest[]; };
// Per splat: joint indices (4, as floats) and weights (4, summing to 1).
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 1) readonly buffer Skin { float skin[]; };
// This frame's skinning matrices, row-major 4x4 each.
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 2) readonly buffer Bones { float bones[]; };
layout(push_constant) uniform Params {
    uint count;
    uint joint_count;
} p;

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= p.count) return;
    uint sk = 8u * i;
    uint j0 = 16u * min(uint(skin[sk]), p.joint_count - 1u);
    uint j1 = 16u * min(uint(skin[sk + 1u]), p.joint_count - 1u);
    uint j2 = 16u * min(uint(skin[sk + 2u]), p.joint_count - 1u);
    uint j3 = 16u * min(uint(skin[sk + 3u]), p.joint_count - 1u);
    float w0 = skin[sk + 4u], w1 = skin[sk + 5u], w2 = skin[sk + 6u], w3 = skin[sk + 7u];
    // A = sum_k w_k M_k (top 3 rows), left to right.
    float a[12];
    for (uint e = 0u; e < 12u; e++)
        a[e] = w0 * bones[j0 + e] + w1 * bones[j1 + e] + w2 * bones[j2 + e] + w3 * bones[j3 + e];
#if POLAR
    uint r = 19u * i;
#else
    uint r = 18u * i;
#endif
    // mean = sum_k w_k (M_k [p_k; 1]), left to right.
    for (uint row = 0u; row < 3u; row++) {
        uint b0 = j0 + 4u * row, b1 = j1 + 4u * row, b2 = j2 + 4u * row, b3 = j3 + 4u * row;
        float t0 = bones[b0] * rest[r] + bones[b0 + 1u] * rest[r + 1u] + bones[b0 + 2u] * rest[r + 2u] + bones[b0 + 3u];
        float t1 = bones[b1] * rest[r + 3u] + bones[b1 + 1u] * rest[r + 4u] + bones[b1 + 2u] * rest[r + 5u] + bones[b1 + 3u];
        float t2 = bones[b2] * rest[r + 6u] + bones[b2 + 1u] * rest[r + 7u] + bones[b2 + 2u] * rest[r + 8u] + bones[b2 + 3u];
        float t3 = bones[b3] * rest[r + 9u] + bones[b3 + 1u] * rest[r + 10u] + bones[b3 + 2u] * rest[r + 11u] + bones[b3 + 3u];
        means[3u * i + row] = w0 * t0 + w1 * t1 + w2 * t2 + w3 * t3;
    }
    r += 12u;
#if POLAR
    // A3 = U P: Newton steps U <- (U + U^-T) / 2, U^-T = cofactor(U) / det(U).
    float u[9] = float[9](a[0], a[1], a[2], a[4], a[5], a[6], a[8], a[9], a[10]);
    float c[9];
    c[0] = u[4] * u[8] - u[5] * u[7];
    c[1] = u[5] * u[6] - u[3] * u[8];
    c[2] = u[3] * u[7] - u[4] * u[6];
    float det_a = u[0] * c[0] + u[1] * c[1] + u[2] * c[2];
    vec4 q0 = vec4(rest[r], rest[r + 1u], rest[r + 2u], rest[r + 3u]);
    vec3 ls = vec3(rest[r + 4u], rest[r + 5u], rest[r + 6u]);
    if (!(det_a > 1e-30)) {
        rotations[i] = q0;
        log_scales[3u * i] = -30.0;
        log_scales[3u * i + 1u] = -30.0;
        log_scales[3u * i + 2u] = -30.0;
        return;
    }
    for (int step = 0; step < 10; step++) {
        c[0] = u[4] * u[8] - u[5] * u[7];
        c[1] = u[5] * u[6] - u[3] * u[8];
        c[2] = u[3] * u[7] - u[4] * u[6];
        c[3] = u[2] * u[7] - u[1] * u[8];
        c[4] = u[0] * u[8] - u[2] * u[6];
        c[5] = u[1] * u[6] - u[0] * u[7];
        c[6] = u[1] * u[5] - u[2] * u[4];
        c[7] = u[2] * u[3] - u[0] * u[5];
        c[8] = u[0] * u[4] - u[1] * u[3];
        float det = u[0] * c[0] + u[1] * c[1] + u[2] * c[2];
        float inv = 1.0 / det;
        for (int k = 0; k < 9; k++) u[k] = 0.5 * (u[k] + c[k] * inv);
    }
    // Shepperd: the quaternion (w, x, y, z) of U.
    float tr = u[0] + u[4] + u[8];
    vec4 qu;
    if (tr > 0.0) {
        float s = sqrt(tr + 1.0) * 2.0;
        qu = vec4(0.25 * s, (u[7] - u[5]) / s, (u[2] - u[6]) / s, (u[3] - u[1]) / s);
    } else if (u[0] > u[4] && u[0] > u[8]) {
        float s = sqrt(1.0 + u[0] - u[4] - u[8]) * 2.0;
        qu = vec4((u[7] - u[5]) / s, 0.25 * s, (u[1] + u[3]) / s, (u[2] + u[6]) / s);
    } else if (u[4] > u[8]) {
        float s = sqrt(1.0 + u[4] - u[0] - u[8]) * 2.0;
        qu = vec4((u[2] - u[6]) / s, (u[1] + u[3]) / s, 0.25 * s, (u[5] + u[7]) / s);
    } else {
        float s = sqrt(1.0 + u[8] - u[0] - u[4]) * 2.0;
        qu = vec4((u[3] - u[1]) / s, (u[2] + u[6]) / s, (u[5] + u[7]) / s, 0.25 * s);
    }
    // q' = q(U) (x) q, Hamilton product on (w, x, y, z).
    rotations[i] = vec4(
        qu.x * q0.x - qu.y * q0.y - qu.z * q0.z - qu.w * q0.w,
        qu.x * q0.y + qu.y * q0.x + qu.z * q0.w - qu.w * q0.z,
        qu.x * q0.z - qu.y * q0.w + qu.z * q0.x + qu.w * q0.y,
        qu.x * q0.w + qu.y * q0.z - qu.z * q0.y + qu.w * q0.x);
    float d = log(det_a) / 3.0;
    log_scales[3u * i] = ls.x + d;
    log_scales[3u * i + 1u] = ls.y + d;
    log_scales[3u * i + 2u] = ls.z + d;
#else
    // Sigma' = A3 Sigma A3^T.
    float s[9] = float[9](rest[r], rest[r + 1u], rest[r + 2u],
                          rest[r + 1u], rest[r + 3u], rest[r + 4u],
                          rest[r + 2u], rest[r + 4u], rest[r + 5u]);
    float l[9];
    for (uint row = 0u; row < 3u; row++)
        for (uint col = 0u; col < 3u; col++)
            l[3u * row + col] = a[4u * row] * s[col] + a[4u * row + 1u] * s[3u + col] + a[4u * row + 2u] * s[6u + col];
    float res[9];
    for (uint row = 0u; row < 3u; row++)
        for (uint col = 0u; col < 3u; col++)
            res[3u * row + col] = l[3u * row] * a[4u * col] + l[3u * row + 1u] * a[4u * col + 1u] + l[3u * row + 2u] * a[4u * col + 2u];
    covariances[6u * i] = res[0];
    covariances[6u * i + 1u] = res[1];
    covariances[6u * i + 2u] = res[2];
    covariances[6u * i + 3u] = res[4];
    covariances[6u * i + 4u] = res[5];
    covariances[6u * i + 5u] = res[8];
#endif
}
