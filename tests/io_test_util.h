/**
 * @file io_test_util.h
 * @brief Helpers shared by the data-exchange tests (test_import_*.c, test_export.c):
 * a temporary store in a mkdtemp() directory, reading files, a memory writer.
 */
#ifndef BT_IO_TEST_UTIL_H
#define BT_IO_TEST_UTIL_H

/* mkdtemp() and friends under -std=c11 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <cmocka.h>

#include "bordertrack.h"

#include <math.h>
#include <stdbool.h>

/* |a - b| <= tol, with the values in the failure message. */
#define assert_near(a, b, tol)                                                             \
    do {                                                                                   \
        double a_ = (a), b_ = (b);                                                         \
        if (!(fabs(a_ - b_) <= (tol))) {                                                   \
            fprintf(stderr, "%s = %.17g, expected %.17g +- %g\n", #a, a_, b_, (double)(tol)); \
            fail();                                                                        \
        }                                                                                  \
    } while (0)

#define T_PI 3.14159265358979323846

typedef struct tstore {
    char dir[64];
    char path[128];
    bt_store *s;
} tstore;

static inline void tstore_open(tstore *t)
{
    strcpy(t->dir, "/tmp/bt_io_test_XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof t->path, "%s/store.db", t->dir);
    char *err = NULL;
    int rc = bt_store_open(t->path, BT_OPEN_READWRITE | BT_OPEN_CREATE, &t->s, &err);
    if (rc) fprintf(stderr, "open: %s\n", err ? err : "?");
    assert_int_equal(rc, BT_OK);
}

static inline void tstore_reopen(tstore *t)
{
    char *err = NULL;
    assert_int_equal(bt_store_open(t->path, BT_OPEN_READWRITE, &t->s, &err), BT_OK);
}

/* Removes every file of the temporary directory, then the directory. */
static inline void tstore_close(tstore *t)
{
    if (t->s) bt_store_close(t->s);
    t->s = NULL;
    DIR *d = opendir(t->dir);
    if (d) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.') continue;
            snprintf(p, sizeof p, "%s/%s", t->dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(t->dir);
}

/* Reads a whole file (NUL-terminated); NULL if it cannot be read. */
static inline char *read_all(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, fp)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
    }
    fclose(fp);
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

static inline void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* A growing memory buffer for bt_export_write(). */
typedef struct membuf {
    char *p;
    size_t n, cap;
    int fail_after; /* > 0: fail the call number fail_after */
    int calls;
} membuf;

static inline int membuf_write(const void *buf, size_t n, void *udata)
{
    membuf *m = udata;
    m->calls++;
    if (m->fail_after > 0 && m->calls >= m->fail_after) return 1;
    if (m->n + n + 1 > m->cap) {
        m->cap = (m->n + n + 1) * 2;
        m->p = realloc(m->p, m->cap);
    }
    memcpy(m->p + m->n, buf, n);
    m->n += n;
    m->p[m->n] = '\0';
    return 0;
}

static inline int import_text(bt_store *s, bt_table table, const char *name, const char *text,
                              bt_import_report *rep)
{
    bt_import_options o;
    bt_import_options_init(&o);
    o.table = table;
    return bt_import_mem(s, text, strlen(text), name, &o, rep);
}

static inline bt_counts counts(bt_store *s)
{
    bt_counts c;
    assert_int_equal(bt_store_count(s, &c), BT_OK);
    return c;
}

/* FNV-1a of a file's bytes. */
static inline uint64_t file_hash(const char *path)
{
    size_t n = 0;
    char *b = read_all(path, &n);
    assert_non_null(b);
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)b[i];
        h *= 1099511628211ULL;
    }
    free(b);
    return h;
}

#endif /* BT_IO_TEST_UTIL_H */
