/* SPDX-License-Identifier: MIT */
/*
 * The command line: the table of subcommands (git style), global help and
 * version, the shared option parser and --help writer, and the shared
 * start-up of every subcommand (logging, config, catalog).
 */
#include "config.h"
#include "nvr/cli.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/log.h>

#include "nvr/base/compiler.h"
#include "nvr/base/err.h"
#include "nvr/base/escape.h"
#include "nvr/base/log.h"
#include "nvr/base/perm.h"
#include "nvr/base/timefmt.h"
#include "nvr/cmd.h"
#include "nvr/ipc_client.h"
#include "nvr/ipc_proto.h"
#include "storage/audit.h"
#include "storage/catalog.h"

/* Where --help starts the options' text, at the least. */
#define CLI_HELP_COLUMN_MIN 21

/* Every subcommand, in the order 'nvr --help' lists them. */
static const struct cli_entry *const cli_commands[] = {
    &cmd_run_entry,    &cmd_demo_entry,           &cmd_status_entry,
    &cmd_probe_entry,  &cmd_recordings_entry,     &cmd_retention_entry,
    &cmd_hold_entry,   &cmd_verify_storage_entry, &cmd_tui_entry,
    &cmd_export_entry, &cmd_verify_entry,         &cmd_audit_entry,
    &cmd_check_entry,  &cmd_systemd_unit_entry,
};

static void usage(FILE *f)
{
    fprintf(f, "usage: nvr <command> [options]\n\n"
               "A local-only network video recorder.\n\ncommands:\n");
    for (size_t i = 0; i < NVR_ARRAY_SIZE(cli_commands); i++)
        fprintf(f, "  %-11s %s\n", cli_commands[i]->name,
                cli_commands[i]->summary);
    fprintf(f, "\n'nvr <command> --help' describes each command.\n"
               "-c FILE defaults to $NVR_CONFIG, then ./nvr.ini, then "
               "/etc/nvr/nvr.ini.\n");
}

/* FFmpeg's log lines, routed into ours at a matching level. */
NVR_PRINTF(3, 0)
static void av_log_route(void *avcl, int level, const char *fmt, va_list vl)
{
    enum nvr_log_level lvl;
    char line[512];
    size_t n;

    if (level > av_log_get_level())
        return;
    if (level <= AV_LOG_ERROR)
        lvl = NVR_LOG_ERROR;
    else if (level <= AV_LOG_WARNING)
        lvl = NVR_LOG_WARN;
    else if (level <= AV_LOG_INFO)
        lvl = NVR_LOG_INFO;
    else
        lvl = NVR_LOG_DEBUG;
    if (lvl > nvr_log_level_current)
        return;
    vsnprintf(line, sizeof(line), fmt, vl);
    n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    if (n > 0)
        nvr_log(lvl, "ffmpeg", "%s", line);
}

/* Log routing (FFmpeg's av_log, SQLite's error log) and the level from
 * $NVR_LOG_LEVEL, first thing. */
static void cli_init_logging(void)
{
    const char *lvl = getenv("NVR_LOG_LEVEL");
    enum nvr_log_level level;

    if (lvl && nvr_log_level_parse(lvl, &level) == 0)
        nvr_log_set_level(level);
    av_log_set_level(AV_LOG_WARNING);
    av_log_set_callback(av_log_route);
    catalog_route_log();
}

int nvr_cli_load_config(const char *path, struct nvr_config **out)
{
    char err[8192];
    int rc;

    if (!path)
        path = nvr_config_default_path();
    rc = nvr_config_load(path, out, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "nvr: config %s is not valid:\n%s", path, err);
        if (err[0] && err[strlen(err) - 1] != '\n')
            fputc('\n', stderr);
        return NVR_EXIT_USAGE;
    }
    return 0;
}

void nvr_cli_storage_path(const struct nvr_config *cfg, const char *rel,
                          char *out, size_t out_size)
{
    snprintf(out, out_size, "%s/%s", cfg->storage_path, rel);
}

/* ---- the shared option parser ---- */

/* Index of the option `name` in e's table, or -1. */
static int cli_option_index(const struct cli_entry *e, const char *name)
{
    for (int i = 0; e->options && e->options[i].name; i++)
        if (strcmp(e->options[i].name, name) == 0)
            return i;
    return -1;
}

const char *cli_args_get(const struct cli_args *a, const char *name)
{
    int i = cli_option_index(a->entry, name);

    return i < 0 ? NULL : a->value[i];
}

int cli_args_has(const struct cli_args *a, const char *name)
{
    return cli_args_get(a, name) != NULL;
}

/* The option a long name given as `name` (len bytes) stands for: the one
 * of that name, else the only one it is a prefix of. -1: none, -2: more
 * than one. */
static int cli_find_long(const struct cli_entry *e, const char *name,
                         size_t len)
{
    int found = -1;

    for (int i = 0; e->options[i].name; i++) {
        const char *o = e->options[i].name;

        if (strncmp(o, name, len) != 0)
            continue;
        if (o[len] == '\0')
            return i;
        found = found == -1 ? i : -2;
    }
    return found;
}

static int cli_find_short(const struct cli_entry *e, int letter)
{
    for (int i = 0; e->options[i].name; i++)
        if (e->options[i].letter == letter)
            return i;
    return -1;
}

/* Records option i with value v (NULL for a flag). */
static int cli_take(const struct cli_entry *e, const char *cmd, int i,
                    const char *v, struct cli_args *out)
{
    const char *name = e->options[i].name;
    int64_t *t = NULL;
    char why[160], shown[96];

    out->value[i] = v ? v : "";
    if (strcmp(name, "help") == 0)
        return CLI_PARSE_HELP;
    if (strcmp(name, "config") == 0) {
        out->config_path = v;
    } else if (strcmp(name, "camera") == 0) {
        if (out->n_cameras < CLI_MAX_CAMERAS)
            out->cameras[out->n_cameras] = v;
        out->n_cameras++;
        out->camera = v;
    } else if (strcmp(name, "from") == 0) {
        t = &out->from_us;
        out->has_from = 1;
    } else if (strcmp(name, "to") == 0) {
        t = &out->to_us;
        out->has_to = 1;
    } else if (strcmp(name, "json") == 0) {
        out->json = 1;
    }
    if (t && nvr_time_parse_why(v, t, why, sizeof(why)) == -EDOM) {
        fprintf(stderr, "nvr %s: --%s: %s\n", cmd, name, why);
        return -ERANGE;
    }
    if (t && nvr_time_parse(v, t) != 0) {
        nvr_escape_text(v, shown, sizeof(shown));
        fprintf(stderr, "nvr %s: --%s: not an ISO 8601 time: '%s'\n", cmd, name,
                shown);
        return -ERANGE;
    }
    return 0;
}

/* One "--name[=value]" at argv[*ip]; moves *ip past what it used. */
static int cli_parse_long(const struct cli_entry *e, const char *cmd, int argc,
                          char **argv, int *ip, struct cli_args *out)
{
    const char *arg = argv[*ip] + 2, *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    int i = cli_find_long(e, arg, len);

    if (i < 0) {
        fprintf(stderr, "nvr %s: %s option '--%.*s'\n", cmd,
                i == -2 ? "ambiguous" : "unknown", (int)len, arg);
        return -EINVAL;
    }
    if (!e->options[i].has_arg) {
        if (eq) {
            fprintf(stderr, "nvr %s: option '--%s' takes no argument\n", cmd,
                    e->options[i].name);
            return -EINVAL;
        }
        return cli_take(e, cmd, i, NULL, out);
    }
    if (eq)
        return cli_take(e, cmd, i, eq + 1, out);
    if (*ip + 1 >= argc) {
        fprintf(stderr, "nvr %s: option '--%s' needs an argument\n", cmd,
                e->options[i].name);
        return -EINVAL;
    }
    return cli_take(e, cmd, i, argv[++*ip], out);
}

/* A cluster of short options ("-n", "-nh", "-cFILE", "-c FILE"). */
static int cli_parse_short(const struct cli_entry *e, const char *cmd, int argc,
                           char **argv, int *ip, struct cli_args *out)
{
    for (const char *p = argv[*ip] + 1; *p; p++) {
        int i = cli_find_short(e, (unsigned char)*p), rc;

        if (i < 0) {
            fprintf(stderr, "nvr %s: unknown option '-%c'\n", cmd, *p);
            return -EINVAL;
        }
        if (e->options[i].has_arg) {
            if (p[1])
                return cli_take(e, cmd, i, p + 1, out);
            if (*ip + 1 >= argc) {
                fprintf(stderr, "nvr %s: option '-%c' needs an argument\n", cmd,
                        *p);
                return -EINVAL;
            }
            return cli_take(e, cmd, i, argv[++*ip], out);
        }
        rc = cli_take(e, cmd, i, NULL, out);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int cli_parse(const struct cli_entry *e, const char *cmd, int argc, char **argv,
              struct cli_args *out)
{
    static const struct cli_option none[] = {CLI_OPT_END};
    struct cli_entry bare;
    int n_ops = 1, rc = 0, i;

    memset(out, 0, sizeof(*out));
    out->entry = e;
    if (!e->options) {
        bare = *e;
        bare.options = none;
        e = &bare;
    }
    out->cmd = cmd;
    out->from_us = INT64_MIN;
    out->to_us = INT64_MAX;
    for (i = 1; i < argc && rc == 0; i++) {
        const char *arg = argv[i];

        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        }
        if (arg[0] != '-' || arg[1] == '\0')
            argv[n_ops++] = argv[i]; /* slots before i are used up */
        else if (arg[1] == '-')
            rc = cli_parse_long(e, cmd, argc, argv, &i, out);
        else
            rc = cli_parse_short(e, cmd, argc, argv, &i, out);
    }
    if (rc != 0)
        return rc;
    for (; i < argc; i++)
        argv[n_ops++] = argv[i];
    out->argc = n_ops - 1;
    out->argv = argv + 1;
    return 0;
}

/* ---- --help from the table ---- */

/* Width of "--name ARG". */
static size_t cli_option_width(const struct cli_option *o)
{
    return 2 + strlen(o->name) + (o->arg ? 1 + strlen(o->arg) : 0);
}

void cli_help(FILE *f, const struct cli_entry *e)
{
    size_t col = CLI_HELP_COLUMN_MIN;

    fprintf(f, "usage: %s\n\n%s\n", e->usage, e->about);
    for (int i = 0; e->options && e->options[i].name; i++)
        col = NVR_MAX(col, 6 + cli_option_width(&e->options[i]) + 2);
    if (e->options && e->options[0].name)
        fputc('\n', f);
    for (int i = 0; e->options && e->options[i].name; i++) {
        const struct cli_option *o = &e->options[i];
        int w;

        if (o->letter)
            w = fprintf(f, "  -%c, --%s", o->letter, o->name);
        else
            w = fprintf(f, "      --%s", o->name);
        if (o->arg)
            w += fprintf(f, " %s", o->arg);
        fprintf(f, "%*s", (int)col - w, "");
        for (const char *h = o->help; *h; h++) {
            fputc(*h, f);
            if (*h == '\n')
                fprintf(f, "%*s", (int)col, "");
        }
        fputc('\n', f);
    }
    if (e->footer)
        fprintf(f, "\n%s\n", e->footer);
}

/* ---- the shared start-up ---- */

void nvr_cli_catalog_refused(const char *cmd, const char *path, int write)
{
    char why[NVR_PERM_WHY_MAX];

    if (nvr_perm_explain(path, write ? NVR_PERM_WRITE : NVR_PERM_READ, why,
                         sizeof(why)) != 0)
        snprintf(why, sizeof(why), "refused by the system");
    fprintf(stderr,
            "nvr %s: cannot open the catalog %s: permission denied: %s "
            "(run as the recorder's user, or ask for its group)\n",
            cmd, path, why);
}

/* Opens the catalog e asks for, with e's messages. 0, or an exit status. */
static int cli_open_catalog(const struct cli_entry *e, const char *cmd,
                            const struct nvr_config *cfg, struct catalog **cat)
{
    int write = (e->flags & CLI_CATALOG_WRITE) != 0;
    char path[2048];
    int rc;

    nvr_cli_storage_path(cfg, CATALOG_FILE, path, sizeof(path));
    if ((e->flags & CLI_CATALOG_EXISTS) && access(path, F_OK) != 0) {
        if (errno == EACCES)
            nvr_cli_catalog_refused(cmd, path, write);
        else
            fprintf(stderr,
                    "nvr %s: no catalog at %s (has the recorder run?)\n", cmd,
                    path);
        return NVR_EXIT_FAILURE;
    }
    if (!(e->flags & (CLI_CATALOG_READ | CLI_CATALOG_WRITE)))
        return 0;
    rc = catalog_open(path,
                      (e->flags & CLI_CATALOG_WRITE) ? CATALOG_READWRITE
                                                     : CATALOG_READONLY,
                      cat);
    if (rc == -ENOENT && (e->flags & CLI_CATALOG_OPTIONAL))
        return 0;
    if (rc == -EACCES) {
        nvr_cli_catalog_refused(cmd, path, write);
        return NVR_EXIT_FAILURE;
    }
    if (rc < 0) {
        fprintf(stderr, "nvr %s: catalog %s: %s%s\n", cmd, path,
                rc == -ENOENT && e->catalog_missing ? e->catalog_missing
                                                    : nvr_strerror(rc),
                e->catalog_hint ? e->catalog_hint : "");
        return NVR_EXIT_FAILURE;
    }
    return 0;
}

void cmd_query_from_args(const struct cli_args *a, struct cmd_query *q)
{
    memset(q, 0, sizeof(*q));
    q->camera = a->camera;
    q->has_from = a->has_from;
    q->has_to = a->has_to;
    q->from_us = a->from_us;
    q->to_us = a->to_us;
    q->json = a->json;
    q->verify = a->entry && cli_args_has(a, "verify");
    q->reason = a->entry ? cli_args_get(a, "reason") : NULL;
    q->all = a->entry && cli_args_has(a, "all");
    q->check = a->entry && cli_args_has(a, "check");
    /* nvr hold release ID: its check has accepted the operand. */
    if (a->entry && a->entry->ipc_request == IPC_MSG_HOLD_RELEASE &&
        a->argc == 1)
        q->hold_id = strtoll(a->argv[0], NULL, 10);
}

/*
 * Asks the running recorder when e has a request for it: the exit status,
 * or -ENOTCONN when no recorder answers (or --direct was given) and the
 * command reads the storage itself.
 */
static int cli_ask_recorder(const struct cli_entry *e, const char *cmd,
                            const struct cli_args *a,
                            const struct nvr_config *cfg)
{
    struct cmd_query q;

    if (!e->ipc_request || !cfg)
        return -ENOTCONN;
    if (cli_args_has(a, "direct")) {
        if (geteuid() != 0) {
            fprintf(stderr,
                    "nvr %s: --direct reads the storage itself and is for "
                    "root only; without it the running recorder answers\n",
                    cmd);
            return NVR_EXIT_USAGE;
        }
        return -ENOTCONN;
    }
    cmd_query_from_args(a, &q);
    return ipc_client_request(cfg, cmd, e->ipc_request, &q, stdout, stderr);
}

/* --direct by root: the audit log says who read the storage, and what. */
static void cli_audit_direct(const char *cmd, const struct cli_args *a,
                             const struct nvr_config *cfg)
{
    struct audit_entry *ae = calloc(1, sizeof(*ae));
    struct catalog *cat = NULL;
    char path[2048];
    int err = ae ? 0 : -ENOMEM;

    nvr_cli_storage_path(cfg, CATALOG_FILE, path, sizeof(path));
    if (err == 0)
        err = catalog_open(path, CATALOG_READWRITE, &cat);
    if (err == 0) {
        snprintf(ae->kind, sizeof(ae->kind), "%s", AUDIT_VIEW);
        snprintf(ae->camera, sizeof(ae->camera), "%s",
                 a->camera ? a->camera : "");
        ae->from_us = a->has_from ? a->from_us : 0;
        ae->to_us = a->has_to ? a->to_us : 0;
        snprintf(ae->detail, sizeof(ae->detail),
                 "nvr %s --direct: the storage read without the recorder", cmd);
        err = audit_append(cat, ae);
    }
    if (err < 0)
        fprintf(stderr,
                "nvr %s: cannot write the audit entry of --direct "
                "into %s: %s\n",
                cmd, path, nvr_strerror(err));
    catalog_close(cat);
    free(ae);
}

/* Parse, check, config, catalog, exec; help is `help`'s, messages name
 * `cmd`. */
static int cli_run_as(const struct cli_entry *e, const struct cli_entry *help,
                      const char *cmd, int argc, char **argv)
{
    struct cli_args a;
    struct nvr_config *cfg = NULL;
    struct catalog *cat = NULL;
    unsigned need_catalog =
        CLI_CATALOG_READ | CLI_CATALOG_WRITE | CLI_CATALOG_EXISTS;
    int rc = cli_parse(e, cmd, argc, argv, &a);

    if (rc == CLI_PARSE_HELP) {
        cli_help(stdout, help);
        return NVR_EXIT_OK;
    }
    if (rc == 0 &&
        (a.argc < e->min_args || (e->max_args >= 0 && a.argc > e->max_args)))
        rc = -EINVAL;
    if (rc == -EINVAL)
        cli_help(stderr, help);
    if (rc < 0)
        return NVR_EXIT_USAGE;
    if (e->check) {
        rc = e->check(&a);
        if (rc != 0)
            return rc;
    }
    if (e->flags & (CLI_CONFIG | need_catalog)) {
        rc = nvr_cli_load_config(a.config_path, &cfg);
        if (rc != 0)
            return rc;
    }
    rc = cli_ask_recorder(e, cmd, &a, cfg);
    if (rc != -ENOTCONN) {
        nvr_config_free(cfg);
        return rc;
    }
    rc = 0;
    if (e->flags & need_catalog)
        rc = cli_open_catalog(e, cmd, cfg, &cat);
    if (rc == 0)
        rc = e->exec(&a, cfg, cat);
    if (rc == 0 && e->ipc_request && cli_args_has(&a, "direct"))
        cli_audit_direct(cmd, &a, cfg);
    catalog_close(cat);
    nvr_config_free(cfg);
    return rc;
}

int cli_run(const struct cli_entry *e, int argc, char **argv)
{
    const char *sub;

    if (!e->subs)
        return cli_run_as(e, e, e->name, argc, argv);
    if (argc < 2) {
        cli_help(stderr, e);
        return NVR_EXIT_USAGE;
    }
    sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        cli_help(stdout, e);
        return NVR_EXIT_OK;
    }
    for (int i = 0; e->subs[i]; i++) {
        if (strcmp(sub, e->subs[i]->name) == 0)
            return cli_run_as(e->subs[i], e, e->name, argc - 1, argv + 1);
    }
    fprintf(stderr, "nvr %s: unknown subcommand '%s'\n", e->name, sub);
    cli_help(stderr, e);
    return NVR_EXIT_USAGE;
}

int nvr_cli_main(int argc, char **argv)
{
    const char *name;

    /* A camera closing its socket must not kill the recorder. */
    signal(SIGPIPE, SIG_IGN);
    cli_init_logging();
    if (argc < 2) {
        usage(stderr);
        return NVR_EXIT_USAGE;
    }
    name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 ||
        strcmp(name, "help") == 0) {
        usage(stdout);
        return NVR_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("nvr %s\n", NVR_VERSION);
        return NVR_EXIT_OK;
    }
    for (size_t i = 0; i < NVR_ARRAY_SIZE(cli_commands); i++) {
        if (strcmp(name, cli_commands[i]->name) == 0)
            return cli_run(cli_commands[i], argc - 1, argv + 1);
    }
    fprintf(stderr, "nvr: unknown command '%s'\n\n", name);
    usage(stderr);
    return NVR_EXIT_USAGE;
}
