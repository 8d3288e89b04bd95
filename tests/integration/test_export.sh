#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Evidential export (issue 7): record two camsim cameras with 60 s segments
# for about 2.5 minutes with an outage of camera "gate" after its first segment
# closed, then export a range of gate that spans three segments and the
# gap. ffprobe reads the clip, its duration matches the requested range
# within one GOP (the gap keeps its real length), `sha256sum -c` and
# `nvr verify` pass, and a flipped byte or an edited manifest makes
# `nvr verify` fail saying what. Then both cameras into one folder with
# one manifest, and the audit log records every export. Last, a camera
# with G.711 audio: refused into .mp4, exported into .mov.
. "$NVR_TEST_LIB"

GOP_S=2 # camsim: --gop defaults to 2 * fps
mkdir -p "$T/control"
start_camsim cam --mount gate --mount yard --control "$T/control"
cfg="$T/nvr.ini"
write_config "$cfg" "$T/storage" 60
add_camera "$cfg" gate "rtsp://127.0.0.1:$CAMSIM_PORT/gate"
add_camera "$cfg" yard "rtsp://127.0.0.1:$CAMSIM_PORT/yard"
db="$T/storage/catalog.db"
start_nvr "$cfg" nvr
wait_for 20 state_is "$cfg" gate recording || fail "gate not recording"
wait_for 20 state_is "$cfg" yard recording || fail "yard not recording"

# The first segment closes after 60 s; take the camera down a few seconds
# into the second one.
gate_closed_one() { [ "$(segment_count "$db" gate 1)" -ge 1 ]; }
wait_for 90 gate_closed_one || fail "no closed segment after 90 s"
record_for "$cfg" 6 gate
touch "$T/control/gate.down"
not_recording() { ! state_is "$cfg" gate recording; }
wait_for 20 not_recording || fail "gate still recording while down"
wait_for 20 no_frame_for "$cfg" gate 4 || fail "gate recorded while down"
rm "$T/control/gate.down"
wait_for 20 state_is "$cfg" gate recording || fail "gate did not come back"
# Record until the segment after the outage has closed as well: about
# three minutes in all, three full segment files around the gap.
gate_closed_three() { [ "$(segment_count "$db" gate 1)" -ge 3 ]; }
wait_for 90 gate_closed_three || fail "the third segment did not close"
record_for "$cfg" 3 gate
stop_nvr

"$NVR" recordings -c "$cfg" --camera gate --json >"$T/rec.json"
jq -e '(.segments | length) >= 3 and (.gaps | length) >= 1' "$T/rec.json" >/dev/null ||
    fail "expected 3 segments and a gap: $(cat "$T/rec.json")"
s0_start=$(jq '.segments[0].start_us' "$T/rec.json")
s0_end=$(jq '.segments[0].end_us' "$T/rec.json")
s2_start=$(jq '.segments[2].start_us' "$T/rec.json")
s2_end=$(jq '.segments[2].end_us' "$T/rec.json")
gap_us=$(jq '.gaps[0].end_us - .gaps[0].start_us' "$T/rec.json")
# From 10.3 s before the end of the first segment (inside a GOP, not on a
# keyframe) to 5 s into the third.
from_us=$((s0_end - 10300000))
to_us=$((s2_start + 5000000))
[ "$to_us" -lt "$s2_end" ] || fail "third segment too short"
iso() { date -u -d "@$(($1 / 1000000)).$(printf %06d $(($1 % 1000000)))" +%Y-%m-%dT%H:%M:%S.%6NZ; }
from=$(iso "$from_us")
to=$(iso "$to_us")

mkdir "$T/out"
"$NVR" export -c "$cfg" --camera gate --from "$from" --to "$to" \
    --reason "Incident 2026/117, PC 4711" -o "$T/out/clip.mp4" --json >"$T/export.json" 2>"$T/export.err" ||
    fail "export failed: $(cat "$T/export.err")"
[ ! -s "$T/export.err" ] || fail "progress or noise on stderr without a terminal: $(cat "$T/export.err")"
clip="$T/out/clip.mp4"
man="$T/out/clip.manifest.json"
[ -f "$clip" ] && [ -f "$clip.sha256" ] && [ -f "$man" ] || fail "missing outputs: $(ls "$T/out")"
ok "exported $(jq -c '.clips[0] | [.frames, .segments, .gaps, .actual_from]' "$T/export.json")"

# ffprobe reads it; video from a keyframe; a wall-clock subtitle track.
ffprobe -v error -show_entries stream=codec_type,codec_name -of csv=p=0 "$clip" >"$T/streams.txt" ||
    fail "ffprobe cannot read the clip"
grep -q '^h264,video' "$T/streams.txt" || fail "no h264 video: $(cat "$T/streams.txt")"
grep -q '^mov_text,subtitle' "$T/streams.txt" || fail "no timed text track: $(cat "$T/streams.txt")"
first_key=$(ffprobe -v error -select_streams v:0 -show_entries packet=flags -of csv=p=0 -read_intervals '%+#1' "$clip")
case "$first_key" in K*) ;; *) fail "first packet is not a keyframe: $first_key" ;; esac
ffprobe -v error -show_entries format_tags=creation_time -of csv=p=0 "$clip" | grep -q '^20' ||
    fail "no creation_time"
ffmpeg -v error -i "$clip" -map 0:s -f srt - >"$T/clock.srt" || fail "cannot read the subtitle track"
grep -q 'NO RECORDING' "$T/clock.srt" || fail "the gap is not shown in the clock track"
# Regular MP4 with the index first (faststart), not fragmented.
head -c 64 "$clip" | grep -q moov || fail "moov is not at the start"
! grep -q moof "$clip" || fail "the clip is fragmented"
ok "ffprobe: $(tr '\n' ' ' <"$T/streams.txt")"

# Duration: the requested range, plus at most one GOP before --from (the
# keyframe), the gap kept at its real length inside it.
dur=$(ffprobe_duration "$clip")
req_s=$(echo "($to_us - $from_us) / 1000000" | bc -l)
echo "$dur >= $req_s - 0.2 && $dur <= $req_s + $GOP_S + 0.2" | bc -l | grep -q 1 ||
    fail "duration $dur s, requested $req_s s (GOP $GOP_S s, gap $((gap_us / 1000)) ms)"
ok "duration $dur s for a requested $req_s s (gap $((gap_us / 1000)) ms kept)"

# The manifest: exact ranges, three sources with their catalog hashes, the gap.
jq -e --argjson f "$from_us" --argjson t "$to_us" \
    '.requested_from_us == $f and .requested_to_us == $t and .reason == "Incident 2026/117, PC 4711"
     and (.clips[0].actual_from_us <= $f) and ($f - .clips[0].actual_from_us <= 2000000)
     and (.clips[0].segments | length) == 3
     and all(.clips[0].segments[]; .sha256_verified == true and (.sha256 | length) == 64)
     and (.clips[0].gaps | length) == 1 and .exported_by != "" and .host != "" and .nvr_version != ""
     and (.requested_from_local | length) > 0 and (.clips[0].audit_hash | length) == 64' "$man" >/dev/null ||
    fail "manifest content: $(cat "$man")"
for p in $(jq -r '.clips[0].segments[].path' "$man"); do
    want=$(sqlite3 "$db" "select sha256 from segments where path = '$p'")
    jq -e --arg p "$p" --arg h "$want" '.clips[0].segments[] | select(.path == $p) | .sha256 == $h' "$man" >/dev/null ||
        fail "segment $p: manifest hash differs from the catalog"
done
jq -e --argjson a "$(jq '.gaps[0].start_us' "$T/rec.json")" '.clips[0].gaps[0].start_us - $a | fabs < 1000000' "$man" >/dev/null ||
    fail "gap in manifest $(jq -c '.clips[0].gaps' "$man") vs recordings $(jq -c '.gaps[0]' "$T/rec.json")"
ok "manifest: 3 segments with catalog hashes, 1 gap, requested and actual ranges"

(cd "$T/out" && sha256sum -c clip.mp4.sha256) >/dev/null || fail "sha256sum -c failed"
"$NVR" verify "$clip" >"$T/verify.txt" || fail "nvr verify failed: $(cat "$T/verify.txt")"
"$NVR" verify -c "$cfg" "$clip" >"$T/verify.txt" || fail "nvr verify -c failed: $(cat "$T/verify.txt")"
# The recipient's own check of the manifest hash, with standard tools.
recorded=$(jq -r .manifest_sha256 "$man")
computed=$(sed "s/\"manifest_sha256\": \"$recorded\"/\"manifest_sha256\": \"$(printf '0%.0s' $(seq 64))\"/" "$man" | sha256sum | cut -d' ' -f1)
[ "$recorded" = "$computed" ] || fail "manifest_sha256 not reproducible with sed + sha256sum"
ok "sha256sum -c, nvr verify (with and without the audit log) and the manifest rule pass"

# Flip one byte in the middle of the clip.
cp "$clip" "$T/orig.mp4"
size=$(stat -c %s "$clip")
off=$((size / 2))
b=$(dd if="$clip" bs=1 skip=$off count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
printf "$(printf '\\%03o' $(((b + 1) % 256)))" | dd of="$clip" bs=1 seek=$off conv=notrunc 2>/dev/null
rc=0
"$NVR" verify "$clip" >"$T/verify.txt" || rc=$?
[ "$rc" = 1 ] || fail "nvr verify exit $rc after a flipped byte"
grep -q "SHA-256 is .* but .*clip.mp4.sha256 says" "$T/verify.txt" || fail "message: $(cat "$T/verify.txt")"
grep -q "clip.manifest.json gives the clip's SHA-256" "$T/verify.txt" || fail "message: $(cat "$T/verify.txt")"
! (cd "$T/out" && sha256sum -c clip.mp4.sha256 >/dev/null 2>&1) || fail "sha256sum -c passed a changed clip"
ok "flipped byte: $(sed -n 2p "$T/verify.txt")"
cp "$T/orig.mp4" "$clip"
"$NVR" verify "$clip" >/dev/null || fail "restored clip does not verify"

# Edit the manifest (the reason), leaving the clip alone.
cp "$man" "$T/orig.json"
sed -i 's/PC 4711/PC 4712/' "$man"
rc=0
"$NVR" verify "$clip" --json >"$T/verify.json" || rc=$?
[ "$rc" = 1 ] || fail "nvr verify exit $rc after editing the manifest"
jq -e '.ok == false and (.clips[0].problems | length) == 1 and (.clips[0].problems[0] | test("edited after export"))' \
    "$T/verify.json" >/dev/null || fail "message: $(cat "$T/verify.json")"
ok "edited manifest: $(jq -r '.clips[0].problems[0]' "$T/verify.json" | cut -c1-90)..."
cp "$T/orig.json" "$man"
# An edited manifest whose self-hash was recomputed still fails on the clip hash.
sed -i "s/$(jq -r '.clips[0].sha256' "$man")/$(printf 'a%.0s' $(seq 64))/" "$man"
rc=0
"$NVR" verify "$clip" >"$T/verify.txt" || rc=$?
[ "$rc" = 1 ] || fail "nvr verify passed a manifest naming another hash"
cp "$T/orig.json" "$man"

# The output must not be overwritten.
rc=0
"$NVR" export -c "$cfg" --camera gate --from "$from" --to "$to" --reason again -o "$clip" 2>"$T/again.err" || rc=$?
[ "$rc" = 1 ] && grep -q "already exists" "$T/again.err" || fail "export over an existing clip: rc $rc $(cat "$T/again.err")"
cmp -s "$clip" "$T/orig.mp4" || fail "existing clip changed"

# Two cameras into one folder with one manifest.
"$NVR" export -c "$cfg" --camera gate --camera yard --from "$from" --to "$to" \
    --reason "SAR 2026-044" -o "$T/both" >"$T/both.txt" 2>&1 || fail "multi-camera export: $(cat "$T/both.txt")"
[ -f "$T/both/gate.mp4" ] && [ -f "$T/both/yard.mp4" ] && [ -f "$T/both/manifest.json" ] ||
    fail "multi-camera outputs: $(ls "$T/both")"
jq -e '(.clips | length) == 2 and (.clips[1].gaps | length) == 0 and .clips[1].camera == "yard"' "$T/both/manifest.json" >/dev/null ||
    fail "multi manifest: $(jq -c '.clips[] | [.camera, (.gaps|length)]' "$T/both/manifest.json")"
(cd "$T/both" && sha256sum -c gate.mp4.sha256 yard.mp4.sha256) >/dev/null || fail "sha256sum -c (folder)"
"$NVR" verify "$T/both/gate.mp4" "$T/both/yard.mp4" >"$T/verify.txt" || fail "verify folder: $(cat "$T/verify.txt")"
ok "two cameras, one manifest: $(ls "$T/both" | tr '\n' ' ')"

# The audit log records each export (who, what, why) and verifies.
"$NVR" audit -c "$cfg" --json >"$T/audit.json"
jq -e '[.entries[] | select(.kind == "export")] | length == 3' "$T/audit.json" >/dev/null ||
    fail "audit export entries: $(jq -c '[.entries[] | .kind]' "$T/audit.json")"
jq -e --arg h "$(jq -r '.clips[0].audit_hash' "$man")" \
    '.entries[] | select(.hash == $h) | .camera == "gate" and (.detail | test("Incident 2026/117"))' \
    "$T/audit.json" >/dev/null || fail "the manifest's audit hash is not the export entry"
"$NVR" audit -c "$cfg" --verify >/dev/null || fail "audit log does not verify"
ok "audit: $(jq -c '[.entries[] | .kind]' "$T/audit.json")"

# Audio: a camera whose segments carry G.711 A-law next to H.264 (made
# with the ffmpeg command as fragmented QuickTime, as the recorder writes
# them) is catalogued beside gate. MP4 cannot hold A-law: -o .mp4 is
# refused naming the camera and codec, -o .mov is remuxed with its audio
# and verifies, and a folder export names that clip .mov, gate's .mp4.
door_dir="$T/storage/door"
mkdir -p "$door_dir"
sqlite3 "$db" "insert into cameras(name, created_us) values ('door', 0)"
door_id=$(sqlite3 "$db" "select id from cameras where name = 'door'")
for i in 0 1; do
    f="$door_dir/s$i.mov"
    ffmpeg -nostdin -v error -y -f lavfi -i testsrc=size=160x120:rate=25 \
        -f lavfi -i "sine=frequency=440:sample_rate=8000" -t 4 -c:v libx264 -g 25 -bf 0 \
        -c:a pcm_alaw -movflags frag_keyframe+empty_moov+default_base_moof -f mov "$f" ||
        fail "ffmpeg cannot make an A-law segment"
    start=$((from_us - 2000000 + i * 4000000))
    sqlite3 "$db" "insert into segments(camera_id, start_us, end_us, path, bytes, frames, codec, width, height, sha256, status)
        values ($door_id, $start, $((start + 4000000)), 'door/s$i.mov', $(stat -c %s "$f"), 100, 'h264', 160, 120,
        '$(sha256sum "$f" | cut -d' ' -f1)', 1)"
done
rc=0
"$NVR" export -c "$cfg" --camera door --from "$from" --to "$to" --reason "audio" -o "$T/out/door.mp4" 2>"$T/door.err" || rc=$?
[ "$rc" != 0 ] && grep -q "door.*pcm_alaw.*\.mov" "$T/door.err" || fail "A-law into .mp4: rc $rc $(cat "$T/door.err")"
[ ! -e "$T/out/door.mp4" ] || fail "a refused .mp4 was left behind"
"$NVR" export -c "$cfg" --camera door --from "$from" --to "$to" --reason "audio" -o "$T/out/door.mov" >/dev/null 2>"$T/door.err" ||
    fail "A-law into .mov: $(cat "$T/door.err")"
ffprobe -v error -show_entries stream=codec_type,codec_name -of csv=p=0 "$T/out/door.mov" >"$T/door.txt"
grep -q '^h264,video' "$T/door.txt" && grep -q '^pcm_alaw,audio' "$T/door.txt" && grep -q ',subtitle' "$T/door.txt" ||
    fail "door.mov streams: $(tr '\n' ' ' <"$T/door.txt")"
(cd "$T/out" && sha256sum -c door.mov.sha256) >/dev/null || fail "sha256sum -c door.mov"
"$NVR" verify "$T/out/door.mov" >"$T/verify.txt" || fail "verify door.mov: $(cat "$T/verify.txt")"
jq -e '.clips[0].container == "mov" and .clips[0].audio[0].codec == "pcm_alaw" and .clips[0].audio_packets > 0' \
    "$T/out/door.manifest.json" >/dev/null || fail "door manifest: $(jq -c '.clips[0] | [.container, .audio]' "$T/out/door.manifest.json")"
"$NVR" export -c "$cfg" --camera gate --camera door --from "$from" --to "$to" \
    --reason "SAR audio" -o "$T/both2" >"$T/both2.txt" 2>&1 || fail "folder export with audio: $(cat "$T/both2.txt")"
[ -f "$T/both2/gate.mp4" ] && [ -f "$T/both2/door.mov" ] || fail "folder names: $(ls "$T/both2")"
"$NVR" verify "$T/both2/gate.mp4" "$T/both2/door.mov" >"$T/verify.txt" || fail "verify folder: $(cat "$T/verify.txt")"
rc=0
"$NVR" export -c "$cfg" --camera gate --from "$from" --to "$to" --reason x -o "$T/out/clip.avi" 2>"$T/avi.err" || rc=$?
[ "$rc" = 2 ] && grep -q "\.mp4 or \.mov" "$T/avi.err" || fail "-o clip.avi: rc $rc $(cat "$T/avi.err")"
ok "audio: A-law refused in .mp4, remuxed into .mov (verifies), folder names door.mov and gate.mp4"
