/* SPDX-License-Identifier: MIT */
/*
 * What the terminal UI writes, always through storage's own functions on a
 * second, read-write catalog connection opened when first needed: the
 * audit entry of each playback session (when it ends: camera change, mode
 * change, quit), exports of the marked range and legal holds on it. Each
 * action ends with a confirmation line naming what was done.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curses.h>

#include "nvr/base/err.h"
#include "nvr/base/timefmt.h"
#include "storage/audit.h"
#include "storage/export.h"
#include "storage/holds.h"
#include "ui-tui/tui_int.h"

int tui__open_writer(struct tui *t)
{
    int r;

    if (t->wcat)
        return 0;
    r = catalog_open(t->catalog_path, CATALOG_READWRITE, &t->wcat);
    if (r < 0)
        tui__message(t, "cannot open the catalog for writing: %s",
                     nvr_strerror(r));
    return r;
}

void tui__session_note(struct tui *t, struct tui_tile *tile)
{
    int64_t ft = tile->pb ? playback_frame_time(tile->pb) : 0;

    if (ft <= 0)
        return;
    if (tile->sess_frames == 0) {
        tile->sess_from = tile->sess_to = ft;
        tile->sess_live = t->live;
    }
    if (ft < tile->sess_from)
        tile->sess_from = ft;
    if (ft > tile->sess_to)
        tile->sess_to = ft;
    tile->sess_frames++;
}

void tui__session_end(struct tui *t, struct tui_tile *tile)
{
    struct audit_entry e;
    int r;

    if (tile->sess_frames == 0)
        return;
    memset(&e, 0, sizeof(e));
    snprintf(e.kind, sizeof(e.kind), "%s", AUDIT_PLAYBACK);
    snprintf(e.camera, sizeof(e.camera), "%s", t->cams[tile->cam].name);
    e.from_us = tile->sess_from;
    e.to_us =
        tile->sess_to > tile->sess_from ? tile->sess_to : tile->sess_from + 1;
    snprintf(e.detail, sizeof(e.detail),
             "{\"ui\":\"tui\",\"mode\":\"%s\",\"frames_shown\":%lld}",
             tile->sess_live ? "live" : "playback",
             (long long)tile->sess_frames);
    tile->sess_frames = 0;
    if (tui__open_writer(t) < 0)
        return;
    r = audit_append(t->wcat, &e);
    if (r < 0)
        tui__message(t, "audit log: %s", nvr_strerror(r));
}

static int export_progress(void *user, int64_t done, int64_t total)
{
    struct tui *t = user;
    char buf[128];

    snprintf(buf, sizeof(buf), "exporting... %lld%%",
             total > 0 ? (long long)(done * 100 / total) : 0LL);
    mvhline(t->lay.keys_y, 0, ' ', t->lay.cols);
    mvaddnstr(t->lay.keys_y, 0, buf, t->lay.cols);
    refresh();
    return 0;
}

void tui__export(struct tui *t, const char *reason)
{
    struct export_request req;
    struct export_result res;
    struct export_probe probe;
    char out[PATH_MAX], stamp[32];
    const char *cam = t->cams[t->sel].name;
    int r;

    if (!reason[0]) {
        tui__message(t, "export cancelled: a reason is required");
        return;
    }
    if (tui__open_writer(t) < 0)
        return;
    nvr_time_format_local_strf(t->mark_in, "%Y%m%d-%H%M%S", stamp,
                               sizeof(stamp));
    memset(&req, 0, sizeof(req));
    memset(&res, 0, sizeof(res));
    req.storage_dir = t->opts->storage_dir;
    req.camera = cam;
    req.from_us = t->mark_in;
    req.to_us = t->mark_out;
    req.out_path = out;
    req.reason = reason;
    /* .mp4, or .mov when the audio is G.711 (MP4 cannot hold it). */
    if (export_probe(t->wcat, &req, &probe) < 0)
        snprintf(probe.extension, sizeof(probe.extension), ".mp4");
    snprintf(out, sizeof(out), "%s/%s-%s%s",
             t->opts->export_dir ? t->opts->export_dir : ".", cam, stamp,
             probe.extension);
    (void)export_progress(t, 0, 1);
    r = export_run(t->wcat, &req, export_progress, t, &res);
    if (r < 0) {
        tui__message(t, "export failed: %s", nvr_strerror(r));
        return;
    }
    tui__message(t, "exported %lld frames (%d gap%s) to %s sha256 %.12s",
                 (long long)res.frames, res.n_gaps, res.n_gaps == 1 ? "" : "s",
                 out, res.sha256);
}

void tui__hold(struct tui *t, const char *reason)
{
    struct hold h;
    char a[32], b[32];
    int r;

    if (!reason[0]) {
        tui__message(t, "hold cancelled: a reason is required");
        return;
    }
    if (tui__open_writer(t) < 0)
        return;
    memset(&h, 0, sizeof(h));
    snprintf(h.camera, sizeof(h.camera), "%s", t->cams[t->sel].name);
    h.from_us = t->mark_in;
    h.to_us = t->mark_out;
    snprintf(h.reason, sizeof(h.reason), "%s", reason);
    r = holds_add(t->wcat, &h);
    if (r < 0) {
        tui__message(t, "hold failed: %s", nvr_strerror(r));
        return;
    }
    tui__message(
        t, "hold #%lld placed on %s %s-%s", (long long)h.id, h.camera,
        nvr_time_format_local_strf(h.from_us, "%H:%M:%S", a, sizeof(a)),
        nvr_time_format_local_strf(h.to_us, "%H:%M:%S", b, sizeof(b)));
    t->refresh_mono_us = 0;
}

static int hold_cb(void *user, const struct hold *h)
{
    struct tl_spans *s = user;

    /* Holds may overlap and come ordered by from_us: merging keeps the
     * list sorted. */
    return tl_spans_add(s, h->from_us, h->to_us, 0) < 0;
}

int tui__load_holds(struct tui *t, const char *camera, int64_t from, int64_t to)
{
    tl_spans_clear(&t->held);
    return holds_list(t->cat, camera, from, to, 1, hold_cb, &t->held);
}
