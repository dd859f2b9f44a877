/**
 * @file fuzz_cli_filters.c
 * @brief libFuzzer harness of the CLI's FILTERS parsing (btcli_parse_filters in
 * examples/cli/args.c, a pure function): the input is an argument vector, arguments
 * separated by NUL or newline bytes. Checks the stated contract: on success every
 * non-filter argument lands in rest, in order, and the parsed values are in range.
 */
#include "fuzz_common.h"

#include "cli.h"

#include <math.h>

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = bt_fuzz_cstr(data, size);
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    size_t start = 0;
    for (size_t i = 0; i <= size && argc < MAX_ARGS; i++) {
        if (i == size || buf[i] == '\0' || buf[i] == '\n') {
            buf[i] = '\0';
            argv[argc++] = buf + start;
            start = i + 1;
        }
    }
    argv[argc] = NULL;
    btcli_filters f;
    char *rest[MAX_ARGS + 1];
    int nrest = -1;
    char err[256];
    err[0] = '\0';
    int rc = btcli_parse_filters(argc, argv, &f, rest, &nrest, err, sizeof err);
    BT_FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc == 0) {
        BT_FUZZ_CHECK(nrest >= 0 && nrest <= argc);
        /* rest holds argv's own pointers, in increasing order */
        for (int i = 1; i < nrest; i++)
            BT_FUZZ_CHECK(rest[i - 1] < rest[i]);
        BT_FUZZ_CHECK(f.min_credibility >= 0 && f.min_credibility <= 6);
        BT_FUZZ_CHECK(f.min_reliability == 0 ||
                      (f.min_reliability >= 'A' && f.min_reliability <= 'F'));
        if (f.radius_m >= 0)
            BT_FUZZ_CHECK(isfinite(f.radius_m));
        if (f.near_is_point)
            BT_FUZZ_CHECK(fabs(f.near_pt.lat) <= 90 && fabs(f.near_pt.lon) <= 180);
    } else {
        BT_FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL && err[0] != '\0');
    }
    free(buf);
    return 0;
}
