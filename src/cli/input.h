/*
 * input.h - turning what the user typed into what the API wants: tags given as K=V into a
 * JSON object, --attr text into a JSON object, a content type guessed from a file name, and
 * the name of the temporary file a download is written to. All pure, so they are unit-tested.
 */
#ifndef LOCI_CLI_INPUT_H
#define LOCI_CLI_INPUT_H

#include <jansson.h>

#include "cli/opts.h"
#include "util/buf.h"
#include "util/err.h"

/* Builds {"k":"v",...} from K=V arguments into *out (a new reference, owned by the caller;
 * NULL when the list is empty). ERR_BAD_REQUEST with the reason in e for an argument without
 * '=' or with an empty key, a key given twice, or text that is not valid UTF-8. */
int cli_tags_object(const cli_list_t *kv, json_t **out, err_t *e);

/* Builds ["a","b",...] from a list into *out (a new reference; an empty array for an empty
 * list). ERR_BAD_REQUEST naming `what` in e if a value is empty or not valid UTF-8. */
int cli_strings_array(const cli_list_t *l, const char *what, json_t **out, err_t *e);

/* Sets obj[key] to the string value; ERR_BAD_REQUEST naming key in e if it is not valid
 * UTF-8 (jansson would silently drop it). */
int cli_set_str(json_t *obj, const char *key, const char *value, err_t *e);

/* Parses --attr text, which must be a JSON object. Returns 0 with a new reference in *out, or
 * ERR_BAD_REQUEST with the reason (including the parser's position) in e. */
int cli_attrs_parse(const char *text, json_t **out, err_t *e);

/* Guesses a content type from a name's extension (case-insensitive) for a few common types;
 * NULL if it does not know it. The result is a static string. */
const char *cli_guess_content_type(const char *name);

/* Appends to b the mkstemp template for a file written next to path and renamed onto it:
 * "<dir>/.<base>.loci-XXXXXX" (no directory: ".<base>.loci-XXXXXX"). Returns 0, or
 * ERR_BAD_REQUEST if path has no file name (empty or ending in '/'). */
int cli_temp_template(buf_t *b, const char *path);

#endif
