# SPDX-License-Identifier: MIT
# Shared helpers of the integration tests: the real nvr ($NVR) against the
# simulated camera ($CAMSIM) on 127.0.0.1, in a temporary directory that is
# removed (and every process started here killed) on exit.
set -euo pipefail

: "${NVR:?NVR must name the nvr binary}"
: "${CAMSIM:?CAMSIM must name the camsim binary}"

T=$(mktemp -d "${TMPDIR:-/tmp}/nvr-test.XXXXXX")
PIDS=()

cleanup() {
    local rc=$?
    local p
    for p in "${PIDS[@]}"; do
        kill -9 "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    if [ "$rc" -ne 0 ]; then
        echo "--- test failed; logs in $T:" >&2
        for f in "$T"/*.log "$T"/*.err; do
            [ -f "$f" ] || continue
            echo "--- $f (last 40 lines)" >&2
            tail -n 40 "$f" >&2
        done
    fi
    if [ "${KEEP_TMP:-0}" = 1 ] || [ "$rc" -ne 0 ]; then
        echo "kept $T" >&2
    else
        rm -rf "$T"
    fi
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

ok() {
    echo "ok: $*"
}

# wait_for TIMEOUT_S COMMAND...: polls every 0.2 s until COMMAND succeeds.
wait_for() {
    local timeout=$1
    shift
    local end=$((SECONDS + timeout))
    while ! "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$end" ] || return 1
        sleep 0.2
    done
}

# start_camsim NAME [camsim options]: starts camsim, sets CAMSIM_PORT and
# CAMSIM_PID_<NAME>; its stdout goes to $T/NAME.out, stderr to $T/NAME.err.
start_camsim() {
    local name=$1
    shift
    # Emptied first: a background job's redirection happens only once the
    # job runs, and an earlier camsim's READY must not be read as its own.
    : >"$T/$name.out"
    "$CAMSIM" --port 0 "$@" >"$T/$name.out" 2>"$T/$name.err" &
    local pid=$!
    PIDS+=("$pid")
    eval "CAMSIM_PID_${name//-/_}=$pid"
    wait_for 15 grep -q '^READY port=' "$T/$name.out" ||
        fail "camsim $name did not start"
    CAMSIM_PORT=$(sed -n 's/^READY port=\([0-9]*\).*/\1/p' "$T/$name.out")
}

# restart_camsim_same_port NAME PORT [options]: a camera that comes back.
start_camsim_on_port() {
    local name=$1 port=$2
    shift 2
    : >"$T/$name.out" # see start_camsim
    "$CAMSIM" --port "$port" "$@" >"$T/$name.out" 2>"$T/$name.err" &
    local pid=$!
    PIDS+=("$pid")
    eval "CAMSIM_PID_${name//-/_}=$pid"
    wait_for 15 grep -q '^READY port=' "$T/$name.out" ||
        fail "camsim $name did not start on port $port"
}

# write_config FILE STORAGE SEGMENT_SECONDS, then camera sections appended
# with add_camera FILE NAME URL [extra lines...].
write_config() {
    cat >"$1" <<EOC
[storage]
path = $2
segment_seconds = $3
EOC
}

add_camera() {
    local file=$1 name=$2 url=$3
    shift 3
    {
        echo
        echo "[camera $name]"
        echo "url = $url"
        local l
        for l in "$@"; do echo "$l"; done
    } >>"$file"
}

# start_nvr CONFIG LOGNAME: runs 'nvr run' in the background; NVR_PID.
# NVR_BIN, if set, is the binary to run instead of $NVR (nvr-testhooks).
start_nvr() {
    : >"$T/$2.log" # see start_camsim: no earlier run's lines
    NVR_LOG_LEVEL=${NVR_LOG_LEVEL:-debug} "${NVR_BIN:-$NVR}" run -c "$1" >"$T/$2.log" 2>&1 &
    NVR_PID=$!
    PIDS+=("$NVR_PID")
}

# stop_nvr: SIGTERM, and the recorder must exit 0 within 15 s.
stop_nvr() {
    kill -TERM "$NVR_PID"
    wait_for 15 pid_gone "$NVR_PID" || fail "nvr did not exit after SIGTERM"
    local rc=0
    wait "$NVR_PID" || rc=$?
    [ "$rc" -eq 0 ] || fail "nvr run exited $rc after SIGTERM"
}

# camera_state CONFIG NAME: the state 'nvr status --json' reports.
camera_state() {
    "$NVR" status -c "$1" --json |
        jq -r --arg n "$2" '.cameras[] | select(.name == $n) | .state'
}

camera_field() {
    "$NVR" status -c "$1" --json |
        jq -r --arg n "$2" --arg f "$3" '.cameras[] | select(.name == $n) | .[$f]'
}

state_is() {
    [ "$(camera_state "$1" "$2")" = "$3" ]
}

# segment_count CATALOG NAME [STATUS]: rows of a camera (status 1 = closed).
segment_count() {
    local where=""
    [ $# -ge 3 ] && where="and s.status = $3"
    sqlite3 "$1" "select count(*) from segments s join cameras c on c.id = s.camera_id where c.name = '$2' $where"
}

has_segments() {
    [ "$(segment_count "$@")" -gt 0 ]
}

# log_has FILE PATTERN: FILE has a line matching the grep PATTERN.
log_has() {
    grep -q -e "$2" "$1" 2>/dev/null
}

# at_least A B: the number A (integer or decimal) is >= B.
at_least() {
    awk -v a="${1:-0}" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'
}

# segment_count_at_least CATALOG NAME N [STATUS]: at least N rows.
segment_count_at_least() {
    [ "$(segment_count "$1" "$2" ${4:+"$4"} 2>/dev/null || echo 0)" -ge "$3" ]
}

# newest_segment_s STORAGE NAME [SINCE_US]: seconds of footage ffprobe
# reads in the camera's newest segment file, open or closed, that starts
# at SINCE_US or later (0 if there is none yet).
newest_segment_s() {
    local rel d
    rel=$(sqlite3 "$1/catalog.db" "select s.path from segments s join cameras c on c.id = s.camera_id where c.name = '$2' and s.start_us >= ${3:-0} order by s.start_us desc, s.id desc limit 1" 2>/dev/null) || true
    if [ -z "$rel" ] || [ ! -f "$1/$rel" ]; then
        echo 0
        return
    fi
    d=$(ffprobe_duration "$1/$rel" 2>/dev/null) || d=0
    echo "${d:-0}"
}

# newest_segment_at_least STORAGE NAME SECONDS [SINCE_US]: the newest
# segment of the camera (starting at SINCE_US or later) holds at least
# SECONDS of footage in its file.
newest_segment_at_least() {
    at_least "$(newest_segment_s "$1" "$2" "${4:-0}")" "$3"
}

# now_us: the wall clock in microseconds (UTC), as the catalog keeps time.
now_us() {
    date +%s%6N
}

# last_frame_after CONFIG NAME US: nvr status says the camera's last frame
# was written at or after US (wall clock, microseconds).
last_frame_after() {
    local last
    last=$(camera_field "$1" "$2" last_frame_us) || return 1
    [ -n "$last" ] && [ "$last" != null ] && [ "$last" -ge "$3" ]
}

# record_for CONFIG SECONDS NAME...: "record for SECONDS", on the
# evidence: waits until the recorder has written frames of every camera
# NAME from SECONDS past the moment of the call (nvr status, last frame),
# and fails if that takes 30 s longer.
record_for() {
    local cfg=$1 s=$2 name
    shift 2
    local until_us=$(($(now_us) + s * 1000000)) end=$((SECONDS + s + 30))
    for name in "$@"; do
        wait_for $((end - SECONDS)) last_frame_after "$cfg" "$name" "$until_us" ||
            fail "camera $name did not record $s s more (last frame $(camera_field "$cfg" "$name" last_frame))"
    done
}

# no_frame_for CONFIG NAME SECONDS: the camera's last frame (nvr status) is
# at least SECONDS old: the gap in its footage is that long.
no_frame_for() {
    local last
    last=$(camera_field "$1" "$2" last_frame_us) || return 1
    [ -n "$last" ] && [ "$last" != null ] &&
        [ $(($(now_us) - last)) -ge $(($3 * 1000000)) ]
}

# pid_gone PID: the process has exited (or never was).
pid_gone() {
    ! kill -0 "$1" 2>/dev/null
}

# ffprobe_duration FILE: the container duration in seconds.
ffprobe_duration() {
    ffprobe -v error -show_entries format=duration -of csv=p=0 "$1"
}

ffprobe_frames() {
    ffprobe -v error -select_streams v:0 -count_packets \
        -show_entries stream=nb_read_packets -of csv=p=0 "$1"
}

# check_storage STORAGE: every segment file plays in ffprobe and has a
# catalog row; every row that is not MISSING has its file.
check_storage() {
    local storage=$1 db="$1/catalog.db" f rel n
    local files=0
    while IFS= read -r -d '' f; do
        files=$((files + 1))
        rel=${f#"$storage"/}
        ffprobe -v error -show_entries format=duration -of csv=p=0 "$f" >/dev/null 2>"$T/ffprobe.err" ||
            fail "ffprobe cannot read $rel: $(cat "$T/ffprobe.err")"
        n=$(ffprobe_frames "$f")
        [ "${n:-0}" -gt 0 ] || fail "$rel has no video frames"
        [ "$(sqlite3 "$db" "select count(*) from segments where path = '$rel'")" = 1 ] ||
            fail "$rel is on disk but not in the catalog"
    done < <(find "$storage" \( -name '*.mp4' -o -name '*.mov' \) -print0)
    [ "$files" -gt 0 ] || fail "no segment files under $storage"
    while IFS= read -r rel; do
        [ -f "$storage/$rel" ] || fail "catalog row $rel has no file"
    done < <(sqlite3 "$db" "select path from segments where status != 2")
    ok "$files segment files play and match the catalog"
}
