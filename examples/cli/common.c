/**
 * @file common.c
 * @brief Helpers the commands share: opening a store, reporting errors, resolving
 * --near.
 */
#include "cli.h"

#include <stdarg.h>
#include <string.h>

int btcli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

bt_store *btcli_open(const char *path, unsigned flags)
{
    bt_store *s = NULL;
    char *em = NULL;
    int rc = bt_store_open(path, flags, &s, &em);
    if (rc != BT_OK) {
        fprintf(stderr, "bordertrack: %s: %s\n", path, em ? em : bt_strerror(rc));
        bt_string_free(em);
        return NULL;
    }
    return s;
}

void btcli_lib_error(const char *cmd, bt_store *s, int rc, const char *what)
{
    const char *m = s ? bt_store_errmsg(s) : "";
    /* an import's message already starts with the file's name: say it once */
    size_t wl = strlen(what);
    if (strncmp(m, what, wl) == 0 && m[wl] == ':')
        fprintf(stderr, "bordertrack %s: %s\n", cmd, m);
    else
        fprintf(stderr, "bordertrack %s: %s: %s\n", cmd, what, *m ? m : bt_strerror(rc));
}

void btcli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bordertrack %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'bordertrack %s --help'.\n", cmd);
    va_end(ap);
}

int btcli_resolve_near(const char *cmd, bt_store *s, const btcli_filters *f, bt_lonlat *out,
                       char *label, size_t labelsize)
{
    if (f->near_is_point) {
        *out = f->near_pt;
        if (label) snprintf(label, labelsize, "%.5f, %.5f", out->lon, out->lat);
        return 0;
    }
    bt_place *p = NULL;
    int rc = bt_place_lookup(s, f->near, &p);
    if (rc != BT_OK) {
        fprintf(stderr, "bordertrack %s: --near: %s\n", cmd, bt_store_errmsg(s));
        return 1;
    }
    *out = p->where;
    if (label) snprintf(label, labelsize, "%s", p->name);
    bt_place_free(p);
    return 0;
}
