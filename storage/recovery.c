/* SPDX-License-Identifier: MIT */
/*
 * Start-up recovery (see recovery.h): makes the catalog and the disk agree
 * after a crash, in this order:
 *  1. rows left DELETING by an interrupted retention pass are deleted
 *     (file unlinked, directory fsynced, then the row);
 *  2. rows left OPEN are finished from their files (read back by
 *     recovery_probe.c). A file cut short ends
 *     in a torn fragment: it is truncated to the prefix of complete
 *     top-level boxes (a moof counts only with its complete mdat), the
 *     truncation is fsynced, and only then is the row finished with the
 *     size and SHA-256 of what is left. A file that holds no complete
 *     fragment (the crash came within its first GOP) is removed with its
 *     row; one that is not an MP4 at all is moved aside;
 *  3. the segment directories are compared with the catalog: unknown files
 *     are indexed, or moved to <storage>/lost+found/ when unreadable (never
 *     deleted), and rows whose file is gone are marked MISSING.
 *
 * The durable order everywhere in storage/ is file, then directory, then
 * catalog: a segment's bytes are fsynced before its directory entry
 * (segment_close), and both before its row says CLOSED (writer.c); a
 * deletion is first committed as DELETING in the catalog, then unlinked
 * and the directory fsynced, and only then is the row deleted
 * (retention.c). So after a power cut the catalog may lag the disk but
 * never claims what the disk does not hold, and this file repairs the lag.
 *
 * A catalog of a million segments must recover in seconds, so closed
 * segments are neither stat()ed nor read: step 3 lists each date
 * directory (readdir only) and compares the number of files with the
 * number of rows under that path (one range query on the path index);
 * only a directory where they differ, or one as new as the camera's
 * newest row (where a crash can leave a file without a row), is compared
 * name by name.
 */
#include "config.h"
#include "storage/recovery.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nvr/base/err.h"
#include "nvr/base/escape.h"
#include "nvr/base/log.h"
#include "nvr/base/timefmt.h"
#include "storage/catalog.h"
#include "storage/layout.h"
#include "storage/storage_path.h"
#include "storage/fsops.h"
#include "storage/storage_int.h"

/* Open rows handled in one run; more are left for the next run. */
#define RECOVERY_MAX_OPEN_ROWS 100000
#define RECOVERY_MAX_PATH      1024
/* Entries of one date directory compared by name; a day of 1 s segments
 * is 86,400. More are handled by the next run. */
#define RECOVERY_MAX_DIR_FILES 200000
#define RECOVERY_LOST_DIR      STORAGE_LOST_DIR
#define RECOVERY_DIR_MODE      0750
/* Suffixes tried when a name is already taken in lost+found. */
#define RECOVERY_LOST_ATTEMPTS 100

/* ---- the catalog side ---- */

struct recovery_rows {
    struct catalog_segment *v;
    size_t n, cap;
    int err;
};

static int recovery_collect(void *user, const struct catalog_segment *seg)
{
    struct recovery_rows *rows = user;

    if (rows->n == RECOVERY_MAX_OPEN_ROWS)
        return 1;
    if (rows->n == rows->cap) {
        size_t cap = rows->cap ? rows->cap * 2 : 16;
        void *v = realloc(rows->v, cap * sizeof(*rows->v));
        if (!v) {
            rows->err = -ENOMEM;
            return 1;
        }
        rows->v = v;
        rows->cap = cap;
    }
    rows->v[rows->n++] = *seg;
    return 0;
}

static int recovery_abs_path(char *dst, size_t size, const char *dir,
                             const char *rel)
{
    int n = snprintf(dst, size, "%s/%s", dir, rel);

    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Fsyncs the directory that holds `path`. */
static int recovery_sync_parent(const char *path)
{
    char dir[RECOVERY_MAX_PATH];
    const char *slash = strrchr(path, '/');

    if (!slash || (size_t)(slash - path) >= sizeof(dir))
        return -EINVAL;
    snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    return fsops_fsync_dir(dir);
}

/*
 * Moves <storage>/<rel> to <storage>/lost+found/<rel> (".N" added if that
 * is taken), then fsyncs the new directory and the old one. Nothing is
 * ever deleted for being unreadable: an operator decides.
 */
static int recovery_move_aside(const char *storage_dir, const char *rel,
                               struct recovery_report *rep)
{
    char src[RECOVERY_MAX_PATH], dst[RECOVERY_MAX_PATH + 16];
    char dir[RECOVERY_MAX_PATH];
    const char *slash = strrchr(rel, '/');
    struct stat sb;
    int r, n;

    r = recovery_abs_path(src, sizeof(src), storage_dir, rel);
    if (r < 0)
        return r;
    n = snprintf(dir, sizeof(dir), "%s/" RECOVERY_LOST_DIR "/%.*s", storage_dir,
                 slash ? (int)(slash - rel) : 0, rel);
    if (n < 0 || (size_t)n >= sizeof(dir))
        return -ENAMETOOLONG;
    r = fsops_mkdir_p(dir, RECOVERY_DIR_MODE);
    if (r < 0)
        return r;
    for (int i = 0; i < RECOVERY_LOST_ATTEMPTS; i++) {
        if (i == 0)
            snprintf(dst, sizeof(dst), "%s/%s", dir, slash ? slash + 1 : rel);
        else
            snprintf(dst, sizeof(dst), "%s/%s.%d", dir, slash ? slash + 1 : rel,
                     i);
        if (lstat(dst, &sb) != 0 && errno == ENOENT)
            break;
        dst[0] = '\0';
    }
    if (!dst[0])
        return -EEXIST;
    r = fsops_rename(src, dst);
    if (r == 0)
        r = recovery_sync_parent(dst);
    if (r == 0)
        r = recovery_sync_parent(src);
    if (r < 0)
        return r;
    LOG_W("storage", "recovery: %s is not a readable segment; moved to %s", rel,
          dst);
    rep->moved++;
    return 0;
}

/* Copies what the file holds into a row about to be finished. */
static void recovery_fill(struct catalog_segment *seg,
                          const struct recovery__probe *p)
{
    seg->end_us = seg->start_us + p->duration_us;
    seg->bytes = p->bytes;
    seg->frames = p->frames;
    memcpy(seg->sha256, p->sha256, sizeof(seg->sha256));
    if (p->width > 0 && p->height > 0) {
        seg->width = p->width;
        seg->height = p->height;
    }
    if (p->codec[0])
        snprintf(seg->codec, sizeof(seg->codec), "%s", p->codec);
}

/* Removes a file of ours that holds no complete fragment, then its row. */
static int recovery_remove_empty(struct catalog *cat, const char *path,
                                 const struct catalog_segment *seg,
                                 struct recovery_report *rep)
{
    int r = fsops_unlink(path);

    if (r < 0 && r != -ENOENT)
        return 0; /* left as it is; reported as unreadable below */
    r = recovery_sync_parent(path);
    if (r < 0)
        return r;
    r = catalog_segment_delete(cat, seg->id);
    if (r < 0 && r != -ENOENT)
        return r;
    LOG_W("storage",
          "recovery: %s held no complete fragment (the crash came within "
          "its first GOP); removed with its row",
          seg->path);
    rep->emptied++;
    return 0;
}

/* 0 if seg's path stays beneath the storage with no symlink on the way
 * (the file itself need not exist), else logs and returns the refusal.
 * Recovery runs before the sandbox: a hostile row must not make it read,
 * truncate, move or delete a file elsewhere. */
static int recovery_check_path(int root, const struct catalog_segment *seg,
                               struct recovery_report *rep)
{
    char shown[NVR_ESCAPE_SIZE(sizeof(seg->path))];
    int fd = storage_path_open(root, seg->path, O_RDONLY);

    if (fd >= 0) {
        close(fd);
        return 0;
    }
    if (!storage_path_refused(fd))
        return 0; /* missing or unreadable: the steps below say so */
    LOG_E("storage",
          "recovery: refusing segment %" PRId64 " of the catalog: its path "
          "'%s' leads outside the storage (%s); left alone",
          seg->id, nvr_escape_text(seg->path, shown, sizeof(shown)),
          storage_path_why(fd));
    rep->refused++;
    return fd;
}

static int recovery_finish_open(struct catalog *cat, const char *storage_dir,
                                int root, struct catalog_segment *seg,
                                struct recovery_report *rep)
{
    char path[RECOVERY_MAX_PATH];
    struct recovery__probe p;
    struct stat sb;
    int r;

    if (recovery_check_path(root, seg, rep) < 0)
        return 0; /* the row stays as it is for an operator to look at */
    r = recovery_abs_path(path, sizeof(path), storage_dir, seg->path);
    if (r < 0)
        return 0; /* cannot be one of ours; leave the row */
    if (stat(path, &sb) < 0 && errno == ENOENT) {
        r = catalog_segment_set_status(cat, seg->id, CATALOG_SEG_MISSING);
        if (r < 0)
            return r;
        LOG_W("storage", "recovery: %s is gone, marked missing", seg->path);
        rep->missing++;
        return 0;
    }
    {
        int repaired = 0;

        r = recovery__repair_file(path, &p, &repaired);
        rep->repaired += repaired;
    }
    if ((r == 0 && p.frames == 0) ||
        (r == -EBADMSG && stat(path, &sb) == 0 && sb.st_size == 0))
        return recovery_remove_empty(cat, path, seg, rep);
    if (r == -EBADMSG) {
        r = recovery_move_aside(storage_dir, seg->path, rep);
        if (r == 0)
            r = catalog_segment_set_status(cat, seg->id, CATALOG_SEG_MISSING);
        if (r < 0)
            return r;
        rep->unreadable++;
        rep->missing++;
        return 0;
    }
    if (r < 0) {
        LOG_W("storage", "recovery: %s unreadable (%s), left open and in place",
              seg->path, nvr_strerror(r));
        rep->unreadable++;
        return 0;
    }
    recovery_fill(seg, &p);
    r = catalog_segment_finish(cat, seg);
    if (r < 0)
        return r;
    LOG_I("storage",
          "recovery: finished %s: %" PRId64 " frames, %" PRId64 " us",
          seg->path, p.frames, p.duration_us);
    rep->finished++;
    return 0;
}

/* Parses "<camera>-YYYYMMDDTHHMMSS.uuuuuuZ..." into UTC us. */
static int recovery_name_time(const char *camera, const char *name,
                              int64_t *start_us)
{
    size_t cl = strlen(camera);
    struct tm tm;
    int y, mo, d, h, mi, s, us, n = 0;
    time_t t;

    if (strncmp(name, camera, cl) != 0 || name[cl] != '-')
        return -EINVAL;
    if (sscanf(name + cl + 1, "%4d%2d%2dT%2d%2d%2d.%6dZ%n", &y, &mo, &d, &h,
               &mi, &s, &us, &n) != 7 ||
        n != 23)
        return -EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 ||
        us < 0 || y < 1970)
        return -EINVAL;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    t = timegm(&tm);
    if (t == (time_t)-1)
        return -EINVAL;
    *start_us = (int64_t)t * 1000000 + us;
    return 0;
}

/* Segment files are MP4, or QuickTime when their audio is G.711 (see
 * segment.h); both are read by the same demuxer. */
static bool recovery_is_segment_name(const char *name)
{
    size_t n = strlen(name);

    return n >= 5 && (strcmp(name + n - 4, ".mp4") == 0 ||
                      strcmp(name + n - 4, ".mov") == 0);
}

/* A file the catalog does not know: indexed if it is a readable segment,
 * else moved aside. */
static int recovery_index_file(struct catalog *cat, const char *storage_dir,
                               const char *camera, const char *rel,
                               const char *name, struct recovery_report *rep)
{
    char path[RECOVERY_MAX_PATH];
    struct catalog_segment seg;
    struct recovery__probe p;
    struct stat sb;
    int r;

    memset(&seg, 0, sizeof(seg));
    if (strlen(rel) >= sizeof(seg.path) ||
        recovery_abs_path(path, sizeof(path), storage_dir, rel) < 0)
        return 0;
    r = recovery_is_segment_name(name) ? recovery__probe_file(path, &p)
                                       : -EBADMSG;
    if (r < 0 || p.frames == 0) {
        rep->unreadable++;
        if (r < 0 && r != -EBADMSG) {
            LOG_W("storage", "recovery: %s unreadable (%s), left in place", rel,
                  nvr_strerror(r));
            return 0;
        }
        r = recovery_move_aside(storage_dir, rel, rep);
        if (r < 0)
            LOG_W("storage", "recovery: cannot move %s aside: %s", rel,
                  nvr_strerror(r));
        return 0;
    }
    if (recovery_name_time(camera, name, &seg.start_us) < 0) {
        /* Not named by us: the modification time is when it ended. */
        if (stat(path, &sb) < 0)
            return 0;
        seg.start_us = (int64_t)sb.st_mtim.tv_sec * 1000000 +
                       sb.st_mtim.tv_nsec / 1000 - p.duration_us;
        LOG_W("storage", "recovery: %s: no time in its name, using mtime", rel);
    }
    r = catalog_camera_ensure(cat, camera, &seg.camera_id);
    if (r < 0)
        return r;
    snprintf(seg.path, sizeof(seg.path), "%s", rel);
    seg.status = CATALOG_SEG_OPEN;
    recovery_fill(&seg, &p);
    r = catalog_segment_begin(cat, &seg);
    if (r == 0)
        r = catalog_segment_finish(cat, &seg);
    if (r < 0)
        return r;
    LOG_I("storage", "recovery: indexed %s (%" PRId64 " frames)", rel,
          p.frames);
    rep->indexed++;
    return 0;
}

static bool recovery_skip_name(const char *name)
{
    return name[0] == '.';
}

/* Whether a directory entry is a directory (d_type, else stat). */
static bool recovery_entry_is(const char *parent, const struct dirent *de,
                              bool want_dir)
{
    char path[RECOVERY_MAX_PATH];
    struct stat sb;

    if (de->d_type == DT_DIR)
        return want_dir;
    if (de->d_type == DT_REG)
        return !want_dir;
    if (de->d_type != DT_UNKNOWN)
        return false;
    if (snprintf(path, sizeof(path), "%s/%s", parent, de->d_name) >=
            (int)sizeof(path) ||
        lstat(path, &sb) != 0)
        return false;
    return want_dir ? S_ISDIR(sb.st_mode) : S_ISREG(sb.st_mode);
}

struct recovery_names {
    char **v;
    size_t n, cap;
};

static void recovery_names_free(struct recovery_names *names)
{
    for (size_t i = 0; i < names->n; i++)
        free(names->v[i]);
    free(names->v);
    memset(names, 0, sizeof(*names));
}

static int recovery_names_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists the regular files of dir (not hidden ones): their names when
 * names is not NULL, else only their number. Returns the count or -errno. */
static int64_t recovery_list_files(const char *dir,
                                   struct recovery_names *names)
{
    struct dirent *de;
    int64_t count = 0;
    DIR *d = opendir(dir);

    if (!d)
        return -errno;
    while ((de = readdir(d))) {
        if (recovery_skip_name(de->d_name) ||
            !recovery_entry_is(dir, de, false))
            continue;
        count++;
        if (!names)
            continue;
        if (names->n == RECOVERY_MAX_DIR_FILES)
            break;
        if (names->n == names->cap) {
            size_t cap = names->cap ? names->cap * 2 : 256;
            void *v = realloc(names->v, cap * sizeof(*names->v));
            if (!v) {
                closedir(d);
                return -ENOMEM;
            }
            names->v = v;
            names->cap = cap;
        }
        names->v[names->n] = strdup(de->d_name);
        if (!names->v[names->n]) {
            closedir(d);
            return -ENOMEM;
        }
        names->n++;
    }
    closedir(d);
    if (names && names->n > 1)
        qsort(names->v, names->n, sizeof(*names->v), recovery_names_cmp);
    return count;
}

/* Rows under a directory whose file is not in its listing. */
struct recovery_gone {
    const struct recovery_names *names;
    struct recovery_rows rows;
};

static int recovery_gone_cb(void *user, const struct catalog_segment *seg)
{
    struct recovery_gone *g = user;
    const char *base = strrchr(seg->path, '/');

    if (!base)
        return 0;
    base++;
    if (g->names->n > 0 && bsearch(&base, g->names->v, g->names->n,
                                   sizeof(*g->names->v), recovery_names_cmp))
        return 0;
    return recovery_collect(&g->rows, seg);
}

/* Marks MISSING every row under prefix whose file is not in names. */
static int recovery_mark_gone(struct catalog *cat, const char *prefix,
                              const struct recovery_names *names,
                              struct recovery_report *rep)
{
    struct recovery_gone g = {.names = names};
    int err = catalog_segment_list_under(cat, prefix, recovery_gone_cb, &g);

    if (err == 0)
        err = g.rows.err;
    for (size_t i = 0; err == 0 && i < g.rows.n; i++) {
        err = catalog_segment_set_status(cat, g.rows.v[i].id,
                                         CATALOG_SEG_MISSING);
        if (err == 0) {
            LOG_W("storage", "recovery: %s is gone, marked missing",
                  g.rows.v[i].path);
            rep->missing++;
        }
    }
    free(g.rows.v);
    return err;
}

/* Compares one date directory with the catalog name by name. */
static int recovery_reconcile_dir(struct catalog *cat, const char *storage_dir,
                                  const char *camera, const char *date,
                                  struct recovery_report *rep)
{
    char dir[RECOVERY_MAX_PATH], rel[RECOVERY_MAX_PATH];
    struct recovery_names names = {0};
    struct catalog_segment seg;
    int64_t n;
    int r = 0;

    snprintf(dir, sizeof(dir), "%s/%s/%s", storage_dir, camera, date);
    n = recovery_list_files(dir, &names);
    if (n < 0) {
        recovery_names_free(&names);
        return n == -ENOMEM ? -ENOMEM : 0;
    }
    rep->dirs_compared++;
    for (size_t i = 0; r == 0 && i < names.n; i++) {
        if (snprintf(rel, sizeof(rel), "%s/%s/%s", camera, date, names.v[i]) >=
            (int)sizeof(rel))
            continue;
        r = catalog_segment_by_path(cat, rel, &seg);
        if (r == -ENOENT)
            r = recovery_index_file(cat, storage_dir, camera, rel, names.v[i],
                                    rep);
    }
    /* With the listing cut short, absent names prove nothing. */
    if (r == 0 && (int64_t)names.n == n) {
        snprintf(rel, sizeof(rel), "%s/%s/", camera, date);
        r = recovery_mark_gone(cat, rel, &names, rep);
    }
    recovery_names_free(&names);
    return r;
}

/* "YYYY-MM-DD" of the camera's newest row, or "" if it has none. */
#define RECOVERY_DATE_SIZE 32 /* "YYYY-MM-DD" with room for any int */

static int recovery_newest_date(struct catalog *cat, const char *camera,
                                char out[RECOVERY_DATE_SIZE])
{
    int64_t id, start_us;
    int r;

    out[0] = '\0';
    r = catalog_camera_find(cat, camera, &id);
    if (r == 0)
        r = catalog_segment_newest_start(cat, id, &start_us);
    if (r == 0)
        nvr_time_format_utc_date(start_us, out, RECOVERY_DATE_SIZE);
    return r == -ENOENT ? 0 : r;
}

static int recovery_scan_camera(struct catalog *cat, const char *storage_dir,
                                const char *camera, struct recovery_report *rep)
{
    char dir[RECOVERY_MAX_PATH], sub[RECOVERY_MAX_PATH];
    char newest[RECOVERY_DATE_SIZE];
    char prefix[RECOVERY_MAX_PATH];
    struct dirent *de;
    DIR *d;
    int r;

    r = recovery_newest_date(cat, camera, newest);
    if (r < 0)
        return r;
    snprintf(dir, sizeof(dir), "%s/%s", storage_dir, camera);
    d = opendir(dir);
    if (!d)
        return 0;
    while (r == 0 && (de = readdir(d))) {
        int64_t files, rows = 0;

        if (recovery_skip_name(de->d_name) || !recovery_entry_is(dir, de, true))
            continue;
        /* As new as the newest row: a crash may have left a file whose row
         * was never written, with as many rows as files elsewhere. */
        if (!newest[0] || strcmp(de->d_name, newest) >= 0) {
            r = recovery_reconcile_dir(cat, storage_dir, camera, de->d_name,
                                       rep);
            continue;
        }
        if (snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name) >=
                (int)sizeof(sub) ||
            snprintf(prefix, sizeof(prefix), "%s/%s/", camera, de->d_name) >=
                (int)sizeof(prefix))
            continue;
        files = recovery_list_files(sub, NULL);
        if (files < 0)
            continue;
        r = catalog_segment_count_under(cat, prefix, &rows);
        rep->dirs_counted++;
        if (r == 0 && rows != files)
            r = recovery_reconcile_dir(cat, storage_dir, camera, de->d_name,
                                       rep);
    }
    closedir(d);
    return r;
}

static int recovery_scan(struct catalog *cat, const char *storage_dir,
                         struct recovery_report *rep)
{
    struct dirent *cam;
    DIR *top;
    int r = 0;

    top = opendir(storage_dir);
    if (!top)
        return errno == ENOENT ? 0 : -errno;
    while (r == 0 && (cam = readdir(top))) {
        if (recovery_skip_name(cam->d_name) ||
            strcmp(cam->d_name, RECOVERY_LOST_DIR) == 0 ||
            !recovery_entry_is(storage_dir, cam, true))
            continue;
        r = recovery_scan_camera(cat, storage_dir, cam->d_name, rep);
    }
    closedir(top);
    return r;
}

int recovery_run(const char *storage_dir, const char *catalog_path,
                 struct recovery_report *report)
{
    struct recovery_report rep = {0};
    struct recovery_rows rows = {0};
    struct catalog *cat;
    int64_t deleted = 0, refused = 0;
    int r, root = -1;

    r = catalog_open(catalog_path, CATALOG_READWRITE, &cat);
    if (r < 0)
        return r;
    r = retention__finish_deleting(cat, storage_dir, &deleted, &refused);
    rep.deleted = (int)deleted;
    rep.refused = (int)refused;
    if (r == 0)
        r = catalog_segment_list(cat, 0, INT64_MIN, INT64_MAX,
                                 1u << CATALOG_SEG_OPEN, recovery_collect,
                                 &rows);
    if (r == 0)
        r = rows.err;
    if (r == 0 && rows.n > 0) {
        root = storage_path_open_root(storage_dir);
        if (root < 0)
            r = root;
    }
    for (size_t i = 0; r == 0 && i < rows.n; i++)
        r = recovery_finish_open(cat, storage_dir, root, &rows.v[i], &rep);
    if (root >= 0)
        close(root);
    if (r == 0)
        r = recovery_scan(cat, storage_dir, &rep);
    free(rows.v);
    catalog_close(cat);
    if (r < 0)
        LOG_E("storage", "recovery: %s", nvr_strerror(r));
    LOG_I(
        "storage",
        "recovery: %d finished (%d torn tails cut), %d emptied removed, "
        "%d missing, %d indexed, %d unreadable (%d moved to " RECOVERY_LOST_DIR
        "), %d deletions completed, %d rows refused; %d directories counted, "
        "%d compared",
        rep.finished, rep.repaired, rep.emptied, rep.missing, rep.indexed,
        rep.unreadable, rep.moved, rep.deleted, rep.refused, rep.dirs_counted,
        rep.dirs_compared);
    if (report)
        *report = rep;
    return r;
}
