/* SPDX-License-Identifier: MIT */
/*
 * The operators' listening socket of nvr run ([access] socket): made
 * safely on the main thread before the sandbox, which denies bind() and
 * listen() afterwards. nvr/ipc_server.c serves it.
 */
#ifndef NVR_IPC_SOCKET_H
#define NVR_IPC_SOCKET_H

#include "nvr/base/compiler.h"
#include "nvr/nvr_config.h"

/*
 * Binds a Unix stream socket at cfg->socket_path into *out (non-blocking,
 * close-on-exec; listen() is left to the caller). What is at the path
 * first: nothing, or a stale socket nobody answers on, which is removed;
 * a socket someone answers on is -EADDRINUSE, anything else -EEXIST, and
 * both are left alone. The file is created 0600 and then gets group
 * cfg->socket_group (else the process's) and mode 0660. A missing folder
 * is -ENOENT. Every failure is logged naming the path and what to do.
 * Changes the umask for the bind: main thread, before other threads.
 */
NVR_NODISCARD int ipc_socket_listen(const struct nvr_config *cfg, int *out);

#endif
