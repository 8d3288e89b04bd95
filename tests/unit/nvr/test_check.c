/* SPDX-License-Identifier: MIT */
/*
 * Tests of nvr/check.c: address ranges, hosts files, each rule with its
 * exact message, URL rewriting for names from a hosts file (credentials
 * moved out of the URL), the key line finder, and check_config() on real
 * directories and catalogs.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
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

#include "nvr/check.h"
#include "nvr/nvr_config.h"
#include "storage/catalog.h"

struct tmp {
    char dir[256];
    char hosts[300];
};

static int setup_tmp(void **state)
{
    struct tmp *t = calloc(1, sizeof(*t));

    assert_non_null(t);
    snprintf(t->dir, sizeof(t->dir), "/tmp/nvr-test-check-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->hosts, sizeof(t->hosts), "%s/hosts", t->dir);
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
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static enum check_addr_class classify(const char *s)
{
    struct sockaddr_storage ss;

    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, s, &((struct sockaddr_in *)&ss)->sin_addr) == 1)
        ss.ss_family = AF_INET;
    else if (inet_pton(AF_INET6, s, &((struct sockaddr_in6 *)&ss)->sin6_addr) ==
             1)
        ss.ss_family = AF_INET6;
    else
        fail_msg("bad literal %s", s);
    return check_addr_classify((struct sockaddr *)&ss);
}

static void test_check_addr_ranges(void **state)
{
    (void)state;
    assert_int_equal(classify("127.0.0.1"), CHECK_ADDR_LOOPBACK);
    assert_int_equal(classify("127.255.0.9"), CHECK_ADDR_LOOPBACK);
    assert_int_equal(classify("10.0.0.1"), CHECK_ADDR_PRIVATE);
    assert_int_equal(classify("10.255.255.254"), CHECK_ADDR_PRIVATE);
    assert_int_equal(classify("172.16.0.1"), CHECK_ADDR_PRIVATE);
    assert_int_equal(classify("172.31.255.255"), CHECK_ADDR_PRIVATE);
    assert_int_equal(classify("172.15.255.255"), CHECK_ADDR_PUBLIC);
    assert_int_equal(classify("172.32.0.0"), CHECK_ADDR_PUBLIC);
    assert_int_equal(classify("192.168.1.64"), CHECK_ADDR_PRIVATE);
    assert_int_equal(classify("192.169.0.1"), CHECK_ADDR_PUBLIC);
    assert_int_equal(classify("169.254.3.4"), CHECK_ADDR_LINK_LOCAL);
    assert_int_equal(classify("192.0.2.10"), CHECK_ADDR_PUBLIC);
    assert_int_equal(classify("8.8.8.8"), CHECK_ADDR_PUBLIC);
    assert_int_equal(classify("0.0.0.0"), CHECK_ADDR_INVALID);
    assert_int_equal(classify("224.0.0.1"), CHECK_ADDR_INVALID);
    assert_int_equal(classify("239.1.2.3"), CHECK_ADDR_INVALID);
    assert_int_equal(classify("255.255.255.255"), CHECK_ADDR_INVALID);
    assert_int_equal(classify("::1"), CHECK_ADDR_LOOPBACK);
    assert_int_equal(classify("fc00::1"), CHECK_ADDR_PRIVATE);
    assert_int_equal(classify("fdab:1::7"), CHECK_ADDR_PRIVATE);
    assert_int_equal(classify("fe80::1"), CHECK_ADDR_LINK_LOCAL);
    assert_int_equal(classify("febf::1"), CHECK_ADDR_LINK_LOCAL);
    assert_int_equal(classify("fec0::1"), CHECK_ADDR_PUBLIC);
    assert_int_equal(classify("2001:db8::1"), CHECK_ADDR_PUBLIC);
    assert_int_equal(classify("::"), CHECK_ADDR_INVALID);
    assert_int_equal(classify("ff02::1"), CHECK_ADDR_INVALID);
    assert_int_equal(classify("::ffff:10.1.2.3"), CHECK_ADDR_PRIVATE);
    assert_int_equal(classify("::ffff:8.8.4.4"), CHECK_ADDR_PUBLIC);
    assert_string_equal(check_addr_class_name(CHECK_ADDR_LINK_LOCAL),
                        "link-local");
}

static void test_check_hosts_lookup(void **state)
{
    struct tmp *t = *state;
    struct sockaddr_storage ss;
    char text[64], big[5000]; /* longer than a line is read */

    write_file(t->hosts,
               "# comment gate 1.1.1.1\n"
               "127.0.0.1\tlocalhost\n"
               "  192.168.1.64  gate.lan Gate  # the gate\n"
               "fd00::5 yard\n"
               "notanaddress broken\n"
               "10.0.0.9 gate-b\r\n",
               0644);
    assert_int_equal(check_hosts_lookup(t->hosts, "gate", &ss), 0);
    assert_int_equal(ss.ss_family, AF_INET);
    inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, text,
              sizeof(text));
    assert_string_equal(text, "192.168.1.64");
    assert_int_equal(check_hosts_lookup(t->hosts, "GATE.LAN", &ss), 0);
    assert_int_equal(check_hosts_lookup(t->hosts, "yard", &ss), 0);
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_int_equal(check_hosts_lookup(t->hosts, "gate-b", &ss), 0);
    inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, text,
              sizeof(text));
    assert_string_equal(text, "10.0.0.9");
    assert_int_equal(check_hosts_lookup(t->hosts, "comment", &ss), -ENOENT);
    assert_int_equal(check_hosts_lookup(t->hosts, "broken", &ss), -ENOENT);
    assert_int_equal(check_hosts_lookup(t->hosts, "the", &ss), -ENOENT);
    assert_int_equal(check_hosts_lookup("/nonexistent/hosts", "gate", &ss),
                     -ENOENT);

    /* An overlong line is cut, not overrun, and later lines still count. */
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    {
        FILE *f = fopen(t->hosts, "w");

        assert_non_null(f);
        fprintf(f, "10.0.0.1 %s\n10.0.0.2 after\n", big);
        fclose(f);
    }
    assert_int_equal(check_hosts_lookup(t->hosts, "after", &ss), 0);
}

static struct nvr_config *parse(const char *text)
{
    struct nvr_config *cfg = NULL;
    char err[2048];

    if (nvr_config_parse(text, strlen(text), "test.ini", &cfg, err,
                         sizeof(err)) < 0)
        fail_msg("config: %s", err);
    return cfg;
}

static void test_check_target_literal(void **state)
{
    struct tmp *t = *state;
    struct nvr_config *cfg;
    struct check_target tg;
    char why[CHECK_MSG_MAX];
    int dns = 7;

    write_file(t->hosts, "127.0.0.1 localhost\n", 0644);
    cfg = parse("[storage]\npath = /x\n"
                "[camera gate]\nurl = rtsp://192.168.1.64:8554/live\n"
                "username = admin\npassword = pw1\n");
    assert_int_equal(check_camera_target(cfg, &cfg->cameras[0], t->hosts, &tg,
                                         &dns, why, sizeof(why)),
                     0);
    assert_int_equal(dns, 0);
    assert_int_equal(tg.allowed, 1);
    assert_string_equal(tg.url, "rtsp://192.168.1.64:8554/live");
    assert_string_equal(tg.addr, "192.168.1.64");
    assert_int_equal(tg.port, 8554);
    assert_string_equal(tg.username, "admin");
    assert_string_equal(tg.password, "pw1");
    nvr_config_free(cfg);
}

static void test_check_target_hosts_name(void **state)
{
    struct tmp *t = *state;
    struct nvr_config *cfg;
    struct check_target tg;
    char why[CHECK_MSG_MAX];
    int dns;

    write_file(t->hosts, "10.1.2.3 yard-cam\n", 0644);
    cfg = parse("[storage]\npath = /x\n"
                "[camera yard]\nurl = rtsp://bob:s3cret@yard-cam/ch1?x=1\n");
    assert_int_equal(check_camera_target(cfg, &cfg->cameras[0], t->hosts, &tg,
                                         &dns, why, sizeof(why)),
                     0);
    assert_string_equal(tg.url, "rtsp://10.1.2.3:554/ch1?x=1");
    assert_null(strstr(tg.url, "s3cret"));
    assert_string_equal(tg.username, "bob");
    assert_string_equal(tg.password, "s3cret");
    assert_string_equal(tg.addr, "10.1.2.3");
    nvr_config_free(cfg);

    /* The config's username/password win over the URL's userinfo. */
    cfg = parse("[storage]\npath = /x\n"
                "[camera yard]\nurl = rtsp://bob:s3cret@yard-cam/ch1\n"
                "username = alice\npassword = other\n");
    assert_int_equal(check_camera_target(cfg, &cfg->cameras[0], t->hosts, &tg,
                                         &dns, why, sizeof(why)),
                     0);
    assert_string_equal(tg.username, "alice");
    assert_string_equal(tg.password, "other");
    nvr_config_free(cfg);
}

static void test_check_target_refused(void **state)
{
    struct tmp *t = *state;
    struct nvr_config *cfg;
    struct check_target tg;
    char why[CHECK_MSG_MAX];
    int dns;

    write_file(t->hosts, "192.0.2.77 outside\n", 0644);
    cfg = parse("[storage]\npath = /x\n"
                "[camera far]\nurl = rtsp://u:topsecret@192.0.2.10/x\n"
                "[camera named]\nurl = rtsp://outside/x\n"
                "[camera nodns]\nurl = rtsp://cam.example.org/x\n"
                "[camera multi]\nurl = rtsp://239.0.0.1/x\n"
                "[camera ok]\nurl = rtsp://192.0.2.11/x\n"
                "allow_public = true\n");
    assert_int_equal(check_camera_target(cfg, &cfg->cameras[0], t->hosts, &tg,
                                         &dns, why, sizeof(why)),
                     -EPERM);
    assert_string_equal(why, "camera 'far': address 192.0.2.10 is public (not "
                             "private, link-local or loopback); set "
                             "allow_public = true in [camera far] to allow it");
    assert_int_equal(tg.allowed, 0);
    assert_int_equal(check_camera_target(cfg, &cfg->cameras[1], t->hosts, &tg,
                                         &dns, why, sizeof(why)),
                     -EPERM);
    assert_non_null(strstr(why, "camera 'named': host 'outside' (192.0.2.77) "
                                "is public"));
    assert_int_equal(check_camera_target(cfg, &cfg->cameras[2], t->hosts, &tg,
                                         &dns, why, sizeof(why)),
                     -ENOENT);
    {
        char want[CHECK_MSG_MAX];

        snprintf(want, sizeof(want),
                 "camera 'nodns': host 'cam.example.org' is not an IP address "
                 "and not in %s, and DNS is off (allow_dns = true in "
                 "[network] turns it on)",
                 t->hosts);
        assert_string_equal(why, want);
    }
    assert_int_equal(check_camera_target(cfg, &cfg->cameras[3], t->hosts, &tg,
                                         &dns, why, sizeof(why)),
                     -EPERM);
    assert_string_equal(why, "camera 'multi': address 239.0.0.1 is not a "
                             "host address (unspecified, multicast or "
                             "broadcast)");
    assert_int_equal(check_camera_target(cfg, &cfg->cameras[4], t->hosts, &tg,
                                         &dns, why, sizeof(why)),
                     0);
    nvr_config_free(cfg);
}

static void test_check_secret_mode(void **state)
{
    struct tmp *t = *state;
    struct nvr_camera_config cam;
    char why[CHECK_MSG_MAX], want[CHECK_MSG_MAX];

    memset(&cam, 0, sizeof(cam));
    snprintf(cam.name, sizeof(cam.name), "gate");
    assert_int_equal(check_camera_secret(&cam, why, sizeof(why)), 0);
    snprintf(cam.password_file, sizeof(cam.password_file), "%s/gate.pass",
             t->dir);
    write_file(cam.password_file, "pw\n", 0640);
    assert_int_equal(check_camera_secret(&cam, why, sizeof(why)), -EPERM);
    snprintf(want, sizeof(want),
             "camera 'gate': password file %s has mode 0640: readable by "
             "group or others; run chmod 600 %s",
             cam.password_file, cam.password_file);
    assert_string_equal(why, want);
    assert_int_equal(chmod(cam.password_file, 0604), 0);
    assert_int_equal(check_camera_secret(&cam, why, sizeof(why)), -EPERM);
    assert_int_equal(chmod(cam.password_file, 0600), 0);
    assert_int_equal(check_camera_secret(&cam, why, sizeof(why)), 0);
    assert_int_equal(chmod(cam.password_file, 0400), 0);
    assert_int_equal(check_camera_secret(&cam, why, sizeof(why)), 0);
}

static void test_check_key_line(void **state)
{
    struct tmp *t = *state;
    char path[512];

    snprintf(path, sizeof(path), "%s/k.ini", t->dir);
    write_file(path,
               "; top\n"
               "[storage]\n"
               "  path = /srv\n"
               "[camera a]\n"
               "password_file = x\n"
               "url=rtsp://1.2.3.4/\n"
               "[camera  b]\n"
               "url = rtsp://1.2.3.5/\n",
               0600);
    assert_int_equal(check_key_line(path, 0, "storage", "path"), 3);
    assert_int_equal(check_key_line(path, 4, NULL, "url"), 6);
    assert_int_equal(check_key_line(path, 4, NULL, "password_file"), 5);
    assert_int_equal(check_key_line(path, 4, NULL, "password"), 4);
    assert_int_equal(check_key_line(path, 7, NULL, "url"), 8);
    assert_int_equal(check_key_line("/nonexistent.ini", 9, NULL, "url"), 9);
}

struct collected {
    int n;
    char text[16][CHECK_MSG_MAX + 64];
};

static void collect_cb(void *user, const struct check_finding *f)
{
    struct collected *c = user;

    if (c->n < 16)
        snprintf(c->text[c->n++], sizeof(c->text[0]), "%d %s %s", f->line,
                 f->severity == CHECK_ERROR ? "E" : "W", f->message);
}

static void test_check_config_storage(void **state)
{
    struct tmp *t = *state;
    char path[512], storage[512], text[1024], want[2048], db[600];
    struct nvr_config *cfg;
    struct collected c;
    char err[1024];
    struct catalog *cat;

    snprintf(storage, sizeof(storage), "%s/storage", t->dir);
    snprintf(path, sizeof(path), "%s/c.ini", t->dir);
    snprintf(text, sizeof(text),
             "[storage]\npath = %s\n\n[camera a]\nurl = rtsp://127.0.0.1/a\n",
             storage);
    write_file(path, text, 0600);
    assert_int_equal(nvr_config_load(path, &cfg, err, sizeof(err)), 0);

    /* Missing storage: a warning only. */
    memset(&c, 0, sizeof(c));
    assert_int_equal(check_config(cfg, t->hosts, collect_cb, &c), 0);
    assert_int_equal(c.n, 1);
    snprintf(want, sizeof(want),
             "2 W storage directory %s does not exist yet; nvr run creates "
             "it (mode 0750)",
             storage);
    assert_string_equal(c.text[0], want);

    /* Open to others: an error; no catalog yet: a warning. */
    assert_int_equal(mkdir(storage, 0755), 0);
    assert_int_equal(chmod(storage, 0755), 0);
    memset(&c, 0, sizeof(c));
    assert_int_equal(check_config(cfg, t->hosts, collect_cb, &c), 1);
    assert_int_equal(c.n, 2);
    snprintf(want, sizeof(want),
             "2 E storage directory %s has mode 0755: others can read it; run "
             "chmod o-rwx %s",
             storage, storage);
    assert_string_equal(c.text[0], want);
    snprintf(want, sizeof(want),
             "2 W catalog %s/catalog.db does not exist yet; nvr run creates "
             "it",
             storage);
    assert_string_equal(c.text[1], want);

    /* Closed, with a real catalog: nothing to say. */
    assert_int_equal(chmod(storage, 0750), 0);
    snprintf(db, sizeof(db), "%s/catalog.db", storage);
    assert_int_equal(catalog_open(db, CATALOG_READWRITE, &cat), 0);
    catalog_close(cat);
    memset(&c, 0, sizeof(c));
    assert_int_equal(check_config(cfg, t->hosts, collect_cb, &c), 0);
    assert_int_equal(c.n, 0);

    /* A catalog that is not one: an error. */
    write_file(db, "this is not an SQLite database, not at all........\n",
               0600);
    memset(&c, 0, sizeof(c));
    assert_int_equal(check_config(cfg, t->hosts, collect_cb, &c), 1);
    assert_int_equal(c.n, 1);
    snprintf(want, sizeof(want), "2 E catalog %s does not open: ", db);
    assert_memory_equal(c.text[0], want, strlen(want));
    nvr_config_free(cfg);
}

static void test_check_config_cameras(void **state)
{
    struct tmp *t = *state;
    char path[512], pass[512], text[2048], want[2048];
    struct nvr_config *cfg;
    struct collected c;
    char err[1024];

    snprintf(path, sizeof(path), "%s/c.ini", t->dir);
    snprintf(pass, sizeof(pass), "%s/p.pass", t->dir);
    write_file(pass, "hunter2\n", 0644);
    snprintf(text, sizeof(text),
             "[storage]\npath = %s\n"
             "[camera far]\nurl = rtsp://192.0.2.10/x\n"
             "[camera pw]\nurl = rtsp://10.0.0.1/x\npassword_file = %s\n"
             "[camera inline]\nurl = rtsp://10.0.0.2/x\npassword = hunter3\n"
             "[camera off]\nurl = rtsp://192.0.2.99/x\nenabled = false\n",
             t->dir, pass);
    write_file(path, text, 0644);
    assert_int_equal(chmod(t->dir, 0700), 0);
    assert_int_equal(nvr_config_load(path, &cfg, err, sizeof(err)), 0);
    memset(&c, 0, sizeof(c));
    /* far, pw's password file, off (nvr check looks at disabled cameras
     * too), the catalog is missing (warning), the inline password
     * (warning). */
    assert_int_equal(check_config(cfg, t->hosts, collect_cb, &c), 3);
    assert_int_equal(c.n, 5);
    assert_string_equal(c.text[0],
                        "4 E camera 'far': address 192.0.2.10 is public (not "
                        "private, link-local or loopback); set allow_public "
                        "= true in [camera far] to allow it");
    snprintf(want, sizeof(want),
             "7 E camera 'pw': password file %s has mode 0644: readable by "
             "group or others; run chmod 600 %s",
             pass, pass);
    assert_string_equal(c.text[1], want);
    snprintf(want, sizeof(want),
             "10 W camera 'inline': the config file holds its password and "
             "has mode 0644: readable by group or others; use password_file "
             "or chmod 600 %s",
             path);
    assert_string_equal(c.text[2], want);
    assert_memory_equal(c.text[3], "12 E camera 'off': address 192.0.2.99",
                        strlen("12 E camera 'off': address 192.0.2.99"));
    for (int i = 0; i < c.n; i++) {
        assert_null(strstr(c.text[i], "hunter2"));
        assert_null(strstr(c.text[i], "hunter3"));
    }
    nvr_config_free(cfg);
}

static void test_check_run_targets(void **state)
{
    struct tmp *t = *state;
    struct nvr_config *cfg;
    struct check_target *tg = NULL;
    int n;

    write_file(t->hosts, "127.0.0.1 localhost\n", 0644);
    cfg = parse("[storage]\npath = /nonexistent-storage\n"
                "[camera a]\nurl = rtsp://127.0.0.1:1000/a\n"
                "[camera far]\nurl = rtsp://192.0.2.10/x\n"
                "[camera off]\nurl = rtsp://127.0.0.1/a\nenabled = false\n"
                "[camera b]\nurl = rtsp://localhost:2000/b\n");
    n = check_run_targets(cfg, t->hosts, &tg);
    assert_int_equal(n, 2);
    assert_int_equal(tg[0].allowed, 1);
    assert_int_equal(tg[0].port, 1000);
    assert_int_equal(tg[1].allowed, 0);
    assert_int_equal(tg[2].allowed, 0);
    assert_int_equal(tg[3].allowed, 1);
    assert_string_equal(tg[3].url, "rtsp://127.0.0.1:2000/b");
    check_targets_free(tg, cfg->n_cameras);
    check_targets_free(NULL, 0);
    nvr_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_addr_ranges),
        cmocka_unit_test_setup_teardown(test_check_hosts_lookup, setup_tmp,
                                        teardown_tmp),
        cmocka_unit_test_setup_teardown(test_check_target_literal, setup_tmp,
                                        teardown_tmp),
        cmocka_unit_test_setup_teardown(test_check_target_hosts_name, setup_tmp,
                                        teardown_tmp),
        cmocka_unit_test_setup_teardown(test_check_target_refused, setup_tmp,
                                        teardown_tmp),
        cmocka_unit_test_setup_teardown(test_check_secret_mode, setup_tmp,
                                        teardown_tmp),
        cmocka_unit_test_setup_teardown(test_check_key_line, setup_tmp,
                                        teardown_tmp),
        cmocka_unit_test_setup_teardown(test_check_config_storage, setup_tmp,
                                        teardown_tmp),
        cmocka_unit_test_setup_teardown(test_check_config_cameras, setup_tmp,
                                        teardown_tmp),
        cmocka_unit_test_setup_teardown(test_check_run_targets, setup_tmp,
                                        teardown_tmp),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
