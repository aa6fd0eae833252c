/*
 * report.h — one self-contained HTML page about some runs (`strata
 * report`): no network, no script, no external font or image. The page is
 * XHTML-compatible (every element closed, every attribute quoted, every
 * string from the database escaped), with
 *   - a table of the runs: id, name, model, parameters, the
 *     hyper-parameters that differ between them, best val_acc and its
 *     epoch, last val_acc, total time, images/s, status;
 *   - per group of runs (a sweep, or the runs outside sweeps, of one
 *     database) inline SVG
 *     charts: accuracy (train dashed, val solid), loss, learning rate, a
 *     ring on each run's best epoch, a tick where a run was resumed;
 *   - per run with an evaluation its confusion matrix and per-class
 *     precision and recall, else its per-class accuracy of the last epoch
 *     with per-class counts; nothing when it has neither;
 *   - the machine making the report (CPU model, ISA path, BLAS kernel,
 *     threads), the strata version, and each run's host and experiment
 *     file, in collapsible <details>.
 */
#ifndef STRATA_REPORT_H
#define STRATA_REPORT_H

#include "store/results.h"

/* One run of the page: run id of database db. The runs may come from
 * several databases; the page then names each run's database, and groups
 * its charts by database and sweep. */
typedef struct report_run {
    results *db;
    int64_t id;
} report_run;

/* What the page says besides the runs: its title (NULL: "strata
 * report"), and an introduction (NULL: none), plain text whose paragraphs
 * are separated by blank lines, shown under the title. */
typedef struct report_options {
    const char *title;
    const char *intro;
} report_options;

/* Write the page for runs[0..n) to path (atomically). */
int report_write(const report_run *runs, int n, const report_options *o, const char *path, strata_err *err);

#endif
