#version 450
// Stage 7 shaped for CPU devices (lavapipe/llvmpipe): the same compositing as blend.comp, bit
// for bit, without what llvmpipe pays for. llvmpipe runs a workgroup on one thread and a
// subgroup as the lanes of SIMD registers; a barrier splits the shader into coroutines switched
// per subgroup, both sides of every branch run (masked), and memory reads inside divergent
// loops are per-lane scalar accesses. blend.comp re-reads every staged splat from shared memory
// in each of its 32 subgroups, with three barriers per batch. On Mesa 22.3 (LLVM 15) this
// kernel's blend stage is 11-14x faster (`vksplat bench` with VKSPLAT_BLEND_KERNEL=gpu, then
// =cpu: a 100k synthetic scene at 1080p, the bundled guitar at 720p).
//
// Here there is no shared memory and no barrier. An invocation owns a column of the tile
// (PIXELS rows), so a subgroup owns a block of columns. The subgroup walks the tile's list in
// batches of gl_SubgroupSize splats: lane l fetches splat batch+l and tests whether its
// ellipse can reach the block at all; a ballot lists the splats that can, and every lane
// fetches each of those and blends it into the lane's PIXELS pixels.
//
// The projected splats are read as texels of a samplerBuffer (three RGBA32F texels per splat),
// not through their buffer address: llvmpipe fetches a texel for all lanes as one unrolled
// gather, while a load through an address or from a storage buffer is a loop over the lanes
// with a branch per lane, and a subgroupBroadcast is a loop over the lanes per component (on
// Mesa 22.3 the texel fetches made this kernel's blend stage 22-23% faster than the same
// kernel broadcasting the batch's loads: `vksplat bench`, a 100k synthetic scene at 1080p and
// the bundled guitar at 720p). Only the splat's index is still broadcast.
// Each pixel still sees the splats in list order. A culled splat would have been skipped by
// every pixel of the block, so culling never changes the image. Control flow stays uniform in
// the subgroup: a saturated pixel keeps running but no longer changes, and a subgroup stops
// when all its pixels are saturated (blend.comp stops per pixel and per tile; the result is the
// same). llvmpipe executes both sides of every branch, so only loop trip counts save work.
// Each splat is culled once for the whole column block: culling the top and bottom halves
// separately saved rows but cost a second broadcast of every splat that reaches both, 5-9%
// slower in all when the splats were broadcast (`vksplat bench`, 100k synthetic at 1080p and
// the guitar at 720p).
//
// Must mirror blend.comp exactly (same expressions in the same order, so the same rounding):
// the host depth test (a splat beyond the pixel's host depth is skipped), the Gaussian power, the skip-below test, the alpha clamp (0.99 INRIA, 0.999 otherwise), the
// 1/255 cut, the termination test (INRIA T < 1e-4, else T <= 1e-4, the terminating splat not
// blended), the colour/depth sums (or the depth kind's crossing splat), background and the
// outputs.
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_ballot : require
#extension GL_KHR_shader_subgroup_vote : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "common.glsl"
#include "buffers.glsl"

#define PIXELS 16u  // pixels per invocation: a whole column of the tile (TILE_SIZE rows)
layout(local_size_x = 16) in;  // TILE_SIZE * TILE_SIZE / PIXELS (engine/core/src/shaders.rs)

layout(std430, binding = BLEND_CPU_BINDING_RANGES) readonly buffer Ranges { uvec2 ranges[]; };
// The projected splats (projected.glsl) as texels: mean_depth_opacity, conic, color.
layout(binding = BLEND_CPU_BINDING_PROJECTED) uniform samplerBuffer projected_texels;

layout(push_constant) uniform Params {
    UintArray values;           // tile-sorted splat indices
    ProjectedArray projected;   // blend.comp's way in; here projected_texels are read instead
    Vec4Array out_rgba;         // per pixel, row-major
    FloatArray out_depth;
    vec4 background;
    uint width;
    uint height;
    uint tiles_x;
    uint mode;  // MODE_CLASSIC, MODE_ANTIALIASED, MODE_INRIA or MODE_KHR
    uint depth_kind;  // DEPTH_EXPECTED, DEPTH_MEDIAN or DEPTH_FIRST
    float depth_level;  // median/first: the splat that takes T from above it to at most it
    UintArray occluder;  // the host's depth (host_depth.glsl): a splat beyond it skips the pixel
} pc;
#define OCCLUDER_WORD(i) pc.occluder.v[i]
#include "host_depth.glsl"

// One splat on one pixel: blend.comp's loop body, with `continue`/`break` as selects. Compiled
// twice (engine/core/src/kernel_sources.rs): with BLEND_EXPECTED for the expected depth kind
// outside INRIA mode and without an occluder (the default settings), without it for any mode,
// depth kind and occluder. llvmpipe evaluates both sides of every select, so leaving out the
// other kinds' arithmetic and the host depth test makes the blend stage 4-8% faster; the
// expressions kept are the same, so is the result (no occluder: every host depth is +inf).
void blend_one(inout float T, inout vec3 C, inout float D, inout bool done, float host_depth,
               vec2 centre, vec4 mdo, vec4 con, vec3 rgb, float alpha_max, bool inria) {
    vec2 d = mdo.xy - centre;
    float power = -0.5 * (con.x * d.x * d.x + con.z * d.y * d.y) - con.y * d.x * d.y;
    float alpha = min(alpha_max, mdo.w * exp(power));
#ifdef BLEND_EXPECTED
    bool hit = !done && !(power > 0.0 || power < con.w) && !(alpha < 1.0 / 255.0);
#else
    bool hit = !done && !(mdo.z > host_depth) && !(power > 0.0 || power < con.w) &&
               !(alpha < 1.0 / 255.0);
#endif
    float next_T = T * (1.0 - alpha);
#ifdef BLEND_EXPECTED
    bool stop = next_T <= 1e-4;
#else
    bool stop = inria ? next_T < 1e-4 : next_T <= 1e-4;
#endif
    float w = alpha * T;
    bool add = hit && !stop;
    C = add ? C + w * rgb : C;
#ifdef BLEND_EXPECTED
    float D_kind = D + w * mdo.z;
#else
    bool crosses = T > pc.depth_level && next_T <= pc.depth_level;
    float D_kind = pc.depth_kind == DEPTH_EXPECTED ? D + w * mdo.z : (crosses ? mdo.z : D);
#endif
    D = add ? D_kind : D;
    T = add ? next_T : T;
    done = done || (hit && stop);
}

#define FOR_ROWS(F) F(0u) F(1u) F(2u) F(3u) F(4u) F(5u) F(6u) F(7u) F(8u) F(9u) F(10u) F(11u) F(12u) F(13u) F(14u) F(15u)
#define ALL_ROWS_DONE \
    (done[0] && done[1] && done[2] && done[3] && done[4] && done[5] && done[6] && done[7] && done[8] && done[9] && done[10] && done[11] && done[12] && done[13] && done[14] && done[15])
#define INIT_ROW(i)                                           \
    T[i] = 1.0;                                               \
    C[i] = vec3(0.0);                                         \
    D[i] = 0.0;                                               \
    done[i] = !inside(top + uvec2(0u, i));                    \
    O[i] = inside(top + uvec2(0u, i)) ? host_linear_depth((top.y + i) * pc.width + top.x) : OCC_INFINITY;
#define BLEND_ROW(i)                                                                       \
    blend_one(T[i], C[i], D[i], done[i], O[i], vec2(top + uvec2(0u, i)) + 0.5, mdo, con, rgb, \
              alpha_max, inria);
#define STORE_ROW(i) store(top + uvec2(0u, i), T[i], C[i], D[i]);

bool inside(uvec2 pix) { return pix.x < pc.width && pix.y < pc.height; }

void store(uvec2 pix, float T, vec3 C, float D) {
    if (inside(pix)) {
        uint idx = pix.y * pc.width + pix.x;
        float a = 1.0 - T;
        pc.out_rgba.v[idx] = vec4(C + T * pc.background.rgb, a);
        pc.out_depth.v[idx] = pc.depth_kind == DEPTH_EXPECTED ? (a > 0.0 ? D / a : 0.0) : D;
    }
}

// True only when no pixel centre in [lo, hi] can pass blend_one's skip-below test
// (power >= con.w): outside the ellipse's bounding box, widened by 1% and a pixel. Ill-conditioned
// conics (a*c - b^2 cancels) and NaN are never culled, so culling never changes the image.
bool misses_block(vec2 mean, vec4 con, vec2 lo, vec2 hi) {
    float ac = con.x * con.z;
    float det = ac - con.y * con.y;
    float k = -2.0 * con.w;  // d^T conic d <= k inside
    vec2 r = sqrt(k * vec2(con.z, con.x) / det) * 1.01 + 1.0;
    bvec2 out_lo = lessThan(mean + r, lo);
    bvec2 out_hi = greaterThan(mean - r, hi);
    return det > 1e-3 * ac && (any(out_lo) || any(out_hi));
}

void main() {
    uvec2 tile = gl_WorkGroupID.xy;
    uint t = gl_LocalInvocationIndex;
    uvec2 top = tile * TILE_SIZE + uvec2(t % TILE_SIZE, (t / TILE_SIZE) * PIXELS);
    bool inria = pc.mode == MODE_INRIA;
    float alpha_max = inria ? 0.99 : 0.999;
    uvec2 range = ranges[tile.y * pc.tiles_x + tile.x];

    float T[PIXELS];
    vec3 C[PIXELS];
    float D[PIXELS];
    bool done[PIXELS];
    float O[PIXELS];  // the host's linear depth per pixel (+inf without an occluder)
    // Constant indices only (macros, not loops): the arrays become registers.
    FOR_ROWS(INIT_ROW)
    bool all_done = ALL_ROWS_DONE;

    // The subgroup's pixel block (its columns, all rows), for culling the splats that miss it.
    vec2 block_lo = vec2(subgroupMin(top)) + 0.5;
    vec2 block_hi = vec2(subgroupMax(top + uvec2(0u, PIXELS - 1u))) + 0.5;
    uint lane = gl_SubgroupInvocationID;
    uint batch_size = min(gl_SubgroupSize, 32u);  // one ballot word
    for (uint batch = range.x; batch < range.y; batch += batch_size) {
        if (subgroupAll(all_done)) break;  // uniform: the subgroup's pixels are saturated
        uint k = batch + lane;
        uint my_splat = 0u;
        bool touches = false;
        if (lane < batch_size && k < range.y) {
            my_splat = pc.values.v[k];
            vec4 my_mdo = texelFetch(projected_texels, int(3u * my_splat));
            vec4 my_con = texelFetch(projected_texels, int(3u * my_splat + 1u));
            touches = !misses_block(my_mdo.xy, my_con, block_lo, block_hi);
        }
        uint todo = subgroupBallot(touches).x;
        while (todo != 0u) {
            uint j = findLSB(todo);
            todo &= todo - 1u;
            int texel = int(3u * subgroupBroadcast(my_splat, j));
            vec4 mdo = texelFetch(projected_texels, texel);
            vec4 con = texelFetch(projected_texels, texel + 1);
            vec3 rgb = texelFetch(projected_texels, texel + 2).rgb;
            FOR_ROWS(BLEND_ROW)
        }
        all_done = ALL_ROWS_DONE;
    }

    FOR_ROWS(STORE_ROW)
}
