#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Against VLC 3.0's RTSP server (#rtp{sdp=rtsp://...}), which refuses
# interleaved TCP (461), refreshes a session only on SETUP, PLAY, PAUSE,
# GET_PARAMETER and TEARDOWN, and ends one with an RTCP BYE on every track
# when it expires or the stream ends. With the default config (transport
# auto) the recorder falls back to UDP and says why in 'nvr status',
# keeps the session alive with GET_PARAMETER across many session timeouts
# (no gap in 'nvr recordings', frames and duration matching the wall-clock
# span and ffmpeg's copy of the same stream), sends well-formed RTCP
# receiver reports (decoded by tcpdump), and after the BYE at the end of
# the stream connects again at once instead of waiting for the media
# deadline.
. "$NVR_TEST_LIB"

# VLC's --rtsp-timeout: short, so the test is about 10 session timeouts
# long. VLC_SESSION_TIMEOUT_S=60 VLC_CLIP_S=95 is VLC's default timeout
# and a 90 s recording, as run by hand.
SESSION_TIMEOUT_S=${VLC_SESSION_TIMEOUT_S:-4}
CLIP_S=${VLC_CLIP_S:-45}
FPS=25

command -v cvlc >/dev/null || fail "cvlc not found (setup.sh installs vlc-bin and vlc-plugin-base)"
command -v tcpdump >/dev/null || fail "tcpdump not found (setup.sh installs it)"

# VLC refuses to run as root: it runs as nobody, from a folder it can read.
chmod 711 "$T"
mkdir -p "$T/vlc"
ffmpeg -nostdin -v error -f lavfi -i "testsrc2=size=320x240:rate=$FPS" \
    -f lavfi -i "sine=frequency=440:sample_rate=48000" -t "$CLIP_S" \
    -c:v libx264 -preset veryfast -g "$FPS" -bf 0 -pix_fmt yuv420p \
    -c:a aac -b:a 64k "$T/vlc/clip.mp4" || fail "cannot make the clip"
chmod 755 "$T/vlc"
chmod 644 "$T/vlc/clip.mp4"
as_vlc=()
if [ "$(id -u)" -eq 0 ]; then
    chown nobody "$T/vlc"
    as_vlc=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
fi

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="rtsp://127.0.0.1:$port/cam"
"${as_vlc[@]}" env HOME="$T/vlc" cvlc -I dummy --play-and-exit \
    "$T/vlc/clip.mp4" --sout "#rtp{sdp=$url}" \
    --rtsp-timeout="$SESSION_TIMEOUT_S" >"$T/vlc.log" 2>&1 &
VLC_PID=$!
PIDS+=("$VLC_PID")
vlc_up_s=$SECONDS
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}
wait_for 15 port_open || fail "VLC's RTSP server did not start on port $port"

# The reference: ffmpeg's own RTSP client over UDP, copying the stream.
ffmpeg -nostdin -v error -rtsp_transport udp -i "$url" -c copy -f matroska \
    "$T/ref.mkv" >"$T/ffmpeg.log" 2>&1 &
FFMPEG_PID=$!
PIDS+=("$FFMPEG_PID")
ref_start_us=$(now_us)

cfg="$T/nvr.ini"
write_config "$cfg" "$T/storage" 10
add_camera "$cfg" vlc "$url" # the default transport
start_nvr "$cfg" nvr
wait_for 20 state_is "$cfg" vlc recording ||
    fail "not recording from VLC: $(camera_state "$cfg" vlc) ($(camera_field "$cfg" vlc error))"
[ "$(camera_field "$cfg" vlc transport)" = udp ] ||
    fail "transport is '$(camera_field "$cfg" vlc transport)', not udp"
reason=$(camera_field "$cfg" vlc transport_reason)
[ "$reason" = "camera refused interleaved TCP (461)" ] ||
    fail "transport_reason is '$reason'"
grep -q '^vlc: udp: camera refused interleaved TCP (461)$' <<<"$("$NVR" status -c "$cfg")" ||
    fail "nvr status does not say why: $("$NVR" status -c "$cfg")"
ok "default transport fell back to UDP: $reason"
log_has "$T/nvr.log" "camera vlc: playing 2 track(s) over UDP; keepalive GET_PARAMETER" ||
    fail "the keepalive is not GET_PARAMETER: $(grep 'playing' "$T/nvr.log")"
ok "keepalive GET_PARAMETER (VLC's Public lists it)"

# Receiver reports: from the RTCP port (RTP port + 1) of each track, RR
# with a report block and an SDES, as tcpdump decodes them.
mapfile -t rtp_ports < <(sed -n 's/.*camera vlc: track [0-9] ([a-z0-9]*) over UDP, ports \([0-9]*\)-.*/\1/p' "$T/nvr.log")
[ "${#rtp_ports[@]}" -eq 2 ] || fail "expected 2 UDP tracks in the log, got ${#rtp_ports[@]}"
filter="udp and (src port $((rtp_ports[0] + 1)) or src port $((rtp_ports[1] + 1)))"
tcpdump -i lo -n -l -T rtcp -vv "$filter" >"$T/rtcp.txt" 2>"$T/tcpdump.err" &
TCPDUMP_PID=$!
PIDS+=("$TCPDUMP_PID")
rr_seen() {
    [ "$(grep -c ' rr ' "$T/rtcp.txt")" -ge 4 ]
}
wait_for 20 rr_seen || fail "fewer than 4 receiver reports in 20 s: $(cat "$T/rtcp.txt")"
kill "$TCPDUMP_PID"
wait "$TCPDUMP_PID" 2>/dev/null || true
grep -vE '^\s*$' "$T/rtcp.txt" | head -n 4
for p in "${rtp_ports[@]}"; do
    grep -q "\.$((p + 1)) > .* rr " "$T/rtcp.txt" ||
        fail "no receiver report from port $((p + 1))"
done
grep ' rr ' "$T/rtcp.txt" | grep -q 'sdes' ||
    fail "receiver reports without an SDES: $(grep ' rr ' "$T/rtcp.txt" | head -n 2)"
# "rr OURS THEIRS 0l 33037s 25j @45278.00+0.47": one report block (lost,
# highest sequence, jitter) with LSR+DLSR, so the sender report was ours.
grep -qE ' rr [0-9]+ [0-9]+ -?[0-9]+l [0-9]+s [0-9]+j @[0-9.]+\+[0-9.]+ sdes ' "$T/rtcp.txt" ||
    fail "receiver reports without a report block: $(grep ' rr ' "$T/rtcp.txt" | head -n 2)"
! grep -q '\[|' "$T/rtcp.txt" || fail "tcpdump found truncated RTCP: $(grep '\[|' "$T/rtcp.txt" | head -n 2)"
ok "RTCP receiver reports on both tracks, with report blocks and SDES"

# The stream ends: VLC sends BYE on both tracks; the recorder ends the
# session and connects again at once (then finds VLC gone).
wait_for $((CLIP_S + 30 - (SECONDS - vlc_up_s))) log_has "$T/nvr.log" "RTCP BYE on every track" ||
    fail "no BYE logged by the end of the stream"
wait_for 30 pid_gone "$FFMPEG_PID" || fail "ffmpeg did not end with the stream"
wait "$FFMPEG_PID" || true
attempt_after_bye() {
    sed -n '/RTCP BYE on every track/,$p' "$T/nvr.log" | grep -q 'connecting to'
}
wait_for 15 attempt_after_bye || fail "no new attempt after the BYE"
stop_nvr
wait_for 15 pid_gone "$VLC_PID" || fail "VLC did not exit at the end of the clip"

# The time from the BYE to the next attempt (log time stamps).
log_ms() {
    date -d "$(cut -c1-23 <<<"$1")" +%s%3N
}
bye_line=$(grep -m1 'RTCP BYE on every track' "$T/nvr.log")
next_line=$(sed -n '/RTCP BYE on every track/,$p' "$T/nvr.log" | grep -m1 'connecting to') ||
    fail "no new attempt after the BYE"
bye_ms=$(log_ms "$bye_line")
again_ms=$(( $(log_ms "$next_line") - bye_ms ))
[ "$again_ms" -le 500 ] || fail "next attempt $again_ms ms after the BYE"
ok "BYE on every track: new attempt after $again_ms ms"
grep -q 'RTCP BYE on every track); retrying in 0 ms' "$T/nvr.log" ||
    fail "the BYE was not followed by an immediate retry: $(grep 'BYE on every' "$T/nvr.log")"
# Only one BYE: the session never expired while it was refreshed.
[ "$(grep -c 'RTCP BYE on every track); retrying' "$T/nvr.log")" -eq 1 ] ||
    fail "more than one session ended by BYE: $(grep 'BYE on every' "$T/nvr.log")"

# No gap: the segments follow each other from the first frame to the end.
"$NVR" recordings -c "$cfg" --camera vlc --json >"$T/rec.json"
jq -e '(.gaps | length) == 0' "$T/rec.json" >/dev/null ||
    fail "gaps: $(jq -c .gaps "$T/rec.json")"
jq -e '[.segments[] | .start_us] as $s | [.segments[] | .end_us] as $e |
       all(range(1; $s | length); $s[.] - $e[. - 1] < 100000 and $s[.] - $e[. - 1] > -100000)' \
    "$T/rec.json" >/dev/null || fail "segments do not join: $(jq -c '[.segments[] | [.start, .end]]' "$T/rec.json")"
first_us=$(jq '.segments[0].start_us' "$T/rec.json")
last_us=$(jq '.segments[-1].end_us' "$T/rec.json")
span_ms=$(( (last_us - first_us) / 1000 ))
nseg=$(jq '.segments | length' "$T/rec.json")
[ "$span_ms" -ge $(( (CLIP_S - 15) * 1000 )) ] ||
    fail "recorded only $span_ms ms of a $CLIP_S s stream"

frames=0
dur_ms=0
while IFS= read -r rel; do
    f="$T/storage/$rel"
    n=$(ffprobe_frames "$f")
    d=$(ffprobe_duration "$f")
    frames=$((frames + n))
    dur_ms=$(awk -v a="$dur_ms" -v d="$d" 'BEGIN { printf "%d", a + d * 1000 }')
    ffmpeg -nostdin -v error -i "$f" -f null - 2>"$T/decode.err" || fail "$rel does not decode"
    [ ! -s "$T/decode.err" ] || fail "$rel: decode errors: $(head -n 3 "$T/decode.err")"
done < <(jq -r '.segments[].path' "$T/rec.json")
expect=$(( span_ms * FPS / 1000 ))
# A frame or two per segment boundary, no more.
[ $((frames - expect)) -le $((2 * nseg)) ] && [ $((expect - frames)) -le $((2 * nseg)) ] ||
    fail "$frames video frames over a wall-clock span of $span_ms ms (expected $expect at $FPS fps)"
[ $((dur_ms - span_ms)) -le 1000 ] && [ $((span_ms - dur_ms)) -le 1000 ] ||
    fail "segments hold $dur_ms ms of media over a wall-clock span of $span_ms ms"
ok "no gap: $nseg segments, $frames frames, $dur_ms ms of media over $span_ms ms of wall clock"

# The same stream as ffmpeg recorded it: the same frames but for the ones
# before the recorder's first keyframe.
ref_frames=$(ffprobe_frames "$T/ref.mkv")
late_ms=$(( (first_us - ref_start_us) / 1000 ))
missing=$((ref_frames - frames))
[ "$missing" -ge 0 ] && [ "$missing" -le $(( (late_ms + 2000) * FPS / 1000 )) ] ||
    fail "ffmpeg recorded $ref_frames frames, nvr $frames (nvr started $late_ms ms later)"
ok "ffmpeg's copy: $ref_frames frames; nvr $frames, starting $late_ms ms later"
audio=$(ffprobe -v error -select_streams a:0 -show_entries stream=codec_name -of csv=p=0 \
    "$T/storage/$(jq -r '.segments[0].path' "$T/rec.json")")
[ "$audio" = aac ] || fail "no AAC track in the first segment ('$audio')"
ok "audio recorded ($audio)"
