/* sweep_ranks.h — `strata sweep` under mpirun: world rank 0 schedules the
 * points and is the only process that opens the database; the other ranks
 * form groups of --ranks-per-point ranks (dist_split), and each group asks
 * rank 0 for a point, trains it (data-parallel within the group) while its
 * leader forwards the run's writes to rank 0 (run_forward.h), then asks for
 * the next. */
#ifndef STRATA_SWEEP_RANKS_H
#define STRATA_SWEEP_RANKS_H

#include <stdint.h>
#include "config/sweep.h"
#include "store/results.h"

/* The worker groups of a job of world_size ranks (rank 0 schedules): 0
 * with err set when world_size - 1 is not a positive multiple of k. */
int sweep_ranks_groups(int world_size, int k, strata_err *err);
/* Every rank, once, after dist_init: split the job into rank 0 and the
 * worker groups of k ranks. */
void sweep_ranks_split(int k);

/* Rank 0's view of a sweep being run. */
typedef struct sweep_sched {
    const char *file;        /* the experiment, as the points' runs record it */
    const ynode *root;       /* the experiment (all points) */
    const sweep_plan *plan;
    int64_t sweep_id;
    char *const *tags;       /* --tag KEY=VALUE of every run it starts */
    int n_tags;
    int groups_left;         /* worker groups not yet told that the sweep is over */
} sweep_sched;

/* Rank 0: hand the points that need it to the groups as they ask, and
 * apply their writes to db, until every group is told to stop. Returns the
 * number of points that did not finish; -1 (err set) when the database
 * cannot say where a point stands (the groups still get told to stop). */
int sweep_ranks_schedule(sweep_sched *s, results *db, strata_err *err);
/* Rank 0 with nothing to schedule (an error, --dry-run): tell each group. */
void sweep_ranks_release(sweep_sched *s);
/* A worker rank: train the points its group gets until told to stop.
 * Returns 0 (a point's failure is reported to rank 0, not here). */
int sweep_ranks_work(void);

#endif
