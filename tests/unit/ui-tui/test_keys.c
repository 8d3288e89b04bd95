/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of ui-tui/tui_keys.c: every binding of every mode has an
 * action, a name and a description, no key is bound twice in a mode, and
 * the help text made from a table lists every binding on the line of its
 * description; the key names of a mode are each binding's name once.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ui-tui/tui_keys.h"
#include "ui-tui/tui_model.h"

static const enum tui_mode modes[] = {TUI_MODE_NORMAL, TUI_MODE_HELP,
                                      TUI_MODE_PROMPT};

static void test_keys_every_binding_complete(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
        const struct tui_key_table *t = tui_keys_table(modes[k]);

        assert_non_null(t->name);
        assert_true(t->n > 0);
        assert_true((t->other == NULL) == (t->other_help == NULL));
        for (size_t i = 0; i < t->n; i++) {
            const struct tui_key_binding *b = &t->bindings[i];

            assert_non_null(b->action);
            assert_non_null(b->name);
            assert_true(b->name[0] != '\0');
            assert_non_null(b->help);
            assert_true(b->help[0] != '\0');
            assert_ptr_equal(tui_keys_find(t, b->key), b);
        }
    }
}

static void test_keys_no_key_bound_twice(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
        const struct tui_key_table *t = tui_keys_table(modes[k]);

        for (size_t i = 0; i < t->n; i++)
            for (size_t j = i + 1; j < t->n; j++)
                if (t->bindings[i].key == t->bindings[j].key)
                    fail_msg("%s: key %d bound twice (%s, %s)", t->name,
                             t->bindings[i].key, t->bindings[i].help,
                             t->bindings[j].help);
    }
}

/* The line of text that holds help after the key column, or NULL. */
static const char *line_of(const char *text, const char *help, char *line,
                           size_t size)
{
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);

        if (n < size) {
            memcpy(line, p, n);
            line[n] = '\0';
            if (n >= TUI_KEYS_NAME_W && strstr(line, help) &&
                strcmp(strstr(line, help), help) == 0)
                return line;
        }
        p += nl ? n + 1 : n;
    }
    return NULL;
}

/* name is one of the space-separated words of the line's key column. */
static int names_key(const char *line, const char *help, const char *name)
{
    char keys[128], *save = NULL;
    size_t n = (size_t)(strstr(line, help) - line);

    if (n >= sizeof(keys))
        return 0;
    memcpy(keys, line, n);
    keys[n] = '\0';
    for (char *w = strtok_r(keys, " ", &save); w;
         w = strtok_r(NULL, " ", &save))
        if (strcmp(w, name) == 0)
            return 1;
    return 0;
}

static void test_keys_help_lists_every_binding(void **state)
{
    char text[8192], line[512];

    (void)state;
    for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
        const struct tui_key_table *t = tui_keys_table(modes[k]);
        size_t len = tui_keys_help(modes[k], text, sizeof(text));

        assert_true(len > 0 && len < sizeof(text));
        assert_int_equal(strlen(text), len);
        for (size_t i = 0; i < t->n; i++) {
            const struct tui_key_binding *b = &t->bindings[i];
            const char *l = line_of(text, b->help, line, sizeof(line));

            if (!l)
                fail_msg("%s: no help line for %s (%s)", t->name, b->name,
                         b->help);
            if (!names_key(l, b->help, b->name))
                fail_msg("%s: the line '%s' does not name %s", t->name, l,
                         b->name);
        }
        if (t->other)
            assert_non_null(line_of(text, t->other_help, line, sizeof(line)));
    }
}

static void test_keys_help_cut_like_snprintf(void **state)
{
    char whole[8192], small[64];
    size_t len = tui_keys_help(TUI_MODE_NORMAL, whole, sizeof(whole));

    (void)state;
    assert_int_equal(tui_keys_help(TUI_MODE_NORMAL, small, sizeof(small)), len);
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_memory_equal(small, whole, sizeof(small) - 1);
    assert_int_equal(tui_keys_help(TUI_MODE_NORMAL, NULL, 0), len);
}

static void test_keys_names_once(void **state)
{
    char names[256];
    const struct tui_key_table *t = tui_keys_table(TUI_MODE_PROMPT);

    (void)state;
    assert_true(tui_keys_names(TUI_MODE_PROMPT, names, sizeof(names)) > 0);
    /* Three keys send Enter, three Backspace: each name once. */
    assert_string_equal(names, "Enter Esc Backspace");
    for (size_t i = 0; i < t->n; i++)
        assert_non_null(strstr(names, t->bindings[i].name));
}

/* A key runs its binding's action in the model's mode only. */
static void test_keys_press_dispatches_by_mode(void **state)
{
    struct tui_model m;

    (void)state;
    memset(&m, 0, sizeof(m));
    m.mode = TUI_MODE_NORMAL;
    tui_keys_press(&m, '?');
    assert_int_equal(m.mode, TUI_MODE_HELP);
    tui_keys_press(&m, 'x' + 1000); /* unbound: nothing */
    assert_int_equal(m.mode, TUI_MODE_HELP);
    tui_keys_press(&m, 'q'); /* closes the help, does not quit */
    assert_int_equal(m.mode, TUI_MODE_NORMAL);
    assert_int_equal(m.quit, 0);
    m.mode = TUI_MODE_PROMPT;
    tui_keys_press(&m, 'q'); /* typed */
    tui_keys_press(&m, '1');
    assert_string_equal(m.input, "q1");
    tui_keys_press(&m, 127);
    assert_string_equal(m.input, "q");
    assert_int_equal(m.mode, TUI_MODE_PROMPT);
    m.mode = TUI_MODE_NORMAL;
    tui_keys_press(&m, 'q');
    assert_int_equal(m.quit, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_every_binding_complete),
        cmocka_unit_test(test_keys_no_key_bound_twice),
        cmocka_unit_test(test_keys_help_lists_every_binding),
        cmocka_unit_test(test_keys_help_cut_like_snprintf),
        cmocka_unit_test(test_keys_names_once),
        cmocka_unit_test(test_keys_press_dispatches_by_mode),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
