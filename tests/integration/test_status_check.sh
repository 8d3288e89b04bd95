#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nvr status --check (issue 15 item 7), for monitoring scripts and
# systemd: exit 1 with one line per problem (the recorder is down, a
# camera is not recording, the storage is under min_free), exit 0 with one
# "ok" line otherwise; --json gives the same as {"ok", "problems"}.
. "$NVR_TEST_LIB"

mkdir -p "$T/control"
start_camsim cam --mount cam1 --mount cam2 --control "$T/control"
cfg="$T/nvr.ini"
write_config "$cfg" "$T/storage" 60
add_camera "$cfg" cam1 "rtsp://127.0.0.1:$CAMSIM_PORT/cam1"
add_camera "$cfg" cam2 "rtsp://127.0.0.1:$CAMSIM_PORT/cam2"
mkdir -p "$T/storage"

# check [ARGS...]: runs nvr status --check; output in $T/check.out, status in rc.
check() {
    rc=0
    "$NVR" status -c "$cfg" --check "$@" >"$T/check.out" 2>"$T/check.err" || rc=$?
}

check
[ "$rc" = 1 ] || fail "no recorder: --check exited $rc, want 1: $(cat "$T/check.out")"
[ "$(cat "$T/check.out")" = "recorder: not running on $T/storage" ] ||
    fail "no recorder: $(cat "$T/check.out")"
ok "no recorder: exit 1, $(cat "$T/check.out")"

start_nvr "$cfg" nvr
wait_for 20 state_is "$cfg" cam1 recording || fail "cam1 not recording"
wait_for 20 state_is "$cfg" cam2 recording || fail "cam2 not recording"
check
[ "$rc" = 0 ] || fail "all recording: --check exited $rc: $(cat "$T/check.out")"
[ "$(wc -l <"$T/check.out")" = 1 ] && grep -q "^ok: 2 cameras recording, .* GB free on $T/storage$" "$T/check.out" ||
    fail "all recording: $(cat "$T/check.out")"
ok "all recording: exit 0, $(cat "$T/check.out")"
check --json
[ "$rc" = 0 ] || fail "--check --json exited $rc"
jq -e '.ok == true and (.problems | length) == 0' "$T/check.out" >/dev/null ||
    fail "--check --json: $(cat "$T/check.out")"

# One camera down: one line naming it.
touch "$T/control/cam2.down"
not_recording() { ! state_is "$cfg" cam2 recording; }
wait_for 30 not_recording || fail "cam2 still recording while down"
check
[ "$rc" = 1 ] || fail "cam2 down: --check exited $rc: $(cat "$T/check.out")"
[ "$(wc -l <"$T/check.out")" = 1 ] && grep -qE "^camera cam2: (connecting|backoff|error), not recording" "$T/check.out" ||
    fail "cam2 down: $(cat "$T/check.out")"
ok "cam2 down: exit 1, $(cat "$T/check.out")"
check --json
[ "$rc" = 1 ] || fail "--check --json with cam2 down exited $rc"
jq -e '.ok == false and (.problems | length) == 1 and (.problems[0] | startswith("camera cam2: "))' \
    "$T/check.out" >/dev/null || fail "--check --json: $(cat "$T/check.out")"
rm "$T/control/cam2.down"
wait_for 30 state_is "$cfg" cam2 recording || fail "cam2 did not come back"
check
[ "$rc" = 0 ] || fail "cam2 back: --check exited $rc: $(cat "$T/check.out")"

# The same recorder, read through a config whose min_free the disk does
# not have: only the storage is a problem.
sed 's/^min_free = .*//; s/^\[storage\]$/[storage]\nmin_free = 99.9%/' "$cfg" >"$T/full.ini"
grep -q "^min_free = 99.9%" "$T/full.ini" || fail "could not write full.ini: $(cat "$T/full.ini")"
rc=0
"$NVR" status -c "$T/full.ini" --check >"$T/check.out" 2>"$T/check.err" || rc=$?
[ "$rc" = 1 ] || fail "under min_free: --check exited $rc: $(cat "$T/check.out" "$T/check.err")"
[ "$(wc -l <"$T/check.out")" = 1 ] &&
    grep -qE "^storage $T/storage: [0-9.]+ MB free, under min_free \([0-9.]+ MB\)$" "$T/check.out" ||
    fail "under min_free: $(cat "$T/check.out")"
ok "under min_free: exit 1, $(cat "$T/check.out")"

stop_nvr
check
[ "$rc" = 1 ] && grep -q "^recorder: not running" "$T/check.out" ||
    fail "after stop: --check exited $rc: $(cat "$T/check.out")"
ok "recorder stopped: exit 1 again"

# A usage error is 2, as everywhere.
rc=0
"$NVR" status -c "$cfg" --check --bogus >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "--check --bogus exited $rc, want 2"
