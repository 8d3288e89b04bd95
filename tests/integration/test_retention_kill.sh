#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 4 acceptance: 'nvr retention' is killed with SIGKILL at random
# moments mid-pass (once it has deleted a random 1..1500 rows) over a large synthetic catalog (30,000 segments made
# with the real catalog API by bench_storage --make). After every kill no
# CLOSED row lacks its file and no file lacks a row (a DELETING row, the
# crash-safe intermediate, may have either); the next pass finishes the
# job and leaves catalog and disk exactly equal.
. "$NVR_TEST_LIB"
: "${BENCH_STORAGE:?BENCH_STORAGE must name bench_storage}"

st="$T/storage"
db="$st/catalog.db"
mkdir -p "$st"
"$BENCH_STORAGE" --make "$st" --segments 30000 --cameras 2 >/dev/null ||
    fail "cannot build the synthetic catalog"
cfg="$T/nvr.ini"
write_config "$cfg" "$st" 60
# 15,000 minutes (10.4 days) per camera; 3 days are kept.
add_camera "$cfg" cam00 "rtsp://127.0.0.1:9/a" "retain_days = 3"
add_camera "$cfg" cam01 "rtsp://127.0.0.1:9/b" "retain_days = 3"
total=$(sqlite3 "$db" "select count(*) from segments")
[ "$total" = 30000 ] || fail "synthetic catalog has $total rows"

# consistent: CLOSED rows and files agree; DELETING rows may go either way.
consistent() {
    (cd "$st" && find cam00 cam01 -type f -name '*.mp4' | sort) >"$T/files"
    sqlite3 "$db" "select path from segments where status = 1 order by path" |
        sort >"$T/closed"
    sqlite3 "$db" "select path from segments where status in (1, 3)" |
        sort >"$T/claimed"
    local orphan_rows orphan_files
    orphan_rows=$(comm -23 "$T/closed" "$T/files" | head -3)
    orphan_files=$(comm -13 "$T/claimed" "$T/files" | head -3)
    [ -z "$orphan_rows" ] || fail "$1: CLOSED rows without a file: $orphan_rows"
    [ -z "$orphan_files" ] || fail "$1: files without a row: $orphan_files"
}

interrupted=0
for round in 1 2 3 4 5 6; do
    before=$(sqlite3 "$db" "select count(*) from segments")
    "$NVR" retention -c "$cfg" >"$T/ret$round.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    n=$((1 + RANDOM % 1500))
    deleted_or_done() {
        pid_gone "$pid" ||
            [ "$(sqlite3 "$db" "select count(*) from segments" 2>/dev/null || echo "$before")" -le $((before - n)) ]
    }
    wait_for 60 deleted_or_done || fail "round $round: the pass deleted fewer than $n rows in 60 s"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    after=$(sqlite3 "$db" "select count(*) from segments")
    deleting=$(sqlite3 "$db" "select count(*) from segments where status = 3")
    consistent "after kill $round"
    keep=$(sqlite3 "$db" "select count(*) from segments where status = 1 and end_us > (strftime('%s','now') - 3 * 86400) * 1000000")
    if [ "$after" -lt "$before" ] && [ "$after" -gt "$keep" ]; then
        interrupted=$((interrupted + 1))
    fi
    ok "kill $round: $before -> $after rows, $deleting DELETING, consistent"
done
[ "$interrupted" -ge 1 ] || fail "no kill landed in the middle of a pass"

"$NVR" retention -c "$cfg" >"$T/final.log" 2>&1 || fail "final pass failed: $(tail -3 "$T/final.log")"
[ "$(sqlite3 "$db" "select count(*) from segments where status != 1")" = 0 ] ||
    fail "rows left in another state than CLOSED"
consistent "after the final pass"
cmp -s "$T/closed" "$T/files" || fail "catalog and disk differ"
old=$(sqlite3 "$db" "select count(*) from segments where end_us <= (strftime('%s','now') - 3 * 86400) * 1000000")
[ "$old" = 0 ] || fail "$old segments older than 3 days survived"
left=$(wc -l <"$T/files")
[ "$left" -ge 8000 ] || fail "only $left segments left; the last 3 days must stay"
ok "$interrupted passes killed mid-run; final pass left $left segments, catalog = disk"
