/* SPDX-License-Identifier: MIT */
/*
 * Tests of nvr/cli.c's shared option parser and --help writer: long and
 * short options, --opt=value and --opt value, operands among options,
 * prefixes of long names, the common options' fields, usage errors that
 * name the option and the command (exit 2), times that do not parse, and
 * the help text generated from an entry's table.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "nvr/cli.h"

static int exec_calls;
static struct cli_args exec_args;

static int frob_exec(const struct cli_args *a, const struct nvr_config *cfg,
                     struct catalog *cat)
{
    exec_calls++;
    exec_args = *a;
    return cfg || cat ? 1 : 0;
}

static const struct cli_option frob_options[] = {
    CLI_OPT_CONFIG,
    {"camera", 0, 1, "NAME", "the camera (repeatable)"},
    {"from", 0, 1, "T", "start"},
    {"to", 0, 1, "T", "end"},
    {"dry-run", 'n', 0, NULL, "delete nothing"},
    {"output", 'o', 1, "OUT", "the file to write,\nor a folder"},
    CLI_OPT_JSON,
    CLI_OPT_HELP,
    CLI_OPT_END,
};

static const struct cli_entry frob_entry = {
    .name = "frob",
    .summary = "frobs",
    .usage = "nvr frob [-c FILE] [--camera NAME] [-o OUT] [X]",
    .about = "Frobs a camera.\nTwice if asked.",
    .footer = "See also: nvr unfrob.",
    .options = frob_options,
    .max_args = 1,
    .exec = frob_exec,
};

static const char frob_help[] =
    "usage: nvr frob [-c FILE] [--camera NAME] [-o OUT] [X]\n\n"
    "Frobs a camera.\nTwice if asked.\n\n"
    "  -c, --config FILE  the config file\n"
    "      --camera NAME  the camera (repeatable)\n"
    "      --from T       start\n"
    "      --to T         end\n"
    "  -n, --dry-run      delete nothing\n"
    "  -o, --output OUT   the file to write,\n"
    "                     or a folder\n"
    "      --json         machine-readable output\n"
    "  -h, --help         this text\n\n"
    "See also: nvr unfrob.\n";

/* What a file descriptor (stdout or stderr) gets while a call runs. */
struct capture {
    int fd, saved;
    FILE *f;
    char text[8192];
};

static void capture_begin(struct capture *c, int fd)
{
    fflush(stdout);
    fflush(stderr);
    c->fd = fd;
    c->f = tmpfile();
    assert_non_null(c->f);
    c->saved = dup(fd);
    assert_true(c->saved >= 0);
    assert_true(dup2(fileno(c->f), fd) >= 0);
}

static const char *capture_end(struct capture *c)
{
    size_t n;

    fflush(stdout);
    fflush(stderr);
    assert_true(dup2(c->saved, c->fd) >= 0);
    close(c->saved);
    rewind(c->f);
    n = fread(c->text, 1, sizeof(c->text) - 1, c->f);
    c->text[n] = '\0';
    fclose(c->f);
    return c->text;
}

/* Runs frob with the given words after "frob"; returns the exit status
 * and what went to stdout and stderr. */
static int run_frob(struct capture *out, struct capture *err, int n, ...)
{
    char *argv[32];
    va_list ap;
    int rc;

    assert_true(n < 31);
    argv[0] = "frob";
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        argv[i + 1] = va_arg(ap, char *);
    va_end(ap);
    argv[n + 1] = NULL;
    exec_calls = 0;
    capture_begin(out, STDOUT_FILENO);
    capture_begin(err, STDERR_FILENO);
    rc = cli_run(&frob_entry, n + 1, argv);
    capture_end(err);
    capture_end(out);
    return rc;
}

static void test_cli_long_and_short(void **state)
{
    char *argv[] = {"frob", "--config", "a.ini", "-n",     "--camera",
                    "gate", "-o",       "x.mp4", "--json", NULL};
    struct cli_args a;

    assert_int_equal(cli_parse(&frob_entry, "frob", 9, argv, &a), 0);
    assert_string_equal(a.config_path, "a.ini");
    assert_string_equal(a.camera, "gate");
    assert_int_equal(a.n_cameras, 1);
    assert_int_equal(a.json, 1);
    assert_true(cli_args_has(&a, "dry-run"));
    assert_string_equal(cli_args_get(&a, "dry-run"), "");
    assert_string_equal(cli_args_get(&a, "output"), "x.mp4");
    assert_null(cli_args_get(&a, "from"));
    assert_null(cli_args_get(&a, "no-such-option"));
    assert_int_equal(a.has_from, 0);
    assert_true(a.from_us == INT64_MIN && a.to_us == INT64_MAX);
    assert_int_equal(a.argc, 0);
    assert_ptr_equal(a.entry, &frob_entry);
    assert_string_equal(a.cmd, "frob");
}

static void test_cli_value_forms(void **state)
{
    char *argv[] = {"frob",
                    "--config=a.ini",
                    "-ob.mp4",
                    "--camera",
                    "one",
                    "--camera=two",
                    "-nc",
                    "c.ini",
                    "--from",
                    "2026-01-01T00:00:00Z",
                    "--to=2026-01-01T00:00:01Z",
                    NULL};
    struct cli_args a;

    assert_int_equal(cli_parse(&frob_entry, "frob", 11, argv, &a), 0);
    /* The last -c wins, as with getopt. */
    assert_string_equal(a.config_path, "c.ini");
    assert_string_equal(cli_args_get(&a, "output"), "b.mp4");
    assert_true(cli_args_has(&a, "dry-run"));
    assert_int_equal(a.n_cameras, 2);
    assert_string_equal(a.cameras[0], "one");
    assert_string_equal(a.cameras[1], "two");
    assert_string_equal(a.camera, "two");
    assert_true(a.has_from && a.has_to);
    assert_true(a.from_us == 1767225600000000LL);
    assert_true(a.to_us == 1767225601000000LL);
}

static void test_cli_operands_and_prefixes(void **state)
{
    char *argv[] = {"frob", "first", "--dry", "--js", "--", "-x", NULL};
    char *argv2[] = {"frob", "-", "--output", "--json", NULL};
    struct cli_args a;

    assert_int_equal(cli_parse(&frob_entry, "frob", 6, argv, &a), 0);
    assert_true(cli_args_has(&a, "dry-run"));
    assert_int_equal(a.json, 1);
    assert_int_equal(a.argc, 2);
    assert_string_equal(a.argv[0], "first");
    assert_string_equal(a.argv[1], "-x");
    /* "-" is an operand; an argument may start with "--". */
    assert_int_equal(cli_parse(&frob_entry, "frob", 4, argv2, &a), 0);
    assert_int_equal(a.argc, 1);
    assert_string_equal(a.argv[0], "-");
    assert_string_equal(cli_args_get(&a, "output"), "--json");
    assert_int_equal(a.json, 0);
}

static void test_cli_unknown_option(void **state)
{
    struct capture out, err;

    assert_int_equal(run_frob(&out, &err, 2, "--json", "--bogus"), 2);
    assert_int_equal(exec_calls, 0);
    assert_non_null(strstr(err.text, "nvr frob: unknown option '--bogus'\n"));
    /* The help follows, on stderr. */
    assert_non_null(strstr(err.text, "usage: nvr frob"));
    assert_string_equal(out.text, "");

    assert_int_equal(run_frob(&out, &err, 1, "-nZ"), 2);
    assert_non_null(strstr(err.text, "nvr frob: unknown option '-Z'\n"));
    assert_int_equal(run_frob(&out, &err, 1, "--bogus=1"), 2);
    assert_non_null(strstr(err.text, "nvr frob: unknown option '--bogus'\n"));
    assert_int_equal(run_frob(&out, &err, 1, "--c"), 2);
    assert_non_null(strstr(err.text, "nvr frob: ambiguous option '--c'\n"));
    assert_int_equal(run_frob(&out, &err, 1, "--json=yes"), 2);
    assert_non_null(
        strstr(err.text, "nvr frob: option '--json' takes no argument\n"));
    assert_int_equal(run_frob(&out, &err, 2, "a", "b"), 2);
    assert_non_null(strstr(err.text, "usage: nvr frob"));
    assert_int_equal(exec_calls, 0);
}

static void test_cli_missing_argument(void **state)
{
    struct capture out, err;

    assert_int_equal(run_frob(&out, &err, 1, "--config"), 2);
    assert_non_null(
        strstr(err.text, "nvr frob: option '--config' needs an argument\n"));
    assert_non_null(strstr(err.text, "usage: nvr frob"));
    assert_int_equal(run_frob(&out, &err, 2, "--json", "-o"), 2);
    assert_non_null(
        strstr(err.text, "nvr frob: option '-o' needs an argument\n"));
    assert_int_equal(exec_calls, 0);
}

static void test_cli_bad_time(void **state)
{
    struct capture out, err;
    char *argv[] = {"frob", "--to", "soon", NULL};
    struct cli_args a;

    assert_int_equal(run_frob(&out, &err, 2, "--from", "yesterday-ish"), 2);
    assert_string_equal(
        err.text, "nvr frob: --from: not an ISO 8601 time: 'yesterday-ish'\n");
    assert_int_equal(exec_calls, 0);
    capture_begin(&err, STDERR_FILENO);
    assert_int_equal(cli_parse(&frob_entry, "hold", 3, argv, &a), -ERANGE);
    capture_end(&err);
    assert_string_equal(err.text,
                        "nvr hold: --to: not an ISO 8601 time: 'soon'\n");
}

/* The hour repeated when BST ends is refused with both offsets named, not
 * read as one of them silently. */
static void test_cli_ambiguous_local_time(void **state)
{
    struct capture out, err;

    setenv("TZ", "Europe/London", 1);
    tzset();
    assert_int_equal(run_frob(&out, &err, 2, "--from", "2026-10-25T01:30"), 2);
    assert_string_equal(err.text,
                        "nvr frob: --from: 2026-10-25 01:30 happens twice "
                        "(clocks go back): add +01:00 BST or +00:00 GMT\n");
    assert_int_equal(exec_calls, 0);
    unsetenv("TZ");
    tzset();
}

static void test_cli_help(void **state)
{
    struct capture out, err;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    assert_non_null(f);
    cli_help(f, &frob_entry);
    fclose(f);
    assert_string_equal(buf, frob_help);
    free(buf);
    /* --help and -h stop at once, with exit 0 and the help on stdout. */
    assert_int_equal(run_frob(&out, &err, 2, "--help", "--bogus"), 0);
    assert_string_equal(out.text, frob_help);
    assert_string_equal(err.text, "");
    assert_int_equal(run_frob(&out, &err, 1, "-nh"), 0);
    assert_string_equal(out.text, frob_help);
    assert_int_equal(exec_calls, 0);
}

static void test_cli_exec(void **state)
{
    struct capture out, err;

    assert_int_equal(run_frob(&out, &err, 3, "x", "--camera", "gate"), 0);
    assert_int_equal(exec_calls, 1);
    assert_string_equal(exec_args.camera, "gate");
    assert_int_equal(exec_args.argc, 1);
    assert_string_equal(exec_args.argv[0], "x");
}

static const struct cli_entry *const frob_subs[] = {&frob_entry, NULL};

static const struct cli_entry frobs_entry = {
    .name = "frobs",
    .usage = "nvr frobs frob [X]",
    .about = "Frobs, by subcommand.",
    .subs = frob_subs,
};

static void test_cli_subcommands(void **state)
{
    char *argv[] = {"frobs", "frob", "--bogus", NULL};
    char *argv2[] = {"frobs", "unfrob", NULL};
    char *argv3[] = {"frobs", "frob", "--from", "x", NULL};
    struct capture err;

    capture_begin(&err, STDERR_FILENO);
    assert_int_equal(cli_run(&frobs_entry, 3, argv), 2);
    capture_end(&err);
    /* Messages name the command, the help is the command's. */
    assert_non_null(strstr(err.text, "nvr frobs: unknown option '--bogus'\n"
                                     "usage: nvr frobs frob [X]\n"));
    capture_begin(&err, STDERR_FILENO);
    assert_int_equal(cli_run(&frobs_entry, 2, argv2), 2);
    capture_end(&err);
    assert_non_null(
        strstr(err.text, "nvr frobs: unknown subcommand 'unfrob'\n"));
    capture_begin(&err, STDERR_FILENO);
    assert_int_equal(cli_run(&frobs_entry, 4, argv3), 2);
    capture_end(&err);
    assert_string_equal(err.text,
                        "nvr frobs: --from: not an ISO 8601 time: 'x'\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_long_and_short),
        cmocka_unit_test(test_cli_value_forms),
        cmocka_unit_test(test_cli_operands_and_prefixes),
        cmocka_unit_test(test_cli_unknown_option),
        cmocka_unit_test(test_cli_missing_argument),
        cmocka_unit_test(test_cli_bad_time),
        cmocka_unit_test(test_cli_ambiguous_local_time),
        cmocka_unit_test(test_cli_help),
        cmocka_unit_test(test_cli_exec),
        cmocka_unit_test(test_cli_subcommands),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
