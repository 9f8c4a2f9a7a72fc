#version 450
// The C++ host's own geometry (tests/embed_host/occlusion.h): a rectangle in NDC whose depth
// goes linearly from depth.x at its left edge to depth.y at its right edge (a plane in 3D).
layout(push_constant) uniform Quad {
    vec4 rect;   // x0, y0, x1, y1 in NDC
    vec2 depth;  // NDC depth at x0 and at x1
} q;

void main() {
    const vec2 corners[6] =
        vec2[](vec2(0, 0), vec2(1, 0), vec2(0, 1), vec2(1, 0), vec2(1, 1), vec2(0, 1));
    vec2 c = corners[gl_VertexIndex];
    gl_Position = vec4(mix(q.rect.xy, q.rect.zw, c), mix(q.depth.x, q.depth.y, c.x), 1.0);
}
