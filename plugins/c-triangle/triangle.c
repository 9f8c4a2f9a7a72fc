/*
 * triangle: an example vksplat plugin in plain C11, built against include/vksplat.h only.
 *
 *   cc -std=c11 -O2 -shared -fPIC -fvisibility=hidden -I include \
 *      plugins/c-triangle/triangle.c -lm -o libvksplat_triangle.so
 *
 * Splats are bound to a triangle (mesh-bound Gaussians): each has barycentric coordinates, an
 * offset along the normal and a base scale. Per frame the triangle's three vertices come from
 * the `vertices` parameter (a vertex stream, 3 x 3 floats) or, when it is not set, from a rest
 * triangle spinning about z with the time. Each frame writes means, rotations (the triangle's
 * tangent frame) and log scales (grown with the triangle's area), on the GPU (the shader
 * below) or on the CPU (triangle_frame_cpu, the same arithmetic in the same order).
 *
 * No global state: everything lives in the instance. No work in constructors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vksplat.h"

struct VksplatInstance {
    const VksplatHostApi *host;
    uint32_t count;
    float rest_area;
    float *binding;        /* per splat: b1, b2, normal offset, base log scale */
    float *opacity_logits; /* per splat */
    float *sh;             /* degree 0: 3 per splat */
    VksplatParamDesc params[3];
    VksplatBufferDesc buffers[1];
};

static const float REST[9] = {-0.8f, -0.5f, 0.0f, 0.8f, -0.5f, 0.0f, 0.0f, 0.7f, 0.0f};

static const char SHADER[] =
    "#version 450\n"
    "#include \"variant.glsl\"\n"
    "layout(local_size_x = 64) in;\n"
    "layout(std430, binding = VKSPLAT_FIRST_PLUGIN_BINDING) readonly buffer Binding { vec4 bind[]; };\n"
    "layout(push_constant) uniform Params { vec4 v[3]; uint count; float rest_area; float pad0; float pad1; } p;\n"
    "vec4 quat_from_frame(vec3 t, vec3 b, vec3 n) {\n"
    "    float m00 = t.x, m11 = b.y, m22 = n.z;\n"
    "    float tr = m00 + m11 + m22;\n"
    "    vec4 q;\n"
    "    if (tr > 0.0) {\n"
    "        float s = sqrt(tr + 1.0) * 2.0;\n"
    "        q = vec4(0.25 * s, (b.z - n.y) / s, (n.x - t.z) / s, (t.y - b.x) / s);\n"
    "    } else if (m00 > m11 && m00 > m22) {\n"
    "        float s = sqrt(1.0 + m00 - m11 - m22) * 2.0;\n"
    "        q = vec4((b.z - n.y) / s, 0.25 * s, (b.x + t.y) / s, (n.x + t.z) / s);\n"
    "    } else if (m11 > m22) {\n"
    "        float s = sqrt(1.0 + m11 - m00 - m22) * 2.0;\n"
    "        q = vec4((n.x - t.z) / s, (b.x + t.y) / s, 0.25 * s, (n.y + b.z) / s);\n"
    "    } else {\n"
    "        float s = sqrt(1.0 + m22 - m00 - m11) * 2.0;\n"
    "        q = vec4((t.y - b.x) / s, (n.x + t.z) / s, (n.y + b.z) / s, 0.25 * s);\n"
    "    }\n"
    "    return q;\n"
    "}\n"
    "void main() {\n"
    "    uint i = gl_GlobalInvocationID.x;\n"
    "    if (i >= p.count) return;\n"
    "    vec3 v0 = p.v[0].xyz, v1 = p.v[1].xyz, v2 = p.v[2].xyz;\n"
    "    vec3 e1 = v1 - v0, e2 = v2 - v0;\n"
    "    vec3 c = cross(e1, e2);\n"
    "    float len = sqrt(dot(c, c));\n"
    "    vec3 n = c / len;\n"
    "    vec3 t = e1 / sqrt(dot(e1, e1));\n"
    "    vec3 b = cross(n, t);\n"
    "    vec4 g = bind[i];\n"
    "    vec3 m = v0 + g.x * e1 + g.y * e2 + g.z * n;\n"
    "    means[3u * i] = m.x; means[3u * i + 1u] = m.y; means[3u * i + 2u] = m.z;\n"
    "    rotations[i] = quat_from_frame(t, b, n);\n"
    "    float grow = 0.5 * log(0.5 * len / p.rest_area);\n"
    "    log_scales[3u * i] = g.w + grow;\n"
    "    log_scales[3u * i + 1u] = g.w + grow;\n"
    "    log_scales[3u * i + 2u] = g.w - 2.0;\n"
    "}\n";

static VksplatResult fail(const VksplatHostApi *host, VksplatResult code, const char *message) {
    if (host && host->set_error) host->set_error(message);
    return code;
}

static float rnd(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (float)(*s >> 40) / (float)(1u << 24);
}

static void cross3(const float *a, const float *b, float *out) {
    out[0] = a[1] * b[2] - a[2] * b[1];
    out[1] = a[2] * b[0] - a[0] * b[2];
    out[2] = a[0] * b[1] - a[1] * b[0];
}

static float dot3(const float *a, const float *b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

/* The frame's vertices: the parameter, or the rest triangle spun about z by spin * time. */
static void frame_vertices(const VksplatFrameInput *in, float v[9]) {
    const VksplatParamValue *vertices = in->param_count > 1 ? &in->params[1] : NULL;
    if (vertices && vertices->count == 3 && vertices->data) {
        memcpy(v, vertices->data, 9 * sizeof(float));
        return;
    }
    double spin = in->param_count > 0 ? in->params[0].value : 1.0;
    float a = (float)(spin * in->time);
    float c = cosf(a), s = sinf(a);
    for (int k = 0; k < 3; k++) {
        v[3 * k] = c * REST[3 * k] - s * REST[3 * k + 1];
        v[3 * k + 1] = s * REST[3 * k] + c * REST[3 * k + 1];
        v[3 * k + 2] = REST[3 * k + 2] + 3.0f;
    }
}

static void quat_from_frame(const float *t, const float *b, const float *n, float *q) {
    float m00 = t[0], m11 = b[1], m22 = n[2];
    float tr = m00 + m11 + m22;
    if (tr > 0.0f) {
        float s = sqrtf(tr + 1.0f) * 2.0f;
        q[0] = 0.25f * s; q[1] = (b[2] - n[1]) / s; q[2] = (n[0] - t[2]) / s; q[3] = (t[1] - b[0]) / s;
    } else if (m00 > m11 && m00 > m22) {
        float s = sqrtf(1.0f + m00 - m11 - m22) * 2.0f;
        q[0] = (b[2] - n[1]) / s; q[1] = 0.25f * s; q[2] = (b[0] + t[1]) / s; q[3] = (n[0] + t[2]) / s;
    } else if (m11 > m22) {
        float s = sqrtf(1.0f + m11 - m00 - m22) * 2.0f;
        q[0] = (n[0] - t[2]) / s; q[1] = (b[0] + t[1]) / s; q[2] = 0.25f * s; q[3] = (n[1] + b[2]) / s;
    } else {
        float s = sqrtf(1.0f + m22 - m00 - m11) * 2.0f;
        q[0] = (t[1] - b[0]) / s; q[1] = (n[0] + t[2]) / s; q[2] = (n[1] + b[2]) / s; q[3] = 0.25f * s;
    }
}

static VksplatResult triangle_open(const VksplatOpenDesc *desc, VksplatInstance **out) {
    if (!desc || !out) return VKSPLAT_ERROR_INVALID_ARGUMENT;
    const VksplatHostApi *host = desc->host;
    if (desc->s_type != VKSPLAT_STRUCT_OPEN_DESC || desc->s_size < sizeof(VksplatOpenDesc))
        return fail(host, VKSPLAT_ERROR_STRUCT_SIZE, "open: descriptor too small");
    if (desc->source) return fail(host, VKSPLAT_ERROR_PLUGIN, "takes no source file");
    long count = 2000;
    for (uint32_t k = 0; k < desc->option_count; k++) {
        const char *key = desc->options[k].key, *value = desc->options[k].value;
        if (strcmp(key, "count") == 0) {
            char *end = NULL;
            count = strtol(value, &end, 10);
            if (!end || *end || count < 1 || count > 1000000)
                return fail(host, VKSPLAT_ERROR_PLUGIN, "option 'count': expected an integer in 1..1000000");
        } else if (strcmp(key, "spin") != 0 && strcmp(key, "vertices") != 0) {
            char message[200];
            snprintf(message, sizeof message, "unknown parameter '%s' (parameters: count, spin, vertices)", key);
            return fail(host, VKSPLAT_ERROR_PLUGIN, message);
        }
    }
    VksplatInstance *inst = calloc(1, sizeof *inst);
    if (!inst) return fail(host, VKSPLAT_ERROR_PLUGIN, "out of memory");
    inst->host = host;
    inst->count = (uint32_t)count;
    inst->binding = malloc(sizeof(float) * 4 * (size_t)count);
    inst->opacity_logits = malloc(sizeof(float) * (size_t)count);
    inst->sh = malloc(sizeof(float) * 3 * (size_t)count);
    if (!inst->binding || !inst->opacity_logits || !inst->sh) {
        free(inst->binding); free(inst->opacity_logits); free(inst->sh); free(inst);
        return fail(host, VKSPLAT_ERROR_PLUGIN, "out of memory");
    }
    uint64_t seed = 0x2545F4914F6CDD1Dull;
    for (long i = 0; i < count; i++) {
        float u = rnd(&seed), v = rnd(&seed);
        if (u + v > 1.0f) { u = 1.0f - u; v = 1.0f - v; }
        inst->binding[4 * i] = u;
        inst->binding[4 * i + 1] = v;
        inst->binding[4 * i + 2] = (rnd(&seed) - 0.5f) * 0.02f;
        inst->binding[4 * i + 3] = logf(0.015f + 0.02f * rnd(&seed));
        inst->opacity_logits[i] = 1.0f + 2.0f * rnd(&seed);
        inst->sh[3 * i] = (u - 0.3f) * 1.5f;
        inst->sh[3 * i + 1] = (v - 0.3f) * 1.5f;
        inst->sh[3 * i + 2] = (0.4f - u - v) * 1.5f;
    }
    float e1[3], e2[3], c[3];
    for (int k = 0; k < 3; k++) { e1[k] = REST[3 + k] - REST[k]; e2[k] = REST[6 + k] - REST[k]; }
    cross3(e1, e2, c);
    inst->rest_area = 0.5f * sqrtf(dot3(c, c));
    VksplatParamDesc params[3] = {
        {"spin", "rotation speed of the default triangle about z (rad/s)", VKSPLAT_PARAM_FLOAT, 0,
         -10.0, 10.0, 1.0, 1, 0, 0, 0},
        {"vertices", "the triangle's three vertices (x,y,z each); default: the spinning rest triangle",
         VKSPLAT_PARAM_FLOAT_ARRAY, 0, -1000.0, 1000.0, 0.0, 3, 3, 3, 0},
        {"count", "number of splats", VKSPLAT_PARAM_INT, VKSPLAT_PARAM_OPEN, 1.0, 1000000.0, 2000.0,
         1, 0, 0, 0},
    };
    memcpy(inst->params, params, sizeof params);
    *out = inst;
    return VKSPLAT_OK;
}

static void triangle_close(VksplatInstance *inst) {
    if (!inst) return;
    free(inst->binding);
    free(inst->opacity_logits);
    free(inst->sh);
    free(inst);
}

static VksplatResult triangle_describe(VksplatInstance *inst, VksplatDescription *d) {
    if (!inst || !d) return VKSPLAT_ERROR_INVALID_ARGUMENT;
    if (d->s_size < sizeof *d) return fail(inst->host, VKSPLAT_ERROR_STRUCT_SIZE, "describe: struct too small");
    memset(d, 0, sizeof *d);
    d->s_type = VKSPLAT_STRUCT_DESCRIPTION;
    d->s_size = sizeof *d;
    d->splat_count = inst->count;
    d->sh_degree = 0;
    d->flags = 0;
    d->outputs = VKSPLAT_OUTPUT_MEANS | VKSPLAT_OUTPUT_ROTATIONS | VKSPLAT_OUTPUT_LOG_SCALES;
    d->has_gpu = 1;
    d->has_cpu = 1;
    d->param_count = 3;
    d->params = inst->params;
    d->initial.opacity_logits = inst->opacity_logits;
    d->initial.sh = inst->sh;
    return VKSPLAT_OK;
}

static VksplatResult triangle_gpu_stage(VksplatInstance *inst, VksplatGpuStage *s) {
    if (!inst || !s) return VKSPLAT_ERROR_INVALID_ARGUMENT;
    if (s->s_size < sizeof *s) return fail(inst->host, VKSPLAT_ERROR_STRUCT_SIZE, "gpu_stage: struct too small");
    memset(s, 0, sizeof *s);
    s->s_type = VKSPLAT_STRUCT_GPU_STAGE;
    s->s_size = sizeof *s;
    s->name = "triangle.comp";
    s->language = VKSPLAT_SHADER_GLSL;
    s->push_constant_size = 64;
    s->code = SHADER;
    s->code_size = sizeof SHADER - 1;
    inst->buffers[0].name = "binding";
    inst->buffers[0].data = inst->binding;
    inst->buffers[0].size = sizeof(float) * 4 * (uint64_t)inst->count;
    s->buffers = inst->buffers;
    s->buffer_count = 1;
    s->frame_buffer_size = 0;
    s->invocations = inst->count;
    return VKSPLAT_OK;
}

static VksplatResult triangle_gpu_frame(VksplatInstance *inst, const VksplatFrameInput *in, void *push,
                                        uint32_t push_size, void *frame, uint32_t frame_size) {
    (void)frame;
    (void)frame_size;
    if (!inst || !in || !push) return VKSPLAT_ERROR_INVALID_ARGUMENT;
    if (push_size != 64) return fail(inst->host, VKSPLAT_ERROR_PLUGIN, "gpu_frame: expected 64 bytes of push constants");
    float v[9];
    frame_vertices(in, v);
    float words[16] = {0};
    for (int k = 0; k < 3; k++) {
        words[4 * k] = v[3 * k];
        words[4 * k + 1] = v[3 * k + 1];
        words[4 * k + 2] = v[3 * k + 2];
    }
    uint32_t count = inst->count;
    memcpy(&words[12], &count, 4);
    words[13] = inst->rest_area;
    memcpy(push, words, sizeof words);
    return VKSPLAT_OK;
}

static VksplatResult triangle_cpu_frame(VksplatInstance *inst, const VksplatFrameInput *in,
                                        const VksplatSplatArrays *out) {
    if (!inst || !in || !out) return VKSPLAT_ERROR_INVALID_ARGUMENT;
    if (!out->means || !out->rotations || !out->log_scales)
        return fail(inst->host, VKSPLAT_ERROR_PLUGIN, "cpu_frame: missing output arrays");
    float v[9];
    frame_vertices(in, v);
    float e1[3], e2[3], c[3], n[3], t[3], b[3];
    for (int k = 0; k < 3; k++) { e1[k] = v[3 + k] - v[k]; e2[k] = v[6 + k] - v[k]; }
    cross3(e1, e2, c);
    float len = sqrtf(dot3(c, c));
    float l1 = sqrtf(dot3(e1, e1));
    for (int k = 0; k < 3; k++) { n[k] = c[k] / len; t[k] = e1[k] / l1; }
    cross3(n, t, b);
    float q[4];
    quat_from_frame(t, b, n, q);
    float grow = 0.5f * logf(0.5f * len / inst->rest_area);
    for (uint32_t i = 0; i < inst->count; i++) {
        const float *g = &inst->binding[4 * i];
        for (int k = 0; k < 3; k++) out->means[3 * i + k] = v[k] + g[0] * e1[k] + g[1] * e2[k] + g[2] * n[k];
        memcpy(&out->rotations[4 * i], q, sizeof q);
        out->log_scales[3 * i] = g[3] + grow;
        out->log_scales[3 * i + 1] = g[3] + grow;
        out->log_scales[3 * i + 2] = g[3] - 2.0f;
    }
    return VKSPLAT_OK;
}

static const VksplatPluginApi API = {
    VKSPLAT_STRUCT_PLUGIN_API,
    sizeof(VksplatPluginApi),
    NULL,
    VKSPLAT_PLUGIN_ABI_VERSION,
    0,
    "triangle",
    "0.1.0",
    triangle_open,
    triangle_close,
    triangle_describe,
    triangle_gpu_stage,
    triangle_gpu_frame,
    triangle_cpu_frame,
};

VKSPLAT_PLUGIN_EXPORT VksplatResult vksplat_plugin_negotiate(VksplatNegotiation *n) {
    if (!n) return VKSPLAT_ERROR_INVALID_ARGUMENT;
    if (n->s_type != VKSPLAT_STRUCT_NEGOTIATION || n->s_size < sizeof *n) return VKSPLAT_ERROR_STRUCT_SIZE;
    n->plugin_abi_version = VKSPLAT_PLUGIN_ABI_VERSION;
    n->layout_fingerprint = VKSPLAT_LAYOUT_FINGERPRINT;
    if (VKSPLAT_PLUGIN_ABI_VERSION < n->host_abi_min || VKSPLAT_PLUGIN_ABI_VERSION > n->host_abi_max)
        return VKSPLAT_ERROR_ABI;
    n->api = &API;
    return VKSPLAT_OK;
}
