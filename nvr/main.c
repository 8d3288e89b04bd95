/* SPDX-License-Identifier: MIT */
/*
 * The nvr executable: scrubs passwords out of the command line, then hands
 * argv to the subcommand table in cli.c.
 */
#include "config.h"
#include "nvr/cli.h"

#include <stdio.h>

#include "nvr/argv_scrub.h"

#ifdef NVR_TEST_HOOKS
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "storage/export.h"

/* Test builds only (nvr-testhooks): with NVR_TEST_EXPORT_STEPS or
 * NVR_TEST_EXPORT_KILL_AT set, each step of an export is printed to stderr
 * as "test hook: export step N: NAME", and with NVR_TEST_EXPORT_KILL_AT=N
 * the process kills itself (SIGKILL) at step N, so a test can interrupt
 * an export at every point of its publishing. (Silent otherwise: the TUI
 * shares the terminal with stderr.) */
static void test_export_step(void *user, const char *step)
{
    static int n;
    const char *at = getenv("NVR_TEST_EXPORT_KILL_AT");

    (void)user;
    n++;
    if (!at && !getenv("NVR_TEST_EXPORT_STEPS"))
        return;
    fprintf(stderr, "test hook: export step %d: %s\n", n, step);
    fflush(stderr);
    if (at && atoi(at) == n)
        raise(SIGKILL);
}
#endif

int main(int argc, char **argv)
{
    /* First of all: every local user can read our arguments. */
    if (argv_scrub_passwords(argc, argv, stderr) < 0) {
        fputs("nvr: out of memory\n", stderr);
        return 1;
    }
#ifdef NVR_TEST_HOOKS
    export_set_step_hook(test_export_step, NULL);
#endif
    return nvr_cli_main(argc, argv);
}
