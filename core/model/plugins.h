/* plugins.h — finding, loading and listing plugin modules.
 *
 * Search order: the --plugin-dir directory, then each directory of
 * STRATA_PLUGIN_PATH (colon-separated), then — when the running program
 * lives in the build tree — the in-tree plugins/ build directories, then the
 * installed $(pkglibdir). The current directory is never searched unless
 * one of these names it. A plugin NAME is the module file NAME.so. */
#ifndef STRATA_PLUGINS_H
#define STRATA_PLUGINS_H

#include <strata/plugin.h>
#include "config/error.h"

#define PLUGINS_MAX_DIRS 16

typedef struct loaded_plugin {
    char *file;
    void *handle;
    /* The host's checked copy: every optional op NULL in the module (or
     * beyond its struct_size) replaced by the default plugin.h documents. */
    const strata_plugin *desc;
} loaded_plugin;

typedef struct plugin_registry {
    int n_dirs;
    char *dirs[PLUGINS_MAX_DIRS];
    int n, cap;
    loaded_plugin *loaded;
} plugin_registry;

/* plugin_dir may be NULL. Reads STRATA_PLUGIN_PATH. */
void plugins_init(plugin_registry *r, const char *plugin_dir);
void plugins_free(plugin_registry *r);

/* Load modules from files or folders writable by others than their owner
 * (refused by default; `--allow-unsafe-plugins`). Process-wide. */
void plugins_allow_unsafe(int yes);

/* Load one module file and check it (entry point, ABI version, kind, name,
 * the required ops). */
int plugins_load_file(plugin_registry *r, const char *path, const loaded_plugin **out, strata_err *err);

/* The plugin called name of that kind, loaded on first use from the first
 * directory that has NAME.so. Errors name the plugin and the directories. */
const strata_plugin *plugins_find(plugin_registry *r, strata_plugin_kind kind, const char *name, strata_err *err);

/* Load every *.so in the search path (the first of each name wins); calls
 * fn for each good one, and bad(path, message) for each refused file. */
int plugins_scan(plugin_registry *r, void (*fn)(const loaded_plugin *p, void *arg),
                 void (*bad)(const char *path, const char *msg, void *arg), void *arg);

const char *plugins_kind_name(strata_plugin_kind k);

/* The strata_host table handed to plugins: the option getters of
 * config/opts.c, a log function (stderr, "strata: " first) and the ISA
 * level (common/isa.h's strata_isa()). */
const strata_host *plugins_host(void);

#endif
