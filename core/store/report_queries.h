/*
 * report_queries.h — the reads behind `strata report` and `strata plot
 * --confusion`: a run's summary row and hyper-parameters, its evaluations
 * (schema 4: evals, eval_classes, eval_confusion), its per-class counts of
 * the last validated epoch (epoch_classes) and the epochs it was resumed
 * after. Each fills a results_table (results.h); free it with
 * results_table_free.
 */
#ifndef STRATA_REPORT_QUERIES_H
#define STRATA_REPORT_QUERIES_H

#include "store/results.h"
#include "store/params.h" /* results_params_table */

/* The run's row of run_summary (every column of the view). */
int results_summary_row(results *r, int64_t run_id, results_table *out, strata_err *err);
/* One evaluation of the run: id, checkpoint, data, created_at, loss, acc,
 * n; the newest when eval_id is 0, else that one (no row when the run has
 * none, or eval_id is not one of the run's). */
int results_eval_row(results *r, int64_t run_id, int64_t eval_id, results_table *out, strata_err *err);
/* An evaluation's classes: class, n, correct, precision, recall; in the
 * run's class order. */
int results_eval_classes(results *r, int64_t eval_id, results_table *out, strata_err *err);
/* An evaluation's confusion counts: true_class, pred_class, n. */
int results_eval_confusion(results *r, int64_t eval_id, results_table *out, strata_err *err);
/* The run's epoch_classes rows of its last epoch that has some: epoch,
 * class, n, correct; in the run's class order. */
int results_last_epoch_classes(results *r, int64_t run_id, results_table *out, strata_err *err);
/* The epochs after which `strata resume` continued the run (run_resumes,
 * schema 5): one column, epoch. */
int results_resume_points(results *r, int64_t run_id, results_table *out, strata_err *err);

#endif
