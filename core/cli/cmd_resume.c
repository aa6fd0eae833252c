/* cmd_resume.c — `strata resume RUN --epochs N [-s KEY=VALUE]... [--db PATH]` */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/resume_run.h"
#include "dist/dist.h"
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
    else if (resume_still_running(&rec))
        err_set(err, STRATA_ERR_CONFIG, "run %lld is still running (pid %lld)", (long long)*id, (long long)rec.pid);
    else if ((root = resume_config(&rec, a->sets, a->n_sets, *last + a->epochs, err)))
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

/* With more than one rank (mpirun), rank 0 alone opens the database and
 * reads the checkpoint; every step that can fail on one rank is agreed
 * (session_agree) so that all stop together. */
static int resume(const resume_args *a, strata_err *err)
{
    resume_job j = {.finish_stopped = a->finish_stopped};
    char *experiment = NULL;
    session s;
    memset(&s, 0, sizeof s);
    ynode *root = dist_rank() == 0 ? find_run(a, &j.db, &j.run_id, &j.last, &experiment, err) : NULL;
    if (session_agree(&s, dist_rank() == 0 && !root ? -1 : 0, err)) {
        if (j.db)
            results_close(j.db);
        return -1;
    }
    if (dist_size() > 1)
        root = share_run(root, &j.run_id, &j.last, &experiment, err);
    j.end = j.last + a->epochs;
    int rc = resume_train(&s, root, experiment, &j, err);
    free(experiment);
    quiet_peer = s.peer_failed;
    session_free(&s);
    return rc;
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
