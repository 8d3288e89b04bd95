#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""B-frame recordings beyond recording: export and the TUI's playback.

usage: bframes_review.py segments CODEC SEGMENT...
       bframes_review.py export CODEC FROM_US TO_US CLIP START_US:SEGMENT...
       bframes_review.py playback CODEC PROBE STORAGE CAMERA START_US:SEGMENT...

Segments are given oldest first with their catalog start (wall time of
the first frame shown, UTC us).

segments: each segment passes bframes_compare's checks (no decode error,
strictly increasing DTS, keyframe first at start_time 0): for segments
recovered after a kill.

export: the clip (nvr export --from FROM_US --to TO_US) decodes without an
error, has strictly increasing DTS and starts with a keyframe; its video
frames are one contiguous run of the recording's (slice bytes, decode
order) that begins with a keyframe shown at or before FROM_US and holds
every frame the recording shows from FROM_US up to TO_US.

playback: PROBE (playback_probe, the TUI's engine) seeks to times inside
frames, on frame boundaries, at segment boundaries and in the first GOP of
each segment, and must show the last frame at or before each (ffprobe's
decoded frames of the files, placed at START_US plus their pts); stepping
from the first frame must show every decoded frame once, in presentation
order, across every segment; FFmpeg must print nothing (decode errors).
Prints one line of figures; exits 1 with a reason on the first fault.
"""
import bisect
import os
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bframes_compare import check_segment, fail, packets, run  # noqa: E402
from relay_compare import find_run  # noqa: E402


def segs_arg(args):
    out = []
    for a in args:
        start, path = a.split(":", 1)
        out.append((int(start), path))
    return out


def decode_errors(path):
    r = run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "null",
             "-"])
    return (r.stdout + r.stderr).strip()


def frame_walls(start_us, path):
    """Wall times (us) of the frames a decoder gives, in presentation
    order, and the time base's ticks per second."""
    r = run(["ffprobe", "-v", "error", "-select_streams", "v:0",
             "-show_entries", "stream=time_base", "-of", "csv=p=0", path])
    num, den = r.stdout.strip().split("/")
    r = run(["ffprobe", "-v", "error", "-select_streams", "v:0",
             "-show_entries", "frame=pts", "-of", "csv=p=0", path])
    # Frames with side data get more (empty) columns: the first is pts.
    pts = [int(x.split(",")[0]) for x in r.stdout.split()
           if x.split(",")[0] not in ("", "N/A")]
    # av_rescale_q rounds to the nearest microsecond, as the engine does.
    return sorted(start_us + (p * int(num) * 1000000 + int(den) // 2)
                  // int(den) for p in pts)


def cmd_export(codec, from_us, to_us, clip, segs):
    err = decode_errors(clip)
    if err:
        fail("%s: decode errors: %s" % (clip, err[:400]))
    ex = packets(clip, codec)
    if not ex or not ex[0][2]:
        fail(clip + ": does not start with a keyframe")
    for a, b in zip(ex, ex[1:]):
        if b[1] <= a[1]:
            fail("%s: dts %.6f after %.6f" % (clip, b[1], a[1]))
    rec = []  # (wall_us shown, key, md5) in decode order
    for start, path in segs:
        for p in packets(path, codec):
            rec.append((start + round(p[0] * 1e6), p[2], p[3]))
    at = find_run([p[3] for p in ex], [p[2] for p in rec], False)
    if at < 0:
        fail("%s: its %d frames are not one run of the recording's %d"
             % (clip, len(ex), len(rec)))
    run_ = rec[at:at + len(ex)]
    if not run_[0][1] or run_[0][0] > from_us:
        fail("%s: begins with the recording's frame at %d, not a keyframe "
             "shown at or before %d" % (clip, run_[0][0], from_us))
    want = [i for i, p in enumerate(rec) if from_us <= p[0] < to_us]
    if not want or want[0] < at or want[-1] >= at + len(ex):
        fail("%s: holds the recording's frames %d..%d, the range needs "
             "%d..%d" % (clip, at, at + len(ex) - 1, want[0], want[-1]))
    print("%s: clip of %d frames = the recording's frames %d..%d (the range "
          "needs %d..%d), no decode error" % (codec, len(ex), at,
                                             at + len(ex) - 1, want[0],
                                             want[-1]))


def probe(probe_exe, storage, camera, actions):
    r = subprocess.run([probe_exe, storage, camera] + actions,
                       capture_output=True, text=True, check=False)
    if r.returncode != 0 or r.stderr.strip():
        fail("playback_probe (exit %d): %s" % (r.returncode,
                                                r.stderr.strip()[:400]))
    return [line.split() for line in r.stdout.splitlines()]


def cmd_playback(codec, probe_exe, storage, camera, segs):
    frames, firsts = [], []
    for start, path in segs:
        err = decode_errors(path)
        if err:
            fail("%s: decode errors: %s" % (path, err[:400]))
        w = frame_walls(start, path)
        if not w:
            fail(path + ": no decoded frames")
        firsts.append(w)
        frames += w
    frames.sort()
    if len(set(frames)) != len(frames):
        fail("two frames are shown at the same time")
    targets = []
    for w in firsts:
        # Inside the first frames (the first GOP), on a boundary, inside a
        # frame in the middle, the segment's last frame.
        n = len(w)
        for i in (0, 1, 2, 3, n // 2, n - 1):
            if i + 1 < n:
                targets.append(w[i] + (w[i + 1] - w[i]) // 2)
            targets.append(w[i])
    targets = sorted(set(t for t in targets if t >= frames[0]))
    out = probe(probe_exe, storage, camera, ["seek:%d" % t for t in targets])
    bad = []
    for (_, t, got) in out:
        t, got = int(t), int(got)
        want = frames[bisect.bisect_right(frames, t) - 1]
        if got != want:
            bad.append("seek %d: frame %d, want %d" % (t, got, want))
    if bad or len(out) != len(targets):
        fail("%d of %d seeks wrong: %s" % (len(bad), len(targets),
                                           "; ".join(bad[:5])))
    out = probe(probe_exe, storage, camera,
                ["seek:%d" % frames[0], "step:%d" % (len(frames) + 10)])
    shown = [int(x[-1]) for x in out]
    if shown != frames:
        first = next((i for i, (a, b) in enumerate(zip(shown, frames))
                      if a != b), min(len(shown), len(frames)))
        fail("stepping showed %d frames, the files decode to %d; first "
             "difference at %d: %s, want %s"
             % (len(shown), len(frames), first, shown[first:first + 3],
                frames[first:first + 3]))
    print("%s: %d seeks on the right frame, %d frames stepped through in "
          "order across %d segments, no decode error"
          % (codec, len(targets), len(shown), len(segs)))


def main():
    if len(sys.argv) < 3:
        fail(__doc__)
    if sys.argv[1] == "segments":
        for path in sys.argv[3:]:
            n = len(check_segment(path, sys.argv[2]))
            print("%s: %d frames, no decode error" % (os.path.basename(path),
                                                      n))
    elif sys.argv[1] == "export":
        cmd_export(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
                   sys.argv[5], segs_arg(sys.argv[6:]))
    elif sys.argv[1] == "playback":
        cmd_playback(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5],
                     segs_arg(sys.argv[6:]))
    else:
        fail(__doc__)


if __name__ == "__main__":
    main()
