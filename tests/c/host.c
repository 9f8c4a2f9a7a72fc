/*
 * A plain C11 host of the vksplat C API, built and run by tests/capi.rs:
 *
 *   host PLUGIN_DIR SCENE.ply SCENE.bin OUT_DIR
 *
 * SCENE.bin holds the same splats as SCENE.ply as raw little-endian arrays (uint32 count,
 * uint32 sh_degree, then means, rotations, log_scales, opacity_logits, sh as float32). The
 * program renders them four ways and writes what it got to OUT_DIR for the Rust test to compare
 * with the Rust API: ply.f32 (RGBA32F, padded rows), ply.depth, arrays.u8 (RGBA8 from caller
 * arrays, copied), borrowed.f32 (zero-copy arrays after an in-place edit and a refresh),
 * plugin.f32 (the C "triangle" plugin at time 0.7). Every render passes its camera in the
 * render descriptor and the sizes of its buffers in the image. It also checks error codes and
 * messages (NULL arguments, wrong struct sizes, too-small buffers, a plugin with a too-new ABI,
 * an unknown plugin) and that the host keeps working after them, the limits, the log callback,
 * the deprecated context camera, and a render descriptor laid out as in ABI version 1.
 * Compiling it checks the header's layout assertions. Exit status 0 means every check passed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vksplat.h"

#define W 96
#define H 72
#define PAD 7 /* bytes of padding per row, to exercise row_bytes */

static int failures = 0;

#define CHECK(cond, ...)                                            \
    do {                                                            \
        if (!(cond)) {                                              \
            fprintf(stderr, "host.c:%d: check failed: %s: ", __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                           \
            fprintf(stderr, " (last error: %s)\n", vksplat_last_error()); \
            failures++;                                             \
        }                                                           \
    } while (0)

#define MUST(call)                                                  \
    do {                                                            \
        VksplatResult r_ = (call);                                  \
        if (r_ != VKSPLAT_OK) {                                     \
            fprintf(stderr, "host.c:%d: %s returned %d: %s\n", __LINE__, #call, (int)r_, \
                    vksplat_last_error());                          \
            exit(1);                                                \
        }                                                           \
    } while (0)

static int deleted = 0;
static void deleter(void *user) {
    deleted++;
    free(user);
}

/* The log callback: counts the lines it gets at each level (single-threaded here). */
static int log_lines[4];
static void on_log(void *user, int32_t level, const char *message) {
    (void)message;
    if (level >= VKSPLAT_LOG_DEBUG && level <= VKSPLAT_LOG_ERROR) log_lines[level + 1]++;
    *(int *)user += 1;
}

/* A render descriptor as a program compiled against ABI version 1 knew it. */
typedef struct {
    uint32_t s_type, s_size;
    const void *next;
    uint32_t mode;
    float background[3];
    double time;
} RenderDescV1;
_Static_assert(sizeof(RenderDescV1) == VKSPLAT_RENDER_DESC_V1_SIZE, "the v1 layout");

static VksplatCamera cam;

static void write_file(const char *dir, const char *name, const void *data, size_t size) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

/* Renders with `cam` into `pixels` (`size` bytes); a NaN `time` keeps the scene's time. */
static VksplatResult render(VksplatContext *ctx, VksplatScene *scene, uint32_t format, void *pixels,
                            uint64_t size, uint64_t row_bytes, float *depth, double time) {
    VksplatRenderDesc rd = {.s_type = VKSPLAT_STRUCT_RENDER_DESC, .s_size = sizeof rd};
    rd.background[0] = 0.1f;
    rd.background[1] = 0.2f;
    rd.background[2] = 0.3f;
    if (!isnan(time)) {
        rd.flags = VKSPLAT_RENDER_TIME;
        rd.time = time;
    }
    rd.camera = &cam;
    VksplatImage img = {VKSPLAT_STRUCT_IMAGE, sizeof img, NULL, W, H, format, 0, pixels, row_bytes, depth,
                        size, depth ? W * H * sizeof(float) : 0};
    return vksplat_render(ctx, scene, &rd, &img);
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: host PLUGIN_DIR SCENE.ply SCENE.bin OUT_DIR\n");
        return 2;
    }
    const char *plugin_dir = argv[1], *ply = argv[2], *bin = argv[3], *out = argv[4];

    /* Versions. */
    CHECK(vksplat_abi_version() == VKSPLAT_ABI_VERSION, "ABI %u", vksplat_abi_version());
    CHECK(vksplat_version() == VKSPLAT_MAKE_VERSION(VKSPLAT_VERSION_MAJOR, VKSPLAT_VERSION_MINOR,
                                                    VKSPLAT_VERSION_PATCH),
          "version %u", vksplat_version());
    CHECK(strlen(vksplat_version_string()) >= 5, "%s", vksplat_version_string());

    /* Errors before any object exists. */
    CHECK(vksplat_context_create(NULL, NULL) == VKSPLAT_ERROR_INVALID_ARGUMENT, "NULL out");
    CHECK(strstr(vksplat_last_error(), "vksplat_context_create") != NULL, "message names the call");
    VksplatContextDesc small = {.s_type = VKSPLAT_STRUCT_CONTEXT_DESC, .s_size = 8};
    VksplatContext *ctx = NULL;
    CHECK(vksplat_context_create(&small, &ctx) == VKSPLAT_ERROR_STRUCT_SIZE, "small desc");
    CHECK(ctx == NULL, "no context on failure");

    const char *validation = getenv("VKSPLAT_VALIDATION");
    const char *device = getenv("VKSPLAT_TEST_DEVICE");
    int logged = 0;
    VksplatContextDesc cd = {.s_type = VKSPLAT_STRUCT_CONTEXT_DESC, .s_size = sizeof cd};
    cd.device = device ? device : "auto";
    cd.validation = (uint32_t)(validation && strcmp(validation, "1") == 0);
    cd.log = on_log;
    cd.log_user = &logged;
    cd.log_level = VKSPLAT_LOG_INFO;
    MUST(vksplat_context_create(&cd, &ctx));
    CHECK(vksplat_last_error()[0] == '\0', "success clears the last error");
    CHECK(logged > 0 && log_lines[VKSPLAT_LOG_INFO + 1] > 0 && log_lines[VKSPLAT_LOG_DEBUG + 1] == 0,
          "log callback: %d lines", logged);

    VksplatLimits limits;
    memset(&limits, 0, sizeof limits);
    limits.s_type = VKSPLAT_STRUCT_LIMITS;
    limits.s_size = sizeof limits;
    MUST(vksplat_context_limits(ctx, &limits));
    CHECK(limits.max_splats > 1000 && limits.subgroup_size > 0 && limits.device_name[0] != 0, "limits");
    CHECK(limits.plugin_abi_max == VKSPLAT_PLUGIN_ABI_VERSION, "plugin ABI %u", limits.plugin_abi_max);
    CHECK(limits.max_splats == limits.max_splats_by_sh_degree[3] &&
              limits.max_splats_by_sh_degree[0] >= limits.max_splats,
          "max_splats %llu", (unsigned long long)limits.max_splats);
    CHECK(limits.max_image_pixels >= (uint64_t)W * H && limits.max_image_pixels <= (1u << 28) &&
              limits.max_image_side >= 4096,
          "image limits %u %llu", limits.max_image_side, (unsigned long long)limits.max_image_pixels);

    VksplatCamera c = {VKSPLAT_STRUCT_CAMERA, sizeof c, NULL, W, H, 90.0f, 90.0f, 48.0f, 36.0f,
                       {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1},
                       VKSPLAT_PROJECTION_PERSPECTIVE, 0};
    cam = c;

    /* 1. A PLY file, RGBA32F with padded rows, plus depth. */
    VksplatScene *scene = NULL;
    CHECK(vksplat_scene_load(ctx, "/nonexistent/scene.ply", &scene) == VKSPLAT_ERROR_IO, "missing file");
    MUST(vksplat_scene_load(ctx, ply, &scene));
    VksplatSceneInfo info = {.s_type = VKSPLAT_STRUCT_SCENE_INFO, .s_size = sizeof info};
    MUST(vksplat_scene_info(scene, &info));
    CHECK(info.antialiased == 0, "the test PLY is not marked antialiased");
    size_t row = W * 16 + PAD;
    size_t padded_size = (H - 1) * row + W * 16; /* the last row needs no padding */
    unsigned char *padded = calloc(H, row);
    float *depth = calloc(W * H, sizeof(float));
    float *f32 = calloc(W * H * 4, sizeof(float));
    MUST(render(ctx, scene, VKSPLAT_FORMAT_RGBA32F, padded, padded_size, row, depth, NAN));
    for (int y = 0; y < H; y++) memcpy(&f32[y * W * 4], padded + y * row, W * 16);
    write_file(out, "ply.f32", f32, W * H * 16);
    write_file(out, "ply.depth", depth, W * H * 4);
    /* Wrong image size, a too-small buffer and missing struct header are errors, not crashes. */
    VksplatRenderDesc rd = {.s_type = VKSPLAT_STRUCT_RENDER_DESC, .s_size = sizeof rd};
    rd.camera = &cam;
    VksplatImage wrong = {VKSPLAT_STRUCT_IMAGE, sizeof wrong, NULL, W + 1, H, VKSPLAT_FORMAT_RGBA8, 0, padded, 0, NULL,
                          padded_size, 0};
    CHECK(vksplat_render(ctx, scene, &rd, &wrong) == VKSPLAT_ERROR_INVALID_ARGUMENT, "size mismatch");
    CHECK(strstr(vksplat_last_error(), "97x72") != NULL, "message says the size");
    CHECK(render(ctx, scene, VKSPLAT_FORMAT_RGBA32F, padded, padded_size - 1, row, NULL, NAN) ==
              VKSPLAT_ERROR_INVALID_ARGUMENT,
          "a buffer one byte short");
    char need[64];
    snprintf(need, sizeof need, "needs %zu", padded_size);
    CHECK(strstr(vksplat_last_error(), need) != NULL, "message says the size needed");
    CHECK(vksplat_render(ctx, scene, NULL, NULL) == VKSPLAT_ERROR_INVALID_ARGUMENT, "no camera, no image");

    /* 2. The same splats from caller arrays, copied, as RGBA8. */
    FILE *f = fopen(bin, "rb");
    uint32_t head[2];
    if (!f || fread(head, 4, 2, f) != 2) return 1;
    uint32_t n = head[0], deg = head[1], k = (deg + 1) * (deg + 1);
    size_t floats = (size_t)n * (3 + 4 + 3 + 1 + 3 * k);
    float *data = malloc(floats * sizeof(float));
    if (fread(data, sizeof(float), floats, f) != floats) return 1;
    fclose(f);
    CHECK(info.count == n && info.sh_degree == deg, "info %llu %u", (unsigned long long)info.count, info.sh_degree);
    VksplatSceneDesc sd;
    memset(&sd, 0, sizeof sd);
    sd.s_type = VKSPLAT_STRUCT_SCENE_DESC;
    sd.s_size = sizeof sd;
    sd.count = n;
    sd.sh_degree = deg;
    sd.means = data;
    sd.rotations = data + 3 * n;
    sd.log_scales = data + 7 * n;
    sd.opacity_logits = data + 10 * n;
    sd.sh = data + 11 * n;
    VksplatScene *copied = NULL;
    MUST(vksplat_scene_create(ctx, &sd, &copied));
    unsigned char *u8 = malloc(W * H * 4);
    MUST(render(ctx, copied, VKSPLAT_FORMAT_RGBA8, u8, W * H * 4, 0, NULL, NAN));
    write_file(out, "arrays.u8", u8, W * H * 4);
    /* The deprecated context camera with a NULL descriptor (classic on black), and a
       descriptor compiled against ABI version 1 (always its mode; the context camera). */
    MUST(vksplat_set_camera(ctx, &cam));
    float *black = malloc(W * H * 16), *v1 = malloc(W * H * 16);
    VksplatImage bi = {VKSPLAT_STRUCT_IMAGE, sizeof bi, NULL, W, H, VKSPLAT_FORMAT_RGBA32F, 0, black, 0, NULL,
                       W * H * 16, 0};
    MUST(vksplat_render(ctx, copied, NULL, &bi));
    RenderDescV1 old = {VKSPLAT_STRUCT_RENDER_DESC, VKSPLAT_RENDER_DESC_V1_SIZE, NULL, VKSPLAT_MODE_CLASSIC,
                        {0, 0, 0}, 0.0};
    bi.pixels = v1;
    MUST(vksplat_render(ctx, copied, (const VksplatRenderDesc *)&old, &bi));
    CHECK(memcmp(black, v1, W * H * 16) == 0, "a v1 descriptor renders as before");
    old.mode = 7;
    CHECK(vksplat_render(ctx, copied, (const VksplatRenderDesc *)&old, &bi) == VKSPLAT_ERROR_INVALID_ARGUMENT,
          "a v1 descriptor's mode is checked");
    free(black);
    free(v1);
    /* NaN input is rejected with the array and splat named. */
    float saved = data[3 * 5 + 1];
    data[3 * 5 + 1] = 0.0f / 0.0f;
    VksplatScene *bad = NULL;
    CHECK(vksplat_scene_create(ctx, &sd, &bad) == VKSPLAT_ERROR_INVALID_INPUT, "NaN input");
    CHECK(strstr(vksplat_last_error(), "means") && strstr(vksplat_last_error(), "splat 5"), "NaN message");
    data[3 * 5 + 1] = saved;

    /* 3. Zero-copy: the engine keeps the pointers; move every splat and refresh. */
    float *owned = malloc(floats * sizeof(float));
    memcpy(owned, data, floats * sizeof(float));
    sd.flags = VKSPLAT_SCENE_BORROW;
    sd.means = owned;
    sd.rotations = owned + 3 * n;
    sd.log_scales = owned + 7 * n;
    sd.opacity_logits = owned + 10 * n;
    sd.sh = owned + 11 * n;
    sd.deleter = deleter;
    sd.deleter_user = owned;
    VksplatScene *borrowed = NULL;
    MUST(vksplat_scene_create(ctx, &sd, &borrowed));
    for (uint32_t i = 0; i < n; i++) owned[3 * i] += 0.25f;
    MUST(vksplat_scene_refresh(borrowed));
    MUST(render(ctx, borrowed, VKSPLAT_FORMAT_RGBA32F, f32, W * H * 16, 0, NULL, NAN));
    write_file(out, "borrowed.f32", f32, W * H * 16);
    CHECK(vksplat_scene_refresh(copied) == VKSPLAT_ERROR_UNSUPPORTED, "refresh of a copied scene");
    vksplat_scene_destroy(borrowed);
    CHECK(deleted == 1, "deleter called once (%d)", deleted);

    /* 4. Plugins: the C example, and broken ones. */
    MUST(vksplat_context_add_plugin_dir(ctx, plugin_dir));
    VksplatKeyValue params[] = {{"count", "900"}, {"spin", "1.5"}};
    VksplatPluginSceneDesc pd = {VKSPLAT_STRUCT_PLUGIN_SCENE_DESC, sizeof pd, NULL, "triangle", NULL,
                                 params, 2, VKSPLAT_EVAL_GPU};
    VksplatScene *tri = NULL;
    MUST(vksplat_scene_open_plugin(ctx, &pd, &tri));
    VksplatSceneInfo ti = {.s_type = VKSPLAT_STRUCT_SCENE_INFO, .s_size = sizeof ti};
    MUST(vksplat_scene_info(tri, &ti));
    CHECK(ti.is_plugin == 1 && ti.count == 900 && ti.eval == VKSPLAT_EVAL_GPU && ti.param_count == 3, "plugin info");
    MUST(render(ctx, tri, VKSPLAT_FORMAT_RGBA32F, f32, W * H * 16, 0, NULL, 0.7));
    write_file(out, "plugin.f32", f32, W * H * 16);
    float bad_vertices[6] = {0};
    CHECK(vksplat_scene_set_param(tri, "vertices", bad_vertices, 6) == VKSPLAT_ERROR_INVALID_ARGUMENT, "bad vertices");
    CHECK(strstr(vksplat_last_error(), "triangle") != NULL, "names the plugin");
    float vertices[9] = {-0.5f, -0.4f, 3.0f, 0.5f, -0.4f, 3.0f, 0.0f, 0.5f, 3.0f};
    MUST(vksplat_scene_set_param(tri, "vertices", vertices, 9));
    MUST(vksplat_scene_set_time(tri, 2.0));
    MUST(render(ctx, tri, VKSPLAT_FORMAT_RGBA32F, f32, W * H * 16, 0, NULL, NAN));

    const struct {
        const char *name;
        VksplatResult code;
    } broken[] = {
        {"bad-abi-new", VKSPLAT_ERROR_ABI},
        {"bad-fingerprint", VKSPLAT_ERROR_ABI},
        {"bad-no-entry", VKSPLAT_ERROR_PLUGIN},
        {"bad-open-error", VKSPLAT_ERROR_PLUGIN},
        {"bad-shader-binding", VKSPLAT_ERROR_SHADER},
        {"bad-nan", VKSPLAT_ERROR_INVALID_OUTPUT},
        {"panics", VKSPLAT_ERROR_PANIC},
        {"no-such-plugin", VKSPLAT_ERROR_PLUGIN},
    };
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        VksplatPluginSceneDesc b = {VKSPLAT_STRUCT_PLUGIN_SCENE_DESC, sizeof b, NULL, broken[i].name, NULL,
                                    NULL, 0, VKSPLAT_EVAL_AUTO};
        VksplatScene *s = NULL;
        VksplatResult r = vksplat_scene_open_plugin(ctx, &b, &s);
        CHECK(r == broken[i].code, "%s gave %d, expected %d", broken[i].name, (int)r, (int)broken[i].code);
        CHECK(strstr(vksplat_last_error(), broken[i].name) != NULL, "%s: message names it", broken[i].name);
        CHECK(s == NULL, "%s: no scene", broken[i].name);
        /* The host keeps working. */
        MUST(render(ctx, copied, VKSPLAT_FORMAT_RGBA8, u8, W * H * 4, 0, NULL, NAN));
    }
    unsigned char *again = malloc(W * H * 4);
    MUST(render(ctx, copied, VKSPLAT_FORMAT_RGBA8, again, W * H * 4, 0, NULL, NAN));
    CHECK(memcmp(u8, again, W * H * 4) == 0, "frames are bit-identical after the failures");

    vksplat_scene_destroy(tri);
    vksplat_scene_destroy(copied);
    vksplat_scene_destroy(scene);
    vksplat_scene_destroy(NULL);
    vksplat_context_destroy(ctx);
    vksplat_context_destroy(NULL);
    free(padded); free(depth); free(f32); free(data); free(u8); free(again);
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("host.c: all checks passed\n");
    return 0;
}
