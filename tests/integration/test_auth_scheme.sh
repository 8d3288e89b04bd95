#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Basic authentication sends the password in clear text, so nvr answers it
# only where the camera's section says auth = basic or any. Against the
# GStreamer RTSP server (camsim) offering Basic only, Digest only, or both:
# a camera with the default (digest) that is offered only Basic is refused
# with an error naming the camera, the key and what to set, in status
# (text and --json) and the log (warning); auth = basic and any record with
# Basic; Digest is used whenever it is offered under digest or any; auth =
# basic refuses a Digest-only camera. nvr status shows the scheme in use.
# nvr probe follows the same rule with --auth.
. "$NVR_TEST_LIB"

PASS='Gr33n-Tea-Pot'
start_camsim basic --mount plain --mount basicok --mount anyb \
    --user admin --pass "$PASS" --auth basic
port_basic=$CAMSIM_PORT
start_camsim both --mount both --mount bothany --user admin --pass "$PASS" --auth both
port_both=$CAMSIM_PORT
start_camsim digest --mount dig --user admin --pass "$PASS"
port_digest=$CAMSIM_PORT

cfg="$T/nvr.ini"
write_config "$cfg" "$T/storage" 60
add_camera "$cfg" plain "rtsp://127.0.0.1:$port_basic/plain" "username = admin" "password = $PASS"
add_camera "$cfg" basicok "rtsp://127.0.0.1:$port_basic/basicok" "username = admin" \
    "password = $PASS" "auth = basic"
add_camera "$cfg" anyb "rtsp://127.0.0.1:$port_basic/anyb" "username = admin" \
    "password = $PASS" "auth = any"
add_camera "$cfg" both "rtsp://127.0.0.1:$port_both/both" "username = admin" "password = $PASS"
add_camera "$cfg" bothany "rtsp://127.0.0.1:$port_both/bothany" "username = admin" \
    "password = $PASS" "auth = any"
add_camera "$cfg" dig "rtsp://127.0.0.1:$port_digest/dig" "username = admin" \
    "password = $PASS" "auth = basic"
chmod 600 "$cfg"
start_nvr "$cfg" nvr

for cam in basicok anyb both bothany; do
    wait_for 30 state_is "$cfg" "$cam" recording || fail "camera $cam is $(camera_state "$cfg" "$cam"), want recording"
done
wait_for 30 state_is "$cfg" plain auth_failed || fail "camera plain is $(camera_state "$cfg" plain), want auth_failed"
wait_for 30 state_is "$cfg" dig auth_failed || fail "camera dig is $(camera_state "$cfg" dig), want auth_failed"
ok "Basic-only and Digest-only cameras are refused where the auth key says so"

err=$(camera_field "$cfg" plain error)
want="authentication refused: the camera offers only Basic, which would send the password in clear text; set auth = basic (or any) in [camera plain] to allow it"
[ "$err" = "$want" ] || fail "status --json error of plain: '$err', want '$want'"
"$NVR" status -c "$cfg" >"$T/status.txt"
grep -F "$want" "$T/status.txt" | grep -q '^plain ' || fail "nvr status does not show why plain is refused: $(cat "$T/status.txt")"
log_has "$T/nvr.log" "warn  ingest: camera plain: authentication refused: the camera offers only Basic" ||
    fail "no warning naming camera plain in the log"
err=$(camera_field "$cfg" dig error)
echo "$err" | grep -qF "offers only Digest, and auth = basic allows only Basic; set auth = digest (or any) in [camera dig]" ||
    fail "error of dig: $err"
ok "the refusal names the camera, the key and what to set: $want"

want_auth() {
    local got
    got=$(camera_field "$cfg" "$1" auth)
    [ "$got" = "$2" ] || fail "camera $1 answers '$got', want '$2'"
}
want_auth basicok basic
want_auth anyb basic
want_auth both digest
want_auth bothany digest
want_auth plain none
# text_auth NAME: the AUTH column of nvr status (the one after TRANS).
text_auth() {
    "$NVR" status -c "$cfg" |
        awk -v n="$1" '$1 == n { for (i = 2; i < NF; i++) if ($i == "tcp") print $(i + 1) }'
}
[ "$(text_auth basicok)" = basic ] || fail "nvr status (text) shows basicok's scheme as '$(text_auth basicok)'"
[ "$(text_auth both)" = digest ] || fail "nvr status (text) shows both's scheme as '$(text_auth both)'"
ok "status shows the scheme in use (Digest whenever offered, Basic only where allowed)"
record_for "$cfg" 3 basicok both
stop_nvr

# nvr probe: the same rule, with --auth.
printf '%s\n' "$PASS" >"$T/pass"
chmod 600 "$T/pass"
rc=0
"$NVR" probe "rtsp://127.0.0.1:$port_basic/plain" --username admin --password-file "$T/pass" \
    >"$T/probe1.out" 2>"$T/probe1.err" || rc=$?
[ "$rc" -eq 1 ] || fail "probe of a Basic-only camera without --auth: exit $rc"
grep -qF "the camera offers only Basic, which would send the password in clear text; add --auth basic (or --auth any) to allow it" \
    "$T/probe1.err" || fail "probe's refusal: $(cat "$T/probe1.err")"
for a in basic any; do
    "$NVR" probe "rtsp://127.0.0.1:$port_basic/plain" --username admin --password-file "$T/pass" \
        --auth "$a" >"$T/probe-$a.out" 2>&1 || fail "probe --auth $a: $(cat "$T/probe-$a.out")"
    grep -q "recordable" "$T/probe-$a.out" || fail "probe --auth $a listed no track"
done
"$NVR" probe "rtsp://127.0.0.1:$port_both/both" --username admin --password-file "$T/pass" \
    >"$T/probe-both.out" 2>&1 || fail "probe of a camera offering both: $(cat "$T/probe-both.out")"
rc=0
"$NVR" probe "rtsp://127.0.0.1:$port_digest/dig" --username admin --password-file "$T/pass" \
    --auth basic >"$T/probe-dig.out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] && grep -qF -- "use --auth digest (the default) or --auth any" "$T/probe-dig.out" ||
    fail "probe --auth basic of a Digest-only camera: exit $rc, $(cat "$T/probe-dig.out")"
rc=0
"$NVR" probe "rtsp://127.0.0.1:$port_digest/dig" --auth ntlm >/dev/null 2>"$T/probe-bad.err" || rc=$?
[ "$rc" -eq 2 ] || fail "probe --auth ntlm: exit $rc"
ok "nvr probe refuses Basic unless --auth basic or any"

grep -qF "$PASS" "$T/nvr.log" "$T"/probe* && fail "the password reached a log or probe output"
check_storage "$T/storage"
