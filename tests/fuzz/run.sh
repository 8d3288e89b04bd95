#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the libFuzzer targets under ASan/UBSan for a given time each.
#
#   tests/fuzz/run.sh [--seconds N] [--build DIR] [--jobs J] [target...]
#
# Configures DIR (default build-fuzz in the source root) with clang,
# -Dfuzzing_engine=libfuzzer and -Db_sanitize=address,undefined if it is not
# configured yet, builds the targets, and runs each one for N seconds
# (default 60) on a scratch copy of tests/fuzz/corpus/<target>/ with
# <target>.dict when there is one. Every crash, leak or timeout is copied
# into tests/fuzz/corpus/<target>/ (named crash-<sha1> etc.) so the replay
# suite keeps it. One summary line per target; exits 1 if any target failed.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
SECONDS_EACH=60
BUILD="$SRC/build-fuzz"
JOBS=2
TARGETS=()

while [ $# -gt 0 ]; do
    case $1 in
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    -h | --help) sed -n '3,13p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) TARGETS+=("$1"); shift ;;
    esac
done

if [ ! -f "$BUILD/build.ninja" ]; then
    CC=clang meson setup "$BUILD" "$SRC" \
        -Dfuzzing_engine=libfuzzer -Db_sanitize=address,undefined \
        -Db_lundef=false -Dtests=disabled -Dintegration=disabled \
        --buildtype=debugoptimized >"$BUILD.setup.log" 2>&1 || {
        cat "$BUILD.setup.log" >&2
        echo "run.sh: meson setup failed" >&2
        exit 2
    }
fi
engine=$(meson introspect --buildoptions "$BUILD" |
    python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="fuzzing_engine"][0])')
[ "$engine" = libfuzzer ] || {
    echo "run.sh: $BUILD is not a -Dfuzzing_engine=libfuzzer build" >&2
    exit 2
}

if [ ${#TARGETS[@]} -eq 0 ]; then
    for f in "$SRC"/tests/fuzz/fuzz_*.c; do
        t=$(basename "$f" .c)
        TARGETS+=("${t#fuzz_}")
    done
fi
# -k 0: a target that does not compile is reported, the others still run.
ninja -C "$BUILD" -j"$JOBS" -k 0 "${TARGETS[@]/#/tests/fuzz/fuzz_}" \
    >"$BUILD/run-build.log" 2>&1 ||
    echo "run.sh: some targets failed to build; see $BUILD/run-build.log" >&2

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=0
for t in "${TARGETS[@]}"; do
    exe="$BUILD/tests/fuzz/fuzz_$t"
    # A stale binary from an earlier build must not pass for this one.
    if [ ! -x "$exe" ] ||
        ! ninja -C "$BUILD" -n "tests/fuzz/fuzz_$t" 2>/dev/null | grep -q 'no work to do'; then
        printf '%-16s FAILED build failed\n' "$t"
        failed=1
        continue
    fi
    corpus="$SRC/tests/fuzz/corpus/$t"
    dict="$SRC/tests/fuzz/corpus/$t.dict"
    work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-$t.XXXXXX")
    mkdir -p "$work/corpus" "$work/artifacts"
    [ -d "$corpus" ] && cp -r "$corpus/." "$work/corpus/"
    args=(-max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048
        -detect_leaks=1 -print_final_stats=1
        -artifact_prefix="$work/artifacts/")
    [ -f "$dict" ] && args+=(-dict="$dict")
    rc=0
    "$exe" "${args[@]}" "$work/corpus" >"$work/log" 2>&1 || rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$work/log" | tail -1 | cut -d' ' -f2)
    crashes=0
    for a in "$work"/artifacts/*; do
        [ -f "$a" ] || continue
        crashes=$((crashes + 1))
        mkdir -p "$corpus"
        cp "$a" "$corpus/"
    done
    if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
        crashes=1 # died without an artifact (e.g. a build problem)
    fi
    status=ok
    if [ "$crashes" -gt 0 ]; then
        status=FAILED
        failed=1
        cp "$work/log" "$BUILD/fuzz_$t.log"
    fi
    printf '%-16s %s runs=%s cov=%s ft=%s crashes=%d time=%ss\n' "$t" "$status" \
        "${runs:-0}" "${cov:-0}" "${ft:-0}" "$crashes" "$SECONDS_EACH"
    [ "$status" = ok ] || echo "    log: $BUILD/fuzz_$t.log; inputs kept in $corpus" >&2
    rm -rf "$work"
done
exit "$failed"
