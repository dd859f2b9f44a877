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
 *     packing the entries in Hilbert order (an external sort: memory does not grow
 *     with the table) straight into its shadow tables (%_node, %_parent, %_rowid; the
 *     format of SQLite's ext/rtree/rtree.c);
 *   - otherwise the new rows are added with one INSERT ... SELECT;
 * then the triggers are re-created from the exact SQL they had. The BLOBs this library
 * writes are valid by construction, which is what the dropped constraint trigger
 * checked. A rollback (also to a savepoint) restores the triggers with everything else.
 * Two more savings of the same kind: the R*Tree entries of the new rows are kept as
 * they are inserted (the flush reads only older rows back), and a load at least as
 * large as the table drops the time index and builds it once at flush (see
 * time_index_drop()).
 */
#include "sqlite_internal.h"
#include "sqlite_bulk.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Inserts in one transaction before bulk mode starts: below this the DDL and the
 * re-preparing of statements it causes cost more than they save. */
#define BULK_AFTER 512
/* Page cache of a connection while it bulk-loads, KiB: a bound on the load's memory
 * whatever its size. 16 MiB imported 10^6 incidents as fast as 64 MiB did (8.3 s vs
 * 9.7 s, peak 56 vs 115 MB) and 8 MiB was slower (11.1 s): the time index's random
 * inserts start to miss the cache. */
#define BULK_CACHE_KIB 16384
/* Page cache, KiB, while the time index is built (the sorter's memory too). */
#ifndef BULK_SORT_KIB
#define BULK_SORT_KIB 4096
#endif
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
    bt__sq_bulk_forget_rows(s);
    sqlite3_free(q->bulk_index_sql);
    q->bulk_index_sql = NULL;
    q->bulk_index_checked = false;
    q->bulk = false;
    q->txn_inserts = 0;
    if (q->bulk_cache_prev != 0 && q->db) {
        char sql[48];
        snprintf(sql, sizeof sql, "PRAGMA cache_size=%d", q->bulk_cache_prev);
        sqlite3_exec(q->db, sql, NULL, NULL, NULL);
    }
    q->bulk_cache_prev = 0;
}

static void rows_start(bt_store *s);

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
     * to the WAL and reads them back (16 MiB, given back when the load ends). */
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
    if (!ret) rows_start(s);
    return ret;
}

/* The time index of incidents. A load that at least doubles the table builds it once
 * at flush instead: CREATE INDEX sorts the keys and writes full pages in order, where
 * one random insert per row costs more than the row itself once the index outgrows
 * the page cache (10^6 rows: 5.6 s with the index against 3.2 s without, in raw SQLite
 * inserts). Not the UNIQUE index on ref: it is part of the table (SQLite cannot drop
 * it) and it is what refuses a duplicate ref at the feature that repeats it. */
#define BULK_TIME_INDEX "incidents_time"

/* Drops the time index, keeping its exact SQL for the flush. DDL is transactional: no
 * other connection ever sees the table without it, a rollback brings it back. */
static int time_index_drop(bt_store *s)
{
    struct bt__sq *q = bt__sq_of(s);
    q->bulk_index_checked = true;
    /* The rebuild stays in bounded memory only under temp_store=FILE, and SQLite will
     * not change temp_store inside a transaction once the temporary database is open
     * (the in-memory index's watch table and triggers, sqlite_index.c): then the index
     * stays and takes the rows one by one. Asked without a statement: any statement
     * that reads the temp schema, even temp.sqlite_master, opens that database, and
     * counting its objects that way had kept every load's sort in memory (40 MB at
     * 10^6 rows). */
    sqlite3_file *tf = NULL;
    if (sqlite3_file_control(q->db, "temp", SQLITE_FCNTL_FILE_POINTER, &tf) == SQLITE_OK)
        return BT_OK;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(q->db, "SELECT sql FROM sqlite_master WHERE type = 'index'"
                                       " AND name = '" BULK_TIME_INDEX "'"
                                       " AND tbl_name = 'incidents'",
                                -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *sql = (const char *)sqlite3_column_text(st, 0);
        if (sql && !(q->bulk_index_sql = sqlite3_mprintf("%s", sql))) rc = SQLITE_NOMEM;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_NOMEM) return bt__error(s, BT_ERR_NOMEM, "bulk load: out of memory");
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return bt__sq_fail(s, rc, "bulk load: reading the time index");
    if (!q->bulk_index_sql) return BT_OK; /* no such index (or no SQL): nothing to do */
    return exec_sql(s, "DROP INDEX \"" BULK_TIME_INDEX "\"", "dropping the time index");
}

/* Re-creates the time index dropped by time_index_drop(), unless a rollback to a
 * savepoint already brought it back. CREATE INDEX sorts with SQLite's sorter, which
 * under temp_store=MEMORY (how the store opens) holds every key in memory; under FILE
 * it spills past the page cache's size, so memory stays bounded. temp_store can change
 * inside a transaction as long as the connection has no temporary database open. */
static int time_index_restore(bt_store *s)
{
    struct bt__sq *q = bt__sq_of(s);
    sqlite3_stmt *st = NULL;
    bool exists = false;
    int prev = -1;
    int rc = sqlite3_prepare_v2(q->db, "SELECT 1 FROM sqlite_master WHERE type = 'index'"
                                       " AND name = '" BULK_TIME_INDEX "'",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) exists = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) return bt__sq_fail(s, rc, "bulk load: looking for the time index");
    if (exists) return BT_OK;
    if (sqlite3_prepare_v2(q->db, "PRAGMA temp_store", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        prev = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    /* Only the sorter's memory depends on it: should it fail, build in memory. */
    bool changed = prev >= 0 && prev != 1 &&
                   sqlite3_exec(q->db, "PRAGMA temp_store=FILE", NULL, NULL, NULL) == SQLITE_OK;
    q->bulk_sort_on_file = prev == 1 || changed;
    /* The sorter takes the page cache's size as its memory: a smaller cache while it
     * runs keeps the load's peak where the insert phase left it. */
    bool shrunk = q->bulk_cache_prev != 0 &&
                  sqlite3_exec(q->db, "PRAGMA cache_size=-" BT__STR(BULK_SORT_KIB), NULL, NULL,
                               NULL) == SQLITE_OK;
    int ret = exec_sql(s, q->bulk_index_sql, "re-creating the time index");
    if (shrunk)
        sqlite3_exec(q->db, "PRAGMA cache_size=-" BT__STR(BULK_CACHE_KIB), NULL, NULL, NULL);
    if (changed) {
        char sql[40];
        snprintf(sql, sizeof sql, "PRAGMA temp_store=%d", prev);
        /* Not silently left changed: nothing here opens a temporary database, so this
         * does not fail short of a bug, and then the load fails. */
        int rc2 = exec_sql(s, sql, "restoring temp_store");
        if (!ret) ret = rc2;
    }
    return ret;
}

int bt__sq_bulk_note_insert(bt_store *s)
{
    struct bt__sq *q = bt__sq_of(s);
    if (!s->in_txn || q->txn_inserts < 0) return BT_OK;
    if (q->bulk) {
        /* Once this transaction has inserted as many rows as the table held when bulk
         * mode began, building the time index anew costs at most twice its new rows. */
        if (q->bulk_index_checked || ++q->txn_inserts < q->bulk_base) return BT_OK;
    } else if (++q->txn_inserts < BULK_AFTER) {
        return BT_OK;
    }
    /* Not while one of our statements is being iterated (an insert made from a
     * query's callback): schema changes there are best avoided. */
    for (int i = 0; i < BT__ST_COUNT_OF_IDS; i++)
        if (q->busy[i]) return BT_OK;
    return q->bulk ? time_index_drop(s) : bulk_enter(s);
}

/* ---- packing the R*Tree in bounded memory ------------------------------------ */
/*
 * The entries are sorted by the Hilbert value of their point and packed bottom-up,
 * one open node per level, so that memory does not grow with the number of rows:
 *  - the sort is an external merge sort: runs of XS_RUN records sorted in memory and
 *    written to a temporary file opened through the connection's VFS (so it goes where
 *    SQLite puts its own temporary files), then merged XS_FANIN runs at a time;
 *  - which leaf holds each row (%_rowid) comes out in leaf order and goes through a
 *    second sort by rowid, so that the B-tree is written in key order.
 * Memory: one run buffer or the merge buffers (~2 MiB), whatever the number of rows.
 *
 * Why not SQLite's own ORDER BY: the connection runs with temp_store=MEMORY, under
 * which SQLite's sorter never spills (vdbesort.c gives it no PMA size when temporary
 * storage is in memory), so an ORDER BY over N rows holds all N rows in memory.
 * (time_index_restore() switches temp_store for its CREATE INDEX, which has no other
 * way to sort; the packing also needs the node layout, which SQL would not give.)
 */

#define XS_RUN 65536 /* records sorted in memory per run */
#define XS_FANIN 16  /* runs merged at once */
#define XS_BUF 2048  /* records buffered per merge input and for the output */

/* A run being read back during a merge. */
struct xs_in {
    uint64_t next, end; /* record indexes in the file still to read */
    unsigned char *buf;
    size_t pos, len; /* buffered records: buf[pos..len) */
};

/* An external sort of fixed-size records ordered by their first two 64-bit words. */
struct xsort {
    bt_store *s;
    sqlite3_vfs *vfs;
    sqlite3_file *file[2]; /* runs are merged from one into the other */
    int cur;               /* the file holding the current runs */
    size_t rec;            /* bytes per record, >= 16 */
    size_t run_cap;        /* records per initial run */
    unsigned fanin;
    unsigned char *run; /* the run being filled; the whole input if it never spilled */
    size_t run_n, mem_pos;
    uint64_t n;       /* records added */
    uint64_t run_len; /* records per run in file[cur] (the last may be shorter) */
    bool spilled;
    struct xs_in *in; /* the runs of the merge under way */
    unsigned nin;
    unsigned char *inbuf, *outbuf;
};

static int xs_cmp(const void *a, const void *b)
{
    uint64_t x[2], y[2];
    memcpy(x, a, sizeof x);
    memcpy(y, b, sizeof y);
    if (x[0] != y[0]) return x[0] < y[0] ? -1 : 1;
    return (x[1] > y[1]) - (x[1] < y[1]);
}

static int xs_init(struct xsort *x, bt_store *s, size_t rec, size_t run_cap, unsigned fanin)
{
    memset(x, 0, sizeof *x);
    x->s = s;
    x->rec = rec;
    x->run_cap = run_cap ? run_cap : XS_RUN;
    x->fanin = fanin >= 2 ? fanin : XS_FANIN;
    if (sqlite3_file_control(bt__sq_of(s)->db, "main", SQLITE_FCNTL_VFS_POINTER, &x->vfs) !=
            SQLITE_OK ||
        !x->vfs)
        x->vfs = sqlite3_vfs_find(NULL);
    if (!x->vfs) return bt__error(s, BT_ERR_INTERNAL, "bulk load: no SQLite VFS");
    x->run = bt__malloc(x->run_cap * rec);
    if (!x->run) return bt__error(s, BT_ERR_NOMEM, "bulk load: out of memory");
    return BT_OK;
}

static void xs_free(struct xsort *x)
{
    for (int i = 0; i < 2; i++) {
        if (!x->file[i]) continue;
        if (x->file[i]->pMethods) x->file[i]->pMethods->xClose(x->file[i]);
        bt__free(x->file[i]);
        x->file[i] = NULL;
    }
    bt__free(x->run);
    bt__free(x->in);
    bt__free(x->inbuf);
    bt__free(x->outbuf);
    x->run = x->inbuf = x->outbuf = NULL;
    x->in = NULL;
}

static int xs_io_fail(struct xsort *x, int rc, const char *what)
{
    return bt__error(x->s, rc == SQLITE_NOMEM ? BT_ERR_NOMEM : BT_ERR_IO,
                     "bulk load: %s the temporary file that sorts the R*Tree entries failed "
                     "(SQLite error %d)",
                     what, rc);
}

static int xs_open_file(struct xsort *x, int i)
{
    if (x->file[i]) return BT_OK;
    sqlite3_file *f = bt__calloc(1, (size_t)x->vfs->szOsFile);
    if (!f) return bt__error(x->s, BT_ERR_NOMEM, "bulk load: out of memory");
    int out = 0;
    int rc = x->vfs->xOpen(x->vfs, NULL, f,
                           SQLITE_OPEN_TEMP_JOURNAL | SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                               SQLITE_OPEN_EXCLUSIVE | SQLITE_OPEN_DELETEONCLOSE,
                           &out);
    if (rc != SQLITE_OK) {
        if (f->pMethods) f->pMethods->xClose(f);
        bt__free(f);
        return xs_io_fail(x, rc, "opening");
    }
    x->file[i] = f;
    return BT_OK;
}

/* The unix VFS moves at most 128 KiB - 1 per call (seekAndWrite masks the count). */
#define XS_IO_CHUNK 65536

/* Writes records [first, first + n) of file i from buf. */
static int xs_write(struct xsort *x, int i, uint64_t first, const unsigned char *buf, size_t n)
{
    sqlite3_file *f = x->file[i];
    size_t len = n * x->rec;
    sqlite3_int64 off = (sqlite3_int64)(first * x->rec);
    for (size_t done = 0; done < len; done += XS_IO_CHUNK) {
        size_t k = len - done < XS_IO_CHUNK ? len - done : XS_IO_CHUNK;
        int rc = f->pMethods->xWrite(f, buf + done, (int)k, off + (sqlite3_int64)done);
        if (rc != SQLITE_OK) return xs_io_fail(x, rc, "writing");
    }
    return BT_OK;
}

/* Reads records [first, first + n) of file[cur] into buf. */
static int xs_read(struct xsort *x, uint64_t first, unsigned char *buf, size_t n)
{
    sqlite3_file *f = x->file[x->cur];
    size_t len = n * x->rec;
    sqlite3_int64 off = (sqlite3_int64)(first * x->rec);
    for (size_t done = 0; done < len; done += XS_IO_CHUNK) {
        size_t k = len - done < XS_IO_CHUNK ? len - done : XS_IO_CHUNK;
        int rc = f->pMethods->xRead(f, buf + done, (int)k, off + (sqlite3_int64)done);
        if (rc != SQLITE_OK) return xs_io_fail(x, rc, "reading");
    }
    return BT_OK;
}

/* Sorts the run buffer in xs_cmp order: a least-significant-byte radix sort on the
 * first word (3-4 times faster than qsort here), then the rare runs of equal first
 * words by the second. Falls back to qsort if the scratch buffer cannot be had. */
static void xs_sort_run(struct xsort *x)
{
    size_t n = x->run_n, rec = x->rec;
    unsigned char *tmp = n > 64 && rec <= 64 ? bt__malloc(n * rec) : NULL;
    if (!tmp) {
        qsort(x->run, n, rec, xs_cmp);
        return;
    }
    unsigned char *src = x->run, *dst = tmp;
    for (int shift = 0; shift < 64; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++) {
            uint64_t w;
            memcpy(&w, src + i * rec, sizeof w);
            count[((w >> shift) & 0xFF) + 1]++;
        }
        bool one = false; /* all in one bucket: this byte changes nothing */
        for (int b = 1; b <= 256 && !one; b++) one = count[b] == n;
        if (one) continue;
        for (int b = 0; b < 256; b++) count[b + 1] += count[b];
        for (size_t i = 0; i < n; i++) {
            uint64_t w;
            memcpy(&w, src + i * rec, sizeof w);
            memcpy(dst + count[(w >> shift) & 0xFF]++ * rec, src + i * rec, rec);
        }
        unsigned char *t = src;
        src = dst;
        dst = t;
    }
    if (src != x->run) memcpy(x->run, src, n * rec);
    bt__free(tmp);
    /* equal first words: order by the second (insertion sort; such runs are short) */
    unsigned char *a = x->run;
    for (size_t i = 1; i < n; i++) {
        if (memcmp(a + (i - 1) * rec, a + i * rec, 8) != 0) continue;
        size_t j = i;
        while (j > 0 && xs_cmp(a + (j - 1) * rec, a + j * rec) > 0) {
            unsigned char t[64];
            memcpy(t, a + j * rec, rec);
            memcpy(a + j * rec, a + (j - 1) * rec, rec);
            memcpy(a + (j - 1) * rec, t, rec);
            j--;
        }
    }
}

/* Sorts the run buffer and appends it to file 0 as one run. */
static int xs_spill(struct xsort *x)
{
    xs_sort_run(x);
    int rc = xs_open_file(x, 0);
    if (!rc) rc = xs_write(x, 0, x->n - x->run_n, x->run, x->run_n);
    x->run_n = 0;
    x->spilled = true;
    return rc;
}

static int xs_add(struct xsort *x, const void *r)
{
    if (x->run_n == x->run_cap) {
        int rc = xs_spill(x);
        if (rc) return rc;
    }
    memcpy(x->run + x->run_n * x->rec, r, x->rec);
    x->run_n++;
    x->n++;
    return BT_OK;
}

/* Starts merging runs [first, first + k) of file[cur]. */
static void xs_start(struct xsort *x, uint64_t first, unsigned k)
{
    x->nin = k;
    for (unsigned i = 0; i < k; i++) {
        struct xs_in *in = &x->in[i];
        in->next = (first + i) * x->run_len;
        in->end = in->next + x->run_len < x->n ? in->next + x->run_len : x->n;
        in->buf = x->inbuf + (size_t)i * XS_BUF * x->rec;
        in->pos = in->len = 0;
    }
}

/* The smallest head of the runs being merged into out; *got false when all are done. */
static int xs_merge_next(struct xsort *x, void *out, bool *got)
{
    struct xs_in *best = NULL;
    for (unsigned i = 0; i < x->nin; i++) {
        struct xs_in *in = &x->in[i];
        if (in->pos == in->len) {
            if (in->next == in->end) continue;
            size_t k = in->end - in->next < XS_BUF ? (size_t)(in->end - in->next) : XS_BUF;
            int rc = xs_read(x, in->next, in->buf, k);
            if (rc) return rc;
            in->next += k;
            in->pos = 0;
            in->len = k;
        }
        if (!best || xs_cmp(in->buf + in->pos * x->rec, best->buf + best->pos * x->rec) < 0)
            best = in;
    }
    *got = best != NULL;
    if (best) {
        memcpy(out, best->buf + best->pos * x->rec, x->rec);
        best->pos++;
    }
    return BT_OK;
}

/* Ends the input: sorts what is in memory, or merges the runs down to at most fanin,
 * ready for xs_next(). */
static int xs_finish(struct xsort *x)
{
    if (!x->spilled) {
        xs_sort_run(x);
        x->mem_pos = 0;
        return BT_OK;
    }
    int rc = x->run_n ? xs_spill(x) : BT_OK;
    bt__free(x->run);
    x->run = NULL;
    if (rc) return rc;
    x->run_len = x->run_cap;
    x->cur = 0;
    x->in = bt__calloc(x->fanin, sizeof *x->in);
    x->inbuf = bt__malloc((size_t)x->fanin * XS_BUF * x->rec);
    x->outbuf = bt__malloc(XS_BUF * x->rec);
    if (!x->in || !x->inbuf || !x->outbuf)
        return bt__error(x->s, BT_ERR_NOMEM, "bulk load: out of memory");
    uint64_t runs = (x->n + x->run_len - 1) / x->run_len;
    while (runs > x->fanin) {
        /* one pass: every fanin runs of file[cur] become one run of the other file */
        rc = xs_open_file(x, 1 - x->cur);
        for (uint64_t g = 0; g < runs && !rc; g += x->fanin) {
            xs_start(x, g, (unsigned)(runs - g < x->fanin ? runs - g : x->fanin));
            uint64_t at = g * x->run_len;
            size_t nout = 0;
            bool got = true;
            while (!rc) {
                rc = xs_merge_next(x, x->outbuf + nout * x->rec, &got);
                if (!rc && got) nout++;
                if (!rc && nout && (nout == XS_BUF || !got)) {
                    rc = xs_write(x, 1 - x->cur, at, x->outbuf, nout);
                    at += nout;
                    nout = 0;
                }
                if (!got) break;
            }
        }
        if (rc) return rc;
        x->cur = 1 - x->cur;
        x->run_len *= x->fanin;
        runs = (x->n + x->run_len - 1) / x->run_len;
    }
    xs_start(x, 0, (unsigned)runs);
    return BT_OK;
}

/* The next record in order into out; *got false at the end. */
static int xs_next(struct xsort *x, void *out, bool *got)
{
    if (!x->spilled) {
        *got = x->mem_pos < x->run_n;
        if (*got) memcpy(out, x->run + x->mem_pos++ * x->rec, x->rec);
        return BT_OK;
    }
    return xs_merge_next(x, out, got);
}

/* Distance along a Hilbert curve of order 31 over lon -180..180, lat -90..90: points
 * near on the curve are near on the ground, so consecutive entries make tight nodes. */
static uint64_t hilbert_key(double lon, double lat)
{
    const double side = 2147483648.0; /* 2^31 cells a side */
    double fx = (lon + 180.0) / 360.0 * side, fy = (lat + 90.0) / 180.0 * side;
    uint32_t x = fx <= 0 ? 0 : fx >= side - 1 ? (uint32_t)(side - 1) : (uint32_t)fx;
    uint32_t y = fy <= 0 ? 0 : fy >= side - 1 ? (uint32_t)(side - 1) : (uint32_t)fy;
    uint64_t d = 0;
    /* The usual xy-to-distance walk, without branches: its two data-dependent tests
     * were mispredicted about every other level (a few % of an import). With x, y <
     * 2^31, (2^31 - 1) - x is x ^ (2^31 - 1). */
    for (int b = 30; b >= 0; b--) {
        uint32_t rx = (x >> b) & 1u, ry = (y >> b) & 1u;
        d |= (uint64_t)((3u * rx) ^ ry) << (2 * b);
        uint32_t flip = (0u - (rx & (ry ^ 1u))) & UINT32_C(0x7FFFFFFF);
        x ^= flip;
        y ^= flip;
        uint32_t swap = (x ^ y) & (0u - (ry ^ 1u));
        x ^= swap;
        y ^= swap;
    }
    return d;
}

/* A record of the entry sort: Hilbert key, rowid, then the box. */
struct sort_rec {
    uint64_t key;
    int64_t id;
    float box[4]; /* xmin, xmax, ymin, ymax: SQLite's R*Tree column order */
};

/* A record of the %_rowid sort. */
struct map_rec {
    int64_t rowid, nodeno;
};

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

/* SQLite's R*Tree refuses deeper trees (RTREE_MAX_DEPTH). */
#define PK_MAX_LEVELS 40

/* The node being filled at one level. */
struct pk_level {
    int64_t nodeno;
    int n;        /* cells so far; 0: none open */
    float box[4]; /* their bounding box */
    unsigned char *buf;
};

struct packer {
    bt_store *s;
    sqlite3_stmt *node, *parent;
    int node_size, max_cells;
    int height; /* levels; the top one holds only the root, node 1 */
    int64_t next_nodeno;
    struct pk_level lv[PK_MAX_LEVELS];
    struct xsort *map; /* (rowid, leaf) pairs */
};

static int pk_add(struct packer *p, int l, int64_t id, const float box[4]);

/* Writes the open node of level l and hands its box to the level above. */
static int pk_close(struct packer *p, int l)
{
    struct pk_level *v = &p->lv[l];
    int depth = l == p->height - 1 ? p->height - 1 : 0; /* only the root says */
    v->buf[0] = (unsigned char)(depth >> 8);
    v->buf[1] = (unsigned char)depth;
    v->buf[2] = (unsigned char)(v->n >> 8);
    v->buf[3] = (unsigned char)v->n;
    sqlite3_bind_int64(p->node, 1, v->nodeno);
    sqlite3_bind_blob(p->node, 2, v->buf, p->node_size, SQLITE_STATIC);
    int rc = sqlite3_step(p->node);
    sqlite3_reset(p->node);
    if (rc != SQLITE_DONE) return bt__sq_fail(p->s, rc, "bulk load: writing R*Tree node");
    v->n = 0;
    if (l == p->height - 1) return BT_OK;
    return pk_add(p, l + 1, v->nodeno, v->box);
}

/* Adds a cell (a row at level 0, a child node above) to the open node of level l. */
static int pk_add(struct packer *p, int l, int64_t id, const float box[4])
{
    struct pk_level *v = &p->lv[l];
    int rc;
    if (v->n == p->max_cells) {
        if (l == p->height - 1)
            return bt__error(p->s, BT_ERR_INTERNAL, "bulk load: R*Tree root overflows");
        if ((rc = pk_close(p, l)) != BT_OK) return rc;
    }
    if (v->n == 0) {
        v->nodeno = l == p->height - 1 ? 1 : p->next_nodeno++;
        memset(v->buf, 0, (size_t)p->node_size);
        v->box[0] = v->box[2] = INFINITY;
        v->box[1] = v->box[3] = -INFINITY;
    }
    unsigned char *c = v->buf + 4 + (size_t)v->n * 24;
    put_be64(c, (uint64_t)id);
    for (int k = 0; k < 4; k++) put_be_float(c + 8 + 4 * k, box[k]);
    v->box[0] = fminf(v->box[0], box[0]);
    v->box[1] = fmaxf(v->box[1], box[1]);
    v->box[2] = fminf(v->box[2], box[2]);
    v->box[3] = fmaxf(v->box[3], box[3]);
    v->n++;
    if (l == 0) {
        struct map_rec m = {id, v->nodeno};
        return xs_add(p->map, &m);
    }
    sqlite3_bind_int64(p->parent, 1, id);
    sqlite3_bind_int64(p->parent, 2, v->nodeno);
    rc = sqlite3_step(p->parent);
    sqlite3_reset(p->parent);
    return rc == SQLITE_DONE ? BT_OK : bt__sq_fail(p->s, rc, "bulk load: writing R*Tree parents");
}

/* The sort record of the entry of a point. */
static struct sort_rec entry_of(int64_t id, bt_lonlat pt)
{
    struct sort_rec r = {hilbert_key(pt.lon, pt.lat), id,
                         {round_down(pt.lon), round_up(pt.lon), round_down(pt.lat),
                          round_up(pt.lat)}};
    return r;
}

/* Reads the indexed points of the rows with id <= max_id into the sort. */
static int load_entries(bt_store *s, struct xsort *x, int64_t max_id)
{
    struct bt__sq *q = bt__sq_of(s);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(q->db, "SELECT id, geom FROM incidents WHERE id <= ?1"
                                       " AND geom IS NOT NULL",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return bt__sq_fail(s, rc, "bulk load: reading incidents");
    }
    sqlite3_bind_int64(st, 1, max_id);
    int ret = BT_OK;
    while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
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
        struct sort_rec r = entry_of(id, pt);
        ret = xs_add(x, &r);
    }
    if (!ret && rc != SQLITE_DONE) ret = bt__sq_fail(s, rc, "bulk load: reading incidents");
    sqlite3_finalize(st);
    return ret;
}

/* Packs the sorted entries of x into the (emptied) shadow tables. */
static int pack(struct packer *p, struct xsort *x)
{
    /* levels: ceil(n / M) leaves, then ceil(that / M) nodes above, ... up to one */
    uint64_t nodes = x->n ? (x->n + (uint64_t)p->max_cells - 1) / (uint64_t)p->max_cells : 1;
    p->height = 1;
    while (nodes > 1) {
        nodes = (nodes + (uint64_t)p->max_cells - 1) / (uint64_t)p->max_cells;
        p->height++;
    }
    if (p->height > PK_MAX_LEVELS)
        return bt__error(p->s, BT_ERR_INTERNAL, "bulk load: R*Tree would be too deep");
    for (int l = 0; l < p->height; l++) {
        p->lv[l].buf = bt__malloc((size_t)p->node_size);
        if (!p->lv[l].buf) return bt__error(p->s, BT_ERR_NOMEM, "bulk load: out of memory");
    }
    p->next_nodeno = 2; /* node 1 is the root */
    int rc = BT_OK;
    bool got = true;
    while (!rc) {
        struct sort_rec r;
        rc = xs_next(x, &r, &got);
        if (rc || !got) break;
        rc = pk_add(p, 0, r.id, r.box);
    }
    if (rc) return rc;
    if (x->n == 0) {
        /* an empty tree is an empty root leaf */
        p->lv[0].nodeno = 1;
        memset(p->lv[0].buf, 0, (size_t)p->node_size);
        return pk_close(p, 0);
    }
    /* close the last node of each level, bottom up (each close feeds the level above) */
    for (int l = 0; l < p->height && !rc; l++)
        if (p->lv[l].n > 0) rc = pk_close(p, l);
    return rc;
}

/* The entries of the rows inserted in bulk mode, sorted as they come (see
 * bt__sq_bulk_note_row()). */
struct bt__bulk_rows {
    struct xsort x;
    int64_t base; /* they are the rows with id > base */
};

/* Replaces the whole R*Tree of incidents by a packed one. run_cap and fanin size the
 * sort (0: the defaults; tests make them tiny to exercise the merge passes). With
 * rows, the entries of the rows with id > rows->base are those (the sort is taken
 * over) and only the older rows are read from the table. */
static int rebuild_rtree_with(bt_store *s, size_t run_cap, unsigned fanin,
                              struct bt__bulk_rows *rows)
{
    struct bt__sq *q = bt__sq_of(s);
    struct packer p = {.s = s};
    /* Node size: that of the existing root, which SQLite chose from the page size. */
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(q->db, "SELECT length(data) FROM idx_incidents_geom_node"
                                       " WHERE nodeno = 1", -1, &st, NULL);
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) p.node_size = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (p.node_size < 4 + 24 * 4)
        return bt__error(s, BT_ERR_INTERNAL, "bulk load: R*Tree root node not found");
    p.max_cells = (p.node_size - 4) / 24;

    struct xsort entries, map;
    memset(&map, 0, sizeof map);
    int ret = BT_OK;
    int64_t max_id = INT64_MAX;
    if (rows) {
        entries = rows->x;
        memset(&rows->x, 0, sizeof rows->x); /* taken over: freed below */
        max_id = rows->base;
    } else {
        ret = xs_init(&entries, s, sizeof(struct sort_rec), run_cap, fanin);
    }
    if (!ret) ret = load_entries(s, &entries, max_id);
    if (!ret) ret = xs_finish(&entries);
    if (!ret) ret = exec_sql(s, "DELETE FROM idx_incidents_geom_node;"
                                " DELETE FROM idx_incidents_geom_parent;"
                                " DELETE FROM idx_incidents_geom_rowid",
                             "clearing the R*Tree");
    if (!ret) ret = xs_init(&map, s, sizeof(struct map_rec), run_cap, fanin);
    p.map = &map;
    const char *sql[3] = {"INSERT INTO idx_incidents_geom_node(nodeno, data) VALUES (?1, ?2)",
                          "INSERT INTO idx_incidents_geom_parent(nodeno, parentnode) VALUES (?1, ?2)",
                          "INSERT INTO idx_incidents_geom_rowid(rowid, nodeno) VALUES (?1, ?2)"};
    sqlite3_stmt *stmts[3] = {NULL, NULL, NULL};
    for (int i = 0; i < 3 && !ret; i++) {
        rc = sqlite3_prepare_v2(q->db, sql[i], -1, &stmts[i], NULL);
        if (rc != SQLITE_OK) ret = bt__sq_fail(s, rc, "bulk load: preparing");
    }
    p.node = stmts[0];
    p.parent = stmts[1];
    if (!ret) ret = pack(&p, &entries);
    xs_free(&entries);
    /* the row map, in rowid order */
    if (!ret) ret = xs_finish(&map);
    while (!ret) {
        struct map_rec m;
        bool got = false;
        ret = xs_next(&map, &m, &got);
        if (ret || !got) break;
        sqlite3_bind_int64(stmts[2], 1, m.rowid);
        sqlite3_bind_int64(stmts[2], 2, m.nodeno);
        rc = sqlite3_step(stmts[2]);
        sqlite3_reset(stmts[2]);
        if (rc != SQLITE_DONE) ret = bt__sq_fail(s, rc, "bulk load: writing the R*Tree row map");
    }
    xs_free(&map);
    for (int i = 0; i < 3; i++) sqlite3_finalize(stmts[i]);
    for (int l = 0; l < PK_MAX_LEVELS; l++) bt__free(p.lv[l].buf);
    return ret;
}

int bt__sq_bulk_repack(bt_store *s, size_t run_records, unsigned fanin)
{
    return rebuild_rtree_with(s, run_records, fanin, NULL);
}

bool bt__sq_bulk_sort_on_file(bt_store *s)
{
    return bt__sq_of(s)->bulk_sort_on_file;
}

int64_t bt__sq_bulk_query_int(bt_store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(bt__sq_of(s)->db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Starts keeping the entries of the rows inserted from now on (bulk mode entered):
 * the flush then reads only the older rows back from the table (reading them all was
 * 7% of an import). Only an optimisation: without memory, the flush reads the table. */
static void rows_start(bt_store *s)
{
    struct bt__sq *q = bt__sq_of(s);
    struct bt__bulk_rows *r = bt__calloc(1, sizeof *r);
    if (!r) return;
    char keep[BT_ERRMSG_SIZE];
    memcpy(keep, s->errmsg, sizeof keep);
    if (xs_init(&r->x, s, sizeof(struct sort_rec), 0, 0) != BT_OK) {
        memcpy(s->errmsg, keep, sizeof keep); /* not the caller's failure */
        xs_free(&r->x);
        bt__free(r);
        return;
    }
    r->base = q->bulk_base;
    q->bulk_rows = r;
}

void bt__sq_bulk_note_row(bt_store *s, int64_t id, bt_lonlat where)
{
    struct bt__sq *q = bt__sq_of(s);
    struct bt__bulk_rows *r = q ? q->bulk_rows : NULL;
    if (!r) return;
    /* A row below the base (an id given explicitly) is not one the flush would take
     * from here: read the table instead. */
    if (id <= r->base) {
        bt__sq_bulk_forget_rows(s);
        return;
    }
    struct sort_rec e = entry_of(id, where);
    char keep[BT_ERRMSG_SIZE];
    memcpy(keep, s->errmsg, sizeof keep);
    if (xs_add(&r->x, &e) != BT_OK) { /* a run could not be written: read the table */
        memcpy(s->errmsg, keep, sizeof keep);
        bt__sq_bulk_forget_rows(s);
    }
}

void bt__sq_bulk_forget_rows(bt_store *s)
{
    struct bt__sq *q = bt__sq_of(s);
    if (!q || !q->bulk_rows) return;
    xs_free(&q->bulk_rows->x);
    bt__free(q->bulk_rows);
    q->bulk_rows = NULL;
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
    /* The kept entries stand for the new rows only if they are as many: else (a path
     * that did not report a change) read the table. */
    struct bt__bulk_rows *rows = q->bulk_rows;
    if (rows && (rows->base != q->bulk_base || (int64_t)rows->x.n != pending)) rows = NULL;
    if (pending * 4 >= total) {
        ret = rebuild_rtree_with(s, 0, 0, rows);
        bt__sq_bulk_forget_rows(s);
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
    /* A border without a state row is recomputed whole on first use (schema.c): with
     * none, nothing would ever read what the trigger queues (one row per incident). */
    if (!ret && pending > 0 && q->bulk_trigger_sql[3] &&
        bt__sq_bulk_query_int(s, "SELECT count(*) FROM chainage_state") != 0) {
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
    if (!ret && q->bulk_index_sql) ret = time_index_restore(s);
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
