/* SPDX-License-Identifier: MIT */
/*
 * Small compiler helpers shared by every folder: attributes, container_of
 * and array sizes. Nothing here allocates or logs.
 */
#ifndef NVR_BASE_COMPILER_H
#define NVR_BASE_COMPILER_H

#include <stddef.h>

#define NVR_NODISCARD     __attribute__((warn_unused_result))
#define NVR_PRINTF(f, a)  __attribute__((format(printf, f, a)))
#define NVR_UNUSED        __attribute__((unused))
#define NVR_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Recovers the struct that embeds `ptr` as its field `member`. */
#define nvr_container_of(ptr, type, member) \
    ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#define NVR_MIN(a, b) ((a) < (b) ? (a) : (b))
#define NVR_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
