/**
 * @file fuzz_csv.c
 * @brief libFuzzer harness of the CSV importer (bt_import_mem): the input is the file,
 * imported into every table; the length's low bit selects skip_invalid.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const bt_table tables[] = {BT_TABLE_BORDERS, BT_TABLE_INSTALLATIONS,
                                      BT_TABLE_INCIDENTS, BT_TABLE_SOURCES, BT_TABLE_PLACES,
                                      BT_TABLE_INTERVENTIONS};
    int skip = (int)(size & 1u);
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        bt_fuzz_import((const char *)data, size, "fuzz.csv", tables[i], BT_FORMAT_CSV, skip);
    /* detection by content, no name */
    bt_fuzz_import((const char *)data, size, NULL, BT_TABLE_INCIDENTS, BT_FORMAT_AUTO, skip);
    return 0;
}
