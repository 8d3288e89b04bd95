#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Writes a pre-encoded Annex B clip for `camsim --clip`: a test pattern
# (testsrc2) encoded once by ffmpeg, 1080p25 at about 4 Mbit/s, 10 s, one
# IDR every 50 frames, no B-frames, parameter sets before every IDR.
#
#   make_clip.sh OUT [h264|h265] [SECONDS] [WxH] [FPS] [KBPS]
#
# The codec defaults to h264 (libx264); h265 uses libx265. The output is a
# raw elementary stream (.h264 / .h265), which camsim loops at --fps.
set -euo pipefail

usage() {
    echo "usage: $0 OUT [h264|h265] [SECONDS] [WxH] [FPS] [KBPS]" >&2
    exit 2
}

[ $# -ge 1 ] || usage
out=$1
codec=${2:-h264}
seconds=${3:-10}
size=${4:-1920x1080}
fps=${5:-25}
kbps=${6:-4000}
gop=$((2 * fps))

command -v ffmpeg >/dev/null || {
    echo "$0: ffmpeg not found (Debian package ffmpeg)" >&2
    exit 1
}
[[ "$seconds" =~ ^[0-9]+$ && "$fps" =~ ^[0-9]+$ && "$kbps" =~ ^[0-9]+$ ]] || usage
[[ "$size" =~ ^[0-9]+x[0-9]+$ ]] || usage

case "$codec" in
h264)
    # Raw H.264 output has no global header, so libx264 repeats SPS/PPS
    # before every IDR (repeat-headers), which lets a client join at any
    # keyframe.
    enc=(-c:v libx264 -preset veryfast -profile:v high -pix_fmt yuv420p
        -bf 0 -g "$gop" -keyint_min "$gop" -sc_threshold 0
        -b:v "${kbps}k" -maxrate "${kbps}k" -bufsize "$((2 * kbps))k"
        -x264-params "repeat-headers=1:aud=0"
        -f h264)
    ;;
h265)
    enc=(-c:v libx265 -preset veryfast -pix_fmt yuv420p
        -b:v "${kbps}k"
        -x265-params "keyint=$gop:min-keyint=$gop:scenecut=0:bframes=0:repeat-headers=1:log-level=error"
        -f hevc)
    ;;
*)
    usage
    ;;
esac

ffmpeg -hide_banner -loglevel error -y \
    -f lavfi -i "testsrc2=size=$size:rate=$fps" -t "$seconds" \
    "${enc[@]}" "$out"
echo "$out: $codec ${size}@${fps} ${kbps} kbit/s, ${seconds} s, GOP $gop"
