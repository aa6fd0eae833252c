/* resume_run.h — continuing an interrupted run from its checkpoint, the part
 * that `strata resume` (cmd_resume.c) and a sweep's point under mpirun
 * (sweep_ranks.c) share: the configuration to resume with, the checkpoint
 * pair loaded on rank 0 and given to the other ranks, the run's database
 * steps (on rank 0's database, or forwarded to world rank 0), the epochs. */
#ifndef STRATA_RESUME_RUN_H
#define STRATA_RESUME_RUN_H

#include <stdint.h>
#include "store/results.h"
#include "train/session.h"

/* The run's stored config with the -s overrides (sets) and train.epochs =
 * epochs (a cosine schedule without t_max keeps the run's own, said in one
 * line). NULL with err set on a bad override or stored config. */
ynode *resume_config(const run_record *rec, char *const *sets, int n_sets, int epochs, strata_err *err);
/* Is the run's process still alive (running, on this host, not us)? */
int resume_still_running(const run_record *rec);

/* What to resume, as rank 0 found it in the database. */
typedef struct resume_job {
    int64_t run_id;
    int last;           /* the epochs it recorded */
    int end;            /* train up to this epoch */
    int finish_stopped; /* a sweep's point that early stopping had ended is only marked finished */
    results *db;        /* rank 0's database (taken: closed with the session), or NULL with: */
    int forward;        /* rank 0 of the ranks training it sends the writes to world rank 0 */
} resume_job;

/* Every rank of the ranks that train the run: prepare the session from
 * root (taken; NULL on ranks where it failed), rank 0 loads the newest
 * checkpoint pair from results.dir (never weights and state of different
 * checkpoints), the others get it; the database steps; the epochs
 * last+1..end (or fewer from an older checkpoint). Every failure is
 * agreed over the ranks (session_agree). Returns 0, or -1 with err set
 * (s->peer_failed: another rank's failure, which that rank printed). */
int resume_train(session *s, ynode *root, const char *experiment, const resume_job *j, strata_err *err);

#endif
