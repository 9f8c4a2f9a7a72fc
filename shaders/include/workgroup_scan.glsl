// Exclusive prefix sum over the 256 invocations of a workgroup, in shared memory only, so it
// does not depend on the subgroup size (lavapipe runs 4 or 8, NVIDIA 32, AMD 64). Saturating.
#ifndef VKSPLAT_WORKGROUP_SCAN_GLSL
#define VKSPLAT_WORKGROUP_SCAN_GLSL
shared uint s_scan[2][WORKGROUP];

// Every invocation must call it (contains barriers). Returns the exclusive prefix of `v`;
// `total` receives the sum over the workgroup.
uint workgroup_exclusive_scan(uint v, out uint total) {
    uint t = gl_LocalInvocationIndex;
    uint src = 0u;
    s_scan[0][t] = v;
    barrier();
    for (uint offset = 1u; offset < WORKGROUP; offset <<= 1u) {
        uint x = s_scan[src][t];
        if (t >= offset) x = sat_add(x, s_scan[src][t - offset]);
        s_scan[1u - src][t] = x;
        src = 1u - src;
        barrier();
    }
    // The previous invocation's inclusive sum, not inclusive - v: that is wrong once the
    // inclusive sum has saturated.
    uint exclusive = t == 0u ? 0u : s_scan[src][t - 1u];
    total = s_scan[src][WORKGROUP - 1u];
    barrier();  // s_scan may be reused by the next call
    return exclusive;
}
#endif
