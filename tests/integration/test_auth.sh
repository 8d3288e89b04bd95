#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# 'nvr run' against a camera that requires Digest authentication: with the
# right password it records; with a wrong one it reports an authentication
# error for that camera (no crash) and backs off instead of hammering.
. "$NVR_TEST_LIB"

start_camsim cam --mount good --mount bad --user admin --pass 'c0rrect horse'
printf 'c0rrect horse\n' >"$T/good.pass"
chmod 600 "$T/good.pass"
cfg="$T/nvr.ini"
write_config "$cfg" "$T/storage" 60
add_camera "$cfg" good "rtsp://127.0.0.1:$CAMSIM_PORT/good" \
    "username = admin" "password_file = $T/good.pass"
add_camera "$cfg" bad "rtsp://127.0.0.1:$CAMSIM_PORT/bad" \
    "username = admin" "password = Wr0ngPa55"
start_nvr "$cfg" nvr

wait_for 20 state_is "$cfg" good recording || fail "camera 'good' is not recording"
ok "the camera with the right password records"
wait_for 20 state_is "$cfg" bad auth_failed || fail "camera 'bad' is $(camera_state "$cfg" bad), want auth_failed"
err=$(camera_field "$cfg" bad error)
echo "$err" | grep -qi "auth" || fail "error of 'bad' does not say authentication: $err"
ok "the camera with a wrong password reports: $err"

# Back off: over the next 10 s the wrong password is tried at most twice
# (each try is two DESCRIBEs: the challenge and the refused answer). The
# 10 s are measured on the good camera's footage.
before=$(grep -c "bad.*auth" "$T/nvr.log" || true)
record_for "$cfg" 10 good
kill -0 "$NVR_PID" || fail "nvr died"
state_is "$cfg" bad auth_failed || fail "camera 'bad' left auth_failed: $(camera_state "$cfg" bad)"
state_is "$cfg" good recording || fail "camera 'good' stopped recording"
after=$(grep -c "bad.*auth" "$T/nvr.log" || true)
[ $((after - before)) -le 4 ] || fail "wrong password retried too often: $((after - before)) log lines in 10 s"
ok "backs off after the authentication failure"

stop_nvr
grep -q "Wr0ngPa55\|c0rrect horse" "$T/nvr.log" && fail "a password reached the log"
sqlite3 "$T/storage/catalog.db" .dump | grep -q "Wr0ngPa55\|c0rrect horse" &&
    fail "a password reached the catalog"
check_storage "$T/storage"
