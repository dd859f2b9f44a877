/**
 * @file fuzz_common.h
 * @brief Shared by the fuzz harnesses: the libFuzzer entry point's prototype and one
 * scratch store per process.
 *
 * A harness is a libFuzzer target (built with clang -fsanitize=fuzzer when BT_FUZZ
 * is ON) and, linked with replay_main.c, a plain program that runs every file of its
 * seed corpus and of its regression folder through the same entry point (ctest label
 * "fuzz"). The store is opened once per process because creating a SpatiaLite schema
 * takes far longer than one input; each input runs inside a transaction that is
 * rolled back, so inputs cannot see each other's records. That one static pointer is
 * harness state, not library state (the library itself has none).
 */
#ifndef BT_FUZZ_COMMON_H
#define BT_FUZZ_COMMON_H

#include "bordertrack.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Closing the store at exit keeps LeakSanitizer quiet about it in replay runs. */
static bt_store *bt_fuzz_store_slot;

static inline void bt_fuzz_close_store(void)
{
    bt_store_close(bt_fuzz_store_slot);
    bt_fuzz_store_slot = NULL;
}

/* The process's scratch store (an empty in-memory store), opened on first use.
 * Aborts if it cannot be opened: that is a harness failure, not a finding. */
static inline bt_store *bt_fuzz_store(void)
{
    if (bt_fuzz_store_slot == NULL) {
        char *err = NULL;
        int rc = bt_store_open(":memory:", BT_OPEN_READWRITE | BT_OPEN_CREATE,
                               &bt_fuzz_store_slot, &err);
        if (rc != BT_OK) {
            fprintf(stderr, "fuzz: cannot open the scratch store: %s\n", err ? err : "");
            bt_string_free(err);
            abort();
        }
        atexit(bt_fuzz_close_store);
    }
    return bt_fuzz_store_slot;
}

/* A NUL-terminated copy of the input (the text entry points take C strings). */
static inline char *bt_fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* A failed check of a property the API promises: abort so that the fuzzer keeps the
 * input as a crash. */
#define BT_FUZZ_CHECK(cond)                                                          \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                 \
        }                                                                            \
    } while (0)

/* Imports @p data into @p table inside a transaction that is rolled back, and checks
 * the all-or-nothing promise: a failed import leaves the counts as they were. */
static inline void bt_fuzz_import(const char *data, size_t size, const char *name, bt_table table,
                           bt_format format, int skip_invalid)
{
    bt_store *s = bt_fuzz_store();
    bt_counts before, after;
    BT_FUZZ_CHECK(bt_store_begin(s) == BT_OK);
    BT_FUZZ_CHECK(bt_store_count(s, &before) == BT_OK);
    bt_import_options opt;
    bt_import_options_init(&opt);
    opt.table = table;
    opt.format = format;
    opt.skip_invalid = skip_invalid;
    bt_import_report rep;
    int rc = bt_import_mem(s, data, size, name, &opt, &rep);
    if (rc != BT_OK) {
        /* every failure explains itself */
        BT_FUZZ_CHECK(bt_store_errmsg(s)[0] != '\0');
        BT_FUZZ_CHECK(bt_store_count(s, &after) == BT_OK);
        BT_FUZZ_CHECK(memcmp(&before, &after, sizeof before) == 0);
    } else {
        BT_FUZZ_CHECK(rep.added >= 0 && rep.skipped >= 0 && rep.features >= 0);
    }
    BT_FUZZ_CHECK(bt_store_rollback(s) == BT_OK);
}

#endif /* BT_FUZZ_COMMON_H */
