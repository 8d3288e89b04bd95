#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Checks the simulated camera itself, so that a failing nvr integration test
# can be told apart from a broken camsim: the stdout READY/MOUNT protocol,
# H.264 over RTSP/TCP on two mounts, Digest authentication, and mounts going
# down and up through the control directory. Self-contained on purpose (no
# lib.sh). Needs $CAMSIM and ffprobe.
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
deadline=$((SECONDS + READY_TIMEOUT_S))
until grep -q '^READY port=' "$work/camsim.out" 2>/dev/null; do
    kill -0 "$camsim_pid" 2>/dev/null || fail "camsim exited before READY"
    [ "$SECONDS" -lt "$deadline" ] || fail "no READY within ${READY_TIMEOUT_S}s"
    sleep 0.1
done
# The MOUNT lines follow READY in the same flush; allow a moment anyway.
sleep 0.2
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
deadline=$((SECONDS + 5))
while probe "rtsp://$auth/cam1" >/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || fail "cam1 still serves with cam1.down"
    sleep 0.2
done
grep -q '404' "$work/probe.err" || fail "down mount did not answer 404: $(cat "$work/probe.err")"
out=$(probe "rtsp://$auth/cam2") || fail "cam2 failed while only cam1 was down"
[ "$out" = "h264,640" ] || fail "cam2: got '$out' while cam1 down"
grep -q 'camsim: mount cam1 down' "$work/camsim.err" || fail "no down log line"
echo "ok - cam1.down takes cam1 down, cam2 unaffected"

rm "$work/ctl/cam1.down"
deadline=$((SECONDS + 10))
until out=$(probe "rtsp://$auth/cam1"); do
    [ "$SECONDS" -lt "$deadline" ] || fail "cam1 did not come back: $(cat "$work/probe.err")"
    sleep 0.2
done
[ "$out" = "h264,640" ] || fail "cam1 after up: got '$out'"
grep -q 'camsim: mount cam1 up' "$work/camsim.err" || fail "no up log line"
echo "ok - removing cam1.down brings cam1 back"

kill -TERM "$camsim_pid"
rc=0
wait "$camsim_pid" || rc=$?
camsim_pid=
[ "$rc" -eq 0 ] || fail "camsim exited $rc on SIGTERM"
echo "ok - camsim exits 0 on SIGTERM"
