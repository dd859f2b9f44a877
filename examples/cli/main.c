/**
 * @file main.c
 * @brief `bordertrack`: the command-line tool over the public API. Dispatches to the
 * subcommands, in the style of git and gdal.
 */
#include "cli.h"

#include <string.h>

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"init", btcli_cmd_init, "create an empty store"},
    {"import", btcli_cmd_import, "import GeoJSON or CSV files into a store"},
    {"export", btcli_cmd_export, "export a table as GeoJSON, CSV or KML"},
    {"query", btcli_cmd_query, "list the incidents that match filters"},
    {"nearest", btcli_cmd_nearest, "the incidents nearest to a place or point"},
    {"locate", btcli_cmd_locate, "chainage, offset and side of points along a border"},
    {"coverage", btcli_cmd_coverage, "fence coverage of a border and its gaps"},
    {"profile", btcli_cmd_profile, "incident counts along a border, per chainage bin"},
    {"plot", btcli_cmd_plot, "draw a map (PNG, SVG or PDF)"},
    {"stats", btcli_cmd_stats, "record counts and summary figures of a store"},
};

static void usage(FILE *fp)
{
    fprintf(fp, "Usage: bordertrack COMMAND [ARGS...]\n"
                "       bordertrack COMMAND --help\n"
                "       bordertrack --version\n\nCommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(fp, "\nExit status: 0 success, 1 runtime error, 2 usage error.\n"
                "See bordertrack(1) and docs/cli.md.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return BTCLI_USAGE;
    }
    if (btcli_is_help(argv[1])) {
        usage(stdout);
        return BTCLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("bordertrack %s (library %s)\n", BT_VERSION_STRING, bt_version());
        return BTCLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 2, argv + 2);
    fprintf(stderr, "bordertrack: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return BTCLI_USAGE;
}
