/* cmd_resume.c — `strata resume RUN --epochs N [-s KEY=VALUE]... [--db PATH]` */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"
#include "dist/dist.h"
#include "dist/net_sync.h"
#include "store/params.h"
#include "train/early_stop.h"
#include "train/session.h"

static const char usage[] =
    "usage: strata resume RUN --epochs N [-s KEY.PATH=VALUE]... [--db PATH]\n"
    "\n"
    "Continue run RUN (its id, or the newest run of that name) for N more epochs\n"
    "under the same run id: epochs K+1..K+N are appended after the K recorded.\n"
    "The run's stored configuration is used, not the experiment file on disk;\n"
    "-s overrides (e.g. a new optimizer.lr) apply to the extra epochs and are\n"
    "recorded in the run's config. Training restarts from the run's last\n"
    "checkpoint (results.dir/checkpoints/RUN/last.safetensors and its\n"
    "last.state.safetensors, which carry one checkpoint id); with the same seed\n"
    "and threads, K+N epochs this way equal K+N epochs in one run, bit for bit,\n"
    "the plateau schedule's and train.early_stopping's counters included. A\n"
    "cosine schedule without t_max keeps t_max = the run's train.epochs (one\n"
    "line says so; -s optimizer.schedule.t_max=N to change it). A run that\n"
    "stopped early continues with its early-stopping counters as they were: it\n"
    "stops again after the next epoch without improvement unless -s\n"
    "train.early_stopping.patience=P raises the patience (or\n"
    "-s train.early_stopping=null turns it off). After a crash: weights and optimizer state of different\n"
    "checkpoints are never mixed (the newest complete pair is used; when it is\n"
    "older than the recorded epochs, a warning, and those are trained again);\n"
    "an epoch checkpointed but not recorded is recorded from its checkpoint (it\n"
    "counts in N); a run killed before its first checkpoint restarts at epoch 1.\n"
    "A missing or corrupted checkpoint is reported and nothing is changed.\n"
    "Under `mpirun -np N` the run continues over N processes, whatever number\n"
    "trained it before (rank 0 reads the database and the checkpoint).\n"
    "\n"
    "  -e, --epochs N            how many more epochs (required)\n"
    "  -s, --set KEY.PATH=VALUE  override a key of the stored configuration\n"
    "      --db PATH             the results database (default: env STRATA_DB, else " RESULTS_DEFAULT_DB ")\n"
    "  -h, --help                this text\n";

/* The last resume's failure was another rank's (that rank printed it). */
static int quiet_peer;

typedef struct resume_args {
    const char *run, *db;
    int epochs, n_sets;
    int finish_stopped; /* a sweep's point: one that early stopping had ended is only marked finished */
    char **sets;
} resume_args;

static int parse_args(int argc, char **argv, resume_args *a)
{
    static const struct option longopts[] = {{"epochs", required_argument, 0, 'e'},
                                              {"set", required_argument, 0, 's'},
                                              {"db", required_argument, 0, 'd'},
                                              {0, 0, 0, 0}};
    int c;
    strata_err err = {0};
    char *end;
    memset(a, 0, sizeof *a);
    a->sets = calloc(argc, sizeof *a->sets);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "e:s:", longopts, NULL)) != -1) {
        if (c == 'e') {
            long v = strtol(optarg, &end, 10);
            if (*end || end == optarg || v < 1 || v > 1000000)
                return cli_usage(&cmd_resume, "--epochs: expected an integer >= 1, got '%s'", optarg);
            a->epochs = (int)v;
        } else if (c == 's' && experiment_override_syntax(optarg, &err))
            return cli_fail(&err);
        else if (c == 's')
            a->sets[a->n_sets++] = optarg;
        else if (c == 'd')
            a->db = optarg;
        else
            return cli_usage(&cmd_resume, "unknown option or missing value '%s'", argv[optind - 1]);
    }
    if (optind != argc - 1)
        return cli_usage(&cmd_resume, "expected one RUN");
    if (!a->epochs)
        return cli_usage(&cmd_resume, "--epochs N is required");
    a->run = argv[optind];
    return 0;
}

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

/* The run's stored config with the overrides and the new epoch count. */
static ynode *resume_config(const run_record *rec, const resume_args *a, int epochs, strata_err *err)
{
    char name[64];
    snprintf(name, sizeof name, "run %lld config", (long long)rec->id);
    ynode *root = yaml_load_string(rec->config ? rec->config : "", name, err);
    if (!root)
        return NULL;
    for (int i = 0; i < a->n_sets; i++)
        if (experiment_override(root, a->sets[i], err)) {
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

static int still_running(const run_record *rec)
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

/* The epoch row the checkpoint carries, with its epoch_classes when it has
 * counts for the run's classes (a checkpoint of an older strata has none). */
static int record_checkpointed_epoch(session *s, strata_err *err)
{
    if (s->val_counts.k != s->train.num_classes) {
        fprintf(stderr, "strata: warning: run %lld: epoch %d's checkpoint has no per-class counts for its %d classes "
                        "(an older strata); epoch_classes gets no rows for it\n",
                (long long)s->run_id, s->state.epoch, s->train.num_classes);
        return results_epoch(s->db, s->run_id, &s->state.row, err);
    }
    class_tally per_class = class_counts_tally(&s->val_counts, s->train.classes);
    return results_epoch_with_classes(s->db, s->run_id, &s->state.row, &per_class, err);
}

/* The database side of resuming, once everything is checked. */
static int reopen_run(session *s, const start_point *sp, strata_err *err)
{
    results *db = s->db;
    int64_t id = s->run_id;
    if (sp->from_scratch)
        return results_run_data_clear(db, id, err) || session_record_data(s, err) ||
                       results_run_config(db, id, session_config(s), err) ||
                       results_run_params(db, id, s->x.root, err) || results_run_status(db, id, "running", err)
                   ? -1
                   : 0;
    if (checkpoint_adopt_pair(sp->dir, sp->weights, sp->state, err))
        return -1;
    if (sp->record_row) {
        fprintf(stderr, "strata: run %lld: epoch %d was checkpointed but not recorded; recording it from the "
                        "checkpoint\n", (long long)id, s->state.epoch);
        if (record_checkpointed_epoch(s, err))
            return -1;
    }
    return results_epochs_truncate(db, id, s->state.epoch, err) || results_run_resumed(db, id, s->state.epoch, err) ||
                   results_run_config(db, id, session_config(s), err) ||
                   results_run_params(db, id, s->x.root, err) || results_run_status(db, id, "running", err) ||
                   results_run_stop_reason(db, id, NULL, err)
               ? -1
               : 0;
}

/* Had early stopping ended the run at its checkpoint's epoch? */
static int stopped_early(const session *s)
{
    const early_stop_cfg *c = &s->x.train.early_stopping;
    return c->enabled && s->state.es.best_epoch > 0 && s->state.es.bad_epochs >= c->patience;
}

/* Rank 0: the run, its last epoch and its configuration to resume with. */
static ynode *find_run(const resume_args *a, results **db, int64_t *id, int *last, char **experiment, strata_err *err)
{
    run_record rec = {0};
    ynode *root = NULL;
    if (cli_db_open(a->db, db, err))
        return NULL;
    if (results_find_run(*db, a->run, id, err) || results_get_run(*db, *id, &rec, err) ||
        results_last_epoch(*db, *id, last, err))
        ;
    else if (still_running(&rec))
        err_set(err, STRATA_ERR_CONFIG, "run %lld is still running (pid %lld)", (long long)*id, (long long)rec.pid);
    else if ((root = resume_config(&rec, a, *last + a->epochs, err)))
        *experiment = strdup(rec.experiment ? rec.experiment : "run");
    run_record_free(&rec);
    return root;
}

/* More than one rank: rank 0's findings to the others (the configuration
 * as YAML text, as it is stored). Every rank returns its tree. */
static ynode *share_run(ynode *root, int64_t *id, int *last, char **experiment, strata_err *err)
{
    char *text = dist_rank() == 0 ? ynode_emit(root) : NULL;
    int64_t head[4] = {*id, *last, text ? (int64_t)strlen(text) + 1 : 0,
                       *experiment ? (int64_t)strlen(*experiment) + 1 : 0};
    dist_bcast(head, sizeof head);
    if (dist_rank() != 0) {
        text = calloc(head[2], 1);
        *experiment = calloc(head[3], 1);
    }
    dist_bcast(text, head[2]);
    dist_bcast(*experiment, head[3]);
    *id = head[0];
    *last = (int)head[1];
    if (dist_rank() != 0)
        root = yaml_load_string(text, "the run's config from rank 0", err);
    free(text);
    return root;
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

/* Rank 0, everything checked: the database side, or the sweep's point
 * that early stopping had ended marked finished (1: nothing to train). */
static int reopen_rank0(const resume_args *a, session *s, const start_point *sp, strata_err *err)
{
    char hosts[4096];
    dist_hosts(hosts, sizeof hosts);
    if (dist_rank() != 0)
        return 0;
    if (reopen_run(s, sp, err) || results_run_ranks(s->db, s->run_id, dist_size(), dist_size() > 1 ? hosts : NULL, err))
        return -1;
    if (!(a->finish_stopped && stopped_early(s)))
        return 0;
    early_stop_reason(&s->x.train.early_stopping, &s->state.es, s->stop_reason, sizeof s->stop_reason);
    printf("run %lld: ended by early stopping after epoch %d (killed before its status was recorded); "
           "marked finished\n", (long long)s->run_id, s->state.epoch);
    fflush(stdout);
    return results_run_status(s->db, s->run_id, "finished", err) ||
                   results_run_stop_reason(s->db, s->run_id, s->stop_reason, err)
               ? -1
               : 1;
}

/* With more than one rank (mpirun), rank 0 alone opens the database and
 * reads the checkpoint; every step that can fail on one rank is agreed
 * (session_agree) so that all stop together. */
static int resume(const resume_args *a, strata_err *err)
{
    results *db = NULL;
    int64_t id = 0;
    int last = 0, rc;
    char *experiment = NULL;
    start_point sp = {0};
    session s;
    memset(&s, 0, sizeof s);
    ynode *root = dist_rank() == 0 ? find_run(a, &db, &id, &last, &experiment, err) : NULL;
    if (session_agree(&s, dist_rank() == 0 && !root ? -1 : 0, err)) {
        if (db)
            results_close(db);
        return -1;
    }
    if (dist_size() > 1)
        root = share_run(root, &id, &last, &experiment, err);
    rc = root ? session_prepare_tree(&s, root, experiment, cli_plugin_dir, err) : -1;
    free(experiment);
    int peer = s.peer_failed;
    if (!session_agree(&s, rc, err))
        rc = dist_rank() == 0 ? restore(&s, id, last, &sp, err) : 0;
    s.peer_failed |= peer;
    if (session_agree(&s, rc, err)) {
        if (db)
            results_close(db);
        session_free(&s);
        return -1;
    }
    if (dist_size() > 1)
        share_start(&s, &sp);
    /* Everything checked: now change the database. */
    s.db = db;
    s.run_id = id;
    int done = reopen_rank0(a, &s, &sp, err);
    dist_bcast(&done, sizeof done);
    rc = session_agree(&s, done < 0 ? -1 : 0, err);
    if (!rc && !done) {
        int first = s.state.epoch + 1, end = last + a->epochs;
        if (dist_rank() == 0)
            printf("run %lld: resuming at epoch %d of %d (%s)%s\n", (long long)id, first, end, s.x.model.desc,
                   dist_size() > 1 ? ", data-parallel over MPI ranks" : "");
        fflush(stdout);
        rc = session_run_epochs(&s, first, end, err);
    }
    quiet_peer = s.peer_failed;
    session_free(&s);
    return rc ? -1 : 0;
}

static int run(int argc, char **argv)
{
    resume_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc == 0) {
        strata_err err = {0};
        session_catch_signals();
        if ((rc = dist_init(&argc, &argv)))
            ;
        else if (resume(&a, &err))
            rc = quiet_peer ? err.status : cli_fail(&err);
        dist_finalize();
    }
    free(a.sets);
    return rc;
}

const cli_command cmd_resume = {"resume", "continue a run for more epochs from its last checkpoint", run, usage};

int strata_resume(const char *db, const char *run, int epochs, strata_err *err)
{
    resume_args a = {.run = run, .db = db, .epochs = epochs, .finish_stopped = 1};
    return resume(&a, err);
}
