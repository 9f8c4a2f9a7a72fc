// One splat after preprocess; 48 bytes (std430). Mirrored by `GpuProjected` in Rust.
#ifndef VKSPLAT_PROJECTED_GLSL
#define VKSPLAT_PROJECTED_GLSL
struct Projected {
    vec4 mean_depth_opacity;  // mean2d.xy (pixel centres at i+0.5), camera z, effective opacity
    vec4 conic;               // inverse dilated 2D covariance (a, b, c); w: skip-below power
    vec4 color;               // rgb from SH, w: the depth-sort key
};
// The tile rectangle of a projected splat: x = min.x | min.y << 16, y = max.x | max.y << 16
// (max exclusive). Culled splats have an empty rectangle (0, 0).
uvec2 pack_rect(uvec2 lo, uvec2 hi) { return uvec2(lo.x | (lo.y << 16), hi.x | (hi.y << 16)); }
uvec2 rect_min(uvec2 r) { return uvec2(r.x & 0xFFFFu, r.x >> 16); }
uvec2 rect_max(uvec2 r) { return uvec2(r.y & 0xFFFFu, r.y >> 16); }
uint rect_area(uvec2 r) {
    uvec2 lo = rect_min(r), hi = rect_max(r);
    return (hi.x - lo.x) * (hi.y - lo.y);
}
#endif
