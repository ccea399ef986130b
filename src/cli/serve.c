/*
 * serve.c - `loci serve` (placeholder until the server lands).
 */
#include <stdio.h>

#include "cli/commands.h"

int cmd_serve(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("loci: serve is not built yet\n", stderr);
    return 1;
}
