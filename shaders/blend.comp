#version 450
// Stage 7: one 16x16 workgroup per tile composites its depth-ordered splats front to back.
// Splats are staged through shared memory in batches of 256; the tile stops early once every
// pixel is saturated. Each pixel is owned by one invocation, so the colour path has no atomics
// and the result is bit-for-bit reproducible.
#include "common.glsl"
#include "buffers.glsl"

layout(local_size_x = TILE_SIZE, local_size_y = TILE_SIZE) in;

layout(std430, binding = BLEND_BINDING_RANGES) readonly buffer Ranges { uvec2 ranges[]; };

layout(push_constant) uniform Params {
    UintArray values;           // tile-sorted splat indices
    ProjectedArray projected;
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

shared vec4 s_mean_depth_opacity[WORKGROUP];
shared vec4 s_conic[WORKGROUP];
shared vec4 s_color[WORKGROUP];
shared uint s_done;

void main() {
    uvec2 tile = gl_WorkGroupID.xy;
    uvec2 pix = tile * TILE_SIZE + gl_LocalInvocationID.xy;
    uint t = gl_LocalInvocationIndex;
    bool inside = pix.x < pc.width && pix.y < pc.height;
    vec2 centre = vec2(pix) + 0.5;
    bool inria = pc.mode == MODE_INRIA;
    float alpha_max = inria ? 0.99 : 0.999;

    uvec2 range = ranges[tile.y * pc.tiles_x + tile.x];
    float T = 1.0;
    vec3 C = vec3(0.0);
    float D = 0.0;
    bool done = !inside;
    float host_depth = inside ? host_linear_depth(pix.y * pc.width + pix.x) : OCC_INFINITY;

    for (uint batch = range.x; batch < range.y; batch += WORKGROUP) {
        if (t == 0u) s_done = 0u;
        barrier();
        if (done) atomicAdd(s_done, 1u);
        uint k = batch + t;
        if (k < range.y) {
            Projected p = pc.projected.v[pc.values.v[k]];
            s_mean_depth_opacity[t] = p.mean_depth_opacity;
            s_conic[t] = p.conic;
            s_color[t] = p.color;
        }
        barrier();
        if (s_done == WORKGROUP) break;  // uniform: every pixel of the tile is saturated
        uint count = min(WORKGROUP, range.y - batch);
        for (uint j = 0u; !done && j < count; j++) {
            vec4 mdo = s_mean_depth_opacity[j];
            vec4 con = s_conic[j];
            if (mdo.z > host_depth) continue;  // behind the host's geometry (the far plane's rule)
            vec2 d = mdo.xy - centre;
            float power = -0.5 * (con.x * d.x * d.x + con.z * d.y * d.y) - con.y * d.x * d.y;
            // con.w: the power below which alpha < 1/255 (preprocess), so exp is skipped.
            if (power > 0.0 || power < con.w) continue;
            float alpha = min(alpha_max, mdo.w * exp(power));
            if (alpha < 1.0 / 255.0) continue;
            float next_T = T * (1.0 - alpha);
            if (inria ? next_T < 1e-4 : next_T <= 1e-4) {
                done = true;
                break;
            }
            float w = alpha * T;
            C += w * s_color[j].rgb;
            // Expected: sum of w * z. Median/first: the depth of the one splat that crosses
            // the level (T only falls, so at most one does).
            if (pc.depth_kind == DEPTH_EXPECTED) D += w * mdo.z;
            else if (T > pc.depth_level && next_T <= pc.depth_level) D = mdo.z;
            T = next_T;
        }
        barrier();  // the next batch overwrites the shared arrays
    }
    if (inside) {
        uint idx = pix.y * pc.width + pix.x;
        float a = 1.0 - T;
        pc.out_rgba.v[idx] = vec4(C + T * pc.background.rgb, a);
        pc.out_depth.v[idx] = pc.depth_kind == DEPTH_EXPECTED ? (a > 0.0 ? D / a : 0.0) : D;
    }
}
