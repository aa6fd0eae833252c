/* evals.h — what `strata eval` measures and the per-class counts of
 * training's validation, in the schema-4 tables:
 *
 *   epoch_classes(run_id, epoch, class, n, correct)
 *   evals(id, run_id, checkpoint, data, created_at, loss, acc, n)
 *   eval_classes(eval_id, class, n, correct, precision, recall)
 *   eval_confusion(eval_id, true_class, pred_class, n)
 *   eval_predictions(eval_id, path, true_class, pred_class, prob)
 *
 * Classes are stored by name. Each function writes its rows in one
 * transaction; errors as in results.h. */
#ifndef STRATA_EVALS_H
#define STRATA_EVALS_H

#include <stdint.h>
#include "store/results.h"

/* Per-class counts of one pass over labelled images: n[c] images of true
 * class c, correct[c] of them predicted as c. */
typedef struct class_tally {
    int k;
    char *const *classes; /* k names */
    const long *n, *correct;
} class_tally;

/* The epoch's row (as results_epoch) and its epoch_classes rows, committed
 * together: a crash never leaves one without the other. */
int results_epoch_with_classes(results *r, int64_t run_id, const epoch_row *row, const class_tally *t,
                               strata_err *err);

/* One evaluation of a run's checkpoint (filled by core/train/evaluate.c). */
typedef struct eval_record {
    int64_t run_id;
    const char *checkpoint;         /* "best" or "last" */
    int epoch;                      /* the epoch the checkpoint is from; 0: unknown (stored as NULL) */
    char *data;                     /* "val", "train" or a folder's absolute path */
    long n;                         /* images evaluated */
    double loss, acc;
    int k;                          /* the run's classes */
    char **classes;                 /* k names */
    long *class_n, *class_correct;  /* per true class */
    double *precision, *recall;     /* per class; NAN where undefined (stored as NULL) */
    long *confusion;                /* k * k: [true * k + pred] */
    char **paths;                   /* n images, in the order evaluated */
    int *truth, *pred;              /* per image: its class and the predicted one */
    double *prob;                   /* per image: softmax probability of pred */
} eval_record;

/* Record e in evals, eval_classes (k rows), eval_confusion (k * k rows)
 * and eval_predictions (n rows), in one transaction; *eval_id gets the
 * new evals.id. */
int results_eval(results *r, const eval_record *e, int64_t *eval_id, strata_err *err);

/* The paths and labels of a run's recorded split ("train" or "val"), in
 * recorded order; *paths and *labels malloc'd (strings too). */
int results_run_split(results *r, int64_t run_id, const char *split, int *n, char ***paths, int **labels,
                      strata_err *err);

#endif
