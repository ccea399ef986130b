/*
 * err.c - lookups into the ERR_MAP table.
 */
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct err_info {
    int num;
    int status;
    const char *api;
    const char *msg;
    const char *name;
};

static const struct err_info err_table[] = {
#define ERR_ROW(name_, num, status, code, msg) {num, status, code, msg, #name_},
    ERR_MAP(ERR_ROW)
#undef ERR_ROW
};

static const struct err_info *lookup(int code)
{
    for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
        if (err_table[i].num == code)
            return &err_table[i];
    return NULL;
}

const char *err_api_code(int code)
{
    const struct err_info *e = lookup(code);
    return e ? e->api : "internal";
}

int err_http_status(int code)
{
    const struct err_info *e = lookup(code);
    return e ? e->status : 500;
}

const char *err_default_message(int code)
{
    const struct err_info *e = lookup(code);
    return e ? e->msg : "internal error";
}

const char *err_name(int code)
{
    const struct err_info *e = lookup(code);
    return code == 0 ? "OK" : e ? e->name : "UNKNOWN";
}

int err_set(err_t *e, int code, const char *fmt, ...)
{
    if (e == NULL)
        return code;
    e->code = code;
    if (fmt == NULL) {
        snprintf(e->msg, sizeof(e->msg), "%s", err_default_message(code));
    } else {
        /* formatted aside first: the arguments may include e->msg itself ("...: %s", e->msg) */
        char msg[sizeof(e->msg)];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        memcpy(e->msg, msg, sizeof(msg));
    }
    return code;
}

void err_clear(err_t *e)
{
    e->code = 0;
    e->msg[0] = '\0';
}
