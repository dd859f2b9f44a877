/**
 * @file fuzz_enum.c
 * @brief libFuzzer harness of the name parsers: enumeration names (bt_enum_parse) of
 * every enumeration, table names (bt_table_parse) and place-name folding
 * (bt_name_fold), with their stated properties (a parsed name's canonical name parses
 * to the same value; folding never grows the text and is snprintf-like).
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = bt_fuzz_cstr(data, size);
    for (int e = BT_ENUM_TIME_PRECISION; e <= BT_ENUM_INTERVENTION_KIND; e++) {
        int v = -12345;
        int rc = bt_enum_parse((bt_enum)e, text, &v);
        BT_FUZZ_CHECK(rc == BT_OK || rc == BT_ERR_INVALID);
        if (rc == BT_OK) {
            const char *name = bt_enum_name((bt_enum)e, v);
            BT_FUZZ_CHECK(name != NULL);
            int v2 = -1;
            BT_FUZZ_CHECK(bt_enum_parse((bt_enum)e, name, &v2) == BT_OK && v2 == v);
        } else {
            BT_FUZZ_CHECK(v == -12345); /* untouched on failure */
        }
    }
    bt_table t = (bt_table)99;
    if (bt_table_parse(text, &t) == BT_OK)
        BT_FUZZ_CHECK(bt_table_name(t) != NULL);
    else
        BT_FUZZ_CHECK(t == (bt_table)99);

    size_t len = strlen(text);
    int need = bt_name_fold(text, NULL, 0);
    BT_FUZZ_CHECK(need >= -1 && (need == -1 || (size_t)need <= len));
    if (need >= 0) {
        char *buf = malloc((size_t)need + 1);
        if (buf == NULL)
            abort();
        BT_FUZZ_CHECK(bt_name_fold(text, buf, (size_t)need + 1) == need);
        BT_FUZZ_CHECK(strlen(buf) == (size_t)need);
        /* folding is idempotent on its own output */
        char *again = malloc((size_t)need + 1);
        if (again == NULL)
            abort();
        BT_FUZZ_CHECK(bt_name_fold(buf, again, (size_t)need + 1) == need);
        BT_FUZZ_CHECK(strcmp(buf, again) == 0);
        /* a short buffer is NUL-terminated and truncated, with the same return */
        char small[4];
        BT_FUZZ_CHECK(bt_name_fold(text, small, sizeof small) == need);
        BT_FUZZ_CHECK(strlen(small) < sizeof small);
        free(again);
        free(buf);
    }
    free(text);
    return 0;
}
