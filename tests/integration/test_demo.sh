#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# 'nvr demo --seconds 30 --no-tui' exits 0 and leaves segments for both
# cameras that ffprobe reads, whose catalog durations agree with ffprobe
# within one frame, covering at least 90% of the 30 s.
. "$NVR_TEST_LIB"

SECONDS_TO_RECORD=30
FRAME_S=0.04 # camsim runs at 25 fps

NVR_CAMSIM="$CAMSIM" "$NVR" demo --seconds "$SECONDS_TO_RECORD" --no-tui \
    --dir "$T/demo" >"$T/demo.log" 2>&1 || fail "nvr demo exited $?"
ok "nvr demo exited 0"
grep -q "recorded into" "$T/demo.log" || fail "demo printed no summary"

storage="$T/demo/storage"
db="$storage/catalog.db"
check_storage "$storage"

for cam in entrance car-park; do
    n=$(segment_count "$db" "$cam" 1)
    [ "$n" -ge 3 ] || fail "$cam: expected >= 3 closed segments (10 s each), got $n"
    open=$(sqlite3 "$db" "select count(*) from segments s join cameras c on c.id=s.camera_id where c.name='$cam' and s.status != 1")
    [ "$open" = 0 ] || fail "$cam: $open segments not closed after the demo ended"
    total=0
    while IFS='|' read -r path start_us end_us frames sha; do
        cat_s=$(echo "scale=6; ($end_us - $start_us) / 1000000" | bc)
        probe_s=$(ffprobe_duration "$storage/$path")
        diff=$(echo "d = $cat_s - $probe_s; if (d < 0) d = -d; d" | bc)
        [ "$(echo "$diff <= $FRAME_S" | bc)" = 1 ] ||
            fail "$path: catalog says ${cat_s}s, ffprobe ${probe_s}s"
        probe_frames=$(ffprobe_frames "$storage/$path")
        [ "$probe_frames" = "$frames" ] ||
            fail "$path: catalog says $frames frames, ffprobe $probe_frames"
        [ "$(sha256sum "$storage/$path" | cut -d' ' -f1)" = "$sha" ] ||
            fail "$path: SHA-256 differs from the catalog"
        total=$(echo "$total + $cat_s" | bc)
    done < <(sqlite3 "$db" "select s.path, s.start_us, s.end_us, s.frames, s.sha256 from segments s join cameras c on c.id=s.camera_id where c.name='$cam' order by s.start_us")
    [ "$(echo "$total >= 0.9 * $SECONDS_TO_RECORD" | bc)" = 1 ] ||
        fail "$cam: only ${total}s of $SECONDS_TO_RECORD s recorded"
    ok "$cam: $n segments, ${total}s recorded, durations, frames and hashes match ffprobe"
done
