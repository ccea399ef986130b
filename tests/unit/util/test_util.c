/*
 * test_util.c - encodings, buffers, the JSON writer, crypto wrappers and time formats.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "unit/test.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "util/enc.h"
#include "util/err.h"
#include "util/jsonw.h"
#include "util/pool.h"
#include "util/spin.h"
#include "util/timeutil.h"

TEST(util_hex)
{
    char out[16];
    uint8_t in[] = {0x00, 0xab, 0xff}, back[3];
    hex_encode(in, 3, out);
    CHECK_STR(out, "00abff");
    CHECK_INT(hex_decode("00ABff", 6, back, 3), 0);
    CHECK(memcmp(in, back, 3) == 0);
    CHECK_INT(hex_decode("0g", 2, back, 1), -1);
    CHECK_INT(hex_decode("abc", 3, back, 1), -1);
}

TEST(util_base64)
{
    char out[64];
    uint8_t back[64];
    size_t n;
    base64_encode((const uint8_t *)"foob", 4, out);
    CHECK_STR(out, "Zm9vYg==");
    base64url_encode((const uint8_t *)"\xfb\xff", 2, out);
    CHECK_STR(out, "-_8");
    CHECK_INT(base64_decode("Zm9vYg==", 8, back, &n), 0);
    CHECK_INT(n, 4);
    CHECK(memcmp(back, "foob", 4) == 0);
    CHECK_INT(base64_decode("-_8", 3, back, &n), 0);
    CHECK_INT(n, 2);
    CHECK_INT(base64_decode("Zm9vY", 5, back, &n), -1);
    CHECK_INT(base64_decode("Zm9*", 4, back, &n), -1);
    CHECK_INT(base64_decode("Zh==", 4, back, &n), -1); /* non-zero leftover bits */
    base32_encode((const uint8_t *)"foobar", 6, out);
    CHECK_STR(out, "mzxw6ytboi");
}

TEST(util_pct)
{
    buf_t b = BUF_INIT;
    pct_encode(&b, "a b+c~é/x", strlen("a b+c~é/x"), true);
    CHECK_STR(b.base, "a%20b%2Bc~%C3%A9/x");
    buf_reset(&b);
    pct_encode(&b, "a/b", 3, false);
    CHECK_STR(b.base, "a%2Fb");
    buf_release(&b);
    char out[32];
    size_t n;
    CHECK_INT(pct_decode("a%2Fb+c", 7, out, &n, true), 0);
    CHECK_STR(out, "a/b c");
    CHECK_INT(pct_decode("a%2Fb+c", 7, out, &n, false), 0);
    CHECK_STR(out, "a/b+c");
    CHECK_INT(pct_decode("%2", 2, out, &n, false), -1);
    CHECK_INT(pct_decode("%", 1, out, &n, false), -1);
    CHECK_INT(pct_decode("%zz", 3, out, &n, false), -1);
    CHECK_INT(pct_decode("%00", 3, out, &n, false), 0);
    CHECK_INT(n, 1);
}

/* Every byte value, with and without '/', on the fast path (room for the worst case) and on the
 * byte-by-byte one (a cap too tight for three bytes per input byte): RFC 3986's unreserved set
 * stays, everything else is %XX in uppercase. */
TEST(util_pct_all_bytes)
{
    for (int slash = 0; slash < 2; slash++) {
        for (int capped = 0; capped < 2; capped++) {
            for (int c = 0; c < 256; c++) {
                bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                            c == '.' || c == '~' || (slash && c == '/');
                char in[2] = {'x', (char)c}, want[8];
                if (keep)
                    snprintf(want, sizeof(want), "x%c", c);
                else
                    snprintf(want, sizeof(want), "x%%%02X", c);
                buf_t b;
                buf_init(&b, capped ? strlen(want) : 0);
                CHECK_INT(pct_encode(&b, in, 2, slash), 0);
                CHECK_STR(b.base, want);
                CHECK_INT(b.len, strlen(want));
                buf_release(&b);
            }
        }
    }
    buf_t b;
    buf_init(&b, 4); /* "a%2F" fits, "a%2Fb" does not */
    CHECK_INT(pct_encode(&b, "a/b", 3, false), ERR_PAYLOAD_TOO_LARGE);
    buf_reset(&b);
    CHECK_INT(pct_encode(&b, "a/", 2, false), 0);
    CHECK_STR(b.base, "a%2F");
    buf_release(&b);
}

TEST(util_utf8)
{
    CHECK(utf8_valid("plain", 5));
    CHECK(utf8_valid("\xc3\xa9", 2));
    CHECK(utf8_valid("\xf0\x9f\x98\x80", 4));
    CHECK(!utf8_valid("\xc3", 1));
    CHECK(!utf8_valid("\xc0\xaf", 2));         /* overlong */
    CHECK(!utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    CHECK(!utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    CHECK(!utf8_valid("\xff", 1));
    CHECK(!utf8_valid("\xe2\x82", 2));
}

TEST(util_buf_cap)
{
    buf_t b;
    buf_init(&b, 8);
    CHECK_INT(buf_puts(&b, "12345678"), 0);
    CHECK_INT(buf_putc(&b, '9'), ERR_PAYLOAD_TOO_LARGE);
    CHECK_INT(b.len, 8);
    CHECK_STR(b.base, "12345678");
    buf_reset(&b);
    CHECK_INT(buf_put_i64(&b, -42), 0);
    buf_release(&b);
    /* an empty buffer detaches as an allocated, terminated "" */
    char *empty = buf_detach(&b, NULL);
    CHECK_STR(empty, "");
    free(empty);
    buf_init(&b, 8);
    CHECK_INT(buf_put_i64(&b, -42), 0);
    CHECK_STR(b.base, "-42");
    buf_release(&b);
}

TEST(util_jsonw)
{
    buf_t b = BUF_INIT;
    jw_t w;
    jw_init(&w, &b);
    jw_obj_open(&w);
    jw_kv_str(&w, "a", "x\"y\n\x01");
    jw_kv_int(&w, "n", -5);
    jw_key(&w, "l");
    jw_arr_open(&w);
    jw_bool(&w, true);
    jw_null(&w);
    jw_raw(&w, "{\"k\":1}", 7);
    jw_arr_close(&w);
    jw_kv_str(&w, "z", NULL);
    jw_obj_close(&w);
    CHECK_INT(jw_finish(&w), 0);
    CHECK_STR(b.base, "{\"a\":\"x\\\"y\\n\\u0001\",\"n\":-5,\"l\":[true,null,{\"k\":1}],\"z\":null}");
    buf_release(&b);

    /* keys: plain ones (short, long, nested) take the fast path, others are escaped */
    jw_init(&w, &b);
    jw_obj_open(&w);
    jw_kv_int(&w, "a_key_longer_than_sixteen", 1);
    jw_kv_str(&w, "q\"k\\", "v");
    jw_key(&w, "o");
    jw_obj_open(&w);
    jw_kv_bool(&w, "in", false);
    jw_kv_raw(&w, "r", "[]", 2);
    jw_obj_close(&w);
    jw_kv_str(&w, "caf\xc3\xa9", "x");
    jw_obj_close(&w);
    CHECK_INT(jw_finish(&w), 0);
    CHECK_STR(b.base, "{\"a_key_longer_than_sixteen\":1,\"q\\\"k\\\\\":\"v\",\"o\":{\"in\":false,\"r\":[]},\"caf\xc3\xa9\":\"x\"}");
    buf_release(&b);

    /* a key that does not fit a capped buffer is an error, not a partial write */
    buf_t capped = BUF_INIT;
    capped.max = 8;
    jw_init(&w, &capped);
    jw_obj_open(&w);
    jw_kv_int(&w, "longer_than_the_cap", 1);
    jw_obj_close(&w);
    CHECK(jw_finish(&w) != 0);
    CHECK(capped.len <= 8);
    buf_release(&capped);

    jw_init(&w, &b);
    jw_obj_open(&w);
    CHECK(jw_finish(&w) != 0); /* unbalanced */
    buf_release(&b);
}

/* Every byte value at every position of a 24-byte string (so at every offset within the
 * escaper's 8-byte steps and in its byte-by-byte tail): what JSON needs escaped is escaped, a
 * byte that is not UTF-8 becomes U+FFFD, everything else is copied. */
TEST(util_jsonw_escape_all_bytes)
{
    for (int c = 0; c < 256; c++) {
        char want_esc[16];
        if (c == '"' || c == '\\')
            snprintf(want_esc, sizeof(want_esc), "\\%c", c);
        else if (c == '\n')
            strcpy(want_esc, "\\n");
        else if (c == '\r')
            strcpy(want_esc, "\\r");
        else if (c == '\t')
            strcpy(want_esc, "\\t");
        else if (c == '\b')
            strcpy(want_esc, "\\b");
        else if (c == '\f')
            strcpy(want_esc, "\\f");
        else if (c < 0x20 || c == 0x7f)
            snprintf(want_esc, sizeof(want_esc), "\\u%04x", c);
        else if (c >= 0x80)
            strcpy(want_esc, "\xef\xbf\xbd");
        else
            snprintf(want_esc, sizeof(want_esc), "%c", c);
        for (int pos = 0; pos < 24; pos++) {
            char in[24], want[64];
            memset(in, 'a', sizeof(in));
            in[pos] = (char)c;
            snprintf(want, sizeof(want), "\"%.*s%s%.*s\"", pos, in, want_esc, 23 - pos, in + pos + 1);
            buf_t b = BUF_INIT;
            CHECK_INT(jw_escape(&b, in, sizeof(in)), 0);
            CHECK_STR(b.base, want);
            buf_release(&b);
        }
    }
    /* well-formed UTF-8 stays as it is, across a step boundary too */
    buf_t b = BUF_INIT;
    CHECK_INT(jw_escape(&b, "abcdefg\xc3\xa9hijklmn\xe2\x82\xac", 19), 0);
    CHECK_STR(b.base, "\"abcdefg\xc3\xa9hijklmn\xe2\x82\xac\"");
    buf_release(&b);
}

TEST(util_crypto)
{
    char hex[65];
    sha256_hex("abc", 3, hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    uint8_t mac[32];
    hmac_sha256("key", 3, "The quick brown fox jumps over the lazy dog", 43, mac);
    hex_encode(mac, 32, hex);
    CHECK_STR(hex, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");

    uint8_t key[32] = {1, 2, 3}, sealed[64 + AEAD_OVERHEAD], opened[64];
    size_t n;
    CHECK_INT(aead_seal(key, "ctx", 3, "secret", 6, sealed), 0);
    CHECK_INT(aead_open(key, "ctx", 3, sealed, 6 + AEAD_OVERHEAD, opened, &n), 0);
    CHECK_INT(n, 6);
    CHECK(memcmp(opened, "secret", 6) == 0);
    CHECK_INT(aead_open(key, "ctY", 3, sealed, 6 + AEAD_OVERHEAD, opened, &n), ERR_BAD_REQUEST);
    sealed[AEAD_OVERHEAD] ^= 1;
    CHECK_INT(aead_open(key, "ctx", 3, sealed, 6 + AEAD_OVERHEAD, opened, &n), ERR_BAD_REQUEST);
    CHECK_INT(aead_open(key, "ctx", 3, sealed, 5, opened, &n), ERR_BAD_REQUEST);
    /* the thread's cipher context serves the next message as if new, after refusals too */
    sealed[AEAD_OVERHEAD] ^= 1;
    CHECK_INT(aead_open(key, "ctx", 3, sealed, 6 + AEAD_OVERHEAD, opened, &n), 0);
    CHECK_INT(n, 6);
    CHECK(memcmp(opened, "secret", 6) == 0);
    /* and takes each message's own key */
    uint8_t key2[32] = {9};
    CHECK_INT(aead_seal(key2, "ctx", 3, "other!", 6, sealed), 0);
    CHECK_INT(aead_open(key, "ctx", 3, sealed, 6 + AEAD_OVERHEAD, opened, &n), ERR_BAD_REQUEST);
    CHECK_INT(aead_open(key2, "ctx", 3, sealed, 6 + AEAD_OVERHEAD, opened, &n), 0);
    CHECK(memcmp(opened, "other!", 6) == 0);
}

TEST(util_time)
{
    char s[32];
    time_fmt_iso8601(1369353600, s);
    CHECK_STR(s, "2013-05-24T00:00:00Z");
    time_fmt_amz(1369353600, s);
    CHECK_STR(s, "20130524T000000Z");
    time_fmt_iso8601_ms(1369353600123, s);
    CHECK_STR(s, "2013-05-24T00:00:00.123Z");
    /* the millisecond format keeps the last date: across day changes, back and forth and before
     * 1970 it agrees with the seconds format */
    int64_t at[] = {1369353599999, 1369353600000, 1369267200000, 1369353600001, -1, 0, -86400001, 951782399999,
                    951782400000, 1763900000456, 1369353600123};
    for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        char want[32], secs[32];
        int64_t sec = at[i] >= 0 ? at[i] / 1000 : (at[i] - 999) / 1000;
        time_fmt_iso8601(sec, secs);
        snprintf(want, sizeof(want), "%.19s.%03dZ", secs, (int)(at[i] - sec * 1000));
        time_fmt_iso8601_ms(at[i], s);
        CHECK_STR(s, want);
    }
    int64_t t;
    CHECK_INT(time_parse_iso8601("2013-05-24T00:00:00Z", 20, &t), 0);
    CHECK_INT(t, 1369353600);
    CHECK_INT(time_parse_iso8601("2024-02-29T12:34:56.789Z", 24, &t), 0);
    CHECK_INT(t, 1709210096);
    CHECK_INT(time_parse_iso8601("2013-13-24T00:00:00Z", 20, &t), -1);
    CHECK_INT(time_parse_iso8601("2013-05-24 00:00:00Z", 20, &t), -1);
}

TEST(util_arena)
{
    arena_t a;
    arena_init(&a);
    char *big = arena_alloc(&a, 100000);
    memset(big, 'x', 100000);
    char *s = arena_printf(&a, "%s-%d", "k", 7);
    CHECK_STR(s, "k-7");
    for (int i = 0; i < 1000; i++)
        CHECK(arena_strdup(&a, "abc") != NULL);
    arena_release(&a);
    CHECK(a.chunks == NULL);
}

TEST(util_err_table)
{
    CHECK_STR(err_api_code(ERR_NOT_FOUND), "not_found");
    CHECK_INT(err_http_status(ERR_RESIDENCY_VIOLATION), 403);
    CHECK_INT(err_http_status(ERR_WRONG_CELL), 421);
    CHECK_STR(err_api_code(ERR_NOMEM), "internal");
    err_t e;
    CHECK_INT(err_set(&e, ERR_CONFLICT, "store '%s' busy", "s1"), ERR_CONFLICT);
    CHECK_STR(e.msg, "store 's1' busy");
    /* wrapping the message already in e: the inner text survives intact, once */
    CHECK_INT(err_set(&e, ERR_UNAVAILABLE, "cannot verify at '%s': %s", "s3-eu", e.msg), ERR_UNAVAILABLE);
    CHECK_STR(e.msg, "cannot verify at 's3-eu': store 's1' busy");
}

/* --- pool batches: one thread, held busy while the queue fills, then released --- */

typedef struct tjob {
    pool_job_t job;
    int id;
    int ran;      /* times run (alone or in a batch) */
    int batch_no; /* which run_many call ran it (0: run alone) */
    int batch_pos;
} tjob_t;

static pthread_mutex_t tp_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tp_cv = PTHREAD_COND_INITIALIZER;
static int tp_open, tp_done, tp_batches, tp_sizes[16];

static void tp_block(pool_job_t *j)
{
    (void)j;
    pthread_mutex_lock(&tp_mu);
    while (!tp_open)
        pthread_cond_wait(&tp_cv, &tp_mu);
    pthread_mutex_unlock(&tp_mu);
}

static void tp_run(pool_job_t *j)
{
    ((tjob_t *)j)->ran++;
}

static void tp_many(pool_job_t **jobs, size_t n)
{
    int no = ++tp_batches;
    if (no < 16)
        tp_sizes[no] = (int)n;
    for (size_t i = 0; i < n; i++) {
        tjob_t *t = (tjob_t *)jobs[i];
        t->ran++;
        t->batch_no = no;
        t->batch_pos = (int)i;
    }
}

static void tp_finish(pool_job_t *j)
{
    (void)j;
    pthread_mutex_lock(&tp_mu);
    tp_done++;
    pthread_cond_broadcast(&tp_cv);
    pthread_mutex_unlock(&tp_mu);
}

TEST(util_pool_batch)
{
    static char tag_a, tag_b; /* two tags: only their addresses matter */
    enum { NA1 = 5, NPLAIN = 2, NB = 3, NA2 = 40, N = 1 + NA1 + NPLAIN + NB + NA2 };
    tjob_t *jobs = calloc(N, sizeof(*jobs));
    pool_t *p = pool_new("test", 1);
    CHECK(p != NULL);
    for (int i = 0; i < N; i++) {
        tjob_t *t = &jobs[i];
        t->id = i;
        t->job.done = tp_finish;
        if (i == 0) { /* holds the only thread until the queue below is in place */
            t->job.run = tp_block;
        } else if (i <= NA1 || i > NA1 + NPLAIN + NB) {
            t->job.run_many = tp_many;
            t->job.batch = &tag_a;
        } else if (i <= NA1 + NPLAIN) {
            t->job.run = tp_run;
        } else {
            t->job.run_many = tp_many;
            t->job.batch = &tag_b;
        }
        pool_submit(p, &t->job);
    }
    pthread_mutex_lock(&tp_mu);
    tp_open = 1;
    pthread_cond_broadcast(&tp_cv);
    while (tp_done < N)
        pthread_cond_wait(&tp_cv, &tp_mu);
    pthread_mutex_unlock(&tp_mu);

    /* every job ran once; the first A job took the 32 A jobs nearest the head, jumping the
     * plain and B jobs; then the plain ones alone, the three B jobs together, the last A jobs */
    for (int i = 1; i < N; i++)
        CHECK_INT(jobs[i].ran, 1);
    CHECK_INT(tp_batches, 3);
    CHECK_INT(tp_sizes[1], POOL_BATCH_MAX);
    CHECK_INT(tp_sizes[2], NB);
    CHECK_INT(tp_sizes[3], NA1 + NA2 - POOL_BATCH_MAX);
    for (int i = 1; i <= NA1; i++) {
        CHECK_INT(jobs[i].batch_no, 1);
        CHECK_INT(jobs[i].batch_pos, i - 1); /* queue order within a batch */
    }
    for (int i = NA1 + 1; i <= NA1 + NPLAIN; i++)
        CHECK_INT(jobs[i].batch_no, 0);
    for (int i = NA1 + NPLAIN + 1; i <= NA1 + NPLAIN + NB; i++)
        CHECK_INT(jobs[i].batch_no, 2);
    int first_a2 = NA1 + NPLAIN + NB + 1;
    for (int i = first_a2; i < N; i++) {
        int k = i - first_a2; /* the k-th job of the second run of A jobs */
        CHECK_INT(jobs[i].batch_no, k < POOL_BATCH_MAX - NA1 ? 1 : 3);
        CHECK_INT(jobs[i].batch_pos, k < POOL_BATCH_MAX - NA1 ? NA1 + k : k - (POOL_BATCH_MAX - NA1));
    }
    uint64_t batches, batched;
    pool_batch_stats(p, &batches, &batched);
    CHECK_INT(batches, 3);
    CHECK_INT(batched, NA1 + NB + NA2);
    pool_free(p);
    free(jobs);
}

/* --- a list submitted at once: one wake-up, handed on while jobs remain --- */

static int tl_b_ran; /* under tp_mu */

static void tl_a_many(pool_job_t **jobs, size_t n)
{
    /* holds its thread until the B batch ran: only another thread can run it, and only one
     * was woken by the submit, so this returns early only if that thread woke the other */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&tp_mu);
    while (!tl_b_ran && pthread_cond_timedwait(&tp_cv, &tp_mu, &until) == 0)
        ;
    int b_first = tl_b_ran;
    pthread_mutex_unlock(&tp_mu);
    for (size_t i = 0; i < n; i++) {
        tjob_t *t = (tjob_t *)jobs[i];
        t->ran++;
        t->batch_no = b_first ? 2 : 1; /* 2: B ran while this batch waited */
        t->batch_pos = (int)i;
    }
}

static void tl_b_many(pool_job_t **jobs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        tjob_t *t = (tjob_t *)jobs[i];
        t->ran++;
        t->batch_pos = (int)i;
    }
    pthread_mutex_lock(&tp_mu);
    tl_b_ran = 1;
    pthread_cond_broadcast(&tp_cv);
    pthread_mutex_unlock(&tp_mu);
}

TEST(util_pool_submit_list)
{
    static char tag_a, tag_b;
    enum { NA = 3, NB = 2, N = NA + NB };
    tjob_t jobs[N];
    memset(jobs, 0, sizeof(jobs));
    tp_done = 0;
    tl_b_ran = 0;
    pool_t *p = pool_new("test", 2);
    CHECK(p != NULL);
    usleep(50 * 1000); /* both threads asleep, waiting for work */
    for (int i = 0; i < N; i++) {
        jobs[i].id = i;
        jobs[i].job.done = tp_finish;
        jobs[i].job.run_many = i < NA ? tl_a_many : tl_b_many;
        jobs[i].job.batch = i < NA ? &tag_a : &tag_b;
        jobs[i].job.next = i + 1 < N ? &jobs[i + 1].job : NULL;
    }
    pool_submit_list(p, &jobs[0].job);
    pthread_mutex_lock(&tp_mu);
    while (tp_done < N)
        pthread_cond_wait(&tp_cv, &tp_mu);
    pthread_mutex_unlock(&tp_mu);
    for (int i = 0; i < N; i++) {
        CHECK_INT(jobs[i].ran, 1);
        CHECK_INT(jobs[i].batch_pos, i < NA ? i : i - NA); /* list order kept within each batch */
    }
    for (int i = 0; i < NA; i++)
        CHECK_INT(jobs[i].batch_no, 2); /* the second thread ran B while A's batch waited */
    uint64_t batches, batched;
    pool_batch_stats(p, &batches, &batched);
    CHECK_INT(batches, 2);
    CHECK_INT(batched, N);
    pool_free(p);
}

/* --- the polling window (util/spin.h), driven by simulated request gaps --- */

/* One piece of work gap_ns after the last turn's end, taking busy_ns: the loop polls while its
 * window lasts, else sleeps until the work wakes it. Returns 1 when a poll caught it. */
static int spin_request(spin_t *sp, int64_t *t, int64_t gap_ns, int64_t busy_ns)
{
    int64_t arrive = *t + gap_ns;
    int caught = 0;
    if (spin_polling(sp)) {
        if (sp->until_ns >= arrive)
            caught = 1;
        else
            spin_after_turn(sp, false, 0, sp->until_ns); /* the window passed empty */
    }
    *t = arrive + busy_ns;
    spin_after_turn(sp, true, arrive, *t);
    return caught;
}

TEST(util_spin)
{
    spin_t sp;
    int64_t t = 1000000000;
    int caught = 0;

    /* a lone client: its next request 40 us after each answer, within a 50 us setting; even
     * from a window of nothing (after long gaps) polling comes back and catches nearly all */
    spin_init(&sp, 50000);
    for (int i = 0; i < 20; i++)
        spin_request(&sp, &t, 5000000, 40000);
    CHECK_INT(sp.cur_ns, 0);
    CHECK(!spin_polling(&sp));
    for (int i = 0; i < 1000; i++)
        caught += spin_request(&sp, &t, 40000, 40000);
    CHECK(caught >= 990);
    CHECK_INT(sp.cur_ns, 50000);

    /* answers that wait on a commit (2 ms): polling stops after a few gaps and stays off */
    caught = 0;
    for (int i = 0; i < 8; i++)
        spin_request(&sp, &t, 2000000, 40000);
    CHECK_INT(sp.cur_ns, 0);
    for (int i = 0; i < 1000; i++)
        caught += spin_request(&sp, &t, 2000000, 40000);
    CHECK_INT(caught, 0);
    CHECK(!spin_polling(&sp));

    /* gaps a little longer than a small window grow it to cover them in one step */
    spin_init(&sp, 200000);
    sp.cur_ns = SPIN_MIN_NS;
    spin_request(&sp, &t, 150000, 1000);
    spin_request(&sp, &t, 150000, 1000);
    CHECK(sp.cur_ns >= 150000 && sp.cur_ns <= 200000);
    CHECK_INT(spin_request(&sp, &t, 150000, 1000), 1);

    /* a setting of 0 never polls */
    spin_init(&sp, 0);
    caught = 0;
    for (int i = 0; i < 100; i++)
        caught += spin_request(&sp, &t, 1000, 1000);
    CHECK_INT(caught, 0);
    CHECK(!spin_polling(&sp));
}
