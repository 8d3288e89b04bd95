#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compares nvr's segments of a relayed stream with its source clip and
with ffmpeg's copy of the same stream, recorded in the same run.

usage: relay_compare.py VCODEC ACODEC MIN_FRAMES FPS MAX_GAP_MS SOURCE REFERENCE
                         SEGMENT...

VCODEC is h264 or hevc, ACODEC aac or pcm_alaw; SOURCE is the clip the
publisher loops (-stream_loop -1), REFERENCE ffmpeg's `-c copy` of the
relay's stream, started before nvr and stopped after it. The clip should
outlast the reference, so that a frame has one place in it.

Every segment must pass bframes_compare's segment checks (zero decode
errors, strictly increasing DTS, PTS never before DTS, starting with its
keyframe at start_time 0). nvr's video frames,
all segments in order, must be at least MIN_FRAMES, as many as ffprobe
counts in the files, and one contiguous run of the reference's frames
(the same slice bytes in the same decode order: nothing lost, added or
reordered, at segment cuts either) and of the looped source's. Each
segment's audio must be the reference's, in its order: AAC frame by
frame, A-law byte by byte (its RTP packets cut the samples where they
will), with at most MAX_GAP_MS of the reference's audio left out inside
the segment. Audio is held against the reference, not the source: at
each loop the publisher leaves out the clip's first AAC frame. Prints
one line of figures; exits 1 with a reason on the first fault.
"""
import os
import subprocess
import sys

# No __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bframes_compare import check_segment, fail, packets, run  # noqa: E402


def hashes(path, codec):
    return [p[3] for p in packets(path, codec)]


def find_run(seq, ref, cyclic):
    """Index in ref at which seq runs contiguously (ref repeated when
    cyclic), or -1."""
    n = len(ref)
    for i in range(n):
        if ref[i] != seq[0]:
            continue
        if cyclic:
            if all(seq[k] == ref[(i + k) % n] for k in range(len(seq))):
                return i
        elif ref[i:i + len(seq)] == seq:
            return i
    return -1


def audio_packets(path):
    r = run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map",
             "0:a:0", "-c", "copy", "-f", "framemd5", "-"])
    if r.returncode != 0:
        fail("%s: audio framemd5: %s" % (path, r.stderr.strip()))
    return [line.split(",")[5].strip() for line in r.stdout.splitlines()
            if line.strip() and not line.startswith("#")]


def alaw_bytes(path):
    """The A-law samples of the first audio track, as bytes."""
    r = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path,
                        "-map", "0:a:0", "-c", "copy", "-f", "alaw", "-"],
                       capture_output=True, check=False)
    if r.returncode != 0:
        fail("%s: A-law samples: %s" % (path, r.stderr.decode().strip()))
    return r.stdout


def common_run(got, i, ref, pos):
    """How many items of got from i equal ref's from pos."""
    lo, hi = 0, min(len(got) - i, len(ref) - pos)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if got[i:i + mid] == ref[pos:pos + mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def find_after(ref, piece, start):
    """The first index from start at which piece runs in ref, or -1."""
    if isinstance(ref, bytes):
        return ref.find(piece, start)
    for j in range(start, len(ref) - len(piece) + 1):
        if ref[j:j + len(piece)] == piece:
            return j
    return -1


def audio_runs(got, ref, piece):
    """Splits got into runs of ref, in ref's order: returns how many items
    of ref lie between the runs, or -1 if got holds anything ref does not
    have there (changed, repeated or reordered audio). Runs are told apart
    by pieces of that many items."""
    pos = find_after(ref, got[:piece], 0)
    if pos < 0:
        return -1
    i = missing = 0
    while True:
        k = common_run(got, i, ref, pos)
        i += k
        pos += k
        if i == len(got):
            return missing
        at = find_after(ref, got[i:i + piece], pos)
        if at < 0:
            return -1
        missing += at - pos
        pos = at


def check_audio(acodec, ref, seg, max_gap_ms):
    """The segment's audio is ffmpeg's, in its order (AAC frame by frame,
    A-law byte by byte), with at most max_gap_ms of ffmpeg's left out.
    Returns (frames or bytes, ms left out)."""
    name = os.path.basename(seg)
    if acodec == "aac":
        got = audio_packets(seg)
        r = run(["ffprobe", "-v", "error", "-select_streams", "a:0",
                 "-show_entries", "stream=sample_rate", "-of", "csv=p=0",
                 seg])
        ms_per = 1024 * 1000.0 / int(r.stdout.strip())
        missing = audio_runs(got, ref, 3) if got else -1
    else:
        got = alaw_bytes(seg)
        ms_per = 1000.0 / 8000
        missing = audio_runs(got, ref, 160) if got else -1
    if not got:
        fail(name + ": no audio")
    if missing < 0:
        fail("%s: its audio (%d %s) is not ffmpeg's, in ffmpeg's order"
             % (name, len(got), "AAC frames" if acodec == "aac" else
                "A-law samples"))
    if missing * ms_per > max_gap_ms:
        fail("%s: %.1f ms of ffmpeg's audio missing inside the segment "
             "(at most %d)" % (name, missing * ms_per, max_gap_ms))
    return len(got), missing * ms_per


def main():
    vcodec, acodec, min_frames = sys.argv[1], sys.argv[2], int(sys.argv[3])
    fps, max_gap_ms = float(sys.argv[4]), int(sys.argv[5])
    source, reference, segs = sys.argv[6], sys.argv[7], sys.argv[8:]
    if not segs:
        fail("no segments")
    nvr = []
    audio = 0
    gap_ms = 0.0
    aref = audio_packets(reference) if acodec == "aac" else alaw_bytes(
        reference)
    for s in segs:
        pk = check_segment(s, vcodec)
        r = run(["ffprobe", "-v", "error", "-select_streams", "v:0",
                 "-count_packets", "-show_entries", "stream=nb_read_packets",
                 "-of", "csv=p=0", s])
        n = int(r.stdout.strip() or 0)
        if n != len(pk):
            fail("%s: ffprobe counts %d video packets, framemd5 %d"
                 % (s, n, len(pk)))
        nvr += [p[3] for p in pk]
        n, ms = check_audio(acodec, aref, s, max_gap_ms)
        audio += n
        gap_ms += ms
    if len(nvr) < min_frames:
        fail("%s: nvr recorded %d frames, want at least %d"
             % (vcodec, len(nvr), min_frames))
    ref = hashes(reference, vcodec)
    at = find_run(nvr, ref, False)
    if at < 0:
        # Say where the runs part, for the log.
        best = 0
        for i in range(len(ref)):
            k = 0
            while k < len(nvr) and i + k < len(ref) and ref[i + k] == nvr[k]:
                k += 1
            best = max(best, k)
        fail("%s: nvr's %d frames are not one run of ffmpeg's %d "
             "(longest common run from nvr's first frame: %d)"
             % (vcodec, len(nvr), len(ref), best))
    src = hashes(source, vcodec)
    if find_run(nvr, src, True) < 0:
        fail("%s: nvr's frames are not a run of the looped source's %d"
             % (vcodec, len(src)))
    print("%s+%s: nvr's %d frames in %d segments are ffmpeg's frames "
          "%d..%d of %d (ffmpeg began %.2f s earlier, ended %.2f s later) "
          "and a run of the looped source's %d, byte for byte; audio: %d %s, "
          "ffmpeg's, %.1f ms of it missing"
          % (vcodec, acodec, len(nvr), len(segs), at, at + len(nvr) - 1,
             len(ref), at / fps, (len(ref) - at - len(nvr)) / fps, len(src),
             audio, "AAC frames" if acodec == "aac" else "A-law samples",
             gap_ms))

if __name__ == "__main__":
    main()
