#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# 'nvr probe' lists the tracks of a camsim mount, plain and --json, with
# and without Digest authentication, and never prints the password.
. "$NVR_TEST_LIB"

start_camsim cam --mount front
url="rtsp://127.0.0.1:$CAMSIM_PORT/front"
"$NVR" probe "$url" >"$T/probe.out" || fail "probe exited $?"
grep -q "h264" "$T/probe.out" || fail "probe shows no h264: $(cat "$T/probe.out")"
"$NVR" probe "$url" --json >"$T/probe.json" || fail "probe --json exited $?"
jq -e --arg u "$url" '.url == $u and (.tracks | length) >= 1
    and .tracks[0].media == "video" and .tracks[0].codec == "h264"
    and .tracks[0].clock_rate == 90000 and .tracks[0].recordable == true
    and (.tracks[0].control | startswith("rtsp://127.0.0.1:"))' \
    "$T/probe.json" >/dev/null || fail "probe --json: $(cat "$T/probe.json")"
ok "probe lists the h264 track"

start_camsim authcam --mount door --user admin --pass s3cret-pw
aurl="rtsp://admin:s3cret-pw@127.0.0.1:$CAMSIM_PORT/door"
"$NVR" probe "$aurl" --json >"$T/probe2.json" 2>"$T/probe2.err" ||
    fail "probe with digest exited $?: $(cat "$T/probe2.err")"
jq -e '.tracks[0].codec == "h264"' "$T/probe2.json" >/dev/null ||
    fail "probe with digest: $(cat "$T/probe2.json")"
grep -q "s3cret" "$T/probe2.json" && fail "password in probe output"
ok "probe with Digest authentication"

rc=0
"$NVR" probe "rtsp://admin:Wr0ngPa55@127.0.0.1:$CAMSIM_PORT/door" >"$T/p3.out" 2>"$T/p3.err" || rc=$?
[ "$rc" = 1 ] || fail "probe with a wrong password exits $rc, want 1"
grep -qi "auth" "$T/p3.err" || fail "wrong password not reported: $(cat "$T/p3.err")"
grep -q "Wr0ngPa55" "$T/p3.err" "$T/p3.out" && fail "password in probe error"
ok "probe with a wrong password reports authentication failure"
