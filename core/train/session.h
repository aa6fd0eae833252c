/* session.h — everything one training run holds: the experiment, the
 * network, the optimizer, the data and their loaders, the step's memory and
 * the results database; and the epoch loop over them. `strata run` prepares
 * a session and trains it from epoch 1; `strata resume` (later) restores one
 * from a checkpoint and goes on. */
#ifndef STRATA_SESSION_H
#define STRATA_SESSION_H

#include "data/augment.h"
#include "data/dataset.h"
#include "config/experiment.h"
#include "data/loader.h"
#include "model/plugins.h"
#include "store/results.h"
#include "train/assemble.h"
#include "store/checkpoint.h"
#include "train/class_counts.h"
#include "dist/buckets.h"
#include "train/run_forward.h"

typedef struct session {
    experiment x;
    plugin_registry reg;
    assembly m;        /* network, optimizer, trainer (assemble.h) */
    dataset all, train, val;
    aug_pipeline aug_train, aug_val;
    loader *train_loader, *val_loader;
    results *db;
    int64_t run_id;
    int64_t sweep_id;        /* set before session_begin_run for a sweep's point */
    const char *sweep_point;
    int progress_bar;  /* live bar on stderr (a terminal) */
    int *labels;
    char *config;      /* the resolved experiment as YAML (session_config) */
    train_state state; /* epoch, step, best so far (saved with checkpoints) */
    int failed_recorded;              /* photos that failed to decode, recorded */
    int failed_shared;                /* ... known to every rank (share_failed_photos) */
    char *train_failed, *val_failed;  /* per photo: recorded in run_skipped */
    double last_beat;                 /* when the run's heartbeat was last recorded */
    int beat_warned;
    class_counts val_counts;          /* the epoch's validation per class (epoch_classes) */
    int stop_epoch;                   /* the epoch in hand when interrupted */
    char stop_reason[256];            /* why session_train ended (runs.stop_reason) */
    grad_buckets buckets;             /* data-parallel training (more than one rank) */
    int peer_failed;                  /* err is another rank's failure (that rank printed it) */
    int forward;                      /* no database: the run's writes go to world rank 0 (a sweep's
                                         worker under mpirun, run_forward.h); set before session_begin_run */
} session;

/* Load and check everything (no database row yet). Returns 0, or -1 with
 * err set; s can be freed either way. */
int session_prepare(session *s, const char *path, char *const *sets, int n_sets, const char *plugin_dir,
                    strata_err *err);
/* The same from a resolved tree (a run's stored config); takes root. */
int session_prepare_tree(session *s, ynode *root, const char *path, const char *plugin_dir, strata_err *err);
/* Check a configuration as far as it can be without data: the experiment,
 * the plugins and their options, the augmentation. Takes root. */
int session_check_tree(ynode *root, const char *path, const char *plugin_dir, strata_err *err);
/* The resolved experiment as YAML text, made once (stored with the run and
 * in every checkpoint). */
const char *session_config(session *s);
/* Data-parallel training (core/dist): rc (0 or -1) of this rank agreed
 * over the ranks; -1 on every rank when any failed, err on the ranks that
 * did not fail saying so (s->peer_failed set: the failed rank prints the
 * message), err->status the highest of the failures' on every rank (the
 * exit status). One process: rc. */
int session_agree(session *s, int rc, strata_err *err);

/* On rank 0 only (the other ranks never open the database): open the
 * database and record the run (status running, classes, split); with
 * s->forward, world rank 0 records it instead. */
int session_begin_run(session *s, const char *name, strata_err *err);
/* Record the run's classes, split and skipped files (session_begin_run
 * does; resume too when it restarts a run killed before its first epoch). */
int session_record_data(session *s, strata_err *err);
/* A resumed run's database steps (run_forward.h's run_reopen), to s->db
 * or forwarded. */
int session_record_reopen(session *s, const run_reopen *r, strata_err *err);
/* The epoch row of the checkpoint just loaded (s->state.row), with its
 * epoch_classes when it has counts for the run's classes (a checkpoint of
 * an older strata has none: a warning, the row alone). */
int session_record_checkpointed_epoch(session *s, strata_err *err);
/* The run's status and s->stop_reason. */
int session_record_end(session *s, const char *status, strata_err *err);
/* Train epochs first..last (1-based, inclusive), one `epochs` row each;
 * fewer when train.early_stopping ends the run (stop_reason says so).
 * Returns 0, 1 when interrupted (the run is marked so), -1 on error. */
int session_train(session *s, int first, int last, strata_err *err);
/* session_train, then the run's final status (finished, interrupted or
 * failed) and stop_reason. Returns 0, 1 when interrupted (err says so and
 * gives the resume command), -1 on error. */
int session_run_epochs(session *s, int first, int last, strata_err *err);
void session_free(session *s);

/* Ctrl-C / SIGTERM: finish the batch in hand, then stop. Commands install
 * this first thing, so a run is never left 'running' by a signal. */
void session_catch_signals(void);
/* Has a stop been requested? */
int session_stopping(void);
/* The signal that requested it ("SIGINT", "SIGTERM"; NULL when none). */
const char *session_stop_signal(void);

#endif
