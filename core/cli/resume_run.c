/* resume_run.c — see resume_run.h. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"
#include "cli/resume_run.h"
#include "dist/dist.h"
#include "dist/net_sync.h"
#include "train/early_stop.h"

/* A cosine schedule without t_max anneals over train.epochs, which resume
 * raises: t_max is pinned to the run's own train.epochs (said in one
 * line), so the extra epochs continue at eta_min instead of re-shaping the
 * epochs already trained. -s optimizer.schedule.t_max=N sets another. */
static int pin_cosine_t_max(ynode *root, int64_t id, int new_epochs, strata_err *err)
{
    const ynode *name = ynode_at(root, "optimizer.schedule.name");
    if (!name || name->kind != YNODE_SCALAR || strcmp(name->str, "cosine") || ynode_at(root, "optimizer.schedule.t_max"))
        return 0;
    const ynode *ep = ynode_at(root, "train.epochs");
    long epochs = 10; /* read_train's default */
    if (ep && ynode_long(ep, &epochs))
        return 0; /* a bad value: the experiment's check names it */
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", epochs);
    if (new_epochs != epochs)
        printf("run %lld: cosine schedule: t_max stays %ld (the run's train.epochs); set another with -s "
           "optimizer.schedule.t_max=N\n", (long long)id, epochs);
    return ynode_assign(root, "optimizer.schedule.t_max", ynode_scalar(buf, "resume", 1, 1), err);
}

ynode *resume_config(const run_record *rec, char *const *sets, int n_sets, int epochs, strata_err *err)
{
    char name[64];
    snprintf(name, sizeof name, "run %lld config", (long long)rec->id);
    ynode *root = yaml_load_string(rec->config ? rec->config : "", name, err);
    if (!root)
        return NULL;
    for (int i = 0; i < n_sets; i++)
        if (experiment_override(root, sets[i], err)) {
            ynode_free(root);
            return NULL;
        }
    if (pin_cosine_t_max(root, rec->id, epochs, err)) {
        ynode_free(root);
        return NULL;
    }
    char buf[32];
    snprintf(buf, sizeof buf, "%d", epochs);
    if (ynode_assign(root, "train.epochs", ynode_scalar(buf, "resume", 1, 1), err)) {
        ynode_free(root);
        return NULL;
    }
    return root;
}

int resume_still_running(const run_record *rec)
{
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    return rec->status && !strcmp(rec->status, "running") && rec->host && !strcmp(rec->host, host) && rec->pid > 0 &&
           (kill((pid_t)rec->pid, 0) == 0 || errno == EPERM) && rec->pid != getpid();
}

/* What resume starts from: a checkpoint pair, or nothing (epoch 1). */
typedef struct start_point {
    int from_scratch;   /* no checkpoint and no epoch recorded: restart at epoch 1 */
    int record_row;     /* the pair is one epoch ahead of the database: record its row */
    char dir[4096], weights[4200], state[4200]; /* the pair */
} start_point;

/* Load the newest complete checkpoint pair into the prepared session
 * (checkpoint_find_pair: weights and state of one id, never mixed). */
static int restore(session *s, int64_t run_id, int last, start_point *sp, strata_err *err)
{
    char dir[4096], weights[4200], state[4200];
    int skipped, newer = 0;
    train_state meta;
    memset(sp, 0, sizeof *sp);
    snprintf(dir, sizeof dir, "%s/checkpoints/%lld", s->x.results.dir, (long long)run_id);
    int found = checkpoint_find_pair(dir, weights, state, sizeof weights, &meta, &newer, err);
    if (found < 0)
        return -1;
    if (found == 1 && last == 0) { /* killed before its first checkpoint was complete */
        sp->from_scratch = 1;
        return 0;
    }
    if (found == 1)
        return -1;
    if (meta.epoch > last + 1 || (meta.epoch == last + 1 && !meta.has_row))
        return err_set(err, STRATA_ERR_RUNTIME, "run %lld: the checkpoint %s is at epoch %d but the database has %d "
                       "epochs", (long long)run_id, weights, meta.epoch, last);
    if (checkpoint_load_weights(weights, &s->m.net, 1, &skipped, err) ||
        checkpoint_load_state(state, &s->m.net, &s->m.opt, &s->state, err))
        return -1;
    if (s->state.n_unsaved)
        fprintf(stderr, "strata: run %lld: %d parameters (%s%s) have no optimizer state in %s (frozen then): "
                        "theirs starts at zero\n", (long long)run_id, s->state.n_unsaved, s->state.first_unsaved,
                s->state.n_unsaved > 1 ? ", ..." : "", state);
    if (meta.epoch < last) /* files lost or damaged: a crash leaves a pair at least as new as the database */
        fprintf(stderr, "strata: warning: run %lld: the newest complete checkpoint is epoch %d's (%s and %s; %d newer "
                        "files do not form a pair); epochs %d..%d are trained again\n",
                (long long)run_id, meta.epoch, weights, state, newer, meta.epoch + 1, last);
    if (s->state.best_monitor != s->x.train.checkpoint_monitor) { /* changed with -s: the next epoch is best */
        s->state.best_monitor = s->x.train.checkpoint_monitor;
        s->state.best_epoch = 0;
    }
    sp->record_row = meta.epoch == last + 1;
    snprintf(sp->dir, sizeof sp->dir, "%s", dir);
    snprintf(sp->weights, sizeof sp->weights, "%s", weights);
    snprintf(sp->state, sizeof sp->state, "%s", state);
    return 0;
}

/* Had early stopping ended the run at its checkpoint's epoch? */
static int stopped_early(const session *s)
{
    const early_stop_cfg *c = &s->x.train.early_stopping;
    return c->enabled && s->state.es.best_epoch > 0 && s->state.es.bad_epochs >= c->patience;
}

/* More than one rank: rank 0's restored weights, optimizer state and
 * counters to the others. */
static void share_start(session *s, start_point *sp)
{
    dist_bcast(&sp->from_scratch, sizeof sp->from_scratch);
    net_sync_from_rank0(&s->m.net);
    dist_bcast(s->m.opt.slot_mem, (size_t)s->m.opt.n_slots * s->m.opt.total * sizeof(float));
    dist_bcast(&s->m.opt.step, sizeof s->m.opt.step);
    dist_bcast(&s->m.opt.sched.plateau, sizeof s->m.opt.sched.plateau);
    dist_bcast(&s->state, sizeof s->state);
}

/* The database side, once everything is checked: the checkpoint's
 * unrecorded epoch, then the run reopened (session_record_reopen). */
static int reopen_run(session *s, const start_point *sp, const char *hosts, strata_err *err)
{
    run_reopen r = {.run_id = s->run_id, .from_scratch = sp->from_scratch, .epoch = s->state.epoch,
                    .ranks = dist_size(), .config = session_config(s), .hosts = dist_size() > 1 ? hosts : NULL};
    if (sp->from_scratch)
        return session_record_reopen(s, &r, err) || session_record_data(s, err) ? -1 : 0;
    if (checkpoint_adopt_pair(sp->dir, sp->weights, sp->state, err))
        return -1;
    if (sp->record_row) {
        fprintf(stderr, "strata: run %lld: epoch %d was checkpointed but not recorded; recording it from the "
                        "checkpoint\n", (long long)s->run_id, s->state.epoch);
        if (session_record_checkpointed_epoch(s, err))
            return -1;
    }
    return session_record_reopen(s, &r, err);
}

/* Rank 0, everything checked: the database side, or the sweep's point
 * that early stopping had ended marked finished (1: nothing to train). */
static int reopen_rank0(session *s, const start_point *sp, const char *hosts, int finish_stopped, strata_err *err)
{
    if (reopen_run(s, sp, hosts, err))
        return -1;
    if (!(finish_stopped && stopped_early(s)))
        return 0;
    early_stop_reason(&s->x.train.early_stopping, &s->state.es, s->stop_reason, sizeof s->stop_reason);
    printf("run %lld: ended by early stopping after epoch %d (killed before its status was recorded); "
           "marked finished\n", (long long)s->run_id, s->state.epoch);
    fflush(stdout);
    return session_record_end(s, "finished", err) ? -1 : 1;
}

int resume_train(session *s, ynode *root, const char *experiment, const resume_job *j, strata_err *err)
{
    start_point sp = {0};
    int rc = root ? session_prepare_tree(s, root, experiment, cli_plugin_dir, err) : -1;
    int peer = s->peer_failed;
    s->db = j->db; /* closed with the session from here on */
    if (!session_agree(s, rc, err))
        rc = dist_rank() == 0 ? restore(s, j->run_id, j->last, &sp, err) : 0;
    s->peer_failed |= peer;
    if (session_agree(s, rc, err))
        return -1;
    if (dist_size() > 1)
        share_start(s, &sp);
    /* Everything checked: now change the database. */
    s->run_id = j->run_id;
    s->forward = j->forward;
    char hosts[4096];
    dist_hosts(hosts, sizeof hosts); /* every rank */
    int done = dist_rank() == 0 ? reopen_rank0(s, &sp, hosts, j->finish_stopped, err) : 0;
    dist_bcast(&done, sizeof done);
    rc = session_agree(s, done < 0 ? -1 : 0, err);
    if (!rc && !done) {
        int first = s->state.epoch + 1;
        if (dist_rank() == 0)
            printf("run %lld: resuming at epoch %d of %d (%s)%s\n", (long long)j->run_id, first, j->end,
                   s->x.model.desc, dist_size() > 1 ? ", data-parallel over MPI ranks" : "");
        fflush(stdout);
        rc = session_run_epochs(s, first, j->end, err);
    }
    return rc ? -1 : 0;
}
