/**
 * @file store.c
 * @brief The public store handle: open and close, the handle's own GEOS and PROJ
 * contexts (created on first need), schema version, explicit transactions and counts.
 */
#include "index/index.h"
#include "store/backend.h"

#include <stdarg.h>

/* GEOS errors go into the store that owns the context, so that the caller of the
 * failing GEOS function finds the detail there. */
static void geos_error(const char *message, void *udata)
{
    bt_store *s = udata;
    bt__error(s, BT_ERR_GEOMETRY, "GEOS: %s", message);
}

/* Notices are not failures; a successful call must leave the message empty. */
static void geos_notice(const char *message, void *udata)
{
    (void)message;
    (void)udata;
}

int bt__geos(bt_store *s, GEOSContextHandle_t *out)
{
    *out = s->geos;
    if (s->geos) return BT_OK;
    int rc = bt__geos_load(s);
    if (rc) return rc;
    s->geos = GEOS_init_r();
    if (!s->geos) return bt__error(s, BT_ERR_NOMEM, "setting up GEOS: out of memory");
    GEOSContext_setErrorMessageHandler_r(s->geos, geos_error, s);
    GEOSContext_setNoticeMessageHandler_r(s->geos, geos_notice, s);
    *out = s->geos;
    return BT_OK;
}

int bt__proj(bt_store *s, PJ_CONTEXT **out)
{
    *out = s->proj;
    if (s->proj) return BT_OK;
    int rc = bt__proj_load(s);
    if (rc) return rc;
    s->proj = proj_context_create();
    if (!s->proj) return bt__error(s, BT_ERR_NOMEM, "setting up PROJ: out of memory");
    /* PROJ would print to stderr; its failures are reported through bt__error. */
    proj_log_level(s->proj, PJ_LOG_NONE);
    *out = s->proj;
    return BT_OK;
}

static int open_fail(char **errmsg, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int open_fail(char **errmsg, int code, const char *fmt, ...)
{
    if (errmsg) {
        va_list ap;
        va_start(ap, fmt);
        *errmsg = bt__vstrdupf(fmt, ap);
        va_end(ap);
    }
    return code;
}

static void store_free(bt_store *s)
{
    if (s->geos) GEOS_finish_r(s->geos);
    if (s->proj) proj_context_destroy(s->proj);
    bt__free(s);
}

int bt_store_open(const char *path, unsigned flags, bt_store **out, char **errmsg)
{
    if (errmsg) *errmsg = NULL;
    if (!out) return open_fail(errmsg, BT_ERR_INVALID, "bt_store_open: out is NULL");
    *out = NULL;
    if (!path || !*path) return open_fail(errmsg, BT_ERR_INVALID, "bt_store_open: no path");
    unsigned mode = flags & (BT_OPEN_READONLY | BT_OPEN_READWRITE);
    if ((flags & ~(BT_OPEN_READONLY | BT_OPEN_READWRITE | BT_OPEN_CREATE)) != 0 ||
        (mode != BT_OPEN_READONLY && mode != BT_OPEN_READWRITE) ||
        ((flags & BT_OPEN_CREATE) && mode != BT_OPEN_READWRITE))
        return open_fail(errmsg, BT_ERR_INVALID,
                         "bt_store_open: flags 0x%x: give BT_OPEN_READONLY, or "
                         "BT_OPEN_READWRITE optionally with BT_OPEN_CREATE",
                         flags);

    bt_store *s = bt__calloc(1, sizeof *s);
    if (!s) return open_fail(errmsg, BT_ERR_NOMEM, "opening store %s: out of memory", path);
    s->flags = flags;
    s->be = &bt__spatialite_backend;

    int rc = s->be->open(s, path, flags);
    if (rc != BT_OK) {
        open_fail(errmsg, rc, "%s", s->errmsg);
        store_free(s);
        return rc;
    }
    *out = s;
    return BT_OK;
}

int bt_store_close(bt_store *store)
{
    if (!store) return BT_OK;
    bt__clear_error(store);
    bt__index_free(store); /* the in-memory index (lib/index) reads through the backend */
    int rc = store->be->close(store);
    store_free(store);
    return rc;
}

int bt_store_schema_version(bt_store *store, int *version)
{
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    if (!version) return bt__error(store, BT_ERR_INVALID, "bt_store_schema_version: version is NULL");
    return store->be->schema_version(store, version);
}

int bt_store_begin(bt_store *store)
{
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    if (store->in_txn)
        return bt__error(store, BT_ERR_STATE,
                         "bt_store_begin: a transaction is already open (they do not nest)");
    int rc = store->be->begin(store);
    if (rc == BT_OK) store->in_txn = true;
    return rc;
}

int bt_store_commit(bt_store *store)
{
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    if (!store->in_txn)
        return bt__error(store, BT_ERR_STATE, "bt_store_commit: no transaction is open");
    return store->be->commit(store);
}

int bt_store_rollback(bt_store *store)
{
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    if (!store->in_txn)
        return bt__error(store, BT_ERR_STATE, "bt_store_rollback: no transaction is open");
    return store->be->rollback(store);
}

int bt_store_count(bt_store *store, bt_counts *out)
{
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    if (!out) return bt__error(store, BT_ERR_INVALID, "bt_store_count: out is NULL");
    return store->be->count(store, out);
}
