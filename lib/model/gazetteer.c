/**
 * @file gazetteer.c
 * @brief Place lookup by name: diacritic- and case-insensitive folding of UTF-8
 * names (bt_name_fold), exact lookup with a candidate list on failure
 * (bt_place_lookup), and ranked fuzzy search (bt_place_search).
 *
 * The store hands out places through the backend's place_scan; names are compared
 * here in C so that the folding rules are the same whatever the backend.
 */
#include "store/backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- folding ------------------------------------------------------------ */

/* Base letter of U+00C0..U+017F, one char per code point. '*' marks a ligature
 * (two letters, see fold_ligature), '.' a non-letter copied unchanged (× and ÷). */
static const char latin_fold[0x180 - 0xC0 + 1] =
    "aaaaaa*ceeeeiiii" /* U+00C0 À..Ï  (Æ = *) */
    "dnooooo.ouuuuy**" /* U+00D0 Ð..ß  (× = ., Þ ß = *) */
    "aaaaaa*ceeeeiiii" /* U+00E0 à..ï  (æ = *) */
    "dnooooo.ouuuuy*y" /* U+00F0 ð..ÿ  (÷ = ., þ = *) */
    "aaaaaaccccccccdd" /* U+0100 Ā..ď */
    "ddeeeeeeeeeegggg" /* U+0110 Đ..ğ */
    "gggghhhhiiiiiiii" /* U+0120 Ġ..į */
    "ii**jjkkklllllll" /* U+0130 İ..Ŀ  (Ĳ ĳ = *) */
    "lllnnnnnnnnnoooo" /* U+0140 ŀ..ŏ  (ŏ: McCune-Reischauer) */
    "oo**rrrrrrssssss" /* U+0150 Ő..ş  (Œ œ = *) */
    "ssttttttuuuuuuuu" /* U+0160 Š..ů  (ŭ: McCune-Reischauer) */
    "uuuuwwyyyzzzzzzs";/* U+0170 Ű..ſ */

/* U+01CD..U+01DC: Ǎ ǎ Ǐ ǐ Ǒ ǒ Ǔ ǔ Ǖ ǖ Ǘ ǘ Ǚ ǚ Ǜ ǜ (pinyin tone marks on vowels). */
static const char pinyin_fold[16 + 1] = "aaiioouuuuuuuuuu";

static const char *fold_ligature(unsigned cp)
{
    switch (cp) {
    case 0xC6: case 0xE6: return "ae";
    case 0xDE: case 0xFE: return "th";
    case 0xDF: return "ss";
    case 0x132: case 0x133: return "ij";
    default: return "oe"; /* 0x152, 0x153: the only other '*' entries */
    }
}

/* What one code point folds to: a static string, "" to drop it, " " for a separator,
 * or NULL to copy its bytes unchanged. */
static const char *fold_cp(unsigned cp, char one[2])
{
    if (cp < 0x80) {
        if (cp >= 'A' && cp <= 'Z') {
            one[0] = (char)(cp - 'A' + 'a');
            return one;
        }
        if (cp == '\'' || cp == '`') return "";
        if (cp == '-' || cp == '_' || cp == '.' || cp == ',' || cp == ' ' || cp == '\t' ||
            cp == '\n' || cp == '\r')
            return " ";
        return NULL;
    }
    if (cp >= 0xC0 && cp <= 0x17F) {
        char c = latin_fold[cp - 0xC0];
        if (c == '.') return NULL;
        if (c == '*') return fold_ligature(cp);
        one[0] = c;
        return one;
    }
    if (cp >= 0x1CD && cp <= 0x1DC) {
        one[0] = pinyin_fold[cp - 0x1CD];
        return one;
    }
    if (cp >= 0x218 && cp <= 0x21B) {
        one[0] = cp < 0x21A ? 's' : 't';
        return one;
    }
    if (cp >= 0x300 && cp <= 0x36F) return ""; /* combining marks */
    if (cp == 0x2018 || cp == 0x2019 || cp == 0x2BB || cp == 0x2BC) return "";
    if (cp == 0xA0 || cp == 0x2010 || cp == 0x2011) return " ";
    return NULL;
}

int bt_name_fold(const char *text, char *buf, size_t size)
{
    if (text == NULL) return -1;
    const unsigned char *p = (const unsigned char *)text;
    size_t n = 0;          /* bytes of output so far (the full length) */
    int pending_space = 0; /* a separator seen after some output */
    char one[2] = {0, 0};
    while (*p) {
        unsigned cp;
        size_t len = bt__utf8_decode(p, &cp);
        if (len == 0) {
            if (size > 0 && buf) buf[0] = '\0';
            return -1;
        }
        const char *f = fold_cp(cp, one);
        const char *src;
        size_t srclen;
        if (f == NULL) {
            src = (const char *)p;
            srclen = len;
        } else if (f[0] == ' ') {
            if (n > 0) pending_space = 1;
            p += len;
            continue;
        } else {
            src = f;
            srclen = strlen(f);
        }
        if (srclen > 0 && pending_space) {
            if (buf && n + 1 < size) buf[n] = ' ';
            n++;
            pending_space = 0;
        }
        for (size_t i = 0; i < srclen; i++, n++)
            if (buf && n + 1 < size) buf[n] = src[i];
        p += len;
    }
    if (buf && size > 0) buf[n < size ? n : size - 1] = '\0';
    /* Folding never lengthens a name (each code point gives at most its own byte
     * count), so the length fits an int whenever strlen(text) does. */
    return n > (size_t)0x7FFFFFFF ? -1 : (int)n;
}

/* Folds into a new bt__malloc'd string; NULL with *bad = 1 on invalid UTF-8. */
static char *fold_dup(const char *text, int *bad)
{
    *bad = 0;
    int n = bt_name_fold(text, NULL, 0);
    if (n < 0) {
        *bad = 1;
        return NULL;
    }
    char *out = bt__malloc((size_t)n + 1);
    if (out) bt_name_fold(text, out, (size_t)n + 1);
    return out;
}

/* ---- the query: "name" or "name, CC" ------------------------------------ */

typedef struct query {
    char *folded;     /* folded name part */
    char country[3];  /* "" or an upper-case ISO code */
} query;

static int is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

static int parse_query(bt_store *s, const char *fn, const char *name, query *q)
{
    q->folded = NULL;
    q->country[0] = '\0';
    if (name == NULL) return bt__error(s, BT_ERR_INVALID, "%s: name is NULL", fn);
    size_t len = strlen(name);
    const char *comma = strrchr(name, ',');
    if (comma) {
        const char *c = comma + 1;
        while (*c == ' ') c++;
        const char *e = name + len;
        while (e > c && e[-1] == ' ') e--;
        if (e - c == 2 && is_alpha(c[0]) && is_alpha(c[1])) {
            q->country[0] = (char)(c[0] & ~0x20);
            q->country[1] = (char)(c[1] & ~0x20);
            q->country[2] = '\0';
            len = (size_t)(comma - name);
        }
    }
    char *part = bt__malloc(len + 1);
    if (!part) return bt__error(s, BT_ERR_NOMEM, "%s: out of memory", fn);
    memcpy(part, name, len);
    part[len] = '\0';
    int bad;
    q->folded = fold_dup(part, &bad);
    bt__free(part);
    if (bad) return bt__error(s, BT_ERR_INVALID, "%s: the name is not valid UTF-8", fn);
    if (!q->folded) return bt__error(s, BT_ERR_NOMEM, "%s: out of memory", fn);
    if (q->folded[0] == '\0') {
        bt__free(q->folded);
        q->folded = NULL;
        return bt__error(s, BT_ERR_INVALID, "%s: the place name is empty", fn);
    }
    return BT_OK;
}

/* ---- ranking ----------------------------------------------------------- */

#define MAX_CPS 128 /* names longer than this (in code points) are never "close" */

static size_t to_cps(const char *s, unsigned *cps)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    while (*p) {
        unsigned cp;
        size_t len = bt__utf8_decode(p, &cp);
        if (len == 0 || n == MAX_CPS) return MAX_CPS + 1;
        cps[n++] = cp;
        p += len;
    }
    return n;
}

/* Levenshtein distance between two code point strings (two rows). */
static size_t edit_distance(const unsigned *a, size_t na, const unsigned *b, size_t nb)
{
    size_t row0[MAX_CPS + 1], row1[MAX_CPS + 1];
    size_t *prev = row0, *cur = row1;
    for (size_t j = 0; j <= nb; j++) prev[j] = j;
    for (size_t i = 1; i <= na; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t m = del < ins ? del : ins;
            cur[j] = m < sub ? m : sub;
        }
        size_t *t = prev;
        prev = cur;
        cur = t;
    }
    return prev[nb];
}

enum { RANK_EQUAL = 0, RANK_PREFIX = 1, RANK_EDIT = 2 };

typedef struct cand {
    bt_place *place;
    int rank;
    size_t dist;
} cand;

typedef struct scan_ctx {
    bt_store *s;
    const query *q;
    unsigned qcps[MAX_CPS + 1];
    size_t nq;
    cand *c;
    size_t n, cap;
    int rc;
} scan_ctx;

static int scan_cb(const bt_place *p, void *udata)
{
    scan_ctx *x = udata;
    int bad;
    char *f = fold_dup(p->name, &bad);
    if (bad) return 0; /* the store validated names; a bad one cannot match */
    if (!f) {
        x->rc = bt__error(x->s, BT_ERR_NOMEM, "place lookup: out of memory");
        return 1;
    }
    int rank = -1;
    size_t dist = 0;
    size_t ql = strlen(x->q->folded);
    if (strcmp(f, x->q->folded) == 0) {
        rank = RANK_EQUAL;
    } else {
        if (strncmp(f, x->q->folded, ql) == 0 && f[ql] == ' ') {
            rank = RANK_PREFIX;
        } else if (x->nq <= MAX_CPS) {
            unsigned fc[MAX_CPS + 1];
            size_t nf = to_cps(f, fc);
            size_t limit = x->nq / 2 > 2 ? x->nq / 2 : 2;
            if (nf <= MAX_CPS) {
                dist = edit_distance(x->qcps, x->nq, fc, nf);
                if (dist <= limit) rank = RANK_EDIT;
            }
        }
    }
    bt__free(f);
    if (rank < 0) return 0;
    if (x->n == x->cap) {
        size_t ncap = x->cap ? 2 * x->cap : 16;
        cand *nc = bt__realloc(x->c, ncap * sizeof *nc);
        if (!nc) {
            x->rc = bt__error(x->s, BT_ERR_NOMEM, "place lookup: out of memory");
            return 1;
        }
        x->c = nc;
        x->cap = ncap;
    }
    bt_place *dup = bt__place_dup(p);
    if (!dup) {
        x->rc = bt__error(x->s, BT_ERR_NOMEM, "place lookup: out of memory");
        return 1;
    }
    x->c[x->n].place = dup;
    x->c[x->n].rank = rank;
    x->c[x->n].dist = dist;
    x->n++;
    return 0;
}

static int cand_cmp(const void *pa, const void *pb)
{
    const cand *a = pa, *b = pb;
    if (a->rank != b->rank) return a->rank < b->rank ? -1 : 1;
    if (a->dist != b->dist) return a->dist < b->dist ? -1 : 1;
    int c = strcmp(a->place->name, b->place->name);
    if (c) return c;
    return a->place->id < b->place->id ? -1 : a->place->id > b->place->id;
}

static void free_cands(scan_ctx *x)
{
    for (size_t i = 0; i < x->n; i++) bt__free(x->c[i].place);
    bt__free(x->c);
    x->c = NULL;
    x->n = x->cap = 0;
}

/* Scans the store and leaves the sorted candidates in x. */
static int collect(bt_store *s, const query *q, scan_ctx *x)
{
    memset(x, 0, sizeof *x);
    x->s = s;
    x->q = q;
    x->nq = to_cps(q->folded, x->qcps);
    int rc = s->be->place_scan(s, q->country[0] ? q->country : NULL, scan_cb, x);
    if (!rc) rc = x->rc;
    if (rc) {
        free_cands(x);
        return rc;
    }
    if (x->n > 1) qsort(x->c, x->n, sizeof *x->c, cand_cmp);
    return BT_OK;
}

/* Appends "Name (CC, lon lat)" items to msg (bounded; the store message is too). */
static void list_cands(char *msg, size_t size, const cand *c, size_t n, size_t most)
{
    size_t used = strlen(msg);
    for (size_t i = 0; i < n && i < most && used < size; i++) {
        int w = snprintf(msg + used, size - used, "%s%.80s (%s, %.5f %.5f)", i ? ", " : "",
                         c[i].place->name, c[i].place->country, c[i].place->where.lon,
                         c[i].place->where.lat);
        if (w < 0) return;
        used += (size_t)w;
    }
    if (n > most && used < size)
        snprintf(msg + used, size - used, " and %zu more", n - most);
}

int bt_place_lookup(bt_store *store, const char *name, bt_place **out)
{
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    if (!out) return bt__error(store, BT_ERR_INVALID, "bt_place_lookup: out is NULL");
    *out = NULL;
    query q;
    int rc = parse_query(store, "bt_place_lookup", name, &q);
    if (rc) return rc;
    scan_ctx x;
    rc = collect(store, &q, &x);
    if (rc) {
        bt__free(q.folded);
        return rc;
    }
    size_t nequal = 0;
    while (nequal < x.n && x.c[nequal].rank == RANK_EQUAL) nequal++;
    char msg[BT_ERRMSG_SIZE];
    if (nequal == 1) {
        *out = x.c[0].place;
        x.c[0].place = NULL;
    } else if (nequal > 1) {
        snprintf(msg, sizeof msg, "place name '%.100s' is ambiguous: ", name);
        list_cands(msg, sizeof msg, x.c, nequal, 5);
        rc = bt__error(store, BT_ERR_INVALID, "%s; add ', CC' (the country code)", msg);
    } else {
        if (q.country[0])
            snprintf(msg, sizeof msg, "no place named '%.100s' in country %s", name,
                     q.country);
        else
            snprintf(msg, sizeof msg, "no place named '%.100s'", name);
        if (x.n > 0) {
            size_t used = strlen(msg);
            snprintf(msg + used, sizeof msg - used, "; closest: ");
            list_cands(msg, sizeof msg, x.c, x.n, 5);
        }
        rc = bt__error(store, BT_ERR_NOT_FOUND, "%s", msg);
    }
    free_cands(&x);
    bt__free(q.folded);
    return rc;
}

int bt_place_search(bt_store *store, const char *name, size_t max, bt_place ***out,
                    size_t *n)
{
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    if (!out || !n) return bt__error(store, BT_ERR_INVALID, "bt_place_search: out or n is NULL");
    *out = NULL;
    *n = 0;
    query q;
    int rc = parse_query(store, "bt_place_search", name, &q);
    if (rc) return rc;
    scan_ctx x;
    rc = collect(store, &q, &x);
    bt__free(q.folded);
    if (rc) return rc;
    size_t keep = x.n < max ? x.n : max;
    if (keep > 0) {
        bt_place **arr = bt__malloc(keep * sizeof *arr);
        if (!arr) {
            free_cands(&x);
            return bt__error(store, BT_ERR_NOMEM, "bt_place_search: out of memory");
        }
        for (size_t i = 0; i < keep; i++) {
            arr[i] = x.c[i].place;
            x.c[i].place = NULL;
        }
        *out = arr;
        *n = keep;
    }
    free_cands(&x);
    return BT_OK;
}

void bt_place_array_free(bt_place **places, size_t n)
{
    if (!places) return;
    for (size_t i = 0; i < n; i++) bt__free(places[i]);
    bt__free(places);
}
