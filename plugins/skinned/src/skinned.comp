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

// The arithmetic is written out on scalars and vec3/vec4 component-wise operations (no local
// arrays: drivers that keep dynamically indexed arrays in memory run them much slower).
vec4 bone_row(uint j, uint row) {
    uint b = j + 4u * row;
    return vec4(bones[b], bones[b + 1u], bones[b + 2u], bones[b + 3u]);
}

// M_k row `row` applied to [p; 1].
float apply_row(vec4 m, float px, float py, float pz) {
    return m.x * px + m.y * py + m.z * pz + m.w;
}

// Row `row` of A (returned) and of the mean (`mean`) for the splat whose rest points start at r.
vec4 skin_row(uint row, uint r, uvec4 j, vec4 w, out float mean) {
    vec4 m0 = bone_row(j.x, row), m1 = bone_row(j.y, row), m2 = bone_row(j.z, row), m3 = bone_row(j.w, row);
    float t0 = apply_row(m0, rest[r], rest[r + 1u], rest[r + 2u]);
    float t1 = apply_row(m1, rest[r + 3u], rest[r + 4u], rest[r + 5u]);
    float t2 = apply_row(m2, rest[r + 6u], rest[r + 7u], rest[r + 8u]);
    float t3 = apply_row(m3, rest[r + 9u], rest[r + 10u], rest[r + 11u]);
    mean = w.x * t0 + w.y * t1 + w.z * t2 + w.w * t3;
    return w.x * m0 + w.y * m1 + w.z * m2 + w.w * m3;
}

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= p.count) return;
    uint sk = 8u * i;
    uint j0 = 16u * min(uint(skin[sk]), p.joint_count - 1u);
    uint j1 = 16u * min(uint(skin[sk + 1u]), p.joint_count - 1u);
    uint j2 = 16u * min(uint(skin[sk + 2u]), p.joint_count - 1u);
    uint j3 = 16u * min(uint(skin[sk + 3u]), p.joint_count - 1u);
    float w0 = skin[sk + 4u], w1 = skin[sk + 5u], w2 = skin[sk + 6u], w3 = skin[sk + 7u];
#if POLAR
    uint r = 19u * i;
#else
    uint r = 18u * i;
#endif
    // A = sum_k w_k M_k (top 3 rows), left to right; mean = sum_k w_k (M_k [p_k; 1]).
    uvec4 j = uvec4(j0, j1, j2, j3);
    vec4 w = vec4(w0, w1, w2, w3);
    float m;
    vec4 a0 = skin_row(0u, r, j, w, m);
    means[3u * i] = m;
    vec4 a1 = skin_row(1u, r, j, w, m);
    means[3u * i + 1u] = m;
    vec4 a2 = skin_row(2u, r, j, w, m);
    means[3u * i + 2u] = m;
    r += 12u;
#if POLAR
    // A3 = U P: Newton steps U <- (U + U^-T) / 2, U^-T = cofactor(U) / det(U). Rows u0, u1, u2.
    vec3 u0 = a0.xyz, u1 = a1.xyz, u2 = a2.xyz;
    vec4 q0 = vec4(rest[r], rest[r + 1u], rest[r + 2u], rest[r + 3u]);
    vec3 ls = vec3(rest[r + 4u], rest[r + 5u], rest[r + 6u]);
    float det_a = u0.x * (u1.y * u2.z - u1.z * u2.y) + u0.y * (u1.z * u2.x - u1.x * u2.z)
        + u0.z * (u1.x * u2.y - u1.y * u2.x);
    if (!(det_a > 1e-30)) {
        rotations[i] = q0;
        log_scales[3u * i] = -30.0;
        log_scales[3u * i + 1u] = -30.0;
        log_scales[3u * i + 2u] = -30.0;
        return;
    }
    for (int step = 0; step < 10; step++) {
        vec3 c0 = vec3(u1.y * u2.z - u1.z * u2.y, u1.z * u2.x - u1.x * u2.z, u1.x * u2.y - u1.y * u2.x);
        vec3 c1 = vec3(u0.z * u2.y - u0.y * u2.z, u0.x * u2.z - u0.z * u2.x, u0.y * u2.x - u0.x * u2.y);
        vec3 c2 = vec3(u0.y * u1.z - u0.z * u1.y, u0.z * u1.x - u0.x * u1.z, u0.x * u1.y - u0.y * u1.x);
        float det = u0.x * c0.x + u0.y * c0.y + u0.z * c0.z;
        float inv = 1.0 / det;
        u0 = 0.5 * (u0 + c0 * inv);
        u1 = 0.5 * (u1 + c1 * inv);
        u2 = 0.5 * (u2 + c2 * inv);
    }
    // Shepperd: the quaternion (w, x, y, z) of U.
    float tr = u0.x + u1.y + u2.z;
    vec4 qu;
    if (tr > 0.0) {
        float s = sqrt(tr + 1.0) * 2.0;
        qu = vec4(0.25 * s, (u2.y - u1.z) / s, (u0.z - u2.x) / s, (u1.x - u0.y) / s);
    } else if (u0.x > u1.y && u0.x > u2.z) {
        float s = sqrt(1.0 + u0.x - u1.y - u2.z) * 2.0;
        qu = vec4((u2.y - u1.z) / s, 0.25 * s, (u0.y + u1.x) / s, (u0.z + u2.x) / s);
    } else if (u1.y > u2.z) {
        float s = sqrt(1.0 + u1.y - u0.x - u2.z) * 2.0;
        qu = vec4((u0.z - u2.x) / s, (u0.y + u1.x) / s, 0.25 * s, (u1.z + u2.y) / s);
    } else {
        float s = sqrt(1.0 + u2.z - u0.x - u1.y) * 2.0;
        qu = vec4((u1.x - u0.y) / s, (u0.z + u2.x) / s, (u1.z + u2.y) / s, 0.25 * s);
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
    // Sigma' = A3 Sigma A3^T: rows l_r = A_r Sigma, then res_rc = l_r . A_c.
    vec3 s0 = vec3(rest[r], rest[r + 1u], rest[r + 2u]);
    vec3 s1 = vec3(rest[r + 1u], rest[r + 3u], rest[r + 4u]);
    vec3 s2 = vec3(rest[r + 2u], rest[r + 4u], rest[r + 5u]);
    vec3 l0 = a0.x * s0 + a0.y * s1 + a0.z * s2;
    vec3 l1 = a1.x * s0 + a1.y * s1 + a1.z * s2;
    vec3 l2 = a2.x * s0 + a2.y * s1 + a2.z * s2;
    covariances[6u * i] = l0.x * a0.x + l0.y * a0.y + l0.z * a0.z;
    covariances[6u * i + 1u] = l0.x * a1.x + l0.y * a1.y + l0.z * a1.z;
    covariances[6u * i + 2u] = l0.x * a2.x + l0.y * a2.y + l0.z * a2.z;
    covariances[6u * i + 3u] = l1.x * a1.x + l1.y * a1.y + l1.z * a1.z;
    covariances[6u * i + 4u] = l1.x * a2.x + l1.y * a2.y + l1.z * a2.z;
    covariances[6u * i + 5u] = l2.x * a2.x + l2.y * a2.y + l2.z * a2.z;
#endif
}
