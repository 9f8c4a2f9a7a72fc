/*
 * A host with its own copy of shaderc next to vksplat's static library, built and run by
 * tests/link_hygiene.rs:
 *
 *   own_shaderc PLUGIN_DIR
 *
 * It defines two shaderc entry points of its own (stand-ins for an engine's shaderc) and calls
 * them, then has vksplat compile the C triangle plugin's GLSL at run time with vksplat's own
 * shaderc and render it. Linking at all shows the archive exports no shaderc symbol; the
 * counters show that neither copy calls the other. Exit status 0 means every check passed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vksplat.h"

static int own_calls = 0;

void *shaderc_compiler_initialize(void) {
    own_calls++;
    return (void *)0x5eed;
}

void *shaderc_compile_into_spv(void) {
    own_calls++;
    return NULL;
}

#define W 48
#define H 36

static void must(VksplatResult r, const char *what) {
    if (r != VKSPLAT_OK) {
        fprintf(stderr, "own_shaderc.c: %s returned %d: %s\n", what, (int)r, vksplat_last_error());
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: own_shaderc PLUGIN_DIR\n");
        return 2;
    }
    if (shaderc_compiler_initialize() != (void *)0x5eed || shaderc_compile_into_spv() != NULL ||
        own_calls != 2) {
        fprintf(stderr, "the host's own shaderc is not the one it calls\n");
        return 1;
    }
    const char *validation = getenv("VKSPLAT_VALIDATION");
    const char *device = getenv("VKSPLAT_TEST_DEVICE");
    VksplatContextDesc cd = {.s_type = VKSPLAT_STRUCT_CONTEXT_DESC, .s_size = sizeof cd};
    cd.device = device ? device : "auto";
    cd.validation = (uint32_t)(validation && strcmp(validation, "1") == 0);
    VksplatContext *ctx = NULL;
    must(vksplat_context_create(&cd, &ctx), "vksplat_context_create");
    must(vksplat_context_add_plugin_dir(ctx, argv[1]), "vksplat_context_add_plugin_dir");
    /* The triangle plugin's shader is GLSL: opening it compiles it with vksplat's shaderc. */
    VksplatPluginSceneDesc pd = {VKSPLAT_STRUCT_PLUGIN_SCENE_DESC, sizeof pd, NULL, "triangle", NULL,
                                 NULL, 0, VKSPLAT_EVAL_GPU};
    VksplatScene *tri = NULL;
    must(vksplat_scene_open_plugin(ctx, &pd, &tri), "vksplat_scene_open_plugin");
    VksplatCamera cam = {VKSPLAT_STRUCT_CAMERA, sizeof cam, NULL, W, H, 40.0f, 40.0f, W / 2.0f, H / 2.0f,
                         {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1},
                         VKSPLAT_PROJECTION_PERSPECTIVE, 0};
    VksplatRenderDesc rd = {.s_type = VKSPLAT_STRUCT_RENDER_DESC, .s_size = sizeof rd};
    rd.camera = &cam;
    static float pixels[W * H * 4];
    VksplatImage img = {VKSPLAT_STRUCT_IMAGE, sizeof img, NULL, W, H, VKSPLAT_FORMAT_RGBA32F, 0, pixels, 0,
                        NULL, sizeof pixels, 0};
    must(vksplat_render(ctx, tri, &rd, &img), "vksplat_render");
    float coverage = 0.0f;
    for (int i = 0; i < W * H; i++) coverage += pixels[4 * i + 3];
    vksplat_scene_destroy(tri);
    vksplat_context_destroy(ctx);
    if (own_calls != 2) {
        fprintf(stderr, "vksplat called the host's shaderc (%d calls)\n", own_calls - 2);
        return 1;
    }
    if (!(coverage > 10.0f)) {
        fprintf(stderr, "the triangle plugin rendered nothing (alpha sum %g)\n", coverage);
        return 1;
    }
    printf("alpha sum %g\nall checks passed\n", coverage);
    return 0;
}
