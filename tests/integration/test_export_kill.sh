#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A killed export publishes all of its set or nothing of its footage
# (issue 15 item 5). nvr-testhooks kills itself (SIGKILL) at each step of
# an export in turn (NVR_TEST_EXPORT_KILL_AT), for one clip and for two
# cameras into one folder; then 'nvr export' is killed after increasing
# delays. After every kill: no .partial, no file but the export's own
# names, and a clip under its name has its sidecar and manifest and passes
# 'nvr verify'. The next export to the folder removes the leftovers,
# logging what it removed, and its own set verifies.
. "$NVR_TEST_LIB"
: "${NVR_TESTHOOKS:?NVR_TESTHOOKS must name the nvr-testhooks binary}"
# nvr-testhooks prints each step of an export (and NVR_TEST_EXPORT_KILL_AT
# kills it at one).
export NVR_TEST_EXPORT_STEPS=1

start_camsim cam --mount cam1 --mount cam2
cfg="$T/nvr.ini"
write_config "$cfg" "$T/storage" 60
add_camera "$cfg" cam1 "rtsp://127.0.0.1:$CAMSIM_PORT/cam1"
add_camera "$cfg" cam2 "rtsp://127.0.0.1:$CAMSIM_PORT/cam2"
start_nvr "$cfg" nvr
wait_for 20 state_is "$cfg" cam1 recording || fail "cam1 not recording"
wait_for 20 state_is "$cfg" cam2 recording || fail "cam2 not recording"
t0=$(now_us)
record_for "$cfg" 12 cam1 cam2
stop_nvr
iso() { date -u -d "@$(($1 / 1000000))" +%Y-%m-%dT%H:%M:%SZ; }
from=$(iso "$((t0 - 5000000))")
to=$(iso "$((t0 + 12000000))")

# export BIN OUT CAMERA...: runs an export, its stderr in $T/export.err.
export_to() {
    local bin=$1 out=$2 a=()
    shift 2
    for c in "$@"; do a+=(--camera "$c"); done
    "$bin" export -c "$cfg" "${a[@]}" --from "$from" --to "$to" \
        --reason "kill test" -o "$out" >"$T/export.out" 2>"$T/export.err"
}

# check_folder DIR CLIP...: after a kill, nothing but the export's own
# names (and hidden staging folders) in DIR, and any clip there verifies.
check_folder() {
    local dir=$1 f clip
    shift
    for f in "$dir"/* "$dir"/.[!.]*; do
        [ -e "$f" ] || continue
        case "$(basename "$f")" in
        .nvr-export-*) [ -d "$f" ] || fail "$f: a staging name that is not a folder" ;;
        *.partial) fail "$f left behind" ;;
        manifest.json | clip.manifest.json) ;;
        cam1.mp4 | cam2.mp4 | clip.mp4 | cam1.mp4.sha256 | cam2.mp4.sha256 | clip.mp4.sha256) ;;
        *) fail "unexpected file $f" ;;
        esac
    done
    for clip in "$@"; do
        [ -e "$dir/$clip" ] || continue
        [ -s "$dir/$clip.sha256" ] || fail "$dir/$clip published without its sidecar"
        "$NVR" verify "$dir/$clip" >"$T/verify.txt" 2>&1 ||
            fail "$dir/$clip published but does not verify: $(cat "$T/verify.txt")"
    done
}

# The steps of a whole export, from a run that is not killed.
mkdir "$T/count" "$T/one" "$T/many"
export_to "$NVR_TESTHOOKS" "$T/count/clip.mp4" cam1 || fail "export failed: $(cat "$T/export.err")"
steps=$(grep -c "^test hook: export step" "$T/export.err" || true)
[ "$steps" -ge 8 ] || fail "the export reported $steps steps: $(cat "$T/export.err")"
grep -q "export step .*: published:clip.mp4$" "$T/export.err" ||
    fail "no step publishing the clip: $(cat "$T/export.err")"
# The clip is the last name published.
last_pub=$(grep "export step .*: published:" "$T/export.err" | tail -n 1)
case "$last_pub" in *published:clip.mp4) ;; *) fail "the clip is not published last: $last_pub" ;; esac
ok "a whole export: $steps steps, the clip published last"

# kill_at_each DIR CLIPS NAME...: kills an export into DIR at each step;
# after each, checks the folder, then a complete export (the same names)
# cleans up and verifies.
kill_at_each() {
    local dir=$1 clips=$2 out o k rc
    shift 2
    if [ "$#" -gt 1 ]; then out=$dir o=$T/count2; else out=$dir/clip.mp4 o=$T/count2/clip.mp4; fi
    mkdir -p "$T/count2"
    export_to "$NVR_TESTHOOKS" "$o" "$@" || fail "export failed: $(cat "$T/export.err")"
    N_STEPS=$(grep -c "^test hook: export step" "$T/export.err")
    rm -rf "$T/count2"
    for k in $(seq 1 "$N_STEPS"); do
        rc=0
        NVR_TEST_EXPORT_KILL_AT=$k export_to "$NVR_TESTHOOKS" "$out" "$@" || rc=$?
        [ "$rc" = 137 ] || fail "step $k: the export exited $rc, not killed: $(cat "$T/export.err")"
        step=$(grep "^test hook: export step $k:" "$T/export.err" | sed 's/.*: //')
        # shellcheck disable=SC2086
        check_folder "$dir" $clips
        had_stage=$(find "$dir" -maxdepth 1 -name '.nvr-export-*' | wc -l)
        # A complete set already published: it verifies (checked above);
        # the operator moves it away, as after any export.
        complete=1
        for c in $clips; do [ -e "$dir/$c" ] || complete=0; done
        if [ "$complete" = 1 ]; then
            for c in $clips; do rm "$dir/$c" "$dir/$c.sha256"; done
            rm -f "$dir/manifest.json" "$dir/clip.manifest.json"
        fi
        export_to "$NVR" "$out" "$@" ||
            fail "step $k ($step): the next export failed: $(cat "$T/export.err")"
        if [ "$had_stage" -gt 0 ]; then
            grep -q "interrupted export\|staging folder" "$T/export.err" ||
                fail "step $k ($step): the clean-up was not logged: $(cat "$T/export.err")"
        fi
        [ -z "$(find "$dir" -maxdepth 1 -name '.nvr-export-*')" ] ||
            fail "step $k ($step): a staging folder is left after the next export"
        # shellcheck disable=SC2086
        check_folder "$dir" $clips
        for c in $clips; do
            [ -e "$dir/$c" ] || fail "step $k ($step): the next export published no $c"
            rm "$dir/$c" "$dir/$c.sha256"
        done
        rm -f "$dir/manifest.json" "$dir/clip.manifest.json"
    done
}

kill_at_each "$T/one" clip.mp4 cam1
ok "one clip killed at each of its $N_STEPS steps: all or no footage, and the next export cleans up"

# Two clips: killed between publishing the first clip and the second,
# the first is removed again with the rest (the set was not complete).
kill_at_each "$T/many" "cam1.mp4 cam2.mp4" cam1 cam2
ok "two cameras killed at each of their $N_STEPS steps: all or no footage, and the next export cleans up"

mkdir -p "$T/count3"
export_to "$NVR_TESTHOOKS" "$T/count3" cam1 cam2 || fail "export failed: $(cat "$T/export.err")"
k=$(grep "^test hook: export step" "$T/export.err" | grep "published:cam1.mp4$" | sed 's/^test hook: export step \([0-9]*\):.*/\1/')
[ -n "$k" ] || fail "no step publishing cam1.mp4: $(cat "$T/export.err")"
rc=0
NVR_TEST_EXPORT_KILL_AT=$k export_to "$NVR_TESTHOOKS" "$T/many" cam1 cam2 || rc=$?
[ "$rc" = 137 ] || fail "not killed after publishing cam1.mp4 (rc $rc)"
[ -e "$T/many/cam1.mp4" ] && [ ! -e "$T/many/cam2.mp4" ] ||
    fail "expected cam1.mp4 alone published: $(ls -a "$T/many")"
check_folder "$T/many" cam1.mp4 cam2.mp4
export_to "$NVR" "$T/many" cam1 cam2 || fail "the next export failed: $(cat "$T/export.err")"
grep -q "removed the leftovers of an interrupted export: .*cam1\.mp4" "$T/export.err" ||
    fail "the removal of the half-published set was not logged: $(cat "$T/export.err")"
ok "$(grep -o 'removed the leftovers.*' "$T/export.err" | head -n 1)"
rm -rf "$T/many"/*

# The real nvr (no hooks) killed after delays spread over the time a
# whole export takes.
mkdir "$T/delay" "$T/timed"
t_start=$(date +%s%N)
export_to "$NVR" "$T/timed" cam1 cam2 || fail "export failed: $(cat "$T/export.err")"
dur_ms=$((($(date +%s%N) - t_start) / 1000000))
kills=0
for i in $(seq 0 29); do
    ms=$((dur_ms * i / 24))
    "$NVR" export -c "$cfg" --camera cam1 --camera cam2 --from "$from" --to "$to" \
        --reason "kill test" -o "$T/delay" >/dev/null 2>"$T/delay.err" &
    pid=$!
    sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
    kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
    wait "$pid" 2>/dev/null || true
    check_folder "$T/delay" cam1.mp4 cam2.mp4
    if [ -e "$T/delay/cam2.mp4" ] && [ -e "$T/delay/cam1.mp4" ]; then
        rm -rf "${T:?}/delay"/*
    fi
done
[ "$kills" -ge 10 ] || fail "only $kills of 30 exports were still running when killed"
rm -rf "${T:?}/delay"/*
export_to "$NVR" "$T/delay" cam1 cam2 || fail "export after the kills failed: $(cat "$T/export.err")"
check_folder "$T/delay" cam1.mp4 cam2.mp4
[ -e "$T/delay/cam1.mp4" ] && [ -e "$T/delay/cam2.mp4" ] || fail "the export after the kills published $(ls "$T/delay")"
[ -z "$(find "$T/delay" -maxdepth 1 -name '.nvr-export-*')" ] || fail "staging folders left"
ok "nvr export (${dur_ms} ms) killed $kills times at 0 to $((dur_ms * 29 / 24)) ms: never footage without its evidence"
