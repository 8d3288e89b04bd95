#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 3 acceptance, transports: a camera with transport = udp and one
# with transport = auto on a camsim that offers both; both record over UDP
# (camsim's UDP sockets are on 127.0.0.1). A third camera with auto points
# at a camsim that offers TCP only (--transport tcp: UDP SETUP gets 461),
# so auto falls back to TCP, records, and the log or 'nvr status' says so.
# Every segment plays with H.264 + PCMA, A/V within 100 ms.
. "$NVR_TEST_LIB"
. "$(dirname "$0")/media_checks.sh"

RECORD_S=10

start_camsim both --mount udp --mount auto --audio pcma --transport both
port_both=$CAMSIM_PORT
start_camsim tcponly --mount cam --audio pcma --transport tcp
port_tcp=$CAMSIM_PORT

cfg="$T/nvr.ini"
write_config "$cfg" "$T/storage" 4
add_camera "$cfg" udp "rtsp://127.0.0.1:$port_both/udp" "transport = udp"
add_camera "$cfg" auto "rtsp://127.0.0.1:$port_both/auto" "transport = auto"
add_camera "$cfg" auto_tcp "rtsp://127.0.0.1:$port_tcp/cam" "transport = auto"
start_nvr "$cfg" nvr
for cam in udp auto; do
    wait_for 20 state_is "$cfg" "$cam" recording ||
        fail "camera $cam not recording: $(camera_state "$cfg" "$cam") ($(camera_field "$cfg" "$cam" error))"
done
ok "transport = udp and auto record from a camera offering both"
# auto may first wait up to 5 s for UDP media before it falls back.
wait_for 30 state_is "$cfg" auto_tcp recording ||
    fail "auto did not fall back to TCP: $(camera_state "$cfg" auto_tcp) ($(camera_field "$cfg" auto_tcp error))"
ok "transport = auto records from a TCP-only camera"

# The UDP cameras really use UDP: RTP arrives on the recorder's UDP
# sockets from camsim's (127.0.0.1) and the nvr holds UDP sockets.
if command -v ss >/dev/null; then
    ss -uanp 2>/dev/null | grep -q "pid=$NVR_PID," ||
        fail "nvr holds no UDP socket while recording with transport = udp"
    ok "nvr receives over UDP sockets"
fi

# The fallback is visible: a 'transport' field in 'nvr status --json' or
# a log line naming the fallback to TCP.
shown=$(camera_field "$cfg" auto_tcp transport)
if [ "$shown" != tcp ] && [ "$shown" != TCP ]; then
    grep -iE 'auto_tcp.*(fall(ing)? ?back|falls back).*tcp' "$T/nvr.log" >/dev/null ||
        fail "neither 'nvr status' (transport='$shown') nor the log says auto fell back to TCP"
fi
ok "fallback to TCP reported (status transport='$shown')"
shown=$(camera_field "$cfg" udp transport)
[ "$shown" = null ] || [ "$shown" = udp ] || [ "$shown" = UDP ] ||
    fail "camera udp reports transport '$shown'"

record_for "$cfg" "$RECORD_S" udp auto auto_tcp
for cam in udp auto auto_tcp; do
    state_is "$cfg" "$cam" recording || fail "camera $cam stopped recording: $(camera_field "$cfg" "$cam" error)"
done
stop_nvr

for cam in udp auto auto_tcp; do
    n=0
    while IFS= read -r f; do
        check_av_segment "$f" h264 pcm_alaw
        check_monotonic "$f"
        n=$((n + 1))
    done < <(segment_paths "$cfg" "$cam")
    [ "$n" -ge 2 ] || fail "$cam: only $n segments"
    ok "$cam: $n segments play with H.264 + PCMA"
done
