/*
 * results.h — every run and every epoch, in one SQLite database.
 *
 * The schema is a public contract (users query it with the sqlite3 shell):
 *
 *   runs(id INTEGER PRIMARY KEY, name, experiment, config, model,
 *        status ('running'|'finished'|'failed'|'interrupted'),
 *        created_at, finished_at, seed, params, parent_id -> runs(id),
 *        sweep_id, host, pid, sweep_point, heartbeat_at)
 *   epochs(run_id -> runs(id), epoch, train_loss, train_acc, val_loss,
 *          val_acc, lr, seconds, images_per_sec, PRIMARY KEY(run_id, epoch))
 *   run_classes(run_id, idx, name)            the class list of a run
 *   run_samples(run_id, split, path, label)   the split used ('train'|'val')
 *   run_skipped(run_id, path, reason)         unreadable files skipped
 *   sweeps(id INTEGER PRIMARY KEY, file, grid, created_at)
 *
 * Timestamps are ISO-8601 UTC, 'YYYY-MM-DDTHH:MM:SSZ'. The database is in
 * WAL mode with a busy timeout, so another process (the sqlite3 shell, a
 * parallel run) can read and write while a run is going. The schema version
 * is PRAGMA user_version; results_open applies the migrations a database
 * lacks, each in its own transaction, and refuses a database written by a
 * newer strata. It also marks 'interrupted' the runs left 'running' by a
 * process that is gone (SIGKILL, crash): of this host, when the pid is not
 * alive; of another host, when its heartbeat is older than
 * RESULTS_STALE_SECONDS; without waiting for a locked database.
 *
 * Errors are values: functions return 0 or -1 and fill *err (which may be
 * NULL) with one line naming the database and what went wrong;
 * STRATA_ERR_CONFIG for bad input from the user, STRATA_ERR_RUNTIME for
 * I/O and database failures.
 */
#ifndef STRATA_RESULTS_H
#define STRATA_RESULTS_H

#include <stddef.h>
#include <stdint.h>
#include "config/error.h"

/* The schema version this strata writes (PRAGMA user_version). */
#define RESULTS_SCHEMA_VERSION 6

/* Where the database is by default: results.dir and results.db of an
 * experiment, and --db of the commands that read it. */
#define RESULTS_DEFAULT_DIR "results"
#define RESULTS_DEFAULT_FILE "strata.db"
#define RESULTS_DEFAULT_DB RESULTS_DEFAULT_DIR "/" RESULTS_DEFAULT_FILE

/* Seconds to wait for a database another process keeps locked (a writer in
 * the sqlite3 shell, a long checkpoint) before an operation fails; env
 * STRATA_DB_TIMEOUT overrides it. */
#define RESULTS_BUSY_TIMEOUT 300

/* An open database (opaque: only core/store touches SQLite). */
typedef struct results results;

/* Open (creating it, and its parent directory, if missing) and migrate. */
int results_open(const char *path, results **out, strata_err *err);
/* Open a database that must exist already (the commands that read runs):
 * a missing file is a configuration error naming --db. */
int results_open_existing(const char *path, results **out, strata_err *err);
void results_close(results *r);

typedef struct run_info {
    const char *name, *experiment, *config, *model;
    int64_t seed, params;
    int64_t parent_id; /* 0 = none */
    int64_t sweep_id;  /* 0 = none */
    const char *sweep_point; /* the point's overrides, "k=v;k=v" (NULL = none) */
    int ranks;               /* MPI processes training it (0 = 1) */
    const char *hosts;       /* their host names, comma-separated (NULL = none recorded) */
} run_info;

/* A new run: status 'running', created_at now, host and pid of this process. */
int results_run_begin(results *r, const run_info *info, int64_t *run_id,
                      strata_err *err);
/* The class list: names[i] is class i. One transaction. */
int results_run_classes(results *r, int64_t run_id, int n, char *const *names,
                        strata_err *err);
/* The samples of one split ("train" or "val"). One transaction. */
int results_run_samples(results *r, int64_t run_id, const char *split, int n,
                        char *const *paths, const int *labels,
                        strata_err *err);
/* Files skipped as unreadable, with the reason. One transaction. */
int results_run_skipped(results *r, int64_t run_id, int n, char *const *paths,
                        char *const *reasons, strata_err *err);

/* Forget the run's classes, samples and skipped files (a run restarted from
 * epoch 1 records them again). One transaction. */
int results_run_data_clear(results *r, int64_t run_id, strata_err *err);

typedef struct epoch_row {
    int epoch;
    double train_loss, train_acc, val_loss, val_acc, lr, seconds,
        images_per_sec;
} epoch_row;

/* One epoch, committed at once. An epoch already recorded is an error. */
int results_epoch(results *r, int64_t run_id, const epoch_row *row,
                  strata_err *err);
/* Record that `strata resume` continues run_id after epoch (run_resumes). */
int results_run_resumed(results *r, int64_t run_id, int epoch, strata_err *err);
/* Forget the epochs after `epoch`: their epochs, epoch_classes and
 * run_resumes rows, in one transaction (resuming from an older checkpoint). */
int results_epochs_truncate(results *r, int64_t run_id, int epoch,
                            strata_err *err);
/* 'running', 'finished', 'failed' or 'interrupted'; the last three also set
 * finished_at ('running' clears it and records this process's host and
 * pid: a resumed run). */
int results_run_status(results *r, int64_t run_id, const char *status,
                       strata_err *err);
/* heartbeat_at = now: the process training the run is alive (every
 * minute). Never waits for a locked database (a missed beat is harmless). */
#define RESULTS_HEARTBEAT_SECONDS 60
/* A run of another host without a heartbeat for this long is shown as
 * 'interrupted' (results_open marks it). */
#define RESULTS_STALE_SECONDS 900
int results_heartbeat(results *r, int64_t run_id, strata_err *err);
/* The MPI processes (and their hosts, NULL: none recorded) that train the
 * run now (resume with another rank count). */
int results_run_ranks(results *r, int64_t run_id, int ranks, const char *hosts, strata_err *err);
/* Replace the stored config (used by resume). */
int results_run_config(results *r, int64_t run_id, const char *config,
                       strata_err *err);

/* One row of runs. Strings are owned (free with run_record_free) and NULL
 * where the column is NULL (finished_at of a running run); integers that
 * are NULL read as 0. */
typedef struct run_record {
    int64_t id, seed, params, parent_id, sweep_id, pid;
    char *name, *experiment, *config, *model, *status, *created_at,
        *finished_at, *host;
    int64_t ranks;     /* MPI processes that trained it (1: one process) */
    char *hosts;       /* their hosts, comma-separated (NULL: one process) */
} run_record;

int results_get_run(results *r, int64_t run_id, run_record *out,
                    strata_err *err);
void run_record_free(run_record *rec);
/* The highest epoch recorded for the run; 0 when none. */
int results_last_epoch(results *r, int64_t run_id, int *epoch,
                       strata_err *err);
/* A numeric id of an existing run, else the newest run with that name. */
int results_find_run(results *r, const char *name_or_id, int64_t *run_id,
                     strata_err *err);
/* The path the database was opened with. */
const char *results_path(const results *r);

/* ---- reading runs back as tables (strata runs, show, compare) ----------- */

typedef enum results_type { RESULTS_NULL, RESULTS_INT, RESULTS_REAL, RESULTS_TEXT } results_type;

typedef struct results_value {
    results_type type;
    int64_t i;   /* RESULTS_INT */
    double d;    /* RESULTS_REAL */
    char *s;     /* RESULTS_TEXT (owned by the table) */
} results_value;

/* A query's result, read in full: n_cols named columns, n_rows rows,
 * cells[row * n_cols + col]. Free with results_table_free. */
typedef struct results_table {
    int n_cols, n_rows;
    char **names;
    results_value *cells;
} results_table;

void results_table_free(results_table *t);
static inline const results_value *results_cell(const results_table *t, int row, int col)
{
    return &t->cells[(size_t)row * t->n_cols + col];
}

/* One row per run of the run_summary view: id, name, model, status, epochs,
 * best_val_acc, best_epoch, seconds; ordered by id. where (may be NULL) is
 * an SQL condition over the view's columns from the user (a bad one is a
 * configuration error naming --where); sweep (may be NULL) keeps the runs of
 * that sweep id; tag_key (may be NULL) the runs with that tag, of value
 * tag_value (NULL: any value). */
int results_runs_table(results *r, const char *where, const char *sweep, const char *tag_key, const char *tag_value,
                       results_table *out, strata_err *err);
/* A run's epochs: epoch, train_loss, train_acc, val_loss, val_acc, lr,
 * seconds, images_per_sec; ordered by epoch. */
int results_epochs_table(results *r, int64_t run_id, results_table *out, strata_err *err);
/* The runs ids[0..n) side by side on one metric (results_metrics):
 * `epochs` has the column epoch and one column "run ID METRIC" per run
 * (NULL where a run lacks that epoch); `best` has run, name, model,
 * best_METRIC (the highest accuracy or images/s, the lowest loss, lr or
 * seconds), best_epoch and difference (to the first run's best), one row
 * per run, ordered by id. */
int results_compare_tables(results *r, const int64_t *ids, int n, const char *metric, results_table *epochs,
                           results_table *best, strata_err *err);

/* ---- curves (strata plot) ----------------------------------------------- */

/* The columns of epochs a curve can show (NULL-terminated): val_acc,
 * train_acc, val_loss, train_loss, lr, seconds, images_per_sec. */
extern const char *const results_metrics[];
int results_metric_known(const char *metric);
/* A run's metric by epoch: *n points, x the epoch, y the value (NaN where
 * NULL); *x and *y malloc'd (NULL when n is 0). */
int results_series(results *r, int64_t run_id, const char *metric, int *n, double **x, double **y,
                   strata_err *err);

/* ---- sweeps (strata sweep) ---------------------------------------------- */

/* The newest sweep of (file, grid, overrides) into *id. When there is
 * none: create RESULTS_SWEEP_FIND leaves *id 0, RESULTS_SWEEP_CREATE
 * records a new one; RESULTS_SWEEP_NEW always records a new one. *other:
 * the sweep found (== *id when continued; with other overrides, or the one
 * RESULTS_SWEEP_NEW did not continue, when *id is new), 0 if none.
 * overrides: the canonical text of the command line's -s options. */
enum { RESULTS_SWEEP_FIND, RESULTS_SWEEP_CREATE, RESULTS_SWEEP_NEW };
int results_sweep_find(results *r, const char *file, const char *grid, const char *overrides, int create,
                       int64_t *id, int64_t *other, strata_err *err);
/* A sweep's points from the sweep_summary view, one row per run: point,
 * run_id, status, best_val_acc, best_epoch. */
int results_sweep_table(results *r, int64_t sweep_id, results_table *out, strata_err *err);

/* runs.stop_reason (NULL clears it): why the run ended, one line. */
int results_run_stop_reason(results *r, int64_t run_id, const char *reason, strata_err *err);
/* It back (*reason malloc'd, NULL when none). */
int results_run_stop_reason_get(results *r, int64_t run_id, char **reason, strata_err *err);

/* Where one point of a sweep stands: its newest run (0 = none), that run's
 * status and the epochs it recorded. */
typedef struct results_point {
    int64_t run_id;
    char status[16];
    int epochs;
} results_point;

int results_sweep_point(results *r, int64_t sweep_id, const char *label, results_point *out, strata_err *err);

#endif
