#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# rtpwatch: a minimal RTSP/TCP-interleaved client that plays every track of
# a URL for some seconds and prints one JSON summary of the RTP headers it
# saw, per track: packets, the SSRCs in order of appearance (with the first
# sequence number and timestamp of each), sequence numbers lost within an
# SSRC, and the longest silence. test_camsim.sh uses it to check camsim's
# .reboot / .stall / .drop control files, which ffprobe cannot see.
# On stderr it says "rtpwatch: playing" once every track has a packet and
# "rtpwatch: silent" once none has had one for SILENT_S, so that the test
# can act on what the stream did rather than after a fixed time.
#
#   rtpwatch.py URL SECONDS
#
# 127.0.0.1 only; no authentication.
import json
import re
import socket
import sys
import time

MAX_HEADER_BYTES = 65536
MAX_TRACKS = 8
SILENT_S = 1.6  # test_camsim's .stall wants at least 1.5 s of silence


def fail(msg):
    print("rtpwatch: " + msg, file=sys.stderr)
    sys.exit(1)


class Conn:
    def __init__(self, url):
        m = re.match(r"rtsp://(127\.0\.0\.1):(\d+)(/.*)$", url)
        if not m:
            fail("URL must be rtsp://127.0.0.1:PORT/PATH")
        self.url = url
        self.sock = socket.create_connection((m.group(1), int(m.group(2))), 10)
        self.buf = b""
        self.cseq = 0
        self.session = None

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def request(self, method, url, headers=()):
        self.cseq += 1
        lines = ["%s %s RTSP/1.0" % (method, url), "CSeq: %d" % self.cseq]
        if self.session:
            lines.append("Session: " + self.session)
        lines += list(headers)
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        while True:
            # Interleaved data may precede the reply once PLAY started.
            while self.buf[:1] == b"$":
                if len(self.buf) < 4:
                    self.fill()
                    continue
                n = int.from_bytes(self.buf[2:4], "big")
                while len(self.buf) < 4 + n:
                    self.fill()
                self.buf = self.buf[4 + n:]
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(self.buf) > MAX_HEADER_BYTES:
                fail("reply header too long")
            self.fill()
        head = self.buf[:end].decode("latin-1")
        self.buf = self.buf[end + 4:]
        hdrs = {}
        for line in head.split("\r\n")[1:]:
            k, _, v = line.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        body = b""
        n = int(hdrs.get("content-length", "0"))
        while len(self.buf) < n:
            self.fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        status = int(head.split(" ")[1])
        if status != 200:
            fail("%s: %s" % (method, head.split("\r\n")[0]))
        if "session" in hdrs:
            self.session = hdrs["session"].split(";")[0]
        return hdrs, body.decode("latin-1")


def controls(base, sdp):
    out = []
    for part in sdp.split("\nm=")[1:]:
        m = re.search(r"^a=control:(\S+)", part, re.M)
        if not m:
            continue
        c = m.group(1)
        out.append(c if c.startswith("rtsp://") else base.rstrip("/") + "/" + c)
    return out[:MAX_TRACKS]


def main():
    if len(sys.argv) != 3:
        fail("usage: rtpwatch.py URL SECONDS")
    url, seconds = sys.argv[1], float(sys.argv[2])
    c = Conn(url)
    hdrs, sdp = c.request("DESCRIBE", url, ["Accept: application/sdp"])
    base = hdrs.get("content-base", url)
    tracks = controls(base, sdp)
    if not tracks:
        fail("no tracks in the SDP")
    for i, t in enumerate(tracks):
        c.request("SETUP", t, ["Transport: RTP/AVP/TCP;unicast;interleaved=%d-%d"
                               % (2 * i, 2 * i + 1)])
    c.request("PLAY", base, ["Range: npt=0.000-"])

    stats = [{"packets": 0, "ssrcs": [], "lost": 0, "max_silence_s": 0.0}
             for _ in tracks]
    last = [None] * len(tracks)  # (ssrc, seq, arrival)
    start = time.monotonic()
    said_playing = said_silent = False
    c.sock.settimeout(0.1)
    while time.monotonic() - start < seconds:
        if said_playing and not said_silent and \
                time.monotonic() - max(l[2] for l in last) >= SILENT_S:
            print("rtpwatch: silent", file=sys.stderr, flush=True)
            said_silent = True
        try:
            if len(c.buf) < 4:
                c.fill()
                continue
            if c.buf[:1] != b"$":
                # An RTSP message from the server (none expected): skip it.
                end = c.buf.find(b"\r\n\r\n")
                if end < 0:
                    c.fill()
                    continue
                c.buf = c.buf[end + 4:]
                continue
            ch = c.buf[1]
            n = int.from_bytes(c.buf[2:4], "big")
            while len(c.buf) < 4 + n:
                c.fill()
            pkt, c.buf = c.buf[4:4 + n], c.buf[4 + n:]
        except socket.timeout:
            continue
        if ch % 2 or ch // 2 >= len(tracks) or len(pkt) < 12:
            continue
        tr = ch // 2
        now = time.monotonic()
        seq = int.from_bytes(pkt[2:4], "big")
        ts = int.from_bytes(pkt[4:8], "big")
        ssrc = int.from_bytes(pkt[8:12], "big")
        s = stats[tr]
        s["packets"] += 1
        prev = last[tr]
        if prev is None or prev[0] != ssrc:
            # The first payload byte (H.264: NAL type 24 STAP-A carries the
            # parameter sets that open a keyframe).
            s["ssrcs"].append({"ssrc": "%08x" % ssrc, "first_seq": seq,
                               "first_ts": ts,
                               "prev_seq": prev[1] if prev else None,
                               "first_byte": pkt[12] if len(pkt) > 12 else None})
        else:
            s["lost"] += (seq - prev[1] - 1) & 0xFFFF
        if prev is not None:
            s["max_silence_s"] = max(s["max_silence_s"], round(now - prev[2], 3))
        last[tr] = (ssrc, seq, now)
        if not said_playing and all(l is not None for l in last):
            print("rtpwatch: playing", file=sys.stderr, flush=True)
            said_playing = True
    print(json.dumps({"tracks": stats}))


if __name__ == "__main__":
    try:
        main()
    except (OSError, EOFError) as e:
        fail(str(e))
