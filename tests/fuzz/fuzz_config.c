/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the config parser from a string: any bytes must give either a
 * config or -EINVAL with a terminated message, never a crash, leak or an
 * out-of-bounds access. Successful configs are checked for their
 * invariants (camera names valid, defaults within range).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nvr/nvr_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nvr_config *cfg = NULL;
    char err[1024];
    int rc;

    rc = nvr_config_parse((const char *)data, size, "fuzz.ini", &cfg, err,
                          sizeof(err));
    if (rc < 0) {
        if (cfg || strnlen(err, sizeof(err)) == sizeof(err))
            abort();
        return 0;
    }
    if (!cfg || cfg->storage_path[0] == '\0' || cfg->segment_seconds < 2 ||
        cfg->segment_seconds > 3600 || cfg->n_cameras > NVR_CONFIG_MAX_CAMERAS)
        abort();
    for (int i = 0; i < cfg->n_cameras; i++) {
        const struct nvr_camera_config *c = &cfg->cameras[i];

        if (c->name[0] == '\0' || strncmp(c->url, "rtsp://", 7) != 0 ||
            c->retain_days < 1 || c->max_bytes < 0)
            abort();
    }
    nvr_config_free(cfg);
    return 0;
}
