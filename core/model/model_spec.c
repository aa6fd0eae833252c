/* model_spec.c — the `model` section: common keys, the builders, edits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/model_spec.h"

layer_spec *model_spec_add(model_spec *m, const char *name, const char *type, const char *key, ynode *opts,
                           const ynode *where)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 32;
        m->layers = realloc(m->layers, m->cap * sizeof *m->layers);
    }
    layer_spec *l = &m->layers[m->n++];
    memset(l, 0, sizeof *l);
    snprintf(l->name, sizeof l->name, "%s", name);
    snprintf(l->type, sizeof l->type, "%s", type);
    snprintf(l->key, sizeof l->key, "%s", key ? key : "");
    snprintf(l->prefix, sizeof l->prefix, "model.edit.%s", name);
    l->opts = opts ? opts : ynode_new(YNODE_MAP, where->file, where->line, where->col);
    return l;
}

static ynode *scalar_at(const layer_spec *l, const char *text)
{
    return ynode_scalar(text, l->opts->file, l->opts->line, l->opts->col);
}

void layer_set_int(layer_spec *l, const char *key, long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", v);
    ynode_set(l->opts, key, scalar_at(l, buf));
}

void layer_set_float(layer_spec *l, const char *key, double v)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.17g", v);
    ynode_set(l->opts, key, scalar_at(l, buf));
}

void layer_set_pair(layer_spec *l, const char *key, long a, long b)
{
    if (a == b) {
        layer_set_int(l, key, a);
        return;
    }
    char buf[32];
    ynode *seq = ynode_new(YNODE_SEQ, l->opts->file, l->opts->line, l->opts->col);
    snprintf(buf, sizeof buf, "%ld", a);
    ynode_push(seq, scalar_at(l, buf));
    snprintf(buf, sizeof buf, "%ld", b);
    ynode_push(seq, scalar_at(l, buf));
    ynode_set(l->opts, key, seq);
}

void model_spec_free(model_spec *m)
{
    for (int i = 0; i < m->n; i++)
        ynode_free(m->layers[i].opts);
    free(m->layers);
    memset(m, 0, sizeof *m);
}

/* ---- the classifier shared by the builders -------------------------------- */

int classifier_parse(strata_opts *o, classifier_spec *c, const long def_widths[], int n_def, int def_before,
                     long def_avgpool)
{
    static const char *const positions[] = {"after", "before", NULL};
    strata_opts co;
    memset(c, 0, sizeof *c);
    if (opts_child(o, "classifier", &co) < 0)
        return -1;
    if (opts_int_list(&co, "widths", 1, 1L << 20, c->widths, 8, &c->n_widths) == 1) {
        memcpy(c->widths, def_widths, n_def * sizeof *def_widths);
        c->n_widths = n_def;
    }
    opts_float(&co, "dropout", 0.5, 0.0, 0.999, &c->dropout);
    opts_choice(&co, "dropout_position", positions, def_before, &c->dropout_before);
    if (co.failed)
        return -1;
    if (opts_check_unused(&co, "model.classifier"))
        return -1;
    if (opts_int_pair(o, "avgpool", def_avgpool, 0, 4096, c->avgpool) < 0)
        return -1;
    if ((c->avgpool[0] == 0) != (c->avgpool[1] == 0))
        return opts_error(o, "avgpool", "expected 0 (no pooling) or a size >= 1 in both dimensions");
    return 0;
}

static void add_dropout(model_spec *m, double p, int idx, int *k, const ynode *where)
{
    char name[32], key[32];
    snprintf(name, sizeof name, "drop%d", idx);
    snprintf(key, sizeof key, "classifier.%d", (*k)++);
    layer_set_float(model_spec_add(m, name, "dropout", key, NULL, where), "p", p);
}

void classifier_build(model_spec *m, const classifier_spec *c, int first_fc, const ynode *where)
{
    char name[32], key[32];
    if (c->avgpool[0]) {
        layer_spec *l = model_spec_add(m, "avgpool", "adaptive_avgpool", "avgpool", NULL, where);
        layer_set_pair(l, "output", c->avgpool[0], c->avgpool[1]);
    }
    model_spec_add(m, "flatten", "flatten", "", NULL, where);
    int k = 0; /* index in torch's classifier Sequential */
    for (int i = 0; i <= c->n_widths; i++) {
        int idx = first_fc + i, last = i == c->n_widths;
        if (!last && c->dropout_before && c->dropout > 0)
            add_dropout(m, c->dropout, idx, &k, where);
        snprintf(name, sizeof name, "fc%d", idx);
        snprintf(key, sizeof key, "classifier.%d", k++);
        layer_spec *fc = model_spec_add(m, name, "linear", key, NULL, where);
        layer_set_int(fc, "out_features", last ? m->num_classes : c->widths[i]);
        if (last)
            break;
        snprintf(name, sizeof name, "relu%d", idx);
        snprintf(key, sizeof key, "classifier.%d", k++);
        model_spec_add(m, name, "relu", key, NULL, where);
        if (!c->dropout_before && c->dropout > 0)
            add_dropout(m, c->dropout, idx, &k, where);
    }
}

/* ---- edits ---------------------------------------------------------------- */

static layer_spec *find_layer(model_spec *m, const char *name)
{
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->layers[i].name, name) == 0)
            return &m->layers[i];
    char *end;
    long idx = strtol(name, &end, 10);
    if (*name && !*end && idx >= 0 && idx < m->n)
        return &m->layers[idx];
    return NULL;
}

/* model.edit: {LAYER: {option: value, ...}, ...}, LAYER a name or index. */
static int apply_edits(strata_opts *o, model_spec *m)
{
    ynode *edit;
    int rc = opts_node(o, "edit", YNODE_MAP, &edit);
    if (rc)
        return rc < 0 ? -1 : 0;
    strata_opts eo;
    opts_init(&eo, edit, "model.edit", o->err);
    for (int i = 0; i < edit->n; i++) {
        layer_spec *l = find_layer(m, edit->keys[i]);
        if (!l)
            return opts_error(&eo, edit->keys[i], "no layer of that name or index in this %s model "
                              "('strata summary' lists the layers)", m->desc);
        ynode *changes = edit->items[i];
        if (changes->kind != YNODE_MAP)
            return opts_error(&eo, edit->keys[i], "expected a mapping of layer options, e.g. {padding: 0}");
        ynode_merge(l->opts, changes);
        snprintf(l->prefix, sizeof l->prefix, "model.edit.%s", edit->keys[i]);
    }
    return 0;
}

/* model.freeze: [LAYER, ...], LAYER a name or index: those layers' parameters
 * get no gradient step and no optimizer state (network_create checks that
 * each has parameters). */
static int apply_freeze(strata_opts *o, model_spec *m)
{
    ynode *list;
    char w[300], d[100];
    int rc = opts_node(o, "freeze", YNODE_SEQ, &list);
    if (rc)
        return rc < 0 ? -1 : 0;
    for (int i = 0; i < list->n; i++) {
        const ynode *item = list->items[i];
        ynode_where(item, w, sizeof w);
        if (item->kind != YNODE_SCALAR)
            return err_set(o->err, STRATA_ERR_CONFIG, "%s: model.freeze: expected layer names, got %s", w,
                           ynode_describe(item, d, sizeof d));
        layer_spec *l = find_layer(m, item->str);
        if (!l)
            return err_set(o->err, STRATA_ERR_CONFIG, "%s: model.freeze: no layer '%s' in this %s model "
                           "('strata summary' lists the layers)", w, item->str, m->desc);
        l->frozen = 1;
        snprintf(l->frozen_where, sizeof l->frozen_where, "%s", w);
    }
    return 0;
}

/* ---- the section ---------------------------------------------------------- */

static int parse_common(strata_opts *o, model_spec *m, int *arch)
{
    static const char *const arches[] = {"vgg", "alexnet", "layers", NULL};
    static const char *const inits[] = {"torchvision", "pytorch", NULL};
    long size[2], v;
    if (opts_choice(o, "arch", arches, -1, arch) == 1)
        return opts_error(o, "arch", "required: one of vgg, alexnet, layers");
    if (o->failed)
        return -1;
    snprintf(m->arch, sizeof m->arch, "%s", arches[*arch]);
    opts_int(o, "num_classes", *arch == 2 ? 0 : 1000, 1, 1000000, &v);
    m->num_classes = (int)v;
    const ynode *nc = ynode_get(o->map, "num_classes");
    ynode_where(nc ? nc : o->map, m->classes_where, sizeof m->classes_where);
    opts_int_pair(o, "input_size", 224, 1, 16384, size);
    m->in_h = (int)size[0];
    m->in_w = (int)size[1];
    opts_int(o, "in_channels", 3, 1, 4096, &v);
    m->in_c = (int)v;
    int init;
    opts_choice(o, "init", inits, *arch == 0 ? INIT_TORCHVISION : INIT_PYTORCH, &init);
    m->init = (init_scheme)init;
    const char *weights;
    opts_string(o, "weights", "", &weights);
    snprintf(m->weights, sizeof m->weights, "%s", weights);
    opts_bool(o, "strict", 1, &m->weights_strict);
    return o->failed ? -1 : 0;
}

int model_spec_parse(ynode *model, model_spec *m, strata_err *err)
{
    strata_opts o;
    int arch;
    memset(m, 0, sizeof *m);
    if (!model)
        return err_set(err, STRATA_ERR_CONFIG, "model: section missing (arch: vgg | alexnet | layers)");
    if (model->kind != YNODE_MAP) {
        char w[300];
        return err_set(err, STRATA_ERR_CONFIG, "%s: model: expected a mapping", ynode_where(model, w, sizeof w));
    }
    opts_init(&o, model, "model", err);
    if (parse_common(&o, m, &arch))
        return -1;
    int (*const builders[])(strata_opts *, model_spec *) = {build_vgg, build_alexnet, build_layers};
    if (builders[arch](&o, m) || o.failed || apply_edits(&o, m) || o.failed || apply_freeze(&o, m))
        return -1;
    char what[64];
    snprintf(what, sizeof what, "model (arch: %s)", m->arch);
    return opts_check_unused(&o, what);
}
