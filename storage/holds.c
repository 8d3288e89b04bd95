/* SPDX-License-Identifier: MIT */
/*
 * Legal holds (see holds.h), kept in the catalog's `holds` table
 * (storage/catalog_holds.c). A hold is never
 * deleted: releasing it stamps who and when, so the list stays the record
 * of what was protected. Every add and release is followed by an audit
 * entry; if the audit log cannot be written the change is undone, so the
 * log never misses a hold that took effect.
 *
 * Retention checks holds inside the same transaction that marks a segment
 * for deletion (storage/catalog_retention.c), so a hold added while a pass
 * runs protects everything the pass has not yet marked. The audit detail
 * is JSON from the shared writer (nvr/base/json.h).
 */
#include "config.h"
#include "storage/holds.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvr/base/clock.h"
#include "nvr/base/compiler.h"
#include "nvr/base/json.h"
#include "nvr/base/log.h"
#include "nvr/base/thread.h"
#include "nvr/base/user.h"
#include "storage/audit.h"
#include "storage/catalog.h"
#include "storage/catalog_holds.h"

/*
 * Writes {"hold":id,"reason":reason[0..len)} with the shared JSON writer
 * into dst[size] if it fits. Returns 1 if it did, 0 if it is too long, or
 * -ENOMEM.
 */
static int holds_detail_try(char *dst, size_t size, int64_t id,
                            const char *reason, size_t len)
{
    char *cut = strndup(reason, len), *text = NULL;
    size_t text_len = 0;
    struct json_out j;
    FILE *f;
    int r;

    if (!cut)
        return -ENOMEM;
    f = open_memstream(&text, &text_len);
    if (!f) {
        free(cut);
        return -ENOMEM;
    }
    json_init(&j, f);
    json_obj_begin(&j, NULL);
    json_int(&j, "hold", id);
    json_str(&j, "reason", cut);
    json_obj_end(&j);
    free(cut);
    if (fclose(f) != 0) {
        free(text);
        return -ENOMEM;
    }
    r = text_len < size;
    if (r)
        memcpy(dst, text, text_len + 1);
    free(text);
    return r;
}

/*
 * The detail of a hold's audit entry into dst[size]: the hold's id and
 * reason as JSON. A reason whose escaped form does not fit is cut at the
 * longest character boundary that does, so the detail stays whole JSON.
 * Returns 0 or -ENOMEM.
 */
static int holds_detail(char *dst, size_t size, int64_t id, const char *reason)
{
    size_t cuts[sizeof(((struct hold *)0)->reason)];
    size_t n = strnlen(reason, NVR_ARRAY_SIZE(cuts) - 1), k = 0, lo, hi;
    int r;

    for (size_t i = 0; i <= n; i++)
        if (i == n || ((unsigned char)reason[i] & 0xc0) != 0x80)
            cuts[k++] = i;
    r = holds_detail_try(dst, size, id, reason, n);
    if (r != 0)
        return r < 0 ? r : 0;
    /* cuts[lo] is taken to fit (an empty reason always does) and
     * cuts[hi] does not. */
    lo = 0;
    hi = k - 1;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;

        r = holds_detail_try(dst, size, id, reason, cuts[mid]);
        if (r < 0)
            return r;
        if (r)
            lo = mid;
        else
            hi = mid;
    }
    r = holds_detail_try(dst, size, id, reason, cuts[lo]);
    return r < 0 ? r : 0;
}

static int holds_audit(struct catalog *cat, const char *kind,
                       const struct hold *h, const char *user)
{
    struct audit_entry e;
    int err;

    memset(&e, 0, sizeof(e));
    snprintf(e.kind, sizeof(e.kind), "%s", kind);
    snprintf(e.camera, sizeof(e.camera), "%s", h->camera);
    snprintf(e.user, sizeof(e.user), "%s", user ? user : "");
    e.from_us = h->from_us;
    e.to_us = h->to_us;
    err = holds_detail(e.detail, sizeof(e.detail), h->id, h->reason);
    if (err < 0)
        return err;
    return audit_append(cat, &e);
}

static bool holds_blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

int holds_add(struct catalog *cat, struct hold *h)
{
    int64_t camera_id;
    int err;

    if (!cat || !h || h->from_us >= h->to_us ||
        strnlen(h->reason, sizeof(h->reason)) == sizeof(h->reason) ||
        holds_blank(h->reason) ||
        strnlen(h->camera, sizeof(h->camera)) == sizeof(h->camera))
        return -EINVAL;
    err = catalog_camera_find(cat, h->camera, &camera_id);
    if (err < 0)
        return err;
    if (h->created_by[0] == '\0')
        (void)nvr_user_name(geteuid(), h->created_by, /* or "uid N" */
                            sizeof(h->created_by));
    if (h->created_us == 0)
        h->created_us = nvr_clock_wall_us();
    h->released_us = 0;
    h->released_by[0] = '\0';
    NVR_ASSERT_NOT_LOOP();
    err = catalog_holds_insert(cat, camera_id, h);
    if (err < 0)
        return err;
    err = holds_audit(cat, AUDIT_HOLD_ADD, h, h->created_by);
    if (err < 0) {
        /* A hold the audit log does not show must not take effect. */
        LOG_E("storage", "hold %" PRId64 ": audit entry failed, undone", h->id);
        /* A failed undo is logged by the catalog; the hold stays. */
        (void)catalog_holds_delete(cat, h->id);
        h->id = 0;
        return err;
    }
    LOG_I("storage", "hold %" PRId64 " added on camera %s by %s", h->id,
          h->camera, h->created_by);
    return 0;
}

int holds_release(struct catalog *cat, int64_t id, const char *user)
{
    char who[64];
    struct hold h = {0};
    int err;

    if (!cat || id <= 0)
        return -EINVAL;
    NVR_ASSERT_NOT_LOOP();
    err = catalog_holds_get(cat, id, &h);
    if (err < 0)
        return err;
    if (h.released_us != 0)
        return -EALREADY;
    if (user && *user)
        snprintf(who, sizeof(who), "%s", user);
    else
        (void)nvr_user_name(geteuid(), who, sizeof(who)); /* or "uid N" */
    err = catalog_holds_set_released(cat, id, nvr_clock_wall_us(), who);
    if (err < 0)
        return err;
    err = holds_audit(cat, AUDIT_HOLD_RELEASE, &h, who);
    if (err < 0) {
        LOG_E("storage", "hold %" PRId64 ": audit entry failed, still held",
              id);
        /* A failed undo is logged by the catalog. */
        (void)catalog_holds_set_released(cat, id, 0, NULL);
        return err;
    }
    LOG_I("storage", "hold %" PRId64 " on camera %s released by %s", id,
          h.camera, who);
    return 0;
}

int holds_list(struct catalog *cat, const char *camera, int64_t from_us,
               int64_t to_us, int active_only, holds_cb cb, void *user)
{
    NVR_ASSERT_NOT_LOOP();
    if (!cat || !cb)
        return -EINVAL;
    return catalog_holds_list(cat, camera, from_us, to_us, active_only, cb,
                              user);
}

int holds_covers(struct catalog *cat, int64_t camera_id, int64_t from_us,
                 int64_t to_us)
{
    NVR_ASSERT_NOT_LOOP();
    return catalog_holds_covers(cat, camera_id, from_us, to_us);
}
