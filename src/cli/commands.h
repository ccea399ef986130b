/*
 * commands.h - loci's subcommands (git's builtin.h): one function per subcommand,
 * dispatched through cli_commands[]. Each takes the arguments after its name
 * (argv[0] is the subcommand's name) and returns the process exit code.
 */
#ifndef LOCI_CLI_COMMANDS_H
#define LOCI_CLI_COMMANDS_H

#include <stddef.h>

typedef struct cli_command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary; /* one line for `loci help` */
} cli_command_t;

/* The table, terminated by an entry whose name is NULL. */
extern const cli_command_t cli_commands[];

/* Looks a subcommand up by name; NULL if there is none. */
const cli_command_t *cli_find(const char *name);

/* Prints the list of subcommands to f (a FILE *). */
void cli_usage(void *f);

int cmd_serve(int argc, char **argv);
int cmd_version(int argc, char **argv);

/* Client commands (src/cli/<name>.c): they talk to a loci server over HTTP only. */
int cmd_put(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_url(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_tag(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_admin(int argc, char **argv);
int cmd_audit(int argc, char **argv);

#endif
