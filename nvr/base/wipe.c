/* SPDX-License-Identifier: MIT */
/*
 * nvr_wipe: explicit_bzero (glibc 2.25), which the optimiser keeps.
 */
#include "config.h"
#include "nvr/base/wipe.h"

#include <string.h>

void nvr_wipe(void *p, size_t n)
{
    if (p)
        explicit_bzero(p, n);
}
