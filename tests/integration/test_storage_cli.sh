#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 4: the storage commands end to end on a synthetic catalog (made by
# bench_storage --make with the real catalog API): nvr hold add/list/
# release, nvr retention --dry-run deleting nothing, a real pass keeping
# held footage, nvr verify-storage finding changed and vanished files, and
# the audit entries all of it leaves.
. "$NVR_TEST_LIB"
: "${BENCH_STORAGE:?BENCH_STORAGE must name bench_storage}"

st="$T/storage"
db="$st/catalog.db"
mkdir -p "$st"
# 2 x 100 one-minute segments that ended 40 days ago.
"$BENCH_STORAGE" --make "$st" --segments 200 --cameras 2 --end-days-ago 40 >/dev/null ||
    fail "cannot build the synthetic catalog"
cfg="$T/nvr.ini"
write_config "$cfg" "$st" 60
add_camera "$cfg" cam00 "rtsp://127.0.0.1:9/a"
add_camera "$cfg" cam01 "rtsp://127.0.0.1:9/b"

# Hold 10 minutes in the middle of cam00's footage.
first=$(sqlite3 "$db" "select min(start_us) from segments where camera_id = 1")
from=$(date -u -d "@$((first / 1000000 + 30 * 60))" +%Y-%m-%dT%H:%M:%SZ)
to=$(date -u -d "@$((first / 1000000 + 40 * 60))" +%Y-%m-%dT%H:%M:%SZ)
"$NVR" hold add -c "$cfg" --camera cam00 --from "$from" --to "$to" \
    --reason "case 4711" >"$T/hold.out" || fail "hold add failed"
grep -q "hold 1 added" "$T/hold.out" || fail "hold add: $(cat "$T/hold.out")"
rc=0
"$NVR" hold add -c "$cfg" --camera nowhere --from "$from" --to "$to" --reason x 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "hold on an unknown camera exited $rc, want 2"
[ "$("$NVR" hold list -c "$cfg" --json | jq '.holds | length')" = 1 ] || fail "hold list"
[ "$("$NVR" hold list -c "$cfg" --json | jq -r '.holds[0].reason')" = "case 4711" ] ||
    fail "hold list reason"
ok "hold add and list"

# Dry run: says what would go, deletes nothing.
"$NVR" retention -c "$cfg" --dry-run --json >"$T/dry.json" || fail "dry run failed"
would=$(jq '.would_delete | length' "$T/dry.json")
held=$(jq '.totals.held' "$T/dry.json")
[ "$would" -ge 185 ] && [ "$would" -le 190 ] || fail "dry run would delete $would"
[ "$held" -ge 10 ] || fail "dry run: $held held"
[ "$(sqlite3 "$db" "select count(*) from segments")" = 200 ] || fail "dry run deleted rows"
[ "$(find "$st" -name '*.mp4' | wc -l)" = 200 ] || fail "dry run deleted files"
ok "retention --dry-run: would delete $would, $held held, deleted nothing"

"$NVR" retention -c "$cfg" --json >"$T/ret.json" || fail "retention failed"
[ "$(jq '.totals.segments' "$T/ret.json")" = "$would" ] || fail "pass deleted other than the dry run"
left=$(sqlite3 "$db" "select count(*) from segments")
[ "$left" = $((200 - would)) ] || fail "$left rows left"
[ "$(find "$st" -name '*.mp4' | wc -l)" = "$left" ] || fail "files and rows differ"
ok "retention deleted $would, kept the $left held segments"

# verify-storage: all good, then one changed and one gone.
"$NVR" verify-storage -c "$cfg" --json >"$T/vs.json" || fail "verify-storage on intact storage"
[ "$(jq '.ok' "$T/vs.json")" = "$left" ] || fail "verify-storage ok count"
p1=$(sqlite3 "$db" "select path from segments order by start_us limit 1")
p2=$(sqlite3 "$db" "select path from segments order by start_us limit 1 offset 1")
echo tampered >>"$st/$p1"
rm "$st/$p2"
rc=0
"$NVR" verify-storage -c "$cfg" --camera cam00 --json >"$T/vs2.json" || rc=$?
[ "$rc" = 1 ] || fail "verify-storage exited $rc with problems"
[ "$(jq -r --arg p "$p1" '.problems[] | select(.path == $p) | .problem' "$T/vs2.json")" = changed ] ||
    fail "changed file not reported: $(cat "$T/vs2.json")"
[ "$(jq -r --arg p "$p2" '.problems[] | select(.path == $p) | .problem' "$T/vs2.json")" = missing ] ||
    fail "vanished file not reported"
ok "verify-storage reports changed and vanished segments"

"$NVR" hold release -c "$cfg" 1 >/dev/null || fail "hold release"
rc=0
"$NVR" hold release -c "$cfg" 1 2>/dev/null || rc=$?
[ "$rc" = 1 ] || fail "second release exited $rc"
[ "$("$NVR" hold list -c "$cfg" --json | jq '.holds | length')" = 0 ] || fail "released hold still active"
"$NVR" retention -c "$cfg" >/dev/null || fail "retention after release"
[ "$(sqlite3 "$db" "select count(*) from segments")" = 0 ] || fail "released footage kept"
[ "$(find "$st" -name '*.mp4' | wc -l)" = 0 ] || fail "released files kept"
ok "released footage goes"

for k in hold_add hold_release retention verify_storage; do
    [ "$(sqlite3 "$db" "select count(*) from audit where kind = '$k'")" -ge 1 ] ||
        fail "no $k audit entry"
done
ok "holds, retention and verification are audited"
