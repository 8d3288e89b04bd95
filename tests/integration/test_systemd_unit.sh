#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# 'nvr systemd-unit': IPAddressAllow= lists exactly the configured cameras
# that pass the rules (IP literals, /etc/hosts names, IPv6; not refused or
# disabled ones; an IPv4-mapped IPv6 address as the IPv4 address that goes
# on the wire), everything else is denied, the confinement settings are
# there, systemd accepts the unit and rates its exposure at most 2.0
# ("OK" or better); the shipped units in systemd/ pass the same checks.
. "$NVR_TEST_LIB"
command -v systemd-analyze >/dev/null || fail "systemd-analyze (systemd) is missing"
grep -qE '^127\.0\.0\.1[[:space:]].*\blocalhost\b' /etc/hosts ||
    fail "/etc/hosts has no 127.0.0.1 localhost entry, which this test needs"
SRC=$(cd "$(dirname "$NVR_TEST_LIB")/../.." && pwd)

cat >"$T/nvr.ini" <<EOF
[storage]
path = $T/storage

[camera gate]
url = rtsp://192.168.1.64:554/Streaming/Channels/101

[camera yard]
url = rtsp://10.20.30.40/live

[camera local]
url = rtsp://localhost:8554/x

[camera v6]
url = rtsp://[fd00::42]:554/x

[camera far]
url = rtsp://192.0.2.10/x

[camera mapped]
url = rtsp://[::ffff:192.168.7.9]:554/x

[camera yard-v6]
url = rtsp://[::ffff:10.20.30.40]/live

[camera off]
url = rtsp://10.9.9.9/x
enabled = false
EOF
"$NVR" systemd-unit -c "$T/nvr.ini" --exec /usr/local/bin/nvr >"$T/nvr.service" ||
    fail "nvr systemd-unit failed"
want_line() {
    grep -qxF -- "$1" "$T/nvr.service" || fail "the unit lacks the line: $1"
}
want_line "IPAddressDeny=any"
want_line "IPAddressAllow=192.168.1.64 10.20.30.40 127.0.0.1 fd00::42 192.168.7.9"
[ "$(grep -c '^IPAddressAllow=' "$T/nvr.service")" -eq 1 ] || fail "more than one IPAddressAllow="
want_line "ExecStart=/usr/local/bin/nvr run -c $T/nvr.ini"
want_line "ReadWritePaths=$T/storage"
want_line "ProtectSystem=strict"
want_line "PrivateTmp=yes"
want_line "NoNewPrivileges=yes"
want_line "CapabilityBoundingSet="
want_line "RestrictAddressFamilies=AF_INET AF_INET6"
want_line "SystemCallFilter=@system-service"
want_line "User=nvr"
grep -q "^# refused, not listed: camera 'far': address 192.0.2.10 is public" "$T/nvr.service" ||
    fail "the refused camera is not explained"
grep -q "^# camera off: disabled, not listed" "$T/nvr.service" || fail "the disabled camera is not explained"
want_line "# camera mapped: ::ffff:192.168.7.9 port 554, listed as 192.168.7.9"
ok "IPAddressAllow= lists exactly the allowed cameras"

# exposure FILE: systemd-analyze's overall exposure level, e.g. 1.2.
exposure() {
    systemd-analyze security --offline=true --no-pager "$1" 2>"$T/analyze.err" |
        sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p'
}
for unit in "$T/nvr.service" "$SRC/systemd/nvr.service" "$SRC/systemd/nvr-retention.service"; do
    level=$(exposure "$unit")
    [ -n "$level" ] || fail "systemd-analyze security gave no verdict for $unit: $(cat "$T/analyze.err")"
    awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }' || fail "$unit: exposure $level, want <= 2.0"
    ok "$(basename "$unit"): exposure level $level"
done

# systemd parses every setting: unknown keys and bad values are reported
# as "Unknown key" / "Failed to parse"; a binary or user missing on this
# machine is not the unit's fault.
for unit in "$T/nvr.service" "$SRC/systemd/nvr.service" "$SRC/systemd/nvr-retention.service" \
    "$SRC/systemd/nvr-retention.timer"; do
    systemd-analyze verify "$unit" >"$T/verify.out" 2>&1 || true
    if grep -qiE 'unknown (key|section)|failed to parse|invalid|ignoring' "$T/verify.out"; then
        fail "systemd-analyze verify $unit: $(cat "$T/verify.out")"
    fi
done
ok "systemd accepts every setting of the units"

# Paths that would break the unit's syntax are refused.
cat >"$T/bad.ini" <<EOF
[storage]
path = $T/st orage

[camera gate]
url = rtsp://192.168.1.64/x
EOF
rc=0
"$NVR" systemd-unit -c "$T/bad.ini" >/dev/null 2>"$T/bad.err" || rc=$?
[ "$rc" -eq 2 ] || fail "a storage path with a space gave exit $rc"
ok "unsafe paths are refused"
