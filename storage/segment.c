/* SPDX-License-Identifier: MIT */
/* Not implemented yet. */
#include "config.h"
#include "nvr/base/compiler.h"
