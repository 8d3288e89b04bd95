# SPDX-License-Identifier: MIT
# Segment checks shared by the issue-3 integration tests (test_codecs.sh,
# test_transport.sh, test_reboot.sh); sourced after lib.sh. Every check
# reads the segment files with ffprobe, as a user's player would.

# segment_paths CONFIG CAMERA: absolute paths of the camera's segments,
# oldest first, from 'nvr recordings --json'.
segment_paths() {
    local storage
    storage=$(sed -n 's/^path = //p' "$1" | head -n 1)
    "$NVR" recordings -c "$1" --camera "$2" --json |
        jq -r --arg s "$storage" '.segments | sort_by(.start_us) | .[] | "\($s)/\(.path)"'
}

# stream_field FILE SELECTOR FIELD: one field of the first stream of a
# type (v:0 or a:0); empty when there is none.
stream_field() {
    ffprobe -v error -select_streams "$2" -show_entries "stream=$3" \
        -of csv=p=0 "$1" 2>/dev/null | head -n 1 || true
}

# check_av_segment FILE VCODEC ACODEC|none [MAX_MS]: the segment plays in
# ffprobe (video packets, and audio packets when expected), holds the
# expected codecs, and audio and video start within MAX_MS (100 unless
# given) of each other.
check_av_segment() {
    local f=$1 vcodec=$2 acodec=$3 max_ms=${4:-100} name n v a vs as
    name=$(basename "$f")
    [ -f "$f" ] || fail "$name: missing"
    ffprobe -v error -show_entries format=duration -of csv=p=0 "$f" \
        >/dev/null 2>"$T/ffprobe.err" || fail "ffprobe cannot read $name: $(cat "$T/ffprobe.err")"
    v=$(stream_field "$f" v:0 codec_name)
    [ "$v" = "$vcodec" ] || fail "$name: video codec '$v', want $vcodec"
    n=$(ffprobe -v error -select_streams v:0 -count_packets \
        -show_entries stream=nb_read_packets -of csv=p=0 "$f") ||
        fail "$name: ffprobe cannot count its video packets"
    [ "${n:-0}" -gt 0 ] || fail "$name: no video packets"
    a=$(stream_field "$f" a:0 codec_name)
    if [ "$acodec" = none ]; then
        [ -z "$a" ] || fail "$name: unexpected audio track '$a'"
        return 0
    fi
    [ "$a" = "$acodec" ] || fail "$name: audio codec '${a:-none}', want $acodec"
    n=$(ffprobe -v error -select_streams a:0 -count_packets \
        -show_entries stream=nb_read_packets -of csv=p=0 "$f") ||
        fail "$name: ffprobe cannot count its audio packets"
    [ "${n:-0}" -gt 0 ] || fail "$name: audio track has no packets"
    vs=$(stream_field "$f" v:0 start_time)
    as=$(stream_field "$f" a:0 start_time)
    [ -n "$vs" ] && [ "$vs" != N/A ] && [ -n "$as" ] && [ "$as" != N/A ] ||
        fail "$name: no start times (video '$vs', audio '$as')"
    awk -v v="$vs" -v a="$as" -v m="$max_ms" 'BEGIN { d = v - a; if (d < 0) d = -d; exit !(d <= m / 1000) }' ||
        fail "$name: audio starts at $as s, video at $vs s (more than $max_ms ms apart)"
}

# check_monotonic FILE: in every stream, dts strictly increases and pts
# never goes back (these tests run camsim without --bframes; test_bframes
# checks B-frame streams).
check_monotonic() {
    local f=$1 bad
    # awk stops at the first fault, which ends ffprobe with SIGPIPE: the
    # pipeline's status would end the test under set -e before it says
    # what was wrong, so only awk's verdict counts.
    bad=$(ffprobe -v error -show_entries packet=stream_index,pts,dts \
        -of csv=p=0 "$f" |
        awk -F, '{
            s = $1
            if ((s in d) && $3 != "N/A" && $3 <= d[s]) {
                print "stream " s ": dts " $3 " after " d[s]; exit
            }
            if ((s in p) && $2 != "N/A" && $2 < p[s]) {
                print "stream " s ": pts " $2 " after " p[s]; exit
            }
            if ($3 != "N/A") d[s] = $3
            if ($2 != "N/A") p[s] = $2
        }' || true)
    [ -z "$bad" ] || fail "$(basename "$f"): timestamps not monotonic: $bad"
}
