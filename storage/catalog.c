/* SPDX-License-Identifier: MIT */
/* Not implemented yet. */
#include "config.h"
#include "storage/catalog.h"
