/**
 * @file records.c
 * @brief The public add / get / find / update / delete functions of every record
 * type: argument checks, the read-only guard and validation, then the backend.
 */
#include "store/backend.h"

/* A write on a store opened read-only fails here, before SQLite is asked. */
static int check_writable(bt_store *s, const char *fn)
{
    if (!(s->flags & BT_OPEN_READWRITE))
        return bt__error(s, BT_ERR_READONLY, "%s: the store is open read-only", fn);
    return BT_OK;
}

static int null_arg(bt_store *s, const char *fn, const char *arg)
{
    return bt__error(s, BT_ERR_INVALID, "%s: %s is NULL", fn, arg);
}

/* Common head of the add and update functions. */
#define WRITE_PROLOGUE(store, rec, fn)                 \
    do {                                               \
        if (!(store)) return BT_ERR_INVALID;           \
        bt__clear_error(store);                        \
        if (!(rec)) return null_arg(store, fn, #rec);  \
        int wrc_ = check_writable(store, fn);          \
        if (wrc_) return wrc_;                         \
    } while (0)

#define READ_PROLOGUE(store, outp, fn)                 \
    do {                                               \
        if (!(store)) return BT_ERR_INVALID;           \
        bt__clear_error(store);                        \
        if (!(outp)) return null_arg(store, fn, #outp);\
    } while (0)

#define DELETE_PROLOGUE(store, fn)                     \
    do {                                               \
        if (!(store)) return BT_ERR_INVALID;           \
        bt__clear_error(store);                        \
        int wrc_ = check_writable(store, fn);          \
        if (wrc_) return wrc_;                         \
    } while (0)

/* Runs an insert and hands out the id only on success. */
#define INSERT_BODY(store, call, id)                   \
    do {                                               \
        int64_t nid_ = 0;                              \
        int irc_ = (call);                             \
        if (irc_ == BT_OK && (id)) *(id) = nid_;       \
        return irc_;                                   \
    } while (0)

/* ---- segments ------------------------------------------------------------ */

int bt_segment_add(bt_store *store, const bt_segment *seg, int64_t *id)
{
    WRITE_PROLOGUE(store, seg, "bt_segment_add");
    int rc = bt__validate_segment(store, seg);
    if (rc) return rc;
    INSERT_BODY(store, store->be->segment_insert(store, seg, &nid_), id);
}

int bt_segment_get(bt_store *store, int64_t id, bt_segment **out)
{
    if (out) *out = NULL;
    READ_PROLOGUE(store, out, "bt_segment_get");
    return store->be->segment_get(store, id, out);
}

int bt_segment_update(bt_store *store, const bt_segment *seg)
{
    WRITE_PROLOGUE(store, seg, "bt_segment_update");
    int rc = bt__validate_segment(store, seg);
    if (rc) return rc;
    /* a border that interventions name keeps at least one segment */
    rc = store->be->intervention_segment_check(store, seg->id, seg->border);
    if (rc) return rc;
    return store->be->segment_update(store, seg);
}

int bt_segment_delete(bt_store *store, int64_t id)
{
    DELETE_PROLOGUE(store, "bt_segment_delete");
    int rc = store->be->intervention_segment_check(store, id, NULL);
    if (rc) return rc;
    return store->be->segment_delete(store, id);
}

/* ---- installations ------------------------------------------------------- */

int bt_installation_add(bt_store *store, const bt_installation *inst, int64_t *id)
{
    WRITE_PROLOGUE(store, inst, "bt_installation_add");
    int rc = bt__validate_installation(store, inst);
    if (rc) return rc;
    INSERT_BODY(store, store->be->installation_insert(store, inst, &nid_), id);
}

int bt_installation_get(bt_store *store, int64_t id, bt_installation **out)
{
    if (out) *out = NULL;
    READ_PROLOGUE(store, out, "bt_installation_get");
    return store->be->installation_get(store, id, out);
}

int bt_installation_update(bt_store *store, const bt_installation *inst)
{
    WRITE_PROLOGUE(store, inst, "bt_installation_update");
    int rc = bt__validate_installation(store, inst);
    if (rc) return rc;
    return store->be->installation_update(store, inst);
}

int bt_installation_delete(bt_store *store, int64_t id)
{
    DELETE_PROLOGUE(store, "bt_installation_delete");
    return store->be->installation_delete(store, id);
}

/* ---- incidents ----------------------------------------------------------- */

int bt_incident_add(bt_store *store, const bt_incident *inc, int64_t *id)
{
    WRITE_PROLOGUE(store, inc, "bt_incident_add");
    int rc = bt__validate_incident(store, inc);
    if (rc) return rc;
    INSERT_BODY(store, store->be->incident_insert(store, inc, &nid_), id);
}

int bt_incident_get(bt_store *store, int64_t id, bt_incident **out)
{
    if (out) *out = NULL;
    READ_PROLOGUE(store, out, "bt_incident_get");
    return store->be->incident_get(store, id, out);
}

int bt_incident_find(bt_store *store, const char *ref, int64_t *id)
{
    READ_PROLOGUE(store, id, "bt_incident_find");
    if (!ref) return null_arg(store, "bt_incident_find", "ref");
    return store->be->incident_find(store, ref, id);
}

int bt_incident_update(bt_store *store, const bt_incident *inc)
{
    WRITE_PROLOGUE(store, inc, "bt_incident_update");
    int rc = bt__validate_incident(store, inc);
    if (rc) return rc;
    return store->be->incident_update(store, inc);
}

int bt_incident_delete(bt_store *store, int64_t id)
{
    DELETE_PROLOGUE(store, "bt_incident_delete");
    return store->be->incident_delete(store, id);
}

/* ---- sources ------------------------------------------------------------- */

int bt_source_add(bt_store *store, const bt_source *src, int64_t *id)
{
    WRITE_PROLOGUE(store, src, "bt_source_add");
    int rc = bt__validate_source(store, src);
    if (rc) return rc;
    INSERT_BODY(store, store->be->source_insert(store, src, &nid_), id);
}

int bt_source_get(bt_store *store, int64_t id, bt_source **out)
{
    if (out) *out = NULL;
    READ_PROLOGUE(store, out, "bt_source_get");
    return store->be->source_get(store, id, out);
}

int bt_source_find(bt_store *store, const char *name, int64_t *id)
{
    READ_PROLOGUE(store, id, "bt_source_find");
    if (!name) return null_arg(store, "bt_source_find", "name");
    return store->be->source_find(store, name, id);
}

int bt_source_update(bt_store *store, const bt_source *src)
{
    WRITE_PROLOGUE(store, src, "bt_source_update");
    int rc = bt__validate_source(store, src);
    if (rc) return rc;
    return store->be->source_update(store, src);
}

int bt_source_delete(bt_store *store, int64_t id)
{
    DELETE_PROLOGUE(store, "bt_source_delete");
    return store->be->source_delete(store, id);
}

/* ---- report links -------------------------------------------------------- */

int bt_link_add(bt_store *store, const bt_report_link *link)
{
    WRITE_PROLOGUE(store, link, "bt_link_add");
    int rc = bt__validate_link(store, link);
    if (rc) return rc;
    return store->be->link_insert(store, link);
}

int bt_link_get(bt_store *store, int64_t incident_id, int64_t source_id, bt_report_link *out)
{
    READ_PROLOGUE(store, out, "bt_link_get");
    return store->be->link_get(store, incident_id, source_id, out);
}

int bt_link_update(bt_store *store, const bt_report_link *link)
{
    WRITE_PROLOGUE(store, link, "bt_link_update");
    int rc = bt__validate_link(store, link);
    if (rc) return rc;
    return store->be->link_update(store, link);
}

int bt_link_delete(bt_store *store, int64_t incident_id, int64_t source_id)
{
    DELETE_PROLOGUE(store, "bt_link_delete");
    return store->be->link_delete(store, incident_id, source_id);
}

int bt_link_list(bt_store *store, int64_t incident_id, bt_report_link **out, size_t *n)
{
    if (out) *out = NULL;
    if (n) *n = 0;
    READ_PROLOGUE(store, out, "bt_link_list");
    if (!n) return null_arg(store, "bt_link_list", "n");
    return store->be->link_list(store, incident_id, out, n);
}

void bt_link_list_free(bt_report_link *links)
{
    bt__free(links);
}

/* ---- places -------------------------------------------------------------- */

int bt_place_add(bt_store *store, const bt_place *place, int64_t *id)
{
    WRITE_PROLOGUE(store, place, "bt_place_add");
    int rc = bt__validate_place(store, place);
    if (rc) return rc;
    INSERT_BODY(store, store->be->place_insert(store, place, &nid_), id);
}

int bt_place_get(bt_store *store, int64_t id, bt_place **out)
{
    if (out) *out = NULL;
    READ_PROLOGUE(store, out, "bt_place_get");
    return store->be->place_get(store, id, out);
}

int bt_place_update(bt_store *store, const bt_place *place)
{
    WRITE_PROLOGUE(store, place, "bt_place_update");
    int rc = bt__validate_place(store, place);
    if (rc) return rc;
    return store->be->place_update(store, place);
}

int bt_place_delete(bt_store *store, int64_t id)
{
    DELETE_PROLOGUE(store, "bt_place_delete");
    return store->be->place_delete(store, id);
}

/* ---- interventions ------------------------------------------------------- */

int bt_intervention_add(bt_store *store, const bt_intervention *iv, int64_t *id)
{
    WRITE_PROLOGUE(store, iv, "bt_intervention_add");
    int rc = bt__validate_intervention(store, iv);
    if (rc) return rc;
    INSERT_BODY(store, store->be->intervention_insert(store, iv, &nid_), id);
}

int bt_intervention_get(bt_store *store, int64_t id, bt_intervention **out)
{
    if (out) *out = NULL;
    READ_PROLOGUE(store, out, "bt_intervention_get");
    return store->be->intervention_get(store, id, out);
}

int bt_intervention_find(bt_store *store, const char *ref, int64_t *id)
{
    READ_PROLOGUE(store, id, "bt_intervention_find");
    if (!ref) return null_arg(store, "bt_intervention_find", "ref");
    return store->be->intervention_find(store, ref, id);
}

int bt_intervention_update(bt_store *store, const bt_intervention *iv)
{
    WRITE_PROLOGUE(store, iv, "bt_intervention_update");
    int rc = bt__validate_intervention(store, iv);
    if (rc) return rc;
    return store->be->intervention_update(store, iv);
}

int bt_intervention_delete(bt_store *store, int64_t id)
{
    DELETE_PROLOGUE(store, "bt_intervention_delete");
    return store->be->intervention_delete(store, id);
}

int bt_intervention_list(bt_store *store, const char *border, bt_intervention ***out,
                         size_t *n)
{
    if (out) *out = NULL;
    if (n) *n = 0;
    READ_PROLOGUE(store, out, "bt_intervention_list");
    if (!n) return null_arg(store, "bt_intervention_list", "n");
    int64_t *ids = NULL;
    size_t nids = 0;
    /* the ids and the records from one snapshot: a savepoint is a read transaction
     * when none is open, so another connection's commit cannot fall in between */
    int rc = store->be->savepoint(store, "bt_ivlist");
    if (rc) return rc;
    rc = store->be->intervention_ids(store, border, &ids, &nids);
    bt_intervention **v = !rc && nids ? bt__calloc(nids, sizeof *v) : NULL;
    if (!rc && nids && !v)
        rc = bt__error(store, BT_ERR_NOMEM, "bt_intervention_list: out of memory");
    size_t got = 0;
    for (; !rc && got < nids; got++) rc = store->be->intervention_get(store, ids[got], &v[got]);
    bt__free(ids);
    /* nothing was written: release ends the read either way */
    int rc2 = store->be->savepoint_release(store, "bt_ivlist");
    if (!rc) rc = rc2;
    if (rc) {
        bt_intervention_array_free(v, nids);
        return rc;
    }
    *out = v;
    *n = nids;
    return BT_OK;
}

void bt_intervention_array_free(bt_intervention **ivs, size_t n)
{
    if (!ivs) return;
    for (size_t i = 0; i < n; i++) bt_intervention_free(ivs[i]);
    bt__free(ivs);
}
