#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# kill -9 of 'nvr run' mid-segment, then 'nvr run' again: every segment
# file on disk plays in ffprobe and is in the catalog, and the interrupted
# segment keeps the footage written before the kill (all but the GOP in
# flight). The new recorder's status shows none of the killed one's rows,
# before its recovery (nvr-testhooks pauses it right after it takes the
# lock) or after.
. "$NVR_TEST_LIB"
: "${NVR_TESTHOOKS:?NVR_TESTHOOKS must name the nvr-testhooks binary}"

start_camsim cam --mount cam1 --mount cam2
cfg="$T/nvr.ini"
write_config "$cfg" "$T/storage" 60
add_camera "$cfg" cam1 "rtsp://127.0.0.1:$CAMSIM_PORT/cam1"
add_camera "$cfg" cam2 "rtsp://127.0.0.1:$CAMSIM_PORT/cam2"
db="$T/storage/catalog.db"

for round in 1 2; do
    start_nvr "$cfg" "nvr$round"
    wait_for 20 state_is "$cfg" cam1 recording || fail "round $round: not recording"
    # 6 s of footage in round 1, 7 s in round 2, in the segment the kill
    # interrupts.
    wait_for 30 newest_segment_at_least "$T/storage" cam1 $((5 + round)) ||
        fail "round $round: only $(newest_segment_s "$T/storage" cam1) s recorded"
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

# The new recorder stops right after it takes the lock, before its
# recovery: the killed recorder's rows (still "recording", and fresh) are
# not the running recorder's.
touch "$T/pause"
NVR_BIN=$NVR_TESTHOOKS NVR_TEST_PAUSE_AT=locked NVR_TEST_PAUSE_FILE="$T/pause" \
    start_nvr "$cfg" nvr3
wait_for 20 log_has "$T/nvr3.log" "test hook: paused at locked" ||
    fail "the new recorder did not pause after taking the lock"
[ "$(camera_state "$cfg" cam1)" = stopped ] ||
    fail "status before the new recorder's recovery says $(camera_state "$cfg" cam1) (the killed recorder's row), want stopped"
ok "before its recovery, the new recorder's status shows no killed recorder's rows"
rm "$T/pause"
# Its own evidence: its recovery line, then its own status rows.
wait_for 20 log_has "$T/nvr3.log" "recovery: " ||
    fail "no recovery reported at start-up"
wait_for 20 state_is "$cfg" cam1 recording || fail "not recording after restart"
# 3 s of new footage: recovery closed every old row, so an open one is new.
wait_for 30 has_segments "$db" cam1 0 ||
    fail "the restarted recorder opened no segment"
wait_for 30 newest_segment_at_least "$T/storage" cam1 3 ||
    fail "the restarted recorder recorded only $(newest_segment_s "$T/storage" cam1) s"
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
