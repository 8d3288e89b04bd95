/* SPDX-License-Identifier: MIT */
/*
 * Tests of storage/recovery.c: a crash is simulated on real segments (a
 * row left OPEN, its file cut at an arbitrary byte), then recovery must
 * finish the row from the complete fragments, mark rows of deleted files
 * MISSING, index unknown files and leave unreadable ones in place.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "avclip.h"
#include "clip.h"
#include "storage/catalog.h"
#include "storage/recovery.h"
#include "storage/segment.h"
#include "storage/writer.h"

#define BASE_WALL_US INT64_C(1700000000000000) /* 2023-11-14T22:13:20Z */
#define MAX_ROWS     16

struct fixture {
    struct clip clip;
    char *dir;
    char db[512];
    struct catalog_segment rows[MAX_ROWS];
    int n_rows;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    clip_load(&f->clip);
    f->dir = make_tmpdir();
    snprintf(f->db, sizeof(f->db), "%s/catalog.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    remove_tree(f->dir);
    free(f->dir);
    clip_free(&f->clip);
    free(f);
    return 0;
}

/* Records `n` units of camera `camera` with the writer: one segment per
 * 100 s, so every call makes exactly one segment starting at wall_us. */
static void record(struct fixture *f, const char *camera, int64_t wall_us,
                   int n)
{
    struct writer_config cfg = {.storage_dir = f->dir,
                                .catalog_path = f->db,
                                .camera = camera,
                                .segment_seconds = 100};
    struct nvr_stream_info info;
    struct writer *w;

    memset(&info, 0, sizeof(info));
    info.n_tracks = 1;
    info.tracks[0] = f->clip.track;
    assert_int_equal(writer_new(&cfg, &w), 0);
    assert_int_equal(writer_push_stream(w, &info), 0);
    for (int i = 0; i < n; i++)
        assert_int_equal(
            writer_push_au(w, clip_au(&f->clip, i, (int64_t)i * CLIP_TICKS,
                                      wall_us + (int64_t)i * CLIP_US, 0)),
            0);
    writer_free(w);
}

/* record() with an H.265 video track and a G.711 A-law track (a .mov
 * segment): 20 ms audio units interleaved with the frames. */
static void record_av(struct fixture *f, const char *camera, int64_t wall_us,
                      int n)
{
    struct writer_config cfg = {.storage_dir = f->dir,
                                .catalog_path = f->db,
                                .camera = camera,
                                .segment_seconds = 100};
    struct nvr_stream_info info;
    struct writer *w;
    struct clip hevc;

    clip_load_codec(&hevc, NVR_CODEC_H265);
    memset(&info, 0, sizeof(info));
    info.n_tracks = 2;
    info.tracks[0] = hevc.track;
    info.tracks[1] = g711_track(NVR_CODEC_PCMA);
    assert_int_equal(writer_new(&cfg, &w), 0);
    assert_int_equal(writer_push_stream(w, &info), 0);
    for (int i = 0; i < n; i++) {
        int64_t wall = wall_us + (int64_t)i * CLIP_US;

        assert_int_equal(
            writer_push_au(w,
                           clip_au(&hevc, i, (int64_t)i * CLIP_TICKS, wall, 0)),
            0);
        for (int k = 0; k < 2; k++)
            assert_int_equal(
                writer_push_au(
                    w, g711_au(160, 1, (2 * i + k) * 160, wall + k * 20000)),
                0);
    }
    writer_free(w);
    clip_free(&hevc);
}

static int collect(void *user, const struct catalog_segment *seg)
{
    struct fixture *f = user;

    assert_true(f->n_rows < MAX_ROWS);
    f->rows[f->n_rows++] = *seg;
    return 0;
}

static void load_rows(struct fixture *f)
{
    struct catalog *cat;

    f->n_rows = 0;
    assert_int_equal(catalog_open(f->db, CATALOG_READONLY, &cat), 0);
    assert_int_equal(
        catalog_segment_list(cat, 0, INT64_MIN, INT64_MAX, 0, collect, f), 0);
    catalog_close(cat);
}

static const struct catalog_segment *row_by_start(struct fixture *f,
                                                  int64_t start_us)
{
    for (int i = 0; i < f->n_rows; i++)
        if (f->rows[i].start_us == start_us)
            return &f->rows[i];
    fail_msg("no row starting at %lld", (long long)start_us);
    return NULL;
}

static void set_status(struct fixture *f, int64_t id, int status)
{
    struct catalog *cat;

    assert_int_equal(catalog_open(f->db, CATALOG_READWRITE, &cat), 0);
    assert_int_equal(catalog_segment_set_status(cat, id, status), 0);
    catalog_close(cat);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

/* Offset of the n-th (0-based) top-level box of type `type`, or -1. */
static int64_t box_offset(const char *path, const char *type, int nth)
{
    uint8_t h[8];
    int64_t off = 0;
    int fd = open(path, O_RDONLY);

    assert_true(fd >= 0);
    while (pread(fd, h, 8, off) == 8) {
        if (memcmp(h + 4, type, 4) == 0 && nth-- == 0)
            break;
        assert_true(be32(h) >= 8);
        off += be32(h);
    }
    close(fd);
    return nth < 0 ? off : -1;
}

/* Samples of track 1 (video) in the fragments that start before `end`:
 * the sample_count of the trun in each traf whose tfhd names track 1. */
static int video_samples_before(const char *path, int64_t end)
{
    uint8_t h[16];
    int64_t off = 0;
    int n = 0;
    int fd = open(path, O_RDONLY);

    assert_true(fd >= 0);
    while (off < end && pread(fd, h, 8, off) == 8) {
        uint32_t size = be32(h);

        assert_true(size >= 8);
        if (memcmp(h + 4, "moof", 4) == 0) {
            int64_t traf = off + 8 + 16; /* past moof's header and mfhd */

            while (traf < off + size) {
                int64_t box = traf + 8;
                uint32_t traf_size;
                bool video = false;

                assert_int_equal(pread(fd, h, 4, traf), 4);
                traf_size = be32(h);
                assert_true(traf_size >= 8);
                while (box < traf + traf_size) {
                    assert_int_equal(pread(fd, h, 16, box), 16);
                    if (memcmp(h + 4, "tfhd", 4) == 0)
                        video = be32(h + 12) == 1;
                    else if (memcmp(h + 4, "trun", 4) == 0 && video)
                        n += (int)be32(h + 12);
                    assert_true(be32(h) >= 8);
                    box += be32(h);
                }
                traf += traf_size;
            }
        }
        off += size;
    }
    close(fd);
    return n;
}

static void test_recovery_finishes_torn_segment(void **state)
{
    struct fixture *f = *state;
    struct recovery_report rep;
    const struct catalog_segment *row;
    char path[1024], sha[65];
    int64_t cut, keep;

    /* 4 GOPs in one segment, then a "crash" inside the third fragment:
     * its moof is complete, its mdat is not. */
    record(f, "gate", BASE_WALL_US, 4 * CLIP_FPS);
    load_rows(f);
    assert_int_equal(f->n_rows, 1);
    snprintf(path, sizeof(path), "%s/%s", f->dir, f->rows[0].path);
    cut = box_offset(path, "mdat", 2);
    assert_true(cut > 0);
    cut += 100;
    keep = box_offset(path, "moof", 2);
    assert_true(keep > 0 && keep < cut);
    assert_int_equal(truncate(path, cut), 0);
    set_status(f, f->rows[0].id, CATALOG_SEG_OPEN);

    assert_int_equal(recovery_run(f->dir, f->db, &rep), 0);
    assert_int_equal(rep.finished, 1);
    assert_int_equal(rep.missing, 0);
    assert_int_equal(rep.indexed, 0);
    assert_int_equal(rep.unreadable, 0);

    load_rows(f);
    assert_int_equal(f->n_rows, 1);
    row = &f->rows[0];
    assert_int_equal(row->status, CATALOG_SEG_CLOSED);
    assert_int_equal(row->frames, 2 * CLIP_FPS);
    assert_int_equal(row->start_us, BASE_WALL_US);
    assert_int_equal(row->end_us, BASE_WALL_US + 2000000);
    /* The torn fragment was cut off, and the row describes what is left:
     * the file up to the third fragment's moof. */
    assert_int_equal(rep.repaired, 1);
    assert_int_equal(file_size(path), keep);
    assert_int_equal(row->bytes, keep);
    assert_int_equal(sha256_file(path, sha), 0);
    assert_string_equal(row->sha256, sha);

    /* A second run has nothing left to do. */
    assert_int_equal(recovery_run(f->dir, f->db, &rep), 0);
    assert_int_equal(rep.finished + rep.missing + rep.indexed, 0);
}

static void test_recovery_cut_inside_moof(void **state)
{
    struct fixture *f = *state;
    struct recovery_report rep;
    char path[1024];
    int64_t cut;

    record(f, "gate", BASE_WALL_US, 3 * CLIP_FPS);
    load_rows(f);
    snprintf(path, sizeof(path), "%s/%s", f->dir, f->rows[0].path);
    cut = box_offset(path, "moof", 1);
    assert_true(cut > 0);
    assert_int_equal(truncate(path, cut + 10), 0);
    set_status(f, f->rows[0].id, CATALOG_SEG_OPEN);

    assert_int_equal(recovery_run(f->dir, f->db, &rep), 0);
    assert_int_equal(rep.finished, 1);
    load_rows(f);
    assert_int_equal(f->rows[0].status, CATALOG_SEG_CLOSED);
    assert_int_equal(f->rows[0].frames, CLIP_FPS);
    assert_int_equal(f->rows[0].end_us - f->rows[0].start_us, 1000000);
}

static void test_recovery_missing_unknown_and_garbage(void **state)
{
    struct fixture *f = *state;
    struct recovery_report rep;
    const struct catalog_segment *row;
    struct segment *seg;
    struct segment_result res;
    char path[2048], dir[512], garbage[2048];
    uint8_t junk[4096];
    FILE *fp;

    /* A finished segment, and one whose file was deleted while OPEN. */
    record(f, "gate", BASE_WALL_US, CLIP_FPS);
    record(f, "gate", BASE_WALL_US + 10000000, CLIP_FPS);
    load_rows(f);
    assert_int_equal(f->n_rows, 2);
    row = row_by_start(f, BASE_WALL_US + 10000000);
    snprintf(path, sizeof(path), "%s/%s", f->dir, row->path);
    assert_int_equal(unlink(path), 0);
    set_status(f, row->id, CATALOG_SEG_OPEN);

    /* A segment file the catalog never heard of, from another camera. */
    snprintf(dir, sizeof(dir), "%s/yard", f->dir);
    assert_int_equal(mkdir(dir, 0750), 0);
    snprintf(dir, sizeof(dir), "%s/yard/2023-11-14", f->dir);
    assert_int_equal(mkdir(dir, 0750), 0);
    snprintf(path, sizeof(path), "%s/yard-20231114T221330.250000Z.mp4", dir);
    assert_int_equal(segment_open(path, &f->clip.track, 0, &seg), 0);
    for (int i = 0; i < 30; i++) {
        struct nvr_au *au = clip_au(&f->clip, i, (int64_t)i * CLIP_TICKS, 0, 0);
        assert_int_equal(segment_write(seg, au), 0);
        nvr_au_unref(au);
    }
    assert_int_equal(segment_close(seg, SEGMENT_NO_PTS, &res), 0);

    /* And garbage with the right extension. */
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 7919 + 13);
    snprintf(garbage, sizeof(garbage), "%s/junk.mp4", dir);
    fp = fopen(garbage, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(junk, 1, sizeof(junk), fp), sizeof(junk));
    fclose(fp);

    assert_int_equal(recovery_run(f->dir, f->db, &rep), 0);
    assert_int_equal(rep.finished, 0);
    assert_int_equal(rep.missing, 1);
    assert_int_equal(rep.indexed, 1);
    assert_int_equal(rep.unreadable, 1);
    assert_int_equal(rep.moved, 1);
    /* Moved aside to lost+found, never deleted. */
    assert_int_equal(file_size(garbage), -1);
    snprintf(garbage, sizeof(garbage), "%s/lost+found/yard/2023-11-14/junk.mp4",
             f->dir);
    assert_int_equal(file_size(garbage), (int64_t)sizeof(junk));

    load_rows(f);
    assert_int_equal(f->n_rows, 3);
    assert_int_equal(row_by_start(f, BASE_WALL_US)->status, CATALOG_SEG_CLOSED);
    assert_int_equal(row_by_start(f, BASE_WALL_US + 10000000)->status,
                     CATALOG_SEG_MISSING);
    row = row_by_start(f, BASE_WALL_US + 10250000);
    assert_int_equal(row->status, CATALOG_SEG_CLOSED);
    assert_string_equal(row->path,
                        "yard/2023-11-14/yard-20231114T221330.250000Z.mp4");
    assert_int_equal(row->frames, 30);
    assert_int_equal(row->end_us - row->start_us, res.duration_us);
    assert_string_equal(row->sha256, res.sha256);
    assert_int_equal(row->bytes, res.bytes);
    assert_string_equal(row->codec, "h264");
    assert_int_equal(row->width, 160);

    /* Known files are not indexed twice; lost+found is not scanned. */
    assert_int_equal(recovery_run(f->dir, f->db, &rep), 0);
    assert_int_equal(rep.indexed, 0);
    assert_int_equal(rep.unreadable, 0);
    assert_int_equal(rep.missing, 0);
}

static void test_recovery_two_tracks_torn(void **state)
{
    struct fixture *f = *state;
    struct recovery_report rep;
    const struct catalog_segment *row;
    struct av_probe p;
    char path[1024], sha[65];
    int64_t cut, keep;
    int kept_frames;

    /* A video + audio QuickTime segment of 4 GOPs, cut inside the third
     * fragment's mdat: only complete fragments are kept, and the frames
     * and duration are the video track's. Where the writer cut fragments
     * depends on when its thread ran, so the frames kept are counted in
     * the file. */
    record_av(f, "gate", BASE_WALL_US, 4 * CLIP_FPS);
    load_rows(f);
    assert_int_equal(f->n_rows, 1);
    snprintf(path, sizeof(path), "%s/%s", f->dir, f->rows[0].path);
    assert_non_null(strstr(path, ".mov"));
    assert_int_equal(f->rows[0].frames, 4 * CLIP_FPS);
    assert_int_equal(video_samples_before(path, INT64_MAX), 4 * CLIP_FPS);
    cut = box_offset(path, "mdat", 2);
    assert_true(cut > 0);
    cut += 9; /* past the mdat header and one byte of it */
    keep = box_offset(path, "moof", 2);
    assert_true(keep > 0 && keep < cut);
    kept_frames = video_samples_before(path, keep);
    assert_true(kept_frames > 0 && kept_frames < 4 * CLIP_FPS);
    assert_int_equal(truncate(path, cut), 0);
    set_status(f, f->rows[0].id, CATALOG_SEG_OPEN);

    assert_int_equal(recovery_run(f->dir, f->db, &rep), 0);
    assert_int_equal(rep.finished, 1);
    assert_int_equal(rep.repaired, 1);
    assert_int_equal(rep.unreadable + rep.missing + rep.indexed, 0);

    load_rows(f);
    assert_int_equal(f->n_rows, 1);
    row = &f->rows[0];
    assert_int_equal(row->status, CATALOG_SEG_CLOSED);
    assert_int_equal(row->frames, kept_frames);
    assert_int_equal(row->end_us,
                     BASE_WALL_US + (int64_t)kept_frames * CLIP_US);
    assert_string_equal(row->codec, "h265");
    assert_int_equal(file_size(path), keep);
    assert_int_equal(row->bytes, keep);
    assert_int_equal(sha256_file(path, sha), 0);
    assert_string_equal(row->sha256, sha);

    /* What is left still plays, with its sound. */
    av_probe_file(path, &p);
    assert_true(p.ok);
    assert_int_equal(p.video.packets, kept_frames);
    assert_int_equal(p.video.decoded, kept_frames);
    assert_string_equal(p.audio.codec, "pcm_alaw");
    /* The audio of the frames kept (two units each); the video unit is
     * muxed one late, so the audio that came with the next frame may
     * join the fragment. */
    assert_true(p.audio.packets >= 2 * kept_frames &&
                p.audio.packets <= 2 * kept_frames + 2);
    assert_true(p.audio.monotonic && p.video.monotonic);
}

static void test_recovery_indexes_mov(void **state)
{
    struct fixture *f = *state;
    struct recovery_report rep;
    const struct catalog_segment *row;
    char path[1024], moved[1024];

    /* The row is lost (as if the crash came before the catalog had it):
     * the .mov file is indexed from what it holds. */
    record_av(f, "gate", BASE_WALL_US, 2 * CLIP_FPS + 10);
    load_rows(f);
    assert_int_equal(f->n_rows, 1);
    snprintf(path, sizeof(path), "%s/%s", f->dir, f->rows[0].path);
    snprintf(moved, sizeof(moved),
             "%s/gate/2023-11-14/gate-20231114T221330."
             "000000Z.mov",
             f->dir);
    assert_int_equal(rename(path, moved), 0);

    assert_int_equal(recovery_run(f->dir, f->db, &rep), 0);
    assert_int_equal(rep.indexed, 1);
    assert_int_equal(rep.missing, 1);
    assert_int_equal(rep.unreadable, 0);
    load_rows(f);
    row = row_by_start(f, BASE_WALL_US + 10000000);
    assert_int_equal(row->status, CATALOG_SEG_CLOSED);
    assert_int_equal(row->frames, 2 * CLIP_FPS + 10);
    assert_int_equal(row->end_us - row->start_us,
                     (2 * CLIP_FPS + 10) * CLIP_US);
    assert_string_equal(row->codec, "h265");
}

static void test_recovery_empty_storage(void **state)
{
    struct fixture *f = *state;
    struct recovery_report rep;

    memset(&rep, 0xff, sizeof(rep));
    assert_int_equal(recovery_run(f->dir, f->db, &rep), 0);
    assert_int_equal(rep.finished + rep.missing + rep.indexed + rep.unreadable,
                     0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_recovery_finishes_torn_segment,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery_cut_inside_moof, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_recovery_missing_unknown_and_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery_two_tracks_torn, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_recovery_indexes_mov, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_recovery_empty_storage, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
