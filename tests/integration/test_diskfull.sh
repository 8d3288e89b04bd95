#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 4 acceptance: disk full. The storage is a 16 MB tmpfs made by the
# test (root; it fails if it cannot mount). Everything recorded is held,
# then the disk is filled: recording stops without corrupting anything,
# the emergency retention pass finds only held footage and the status says
# so, and when space returns recording resumes at a keyframe. The gap is
# reported with its reason and catalog and disk agree.
. "$NVR_TEST_LIB"

st="$T/storage"
mkdir -p "$st"
mount -t tmpfs -o size=16m nvr-diskfull "$st" ||
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

start_camsim cam --mount cam1 --gop 25 --width 320 --height 180 --bitrate 400
cfg="$T/nvr.ini"
write_config "$cfg" "$st" 2
add_camera "$cfg" cam1 "rtsp://127.0.0.1:$CAMSIM_PORT/cam1"
db="$st/catalog.db"
start_nvr "$cfg" nvr
wait_for 20 state_is "$cfg" cam1 recording || fail "not recording"
record_for "$cfg" 5 cam1
now=$(date +%s)
"$NVR" hold add -c "$cfg" --camera cam1 --from "$(date -u -d "@$((now - 3600))" +%Y-%m-%dT%H:%M:%SZ)" \
    --to "$(date -u -d "@$((now + 3600))" +%Y-%m-%dT%H:%M:%SZ)" --reason "disk full test" >/dev/null ||
    fail "hold add"

full_us=$(date +%s%6N)
dd if=/dev/zero of="$st/filler" bs=64k 2>/dev/null || true
ok "storage filled ($(df -k --output=avail "$st" | tail -1) KB free)"
wait_for 15 grep -q "emergency retention" "$T/nvr.log" || fail "no emergency retention pass"
has_alert() { camera_field "$cfg" cam1 error | grep -q "only held footage"; }
wait_for 15 has_alert || fail "status does not say only held footage is left: $(camera_field "$cfg" cam1 error)"
grep -q "only held footage" "$T/nvr.log" || fail "the log does not say only held footage is left"
ok "status and log say only held footage is left"
# Nothing is written: the status must not say recording.
wait_for 10 state_is "$cfg" cam1 disk_full ||
    fail "cam1 is '$(camera_state "$cfg" cam1)' while nothing can be written (want disk_full)"
ok "status says disk_full, not recording"
# While the disk is full, what cannot be written is dropped and counted.
dropped() { [ "$(camera_field "$cfg" cam1 dropped)" -gt 0 ]; }
wait_for 15 dropped || fail "no dropped units counted while the disk is full"
# ... under the reason "disk", and said so at warning level.
"$NVR" status -c "$cfg" --json | jq -e '.cameras[0].refused.disk > 0' >/dev/null ||
    fail "no units refused for 'disk': $("$NVR" status -c "$cfg" --json | jq -c '.cameras[0].refused')"
wait_for 15 grep -Eq 'warn .*camera cam1: refused [0-9]+ units? in the last [0-9]+ s: disk ' "$T/nvr.log" ||
    fail "no warning about units refused for the disk"
rm -f "$st/filler"
back_us=$(date +%s%6N)
resumed() {
    [ "$(sqlite3 "$db" "select count(*) from segments where start_us > $back_us and frames > 0")" -gt 0 ] ||
        [ "$(sqlite3 "$db" "select count(*) from segments where status = 0 and start_us > $back_us")" -gt 0 ]
}
wait_for 15 resumed || fail "recording did not resume when space returned"
wait_for 10 grep -q "recording resumed" "$T/nvr.log" || fail "no resume in the log"
record_for "$cfg" 3 cam1
stop_nvr
ok "recording resumed after the disk had space again"

"$NVR" recordings -c "$cfg" --camera cam1 --json >"$T/rec.json" || fail "recordings"
jq -e --argjson f "$full_us" --argjson b "$back_us" \
    '[.gaps[] | select(.reason | test("disk full")) | select(.end_us >= $f and .start_us <= $b)] | length >= 1' \
    "$T/rec.json" >/dev/null || fail "no disk-full gap: $(jq -c .gaps "$T/rec.json")"
ok "the gap is reported: $(jq -c '[.gaps[] | select(.reason | test("disk full"))][0]' "$T/rec.json")"
[ "$(sqlite3 "$db" "select count(*) from segments where status in (0, 3)")" = 0 ] ||
    fail "open or deleting rows after a clean stop"
"$NVR" status -c "$cfg" --json | jq -e '.cameras[0].dropped > 0' >/dev/null ||
    fail "no dropped units counted in status"
check_storage "$st"
