/**
 * @file fuzz_time.c
 * @brief libFuzzer harness of date parsing (bt_time_parse), with the properties the
 * API states: first <= last, and what parses formats back (bt_time_format) to text
 * that parses to the same first second and precision.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = bt_fuzz_cstr(data, size);
    int64_t first = 0, last = 0;
    bt_time_precision prec = BT_TIME_NONE;
    int rc = bt_time_parse(text, &first, &last, &prec);
    BT_FUZZ_CHECK(rc == BT_OK || rc == BT_ERR_PARSE);
    /* NULL out-parameters are allowed and must give the same verdict */
    BT_FUZZ_CHECK(bt_time_parse(text, NULL, NULL, NULL) == rc);
    if (rc == BT_OK) {
        BT_FUZZ_CHECK(first <= last);
        BT_FUZZ_CHECK(prec >= BT_TIME_YEAR && prec <= BT_TIME_SECOND);
        char buf[64];
        int len = bt_time_format(first, prec, buf, sizeof buf);
        /* a parsed time with an offset may fall outside 0000..9999 once in UTC */
        if (len >= 0) {
            BT_FUZZ_CHECK((size_t)len < sizeof buf);
            BT_FUZZ_CHECK(bt_time_format(first, prec, NULL, 0) == len);
            int64_t first2 = 0, last2 = 0;
            bt_time_precision prec2 = BT_TIME_NONE;
            BT_FUZZ_CHECK(bt_time_parse(buf, &first2, &last2, &prec2) == BT_OK);
            BT_FUZZ_CHECK(first2 == first && prec2 == prec);
        }
    }
    free(text);
    return 0;
}
