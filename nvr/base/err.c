/* SPDX-License-Identifier: MIT */
/*
 * nvr_strerror(): one place that turns any negative error code into text.
 */
#include "config.h"
#include "nvr/base/err.h"

#include <errno.h>
#include <string.h>

const char *nvr_strerror(int err)
{
    if (err == 0)
        return "success";
    if (err > 0)
        err = -err;
    switch (err) {
    case -EAGAIN:
        return "need more input";
    case -EBADMSG:
        return "malformed message";
    case -EPROTO:
        return "protocol error";
    case -ETIMEDOUT:
        return "timed out";
    case -ECONNRESET:
        return "connection reset";
    case -ECONNREFUSED:
        return "connection refused";
    case -ECANCELED:
        return "cancelled";
    case -EMSGSIZE:
        return "message too long";
    case -EACCES:
        /* Files and sockets, not only cameras, refuse with EACCES: a
         * refused password is said by the RTSP session itself. */
        return "permission denied";
    case -ENOSPC:
        return "no space left on device";
    default:
        break;
    }
    /* strerror() is not thread-safe on every libc, but glibc returns static
     * strings for known codes, which is all we pass it. */
    return strerror(-err);
}
