/* report_queries.c — the reads of `strata report` (report_queries.h). */
#include <stdio.h>
#include <string.h>
#include "store/report_queries.h"
#include "store/results_sqlite.h"

int results_summary_row(results *r, int64_t run_id, results_table *out, strata_err *err)
{
    return results_run_rows(r, "SELECT * FROM run_summary WHERE run_id = ?1", run_id, out, "reading run_summary", err);
}

int results_eval_row(results *r, int64_t run_id, int64_t eval_id, results_table *out, strata_err *err)
{
    if (eval_id == 0)
        return results_run_rows(r, "SELECT id, checkpoint, epoch, data, created_at, loss, acc, n FROM evals"
                              " WHERE run_id = ?1 ORDER BY id DESC LIMIT 1", run_id, out, "reading evals", err);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT id, checkpoint, epoch, data, created_at, loss, acc, n FROM evals"
                              " WHERE id = ?1 AND run_id = %lld", (long long)run_id);
    return results_run_rows(r, sql, eval_id, out, "reading evals", err);
}

int results_eval_classes(results *r, int64_t eval_id, results_table *out, strata_err *err)
{
    return results_run_rows(r, "SELECT c.class, c.n, c.correct, c.precision, c.recall FROM eval_classes c"
                          " JOIN evals e ON e.id = c.eval_id LEFT JOIN run_classes k"
                          " ON k.run_id = e.run_id AND k.name = c.class"
                          " WHERE c.eval_id = ?1 ORDER BY k.idx, c.class", eval_id, out, "reading eval_classes", err);
}

int results_eval_confusion(results *r, int64_t eval_id, results_table *out, strata_err *err)
{
    return results_run_rows(r, "SELECT true_class, pred_class, n FROM eval_confusion WHERE eval_id = ?1", eval_id, out,
                       "reading eval_confusion", err);
}

int results_last_epoch_classes(results *r, int64_t run_id, results_table *out, strata_err *err)
{
    return results_run_rows(r, "SELECT c.epoch, c.class, c.n, c.correct FROM epoch_classes c"
                          " LEFT JOIN run_classes k ON k.run_id = c.run_id AND k.name = c.class"
                          " WHERE c.run_id = ?1 AND c.epoch = (SELECT max(epoch) FROM epoch_classes WHERE run_id = ?1)"
                          " ORDER BY k.idx, c.class", run_id, out, "reading epoch_classes", err);
}

int results_resume_points(results *r, int64_t run_id, results_table *out, strata_err *err)
{
    return results_run_rows(r, "SELECT epoch FROM run_resumes WHERE run_id = ?1 AND epoch > 0 ORDER BY epoch", run_id, out,
                       "reading the run's resumes", err);
}
