/* SPDX-License-Identifier: MIT */
/*
 * Refusal reasons of access units: names, meanings, the catalog's text
 * form and the rate-limited warnings (see refusal.h).
 */
#include "config.h"
#include "nvr/base/refusal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvr/base/log.h"

static const struct {
    const char *name;
    const char *why;
} refusal_table[NVR_REFUSAL_COUNT] = {
    [NVR_REFUSAL_QUEUE_FULL] = {"queue_full",
                                "the writer's queue was full; the rest of "
                                "the GOP goes with it"},
    [NVR_REFUSAL_DISK] = {"disk", "the disk refused a write or is full"},
    [NVR_REFUSAL_BAD_TIMESTAMP] = {"bad_timestamp",
                                   "pts not after the previous unit, or "
                                   "reordered deeper than the stream said"},
    [NVR_REFUSAL_INCOMPLETE] = {"incomplete",
                                "RTP packets of it were lost or malformed"},
    [NVR_REFUSAL_NO_KEYFRAME] = {"no_keyframe",
                                 "gated until the next keyframe, after "
                                 "loss, a new session or new parameters"},
    [NVR_REFUSAL_NO_PARAMS] = {"no_params",
                               "the codec parameters, SPS and PPS, were "
                               "not known yet"},
    [NVR_REFUSAL_TOO_LARGE] = {"too_large",
                               "larger than an access unit may be, "
                               "NVR_AU_MAX_BYTES"},
    [NVR_REFUSAL_MALFORMED] = {"malformed",
                               "empty, or not a valid unit of its codec"},
    [NVR_REFUSAL_NO_MEMORY] = {"no_memory", "out of memory"},
    [NVR_REFUSAL_SESSION_END] = {"session_end",
                                 "held back for track alignment when the "
                                 "session ended"},
};

const char *nvr_refusal_name(enum nvr_refusal why)
{
    if ((unsigned)why >= NVR_REFUSAL_COUNT)
        return "?";
    return refusal_table[why].name;
}

const char *nvr_refusal_why(enum nvr_refusal why)
{
    if ((unsigned)why >= NVR_REFUSAL_COUNT)
        return "?";
    return refusal_table[why].why;
}

uint64_t nvr_refusals_total(const struct nvr_refusals *r)
{
    uint64_t sum = 0;

    for (int i = 0; i < NVR_REFUSAL_COUNT; i++)
        sum += r->n[i];
    return sum;
}

void nvr_refusals_add(struct nvr_refusals *to, const struct nvr_refusals *from)
{
    for (int i = 0; i < NVR_REFUSAL_COUNT; i++)
        to->n[i] += from->n[i];
}

int nvr_refusals_format(const struct nvr_refusals *r, char *buf, size_t size)
{
    size_t len = 0;

    if (size == 0)
        return -ENOSPC;
    buf[0] = '\0';
    for (int i = 0; i < NVR_REFUSAL_COUNT; i++) {
        char one[64];
        int n;

        if (r->n[i] == 0)
            continue;
        n = snprintf(one, sizeof(one), "%s%s=%" PRIu64, len ? "," : "",
                     refusal_table[i].name, r->n[i]);
        if (n < 0 || (size_t)n >= size - len)
            return -ENOSPC;
        memcpy(buf + len, one, (size_t)n + 1);
        len += (size_t)n;
    }
    return 0;
}

/* The reason called name[0..len), or -1. */
static int refusal_find(const char *name, size_t len)
{
    for (int i = 0; i < NVR_REFUSAL_COUNT; i++)
        if (strlen(refusal_table[i].name) == len &&
            memcmp(refusal_table[i].name, name, len) == 0)
            return i;
    return -1;
}

int nvr_refusals_parse(const char *text, struct nvr_refusals *out)
{
    const char *p = text;

    memset(out, 0, sizeof(*out));
    while (*p) {
        const char *eq = strchr(p, '=');
        char *end;
        uint64_t v;
        int i;

        if (!eq || eq == p || eq[1] < '0' || eq[1] > '9')
            return -EINVAL;
        errno = 0;
        v = strtoull(eq + 1, &end, 10);
        if (errno != 0 || (*end != ',' && *end != '\0'))
            return -EINVAL;
        i = refusal_find(p, (size_t)(eq - p));
        if (i >= 0)
            out->n[i] = v;
        if (*end == ',' && end[1] == '\0')
            return -EINVAL;
        p = *end ? end + 1 : end;
    }
    return 0;
}

void nvr_refusal_log_init(struct nvr_refusal_log *l, int64_t now_ms)
{
    memset(l, 0, sizeof(*l));
    for (int i = 0; i < NVR_REFUSAL_COUNT; i++)
        l->quiet_ms[i] = now_ms;
}

int nvr_refusal_log_report(struct nvr_refusal_log *l, const char *module,
                           const char *camera, const struct nvr_refusals *now,
                           int64_t now_ms, int period_ms)
{
    int lines = 0;

    for (int i = 0; i < NVR_REFUSAL_COUNT; i++) {
        uint64_t n;
        int64_t s;

        if (now->n[i] < l->logged[i])
            l->logged[i] = now->n[i]; /* counters restarted */
        if (now->n[i] == l->logged[i]) {
            l->quiet_ms[i] = now_ms;
            continue;
        }
        if (l->last_ms[i] != 0 && now_ms - l->last_ms[i] < period_ms)
            continue;
        n = now->n[i] - l->logged[i];
        /* Since the last time nothing new was seen, whole seconds. */
        s = (now_ms - l->quiet_ms[i] + 999) / 1000;
        LOG_W(module,
              "camera %s: refused %" PRIu64 " unit%s in the last %" PRId64
              " s: %s (%s)",
              camera, n, n == 1 ? "" : "s", s > 0 ? s : 1,
              refusal_table[i].name, refusal_table[i].why);
        l->logged[i] = now->n[i];
        l->last_ms[i] = now_ms ? now_ms : 1;
        l->quiet_ms[i] = now_ms;
        lines++;
    }
    return lines;
}
