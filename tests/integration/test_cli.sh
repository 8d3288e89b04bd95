#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The command line: --help everywhere, exit codes, config errors naming the
# file, line and key, and JSON field names fixed by DESIGN.md.
. "$NVR_TEST_LIB"

"$NVR" --help | grep -q "usage: nvr" || fail "nvr --help"
for cmd in run demo status probe recordings; do
    "$NVR" "$cmd" --help >"$T/help.out" || fail "nvr $cmd --help exited $?"
    grep -q "usage: nvr $cmd" "$T/help.out" || fail "nvr $cmd --help text"
done
ok "--help of every subcommand"

rc=0
"$NVR" frobnicate 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "unknown command exits $rc, want 2"
rc=0
"$NVR" recordings -c /nonexistent.ini --camera x 2>"$T/err" || rc=$?
[ "$rc" = 2 ] || fail "missing config exits $rc, want 2"
grep -q "/nonexistent.ini" "$T/err" || fail "missing config not named"
for cmd in "recordings --camera x" "export --camera x --to 2026-01-01 --reason r -o $T/x.mp4" "audit" "hold add --camera x --to 2026-01-01 --reason r"; do
    rc=0
    # shellcheck disable=SC2086
    "$NVR" $cmd --from "yesterday-ish" 2>"$T/err" || rc=$?
    [ "$rc" = 2 ] || fail "nvr $cmd with a bad --from exits $rc, want 2"
    grep -q "^nvr ${cmd%% *}: --from: not an ISO 8601 time: 'yesterday-ish'" "$T/err" ||
        fail "nvr $cmd: bad time message: $(cat "$T/err")"
done
ok "usage errors exit 2"

cfg="$T/bad.ini"
cat >"$cfg" <<EOC
[storage]
path = $T/storage
segment_seconds = 60

[camera gate]
url = rtsp://127.0.0.1:1/x
colour = blue
transport = carrier-pigeon
password = hunter2-secret
EOC
rc=0
"$NVR" status -c "$cfg" 2>"$T/err" || rc=$?
[ "$rc" = 2 ] || fail "bad config exits $rc, want 2"
grep -q "bad.ini:7" "$T/err" || fail "unknown key line not named: $(cat "$T/err")"
grep -q "colour" "$T/err" || fail "unknown key not named"
grep -q "bad.ini:8" "$T/err" || fail "bad transport line not named"
grep -q "hunter2" "$T/err" && fail "a password reached an error message"
ok "config errors name file, line and key, and hide the password"

# status of a config whose recorder never ran: every camera 'stopped'.
cfg="$T/good.ini"
write_config "$cfg" "$T/storage" 60
add_camera "$cfg" gate "rtsp://admin:topsecret@127.0.0.1:1/x"
"$NVR" status -c "$cfg" --json >"$T/status.json" || fail "status exited $?"
jq -e '.cameras[0].name == "gate" and .cameras[0].state == "stopped"
       and (.cameras[0] | has("last_frame") and has("last_frame_us")
            and has("bitrate_bps") and has("error"))
       and (.storage | has("path") and has("used_bytes") and has("free_bytes"))' \
    "$T/status.json" >/dev/null || fail "status --json fields: $(cat "$T/status.json")"
grep -q topsecret "$T/status.json" && fail "password in status output"
ok "status --json fields"

# nvr run with a config that has no camera is a config error.
cfg="$T/empty.ini"
write_config "$cfg" "$T/storage" 60
rc=0
"$NVR" run -c "$cfg" 2>"$T/err" || rc=$?
[ "$rc" = 2 ] || fail "run without cameras exits $rc, want 2"
ok "run without cameras exits 2"
