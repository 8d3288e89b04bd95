#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Terminal escapes from outside: a camera (tests/hostile --mode escapes)
# puts an OSC title change, a CSI screen clear, CR, BS, DEL and C1 controls
# in its reason phrase, Server header and SDP, and an operator puts them in
# a hold reason. No text output of nvr probe, status, hold list or audit,
# and no log line, may then carry a raw control byte; the JSON outputs stay
# valid and carry them only as \u escapes.
. "$NVR_TEST_LIB"

: "${HOSTILE:?HOSTILE must name the hostile server binary}"

# A raw C0 control other than newline, DEL, or any byte 0x80-0xff: nothing
# this test sends above 0x7f is printable, so none may come out.
# clean FILE WHAT [SHOWN]: SHOWN (default \x1b) is how ESC must appear.
clean() {
    local f=$1 what=$2 shown=${3:-\\x1b}
    if LC_ALL=C grep -qaP '[\x00-\x09\x0b-\x1f\x7f-\xff]' "$f"; then
        LC_ALL=C grep -naP '[\x00-\x09\x0b-\x1f\x7f-\xff]' "$f" | od -c | head -20 >&2
        fail "$what printed raw control bytes"
    fi
    grep -q -- "$shown" "$f" || fail "$what does not show the escape as text: $(head -c 400 "$f")"
}

"$HOSTILE" --mode escapes --port 0 >"$T/h.out" 2>"$T/h.err" &
PIDS+=("$!")
wait_for 10 grep -q '^READY port=' "$T/h.out" || fail "hostile did not start"
port=$(sed -n 's/^READY port=\([0-9]*\).*/\1/p' "$T/h.out")

# probe: an SDP full of controls, then a DESCRIBE refused with them.
"$NVR" probe "rtsp://127.0.0.1:$port/sdp" --timeout 10 >"$T/probe.txt" 2>&1 ||
    fail "probe of the SDP failed: $(cat "$T/probe.txt")"
clean "$T/probe.txt" "nvr probe (SDP)"
rc=0
"$NVR" probe "rtsp://127.0.0.1:$port/refused" --timeout 10 >"$T/refused.txt" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "probe of a refusing camera exited $rc"
grep -q '503' "$T/refused.txt" || fail "probe does not name the status: $(cat "$T/refused.txt")"
clean "$T/refused.txt" "nvr probe (reason phrase)"
"$NVR" probe "rtsp://127.0.0.1:$port/sdp" --timeout 10 --json >"$T/probe.json" ||
    fail "probe --json failed"
jq -e . "$T/probe.json" >/dev/null || fail "probe --json is not JSON"
if LC_ALL=C grep -qaP '[\x00-\x1f\x7f]|\xc2[\x80-\x9f]' "$T/probe.json"; then
    fail "probe --json carries raw controls"
fi
ok "probe shows the camera's controls as text"

# status and the log of a recorder that meets the camera.
cfg="$T/nvr.ini"
write_config "$cfg" "$T/storage" 10
add_camera "$cfg" refused "rtsp://127.0.0.1:$port/refused"
add_camera "$cfg" sdp "rtsp://127.0.0.1:$port/sdp"
start_nvr "$cfg" nvr
has_error() { [ -n "$(camera_field "$cfg" refused error | grep 503)" ]; }
wait_for 30 has_error || fail "no error published for the refusing camera"
"$NVR" status -c "$cfg" >"$T/status.txt" || fail "status failed"
grep -q 503 "$T/status.txt" || fail "status does not show the error"
clean "$T/status.txt" "nvr status"
"$NVR" status -c "$cfg" --json >"$T/status.json" || fail "status --json failed"
jq -e '.cameras[] | select(.name == "refused") | .error | test("\u001b]0;owned")' \
    "$T/status.json" >/dev/null || fail "status --json lost the error text"
if LC_ALL=C grep -qaP '[\x00-\x1f\x7f]|\xc2[\x80-\x9f]' "$T/status.json"; then
    fail "status --json carries raw controls"
fi
ok "status shows the camera's error as text"
stop_nvr
clean "$T/nvr.log" "the recorder's log"
ok "the log shows the camera's controls as text"

# A hold reason with controls, then hold list and audit.
esc=$(printf '\033]0;owned\a\033[2J\r\b\177\302\233X\233')
"$NVR" hold add -c "$cfg" --camera refused --from 2026-01-01T00:00:00Z \
    --to 2026-01-01T01:00:00Z --reason "case $esc" >"$T/hold.out" 2>&1 ||
    fail "hold add failed: $(cat "$T/hold.out")"
"$NVR" hold list -c "$cfg" >"$T/holds.txt" || fail "hold list failed"
grep -q 'case' "$T/holds.txt" || fail "hold list lost the reason"
clean "$T/holds.txt" "nvr hold list"
"$NVR" audit -c "$cfg" >"$T/audit.txt" || fail "audit failed"
grep -q 'hold' "$T/audit.txt" || fail "audit has no hold entry: $(cat "$T/audit.txt")"
# The audit detail is JSON, whose escapes the text output shows as text.
clean "$T/audit.txt" "nvr audit" 'u001b\]0;owned'
ok "hold list and audit show the reason's controls as text"

# nvr verify quotes a clip's sidecar: a name there carrying controls.
echo "not a clip" >"$T/clip.mp4"
sha=$(sha256sum "$T/clip.mp4" | cut -d' ' -f1)
printf '%s  %s.mp4\n' "$sha" "$esc" >"$T/clip.mp4.sha256"
rc=0
"$NVR" verify "$T/clip.mp4" >"$T/verify.txt" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "verify of a bad bundle exited $rc"
grep -q "names the file" "$T/verify.txt" || fail "verify: $(cat "$T/verify.txt")"
clean "$T/verify.txt" "nvr verify"
ok "verify shows the sidecar's controls as text"

# The TUI, in tmux: the camera's error carrying controls is drawn as text
# (a raw CR or BS would move the cursor, an OSC would retitle the pane).
if command -v tmux >/dev/null; then
    SOCK="$T/tmux.sock"
    tmx() { tmux -S "$SOCK" -f /dev/null "$@"; }
    trap 'tmx kill-server 2>/dev/null || true; cleanup' EXIT
    tmx new-session -d -s tui -x 140 -y 40 \
        "env -i PATH=$PATH HOME=$T TERM=xterm-256color LANG=C.UTF-8 $NVR tui -c $cfg"
    tmx set-option -g window-size manual
    screen() { tmx capture-pane -p -t tui; }
    shows() { screen | grep -qF -- "$1"; }
    wait_for 15 shows 'DESCRIBE: 503' || { screen >&2; fail "the TUI shows no error"; }
    wait_for 5 shows '\x1b]0;owned\x07' || { screen >&2; fail "the TUI does not show the error's controls as text"; }
    [ "$(tmx display -p -t tui '#{pane_title}')" != owned ] || fail "the TUI let the camera retitle the pane"
    tmx send-keys -t tui q
    ok "the TUI draws the camera's error as text"
fi
