/* SPDX-License-Identifier: MIT */
/*
 * Scrubs URL passwords out of the process's argument memory (see
 * argv_scrub.h). The kernel builds /proc/PID/cmdline from the bytes between
 * the start and the end of the original arguments, read at the time of the
 * read, so overwriting them in place is what hides a password; pointing
 * argv[i] elsewhere alone would not. The password was visible from exec
 * until this runs, which the warning says.
 */
#include "config.h"
#include "nvr/argv_scrub.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvr/base/redact.h"

int argv_scrub_passwords(int argc, char **argv, FILE *warn)
{
    int n = 0;

    for (int i = 1; i < argc; i++) {
        char *arg = argv[i], *copy;
        size_t off, len, total;

        if (!arg || !nvr_redact_find_password(arg, &off, &len))
            continue;
        total = strlen(arg);
        copy = malloc(total + 1);
        if (!copy)
            return -ENOMEM;
        memcpy(copy, arg, total + 1);
        /* "user:pass@host" becomes "user@host": drop ':' and the password,
         * and clear the bytes freed at the end. */
        memmove(arg + off - 1, arg + off + len, total - off - len + 1);
        memset(arg + total - len, 0, len + 1);
        argv[i] = copy;
        n++;
        if (warn)
            fprintf(warn,
                    "nvr: warning: every user of this machine can read the "
                    "password in argument %d in the process list (ps, "
                    "/proc/PID/cmdline); nvr removed it at start-up, but it "
                    "was visible until then. Use --password-file FILE or "
                    "--password-stdin instead\n",
                    i);
    }
    return n;
}
