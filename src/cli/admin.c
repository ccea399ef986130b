/*
 * admin.c - `loci admin GROUP ACTION ...`: manage stores, tenants and tenant tokens through
 * /v1/admin/... with the admin token (--token, else $LOCI_ADMIN_TOKEN).
 *
 * Dispatch is two small tables, groups then actions (like git's `git remote` subcommands);
 * each action parses its own arguments with the shared option parser.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/input.h"
#include "cli/opts.h"

typedef struct admin_action {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} admin_action_t;

typedef struct admin_group {
    const char *name;
    const admin_action_t *actions;
    const char *summary;
} admin_group_t;

/*
 * The steps every admin action shares once its arguments are parsed: connect with the admin
 * token, send one request, and report a failure. Returns an exit code; the answer is in resp.
 */
static int admin_call(const cli_spec_t *spec, const cli_args_t *args, const char *method, const char *path, const json_t *body,
                      cli_response_t *resp)
{
    cli_client_t client = {0};
    err_t e;
    int exit_code = CLI_EXIT_FAIL;

    err_clear(&e);
    if (cli_client_init(&client, args->url, args->token, &e) != 0) {
        exit_code = cli_usage_error(spec, "%s", e.msg);
        goto out;
    }
    cli_request_t req = {.method = method, .path = path, .body = body};
    if (cli_call(&client, &req, resp, &e) != 0) {
        cli_fail(&e);
        goto out;
    }
    exit_code = CLI_EXIT_OK;
out:
    cli_client_release(&client);
    return exit_code;
}

/* Builds "/v1/admin/<collection>[/<id>[/<sub>[/<id2>]]]" with the ids percent-encoded. Returns
 * 0, or prints a usage error and returns CLI_EXIT_USAGE for an empty id. */
static int admin_path(const cli_spec_t *spec, buf_t *b, const char *collection, const char *id, const char *sub, const char *id2)
{
    if ((id && *id == '\0') || (id2 && *id2 == '\0'))
        return cli_usage_error(spec, "empty id");
    buf_puts(b, "/v1/admin/");
    buf_puts(b, collection);
    if (id)
        cli_path_segment(b, id);
    if (sub) {
        buf_putc(b, '/');
        buf_puts(b, sub);
    }
    if (id2)
        cli_path_segment(b, id2);
    return 0;
}

/* Prints the member `name` of an answer pretty (the store or tenant inside {"store":{…}}), or
 * the whole answer if it has no such member. */
static int print_member(const json_t *j, const char *name)
{
    const json_t *m = json_object_get(j, name);
    return cli_print_json(m ? m : j, true) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* Joins the strings of a JSON array with ',' into b ("-" for none). */
static void join_strings(buf_t *b, const json_t *arr)
{
    size_t i;
    json_t *v;
    buf_reset(b);
    json_array_foreach(arr, i, v)
    {
        if (i > 0)
            buf_putc(b, ',');
        buf_puts(b, json_string_value(v) ? json_string_value(v) : "?");
    }
    if (b->len == 0)
        buf_puts(b, "-");
}

static const char *str_or_dash(const json_t *obj, const char *key)
{
    const char *s = cli_jstr(obj, key);
    return s && *s ? s : "-";
}

/* Parses --json BODY as the base of a PUT body (an object), or starts an empty one. */
static int base_body(const cli_spec_t *spec, const char *text, json_t **out)
{
    if (text == NULL) {
        *out = json_object();
        return 0;
    }
    json_error_t jerr;
    *out = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (*out == NULL)
        return cli_usage_error(spec, "invalid --json body at column %d: %s", jerr.column, jerr.text);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return cli_usage_error(spec, "--json body must be a json object");
    }
    return 0;
}

/* Sets a string member when the option was given. */
static int set_opt_str(const cli_spec_t *spec, json_t *obj, const char *key, const char *value)
{
    err_t e;
    if (value == NULL)
        return 0;
    if (cli_set_str(obj, key, value, &e) != 0)
        return cli_usage_error(spec, "%s", e.msg);
    return 0;
}

/* ---- stores ------------------------------------------------------------------------------- */

static int stores_list(int argc, char **argv)
{
    bool json_out = false;
    const cli_opt_t opts[] = {
        {.name = "--json", .kind = CLI_OPT_FLAG, .help = "one JSON object per line", .dest = &json_out},
        {.name = NULL},
    };
    const cli_spec_t spec = {
        .usage = "loci admin stores list [options]",
        .about = "Lists stores: \"ID  PROVIDER  COUNTRY  REGION  STATUS  WEIGHT\" per line.",
        .min_args = 0,
        .max_args = 0,
        .token_env = CLI_ENV_ADMIN_TOKEN,
        .opts = opts,
    };
    cli_args_t args;
    cli_response_t resp;
    buf_t path = BUF_INIT;
    int exit_code = CLI_EXIT_FAIL;
    size_t i;
    json_t *s;

    cli_args_init(&args);
    cli_response_init(&resp);
    if (!cli_args_run(&spec, argc, argv, &args, &exit_code))
        goto out;
    admin_path(&spec, &path, "stores", NULL, NULL, NULL);
    exit_code = admin_call(&spec, &args, "GET", path.base, NULL, &resp);
    if (exit_code != CLI_EXIT_OK)
        goto out;
    json_array_foreach(json_object_get(resp.json, "stores"), i, s)
    {
        int rc =
            json_out
                ? cli_print_json(s, false)
                : (printf("%s  %s  %s  %s  %s  %lld\n", str_or_dash(s, "id"), str_or_dash(s, "provider"), str_or_dash(s, "country"),
                          str_or_dash(s, "region"), str_or_dash(s, "status"), (long long)cli_jint(s, "weight", 0)) < 0);
        if (rc != 0) {
            exit_code = CLI_EXIT_FAIL;
            goto out;
        }
    }
out:
    buf_release(&path);
    cli_response_release(&resp);
    cli_args_release(&args);
    return exit_code;
}

/* `stores get ID`, `tenants get ID`: one GET, the member printed pretty. */
static int admin_get(int argc, char **argv, const char *collection, const char *member, const char *usage)
{
    const cli_spec_t spec = {
        .usage = usage,
        .min_args = 1,
        .max_args = 1,
        .token_env = CLI_ENV_ADMIN_TOKEN,
    };
    cli_args_t args;
    cli_response_t resp;
    buf_t path = BUF_INIT;
    int exit_code = CLI_EXIT_FAIL;

    cli_args_init(&args);
    cli_response_init(&resp);
    if (!cli_args_run(&spec, argc, argv, &args, &exit_code))
        goto out;
    exit_code = admin_path(&spec, &path, collection, args.pos[0], NULL, NULL);
    if (exit_code != CLI_EXIT_OK)
        goto out;
    exit_code = admin_call(&spec, &args, "GET", path.base, NULL, &resp);
    if (exit_code == CLI_EXIT_OK)
        exit_code = print_member(resp.json, member);
out:
    buf_release(&path);
    cli_response_release(&resp);
    cli_args_release(&args);
    return exit_code;
}

static int stores_get(int argc, char **argv)
{
    return admin_get(argc, argv, "stores", "store", "loci admin stores get ID");
}

/* Reads a whole text file of at most max bytes (malloc'ed, NUL-terminated), or NULL with errno
 * set (0 when it is too large). */
static char *read_text_file(const char *path, size_t max)
{
    FILE *f = fopen(path, "rb");
    char *s = NULL;
    size_t n = 0;
    if (f == NULL)
        return NULL;
    s = malloc(max + 1);
    if (s != NULL)
        n = fread(s, 1, max + 1, f);
    errno = ferror(f) ? EIO : 0;
    fclose(f);
    if (s == NULL || errno != 0 || n > max) {
        free(s);
        return NULL;
    }
    s[n] = '\0';
    return s;
}

static int stores_put(int argc, char **argv)
{
    const char *provider = NULL, *endpoint = NULL, *bucket = NULL, *region = NULL, *country = NULL, *status = NULL;
    const char *public_host = NULL, *key_id = NULL, *secret = NULL, *json_text = NULL, *account = NULL;
    const char *account_key = NULL, *temp_url_key = NULL, *hmac_id = NULL, *hmac_secret = NULL, *sa_file = NULL;
    char *sa_json = NULL;
    cli_int_t weight = {0};
    bool path_style = false;
    const cli_opt_t opts[] = {
        {.name = "--provider", .kind = CLI_OPT_STR, .metavar = "P", .help = "local, s3, gcs, azure or swift", .dest = &provider},
        {.name = "--endpoint",
         .kind = CLI_OPT_STR,
         .metavar = "URL",
         .help = "the store's endpoint (azure: blob service URL; swift: account URL)",
         .dest = &endpoint},
        {.name = "--bucket", .kind = CLI_OPT_STR, .metavar = "B", .help = "bucket or container", .dest = &bucket},
        {.name = "--account", .kind = CLI_OPT_STR, .metavar = "NAME", .help = "storage account (azure)", .dest = &account},
        {.name = "--region", .kind = CLI_OPT_STR, .metavar = "R", .help = "provider region, e.g. eu-west-1", .dest = &region},
        {.name = "--country",
         .kind = CLI_OPT_STR,
         .metavar = "CC",
         .help = "where the bytes are (ISO 3166-1 alpha-2)",
         .dest = &country},
        {.name = "--status", .kind = CLI_OPT_STR, .metavar = "S", .help = "active, readonly or offline", .dest = &status},
        {.name = "--weight",
         .kind = CLI_OPT_INT,
         .metavar = "N",
         .help = "share of new objects (0-1000)",
         .min = 0,
         .max = 1000,
         .dest = &weight},
        {.name = "--path-style", .kind = CLI_OPT_FLAG, .help = "path-style S3 URLs", .dest = &path_style},
        {.name = "--public-host",
         .kind = CLI_OPT_STR,
         .metavar = "HOST",
         .help = "host name clients use in signed URLs",
         .dest = &public_host},
        {.name = "--access-key-id",
         .kind = CLI_OPT_STR,
         .metavar = "K",
         .help = "credentials (with --secret-access-key)",
         .dest = &key_id},
        {.name = "--secret-access-key",
         .kind = CLI_OPT_STR,
         .metavar = "S",
         .help = "credentials (with --access-key-id)",
         .dest = &secret},
        {.name = "--service-account-file",
         .kind = CLI_OPT_STR,
         .metavar = "FILE",
         .help = "a service account's JSON key file (gcs)",
         .dest = &sa_file},
        {.name = "--hmac-access-id",
         .kind = CLI_OPT_STR,
         .metavar = "ID",
         .help = "HMAC key (gcs, with --hmac-secret)",
         .dest = &hmac_id},
        {.name = "--hmac-secret",
         .kind = CLI_OPT_STR,
         .metavar = "S",
         .help = "HMAC key (gcs, with --hmac-access-id)",
         .dest = &hmac_secret},
        {.name = "--account-key",
         .kind = CLI_OPT_STR,
         .metavar = "KEY",
         .help = "account key, base64 (azure)",
         .dest = &account_key},
        {.name = "--temp-url-key", .kind = CLI_OPT_STR, .metavar = "KEY", .help = "TempURL key (swift)", .dest = &temp_url_key},
        {.name = "--json",
         .kind = CLI_OPT_STR,
         .metavar = "BODY",
         .help = "a JSON body; the options above override its fields",
         .dest = &json_text},
        {.name = NULL},
    };
    const cli_spec_t spec = {
        .usage = "loci admin stores put ID [options]",
        .about = "Creates or replaces store ID (the whole store: fields not given take their\n"
                 "defaults; credentials not given are kept). Prints the store.",
        .min_args = 1,
        .max_args = 1,
        .token_env = CLI_ENV_ADMIN_TOKEN,
        .opts = opts,
    };
    cli_args_t args;
    cli_response_t resp;
    buf_t path = BUF_INIT;
    json_t *body = NULL, *cred = NULL;
    int exit_code = CLI_EXIT_FAIL;

    cli_args_init(&args);
    cli_response_init(&resp);
    if (!cli_args_run(&spec, argc, argv, &args, &exit_code))
        goto out;
    if ((key_id == NULL) != (secret == NULL)) {
        exit_code = cli_usage_error(&spec, "--access-key-id and --secret-access-key go together");
        goto out;
    }
    if ((hmac_id == NULL) != (hmac_secret == NULL)) {
        exit_code = cli_usage_error(&spec, "--hmac-access-id and --hmac-secret go together");
        goto out;
    }
    if (sa_file && (sa_json = read_text_file(sa_file, 64 * 1024)) == NULL) {
        fprintf(stderr, "loci: cannot read '%s': %s\n", sa_file, errno ? strerror(errno) : "larger than 64 KiB");
        goto out;
    }
    const struct {
        json_t **obj; /* &body or &cred */
        const char *key, *value;
    } fields[] = {
        {&body, "provider", provider},
        {&body, "endpoint", endpoint},
        {&body, "bucket", bucket},
        {&body, "region", region},
        {&body, "country", country},
        {&body, "status", status},
        {&body, "public_host", public_host},
        {&body, "account", account},
        {&cred, "access_key_id", key_id},
        {&cred, "secret_access_key", secret},
        {&cred, "hmac_access_id", hmac_id},
        {&cred, "hmac_secret", hmac_secret},
        {&cred, "account_key", account_key},
        {&cred, "temp_url_key", temp_url_key},
        {&cred, "service_account_json", sa_json},
    };
    exit_code = admin_path(&spec, &path, "stores", args.pos[0], NULL, NULL);
    if (exit_code == CLI_EXIT_OK)
        exit_code = base_body(&spec, json_text, &body);
    if (exit_code != CLI_EXIT_OK)
        goto out;
    if (key_id || hmac_id || account_key || temp_url_key || sa_json) {
        cred = json_object();
        json_object_set(body, "credentials", cred);
    }
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        exit_code = set_opt_str(&spec, *fields[i].obj, fields[i].key, fields[i].value);
        if (exit_code != CLI_EXIT_OK)
            goto out;
    }
    if (weight.set)
        json_object_set_new(body, "weight", json_integer(weight.v));
    if (path_style)
        json_object_set_new(body, "path_style", json_true());
    exit_code = admin_call(&spec, &args, "PUT", path.base, body, &resp);
    if (exit_code == CLI_EXIT_OK)
        exit_code = print_member(resp.json, "store");
out:
    free(sa_json);
    json_decref(cred);
    json_decref(body);
    buf_release(&path);
    cli_response_release(&resp);
    cli_args_release(&args);
    return exit_code;
}

/* `stores delete ID`, `keys revoke TENANT KEY_ID`: one DELETE, nothing printed. */
static int admin_delete(int argc, char **argv, const char *collection, const char *sub, const char *usage)
{
    const cli_spec_t spec = {
        .usage = usage,
        .min_args = sub ? 2 : 1,
        .max_args = sub ? 2 : 1,
        .token_env = CLI_ENV_ADMIN_TOKEN,
    };
    cli_args_t args;
    cli_response_t resp;
    buf_t path = BUF_INIT;
    int exit_code = CLI_EXIT_FAIL;

    cli_args_init(&args);
    cli_response_init(&resp);
    if (!cli_args_run(&spec, argc, argv, &args, &exit_code))
        goto out;
    exit_code = admin_path(&spec, &path, collection, args.pos[0], sub, sub ? args.pos[1] : NULL);
    if (exit_code == CLI_EXIT_OK)
        exit_code = admin_call(&spec, &args, "DELETE", path.base, NULL, &resp);
out:
    buf_release(&path);
    cli_response_release(&resp);
    cli_args_release(&args);
    return exit_code;
}

static int stores_delete(int argc, char **argv)
{
    return admin_delete(argc, argv, "stores", NULL, "loci admin stores delete ID");
}

/* ---- tenants ------------------------------------------------------------------------------ */

static int tenants_list(int argc, char **argv)
{
    bool json_out = false;
    const cli_opt_t opts[] = {
        {.name = "--json", .kind = CLI_OPT_FLAG, .help = "one JSON object per line", .dest = &json_out},
        {.name = NULL},
    };
    const cli_spec_t spec = {
        .usage = "loci admin tenants list [options]",
        .about = "Lists tenants: \"ID  JURISDICTIONS  COPIES  URL_EXPIRES  URL_EXPIRES_MAX\" per line.",
        .min_args = 0,
        .max_args = 0,
        .token_env = CLI_ENV_ADMIN_TOKEN,
        .opts = opts,
    };
    cli_args_t args;
    cli_response_t resp;
    buf_t path = BUF_INIT, juris = BUF_INIT;
    int exit_code = CLI_EXIT_FAIL;
    size_t i;
    json_t *t;

    cli_args_init(&args);
    cli_response_init(&resp);
    if (!cli_args_run(&spec, argc, argv, &args, &exit_code))
        goto out;
    admin_path(&spec, &path, "tenants", NULL, NULL, NULL);
    exit_code = admin_call(&spec, &args, "GET", path.base, NULL, &resp);
    if (exit_code != CLI_EXIT_OK)
        goto out;
    json_array_foreach(json_object_get(resp.json, "tenants"), i, t)
    {
        int rc;
        if (json_out) {
            rc = cli_print_json(t, false);
        } else {
            join_strings(&juris, json_object_get(t, "jurisdictions"));
            rc = printf("%s  %s  %lld  %lld  %lld\n", str_or_dash(t, "id"), juris.base, (long long)cli_jint(t, "copies", 0),
                        (long long)cli_jint(t, "url_expires", 0), (long long)cli_jint(t, "url_expires_max", 0)) < 0;
        }
        if (rc != 0) {
            exit_code = CLI_EXIT_FAIL;
            goto out;
        }
    }
out:
    buf_release(&juris);
    buf_release(&path);
    cli_response_release(&resp);
    cli_args_release(&args);
    return exit_code;
}

static int tenants_get(int argc, char **argv)
{
    return admin_get(argc, argv, "tenants", "tenant", "loci admin tenants get ID");
}

static int tenants_put(int argc, char **argv)
{
    cli_list_t juris = {0};
    cli_int_t copies = {0}, expires = {0}, expires_max = {0};
    const char *json_text = NULL;
    const cli_opt_t opts[] = {
        {.name = "--jurisdiction",
         .kind = CLI_OPT_LIST,
         .metavar = "J",
         .help = "a country or group (EU, EEA, ...) objects may live in (repeatable)",
         .dest = &juris},
        {.name = "--copies",
         .kind = CLI_OPT_INT,
         .metavar = "N",
         .help = "stores per object (1-8)",
         .min = 1,
         .max = 8,
         .dest = &copies},
        {.name = "--url-expires",
         .kind = CLI_OPT_INT,
         .metavar = "S",
         .help = "default URL lifetime in seconds",
         .min = 1,
         .max = INT64_MAX,
         .dest = &expires},
        {.name = "--url-expires-max",
         .kind = CLI_OPT_INT,
         .metavar = "S",
         .help = "longest URL lifetime a client may ask for",
         .min = 1,
         .max = INT64_MAX,
         .dest = &expires_max},
        {.name = "--json",
         .kind = CLI_OPT_STR,
         .metavar = "BODY",
         .help = "a JSON body; the options above override its fields",
         .dest = &json_text},
        {.name = NULL},
    };
    const cli_spec_t spec = {
        .usage = "loci admin tenants put ID --jurisdiction J... [options]",
        .about = "Creates or replaces tenant ID and its residency policy. Prints the tenant.",
        .min_args = 1,
        .max_args = 1,
        .token_env = CLI_ENV_ADMIN_TOKEN,
        .opts = opts,
    };
    cli_args_t args;
    cli_response_t resp;
    buf_t path = BUF_INIT;
    json_t *body = NULL, *j = NULL;
    err_t e;
    int exit_code = CLI_EXIT_FAIL;

    cli_args_init(&args);
    cli_response_init(&resp);
    if (!cli_args_run(&spec, argc, argv, &args, &exit_code))
        goto out;
    exit_code = admin_path(&spec, &path, "tenants", args.pos[0], NULL, NULL);
    if (exit_code == CLI_EXIT_OK)
        exit_code = base_body(&spec, json_text, &body);
    if (exit_code != CLI_EXIT_OK)
        goto out;
    if (juris.n > 0) {
        if (cli_strings_array(&juris, "jurisdiction", &j, &e) != 0) {
            exit_code = cli_usage_error(&spec, "%s", e.msg);
            goto out;
        }
        json_object_set_new(body, "jurisdictions", j);
    } else if (json_object_get(body, "jurisdictions") == NULL) {
        exit_code = cli_usage_error(&spec, "missing --jurisdiction");
        goto out;
    }
    if (copies.set)
        json_object_set_new(body, "copies", json_integer(copies.v));
    if (expires.set)
        json_object_set_new(body, "url_expires", json_integer(expires.v));
    if (expires_max.set)
        json_object_set_new(body, "url_expires_max", json_integer(expires_max.v));
    exit_code = admin_call(&spec, &args, "PUT", path.base, body, &resp);
    if (exit_code == CLI_EXIT_OK)
        exit_code = print_member(resp.json, "tenant");
out:
    json_decref(body);
    buf_release(&path);
    cli_response_release(&resp);
    cli_args_release(&args);
    return exit_code;
}

/* ---- keys --------------------------------------------------------------------------------- */

static int keys_create(int argc, char **argv)
{
    cli_list_t scopes = {0};
    bool json_out = false;
    const cli_opt_t opts[] = {
        {.name = "--scope",
         .kind = CLI_OPT_LIST,
         .metavar = "S",
         .help = "read or write (repeatable; default both)",
         .dest = &scopes},
        {.name = "--json", .kind = CLI_OPT_FLAG, .help = "print the whole answer as JSON", .dest = &json_out},
        {.name = NULL},
    };
    const cli_spec_t spec = {
        .usage = "loci admin keys create TENANT [--scope read|write]... [options]",
        .about = "Issues a token for TENANT. Prints the token on stdout (it is shown only\n"
                 "once) and the key id on stderr.",
        .min_args = 1,
        .max_args = 1,
        .token_env = CLI_ENV_ADMIN_TOKEN,
        .opts = opts,
    };
    static const char *default_scopes[] = {"read", "write"};
    cli_args_t args;
    cli_response_t resp;
    buf_t path = BUF_INIT;
    json_t *body = NULL, *arr = NULL;
    err_t e;
    int exit_code = CLI_EXIT_FAIL;

    cli_args_init(&args);
    cli_response_init(&resp);
    if (!cli_args_run(&spec, argc, argv, &args, &exit_code))
        goto out;
    for (size_t i = 0; i < scopes.n; i++) {
        if (strcmp(scopes.v[i], "read") != 0 && strcmp(scopes.v[i], "write") != 0) {
            exit_code = cli_usage_error(&spec, "invalid scope '%s': expected read or write", scopes.v[i]);
            goto out;
        }
    }
    if (scopes.n == 0)
        scopes = (cli_list_t){default_scopes, 2};
    exit_code = admin_path(&spec, &path, "tenants", args.pos[0], "keys", NULL);
    if (exit_code != CLI_EXIT_OK)
        goto out;
    if (cli_strings_array(&scopes, "scope", &arr, &e) != 0) {
        exit_code = cli_usage_error(&spec, "%s", e.msg);
        goto out;
    }
    body = json_object();
    json_object_set_new(body, "scopes", arr);
    exit_code = admin_call(&spec, &args, "POST", path.base, body, &resp);
    if (exit_code != CLI_EXIT_OK)
        goto out;
    if (json_out) {
        exit_code = cli_print_json(resp.json, true) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
        goto out;
    }
    const char *token = cli_jstr(resp.json, "token");
    if (token == NULL) {
        fputs("loci: malformed answer from server: no token\n", stderr);
        exit_code = CLI_EXIT_FAIL;
        goto out;
    }
    if (printf("%s\n", token) < 0 || fflush(stdout) != 0) {
        exit_code = CLI_EXIT_FAIL;
        goto out;
    }
    fprintf(stderr, "loci: created key for tenant '%s': %s\n", args.pos[0], str_or_dash(resp.json, "key_id"));
out:
    json_decref(body);
    buf_release(&path);
    cli_response_release(&resp);
    cli_args_release(&args);
    return exit_code;
}

static int keys_list(int argc, char **argv)
{
    bool json_out = false;
    const cli_opt_t opts[] = {
        {.name = "--json", .kind = CLI_OPT_FLAG, .help = "one JSON object per line", .dest = &json_out},
        {.name = NULL},
    };
    const cli_spec_t spec = {
        .usage = "loci admin keys list TENANT [options]",
        .about = "Lists TENANT's keys: \"KEY_ID  SCOPES  CREATED_AT  REVOKED_AT\" per line.",
        .min_args = 1,
        .max_args = 1,
        .token_env = CLI_ENV_ADMIN_TOKEN,
        .opts = opts,
    };
    cli_args_t args;
    cli_response_t resp;
    buf_t path = BUF_INIT, scopes = BUF_INIT;
    int exit_code = CLI_EXIT_FAIL;
    size_t i;
    json_t *k;

    cli_args_init(&args);
    cli_response_init(&resp);
    if (!cli_args_run(&spec, argc, argv, &args, &exit_code))
        goto out;
    exit_code = admin_path(&spec, &path, "tenants", args.pos[0], "keys", NULL);
    if (exit_code != CLI_EXIT_OK)
        goto out;
    exit_code = admin_call(&spec, &args, "GET", path.base, NULL, &resp);
    if (exit_code != CLI_EXIT_OK)
        goto out;
    json_array_foreach(json_object_get(resp.json, "keys"), i, k)
    {
        int rc;
        if (json_out) {
            rc = cli_print_json(k, false);
        } else {
            join_strings(&scopes, json_object_get(k, "scopes"));
            rc = printf("%s  %s  %s  %s\n", str_or_dash(k, "key_id"), scopes.base, str_or_dash(k, "created_at"),
                        str_or_dash(k, "revoked_at")) < 0;
        }
        if (rc != 0) {
            exit_code = CLI_EXIT_FAIL;
            goto out;
        }
    }
out:
    buf_release(&scopes);
    buf_release(&path);
    cli_response_release(&resp);
    cli_args_release(&args);
    return exit_code;
}

static int keys_revoke(int argc, char **argv)
{
    return admin_delete(argc, argv, "tenants", "keys", "loci admin keys revoke TENANT KEY_ID");
}

/* ---- dispatch ----------------------------------------------------------------------------- */

static const admin_action_t store_actions[] = {
    {"list", stores_list, "list stores"},
    {"get", stores_get, "show one store"},
    {"put", stores_put, "create or replace a store"},
    {"delete", stores_delete, "delete an unused store"},
    {NULL, NULL, NULL},
};

static const admin_action_t tenant_actions[] = {
    {"list", tenants_list, "list tenants"},
    {"get", tenants_get, "show one tenant"},
    {"put", tenants_put, "create or replace a tenant"},
    {NULL, NULL, NULL},
};

static const admin_action_t key_actions[] = {
    {"create", keys_create, "issue a token for a tenant"},
    {"list", keys_list, "list a tenant's keys"},
    {"revoke", keys_revoke, "revoke a key"},
    {NULL, NULL, NULL},
};

static const admin_group_t groups[] = {
    {"stores", store_actions, "backing stores"},
    {"tenants", tenant_actions, "tenants and their residency policy"},
    {"keys", key_actions, "tenants' API tokens"},
    {NULL, NULL, NULL},
};

static void admin_usage(FILE *f, const admin_group_t *only)
{
    fprintf(f, "usage: loci admin %s <action> [args] [options]\n", only ? only->name : "<group>");
    for (const admin_group_t *g = groups; g->name; g++) {
        if (only && only != g)
            continue;
        fprintf(f, "\n%s: %s\n", g->name, g->summary);
        for (const admin_action_t *a = g->actions; a->name; a++) {
            char cmd[64];
            snprintf(cmd, sizeof(cmd), "%s %s", g->name, a->name);
            fprintf(f, "  loci admin %-16s %s\n", cmd, a->summary);
        }
    }
    fputs("\nAdmin commands use the admin token: --token, else $" CLI_ENV_ADMIN_TOKEN ".\n"
          "Run 'loci admin <group> <action> --help' for an action's options.\n",
          f);
}

static bool is_help(const char *s)
{
    return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0 || strcmp(s, "help") == 0;
}

int cmd_admin(int argc, char **argv)
{
    const admin_group_t *g = NULL;
    if (argc < 2 || is_help(argv[1])) {
        admin_usage(argc < 2 ? stderr : stdout, NULL);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    for (g = groups; g->name && strcmp(g->name, argv[1]) != 0; g++)
        ;
    if (g->name == NULL) {
        fprintf(stderr, "loci: unknown admin group '%s'\n", argv[1]);
        admin_usage(stderr, NULL);
        return CLI_EXIT_USAGE;
    }
    if (argc < 3 || is_help(argv[2])) {
        admin_usage(argc < 3 ? stderr : stdout, g);
        return argc < 3 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    for (const admin_action_t *a = g->actions; a->name; a++)
        if (strcmp(a->name, argv[2]) == 0)
            return a->fn(argc - 2, argv + 2);
    fprintf(stderr, "loci: unknown action 'admin %s %s'\n", g->name, argv[2]);
    admin_usage(stderr, g);
    return CLI_EXIT_USAGE;
}
