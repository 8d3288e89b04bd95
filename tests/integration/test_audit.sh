#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The tamper-evident audit log (issue 7): the recorder logs its start and
# stop, config changes and cameras added/removed; an export is logged;
# `nvr audit` lists and filters; `nvr audit --verify` passes on the
# untouched log and fails, naming the first bad entry, after each kind of
# tampering done directly with sqlite3 on a copy of the catalog: an edited
# row, a deleted row, an inserted row, two swapped rows.
. "$NVR_TEST_LIB"

start_camsim cam --mount gate --mount yard
cfg="$T/nvr.ini"
write_config "$cfg" "$T/storage" 2
add_camera "$cfg" gate "rtsp://127.0.0.1:$CAMSIM_PORT/gate"
db="$T/storage/catalog.db"

run_briefly() {
    start_nvr "$cfg" "nvr$1"
    wait_for 20 state_is "$cfg" gate recording || fail "gate not recording (run $1)"
    record_for "$cfg" "$2" gate
    stop_nvr
}
kinds() { sqlite3 "$db" "select group_concat(kind || coalesce(':' || camera, ''), ' ') from audit order by id"; }

run_briefly 1 5
[ "$(kinds)" = "camera_added:gate recorder_start recorder_stop" ] || fail "first run: $(kinds)"
# Config change: one more camera.
add_camera "$cfg" yard "rtsp://127.0.0.1:$CAMSIM_PORT/yard"
run_briefly 2 1
[ "$(kinds)" = "camera_added:gate recorder_start recorder_stop config_change camera_added:yard recorder_start recorder_stop" ] ||
    fail "second run: $(kinds)"
# The same config again: no change logged.
run_briefly 3 1
[ "$(sqlite3 "$db" "select count(*) from audit where kind = 'config_change'")" = 1 ] || fail "third run: $(kinds)"
# Remove yard.
write_config "$cfg" "$T/storage" 2
add_camera "$cfg" gate "rtsp://127.0.0.1:$CAMSIM_PORT/gate"
run_briefly 4 1
sqlite3 "$db" "select kind, camera from audit where id > 9" | grep -q '^camera_removed|yard$' || fail "fourth run: $(kinds)"
sqlite3 "$db" "select detail from audit where kind = 'recorder_start' order by id desc limit 1" |
    jq -e --arg h "$(sha256sum "$cfg" | cut -d' ' -f1)" '.config_sha256 == $h and .cameras == ["gate"]' >/dev/null ||
    fail "start entry detail: $(sqlite3 "$db" "select detail from audit where kind = 'recorder_start' order by id desc limit 1")"
ok "recorder entries: $(kinds)"

# An export is logged with its reason.
from=$(sqlite3 "$db" "select min(start_us) from segments s join cameras c on c.id = s.camera_id where c.name = 'gate'")
f=$(date -u -d "@$((from / 1000000))" +%Y-%m-%dT%H:%M:%SZ)
t=$(date -u -d "@$((from / 1000000 + 4))" +%Y-%m-%dT%H:%M:%SZ)
"$NVR" export -c "$cfg" --camera gate --from "$f" --to "$t" --reason "test" -o "$T/c.mp4" \
    >/dev/null 2>"$T/export.err" || fail "export: $(cat "$T/export.err")"
n=$(sqlite3 "$db" "select count(*) from audit")

# Listing and filters.
"$NVR" audit -c "$cfg" --json >"$T/all.json"
jq -e --argjson n "$n" '(.entries | length) == $n and (.entries[-1].kind == "export") and
    all(.entries[]; (.hash | length) == 64 and .user != "" and .host != "")' "$T/all.json" >/dev/null ||
    fail "audit --json: $(jq -c '[.entries[] | .kind]' "$T/all.json")"
"$NVR" audit -c "$cfg" --camera yard --json | jq -e '[.entries[].kind] == ["camera_added", "camera_removed"]' >/dev/null ||
    fail "audit --camera yard"
"$NVR" audit -c "$cfg" --from "2000-01-01T00:00:00Z" --to "2000-01-02T00:00:00Z" --json | jq -e '.entries == []' >/dev/null ||
    fail "audit --from/--to"
"$NVR" audit -c "$cfg" >"$T/all.txt"
grep -q "export" "$T/all.txt" && grep -q "$n entries" "$T/all.txt" || fail "audit text: $(cat "$T/all.txt")"
"$NVR" audit -c "$cfg" --verify >"$T/v.txt" || fail "untouched log does not verify: $(cat "$T/v.txt")"
grep -q "intact: $n entries" "$T/v.txt" || fail "verify text: $(cat "$T/v.txt")"
ok "untouched log: $(cat "$T/v.txt")"

# tamper NAME SQL EXPECTED_ID: on a fresh copy of the catalog, --verify
# must exit 1 naming EXPECTED_ID.
cp "$db" "$T/pristine.db"
tamper() {
    local name=$1 sql=$2 want=$3 rc=0
    cp "$T/pristine.db" "$db"
    rm -f "$db-wal" "$db-shm"
    sqlite3 "$db" "$sql" || fail "$name: sqlite3 failed"
    "$NVR" audit -c "$cfg" --verify --json >"$T/v.json" || rc=$?
    [ "$rc" = 1 ] || fail "$name: --verify exit $rc: $(cat "$T/v.json")"
    jq -e --argjson w "$want" '.ok == false and .first_bad_id == $w' "$T/v.json" >/dev/null ||
        fail "$name: expected entry $want: $(cat "$T/v.json")"
    "$NVR" audit -c "$cfg" --verify >"$T/v.txt" || true
    grep -q "at entry $want" "$T/v.txt" || fail "$name: text: $(cat "$T/v.txt")"
    ok "$name: $(cat "$T/v.txt")"
}
tamper "edited row" "update audit set detail = '{}' where id = 4" 4
tamper "edited camera" "update audit set camera = 'yard' where id = $n" "$n"
tamper "deleted row" "delete from audit where id = 5" 4
tamper "deleted and renumbered" "delete from audit where id = 5; update audit set id = id - 1 where id > 5" 5
tamper "inserted row" "insert into audit(id, time_us, user, host, kind, detail, prev_hash, hash)
    select $((n + 1)), time_us + 1, user, host, 'export', '', hash, hash from audit where id = $n" $((n + 1))
tamper "swapped rows" "update audit set id = -1 where id = 3; update audit set id = 3 where id = 6;
    update audit set id = 6 where id = -1" 3
cp "$T/pristine.db" "$db"
rm -f "$db-wal" "$db-shm"
"$NVR" audit -c "$cfg" --verify >/dev/null || fail "restored log does not verify"
