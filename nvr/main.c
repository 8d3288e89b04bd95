/* SPDX-License-Identifier: MIT */
/*
 * The nvr executable: scrubs passwords out of the command line, then hands
 * argv to the subcommand table in cli.c.
 */
#include "config.h"
#include "nvr/cli.h"

#include <stdio.h>

#include "nvr/argv_scrub.h"

int main(int argc, char **argv)
{
    /* First of all: every local user can read our arguments. */
    if (argv_scrub_passwords(argc, argv, stderr) < 0) {
        fputs("nvr: out of memory\n", stderr);
        return 1;
    }
    return nvr_cli_main(argc, argv);
}
