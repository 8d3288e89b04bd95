#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The access model (issue 16): three Unix users made here, all in the
# socket's group: one whose group may view 'gate' only, one whose group
# may view and export everything, one in no [access] group. Through the
# recorder's socket, 'nvr status' and 'nvr recordings' show the first only
# 'gate', the second both cameras, and refuse the third with a message
# naming the rule; 'nvr audit' lists each view and refusal under the
# kernel-verified user; none of them can read a segment file directly
# (storage 0750 root:root). Holds placed and released through the socket
# carry the caller as their user. A client sending garbage or another
# protocol version is disconnected and logged with its uid; --direct is
# root's.
. "$NVR_TEST_LIB"

if [ "$(id -u)" != 0 ]; then
    echo "skip: making users needs root"
    exit 77
fi
command -v useradd >/dev/null || fail "useradd (passwd) is missing"

tag="n$$"
g_gate="${tag}gate" g_ops="${tag}ops" g_sock="${tag}sock"
u_alice="${tag}alice" u_bob="${tag}bob" u_carol="${tag}carol"
remove_accounts() {
    local u g
    for u in "$u_alice" "$u_bob" "$u_carol"; do userdel "$u" 2>/dev/null || true; done
    for g in "$g_gate" "$g_ops" "$g_sock"; do groupdel "$g" 2>/dev/null || true; done
}
trap 'rc=$?; remove_accounts; (exit $rc); cleanup' EXIT
for g in "$g_gate" "$g_ops" "$g_sock"; do groupadd "$g" || fail "groupadd $g"; done
useradd -M -N -g "$g_sock" -G "$g_gate" -s /usr/sbin/nologin "$u_alice" || fail "useradd alice"
useradd -M -N -g "$g_sock" -G "$g_ops" -s /usr/sbin/nologin "$u_bob" || fail "useradd bob"
useradd -M -N -g "$g_sock" -s /usr/sbin/nologin "$u_carol" || fail "useradd carol"
ok "users $u_alice ($g_gate), $u_bob ($g_ops), $u_carol (no [access] group), all in $g_sock"

# The config and the socket's folder are open to the users; the storage
# is not (the recorder runs as root: 0750 root:root).
chmod 0755 "$T"
mkdir -m 0755 "$T/run"
start_camsim cam --mount gate --mount yard
cfg="$T/nvr.ini"
write_config "$cfg" "$T/storage" 2
add_camera "$cfg" gate "rtsp://127.0.0.1:$CAMSIM_PORT/gate"
add_camera "$cfg" yard "rtsp://127.0.0.1:$CAMSIM_PORT/yard"
cat >>"$cfg" <<EOC

[access]
socket = $T/run/nvr.sock
socket_group = $g_sock
view = $g_gate: gate, $g_ops: *
export = $g_ops: *
hold = $g_ops: *
audit = $g_ops: gate
EOC
chmod 0644 "$cfg"
view_line=$(grep -n '^view = ' "$cfg" | cut -d: -f1)
hold_line=$(grep -n '^hold = ' "$cfg" | cut -d: -f1)

start_nvr "$cfg" nvr
wait_for 20 test -S "$T/run/nvr.sock" || fail "no socket at $T/run/nvr.sock"
mode=$(stat -c '%a %U:%G' "$T/run/nvr.sock")
[ "$mode" = "660 root:$g_sock" ] || fail "socket is $mode, want 660 root:$g_sock"
ok "socket $T/run/nvr.sock: $mode"
"$NVR" check -c "$cfg" >"$T/check.out" || fail "nvr check: $(cat "$T/check.out")"
grep -qF "info: operators' socket $T/run/nvr.sock: mode 0660, owner root:$g_sock; Unix socket only, no network listener" "$T/check.out" ||
    fail "nvr check does not report the socket: $(cat "$T/check.out")"
ok "nvr check: $(grep -F "operators' socket" "$T/check.out")"
wait_for 30 state_is "$cfg" gate recording || fail "gate is not recording"
wait_for 30 state_is "$cfg" yard recording || fail "yard is not recording"
record_for "$cfg" 4 gate yard
log_has "$T/nvr.log" "ipc: operators' socket $T/run/nvr.sock" || fail "the recorder did not log its socket"

as() { local u=$1; shift; setpriv --reuid="$u" --regid="$g_sock" --init-groups "$@"; }
run_as() { # USER ARGS...: nvr as USER; stdout in $T/out, stderr in $T/err, rc in $rc
    local u=$1
    shift
    rc=0
    as "$u" timeout 20 "$NVR" "$@" -c "$cfg" >"$T/out" 2>"$T/err" </dev/null || rc=$?
}

# alice: gate only.
run_as "$u_alice" status --json
[ "$rc" = 0 ] || fail "status as alice exited $rc: $(cat "$T/err")"
[ "$(jq -r '[.cameras[].name] | join(",")' "$T/out")" = gate ] ||
    fail "status as alice shows $(jq -c '[.cameras[].name]' "$T/out"), want only gate"
run_as "$u_alice" recordings --camera gate --json
[ "$rc" = 0 ] || fail "recordings of gate as alice exited $rc: $(cat "$T/err")"
[ "$(jq '.segments | length' "$T/out")" -gt 0 ] || fail "alice sees no segment of gate"
seg=$(jq -r '.segments[0].path' "$T/out")
run_as "$u_alice" recordings --camera yard
[ "$rc" = 1 ] || fail "recordings of yard as alice exited $rc, want 1"
want="nvr recordings: user $u_alice (groups: $g_sock, $g_gate) may not view camera yard: [access] view (line $view_line) lists $g_gate for gate only"
grep -qxF "$want" "$T/err" || fail "alice's refusal does not name the rule: $(cat "$T/err")"
ok "alice sees only gate; yard refused: $(cat "$T/err")"

# bob: everything.
run_as "$u_bob" status --json
[ "$rc" = 0 ] || fail "status as bob exited $rc: $(cat "$T/err")"
[ "$(jq -r '[.cameras[].name] | join(",")' "$T/out")" = gate,yard ] ||
    fail "status as bob shows $(jq -c '[.cameras[].name]' "$T/out")"
run_as "$u_bob" recordings --camera yard
[ "$rc" = 0 ] || fail "recordings of yard as bob exited $rc: $(cat "$T/err")"
grep -q '^camera yard: [1-9][0-9]* segment' "$T/out" || fail "bob's recordings of yard: $(cat "$T/out")"
ok "bob sees gate and yard"

# carol: nothing, with the rule named.
run_as "$u_carol" status
[ "$rc" = 1 ] || fail "status as carol exited $rc, want 1: $(cat "$T/out")"
want="nvr status: user $u_carol (groups: $g_sock) may not view any camera: [access] view (line $view_line) lists none of these groups"
grep -qxF "$want" "$T/err" || fail "carol's refusal does not name the rule: $(cat "$T/err")"
[ ! -s "$T/out" ] || fail "carol was shown something: $(cat "$T/out")"
run_as "$u_carol" recordings --camera gate
[ "$rc" = 1 ] || fail "recordings of gate as carol exited $rc, want 1"
ok "carol refused: $(cat "$T/err")"

# Holds through the recorder: bob may place and release them, alice not.
range=(--from 2000-01-01T00:00:00Z --to 2100-01-01T00:00:00Z)
run_as "$u_alice" hold add --camera gate "${range[@]}" --reason "case 1"
[ "$rc" = 1 ] || fail "hold add as alice exited $rc, want 1: $(cat "$T/out")"
want="nvr hold add: user $u_alice (groups: $g_sock, $g_gate) may not hold camera gate: [access] hold (line $hold_line) lists none of these groups"
grep -qxF "$want" "$T/err" || fail "alice's hold refusal: $(cat "$T/err")"
run_as "$u_bob" hold add --camera yard "${range[@]}" --reason "case 2"
[ "$rc" = 0 ] || fail "hold add as bob exited $rc: $(cat "$T/err")"
hold_id=$(sed -n 's/^hold \([0-9]*\) added$/\1/p' "$T/out")
[ -n "$hold_id" ] || fail "hold add as bob: $(cat "$T/out")"
run_as "$u_alice" hold list --json
[ "$rc" = 0 ] && [ "$(jq '.holds | length' "$T/out")" = 0 ] ||
    fail "alice sees holds of cameras she may not view: $(cat "$T/out" "$T/err")"
run_as "$u_bob" hold list --json
jq -e --arg u "$u_bob" '.holds[] | select(.camera == "yard" and .created_by == $u)' "$T/out" >/dev/null ||
    fail "bob's hold is not listed as his: $(cat "$T/out")"
run_as "$u_alice" hold release "$hold_id"
[ "$rc" = 1 ] && grep -qF "may not hold camera yard" "$T/err" ||
    fail "hold release as alice: exit $rc, $(cat "$T/err")"
run_as "$u_bob" hold release "$hold_id"
[ "$rc" = 0 ] || fail "hold release as bob exited $rc: $(cat "$T/err")"
ok "holds: placed and released by bob (as himself), refused to alice with the rule named"

# The audit log: who the kernel said, not who they claimed.
run_as "$u_alice" audit
[ "$rc" = 1 ] && grep -qF "may not audit any camera: [access] audit (line $((hold_line + 1))) lists none of these groups" "$T/err" ||
    fail "audit as alice: exit $rc, $(cat "$T/err")"
"$NVR" audit -c "$cfg" --json >"$T/audit.json" || fail "nvr audit as root"
entries() { jq -r --arg u "$1" --arg k "$2" --arg c "$3" \
    '[.entries[] | select(.user == $u and .kind == $k and (.camera // "") == $c)] | length' "$T/audit.json"; }
[ "$(entries "$u_alice" view gate)" -ge 1 ] || fail "no view of gate by alice in the audit log"
[ "$(entries "$u_alice" view "")" -ge 1 ] || fail "no status view by alice in the audit log"
[ "$(entries "$u_bob" view yard)" = 1 ] || fail "bob's view of yard is not audited once"
[ "$(entries "$u_carol" access_refused "")" = 1 ] || fail "carol's refused status is not audited"
[ "$(entries "$u_carol" access_refused gate)" = 1 ] || fail "carol's refused recordings are not audited"
[ "$(entries "$u_bob" hold_add yard)" = 1 ] || fail "bob's hold is not audited as his"
[ "$(entries "$u_bob" hold_release yard)" = 1 ] || fail "bob's release is not audited as his"
[ "$(entries "$u_alice" access_refused yard)" = 2 ] || fail "alice's refused release is not audited"
[ "$(entries "$u_alice" access_refused gate)" = 1 ] || fail "alice's refused hold is not audited"
jq -e --arg u "$u_alice" '.entries[] | select(.user == $u and .kind == "view" and .camera == "gate") | .detail | test("uid [0-9]+, gid [0-9]+, pid [0-9]+")' \
    "$T/audit.json" >/dev/null || fail "alice's audit entry does not carry the kernel's uid and pid"
SUDO_USER=mallory as "$u_alice" "$NVR" recordings -c "$cfg" --camera gate >/dev/null 2>&1 ||
    fail "recordings as alice with SUDO_USER set"
"$NVR" audit -c "$cfg" --json >"$T/audit.json"
jq -e --arg u "$u_alice" '[.entries[] | select(.user == $u and (.detail | test("claims sudo by mallory")))] | length == 1' \
    "$T/audit.json" >/dev/null || fail "a claimed SUDO_USER is not noted as a claim under the real user"
jq -e '[.entries[] | select(.user | test("mallory"))] | length == 0' "$T/audit.json" >/dev/null ||
    fail "a claimed SUDO_USER became the actor"
ok "the audit log names alice, bob and carol as the kernel saw them; SUDO_USER only a claim"

# bob may read the audit log of gate only: no other camera's entries, no
# entries about no camera, and not the whole chain's check.
run_as "$u_bob" audit --json
[ "$rc" = 0 ] || fail "audit as bob exited $rc: $(cat "$T/err")"
[ "$(jq '.entries | length' "$T/out")" -gt 0 ] || fail "bob sees no audit entry of gate"
jq -e '[.entries[] | select(.camera != "gate")] | length == 0' "$T/out" >/dev/null ||
    fail "bob sees audit entries beyond gate: $(jq -c '[.entries[].camera] | unique' "$T/out")"
run_as "$u_bob" audit --verify
[ "$rc" = 1 ] && grep -qF "may not audit camera *" "$T/err" ||
    fail "audit --verify as bob: exit $rc, $(cat "$T/out" "$T/err")"
ok "bob reads the audit entries of gate only; --verify needs audit on *"

# No one reads the footage behind the recorder's back.
[ -f "$T/storage/$seg" ] || fail "segment $seg is not in the storage"
for u in "$u_alice" "$u_bob" "$u_carol"; do
    if as "$u" cat "$T/storage/$seg" >/dev/null 2>"$T/err"; then
        fail "$u could read $seg directly"
    fi
done
ok "none of them can read $seg directly ($(stat -c '%a %U:%G' "$T/storage") storage)"

# A client that speaks garbage or another version is disconnected, and
# logged with its uid.
uid_alice=$(id -u "$u_alice")
as "$u_alice" /usr/bin/python3 - "$T/run/nvr.sock" <<'EOP' || fail "the garbage client failed"
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"GET / HTTP/1.1\r\n\r\n")
s.settimeout(10)
data = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    data += d
assert data[4] == 67, data  # IPC_MSG_ERROR, then the recorder closed
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
body = bytes([1]) + struct.pack(">BHq", 1, 8, 9)  # hello, version 9
s.sendall(struct.pack(">I", len(body)) + body)
s.settimeout(10)
data = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    data += d
assert b"speaks protocol version 1, the client version 9" in data, data
EOP
wait_for 5 log_has "$T/nvr.log" "client $u_alice (uid $uid_alice, pid [0-9]*): sent a frame longer than the protocol allows; disconnected" ||
    fail "the garbage client is not logged with its uid"
log_has "$T/nvr.log" "client $u_alice (uid $uid_alice, pid [0-9]*): speaks protocol version 9, this recorder 1; disconnected" ||
    fail "the other version is not logged"
ok "garbage and another protocol version: disconnected and logged with the uid"
state_is "$cfg" gate recording || fail "gate stopped recording after the garbage"

# --direct is root's, and audited.
run_as "$u_bob" status --direct
[ "$rc" = 2 ] && grep -qF -- "--direct reads the storage itself and is for root only" "$T/err" ||
    fail "--direct as bob: exit $rc, $(cat "$T/err")"
"$NVR" recordings -c "$cfg" --camera gate --direct >/dev/null || fail "--direct as root"
"$NVR" audit -c "$cfg" --json >"$T/audit.json"
jq -e '[.entries[] | select(.kind == "view" and .camera == "gate" and (.detail | test("--direct")))] | length == 1' \
    "$T/audit.json" >/dev/null || fail "root's --direct is not audited"
ok "--direct: refused to bob, audited for root"
stop_nvr
ok "the recorder stopped cleanly with the socket served"
