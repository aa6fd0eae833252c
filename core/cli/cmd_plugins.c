/* cmd_plugins.c — `strata plugins [--json]`: what the search path holds. */
#include <string.h>
#include "cli/cli.h"
#include "model/plugins.h"

static const char usage[] =
    "usage: strata [--plugin-dir DIR] plugins [--json]\n"
    "\n"
    "List the layer and optimizer plugins strata finds: name, kind, version and\n"
    "file. Search order: --plugin-dir DIR, then the directories of\n"
    "STRATA_PLUGIN_PATH (colon-separated), then the build tree's plugins when\n"
    "strata runs from its build tree, then the installed plugin directory.\n"
    "An installed strata looks beside itself first (PREFIX/lib/strata for\n"
    "PREFIX/bin/strata, wherever PREFIX is now), then in the configured directory.\n"
    "The last line names the directories searched, in order.\n"
    "Files that are not valid plugins are reported on stderr.\n";

typedef struct list_state {
    int json, count, bad;
} list_state;

static void show(const loaded_plugin *p, void *arg)
{
    list_state *s = arg;
    if (s->json) {
        printf("%s\n  {\"name\": ", s->count ? "," : "");
        json_string(stdout, p->desc->name);
        printf(", \"kind\": \"%s\", \"version\": ", plugins_kind_name(p->desc->kind));
        json_string(stdout, p->desc->version ? p->desc->version : "");
        printf(", \"file\": ");
        json_string(stdout, p->file);
        printf("}");
    } else {
        printf("%-22s %-10s %-8s %s\n", p->desc->name, plugins_kind_name(p->desc->kind),
               p->desc->version ? p->desc->version : "-", p->file);
    }
    s->count++;
}

static void refused(const char *path, const char *msg, void *arg)
{
    list_state *s = arg;
    fprintf(stderr, "strata: warning: %s\n", msg);
    s->bad++;
}

static int run(int argc, char **argv)
{
    list_state s = {0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            s.json = 1;
        else
            return cli_usage(&cmd_plugins, "unexpected argument '%s'", argv[i]);
    }
    plugin_registry reg;
    plugins_init(&reg, cli_plugin_dir);
    if (s.json)
        printf("[");
    else
        printf("%-22s %-10s %-8s %s\n", "name", "kind", "version", "file");
    plugins_scan(&reg, show, refused, &s);
    if (s.json) {
        printf("]\n");
    } else {
        printf("searched:");
        for (int i = 0; i < reg.n_dirs; i++)
            printf("%s%s", i ? ":" : " ", reg.dirs[i]);
        printf("\n");
    }
    if (s.count == 0) {
        fprintf(stderr, "strata: no plugins found in:");
        for (int i = 0; i < reg.n_dirs; i++)
            fprintf(stderr, " %s", reg.dirs[i]);
        fprintf(stderr, "\n");
    }
    plugins_free(&reg);
    return s.count ? 0 : 1;
}

const cli_command cmd_plugins = {"plugins", "list the layer and optimizer plugins found", run, usage};
