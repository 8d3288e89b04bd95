/* SPDX-License-Identifier: MIT */
/*
 * The command line, after tmux's cmd_entry and args_parse: every subcommand
 * is a table entry (name, summary, options, usage, what it needs, exec),
 * one shared parser turns argv into a struct cli_args, and the shared
 * start-up loads the config and opens the catalog the entry asks for
 * before its exec runs. --help is generated from the entry.
 */
#ifndef NVR_CLI_H
#define NVR_CLI_H

#include <stdint.h>
#include <stdio.h>

struct catalog;
struct nvr_config;

/* Options of one entry at most, --help included. */
#define CLI_MAX_OPTIONS 16
/* --camera options kept (storage/export.h's EXPORT_MAX_CLIPS). */
#define CLI_MAX_CAMERAS 64

/* One option of an entry. Tables end with an entry whose name is NULL. */
struct cli_option {
    const char *name; /* long name, without "--" */
    int letter;       /* short option letter, 0 for none */
    int has_arg;      /* 1: takes an argument (--name=V or --name V) */
    const char *arg;  /* the argument's name in --help ("FILE") */
    const char *help; /* --help text; '\n' continues under the column */
};

/* The table rows of the options every command spells the same way. */
#define CLI_OPT_CONFIG                              \
    {                                               \
        "config", 'c', 1, "FILE", "the config file" \
    }
#define CLI_OPT_JSON                                  \
    {                                                 \
        "json", 0, 0, NULL, "machine-readable output" \
    }
#define CLI_OPT_DIRECT                                                  \
    {                                                                   \
        "direct", 0, 0, NULL,                                           \
            "read the storage itself, not the running recorder\n(root " \
            "only; audited)"                                            \
    }
#define CLI_OPT_HELP                      \
    {                                     \
        "help", 'h', 0, NULL, "this text" \
    }
#define CLI_OPT_END            \
    {                          \
        NULL, 0, 0, NULL, NULL \
    }

/*
 * What the shared parser found. The common options (-c/--config, --camera,
 * --from, --to, --json) have fields of their own; every option's value
 * is in value[] too, by its index in the entry's table. Strings are
 * borrowed from argv.
 */
struct cli_args {
    const struct cli_entry *entry; /* whose options these are */
    const char *cmd;               /* the command named in messages ("hold") */
    const char *config_path;       /* -c, NULL if not given */
    const char *camera;            /* the last --camera, NULL if none */
    const char *cameras[CLI_MAX_CAMERAS]; /* every --camera, in order */
    int n_cameras;                        /* how many were given */
    int has_from, has_to;
    int64_t from_us, to_us; /* INT64_MIN / INT64_MAX when not given */
    int json;
    const char *value[CLI_MAX_OPTIONS]; /* argument, "" for a flag, or
                                           NULL when not given */
    int argc;                           /* the operands */
    char **argv;
};

/* What an entry needs before its exec runs. */
#define CLI_CONFIG           (1u << 0) /* the config (-c, $NVR_CONFIG, ...) */
#define CLI_CATALOG_READ     (1u << 1) /* the catalog, read-only */
#define CLI_CATALOG_WRITE    (1u << 2) /* the catalog, read-write */
#define CLI_CATALOG_EXISTS   (1u << 3) /* refuse a storage without one */
#define CLI_CATALOG_OPTIONAL (1u << 4) /* none yet: exec gets NULL */

struct cli_entry {
    const char *name;
    const char *summary; /* one line for 'nvr --help' */
    /* --help: "usage: " usage, about, the options, footer. */
    const char *usage; /* from "nvr NAME", lines after the first indented */
    const char *about;
    const char *footer; /* may be NULL */
    const struct cli_option *options;
    int min_args, max_args; /* operands; max -1: any number */
    unsigned flags;         /* CLI_CONFIG, CLI_CATALOG_* */
    /* A catalog that cannot be opened: "nvr NAME: catalog PATH: WHY"
     * followed by hint; WHY is catalog_missing when the file does not
     * exist (NULL: the errno text). */
    const char *catalog_missing;
    const char *catalog_hint;
    /* Usage checks before the config is loaded: 0 or an exit status. */
    int (*check)(const struct cli_args *a);
    /* The command: borrows everything; cfg and cat are NULL unless the
     * flags ask for them (cat also when CLI_CATALOG_OPTIONAL found none).
     * Returns the exit status. */
    int (*exec)(const struct cli_args *a, const struct nvr_config *cfg,
                struct catalog *cat);
    /* The request the running recorder answers instead (IPC_MSG_*, 0:
     * none): the command asks it over [access] socket when one answers
     * and --direct is not given (nvr/ipc_client.h). */
    unsigned char ipc_request;
    /* Subcommands (nvr hold add|list|release), NULL-terminated; they share
     * this entry's --help, and their messages name this entry. */
    const struct cli_entry *const *subs;
};

/* cli_parse() results besides 0. */
#define CLI_PARSE_HELP 1 /* --help was given */

/*
 * Parses argv (argv[0] = the command's own name) against e's options into
 * *out, naming `cmd` in messages. Options and operands may be mixed; "--"
 * ends the options, and a unique prefix of a long name stands for it.
 * The operands are moved to the front of argv (out->argv). Returns 0,
 * CLI_PARSE_HELP, -EINVAL after a message naming an unknown option or
 * one without its argument (the caller shows the help), or -ERANGE after
 * a message about an option's value (a time that does not parse).
 */
int cli_parse(const struct cli_entry *e, const char *cmd, int argc, char **argv,
              struct cli_args *out);

/* Writes e's --help text to f. */
void cli_help(FILE *f, const struct cli_entry *e);

/* The value of option `name` (of a->entry): the argument, "" for a flag
 * given, or NULL when it was not given. */
const char *cli_args_get(const struct cli_args *a, const char *name);

/* 1 if option `name` was given, else 0. */
int cli_args_has(const struct cli_args *a, const char *name);

/*
 * Runs entry e with argv (argv[0] = its name): parse, check, config,
 * catalog, exec. Returns the exit status: 0 ok, 1 runtime failure, 2
 * usage or config error.
 */
int cli_run(const struct cli_entry *e, int argc, char **argv);

/* Runs the command line. Returns the exit status. */
int nvr_cli_main(int argc, char **argv);

#endif
