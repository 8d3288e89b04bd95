#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 15 fault 1: a disk filled by another process recovers by itself.
# A 40 MB tmpfs, two cameras; nothing is held, so retention may delete the
# oldest footage. Another process fills the disk to about 1.5 MB free and
# keeps its file. Retention must free space for both cameras (its own
# catalog transaction must not fail for want of space: the reserve is for
# it, and the WAL is truncated after), recording must resume by itself as
# soon as there is room, at the same free-space figure retention works to,
# and the interval lost is reported as a gap with its reason. Catalog and
# disk agree at the end.
. "$NVR_TEST_LIB"

st="$T/storage"
mkdir -p "$st"
mount -t tmpfs -o size=40m nvr-diskfull "$st" ||
    fail "cannot mount a tmpfs at $st (this test needs root)"
diskfull_cleanup() {
    local rc=$? p
    set +e
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    umount -l "$st" 2>/dev/null
    (exit "$rc")
    cleanup
}
trap diskfull_cleanup EXIT

start_camsim cam --mount cam1 --mount cam2 --gop 25 --width 320 --height 180 --bitrate 800
cfg="$T/nvr.ini"
write_config "$cfg" "$st" 2
add_camera "$cfg" cam1 "rtsp://127.0.0.1:$CAMSIM_PORT/cam1"
add_camera "$cfg" cam2 "rtsp://127.0.0.1:$CAMSIM_PORT/cam2"
db="$st/catalog.db"
start_iso=$(date -u +%Y-%m-%dT%H:%M:%SZ)
start_nvr "$cfg" nvr
wait_for 20 state_is "$cfg" cam1 recording || fail "cam1 not recording"
wait_for 20 state_is "$cfg" cam2 recording || fail "cam2 not recording"
record_for "$cfg" 20 cam1 cam2
ok "recorded $(du -sm "$st" | cut -f1) MB"

free_kb() { df -k --output=avail "$st" | tail -1 | tr -d ' '; }
# Another process takes all but about 1.5 MB and keeps it.
full_us=$(date +%s%6N)
fallocate -l $(( ($(free_kb) - 1536) * 1024 )) "$st/filler" ||
    fail "cannot make the filler file"
ok "storage filled by another process ($(free_kb) KB free)"

# resumed CAM SINCE_US: the camera records again, by itself: a finished
# segment with frames that starts after SINCE_US.
resumed() {
    [ "$(sqlite3 "$db" "select count(*) from segments where camera_id =
        (select id from cameras where name = '$1')
        and start_us > $2 and frames > 0 and status = 1")" -gt 0 ]
}
# Both cameras record again with the filler still there.
for cam in cam1 cam2; do
    wait_for 30 resumed "$cam" "$full_us" ||
        fail "$cam did not resume by itself ($(free_kb) KB free; state $(camera_state "$cfg" "$cam"), error: $(camera_field "$cfg" "$cam" error))"
done
ok "both cameras resumed with the filler in place ($(free_kb) KB free)"
record_for "$cfg" 10 cam1 cam2
for cam in cam1 cam2; do
    state_is "$cfg" "$cam" recording ||
        fail "$cam is $(camera_state "$cfg" "$cam") after resuming: $(camera_field "$cfg" "$cam" error)"
done
ok "both cameras keep recording while retention makes room ($(free_kb) KB free)"
! grep -E "database or disk is full|retention pass failed" "$T/nvr.log" ||
    fail "the catalog ran out of space"
ok "retention's catalog transactions never ran out of space"

# Now the other process takes every last block: writes fail with ENOSPC.
# The emergency pass gives the catalog its reserve, deletes, and both
# cameras resume by themselves at the figure retention worked to.
full2_us=$(date +%s%6N)
fallocate -l $(( $(free_kb) * 1024 )) "$st/filler2" || fail "cannot make the second filler"
ok "storage filled to the last block ($(free_kb) KB free)"
wait_for 20 grep -q "emergency retention" "$T/nvr.log" || fail "no emergency retention pass"
for cam in cam1 cam2; do
    wait_for 30 resumed "$cam" "$full2_us" ||
        fail "$cam did not resume after ENOSPC ($(free_kb) KB free; state $(camera_state "$cfg" "$cam"), error: $(camera_field "$cfg" "$cam" error))"
done
record_for "$cfg" 6 cam1 cam2
for cam in cam1 cam2; do
    state_is "$cfg" "$cam" recording ||
        fail "$cam is $(camera_state "$cfg" "$cam") after ENOSPC: $(camera_field "$cfg" "$cam" error)"
done
# Until the emergency pass the catalog shares the full disk (status and
# finished rows wait, and are caught up); the pass's own transaction must
# not fail.
! grep -E "retention pass failed|retention mark" "$T/nvr.log" ||
    fail "retention could not commit: $(grep -E "retention pass failed|retention mark" "$T/nvr.log" | head -3)"
ok "both cameras resumed by themselves after ENOSPC; retention's transactions committed ($(free_kb) KB free)"

stop_nvr
for cam in cam1 cam2; do
    "$NVR" recordings -c "$cfg" --camera "$cam" --json >"$T/rec-$cam.json" || fail "recordings $cam"
    # Either nothing was lost (retention made room before the writer
    # needed it) or the loss is a gap with its reason.
    jq -e --argjson f "$full_us" '
        [.gaps[] | select(.end_us >= $f)] | all(.reason | test("disk"))' \
        "$T/rec-$cam.json" >/dev/null ||
        fail "$cam: a gap after the fill without the disk as its reason: $(jq -c .gaps "$T/rec-$cam.json")"
done
ok "gaps after the fill (if any) name the disk: $(jq -c '[.gaps[] | .reason]' "$T/rec-cam1.json")"
# A camera that hit ENOSPC lost what was not on disk yet, unless the
# failed write's frames were all there (then its segments stay
# contiguous): every hole after the second fill is a disk-full gap.
stopped=0
for cam in cam1 cam2; do
    grep -q "camera $cam: no space left on device: recording stopped" "$T/nvr.log" || continue
    stopped=$((stopped + 1))
    hole=$(jq -r --argjson f "$full2_us" '.segments | sort_by(.start_us) | . as $s
        | [range(1; length) | select($s[.].start_us > $f and $s[.].start_us - $s[. - 1].end_us > 500000)
           | [$s[. - 1].end_us, $s[.].start_us]] | .[0] // empty | @tsv' "$T/rec-$cam.json")
    [ -z "$hole" ] && continue
    read -r h0 h1 <<<"$hole"
    jq -e --argjson a "$h0" --argjson b "$h1" \
        '[.gaps[] | select(.start_us == $a and .end_us == $b) | select(.reason | test("disk full"))] | length == 1' \
        "$T/rec-$cam.json" >/dev/null ||
        fail "$cam: the hole $h0..$h1 after ENOSPC is not a disk-full gap: $(jq -c .gaps "$T/rec-$cam.json")"
done
[ "$stopped" -ge 1 ] || fail "no camera hit ENOSPC: the second fill did not fill the disk"
ok "what ENOSPC cost is a disk-full gap ($stopped camera(s) stopped)"
# The oldest footage went to make room: the gap it leaves says so.
"$NVR" recordings -c "$cfg" --camera cam1 --from "$start_iso" --json >"$T/rec-from.json" ||
    fail "recordings --from"
jq -e '.gaps[0].reason == "deleted by retention: min_free"' "$T/rec-from.json" >/dev/null ||
    fail "the gap left by deleted footage does not say so: $(jq -c '.gaps[0]' "$T/rec-from.json")"
ok "the gap deleted footage leaves says why: $(jq -c '.gaps[0] | [.start, .end, .reason]' "$T/rec-from.json")"
rm -f "$st/filler" "$st/filler2"
check_storage "$st"
