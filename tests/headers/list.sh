#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The headers that must compile on their own (STYLE.md section 2), one per
# line, from the source root: every .h under nvr/ (nvr/base too), ingest/,
# storage/ and ui-tui/.
#
#   list.sh SRCDIR                prints the list (meson reads it at setup)
#   list.sh SRCDIR --check LIST   fails if LIST (the one the build compiled)
#                                 differs from the headers now on disk, or a
#                                 header includes config.h
set -euo pipefail
cd "$1"
list() {
    find nvr ingest storage ui-tui -name '*.h' | LC_ALL=C sort
}
if [ "${2:-}" != --check ]; then
    list
    exit 0
fi
rc=0
if ! diff -u "$3" <(list); then
    echo "FAIL: the headers on disk are not the ones the build compiled alone;" \
        "run meson setup --reconfigure" >&2
    rc=1
fi
if grep -l '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]config\.h[>"]' \
    $(list); then
    echo "FAIL: the headers above include config.h (STYLE.md section 2)" >&2
    rc=1
fi
[ "$rc" = 0 ] && echo "ok: $(list | wc -l) headers compile on their own"
exit "$rc"
