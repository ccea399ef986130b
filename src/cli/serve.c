/*
 * serve.c - `loci serve`: parse flags, load the configuration, run the server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "server/config.h"
#include "server/server.h"

static void usage(FILE *f)
{
    fputs("usage: loci serve [--config FILE] [--data DIR] [--listen ADDR:PORT] [--threads N]\n"
          "                  [--local-country CC] [--public-url URL] [--cell NAME] [--database URL]\n"
          "\n"
          "Runs the loci server. With no configuration it serves the embedded default: SQLite in\n"
          "DIR/loci.db (DIR defaults to ./var), a local store in DIR/blobs, on 127.0.0.1:7700.\n"
          "At first start it creates a master key (DIR/master.key), an admin token (LOCI_ADMIN_TOKEN,\n"
          "or generated into DIR/admin.token) and a demo tenant whose token it prints.\n"
          "\n"
          "Settings come from defaults, then the YAML file (--config or LOCI_CONFIG), then LOCI_*\n"
          "environment variables, then these flags.\n\n",
          f);
    config_print_help(f);
}

/* flag -> setting name */
static const struct {
    const char *flag;
    const char *setting;
} FLAGS[] = {
    {"--data", "data_dir"},         {"--listen", "listen"}, {"--threads", "threads"},   {"--local-country", "local_country"},
    {"--public-url", "public_url"}, {"--cell", "cell"},     {"--database", "database"},
};

int cmd_serve(int argc, char **argv)
{
    config_t cfg;
    err_t e;
    const char *config_file = getenv("LOCI_CONFIG");
    int rc = 2;

    config_init(&cfg);
    /* the config file first, so flags and the environment override it */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            config_release(&cfg);
            return 0;
        }
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config_file = argv[++i];
    }
    if (config_file && config_load_file(&cfg, config_file, &e) != 0)
        goto fail;
    if (config_load_env(&cfg, &e) != 0)
        goto fail;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0) {
            i++;
            continue;
        }
        size_t f = 0, nf = sizeof(FLAGS) / sizeof(FLAGS[0]);
        while (f < nf && strcmp(argv[i], FLAGS[f].flag) != 0)
            f++;
        if (f == nf) {
            fprintf(stderr, "loci serve: unknown option '%s'\n", argv[i]);
            usage(stderr);
            config_release(&cfg);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "loci serve: %s needs a value\n", argv[i]);
            config_release(&cfg);
            return 2;
        }
        if (config_set(&cfg, FLAGS[f].setting, argv[++i], &e) != 0)
            goto fail;
    }
    if (config_finish(&cfg, &e) != 0)
        goto fail;
    rc = server_run(&cfg);
    config_release(&cfg);
    return rc;
fail:
    fprintf(stderr, "loci serve: %s\n", e.msg);
    config_release(&cfg);
    return rc;
}
