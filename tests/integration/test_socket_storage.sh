#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two configs that name the same operators' socket (as two recorders left
# at the default /run/nvr/nvr.sock would): a command for the second
# storage must not show the first recorder's cameras as its own. The
# client compares the storage the recorder says it records into with its
# config's, says so when they differ, and reads its own storage directly.
. "$NVR_TEST_LIB"

start_camsim cam --mount gate
mkdir -p "$T/run"
cfg_a="$T/a.ini"
write_config "$cfg_a" "$T/storage-a" 60
add_camera "$cfg_a" gate "rtsp://127.0.0.1:$CAMSIM_PORT/gate"
printf '\n[access]\nsocket = %s\n' "$T/run/nvr.sock" >>"$cfg_a"
cfg_b="$T/b.ini"
write_config "$cfg_b" "$T/storage-b" 60
add_camera "$cfg_b" yard "rtsp://127.0.0.1:$CAMSIM_PORT/gate"
printf '\n[access]\nsocket = %s\n' "$T/run/nvr.sock" >>"$cfg_b"
mkdir -p "$T/storage-b"
chmod 0750 "$T/storage-b"

start_nvr "$cfg_a" nvr
wait_for 20 state_is "$cfg_a" gate recording || fail "gate not recording"
wait_for 10 test -S "$T/run/nvr.sock" || fail "no socket at $T/run/nvr.sock"

"$NVR" status -c "$cfg_b" --json >"$T/b.json" 2>"$T/b.err" || true
grep -q "records into $T/storage-a, not $T/storage-b" "$T/b.err" ||
    fail "no word that the socket's recorder records elsewhere: $(cat "$T/b.err")"
jq -e '[.cameras[].name] == ["yard"] and .recorder_running == false' "$T/b.json" >/dev/null ||
    fail "status of storage b shows another recorder's cameras: $(jq -c '[.cameras[] | [.name, .state]], .recorder_running' "$T/b.json")"
ok "storage b's status is its own ($(jq -c '[.cameras[] | [.name, .state]]' "$T/b.json")), and says why it did not ask the recorder"
"$NVR" status -c "$cfg_a" --json | jq -e '[.cameras[].name] == ["gate"]' >/dev/null ||
    fail "storage a's status through the socket"
ok "storage a's status comes from its recorder"
stop_nvr
