/* fake_host.c — see fake_host.h */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <check.h>
#include "config/opts.h"
#include "fake_host.h"

#define WHERE "options" /* the YAML document's name: errors start "options:L:C: " */

/* The reader first, so a strata_opts * is also a fake_opts *. */
typedef struct fake_opts {
    strata_opts o;
    ynode *root;
    strata_err err;
} fake_opts_t;

strata_opts *fake_opts(const char *const *kv)
{
    fake_opts_t *f = calloc(1, sizeof *f);
    size_t size = 1, len = 0;
    for (int i = 0; kv && kv[i]; i++)
        size += strlen(kv[i]) + 3;
    char *text = calloc(1, size);
    for (int i = 0; kv && kv[i]; i++) {
        const char *eq = strchr(kv[i], '=');
        if (eq)
            len += (size_t)sprintf(text + len, "%.*s: %s\n", (int)(eq - kv[i]), kv[i], eq + 1);
    }
    f->root = yaml_load_string(text, WHERE, &f->err);
    free(text);
    if (!f->root) {
        fprintf(stderr, "fake_opts: %s\n", f->err.msg);
        abort();
    }
    opts_init(&f->o, f->root, "", &f->err);
    return &f->o;
}

/* The message without its "options:LINE:COL: " position. */
const char *fake_opts_error(const strata_opts *o)
{
    const fake_opts_t *f = (const fake_opts_t *)o;
    if (!o->failed)
        return NULL;
    const char *m = f->err.msg;
    if (strncmp(m, WHERE ":", strlen(WHERE ":")) == 0) {
        const char *p = strstr(m, ": ");
        if (p)
            return p + 2;
    }
    return m;
}

const char *fake_opts_unused(const strata_opts *o)
{
    const ynode *m = o->map;
    for (int i = 0; m && i < m->n; i++)
        if (!m->items[i]->used)
            return m->keys[i];
    return NULL;
}

void fake_opts_free(strata_opts *o)
{
    fake_opts_t *f = (fake_opts_t *)o;
    ynode_free(f->root);
    free(f);
}

const strata_layer_ops *fake_layer_ops(const char *name)
{
    const strata_plugin *p = fake_load_builtin("layers", name);
    ck_assert_msg(p != NULL, "cannot load the layer plugin %s", name);
    ck_assert_int_eq(p->kind, STRATA_PLUGIN_LAYER);
    return p->layer;
}

void *fake_create_layer(const char *what, const strata_layer_ops *ops, const char *const *kv,
                        strata_shape in, strata_shape *out)
{
    strata_opts *o = fake_opts(kv);
    void *layer = ops->create(&fake_host, o, in, out);
    ck_assert_msg(layer != NULL, "%s: create failed: %s", what,
                  fake_opts_error(o) ? fake_opts_error(o) : "(no message)");
    ck_assert_msg(fake_opts_unused(o) == NULL, "%s: option %s not read", what, fake_opts_unused(o));
    fake_opts_free(o);
    return layer;
}

const char *const *conv_options(conv_kv *b, int k, int kh, int kw, int s, int p, int bias,
                                const char *algo, const char *extra)
{
    snprintf(b->text[0], sizeof b->text[0], "out_channels=%d", k);
    snprintf(b->text[1], sizeof b->text[1], "kernel=[%d, %d]", kh, kw);
    snprintf(b->text[2], sizeof b->text[2], "stride=%d", s);
    snprintf(b->text[3], sizeof b->text[3], "padding=%d", p);
    snprintf(b->text[4], sizeof b->text[4], "bias=%s", bias ? "true" : "false");
    snprintf(b->text[5], sizeof b->text[5], "algo=%s", algo);
    for (int i = 0; i < 6; i++)
        b->kv[i] = b->text[i];
    b->kv[6] = extra;
    b->kv[7] = NULL;
    return b->kv;
}

const strata_plugin *fake_load_plugin(const char *path)
{
    static plugin_registry reg; /* modules stay loaded for the test's life */
    static int ready;
    if (!ready) {
        plugins_init(&reg, NULL);
        ready = 1;
    }
    const loaded_plugin *lp;
    strata_err err = {0};
    if (plugins_load_file(&reg, path, &lp, &err)) {
        fprintf(stderr, "fake_load_plugin: %s\n", err.msg);
        return NULL;
    }
    return lp->desc;
}

const strata_plugin *fake_load_builtin(const char *dir, const char *name)
{
    const char *b = getenv("STRATA_BUILDDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/plugins/%s/.libs/%s.so", b ? b : ".", dir, name);
    return fake_load_plugin(path);
}
