/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes rtcp_parse() on compound RTCP packets (RFC 3550 section 6), and
 * rebuilds a receiver report from what it found: counts stay within their
 * limits and the CNAME is a NUL-terminated string inside its field.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ingest/rtcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rtcp_info info;
    struct rtcp_report rep;
    uint8_t out[1500];

    if (rtcp_parse(data, size, &info) < 0)
        return 0;
    if (info.n_packets < 0 || info.n_bye < 0 || info.n_bye > RTCP_MAX_BYE ||
        info.n_rr < 0)
        __builtin_trap();
    if (info.has_cname && memchr(info.cname, '\0', sizeof(info.cname)) == NULL)
        __builtin_trap();
    (void)rtcp_ntp_to_unix_us(info.sr.ntp);
    memset(&rep, 0, sizeof(rep));
    rep.ssrc = info.sr.ssrc;
    rep.lsr = (uint32_t)(info.sr.ntp >> 16);
    (void)rtcp_build_rr(1, &rep, 1, info.has_cname ? info.cname : "nvr", out,
                        sizeof(out));
    return 0;
}
