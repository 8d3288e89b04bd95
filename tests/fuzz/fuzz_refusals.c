/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes nvr_refusals_parse() on the refused counts of a catalog status
 * row ("name=count,..."; the catalog file may be damaged or edited): what
 * parses formats back into text that parses to the same counts.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nvr/base/refusal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nvr_refusals r, back;
    char out[NVR_REFUSAL_COUNT * 40];
    char *text = malloc(size + 1);

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (nvr_refusals_parse(text, &r) == 0) {
        if (nvr_refusals_format(&r, out, sizeof(out)) != 0)
            __builtin_trap();
        if (nvr_refusals_parse(out, &back) != 0 ||
            memcmp(&r, &back, sizeof(r)) != 0)
            __builtin_trap();
    }
    free(text);
    return 0;
}
