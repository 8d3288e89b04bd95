/* SPDX-License-Identifier: MIT */
/*
 * The subcommand table (git style): nvr <command> [options].
 */
#ifndef NVR_CLI_H
#define NVR_CLI_H

/* Runs the command line. Returns the exit status: 0 ok, 1 runtime failure,
 * 2 usage or config error. */
int nvr_cli_main(int argc, char **argv);

#endif
