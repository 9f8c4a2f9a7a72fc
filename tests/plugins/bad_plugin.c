/*
 * A deliberately broken vksplat plugin for the bad-plugin tests (tests/plugins.rs). Compiled
 * once per defect with -DPLUGIN_NAME='"…"' and one of:
 *   BAD_NO_ENTRY        no vksplat_plugin_negotiate export
 *   BAD_ABI=N           speaks plugin ABI version N
 *   BAD_SMALL_TABLE     function table smaller than ABI version 1 requires
 *   BAD_OPEN_ERROR      open fails with a message
 *   BAD_SHADER_SYNTAX   the GLSL does not compile
 *   BAD_SHADER_BINDING  the shader declares a binding the stage does not have
 *   BAD_SHADER_ALIAS    the shader reads its "rest pose" from binding 0, which is the engine's
 *                       means: positions would accumulate frame after frame
 *   BAD_SPIRV           SPIR-V that reflects fine but is invalid (no OpMemoryModel)
 *   BAD_PARAM_DEFAULT   declares a parameter whose default lies outside its own range
 *   LOGS                logs an info line and a warning through the host when opened
 *   BAD_NAN             both paths write NaN means
 *   BAD_FINGERPRINT     reports a layout fingerprint other than the header's
 *   V1_PLUGIN           a valid plugin built against plugin ABI version 1: reports version 1
 *                       and its frozen fingerprint, and writes a description of
 *                       VKSPLAT_DESCRIPTION_V1_SIZE bytes (with the time-range flag bit set,
 *                       which version 1 did not define)
 *   TIME_RANGE          a valid plugin declaring the time range [-1.5, 4]
 * Without a defect it is a valid 64-splat plugin.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "vksplat.h"

#ifndef PLUGIN_NAME
#define PLUGIN_NAME "bad"
#endif
#ifdef BAD_ABI
#define ABI BAD_ABI
#elif defined(V1_PLUGIN)
#define ABI 1
#else
#define ABI VKSPLAT_PLUGIN_ABI_VERSION
#endif
#define COUNT 64u

struct VksplatInstance {
    const VksplatHostApi *host;
    float opacity[COUNT];
    float sh[3 * COUNT];
};

#if defined(BAD_SHADER_SYNTAX)
static const char SHADER[] = "#version 450\nlayout(local_size_x = 64) in;\nvoid main() { this is not glsl; }\n";
#elif defined(BAD_SHADER_BINDING)
static const char SHADER[] =
    "#version 450\n#include \"variant.glsl\"\nlayout(local_size_x = 64) in;\n"
    "layout(std430, binding = 12) buffer Extra { float extra[]; };\n"
    "void main() { uint i = gl_GlobalInvocationID.x; if (i < 64u) means[3u * i] = extra[i]; }\n";
#elif defined(BAD_SHADER_ALIAS)
static const char SHADER[] =
    "#version 450\n#include \"variant.glsl\"\nlayout(local_size_x = 64) in;\n"
    "layout(std430, binding = 0) readonly buffer Rest { float rest[]; };\n"
    "layout(push_constant) uniform P { float time; float nan_bits_are_set; } p;\n"
    "void main() {\n"
    "    uint i = gl_GlobalInvocationID.x;\n"
    "    if (i >= 64u) return;\n"
    "    means[3u * i + 1u] = rest[3u * i + 1u] + 0.01 * p.time;\n"
    "}\n";
#elif defined(BAD_SPIRV)
/* A GLCompute `main` with local size 64x1x1 and nothing else, missing the OpMemoryModel every
 * module needs: the host's reflection finds nothing wrong, the SPIR-V validator does. */
static const uint32_t SHADER[] = {
    0x07230203u, 0x00010000u, 0u, 5u, 0u,
    (2u << 16) | 17u, 1u,                               /* OpCapability Shader */
    (5u << 16) | 15u, 5u, 3u, 0x6e69616du, 0u,          /* OpEntryPoint GLCompute %3 "main" */
    (6u << 16) | 16u, 3u, 17u, 64u, 1u, 1u,             /* OpExecutionMode %3 LocalSize 64 1 1 */
    (2u << 16) | 19u, 1u,                               /* %1 = OpTypeVoid */
    (3u << 16) | 33u, 2u, 1u,                           /* %2 = OpTypeFunction %1 */
    (5u << 16) | 54u, 1u, 3u, 0u, 2u,                   /* %3 = OpFunction %1 None %2 */
    (2u << 16) | 248u, 4u,                              /* %4 = OpLabel */
    (1u << 16) | 253u,                                  /* OpReturn */
    (1u << 16) | 56u,                                   /* OpFunctionEnd */
};
#else
static const char SHADER[] =
    "#version 450\n#include \"variant.glsl\"\nlayout(local_size_x = 64) in;\n"
    "layout(push_constant) uniform P { float time; float nan_bits_are_set; } p;\n"
    "void main() {\n"
    "    uint i = gl_GlobalInvocationID.x;\n"
    "    if (i >= 64u) return;\n"
    "    float x = -1.0 + 2.0 * float(i) / 63.0;\n"
    "    means[3u * i] = p.nan_bits_are_set > 0.5 ? uintBitsToFloat(0x7fc00000u) : x;\n"
    "    means[3u * i + 1u] = 0.1 * sin(p.time + x);\n"
    "    means[3u * i + 2u] = 3.0;\n"
    "}\n";
#endif

static VksplatResult fail(const VksplatHostApi *host, VksplatResult code, const char *message) {
    if (host && host->set_error) host->set_error(message);
    return code;
}

static VksplatResult bad_open(const VksplatOpenDesc *desc, VksplatInstance **out) {
#ifdef BAD_OPEN_ERROR
    (void)out;
    return fail(desc->host, VKSPLAT_ERROR_PLUGIN, "cannot read the source: bad magic number");
#else
    VksplatInstance *inst = calloc(1, sizeof *inst);
    if (!inst) return fail(desc->host, VKSPLAT_ERROR_PLUGIN, "out of memory");
    inst->host = desc->host;
#ifdef LOGS
    if (desc->host && desc->host->log) {
        desc->host->log(VKSPLAT_LOG_INFO, PLUGIN_NAME " opened with 64 splats");
        desc->host->log(VKSPLAT_LOG_WARNING, PLUGIN_NAME " says:\nthis is a test warning");
    }
#endif
    for (unsigned i = 0; i < COUNT; i++) {
        inst->opacity[i] = 2.0f;
        inst->sh[3 * i] = 1.0f;
    }
    *out = inst;
    return VKSPLAT_OK;
#endif
}

static void bad_close(VksplatInstance *inst) { free(inst); }

static VksplatResult bad_describe(VksplatInstance *inst, VksplatDescription *d) {
#ifdef V1_PLUGIN
    /* What a version-1 plugin knows: the struct ends before time_start. */
    memset(d, 0, VKSPLAT_DESCRIPTION_V1_SIZE);
    d->s_type = VKSPLAT_STRUCT_DESCRIPTION;
    d->s_size = VKSPLAT_DESCRIPTION_V1_SIZE;
    d->flags = VKSPLAT_VARIANT_TIME_RANGE;
#else
    memset(d, 0, sizeof *d);
    d->s_type = VKSPLAT_STRUCT_DESCRIPTION;
    d->s_size = sizeof *d;
#endif
#ifdef TIME_RANGE
    d->flags = VKSPLAT_VARIANT_TIME_RANGE;
    d->time_start = -1.5;
    d->time_end = 4.0;
#endif
    d->splat_count = COUNT;
    d->outputs = VKSPLAT_OUTPUT_MEANS;
    d->has_gpu = 1;
    d->has_cpu = 1;
    d->initial.opacity_logits = inst->opacity;
    d->initial.sh = inst->sh;
#ifdef BAD_PARAM_DEFAULT
    static const VksplatParamDesc params[1] = {
        {"gain", "a gain whose default breaks its range", VKSPLAT_PARAM_FLOAT, 0, 0.0, 1.0, 2.0, 1,
         0, 0, 0},
    };
    d->params = params;
    d->param_count = 1;
#endif
    return VKSPLAT_OK;
}

static VksplatResult bad_gpu_stage(VksplatInstance *inst, VksplatGpuStage *s) {
    (void)inst;
    memset(s, 0, sizeof *s);
    s->s_type = VKSPLAT_STRUCT_GPU_STAGE;
    s->s_size = sizeof *s;
    s->name = PLUGIN_NAME ".comp";
#ifdef BAD_SPIRV
    s->language = VKSPLAT_SHADER_SPIRV;
    s->code_size = sizeof SHADER;
#else
    s->language = VKSPLAT_SHADER_GLSL;
#endif
#if defined(BAD_SHADER_SYNTAX) || defined(BAD_SHADER_BINDING) || defined(BAD_SPIRV)
    s->push_constant_size = 0;
#else
    s->push_constant_size = 8;
#endif
    s->code = SHADER;
    s->invocations = COUNT;
    return VKSPLAT_OK;
}

static VksplatResult bad_gpu_frame(VksplatInstance *inst, const VksplatFrameInput *in, void *push,
                                   uint32_t push_size, void *frame, uint32_t frame_size) {
    (void)inst;
    (void)frame;
    (void)frame_size;
    if (push_size >= 8) {
        float words[2] = {(float)in->time, 0.0f};
#ifdef BAD_NAN
        words[1] = 1.0f;
#endif
        memcpy(push, words, sizeof words);
    }
    return VKSPLAT_OK;
}

static VksplatResult bad_cpu_frame(VksplatInstance *inst, const VksplatFrameInput *in,
                                   const VksplatSplatArrays *out) {
    (void)inst;
    for (unsigned i = 0; i < COUNT; i++) {
        float x = -1.0f + 2.0f * (float)i / 63.0f;
#ifdef BAD_NAN
        out->means[3 * i] = i == 7 ? nanf("") : x;
#else
        out->means[3 * i] = x;
#endif
        out->means[3 * i + 1] = 0.1f * sinf((float)in->time + x);
        out->means[3 * i + 2] = 3.0f;
    }
    return VKSPLAT_OK;
}

static const VksplatPluginApi API = {
    VKSPLAT_STRUCT_PLUGIN_API,
#ifdef BAD_SMALL_TABLE
    offsetof(VksplatPluginApi, describe),
#else
    sizeof(VksplatPluginApi),
#endif
    NULL, ABI, 0, PLUGIN_NAME, "0.0.1",
    bad_open, bad_close, bad_describe, bad_gpu_stage, bad_gpu_frame, bad_cpu_frame,
};

#ifdef BAD_NO_ENTRY
VKSPLAT_PLUGIN_EXPORT VksplatResult vksplat_plugin_negotiate_typo(VksplatNegotiation *n) {
#else
VKSPLAT_PLUGIN_EXPORT VksplatResult vksplat_plugin_negotiate(VksplatNegotiation *n) {
#endif
    uint32_t abi = ABI;
    n->plugin_abi_version = abi;
#ifdef BAD_FINGERPRINT
    n->layout_fingerprint = VKSPLAT_LAYOUT_FINGERPRINT ^ 0x40u;
#elif defined(V1_PLUGIN)
    n->layout_fingerprint = 0xa303048f67084893ull; /* plugin ABI version 1, frozen */
#else
    n->layout_fingerprint = VKSPLAT_LAYOUT_FINGERPRINT;
#endif
    if (abi < n->host_abi_min || abi > n->host_abi_max) return VKSPLAT_ERROR_ABI;
    n->api = &API;
    return VKSPLAT_OK;
}
