#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The recorder's self-sandbox: 'nvr-testhooks' (nvr built with the test
# hook) records a camera and, once sandboxed, tries from its main thread
# and from a thread started afterwards to open a readable file outside
# storage, to connect to a listening server that is no camera, and to
# listen; each must fail (EACCES from Landlock, EPERM from seccomp) while
# recording goes on. 'nvr status' reports the protections.
. "$NVR_TEST_LIB"
: "${NVR_TESTHOOKS:?NVR_TESTHOOKS must name the nvr-testhooks binary}"

start_camsim other --mount decoy
other_port=$CAMSIM_PORT
start_camsim cam --mount cam1
printf 'not for the recorder\n' >"$T/outside.txt"
cfg="$T/nvr.ini"
write_config "$cfg" "$T/storage" 60
add_camera "$cfg" cam1 "rtsp://127.0.0.1:$CAMSIM_PORT/cam1"

NVR_TEST_ESCAPE_FILE="$T/outside.txt" NVR_TEST_ESCAPE_PORT=$other_port \
    NVR_LOG_LEVEL=debug "$NVR_TESTHOOKS" run -c "$cfg" >"$T/nvr.log" 2>&1 &
NVR_PID=$!
PIDS+=("$NVR_PID")
wait_for 20 state_is "$cfg" cam1 recording || fail "cam1 is not recording"

for who in "main thread" "new thread"; do
    grep -qF "test hook ($who): open $T/outside.txt: denied (Permission denied)" "$T/nvr.log" ||
        fail "$who: opening a file outside storage was not denied"
    grep -qF "test hook ($who): connect 127.0.0.1:$other_port: denied (Permission denied)" "$T/nvr.log" ||
        fail "$who: connecting to a non-camera address was not denied"
    grep -qF "test hook ($who): listen: denied (Operation not permitted)" "$T/nvr.log" ||
        fail "$who: listen() was not denied"
done
grep -q "test hook.*: allowed" "$T/nvr.log" && fail "the sandbox let something through"
ok "outside file, non-camera connect and listen are denied, also in new threads"

grep -q '^Seccomp:[[:space:]]*2' "/proc/$NVR_PID/status" || fail "no seccomp filter on the recorder"
grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$NVR_PID/status" || fail "no-new-privs is off"
for tid in /proc/"$NVR_PID"/task/*; do
    grep -q '^Seccomp:[[:space:]]*2' "$tid/status" || fail "thread $tid has no seccomp filter"
done
ok "every thread runs under the seccomp filter with no-new-privs"

"$NVR" status -c "$cfg" --json >"$T/status.json"
for p in no-new-privs no-core-dumps landlock-fs landlock-tcp seccomp; do
    jq -e --arg p "$p" '.protections.active | index($p) != null' "$T/status.json" >/dev/null ||
        fail "nvr status --json does not report $p: $(jq -c .protections "$T/status.json")"
done
jq -e '.protections.missing == []' "$T/status.json" >/dev/null ||
    fail "protections missing on this kernel: $(jq -c .protections.missing "$T/status.json")"
"$NVR" status -c "$cfg" >"$T/status.txt"
grep -q "^protections (since .*): no-new-privs, no-core-dumps, landlock-fs, landlock-tcp, seccomp$" "$T/status.txt" ||
    fail "nvr status does not show the protections: $(cat "$T/status.txt")"
ok "nvr status reports every protection as active"

record_for "$cfg" 2 cam1
stop_nvr
check_storage "$T/storage"
ok "recording under the sandbox finishes cleanly"
