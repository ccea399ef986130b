/*
 * signbench.c - what one signed URL costs, per provider: nanoseconds per GET and per PUT on one
 * thread, and URLs per second from several threads sharing one signer (the way loop threads
 * share a store's signer). Run by `make bench`; prints a markdown table.
 *
 *   signbench [--seconds S] [--threads N] [--vectors DIR]
 *
 * DIR (default tests/vectors) holds Google's test service account, used for the RSA case.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sign/sign.h"
#include "util/arena.h"
#include "util/timeutil.h"

typedef struct bcase {
    const char *name;
    store_t store;
    store_cred_t creds[2];
} bcase_t;

typedef struct run {
    signer_t *sg;
    const char *method;
    double seconds;
    atomic_bool stop;
    atomic_llong total;
} run_t;

static cset_t allowed;

/* Signs in a loop until told to stop; names vary so nothing is cached by accident. */
static void *worker(void *arg)
{
    run_t *r = arg;
    arena_t a;
    arena_init(&a);
    char name[64];
    long long n = 0;
    int64_t now = time_now_ms() / 1000;
    while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
        for (int i = 0; i < 256; i++, n++) {
            snprintf(name, sizeof(name), "acme/eu1.%026lld", n);
            sign_request_t rq = {.method = r->method,
                                 .name = name,
                                 .now = now,
                                 .expires = 900,
                                 .content_type = strcmp(r->method, "PUT") == 0 ? "application/octet-stream" : NULL,
                                 .content_length = strcmp(r->method, "PUT") == 0 ? 1048576 : -1};
            sign_result_t out;
            err_t e;
            if (sign_presign(r->sg, &allowed, "acme", &rq, &out, &a, &e) != 0) {
                fprintf(stderr, "signbench: %s\n", e.msg);
                exit(1);
            }
        }
        arena_release(&a);
        arena_init(&a);
    }
    atomic_fetch_add(&r->total, n);
    arena_release(&a);
    return NULL;
}

/* URLs per second from nthreads threads for the given time. */
static double measure(signer_t *sg, const char *method, int nthreads, double seconds)
{
    run_t r = {.sg = sg, .method = method, .seconds = seconds};
    pthread_t th[64];
    atomic_init(&r.stop, false);
    atomic_init(&r.total, 0);
    int64_t t0 = time_mono_ns();
    for (int i = 0; i < nthreads; i++)
        pthread_create(&th[i], NULL, worker, &r);
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&ts, NULL);
    atomic_store(&r.stop, true);
    for (int i = 0; i < nthreads; i++)
        pthread_join(th[i], NULL);
    double secs = (double)(time_mono_ns() - t0) / 1e9;
    return (double)atomic_load(&r.total) / secs;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = '\0';
    fclose(f);
    return s;
}

int main(int argc, char **argv)
{
    double seconds = 1.0;
    int threads = 2;
    const char *vectors = "tests/vectors";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--seconds") == 0)
            seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--vectors") == 0)
            vectors = argv[i + 1];
    }
    if (threads < 1 || threads > 64 || seconds <= 0) {
        fputs("usage: signbench [--seconds S] [--threads N (1-64)] [--vectors DIR]\n", stderr);
        return 2;
    }
    char path[1024];
    snprintf(path, sizeof(path), "%s/gcs/test_service_account.not-a-test.json", vectors);
    char *sa = read_file(path);
    if (sa == NULL) {
        fprintf(stderr, "signbench: cannot read %s\n", path);
        return 1;
    }
    cset_clear(&allowed);
    cset_add(&allowed, "DE");

    bcase_t cases[] = {
        {"s3 (SigV4)",
         {.id = "s3",
          .provider = "s3",
          .endpoint = "https://s3.eu-central-1.amazonaws.com",
          .bucket = "acme-eu",
          .region = "eu-central-1"},
         {{"access_key_id", "AKIAIOSFODNN7EXAMPLE"}, {"secret_access_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}}},
        {"gcs (HMAC)",
         {.id = "gh", .provider = "gcs", .bucket = "acme-eu", .region = "europe-west3"},
         {{"hmac_access_id", "GOOG1EXAMPLE"}, {"hmac_secret", "bGoa+V7g/yqDXvKRqq+JTFn4uQZbPiQJo4pf9RzJ"}}},
        {"gcs (RSA-2048)",
         {.id = "gr", .provider = "gcs", .bucket = "acme-eu", .region = "europe-west3"},
         {{"service_account_json", sa}}},
        {"azure (SAS)",
         {.id = "az",
          .provider = "azure",
          .endpoint = "https://acmeeu.blob.core.windows.net",
          .bucket = "objects",
          .account = "acmeeu"},
         {{"account_key", "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="}}},
        {"swift (TempURL)",
         {.id = "sw", .provider = "swift", .endpoint = "https://swift.example.ch/v1/AUTH_acme", .bucket = "objects"},
         {{"temp_url_key", "a-long-random-temp-url-key"}}},
        {"local (SigV4)",
         {.id = "lo", .provider = "local", .endpoint = "http://127.0.0.1:7700", .region = "local"},
         {{"access_key_id", "LOCIEXAMPLE"}, {"secret_access_key", "a-secret-derived-from-the-master-key"}}},
    };
    printf("| provider | GET ns/URL (1 thread) | PUT ns/URL (1 thread) | GET URLs/s (%d threads) |\n", threads);
    printf("|---|---:|---:|---:|\n");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bcase_t *c = &cases[i];
        memcpy(c->store.country, "DE", 3);
        c->store.status = STORE_ACTIVE;
        c->store.weight = 100;
        c->store.path_style = true;
        c->store.creds = c->creds;
        c->store.ncreds = c->creds[0].name ? (c->creds[1].name ? 2 : 1) : 0;
        signer_t *sg;
        err_t e;
        if (sign_create(&c->store, &sg, &e) != 0) {
            fprintf(stderr, "signbench: %s: %s\n", c->name, e.msg);
            return 1;
        }
        double get1 = measure(sg, "GET", 1, seconds);
        double put1 = measure(sg, "PUT", 1, seconds);
        double getn = measure(sg, "GET", threads, seconds);
        printf("| %s | %.0f | %.0f | %.0f |\n", c->name, 1e9 / get1, 1e9 / put1, getn);
        fflush(stdout);
        sign_destroy(sg);
    }
    free(sa);
    return 0;
}
