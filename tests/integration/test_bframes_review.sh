#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# B-frame recordings after the recording: camsim's H.264 (x264, 2
# B-frames, with AAC) and H.265 (x265, 3 B-frames, open GOPs) recorded in
# 4 s segments, the recorder killed with SIGKILL mid-segment and started
# again. The segments torn by the kill are recovered and decode without an
# error; an export over a segment cut decodes without an error and holds
# the recording's frames over its range (bframes_review.py export); the
# terminal UI's playback engine (playback_probe) seeks onto the right
# frame and steps through every frame in presentation order, torn
# segments included; and 'nvr tui' in tmux plays the recording.
. "$NVR_TEST_LIB"
. "$(dirname "$0")/media_checks.sh"
: "${PLAYBACK_PROBE:?PLAYBACK_PROBE must name the playback_probe binary}"
command -v tmux >/dev/null || fail "tmux is not installed (setup.sh installs it)"

REVIEW="$(dirname "$0")/bframes_review.py"
CAMS=(h264 h265)
declare -A CODEC=([h264]=h264 [h265]=hevc)

start_camsim h264 --mount cam --video h264 --bframes 2 --audio aac
port_h264=$CAMSIM_PORT
start_camsim h265 --mount cam --video h265 --bframes 3
port_h265=$CAMSIM_PORT

cfg="$T/nvr.ini"
db="$T/storage/catalog.db"
write_config "$cfg" "$T/storage" 4
add_camera "$cfg" h264 "rtsp://127.0.0.1:$port_h264/cam"
add_camera "$cfg" h265 "rtsp://127.0.0.1:$port_h265/cam"

# rows CAMERA [WHERE]: "start_us:path" of the camera's segments, oldest first.
rows() {
    sqlite3 "$db" "select s.start_us || ':$T/storage/' || s.path from segments s join cameras c on c.id = s.camera_id where c.name = '$1' ${2:+and $2} order by s.start_us"
}

# ---- record, kill -9 mid-segment, record again ----
start_nvr "$cfg" nvr1
for cam in "${CAMS[@]}"; do
    wait_for 20 state_is "$cfg" "$cam" recording ||
        fail "camera $cam not recording: $(camera_state "$cfg" "$cam")"
done
record_for "$cfg" 9 "${CAMS[@]}"
# Killed when the open segment of each camera holds 1.5 to 3.3 s: past
# its first GOPs, short of its end (the cameras' cuts are apart).
mid_segment() {
    local cam s
    for cam in "${CAMS[@]}"; do
        s=$(newest_segment_s "$T/storage" "$cam")
        at_least "$s" 1.5 && ! at_least "$s" 3.3 || return 1
    done
}
wait_for 30 mid_segment || fail "never were both open segments 1.5 to 3.3 s long"
kill -9 "$NVR_PID"
wait "$NVR_PID" 2>/dev/null || true
declare -A TORN
for cam in "${CAMS[@]}"; do
    TORN[$cam]=$(rows "$cam" "s.status = 0" | cut -d: -f2-)
    [ -n "${TORN[$cam]}" ] || fail "$cam: no segment open at the kill"
done
ok "killed the recorder mid-segment: $(basename "${TORN[h264]}"), $(basename "${TORN[h265]}")"

start_nvr "$cfg" nvr2
wait_for 20 log_has "$T/nvr2.log" "recovery: " || fail "no recovery at start-up"
for cam in "${CAMS[@]}"; do
    wait_for 20 state_is "$cfg" "$cam" recording || fail "$cam not recording after the restart"
done
record_for "$cfg" 3 "${CAMS[@]}"
stop_nvr

# ---- recovery ----
for cam in "${CAMS[@]}"; do
    [ "$(sqlite3 "$db" "select status from segments where path = '${TORN[$cam]#"$T/storage/"}'")" = 1 ] ||
        fail "$cam: the torn segment was not closed by recovery"
    python3 "$REVIEW" segments "${CODEC[$cam]}" "${TORN[$cam]}" >"$T/torn_$cam.log" 2>&1 ||
        fail "$cam torn segment: $(tail -n 3 "$T/torn_$cam.log")"
    ok "$cam: recovered $(tail -n 1 "$T/torn_$cam.log")"
done

# ---- export over the first segment cut ----
for cam in "${CAMS[@]}"; do
    mapfile -t segs < <(rows "$cam")
    from_us=$((${segs[0]%%:*} + 1500000))
    to_us=$((${segs[1]%%:*} + 1700000))
    iso() { date -u -d "@$(($1 / 1000000)).$(printf '%06d' $(($1 % 1000000)))" +%Y-%m-%dT%H:%M:%S.%6NZ; }
    "$NVR" export -c "$cfg" --camera "$cam" --from "$(iso "$from_us")" --to "$(iso "$to_us")" \
        --reason "B-frame export test" -o "$T/export_$cam.mp4" >"$T/export_$cam.log" 2>&1 ||
        fail "$cam: nvr export: $(tail -n 3 "$T/export_$cam.log")"
    python3 "$REVIEW" export "${CODEC[$cam]}" "$from_us" "$to_us" "$T/export_$cam.mp4" \
        "${segs[@]}" >"$T/review_export_$cam.log" 2>&1 ||
        fail "$cam export: $(tail -n 3 "$T/review_export_$cam.log")"
    ok "$(tail -n 1 "$T/review_export_$cam.log")"
done
[ "$(stream_field "$T/export_h264.mp4" a:0 codec_name)" = aac ] || fail "h264 export: no AAC track"

# ---- the terminal UI's playback engine ----
for cam in "${CAMS[@]}"; do
    mapfile -t segs < <(rows "$cam")
    python3 "$REVIEW" playback "${CODEC[$cam]}" "$PLAYBACK_PROBE" "$T/storage" "$cam" \
        "${segs[@]}" >"$T/review_playback_$cam.log" 2>&1 ||
        fail "$cam playback: $(tail -n 3 "$T/review_playback_$cam.log")"
    ok "$(tail -n 1 "$T/review_playback_$cam.log")"
done

# ---- nvr tui in tmux: each camera played from the middle of its first
# segment across the cut into the next; FFmpeg says nothing (the TUI
# prints its captured warnings and errors when it exits) ----
SOCK="$T/tmux.sock"
tmx() { tmux -S "$SOCK" -f /dev/null "$@"; }
trap 'tmx kill-server 2>/dev/null || true; cleanup' EXIT
tmx new-session -d -s tui -x 80 -y 24 \
    "env -i PATH=$PATH HOME=$T TERM=xterm-256color TZ=UTC LANG=C.UTF-8 PS1='PROMPT\$ ' bash --norc --noprofile"
screen() { tmx capture-pane -p -t tui; }
screen_has() { screen | grep -q -- "$1"; }
wait_screen() {
    wait_for "${2:-10}" screen_has "$1" || {
        screen >&2
        fail "screen never showed '$1'"
    }
}
keys() { tmx send-keys -t tui "$@"; }
hms() { date -u -d "@$(($1 / 1000000))" +%H:%M:%S; }

wait_screen 'PROMPT\$'
keys "$NVR tui -c $cfg 2>$T/tui.err; echo TUI-EXIT=\$?" Enter
wait_screen 'CAMERA'
for cam in "${CAMS[@]}"; do
    mapfile -t segs < <(rows "$cam")
    s1=$((${segs[1]%%:*} / 1000000))
    from=$(hms $(((s1 - 2) * 1000000)))
    before=$(hms $(((s1 - 3) * 1000000)))
    past=$(hms $(((s1 + 1) * 1000000)))
    [ "$cam" = h264 ] || keys j
    keys g
    wait_screen 'go to'
    keys "$from" Enter
    wait_screen "$from.*PAUSED"
    # The frame shown: the last at or before the second typed.
    wait_screen " $cam  \($from\|$before\)"
    keys Space
    wait_screen "PLAYING"
    # The picture's own clock (the tile's label) runs past the cut.
    wait_screen " $cam  $past" 15
    keys Space
    wait_screen "PAUSED"
    ok "nvr tui plays $cam from $from across the segment cut to $past"
done
keys q
wait_screen 'TUI-EXIT=0'
[ ! -s "$T/tui.err" ] || fail "the TUI logged: $(head -n 5 "$T/tui.err")"
ok "nvr tui exited 0 with nothing logged"
