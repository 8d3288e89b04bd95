#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Catalog paths that lead outside the storage: a row whose path is
# "../victim/x" or absolute, and segments or date folders replaced by
# symlinks to files elsewhere. nvr verify-storage must report them as
# refused without hashing them, nvr retention and start-up recovery must
# leave the files outside in place, and each refused row is logged by id
# and path and counted.
. "$NVR_TEST_LIB"

: "${BENCH_STORAGE:?BENCH_STORAGE must name bench_storage}"

st="$T/storage"
db="$st/catalog.db"
mkdir -p "$st" "$T/victim" "$T/outside"
"$BENCH_STORAGE" --make "$st" --segments 20 --cameras 2 --end-days-ago 40 >/dev/null ||
    fail "cannot build the synthetic catalog"
cfg="$T/nvr.ini"
write_config "$cfg" "$st" 60
add_camera "$cfg" cam00 "rtsp://127.0.0.1:9/a"
add_camera "$cfg" cam01 "rtsp://127.0.0.1:9/b"
for f in x y z w secret; do echo "precious $f" >"$T/victim/$f"; done
victims() { for f in x y z w secret; do cat "$T/victim/$f"; done | md5sum; }
before=$(victims)

# verify-storage: a segment replaced by a symlink to a secret file, and a
# camera's date folder replaced by a symlink to a folder elsewhere.
p1=$(sqlite3 "$db" "select path from segments where camera_id = 1 order by start_us limit 1")
ln -sf "$T/victim/secret" "$st/$p1"
p2=$(sqlite3 "$db" "select path from segments where camera_id = 2 order by start_us limit 1")
d2=$(dirname "$p2")
mv "$st/$d2" "$T/outside/day"
ln -s "$T/outside/day" "$st/$d2"
secret_sha=$(sha256sum "$T/victim/secret" | cut -d' ' -f1)
rc=0
"$NVR" verify-storage -c "$cfg" --json >"$T/vs.json" || rc=$?
[ "$rc" = 1 ] || fail "verify-storage exited $rc with refused segments"
[ "$(jq -r --arg p "$p1" '.problems[] | select(.path == $p) | .problem' "$T/vs.json")" = refused ] ||
    fail "symlinked segment not refused: $(cat "$T/vs.json")"
[ "$(jq -r --arg p "$p2" '.problems[] | select(.path == $p) | .problem' "$T/vs.json")" = refused ] ||
    fail "segment under a symlinked folder not refused"
! grep -q "$secret_sha" "$T/vs.json" || fail "verify-storage hashed the file outside"
[ "$(jq '.refused' "$T/vs.json")" -ge 2 ] || fail "refused not counted"
"$NVR" verify-storage -c "$cfg" >"$T/vs.txt" || true
grep -q "^refused *$p1" "$T/vs.txt" || fail "text output: $(cat "$T/vs.txt")"
ok "verify-storage refuses symlinked segments and folders"

# retention: every segment is 40 days old (retain_days 31), so each row
# is deleted except those whose path leads outside.
idx=$(sqlite3 "$db" "select id from segments where camera_id = 1 order by start_us limit 1 offset 1")
ida=$(sqlite3 "$db" "select id from segments where camera_id = 1 order by start_us limit 1 offset 2")
sqlite3 "$db" "update segments set path = '../victim/x' where id = $idx"
sqlite3 "$db" "update segments set path = '$T/victim/w' where id = $ida"
"$NVR" retention -c "$cfg" --json >"$T/ret.json" 2>"$T/ret.err" || fail "retention failed: $(cat "$T/ret.err")"
[ "$(victims)" = "$before" ] || fail "retention changed a file outside the storage"
[ -f "$T/outside/day/$(basename "$p2")" ] || fail "retention deleted through a symlinked folder"
[ -L "$st/$d2" ] || fail "the symlinked folder went"
grep -q "refusing segment $idx of the catalog: its path '../victim/x'" "$T/ret.err" ||
    fail "the refused row is not named: $(cat "$T/ret.err")"
grep -q "refusing segment $ida of the catalog: its path '$T/victim/w'" "$T/ret.err" ||
    fail "the absolute row is not named"
refused=$(jq '.totals.refused' "$T/ret.json")
n_d2=$(sqlite3 "$db" "select count(*) from segments where path like '$d2/%'")
[ "$refused" = $((2 + n_d2)) ] || fail "totals.refused is $refused, want $((2 + n_d2))"
[ "$(sqlite3 "$db" "select count(*) from segments where id in ($idx, $ida)")" = 2 ] ||
    fail "refused rows were dropped"
ok "retention refuses $refused rows that lead outside and deletes nothing there"

# Start-up recovery (before any sandbox): an open row and an interrupted
# deletion whose paths lead outside.
sqlite3 "$db" "update segments set status = 0, path = '../victim/y' where id = $idx"
sqlite3 "$db" "update segments set status = 3, path = '../victim/z' where id = $ida"
start_nvr "$cfg" nvr
wait_for 20 grep -q 'recovery:.*rows refused' "$T/nvr.log" || fail "no recovery report"
stop_nvr
[ "$(victims)" = "$before" ] || fail "recovery changed a file outside the storage"
grep -q "refusing segment $idx of the catalog: its path '../victim/y'" "$T/nvr.log" ||
    fail "recovery does not name the open row"
grep -q "refusing segment $ida of the catalog: its path '../victim/z'" "$T/nvr.log" ||
    fail "recovery does not name the deleting row"
ok "recovery refuses rows that lead outside"
