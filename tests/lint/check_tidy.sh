#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# clang-tidy with the committed .clang-tidy (bugprone, clang-analyzer;
# warnings are errors) over every production C file (nvr, ingest, storage,
# ui-tui) and, through its HeaderFilterRegex, their headers, with the
# build's compile_commands.json. run-clang-tidy (Debian's clang-tidy ships
# it) runs one clang-tidy per file, NVR_TIDY_JOBS (default: every core) at
# a time, and prints each file's findings in one piece.
#
#   check_tidy.sh SRCDIR BUILDDIR
set -euo pipefail
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
for tool in clang-tidy run-clang-tidy; do
    command -v "$tool" >/dev/null ||
        { echo "FAIL: $tool is not installed (setup.sh installs clang-tidy)" >&2; exit 1; }
done
[ -f "$build/compile_commands.json" ] ||
    { echo "FAIL: no $build/compile_commands.json" >&2; exit 1; }
jobs=${NVR_TIDY_JOBS:-$(nproc)}
start=$SECONDS
# The files are a regex on the absolute path; the compile database also
# holds the tests and generated files, which are left out.
# run-clang-tidy 14 always asks for colour: the log is kept without it.
rc=0
run-clang-tidy -quiet -p "$build" -j "$jobs" \
    "^$src/(nvr|ingest|storage|ui-tui)/.*\\.c\$" 2>&1 |
    sed 's/\x1b\[[0-9;]*m//g' >"$build/clang-tidy.log" || rc=$?
# Only the findings and clang-tidy's own errors, without the progress lines.
grep -v -e '^clang-tidy' -e ' warnings\? generated\.$' \
    -e '^Suppressed [0-9]* warnings' -e '^Use -header-filter' \
    "$build/clang-tidy.log" || true
n=$(grep -c '^clang-tidy' "$build/clang-tidy.log" || true)
if [ "$rc" -ne 0 ] || grep -q -e ': error: ' -e ': warning: ' "$build/clang-tidy.log"; then
    echo "FAIL: clang-tidy reports findings in the files above ($n files," \
        "$((SECONDS - start)) s; full log in $build/clang-tidy.log)" >&2
    exit 1
fi
[ "$n" -gt 50 ] || { echo "FAIL: clang-tidy checked only $n files" >&2; exit 1; }
echo "ok: clang-tidy finds nothing in $n files ($((SECONDS - start)) s, $jobs jobs)"
