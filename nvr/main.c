/* SPDX-License-Identifier: MIT */
/*
 * The nvr executable: hands argv to the subcommand table in cli.c.
 */
#include "config.h"
#include "nvr/cli.h"

int main(int argc, char **argv)
{
    return nvr_cli_main(argc, argv);
}
