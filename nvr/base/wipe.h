/* SPDX-License-Identifier: MIT */
/*
 * Wiping secrets (passwords, Digest state) before their memory is freed or
 * reused. A memset before free is a dead store the compiler may remove;
 * explicit_bzero is not.
 */
#ifndef NVR_BASE_WIPE_H
#define NVR_BASE_WIPE_H

#include <stddef.h>

/* Overwrites the n bytes at p with zeros, always. p NULL does nothing. */
void nvr_wipe(void *p, size_t n);

#endif
