/*
 * version.c - `loci version`.
 */
#include <stdio.h>

#include "cli/commands.h"
#include "util/version.h"

int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("loci %s\n", LOCI_VERSION);
    return 0;
}
