#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A second, independent RTSP server: Debian's rtsp-server-perl relay, fed
# by `ffmpeg -re -stream_loop -1 -c copy -f rtsp` with clips made here by
# libx264/libx265, with and without B-frames, with AAC and with PCMA. nvr
# (with the default transport: the relay has no interleaved RTP, so it
# must fall back to UDP by itself) and, in the same run, `ffmpeg
# -rtsp_transport udp -c copy` record all four streams; every
# nvr segment decodes with zero errors, has strictly increasing DTS and
# the audio codec, and nvr's frames are one contiguous run of ffmpeg's
# and of the source's, byte for byte (relay_compare.py).
. "$NVR_TEST_LIB"
. "$(dirname "$0")/media_checks.sh"

RELAY=${RELAY:-/usr/bin/rtsp-server-perl}
[ -x "$RELAY" ] || fail "$RELAY missing: install rtsp-server-perl (./setup.sh installs it)"
COMPARE="$(dirname "$0")/relay_compare.py"
RECORD_S=9
# Longer than ffmpeg's copy (about 20 s): every frame it holds has one
# place in the clip.
CLIP_S=30
FPS=25

# name  video  B-frames  audio
VARIANTS=(
    "h264 h264 0 pcm_alaw"
    "h264b h264 2 aac"
    "h265 hevc 0 aac"
    "h265b hevc 3 pcm_alaw"
)

# make_clip NAME VCODEC BFRAMES ACODEC: $T/NAME.mkv, CLIP_S seconds of
# 320x240 at FPS with a keyframe every second, and audio noise (no two
# stretches of it alike, so a run of samples has one place in the clip).
make_clip() {
    local name=$1 vcodec=$2 bf=$3 acodec=$4 v a
    if [ "$vcodec" = h264 ]; then
        v=(-c:v libx264 -preset veryfast -g "$FPS" -bf "$bf")
    else
        v=(-c:v libx265 -preset veryfast
            -x265-params "keyint=$FPS:bframes=$bf:log-level=error")
    fi
    if [ "$acodec" = aac ]; then
        a=(-ar 16000 -c:a aac -b:a 32k)
    else
        a=(-ar 8000 -c:a pcm_alaw)
    fi
    ffmpeg -nostdin -v error -f lavfi -i "testsrc2=size=320x240:rate=$FPS" \
        -f lavfi -i "anoisesrc=color=pink:amplitude=0.2:seed=7" \
        -t "$CLIP_S" -pix_fmt yuv420p "${v[@]}" -ac 1 "${a[@]}" \
        -y "$T/$name.mkv" >"$T/clip_$name.log" 2>&1 ||
        fail "ffmpeg could not make the $name clip: $(tail -n 3 "$T/clip_$name.log")"
    [ "$(ffprobe -v error -select_streams v:0 -show_entries stream=has_b_frames \
        -of csv=p=0 "$T/$name.mkv")" -ge $((bf > 0 ? 1 : 0)) ] ||
        fail "$name clip: no B-frames"
}

# free_tcp_port: a port nothing listens on now.
free_tcp_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# free_udp_range N: the first of N consecutive even-based UDP ports that
# are all free now (the relay takes RTP/RTCP pairs from there on).
free_udp_range() {
    python3 - "$1" <<'EOF'
import random, socket, sys
n = int(sys.argv[1])
for _ in range(200):
    base = random.randrange(20000, 60000 - n) & ~1
    socks = []
    try:
        for p in range(base, base + n):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            socks.append(s)
            s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(base)
    sys.exit(0)
sys.exit(1)
EOF
}

listening() {
    (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The clips are made side by side; each job's status is its own.
clip_pids=()
for v in "${VARIANTS[@]}"; do
    # shellcheck disable=SC2086 # one word per field
    (make_clip $v) &
    clip_pids+=("$!")
done
for p in "${clip_pids[@]}"; do
    wait "$p" || fail "a clip could not be made"
done
ok "clips made: ${#VARIANTS[@]} variants"

# The relay, on ports of its own, from the test's folder (its script
# adds ./lib to @INC), logging unbuffered; no system config is read.
src_port=$(free_tcp_port)
cli_port=$(free_tcp_port)
[ "$src_port" != "$cli_port" ] || cli_port=$(free_tcp_port)
rtp_base=$(free_udp_range 400) || fail "no 400 free UDP ports for the relay"
(cd "$T" && exec perl -e '$| = 1; my $s = shift; do $s; die $@ if $@' "$RELAY" \
    --clientport "$cli_port" --serverport "$src_port" \
    --client_listen_address 127.0.0.1 --source_listen_address 127.0.0.1 \
    --rtp_start_port "$rtp_base" --loglevel 4) >"$T/relay.log" 2>&1 &
PIDS+=("$!")
wait_for 15 listening "$src_port" || fail "the relay did not listen on $src_port"
wait_for 15 listening "$cli_port" || fail "the relay did not listen on $cli_port"
ok "relay: sources on $src_port, clients on $cli_port, RTP from $rtp_base"

# Publishers, then ffmpeg's reference copy of each stream.
for v in "${VARIANTS[@]}"; do
    read -r name _ <<<"$v"
    ffmpeg -nostdin -v warning -re -stream_loop -1 -i "$T/$name.mkv" \
        -c copy -f rtsp "rtsp://127.0.0.1:$src_port/$name" >"$T/pub_$name.log" 2>&1 &
    PIDS+=("$!")
done
for v in "${VARIANTS[@]}"; do
    read -r name _ <<<"$v"
    wait_for 20 "$NVR" probe "rtsp://127.0.0.1:$cli_port/$name" ||
        fail "the relay does not serve $name: $(tail -n 3 "$T/pub_$name.log")"
done
declare -A refpid
for v in "${VARIANTS[@]}"; do
    read -r name _ <<<"$v"
    ffmpeg -nostdin -v error -rtsp_transport udp -i "rtsp://127.0.0.1:$cli_port/$name" \
        -c copy -f mov -y "$T/ref_$name.mov" >"$T/ref_$name.log" 2>&1 &
    refpid[$name]=$!
    PIDS+=("$!")
done
# ffmpeg keeps what arrives while it probes the streams (about 5 s)
# and writes it after: its copy begins at its PLAY.
plays_at_least() {
    [ "$(grep -c '^Got method PLAY' "$T/relay.log")" -ge "$1" ]
}
wait_for 20 plays_at_least "${#VARIANTS[@]}" ||
    fail "ffmpeg did not play the relayed streams: $(tail -n 3 "$T"/ref_*.log)"
ok "ffmpeg plays the ${#VARIANTS[@]} relayed streams"

cfg="$T/nvr.ini"
write_config "$cfg" "$T/storage" 4
names=()
for v in "${VARIANTS[@]}"; do
    read -r name _ <<<"$v"
    add_camera "$cfg" "$name" "rtsp://127.0.0.1:$cli_port/$name"
    names+=("$name")
done
start_nvr "$cfg" nvr
for name in "${names[@]}"; do
    wait_for 20 state_is "$cfg" "$name" recording ||
        fail "camera $name not recording: $(camera_state "$cfg" "$name") ($(camera_field "$cfg" "$name" error))"
done
ok "nvr records the ${#names[@]} relayed streams"
for name in "${names[@]}"; do
    "$NVR" status -c "$cfg" --json | jq -e --arg n "$name" \
        '.cameras[] | select(.name == $n) | .transport == "udp" and (.transport_reason | test("refused"))' \
        >/dev/null || fail "$name: the default transport did not fall back to UDP saying why: $("$NVR" status -c "$cfg" --json | jq -c --arg n "$name" '.cameras[] | select(.name == $n) | [.transport, .transport_reason]')"
done
ok "the default transport fell back to UDP by itself: $("$NVR" status -c "$cfg" --json | jq -r '.cameras[0].transport_reason')"
record_for "$cfg" "$RECORD_S" "${names[@]}"
stop_nvr

# ffmpeg stops after nvr (SIGINT: it writes its index and exits).
for name in "${names[@]}"; do
    kill -INT "${refpid[$name]}"
done
for name in "${names[@]}"; do
    wait_for 20 pid_gone "${refpid[$name]}" || fail "ffmpeg ($name) did not stop"
done

declare -A cmp_pid
for v in "${VARIANTS[@]}"; do
    read -r name vcodec bf acodec <<<"$v"
    mapfile -t segs < <(segment_paths "$cfg" "$name")
    [ "${#segs[@]}" -ge 2 ] || fail "$name: only ${#segs[@]} segments"
    for f in "${segs[@]}"; do
        check_av_segment "$f" "$vcodec" "$acodec"
    done
    # At least RECORD_S seconds of frames less one GOP, and no audio left
    # out inside a segment. The four comparisons run side by side.
    python3 "$COMPARE" "$vcodec" "$acodec" $(((RECORD_S - 1) * FPS)) "$FPS" 0 \
        "$T/$name.mkv" "$T/ref_$name.mov" "${segs[@]}" \
        >"$T/compare_$name.log" 2>&1 &
    cmp_pid[$name]=$!
done
for v in "${VARIANTS[@]}"; do
    read -r name _ bf _ <<<"$v"
    wait "${cmp_pid[$name]}" || fail "$name: $(tail -n 3 "$T/compare_$name.log")"
    ok "$name (B-frames $bf): $(tail -n 1 "$T/compare_$name.log")"
done
! log_has "$T/nvr.log" "decode time did not increase" ||
    fail "units were refused: $(grep -m 1 'decode time did not increase' "$T/nvr.log")"
