/* fake_host.h — a strata_host for tests: options from "key=value" strings,
 * so plugins can be tested without the YAML loader.
 *
 *   const char *kv[] = {"out_channels=8", "kernel=3", "padding=[1, 2]", NULL};
 *   strata_opts *o = fake_opts(kv);
 *   void *layer = ops->create(&fake_host, o, in, &out);
 *   ... fake_opts_error(o) is the last error message, or NULL ...
 *   fake_opts_free(o);
 *
 * Values: integers, floats, true/false, words, and lists "[a, b, ...]".
 */
#ifndef STRATA_FAKE_HOST_H
#define STRATA_FAKE_HOST_H
#include <strata/plugin.h>

extern const strata_host fake_host;
strata_opts *fake_opts(const char *const *kv);
const char *fake_opts_error(const strata_opts *o);
/* The first key never asked for by the plugin, or NULL. */
const char *fake_opts_unused(const strata_opts *o);
void fake_opts_free(strata_opts *o);

/* Load a plugin module by path (e.g. from STRATA_BUILDDIR) and return its
 * descriptor, or NULL (message on stderr). */
const strata_plugin *fake_load_plugin(const char *path);
/* Load builddir/plugins/<dir>/.libs/<name>.so; dir is "layers" or "optimizers". */
const strata_plugin *fake_load_builtin(const char *dir, const char *name);
#endif
