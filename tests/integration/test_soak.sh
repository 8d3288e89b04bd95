#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 15 acceptance, the 2-minute version of the fault-injection soak
# (tests/bench/soak --ci): 8 camsim cameras on an ext4 loop device while
# the disk is filled (to 512 KB free, then to the last block), the catalog
# made immutable, the file system frozen, the recorder SIGKILLed and
# restarted, and a camera rebooted, each at least once. It fails if a frame
# is missing inside a segment, catalog and disk disagree after the last
# recovery, or the recorder dies by itself. The figures are in the log.
set -euo pipefail
: "${NVR:?}" "${CAMSIM:?}"
soak=$(dirname "$0")/../bench/soak
out=$(mktemp -d "${TMPDIR:-/tmp}/nvr-soak-ci.XXXXXX")
rc=0
"$soak" --ci -n 8 --nvr "$NVR" --camsim "$CAMSIM" --out "$out/run" >"$out/report.md" 2>"$out/soak.err" || rc=$?
cat "$out/report.md"
if [ "$rc" -ne 0 ]; then
    echo "--- soak failed (exit $rc); its log:" >&2
    cat "$out/soak.err" >&2
    for f in "$out"/run/logs/nvr-*.log; do
        echo "--- $f (warnings and errors, last 30)" >&2
        grep -E ' (warn|error) ' "$f" | tail -n 30 >&2 || true
    done
    echo "kept $out" >&2
    exit 1
fi
grep -q '^frames missing inside segments: 0$' "$out/report.md" || {
    echo "FAIL: the report has no 'frames missing inside segments: 0' line" >&2
    exit 1
}
# The immutable catalog is named as such, under the recorder's sandbox
# too, not reported as a failing disk.
grep -q 'catalog.db.* is immutable (chattr +i)' "$out"/run/logs/nvr-*.log || {
    echo "FAIL: the recorder did not name the immutable catalog file" >&2
    grep -h ' error catalog' "$out"/run/logs/nvr-*.log | head -3 >&2
    exit 1
}
rm -rf "$out"
echo "ok: the 2-minute soak kept every frame inside its segments, the catalog matches the disk, and the immutable catalog was named"
