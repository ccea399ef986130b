/*
 * get.c - `loci get KEY [-o FILE]`: download an object and verify it.
 *
 * loci answers GET /v1/objects/{key} with the object's size and SHA-256 and a signed URL for
 * the nearest copy; the bytes come straight from that store, hashed on the way. With -o they
 * go to a temporary file next to FILE that replaces FILE only once size and digest match, so a
 * bad download never clobbers FILE. Without -o they stream to stdout, and a mismatch found at
 * the end is reported with a non-zero exit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/input.h"
#include "cli/opts.h"
#include "cli/progress.h"
#include "cli/transfer.h"
#include "util/crypto.h"
#include "util/enc.h"

/* Creates the temporary file next to out; its mode follows the umask like a plain open()
 * would (mkstemp makes it 0600). Returns the descriptor and the name in tmp, or -1. */
static int open_temp(const char *out, buf_t *tmp)
{
    if (cli_temp_template(tmp, out) != 0) {
        fprintf(stderr, "loci: invalid output file '%s'\n", out);
        return -1;
    }
    int fd = mkstemp(tmp->base);
    if (fd < 0) {
        fprintf(stderr, "loci: cannot create '%s': %s\n", tmp->base, strerror(errno));
        return -1;
    }
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    return fd;
}

/* Checks what arrived against the object's metadata. */
static int verify(const char *key, int64_t size, int64_t got, const char *want_sha, const uint8_t sha[SHA256_LEN], err_t *e)
{
    char hex[2 * SHA256_LEN + 1];
    if (got != size)
        return err_set(e, ERR_CONFLICT, "download of '%s' has %lld bytes, expected %lld", key, (long long)got, (long long)size);
    hex_encode(sha, SHA256_LEN, hex);
    if (want_sha != NULL && strcasecmp(want_sha, hex) != 0)
        return err_set(e, ERR_CONFLICT, "sha256 mismatch for '%s': expected %s, got %s", key, want_sha, hex);
    return 0;
}

int cmd_get(int argc, char **argv)
{
    const char *output = NULL, *region = NULL;
    const cli_opt_t opts[] = {
        {.name = "--output",
         .short_name = 'o',
         .kind = CLI_OPT_STR,
         .metavar = "FILE",
         .help = "write to FILE, replaced only after verification (default: stdout)",
         .dest = &output},
        {.name = "--region", .kind = CLI_OPT_STR, .metavar = "R", .help = "your region, to pick the nearest copy", .dest = &region},
        {.name = NULL},
    };
    const cli_spec_t spec = {
        .usage = "loci get KEY [-o FILE] [options]",
        .about = "Downloads object KEY straight from its nearest store and verifies its size\n"
                 "and SHA-256.",
        .min_args = 1,
        .max_args = 1,
        .token_env = CLI_ENV_TOKEN,
        .opts = opts,
    };
    cli_args_t args;
    cli_client_t client = {0};
    cli_response_t resp;
    err_t e;
    buf_t path = BUF_INIT, tmp = BUF_INIT;
    uint8_t sha[SHA256_LEN];
    int64_t got = 0;
    int fd = -1, exit_code = CLI_EXIT_FAIL;
    bool to_file = false, tmp_made = false;

    cli_args_init(&args);
    cli_response_init(&resp);
    err_clear(&e);
    if (!cli_args_run(&spec, argc, argv, &args, &exit_code))
        goto out;
    const char *key = args.pos[0];
    if (cli_check_key(key, &e) != 0) {
        exit_code = cli_usage_error(&spec, "%s", e.msg);
        goto out;
    }
    to_file = output != NULL && strcmp(output, "-") != 0;
    if (cli_client_init(&client, args.url, args.token, &e) != 0) {
        exit_code = cli_usage_error(&spec, "%s", e.msg);
        goto out;
    }

    cli_path_object(&path, key);
    if (region)
        cli_query_add(&path, "region", region);
    cli_request_t req = {.method = "GET", .path = path.base};
    if (cli_call(&client, &req, &resp, &e) != 0) {
        cli_fail(&e);
        goto out;
    }
    json_t *url = json_object_get(resp.json, "url");
    const char *href = cli_jstr(url, "url");
    const char *store = cli_jstr(url, "store");
    const char *want_sha = cli_jstr(resp.json, "sha256");
    int64_t size = cli_jint(resp.json, "size", -1);
    if (href == NULL || size < 0) {
        fprintf(stderr, "loci: object '%s' has no readable copy\n", key);
        goto out;
    }

    fd = to_file ? open_temp(output, &tmp) : STDOUT_FILENO;
    if (fd < 0)
        goto out;
    tmp_made = to_file;
    char what[160];
    snprintf(what, sizeof(what), "store '%s'", store ? store : "?");
    cli_progress_t prog;
    cli_progress_init(&prog, store, size, cli_progress_wanted());
    cli_interrupt_install();
    int rc = cli_download(&client, href, fd, size, what, &prog, sha, &got, &e);
    if (rc == 0)
        rc = verify(key, size, got, want_sha, sha, &e);
    cli_progress_finish(&prog, rc == 0);
    if (rc != 0) {
        cli_fail(&e);
        goto out;
    }
    if (to_file) {
        if (fsync(fd) != 0 || close(fd) != 0) {
            fd = -1;
            fprintf(stderr, "loci: cannot write '%s': %s\n", tmp.base, strerror(errno));
            goto out;
        }
        fd = -1;
        if (rename(tmp.base, output) != 0) {
            fprintf(stderr, "loci: cannot rename '%s' to '%s': %s\n", tmp.base, output, strerror(errno));
            goto out;
        }
        tmp_made = false;
    }
    exit_code = CLI_EXIT_OK;
out:
    if (to_file && fd >= 0)
        close(fd);
    if (tmp_made)
        unlink(tmp.base);
    buf_release(&tmp);
    buf_release(&path);
    cli_response_release(&resp);
    cli_client_release(&client);
    cli_args_release(&args);
    return exit_code;
}
