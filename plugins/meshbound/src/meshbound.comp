// meshbound: splats bound to the triangles of a deforming mesh. The same arithmetic, in the
// same order, as the CPU path (plugins/meshbound/src/bind.rs, `splat`); the record layouts
// are documented there. The host prepends `#version`.
#include "variant.glsl"
layout(local_size_x = 128) in;
// Per splat: 16 floats (face, weights, local mean/offset, local rotation, log-scales, extra).
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING) readonly buffer Rest { float rest[]; };
// Per face: three vertex indices.
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 1) readonly buffer Faces { uint faces[]; };
// This frame: vertices (V x 3); SplattingAvatar: then normals (V x 3), quaternions (V x 4).
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 2) readonly buffer Frame { float frame[]; };
layout(push_constant) uniform Params {
    uint count;
    uint kind;
    uint vertex_count;
    uint editable;
} p;

vec3 vert(uint i) {
    return vec3(frame[3u * i], frame[3u * i + 1u], frame[3u * i + 2u]);
}

vec3 nrm(uint i) {
    uint o = 3u * p.vertex_count + 3u * i;
    return vec3(frame[o], frame[o + 1u], frame[o + 2u]);
}

vec4 vquat(uint i) {
    uint o = 6u * p.vertex_count + 4u * i;
    return vec4(frame[o], frame[o + 1u], frame[o + 2u], frame[o + 3u]);
}

vec3 unit(vec3 v) {
    return v * (1.0 / sqrt(dot(v, v)));
}

// Shepperd: the quaternion (w, x, y, z) of the rotation with columns c0, c1, c2.
vec4 quat_of(vec3 c0, vec3 c1, vec3 c2) {
    vec3 u0 = vec3(c0.x, c1.x, c2.x), u1 = vec3(c0.y, c1.y, c2.y), u2 = vec3(c0.z, c1.z, c2.z);
    float tr = u0.x + u1.y + u2.z;
    if (tr > 0.0) {
        float s = sqrt(tr + 1.0) * 2.0;
        return vec4(0.25 * s, (u2.y - u1.z) / s, (u0.z - u2.x) / s, (u1.x - u0.y) / s);
    } else if (u0.x > u1.y && u0.x > u2.z) {
        float s = sqrt(1.0 + u0.x - u1.y - u2.z) * 2.0;
        return vec4((u2.y - u1.z) / s, 0.25 * s, (u0.y + u1.x) / s, (u0.z + u2.x) / s);
    } else if (u1.y > u2.z) {
        float s = sqrt(1.0 + u1.y - u0.x - u2.z) * 2.0;
        return vec4((u0.z - u2.x) / s, (u0.y + u1.x) / s, 0.25 * s, (u1.z + u2.y) / s);
    }
    float s = sqrt(1.0 + u2.z - u0.x - u1.y) * 2.0;
    return vec4((u1.x - u0.y) / s, (u0.z + u2.x) / s, (u1.z + u2.y) / s, 0.25 * s);
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
    uint f = uint(rest[r]);
    uint vmax = p.vertex_count - 1u;
    uint ia = min(faces[3u * f], vmax), ib = min(faces[3u * f + 1u], vmax), ic = min(faces[3u * f + 2u], vmax);
    vec3 a = vert(ia), b = vert(ib), c = vert(ic);
    vec3 w = vec3(rest[r + 1u], rest[r + 2u], rest[r + 3u]);
    vec3 bary = a * w.x + b * w.y + c * w.z;
    vec3 e = b - a;
    float le = length(e);
    float lnrm = length(cross(e, c - a));
    // Degenerate (or non-finite) face: hide the splat (see bind.rs).
    if (!(le > 0.0 && lnrm > 1.1920929e-7 * le * le && !isinf(lnrm) && !isnan(lnrm))) {
        store_splat(i, bary, vec4(1.0, 0.0, 0.0, 0.0), vec3(-30.0));
        return;
    }
    vec4 ql = vec4(rest[r + 7u], rest[r + 8u], rest[r + 9u], rest[r + 10u]);
    vec3 ls = vec3(rest[r + 11u], rest[r + 12u], rest[r + 13u]);
    if (p.kind == 0u) {
        // GaussianAvatars.
        vec3 fv = c - a;
        vec3 a0 = unit(e);
        vec3 a1 = unit(cross(a0, fv));
        vec3 a2 = unit(cross(a1, a0)) * -1.0;
        float k = (length(e) + abs(dot(a2, fv))) * 0.5;
        vec3 local = a0 * rest[r + 4u] + a1 * rest[r + 5u] + a2 * rest[r + 6u];
        float lk = log(k);
        store_splat(i, local * k + bary, hamilton(quat_of(a0, a1, a2), ql), ls + vec3(lk));
    } else if (p.kind == 1u) {
        // SplattingAvatar.
        vec3 n = nrm(ia) * w.x + nrm(ib) * w.y + nrm(ic) * w.z;
        float ln = length(n);
        if (ln > 0.0) n = n * (1.0 / ln);
        vec3 mean = bary + n * rest[r + 4u];
        vec4 qa = vquat(ia), qb = vquat(ib), qc = vquat(ic);
        if (dot(qa, qb) < 0.0) qb = -qb;
        if (dot(qa, qc) < 0.0) qc = -qc;
        vec4 s = qa * w.x + qb * w.y + qc * w.z;
        s = s / sqrt(dot(s, s));
        float area = 0.5 * length(cross(b - a, c - a));
        float ratio = (area + 1e-4) / (rest[r + 14u] + 1e-4);
        store_splat(i, mean, hamilton(s, ql), ls * ratio);
    } else if (p.kind == 2u) {
        // SuGaR.
        vec3 r0 = unit(cross(b - a, c - a));
        vec3 b1 = unit(a - b);
        vec3 b2 = unit(cross(r0, b1));
        float cl = sqrt(ql.x * ql.x + ql.y * ql.y);
        float ca = ql.x / cl, sa = ql.y / cl;
        vec3 r1 = b1 * ca + b2 * sa;
        vec3 r2 = b2 * ca - b1 * sa;
        vec3 o = ls;
        if (p.editable != 0u) {
            float area = 0.5 * length(cross(b - a, c - a));
            float h = 0.5 * log(area / rest[r + 14u]);
            o = vec3(ls.x, ls.y + h, ls.z + h);
        }
        store_splat(i, bary, quat_of(r0, r1, r2), o);
    } else {
        // GaMeS.
        vec3 m = (a + b + c) * (1.0 / 3.0);
        vec3 r0 = unit(cross(b - a, c - a));
        vec3 e1 = b - m;
        float l1 = length(e1);
        vec3 r1 = e1 * (1.0 / l1);
        vec3 e2 = c - m;
        vec3 r2 = unit(e2 - r0 * dot(e2, r0) - r1 * dot(e2, r1));
        float lr = rest[r + 14u];
        store_splat(i, bary, quat_of(r0, r1, r2),
            vec3(lr + log(1e-8), lr + log(0.5 * l1), lr + log(0.5 * dot(e2, r2))));
    }
}
