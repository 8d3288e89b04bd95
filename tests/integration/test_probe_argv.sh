#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A password on nvr probe's command line is readable by every local user
# in /proc/PID/cmdline for the whole probe. Against a listener that accepts
# and never answers (so the probe stays running), the probe's cmdline, as
# read by another process, holds the URL without the password, and stderr
# says which options to use instead. --password-stdin and --password-file
# (mode 600, as a camera's password_file) authenticate against camsim
# (Digest) with nothing secret on the command line; a wrong password read
# from stdin is refused by the camera; a group-readable password file is
# refused by nvr.
. "$NVR_TEST_LIB"
command -v python3 >/dev/null || fail "python3 is missing"

PASS='Pl4in-S1ght-99'
# A TCP listener on 127.0.0.1 that accepts and never answers; it prints
# its port, then one line per accepted connection.
python3 -u -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
print(s.getsockname()[1])
held = []
while True:
    c, _ = s.accept()
    held.append(c)
    print("accepted")
' >"$T/silent.out" 2>"$T/silent.err" &
PIDS+=("$!")
wait_for 10 test -s "$T/silent.out" || fail "the silent listener did not start"
port=$(head -n 1 "$T/silent.out")

"$NVR" probe "rtsp://admin:$PASS@127.0.0.1:$port/live" --timeout 30 \
    >"$T/probe.out" 2>"$T/probe.err" &
probe_pid=$!
PIDS+=("$probe_pid")
wait_for 15 grep -q accepted "$T/silent.out" || fail "the probe did not connect"
kill -0 "$probe_pid" 2>/dev/null || fail "the probe is no longer running"
tr '\0' ' ' <"/proc/$probe_pid/cmdline" >"$T/cmdline"
grep -qF "$PASS" "$T/cmdline" && fail "the password is in the running probe's /proc/PID/cmdline: $(cat "$T/cmdline")"
grep -qF "rtsp://admin@127.0.0.1:$port/live" "$T/cmdline" ||
    fail "the probe's cmdline lost the URL: $(cat "$T/cmdline")"
ps -ww -o args= -p "$probe_pid" >"$T/ps"
grep -qF "$PASS" "$T/ps" && fail "ps shows the password: $(cat "$T/ps")"
grep -qF "every user of this machine can read the password in argument 2" "$T/probe.err" ||
    fail "no warning about the password in argv: $(cat "$T/probe.err")"
grep -qF -- "--password-file FILE or --password-stdin" "$T/probe.err" ||
    fail "the warning does not name the options to use"
ok "the running probe's cmdline and ps show no password, and stderr says why: $(cat "$T/cmdline")"
kill "$probe_pid"
wait "$probe_pid" 2>/dev/null || true

start_camsim cam --mount m --user admin --pass "$PASS"
url="rtsp://127.0.0.1:$CAMSIM_PORT/m"
printf '%s\n' "$PASS" | "$NVR" probe "$url" --username admin --password-stdin \
    >"$T/stdin.out" 2>"$T/stdin.err" || fail "probe --password-stdin: $(cat "$T/stdin.err")"
grep -q "recordable" "$T/stdin.out" || fail "probe --password-stdin listed no track"
[ -s "$T/stdin.err" ] && fail "probe --password-stdin printed: $(cat "$T/stdin.err")"
rc=0
printf 'not-it\n' | "$NVR" probe "$url" --username admin --password-stdin \
    >/dev/null 2>"$T/wrong.err" || rc=$?
[ "$rc" -eq 1 ] && grep -qi "authentication failed" "$T/wrong.err" ||
    fail "a wrong password from stdin: exit $rc, $(cat "$T/wrong.err")"
rc=0
"$NVR" probe "$url" --username admin --password-stdin </dev/null >/dev/null 2>"$T/empty.err" || rc=$?
[ "$rc" -eq 2 ] && grep -qF "no password on standard input" "$T/empty.err" ||
    fail "empty stdin: exit $rc, $(cat "$T/empty.err")"
ok "--password-stdin authenticates, and a wrong or missing one is refused"

printf '%s\n' "$PASS" >"$T/pass"
chmod 600 "$T/pass"
"$NVR" probe "$url" --username admin --password-file "$T/pass" >"$T/file.out" 2>&1 ||
    fail "probe --password-file: $(cat "$T/file.out")"
chmod 640 "$T/pass"
rc=0
"$NVR" probe "$url" --username admin --password-file "$T/pass" >/dev/null 2>"$T/mode.err" || rc=$?
[ "$rc" -eq 2 ] && grep -qF "has mode 0640: readable by group or others; run chmod 600 $T/pass" "$T/mode.err" ||
    fail "a group-readable password file: exit $rc, $(cat "$T/mode.err")"
rc=0
"$NVR" probe "$url" --password-file "$T/pass" --password-stdin </dev/null >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "--password-file with --password-stdin: exit $rc"
ok "--password-file reads like a camera's password_file and must be mode 600"
