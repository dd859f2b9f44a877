/**
 * @file text.c
 * @brief The exporters' output buffer and the escaping rules of JSON, XML and CSV.
 *
 * Output is collected in a 64 KiB buffer and handed to the caller's writer in large
 * pieces; the first failure (out of memory, or the writer returning non-zero) is kept
 * and every later write does nothing, so the writers need not check each call.
 */
#include "io/io.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define BT__OUTBUF 65536

void bt__out_flush(bt__out *o)
{
    if (o->err || o->len == 0) return;
    if (o->write(o->buf, o->len, o->udata) != 0) o->err = BT_ERR_IO;
    o->len = 0;
}

void bt__out_bytes(bt__out *o, const char *p, size_t n)
{
    if (o->err) return;
    if (!o->buf) {
        o->buf = bt__malloc(BT__OUTBUF);
        if (!o->buf) {
            o->err = BT_ERR_NOMEM;
            return;
        }
        o->cap = BT__OUTBUF;
    }
    while (n > 0 && !o->err) {
        if (o->len == o->cap) bt__out_flush(o);
        size_t k = o->cap - o->len < n ? o->cap - o->len : n;
        memcpy(o->buf + o->len, p, k);
        o->len += k;
        p += k;
        n -= k;
    }
}

void bt__out_str(bt__out *o, const char *p) { bt__out_bytes(o, p, strlen(p)); }

void bt__out_printf(bt__out *o, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) {
        o->err = BT_ERR_INTERNAL;
        return;
    }
    if ((size_t)n < sizeof tmp) {
        bt__out_bytes(o, tmp, (size_t)n);
        return;
    }
    char *big = bt__malloc((size_t)n + 1);
    if (!big) {
        o->err = BT_ERR_NOMEM;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    bt__out_bytes(o, big, (size_t)n);
    bt__free(big);
}

void bt__out_json_str(bt__out *o, const char *p)
{
    static const char hex[] = "0123456789abcdef";
    bt__out_bytes(o, "\"", 1);
    const char *run = p;
    for (; *p; p++) {
        unsigned char c = (unsigned char)*p;
        const char *esc = NULL;
        char u[7];
        if (c == '"') esc = "\\\"";
        else if (c == '\\') esc = "\\\\";
        else if (c == '\n') esc = "\\n";
        else if (c == '\r') esc = "\\r";
        else if (c == '\t') esc = "\\t";
        else if (c < 0x20 || c == 0x7F) {
            u[0] = '\\';
            u[1] = 'u';
            u[2] = '0';
            u[3] = '0';
            u[4] = hex[c >> 4];
            u[5] = hex[c & 15];
            u[6] = '\0';
            esc = u;
        }
        if (esc) {
            bt__out_bytes(o, run, (size_t)(p - run));
            bt__out_str(o, esc);
            run = p + 1;
        }
    }
    bt__out_bytes(o, run, (size_t)(p - run));
    bt__out_bytes(o, "\"", 1);
}

void bt__out_xml(bt__out *o, const char *p)
{
    const char *run = p;
    for (; *p; p++) {
        unsigned char c = (unsigned char)*p;
        const char *esc = NULL;
        if (c == '&') esc = "&amp;";
        else if (c == '<') esc = "&lt;";
        else if (c == '>') esc = "&gt;";
        else if (c == '"') esc = "&quot;";
        else if (c == '\'') esc = "&apos;";
        else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') esc = ""; /* not XML 1.0 */
        else if (c == '\r') esc = "&#13;"; /* parsers would fold it into \n */
        if (esc) {
            bt__out_bytes(o, run, (size_t)(p - run));
            bt__out_str(o, esc);
            run = p + 1;
        }
    }
    bt__out_bytes(o, run, (size_t)(p - run));
}

void bt__out_csv(bt__out *o, const char *p)
{
    size_t n = strlen(p);
    bool quote = n > 0 && (p[0] == ' ' || p[n - 1] == ' ');
    for (size_t i = 0; i < n && !quote; i++)
        if (p[i] == ',' || p[i] == '"' || p[i] == '\n' || p[i] == '\r') quote = true;
    if (!quote) {
        bt__out_bytes(o, p, n);
        return;
    }
    bt__out_bytes(o, "\"", 1);
    const char *run = p;
    for (; *p; p++) {
        if (*p == '"') {
            bt__out_bytes(o, run, (size_t)(p - run) + 1);
            run = p; /* the quote is written again: doubled */
        }
    }
    bt__out_bytes(o, run, (size_t)(p - run));
    bt__out_bytes(o, "\"", 1);
}

void bt__out_coord(bt__out *o, double v, int decimals)
{
    char buf[64];
    if (v == 0) v = 0; /* no "-0" */
    int n = snprintf(buf, sizeof buf, "%.*f", decimals, v);
    if (n <= 0 || (size_t)n >= sizeof buf) {
        o->err = BT_ERR_INTERNAL;
        return;
    }
    if (memchr(buf, '.', (size_t)n)) {
        while (n > 1 && buf[n - 1] == '0') n--;
        if (buf[n - 1] == '.') n--;
    }
    if (n == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        n = 1;
    }
    bt__out_bytes(o, buf, (size_t)n);
}

void bt__fmt_double(char *buf, size_t size, double v)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}
