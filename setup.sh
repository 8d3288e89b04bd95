#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Installs the Debian 12 packages nvr needs (only those missing), configures
# and builds it, then runs the demo or the full test suite.
#
#   ./setup.sh demo [nvr demo options]   build, then record simulated cameras
#   ./setup.sh test                      build, then run every test
#   ./setup.sh build                     install and build only
set -euo pipefail

cd "$(dirname "$0")"

PACKAGES=(
    # build
    build-essential meson ninja-build pkg-config clang-format
    # lint (the lint suite: clang-format, clang-tidy with run-clang-tidy)
    clang-tidy
    # libraries
    libuv1-dev libavformat-dev libavcodec-dev libavutil-dev libswscale-dev
    libsqlite3-dev libssl-dev libinih-dev libncurses-dev libchafa-dev
    libseccomp-dev
    # tests
    libcmocka-dev ffmpeg sqlite3 jq bc tmux procps psmisc tzdata
    strace iproute2 util-linux python3
    # the fault-injection soak (tests/bench/soak): an ext4 loop device
    e2fsprogs
    # a second RTSP server (VLC 3.0's, test_vlc) and an RTCP decoder
    vlc-bin vlc-plugin-base tcpdump
    # the simulated camera (GStreamer RTSP server, H.264 encoder, clock overlay)
    libglib2.0-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
    libgstrtspserver-1.0-dev gstreamer1.0-plugins-base
    gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
    gstreamer1.0-plugins-ugly gstreamer1.0-x
    # a second RTSP server for the integration suite (test_relay)
    rtsp-server-perl
)

install_missing() {
    local missing=()
    local p
    for p in "${PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
            grep -q 'install ok installed'; then
            missing+=("$p")
        fi
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        return
    fi
    echo "setup: installing ${missing[*]}"
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}

build() {
    if [ ! -f build/build.ninja ]; then
        meson setup build --buildtype=debugoptimized \
            -Dtests=enabled -Dintegration=enabled
    fi
    ninja -C build
}

mode=${1:-build}
[ $# -gt 0 ] && shift

install_missing
build

case "$mode" in
build) ;;
demo)
    exec ./build/nvr/nvr demo "$@"
    ;;
test)
    # Unit and fuzz-replay tests run in parallel; the integration suite
    # runs its tests one at a time (each starts cameras and recorders).
    rc=0
    meson test -C build --print-errorlogs --num-processes 2 "$@" || rc=$?
    # One plain closing line: "N passed, N failed, N skipped".
    jq -rs '[.[] | .result] as $r
        | "\($r | map(select(. == "OK" or . == "EXPECTEDFAIL")) | length) passed, "
        + "\($r | map(select(. != "OK" and . != "EXPECTEDFAIL" and . != "SKIP")) | length) failed, "
        + "\($r | map(select(. == "SKIP")) | length) skipped"' \
        build/meson-logs/testlog.json
    exit "$rc"
    ;;
*)
    echo "usage: $0 demo|test|build" >&2
    exit 2
    ;;
esac
