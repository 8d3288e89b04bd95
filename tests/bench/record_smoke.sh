#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Smoke run of tests/bench/record (the 'bench' suite): two streams for ten
# seconds on a small clip, so the benchmark cannot rot. It checks only that
# the script ran to the end and printed the table with both recorders;
# the figures themselves are never asserted.
set -euo pipefail

: "${NVR:?NVR must name the nvr binary}"
: "${CAMSIM:?CAMSIM must name the camsim binary}"
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d "${TMPDIR:-/tmp}/nvr-bench-smoke.XXXXXX")
trap 'rm -rf "$out"' EXIT
export NVR_BENCH_CACHE="$out/cache"

"$here/record" -n 2 -t 10 --warmup 1 --size 320x180 --bitrate 400 \
    --clip-seconds 4 --format md >"$out/table.md"
cat "$out/table.md"
grep -Eq '^\| +\| nvr \| ffmpeg \| nvr/ffmpeg \|$' "$out/table.md" ||
    { echo "FAIL: no table header with both sides" >&2; exit 1; }
for label in 'CPU s per stream-minute' 'peak RSS total, MB' \
    'bytes written, MB' 'frames expected' 'frames in segments' \
    'payload identical to clip' 'camsim CPU s per stream-minute'; do
    grep -q "^| $label" "$out/table.md" ||
        { echo "FAIL: no row '$label'" >&2; exit 1; }
done
echo "ok: tests/bench/record printed the table for nvr and ffmpeg"
