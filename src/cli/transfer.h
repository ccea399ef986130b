/*
 * transfer.h - moving object bytes between this machine and a store, straight to the signed
 * URLs loci hands out (the bytes never pass through loci's API).
 *
 * Uploads stream a file from disk and downloads stream into a file descriptor, hashing with
 * SHA-256 on the way, so nothing is held in memory whatever the object's size. Both show a
 * cli_progress_t and stop early when the user interrupts (cli_interrupt_install), so a
 * command can still clean up (put aborts its upload).
 */
#ifndef LOCI_CLI_TRANSFER_H
#define LOCI_CLI_TRANSFER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli/client.h"
#include "cli/progress.h"
#include "util/crypto.h"
#include "util/err.h"

/* Makes SIGINT and SIGTERM stop running transfers instead of killing the process (a second
 * signal kills it as usual). Call once before the first transfer. */
void cli_interrupt_install(void);
/* True once such a signal has arrived. */
bool cli_interrupted(void);

/* An upload of bytes [offset, offset + size) of an open file to a signed URL. */
typedef struct cli_upload {
    int fd;
    int64_t offset, size;
    const char *method;   /* NULL: PUT */
    const char *url;      /* signed */
    json_t *headers;      /* an object of string -> string, sent exactly */
    const char *what;     /* names the target in messages: "store 'local'", "part 3 at store 's3'" */
    cli_progress_t *prog; /* bytes are added as they go (cli_progress_add) */
    /* outputs */
    uint8_t sha[SHA256_LEN]; /* of the bytes actually sent, to tell if the file changed */
    char etag[256];          /* the store's ETag answer header, "" if none or too long */
} cli_upload_t;

/* Uploads rq's range with its method to its signed URL, sending exactly the headers in
 * rq->headers and nothing that could break a signature: no Content-Type of its own, no
 * `Expect: 100-continue`, no Accept. Reads with pread, so threads may share fd.
 * Returns 0 on a 2xx answer; ERR_CONFLICT if the store refused (its reason in e),
 * ERR_UNAVAILABLE for a transport failure or an interrupt, ERR_IO if the file cannot be read
 * or is shorter than the range, ERR_BAD_REQUEST for headers that cannot be sent. */
int cli_upload(cli_client_t *c, cli_upload_t *rq, err_t *e);

/* Downloads a signed url (GET, following redirects) into fd, writing only the body of a 2xx
 * answer; more than max bytes fails at once (max < 0: no limit). The SHA-256 of what was
 * written goes to sha and its length to *got. Returns 0; ERR_CONFLICT if the store refused or
 * sent too much, ERR_UNAVAILABLE for a transport failure or an interrupt, ERR_IO if fd cannot
 * be written; the reason in e. */
int cli_download(cli_client_t *c, const char *url, int fd, int64_t max, const char *what, cli_progress_t *prog,
                 uint8_t sha[SHA256_LEN], int64_t *got, err_t *e);

/* Describes a store's refusal for a message: "http 403 (SignatureDoesNotMatch: …)" from an
 * S3-style XML error, "http 403 (<message> (<code>))" from a loci error body, else
 * "http 403". Writes a NUL-terminated string to out. Pure. */
void cli_store_error(long status, const char *body, size_t len, char *out, size_t cap);

#endif
