/* SPDX-License-Identifier: MIT */
/*
 * The terminal UI's playback engine (ui-tui/playback.c) on a real
 * recording, for the integration tests: prints the wall time (UTC us) of
 * the frame the engine shows after each step of a script, one per line, so
 * that a test can hold it against the frames ffprobe lists in the files.
 *
 *   playback_probe STORAGE CAMERA seek:T_US ... step:N ...
 *
 * seek:T_US prints "seek T_US FRAME_US"; step:N steps N frames and prints
 * "step FRAME_US" after each, stopping at the end of the footage. Exits 0,
 * 1 on an engine error (named on stderr), 2 on usage. FFmpeg's own
 * messages (decode errors) go to stderr, which the test wants empty.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/catalog.h"
#include "ui-tui/playback.h"

static int run_step(struct playback *pb, long n)
{
    for (long i = 0; i < n; i++) {
        int r = playback_step(pb);

        if (r == -ENOENT)
            return 0;
        if (r < 0) {
            fprintf(stderr, "step %ld: error %d\n", i, r);
            return 1;
        }
        printf("step %" PRId64 "\n", playback_frame_time(pb));
    }
    return 0;
}

static int run(struct playback *pb, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int r;

        if (strncmp(a, "seek:", 5) == 0) {
            int64_t t = strtoll(a + 5, NULL, 10);

            r = playback_seek(pb, t);
            if (r < 0) {
                fprintf(stderr, "seek %" PRId64 ": error %d\n", t, r);
                return 1;
            }
            printf("seek %" PRId64 " %" PRId64 "\n", t,
                   playback_frame_time(pb));
        } else if (strncmp(a, "step:", 5) == 0) {
            r = run_step(pb, strtol(a + 5, NULL, 10));
            if (r != 0)
                return r;
        } else {
            fprintf(stderr, "playback_probe: unknown action '%s'\n", a);
            return 2;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct catalog *cat = NULL;
    struct playback *pb = NULL;
    char db[4096];
    int64_t cam;
    int rc = 1;

    if (argc < 3) {
        fprintf(stderr, "usage: playback_probe STORAGE CAMERA ACTION...\n");
        return 2;
    }
    snprintf(db, sizeof(db), "%s/catalog.db", argv[1]);
    if (catalog_open(db, CATALOG_READONLY, &cat) < 0) {
        fprintf(stderr, "playback_probe: cannot open %s\n", db);
        return 1;
    }
    if (catalog_camera_find(cat, argv[2], &cam) < 0) {
        fprintf(stderr, "playback_probe: no camera %s in %s\n", argv[2], db);
        goto out;
    }
    if (playback_new(cat, argv[1], cam, &pb) < 0) {
        fprintf(stderr, "playback_probe: playback_new failed\n");
        goto out;
    }
    rc = run(pb, argc - 3, argv + 3);
out:
    playback_free(pb);
    catalog_close(cat);
    return rc;
}
