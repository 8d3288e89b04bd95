/* SPDX-License-Identifier: MIT */
/*
 * Publishing an export (see export.c): nothing of an export appears under
 * its final name before the whole set is written and synced, and a clip
 * never appears without its evidence.
 *
 * Every file (each clip, its .sha256 sidecar, the manifest) is written
 * into a hidden staging folder, "<dir>/.nvr-export-XXXXXX", beside the
 * outputs and so on their file system. The exporting process holds an
 * flock(2) on that folder for as long as it works in it. Once every file
 * is complete and synced (the clips too: a power cut must not leave a
 * clip of zeros under its name), each is hard-linked to its final name,
 * which link(2) never replaces: the manifest first, then each clip's
 * sidecar, and each clip last. So a reader who finds a clip under its
 * name finds its sidecar and manifest, complete, beside it. Then the
 * folder is synced and the staging folder removed.
 *
 * A killed export leaves its staging folder, unlocked, and at most some
 * of the evidence files (a manifest, sidecars, and for several clips some
 * of the clips) under their final names, all of them hard links to the
 * staged files. The next export to the folder finds the staging folder
 * (its lock free), and: if every staged file had been published, the
 * export was complete and only the staging folder goes; otherwise the
 * published names that are still the staged files (same device and
 * inode, so nothing another program wrote is touched) are removed with
 * the staging folder. Each removal is logged, naming the folder and the
 * files. The same flock on the outputs' folder itself serialises that
 * clean-up with the creation of new staging folders, so no export cleans
 * the staging folder of another that has not locked it yet.
 *
 * Hard links need a file system that has them (not FAT); the export
 * then fails naming the error, as it did before this folder existed.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nvr/base/err.h"
#include "nvr/base/log.h"
#include "storage/export_int.h"

/* The staging folders' names: this stem, then mkdtemp's six characters. */
#define EXPORT_STAGE_STEM ".nvr-export-"
/* Most files listed by name in one log line of the clean-up. */
#define EXPORT_CLEAN_LIST 1024

static export_step_cb step_cb;
static void *step_user;

void export_set_step_hook(export_step_cb cb, void *user)
{
    step_cb = cb;
    step_user = user;
}

void export_publish__step(const char *name)
{
    if (step_cb)
        step_cb(step_user, name);
}

int export_publish__stage_name(const struct exp_stage *st, const char *name,
                               char *out, size_t size)
{
    int n = snprintf(out, size, "%s/%s", st->path, name);

    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');

    return s ? s + 1 : path;
}

/* The folder holding path ("." for a bare name). */
static int parent_of(const char *path, char *out, size_t size)
{
    const char *slash = strrchr(path, '/');
    int n;

    if (!slash)
        n = snprintf(out, size, ".");
    else if (slash == path)
        n = snprintf(out, size, "/");
    else
        n = snprintf(out, size, "%.*s", (int)(slash - path), path);
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Whether path's folder is the folder `dir` (same device and inode). */
static int same_folder(const char *path, const struct stat *dir)
{
    char parent[PATH_MAX];
    struct stat st;
    int err = parent_of(path, parent, sizeof(parent));

    if (err < 0)
        return err;
    if (stat(parent, &st) != 0)
        return -errno;
    return st.st_dev == dir->st_dev && st.st_ino == dir->st_ino ? 0 : -EXDEV;
}

/* Appends ", name" (or "name") to list[size], "..." once full. */
static void list_add(char *list, size_t size, const char *name)
{
    size_t len = strlen(list);

    if (len + strlen(name) + 6 >= size) {
        if (len + 4 < size && (len < 3 || strcmp(list + len - 3, "...") != 0))
            snprintf(list + len, size - len, "%s...", len ? ", " : "");
        return;
    }
    snprintf(list + len, size - len, "%s%s", len ? ", " : "", name);
}

/*
 * One staging folder `name` in the folder dfd (dir, for the log): unless
 * its lock is held (an export at work), removes the published names that
 * are still its files (unless all were published: the export was
 * complete) and the folder. Logs what it did.
 */
static void clean_one(int dfd, const char *dir, const char *name)
{
    char published[EXPORT_CLEAN_LIST] = "", staged[EXPORT_CLEAN_LIST] = "";
    int n_pub = 0, n_staged = 0, sfd, lfd;
    bool complete;
    struct dirent *e;
    DIR *d;

    sfd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sfd < 0)
        return;
    if (flock(sfd, LOCK_EX | LOCK_NB) != 0) {
        close(sfd); /* an export at work in it, or it cannot be locked */
        return;
    }
    lfd = dup(sfd);
    d = lfd >= 0 ? fdopendir(lfd) : NULL;
    if (!d) {
        if (lfd >= 0)
            close(lfd);
        close(sfd);
        return;
    }
    /* First pass: which staged files are published. */
    while ((e = readdir(d))) {
        struct stat s, p;

        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        n_staged++;
        if (fstatat(sfd, e->d_name, &s, AT_SYMLINK_NOFOLLOW) == 0 &&
            fstatat(dfd, e->d_name, &p, AT_SYMLINK_NOFOLLOW) == 0 &&
            s.st_dev == p.st_dev && s.st_ino == p.st_ino)
            n_pub++;
    }
    complete = n_staged > 0 && n_pub == n_staged;
    rewinddir(d);
    while ((e = readdir(d))) {
        struct stat s, p;

        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (!complete &&
            fstatat(sfd, e->d_name, &s, AT_SYMLINK_NOFOLLOW) == 0 &&
            fstatat(dfd, e->d_name, &p, AT_SYMLINK_NOFOLLOW) == 0 &&
            s.st_dev == p.st_dev && s.st_ino == p.st_ino &&
            unlinkat(dfd, e->d_name, 0) == 0)
            list_add(published, sizeof(published), e->d_name);
        if (unlinkat(sfd, e->d_name, 0) == 0)
            list_add(staged, sizeof(staged), e->d_name);
    }
    closedir(d);
    if (unlinkat(dfd, name, AT_REMOVEDIR) != 0)
        LOG_W("export",
              "%s/%s: cannot remove the staging folder of an interrupted "
              "export: %s",
              dir, name, nvr_strerror(-errno));
    close(sfd);
    if (n_staged == 0)
        LOG_I("export",
              "%s: removed the empty staging folder %s of an "
              "earlier export",
              dir, name);
    else if (complete)
        LOG_I("export",
              "%s: an earlier export was interrupted after publishing all of "
              "%s; kept them, removed its staging folder %s",
              dir, staged, name);
    else if (published[0])
        LOG_W("export",
              "%s: removed the leftovers of an interrupted export: %s "
              "(published without the rest of its set), and the staging "
              "folder %s (%s)",
              dir, published, name, staged[0] ? staged : "empty");
    else
        LOG_W("export",
              "%s: removed the staging folder %s of an interrupted export "
              "(%s); nothing of it had been published",
              dir, name, staged[0] ? staged : "empty");
}

/* Every unlocked staging folder in dfd (dir). */
static void clean_folder(int dfd, const char *dir)
{
    char names[16][64];
    int n = 0, lfd = dup(dfd);
    struct dirent *e;
    DIR *d = lfd >= 0 ? fdopendir(lfd) : NULL;

    if (!d) {
        if (lfd >= 0)
            close(lfd);
        return;
    }
    /* Collected first: removing entries while reading the folder may
     * skip some. More than 16 at once are left for the next export. */
    while ((e = readdir(d)) && n < 16) {
        if (strncmp(e->d_name, EXPORT_STAGE_STEM, strlen(EXPORT_STAGE_STEM)) ==
                0 &&
            strlen(e->d_name) < sizeof(names[0]))
            snprintf(names[n++], sizeof(names[0]), "%s", e->d_name);
    }
    closedir(d);
    for (int i = 0; i < n; i++)
        clean_one(dfd, dir, names[i]);
}

int export_publish__begin(struct export_job *job, const char *manifest_path)
{
    struct exp_stage *st = &job->stage;
    struct stat dst;
    int dfd, err;

    st->fd = -1;
    err = parent_of(manifest_path, st->dir, sizeof(st->dir));
    if (err < 0)
        return err;
    dfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    if (fstat(dfd, &dst) != 0) {
        err = -errno;
        goto out;
    }
    for (int i = 0; i < job->n && err == 0; i++)
        err = same_folder(job->clips[i].req->out_path, &dst);
    if (err < 0) {
        if (err == -EXDEV)
            LOG_E("export",
                  "every clip must be written in the manifest's folder %s",
                  st->dir);
        goto out;
    }
    /* Serialises the clean-up with other exports' staging folders. */
    if (flock(dfd, LOCK_EX) != 0) {
        err = -errno;
        goto out;
    }
    clean_folder(dfd, st->dir);
    if (snprintf(st->path, sizeof(st->path), "%s/" EXPORT_STAGE_STEM "XXXXXX",
                 st->dir) >= (int)sizeof(st->path)) {
        err = -ENAMETOOLONG;
        goto out;
    }
    if (!mkdtemp(st->path)) {
        err = -errno;
        st->path[0] = '\0';
        goto out;
    }
    st->fd = open(st->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (st->fd < 0 || flock(st->fd, LOCK_EX | LOCK_NB) != 0) {
        err = -errno;
        goto out;
    }
    err = export_publish__stage_name(st, base_name(manifest_path), st->manifest,
                                     sizeof(st->manifest));
    for (int i = 0; i < job->n && err == 0; i++) {
        struct exp_clip *c = &job->clips[i];

        err = export_publish__stage_name(st, c->file, c->stage_path,
                                         sizeof(c->stage_path));
    }
out:
    close(dfd); /* also releases the folder's lock */
    if (err < 0)
        export_publish__abort(job);
    else
        export_publish__step("staged");
    return err;
}

void export_publish__abort(struct export_job *job)
{
    struct exp_stage *st = &job->stage;
    char path[PATH_MAX];

    if (!st->path[0])
        return;
    for (int i = 0; i < job->n; i++) {
        struct exp_clip *c = &job->clips[i];

        if (c->written)
            unlink(c->stage_path);
        if (c->sidecar && snprintf(path, sizeof(path), "%s.sha256",
                                   c->stage_path) < (int)sizeof(path))
            unlink(path);
        c->written = c->sidecar = false;
    }
    if (st->manifest[0])
        unlink(st->manifest);
    if (rmdir(st->path) != 0 && errno != ENOENT)
        LOG_W("export", "cannot remove the staging folder %s: %s", st->path,
              nvr_strerror(-errno));
    st->path[0] = '\0';
    if (st->fd >= 0)
        close(st->fd);
    st->fd = -1;
}

/* Syncs a folder by name. */
static int sync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

    if (fd < 0)
        return -errno;
    if (fsync(fd) != 0)
        err = -errno;
    close(fd);
    return err;
}

/* A file to publish: its staged and final names. */
struct pub_file {
    char staged[PATH_MAX];
    char final[PATH_MAX];
    bool done; /* linked to its final name */
};

/* The staged files of job in publishing order: the manifest, the
 * sidecars, the clips, into f[2 n + 1]. Returns how many, or
 * -ENAMETOOLONG. */
static int publish_list(const struct export_job *job, const char *manifest,
                        struct pub_file *f)
{
    int n = 0, w;

    snprintf(f[n].staged, sizeof(f[n].staged), "%s", job->stage.manifest);
    snprintf(f[n++].final, sizeof(f[0].final), "%s", manifest);
    for (int i = 0; i < job->n; i++) {
        const struct exp_clip *c = &job->clips[i];

        w = snprintf(f[n].staged, sizeof(f[n].staged), "%s.sha256",
                     c->stage_path);
        if (w < 0 || (size_t)w >= sizeof(f[n].staged))
            return -ENAMETOOLONG;
        w = snprintf(f[n++].final, sizeof(f[0].final), "%s.sha256",
                     c->req->out_path);
        if (w < 0 || (size_t)w >= sizeof(f[0].final))
            return -ENAMETOOLONG;
    }
    for (int i = 0; i < job->n; i++) {
        snprintf(f[n].staged, sizeof(f[n].staged), "%s",
                 job->clips[i].stage_path);
        snprintf(f[n++].final, sizeof(f[0].final), "%s",
                 job->clips[i].req->out_path);
    }
    return n;
}

int export_publish__commit(struct export_job *job, const char *manifest_path)
{
    struct exp_stage *st = &job->stage;
    struct pub_file *f = calloc((size_t)job->n * 2 + 1, sizeof(*f));
    char step[PATH_MAX + 16];
    int n, err = 0;

    if (!f)
        return -ENOMEM;
    n = publish_list(job, manifest_path, f);
    if (n < 0) {
        err = n;
        goto out;
    }
    /* Every staged file was synced when written; now their names. */
    if (fsync(st->fd) != 0) {
        err = -errno;
        goto out;
    }
    export_publish__step("synced");
    for (int i = 0; i < n && err == 0; i++) {
        if (link(f[i].staged, f[i].final) != 0) {
            err = -errno;
            LOG_E("export", "cannot publish %s: %s", f[i].final,
                  nvr_strerror(err));
            break;
        }
        f[i].done = true;
        snprintf(step, sizeof(step), "published:%s", base_name(f[i].final));
        export_publish__step(step);
    }
    if (err == 0)
        err = sync_path(st->dir);
    if (err < 0) {
        for (int i = 0; i < n; i++) {
            if (f[i].done)
                unlink(f[i].final);
        }
        goto out;
    }
    export_publish__step("published");
    /* Published: the staged names are only a second link to each file. */
    export_publish__abort(job);
    if (sync_path(st->dir) < 0)
        LOG_W("export", "%s: cannot sync the folder after publishing", st->dir);
    export_publish__step("tidied");
out:
    free(f);
    return err;
}
