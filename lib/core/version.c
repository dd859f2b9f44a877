/**
 * @file version.c
 * @brief The version of the library actually linked (to compare with the header's).
 */
#include "core/internal.h"

const char *bt_version(void)
{
    return BT_VERSION_STRING;
}
