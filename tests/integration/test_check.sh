#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# 'nvr check': every rule with its exact message, file and line, exit 2 on
# any error and 0 when only warnings remain; --json; config errors as
# findings; and 'nvr run' refusing the camera that breaks a rule, by name.
. "$NVR_TEST_LIB"

# expect_line FILE LINE: FILE holds exactly that line.
expect_line() {
    grep -qxF -- "$2" "$1" || {
        echo "--- output:" >&2
        cat "$1" >&2
        fail "missing line: $2"
    }
}

grep -qE '^127\.0\.0\.1[[:space:]].*\blocalhost\b' /etc/hosts ||
    fail "/etc/hosts has no 127.0.0.1 localhost entry, which this test needs"

cd "$T"
mkdir -m 0755 storage
printf 'pw-in-file\n' >gate.pass
chmod 644 gate.pass
cat >nvr.ini <<'EOF'
[storage]
path = storage
segment_seconds = 10

[camera lan]
url = rtsp://192.168.1.64/live

[camera far]
url = rtsp://192.0.2.10:554/x

[camera named]
url = rtsp://localhost:8554/x

[camera nodns]
url = rtsp://cam.invalid/x

[camera gate]
url = rtsp://10.0.0.7/x
password_file = gate.pass

[camera pub]
url = rtsp://192.0.2.20/x
allow_public = true

[camera multi]
url = rtsp://224.0.0.5/x
EOF
chmod 600 nvr.ini

rc=0
"$NVR" check -c nvr.ini >check.out 2>check.err || rc=$?
[ "$rc" -eq 2 ] || fail "nvr check exited $rc with errors, want 2"
expect_line check.out "nvr.ini:9: error: camera 'far': address 192.0.2.10 is public (not private, link-local or loopback); set allow_public = true in [camera far] to allow it"
expect_line check.out "nvr.ini:15: error: camera 'nodns': host 'cam.invalid' is not an IP address and not in /etc/hosts, and DNS is off (allow_dns = true in [network] turns it on)"
expect_line check.out "nvr.ini:19: error: camera 'gate': password file gate.pass has mode 0644: readable by group or others; run chmod 600 gate.pass"
expect_line check.out "nvr.ini:22: warning: camera 'pub': address 192.0.2.20 is public, allowed by allow_public = true"
expect_line check.out "nvr.ini:26: error: camera 'multi': address 224.0.0.5 is not a host address (unspecified, multicast or broadcast)"
expect_line check.out "nvr.ini:2: error: storage directory storage has mode 0755: others can read it; run chmod o-rwx storage"
expect_line check.out "nvr.ini:2: warning: catalog storage/catalog.db does not exist yet; nvr run creates it"
expect_line check.out "nvr.ini: 5 errors, 2 warnings"
grep -q "camera 'lan'\|camera 'named'" check.out && fail "allowed cameras were reported"
[ "$(wc -l <check.out)" -eq 8 ] || fail "unexpected findings: $(cat check.out)"
grep -q pw-in-file check.out && fail "a password reached nvr check's output"
ok "each rule reported with file, line and exact message; exit 2"

"$NVR" check -c nvr.ini --json >check.json || true
jq -e '.ok == false and .errors == 5 and .warnings == 2' check.json >/dev/null ||
    fail "bad --json summary: $(cat check.json)"
jq -e '.findings[] | select(.camera == "far" and .severity == "error" and .line == 9 and .file == "nvr.ini")' \
    check.json >/dev/null || fail "--json lacks the 'far' finding"
ok "--json lists the findings"

# allow_dns = true: a name DNS cannot resolve is still an error, with why.
# The query stays inside a network namespace with no route anywhere.
{
    echo "[network]"
    echo "allow_dns = true"
} >>nvr.ini
rc=0
unshare --net "$NVR" check -c nvr.ini >dns.out || rc=$?
[ "$rc" -eq 2 ] || fail "exit $rc"
grep -qF "nvr.ini:15: error: camera 'nodns': host 'cam.invalid' is not in /etc/hosts and DNS cannot resolve it: " dns.out ||
    fail "allow_dns message: $(cat dns.out)"
ok "allow_dns: resolution failures are errors"

# Fixed: only warnings remain, exit 0.
chmod 600 gate.pass
chmod 750 storage
cat >good.ini <<'EOF'
[storage]
path = storage

[camera lan]
url = rtsp://192.168.1.64/live

[camera named]
url = rtsp://localhost:8554/x

[camera link]
url = rtsp://[fe80::1]:554/x

[camera gate]
url = rtsp://10.0.0.7/x
password_file = gate.pass
EOF
rc=0
"$NVR" check -c good.ini >good.out || rc=$?
[ "$rc" -eq 0 ] || fail "a clean config exited $rc: $(cat good.out)"
expect_line good.out "good.ini: 0 errors, 1 warning"
ok "a clean config passes (exit 0)"

# An inline password in a config others can read: a warning.
printf '\n[camera inline]\nurl = rtsp://10.0.0.8/x\npassword = pw-inline\n' >>good.ini
chmod 644 good.ini
"$NVR" check -c good.ini >inline.out || fail "warnings only, yet exit $?"
expect_line inline.out "good.ini:19: warning: camera 'inline': the config file holds its password and has mode 0644: readable by group or others; use password_file or chmod 600 good.ini"
grep -q pw-inline inline.out && fail "a password reached nvr check's output"
ok "an inline password in a readable config is a warning"

# Config errors are findings with their line; exit 2.
printf '[storage]\npath = storage\nbogus = 1\n' >bad.ini
rc=0
"$NVR" check -c bad.ini >bad.out || rc=$?
[ "$rc" -eq 2 ] || fail "a bad config exited $rc"
grep -qE "^bad\.ini:3: error: .*bogus" bad.out || fail "config error not reported: $(cat bad.out)"
ok "config errors are findings"

# nvr run refuses the camera that breaks a rule, naming it, and records
# the others.
start_camsim cam --mount ok
cat >run.ini <<EOF
[storage]
path = $T/runstore
segment_seconds = 10

[camera ok]
url = rtsp://127.0.0.1:$CAMSIM_PORT/ok

[camera far]
url = rtsp://192.0.2.10:$CAMSIM_PORT/ok

[camera gate]
url = rtsp://127.0.0.1:$CAMSIM_PORT/ok
password_file = gate-open.pass
EOF
printf 'x\n' >gate-open.pass
chmod 640 gate-open.pass
start_nvr run.ini nvr
wait_for 20 state_is run.ini ok recording || fail "camera ok is not recording"
grep -qF "run.ini:9: camera 'far': address 192.0.2.10 is public (not private, link-local or loopback); set allow_public = true in [camera far] to allow it; refused, it will not be contacted" "$T/nvr.log" ||
    fail "nvr run did not refuse 'far' by name"
grep -qF "run.ini:13: camera 'gate': password file $T/gate-open.pass has mode 0640" "$T/nvr.log" ||
    grep -qF "run.ini:13: camera 'gate': password file gate-open.pass has mode 0640" "$T/nvr.log" ||
    fail "nvr run did not refuse 'gate' by name"
grep -q "camera far: connecting\|camera gate: connecting" "$T/nvr.log" &&
    fail "a refused camera was contacted"
stop_nvr
ok "nvr run refuses the cameras that break a rule and records the rest"

# Every camera refused: nvr run exits 2 with the reason.
cat >none.ini <<EOF
[storage]
path = $T/runstore

[camera far]
url = rtsp://192.0.2.10/x
EOF
rc=0
"$NVR" run -c none.ini >none.log 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "nvr run with only refused cameras exited $rc"
grep -q "every enabled camera was refused" none.log || fail "no reason given: $(cat none.log)"
ok "nvr run with every camera refused exits 2"
