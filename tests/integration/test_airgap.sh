#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# No way out: inside a network namespace of its own (loopback only, so
# nothing can leave the machine even if the recorder misbehaved), 'nvr run'
# records two camsim cameras under 'strace -f -e trace=network' while a
# third camera at 192.0.2.10 (documentation range, not private) is refused
# by name and never contacted. Every connect() goes to a configured camera
# (127.0.0.1 at a camsim port); the one socket bound, listened and accepted
# on is the operators' Unix socket of [access] socket (nvr recordings answered
# through it); no socket but TCP over IP and that Unix one is opened; no
# DNS (port 53) traffic at all.
set -euo pipefail
if [ "${NVR_IN_NETNS:-0}" != 1 ]; then
    command -v unshare >/dev/null || { echo "FAIL: unshare (util-linux) is missing" >&2; exit 1; }
    exec unshare --net env NVR_IN_NETNS=1 bash "$0" "$@"
fi
command -v ip >/dev/null || { echo "FAIL: ip (iproute2) is missing" >&2; exit 1; }
command -v strace >/dev/null || { echo "FAIL: strace is missing" >&2; exit 1; }
ip link set lo up
. "$NVR_TEST_LIB"

[ "$(ip -o link show | wc -l)" -eq 1 ] || fail "the namespace has more than loopback: $(ip -o link show)"
ip -o link show | grep -q ': lo:' || fail "no loopback in the namespace"
ok "in a network namespace with loopback only"

start_camsim cama --mount a
port_a=$CAMSIM_PORT
start_camsim camb --mount b
port_b=$CAMSIM_PORT
cfg="$T/nvr.ini"
write_config "$cfg" "$T/storage" 60
add_camera "$cfg" a "rtsp://127.0.0.1:$port_a/a"
add_camera "$cfg" b "rtsp://127.0.0.1:$port_b/b"
add_camera "$cfg" far "rtsp://192.0.2.10:554/stream"
sock="$T/nvr.sock"
printf '\n[access]\nsocket = %s\n' "$sock" >>"$cfg"

# LeakSanitizer cannot run under ptrace; everything else stays on.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 NVR_LOG_LEVEL=debug \
    strace -f -qq -e trace=network -o "$T/strace.log" "$NVR" run -c "$cfg" >"$T/nvr.log" 2>&1 &
STRACE_PID=$!
PIDS+=("$STRACE_PID")
wait_for 10 pgrep -P "$STRACE_PID" || fail "nvr did not start under strace"
NVR_PID=$(pgrep -P "$STRACE_PID")
wait_for 30 state_is "$cfg" a recording || fail "camera a is not recording"
wait_for 30 state_is "$cfg" b recording || fail "camera b is not recording"
grep -qF "camera 'far': address 192.0.2.10 is public (not private, link-local or loopback); set allow_public = true in [camera far] to allow it; refused, it will not be contacted" "$T/nvr.log" ||
    fail "nvr run did not refuse camera 'far' by name"
ok "two cameras record; 'far' is refused by name"
record_for "$cfg" 3 a b
"$NVR" recordings -c "$cfg" --camera a >"$T/rec.out" || fail "nvr recordings through the socket"
grep -q '^camera a: [1-9]' "$T/rec.out" || fail "nvr recordings through the socket: $(cat "$T/rec.out")"

kill -TERM "$NVR_PID"
rc=0
wait_for 15 pid_gone "$STRACE_PID" || fail "nvr did not exit after SIGTERM"
wait "$STRACE_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "nvr run under strace exited $rc"

log="$T/strace.log"
[ -s "$log" ] || fail "strace wrote nothing"
n_connect=$(grep -c 'connect(' "$log" || true)
[ "$n_connect" -ge 2 ] || fail "expected at least 2 connect() calls, saw $n_connect"
n_nscd=0
while IFS= read -r line; do
    # glibc's user lookup (the audit log names the user at start-up, before
    # the sandbox) asks the local nscd socket: local, never the network.
    if echo "$line" | grep -qF 'sun_path="/var/run/nscd/socket"'; then
        n_nscd=$((n_nscd + 1))
        continue
    fi
    echo "$line" | grep -qE "sin_port=htons\(($port_a|$port_b)\), sin_addr=inet_addr\(\"127\.0\.0\.1\"\)" ||
        fail "connect() to something that is not a configured camera: $line"
done < <(grep 'connect(' "$log")
[ $((n_connect - n_nscd)) -ge 2 ] || fail "fewer than 2 connect() calls to the cameras"
ok "all $((n_connect - n_nscd)) network connect() calls go to the two cameras ($n_nscd to the local nscd socket)"

while IFS= read -r line; do
    if echo "$line" | grep -qE 'sa_family=|sin_port|sin6_port|sun_path'; then
        echo "$line" | grep -qE "sin_port=htons\(($port_a|$port_b)\), sin_addr=inet_addr\(\"127\.0\.0\.1\"\)" ||
            fail "sendto/sendmsg to something that is not a camera: $line"
    fi
done < <(grep -E 'sendto\(|sendmsg\(|sendmmsg\(' "$log")
ok "no sendto/sendmsg to an address other than a camera"

# The operators' socket: bound at $sock, listened and accepted on; nothing
# else.
sock_fd=$(sed -n "s/.*bind(\([0-9]*\), {sa_family=AF_UNIX, sun_path=\"${sock//\//\\/}\"}.*= 0\$/\1/p" "$log" | head -1)
[ -n "$sock_fd" ] || fail "the operators' socket $sock was not bound: $(grep 'bind(' "$log")"
grep -E '(^|[^a-z_])(listen|bind|accept4?)\(' "$log" |
    grep -vE "(bind\($sock_fd, \{sa_family=AF_UNIX, sun_path=\"$sock\"\}|listen\($sock_fd, |accept4?\($sock_fd, )" &&
    fail "the recorder bound, listened or accepted on something but $sock"
grep -qE "accept4?\($sock_fd, .*= [0-9]+" "$log" || fail "nvr recordings was not answered through $sock"
ok "bind(), listen() and accept() only on the operators' Unix socket $sock"
grep -E 'socket\(' "$log" | grep -vE 'socket\(AF_INET6?, SOCK_STREAM|socket\(AF_UNIX, SOCK_STREAM' &&
    fail "a socket other than TCP over IP (or the stream to nscd)"
grep -q 'htons(53)' "$log" && fail "DNS traffic (port 53)"
grep -q '192\.0\.2\.' "$log" && fail "the refused camera's address reached a system call"
ok "only TCP sockets, no DNS, nothing towards the refused camera"
check_storage "$T/storage"
