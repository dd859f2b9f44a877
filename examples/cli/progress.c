/**
 * @file progress.c
 * @brief A progress bar on stderr for long work, drawn only when stderr is a terminal
 * (a log file or a pipe gets nothing).
 */
#define _POSIX_C_SOURCE 200809L

#include "cli.h"

#include <unistd.h>

void btcli_progress_start(btcli_progress *p, const char *label, double total)
{
    p->tty = isatty(STDERR_FILENO);
    p->enabled = p->tty && total > 0;
    p->adopt = !(total > 0);
    p->label = label;
    p->total = total;
    p->offset = 0;
    p->last_permille = -1;
}

void btcli_progress_update(btcli_progress *p, double done)
{
    if (!p->enabled) return;
    int pm = (int)(1000.0 * (done > p->total ? p->total : done) / p->total);
    if (pm / 5 == p->last_permille / 5) return; /* redraw at most every 0.5% */
    p->last_permille = pm;
    enum { WIDTH = 40 };
    int fill = pm * WIDTH / 1000;
    fprintf(stderr, "\r%-12.12s [", p->label);
    for (int i = 0; i < WIDTH; i++) fputc(i < fill ? '#' : '.', stderr);
    fprintf(stderr, "] %3d%%", pm / 10);
    fflush(stderr);
}

void btcli_progress_finish(btcli_progress *p)
{
    if (!p->enabled) return;
    btcli_progress_update(p, p->total);
    fputc('\n', stderr);
    p->enabled = 0;
}

void btcli_progress_clear(btcli_progress *p)
{
    if (!p->enabled) return;
    fputs("\r\033[K", stderr); /* so that a message does not land on the bar */
    p->last_permille = -1;        /* redraw it on the next update */
}

int btcli_progress_fn(uint64_t done, uint64_t total, void *udata)
{
    btcli_progress *p = udata;
    /* A bar started without a total learns it from the library. */
    if (p->adopt && total > 0 && (double)total != p->total) {
        p->total = (double)total;
        p->enabled = p->tty;
        p->last_permille = -1;
    }
    btcli_progress_update(p, p->offset + (double)done);
    return 0;
}
