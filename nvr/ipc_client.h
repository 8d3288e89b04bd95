/* SPDX-License-Identifier: MIT */
/*
 * The operator's side of the recorder's socket (nvr/ipc_proto.h): nvr
 * status, recordings and audit ask the running recorder, which checks the
 * caller's rights, writes the audit entry and renders the answer. Blocking
 * I/O with a deadline per read; command-line threads only.
 */
#ifndef NVR_IPC_CLIENT_H
#define NVR_IPC_CLIENT_H

#include <stdint.h>
#include <stdio.h>

#include "nvr/base/compiler.h"
#include "nvr/cmd.h"
#include "nvr/nvr_config.h"

#define IPC_CLIENT_TIMEOUT_MS 60000 /* longest wait for one frame */

/*
 * Sends request `type` (IPC_MSG_STATUS, _RECORDINGS, _AUDIT) with q's
 * fields to the recorder at cfg's socket and copies the answer to out and
 * err. Returns the command's exit status (>= 0), or -ENOTCONN when no
 * recorder answers there (no socket, or a stale one): the caller then
 * reads the storage itself. A socket the caller may not connect to, a
 * recorder of another protocol version or a broken answer is reported on
 * err naming the path and gives NVR_EXIT_FAILURE. `cmd` names the command
 * in messages.
 */
NVR_NODISCARD int ipc_client_request(const struct nvr_config *cfg,
                                     const char *cmd, uint8_t type,
                                     const struct cmd_query *q, FILE *out,
                                     FILE *err);

#endif
