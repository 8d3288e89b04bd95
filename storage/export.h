/* SPDX-License-Identifier: MIT */
/*
 * Evidential export: the original frames of one camera between two times,
 * video and audio remuxed (never transcoded) across segment boundaries
 * into one MP4 (or, for G.711 audio, QuickTime .mov) that starts at the
 * keyframe at or before `from`, with the wall clock carried in the file,
 * a `.sha256` sidecar that `sha256sum -c` accepts and a `.manifest.json`
 * naming every source segment (with its catalog SHA-256), the gaps, who
 * exported it, when, why, and the audit entry recording it.
 *
 * Blocking; never on the loop thread.
 */
#ifndef NVR_STORAGE_EXPORT_H
#define NVR_STORAGE_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "nvr/base/compiler.h"

struct catalog;

struct export_request {
    const char *storage_dir; /* borrowed */
    const char *camera;      /* borrowed */
    int64_t from_us, to_us;  /* requested range, UTC us, from < to */
    const char *out_path;    /* the .mp4 or .mov to write (must not exist);
                                the container follows the extension */
    const char *reason;      /* why: incident or request reference */
};

/* Longest reason kept (bytes); longer ones are refused with -EINVAL. */
#define EXPORT_MAX_REASON 512

struct export_result {
    int64_t actual_from_us; /* the keyframe at or before from_us */
    int64_t actual_to_us;   /* end of the last frame exported */
    int64_t frames;
    int64_t bytes;
    int n_segments;  /* source segments used */
    int n_gaps;      /* gaps inside the range */
    char sha256[65]; /* of the clip */
    char manifest_path[1024];
    char audit_hash[65];  /* hash of the audit entry of this export */
    int64_t audit_id;     /* its id */
    char codec[16];       /* "h264", ... */
    int width, height;    /* pixels */
    int64_t audio_frames; /* audio packets exported (every audio stream) */
};

/*
 * Progress: done of total source bytes; called from the calling thread.
 * Returns 0 to go on, nonzero to cancel: the export then stops at its next
 * read, removes what it wrote and returns -ECANCELED (a return from the
 * last call, once the clip is complete, is ignored).
 */
typedef int (*export_progress_cb)(void *user, int64_t done, int64_t total);

/*
 * Writes the clip and its sidecars, then appends an AUDIT_EXPORT entry.
 * The video and every audio stream are remuxed, never transcoded; the
 * container is MP4 or QuickTime as out_path's extension (.mp4 / .mov)
 * says. Returns 0, -ENOENT (unknown camera, or no footage in the range),
 * -EEXIST (output exists), -EINVAL (also: out_path not .mp4 / .mov),
 * -EMEDIUMTYPE (an audio codec MP4 cannot hold and out_path is .mp4: the
 * log names the camera and codec; use .mov), -ENOTSUP (codec changes
 * inside the range), -ECANCELED (progress asked to stop), or an I/O /
 * catalog error; on failure no partial clip is left behind. progress may
 * be NULL.
 */
NVR_NODISCARD int export_run(struct catalog *cat,
                             const struct export_request *req,
                             export_progress_cb progress, void *user,
                             struct export_result *res);

/*
 * Several clips (one per camera, usually the same range) with one manifest
 * at manifest_path listing them all: each clip gets its .sha256 sidecar and
 * its own AUDIT_EXPORT entry. reqs[i].reason of the first request is the
 * export's reason. res must hold n results. On failure every clip and
 * sidecar written so far is removed. Same errors as export_run; also
 * -EINVAL if n < 1 or n > EXPORT_MAX_CLIPS.
 */
#define EXPORT_MAX_CLIPS 64
NVR_NODISCARD int export_run_many(struct catalog *cat,
                                  const struct export_request *reqs, int n,
                                  const char *manifest_path,
                                  export_progress_cb progress, void *user,
                                  struct export_result *res);

/*
 * What a clip of req would hold, from the source segments' headers only
 * (cheap): the extension its container needs (".mp4", or ".mov" when an
 * audio codec cannot go into MP4, such as G.711 pcm_alaw / pcm_mulaw;
 * then not_mp4_codec names it) and its codecs. req->out_path is not used.
 * Returns 0, -ENOENT (unknown camera, nothing in the range), -ENOTSUP
 * (codec changes inside the range), -EINVAL, or an I/O error.
 */
#define EXPORT_MAX_AUDIO_STREAMS 4
struct export_probe {
    char extension[8];
    char video_codec[16];
    int n_audio;
    char audio_codec[EXPORT_MAX_AUDIO_STREAMS][16];
    char not_mp4_codec[16]; /* "" when MP4 can hold everything */
};
NVR_NODISCARD int export_probe(struct catalog *cat,
                               const struct export_request *req,
                               struct export_probe *out);

/*
 * Where the clip of req goes (req->out_path is not used), given `out`:
 *  - a folder, when flags has EXPORT_OUT_FOLDER or out is an existing
 *    directory: "<out>/<camera><suffix><ext>", with ext ".mp4", or ".mov"
 *    when an audio codec cannot go into MP4 (export_probe's extension);
 *    suffix (may be NULL) is e.g. "-20261127-100000";
 *  - otherwise the clip's own name, which must end in .mp4 or .mov (the
 *    container follows the extension) and is refused as .mp4 when the
 *    audio needs QuickTime.
 * Writes the path into path[path_size]; when probe is not NULL it gets
 * what export_probe found (not_mp4_codec names the codec for a message).
 * The manifest then goes to export_manifest_path(path) for one clip, or
 * "<out>/manifest.json" for several clips in one folder. Returns 0,
 * -EINVAL (a file name not .mp4 / .mov), -EMEDIUMTYPE (.mp4 named for
 * audio MP4 cannot hold), -ENAMETOOLONG, or export_probe's errors.
 * Blocking (reads the sources' headers).
 */
#define EXPORT_OUT_FOLDER 1u
NVR_NODISCARD int
export_output_path(struct catalog *cat, const struct export_request *req,
                   const char *out, unsigned flags, const char *suffix,
                   char *path, size_t path_size, struct export_probe *probe);

/* The manifest written next to a single clip: "a/clip.mp4" ->
 * "a/clip.manifest.json". Returns 0 or -ENAMETOOLONG. */
NVR_NODISCARD int export_manifest_path(const char *clip_path, char *out,
                                       size_t out_size);

/* Lowercase hex SHA-256 of a whole file into out[65]. Returns 0, -ENOENT,
 * -EIO. Blocking. */
NVR_NODISCARD int export_sha256_file(const char *path, char out[65]);

/*
 * The manifest's own hash: SHA-256 of the manifest text with the 64 hex
 * digits of its "manifest_sha256" value replaced by 64 '0' characters.
 * Sets computed[65] and recorded[65] (the value found in the text, "" if
 * none). Returns 0, or -EBADMSG if the text has no such field.
 */
NVR_NODISCARD int export_manifest_hash(const char *text, size_t len,
                                       char computed[65], char recorded[65]);

/*
 * A seam for tests of interrupted exports: cb (may be NULL to remove it)
 * is called at each step of every export ("staged", "clip", "sidecar",
 * "audited", "manifest", "synced", "published:NAME", "published",
 * "tidied"), on the exporting thread. Only test programs set it. Not
 * thread-safe: set it before the first export.
 */
typedef void (*export_step_cb)(void *user, const char *step);
void export_set_step_hook(export_step_cb cb, void *user);

#endif
