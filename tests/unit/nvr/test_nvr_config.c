/* SPDX-License-Identifier: MIT */
/*
 * Tests of nvr/config.c: a full config, defaults, every kind of error with
 * its exact FILE:LINE, secrets kept out of messages, password files
 * (absolute and relative to the config), sizes and the default path.
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "nvr/nvr_config.h"
#include "storage/layout.h"

#define SECRET "s3cr3t-Pa55"

struct tmp {
    char dir[256];
};

static int setup_tmp(void **state)
{
    struct tmp *t = calloc(1, sizeof(*t));

    assert_non_null(t);
    snprintf(t->dir, sizeof(t->dir), "/tmp/nvr-test-config-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    *state = t;
    return 0;
}

static int teardown_tmp(void **state)
{
    struct tmp *t = *state;
    char cmd[512];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
    assert_int_equal(system(cmd), 0);
    free(t);
    return 0;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static void append(char *buf, size_t size, const char *s)
{
    size_t n = strlen(buf), m = strlen(s);

    assert_true(n + m < size);
    memcpy(buf + n, s, m + 1);
}

static struct nvr_config *parse_ok(const char *text)
{
    struct nvr_config *cfg = NULL;
    char err[4096];
    int rc =
        nvr_config_parse(text, strlen(text), "t.ini", &cfg, err, sizeof(err));

    if (rc != 0)
        fail_msg("rc %d: %s", rc, err);
    assert_non_null(cfg);
    return cfg;
}

/* Parses text that must fail and returns the messages. */
static const char *parse_bad(const char *text, char *err, size_t size)
{
    struct nvr_config *cfg = NULL;

    assert_int_equal(
        nvr_config_parse(text, strlen(text), "t.ini", &cfg, err, size),
        -EINVAL);
    assert_null(cfg);
    assert_null(strstr(err, SECRET));
    return err;
}

static void expect_error(const char *text, const char *want)
{
    char err[4096];

    parse_bad(text, err, sizeof(err));
    if (!strstr(err, want))
        fail_msg("wanted '%s' in:\n%s", want, err);
}

static void test_config_full(void **state)
{
    struct nvr_config *cfg =
        parse_ok("; nvr config\n"
                 "[storage]\n"
                 "path = /var/lib/nvr\n"
                 "segment_seconds = 120\n"
                 "min_free = 50G   ; or a percentage\n"
                 "\n"
                 "[network]\n"
                 "allow_dns = yes\n"
                 "\n"
                 "# the gate\n"
                 "[camera gate]\n"
                 "url = rtsp://127.0.0.1:554/Streaming/Channels/101\n"
                 "username = admin\n"
                 "password = " SECRET "\n"
                 "transport = udp\n"
                 "auth = Basic\n"
                 "retain_days = 7\n"
                 "max_bytes = 1.5T\n"
                 "enabled = false\n"
                 "allow_public = true\n"
                 "[camera yard-2.b_c]\n"
                 "url=rtsp://127.0.0.1/x\n"
                 "transport = auto\n"
                 "auth = any\n");

    assert_string_equal(cfg->path, "t.ini");
    assert_string_equal(cfg->storage_path, "/var/lib/nvr");
    assert_int_equal(cfg->segment_seconds, 120);
    assert_int_equal(cfg->min_free_is_percent, 0);
    assert_int_equal(cfg->min_free_bytes, 50LL << 30);
    assert_int_equal(cfg->allow_dns, 1);
    assert_int_equal(cfg->n_cameras, 2);

    const struct nvr_camera_config *c = &cfg->cameras[0];
    assert_string_equal(c->name, "gate");
    assert_int_equal(c->line, 11);
    assert_string_equal(c->url, "rtsp://127.0.0.1:554/Streaming/Channels/101");
    assert_string_equal(c->username, "admin");
    assert_string_equal(c->password, SECRET);
    assert_string_equal(c->password_file, "");
    assert_int_equal(c->transport, NVR_TRANSPORT_UDP);
    assert_int_equal(c->auth, NVR_AUTH_BASIC);
    assert_int_equal(c->retain_days, 7);
    assert_int_equal(c->max_bytes, 3LL << 39);
    assert_int_equal(c->enabled, 0);
    assert_int_equal(c->allow_public, 1);

    c = &cfg->cameras[1];
    assert_string_equal(c->name, "yard-2.b_c");
    assert_int_equal(c->line, 21);
    assert_string_equal(c->url, "rtsp://127.0.0.1/x");
    assert_int_equal(c->transport, NVR_TRANSPORT_AUTO);
    assert_int_equal(c->auth, NVR_AUTH_ANY);
    nvr_config_free(cfg);
}

static void test_config_defaults(void **state)
{
    struct nvr_config *cfg = parse_ok("[storage]\n"
                                      "path = /srv/nvr\n"
                                      "[camera gate]\n"
                                      "url = rtsp://127.0.0.1/live\n");
    const struct nvr_camera_config *c = &cfg->cameras[0];

    assert_int_equal(cfg->segment_seconds, 60);
    assert_int_equal(cfg->min_free_is_percent, 1);
    assert_true(cfg->min_free_percent == 5.0);
    assert_int_equal(cfg->allow_dns, 0);
    assert_int_equal(c->transport, NVR_TRANSPORT_AUTO);
    assert_int_equal(c->retain_days, 31);
    assert_int_equal(c->max_bytes, 0);
    assert_int_equal(c->enabled, 1);
    assert_int_equal(c->allow_public, 0);
    assert_string_equal(c->username, "");
    assert_string_equal(c->password, "");
    assert_string_equal(nvr_transport_name(c->transport), "auto");
    assert_int_equal(c->auth, NVR_AUTH_DIGEST);
    assert_string_equal(nvr_auth_name(c->auth), "digest");
    nvr_config_free(cfg);
    /* tcp alone stays available (cameras behind NAT). */
    cfg = parse_ok("[storage]\n"
                   "path = /srv/nvr\n"
                   "[camera gate]\n"
                   "url = rtsp://127.0.0.1/live\n"
                   "transport = TCP\n");
    assert_int_equal(cfg->cameras[0].transport, NVR_TRANSPORT_TCP);
    nvr_config_free(cfg);
}

static void test_config_no_cameras_is_valid(void **state)
{
    struct nvr_config *cfg = parse_ok("[storage]\npath = /srv/nvr\n");

    assert_int_equal(cfg->n_cameras, 0);
    nvr_config_free(cfg);
}

static void test_config_percent_and_syntax_variants(void **state)
{
    /* CRLF, a BOM, indentation, tabs, ':' as separator, inline comment. */
    struct nvr_config *cfg = parse_ok("\xef\xbb\xbf[storage]\r\n"
                                      "  path = /srv/nvr ; data\r\n"
                                      "\tmin_free: 2.5%\r\n"
                                      "[ camera   gate ]  ; a camera\r\n"
                                      "    url = rtsp://127.0.0.1/a;b\r\n"
                                      "    transport = TCP\r\n");

    assert_string_equal(cfg->storage_path, "/srv/nvr");
    assert_int_equal(cfg->min_free_is_percent, 1);
    assert_true(cfg->min_free_percent == 2.5);
    assert_string_equal(cfg->cameras[0].name, "gate");
    assert_int_equal(cfg->cameras[0].line, 4);
    /* ';' without whitespace before it is not a comment. */
    assert_string_equal(cfg->cameras[0].url, "rtsp://127.0.0.1/a;b");
    nvr_config_free(cfg);
}

static void test_config_long_camera_name(void **state)
{
    /* 63 bytes: inih itself would truncate the section to 50. */
    char name[64], text[512];
    struct nvr_config *cfg;

    memset(name, 'n', 63);
    name[63] = '\0';
    snprintf(text, sizeof(text),
             "[storage]\npath=/x\n[camera %s]\nurl=rtsp://127.0.0.1/\n", name);
    cfg = parse_ok(text);
    assert_string_equal(cfg->cameras[0].name, name);
    nvr_config_free(cfg);

    snprintf(text, sizeof(text),
             "[storage]\npath=/x\n[camera %sN]\nurl=rtsp://127.0.0.1/\n", name);
    expect_error(text, "t.ini:3: camera name '");
}

static void test_config_unknown_key_and_section(void **state)
{
    const char *text = "[storage]\n"
                       "path = /x\n"
                       "[camera gate]\n"
                       "url = rtsp://127.0.0.1/\n"
                       "foo = 1\n"
                       "[cameras]\n"
                       "bar = 2\n"
                       "[storage]\n"
                       "path = /y\n";
    char err[4096];

    parse_bad(text, err, sizeof(err));
    assert_non_null(strstr(err, "t.ini:5: unknown key 'foo' in [camera gate]"));
    assert_non_null(strstr(err, "t.ini:6: unknown section [cameras]"));
    assert_non_null(
        strstr(err, "t.ini:8: duplicate section [storage] (first at line 1)"));
    /* Keys of a rejected section are not reported one by one. */
    assert_null(strstr(err, "bar"));
    assert_null(strstr(err, ":9:"));
}

static void test_config_bad_values(void **state)
{
    const char *text = "[storage]\n"               /* 1 */
                       "path = /x\n"               /* 2 */
                       "segment_seconds = 1\n"     /* 3 */
                       "min_free = 100%\n"         /* 4 */
                       "[camera gate]\n"           /* 5 */
                       "url = rtsp://127.0.0.1/\n" /* 6 */
                       "transport = xyz\n"         /* 7 */
                       "retain_days = 36501\n"     /* 8 */
                       "max_bytes = -1\n"          /* 9 */
                       "enabled = maybe\n"         /* 10 */
                       "allow_public = 2\n"        /* 11 */
                       "[network]\n"               /* 12 */
                       "allow_dns = perhaps\n"     /* 13 */
                       "[camera yard]\n"           /* 14 */
                       "url = rtsp://127.0.0.1/\n" /* 15 */
                       "auth = ntlm\n";            /* 16 */
    char err[4096];

    parse_bad(text, err, sizeof(err));
    assert_non_null(strstr(err, "t.ini:3: key 'segment_seconds' in [storage]: "
                                "expected an integer from 2 to 3600, got '1'"));
    assert_non_null(strstr(err, "t.ini:4: key 'min_free' in [storage]: "));
    assert_non_null(strstr(err, "t.ini:7: key 'transport' in [camera gate]: "
                                "expected tcp, udp or auto, got 'xyz'"));
    assert_non_null(strstr(err, "t.ini:8: key 'retain_days' in [camera gate]: "
                                "expected an integer from 1 to 36500, got "
                                "'36501'"));
    assert_non_null(strstr(err, "t.ini:9: key 'max_bytes' in [camera gate]"));
    assert_non_null(strstr(err, "t.ini:10: key 'enabled' in [camera gate]: "
                                "expected true or false, got 'maybe'"));
    assert_non_null(strstr(err, "t.ini:11: key 'allow_public'"));
    assert_non_null(strstr(err, "t.ini:13: key 'allow_dns' in [network]"));
    assert_non_null(strstr(err, "t.ini:16: key 'auth' in [camera yard]: "
                                "expected digest, basic (sends the password "
                                "in clear text) or any, got 'ntlm'"));
}

static void test_config_url_rules(void **state)
{
    expect_error("[storage]\npath=/x\n[camera a]\nurl = http://127.0.0.1/\n",
                 "t.ini:4: key 'url' in [camera a]: must start with rtsp://");
    expect_error("[storage]\npath=/x\n[camera a]\nurl = rtsp://\n",
                 "t.ini:4: key 'url' in [camera a]");
    /* A url with credentials is never quoted back. */
    expect_error("[storage]\npath=/x\n[camera a]\n"
                 "url = rtsps://u:" SECRET "@127.0.0.1/\n",
                 "t.ini:4: key 'url'");
}

static void test_config_missing_required(void **state)
{
    const char *text = "\n"
                       "[storage]\n"
                       "segment_seconds = 10\n"
                       "[camera gate]\n"
                       "username = u\n"
                       "[camera yard]\n";
    char err[4096];

    parse_bad(text, err, sizeof(err));
    assert_non_null(
        strstr(err, "t.ini:2: [storage]: missing required key 'path'"));
    assert_non_null(
        strstr(err, "t.ini:4: [camera gate]: missing required key 'url'"));
    assert_non_null(
        strstr(err, "t.ini:6: [camera yard]: missing required key 'url'"));

    /* Sorted by line, though the section checks run later. */
    assert_true(strstr(err, "t.ini:2:") < strstr(err, "t.ini:4:"));
    assert_true(strstr(err, "t.ini:4:") < strstr(err, "t.ini:6:"));

    expect_error("[camera a]\nurl=rtsp://127.0.0.1/\n",
                 "t.ini: missing section [storage]");
    expect_error("", "t.ini: missing section [storage]");
}

static void test_config_duplicates(void **state)
{
    const char *text = "[storage]\n"                 /* 1 */
                       "path = /x\n"                 /* 2 */
                       "path = /y\n"                 /* 3 */
                       "[camera gate]\n"             /* 4 */
                       "url = rtsp://127.0.0.1/\n"   /* 5 */
                       "password = " SECRET "\n"     /* 6 */
                       "password = " SECRET "\n"     /* 7 */
                       "[camera gate]\n"             /* 8 */
                       "url = rtsp://127.0.0.1/2\n"; /* 9 */
    char err[4096];

    parse_bad(text, err, sizeof(err));
    assert_non_null(strstr(err, "t.ini:3: duplicate key 'path' in [storage] "
                                "(first at line 2)"));
    assert_non_null(strstr(err, "t.ini:7: duplicate key 'password' in "
                                "[camera gate] (first at line 6)"));
    assert_non_null(
        strstr(err, "t.ini:8: duplicate camera 'gate' (first at line 4)"));
}

static void test_config_bad_names(void **state)
{
    expect_error("[storage]\npath=/x\n[camera ..]\nurl=rtsp://127.0.0.1/\n",
                 "t.ini:3: camera name '..'");
    expect_error("[storage]\npath=/x\n[camera .]\nurl=rtsp://127.0.0.1/\n",
                 "t.ini:3: camera name '.'");
    expect_error("[storage]\npath=/x\n[camera a/b]\nurl=rtsp://127.0.0.1/\n",
                 "t.ini:3: camera name 'a/b'");
    expect_error("[storage]\npath=/x\n[camera a b]\nurl=rtsp://127.0.0.1/\n",
                 "t.ini:3: camera name 'a b'");
    expect_error("[storage]\npath=/x\n\n[camera]\nurl=rtsp://127.0.0.1/\n",
                 "t.ini:4: [camera] needs a name");
}

/* Every name the storage's top level uses is refused as a camera name:
 * the camera's folder would clash with the file and never record. */
static void test_config_reserved_names(void **state)
{
    char text[512], want[256];

    (void)state;
    for (size_t i = 0; i < STORAGE_LAYOUT_N_NAMES; i++) {
        const char *name = storage_layout_names[i].name;

        if (strchr(name, '+'))
            continue; /* not a valid name anyway: see below */
        snprintf(text, sizeof(text),
                 "[storage]\npath=/x\n[camera %s]\nurl=rtsp://127.0.0.1/\n",
                 name);
        snprintf(want, sizeof(want),
                 "t.ini:3: camera name '%s' is reserved: the storage "
                 "directory uses it for %s",
                 name, storage_layout_names[i].use);
        expect_error(text, want);
    }
    expect_error("[storage]\npath=/x\n[camera catalog.db]\n"
                 "url=rtsp://127.0.0.1/\n",
                 "t.ini:3: camera name 'catalog.db' is reserved");
    expect_error("[storage]\npath=/x\n[camera sandbox.status]\n"
                 "url=rtsp://127.0.0.1/\n",
                 "t.ini:3: camera name 'sandbox.status' is reserved");
    expect_error("[storage]\npath=/x\n\n[camera .nvr-space-reserve]\n"
                 "url=rtsp://127.0.0.1/\n",
                 "t.ini:4: camera name '.nvr-space-reserve' is reserved");
    expect_error("[storage]\npath=/x\n[camera Recorder.LOCK]\n"
                 "url=rtsp://127.0.0.1/\n",
                 "t.ini:3: camera name 'Recorder.LOCK' is reserved");
    expect_error("[storage]\npath=/x\n[camera .gate]\nurl=rtsp://127.0.0.1/\n",
                 "t.ini:3: camera name '.gate' is reserved: the storage "
                 "directory uses it for hidden files");
    expect_error("[storage]\npath=/x\n[camera lost+found]\n"
                 "url=rtsp://127.0.0.1/\n",
                 "t.ini:3: camera name 'lost+found'");
    /* Near misses stay valid. */
    nvr_config_free(parse_ok("[storage]\npath=/x\n[camera catalog]\n"
                             "url=rtsp://127.0.0.1/\n[camera catalog.db2]\n"
                             "url=rtsp://127.0.0.1/\n"));
}

static void test_config_syntax_errors(void **state)
{
    const char *text = "[storage\n"       /* 1 */
                       "[storage]\n"      /* 2 */
                       "path = /x\n"      /* 3 */
                       "just words\n"     /* 4 */
                       "= value\n"        /* 5 */
                       "[network] junk\n" /* 6 */
                       "[camera a]\n"     /* 7 */
                       "url = rtsp://127.0.0.1/\n"
                       "also bad\n"; /* 9 */
    char err[4096];

    parse_bad(text, err, sizeof(err));
    assert_non_null(strstr(err, "t.ini:1: section header without ']'"));
    assert_non_null(strstr(err, "t.ini:4: expected 'key = value'"));
    assert_non_null(strstr(err, "t.ini:5: missing key name"));
    assert_non_null(strstr(err, "t.ini:6: unexpected text after ']'"));
    assert_non_null(strstr(err, "t.ini:9: expected 'key = value'"));
    expect_error("x = 1\n[storage]\npath=/x\n",
                 "t.ini:1: key 'x' outside any section");
}

static void test_config_line_too_long(void **state)
{
    char text[2048];

    snprintf(text, sizeof(text),
             "[storage]\npath = /x\n[camera a]\nurl = "
             "rtsp://127.0.0.1/");
    size_t n = strlen(text);

    memset(text + n, 'a', 1000);
    memcpy(text + n + 1000, "\n", 2);
    expect_error(text, "t.ini:4: line longer than");
}

static void test_config_nul_byte(void **state)
{
    static const char text[] = "[storage]\npath = /x\0y\n";
    struct nvr_config *cfg = NULL;
    char err[256];

    assert_int_equal(nvr_config_parse(text, sizeof(text) - 1, "t.ini", &cfg,
                                      err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "t.ini:2: NUL byte"));
}

static void test_config_password_never_shown(void **state)
{
    const char *text = "[storage]\n"
                       "path = /x\n"
                       "[camera gate]\n"
                       "url = rtsp://admin:" SECRET "@127.0.0.1/\n"
                       "password = " SECRET "\x01\n"
                       "password = " SECRET "\n"
                       "passwrd = " SECRET "\n"
                       "password_file = pw\n"
                       "url = rtsp://admin:" SECRET "@127.0.0.1/\n"
                       "transport = tcp\n"
                       "[camera yard]\n"
                       "url = ftp://" SECRET "@127.0.0.1/\n"
                       "password = " SECRET "\n"
                       "password = " SECRET "\n";
    char err[4096];

    /* parse_bad asserts the secret is absent. */
    parse_bad(text, err, sizeof(err));
    assert_non_null(strstr(err, "t.ini:5: key 'password' in [camera gate]"));
    assert_non_null(strstr(err, "t.ini:6: duplicate key 'password'"));
    assert_non_null(strstr(err, "t.ini:7: unknown key 'passwrd'"));
    assert_non_null(strstr(err, "t.ini:8: key 'password_file'"));
    assert_non_null(strstr(err, "t.ini:12: key 'url' in [camera yard]"));
}

static void test_config_password_file(void **state)
{
    struct tmp *t = *state;
    char pw[512], ini[512], text[2048], err[4096];
    struct nvr_config *cfg = NULL;

    snprintf(pw, sizeof(pw), "%s/gate.pass", t->dir);
    write_file(pw, SECRET " \t\r\nsecond line\n", 0600);
    snprintf(text, sizeof(text),
             "[storage]\npath=/x\n[camera gate]\nurl=rtsp://127.0.0.1/\n"
             "password_file = %s\n",
             pw);
    cfg = parse_ok(text);
    assert_string_equal(cfg->cameras[0].password, SECRET);
    assert_string_equal(cfg->cameras[0].password_file, pw);
    nvr_config_free(cfg);

    /* Relative to the config file's folder, not the cwd. */
    snprintf(ini, sizeof(ini), "%s/nvr.ini", t->dir);
    write_file(ini,
               "[storage]\npath=/x\n[camera gate]\nurl=rtsp://127.0.0.1/\n"
               "password_file = gate.pass\n",
               0600);
    assert_int_equal(nvr_config_load(ini, &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg->path, ini);
    assert_string_equal(cfg->cameras[0].password, SECRET);
    assert_string_equal(cfg->cameras[0].password_file, pw);
    nvr_config_free(cfg);
    cfg = NULL;

    /* Missing file: named, with the line. */
    write_file(ini,
               "[storage]\npath=/x\n[camera gate]\nurl=rtsp://127.0.0.1/\n"
               "\npassword_file = nope.pass\n",
               0600);
    assert_int_equal(nvr_config_load(ini, &cfg, err, sizeof(err)), -EINVAL);
    assert_null(cfg);
    snprintf(text, sizeof(text),
             "%s:6: key 'password_file' in [camera gate]: "
             "cannot read '%s/nope.pass'",
             ini, t->dir);
    if (!strstr(err, text))
        fail_msg("wanted '%s' in:\n%s", text, err);

    /* Empty file. */
    write_file(pw, "\n", 0600);
    write_file(ini,
               "[storage]\npath=/x\n[camera gate]\nurl=rtsp://127.0.0.1/\n"
               "password_file = gate.pass\n",
               0600);
    assert_int_equal(nvr_config_load(ini, &cfg, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, ":5: key 'password_file'"));

    /* Not a regular file. */
    snprintf(text, sizeof(text),
             "[storage]\npath=/x\n[camera gate]\nurl=rtsp://127.0.0.1/\n"
             "password_file = %s\n",
             t->dir);
    expect_error(text, "t.ini:5: key 'password_file' in [camera gate]: ");

    /* Both password and password_file. */
    write_file(pw, SECRET "\n", 0600);
    snprintf(text, sizeof(text),
             "[storage]\npath=/x\n[camera gate]\nurl=rtsp://127.0.0.1/\n"
             "password_file = %s\npassword = " SECRET "\n",
             pw);
    expect_error(text, "t.ini:6: [camera gate]: set password or "
                       "password_file, not both");
}

static void test_config_load_errors(void **state)
{
    struct tmp *t = *state;
    struct nvr_config *cfg = NULL;
    char path[512], err[512];

    snprintf(path, sizeof(path), "%s/absent.ini", t->dir);
    assert_int_equal(nvr_config_load(path, &cfg, err, sizeof(err)), -ENOENT);
    assert_null(cfg);
    assert_non_null(strstr(err, "absent.ini"));
    assert_int_equal(nvr_config_load(t->dir, &cfg, err, sizeof(err)), -EINVAL);
    assert_null(cfg);
}

static void test_config_err_truncated(void **state)
{
    char text[4096] = "[storage]\npath=/x\n", err[40];
    struct nvr_config *cfg = NULL;

    for (int i = 0; i < 50; i++)
        append(text, sizeof(text), "bogus = 1\n");
    memset(err, 'X', sizeof(err));
    assert_int_equal(
        nvr_config_parse(text, strlen(text), "t.ini", &cfg, err, sizeof(err)),
        -EINVAL);
    assert_true(strlen(err) < sizeof(err));
    assert_memory_equal(err, "t.ini:3: unknown key 'bogus'", 27);
    /* Beyond the kept messages, a count. */
    {
        char big[16384];

        for (int i = 0; i < 100; i++)
            append(text, sizeof(text), "bogus = 1\n");
        assert_int_equal(nvr_config_parse(text, strlen(text), "t.ini", &cfg,
                                          big, sizeof(big)),
                         -EINVAL);
        assert_non_null(strstr(big, "t.ini:102: unknown key 'bogus'"));
        assert_null(strstr(big, "t.ini:103:"));
        assert_non_null(strstr(big, "\nt.ini: 50 more problems\n"));
    }
    /* No buffer at all is fine too. */
    assert_int_equal(
        nvr_config_parse(text, strlen(text), "t.ini", &cfg, NULL, 0), -EINVAL);
}

static void test_config_sizes(void **state)
{
    static const struct {
        const char *s;
        int64_t v;
    } good[] = {
        {"0", 0},
        {"1048576", 1048576},
        {"64M", 64LL << 20},
        {"500G", 500LL << 30},
        {"1.5T", 3LL << 39},
        {"2k", 2048},
        {"0.5K", 512},
        {"1GB", 1LL << 30},
        {"8388607T", 8388607LL << 40},
        {"9223372036854775807", INT64_MAX},
    };
    static const char *const bad[] = {
        "",
        "-1",
        "-1G",
        "G",
        "1X",
        "1.5",
        "1.G",
        ".5G",
        "1 G",
        " 1",
        "1G ",
        "1e3",
        "0x10",
        "8388608T",
        "1GG",
        "+1",
        "1.1234567T",
        "9223372036854775808",
        "99999999999999999999999",
    };
    int64_t v;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        v = -1;
        if (nvr_config_parse_size(good[i].s, &v) != 0)
            fail_msg("rejected '%s'", good[i].s);
        assert_int_equal(v, good[i].v);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 7;
        if (nvr_config_parse_size(bad[i], &v) != -EINVAL)
            fail_msg("accepted '%s'", bad[i]);
        assert_int_equal(v, 7);
    }
}

static void test_config_default_path(void **state)
{
    struct tmp *t = *state;
    char cwd[1024];

    setenv("NVR_CONFIG", "/some/where.ini", 1);
    assert_string_equal(nvr_config_default_path(), "/some/where.ini");
    unsetenv("NVR_CONFIG");

    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(t->dir), 0);
    assert_string_equal(nvr_config_default_path(), "/etc/nvr/nvr.ini");
    write_file("nvr.ini", "", 0600);
    assert_string_equal(nvr_config_default_path(), "./nvr.ini");
    assert_int_equal(chdir(cwd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_full),
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_config_no_cameras_is_valid),
        cmocka_unit_test(test_config_percent_and_syntax_variants),
        cmocka_unit_test(test_config_long_camera_name),
        cmocka_unit_test(test_config_unknown_key_and_section),
        cmocka_unit_test(test_config_bad_values),
        cmocka_unit_test(test_config_url_rules),
        cmocka_unit_test(test_config_missing_required),
        cmocka_unit_test(test_config_duplicates),
        cmocka_unit_test(test_config_bad_names),
        cmocka_unit_test(test_config_reserved_names),
        cmocka_unit_test(test_config_syntax_errors),
        cmocka_unit_test(test_config_line_too_long),
        cmocka_unit_test(test_config_nul_byte),
        cmocka_unit_test(test_config_password_never_shown),
        cmocka_unit_test_setup_teardown(test_config_password_file, setup_tmp,
                                        teardown_tmp),
        cmocka_unit_test_setup_teardown(test_config_load_errors, setup_tmp,
                                        teardown_tmp),
        cmocka_unit_test(test_config_err_truncated),
        cmocka_unit_test(test_config_sizes),
        cmocka_unit_test_setup_teardown(test_config_default_path, setup_tmp,
                                        teardown_tmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
