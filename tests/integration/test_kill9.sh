#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# kill -9 of 'nvr run' mid-segment, then 'nvr run' again: every segment
# file on disk plays in ffprobe and is in the catalog, and the interrupted
# segment keeps the footage written before the kill (all but the GOP in
# flight).
. "$NVR_TEST_LIB"

start_camsim cam --mount cam1 --mount cam2
cfg="$T/nvr.ini"
write_config "$cfg" "$T/storage" 60
add_camera "$cfg" cam1 "rtsp://127.0.0.1:$CAMSIM_PORT/cam1"
add_camera "$cfg" cam2 "rtsp://127.0.0.1:$CAMSIM_PORT/cam2"
db="$T/storage/catalog.db"

for round in 1 2; do
    start_nvr "$cfg" "nvr$round"
    wait_for 20 state_is "$cfg" cam1 recording || fail "round $round: not recording"
    sleep $((5 + round))
    if [ "$round" = 1 ]; then
        # One recorder per storage directory.
        rc=0
        "$NVR" run -c "$cfg" >"$T/second.log" 2>&1 || rc=$?
        [ "$rc" = 1 ] || fail "a second recorder on the same storage exited $rc, want 1"
        grep -q "already recording" "$T/second.log" ||
            fail "second recorder: $(cat "$T/second.log")"
        ok "a second recorder on the same storage is refused"
    fi
    kill -9 "$NVR_PID"
    wait "$NVR_PID" 2>/dev/null || true
    # The killed recorder's rows must not read as current.
    [ "$(camera_state "$cfg" cam1)" = stopped ] ||
        fail "status after kill -9 says $(camera_state "$cfg" cam1), want stopped"
    ok "round $round: killed nvr mid-segment; status says stopped"
done
open=$(sqlite3 "$db" "select count(*) from segments where status = 0")
[ "$open" -ge 2 ] || fail "expected interrupted (open) rows after kill -9, got $open"

start_nvr "$cfg" nvr3
wait_for 20 state_is "$cfg" cam1 recording || fail "not recording after restart"
grep -q "recovery" "$T/nvr3.log" || fail "no recovery reported at start-up"
sleep 3
stop_nvr

[ "$(sqlite3 "$db" "select count(*) from segments where status = 0")" = 0 ] ||
    fail "rows still open after recovery and a clean stop"
# The first interrupted segment of cam1 kept at least 4 s of its ~6 s.
first=$(sqlite3 "$db" "select s.end_us - s.start_us from segments s join cameras c on c.id=s.camera_id where c.name='cam1' order by s.start_us limit 1")
[ "$first" -ge 4000000 ] || fail "the interrupted segment kept only $first us"
while IFS='|' read -r path sha; do
    [ "$(sha256sum "$T/storage/$path" | cut -d' ' -f1)" = "$sha" ] ||
        fail "$path: SHA-256 differs from the catalog"
done < <(sqlite3 "$db" "select path, sha256 from segments where status = 1")
ok "recovered segments are closed with their SHA-256"
check_storage "$T/storage"
