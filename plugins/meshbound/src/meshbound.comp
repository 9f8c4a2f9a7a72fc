// meshbound: splats bound to the triangles of a deforming mesh. The same arithmetic, in the
// same order, as the CPU path (plugins/meshbound/src/bind.rs, `splat`); the record layouts
// are documented there. The host prepends `#version`.
#include "variant.glsl"
layout(local_size_x = 128) in;
// Per splat: 16 floats (face, weights, local mean/offset, local rotation, log-scales, extra).
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING) readonly buffer Rest { float rest[]; };
// This frame: one record per face from the host's face pass (bind.rs, `face_pass`; the
// layout is documented there): 24 floats, 32 for SplattingAvatar; the last is 1 when the face
// has a frame.
// Read as vec4s (the strides are multiples of 4): one vector load instead of four scalar ones.
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 1) readonly buffer Frame { vec4 frame[]; };
layout(push_constant) uniform Params {
    uint count;
    uint kind;
    uint face_count;
    uint editable;
} p;

// This splat's face record (SplattingAvatar fills all 8, the others the first 6).
vec4 R[8];

float rf(uint k) {
    return R[k >> 2u][k & 3u];
}

vec3 rv3(uint k) {
    return vec3(rf(k), rf(k + 1u), rf(k + 2u));
}

vec4 rv4(uint k) {
    return vec4(rf(k), rf(k + 1u), rf(k + 2u), rf(k + 3u));
}

// The rotation by theta about the first axis from (cos theta, sin theta) (bind.rs,
// `half_angle_x`).
vec4 half_angle_x(float c, float s) {
    if (c >= 0.0) {
        float w = sqrt(0.5 * (1.0 + c));
        return vec4(w, s / (2.0 * w), 0.0, 0.0);
    }
    float x = sqrt(0.5 * (1.0 - c));
    return vec4(s / (2.0 * x), x, 0.0, 0.0);
}

// Hamilton product a (x) b on (w, x, y, z).
vec4 hamilton(vec4 a, vec4 b) {
    return vec4(
        a.x * b.x - a.y * b.y - a.z * b.z - a.w * b.w,
        a.x * b.y + a.y * b.x + a.z * b.w - a.w * b.z,
        a.x * b.z - a.y * b.w + a.z * b.x + a.w * b.y,
        a.x * b.w + a.y * b.z - a.z * b.y + a.w * b.x);
}

void store_splat(uint i, vec3 m, vec4 q, vec3 s) {
    means[3u * i] = m.x;
    means[3u * i + 1u] = m.y;
    means[3u * i + 2u] = m.z;
    rotations[i] = q;
    log_scales[3u * i] = s.x;
    log_scales[3u * i + 1u] = s.y;
    log_scales[3u * i + 2u] = s.z;
}

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= p.count) return;
    uint r = 16u * i;
    uint stride = p.kind == 1u ? 32u : 24u;
    // The host checked every face index against the face count; clamp anyway.
    uint f = min(uint(rest[r]), p.face_count - 1u);
    uint base = (stride / 4u) * f;
    for (uint j = 0u; j < 6u; j++) R[j] = frame[base + j];
    if (p.kind == 1u) {
        R[6] = frame[base + 6u];
        R[7] = frame[base + 7u];
    }
    vec3 a = rv3(0u), b = rv3(3u), c = rv3(6u);
    vec3 w = vec3(rest[r + 1u], rest[r + 2u], rest[r + 3u]);
    vec3 bary = a * w.x + b * w.y + c * w.z;
    // Degenerate (or non-finite) face: hide the splat (see bind.rs).
    if ((p.kind == 1u ? R[7].w : R[5].w) == 0.0) {
        store_splat(i, bary, vec4(1.0, 0.0, 0.0, 0.0), vec3(-30.0));
        return;
    }
    vec4 ql = vec4(rest[r + 7u], rest[r + 8u], rest[r + 9u], rest[r + 10u]);
    vec3 ls = vec3(rest[r + 11u], rest[r + 12u], rest[r + 13u]);
    if (p.kind == 0u) {
        // GaussianAvatars.
        vec3 local = rv3(9u) * rest[r + 4u] + rv3(12u) * rest[r + 5u] + rv3(15u) * rest[r + 6u];
        float lk = rf(22u);
        store_splat(i, local + bary, hamilton(rv4(18u), ql), ls + vec3(lk));
    } else if (p.kind == 1u) {
        // SplattingAvatar.
        vec3 n = rv3(9u) * w.x + rv3(12u) * w.y + rv3(15u) * w.z;
        float ln = length(n);
        if (ln > 0.0) n = n * (1.0 / ln);
        vec3 mean = bary + n * rest[r + 4u];
        vec4 s = rv4(18u) * w.x + rv4(22u) * w.y + rv4(26u) * w.z;
        s = s / sqrt(dot(s, s));
        float ratio = rf(30u);
        store_splat(i, mean, hamilton(s, ql), ls * ratio);
    } else if (p.kind == 2u) {
        // SuGaR.
        float cl = sqrt(ql.x * ql.x + ql.y * ql.y);
        float ca = ql.x / cl, sa = ql.y / cl;
        vec3 o = ls;
        if (p.editable != 0u) {
            float g0 = ca + (rf(13u) * ca + rf(14u) * sa);
            float g1 = sa + (rf(15u) * ca + rf(16u) * sa);
            float lt = sqrt(ca * ca + sa * sa);
            float lg = sqrt(g0 * g0 + g1 * g1);
            float fs = lg / lt;
            float u = lt / lg;
            ca = g0 * u;
            sa = g1 * u;
            float lf = log(fs);
            o = vec3(ls.x, ls.y + lf, ls.z + (rf(17u) - lf));
        }
        store_splat(i, bary, hamilton(rv4(9u), half_angle_x(ca, sa)), o);
    } else {
        // GaMeS.
        float lr = rest[r + 14u];
        store_splat(i, bary, rv4(9u),
            vec3(lr + log(1e-8), lr + rf(13u), lr + rf(14u)));
    }
}
