/**
 * @file sqlite_bulk.c
 * @brief Bulk loading of incidents: inside a large explicit transaction the per-row
 * SpatiaLite triggers of the incidents table are set aside and the R*Tree is brought
 * up to date once, before anything reads it and at commit.
 *
 * Why: with SpatiaLite's triggers an insert costs ~25 us, nearly all of it the R*Tree
 * insert (SQLite's R*Tree inserts one entry at ~10-17 us whatever the order) and the
 * SQL text RTreeAlign() builds and parses per row; without them ~2.5 us. So after
 * BULK_AFTER inserts in one transaction the INSERT triggers (constraint check, R*Tree,
 * last-insert time) are dropped - DDL is transactional, so no other connection ever
 * sees the table without them - and on flush:
 *   - if the new rows are a large part of the table, the whole R*Tree is rebuilt by
 *     sort-tile-recursive packing written straight into its shadow tables
 *     (%_node, %_parent, %_rowid; the format of SQLite's ext/rtree/rtree.c);
 *   - otherwise the new rows are added with one INSERT ... SELECT;
 * then the triggers are re-created from the exact SQL they had. The BLOBs this library
 * writes are valid by construction, which is what the dropped constraint trigger
 * checked. A rollback (also to a savepoint) restores the triggers with everything else.
 */
#include "sqlite_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Inserts in one transaction before bulk mode starts: below this the DDL and the
 * re-preparing of statements it causes cost more than they save. */
#define BULK_AFTER 512
/* Page cache of a connection while it bulk-loads, KiB. */
#define BULK_CACHE_KIB 65536
#define BT__STR2(x) #x
#define BT__STR(x) BT__STR2(x)

/* The SpatiaLite triggers that run per inserted row (CreateSpatialIndex and
 * AddGeometryColumn name them so). */
static const char *const bulk_triggers[BT__BULK_NTRIGGERS] = {
    "gii_incidents_geom", /* R*Tree insert through RTreeAlign() */
    "ggi_incidents_geom", /* geometry type and SRID check */
    "tmi_incidents_geom", /* last-insert time in geometry_columns_time */
    /* stored chainage queue (schema v2): one INSERT ... SELECT at flush instead */
    "chainage_incident_ins",
    /* index generation counters (schema v3): bumped once at flush instead */
    "bt_gen_incident_ins",
    "bt_gen_link_ins",
};

static int exec_sql(bt_store *s, const char *sql, const char *what)
{
    int rc = sqlite3_exec(bt__sq_of(s)->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? BT_OK : bt__sq_fail(s, rc, "bulk load: %s", what);
}

void bt__sq_bulk_reset(bt_store *s)
{
    struct bt__sq *q = bt__sq_of(s);
    if (!q) return;
    for (int i = 0; i < BT__BULK_NTRIGGERS; i++) {
        sqlite3_free(q->bulk_trigger_sql[i]);
        q->bulk_trigger_sql[i] = NULL;
    }
    q->bulk = false;
    q->txn_inserts = 0;
    if (q->bulk_cache_prev != 0 && q->db) {
        char sql[48];
        snprintf(sql, sizeof sql, "PRAGMA cache_size=%d", q->bulk_cache_prev);
        sqlite3_exec(q->db, sql, NULL, NULL, NULL);
    }
    q->bulk_cache_prev = 0;
}

/* Enters bulk mode: remembers where the new rows start and the triggers' SQL, then
 * drops the triggers. */
static int bulk_enter(bt_store *s)
{
    struct bt__sq *q = bt__sq_of(s);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(q->db, "SELECT coalesce(max(id), 0) FROM incidents", -1, &st,
                                NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        q->bulk_base = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) return bt__sq_fail(s, rc, "bulk load: reading the last id");

    rc = sqlite3_prepare_v2(q->db, "SELECT sql FROM sqlite_master WHERE type = 'trigger'"
                                   " AND name = ?1", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return bt__sq_fail(s, rc, "bulk load: reading the triggers");
    }
    int ret = BT_OK;
    for (int i = 0; i < BT__BULK_NTRIGGERS && !ret; i++) {
        sqlite3_bind_text(st, 1, bulk_triggers[i], -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            q->bulk_trigger_sql[i] = sqlite3_mprintf("%s", (const char *)sqlite3_column_text(st, 0));
            if (!q->bulk_trigger_sql[i]) ret = bt__error(s, BT_ERR_NOMEM, "bulk load: out of memory");
        } else if (rc != SQLITE_DONE) {
            ret = bt__sq_fail(s, rc, "bulk load: reading the triggers");
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    /* Without the R*Tree trigger there is nothing to gain (the index was disabled). */
    if (!ret && !q->bulk_trigger_sql[0]) {
        bt__sq_bulk_reset(s);
        q->txn_inserts = -1; /* do not try again in this transaction */
        return BT_OK;
    }
    /* A larger page cache while loading: a large transaction otherwise spills pages
     * to the WAL and reads them back (64 MiB, given back when the load ends). */
    if (!ret) {
        rc = sqlite3_prepare_v2(q->db, "PRAGMA cache_size", -1, &st, NULL);
        if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
            q->bulk_cache_prev = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        /* only an optimisation: a failure here is not the caller's problem */
        if (q->bulk_cache_prev == 0 || q->bulk_cache_prev <= -BULK_CACHE_KIB ||
            sqlite3_exec(q->db, "PRAGMA cache_size=-" BT__STR(BULK_CACHE_KIB), NULL, NULL,
                         NULL) != SQLITE_OK)
            q->bulk_cache_prev = 0;
    }
    if (ret) {
        bt__sq_bulk_reset(s);
        return ret;
    }
    /* In bulk mode from the first DROP on: should a later one fail, the flush still
     * re-creates whichever trigger is missing. */
    q->bulk = true;
    for (int i = 0; i < BT__BULK_NTRIGGERS && !ret; i++) {
        if (!q->bulk_trigger_sql[i]) continue;
        char sql[96];
        snprintf(sql, sizeof sql, "DROP TRIGGER \"%s\"", bulk_triggers[i]);
        ret = exec_sql(s, sql, sql);
    }
    return ret;
}

int bt__sq_bulk_note_insert(bt_store *s)
{
    struct bt__sq *q = bt__sq_of(s);
    if (!s->in_txn || q->bulk || q->txn_inserts < 0) return BT_OK;
    if (++q->txn_inserts < BULK_AFTER) return BT_OK;
    /* Not while one of our statements is being iterated (an insert made from a
     * query's callback): schema changes there are best avoided. */
    for (int i = 0; i < BT__ST_COUNT_OF_IDS; i++)
        if (q->busy[i]) return BT_OK;
    return bulk_enter(s);
}

/* ---- sort-tile-recursive packing --------------------------------------------- */

/* One entry of a level: a data row (leaf level) or a child node, with its box. */
struct entry {
    int64_t id;
    float box[4]; /* xmin, xmax, ymin, ymax: SQLite's R*Tree column order */
};

static int cmp_x(const void *a, const void *b)
{
    const struct entry *p = a, *q = b;
    float ca = p->box[0] + p->box[1], cb = q->box[0] + q->box[1];
    return (ca > cb) - (ca < cb);
}

static int cmp_y(const void *a, const void *b)
{
    const struct entry *p = a, *q = b;
    float ca = p->box[2] + p->box[3], cb = q->box[2] + q->box[3];
    return (ca > cb) - (ca < cb);
}

/* A double as a float box edge that still contains it, as SQLite's R*Tree does. */
static float round_down(double d)
{
    float f = (float)d;
    return (double)f > d ? nextafterf(f, -INFINITY) : f;
}

static float round_up(double d)
{
    float f = (float)d;
    return (double)f < d ? nextafterf(f, INFINITY) : f;
}

static void put_be64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8) p[i] = (unsigned char)v;
}

static void put_be_float(unsigned char *p, float f)
{
    uint32_t v;
    memcpy(&v, &f, sizeof v);
    for (int i = 3; i >= 0; i--, v >>= 8) p[i] = (unsigned char)v;
}

/* A row of %_rowid: which leaf holds a data row. */
struct rowmap {
    int64_t rowid, nodeno;
};

struct packer {
    bt_store *s;
    sqlite3_stmt *node, *parent, *rowid;
    int node_size, max_cells;
    int64_t next_nodeno;
    unsigned char *buf;
    /* %_rowid rows, written in rowid order at the end: in leaf order they would land
     * at random places of a large B-tree */
    struct rowmap *map;
    size_t nmap;
};

static int cmp_rowmap(const void *a, const void *b)
{
    const struct rowmap *p = a, *q = b;
    return (p->rowid > q->rowid) - (p->rowid < q->rowid);
}

/* Writes one node; entries e[0..n) become its cells. */
static int write_node(struct packer *p, int64_t nodeno, int depth, const struct entry *e,
                      size_t n, bool leaf)
{
    memset(p->buf, 0, (size_t)p->node_size);
    p->buf[0] = (unsigned char)(depth >> 8);
    p->buf[1] = (unsigned char)depth;
    p->buf[2] = (unsigned char)(n >> 8);
    p->buf[3] = (unsigned char)n;
    for (size_t i = 0; i < n; i++) {
        unsigned char *c = p->buf + 4 + i * 24;
        put_be64(c, (uint64_t)e[i].id);
        for (int k = 0; k < 4; k++) put_be_float(c + 8 + 4 * k, e[i].box[k]);
    }
    sqlite3_bind_int64(p->node, 1, nodeno);
    sqlite3_bind_blob(p->node, 2, p->buf, p->node_size, SQLITE_STATIC);
    int rc = sqlite3_step(p->node);
    sqlite3_reset(p->node);
    if (rc != SQLITE_DONE) return bt__sq_fail(p->s, rc, "bulk load: writing R*Tree node");
    /* leaves map rows to their node; interior nodes give their children a parent */
    if (leaf) {
        for (size_t i = 0; i < n; i++) p->map[p->nmap++] = (struct rowmap){e[i].id, nodeno};
        return BT_OK;
    }
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(p->parent, 1, e[i].id);
        sqlite3_bind_int64(p->parent, 2, nodeno);
        rc = sqlite3_step(p->parent);
        sqlite3_reset(p->parent);
        if (rc != SQLITE_DONE) return bt__sq_fail(p->s, rc, "bulk load: writing R*Tree parents");
    }
    return BT_OK;
}

/* Packs one level of n entries (sorted in place) into nodes; returns the entries of
 * the level above in *up (n_up of them). The root (one node) is written as node 1. */
static int pack_level(struct packer *p, struct entry *e, size_t n, int depth, bool leaf,
                      struct entry **up, size_t *n_up)
{
    size_t m = (size_t)p->max_cells;
    size_t nodes = (n + m - 1) / m;
    *up = NULL;
    *n_up = 0;
    if (nodes <= 1) return write_node(p, 1, depth, e, n, leaf);

    /* STR: sort by x, cut into vertical slices of S nodes' worth, sort each by y */
    size_t slices = (size_t)ceil(sqrt((double)nodes));
    size_t per_slice = slices * m;
    qsort(e, n, sizeof *e, cmp_x);
    for (size_t i = 0; i < n; i += per_slice)
        qsort(e + i, (n - i < per_slice ? n - i : per_slice), sizeof *e, cmp_y);

    struct entry *parents = bt__malloc(nodes * sizeof *parents);
    if (!parents) return bt__error(p->s, BT_ERR_NOMEM, "bulk load: out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i += m, k++) {
        size_t cnt = n - i < m ? n - i : m;
        struct entry *pe = &parents[k];
        pe->id = p->next_nodeno++;
        pe->box[0] = pe->box[2] = INFINITY;
        pe->box[1] = pe->box[3] = -INFINITY;
        for (size_t j = i; j < i + cnt; j++) {
            pe->box[0] = fminf(pe->box[0], e[j].box[0]);
            pe->box[1] = fmaxf(pe->box[1], e[j].box[1]);
            pe->box[2] = fminf(pe->box[2], e[j].box[2]);
            pe->box[3] = fmaxf(pe->box[3], e[j].box[3]);
        }
        int rc = write_node(p, pe->id, 0, e + i, cnt, leaf);
        if (rc) {
            bt__free(parents);
            return rc;
        }
    }
    *up = parents;
    *n_up = nodes;
    return BT_OK;
}

/* Reads every indexed point of the table as leaf entries. */
static int load_entries(bt_store *s, struct entry **out, size_t *n)
{
    struct bt__sq *q = bt__sq_of(s);
    sqlite3_stmt *st = NULL;
    *out = NULL;
    *n = 0;
    int rc = sqlite3_prepare_v2(q->db, "SELECT id, geom FROM incidents WHERE geom IS NOT NULL",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return bt__sq_fail(s, rc, "bulk load: reading incidents");
    }
    size_t cap = 0;
    struct entry *e = NULL;
    int ret = BT_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 4096;
            struct entry *ne = bt__realloc(e, cap * sizeof *ne);
            if (!ne) {
                ret = bt__error(s, BT_ERR_NOMEM, "bulk load: out of memory");
                break;
            }
            e = ne;
        }
        bt_lonlat pt;
        size_t np = 0;
        bool line = false;
        int64_t id = sqlite3_column_int64(st, 0);
        ret = bt__splite_decode(s, "incident", sqlite3_column_blob(st, 1),
                                (size_t)sqlite3_column_bytes(st, 1), &pt, 1, &np, &line);
        if (!ret && line) ret = bt__error(s, BT_ERR_INTERNAL, "geometry is not a Point");
        if (ret) {
            /* name the row only on failure: formatting per row costs */
            char why[BT_ERRMSG_SIZE];
            snprintf(why, sizeof why, "%s", s->errmsg);
            ret = bt__error(s, ret, "bulk load: incident %lld: %s", (long long)id, why);
            break;
        }
        e[*n].id = id;
        e[*n].box[0] = round_down(pt.lon);
        e[*n].box[1] = round_up(pt.lon);
        e[*n].box[2] = round_down(pt.lat);
        e[*n].box[3] = round_up(pt.lat);
        (*n)++;
    }
    if (!ret && rc != SQLITE_DONE) ret = bt__sq_fail(s, rc, "bulk load: reading incidents");
    sqlite3_finalize(st);
    if (ret) {
        bt__free(e);
        *n = 0;
        return ret;
    }
    *out = e;
    return BT_OK;
}

/* Replaces the whole R*Tree of incidents by a packed one. */
static int rebuild_rtree(bt_store *s)
{
    struct bt__sq *q = bt__sq_of(s);
    struct packer p = {.s = s};
    int ret = BT_OK;
    /* Node size: that of the existing root, which SQLite chose from the page size. */
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(q->db, "SELECT length(data) FROM idx_incidents_geom_node"
                                       " WHERE nodeno = 1", -1, &st, NULL);
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) p.node_size = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (p.node_size < 4 + 24 * 4)
        return bt__error(s, BT_ERR_INTERNAL, "bulk load: R*Tree root node not found");
    p.max_cells = (p.node_size - 4) / 24;

    struct entry *level = NULL;
    size_t n = 0;
    ret = load_entries(s, &level, &n);
    if (!ret) ret = exec_sql(s, "DELETE FROM idx_incidents_geom_node;"
                                " DELETE FROM idx_incidents_geom_parent;"
                                " DELETE FROM idx_incidents_geom_rowid",
                             "clearing the R*Tree");
    p.buf = ret ? NULL : bt__malloc((size_t)p.node_size);
    p.map = ret ? NULL : bt__malloc((n ? n : 1) * sizeof *p.map);
    if (!ret && (!p.buf || !p.map)) ret = bt__error(s, BT_ERR_NOMEM, "bulk load: out of memory");
    const char *sql[3] = {"INSERT INTO idx_incidents_geom_node(nodeno, data) VALUES (?1, ?2)",
                          "INSERT INTO idx_incidents_geom_parent(nodeno, parentnode) VALUES (?1, ?2)",
                          "INSERT INTO idx_incidents_geom_rowid(rowid, nodeno) VALUES (?1, ?2)"};
    sqlite3_stmt **stmts[3] = {&p.node, &p.parent, &p.rowid};
    for (int i = 0; i < 3 && !ret; i++) {
        rc = sqlite3_prepare_v2(q->db, sql[i], -1, stmts[i], NULL);
        if (rc != SQLITE_OK) ret = bt__sq_fail(s, rc, "bulk load: preparing");
    }
    /* Node 1 is the root; the others are numbered from 2 as they are written. */
    p.next_nodeno = 2;
    bool leaf = true;
    int depth = 0;
    while (!ret) {
        struct entry *up = NULL;
        size_t n_up = 0;
        ret = pack_level(&p, level, n, depth, leaf, &up, &n_up);
        bt__free(level);
        level = up;
        n = n_up;
        if (!up) break; /* the root was written */
        leaf = false;
        depth++;
    }
    bt__free(level);
    if (!ret) qsort(p.map, p.nmap, sizeof *p.map, cmp_rowmap);
    for (size_t i = 0; i < p.nmap && !ret; i++) {
        sqlite3_bind_int64(p.rowid, 1, p.map[i].rowid);
        sqlite3_bind_int64(p.rowid, 2, p.map[i].nodeno);
        rc = sqlite3_step(p.rowid);
        sqlite3_reset(p.rowid);
        if (rc != SQLITE_DONE) ret = bt__sq_fail(s, rc, "bulk load: writing the R*Tree row map");
    }
    for (int i = 0; i < 3; i++) sqlite3_finalize(*stmts[i]);
    bt__free(p.buf);
    bt__free(p.map);
    return ret;
}

int bt__sq_bulk_flush(bt_store *s)
{
    struct bt__sq *q = bt__sq_of(s);
    if (!q->bulk) return BT_OK;
    int64_t pending = 0, total = 0;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(q->db, "SELECT count(*), count(*) FILTER (WHERE id > ?1)"
                                       " FROM incidents", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, q->bulk_base);
        if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            total = sqlite3_column_int64(st, 0);
            pending = sqlite3_column_int64(st, 1);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) return bt__sq_fail(s, rc, "bulk load: counting new incidents");

    int ret = BT_OK;
    if (pending * 4 >= total) {
        ret = rebuild_rtree(s);
    } else if (pending > 0) {
        /* OR REPLACE: a new row updated in the meantime is in the index already. */
        rc = sqlite3_prepare_v2(q->db,
                                "INSERT OR REPLACE INTO idx_incidents_geom"
                                "(pkid, xmin, xmax, ymin, ymax)"
                                " SELECT id, MbrMinX(geom), MbrMaxX(geom), MbrMinY(geom),"
                                " MbrMaxY(geom) FROM incidents WHERE id > ?1 AND geom IS NOT NULL",
                                -1, &st, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, q->bulk_base);
            rc = sqlite3_step(st);
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) ret = bt__sq_fail(s, rc, "bulk load: indexing new incidents");
    }
    if (!ret && pending > 0 && q->bulk_trigger_sql[3]) {
        /* what chainage_incident_ins would have queued, in id order */
        rc = sqlite3_prepare_v2(q->db,
                                "INSERT INTO chainage_pending (kind, record_id)"
                                " SELECT 'incident', id FROM incidents WHERE id > ?1 ORDER BY id",
                                -1, &st, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, q->bulk_base);
            rc = sqlite3_step(st);
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) ret = bt__sq_fail(s, rc, "bulk load: queueing new incidents");
    }
    /* One bump stands for every insert the dropped generation triggers missed: any
     * change makes a persisted index copy stale, however many rows it touched. */
    if (!ret && (q->bulk_trigger_sql[4] || q->bulk_trigger_sql[5]))
        ret = exec_sql(s, "UPDATE bt_meta SET generation = generation + 1",
                       "bumping the index generation");
    if (!ret)
        ret = exec_sql(s, "UPDATE geometry_columns_time SET last_insert ="
                          " strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
                          " WHERE f_table_name = 'incidents' AND f_geometry_column = 'geom'",
                       "updating geometry_columns_time");
    /* Re-create the triggers unless a rollback to a savepoint already brought them back. */
    for (int i = 0; i < BT__BULK_NTRIGGERS && !ret; i++) {
        if (!q->bulk_trigger_sql[i]) continue;
        rc = sqlite3_prepare_v2(q->db, "SELECT 1 FROM sqlite_master WHERE type = 'trigger'"
                                       " AND name = ?1", -1, &st, NULL);
        bool exists = false;
        if (rc == SQLITE_OK) {
            sqlite3_bind_text(st, 1, bulk_triggers[i], -1, SQLITE_STATIC);
            exists = sqlite3_step(st) == SQLITE_ROW;
        }
        sqlite3_finalize(st);
        if (!exists) ret = exec_sql(s, q->bulk_trigger_sql[i], "re-creating a trigger");
    }
    if (!ret) bt__sq_bulk_reset(s); /* another BULK_AFTER inserts may enter it again */
    return ret;
}
