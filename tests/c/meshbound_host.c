/*
 * A C11 host that drives the `meshbound` plugin through the vksplat C API, built and run by
 * tests/meshbound.rs:
 *
 *   meshbound_host PLUGIN_DIR BINDING.ply REST.obj FRAMES.bin OUT_DIR SIZE FOCAL TX TY TZ
 *
 * FRAMES.bin: uint32 frame count, uint32 vertex count V, then per frame V × 3 float32 (x y z,
 * the rest mesh's vertex order). The program opens BINDING.ply with `mesh=REST.obj` as a
 * plugin scene (GPU evaluation), then per frame streams that frame's vertices with
 * vksplat_scene_set_param("vertices") and renders a SIZE × SIZE RGBA32F image (pinhole,
 * focal FOCAL pixels, principal point at the centre, world_to_camera a translation by
 * (TX, TY, TZ)) on black in the scene's default mode, written to OUT_DIR/frame_N.f32. It also
 * checks that vertices of the wrong count make the render fail with a message naming the
 * counts, and that the next frame renders again. Exit status 0: every check passed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vksplat.h"

#define MUST(call)                                                                          \
    do {                                                                                    \
        VksplatResult r_ = (call);                                                          \
        if (r_ != VKSPLAT_OK) {                                                             \
            fprintf(stderr, "meshbound_host.c:%d: %s returned %d: %s\n", __LINE__, #call,  \
                    (int)r_, vksplat_last_error());                                         \
            exit(1);                                                                        \
        }                                                                                   \
    } while (0)

static int failures = 0;
#define CHECK(cond, ...)                                                                    \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "meshbound_host.c:%d: check failed: %s: ", __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                                   \
            fprintf(stderr, " (last error: %s)\n", vksplat_last_error());                  \
            failures++;                                                                     \
        }                                                                                   \
    } while (0)

static void *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *data = malloc(n > 0 ? (size_t)n : 1);
    if (!data || fread(data, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    *size = (size_t)n;
    return data;
}

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

static VksplatResult render(VksplatContext *ctx, VksplatScene *scene, const VksplatCamera *cam,
                            float *pixels) {
    VksplatRenderDesc rd = {.s_type = VKSPLAT_STRUCT_RENDER_DESC, .s_size = sizeof rd};
    rd.camera = cam;
    uint64_t size = (uint64_t)cam->width * cam->height * 16;
    VksplatImage img = {VKSPLAT_STRUCT_IMAGE, sizeof img, NULL, cam->width, cam->height,
                        VKSPLAT_FORMAT_RGBA32F, 0, pixels, 0, NULL, size, 0};
    return vksplat_render(ctx, scene, &rd, &img);
}

int main(int argc, char **argv) {
    if (argc != 11) {
        fprintf(stderr,
                "usage: meshbound_host PLUGIN_DIR BINDING.ply REST.obj FRAMES.bin OUT_DIR SIZE "
                "FOCAL TX TY TZ\n");
        return 2;
    }
    const char *plugin_dir = argv[1], *binding = argv[2], *rest = argv[3], *frames_path = argv[4],
               *out = argv[5];
    uint32_t size_px = (uint32_t)atoi(argv[6]);
    float focal = strtof(argv[7], NULL);
    float t[3] = {strtof(argv[8], NULL), strtof(argv[9], NULL), strtof(argv[10], NULL)};

    size_t bytes = 0;
    uint32_t *frames = read_all(frames_path, &bytes);
    if (bytes < 8) {
        fprintf(stderr, "%s: too short\n", frames_path);
        return 1;
    }
    uint32_t count = frames[0], vertex_count = frames[1];
    if (bytes != 8 + (size_t)count * vertex_count * 12) {
        fprintf(stderr, "%s: %zu bytes for %u frames of %u vertices\n", frames_path, bytes, count,
                vertex_count);
        return 1;
    }
    const float *vertices = (const float *)(frames + 2);

    VksplatContextDesc cd = {.s_type = VKSPLAT_STRUCT_CONTEXT_DESC, .s_size = sizeof cd};
    const char *validation = getenv("VKSPLAT_VALIDATION");
    const char *device = getenv("VKSPLAT_TEST_DEVICE");
    cd.device = device ? device : "auto";
    cd.validation = (uint32_t)(validation && strcmp(validation, "1") == 0);
    VksplatContext *ctx = NULL;
    MUST(vksplat_context_create(&cd, &ctx));
    MUST(vksplat_context_add_plugin_dir(ctx, plugin_dir));

    char mesh_value[4096];
    snprintf(mesh_value, sizeof mesh_value, "%s", rest);
    VksplatKeyValue params[] = {{"mesh", mesh_value}};
    VksplatPluginSceneDesc pd = {VKSPLAT_STRUCT_PLUGIN_SCENE_DESC, sizeof pd, NULL, "meshbound",
                                 binding, params, 1, VKSPLAT_EVAL_GPU};
    VksplatScene *scene = NULL;
    MUST(vksplat_scene_open_plugin(ctx, &pd, &scene));
    VksplatSceneInfo info = {.s_type = VKSPLAT_STRUCT_SCENE_INFO, .s_size = sizeof info};
    MUST(vksplat_scene_info(scene, &info));
    CHECK(info.is_plugin == 1 && info.eval == VKSPLAT_EVAL_GPU && info.count > 0, "scene info");

    VksplatCamera cam = {VKSPLAT_STRUCT_CAMERA, sizeof cam, NULL, size_px, size_px, focal, focal,
                         size_px / 2.0f, size_px / 2.0f,
                         {1, 0, 0, t[0], 0, 1, 0, t[1], 0, 0, 1, t[2], 0, 0, 0, 1},
                         VKSPLAT_PROJECTION_PERSPECTIVE, 0};
    float *pixels = malloc((size_t)size_px * size_px * 16);
    if (!pixels) return 1;
    for (uint32_t f = 0; f < count; f++) {
        const float *v = vertices + (size_t)f * vertex_count * 3;
        MUST(vksplat_scene_set_param(scene, "vertices", v, vertex_count * 3));
        MUST(render(ctx, scene, &cam, pixels));
        char name[64];
        snprintf(name, sizeof name, "frame_%u.f32", f);
        write_file(out, name, pixels, (size_t)size_px * size_px * 16);
        if (f == 0) {
            /* A stream of the wrong topology fails that frame, naming both counts ... */
            MUST(vksplat_scene_set_param(scene, "vertices", v, 6));
            VksplatResult r = render(ctx, scene, &cam, pixels);
            CHECK(r != VKSPLAT_OK, "a 2-vertex frame rendered");
            char want[64];
            snprintf(want, sizeof want, "the rest mesh has %u", vertex_count);
            CHECK(strstr(vksplat_last_error(), "2 vertices given") != NULL &&
                      strstr(vksplat_last_error(), want) != NULL,
                  "error %d names the counts", (int)r);
            /* ... and the next frame renders again (checked by the comparison of frame 1). */
        }
    }
    free(pixels);
    free(frames);
    vksplat_scene_destroy(scene);
    vksplat_context_destroy(ctx);
    if (failures) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    printf("all checks passed\n");
    return 0;
}
