/* run_forward.h — a run's database writes sent to another rank (a sweep
 * over MPI ranks: the workers never open the database; world rank 0 applies
 * every write of their runs, in the same transactions as one process does).
 *
 * The worker side (run_forward_*) packs each write into one message to the
 * writer and waits for its answer, so a write the database refuses fails
 * the worker's run exactly as it would fail a run of one process. The
 * writer side (run_forward_apply) applies one such message to the database
 * and sends the answer. Messages use tags RUN_FORWARD_FIRST ..
 * RUN_FORWARD_LAST; other tags are the caller's. */
#ifndef STRATA_RUN_FORWARD_H
#define STRATA_RUN_FORWARD_H

#include <stddef.h>
#include <stdint.h>
#include "store/evals.h"
#include "store/results.h"

enum {
    RUN_FORWARD_FIRST = 100,
    RUN_FORWARD_BEGIN = RUN_FORWARD_FIRST, /* run_info -> the new run's id */
    RUN_FORWARD_CLASSES,
    RUN_FORWARD_SAMPLES,
    RUN_FORWARD_SKIPPED,
    RUN_FORWARD_EPOCH, /* the row and its epoch_classes */
    RUN_FORWARD_STATUS,
    RUN_FORWARD_STOP_REASON,
    RUN_FORWARD_HEARTBEAT,
    RUN_FORWARD_REOPEN, /* run_reopen: a run resumed */
    RUN_FORWARD_LAST = RUN_FORWARD_REOPEN,
    RUN_FORWARD_REPLY = 120 /* the writer's answer: status, message, run id */
};

/* The worker's writes, to world rank `writer`; each as results.h's
 * function of the same name, with the same errors (the writer's message). */
int run_forward_begin(int writer, const run_info *info, int64_t *run_id, strata_err *err);
int run_forward_classes(int writer, int64_t run_id, int n, char *const *names, strata_err *err);
int run_forward_samples(int writer, int64_t run_id, const char *split, int n, char *const *paths, const int *labels,
                        strata_err *err);
int run_forward_skipped(int writer, int64_t run_id, int n, char *const *paths, char *const *reasons, strata_err *err);
int run_forward_epoch(int writer, int64_t run_id, const epoch_row *row, const class_tally *t, strata_err *err);
int run_forward_status(int writer, int64_t run_id, const char *status, strata_err *err);
int run_forward_stop_reason(int writer, int64_t run_id, const char *reason, strata_err *err);
int run_forward_heartbeat(int writer, int64_t run_id, strata_err *err);

/* Reopening an interrupted run to resume it (strata resume; a sweep's
 * point). from_scratch (killed before its first checkpoint): its classes,
 * split and skipped files cleared, to be recorded again; else its epochs
 * after `epoch` deleted, a run_resumes row at `epoch` and its stop_reason
 * cleared. Both: runs.config and run_params from config, its ranks and
 * hosts, status running. */
typedef struct run_reopen {
    int64_t run_id;
    int from_scratch, epoch, ranks;
    const char *config, *hosts;
} run_reopen;
/* Those steps on db (the process that holds the database). */
int run_reopen_apply(results *db, const run_reopen *r, strata_err *err);
/* The same sent to world rank `writer`, which applies them. */
int run_forward_reopen(int writer, const run_reopen *r, strata_err *err);

/* What the writer adds to a run that a worker begins (a sweep's tags). */
typedef int (*run_forward_begun)(results *db, int64_t run_id, void *ctx, strata_err *err);

/* The writer: apply message (tag, bytes) from world rank `from` to db and
 * answer it. begun (may be NULL) runs after a run's BEGIN, in the same
 * answer. Returns 0; -1 (err set) only when the message is malformed (a bug:
 * the worker is answered with the error too). */
int run_forward_apply(results *db, int from, int tag, const char *msg, size_t n, run_forward_begun begun, void *ctx,
                      strata_err *err);

#endif
