#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A camera the air-gap rules refuse (issue 15 item 7): while the recorder
# runs and records the allowed camera, the refused one is "refused", with
# the rule that refused it as its error, in 'nvr status', 'nvr status
# --json' and the TUI (never "stopped" or "recorder not running").
. "$NVR_TEST_LIB"

command -v tmux >/dev/null || fail "tmux is not installed (setup.sh installs it)"
start_camsim cam --mount cam1
cfg="$T/nvr.ini"
write_config "$cfg" "$T/storage" 60
# 192.0.2.10: documentation range, not private. First, so the TUI selects it.
add_camera "$cfg" far "rtsp://192.0.2.10:554/stream"
add_camera "$cfg" cam1 "rtsp://127.0.0.1:$CAMSIM_PORT/cam1"
rule="camera 'far': address 192.0.2.10 is public (not private, link-local or loopback); set allow_public = true in [camera far] to allow it"
start_nvr "$cfg" nvr
wait_for 20 state_is "$cfg" cam1 recording || fail "cam1 not recording"
wait_for 10 state_is "$cfg" far refused ||
    fail "the refused camera's state is $(camera_state "$cfg" far), want refused"
[ "$(camera_field "$cfg" far error)" = "$rule" ] ||
    fail "the refused camera's error is '$(camera_field "$cfg" far error)', want the rule"
ok "status --json: far is refused: $(camera_field "$cfg" far error)"
# Still so a few ticks later (the row is refreshed, never stale).
record_for "$cfg" 12 cam1
state_is "$cfg" far refused || fail "far is $(camera_state "$cfg" far) after 12 s"

"$NVR" status -c "$cfg" >"$T/status.txt" || fail "nvr status failed"
grep -E "^far +refused " "$T/status.txt" | grep -qF "192.0.2.10 is public" ||
    fail "nvr status does not show far refused with its rule: $(cat "$T/status.txt")"
ok "nvr status: $(grep -E '^far ' "$T/status.txt" | tr -s ' ')"

# The TUI, in tmux: far is selected (first), its details say refused.
SOCK="$T/tmux.sock"
tmx() { tmux -S "$SOCK" -f /dev/null "$@"; }
trap 'tmx kill-server 2>/dev/null || true; cleanup' EXIT
tmx new-session -d -s tui -x 160 -y 40 \
    "env -i PATH=$PATH HOME=$T TERM=xterm-256color LANG=C.UTF-8 PS1='PROMPT\$ ' bash --norc --noprofile"
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
wait_screen 'refused: never contacted'
wait_screen "camera 'far': address 192.0.2.10"
wait_screen 'REFUS'
screen_has 'recorder not running' && fail "the TUI says recorder not running: $(screen)"
ok "the TUI shows far refused with its rule"
tmx send-keys -t tui q
wait_screen 'PROMPT\$'
stop_nvr
