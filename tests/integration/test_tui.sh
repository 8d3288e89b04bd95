#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The real 'nvr tui' driven inside tmux (send-keys, capture-pane) over a
# catalog made by really recording camsim with a known outage (the mount
# taken down through its control file): the timeline shows the gap where
# 'nvr recordings' says it is, typing a time moves the cursor and the status
# line there, 'n' jumps to the gap, '?' opens the help, resizing to 80x24
# and back keeps the layout, in/out marks with 'e' and 'h' export and hold
# the marked range (checked with 'nvr verify', 'nvr hold list' and 'nvr
# audit'), 'q' (and Ctrl-C) restore the terminal, and an export held
# midway (nvr-testhooks) leaves the screen updating and 'x' cancels it.
. "$NVR_TEST_LIB"

command -v tmux >/dev/null || fail "tmux is not installed (setup.sh installs it)"
command -v python3 >/dev/null || fail "python3 is not installed"
export TZ=Europe/London

# ---- a recording with a known outage ----
mkdir -p "$T/control"
start_camsim cam --mount gate --control "$T/control" --width 320 --height 180
cfg="$T/nvr.ini"
write_config "$cfg" "$T/storage" 10
add_camera "$cfg" gate "rtsp://127.0.0.1:$CAMSIM_PORT/gate"
start_nvr "$cfg" nvr
wait_for 20 state_is "$cfg" gate recording || fail "camera not recording"
record_for "$cfg" 8 gate
touch "$T/control/gate.down"
not_recording() { ! state_is "$cfg" gate recording; }
wait_for 20 not_recording || fail "camera still recording while down"
wait_for 20 no_frame_for "$cfg" gate 6 || fail "camera recorded while down"
rm "$T/control/gate.down"
wait_for 20 state_is "$cfg" gate recording || fail "recording did not resume"
record_for "$cfg" 8 gate
stop_nvr
"$NVR" recordings -c "$cfg" --camera gate --json >"$T/rec.json"
jq -e '(.gaps | length) == 1' "$T/rec.json" >/dev/null ||
    fail "expected one gap: $(jq -c .gaps "$T/rec.json")"
gap_start=$(jq '.gaps[0].start_us' "$T/rec.json")
gap_end=$(jq '.gaps[0].end_us' "$T/rec.json")
ok "recorded with a gap of $(( (gap_end - gap_start) / 1000 )) ms"

hms() { date -d "@$(( $1 / 1000000 ))" +%H:%M:%S; }

# ---- tmux ----
SOCK="$T/tmux.sock"
tmx() { tmux -S "$SOCK" -f /dev/null "$@"; }
cleanup_tmux() { tmx kill-server 2>/dev/null || true; }
trap 'cleanup_tmux; cleanup' EXIT
tmx new-session -d -s tui -x 120 -y 40 \
    "env -i PATH=$PATH HOME=$T TERM=xterm-256color TZ=$TZ LANG=C.UTF-8 PS1='PROMPT\$ ' bash --norc --noprofile"
tmx set-option -g window-size manual

screen() { tmx capture-pane -p -t tui; }
screen_has() { screen | grep -q -- "$1"; }
wait_screen() {
    wait_for "${2:-10}" screen_has "$1" || {
        screen >&2
        fail "screen never showed '$1'"
    }
}
keys() { tmx send-keys -t tui "$@"; }

# Row/column facts of the screen: the status line is the second-last row,
# the cursor row ('^') above it and the timeline bar above that.
# Prints "<cursor col> <bar char at cursor> <bar char left of cursor>".
cursor_facts() {
    screen | python3 -c '
import sys
rows = sys.stdin.read().split("\n")
h = int(sys.argv[1])
rows = (rows + [""] * h)[:h]
cur, bar = rows[h - 3], rows[h - 4]
c = cur.find("^")
at = bar[c] if 0 <= c < len(bar) else " "
left = bar[c - 1] if 1 <= c <= len(bar) else " "
print(c, at, left)
' "$1"
}
status_line() { screen | sed -n "$(($1 - 1))p"; }
# wait_status PATTERN...: the status line (40 rows) matches every pattern.
status_matches() {
    local st p
    st=$(status_line 40)
    for p in "$@"; do
        echo "$st" | grep -q -- "$p" || return 1
    done
}
wait_status() {
    wait_for 10 status_matches "$@" || {
        screen >&2
        fail "status line never matched $*: $(status_line 40)"
    }
}

wait_screen 'PROMPT\$'
mkdir -p "$T/exports"
keys "$NVR tui -c $cfg --export-dir $T/exports; echo TUI-EXIT=\$?" Enter
wait_screen 'CAMERA'
wait_screen 'gate'
ok "nvr tui shows the camera"

# Zoom the timeline to 2 minutes so that a column is about a second.
for _ in 1 2 3 4 5 6 7 8; do keys z; done
wait_screen '=rec'

# Typing a time moves the cursor and the status line there.
before=$(hms $((gap_start - 4000000)))
keys g
wait_screen 'go to'
keys "$before" Enter
wait_status "$before" PAUSED
read -r col_b at_b _ <<<"$(cursor_facts 40)"
[ "$col_b" -ge 0 ] || fail "no cursor on the timeline"
[ "$at_b" = "█" ] || { screen >&2; fail "cursor at $before is on '$at_b', not recorded footage"; }
ok "typed time $before: status line and cursor (column $col_b) moved there"

# Inside the gap: no recording there, on the status line and the timeline.
mid=$(hms $(( (gap_start + gap_end) / 2 )))
keys g "$mid" Enter
wait_status "$mid" "NO RECORDING"
read -r col_m at_m _ <<<"$(cursor_facts 40)"
[ "$at_m" = "·" ] || { screen >&2; fail "the timeline at $mid (inside the gap) shows '$at_m'"; }
ok "timeline shows the gap at $mid (column $col_m)"

# 'n' from before the gap lands on its start.
keys g "$before" Enter
wait_status "$before" PAUSED
keys n
gs=$(hms "$gap_start")
gs1=$(hms $((gap_start - 1000000)))
wait_status "NO RECORDING"
st=$(status_line 40)
echo "$st" | grep -q -e "$gs" -e "$gs1" || fail "n: status line '$st' is not at the gap start $gs"
read -r col_n at_n left_n <<<"$(cursor_facts 40)"
[ "$left_n" = "█" ] || { screen >&2; fail "left of the gap start is '$left_n', not footage"; }
[ "$at_n" = "·" ] || [ "$at_n" = "▒" ] || { screen >&2; fail "the gap start shows '$at_n'"; }
ok "n jumps to the gap at $gs (column $col_n)"

# Help.
keys '?'
wait_screen 'Keys of nvr tui'
screen | grep -q "next gap" || fail "help does not list n"
screen | grep -q "export" || fail "help does not list export"
keys '?'
wait_status 'NO RECORDING'
ok "? opens and closes the help screen"

# Resize to 80x24 and back: the same layout, nothing beyond the edge.
check_layout() {
    local w=$1 h=$2 s
    s=$(screen)
    [ "$(printf '%s\n' "$s" | wc -l)" -eq "$h" ] || return 1
    printf '%s\n' "$s" | sed -n 1p | grep -q 'nvr tui' || return 1
    printf '%s\n' "$s" | sed -n 2p | grep -q 'CAMERA' || return 1
    printf '%s\n' "$s" | sed -n 3p | grep -q 'gate' || return 1
    printf '%s\n' "$s" | sed -n "$((h - 1))p" | grep -q "$gs\|$gs1" || return 1
    printf '%s\n' "$s" | sed -n "$((h - 1))p" | grep -q 'NO RECORDING' || return 1
    printf '%s\n' "$s" | sed -n "$((h - 2))p" | grep -q '\^' || return 1
    printf '%s\n' "$s" | sed -n "$((h - 5))p" | grep -q '=rec' || return 1
    printf '%s\n' "$s" | python3 -c '
import sys
w = int(sys.argv[1])
sys.exit(0 if all(len(l) <= w for l in sys.stdin.read().split("\n")) else 1)
' "$w"
}
tmx resize-window -t tui -x 80 -y 24
wait_for 10 check_layout 80 24 || { screen >&2; fail "layout at 80x24"; }
[ "$(cursor_facts 24 | cut -d' ' -f3)" = "█" ] || { screen >&2; fail "gap cursor lost at 80x24"; }
ok "80x24 keeps the layout"
tmx resize-window -t tui -x 120 -y 40
wait_for 10 check_layout 120 40 || { screen >&2; fail "layout back at 120x40"; }
ok "back to 120x40 keeps the layout"

# ---- marks: export and hold the marked range ----
# In 5 s before the gap, out 3 s after it: the range holds the gap.
in_us=$(( (gap_start / 1000000 - 5) * 1000000 ))
out_us=$(( (gap_end / 1000000 + 3) * 1000000 ))
in_t=$(hms "$in_us")
out_t=$(hms "$out_us")
keys g "$in_t" Enter
wait_status "$in_t" PAUSED
keys i
wait_screen 'in mark set'
keys g "$out_t" Enter
wait_status "$out_t" PAUSED
keys o
wait_screen 'out mark set'

keys e
wait_screen "export gate $in_t-$out_t, reason"
keys "tui export test" Enter
wait_screen 'exported [0-9]* frames (1 gap) to ' 60
msg=$(screen | grep -o 'exported [0-9]* frames (1 gap) to .*' | head -1)
# .mp4, or .mov when the camera sends G.711 audio.
clips=()
for f in "$T"/exports/gate-*.mp4 "$T"/exports/gate-*.mov; do
    [ -f "$f" ] && clips+=("$f")
done
[ "${#clips[@]}" = 1 ] || fail "export wrote: $(ls "$T/exports")"
clip=${clips[0]}
clip_sha=$(sha256sum "$clip" | cut -d' ' -f1)
# The line ends "<path> sha256 <12 hex>"; a narrow screen may cut it.
case "$msg" in
*" sha256 "*) echo "$msg" | grep -q "sha256 ${clip_sha:0:12}" ||
    fail "confirmation '$msg' does not name the clip's hash $clip_sha" ;;
esac
"$NVR" verify -c "$cfg" "$clip" >"$T/verify.txt" 2>&1 ||
    fail "nvr verify of the TUI's export: $(cat "$T/verify.txt")"
ok "e exported $in_t-$out_t: $msg; nvr verify passes"

keys h
wait_screen "hold gate $in_t-$out_t, reason"
keys "tui hold test" Enter
wait_screen "hold #[0-9]* placed on gate $in_t-$out_t" 30
hold_id=$(screen | sed -n 's/.*hold #\([0-9]*\) placed on gate.*/\1/p' | head -1)
"$NVR" hold list -c "$cfg" --json >"$T/holds.json" || fail "nvr hold list failed"
jq -e --argjson id "$hold_id" --argjson f "$in_us" --argjson t "$out_us" \
    '[.holds[] | select(.id == $id and .camera == "gate" and .from_us == $f
        and .to_us == $t and .reason == "tui hold test" and .active)] | length == 1' \
    "$T/holds.json" >/dev/null || fail "hold #$hold_id not as placed: $(cat "$T/holds.json")"
ok "h placed hold #$hold_id on $in_t-$out_t (nvr hold list agrees)"

# Both are in the audit log, with the marked range and the reasons; the
# export's entry names the clip's hash and the gap.
"$NVR" audit -c "$cfg" --camera gate --json >"$T/audit.json" || fail "nvr audit failed"
detail=$(jq -r '[.entries[] | select(.kind == "export")][-1].detail' "$T/audit.json")
echo "$detail" | jq -e . >/dev/null 2>&1 || fail "the export's audit detail is not JSON: $detail"
jq -e --argjson f "$in_us" --argjson t "$out_us" --arg sha "$clip_sha" \
    '[.entries[] | select(.kind == "export" and .from_us == $f and .to_us == $t)
        | .detail | fromjson | select(.reason == "tui export test"
        and .sha256 == $sha and .gaps == 1)] | length == 1' \
    "$T/audit.json" >/dev/null || fail "no export entry: $(jq -c '.entries[-3:]' "$T/audit.json")"
jq -e --argjson f "$in_us" --argjson t "$out_us" --argjson id "$hold_id" \
    '[.entries[] | select(.kind == "hold_add" and .from_us == $f and .to_us == $t)
        | .detail | fromjson | select(.hold == $id and .reason == "tui hold test")]
        | length == 1' \
    "$T/audit.json" >/dev/null || fail "no hold entry: $(jq -c '.entries[-3:]' "$T/audit.json")"
"$NVR" audit -c "$cfg" --verify >/dev/null || fail "the audit log does not verify"
ok "the export and the hold are in the audit log, which verifies"

# q restores the terminal: the shell prompt, no alternate screen, a
# visible cursor, and the tty in its cooked mode.
keys q
wait_screen 'TUI-EXIT=0'
[ "$(tmx display -p -t tui '#{alternate_on}')" = 0 ] || fail "still on the alternate screen"
[ "$(tmx display -p -t tui '#{cursor_flag}')" = 1 ] || fail "cursor left hidden"
keys "stty -a | tr ' ;' '\n\n' | grep -x -e echo -e icanon -e icrnl -e isig | sort | tr '\n' , ; echo" Enter
wait_screen '^echo,icanon,icrnl,isig,'
ok "q restores the terminal"

# Ctrl-C does too.
keys "clear" Enter
keys "$NVR tui -c $cfg; echo TUI-EXIT=\$?" Enter
wait_screen 'CAMERA'
keys C-c
wait_screen 'TUI-EXIT=0'
[ "$(tmx display -p -t tui '#{alternate_on}')" = 0 ] || fail "Ctrl-C left the alternate screen on"
ok "Ctrl-C restores the terminal"

# ---- an export runs on a worker: the UI goes on, and x cancels it ----
# nvr-testhooks holds the export at its first source read, the clip open
# in its hidden staging folder, until $T/export.gate exists; here it never
# does.
exports_audited() {
    sqlite3 "$T/storage/catalog.db" "select count(*) from audit where kind = 'export'"
}
n_exports=$(exports_audited)
mkdir -p "$T/exports2"
keys "clear" Enter
keys "NVR_TEST_EXPORT_GATE=$T/export.gate $NVR_TESTHOOKS tui -c $cfg --export-dir $T/exports2; echo TUI-EXIT=\$?" Enter
wait_screen 'CAMERA'
keys g "$in_t" Enter
wait_status "$in_t" PAUSED
keys i
wait_screen 'in mark set'
keys g "$out_t" Enter
wait_status "$out_t" PAUSED
keys o
wait_screen 'out mark set'
keys e
wait_screen "export gate $in_t-$out_t, reason"
keys "tui cancel test" Enter
wait_screen 'exporting\.\.\. [0-9]*% (x cancels)'
partial_open() { compgen -G "$T/exports2/.nvr-export-*/gate-*.mp4" >/dev/null; }
wait_for 10 partial_open || fail "no staged clip while the export is held: $(ls -AR "$T/exports2")"
[ -z "$(ls "$T/exports2")" ] || fail "a held export published: $(ls "$T/exports2")"
# The screen keeps updating: the title's clock moves on, and keys still
# move the cursor.
title_clock() { screen | sed -n 1p | grep -o '[0-9][0-9]:[0-9][0-9]:[0-9][0-9]'; }
clock1=$(title_clock)
clock_moved() { [ -n "$clock1" ] && [ "$(title_clock)" != "$clock1" ]; }
wait_for 10 clock_moved || { screen >&2; fail "the clock stood still at $clock1 during the export"; }
screen_has 'exporting' || { screen >&2; fail "the export's progress went away"; }
back10=$(hms $((out_us - 10000000)))
keys Left
wait_status "$back10"
ok "during the export the clock moved on ($clock1, then $(title_clock)) and Left moved the cursor"
keys x
wait_screen 'export cancelled' 30
[ -z "$(ls -A "$T/exports2")" ] || fail "a cancelled export left: $(ls -A "$T/exports2")"
[ "$(exports_audited)" = "$n_exports" ] || fail "a cancelled export was audited"
ok "x cancelled the export: 'export cancelled', no clip, staging folder or sidecar left, nothing audited"
keys q
wait_screen 'TUI-EXIT=0'

# Each playback session is in the audit log.
n=$(sqlite3 "$T/storage/catalog.db" "select count(*) from audit where kind = 'playback' and camera = 'gate'")
[ "$n" -ge 1 ] || fail "no playback entry in the audit log"
ok "$n playback sessions in the audit log"
