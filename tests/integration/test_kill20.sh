#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 4 acceptance: 'nvr run' recording two camsim cameras is killed
# with SIGKILL at 20 random moments and restarted each time: each run is
# killed once it has written a fragment of both cameras, at a random
# moment of the next 1.6 s. Afterwards every segment file plays in ffprobe and is in the
# catalog, every catalog row has its file, nothing was moved to lost+found,
# and the footage lost to each kill is at most the GOP in flight.
. "$NVR_TEST_LIB"

GOP_S=1
start_camsim cam --mount cam1 --mount cam2 --gop 25 --width 320 --height 180 \
    --bitrate 300
cfg="$T/nvr.ini"
write_config "$cfg" "$T/storage" 4
add_camera "$cfg" cam1 "rtsp://127.0.0.1:$CAMSIM_PORT/cam1"
add_camera "$cfg" cam2 "rtsp://127.0.0.1:$CAMSIM_PORT/cam2"
db="$T/storage/catalog.db"
now_us() { date +%s%6N; }

: >"$T/runs" # one line per run: start_us kill_us
start_nvr "$cfg" nvr0
start_us=$(now_us)
wait_for 20 state_is "$cfg" cam1 recording || fail "not recording"
for i in $(seq 1 20); do
    for cam in cam1 cam2; do
        wait_for 30 newest_segment_at_least "$T/storage" "$cam" "$GOP_S" "$start_us" ||
            fail "run $i: no fragment of $cam"
    done
    # The random moment is the test's input, not a wait for anything.
    sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 1.6 * r / 32767 }')"
    k=$(now_us)
    kill -9 "$NVR_PID"
    wait "$NVR_PID" 2>/dev/null || true
    echo "$start_us $k" >>"$T/runs"
    start_nvr "$cfg" "nvr$i"
    start_us=$(now_us)
done
ok "killed nvr 20 times"
wait_for 20 state_is "$cfg" cam1 recording || fail "not recording after the last restart"
wait_for 20 state_is "$cfg" cam2 recording || fail "cam2 not recording after the last restart"
record_for "$cfg" 3 cam1 cam2
stop_nvr

[ "$(sqlite3 "$db" "select count(*) from segments where status in (0, 3)")" = 0 ] ||
    fail "open or deleting rows left after recovery and a clean stop"
if [ -d "$T/storage/lost+found" ] && [ -n "$(find "$T/storage/lost+found" -type f)" ]; then
    fail "files moved to lost+found: $(find "$T/storage/lost+found" -type f)"
fi
check_storage "$T/storage"
while IFS='|' read -r path sha; do
    [ "$(sha256sum "$T/storage/$path" | cut -d' ' -f1)" = "$sha" ] ||
        fail "$path: SHA-256 differs from the catalog"
done < <(sqlite3 "$db" "select path, sha256 from segments where status = 1")
ok "every closed row's SHA-256 matches its file"

# Footage lost per kill: from the end of what that run recorded to the
# kill. Runs killed before their first complete fragment recorded nothing.
limit_us=$((GOP_S * 1000000 + 750000))
measured=0
for cam in cam1 cam2; do
    while read -r s k; do
        end=$(sqlite3 "$db" "select coalesce(max(s.end_us), 0) from segments s
            join cameras c on c.id = s.camera_id where c.name = '$cam'
            and s.start_us >= $s and s.start_us < $k")
        [ "$end" -gt 0 ] || continue
        lost=$((k - end))
        [ "$lost" -le "$limit_us" ] ||
            fail "$cam: kill at $k lost $lost us, more than the GOP in flight"
        measured=$((measured + 1))
    done <"$T/runs"
done
[ "$measured" -ge 16 ] || fail "only $measured kills had recorded footage to measure"
ok "$measured kills measured: each lost at most ${GOP_S} s GOP + 0.75 s"
