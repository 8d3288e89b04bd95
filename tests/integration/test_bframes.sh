#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# B-frames are recorded, not thrown away: nvr and, over the same span,
# `ffmpeg -c copy` record camsim's H.264 (x264, 2 B-frames, with AAC) and
# H.265 (x265, 3 B-frames) streams. Every nvr segment decodes without an
# error, has strictly increasing DTS, PTS in presentation order and starts
# at its first presented frame; over the span both hold, nvr has every frame
# ffmpeg has, with the same bytes at the same presentation time, and as
# many frames per second of footage (bframes_compare.py); the audio
# starts within 100 ms of the first frame shown.
. "$NVR_TEST_LIB"
. "$(dirname "$0")/media_checks.sh"

RECORD_S=12
COMPARE="$(dirname "$0")/bframes_compare.py"

start_camsim h264 --mount cam --video h264 --bframes 2 --audio aac
port_h264=$CAMSIM_PORT
start_camsim h265 --mount cam --video h265 --bframes 3
port_h265=$CAMSIM_PORT

cfg="$T/nvr.ini"
write_config "$cfg" "$T/storage" 4
add_camera "$cfg" h264 "rtsp://127.0.0.1:$port_h264/cam"
add_camera "$cfg" h265 "rtsp://127.0.0.1:$port_h265/cam"
start_nvr "$cfg" nvr
for cam in h264 h265; do
    wait_for 20 state_is "$cfg" "$cam" recording ||
        fail "camera $cam not recording: $(camera_state "$cfg" "$cam") ($(camera_field "$cfg" "$cam" error))"
done
ok "both cameras recording"

# ffmpeg records the same streams for RECORD_S + 2 s and stops by itself.
ffpids=()
for cam in h264 h265; do
    port_var=port_$cam
    ffmpeg -nostdin -v error -rtsp_transport tcp \
        -i "rtsp://127.0.0.1:${!port_var}/cam" -t $((RECORD_S + 2)) \
        -c copy -f mp4 -y "$T/ffmpeg_$cam.mp4" >"$T/ffmpeg_$cam.log" 2>&1 &
    ffpids+=("$!")
    PIDS+=("$!")
done
record_for "$cfg" "$RECORD_S" h264 h265
for p in "${ffpids[@]}"; do
    wait_for 30 pid_gone "$p" || fail "ffmpeg did not stop"
done
stop_nvr

compare() {
    local cam=$1 codec=$2 acodec=$3 segs=() f
    mapfile -t segs < <(segment_paths "$cfg" "$cam")
    [ "${#segs[@]}" -ge 2 ] || fail "$cam: only ${#segs[@]} segments"
    for f in "${segs[@]}"; do
        check_av_segment "$f" "$codec" "$acodec"
    done
    python3 "$COMPARE" "$codec" "$T/ffmpeg_$cam.mp4" "${segs[@]}" \
        >"$T/compare_$cam.log" 2>&1 || fail "$cam: $(tail -n 3 "$T/compare_$cam.log")"
    ok "$cam: ${#segs[@]} segments; $(tail -n 1 "$T/compare_$cam.log")"
}
compare h264 h264 aac
compare h265 hevc none

# The catalog holds presentation times: each segment starts where the one
# before it ended (H.265: x265's open GOPs put a leading picture, shown
# just before the CRA that starts a segment, into that segment, where it
# cannot be decoded: a gap of that one frame), and lasts what ffprobe
# reads in its video track (within a frame). No unit was refused for its decode
# time.
# video_span FILE: seconds from the first video frame shown to the end of
# the last (the audio track may run a little longer).
video_span() {
    ffprobe -v error -select_streams v:0 \
        -show_entries packet=pts_time,duration_time -of csv=p=0 "$1" |
        awk -F, '{ if (n == 0 || $1 < lo) lo = $1; if ($1 + $2 > hi) hi = $1 + $2; n++ }
            END { printf "%.6f\n", hi - lo }'
}

check_catalog() {
    local cam=$1 gap_us=$2 db="$T/storage/catalog.db" prev_end="" start end rel d
    while IFS='|' read -r start end rel; do
        if [ -n "$prev_end" ] && { [ "$start" -lt "$prev_end" ] ||
            [ $((start - prev_end)) -gt "$gap_us" ]; }; then
            fail "$cam: $rel starts at $start, the segment before ended at $prev_end"
        fi
        d=$(video_span "$T/storage/$rel")
        awk -v a="$d" -v s="$start" -v e="$end" \
            'BEGIN { x = a - (e - s) / 1e6; if (x < 0) x = -x; exit !(x <= 0.041) }' ||
            fail "$cam: $rel lasts $d s in its file, $(((end - start) / 1000)) ms in the catalog"
        prev_end=$end
    done < <(sqlite3 "$db" "select s.start_us, s.end_us, s.path from segments s join cameras c on c.id = s.camera_id where c.name = '$cam' order by s.start_us")
    ok "$cam: catalog times are contiguous and match the files"
}
check_catalog h264 0
check_catalog h265 40000
! log_has "$T/nvr.log" "decode time did not increase" ||
    fail "units were refused: $(grep -m 1 'decode time did not increase' "$T/nvr.log")"
