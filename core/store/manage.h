/* manage.h — run management in the results store: tags and notes
 * (run_tags), and deleting a run's rows (strata tag, note, rm). */
#ifndef STRATA_MANAGE_H
#define STRATA_MANAGE_H

#include <stdint.h>
#include "store/results.h"

/* The tag key of `strata note`. */
#define RESULTS_NOTE_KEY "note"

/* Set run_id's tag key to value (created_at now), replacing an old value;
 * an empty value deletes the tag. An empty key is a configuration error. */
int results_tag_set(results *r, int64_t run_id, const char *key, const char *value, strata_err *err);

/* Set run_id's tags from command-line arguments "KEY=VALUE" (strata run
 * --tag, strata sweep --tag), split at the first '='; an argument without
 * '=' or with an empty KEY is a configuration error naming it. */
int results_tags_set_args(results *r, int64_t run_id, char *const *args, int n, strata_err *err);

/* A run's tags: key, value, created_at; ordered by key. */
int results_tags_table(results *r, int64_t run_id, results_table *out, strata_err *err);

/* Delete run_id's rows from every table (epochs, run_classes, run_samples,
 * run_skipped, run_params, run_tags, epoch_classes, evals and their
 * eval_classes, eval_confusion, eval_predictions, then runs) in one
 * transaction. Runs naming it as parent_id keep their rows and lose the
 * link. A run still 'running' is refused (results_open has already marked
 * 'interrupted' those whose process is gone). */
int results_run_delete(results *r, int64_t run_id, strata_err *err);

#endif
