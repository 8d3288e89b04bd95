/* SPDX-License-Identifier: MIT */
/*
 * rtsp:// URLs: parsing, and joining SDP control attributes to a base URL
 * the way LIVE555-derived cameras expect.
 */
#ifndef NVR_INGEST_RTSP_URL_H
#define NVR_INGEST_RTSP_URL_H

#include <stddef.h>
#include <stdint.h>

struct rtsp_url {
    char host[256]; /* without brackets for IPv6 literals */
    uint16_t port;  /* 554 when absent */
    char user[128]; /* percent-decoded; empty if none */
    char pass[128]; /* percent-decoded; empty if none */
    int has_userinfo;
    char path[1024]; /* from the first '/' on, query included; "/" if none */
};

/* Parses "rtsp://[user[:pass]@]host[:port][/path]". Returns 0 or -EINVAL. */
int rtsp_url_parse(const char *url, struct rtsp_url *out);

/*
 * Writes "rtsp://host:port/path" (no credentials) into out: the URL used on
 * the wire. Returns 0 or -EMSGSIZE.
 */
int rtsp_url_format(const struct rtsp_url *url, char *out, size_t out_size);

/*
 * Returns 1 if url starts with "rtsp://" or "rtsps://" (any case), else 0.
 *
 * Use it to choose the base for rtsp_url_join_control(): take Content-Base,
 * else Content-Location, else the DESCRIBE request URL, skipping any value
 * that is not absolute. Some LIVE555 builds (Anjvision) send a Content-Base
 * without the scheme ("192.168.1.10:554/stream0/"); such a value names the
 * same stream as the request URL, which carries the host and port we
 * actually reached, so the request URL is the right base.
 */
int rtsp_url_is_absolute(const char *url);

/*
 * Joins an SDP a=control value to base "the LIVE555 way": an absolute
 * rtsp:// control is used as is; "*" or empty means base; otherwise control
 * is appended to base with exactly one '/' between them (not RFC 3986
 * resolution), e.g. "rtsp://cam/x?channel=1/" + "trackID=0" gives
 * "rtsp://cam/x?channel=1/trackID=0". out must not overlap the inputs.
 * Returns 0 or -EMSGSIZE.
 */
int rtsp_url_join_control(const char *base, const char *control, char *out,
                          size_t out_size);

#endif
