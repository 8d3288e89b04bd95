#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Transports against camsim. On a camsim that offers both: transport = udp
# records over UDP, and the default (auto) over interleaved TCP. On a
# camsim that offers UDP only (--transport udp: an interleaved SETUP gets
# 461), the default falls back to UDP by itself and 'nvr status' says why,
# while transport = tcp records nothing and says what the camera answered.
# Every segment plays with H.264 + PCMA, A/V within 100 ms.
. "$NVR_TEST_LIB"
. "$(dirname "$0")/media_checks.sh"

RECORD_S=10

start_camsim both --mount udp --mount auto --audio pcma --transport both
port_both=$CAMSIM_PORT
start_camsim udponly --mount cam --mount tcp --audio pcma --transport udp
port_udp=$CAMSIM_PORT

cfg="$T/nvr.ini"
write_config "$cfg" "$T/storage" 4
add_camera "$cfg" udp "rtsp://127.0.0.1:$port_both/udp" "transport = udp"
add_camera "$cfg" auto "rtsp://127.0.0.1:$port_both/auto"
add_camera "$cfg" auto_udp "rtsp://127.0.0.1:$port_udp/cam"
add_camera "$cfg" tcp_only "rtsp://127.0.0.1:$port_udp/tcp" "transport = tcp"
start_nvr "$cfg" nvr
for cam in udp auto auto_udp; do
    wait_for 20 state_is "$cfg" "$cam" recording ||
        fail "camera $cam not recording: $(camera_state "$cfg" "$cam") ($(camera_field "$cfg" "$cam" error))"
done
ok "transport = udp, and the default against a camera offering both or UDP only, record"

expect_transport() {
    local cam=$1 tr=$2 why=$3 got
    got="$(camera_field "$cfg" "$cam" transport) / $(camera_field "$cfg" "$cam" transport_reason)"
    [ "$got" = "$tr / $why" ] || fail "camera $cam: transport '$got', expected '$tr / $why'"
}
expect_transport udp udp configured
expect_transport auto tcp "auto, camera accepted interleaved TCP"
expect_transport auto_udp udp "camera refused interleaved TCP (461)"
log_has "$T/nvr.log" "camera auto_udp: SETUP: 461 .* to interleaved TCP; transport auto: falling back to UDP" ||
    fail "no log line for the fallback of camera auto_udp"
grep -q '^auto_udp: udp: camera refused interleaved TCP (461)$' <<<"$("$NVR" status -c "$cfg")" ||
    fail "nvr status does not say why auto_udp is on UDP: $("$NVR" status -c "$cfg")"
ok "status and log say which transport and why"

# transport = tcp never tries UDP: the camera's refusal is the error.
wait_for 20 state_is "$cfg" tcp_only backoff ||
    fail "camera tcp_only: $(camera_state "$cfg" tcp_only)"
err=$(camera_field "$cfg" tcp_only error)
[[ $err == *"SETUP: 461"* ]] || fail "camera tcp_only: error '$err' does not give the 461"
ok "transport = tcp stays on TCP: $err"

# The UDP cameras really use UDP: the nvr holds UDP sockets.
if command -v ss >/dev/null; then
    # (to a file: grep -q closing the pipe early would fail ss under
    # pipefail)
    ss -uanp >"$T/ss.txt" 2>/dev/null || true
    grep -q "pid=$NVR_PID," "$T/ss.txt" ||
        fail "nvr holds no UDP socket while recording over UDP"
    ok "nvr receives over UDP sockets"
fi

record_for "$cfg" "$RECORD_S" udp auto auto_udp
for cam in udp auto auto_udp; do
    state_is "$cfg" "$cam" recording || fail "camera $cam stopped recording: $(camera_field "$cfg" "$cam" error)"
done
has_segments "$T/storage/catalog.db" tcp_only && fail "camera tcp_only recorded over a UDP-only camera"
stop_nvr

for cam in udp auto auto_udp; do
    n=0
    while IFS= read -r f; do
        check_av_segment "$f" h264 pcm_alaw
        check_monotonic "$f"
        n=$((n + 1))
    done < <(segment_paths "$cfg" "$cam")
    [ "$n" -ge 2 ] || fail "$cam: only $n segments"
    ok "$cam: $n segments play with H.264 + PCMA"
done
