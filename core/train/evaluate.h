/* evaluate.h — `strata eval`'s work: a recorded run's network rebuilt from
 * its stored configuration, its best or last checkpoint loaded, and one
 * pass in eval mode over labelled images (the run's recorded val or train
 * split, or a folder of class folders), with the run's validation
 * augmentation and batch size. The loss, accuracy, per-class counts,
 * precision and recall, confusion matrix and every prediction are recorded
 * in the results database (store/evals.h) in one transaction. */
#ifndef STRATA_EVALUATE_H
#define STRATA_EVALUATE_H

#include <stdint.h>
#include "config/error.h"
#include "store/evals.h"

typedef struct eval_request {
    const char *db;          /* the results database */
    const char *run;         /* a run id, or the newest run of that name */
    const char *checkpoint;  /* "best" or "last" */
    const char *data_dir;    /* a folder of class folders, or NULL: the split */
    const char *split;       /* "val" or "train" (data_dir NULL) */
    int threads;             /* 0: the run's train.threads */
    const char *plugin_dir;  /* --plugin-dir, or NULL */
} eval_request;

typedef struct evaluation {
    eval_record rec;   /* what was measured and recorded */
    int64_t id;        /* its evals.id */
    char *run_name;
    char *weights;     /* the checkpoint file evaluated */
    int missing;       /* files of the recorded split gone from disk */
    int unreadable;    /* images skipped as unreadable (one warning each) */
} evaluation;

/* Evaluate and record. Errors: STRATA_ERR_CONFIG for bad input (unknown
 * run, a missing checkpoint, a class folder the run does not know, nothing
 * to evaluate), STRATA_ERR_RUNTIME for I/O and database failures. ev can be
 * freed either way. */
int evaluate_run(const eval_request *q, evaluation *ev, strata_err *err);
void evaluation_free(evaluation *ev);

#endif
