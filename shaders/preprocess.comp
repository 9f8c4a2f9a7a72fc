#version 450
// Stage 2 of the frame: per splat, cull, EWA projection, conic, extent, SH colour, tile
// rectangle and depth key (ARCHITECTURE.md, "Rendering rules"). One invocation per splat.
#include "common.glsl"
#include "buffers.glsl"

layout(local_size_x = WORKGROUP) in;

// The tile rectangle's two packed corners (pack_rect), one array each.
layout(std430, binding = PREPROCESS_BINDING_RECT_LO) writeonly buffer RectLo { uint rect_lo[]; };
layout(std430, binding = PREPROCESS_BINDING_RECT_HI) writeonly buffer RectHi { uint rect_hi[]; };
layout(std430, binding = PREPROCESS_BINDING_DEPTH_KEYS) writeonly buffer DepthKeys { uint depth_keys[]; };
layout(std430, binding = PREPROCESS_BINDING_SPLAT_IDS) writeonly buffer SplatIds { uint splat_ids[]; };
layout(std430, binding = PREPROCESS_BINDING_CONTROL) buffer Control { uint control[]; };

// Per-frame camera and image parameters (PreprocessParams in gpu_layout.rs).
layout(std430, binding = PREPROCESS_BINDING_PARAMS) readonly buffer Params {
    vec4 view_row0;   // world->camera rows (rotation | translation)
    vec4 view_row1;
    vec4 view_row2;
    vec4 cam_pos;     // camera centre in world space
    vec4 intrinsics;  // fx, fy, cx, cy (cx, cy already at the image centre in inria mode)
    uint width;
    uint height;
    uint num_splats;
    uint sh_degree;
    uint mode;        // 0 classic, 1 antialiased, 2 inria, 3 khr
    uint tiles_x;
    uint tiles_y;
    uint sh_stride;
    uint flags;       // SPLAT_USE_COVARIANCE | SPLAT_USE_OPACITY_SCALE | SPLAT_SH_HALF
    // Instances (several scenes in one frame): this scene's splat i is the frame's splat
    // first_splat + i; view rows and cam_pos are already object -> camera and the camera
    // centre in object space; its opacities are multiplied by instance_opacity (1 alone).
    uint first_splat;
    float instance_opacity;
    // Clip planes from the render settings (0 and +inf when unset); the mode's fixed near
    // below applies as well.
    float near;
    float far;
    uint projection;  // 0 perspective, 1 orthographic
} pc;

// The scene's per-splat arrays, reached by address so that no array is limited by one
// storage binding's range (ARCHITECTURE.md, "Buffers and sizes"): means (xyz per splat),
// rotations ((w, x, y, z) per splat), log-scales (xyz), opacity logits, the optional opacity
// factor written by scene-variant plugins (SPLAT_USE_OPACITY_SCALE), SH coefficients one array
// per colour channel (sh_x.v[i * sh_stride + k]), covariances (6 per splat, used with
// SPLAT_USE_COVARIANCE); then the projected output.
layout(push_constant) uniform Arrays {
    FloatArray means;
    Vec4Array rotations;
    FloatArray log_scales;
    FloatArray opacity_logits;
    FloatArray opacity_scale;
    FloatArray sh_r;
    FloatArray sh_g;
    FloatArray sh_b;
    FloatArray covariances;
    ProjectedArray projected;
} arr;

const float SH_C0 = 0.28209479177387814;
const float SH_C1 = 0.4886025119029199;
const float SH_C2[5] = float[](1.0925484305920792, -1.0925484305920792, 0.31539156525252005,
                               -1.0925484305920792, 0.5462742152960396);
const float SH_C3[7] = float[](-0.5900435899266435, 2.890611442640554, -0.4570457994644658,
                               0.3731763325901154, -0.4570457994644658, 1.445305721320277,
                               -0.5900435899266435);

float half_at(FloatArray a, uint o) {
    // Two IEEE halves per 32-bit word, low half first (decoded without 16-bit storage).
    vec2 pair = unpackHalf2x16(floatBitsToUint(a.v[o >> 1u]));
    return (o & 1u) == 0u ? pair.x : pair.y;
}

// The kernel's SH variant (engine/core/src/kernel_sources.rs): SH_MAX_DEGREE compiles in the
// bands up to that degree, SH_HALF the one storage (0 f32, 1 IEEE half pairs); undefined, both
// storages and all bands are compiled in and pc decides. Specialised variants are for CPU
// devices: llvmpipe runs both sides of every branch, so a scene of SH degree 0 paid for the
// loads of all 16 coefficients, twice (f32 and half). The result is the same either way.
#ifndef SH_MAX_DEGREE
#define SH_MAX_DEGREE 3
#endif

#ifdef SCENE_TEXELS
// The scene's arrays as RGBA32F texels (PreprocessTexelBindings; CPU devices), for a static
// SH-3 f32 scene (no covariances, no opacity factors): llvmpipe fetches a texel for all lanes
// in one gather, where a load through an address is a loop over the lanes. Splat i's 16
// coefficients of a channel are texels 4i..4i+3, fetched once per splat (sh_color); its
// rotation is texel i; its mean and log-scale, floats 3i..3i+2 of their arrays, span one or
// two texels; its opacity logit is float i.
layout(binding = PREPROCESS_TEXELS_BINDING_SH_R) uniform samplerBuffer sh_r_texels;
layout(binding = PREPROCESS_TEXELS_BINDING_SH_G) uniform samplerBuffer sh_g_texels;
layout(binding = PREPROCESS_TEXELS_BINDING_SH_B) uniform samplerBuffer sh_b_texels;
layout(binding = PREPROCESS_TEXELS_BINDING_MEANS) uniform samplerBuffer means_texels;
layout(binding = PREPROCESS_TEXELS_BINDING_ROTATIONS) uniform samplerBuffer rotations_texels;
layout(binding = PREPROCESS_TEXELS_BINDING_LOG_SCALES) uniform samplerBuffer log_scales_texels;
layout(binding = PREPROCESS_TEXELS_BINDING_OPACITY_LOGITS) uniform samplerBuffer opacity_texels;
vec4 sh_r4[4], sh_g4[4], sh_b4[4];

void fetch_sh(uint i) {
    for (int t = 0; t < 4; t++) {
        int at = int(4u * i) + t;
        sh_r4[t] = texelFetch(sh_r_texels, at);
        sh_g4[t] = texelFetch(sh_g_texels, at);
        sh_b4[t] = texelFetch(sh_b_texels, at);
    }
}

// Floats 3i..3i+2 of a packed float3 array (pc.num_splats entries); the second texel is read
// only up to the one holding the array's last float.
vec3 texel_vec3(samplerBuffer a, uint i) {
    uint f = 3u * i;
    uint last = (3u * pc.num_splats - 1u) >> 2u;
    vec4 t0 = texelFetch(a, int(f >> 2u));
    vec4 t1 = texelFetch(a, int(min((f >> 2u) + 1u, last)));
    uint k = f & 3u;
    return k == 0u ? t0.xyz : k == 1u ? t0.yzw : k == 2u ? vec3(t0.zw, t1.x) : vec3(t0.w, t1.xy);
}
#endif

vec3 coeff(uint i, uint k) {
#ifdef SCENE_TEXELS
    return vec3(sh_r4[k >> 2u][k & 3u], sh_g4[k >> 2u][k & 3u], sh_b4[k >> 2u][k & 3u]);
#endif
    uint o = i * pc.sh_stride + k;
#if !defined(SH_HALF)
    if ((pc.flags & SPLAT_SH_HALF) != 0u) {
        return vec3(half_at(arr.sh_r, o), half_at(arr.sh_g, o), half_at(arr.sh_b, o));
    }
#elif SH_HALF == 1
    return vec3(half_at(arr.sh_r, o), half_at(arr.sh_g, o), half_at(arr.sh_b, o));
#endif
    return vec3(arr.sh_r.v[o], arr.sh_g.v[o], arr.sh_b.v[o]);
}

vec3 sh_color(uint i, vec3 dir) {
#ifdef SCENE_TEXELS
    fetch_sh(i);
#endif
    vec3 c = SH_C0 * coeff(i, 0u);
#if SH_MAX_DEGREE >= 1
    if (pc.sh_degree >= 1u) {
        float x = dir.x, y = dir.y, z = dir.z;
        c += -SH_C1 * y * coeff(i, 1u) + SH_C1 * z * coeff(i, 2u) - SH_C1 * x * coeff(i, 3u);
#if SH_MAX_DEGREE >= 2
        if (pc.sh_degree >= 2u) {
            float xx = x * x, yy = y * y, zz = z * z;
            c += SH_C2[0] * x * y * coeff(i, 4u) + SH_C2[1] * y * z * coeff(i, 5u)
               + SH_C2[2] * (2.0 * zz - xx - yy) * coeff(i, 6u)
               + SH_C2[3] * x * z * coeff(i, 7u) + SH_C2[4] * (xx - yy) * coeff(i, 8u);
#if SH_MAX_DEGREE >= 3
            if (pc.sh_degree >= 3u) {
                c += SH_C3[0] * y * (3.0 * xx - yy) * coeff(i, 9u)
                   + SH_C3[1] * x * y * z * coeff(i, 10u)
                   + SH_C3[2] * y * (4.0 * zz - xx - yy) * coeff(i, 11u)
                   + SH_C3[3] * z * (2.0 * zz - 3.0 * xx - 3.0 * yy) * coeff(i, 12u)
                   + SH_C3[4] * x * (4.0 * zz - xx - yy) * coeff(i, 13u)
                   + SH_C3[5] * z * (xx - yy) * coeff(i, 14u)
                   + SH_C3[6] * x * (xx - 3.0 * yy) * coeff(i, 15u);
            }
#endif
        }
#endif
    }
#endif
    return max(c + 0.5, vec3(0.0));
}

bool all_finite(vec4 v) { return !any(isnan(v)) && !any(isinf(v)); }

// a + b = s + e exactly (Knuth's two-sum; every add and multiply below is `precise`, so none
// is fused or reassociated).
void two_sum(float a, float b, out float s, out float e) {
    precise float sum = a + b;
    precise float bb = sum - a;
    precise float err = (a - (sum - bb)) + (b - bb);
    s = sum;
    e = err;
}

// The high half (12 bits) of a (Veltkamp's split); a - high is exact.
float split_high(float a) {
    precise float c = 4097.0 * a;
    precise float h = c - (c - a);
    return h;
}

// fma(a, b, c) rounded once, from correctly rounded adds and multiplies alone (Vulkan
// requires both to be correctly rounded): Dekker's exact product, the two-sum and one add
// rounded to odd (Boldo & Melquiond, "Emulation of FMA and correctly rounded sums: proved
// algorithms using rounding to odd", IEEE Trans. Computers 2008). fma() itself is no
// guarantee: glslang does not mark it NoContraction, and a driver may then split it into a
// multiply and an add (lavapipe does). Exact unless |a|·|b| is non-zero but below about
// 2^-100 (partial products would fall below the normal range) or |a| or |b| exceeds about
// 2^100 (the split overflows); view rows are at most 1 in magnitude.
float exact_fma(float a, float b, float c) {
    precise float p = a * b;
    float ah = split_high(a), bh = split_high(b);
    precise float al = a - ah;
    precise float bl = b - bh;
    precise float pe = ((ah * bh - p) + ah * bl + al * bh) + al * bl;  // a*b = p + pe
    float th, tl;
    two_sum(c, p, th, tl);  // c + p = th + tl
    float v, ve;
    two_sum(tl, pe, v, ve);
    // Round v = tl + pe to odd: an inexact sum with an even last bit moves one ulp toward
    // the exact value (the odd neighbour), so the final rounding cannot round twice.
    uint bits = floatBitsToUint(v);
    if (ve != 0.0 && (bits & 1u) == 0u) bits = (ve > 0.0) == (v > 0.0) ? bits + 1u : bits - 1u;
    precise float r = th + uintBitsToFloat(bits);
    return r;
}

// One coordinate of world -> camera, (R·p + t)[r] for the view row (R[r][0..2], t[r]), in
// gsplat 1.5.3's float32 operation order: its projection computes R·p + t with glm, whose
// mat3 × vec3 sums each row as (R[r][0]·x + R[r][1]·y) + R[r][2]·z, compiled by nvcc with
// fused multiply-adds on (the default), which fuses the first product into the first sum and
// the third product into the second (LLVM's fadd/fmul combine; ARCHITECTURE.md, "Rendering
// rules"): fma(R[r][2], z, fma(R[r][0], x, R[r][1]·y)) + t[r]. The depth is the sort key, so
// near-equal depths (quantised positions) order as gsplat orders them only with the same
// rounding. The CPU reference has the same nesting (reference::camera_point).
float view_coord(vec4 row, vec3 p) {
    precise float y = row.y * p.y;
    float xyz = exact_fma(row.z, p.z, exact_fma(row.x, p.x, y));
    precise float r = xyz + row.w;
    return r;
}

void cull(uint o) {
    rect_lo[o] = 0u;
    rect_hi[o] = 0u;
    depth_keys[o] = 0xFFFFFFFFu;
}

// Returns whether the scene's splat i (the frame's splat first_splat + i) is visible.
bool preprocess_splat(uint i) {
    if (i >= pc.num_splats) return false;
    uint out_i = pc.first_splat + i;
    splat_ids[out_i] = out_i;

#ifdef SCENE_TEXELS
    vec3 p = texel_vec3(means_texels, i);
#else
    FloatArray m = arr.means;
    vec3 p = vec3(m.v[3u * i], m.v[3u * i + 1u], m.v[3u * i + 2u]);
#endif
    vec3 pc_ = vec3(view_coord(pc.view_row0, p), view_coord(pc.view_row1, p),
                    view_coord(pc.view_row2, p));
    float z = pc_.z;
    bool inria = pc.mode == MODE_INRIA;
    if (inria ? !(z > 0.2) : (!(z >= 0.01) || z > 1e10)) { cull(out_i); return false; }
    if (!(z >= pc.near) || !(z <= pc.far)) { cull(out_i); return false; }

    mat3 cov3;
#ifndef SCENE_TEXELS
    if ((pc.flags & SPLAT_USE_COVARIANCE) != 0u) {
        uint o = 6u * i;
        FloatArray c = arr.covariances;
        float xx = c.v[o], xy = c.v[o + 1u], xz = c.v[o + 2u];
        float yy = c.v[o + 3u], yz = c.v[o + 4u], zz = c.v[o + 5u];
        cov3 = mat3(xx, xy, xz, xy, yy, yz, xz, yz, zz);
    } else
#endif
    {
#ifdef SCENE_TEXELS
        vec4 q = texelFetch(rotations_texels, int(i));
#else
        vec4 q = arr.rotations.v[i];
#endif
        float qn = length(q);
        if (!(qn > 0.0) || isinf(qn)) { cull(out_i); return false; }
        q /= qn;
        float w = q.x, x = q.y, y = q.z, zq = q.w;
        mat3 R = mat3(  // column-major: columns listed
            1.0 - 2.0 * (y * y + zq * zq), 2.0 * (x * y + w * zq), 2.0 * (x * zq - w * y),
            2.0 * (x * y - w * zq), 1.0 - 2.0 * (x * x + zq * zq), 2.0 * (y * zq + w * x),
            2.0 * (x * zq + w * y), 2.0 * (y * zq - w * x), 1.0 - 2.0 * (x * x + y * y));
#ifdef SCENE_TEXELS
        vec3 s = exp(texel_vec3(log_scales_texels, i));
#else
        FloatArray ls = arr.log_scales;
        vec3 s = exp(vec3(ls.v[3u * i], ls.v[3u * i + 1u], ls.v[3u * i + 2u]));
#endif
        mat3 M = R * mat3(s.x, 0.0, 0.0, 0.0, s.y, 0.0, 0.0, 0.0, s.z);
        cov3 = M * transpose(M);
    }

    float fx = pc.intrinsics.x, fy = pc.intrinsics.y, cx = pc.intrinsics.z, cy = pc.intrinsics.w;
    float W = float(pc.width), H = float(pc.height);
    float tan_fovx = 0.5 * W / fx, tan_fovy = 0.5 * H / fy;
    float tx, ty;
    if (inria) {
        float limx = 1.3 * tan_fovx, limy = 1.3 * tan_fovy;
        tx = z * clamp(pc_.x / z, -limx, limx);
        ty = z * clamp(pc_.y / z, -limy, limy);
    } else {
        float lim_x_pos = (W - cx) / fx + 0.3 * tan_fovx;
        float lim_x_neg = cx / fx + 0.3 * tan_fovx;
        float lim_y_pos = (H - cy) / fy + 0.3 * tan_fovy;
        float lim_y_neg = cy / fy + 0.3 * tan_fovy;
        tx = z * min(lim_x_pos, max(-lim_x_neg, pc_.x / z));
        ty = z * min(lim_y_pos, max(-lim_y_neg, pc_.y / z));
    }
    // J is 2x3; as a GLSL mat3x2 it has 3 columns of 2 rows. Orthographic: no divide by z,
    // so J is constant.
    bool ortho = pc.projection != 0u;
    mat3x2 J = ortho ? mat3x2(fx, 0.0, 0.0, fy, 0.0, 0.0)
                     : mat3x2(fx / z, 0.0, 0.0, fy / z, -fx * tx / (z * z), -fy * ty / (z * z));
    mat3 Wr = transpose(mat3(pc.view_row0.xyz, pc.view_row1.xyz, pc.view_row2.xyz));
    mat3x2 T = J * Wr;
    mat2 cov2 = T * cov3 * transpose(T);
    float a = cov2[0][0], b = cov2[1][0], c = cov2[1][1];
    float det_orig = a * c - b * b;
    a += 0.3;
    c += 0.3;
    float det = a * c - b * b;
    if (!(det > 0.0)) { cull(out_i); return false; }
    float compensation = sqrt(max(0.0, det_orig / det));
    vec3 conic = vec3(c / det, -b / det, a / det);

#ifdef SCENE_TEXELS
    float opacity = 1.0 / (1.0 + exp(-texelFetch(opacity_texels, int(i >> 2u))[i & 3u]));
#else
    float opacity = 1.0 / (1.0 + exp(-arr.opacity_logits.v[i]));
    if ((pc.flags & SPLAT_USE_OPACITY_SCALE) != 0u) opacity *= arr.opacity_scale.v[i];
#endif
    opacity *= pc.instance_opacity;
    if (pc.mode == MODE_ANTIALIASED) opacity *= compensation;
    vec2 mean2d = ortho ? vec2(fx * pc_.x + cx, fy * pc_.y + cy)
                        : vec2(fx * pc_.x / z + cx, fy * pc_.y / z + cy);

    uvec2 lo, hi;
    if (inria) {
        float mid = 0.5 * (a + c);
        float disc = sqrt(max(0.1, mid * mid - det));
        float r = ceil(3.0 * sqrt(max(mid + disc, mid - disc)));
        vec2 pix = mean2d - 0.5;
        ivec2 grid = ivec2(pc.tiles_x, pc.tiles_y);
        // int() truncates toward zero, like the original's C casts.
        ivec2 l = clamp(ivec2((pix - r) / 16.0), ivec2(0), grid);
        ivec2 h = clamp(ivec2((pix + r + 15.0) / 16.0), ivec2(0), grid);
        lo = uvec2(l);
        hi = uvec2(h);
    } else {
        if (!(opacity >= 1.0 / 255.0)) { cull(out_i); return false; }
        // The alpha >= 1/255 extent, at most 3.33 sigma (gsplat) or khr's 3 sigma cut-off.
        float extend = min(pc.mode == MODE_KHR ? 3.0 : 3.33, sqrt(2.0 * log(255.0 * opacity)));
        vec2 radius = ceil(extend * sqrt(vec2(a, c)));
        if (radius.x <= 0.0 && radius.y <= 0.0) { cull(out_i); return false; }
        if (mean2d.x + radius.x <= 0.0 || mean2d.x - radius.x >= W ||
            mean2d.y + radius.y <= 0.0 || mean2d.y - radius.y >= H) { cull(out_i); return false; }
        vec2 grid = vec2(pc.tiles_x, pc.tiles_y);
        lo = uvec2(clamp(floor(mean2d / 16.0 - radius / 16.0), vec2(0.0), grid));
        hi = uvec2(clamp(ceil(mean2d / 16.0 + radius / 16.0), vec2(0.0), grid));
    }
    if (hi.x <= lo.x || hi.y <= lo.y) { cull(out_i); return false; }

    // Orthographic: every ray runs along the camera's forward axis (view row 2).
    vec3 dir = ortho ? normalize(pc.view_row2.xyz) : normalize(p - pc.cam_pos.xyz);
    vec3 rgb = sh_color(i, dir);
    Projected o;
    o.mean_depth_opacity = vec4(mean2d, z, opacity);
    // Below this power, alpha = opacity * exp(power) < 1/255 for sure (0.1% margin): the blend
    // skips such pixels without evaluating exp. Clamped so a zero opacity stays finite.
    float skip_below = min(-log(255.0 * opacity) - 1e-3, 1e30);
    // khr: nothing beyond Mahalanobis distance 3 (power -4.5), an exact cut in the blend.
    if (pc.mode == MODE_KHR) skip_below = max(skip_below, -4.5);
    o.conic = vec4(conic, skip_below);
    // w: the sort key (camera z, or khr's distance from the camera centre), for test readback.
    float key = pc.mode == MODE_KHR ? length(pc_) : z;
    o.color = vec4(rgb, key);
    if (!all_finite(o.mean_depth_opacity) || !all_finite(o.conic) || !all_finite(o.color)) {
        cull(out_i);
        return false;
    }
    arr.projected.v[out_i] = o;
    uvec2 rect = pack_rect(lo, hi);
    rect_lo[out_i] = rect.x;
    rect_hi[out_i] = rect.y;
    depth_keys[out_i] = floatBitsToUint(key);  // positive floats sort as their bits
    return true;
}

shared uint s_visible;

void main() {
    // Count visible splats per workgroup, then once per workgroup into the control buffer.
    if (gl_LocalInvocationIndex == 0u) s_visible = 0u;
    barrier();
    if (preprocess_splat(flat_group() * WORKGROUP + gl_LocalInvocationIndex)) {
        atomicAdd(s_visible, 1u);
    }
    barrier();
    if (gl_LocalInvocationIndex == 0u && s_visible > 0u) atomicAdd(control[CTL_VISIBLE], s_visible);
}
