#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The recorder's own retention pass under its sandbox: 'nvr run' starts
# over a synthetic catalog of 20,000 expired segments (bench_storage
# --make) and must delete every one of them, rows and files, with no
# SQLite temporary file refused by Landlock on the way (SQLite puts
# statement journals and sort spills in a temporary directory, which the
# sandbox only allows inside the storage).
. "$NVR_TEST_LIB"
: "${BENCH_STORAGE:?BENCH_STORAGE must name bench_storage}"

N=20000
st="$T/storage"
db="$st/catalog.db"
mkdir -p "$st"
# Two cameras, 10,000 minutes each, the newest ending 10 days ago.
"$BENCH_STORAGE" --make "$st" --segments "$N" --cameras 2 --end-days-ago 10 \
    >/dev/null || fail "cannot build the synthetic catalog"
[ "$(sqlite3 "$db" "select count(*) from segments")" = "$N" ] ||
    fail "synthetic catalog does not have $N rows"
cfg="$T/nvr.ini"
write_config "$cfg" "$st" 60
# Port 9 (discard) refuses the connection: nothing is recorded, and every
# segment is past its camera's 3 days.
add_camera "$cfg" cam00 "rtsp://127.0.0.1:9/a" "retain_days = 3"
add_camera "$cfg" cam01 "rtsp://127.0.0.1:9/b" "retain_days = 3"

start_nvr "$cfg" nvr
rows() { sqlite3 "$db" "select count(*) from segments" 2>/dev/null || echo "$N"; }
all_gone() {
    pid_gone "$NVR_PID" || [ "$(rows)" = 0 ] || grep -q etilqs "$T/nvr.log"
}
wait_for 180 all_gone || true
pid_gone "$NVR_PID" && fail "nvr run exited: $(tail -5 "$T/nvr.log")"
grep -q 'active: landlock-fs' "$T/nvr.log" ||
    fail "the recorder did not run under Landlock: $(grep sandbox "$T/nvr.log")"
left=$(rows)
if grep -Eq 'etilqs|cannot open|unable to open' "$T/nvr.log"; then
    fail "SQLite was refused a file ($left rows left): $(grep -Em3 'etilqs|cannot open|unable to open' "$T/nvr.log")"
fi
[ "$left" = 0 ] || fail "$left of $N expired segments left after 180 s"
files=$(cd "$st" && find cam00 cam01 -type f -name '*.mp4' | wc -l)
[ "$files" = 0 ] || fail "$files segment files left on disk"
ok "the sandboxed recorder deleted all $N expired segments, rows and files"
find "$st" -maxdepth 1 -name 'etilqs_*' | grep -q . &&
    fail "SQLite left temporary files in the storage"
stop_nvr
ok "recorder stopped cleanly"
