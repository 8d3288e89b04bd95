#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Truthful errors: every command run by a user the storage does not let in
# (here 'nobody', storage 0750 root:root) says that permission was denied,
# names the folder that refused and exits non-zero; none pretends that no
# recorder ran, nor that a password was refused. 'nvr export' names a
# missing output folder, and lists the configured cameras for an unknown
# one.
. "$NVR_TEST_LIB"
: "${BENCH_STORAGE:?BENCH_STORAGE must name bench_storage}"

if [ "$(id -u)" != 0 ]; then
    echo "skip: switching to another user needs root"
    exit 77
fi
# The config must be readable by the other user: only the storage is
# closed to it.
chmod 0755 "$T"
st="$T/storage"
mkdir -p "$st"
"$BENCH_STORAGE" --make "$st" --segments 20 --cameras 1 >/dev/null ||
    fail "cannot build the synthetic catalog"
chown -R root:root "$st"
chmod 0750 "$st"
cfg="$T/nvr.ini"
write_config "$cfg" "$st" 60
add_camera "$cfg" cam00 "rtsp://127.0.0.1:9/a"
add_camera "$cfg" yard "rtsp://127.0.0.1:9/b"
chmod 0644 "$cfg"

as_nobody() { setpriv --reuid nobody --regid nogroup --clear-groups "$@"; }
refused="$st (mode 0750, owner root:root) does not let in user nobody"
export_args=(--from 2000-01-01T00:00:00Z --to 2100-01-01T00:00:00Z --reason test)
while IFS= read -r cmd; do
    rc=0
    # shellcheck disable=SC2086 # the words of the command
    as_nobody timeout 20 "$NVR" $cmd -c "$cfg" </dev/null >"$T/out" 2>"$T/err" || rc=$?
    [ "$rc" != 0 ] || fail "nvr $cmd as nobody exited 0: $(cat "$T/out" "$T/err")"
    [ "$rc" != 124 ] || fail "nvr $cmd as nobody did not finish"
    grep -qF "permission denied" "$T/out" "$T/err" ||
        fail "nvr $cmd as nobody does not say permission denied: $(cat "$T/out" "$T/err")"
    grep -qF "$refused" "$T/out" "$T/err" ||
        fail "nvr $cmd as nobody does not name the refusing folder: $(cat "$T/out" "$T/err")"
    if grep -Eq "authentication|no recorder|no catalog|has the recorder run" "$T/out" "$T/err"; then
        fail "nvr $cmd as nobody gives a wrong reason: $(cat "$T/out" "$T/err")"
    fi
    ok "nvr $cmd as nobody: exit $rc, $(cat "$T/out" "$T/err" | grep -m1 "permission denied")"
done <<EOC
status
status --json
recordings --camera cam00
retention --dry-run
audit
hold list
check
export --camera cam00 ${export_args[*]} -o $T/clip.mp4
run
EOC

# As root, the same storage: export's own mistakes named.
rc=0
"$NVR" export -c "$cfg" --camera cam00 "${export_args[@]}" -o "$T/missing/clip.mp4" \
    >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" = 1 ] || fail "export into a missing folder exited $rc, want 1"
grep -qF "the folder $T/missing does not exist" "$T/err" ||
    fail "export into a missing folder does not name it: $(cat "$T/err")"
ok "export into a missing folder: $(cat "$T/err")"
rc=0
"$NVR" export -c "$cfg" --camera cam0 "${export_args[@]}" -o "$T/clip.mp4" \
    >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" = 2 ] || fail "export of an unknown camera exited $rc, want 2"
grep -qF "unknown camera 'cam0'; the configured ones are: cam00, yard" "$T/err" ||
    fail "export of an unknown camera does not list the cameras: $(cat "$T/err")"
ok "export of an unknown camera: $(cat "$T/err")"
rc=0
"$NVR" export -c "$cfg" --camera yard "${export_args[@]}" -o "$T/clip.mp4" \
    >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" = 1 ] || fail "export of a camera that never recorded exited $rc, want 1"
grep -qF "camera yard has recorded nothing yet" "$T/err" ||
    fail "export of a camera that never recorded: $(cat "$T/err")"
ok "export of a camera that never recorded: $(cat "$T/err")"
rc=0
"$NVR" export -c "$cfg" --camera cam00 --from 2001-01-01T00:00:00Z \
    --to 2001-01-02T00:00:00Z --reason test -o "$T/clip.mp4" \
    >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" = 1 ] || fail "export of an empty range exited $rc, want 1"
grep -qF "camera cam00 recorded nothing between" "$T/err" ||
    fail "export of an empty range: $(cat "$T/err")"
ok "export of an empty range: $(cat "$T/err")"
