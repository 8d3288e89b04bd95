#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compares nvr's segments of a B-frame stream with ffmpeg's copy of it.

usage: bframes_compare.py CODEC FFMPEG_COPY SEGMENT...

Every segment must decode without an error, hold strictly increasing DTS
with PTS never before DTS, no PTS twice, and start (start_time 0) with
its keyframe, the first frame presented (but for the leading pictures of
an H.265 CRA). Over the span both recorded, nvr must hold every
frame ffmpeg holds, with the same payload bytes (hashes of the slice NAL
units: parameter sets, SEI and delimiters may be placed differently) at
the same presentation time, and the same frames per second of footage.
Prints one line of figures; exits 1 with a reason on the first fault.
"""
import subprocess
import sys

# NAL unit types that are not slice data (H.264 7.4.1, H.265 7.4.2.2).
DROP = {"h264": "6|7|8|9|10|11|12", "hevc": "32|33|34|35|36|37|38|39|40"}


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def run(args):
    return subprocess.run(args, capture_output=True, text=True, check=False)


def packets(path, codec):
    """[(pts_s, dts_s, key, md5)] in file order, from framemd5."""
    r = run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", "0:v:0",
             "-c", "copy", "-bsf:v", "filter_units=remove_types=" + DROP[codec],
             "-f", "framemd5", "-"])
    if r.returncode != 0:
        fail("%s: framemd5: %s" % (path, r.stderr.strip()))
    tb = 1.0
    out = []
    for line in r.stdout.splitlines():
        if line.startswith("#tb 0:"):
            n, d = line.split(":", 1)[1].strip().split("/")
            tb = float(n) / float(d)
            continue
        if line.startswith("#") or not line.strip():
            continue
        f = [x.strip() for x in line.split(",")]
        out.append((int(f[2]) * tb, int(f[1]) * tb, f[5]))
    r = run(["ffprobe", "-v", "error", "-select_streams", "v:0",
             "-show_entries", "packet=flags", "-of", "csv=p=0", path])
    flags = [x.strip() for x in r.stdout.splitlines() if x.strip()]
    if len(flags) != len(out):
        fail("%s: %d packets, %d flags" % (path, len(out), len(flags)))
    return [(p, d, "K" in fl, h) for (p, d, h), fl in zip(out, flags)]


def check_segment(path, codec):
    r = run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "null",
             "-"])
    if r.stdout.strip() or r.stderr.strip():
        fail("%s: decode errors: %s" % (path, (r.stdout + r.stderr)[:400]))
    pk = packets(path, codec)
    if not pk:
        fail(path + ": no video packets")
    if not pk[0][2]:
        fail(path + ": does not start with a keyframe")
    for a, b in zip(pk, pk[1:]):
        if b[1] <= a[1]:
            fail("%s: dts %.6f after %.6f" % (path, b[1], a[1]))
    for p in pk:
        if p[0] < p[1] - 1e-6:
            fail("%s: pts %.6f before dts %.6f" % (path, p[0], p[1]))
    pts = sorted(p[0] for p in pk)
    if len(set(round(x, 4) for x in pts)) != len(pts):
        fail(path + ": a pts appears twice")
    # Only the leading pictures of an H.265 CRA (open GOP: x265's default)
    # are presented before the keyframe that starts the segment; they
    # come right after it in decode order.
    key = pk[0][0]
    lead = [i for i, p in enumerate(pk) if p[0] < key]
    if lead and (codec != "hevc" or lead != list(range(1, len(lead) + 1))):
        fail("%s: frames at %s presented before the keyframe at %.6f"
             % (path, [round(pk[i][0], 6) for i in lead], key))
    r = run(["ffprobe", "-v", "error", "-select_streams", "v:0",
             "-show_entries", "stream=start_time", "-of", "csv=p=0", path])
    start = float(r.stdout.strip().splitlines()[0])
    if abs(start - key) > 0.0005 or abs(key) > 0.0005:
        fail("%s: start_time %.6f, keyframe shown at %.6f, want 0"
             % (path, start, key))
    return pk


def main():
    codec, ffcopy, segs = sys.argv[1], sys.argv[2], sys.argv[3:]
    if not segs:
        fail("no segments")
    nvr = []  # (pts_s on one time line, md5); segments by their start
    frame_s = None
    for s in segs:
        pk = check_segment(s, codec)
        pts = sorted(p[0] for p in pk)
        steps = [b - a for a, b in zip(pts, pts[1:])]
        if steps:
            frame_s = min(steps) if frame_s is None else min(frame_s,
                                                               min(steps))
        nvr.append(pk)
    ff = packets(ffcopy, codec)
    # ffmpeg's copy of an RTSP stream with B-frames has made-up times for
    # the B-frames before its first P-frame; its footage is taken from its
    # second keyframe on.
    keys = [i for i, p in enumerate(ff) if p[2]]
    if len(keys) < 3:
        fail("ffmpeg's copy holds %d keyframes" % len(keys))
    # At its end (ffmpeg stops at -t in decode order) B-frames before its
    # last frames may be missing: it counts up to its last keyframe.
    ff = [p for p in ff[keys[1]:keys[-1]] if p[0] < ff[keys[-1]][0]]
    ff_by_hash = {}
    for p in ff:
        ff_by_hash.setdefault(p[3], []).append(p[0])
    ff_pts = {round(p[0], 3): p[3] for p in ff}
    matched = missing = 0
    nvr_frames = 0
    nvr_span = 0.0
    ff_lo, ff_hi = min(p[0] for p in ff), max(p[0] for p in ff)
    covered = set()
    for pk in nvr:
        # A segment's own time line starts at 0: place it on ffmpeg's by
        # its keyframe, whose bytes ffmpeg has too.
        key = pk[0]
        if key[3] not in ff_by_hash:
            continue
        off = ff_by_hash[key[3]][0] - key[0]
        for p in pk:
            t = round(p[0] + off, 3)
            if t < ff_lo - 1e-3 or t > ff_hi + 1e-3:
                continue
            nvr_frames += 1
            covered.add(t)
            h = ff_pts.get(t)
            if h is None:
                fail("%s: frame at %.3f s (ffmpeg's time line) not in "
                     "ffmpeg's copy" % (codec, t))
            if h != p[3]:
                fail("%s: frame at %.3f s differs from ffmpeg's copy"
                     % (codec, t))
            matched += 1
        ts = sorted(round(p[0] + off, 3) for p in pk)
        inside = [t for t in ts if ff_lo - 1e-3 <= t <= ff_hi + 1e-3]
        if inside:
            nvr_span += inside[-1] - inside[0] + frame_s
    if matched == 0:
        fail(codec + ": no segment shares a keyframe with ffmpeg's copy")
    lo, hi = min(covered), max(covered)
    ff_in = [t for t in ff_pts if lo - 1e-3 <= t <= hi + 1e-3]
    missing = len([t for t in ff_in if t not in covered])
    ff_rate = len(ff_in) / (hi - lo + frame_s)
    nvr_rate = nvr_frames / nvr_span
    print("%s: nvr %d frames in %.2f s (%.2f/s), ffmpeg %d frames in the "
          "same span (%.2f/s), %d matched, %d of ffmpeg's missing "
          "(segment cuts)" % (codec, nvr_frames, nvr_span, nvr_rate,
                              len(ff_in), ff_rate, matched, missing))
    if abs(nvr_rate - ff_rate) > 0.02 * ff_rate:
        fail("%s: %.2f frames/s against ffmpeg's %.2f" %
             (codec, nvr_rate, ff_rate))
    if missing > 0:
        fail("%s: %d of ffmpeg's frames are not in nvr's segments"
             % (codec, missing))


if __name__ == "__main__":
    main()
