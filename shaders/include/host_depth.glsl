// Host depth occlusion, included by both blend kernels after they define OCCLUDER_WORD(i), the
// i-th uint word of the occluder buffer: a 4-word header (flags, a, b, far_raw as float bits) and the raw
// depth values from word 4, row-major. host_linear_depth turns a pixel's raw value into linear
// camera depth; vksplat_core::host_depth::OccluderParams::linear is the same function on the
// CPU (same f32 operations, same order), and a unit test there checks these defines.
#define OCC_NONE 0u
#define OCC_LINEAR 1u
#define OCC_PERSPECTIVE 2u
#define OCC_ORTHOGRAPHIC 3u
#define OCC_REVERSED 4u
#define OCC_FORMAT_SHIFT 4u
#define OCC_F32 0u
#define OCC_UNORM16 1u
#define OCC_UNORM24 2u

#define OCC_INFINITY uintBitsToFloat(0x7F800000u)

// Linear host depth at pixel `idx`: +inf without an occluder or at the far plane (cleared
// depth), NaN stays NaN (both occlude nothing: a splat is skipped only when depth > this).
float host_linear_depth(uint idx) {
    uint flags = OCCLUDER_WORD(0);
    uint kind = flags & 3u;
    if (kind == OCC_NONE) return OCC_INFINITY;
    uint format = (flags >> OCC_FORMAT_SHIFT) & 3u;
    float d;
    if (format == OCC_UNORM16) {
        uint word = OCCLUDER_WORD(4u + idx / 2u);
        d = float((idx & 1u) == 0u ? word & 0xFFFFu : word >> 16u) / 65535.0;
    } else if (format == OCC_UNORM24) {
        d = float(OCCLUDER_WORD(4u + idx) & 0xFFFFFFu) / 16777215.0;
    } else {
        d = uintBitsToFloat(OCCLUDER_WORD(4u + idx));
    }
    if (kind == OCC_LINEAR) return d;
    float a = uintBitsToFloat(OCCLUDER_WORD(1));
    float b = uintBitsToFloat(OCCLUDER_WORD(2));
    float far_raw = uintBitsToFloat(OCCLUDER_WORD(3));
    bool at_far = (flags & OCC_REVERSED) != 0u ? d <= far_raw : d >= far_raw;
    if (at_far) return OCC_INFINITY;
    // precise: no fused multiply-add, so the CPU reference's a + b * d rounds the same.
    precise float z = kind == OCC_PERSPECTIVE ? b / (d - a) : a + b * d;
    return z;
}
