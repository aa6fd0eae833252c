/* params.h — a run's resolved configuration made queryable: as JSON in
 * runs.config_json and as flat rows run_params(run_id, key, value).
 *
 * Keys are the dotted paths of the tree: maps give "optimizer.lr", list
 * items "model.classifier.widths.0", ".1" ...; a list is also stored whole,
 * as JSON text, under its own key ("model.classifier.widths" = "[4096,4096]"),
 * so that `model.input_size` reads 64 or "[64,48]". Values are typed as the
 * YAML scalar is: integers as INTEGER, other numbers as REAL (so
 * `value < 3e-4` compares numerically), true/false as INTEGER 1/0, null as
 * NULL, anything else (and anything quoted) as TEXT. */
#ifndef STRATA_PARAMS_H
#define STRATA_PARAMS_H

#include <stdint.h>
#include "config/yaml_tree.h"
#include "store/results.h"

/* The tree as JSON text (malloc'd; NULL when out of memory): maps are
 * objects, lists arrays, scalars typed as above, numbers in their shortest
 * round-trip form. */
char *params_config_json(const ynode *root);

/* Record root as run_id's config_json and run_params, replacing what the
 * run had (a resumed run with new overrides). One savepoint: all or none. */
int results_run_params(results *r, int64_t run_id, const ynode *root, strata_err *err);

/* The same from the YAML text of runs.config (strata resume's new config). */
int results_run_params_yaml(results *r, int64_t run_id, const char *yaml, strata_err *err);

/* Schema version 4's back-fill: every run that has a config but no
 * config_json gets both from its YAML (runs recorded by strata before
 * version 4). A config that does not parse is left without (a warning on
 * stderr names the run). Runs inside the migration's transaction. */
int results_params_backfill(results *r, strata_err *err);

/* A run's run_params as a table (key, value), ordered by key. */
int results_params_table(results *r, int64_t run_id, results_table *out, strata_err *err);
/* runs.config_json of run_id (malloc'd; NULL when the run has none). */
int results_config_json(results *r, int64_t run_id, char **out, strata_err *err);

#endif
