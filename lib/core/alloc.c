/**
 * @file alloc.c
 * @brief The one allocation path of the library, with optional fault injection.
 *
 * Every allocation goes through these wrappers so that a test build
 * (BT_FAULT_INJECTION) can make the Nth allocation fail and check that each
 * out-of-memory path is handled. The countdown is thread-local: it is test-only
 * state, and per thread so that concurrent tests do not disturb each other.
 */
#include "core/internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef BT_FAULT_INJECTION
/* fail_at: the allocation number (1-based, since the last bt__alloc_fail_after call)
 * from which every allocation fails; 0 = never. count: allocations attempted since. */
static _Thread_local long bt__fi_fail_at;
static _Thread_local long bt__fi_count;

long bt__alloc_fail_after(long n)
{
    long made = bt__fi_count;
    bt__fi_count = 0;
    bt__fi_fail_at = n > 0 ? n : 0;
    return made;
}

/* true if this allocation must fail */
static bool bt__fi_should_fail(void)
{
    bt__fi_count++;
    return bt__fi_fail_at > 0 && bt__fi_count >= bt__fi_fail_at;
}
#define BT__FAIL() bt__fi_should_fail()
#else
#define BT__FAIL() false
#endif

void *bt__malloc(size_t n)
{
    if (BT__FAIL())
        return NULL;
    /* malloc(0) may return NULL, which callers would take for out-of-memory */
    return malloc(n ? n : 1);
}

void *bt__calloc(size_t count, size_t n)
{
    if (BT__FAIL())
        return NULL;
    if (count == 0 || n == 0)
        return calloc(1, 1);
    /* refuse an overflowing count * n here rather than rely on calloc (sanitizers
     * abort on it instead of returning NULL) */
    if (count > SIZE_MAX / n)
        return NULL;
    return calloc(count, n);
}

void *bt__realloc(void *p, size_t n)
{
    if (BT__FAIL())
        return NULL;
    return realloc(p, n ? n : 1);
}

void bt__free(void *p)
{
    free(p);
}

char *bt__strdup(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t len = strlen(s) + 1;
    char *d = bt__malloc(len);
    if (d != NULL)
        memcpy(d, s, len);
    return d;
}
