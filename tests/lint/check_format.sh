#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every C file follows the committed .clang-format (STYLE.md section 8).
set -euo pipefail
cd "$1"
command -v clang-format >/dev/null || { echo "FAIL: clang-format is not installed (setup.sh installs it)" >&2; exit 1; }
mapfile -t files < <(find nvr ingest storage ui-tui tests -name '*.[ch]' -not -path '*/corpus/*' | sort)
[ "${#files[@]}" -gt 50 ] || { echo "FAIL: only ${#files[@]} C files found under $1" >&2; exit 1; }
if ! clang-format --dry-run --Werror "${files[@]}"; then
    echo "FAIL: run clang-format -i on the files above" >&2
    exit 1
fi
echo "ok: ${#files[@]} C files formatted"
