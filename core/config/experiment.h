/* experiment.h — an experiment file: loaded with its includes and the
 * command line's -s overrides into one resolved tree, then every section
 * read and checked. */
#ifndef STRATA_EXPERIMENT_H
#define STRATA_EXPERIMENT_H

#include <stdint.h>
#include "model/model_spec.h"
#include "config/yaml_tree.h"

/* What an epoch is judged by: its val_acc (higher is better) or its
 * val_loss (lower is better). */
typedef enum { MONITOR_VAL_ACC, MONITOR_VAL_LOSS } monitor_kind;
/* "val_acc", "val_loss", NULL (a choices list for opts_choice). */
extern const char *const monitor_names[];

/* train.early_stopping: stop when `monitor` has not improved by more than
 * min_delta for `patience` epochs in a row (core/train/early_stop.h). */
typedef struct early_stop_cfg {
    int enabled;            /* the key is present */
    monitor_kind monitor;   /* default val_loss */
    int patience;           /* default 5 */
    double min_delta;       /* default 0 */
} early_stop_cfg;

typedef struct train_cfg {
    int epochs, batch_size, threads;
    uint64_t seed;
    double label_smoothing;
    double bucket_mb;      /* data-parallel training: gradient bucket size (MB, default 25) */
    early_stop_cfg early_stopping;
    monitor_kind checkpoint_monitor; /* what best.safetensors is best at (default val_acc) */
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
/* Is `assignment` of the form KEY.PATH=VALUE? The commands check each -s as
 * they read it, so `-s train.epochs 2` is reported as such. */
int experiment_override_syntax(const char *assignment, strata_err *err);

#endif
