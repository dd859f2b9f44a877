/**
 * @file reader.c
 * @brief The importers' byte reader: a sliding window over a file (or the whole
 * buffer for memory input) and line/column positions for messages.
 *
 * The window keeps only the bytes from the start of the feature being parsed, so
 * memory is bounded by the largest feature plus one chunk, whatever the file size.
 */
#include "io/io.h"

#include <errno.h>
#include <string.h>

/** Bytes read from a file at a time. */
#define BT__CHUNK 65536

long bt__reader_more(bt__reader *r, size_t keep_from)
{
    if (!r->fp || r->eof) return 0;
    /* Slide: drop what lies before keep_from (never past the mark's need: positions
     * before the mark are never asked for again, so move the mark first). */
    if (keep_from > r->base) {
        long line, col;
        if (keep_from > r->mark_off) bt__reader_pos(r, keep_from, true, &line, &col);
        size_t drop = keep_from - r->base;
        if (drop > r->len) drop = r->len;
        memmove(r->buf, r->buf + drop, r->len - drop);
        r->len -= drop;
        r->base += drop;
    }
    if (r->cap - r->len < BT__CHUNK) {
        size_t ncap = r->cap ? r->cap : BT__CHUNK * 2;
        while (ncap - r->len < BT__CHUNK) ncap *= 2;
        char *nb = bt__realloc(r->buf, ncap);
        if (!nb) return -1;
        r->buf = nb;
        r->cap = ncap;
    }
    size_t got = fread(r->buf + r->len, 1, BT__CHUNK, r->fp);
    if (got < BT__CHUNK) {
        if (ferror(r->fp)) {
            r->io_error = true;
            r->io_errno = errno;
        }
        r->eof = true;
    }
    r->len += got;
    r->data = r->buf;
    return (long)got;
}

void bt__reader_pos(bt__reader *r, size_t off, bool advance, long *line, long *col)
{
    long l = r->mark_line, c = r->mark_col;
    size_t from = r->mark_off;
    if (off < from) off = from; /* not expected: clamp to what we know */
    size_t end = r->base + r->len;
    if (off > end) off = end;
    /* Lines by memchr (called once per feature: a byte loop here cost 4% of an
     * import), then the characters after the last newline. */
    const char *p = r->data + (from - r->base), *stop = r->data + (off - r->base);
    const char *nl;
    while (p < stop && (nl = memchr(p, '\n', (size_t)(stop - p))) != NULL) {
        l++;
        c = 1;
        p = nl + 1;
    }
    for (; p < stop; p++)
        if (((unsigned char)*p & 0xC0) != 0x80) c++; /* characters, not UTF-8 bytes */
    *line = l;
    *col = c;
    if (advance) {
        r->mark_off = off;
        r->mark_line = l;
        r->mark_col = c;
    }
}

int bt__feature_push(bt__feature *f, double x, double y)
{
    if (f->npts == f->pts_cap) {
        size_t ncap = f->pts_cap ? f->pts_cap * 2 : 64;
        bt_lonlat *np = bt__realloc(f->pts, ncap * sizeof *np);
        if (!np) return BT_ERR_NOMEM;
        f->pts = np;
        f->pts_cap = ncap;
    }
    f->pts[f->npts].lon = x;
    f->pts[f->npts].lat = y;
    f->npts++;
    return BT_OK;
}

int bt__feature_end_part(bt__feature *f)
{
    if (f->nparts == f->parts_cap) {
        size_t ncap = f->parts_cap ? f->parts_cap * 2 : 16;
        size_t *np = bt__realloc(f->part_end, ncap * sizeof *np);
        if (!np) return BT_ERR_NOMEM;
        f->part_end = np;
        f->parts_cap = ncap;
    }
    f->part_end[f->nparts++] = f->npts;
    return BT_OK;
}

void bt__feature_free_arrays(bt__feature *f)
{
    bt__free(f->pts);
    bt__free(f->part_end);
    f->pts = NULL;
    f->part_end = NULL;
    f->pts_cap = f->parts_cap = f->npts = f->nparts = 0;
}
