/* experiment.c — see experiment.h */
#define _GNU_SOURCE
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config/experiment.h"
#include "config/opts.h"
#include "data/image.h"
#include "store/results.h" /* RESULTS_DEFAULT_DIR, RESULTS_DEFAULT_FILE */

#define MAX_INCLUDE_DEPTH 8

/* The path of `inc` relative to the directory of `from`. */
static void relative_to(const char *from, const char *inc, char *out, size_t size)
{
    if (inc[0] == '/') {
        snprintf(out, size, "%s", inc);
        return;
    }
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", from);
    snprintf(out, size, "%s/%s", dirname(tmp), inc);
}

/* The files being included, outermost first (to report cycles). */
typedef struct include_chain {
    int n;
    char real[MAX_INCLUDE_DEPTH + 1][PATH_MAX];
} include_chain;

static ynode *resolve(const char *path, include_chain *chain, strata_err *err);

static int merge_include(ynode *acc, const char *from, const ynode *inc, include_chain *chain, strata_err *err)
{
    char w[300], path[PATH_MAX];
    if (inc->kind != YNODE_SCALAR)
        return err_set(err, STRATA_ERR_CONFIG, "%s: include: expected a file name or a list of file names",
                       ynode_where(inc, w, sizeof w));
    relative_to(from, inc->str, path, sizeof path);
    ynode *sub = resolve(path, chain, err);
    if (!sub) {
        char m[sizeof err->msg];
        snprintf(m, sizeof m, "%s", err->msg);
        return err_set(err, STRATA_ERR_CONFIG, "%s: include: %s", ynode_where(inc, w, sizeof w), m);
    }
    ynode_merge(acc, sub);
    ynode_free(sub);
    return 0;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Refuse a file already on the chain, or a chain too deep; else push it. */
static int chain_push(include_chain *chain, const char *path, strata_err *err)
{
    char real[PATH_MAX];
    if (!realpath(path, real))
        snprintf(real, sizeof real, "%s", path);
    for (int i = 0; i < chain->n; i++)
        if (strcmp(chain->real[i], real) == 0) {
            char cycle[900] = "";
            for (int j = i; j < chain->n; j++) {
                size_t len = strlen(cycle);
                snprintf(cycle + len, sizeof cycle - len, "%s -> ", base_name(chain->real[j]));
            }
            return err_set(err, STRATA_ERR_CONFIG, "include cycle: %s%s", cycle, base_name(real));
        }
    if (chain->n > MAX_INCLUDE_DEPTH)
        return err_set(err, STRATA_ERR_CONFIG, "%s: includes nested deeper than %d", path, MAX_INCLUDE_DEPTH);
    snprintf(chain->real[chain->n++], PATH_MAX, "%s", real);
    return 0;
}

ynode *experiment_resolve_file(const char *path, strata_err *err)
{
    include_chain chain = {0};
    return resolve(path, &chain, err);
}

static ynode *resolve(const char *path, include_chain *chain, strata_err *err)
{
    if (chain_push(chain, path, err))
        return NULL;
    ynode *doc = yaml_load_file(path, err);
    if (doc && !ynode_get(doc, "include"))
        chain->n--;
    if (!doc)
        return NULL;
    char w[300];
    if (doc->kind != YNODE_MAP) {
        err_set(err, STRATA_ERR_CONFIG, "%s: an experiment is a mapping of sections (model:, train: ...)",
                ynode_where(doc, w, sizeof w));
        ynode_free(doc);
        return NULL;
    }
    ynode *inc = ynode_get(doc, "include");
    if (!inc)
        return doc;
    ynode *acc = ynode_new(YNODE_MAP, path, 1, 1);
    int rc = 0;
    if (inc->kind == YNODE_SEQ)
        for (int i = 0; i < inc->n && !rc; i++)
            rc = merge_include(acc, path, inc->items[i], chain, err);
    else
        rc = merge_include(acc, path, inc, chain, err);
    chain->n--;
    ynode_del(doc, "include");
    if (!rc)
        ynode_merge(acc, doc);
    ynode_free(doc);
    if (rc) {
        ynode_free(acc);
        return NULL;
    }
    return acc;
}

/* 1 if s[0..n) is well-formed UTF-8 (no overlong forms, surrogates or code
 * points past U+10FFFF), as libyaml requires of every scalar it writes. */
static int utf8_valid(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (!len || i + len > n)
            return 0;
        unsigned cp = len == 1 ? c : c & (0x7f >> len);
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        static const unsigned min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += len;
    }
    return 1;
}

int experiment_override_syntax(const char *assignment, strata_err *err)
{
    const char *eq = strchr(assignment, '=');
    if (!eq)
        return err_set(err, STRATA_ERR_CONFIG, "-s %.200s: expected KEY.PATH=VALUE, one argument with '=' "
                       "(e.g. -s %.200s=VALUE)", assignment, assignment[0] ? assignment : "train.epochs");
    if (eq == assignment)
        return err_set(err, STRATA_ERR_CONFIG, "-s %.200s: expected KEY.PATH=VALUE (no key before '=')", assignment);
    return 0;
}

int experiment_override(ynode *root, const char *assignment, strata_err *err)
{
    const char *eq = strchr(assignment, '=');
    if (experiment_override_syntax(assignment, err))
        return -1;
    char key[512];
    if ((size_t)(eq - assignment) >= sizeof key)
        return err_set(err, STRATA_ERR_CONFIG, "-s: the key path is %d bytes long, expected at most %d",
                       (int)(eq - assignment), (int)sizeof key - 1);
    if (!utf8_valid((const unsigned char *)assignment, (size_t)(eq - assignment)))
        return err_set(err, STRATA_ERR_CONFIG, "-s: the key path is not valid UTF-8");
    snprintf(key, sizeof key, "%.*s", (int)(eq - assignment), assignment);
    char name[600];
    snprintf(name, sizeof name, "-s %s", key);
    ynode *val = yaml_load_string(eq + 1, name, err);
    if (!val)
        return -1;
    if (val->kind == YNODE_MAP && val->n == 0 && eq[1] == '\0') {
        ynode_free(val);
        val = ynode_scalar("", name, 1, 1);
    }
    return ynode_assign(root, key, val, err);
}

/* ---- sections ------------------------------------------------------------- */

const char *const monitor_names[] = {"val_acc", "val_loss", NULL};

/* train.early_stopping: {monitor, patience, min_delta}; absent or null: off. */
static int read_early_stopping(strata_opts *train, early_stop_cfg *es)
{
    strata_opts o;
    long v;
    int m;
    memset(es, 0, sizeof *es);
    if (opts_child(train, "early_stopping", &o) < 0)
        return -1;
    es->enabled = o.map != NULL;
    opts_choice(&o, "monitor", monitor_names, MONITOR_VAL_LOSS, &m);
    es->monitor = (monitor_kind)m;
    opts_int(&o, "patience", 5, 1, 1000000, &v);
    es->patience = (int)v;
    opts_float(&o, "min_delta", 0.0, 0.0, 1e6, &es->min_delta);
    return o.failed ? -1 : opts_check_unused(&o, "train.early_stopping");
}

static int read_train(strata_opts *root, train_cfg *t)
{
    strata_opts o;
    long v;
    if (opts_child(root, "train", &o) < 0)
        return -1;
    opts_int(&o, "epochs", 10, 1, 1000000, &v);
    t->epochs = (int)v;
    opts_int(&o, "batch_size", 32, 1, 65536, &v);
    t->batch_size = (int)v;
    opts_int(&o, "threads", 2, 1, 256, &v);
    t->threads = (int)v;
    opts_int(&o, "seed", 0, 0, (1L << 62), &v);
    t->seed = (uint64_t)v;
    opts_float(&o, "label_smoothing", 0.0, 0.0, 0.999, &t->label_smoothing);
    opts_float(&o, "bucket_mb", 25.0, 0.001, 1e6, &t->bucket_mb); /* MPI gradient buckets (core/dist) */
    int m;
    opts_choice(&o, "checkpoint_monitor", monitor_names, MONITOR_VAL_ACC, &m);
    t->checkpoint_monitor = (monitor_kind)m;
    if (o.failed || read_early_stopping(&o, &t->early_stopping))
        return -1;
    return opts_check_unused(&o, "train");
}

static int read_data(strata_opts *root, data_cfg *d)
{
    strata_opts o;
    long v;
    if (opts_child(root, "data", &o) < 0)
        return -1;
    opts_string(&o, "root", NULL, &d->root);
    opts_string(&o, "train", NULL, &d->train);
    opts_string(&o, "val", NULL, &d->val);
    opts_float(&o, "val_fraction", 0.1, 0.0, 0.99, &d->val_fraction);
    opts_int(&o, "split_seed", 0, 0, (1L << 62), &v);
    d->split_seed = (uint64_t)v;
    opts_int(&o, "workers", 0, 0, 256, &v);
    d->workers = (int)v;
    opts_int(&o, "max_pixels", IMAGE_DEFAULT_MAX_PIXELS, 1, IMAGE_MAX_PIXELS_LIMIT, &v);
    d->max_pixels = v;
    if (o.failed)
        return -1;
    if (d->root && (d->train || d->val))
        return opts_error(&o, "root", "give either root (split by val_fraction) or train and val folders, not both");
    if (!d->root && (!d->train) != (!d->val))
        return opts_error(&o, d->train ? "val" : "train", "required together with %s", d->train ? "train" : "val");
    return opts_check_unused(&o, "data");
}

static int read_results(strata_opts *root, results_cfg *r)
{
    strata_opts o;
    if (opts_child(root, "results", &o) < 0)
        return -1;
    opts_string(&o, "dir", RESULTS_DEFAULT_DIR, &r->dir);
    opts_string(&o, "db", RESULTS_DEFAULT_FILE, &r->db);
    if (o.failed)
        return -1;
    if (!r->dir[0] || !r->db[0])
        return opts_error(&o, r->dir[0] ? "db" : "dir", "expected a non-empty path");
    if (r->db[0] == '/')
        snprintf(r->db_path, sizeof r->db_path, "%s", r->db);
    else
        snprintf(r->db_path, sizeof r->db_path, "%s/%s", r->dir, r->db);
    return opts_check_unused(&o, "results");
}

/* The optimizer section: `name` and `schedule` are the host's, the rest
 * goes to the plugin (checked when the plugin is created). */
static int read_optimizer(strata_opts *root, optimizer_cfg *c)
{
    strata_opts o;
    if (opts_child(root, "optimizer", &o) < 0)
        return -1;
    opts_string(&o, "name", "sgd", &c->name);
    if (opts_node(&o, "schedule", YNODE_MAP, &c->schedule) < 0)
        return -1;
    if (o.failed)
        return -1;
    c->opts = o.map ? ynode_clone(o.map) : ynode_new(YNODE_MAP, root->map->file, 1, 1);
    ynode_del(c->opts, "name");
    ynode_del(c->opts, "schedule");
    if (o.map)
        for (int i = 0; i < o.map->n; i++)
            o.map->items[i]->used = 1; /* the plugin checks its own keys */
    return 0;
}

static int read_augment(strata_opts *root, experiment *x)
{
    strata_opts o;
    if (opts_child(root, "augment", &o) < 0)
        return -1;
    if (opts_node(&o, "train", YNODE_SEQ, &x->augment_train) < 0 || opts_node(&o, "val", YNODE_SEQ, &x->augment_val) < 0)
        return -1;
    return opts_check_unused(&o, "augment");
}

static int read_sweep(strata_opts *root, experiment *x)
{
    strata_opts o;
    if (opts_child(root, "sweep", &o) < 0)
        return -1;
    x->sweep = o.map;
    if (!o.map)
        return 0;
    ynode *grid, *points;
    if (opts_node(&o, "grid", YNODE_MAP, &grid) < 0 || opts_node(&o, "points", YNODE_SEQ, &points) < 0)
        return -1;
    for (int i = 0; grid && i < grid->n; i++) {
        strata_opts g;
        opts_init(&g, grid, "sweep.grid", o.err);
        if (grid->items[i]->kind != YNODE_SEQ || grid->items[i]->n == 0)
            return opts_error(&g, grid->keys[i], "expected a non-empty list of values to sweep over");
    }
    for (int i = 0; points && i < points->n; i++)
        if (points->items[i]->kind != YNODE_MAP)
            return opts_error(&o, "points", "item %d: expected a mapping of overrides (key.path: value)", i);
    if (!grid && !points)
        return opts_error(&o, NULL, "expected a grid (key: [values]) or points (a list of override sets)");
    return opts_check_unused(&o, "sweep");
}

static int read_top(strata_opts *o, experiment *x)
{
    const char *name, *desc;
    char base[256];
    snprintf(base, sizeof base, "%s", x->path);
    char *b = strrchr(base, '/');
    b = b ? b + 1 : base;
    char *dot = strstr(b, ".yaml");
    if (dot)
        *dot = '\0';
    opts_string(o, "name", b, &name);
    opts_string(o, "description", "", &desc);
    snprintf(x->name, sizeof x->name, "%s", name);
    return o->failed ? -1 : 0;
}

int experiment_from_tree(ynode *root, const char *path, experiment *x, strata_err *err)
{
    memset(x, 0, sizeof *x);
    x->path = strdup(path);
    x->root = root;
    strata_opts o;
    opts_init(&o, root, "", err);
    if (read_top(&o, x))
        return -1;
    ynode *model;
    opts_node(&o, "model", YNODE_MAP, &model);
    if (o.failed)
        return -1;
    if (!model)
        return err_set(err, STRATA_ERR_CONFIG, "%s: model: section missing (arch: vgg | alexnet | layers)", path);
    if (model_spec_parse(model, &x->model, err))
        return -1;
    if (read_train(&o, &x->train) || read_data(&o, &x->data) || read_results(&o, &x->results) ||
        read_optimizer(&o, &x->optimizer) || read_augment(&o, x) || read_sweep(&o, x))
        return -1;
    return opts_check_unused(&o, "an experiment (sections: name, description, include, model, data, augment, "
                                 "optimizer, train, results, sweep)");
}

int experiment_load(const char *path, char *const *overrides, int n_overrides, experiment *x, strata_err *err)
{
    memset(x, 0, sizeof *x);
    ynode *root = experiment_resolve_file(path, err);
    if (!root)
        return -1;
    for (int i = 0; i < n_overrides; i++)
        if (experiment_override(root, overrides[i], err)) {
            ynode_free(root);
            return -1;
        }
    return experiment_from_tree(root, path, x, err);
}

void experiment_free(experiment *x)
{
    model_spec_free(&x->model);
    ynode_free(x->optimizer.opts);
    ynode_free(x->root);
    free(x->path);
    memset(x, 0, sizeof *x);
}
