/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes what `nvr verify` parses from outside: the .sha256 sidecar and
 * the export manifest (storage/manifest.c). The input is "sidecar NUL
 * manifest" when it holds a NUL byte (the manifest is then looked up for
 * the file the sidecar names), and otherwise is tried as both. Any bytes
 * must give a result or an error with terminated, well-formed fields,
 * never a crash or a read outside them.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hex64(const char *s)
{
    for (int i = 0; i < 64; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    }
    return s[64] == '\0';
}

static void check_manifest(const char *text, size_t len, const char *name)
{
    struct manifest_entry m;

    if (manifest_parse(text, len, name, &m) < 0)
        return;
    if (m.has_self_hash &&
        (!hex64(m.computed) ||
         (!hex64(m.recorded) && strcmp(m.recorded, "(not hexadecimal)") != 0)))
        abort();
    if (!m.lists_clip && (m.has_sha256 || m.has_bytes || m.audit_hash[0]))
        abort();
    if (m.has_sha256 && !hex64(m.sha256))
        abort();
    if (m.audit_hash[0] && !hex64(m.audit_hash))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nul = memchr(data, 0, size);
    struct manifest_sidecar sc;
    size_t side_len = nul ? (size_t)(nul - text) : size;
    const char *name = "clip.mp4";

    if (manifest_parse_sidecar(text, side_len, &sc) == 0) {
        if (!hex64(sc.sha256) || sc.name[0] == '\0' ||
            strnlen(sc.name, sizeof(sc.name)) == sizeof(sc.name) ||
            strpbrk(sc.name, "\r\n"))
            abort();
        name = sc.name;
    }
    if (nul)
        check_manifest(nul + 1, size - side_len - 1, name);
    else
        check_manifest(text, size, name);
    return 0;
}
