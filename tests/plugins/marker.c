/*
 * Linked into a valid test plugin (with bad_plugin.c, PLUGIN_NAME "marker") to prove when the
 * host loads a library: loading runs this constructor before vksplat can check anything, and
 * it appends a line to the file named by VKSPLAT_TEST_LOAD_MARKER (if set). The trust tests
 * assert the file stays absent whenever the host refuses a plugin.
 */
#include <stdio.h>
#include <stdlib.h>

__attribute__((constructor)) static void vksplat_test_mark_loaded(void) {
    const char *path = getenv("VKSPLAT_TEST_LOAD_MARKER");
    if (!path || !*path) return;
    FILE *f = fopen(path, "a");
    if (f) {
        fputs("loaded\n", f);
        fclose(f);
    }
}
