/**
 * @file error.c
 * @brief Status code descriptions and the per-store error message.
 */
#include "core/internal.h"

#include <stdio.h>

/* Indexed by bt_status; keep in the enum's order. */
static const char *const bt__status_text[] = {
    "success",                                     /* BT_OK */
    "invalid argument or field",                   /* BT_ERR_INVALID */
    "out of memory",                               /* BT_ERR_NOMEM */
    "input/output error",                          /* BT_ERR_IO */
    "not found",                                   /* BT_ERR_NOT_FOUND */
    "already exists",                              /* BT_ERR_EXISTS */
    "not a bordertrack store",                     /* BT_ERR_NOT_A_STORE */
    "store written by a newer bordertrack",        /* BT_ERR_SCHEMA */
    "read-only store or file",                     /* BT_ERR_READONLY */
    "store is locked by another writer",           /* BT_ERR_BUSY */
    "unknown coordinate reference system or failed transformation", /* BT_ERR_CRS */
    "geometry operation failed",                   /* BT_ERR_GEOMETRY */
    "could not parse input",                       /* BT_ERR_PARSE */
    "call out of order",                           /* BT_ERR_STATE */
    "internal error",                              /* BT_ERR_INTERNAL */
    "would break a reference",                     /* BT_ERR_CONSTRAINT */
    "cancelled by the caller",                     /* BT_ERR_CANCELLED */
};

const char *bt_strerror(int code)
{
    if (code < 0 || (size_t)code >= sizeof bt__status_text / sizeof bt__status_text[0])
        return "unknown error";
    return bt__status_text[code];
}

void bt__clear_error(bt_store *s)
{
    if (s != NULL)
        s->errmsg[0] = '\0';
}

int bt__error(bt_store *s, int code, const char *fmt, ...)
{
    if (s != NULL) {
        va_list ap;
        va_start(ap, fmt);
        /* vsnprintf truncates a long message and always NUL-terminates */
        int n = vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
        va_end(ap);
        if (n < 0)
            s->errmsg[0] = '\0';
    }
    return code;
}

/* internal.h declares it without the attribute; repeat it here so that the compiler
 * checks the format use below (and -Wformat-nonliteral stays quiet). */
#if defined(__GNUC__)
char *bt__vstrdupf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
#endif

char *bt__vstrdupf(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    char *buf = bt__malloc((size_t)n + 1);
    if (buf == NULL)
        return NULL;
    if (vsnprintf(buf, (size_t)n + 1, fmt, ap) < 0) {
        bt__free(buf);
        return NULL;
    }
    return buf;
}

void bt_string_free(char *s)
{
    bt__free(s);
}

const char *bt_store_errmsg(const bt_store *store)
{
    return store != NULL ? store->errmsg : "";
}
