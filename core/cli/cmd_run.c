/* cmd_run.c — `strata run EXPERIMENT.yaml [-s KEY=VALUE]... [--name NAME]` */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "train/blas_select.h"
#include "cli/cli.h"
#include "dist/dist.h"
#include "store/manage.h"
#include "train/session.h"

static const char usage[] =
    "usage: strata run EXPERIMENT.yaml [-s KEY.PATH=VALUE]... [--name NAME] [--tag KEY=VALUE]...\n"
    "\n"
    "Train the experiment's model on its data for train.epochs epochs and record\n"
    "the run and every epoch in the results database (results.dir/results.db,\n"
    "default " RESULTS_DEFAULT_DB " under the current directory). Each epoch's row\n"
    "(train_loss, train_acc, val_loss, val_acc, lr, seconds, images_per_sec) is\n"
    "committed when the epoch ends; query it while the run goes on with\n"
    "  sqlite3 " RESULTS_DEFAULT_DB " 'select * from epochs where run_id = ...'\n"
    "On a terminal a live bar shows the batch, running loss, images/s and ETA;\n"
    "otherwise one line per epoch. train.early_stopping may end the run before\n"
    "train.epochs (status finished, runs.stop_reason says why); best.safetensors\n"
    "is the best epoch by train.checkpoint_monitor (val_acc or val_loss).\n"
    "Ctrl-C stops after the batch in hand, marks the run 'interrupted' and prints\n"
    "the `strata resume` command that continues it; finished epochs stay. Each\n"
    "epoch's checkpoint is saved before its row: a run killed at any moment\n"
    "(SIGKILL) shows as 'interrupted' and `strata resume` continues it from its\n"
    "newest complete checkpoint. A database locked by another program is waited for (300 s,\n"
    "env STRATA_DB_TIMEOUT=SECONDS).\n"
    "Under `mpirun -np N` (a build with MPI) the run is trained data-parallel\n"
    "over N processes: each takes its share of every batch of train.batch_size,\n"
    "gradients are summed over them; rank 0 alone writes the database and the\n"
    "checkpoints (see strata(1), DATA-PARALLEL TRAINING).\n"
    "\n"
    "  -s, --set KEY.PATH=VALUE  override a key of the experiment (repeatable)\n"
    "      --name NAME           the run's name (default: the experiment's name)\n"
    "      --tag KEY=VALUE       tag the run (run_tags; repeatable; see strata tag)\n"
    "  -h, --help                this text\n"
    "\n"
    "Exit status: 0 finished, 1 runtime failure or interrupted, 2 configuration error.\n";

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"set", required_argument, 0, 's'}, {"name", required_argument, 0, 'n'}, {"tag", required_argument, 0, 't'},
        {0, 0, 0, 0}};
    char **sets = calloc(argc, sizeof *sets), **tags = calloc(argc, sizeof *tags);
    const char *name = NULL;
    int n_sets = 0, n_tags = 0, c;
    strata_err err = {0};
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "s:", longopts, NULL)) != -1) {
        if (c == 's' && experiment_override_syntax(optarg, &err)) {
            free(sets), free(tags);
            return cli_fail(&err);
        } else if (c == 's')
            sets[n_sets++] = optarg;
        else if (c == 'n')
            name = optarg;
        else if (c == 't' && optarg[0] != '=' && strchr(optarg, '='))
            tags[n_tags++] = optarg;
        else if (c == 't') {
            free(sets), free(tags);
            return cli_usage(&cmd_run, "--tag: expected KEY=VALUE, got '%s'", optarg);
        } else {
            free(sets), free(tags);
            return cli_usage(&cmd_run, "unknown option or missing value '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1) {
        free(sets), free(tags);
        return cli_usage(&cmd_run, "expected one EXPERIMENT.yaml");
    }
    session s;
    int rc = 0;
    session_catch_signals();
    if ((rc = dist_init(&argc, &argv))) {
        free(sets), free(tags);
        return rc;
    }
    if (session_agree(&s, session_prepare(&s, argv[optind], sets, n_sets, cli_plugin_dir, &err), &err) ||
        session_begin_run(&s, name, &err) ||
        session_agree(&s, dist_rank() == 0 ? results_tags_set_args(s.db, s.run_id, tags, n_tags, &err) : 0, &err)) {
        rc = s.peer_failed ? err.status : cli_fail(&err);
        session_free(&s);
        free(sets), free(tags);
        dist_finalize();
        return rc;
    }
    if (dist_rank() == 0)
        printf("run %lld: %s (%s, %lld parameters), %d train / %d val images, %d classes, db %s\n"
               "BLAS kernel %s, ISA %s, %d thread%s%s\n",
               (long long)s.run_id, name ? name : s.x.name, s.x.model.desc, (long long)network_trainable(&s.m.net),
               s.train.n, s.val.n, s.train.num_classes, s.x.results.db_path, blas_kernel_note(), strata_isa_note(),
               s.x.train.threads, s.x.train.threads == 1 ? "" : "s", dist_size() > 1 ? " per rank" : "");
    if (dist_rank() == 0 && dist_size() > 1)
        printf("%d ranks (MPI), %d gradient buckets of <= %g MB\n", dist_size(), s.buckets.n, s.x.train.bucket_mb);
    fflush(stdout);
    if (session_run_epochs(&s, 1, s.x.train.epochs, &err))
        rc = s.peer_failed ? err.status : cli_fail(&err);
    session_free(&s);
    free(sets), free(tags);
    dist_finalize();
    return rc;
}

const cli_command cmd_run = {"run", "train an experiment, recording every epoch in SQLite", run, usage};
