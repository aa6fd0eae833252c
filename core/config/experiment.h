/* experiment.h — an experiment file: loaded with its includes and the
 * command line's -s overrides into one resolved tree, then every section
 * read and checked. */
#ifndef STRATA_EXPERIMENT_H
#define STRATA_EXPERIMENT_H

#include <stdint.h>
#include "model/model_spec.h"
#include "config/yaml_tree.h"

typedef struct train_cfg {
    int epochs, batch_size, threads;
    uint64_t seed;
    double label_smoothing;
} train_cfg;

typedef struct data_cfg {
    const char *root;       /* one folder, split by val_fraction */
    const char *train, *val; /* or two folders */
    double val_fraction;
    uint64_t split_seed;
    int workers;            /* decoding threads (0: train.threads) */
    long max_pixels;        /* images larger (width x height) are refused */
} data_cfg;

typedef struct results_cfg {
    const char *dir;
    const char *db;
    char db_path[4096];     /* dir/db, or db when absolute */
} results_cfg;

typedef struct optimizer_cfg {
    const char *name;       /* the optimizer plugin */
    ynode *opts;            /* its hyper-parameters (owned copy without name/schedule) */
    ynode *schedule;        /* the schedule mapping or NULL */
} optimizer_cfg;

typedef struct experiment {
    char *path;
    char name[128];
    ynode *root;            /* resolved tree */
    model_spec model;
    train_cfg train;
    data_cfg data;
    results_cfg results;
    optimizer_cfg optimizer;
    ynode *augment_train, *augment_val; /* lists, or NULL */
    ynode *sweep;           /* the sweep section or NULL */
} experiment;

/* Load path, apply includes (relative to the including file; later keys
 * win) and overrides ("key.path=value", value parsed as YAML), then check
 * every section. */
int experiment_load(const char *path, char *const *overrides, int n_overrides, experiment *x, strata_err *err);
/* Load from an already resolved tree (e.g. a run's stored config). Takes root. */
int experiment_from_tree(ynode *root, const char *path, experiment *x, strata_err *err);
void experiment_free(experiment *x);

/* Resolve includes of a freshly loaded file tree (exposed for tests). */
ynode *experiment_resolve_file(const char *path, strata_err *err);
int experiment_override(ynode *root, const char *assignment, strata_err *err);

#endif
