/*
 * commands.c - the subcommand table.
 */
#include "cli/commands.h"

#include <stdio.h>
#include <string.h>

const cli_command_t cli_commands[] = {
    {"serve", cmd_serve, "run the loci server"},
    {"version", cmd_version, "print the version"},
    {"put", cmd_put, "upload a file as an object"},
    {"get", cmd_get, "download an object and verify it"},
    {"url", cmd_url, "print a signed URL that reads an object"},
    {"import", cmd_import, "register objects that already exist in a store (offline)"},
    {"stat", cmd_stat, "print an object's metadata as JSON"},
    {"ls", cmd_ls, "list objects by prefix and tags"},
    {"tag", cmd_tag, "set or remove an object's tags"},
    {"rm", cmd_rm, "delete an object"},
    {"admin", cmd_admin, "manage stores, tenants and tokens"},
    {"audit", cmd_audit, "verify the audit trail"},
    {NULL, NULL, NULL},
};

const cli_command_t *cli_find(const char *name)
{
    for (const cli_command_t *c = cli_commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

void cli_usage(void *fp)
{
    FILE *f = fp;
    fputs("usage: loci <command> [options]\n\ncommands:\n", f);
    for (const cli_command_t *c = cli_commands; c->name; c++)
        fprintf(f, "  %-10s %s\n", c->name, c->summary);
    fputs("\nRun 'loci <command> --help' for a command's options.\n"
          "Client commands use LOCI_URL (default http://127.0.0.1:7700) and LOCI_TOKEN.\n",
          f);
}
