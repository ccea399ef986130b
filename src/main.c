/*
 * main.c - one binary, server and CLI: `loci <command> ...`.
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        cli_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(argc - 1, argv + 1);
    const cli_command_t *cmd = cli_find(argv[1]);
    if (cmd == NULL) {
        fprintf(stderr, "loci: unknown command '%s'\n", argv[1]);
        cli_usage(stderr);
        return 2;
    }
    return cmd->fn(argc - 1, argv + 1);
}
