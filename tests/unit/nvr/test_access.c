/* SPDX-License-Identifier: MIT */
/*
 * Tests of nvr/access.c and the [access] section of the config: rules
 * parsed from readable lines, refusals naming the rule and its line,
 * root and the recorder's user with every right, parse errors naming the
 * line and the key.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nvr/access.h"
#include "nvr/nvr_config.h"

static const char base[] = "[storage]\n"
                           "path = /tmp/x\n"
                           "[camera gate]\n"
                           "url = rtsp://127.0.0.1/a\n"
                           "[camera yard]\n"
                           "url = rtsp://127.0.0.1/b\n";

static struct nvr_config *load(const char *access, char *err, size_t err_size)
{
    char text[4096];
    struct nvr_config *cfg = NULL;

    snprintf(text, sizeof(text), "%s%s", base, access);
    if (nvr_config_parse(text, strlen(text), "t.ini", &cfg, err, err_size) < 0)
        return NULL;
    return cfg;
}

static void caller(struct access_caller *c, const char *user, const char *group)
{
    memset(c, 0, sizeof(*c));
    c->uid = 1000;
    snprintf(c->user, sizeof(c->user), "%s", user);
    snprintf(c->groups[c->n_groups++], NVR_GROUP_NAME_MAX, "%s", user);
    if (group)
        snprintf(c->groups[c->n_groups++], NVR_GROUP_NAME_MAX, "%s", group);
}

static void test_access_rules_parsed(void **state)
{
    char err[1024];
    struct nvr_config *cfg = load("[access]\n"
                                  "socket = /tmp/nvr.sock\n"
                                  "socket_group = nvr-operators\n"
                                  "view = gate-guards: gate, operators: *\n"
                                  "export = operators: gate yard\n",
                                  err, sizeof(err));

    (void)state;
    assert_non_null(cfg);
    assert_string_equal(cfg->socket_path, "/tmp/nvr.sock");
    assert_string_equal(cfg->socket_group, "nvr-operators");
    assert_int_equal(cfg->n_rules, 4);
    assert_int_equal(cfg->rules[0].right, NVR_RIGHT_VIEW);
    assert_string_equal(cfg->rules[0].group, "gate-guards");
    assert_string_equal(cfg->rules[0].camera, "gate");
    assert_int_equal(cfg->rules[0].line, 10);
    assert_string_equal(cfg->rules[1].group, "operators");
    assert_string_equal(cfg->rules[1].camera, "*");
    assert_int_equal(cfg->rules[3].right, NVR_RIGHT_EXPORT);
    assert_string_equal(cfg->rules[3].camera, "yard");
    nvr_config_free(cfg);
}

static void test_access_default_socket(void **state)
{
    char err[1024];
    struct nvr_config *cfg = load("", err, sizeof(err));

    (void)state;
    assert_non_null(cfg);
    assert_string_equal(cfg->socket_path, "/run/nvr/nvr.sock");
    assert_string_equal(cfg->socket_group, "");
    assert_int_equal(cfg->n_rules, 0);
    nvr_config_free(cfg);
}

static void test_access_parse_errors_name_line_and_key(void **state)
{
    char err[2048];

    (void)state;
    assert_null(load("[access]\nview = gate-guards gate\n", err, sizeof(err)));
    assert_non_null(strstr(err, "t.ini:8: key 'view' in [access]: "
                                "'gate-guards gate' needs a colon"));
    assert_null(load("[access]\nexport = ops: gaet\n", err, sizeof(err)));
    assert_non_null(strstr(err, "t.ini:8: key 'export' in [access]: group "
                                "'ops' is given camera 'gaet', which is not "
                                "in this config"));
    assert_null(load("[access]\nhold = bad/group: *\n", err, sizeof(err)));
    assert_non_null(strstr(err, "t.ini:8: key 'hold' in [access]: "
                                "'bad/group' is not a Unix group name"));
    assert_null(load("[access]\naudit = ops:\n", err, sizeof(err)));
    assert_non_null(strstr(err, "t.ini:8: key 'audit' in [access]: group "
                                "'ops' has no camera after its colon"));
    assert_null(load("[access]\nsocket = nvr.sock\n", err, sizeof(err)));
    assert_non_null(strstr(err, "t.ini:8: key 'socket' in [access]: must be "
                                "an absolute path, got 'nvr.sock'"));
    assert_null(load("[access]\nplay = ops: *\n", err, sizeof(err)));
    assert_non_null(strstr(err, "t.ini:8: unknown key 'play' in [access]"));
    assert_null(load("[access]\n[access]\n", err, sizeof(err)));
    assert_non_null(strstr(err, "t.ini:8: duplicate section [access]"));
}

static void test_access_allows_and_names_the_rule(void **state)
{
    char err[1024], why[ACCESS_WHY_MAX];
    struct nvr_config *cfg = load("[access]\n"
                                  "view = gate-guards: gate, operators: *\n"
                                  "export = operators: *\n",
                                  err, sizeof(err));
    struct access_caller alice, bob, carol;

    (void)state;
    assert_non_null(cfg);
    caller(&alice, "alice", "gate-guards");
    caller(&bob, "bob", "operators");
    caller(&carol, "carol", NULL);
    assert_int_equal(
        access_allows(cfg, &alice, NVR_RIGHT_VIEW, "gate", why, sizeof(why)),
        1);
    assert_int_equal(
        access_allows(cfg, &alice, NVR_RIGHT_VIEW, "yard", why, sizeof(why)),
        0);
    assert_string_equal(why, "user alice (groups: alice, gate-guards) may not "
                             "view camera yard: [access] view (line 8) lists "
                             "gate-guards for gate only");
    assert_int_equal(
        access_allows(cfg, &alice, NVR_RIGHT_EXPORT, "gate", why, sizeof(why)),
        0);
    assert_string_equal(why, "user alice (groups: alice, gate-guards) may not "
                             "export camera gate: [access] export (line 9) "
                             "lists none of these groups");
    assert_int_equal(
        access_allows(cfg, &alice, NVR_RIGHT_VIEW, NULL, why, sizeof(why)), 1);
    assert_int_equal(
        access_allows(cfg, &bob, NVR_RIGHT_VIEW, "yard", why, sizeof(why)), 1);
    assert_int_equal(
        access_allows(cfg, &bob, NVR_RIGHT_EXPORT, "yard", why, sizeof(why)),
        1);
    assert_int_equal(
        access_allows(cfg, &carol, NVR_RIGHT_VIEW, NULL, why, sizeof(why)), 0);
    assert_string_equal(why, "user carol (groups: carol) may not view any "
                             "camera: [access] view (line 8) lists none of "
                             "these groups");
    assert_int_equal(
        access_allows(cfg, &bob, NVR_RIGHT_AUDIT, NULL, why, sizeof(why)), 0);
    assert_string_equal(why, "user bob (groups: bob, operators) may not audit "
                             "any camera: [access] has no audit rule, so only "
                             "root and the recorder's user may");
    nvr_config_free(cfg);
}

static void test_access_root_and_self_have_every_right(void **state)
{
    char err[1024], rights[512];
    struct nvr_config *cfg = load("", err, sizeof(err));
    struct access_caller c;

    (void)state;
    assert_non_null(cfg);
    access_caller_resolve(0, 0, 1, 4242, &c);
    assert_string_equal(c.user, "root");
    assert_string_equal(c.groups[0], "root");
    assert_true(c.all);
    assert_int_equal(access_allows(cfg, &c, NVR_RIGHT_AUDIT, NULL, NULL, 0), 1);
    access_caller_resolve(4242, 4242, 1, 4242, &c);
    assert_string_equal(c.user, "uid 4242"); /* no such user */
    assert_true(c.all);
    access_caller_resolve(4243, 4243, 1, 4242, &c);
    assert_false(c.all);
    assert_int_equal(access_allows(cfg, &c, NVR_RIGHT_VIEW, "gate", NULL, 0),
                     0);
    access_rights_text(cfg, &c, rights, sizeof(rights));
    assert_string_equal(rights, "view: none\nexport: none\nhold: none\n"
                                "audit: none\n");
    nvr_config_free(cfg);
}

static void test_access_rights_text(void **state)
{
    char err[1024], rights[512];
    struct nvr_config *cfg = load("[access]\n"
                                  "view = gate-guards: gate yard\n"
                                  "hold = gate-guards: *\n",
                                  err, sizeof(err));
    struct access_caller c;

    (void)state;
    assert_non_null(cfg);
    caller(&c, "alice", "gate-guards");
    access_rights_text(cfg, &c, rights, sizeof(rights));
    assert_string_equal(rights, "view: gate, yard\nexport: none\nhold: *\n"
                                "audit: none\n");
    nvr_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_access_rules_parsed),
        cmocka_unit_test(test_access_default_socket),
        cmocka_unit_test(test_access_parse_errors_name_line_and_key),
        cmocka_unit_test(test_access_allows_and_names_the_rule),
        cmocka_unit_test(test_access_root_and_self_have_every_right),
        cmocka_unit_test(test_access_rights_text),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
