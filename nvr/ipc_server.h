/* SPDX-License-Identifier: MIT */
/*
 * The recorder's side of the operators' socket (nvr/ipc_proto.h): a Unix
 * stream socket at [access] socket, mode 0660 with [access] socket_group,
 * served on a thread of its own with its own libuv loop, so no client can
 * ever hold up the cameras' loop. Each caller is identified by the kernel
 * (SO_PEERCRED), its groups resolved, and every request checked against
 * the [access] rules (nvr/access.h); allowed views and refusals alike are
 * written to the audit log with the kernel's identity.
 */
#ifndef NVR_IPC_SERVER_H
#define NVR_IPC_SERVER_H

#include "nvr/base/compiler.h"
#include "nvr/nvr_config.h"

#define IPC_SERVER_MAX_CLIENTS 32        /* connections served at once */
#define IPC_SERVER_IDLE_MS     30000     /* a client silent this long: closed */
#define IPC_SERVER_MAX_QUEUED  (8 << 20) /* bytes of answers not yet read */
#define IPC_SERVER_BACKLOG     16

struct ipc_server;

/*
 * Creates the listening socket at cfg->socket_path: a stale socket there
 * (nobody answers) is removed, anything else there is an error; the file
 * gets mode 0660 and group cfg->socket_group (else the recorder's). Sets
 * up the server's loop, but starts no thread: call it before the sandbox
 * (which then allows accept() on exactly this socket), and
 * ipc_server_start() after. Returns 0, or a negative errno after logging
 * what is wrong with the path and what to do. cfg and catalog_path are
 * borrowed for the server's life. Main thread.
 */
NVR_NODISCARD int ipc_server_new(const struct nvr_config *cfg,
                                 const char *catalog_path,
                                 struct ipc_server **out);

/* The listening descriptor, for the sandbox's accept() rule. */
int ipc_server_fd(const struct ipc_server *s);

/* Starts the server's thread. Returns 0 or a negative errno. */
NVR_NODISCARD int ipc_server_start(struct ipc_server *s);

/* Stops the thread, closes every connection and the socket, and removes
 * the socket file when the sandbox lets it. NULL does nothing. */
void ipc_server_free(struct ipc_server *s);

#endif
