/*
 * store.c - small helpers on store values.
 */
#include "core/store.h"

#include <string.h>

const char *store_cred(const store_t *s, const char *name)
{
    for (size_t i = 0; i < s->ncreds; i++)
        if (strcmp(s->creds[i].name, name) == 0)
            return s->creds[i].value;
    return NULL;
}

const char *store_status_name(store_status_t st)
{
    switch (st) {
    case STORE_ACTIVE:
        return "active";
    case STORE_READONLY:
        return "readonly";
    case STORE_OFFLINE:
        return "offline";
    }
    return "offline";
}

int store_status_parse(const char *name, store_status_t *out)
{
    if (strcmp(name, "active") == 0)
        *out = STORE_ACTIVE;
    else if (strcmp(name, "readonly") == 0)
        *out = STORE_READONLY;
    else if (strcmp(name, "offline") == 0)
        *out = STORE_OFFLINE;
    else
        return ERR_BAD_REQUEST;
    return 0;
}

bool store_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
            return false;
    }
    return true;
}
