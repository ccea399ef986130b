/*
 * put.c - `loci put FILE KEY`: upload a file as an object.
 *
 * The file is hashed first (streaming, so its size does not matter), then loci is asked to
 * start an upload (PUT /v1/objects/{key} with size, sha256, content type, tags and attrs). It
 * answers with one signed target per copy; the file goes to each, straight to the store (large
 * files in parts, several at once: parts.h), and the upload is committed
 * (POST /v1/uploads/{id}/complete, with the parts' ETags). Once the upload has started, any
 * failure (or ^C) aborts it (DELETE /v1/uploads/{id}), so nothing is left pending.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/input.h"
#include "cli/opts.h"
#include "cli/parts.h"
#include "cli/progress.h"
#include "cli/transfer.h"
#include "util/crypto.h"
#include "util/enc.h"

#define HASH_CHUNK (256 * 1024)
/* Defaults of --multipart-threshold, --part-size and --parallel (as the AWS CLI's, scaled up:
 * fewer, larger parts suit uploads that go straight to the store). */
#define PUT_THRESHOLD (INT64_C(64) << 20)
#define PUT_PART_SIZE (INT64_C(16) << 20)
#define PUT_PARALLEL  4

/* Streams the file through SHA-256, checking that it has exactly size bytes. */
static int hash_file(int fd, int64_t size, const char *file, uint8_t sha[SHA256_LEN], err_t *e)
{
    sha256_stream_t *s = sha256_stream_new();
    char *chunk = malloc(HASH_CHUNK);
    cli_progress_t prog;
    int64_t total = 0;
    int rc = 0;

    cli_progress_init(&prog, "sha256", size, cli_progress_wanted());
    if (chunk == NULL) {
        rc = err_set(e, ERR_NOMEM, "out of memory");
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, chunk, HASH_CHUNK);
        if (cli_interrupted()) {
            rc = err_set(e, ERR_UNAVAILABLE, "interrupted");
            goto out;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = err_set(e, ERR_IO, "cannot read '%s': %s", file, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        sha256_stream_update(s, chunk, (size_t)n);
        total += n;
        cli_progress_update(&prog, total);
    }
    if (total != size)
        rc = err_set(e, ERR_IO, "'%s' changed while it was read", file);
out:
    cli_progress_finish(&prog, false);
    sha256_stream_final(s, sha);
    free(chunk);
    return rc;
}

/* How `loci put` uploads: in parts from this size on, of about this size, this many at once. */
typedef struct put_opts {
    int64_t threshold, part_size;
    int parallel;
    const char *url, *token, *expires;
} put_opts_t;

/* True if the file is no longer what was hashed (size, modification or change time differ). */
static bool file_changed(int fd, const struct stat *before)
{
    struct stat now;
    return fstat(fd, &now) != 0 || now.st_size != before->st_size || now.st_mtim.tv_sec != before->st_mtim.tv_sec ||
           now.st_mtim.tv_nsec != before->st_mtim.tv_nsec || now.st_ctim.tv_sec != before->st_ctim.tv_sec ||
           now.st_ctim.tv_nsec != before->st_ctim.tv_nsec;
}

/* Sends the file to every target of the upload: in one PUT, checking that what was sent is
 * what was hashed (a file modified in between would otherwise be committed under a stale
 * digest), or in parts, appending each part's ETag to parts_out. */
static int upload_targets(cli_client_t *c, const put_opts_t *po, const char *upload_id, json_t *targets, int fd,
                          const struct stat *st, const uint8_t sha[SHA256_LEN], json_t *parts_out, err_t *e)
{
    int64_t size = (int64_t)st->st_size;
    size_t i;
    json_t *t;
    int rc = 0;

    if (!json_is_array(targets) || json_array_size(targets) == 0)
        return err_set(e, ERR_INTERNAL, "the server gave no upload targets");
    json_array_foreach(targets, i, t)
    {
        const char *store = cli_jstr(t, "store");
        const char *url = cli_jstr(t, "url");
        char what[160];
        cli_progress_t prog;

        snprintf(what, sizeof(what), "store '%s'", store ? store : "?");
        cli_progress_init(&prog, store, size, cli_progress_wanted());
        if (json_is_object(json_object_get(t, "multipart"))) {
            cli_parts_req_t pr = {po->url, po->token, upload_id, po->expires, t, fd, size, po->parallel, &prog};
            rc = cli_put_parts(&pr, parts_out, e);
            if (rc == 0 && file_changed(fd, st))
                rc = err_set(e, ERR_IO, "the file changed while uploading to %s", what);
        } else if (url == NULL) {
            rc = err_set(e, ERR_INTERNAL, "malformed upload target %zu: no url", i);
        } else {
            cli_upload_t up = {.fd = fd,
                               .size = size,
                               .method = cli_jstr(t, "method"),
                               .url = url,
                               .headers = json_object_get(t, "headers"),
                               .what = what,
                               .prog = &prog};
            rc = cli_upload(c, &up, e);
            if (rc == 0 && !crypto_equal(up.sha, sha, SHA256_LEN))
                rc = err_set(e, ERR_IO, "the file changed while uploading to %s", what);
        }
        cli_progress_finish(&prog, rc == 0);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Best-effort abort of a started upload; its failure is reported but changes nothing else. */
static void abort_upload(cli_client_t *c, const char *upload_id)
{
    buf_t path = BUF_INIT;
    cli_response_t r;
    err_t e;
    cli_response_init(&r);
    err_clear(&e);
    if (buf_puts(&path, "/v1/uploads") == 0 && cli_path_segment(&path, upload_id) == 0) {
        cli_request_t req = {.method = "DELETE", .path = path.base};
        if (cli_call(c, &req, &r, &e) != 0)
            fprintf(stderr, "loci: cannot abort upload '%s': %s\n", upload_id, e.msg);
    }
    cli_response_release(&r);
    buf_release(&path);
}

/* Builds the body of PUT /v1/objects/{key} into *out (a new reference), all but the sha256,
 * which is added once the file is hashed (so bad arguments fail before a long read). */
static int start_body(int64_t size, const put_opts_t *po, const char *ctype, json_t *tags, json_t *attrs, const cli_int_t *copies,
                      const cli_list_t *juris, json_t **out, err_t *e)
{
    json_t *b = json_object(), *j = NULL;
    int rc = 0;
    json_object_set_new(b, "size", json_integer(size));
    if (size >= po->threshold) {
        int64_t parts = size / po->part_size + (size % po->part_size != 0);
        json_object_set_new(b, "parts", json_integer(parts < 1 ? 1 : parts > 10000 ? 10000 : parts));
    }
    rc = cli_set_str(b, "content_type", ctype, e);
    if (rc != 0)
        goto out;
    if (tags)
        json_object_set(b, "tags", tags);
    if (attrs)
        json_object_set(b, "attrs", attrs);
    if (copies->set)
        json_object_set_new(b, "copies", json_integer(copies->v));
    if (juris->n > 0) {
        rc = cli_strings_array(juris, "jurisdiction", &j, e);
        if (rc != 0)
            goto out;
        json_object_set_new(b, "jurisdiction", j);
    }
    *out = b;
    b = NULL;
out:
    json_decref(b);
    return rc;
}

int cmd_put(int argc, char **argv)
{
    cli_list_t tags = {0}, juris = {0};
    const char *attr = NULL, *ctype = NULL, *region = NULL;
    cli_int_t copies = {0}, if_match = {0}, expires = {0}, threshold = {0}, part_size = {0}, parallel = {0};
    bool if_none_match = false, json_out = false;
    const cli_opt_t opts[] = {
        {.name = "--tag", .kind = CLI_OPT_LIST, .metavar = "K=V", .help = "set a tag (repeatable)", .dest = &tags},
        {.name = "--attr", .kind = CLI_OPT_STR, .metavar = "JSON", .help = "attributes, a JSON object", .dest = &attr},
        {.name = "--content-type",
         .kind = CLI_OPT_STR,
         .metavar = "TYPE",
         .help = "content type (default: guessed from the name, else application/octet-stream)",
         .dest = &ctype},
        {.name = "--copies",
         .kind = CLI_OPT_INT,
         .metavar = "N",
         .help = "stores to keep it in (1-8)",
         .min = 1,
         .max = 8,
         .dest = &copies},
        {.name = "--region",
         .kind = CLI_OPT_STR,
         .metavar = "R",
         .help = "your region, to pick the nearest store",
         .dest = &region},
        {.name = "--jurisdiction",
         .kind = CLI_OPT_LIST,
         .metavar = "J",
         .help = "narrow the tenant's jurisdictions (repeatable)",
         .dest = &juris},
        {.name = "--expires",
         .kind = CLI_OPT_INT,
         .metavar = "SECONDS",
         .help = "lifetime of the upload URLs",
         .min = 1,
         .max = INT64_MAX,
         .dest = &expires},
        {.name = "--if-none-match", .kind = CLI_OPT_FLAG, .help = "fail if the object exists", .dest = &if_none_match},
        {.name = "--if-match",
         .kind = CLI_OPT_INT,
         .metavar = "VERSION",
         .help = "fail unless the object has this version",
         .min = 0,
         .max = INT64_MAX,
         .dest = &if_match},
        {.name = "--multipart-threshold",
         .kind = CLI_OPT_SIZE,
         .metavar = "SIZE",
         .help = "upload in parts from this size on (default 64M)",
         .min = 1,
         .max = INT64_MAX >> 1,
         .dest = &threshold},
        {.name = "--part-size",
         .kind = CLI_OPT_SIZE,
         .metavar = "SIZE",
         .help = "size of each part (default 16M; the stores may need larger)",
         .min = 1 << 20,
         .max = INT64_C(5) << 30,
         .dest = &part_size},
        {.name = "--parallel",
         .kind = CLI_OPT_INT,
         .metavar = "N",
         .help = "parts uploaded at once (1-64, default 4)",
         .min = 1,
         .max = 64,
         .dest = &parallel},
        {.name = "--json", .kind = CLI_OPT_FLAG, .help = "print the committed object as JSON", .dest = &json_out},
        {.name = NULL},
    };
    const cli_spec_t spec = {
        .usage = "loci put FILE KEY [options]",
        .about = "Uploads FILE as object KEY: the bytes go straight to the chosen stores,\n"
                 "then the upload is committed. Prints the key, id, version and size.\n"
                 "Large files go up in parts, several at once, where the stores take parts.",
        .min_args = 2,
        .max_args = 2,
        .token_env = CLI_ENV_TOKEN,
        .opts = opts,
    };
    cli_args_t args;
    cli_client_t client = {0};
    cli_response_t resp;
    err_t e;
    buf_t path = BUF_INIT;
    json_t *tags_obj = NULL, *attrs = NULL, *body = NULL, *parts = NULL, *done_body = NULL;
    char *upload_id = NULL;
    char match[24], sha_hex[2 * SHA256_LEN + 1];
    uint8_t sha[SHA256_LEN];
    struct stat st;
    int fd = -1, exit_code = CLI_EXIT_FAIL;

    cli_args_init(&args);
    cli_response_init(&resp);
    err_clear(&e);
    if (!cli_args_run(&spec, argc, argv, &args, &exit_code))
        goto out;
    const char *file = args.pos[0], *key = args.pos[1];
    if (cli_check_key(key, &e) != 0 || cli_tags_object(&tags, &tags_obj, &e) != 0 ||
        (attr && cli_attrs_parse(attr, &attrs, &e) != 0)) {
        exit_code = cli_usage_error(&spec, "%s", e.msg);
        goto out;
    }

    fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        fprintf(stderr, "loci: cannot open '%s': %s\n", file, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "loci: '%s' is not a regular file\n", file);
        goto out;
    }
    if (!ctype)
        ctype = cli_guess_content_type(file);
    if (!ctype)
        ctype = cli_guess_content_type(key);
    if (!ctype)
        ctype = "application/octet-stream";
    char secs[24];
    snprintf(secs, sizeof(secs), "%lld", (long long)expires.v);
    put_opts_t po = {.threshold = threshold.set ? threshold.v : PUT_THRESHOLD,
                     .part_size = part_size.set ? part_size.v : PUT_PART_SIZE,
                     .parallel = parallel.set ? (int)parallel.v : PUT_PARALLEL,
                     .url = args.url,
                     .token = args.token,
                     .expires = expires.set ? secs : NULL};
    if (start_body((int64_t)st.st_size, &po, ctype, tags_obj, attrs, &copies, &juris, &body, &e) != 0) {
        exit_code = cli_usage_error(&spec, "%s", e.msg);
        goto out;
    }
    if (cli_client_init(&client, args.url, args.token, &e) != 0) {
        exit_code = cli_usage_error(&spec, "%s", e.msg);
        goto out;
    }

    cli_interrupt_install();
    if (hash_file(fd, (int64_t)st.st_size, file, sha, &e) != 0) {
        cli_fail(&e);
        goto out;
    }
    hex_encode(sha, SHA256_LEN, sha_hex);
    json_object_set_new(body, "sha256", json_string(sha_hex));

    cli_path_object(&path, key);
    if (region)
        cli_query_add(&path, "region", region);
    if (expires.set)
        cli_query_add(&path, "expires", secs);
    if (if_match.set)
        snprintf(match, sizeof(match), "%lld", (long long)if_match.v);
    cli_request_t start = {
        .method = "PUT",
        .path = path.base,
        .body = body,
        .if_match = if_match.set ? match : NULL,
        .if_none_match = if_none_match ? "*" : NULL,
    };
    if (cli_call(&client, &start, &resp, &e) != 0) {
        cli_fail(&e);
        goto out;
    }
    const char *id = cli_jstr(resp.json, "upload_id");
    if (id == NULL) {
        fputs("loci: malformed answer from server: no upload_id\n", stderr);
        goto out;
    }
    upload_id = strdup(id);

    parts = json_array();
    if (upload_targets(&client, &po, upload_id, json_object_get(resp.json, "targets"), fd, &st, sha, parts, &e) != 0) {
        cli_fail(&e);
        goto out;
    }

    buf_reset(&path);
    buf_puts(&path, "/v1/uploads");
    cli_path_segment(&path, upload_id);
    buf_puts(&path, "/complete");
    done_body = json_object();
    if (json_array_size(parts) > 0)
        json_object_set(done_body, "parts", parts);
    cli_request_t complete = {.method = "POST", .path = path.base, .body = json_array_size(parts) > 0 ? done_body : NULL};
    if (cli_call(&client, &complete, &resp, &e) != 0) {
        cli_fail(&e);
        goto out;
    }
    free(upload_id);
    upload_id = NULL; /* committed: nothing to abort any more */
    json_t *obj = json_object_get(resp.json, "object");
    if (!json_is_object(obj)) {
        fputs("loci: malformed answer from server: no object\n", stderr);
        goto out;
    }
    if (json_out) {
        if (cli_print_json(obj, true) != 0)
            goto out;
    } else {
        const char *okey = cli_jstr(obj, "key");
        const char *oid = cli_jstr(obj, "id");
        printf("%s id=%s version=%lld size=%lld\n", okey ? okey : key, oid ? oid : "?", (long long)cli_jint(obj, "version", 0),
               (long long)cli_jint(obj, "size", (int64_t)st.st_size));
    }
    exit_code = CLI_EXIT_OK;
out:
    if (upload_id) {
        abort_upload(&client, upload_id);
        free(upload_id);
    }
    if (fd >= 0)
        close(fd);
    json_decref(tags_obj);
    json_decref(attrs);
    json_decref(body);
    json_decref(parts);
    json_decref(done_body);
    buf_release(&path);
    cli_response_release(&resp);
    cli_client_release(&client);
    cli_args_release(&args);
    return exit_code;
}
