// skinwave: linear blend skinning of a bar of splats to two bones, plus a travelling wave.
// Same arithmetic, in the same order, as the CPU path in lib.rs.
#version 450
#include "variant.glsl"
layout(local_size_x = 128) in;
// Per splat: rest mean (3), rest covariance (6: xx xy xz yy yz zz), weight of bone 1.
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING) readonly buffer Rest { float rest[]; };
// This frame's two bones, row-major 4x4 each.
layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING + 1) readonly buffer Bones { float bones[32]; };
layout(push_constant) uniform Params {
    float time;
    float amplitude;
    float frequency;
    uint count;
} p;

const float TAU = 6.2831853;

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= p.count) return;
    uint r = 10u * i;
    vec3 m = vec3(rest[r], rest[r + 1u], rest[r + 2u]);
    float w1 = rest[r + 9u];
    float w0 = 1.0 - w1;
    float phase = TAU * p.frequency * p.time;
    m.y += p.amplitude * sin(phase + 3.0 * m.x);
    // A = w0 B0 + w1 B1 (top 3 rows).
    float a[12];
    for (int k = 0; k < 12; k++) a[k] = w0 * bones[k] + w1 * bones[16 + k];
    vec3 o;
    for (int row = 0; row < 3; row++)
        o[row] = a[4 * row] * m.x + a[4 * row + 1] * m.y + a[4 * row + 2] * m.z + a[4 * row + 3];
    means[3u * i] = o.x;
    means[3u * i + 1u] = o.y;
    means[3u * i + 2u] = o.z;
    // Sigma' = L Sigma L^T with L the 3x3 part of A.
    float s[9] = float[9](rest[r + 3u], rest[r + 4u], rest[r + 5u],
                          rest[r + 4u], rest[r + 6u], rest[r + 7u],
                          rest[r + 5u], rest[r + 7u], rest[r + 8u]);
    float ls[9];
    for (int row = 0; row < 3; row++)
        for (int c = 0; c < 3; c++)
            ls[3 * row + c] = a[4 * row] * s[c] + a[4 * row + 1] * s[3 + c] + a[4 * row + 2] * s[6 + c];
    float res[9];
    for (int row = 0; row < 3; row++)
        for (int c = 0; c < 3; c++)
            res[3 * row + c] = ls[3 * row] * a[4 * c] + ls[3 * row + 1] * a[4 * c + 1] + ls[3 * row + 2] * a[4 * c + 2];
    covariances[6u * i] = res[0];
    covariances[6u * i + 1u] = res[1];
    covariances[6u * i + 2u] = res[2];
    covariances[6u * i + 3u] = res[4];
    covariances[6u * i + 4u] = res[5];
    covariances[6u * i + 5u] = res[8];
    float c = cos(phase + m.x);
    opacity_scale[i] = 0.6 + 0.4 * c * c;
}
