/*
 * run_data.h — what `strata report` and `strata plot --confusion` show of
 * one run, read from the results store: its runs row, run_summary row,
 * hyper-parameters, curves, resume points, newest evaluation (with its
 * classes and confusion matrix) and the per-class counts of its last
 * validated epoch.
 */
#ifndef STRATA_RUN_DATA_H
#define STRATA_RUN_DATA_H

#include "store/results.h"

enum { RUN_TRAIN_ACC, RUN_VAL_ACC, RUN_TRAIN_LOSS, RUN_VAL_LOSS, RUN_LR, RUN_METRICS };
extern const char *const run_metric_names[RUN_METRICS];

typedef struct run_confusion {
    int n;          /* classes (0: the run has no evaluation) */
    char **names;   /* names[k] */
    int64_t *count; /* count[t * n + p] */
    int64_t eval_id;
} run_confusion;

typedef struct run_data {
    int64_t id;
    const char *db;              /* the database's path (owned by its handle) */
    run_record rec;
    results_table summary;       /* one row of run_summary */
    results_table params;        /* key, value */
    results_table tags;          /* key, value, created_at (the note is the tag "note") */
    results_table eval;          /* id, checkpoint, data, created_at, loss, acc, n; 0 or 1 row */
    results_table eval_classes;  /* class, n, correct, precision, recall */
    results_table epoch_classes; /* epoch, class, n, correct */
    run_confusion confusion;
    int n_epochs;
    double *epoch, *metric[RUN_METRICS];
    int n_resumes;
    double *resumes;
} run_data;

/* Everything above for run id (its newest evaluation). */
int run_data_load(results *db, int64_t id, run_data *d, strata_err *err);
void run_data_free(run_data *d);

/* The confusion matrix of evaluation eval_id of run id (0: the newest);
 * c->n = 0 when there is none. */
int run_confusion_load(results *db, int64_t id, int64_t eval_id, run_confusion *c, strata_err *err);
void run_confusion_free(run_confusion *c);

/* The cell of column `name` of row 0 of t (NULL when absent or no row). */
const results_value *table_field(const results_table *t, int row, const char *name);
/* The cell as text ("" for NULL) into buf. */
const char *value_text(const results_value *v, char *buf, int size);

#endif
