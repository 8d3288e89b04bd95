#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 3 acceptance, codecs: nvr records three camsim cameras for about
# 12 s with short segments, H.264 + AAC, H.265 + PCMA and MJPEG without
# audio, all over TCP. Every segment plays in ffprobe with the camera's
# codecs, the audio track is present where the camera sends one, audio
# and video start within 100 ms of each other, and timestamps are
# monotonic.
. "$NVR_TEST_LIB"
. "$(dirname "$0")/media_checks.sh"

RECORD_S=12

start_camsim aac --mount cam --video h264 --audio aac
port_aac=$CAMSIM_PORT
start_camsim pcma --mount cam --video h265 --audio pcma
port_pcma=$CAMSIM_PORT
start_camsim mjpeg --mount cam --video mjpeg
port_mjpeg=$CAMSIM_PORT

cfg="$T/nvr.ini"
write_config "$cfg" "$T/storage" 4
add_camera "$cfg" h264_aac "rtsp://127.0.0.1:$port_aac/cam"
add_camera "$cfg" h265_pcma "rtsp://127.0.0.1:$port_pcma/cam"
add_camera "$cfg" mjpeg "rtsp://127.0.0.1:$port_mjpeg/cam"
start_nvr "$cfg" nvr
for cam in h264_aac h265_pcma mjpeg; do
    wait_for 20 state_is "$cfg" "$cam" recording ||
        fail "camera $cam not recording: $(camera_state "$cfg" "$cam") ($(camera_field "$cfg" "$cam" error))"
done
ok "three cameras recording"
record_for "$cfg" "$RECORD_S" h264_aac h265_pcma mjpeg
stop_nvr

check_camera() {
    local cam=$1 vcodec=$2 acodec=$3 f n=0
    while IFS= read -r f; do
        check_av_segment "$f" "$vcodec" "$acodec"
        check_monotonic "$f"
        n=$((n + 1))
    done < <(segment_paths "$cfg" "$cam")
    # 12 s in 4 s segments: at least two closed segments.
    [ "$n" -ge 2 ] || fail "$cam: only $n segments in ${RECORD_S} s"
    ok "$cam: $n segments play with $vcodec${acodec/#none/}$([ "$acodec" = none ] || echo " + $acodec"), A/V start within 100 ms"
}
check_camera h264_aac h264 aac
check_camera h265_pcma hevc pcm_alaw
check_camera mjpeg mjpeg none

# G.711 cannot go into MP4 with FFmpeg 5.1: the contract puts it in .mov.
while IFS= read -r f; do
    case "$f" in
    *.mov) ;;
    *) fail "H.265 + PCMA segment $(basename "$f") is not a .mov" ;;
    esac
done < <(segment_paths "$cfg" h265_pcma)
ok "G.711 segments are QuickTime (.mov)"
