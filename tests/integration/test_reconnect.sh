#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A camera that goes away and comes back (camsim mount taken down through
# its control file): recording resumes within 2 s of its return (the log
# line against the moment it came back) and 'nvr recordings --json' shows
# the gap. The other camera is undisturbed. A third camera goes down with
# the first and stays down: it is tried no more often than the backoff
# says (at least 1 s apart, and at the growing backoff once the first
# 20 s after it stopped recording are over). SIGTERM then finishes the
# open segments and exits 0.
. "$NVR_TEST_LIB"

mkdir -p "$T/control"
start_camsim cam --mount one --mount two --mount three --control "$T/control"
cfg="$T/nvr.ini"
write_config "$cfg" "$T/storage" 60
add_camera "$cfg" one "rtsp://127.0.0.1:$CAMSIM_PORT/one"
add_camera "$cfg" two "rtsp://127.0.0.1:$CAMSIM_PORT/two"
add_camera "$cfg" three "rtsp://127.0.0.1:$CAMSIM_PORT/three"
start_nvr "$cfg" nvr
wait_for 20 state_is "$cfg" one recording || fail "camera one not recording"
wait_for 20 state_is "$cfg" two recording || fail "camera two not recording"
wait_for 20 state_is "$cfg" three recording || fail "camera three not recording"
record_for "$cfg" 5 one two three

down_us=$(($(date +%s%N) / 1000))
down_s=$SECONDS
lines_down=$(wc -l <"$T/nvr.log")
touch "$T/control/one.down" "$T/control/three.down"
not_recording() {
    ! state_is "$cfg" one recording
}
wait_for 20 not_recording || fail "camera one still recording while its camera is down"
ok "camera one lost: $(camera_state "$cfg" one) ($(camera_field "$cfg" one error))"
state_is "$cfg" two recording || fail "camera two disturbed by camera one's outage"
wait_for 20 no_frame_for "$cfg" one 4 || fail "camera one recorded while its camera was down"
lines_before=$(wc -l <"$T/nvr.log")
rm "$T/control/one.down"
up_us=$(($(date +%s%N) / 1000))

# Recording resumes within 2 s: the first "recording" line after the
# camera's return, by its time stamp, and a frame newer than the return.
resumed() {
    local last
    last=$("$NVR" status -c "$cfg" --json | jq -r '.cameras[] | select(.name=="one") | .last_frame_us')
    [ "$last" != null ] && [ "$last" -gt "$up_us" ] && state_is "$cfg" one recording
}
wait_for 10 resumed || fail "recording of camera one did not resume within 10 s"
log_ms() {
    date -d "$(cut -c1-23 <<<"$1")" +%s%3N
}
line=$(tail -n +"$((lines_before + 1))" "$T/nvr.log" | grep -m1 'camera one: recording over') ||
    fail "no 'recording' log line for camera one after its return"
took_ms=$(( $(log_ms "$line") - up_us / 1000 ))
[ "$took_ms" -le 2000 ] || fail "camera one recording again $took_ms ms after it came back (more than 2 s)"
ok "recording resumed $took_ms ms after the camera returned"
record_for "$cfg" 3 one

# Camera three, down all along: its attempts until the backoff has grown
# past 8 s (the 20 s of prompt retries are over).
three_backed_off() {
    local d
    d=$(grep 'camera three: .*retrying in' "$T/nvr.log" | tail -n 1 |
        sed -n 's/.*retrying in \([0-9.]*\) s$/\1/p')
    at_least "${d:-0}" 8
}
wait_for 45 three_backed_off || fail "the backoff of camera three did not grow: $(grep 'camera three' "$T/nvr.log" | tail -n 3)"
tail -n +"$((lines_down + 1))" "$T/nvr.log" |
    grep -E 'camera three: (connecting to|.*retrying in)' >"$T/three.log"
prev_ms=0 prev_delay_ms=0 n=0 late=0
while IFS= read -r l; do
    t=$(log_ms "$l")
    if [[ $l == *"retrying in"* ]]; then
        d=$(sed -n 's/.*retrying in \([0-9.]*\) \(m\?s\)$/\1 \2/p' <<<"$l")
        case $d in
        *" ms") prev_delay_ms=${d% ms} ;;
        *" s") prev_delay_ms=$(awk -v s="${d% s}" 'BEGIN { printf "%d", s * 1000 }') ;;
        *) fail "cannot read the delay of: $l" ;;
        esac
        prev_ms=$t
        # Past the first 20 s after the loss, the delay has grown again.
        [ $(( t - down_us / 1000 )) -lt 22000 ] || [ "$prev_delay_ms" -gt 2000 ] || late=1
    elif [ "$prev_ms" -gt 0 ]; then
        n=$((n + 1))
        # (delays are logged to 0.1 s, times to 1 ms)
        [ $((t - prev_ms)) -ge $((prev_delay_ms - 60)) ] ||
            fail "camera three tried again $((t - prev_ms)) ms after announcing $prev_delay_ms ms"
        [ "$prev_delay_ms" -ge 900 ] ||
            fail "camera three retried after only $prev_delay_ms ms"
    fi
done <"$T/three.log"
[ "$late" -eq 0 ] || fail "camera three still retried within 2 s more than 20 s after it went down: $(tail -n 4 "$T/three.log")"
[ "$n" -ge 5 ] && [ "$n" -le 16 ] ||
    fail "camera three: $n attempts in $((SECONDS - down_s)) s down: $(cat "$T/three.log")"
last_delay_s=$(tail -n 1 "$T/three.log" | sed -n 's/.*retrying in \([0-9.]*\) s$/\1/p')
at_least "${last_delay_s:-0}" 8 || fail "backoff of camera three did not grow: $(tail -n 2 "$T/three.log")"
ok "camera three, down $((SECONDS - down_s)) s: $n attempts, each after its backoff; last backoff ${last_delay_s} s"
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
