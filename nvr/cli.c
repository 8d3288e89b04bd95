/* SPDX-License-Identifier: MIT */
#include "config.h"
#include "nvr/cli.h"
int nvr_cli_main(int argc, char **argv)
{
    return 2;
}
