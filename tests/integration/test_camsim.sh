#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Checks the simulated camera itself, so that a failing nvr integration test
# can be told apart from a broken camsim: the stdout READY/MOUNT protocol,
# H.264 over RTSP/TCP on two mounts, Digest authentication, mounts going
# down and up through the control directory; then the issue-3 options:
# H.264/H.265/MJPEG video with AAC/PCMA/PCMU audio over TCP and UDP
# (ffprobe), --transport tcp|udp refusing the other one, a pre-encoded
# --clip on two mounts, and the .reboot/.stall/.drop control files (seen
# in the RTP headers by tests/camsim/rtpwatch.py). Self-contained on
# purpose (no lib.sh). Needs $CAMSIM, ffprobe, ffmpeg (libx264), jq and
# python3.
set -euo pipefail

: "${CAMSIM:?CAMSIM must point to the camsim binary}"
command -v ffprobe >/dev/null || {
    echo "test_camsim: ffprobe not found (Debian package ffmpeg)" >&2
    exit 1
}

USER_NAME=viewer
USER_PASS='s3cret-pw'
READY_TIMEOUT_S=10
PROBE_TIMEOUT_S=15

HERE=$(cd "$(dirname "$0")" && pwd)
RTPWATCH="$HERE/../camsim/rtpwatch.py"
MAKE_CLIP="$HERE/../camsim/make_clip.sh"

work=$(mktemp -d /tmp/test_camsim.XXXXXX)
camsim_pid=

cleanup() {
    if [ -n "$camsim_pid" ] && kill -0 "$camsim_pid" 2>/dev/null; then
        kill -TERM "$camsim_pid" 2>/dev/null || true
        wait "$camsim_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

fail() {
    echo "test_camsim: FAIL: $*" >&2
    if [ -f "$work/camsim.err" ]; then
        echo "--- camsim stderr:" >&2
        cat "$work/camsim.err" >&2
    fi
    exit 1
}

# wait_for TIMEOUT_S COMMAND...: polls every 0.1 s until COMMAND succeeds
# (lib.sh's, which this test does not source).
wait_for() {
    local timeout=$1
    shift
    local end=$((SECONDS + timeout))
    while ! "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$end" ] || return 1
        sleep 0.1
    done
}

# ready_or_gone: camsim printed READY, or exited (the caller tells which).
ready_or_gone() {
    grep -q '^READY port=' "$work/camsim.out" 2>/dev/null ||
        ! kill -0 "$camsim_pid" 2>/dev/null
}

# probe URL -> prints "codec,width" of the first video stream; non-zero exit
# when the camera refuses or does not answer.
probe() {
    timeout "$PROBE_TIMEOUT_S" ffprobe -v error -rtsp_transport tcp \
        -select_streams v:0 -show_entries stream=codec_name,width \
        -of csv=p=0 "$1" 2>"$work/probe.err"
}

mkdir "$work/ctl"
"$CAMSIM" --port 0 --mount cam1 --mount cam2 \
    --user "$USER_NAME" --pass "$USER_PASS" --control "$work/ctl" \
    >"$work/camsim.out" 2>"$work/camsim.err" &
camsim_pid=$!

# Wait for the READY line; camsim prints it only once it listens.
wait_for "$READY_TIMEOUT_S" ready_or_gone || fail "no READY within ${READY_TIMEOUT_S}s"
kill -0 "$camsim_pid" 2>/dev/null || fail "camsim exited before READY"
# The MOUNT lines follow READY in the same flush.
wait_for 5 grep -q '^MOUNT .*/cam2$' "$work/camsim.out" || fail "no MOUNT line for cam2"
port=$(sed -n 's/^READY port=\([0-9]\+\)$/\1/p' "$work/camsim.out")
if [ -z "$port" ] || [ "$port" -le 0 ]; then
    fail "bad READY line: $(head -n 1 "$work/camsim.out")"
fi
mapfile -t mounts < <(sed -n 's/^MOUNT //p' "$work/camsim.out")
[ "${#mounts[@]}" -eq 2 ] || fail "expected 2 MOUNT lines, got ${#mounts[@]}"
[ "${mounts[0]}" = "rtsp://127.0.0.1:$port/cam1" ] || fail "MOUNT ${mounts[0]}"
[ "${mounts[1]}" = "rtsp://127.0.0.1:$port/cam2" ] || fail "MOUNT ${mounts[1]}"
echo "ok - READY port=$port with 2 MOUNT lines"

auth="$USER_NAME:$USER_PASS@127.0.0.1:$port"

for cam in cam1 cam2; do
    out=$(probe "rtsp://$auth/$cam") || fail "$cam: ffprobe failed: $(cat "$work/probe.err")"
    [ "$out" = "h264,640" ] || fail "$cam: expected h264,640 got '$out'"
    echo "ok - $cam serves h264 640 wide over TCP"
done

if probe "rtsp://127.0.0.1:$port/cam1" >/dev/null; then
    fail "no credentials accepted"
fi
grep -q '401' "$work/probe.err" || fail "no 401 without credentials: $(cat "$work/probe.err")"
echo "ok - no credentials gets 401"

if probe "rtsp://$USER_NAME:wrong@127.0.0.1:$port/cam1" >/dev/null; then
    fail "wrong password accepted"
fi
echo "ok - wrong password refused"

# cam1 down: ffprobe must fail (404) while cam2 keeps serving.
touch "$work/ctl/cam1.down"
cam1_refused() { ! probe "rtsp://$auth/cam1"; }
wait_for 5 cam1_refused || fail "cam1 still serves with cam1.down"
grep -q '404' "$work/probe.err" || fail "down mount did not answer 404: $(cat "$work/probe.err")"
out=$(probe "rtsp://$auth/cam2") || fail "cam2 failed while only cam1 was down"
[ "$out" = "h264,640" ] || fail "cam2: got '$out' while cam1 down"
grep -q 'camsim: mount cam1 down' "$work/camsim.err" || fail "no down log line"
echo "ok - cam1.down takes cam1 down, cam2 unaffected"

rm "$work/ctl/cam1.down"
wait_for 10 probe "rtsp://$auth/cam1" || fail "cam1 did not come back: $(cat "$work/probe.err")"
out=$(probe "rtsp://$auth/cam1") || fail "cam1 did not come back: $(cat "$work/probe.err")"
[ "$out" = "h264,640" ] || fail "cam1 after up: got '$out'"
grep -q 'camsim: mount cam1 up' "$work/camsim.err" || fail "no up log line"
echo "ok - removing cam1.down brings cam1 back"

kill -TERM "$camsim_pid"
rc=0
wait "$camsim_pid" || rc=$?
camsim_pid=
[ "$rc" -eq 0 ] || fail "camsim exited $rc on SIGTERM"
echo "ok - camsim exits 0 on SIGTERM"

# --- issue 3: codecs, audio, transports, clip, misbehaviour -------------

# start_cs ARGS...: a fresh camsim (the previous one stopped); sets port.
start_cs() {
    if [ -n "$camsim_pid" ]; then
        kill -TERM "$camsim_pid" 2>/dev/null || true
        wait "$camsim_pid" 2>/dev/null || true
        camsim_pid=
    fi
    : >"$work/camsim.out"
    "$CAMSIM" --port 0 "$@" >"$work/camsim.out" 2>"$work/camsim.err" &
    camsim_pid=$!
    wait_for "$READY_TIMEOUT_S" ready_or_gone || fail "camsim $*: no READY"
    kill -0 "$camsim_pid" 2>/dev/null || fail "camsim $* exited before READY"
    port=$(sed -n 's/^READY port=\([0-9]\+\)$/\1/p' "$work/camsim.out")
}

# streams TRANSPORT URL -> "type:codec:width-or-rate" per stream, sorted.
streams() {
    timeout "$PROBE_TIMEOUT_S" ffprobe -v error -rtsp_transport "$1" \
        -show_entries stream=codec_type,codec_name,width,sample_rate \
        -of json "$2" 2>"$work/probe.err" |
        jq -r '.streams[] | "\(.codec_type):\(.codec_name):\(.width // .sample_rate)"' |
        sort | paste -sd ' '
}

for combo in "h264 aac video:h264:640 audio:aac:16000" \
    "h265 pcma video:hevc:640 audio:pcm_alaw:8000" \
    "mjpeg pcmu video:mjpeg:640 audio:pcm_mulaw:8000" \
    "h265 none video:hevc:640"; do
    read -r video audio want_v want_a <<<"$combo"
    want=$(printf '%s\n' $want_a $want_v | sort | paste -sd ' ')
    start_cs --video "$video" --audio "$audio"
    for tr in tcp udp; do
        got=$(streams "$tr" "rtsp://127.0.0.1:$port/cam1") ||
            fail "$video+$audio over $tr: ffprobe failed: $(cat "$work/probe.err")"
        [ "$got" = "$want" ] || fail "$video+$audio over $tr: got '$got', want '$want'"
    done
    echo "ok - --video $video --audio $audio: '$want' over TCP and UDP"
done

# refused TRANSPORT URL: ffprobe must fail with 461 Unsupported Transport.
refused() {
    if timeout "$PROBE_TIMEOUT_S" ffprobe -v error -rtsp_transport "$1" "$2" \
        >/dev/null 2>"$work/probe.err"; then
        return 1
    fi
    grep -q '461' "$work/probe.err"
}

start_cs --transport tcp --audio pcma
got=$(streams tcp "rtsp://127.0.0.1:$port/cam1") || fail "--transport tcp: TCP refused"
[ "$got" = "audio:pcm_alaw:8000 video:h264:640" ] || fail "--transport tcp: got '$got'"
refused udp "rtsp://127.0.0.1:$port/cam1" ||
    fail "--transport tcp: UDP not refused with 461: $(cat "$work/probe.err")"
echo "ok - --transport tcp serves TCP and refuses UDP with 461"

start_cs --transport udp
got=$(streams udp "rtsp://127.0.0.1:$port/cam1") || fail "--transport udp: UDP refused"
[ "$got" = "video:h264:640" ] || fail "--transport udp: got '$got'"
refused tcp "rtsp://127.0.0.1:$port/cam1" ||
    fail "--transport udp: TCP not refused with 461: $(cat "$work/probe.err")"
echo "ok - --transport udp serves UDP and refuses TCP with 461"

# A small pre-encoded clip (4 s at 10 fps, GOP 20) served on two mounts.
"$MAKE_CLIP" "$work/clip.h264" h264 4 320x240 10 300 >/dev/null ||
    fail "make_clip.sh failed"
start_cs --clip "$work/clip.h264" --fps 10 --mount a --mount b --audio aac
grep -q 'clip .*: 40 frames, 2 keyframes' "$work/camsim.err" ||
    fail "clip not split into 40 frames / 2 keyframes: $(cat "$work/camsim.err")"
for m in a b; do
    got=$(streams tcp "rtsp://127.0.0.1:$port/$m") || fail "clip mount $m: $(cat "$work/probe.err")"
    [ "$got" = "audio:aac:16000 video:h264:320" ] || fail "clip mount $m: got '$got'"
done
# Frames arrive at the clip's rate with exact timestamps across a loop.
timeout 20 ffmpeg -v error -rtsp_transport tcp -i "rtsp://127.0.0.1:$port/a" \
    -map 0:v -t 5 -c copy -y "$work/clip_rec.mp4" 2>"$work/probe.err" ||
    fail "recording the clip failed: $(cat "$work/probe.err")"
n=$(ffprobe -v error -select_streams v:0 -count_packets \
    -show_entries stream=nb_read_packets -of csv=p=0 "$work/clip_rec.mp4")
[ "$n" -ge 40 ] && [ "$n" -le 52 ] || fail "clip: $n frames in 5 s at 10 fps"
# Frame steps of 100 ms within 2 ms (ffmpeg's RTCP resync moves a few
# ticks); the first step is the stale preroll frame the server sends.
bad=$(ffprobe -v error -select_streams v:0 -show_entries packet=pts_time \
    -of csv=p=0 "$work/clip_rec.mp4" |
    awk 'NR > 2 && ($1 - p < 0.098 || $1 - p > 0.102) {b++} {p = $1}
        END {print b + 0}')
[ "$bad" -eq 0 ] || fail "clip: $bad irregular frame intervals"
echo "ok - --clip serves 2 mounts at 10 fps with regular timestamps ($n frames in 5 s)"

# Misbehaviour: .reboot, .stall, .drop while one client plays.
rm -f "$work/ctl/"*
start_cs --audio pcma --control "$work/ctl"
url="rtsp://127.0.0.1:$port/cam1"
# Each rtpwatch run writes a log of its own: the shell truncates a
# background job's log only once the job has started, so a shared file
# could still hold the previous run's "playing" when it is first read.
python3 "$RTPWATCH" "$url" 4 >"$work/reboot.json" 2>"$work/reboot.err" &
watch_pid=$!
# Reboot once every track has packets of the first SSRC.
wait_for 10 grep -q '^rtpwatch: playing' "$work/reboot.err" ||
    fail "rtpwatch saw no packets: $(cat "$work/reboot.err")"
touch "$work/ctl/cam1.reboot"
wait "$watch_pid" || fail "rtpwatch: $(cat "$work/reboot.err")"
[ ! -e "$work/ctl/cam1.reboot" ] || fail ".reboot file not consumed"
grep -q 'camsim: mount cam1 reboot ssrc=' "$work/camsim.err" || fail "no reboot log line"
for t in 0 1; do
    jq -e --argjson t "$t" '.tracks[$t].ssrcs | length == 2 and .[0].ssrc != .[1].ssrc' \
        "$work/reboot.json" >/dev/null || fail "track $t: no new SSRC after .reboot: $(cat "$work/reboot.json")"
    # A new random sequence base (not the next number after the old one).
    jq -e --argjson t "$t" '.tracks[$t].ssrcs[1] | .first_seq != ((.prev_seq + 1) % 65536)' \
        "$work/reboot.json" >/dev/null || fail "track $t: sequence continued across the reboot"
done
# The live encoder restarts with a keyframe: STAP-A with SPS/PPS first.
jq -e '.tracks[0].ssrcs[1].first_byte % 32 == 24' "$work/reboot.json" >/dev/null ||
    fail "video after reboot does not start with SPS/PPS: $(cat "$work/reboot.json")"
echo "ok - .reboot: new SSRC and sequence on both tracks, same connection, keyframe first"

python3 "$RTPWATCH" "$url" 5 >"$work/stall.json" 2>"$work/stall.err" &
watch_pid=$!
wait_for 10 grep -q '^rtpwatch: playing' "$work/stall.err" ||
    fail "rtpwatch saw no packets: $(cat "$work/stall.err")"
touch "$work/ctl/cam1.stall"
# Resume once rtpwatch has heard nothing on any track for 1.6 s.
wait_for 10 grep -q '^rtpwatch: silent' "$work/stall.err" ||
    fail ".stall did not silence the tracks: $(cat "$work/stall.err")"
rm "$work/ctl/cam1.stall"
wait "$watch_pid" || fail "rtpwatch during stall: $(cat "$work/stall.err")"
jq -e '.tracks | all(.max_silence_s >= 1.5 and .packets > 0)' "$work/stall.json" >/dev/null ||
    fail ".stall did not silence every track: $(cat "$work/stall.json")"
jq -e '.tracks | all(.ssrcs | length == 1)' "$work/stall.json" >/dev/null ||
    fail ".stall changed the SSRC"
grep -q 'camsim: mount cam1 stall on' "$work/camsim.err" || fail "no stall log line"
echo "ok - .stall: media stop and resume on the same connection"

touch "$work/ctl/cam1.drop"
wait_for 5 grep -q 'camsim: mount cam1 drop on' "$work/camsim.err" || fail "camsim did not take .drop"
python3 "$RTPWATCH" "$url" 4 >"$work/drop.json" 2>"$work/drop.err" ||
    fail "rtpwatch during drop: $(cat "$work/drop.err")"
rm "$work/ctl/cam1.drop"
# About 10% lost: accept 3..25% of the packets sent (pcma: 50/s).
jq -e '.tracks[1] | (.lost / (.lost + .packets)) as $r | $r >= 0.03 and $r <= 0.25' \
    "$work/drop.json" >/dev/null || fail ".drop loss ratio off: $(cat "$work/drop.json")"
jq -e '.tracks[0].lost > 0' "$work/drop.json" >/dev/null || fail ".drop lost no video packet"
echo "ok - .drop: $(jq -r '.tracks[1] | "\(.lost) of \(.lost + .packets)"' "$work/drop.json") audio packets lost"

kill -TERM "$camsim_pid"
rc=0
wait "$camsim_pid" || rc=$?
camsim_pid=
[ "$rc" -eq 0 ] || fail "camsim exited $rc on SIGTERM"
