#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Lip sync, measured: camsim --sync-marks puts a white frame in the video
# and starts a beep in the audio at the same media instant every 2 s. nvr
# records three such cameras: one with normal RTCP, one whose audio sender
# reports come 10 s late (--audio-rtcp late), one whose audio sends none
# (--audio-rtcp none: only RTP-Info can place it). lipsync_measure decodes
# the segments, pairs each flash with its beep and fails when audio and
# video are more than 20 ms apart: in the segments from start-up, and in
# those after every camera was switched off and on again (a reboot: new
# session, new RTP time bases). Last, it must see an artificial 60 ms
# offset in a copy of a good segment.
. "$NVR_TEST_LIB"
. "$(dirname "$0")/media_checks.sh"
: "${LIPSYNC_MEASURE:?LIPSYNC_MEASURE must name the lipsync_measure binary}"

MAX_MS=20
# Frames (25 fps) each phase records per camera: past the late sender
# reports (10 s) with several marks after them.
PHASE_FRAMES=350
CAMS=(normal late none)

mkdir -p "$T/control"
cfg="$T/nvr.ini"
write_config "$cfg" "$T/storage" 60
for c in "${CAMS[@]}"; do
    start_camsim "$c" --mount "$c" --audio pcma --sync-marks \
        --width 320 --height 180 --audio-rtcp "$c" --control "$T/control"
    add_camera "$cfg" "$c" "rtsp://127.0.0.1:$CAMSIM_PORT/$c"
done
start_nvr "$cfg" nvr

# last_segment_frames NAME: video frames in the camera's newest segment.
last_segment_frames() {
    local f
    f=$(segment_paths "$cfg" "$1" | tail -n 1)
    [ -n "$f" ] && [ -f "$f" ] || { echo 0; return; }
    ffprobe_frames "$f" 2>/dev/null || echo 0
}

# recorded NAME SEGMENTS: the camera has SEGMENTS segments and the newest
# holds PHASE_FRAMES frames.
recorded() {
    [ "$(segment_paths "$cfg" "$1" | wc -l)" -ge "$2" ] &&
        [ "$(last_segment_frames "$1")" -ge "$PHASE_FRAMES" ]
}

all_recorded() {
    local c
    for c in "${CAMS[@]}"; do recorded "$c" "$1" || return 1; done
}

all_state() {
    local c
    for c in "${CAMS[@]}"; do state_is "$cfg" "$c" "$1" || return 1; done
}

none_recording() {
    local c
    for c in "${CAMS[@]}"; do
        ! state_is "$cfg" "$c" recording || return 1
    done
}

wait_for 20 all_state recording || fail "cameras not recording"
wait_for 60 all_recorded 1 || fail "start-up: segments did not reach $PHASE_FRAMES frames"
ok "start-up recorded"

# Switched off and on: the connection drops; the camera comes back with a
# new pipeline (new SSRC, sequence and RTP time bases) and a new session.
for c in "${CAMS[@]}"; do touch "$T/control/$c.down"; done
wait_for 20 none_recording || fail "cameras still recording while down"
for c in "${CAMS[@]}"; do rm "$T/control/$c.down"; done
wait_for 30 all_state recording || fail "cameras not recording after the reboot"
wait_for 60 all_recorded 2 || fail "after the reboot: segments did not reach $PHASE_FRAMES frames"
ok "recorded after the reboot"
stop_nvr

for c in "${CAMS[@]}"; do
    mapfile -t segs < <(segment_paths "$cfg" "$c")
    [ "${#segs[@]}" -ge 2 ] || fail "$c: ${#segs[@]} segments, want 2 (start-up, after the reboot)"
    echo "--- $c: start-up"
    "$LIPSYNC_MEASURE" --max-ms "$MAX_MS" --min-pairs 5 "${segs[0]}" |
        tee "$T/$c-startup.txt" || fail "$c: start-up out of sync (see above)"
    echo "--- $c: after the reboot"
    "$LIPSYNC_MEASURE" --max-ms "$MAX_MS" --min-pairs 5 "${segs[@]:1}" |
        tee "$T/$c-reboot.txt" || fail "$c: after the reboot out of sync (see above)"
    ok "$c: audio and video within $MAX_MS ms, at start-up and after the reboot"
done

# The measurement itself: the same segment with its audio 60 ms late.
first=$(segment_paths "$cfg" normal | head -n 1)
ffmpeg -v error -i "$first" -itsoffset 0.060 -i "$first" -map 0:v -map 1:a \
    -c copy -y "$T/shifted.mkv" || fail "cannot make the shifted copy"
rc=0
"$LIPSYNC_MEASURE" --max-ms "$MAX_MS" --min-pairs 5 "$T/shifted.mkv" >"$T/shifted.txt" || rc=$?
cat "$T/shifted.txt"
[ "$rc" -eq 1 ] || fail "a 60 ms offset was not detected (exit $rc)"
grep -qE 'offset \+(5[5-9]|6[0-5])\.[0-9] ms' "$T/shifted.txt" ||
    fail "the 60 ms offset was not measured as such"
ok "an artificial 60 ms offset is measured and fails"
