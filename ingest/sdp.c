/* SPDX-License-Identifier: MIT */
/* Not implemented yet. */
#include "config.h"
#include "ingest/sdp.h"
