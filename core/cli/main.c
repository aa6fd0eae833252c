/* main.c — the strata program: global options, then one command. */
#include <stdio.h>
#include <string.h>
#include "train/blas_select.h"
#include "cli/cli.h"
#include "model/plugins.h"
#include "config.h"
#include <strata/plugin.h>

static const cli_command *const commands[] = {&cmd_run, &cmd_resume, &cmd_summary, &cmd_predict,
                                              &cmd_sweep, &cmd_runs, &cmd_show, &cmd_compare,
                                              &cmd_plugins, &cmd_bench, &cmd_plot, &cmd_report, &cmd_eval, &cmd_gradcheck,
                                              &cmd_tag, &cmd_note, &cmd_rm, NULL};

static void print_help(FILE *f)
{
    fprintf(f, "usage: strata [--plugin-dir DIR] [--allow-unsafe-plugins] COMMAND [ARGS]\n"
               "       strata --help | --version\n\n"
               "Train and compare image classifiers described in YAML experiment files.\n\n"
               "Commands:\n");
    for (int i = 0; commands[i]; i++)
        fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(f, "\n'strata COMMAND --help' describes a command. Exit status: 0 success,\n"
               "1 runtime failure (I/O, interrupted), 2 usage or configuration error.\n");
}

int main(int argc, char **argv)
{
    const char *bad_isa;
    if (strata_isa_check_env(&bad_isa) < 0) {
        fprintf(stderr, "strata: STRATA_ISA: expected one of auto, avx512, avx2, base, got '%s'\n", bad_isa);
        return 2;
    }
    blas_select_kernel(argc, argv);
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            print_help(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--version")) {
            printf("strata %s (plugin ABI %d)\n", PACKAGE_VERSION, STRATA_ABI_VERSION);
            return 0;
        }
        if (!strcmp(argv[i], "--plugin-dir") && i + 1 < argc) {
            cli_plugin_dir = argv[++i];
            continue;
        }
        if (!strcmp(argv[i], "--allow-unsafe-plugins")) {
            plugins_allow_unsafe(1);
            continue;
        }
        if (!strncmp(argv[i], "--plugin-dir=", 13)) {
            cli_plugin_dir = argv[i] + 13;
            continue;
        }
        fprintf(stderr, "strata: unknown option '%s' (see 'strata --help')\n", argv[i]);
        return 2;
    }
    if (i == argc) {
        print_help(stderr);
        return 2;
    }
    for (int c = 0; commands[c]; c++)
        if (!strcmp(argv[i], commands[c]->name)) {
            if (cli_wants_help(commands[c], argc - i, argv + i))
                return 0;
            return commands[c]->run(argc - i, argv + i);
        }
    fprintf(stderr, "strata: unknown command '%s' (see 'strata --help')\n", argv[i]);
    return 2;
}
