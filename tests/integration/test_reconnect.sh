#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A camera that goes away and comes back (camsim mount taken down through
# its control file): recording resumes within 10 s of its return and
# 'nvr recordings --json' shows the gap. The other camera is undisturbed.
# SIGTERM then finishes the open segments and exits 0.
. "$NVR_TEST_LIB"

mkdir -p "$T/control"
start_camsim cam --mount one --mount two --control "$T/control"
cfg="$T/nvr.ini"
write_config "$cfg" "$T/storage" 60
add_camera "$cfg" one "rtsp://127.0.0.1:$CAMSIM_PORT/one"
add_camera "$cfg" two "rtsp://127.0.0.1:$CAMSIM_PORT/two"
start_nvr "$cfg" nvr
wait_for 20 state_is "$cfg" one recording || fail "camera one not recording"
wait_for 20 state_is "$cfg" two recording || fail "camera two not recording"
record_for "$cfg" 5 one two

down_us=$(($(date +%s%N) / 1000))
touch "$T/control/one.down"
not_recording() {
    ! state_is "$cfg" one recording
}
wait_for 20 not_recording || fail "camera one still recording while its camera is down"
ok "camera one lost: $(camera_state "$cfg" one) ($(camera_field "$cfg" one error))"
state_is "$cfg" two recording || fail "camera two disturbed by camera one's outage"
wait_for 20 no_frame_for "$cfg" one 4 || fail "camera one recorded while its camera was down"
rm "$T/control/one.down"
up_us=$(($(date +%s%N) / 1000))

# Recording resumes within 10 s: a frame newer than the camera's return.
resumed() {
    local last
    last=$("$NVR" status -c "$cfg" --json | jq -r '.cameras[] | select(.name=="one") | .last_frame_us')
    [ "$last" != null ] && [ "$last" -gt "$up_us" ] && state_is "$cfg" one recording
}
wait_for 10 resumed || fail "recording of camera one did not resume within 10 s"
ok "recording resumed $(( ($(date +%s%N) / 1000 - up_us) / 1000 )) ms after the camera returned"
record_for "$cfg" 3 one
stop_nvr

"$NVR" recordings -c "$cfg" --camera one --json >"$T/rec.json"
jq -e '(.gaps | length) >= 1' "$T/rec.json" >/dev/null || fail "no gap: $(cat "$T/rec.json")"
gap_start=$(jq '.gaps[0].start_us' "$T/rec.json")
gap_end=$(jq '.gaps[0].end_us' "$T/rec.json")
# The gap covers the outage (a GOP of slack either side).
[ "$gap_start" -le $((down_us + 2000000)) ] || fail "gap starts at $gap_start, after the outage began ($down_us)"
[ "$gap_end" -ge $((up_us - 1000000)) ] || fail "gap ends at $gap_end, before the camera returned ($up_us)"
[ "$gap_end" -le $((up_us + 10000000)) ] || fail "gap ends at $gap_end, more than 10 s after the camera returned"
jq -e '.gaps[0].reason | length > 0' "$T/rec.json" >/dev/null || fail "gap has no reason"
jq -e '(.segments | length) >= 2 and all(.segments[]; .sha256 != null and .open == false)' \
    "$T/rec.json" >/dev/null || fail "segments after SIGTERM: $(cat "$T/rec.json")"
ok "recordings shows the gap: $(jq -c '.gaps[0] | [.start, .end, .reason]' "$T/rec.json")"

"$NVR" recordings -c "$cfg" --camera two --json >"$T/rec2.json"
jq -e '(.gaps | length) == 0' "$T/rec2.json" >/dev/null || fail "camera two has gaps: $(jq -c .gaps "$T/rec2.json")"
ok "camera two has no gap"
check_storage "$T/storage"
