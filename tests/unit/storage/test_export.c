/* SPDX-License-Identifier: MIT */
/*
 * Tests of storage/export.c on footage made by the real writer from the
 * committed test clip (25 fps, a keyframe every second) with synthetic
 * timestamps: two sessions (0-10 s in 4 s segments, then 15-20 s) and an
 * export from 3.3 s to 17 s. Checks the keyframe start, the continuous
 * timeline within a session and the real-time jump across the gap, the
 * sidecar, the manifest and its self-hash, the audit entry, refusal to
 * overwrite, unknown cameras, and that a source segment changed on disk
 * stops the export with nothing left behind.
 */
#include "config.h"

#include <errno.h>
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

#include "clip.h"
#include "storage/audit.h"
#include "storage/catalog.h"
#include "storage/export.h"
#include "storage/writer.h"

#define T0_US 1767225600000000LL /* 2026-01-01T00:00:00Z */

struct fixture {
    char *dir;
    char storage[512], catalog[600], out[600];
    struct clip clip;
    struct catalog *cat;
};

static void feed(struct fixture *f, struct writer *w, int from, int to)
{
    for (int i = from; i < to; i++) {
        struct nvr_au *au = clip_au(&f->clip, i, (int64_t)i * CLIP_TICKS,
                                    T0_US + (int64_t)i * CLIP_US, 0);

        assert_int_equal(writer_push_au(w, au), 0);
    }
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct writer_config wc;
    struct nvr_stream_info info;
    struct writer *w = NULL;

    if (!f)
        return -1;
    f->dir = make_tmpdir();
    snprintf(f->storage, sizeof(f->storage), "%s/storage", f->dir);
    snprintf(f->catalog, sizeof(f->catalog), "%s/catalog.db", f->storage);
    snprintf(f->out, sizeof(f->out), "%s/clip.mp4", f->dir);
    clip_load(&f->clip);
    assert_int_equal(mkdir(f->storage, 0750), 0);
    assert_int_equal(catalog_open(f->catalog, CATALOG_READWRITE, &f->cat), 0);

    memset(&wc, 0, sizeof(wc));
    wc.storage_dir = f->storage;
    wc.catalog_path = f->catalog;
    wc.camera = "gate";
    wc.segment_seconds = 4;
    assert_int_equal(writer_new(&wc, &w), 0);
    memset(&info, 0, sizeof(info));
    info.n_tracks = 1;
    info.tracks[0] = f->clip.track;
    assert_int_equal(writer_push_stream(w, &info), 0);
    feed(f, w, 0, 250); /* 0 .. 10 s */
    assert_int_equal(writer_push_break(w, "connection lost: test"), 0);
    assert_int_equal(writer_push_stream(w, &info), 0);
    feed(f, w, 375, 500); /* 15 .. 20 s */
    writer_free(w);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    catalog_close(f->cat);
    clip_free(&f->clip);
    remove_tree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static struct export_request request(struct fixture *f)
{
    return (struct export_request){
        .storage_dir = f->storage,
        .camera = "gate",
        .from_us = T0_US + 3300000,
        .to_us = T0_US + 17000000,
        .out_path = f->out,
        .reason = "unit test \"quoted\"",
    };
}

static char *read_text(const char *path)
{
    FILE *fp = fopen(path, "rb");
    char *buf = calloc(1, 1 << 20);
    size_t n;

    assert_non_null(fp);
    assert_non_null(buf);
    n = fread(buf, 1, (1 << 20) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return buf;
}

static void test_export_range_with_gap(void **state)
{
    struct fixture *f = *state;
    struct export_request req = request(f);
    struct export_result res;
    struct probe p;
    char sha[65], side[700], line[200], computed[65], recorded[65];
    char *text, *man;
    int64_t bad = -1;

    assert_int_equal(export_run(f->cat, &req, NULL, NULL, &res), 0);
    /* The keyframe at or before 3.3 s is the one at 3 s. */
    assert_int_equal(res.actual_from_us, T0_US + 3000000);
    assert_int_equal(res.actual_to_us, T0_US + 17000000);
    /* 3 .. 10 s and 15 .. 17 s. */
    assert_int_equal(res.frames, 7 * 25 + 2 * 25);
    assert_int_equal(res.n_segments, 4); /* 0-4, 4-8, 8-10, 15-19 s */
    assert_int_equal(res.n_gaps, 1);
    assert_string_equal(res.codec, "h264");

    probe_file(f->out, &p);
    assert_true(p.ok);
    assert_true(p.first_key);
    assert_int_equal(p.frames, res.frames);
    /* The gap keeps its real length: 14 s of wall time. */
    assert_true(p.duration_us > 13900000 && p.duration_us < 14100000);
    assert_int_equal(decode_file(f->out), (int)res.frames);

    assert_int_equal(sha256_file(f->out, sha), 0);
    assert_string_equal(sha, res.sha256);
    assert_int_equal(export_sha256_file(f->out, sha), 0);
    assert_string_equal(sha, res.sha256);
    assert_int_equal(file_size(f->out), res.bytes);
    snprintf(side, sizeof(side), "%s.sha256", f->out);
    text = read_text(side);
    snprintf(line, sizeof(line), "%s  clip.mp4\n", res.sha256);
    assert_string_equal(text, line);
    free(text);

    assert_non_null(strstr(res.manifest_path, "clip.manifest.json"));
    man = read_text(res.manifest_path);
    assert_int_equal(export_manifest_hash(man, strlen(man), computed, recorded),
                     0);
    assert_string_equal(computed, recorded);
    assert_non_null(strstr(man, res.sha256));
    assert_non_null(strstr(man, res.audit_hash));
    assert_non_null(strstr(man, "unit test \\\"quoted\\\""));
    assert_non_null(strstr(man, "\"requested_from_us\": 1767225603300000"));
    assert_non_null(strstr(man, "\"start_us\": 1767225610000000"));
    assert_non_null(strstr(man, "\"end_us\": 1767225615000000"));
    /* A changed byte breaks the self-hash. */
    man[strlen(man) / 2] ^= 1;
    assert_int_equal(export_manifest_hash(man, strlen(man), computed, recorded),
                     0);
    assert_string_not_equal(computed, recorded);
    free(man);

    assert_int_equal(res.audit_id, 1);
    assert_int_equal(strlen(res.audit_hash), 64);
    assert_int_equal(audit_verify(f->cat, &bad, NULL, 0), 0);

    /* Never overwritten. */
    assert_int_equal(export_run(f->cat, &req, NULL, NULL, &res), -EEXIST);
}

static void test_export_unknown_camera(void **state)
{
    struct fixture *f = *state;
    struct export_request req = request(f);
    struct export_result res;

    req.camera = "nobody";
    assert_int_equal(export_run(f->cat, &req, NULL, NULL, &res), -ENOENT);
    req = request(f);
    req.from_us = T0_US + 11000000;
    req.to_us = T0_US + 14000000;
    assert_int_equal(export_run(f->cat, &req, NULL, NULL, &res), -ENOENT);
    assert_int_equal(access(f->out, F_OK), -1);
    req.to_us = req.from_us;
    assert_int_equal(export_run(f->cat, &req, NULL, NULL, &res), -EINVAL);
}

static int rows_cb(void *user, const struct catalog_segment *seg)
{
    snprintf(user, 256, "%s", seg->path);
    return 1;
}

static void test_export_refuses_altered_source(void **state)
{
    struct fixture *f = *state;
    struct export_request req = request(f);
    struct export_result res;
    char rel[256] = "", path[1024], side[700];
    int64_t cam;
    FILE *fp;

    assert_int_equal(catalog_camera_find(f->cat, "gate", &cam), 0);
    assert_int_equal(catalog_segment_list(f->cat, cam, T0_US + 5000000,
                                          T0_US + 6000000, 0, rows_cb, rel),
                     0);
    snprintf(path, sizeof(path), "%s/%s", f->storage, rel);
    fp = fopen(path, "ab");
    assert_non_null(fp);
    fputc('x', fp);
    fclose(fp);
    assert_int_equal(export_run(f->cat, &req, NULL, NULL, &res), -EBADMSG);
    assert_int_equal(access(f->out, F_OK), -1);
    snprintf(side, sizeof(side), "%s.sha256", f->out);
    assert_int_equal(access(side, F_OK), -1);
    snprintf(side, sizeof(side), "%s.partial", f->out);
    assert_int_equal(access(side, F_OK), -1);
}

struct last_row {
    int64_t id;
    char path[256];
    int64_t bytes;
};

static int last_cb(void *user, const struct catalog_segment *seg)
{
    struct last_row *r = user;

    if (seg->start_us != T0_US + 15000000)
        return 0;
    r->id = seg->id;
    r->bytes = seg->bytes;
    snprintf(r->path, sizeof(r->path), "%s", seg->path);
    return 0;
}

/* A segment still being written (OPEN, its last fragment incomplete) is
 * read up to its last complete fragment. */
static void test_export_open_segment(void **state)
{
    struct fixture *f = *state;
    struct export_request req = request(f);
    struct export_result res;
    struct last_row last = {-1, "", 0};
    char path[1024], *man;
    int64_t cam;

    assert_int_equal(catalog_camera_find(f->cat, "gate", &cam), 0);
    assert_int_equal(
        catalog_segment_list(f->cat, cam, 0, INT64_MAX, 0, last_cb, &last), 0);
    assert_int_equal(
        catalog_segment_set_status(f->cat, last.id, CATALOG_SEG_OPEN), 0);
    snprintf(path, sizeof(path), "%s/%s", f->storage, last.path);
    assert_int_equal(truncate(path, last.bytes - 3000), 0);
    req.from_us = T0_US + 16000000;
    req.to_us = T0_US + 30000000;
    assert_int_equal(export_run(f->cat, &req, NULL, NULL, &res), 0);
    assert_int_equal(res.actual_from_us, T0_US + 16000000);
    /* Of the open 15-19 s segment only the complete GOPs 16-18 s (its last
     * fragment is torn), then the closed 19-20 s one: a 1 s gap between,
     * and one after the footage ends at 20 s. */
    assert_int_equal(res.frames, 3 * 25);
    assert_int_equal(res.n_segments, 2);
    assert_int_equal(res.n_gaps, 2);
    man = read_text(res.manifest_path);
    assert_non_null(strstr(man, "\"status\": \"open\""));
    free(man);
}

struct prog {
    int calls;
    int64_t last, total;
};

static void prog_cb(void *user, int64_t done, int64_t total)
{
    struct prog *p = user;

    p->calls++;
    assert_true(done >= p->last);
    p->last = done;
    p->total = total;
}

static void test_export_many_one_manifest(void **state)
{
    struct fixture *f = *state;
    struct export_request reqs[2] = {request(f), request(f)};
    struct export_result res[2];
    char out2[700], manifest[700], *man;
    struct prog p = {0};

    snprintf(out2, sizeof(out2), "%s/second.mp4", f->dir);
    snprintf(manifest, sizeof(manifest), "%s/manifest.json", f->dir);
    reqs[1].out_path = out2;
    reqs[1].from_us = T0_US + 16000000;
    assert_int_equal(
        export_run_many(f->cat, reqs, 2, manifest, prog_cb, &p, res), 0);
    assert_true(p.calls >= 2);
    assert_int_equal(p.last, p.total);
    assert_int_equal(res[1].actual_from_us, T0_US + 16000000);
    assert_int_equal(res[1].n_gaps, 0);
    assert_int_equal(res[1].audit_id, 2);
    man = read_text(manifest);
    assert_non_null(strstr(man, "\"file\": \"clip.mp4\""));
    assert_non_null(strstr(man, "\"file\": \"second.mp4\""));
    assert_non_null(strstr(man, res[1].sha256));
    free(man);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_export_range_with_gap, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_export_unknown_camera, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_export_refuses_altered_source,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_many_one_manifest, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_export_open_segment, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
