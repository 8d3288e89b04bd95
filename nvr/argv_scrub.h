/* SPDX-License-Identifier: MIT */
/*
 * Passwords given on the command line (rtsp://user:pass@host/...) are
 * readable by every local user in /proc/PID/cmdline for as long as the
 * process runs. main() scrubs them out of the argument memory before
 * anything else runs, keeping a private copy for the program, and says
 * on stderr which option to use instead.
 */
#ifndef NVR_NVR_ARGV_SCRUB_H
#define NVR_NVR_ARGV_SCRUB_H

#include <stdio.h>

/*
 * For every argv[i] (i >= 1) that is a URL with a password: points argv[i]
 * at a heap copy of the argument (kept until exit), then removes the
 * password from the original argument memory, which is what the kernel
 * shows in /proc/PID/cmdline (the URL stays, without ":password"), and
 * writes one warning per such argument to warn (may be NULL). Returns the
 * number of arguments scrubbed, or -ENOMEM (nothing changed for the
 * argument that could not be copied; the caller should exit). Call first
 * thing in main(), before any other thread exists.
 */
int argv_scrub_passwords(int argc, char **argv, FILE *warn);

#endif
