#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# No unit is dropped silently (issue 14 item 2). A camera of tests/hostile
# mode bad-units sends valid H.264 in which, every 50 frames, one frame
# repeats the previous timestamp and one loses its last packet (so the
# frames after it, up to the next IDR, cannot be decoded); a camsim camera
# records beside it. For the hostile camera the refused units must show,
# by reason, in 'nvr status --json' (bad_timestamp, incomplete,
# no_keyframe, in the ratio the stream makes them), in plain 'nvr status',
# in the log at warning level (rate-limited: one line per reason per 10 s),
# in 'nvr tui' at 80x24 (the camera list says LOSS instead of REC, the
# details list the reasons), and in the catalog rows of its segments
# ('nvr recordings --json' .refused, summing to the status counts); the
# healthy camera shows zero for every reason, everywhere.
. "$NVR_TEST_LIB"

: "${HOSTILE:?HOSTILE must name the hostile server binary}"
command -v tmux >/dev/null || fail "tmux is not installed (setup.sh installs it)"

RUN_S=${REFUSED_RUN_S:-14}

start_camsim good --mount good --fps 25 --width 320 --height 180
cfg="$T/nvr.ini"
write_config "$cfg" "$T/storage" 4
add_camera "$cfg" good "rtsp://127.0.0.1:$CAMSIM_PORT/good"
"$HOSTILE" --mode bad-units --port 0 >"$T/h.out" 2>"$T/h.err" &
PIDS+=("$!")
wait_for 10 grep -q '^READY port=' "$T/h.out" || fail "hostile did not start"
port=$(sed -n 's/^READY port=\([0-9]*\).*/\1/p' "$T/h.out")
add_camera "$cfg" bad "rtsp://127.0.0.1:$port/stream"

NVR_LOG_LEVEL=info start_nvr "$cfg" nvr
wait_for 20 state_is "$cfg" good recording || fail "the good camera is not recording"
wait_for 20 state_is "$cfg" bad recording || fail "the bad-units camera is not recording"
started=$SECONDS

# refused NAME REASON: one reason's count in 'nvr status --json'.
refused() {
    "$NVR" status -c "$cfg" --json |
        jq -r --arg n "$1" --arg r "$2" '.cameras[] | select(.name == $n) | .refused[$r]'
}
refused_at_least() { [ "$(refused "$1" "$2")" -ge "$3" ]; }
wait_for 20 refused_at_least bad bad_timestamp 2 ||
    fail "no bad_timestamp refusals: $("$NVR" status -c "$cfg" --json | jq -c '.cameras[] | select(.name == "bad")')"

# ---- the TUI at 80x24, while the camera is losing units ----
SOCK="$T/tmux.sock"
tmx() { tmux -S "$SOCK" -f /dev/null "$@"; }
cleanup_tmux() { tmx kill-server 2>/dev/null || true; }
trap 'cleanup_tmux; cleanup' EXIT
tmx new-session -d -s tui -x 80 -y 24 \
    "env -i PATH=$PATH HOME=$T TERM=xterm-256color LANG=C.UTF-8 PS1='PROMPT\$ ' bash --norc --noprofile"
tmx set-option -g window-size manual
screen() { tmx capture-pane -p -t tui; }
screen_has() { screen | grep -q -- "$1"; }
wait_screen() {
    wait_for "${2:-10}" screen_has "$1" || {
        screen >&2
        fail "screen never showed '$1'"
    }
}
wait_screen 'PROMPT\$'
tmx send-keys -t tui "$NVR tui -c $cfg" Enter
wait_screen 'CAMERA'
# The camera list: "<mark><name padded> <STATE> ...", one row per camera.
cam_row() { screen | grep -E "^[ +]$1 " | head -n 1; }
row_state() { cam_row "$1" | awk '{print $2}'; }
row_state_is() { [ "$(row_state "$1")" = "$2" ]; }
wait_for 10 row_state_is bad LOSS || { screen >&2; fail "the losing camera does not say LOSS: '$(cam_row bad)'"; }
row_state_is good REC || { screen >&2; fail "the healthy camera does not say REC: '$(cam_row good)'"; }
ok "TUI 80x24: bad shows LOSS, good shows REC"
# Select the bad camera (the first one listed is selected) and read its
# details.
first=$(screen | grep -E '^[ +](bad|good) ' | head -n 1 | awk '{print $1}')
[ "$first" = bad ] || tmx send-keys -t tui j
wait_screen 'refused [0-9]* units:'
screen | grep -q -- ' bad_timestamp *[0-9]' || { screen >&2; fail "TUI details lack bad_timestamp"; }
screen | grep -q -- ' no_keyframe *[0-9]' || { screen >&2; fail "TUI details lack no_keyframe"; }
ok "TUI details list the reasons"
tmx send-keys -t tui q
wait_screen 'PROMPT\$ *$'

# ---- status, log and catalog after a while ----
while [ $((SECONDS - started)) -lt "$RUN_S" ]; do
    wait_for 5 state_is "$cfg" good recording || fail "the good camera stopped"
    sleep 1
done
"$NVR" status -c "$cfg" --json >"$T/status.json"
"$NVR" status -c "$cfg" >"$T/status.txt"
jq -c '.cameras[] | {name, dropped, refused}' "$T/status.json"

bt=$(jq '.cameras[] | select(.name == "bad") | .refused.bad_timestamp' "$T/status.json")
inc=$(jq '.cameras[] | select(.name == "bad") | .refused.incomplete' "$T/status.json")
nk=$(jq '.cameras[] | select(.name == "bad") | .refused.no_keyframe' "$T/status.json")
# Each 2 s cycle: 1 repeated time, 1 cut frame, 14 frames before the IDR.
[ "$bt" -ge 3 ] || fail "bad_timestamp $bt after ${RUN_S}s, expected one per 2 s"
[ "$inc" -ge 3 ] || fail "incomplete $inc after ${RUN_S}s, expected one per 2 s"
[ "$nk" -ge $((14 * 3)) ] || fail "no_keyframe $nk, expected 14 per 2 s"
at_least $((inc + 1)) "$bt" && at_least $((bt + 1)) "$inc" ||
    fail "bad_timestamp $bt and incomplete $inc should follow each other"
at_least $((inc * 14 + 14)) "$nk" && at_least "$nk" $(((inc - 1) * 14)) ||
    fail "no_keyframe $nk is not 14 per incomplete unit ($inc)"
jq -e '.cameras[] | select(.name == "bad") | .dropped == ([.refused[]] | add)' "$T/status.json" >/dev/null ||
    fail "dropped is not the sum of refused"
jq -e '.cameras[] | select(.name == "good") | [.refused[]] | all(. == 0)' "$T/status.json" >/dev/null ||
    fail "the healthy camera refused units: $(jq -c '.cameras[] | select(.name == "good") | .refused' "$T/status.json")"
n_reasons=$(jq '.cameras[] | select(.name == "good") | .refused | length' "$T/status.json")
[ "$n_reasons" -ge 8 ] || fail "status lists only $n_reasons reasons"
ok "status --json: bad refused bad_timestamp=$bt incomplete=$inc no_keyframe=$nk; good all 0 ($n_reasons reasons)"

grep -q '^  bad: ' "$T/status.txt" || { cat "$T/status.txt" >&2; fail "plain status does not list bad's refused units"; }
grep -q '^    bad_timestamp ' "$T/status.txt" || { cat "$T/status.txt" >&2; fail "plain status lacks the reason"; }
grep -q '^  good: ' "$T/status.txt" && fail "plain status lists the healthy camera as refusing"
ok "plain status lists the reasons"

warn_re='warn .*camera bad: refused [0-9]+ units? in the last [0-9]+ s: '
for r in bad_timestamp incomplete no_keyframe; do
    grep -Eq "$warn_re$r \(" "$T/nvr.log" || fail "no warning for $r"
done
grep -E 'camera good: refused' "$T/nvr.log" && fail "the healthy camera was said to refuse units"
# Rate limit: at most one line per reason per 10 s (+1 for the first).
lines=$(grep -Ec "${warn_re}bad_timestamp" "$T/nvr.log")
[ "$lines" -le $((RUN_S / 10 + 3)) ] || fail "$lines bad_timestamp warnings in ~${RUN_S}s: not rate-limited"
ok "log: a warning per reason, $lines for bad_timestamp"

stop_nvr
"$NVR" recordings -c "$cfg" --camera bad --json >"$T/bad.json"
"$NVR" recordings -c "$cfg" --camera good --json >"$T/good.json"
jq -e '.segments | length >= 2' "$T/bad.json" >/dev/null || fail "bad recorded no segments"
# The stream refuses a unit at least every 0.5 s: every segment of a
# second or more holds some (the last one, cut at the stop, may be shorter).
jq -e '[.segments[] | select(.end_us - .start_us >= 1000000) | .refused] | length >= 2 and all(. > 0)' "$T/bad.json" >/dev/null ||
    fail "a segment of bad shows no refused units: $(jq -c '[.segments[] | [.end_us - .start_us, .refused]]' "$T/bad.json")"
jq -e '[.segments[] | .refused] | all(. == 0)' "$T/good.json" >/dev/null ||
    fail "a segment of good shows refused units: $(jq -c '[.segments[] | .refused]' "$T/good.json")"
seg_sum=$(jq '[.segments[] | .refused] | add' "$T/bad.json")
# The final status row (written at shutdown) has every count.
total=$(sqlite3 "$T/storage/catalog.db" "select refused from camera_status where name = 'bad'" |
    tr ',' '\n' | awk -F= '{s += $2} END {print s + 0}')
# Units refused after the last segment's last unit belong to no segment.
at_least "$seg_sum" $((total - 20)) && at_least "$total" "$seg_sum" ||
    fail "segments of bad hold $seg_sum refused units, status says $total"
ok "catalog rows: bad's segments hold $seg_sum of $total refused units; good's 0"
