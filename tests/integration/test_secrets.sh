#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Credentials never leave: after a run with authentication successes and
# failures (password file, password in the URL, password in the config, a
# wrong password, a camera named in /etc/hosts), the known passwords (and
# their Basic-auth base64 forms) appear in no output channel: nvr run's
# stdout and stderr at trace level, the process title and thread names,
# nvr status (text and --json), nvr recordings --json, nvr check (text and
# --json), nvr systemd-unit, nvr probe's output and errors, config error
# messages, the catalog (SQL dump and raw bytes, WAL included) and every
# other file the recorder wrote.
. "$NVR_TEST_LIB"

PASS='Sx9-h0rse-Batt3ry'
WRONG='Wr0ng-Pa55-77q'
PATTERNS="$T/patterns"
{
    echo "$PASS"
    echo "$WRONG"
    printf 'admin:%s' "$PASS" | base64
    printf 'admin:%s' "$WRONG" | base64
    printf '%s' "$PASS" | base64
} >"$PATTERNS"

# no_secret FILE WHAT: FILE holds none of the passwords.
no_secret() {
    if grep -a -F -f "$PATTERNS" "$1" >/dev/null; then
        fail "a password reached $2 ($1)"
    fi
}

grep -qE '^127\.0\.0\.1[[:space:]].*\blocalhost\b' /etc/hosts ||
    fail "/etc/hosts has no 127.0.0.1 localhost entry, which this test needs"
start_camsim cam --mount good --mount inurl --mount named --mount bad \
    --user admin --pass "$PASS"
printf '%s\n' "$PASS" >"$T/good.pass"
chmod 600 "$T/good.pass"
cfg="$T/nvr.ini"
write_config "$cfg" "$T/storage" 4
add_camera "$cfg" good "rtsp://127.0.0.1:$CAMSIM_PORT/good" \
    "username = admin" "password_file = $T/good.pass"
add_camera "$cfg" inurl "rtsp://admin:$PASS@127.0.0.1:$CAMSIM_PORT/inurl"
add_camera "$cfg" named "rtsp://admin:$PASS@localhost:$CAMSIM_PORT/named"
add_camera "$cfg" bad "rtsp://127.0.0.1:$CAMSIM_PORT/bad" \
    "username = admin" "password = $WRONG"
chmod 600 "$cfg"

NVR_LOG_LEVEL=trace "$NVR" run -c "$cfg" >"$T/run.stdout" 2>"$T/run.stderr" &
NVR_PID=$!
PIDS+=("$NVR_PID")
for cam in good inurl named; do
    wait_for 30 state_is "$cfg" "$cam" recording || fail "camera $cam is not recording"
done
wait_for 30 state_is "$cfg" bad auth_failed || fail "camera bad is $(camera_state "$cfg" bad), want auth_failed"
ok "three cameras authenticate, one is refused"

# The process title and every thread's name.
tr '\0' ' ' <"/proc/$NVR_PID/cmdline" >"$T/cmdline"
no_secret "$T/cmdline" "the process title"
cat /proc/"$NVR_PID"/comm /proc/"$NVR_PID"/task/*/comm >"$T/comm"
no_secret "$T/comm" "a thread name"
tr '\0' '\n' <"/proc/$NVR_PID/environ" >"$T/environ"
no_secret "$T/environ" "the environment"

"$NVR" status -c "$cfg" >"$T/status.txt" 2>&1
"$NVR" status -c "$cfg" --json >"$T/status.json" 2>&1
grep -q "bad" "$T/status.txt" || fail "status lists no camera"
no_secret "$T/status.txt" "nvr status"
no_secret "$T/status.json" "nvr status --json"
record_for "$cfg" 5 good
stop_nvr
ok "the recorder ran and stopped"

for cam in good inurl named bad; do
    "$NVR" recordings -c "$cfg" --camera "$cam" --json >"$T/rec-$cam.json" 2>&1 || true
    no_secret "$T/rec-$cam.json" "nvr recordings --json"
done
jq -e '.segments | length > 0' "$T/rec-inurl.json" >/dev/null || fail "inurl recorded nothing"
"$NVR" check -c "$cfg" >"$T/check.txt" 2>&1 || true
"$NVR" check -c "$cfg" --json >"$T/check.json" 2>&1 || true
no_secret "$T/check.txt" "nvr check"
no_secret "$T/check.json" "nvr check --json"
"$NVR" systemd-unit -c "$cfg" >"$T/unit.txt" 2>&1 || fail "nvr systemd-unit failed"
no_secret "$T/unit.txt" "nvr systemd-unit"

# probe: right and wrong password in the URL, output and errors.
"$NVR" probe "rtsp://admin:$PASS@127.0.0.1:$CAMSIM_PORT/good" >"$T/probe-ok.txt" 2>&1 ||
    fail "probe with the right password failed: $(cat "$T/probe-ok.txt")"
"$NVR" probe --json "rtsp://admin:$PASS@127.0.0.1:$CAMSIM_PORT/good" >"$T/probe-ok.json" 2>&1 || true
"$NVR" probe "rtsp://admin:$WRONG@127.0.0.1:$CAMSIM_PORT/good" >"$T/probe-bad.txt" 2>&1 &&
    fail "probe with a wrong password succeeded"
"$NVR" probe "rtsp://admin:$WRONG@127.0.0.1:1/good" >"$T/probe-down.txt" 2>&1 || true
for f in probe-ok.txt probe-ok.json probe-bad.txt probe-down.txt; do
    no_secret "$T/$f" "nvr probe ($f)"
done

# Config errors next to secrets.
cat >"$T/broken.ini" <<EOC
[storage]
path = $T/storage
[camera x]
url = rtsp://admin:$PASS@127.0.0.1:$CAMSIM_PORT/good
password = $WRONG
password_file = /nonexistent/file
transport = carrier-pigeon
bogus_key = 1
EOC
"$NVR" run -c "$T/broken.ini" >"$T/broken.txt" 2>&1 && fail "a broken config was accepted"
"$NVR" check -c "$T/broken.ini" >>"$T/broken.txt" 2>&1 || true
"$NVR" check --json -c "$T/broken.ini" >>"$T/broken.txt" 2>&1 || true
grep -q "broken.ini:" "$T/broken.txt" || fail "no config error was printed"
no_secret "$T/broken.txt" "config error messages"
cat >"$T/badurl.ini" <<EOC
[storage]
path = $T/storage
[camera y]
url = rtsp://admin:$PASS@[127.0.0.1/x
EOC
"$NVR" run -c "$T/badurl.ini" >"$T/badurl.txt" 2>&1 && fail "a bad URL was accepted"
no_secret "$T/badurl.txt" "bad URL messages"
ok "probe, check, systemd-unit and config errors show no password"

no_secret "$T/run.stdout" "nvr run's stdout"
no_secret "$T/run.stderr" "nvr run's log (stderr, trace level)"
grep -q "auth" "$T/run.stderr" || fail "the log never mentions the authentication failure"
sqlite3 "$T/storage/catalog.db" .dump >"$T/catalog.sql"
[ -s "$T/catalog.sql" ] || fail "empty catalog dump"
no_secret "$T/catalog.sql" "the catalog"
while IFS= read -r -d '' f; do
    no_secret "$f" "a file in storage"
done < <(find "$T/storage" -type f -print0)
ok "no password in logs, title, status, catalog or storage files"
