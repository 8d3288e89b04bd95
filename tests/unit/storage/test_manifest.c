/* SPDX-License-Identifier: MIT */
/*
 * Tests of storage/manifest.c's reading side (the writing side is tested
 * through export in test_export.c): the manifest's name, its self-hash,
 * sidecar lines, and finding a clip's entry, also under the spelling of
 * names that manifests written before the shared JSON writer used.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "storage/manifest.h"

#define HEX_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEX_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ZEROS "0000000000000000000000000000000000000000000000000000000000000000"

/* A manifest listing one clip under the given JSON spelling of its name,
 * with a correct self-hash. Returns owned text. */
static char *manifest_text(const char *quoted_name)
{
    char *text = malloc(4096), computed[65], recorded[65], *p;

    assert_non_null(text);
    snprintf(text, 4096,
             "{\n  \"clips\": [\n    {\n      \"file\": %s,\n"
             "      \"sha256\": \"" HEX_A "\",\n      \"bytes\": 1234,\n"
             "      \"audit_hash\": \"" HEX_B "\"\n    }\n  ],\n"
             "  \"manifest_sha256\": \"" ZEROS "\"\n}\n",
             quoted_name);
    assert_int_equal(manifest_hash(text, strlen(text), computed, recorded), 0);
    assert_string_equal(recorded, ZEROS);
    p = strstr(text, ZEROS);
    memcpy(p, computed, 64);
    return text;
}

static void test_manifest_path(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(manifest_path("a/clip.mp4", out, sizeof(out)), 0);
    assert_string_equal(out, "a/clip.manifest.json");
    assert_int_equal(manifest_path("a.b/clip", out, sizeof(out)), 0);
    assert_string_equal(out, "a.b/clip.manifest.json");
    assert_int_equal(manifest_path("a/clip.mp4", out, 8), -ENAMETOOLONG);
}

static void test_manifest_sidecar(void **state)
{
    struct manifest_sidecar sc;
    const char *line = HEX_A "  clip.mp4\n";
    const char *binary = HEX_A " *clip.mov\n";

    (void)state;
    assert_int_equal(manifest_parse_sidecar(line, strlen(line), &sc), 0);
    assert_string_equal(sc.sha256, HEX_A);
    assert_string_equal(sc.name, "clip.mp4");
    assert_int_equal(manifest_parse_sidecar(binary, strlen(binary), &sc), 0);
    assert_string_equal(sc.name, "clip.mov");
    assert_int_equal(manifest_parse_sidecar(line, 60, &sc), -EBADMSG);
    assert_int_equal(manifest_parse_sidecar(HEX_A "  \n", 67, &sc), -EBADMSG);
}

static void test_manifest_entry(void **state)
{
    struct manifest_entry m;
    char *text = manifest_text("\"clip.mp4\"");

    (void)state;
    assert_int_equal(manifest_parse(text, strlen(text), "clip.mp4", &m), 0);
    assert_true(m.has_self_hash);
    assert_string_equal(m.computed, m.recorded);
    assert_true(m.lists_clip);
    assert_true(m.has_sha256);
    assert_string_equal(m.sha256, HEX_A);
    assert_true(m.has_bytes);
    assert_int_equal(m.bytes, 1234);
    assert_string_equal(m.audit_hash, HEX_B);

    assert_int_equal(manifest_parse(text, strlen(text), "other.mp4", &m), 0);
    assert_false(m.lists_clip);
    assert_false(m.has_sha256);

    /* An edited byte breaks the self-hash. */
    text[3] ^= 1;
    assert_int_equal(manifest_parse(text, strlen(text), "clip.mp4", &m), 0);
    assert_string_not_equal(m.computed, m.recorded);
    free(text);
}

/* A name with a line feed: "\n" as the writer spells it now, "\u000a"
 * as manifests of earlier versions do. Both are found. */
static void test_manifest_entry_spellings(void **state)
{
    struct manifest_entry m;
    char *now = manifest_text("\"a\\nb.mp4\"");
    char *before = manifest_text("\"a\\u000ab.mp4\"");

    (void)state;
    assert_int_equal(manifest_parse(now, strlen(now), "a\nb.mp4", &m), 0);
    assert_true(m.lists_clip);
    assert_int_equal(m.bytes, 1234);
    assert_int_equal(manifest_parse(before, strlen(before), "a\nb.mp4", &m), 0);
    assert_true(m.lists_clip);
    assert_string_equal(m.sha256, HEX_A);
    free(now);
    free(before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manifest_path),
        cmocka_unit_test(test_manifest_sidecar),
        cmocka_unit_test(test_manifest_entry),
        cmocka_unit_test(test_manifest_entry_spellings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
