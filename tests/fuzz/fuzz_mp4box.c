/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes storage/mp4box.c, which reads the box headers of segment files
 * recovery and export trust nothing about. The input is the file. Every
 * header parsed must lie inside the bytes, the prefix of complete boxes
 * must end on a box boundary inside them (never longer when the file is
 * still growing), and reading the same bytes from a file must give the
 * same prefix as reading them from memory.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "storage/mp4box.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Walks the boxes from the start: each must fit what is left. */
static void fuzz_walk(const uint8_t *data, size_t size)
{
    size_t off = 0;

    while (off < size) {
        struct mp4box box;
        size_t left = size - off;
        size_t len = left < MP4BOX_MAX_HEADER ? left : MP4BOX_MAX_HEADER;

        if (mp4box_parse(data + off, len, left, &box) < 0)
            break;
        if (box.size < (uint64_t)box.header_len || box.size > left ||
            (box.header_len != 8 && box.header_len != 16))
            abort();
        off += (size_t)box.size;
    }
}

/* The file-based scan sees what the in-memory one does. */
static void fuzz_file(const uint8_t *data, size_t size, size_t want)
{
    int fd = memfd_create("fuzz_mp4box", MFD_CLOEXEC);
    int64_t valid = -1;

    if (fd < 0)
        return;
    if (write(fd, data, size) == (ssize_t)size) {
        if (mp4box_complete_prefix(fd, (int64_t)size, 0, &valid) != 0 ||
            valid != (int64_t)want)
            abort();
    }
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t whole, growing;

    fuzz_walk(data, size);
    whole = mp4box_complete_prefix_buf(data, size, 0);
    growing = mp4box_complete_prefix_buf(data, size, MP4BOX_GROWING);
    if (whole > size || growing > whole)
        abort();
    /* A prefix that ends on a box boundary scans to itself. */
    if (mp4box_complete_prefix_buf(data, whole, 0) != whole)
        abort();
    if (size <= 4096)
        fuzz_file(data, size, whole);
    return 0;
}
