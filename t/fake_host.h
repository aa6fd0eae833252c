/* fake_host.h — the host side for plugin tests: options from "key=value"
 * strings read by the core's real option getters (config/opts.c, through
 * plugins_host()), and modules loaded by the core's real loader (so tests
 * see the ops table the host sees: required ops checked, optional ones
 * defaulted).
 *
 *   const char *kv[] = {"out_channels=8", "kernel=3", "padding=[1, 2]", NULL};
 *   strata_opts *o = fake_opts(kv);
 *   void *layer = ops->create(&fake_host, o, in, &out);
 *   ... fake_opts_error(o) is the error message (without its position), or NULL ...
 *   fake_opts_free(o);
 *
 * Each "key=value" becomes the YAML line "key: value" of one mapping, so
 * values are YAML: integers, floats, true/false, words, lists "[a, b]".
 */
#ifndef STRATA_FAKE_HOST_H
#define STRATA_FAKE_HOST_H
#include <strata/plugin.h>
#include "model/plugins.h"

/* The host table plugins get in strata (an lvalue: pass &fake_host). */
#define fake_host (*plugins_host())
strata_opts *fake_opts(const char *const *kv);
const char *fake_opts_error(const strata_opts *o);
/* The first key never asked for by the plugin, or NULL. */
const char *fake_opts_unused(const strata_opts *o);
void fake_opts_free(strata_opts *o);

/* The ops of the built layer plugin name (plugins/layers/.libs/NAME.so),
 * asserting (ck_assert) that it loads and is a layer. */
const strata_layer_ops *fake_layer_ops(const char *name);

/* ops->create(&fake_host, options kv, in, out), asserting (ck_assert) that
 * it succeeds and reads every option; what names the layer in the message. */
void *fake_create_layer(const char *what, const strata_layer_ops *ops, const char *const *kv,
                        strata_shape in, strata_shape *out);

/* conv2d's options out_channels, kernel [kh, kw], stride, padding, bias,
 * algo and extra (one more "key=value", or NULL) for fake_opts: the list
 * (NULL-terminated) in kv, its text in text. */
typedef struct conv_kv {
    char text[6][32];
    const char *kv[8];
} conv_kv;
const char *const *conv_options(conv_kv *b, int k, int kh, int kw, int s, int p, int bias,
                                const char *algo, const char *extra);

/* OpenBLAS's threads for a layer's pass, as the trainer sets them
 * (model/network.h; declared here so tests need not include it). */
void layer_set_blas(const strata_layer_ops *ops, const void *self, int backward, int n, int threads);

/* Load a plugin module by path (e.g. from STRATA_BUILDDIR) and return the
 * host's checked descriptor, or NULL (message on stderr). */
const strata_plugin *fake_load_plugin(const char *path);
/* Load builddir/plugins/<dir>/.libs/<name>.so; dir is "layers" or "optimizers". */
const strata_plugin *fake_load_builtin(const char *dir, const char *name);
#endif
