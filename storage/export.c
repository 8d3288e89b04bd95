/* SPDX-License-Identifier: MIT */
/*
 * Evidential export (see export.h). The source segments of a camera
 * (fragmented MP4 or QuickTime files, listed by the catalog, CLOSED and
 * OPEN) are read with libavformat and their packets written unchanged into
 * one regular, faststart MP4 (or .mov): no decoding, no encoding.
 *
 * Timeline: media time 0 is the keyframe at or before the requested start
 * (the catalog's segments start at keyframes, so it is in the first
 * segment). Segments of one recording session follow each other exactly,
 * so their timestamps continue without a seam. Across a gap (the camera
 * was not recorded) the clip keeps the real time difference: the next
 * frame is placed at its true wall-clock offset from the clip's start, so a
 * player shows the gap as a jump of the clock (the last picture held), the
 * clip's duration is wall time, and the manifest lists each gap. A
 * mov_text subtitle track carries the wall-clock time, one cue per second
 * changing on the first frame of each new second, and during a gap one cue
 * saying that nothing was recorded from when to when.
 *
 * Sources are read through an AVIOContext that hashes every byte it
 * reads (on a helper thread, beside the muxer); after demuxing, the rest
 * of the file is hashed too, so a CLOSED segment whose bytes differ from
 * its catalog SHA-256 stops the export (-EBADMSG) rather than being cited
 * as genuine. An OPEN segment (still being written) is read only up to
 * its last complete fragment, and the manifest gives the SHA-256 of
 * exactly the bytes read. Every audio stream of the segments is remuxed
 * too, placed at its wall-clock offset like the video; the container is
 * MP4 or QuickTime as the output's extension says, and G.711 audio,
 * which MP4 cannot hold, needs .mov.
 *
 * Two passes, each byte of media read once: a dry pass reads only the
 * boxes of the sources (the media payload is skipped, served as zeros)
 * and muxes into no file, which gives the final front region of the clip
 * (ftyp, the index in the space reserved for it, the mdat header) before
 * any media is written. The real pass then writes the clip and hashes it
 * while writing: that front region first, then the media data in order
 * as they go to the file. The front region the real pass leaves must
 * equal the dry pass's byte for byte (it does: same boxes, same packets,
 * same muxer); if it ever did not, the clip is hashed from the file
 * instead. So the clip is never read back, and its SHA-256 is that of the
 * file's exact bytes. The dry pass costs a small read per fragment, free
 * when the sources are in the page cache (recent footage, usually) but a
 * seek each on a disk: when most of the sources are not in memory
 * (mincore), it is skipped, the sources are read once from the disk, and
 * the clip is hashed afterwards from the page cache it was just written
 * to.
 *
 * Every file of the export is written into a hidden staging folder beside
 * the outputs and synced, the clip included (a power cut after it is
 * published must not leave a clip of zeros under its name; this costs the
 * time to flush the clip, which a copy to a USB stick needs anyway before
 * the stick is pulled): the clip first, then its .sha256 sidecar, the
 * audit entry, and last the manifest, which carries the audit entry's
 * hash. Only then do they get their final names, the clip last
 * (export_publish.c): a clip under its name always has its sidecar and
 * manifest beside it, and a killed export leaves at most evidence files,
 * never a clip without them; the next export to the folder removes such
 * leftovers, saying so. What proves the copy handed over is `nvr verify`
 * on that copy. The manifest's own hash
 * (manifest_sha256) is the SHA-256 of the manifest file with its 64 hex digits
 * replaced by zeros.
 *
 * This file is the orchestration: request checks, the runs over one or
 * several clips, publishing the outputs (removed again on failure) and
 * the audit entries; export_int.h lists the others.
 */
#include "config.h"
#include "storage/export.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>

#include "nvr/base/clock.h"
#include "nvr/base/json.h"
#include "nvr/base/log.h"
#include "nvr/base/thread.h"
#include "storage/audit.h"
#include "storage/catalog.h"
#include "storage/export_int.h"
#include "storage/manifest.h"
#include "storage/sha256.h"

/* Most source segments one clip may draw on (a week of 60 s segments). */
#define EXPORT_MAX_SEGMENTS 20000
/* Progress is reported about this often (source bytes). */
#define EXPORT_PROGRESS_STEP ((int64_t)8 * 1024 * 1024)

int export_sha256_file(const char *path, char out[65])
{
    return nvr_sha256_file(path, out);
}

int export_manifest_hash(const char *text, size_t len, char computed[65],
                         char recorded[65])
{
    return manifest_hash(text, len, computed, recorded);
}

int export_manifest_path(const char *clip_path, char *out, size_t out_size)
{
    return manifest_path(clip_path, out, out_size);
}

void export__progress(struct export_job *job, int64_t add, bool force)
{
    job->done_bytes += add;
    if (!job->progress)
        return;
    if (force || job->done_bytes >= job->next_report) {
        if (job->progress(job->user, job->done_bytes, job->total_bytes) != 0)
            job->cancelled = true;
        job->next_report = job->done_bytes + EXPORT_PROGRESS_STEP;
    }
}

static int export_collect_seg(void *user, const struct catalog_segment *seg)
{
    struct exp_clip *c = user;

    if (c->n_segs >= EXPORT_MAX_SEGMENTS) {
        c->n_segs = -1;
        return 1;
    }
    if (c->n_segs == c->cap_segs) {
        int cap = c->cap_segs ? c->cap_segs * 2 : 64;
        struct exp_seg *p = realloc(c->segs, (size_t)cap * sizeof(*p));

        if (!p) {
            c->n_segs = -2;
            return 1;
        }
        c->segs = p;
        c->cap_segs = cap;
    }
    memset(&c->segs[c->n_segs], 0, sizeof(c->segs[0]));
    c->segs[c->n_segs].read_limit = -1;
    c->segs[c->n_segs++].cat = *seg;
    return 0;
}

/* The catalog's segments (OPEN and CLOSED) of c's camera and range.
 * Returns 0, -ENOENT (no such camera, or nothing in the range), -E2BIG,
 * -ENOMEM or a catalog error. */
static int export_collect(struct catalog *cat, struct exp_clip *c)
{
    const struct export_request *req = c->req;
    int64_t cam_id;
    int err;

    err = catalog_camera_find(cat, req->camera, &cam_id);
    if (err < 0)
        return err;
    err = catalog_segment_list(cat, cam_id, req->from_us, req->to_us,
                               (1u << CATALOG_SEG_OPEN) |
                                   (1u << CATALOG_SEG_CLOSED),
                               export_collect_seg, c);
    if (err == 0 && c->n_segs == -1)
        err = -E2BIG;
    else if (err == 0 && c->n_segs == -2)
        err = -ENOMEM;
    else if (err == 0 && c->n_segs == 0)
        err = -ENOENT;
    return err;
}

int export_probe(struct catalog *cat, const struct export_request *req,
                 struct export_probe *out)
{
    struct export_job job;
    struct exp_clip c;
    bool mov;
    const char *bad;
    int err;

    NVR_ASSERT_NOT_LOOP();
    if (!cat || !req || !out || !req->storage_dir || !req->camera ||
        req->from_us >= req->to_us)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    memset(&job, 0, sizeof(job));
    memset(&c, 0, sizeof(c));
    job.cat = cat;
    c.req = req;
    err = export_collect(cat, &c);
    if (err == 0)
        err = export_probe__clip(&job, &c, &mov, &bad);
    if (err == 0) {
        snprintf(out->extension, sizeof(out->extension), "%s",
                 mov ? ".mov" : ".mp4");
        snprintf(out->video_codec, sizeof(out->video_codec), "%s",
                 avcodec_get_name(c.vpar->codec_id));
        out->n_audio = c.n_audio;
        for (int k = 0; k < c.n_audio && k < EXPORT_MAX_AUDIO; k++)
            snprintf(out->audio_codec[k], sizeof(out->audio_codec[k]), "%s",
                     avcodec_get_name(c.audio[k].par->codec_id));
        if (bad)
            snprintf(out->not_mp4_codec, sizeof(out->not_mp4_codec), "%s", bad);
    }
    export_probe__free_streams(&c);
    free(c.segs);
    return err;
}

static const char *export_base_name(const char *path)
{
    const char *s = strrchr(path, '/');

    return s ? s + 1 : path;
}

int export_output_path(struct catalog *cat, const struct export_request *req,
                       const char *out, unsigned flags, const char *suffix,
                       char *path, size_t path_size, struct export_probe *probe)
{
    struct export_probe pr;
    const char *container = NULL;
    struct stat st;
    bool folder;
    int err, w;

    if (!req || !out || !out[0] || !path || path_size == 0)
        return -EINVAL;
    folder = (flags & EXPORT_OUT_FOLDER) ||
             (stat(out, &st) == 0 && S_ISDIR(st.st_mode));
    if (!folder) {
        /* A name with a stem, ending .mp4 or .mov. */
        container = export_probe__container(out);
        if (!container || strlen(export_base_name(out)) <= 4)
            return -EINVAL;
    }
    err = export_probe(cat, req, &pr);
    if (err < 0)
        return err;
    if (probe)
        *probe = pr;
    if (folder) {
        w = snprintf(path, path_size, "%s/%s%s%s", out, req->camera,
                     suffix ? suffix : "", pr.extension);
    } else {
        if (pr.not_mp4_codec[0] && strcmp(container, "mp4") == 0)
            return -EMEDIUMTYPE;
        w = snprintf(path, path_size, "%s", out);
    }
    return w < 0 || (size_t)w >= path_size ? -ENAMETOOLONG : 0;
}

/* The audit entry's detail: compact JSON naming the clip, into out. */
static int export_audit_detail(const struct exp_clip *c, char *out, size_t size)
{
    const struct export_result *r = c->res;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    struct json_out j;
    int err = 0;

    if (!f)
        return -ENOMEM;
    json_init(&j, f);
    json_obj_begin(&j, NULL);
    json_str(&j, "file", c->file);
    json_str(&j, "sha256", r->sha256);
    json_int(&j, "bytes", r->bytes);
    json_int(&j, "actual_from_us", r->actual_from_us);
    json_int(&j, "actual_to_us", r->actual_to_us);
    json_int(&j, "segments", r->n_segments);
    json_int(&j, "gaps", r->n_gaps);
    json_str(&j, "reason", c->req->reason ? c->req->reason : "");
    json_obj_end(&j);
    if (ferror(f))
        err = -ENOMEM;
    if (fclose(f) != 0)
        err = -ENOMEM;
    if (err == 0 && len >= size)
        err = -EMSGSIZE;
    if (err == 0)
        memcpy(out, text, len + 1);
    free(text);
    return err;
}

static int export_audit(struct export_job *job, struct exp_clip *c)
{
    struct audit_entry e;
    int err;

    memset(&e, 0, sizeof(e));
    snprintf(e.kind, sizeof(e.kind), "%s", AUDIT_EXPORT);
    snprintf(e.camera, sizeof(e.camera), "%s", c->req->camera);
    e.time_us = job->now_us;
    e.from_us = c->req->from_us;
    e.to_us = c->req->to_us;
    snprintf(e.user, sizeof(e.user), "%s", job->user_name);
    snprintf(e.host, sizeof(e.host), "%s", job->host);
    err = export_audit_detail(c, e.detail, sizeof(e.detail));
    if (err < 0)
        return err;
    err = audit_append(job->cat, &e);
    if (err < 0)
        return err;
    snprintf(c->res->audit_hash, sizeof(c->res->audit_hash), "%s", e.hash);
    c->res->audit_id = e.id;
    if (!job->user_name[0]) {
        snprintf(job->user_name, sizeof(job->user_name), "%s", e.user);
        snprintf(job->host, sizeof(job->host), "%s", e.host);
    }
    return 0;
}

/* Gaps at the edges of the requested range: before the first frame, and
 * after the last one (up to now, if the range reaches into the future). */
static void export_edge_gaps(struct export_job *job, struct exp_clip *c)
{
    const struct export_request *req = c->req;
    struct export_result *r = c->res;
    int64_t end = NVR_MIN(req->to_us, job->now_us);

    if (r->actual_from_us - req->from_us > EXPORT_GAP_MIN_US) {
        memmove(&c->gaps[1], &c->gaps[0],
                (size_t)c->n_gaps * sizeof(c->gaps[0]));
        c->gaps[0] = (struct exp_gap){req->from_us, r->actual_from_us, -1.0};
        c->n_gaps++;
    }
    if (end - r->actual_to_us > EXPORT_GAP_MIN_US) {
        c->gaps[c->n_gaps++] = (struct exp_gap){
            r->actual_to_us, end,
            (double)(r->actual_to_us - r->actual_from_us) / 1e6};
    }
}

static int export_check_request(const struct export_request *r)
{
    char path[PATH_MAX];

    if (!r->storage_dir || !r->camera || !r->camera[0] || !r->out_path ||
        !r->out_path[0] || r->from_us >= r->to_us)
        return -EINVAL;
    if (r->reason && strlen(r->reason) > EXPORT_MAX_REASON)
        return -EINVAL;
    if (strlen(export_base_name(r->out_path)) == 0 ||
        strlen(export_base_name(r->out_path)) >= 200)
        return -EINVAL;
    if (!export_probe__container(r->out_path)) {
        LOG_E("export", "%s: the output must be named .mp4 or .mov",
              r->out_path);
        return -EINVAL;
    }
    if (snprintf(path, sizeof(path), "%s.sha256", r->out_path) >=
        (int)sizeof(path))
        return -ENAMETOOLONG;
    return 0;
}

/* Every request is valid, no two share a name. */
static int export_check_all(const struct export_request *reqs, int n)
{
    for (int i = 0; i < n; i++) {
        int err = export_check_request(&reqs[i]);

        if (err < 0)
            return err;
        for (int k = 0; k < i; k++) {
            if (strcmp(reqs[k].out_path, reqs[i].out_path) == 0)
                return -EINVAL;
        }
    }
    return 0;
}

/* No output exists yet (checked again, atomically, when each is
 * published: link(2) never replaces a name). */
static int export_check_free(const struct export_request *reqs, int n,
                             const char *manifest_path)
{
    char path[PATH_MAX];

    if (access(manifest_path, F_OK) == 0)
        return -EEXIST;
    for (int i = 0; i < n; i++) {
        if (access(reqs[i].out_path, F_OK) == 0)
            return -EEXIST;
        snprintf(path, sizeof(path), "%s.sha256", reqs[i].out_path);
        if (access(path, F_OK) == 0)
            return -EEXIST;
    }
    return 0;
}

/* The sources of every clip, first, so progress knows the total. */
static int export_job_collect(struct export_job *job,
                              const struct export_request *reqs,
                              struct export_result *res)
{
    for (int i = 0; i < job->n; i++) {
        struct exp_clip *c = &job->clips[i];
        int err;

        c->res = &res[i];
        memset(c->res, 0, sizeof(*c->res));
        c->container = export_probe__container(reqs[i].out_path);
        err = export_collect(job->cat, c);
        if (err < 0)
            return err;
        for (int k = 0; k < c->n_segs; k++)
            job->total_bytes += c->segs[k].cat.bytes;
    }
    return 0;
}

/* Every clip's streams and container before writing anything, so a clip
 * that cannot be made fails before the others are written. */
static int export_job_probe(struct export_job *job)
{
    for (int i = 0; i < job->n; i++) {
        struct exp_clip *c = &job->clips[i];
        const char *bad = NULL;
        bool needs_mov = false;
        int err = export_probe__clip(job, c, &needs_mov, &bad);

        if (err == 0 && needs_mov && strcmp(c->container, "mp4") == 0) {
            LOG_E("export",
                  "camera %s records %s audio, which MP4 cannot hold: name "
                  "the output .mov (QuickTime) instead of %s",
                  c->req->camera, bad, c->file);
            err = -EMEDIUMTYPE;
        }
        if (err < 0)
            return err;
    }
    return 0;
}

/* Writes every clip and its sidecar, then the audit entries, then the
 * manifest. */
static int export_job_write(struct export_job *job, const char *manifest_path)
{
    int err;

    for (int i = 0; i < job->n; i++) {
        struct exp_clip *c = &job->clips[i];

        err = export_walk__clip(job, c);
        if (err < 0)
            return err;
        export_publish__step("clip");
        if (!c->clip_hashed) {
            err = nvr_sha256_file(c->stage_path, c->res->sha256);
            if (err < 0)
                return err;
        }
        for (int k = 0; k < c->n_segs; k++)
            c->res->n_segments += c->segs[k].used;
        export_edge_gaps(job, c);
        c->res->n_gaps = c->n_gaps;
        err = manifest__write_sidecar(c);
        if (err < 0)
            return err;
        export_publish__step("sidecar");
    }
    /* Recorded only once every clip is complete; the manifest then names
     * each entry. */
    for (int i = 0; i < job->n; i++) {
        err = export_audit(job, &job->clips[i]);
        if (err < 0)
            return err;
    }
    export_publish__step("audited");
    err = manifest__write(job, job->stage.manifest);
    if (err < 0)
        return err;
    export_publish__step("manifest");
    return export_publish__commit(job, manifest_path);
}

int export_run_many(struct catalog *cat, const struct export_request *reqs,
                    int n, const char *manifest_path,
                    export_progress_cb progress, void *user,
                    struct export_result *res)
{
    struct export_job job;
    int err;

    NVR_ASSERT_NOT_LOOP();
    if (!cat || !reqs || !res || !manifest_path || n < 1 ||
        n > EXPORT_MAX_CLIPS)
        return -EINVAL;
    err = export_check_all(reqs, n);
    if (err < 0)
        return err;
    memset(&job, 0, sizeof(job));
    job.cat = cat;
    job.n = n;
    job.progress = progress;
    job.user = user;
    job.now_us = nvr_clock_wall_us();
    job.stage.fd = -1;
    job.clips = calloc((size_t)n, sizeof(*job.clips));
    if (!job.clips)
        return -ENOMEM;
    for (int i = 0; i < n; i++) {
        job.clips[i].req = &reqs[i];
        snprintf(job.clips[i].file, sizeof(job.clips[i].file), "%s",
                 export_base_name(reqs[i].out_path));
    }
    /* The leftovers of an interrupted export first: they may hold the
     * very names this one is to publish. */
    err = export_publish__begin(&job, manifest_path);
    if (err < 0) {
        free(job.clips);
        return err;
    }
    err = export_check_free(reqs, n, manifest_path);
    if (err < 0) {
        export_publish__abort(&job);
        free(job.clips);
        return err;
    }
    err = export_hash__start(&job.hasher);
    if (err < 0) {
        export_publish__abort(&job);
        free(job.clips);
        return err;
    }
    err = export_job_collect(&job, reqs, res);
    if (err < 0)
        goto out;
    if (progress && progress(user, 0, job.total_bytes) != 0)
        err = -ECANCELED;
    if (err == 0)
        err = export_job_probe(&job);
    if (err == 0)
        err = export_job_write(&job, manifest_path);
    if (err < 0)
        goto out;
    for (int i = 0; i < n; i++)
        snprintf(res[i].manifest_path, sizeof(res[i].manifest_path), "%s",
                 manifest_path);
    if (progress) /* too late to cancel: the clip is complete */
        (void)progress(user, job.total_bytes, job.total_bytes);
out:
    if (err < 0)
        export_publish__abort(&job);
    for (int i = 0; i < n; i++) {
        free(job.clips[i].segs);
        free(job.clips[i].gaps);
        export_probe__free_streams(&job.clips[i]);
    }
    free(job.clips);
    export_hash__stop(&job.hasher);
    return err;
}

int export_run(struct catalog *cat, const struct export_request *req,
               export_progress_cb progress, void *user,
               struct export_result *res)
{
    char manifest[PATH_MAX];
    int err;

    if (!req || !req->out_path)
        return -EINVAL;
    err = export_manifest_path(req->out_path, manifest, sizeof(manifest));
    if (err < 0)
        return err;
    return export_run_many(cat, req, 1, manifest, progress, user, res);
}
