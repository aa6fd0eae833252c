/* cmd_sweep.c — `strata sweep FILE [--jobs N] [--dry-run] [--yes]`: every
 * point of the experiment's sweep as its own run, linked by sweep_id. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli/cli.h"
#include "store/manage.h"
#include "dist/dist.h"
#include "train/session.h"
#include "config/sweep.h"
#include "cli/sweep_ranks.h"

#define SWEEP_MAX_UNASKED 1000

static const char usage[] =
    "usage: strata sweep EXPERIMENT.yaml [-s KEY=VALUE]... [--tag KEY=VALUE]... [--jobs N] [--new] [--dry-run]\n"
    "                    [--yes]\n"
    "       mpirun -np N strata sweep EXPERIMENT.yaml [--ranks-per-point K] [options as above but --jobs]\n"
    "\n"
    "Run every point of the experiment's `sweep:` section as its own run, all\n"
    "linked by one sweep id (table sweeps; runs.sweep_id, runs.sweep_point):\n"
    "\n"
    "  sweep:\n"
    "    grid: {model.column: [A, B, D, E], optimizer.lr: [1.0e-4, 3.0e-4]}\n"
    "    points:                        # and/or explicit override sets\n"
    "      - {model.arch: alexnet, model.variant: tutorial}\n"
    "      - {model.arch: vgg, model.column: D}\n"
    "\n"
    "A grid is the product of its lists (the last key varies fastest); with both,\n"
    "each point is combined with each grid cell. A sweep is the file, its grid\n"
    "and the -s options as given (in order, a -s that changes nothing counts;\n"
    "sweeps.overrides keeps them): running the same sweep again continues it,\n"
    "skipping finished points and resuming interrupted ones from their last\n"
    "checkpoint (or starting them over when they have none); other -s options\n"
    "start a new sweep, and the first line says which. At the end, a table of\n"
    "the sweep's points: run, status, best val_acc and its epoch.\n"
    "\n"
    "  -s, --set KEY=VALUE   override a key of the experiment (all points)\n"
    "      --tag KEY=VALUE   tag every run the sweep starts or resumes (run_tags;\n"
    "                        repeatable; not part of the sweep's identity)\n"
    "  -j, --jobs N          run N points at once in separate processes sharing\n"
    "                        the database; each gets train.threads / N threads\n"
    "      --new             start a new sweep even when one with the same file,\n"
    "                        grid and overrides exists\n"
    "      --dry-run         list the points and their state, run nothing\n"
    "      --yes             allow a sweep of more than 1000 points\n"
    "  -h, --help            this text\n"
    "\n"
    "Under mpirun (-np N, N >= 2), rank 0 schedules and is the only process\n"
    "that opens the database: the other N - 1 ranks train, in groups of K, one\n"
    "point per group at a time, each group asking rank 0 for the next point\n"
    "when it is done; a group's first rank sends the run's rows to rank 0 over\n"
    "MPI and writes its checkpoints into results.dir (which must be on storage\n"
    "every such rank can write; the database need only be local to rank 0).\n"
    "Finished points are skipped and interrupted ones resumed from their\n"
    "checkpoint as above (a group's first rank reads it from results.dir).\n"
    "\n"
    "      --ranks-per-point K   train each point data-parallel over K ranks\n"
    "                        (default 1); N - 1 must be a multiple of K\n";

typedef struct sweep_args {
    const char *file;
    int jobs, dry_run, yes, fresh, n_sets, n_tags;
    int ranks_per_point; /* under mpirun: ranks training each point */
    char **sets, **tags; /* -s KEY=VALUE, --tag KEY=VALUE */
} sweep_args;

static int parse_args(int argc, char **argv, sweep_args *a)
{
    static const struct option longopts[] = {{"set", required_argument, 0, 's'},
                                              {"jobs", required_argument, 0, 'j'},
                                              {"dry-run", no_argument, 0, 'n'},
                                              {"yes", no_argument, 0, 'y'},
                                              {"new", no_argument, 0, 'N'},
                                              {"tag", required_argument, 0, 't'},
                                              {"ranks-per-point", required_argument, 0, 'K'},
                                              {0, 0, 0, 0}};
    int c;
    strata_err err = {0};
    char *end;
    memset(a, 0, sizeof *a);
    a->jobs = 1;
    a->ranks_per_point = 1;
    a->sets = calloc(argc, sizeof *a->sets);
    a->tags = calloc(argc, sizeof *a->tags);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "s:j:", longopts, NULL)) != -1) {
        if (c == 's' && experiment_override_syntax(optarg, &err))
            return cli_fail(&err);
        else if (c == 's')
            a->sets[a->n_sets++] = optarg;
        else if (c == 'j') {
            a->jobs = (int)strtol(optarg, &end, 10);
            if (*end || a->jobs < 1 || a->jobs > 64)
                return cli_usage(&cmd_sweep, "--jobs: expected an integer from 1 to 64, got '%s'", optarg);
        } else if (c == 'K') {
            a->ranks_per_point = (int)strtol(optarg, &end, 10);
            if (*end || a->ranks_per_point < 1 || a->ranks_per_point > 4096)
                return cli_usage(&cmd_sweep, "--ranks-per-point: expected an integer from 1 to 4096, got '%s'", optarg);
        } else if (c == 'n')
            a->dry_run = 1;
        else if (c == 'y')
            a->yes = 1;
        else if (c == 'N')
            a->fresh = 1;
        else if (c == 't' && optarg[0] != '=' && strchr(optarg, '='))
            a->tags[a->n_tags++] = optarg;
        else if (c == 't')
            return cli_usage(&cmd_sweep, "--tag: expected KEY=VALUE, got '%s'", optarg);
        else
            return cli_usage(&cmd_sweep, "unknown option or missing value '%s'", argv[optind - 1]);
    }
    if (optind != argc - 1)
        return cli_usage(&cmd_sweep, "expected one EXPERIMENT.yaml");
    a->file = argv[optind];
    return 0;
}

/* ---- one point ------------------------------------------------------------- */

static void set_int(ynode *root, const char *path, int v)
{
    char buf[32];
    strata_err e;
    snprintf(buf, sizeof buf, "%d", v);
    ynode_assign(root, path, ynode_scalar(buf, "sweep", 1, 1), &e);
}

/* The sweep's --tag options on a point's run that it continues. */
static int tag_run(const char *db_path, int64_t run_id, const sweep_args *a, strata_err *err)
{
    results *db;
    if (!a->n_tags)
        return 0;
    if (results_open(db_path, &db, err))
        return -1;
    int rc = results_tags_set_args(db, run_id, a->tags, a->n_tags, err);
    results_close(db);
    return rc;
}

/* Run (or resume) one point in this process; returns an exit status. */
static int run_point(const char *file, const ynode *root, const sweep_point *p, int64_t sweep_id,
                     const sweep_args *a, const char *db_path)
{
    int jobs = a->jobs;
    strata_err err = {0};
    ynode *tree = sweep_point_tree(root, p, &err);
    if (!tree)
        return cli_fail(&err);
    const ynode *th = ynode_at(tree, "train.threads");
    long threads = 2;
    if (th)
        ynode_long(th, &threads);
    if (jobs > 1)
        set_int(tree, "train.threads", threads / jobs > 0 ? (int)(threads / jobs) : 1);
    results *db;
    results_point ps;
    if (results_open(db_path, &db, &err))
        return cli_fail(&err);
    int found = results_sweep_point(db, sweep_id, p->label, &ps, &err);
    results_close(db);
    if (found)
        return cli_fail(&err);
    const ynode *ep = ynode_at(tree, "train.epochs");
    long epochs = 10;
    if (ep)
        ynode_long(ep, &epochs);
    if (ps.run_id && tag_run(db_path, ps.run_id, a, &err)) {
        ynode_free(tree);
        return cli_fail(&err);
    }
    if (ps.run_id && ps.epochs >= epochs) { /* killed after its last epoch, before its status */
        ynode_free(tree);
        if (results_open(db_path, &db, &err) || results_run_status(db, ps.run_id, "finished", &err))
            return cli_fail(&err);
        results_close(db);
        return 0;
    }
    if (ps.run_id && ps.epochs < epochs) { /* resume knows a run killed before its first checkpoint or row */
        char id[32];
        snprintf(id, sizeof id, "%lld", (long long)ps.run_id);
        ynode_free(tree);
        printf("sweep %lld: resuming run %s (%s) at epoch %d\n", (long long)sweep_id, id, p->label, ps.epochs + 1);
        fflush(stdout);
        return strata_resume(db_path, id, (int)epochs - ps.epochs, &err) ? cli_fail(&err) : 0;
    }
    session s;
    char name[512];
    int rc = 0;
    if (session_prepare_tree(&s, tree, file, cli_plugin_dir, &err) == 0) {
        snprintf(name, sizeof name, "%s[%s]", s.x.name, p->label);
        s.sweep_id = sweep_id;
        s.sweep_point = p->label;
        if (session_begin_run(&s, name, &err) == 0 &&
            results_tags_set_args(s.db, s.run_id, a->tags, a->n_tags, &err) == 0) {
            printf("sweep %lld: run %lld %s\n", (long long)sweep_id, (long long)s.run_id, name);
            fflush(stdout);
            rc = session_run_epochs(&s, 1, s.x.train.epochs, &err) ? cli_fail(&err) : 0;
        } else
            rc = cli_fail(&err);
    } else
        rc = cli_fail(&err);
    session_free(&s);
    return rc;
}

/* ---- the sweep ------------------------------------------------------------- */

/* Check every point's configuration before anything runs. */
static int check_points(const experiment *x, const sweep_plan *plan, strata_err *err)
{
    for (int i = 0; i < plan->n; i++) {
        ynode *t = sweep_point_tree(x->root, &plan->points[i], err);
        if (!t || session_check_tree(t, x->path, cli_plugin_dir, err))
            return -1;
    }
    return 0;
}

static int list_points(const sweep_plan *plan, results *db, int64_t sweep_id, strata_err *err)
{
    printf("%5s  %-12s %7s  %s\n", "point", "state", "run", "overrides");
    for (int i = 0; i < plan->n; i++) {
        results_point ps = {0};
        if (db && sweep_id && results_sweep_point(db, sweep_id, plan->points[i].label, &ps, err))
            return -1;
        char run[32] = "-";
        if (ps.run_id)
            snprintf(run, sizeof run, "%lld", (long long)ps.run_id);
        printf("%5d  %-12s %7s  %s\n", i + 1, ps.run_id ? ps.status : "new", run, plan->points[i].label);
    }
    return 0;
}

/* Wait for one child (through Ctrl-C: the children finish their batch and
 * record the interruption); 1 when it did not finish cleanly. */
static int reap_one(void)
{
    int status;
    pid_t pid;
    while ((pid = wait(&status)) < 0 && errno == EINTR)
        ;
    return pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

/* Run the points that need it, at most jobs at a time, each in a child.
 * Returns the number of points that did not finish; -1 (err set) when the
 * database cannot say where a point stands. */
static int run_points(const experiment *x, const sweep_plan *plan, int64_t sweep_id, const sweep_args *a,
                      const char *db_path, results *db, strata_err *err)
{
    int jobs = a->jobs;
    int running = 0, failures = 0;
    for (int i = 0; i < plan->n; i++) {
        results_point ps;
        if (results_sweep_point(db, sweep_id, plan->points[i].label, &ps, err)) {
            failures = -1;
            break;
        }
        if (ps.run_id && !strcmp(ps.status, "finished")) {
            printf("sweep %lld: point %d (%s) finished as run %lld, skipped\n", (long long)sweep_id, i + 1,
                   plan->points[i].label, (long long)ps.run_id);
            continue;
        }
        fflush(stdout);
        fflush(stderr);
        if (running == jobs) {
            failures += reap_one();
            running--;
        }
        if (session_stopping()) {
            failures++;
            break;
        }
        pid_t pid = fork();
        if (pid == 0)
            _exit(run_point(x->path, x->root, &plan->points[i], sweep_id, a, db_path));
        if (pid < 0) {
            fprintf(stderr, "strata: cannot start a process for point %d\n", i + 1);
            failures++;
            continue;
        }
        running++;
    }
    while (running > 0) {
        int failed = reap_one();
        failures += failures >= 0 ? failed : 0;
        running--;
    }
    return failures;
}

/* The sweep's overrides as recorded in sweeps.overrides: "-s A -s B" in
 * the order given (later ones win, so the order is part of it). */
static char *overrides_text(const sweep_args *a)
{
    size_t n = 1;
    for (int i = 0; i < a->n_sets; i++)
        n += strlen(a->sets[i]) + 4;
    char *t = calloc(1, n);
    for (int i = 0; t && i < a->n_sets; i++) {
        if (i)
            strcat(t, " ");
        strcat(t, "-s ");
        strcat(t, a->sets[i]);
    }
    return t;
}

/* Find or create the sweep and say which: continued, new, or new with
 * --new or other overrides than an earlier one. */
static int open_sweep(const sweep_args *a, const char *file, const char *grid, results *db, int64_t *id,
                      strata_err *err)
{
    int64_t other;
    char *ov = overrides_text(a);
    if (!ov)
        return err_set(err, STRATA_ERR_RUNTIME, "out of memory");
    int rc = results_sweep_find(db, file, grid, ov, a->fresh ? RESULTS_SWEEP_NEW : RESULTS_SWEEP_CREATE, id, &other,
                                err);
    free(ov);
    if (rc)
        return -1;
    if (!other)
        printf("new sweep %lld\n", (long long)*id);
    else if (other == *id)
        printf("continuing sweep %lld (same file, grid and overrides)\n", (long long)*id);
    else if (a->fresh)
        printf("new sweep %lld (--new; sweep %lld has the same file and grid)\n", (long long)*id, (long long)other);
    else
        printf("new sweep %lld (overrides differ from sweep %lld)\n", (long long)*id, (long long)other);
    return 0;
}

/* The sweep's points at the end: point, run, status, best val_acc, epoch. */
static int print_results(results *db, int64_t sweep_id, strata_err *err)
{
    results_table t;
    if (results_sweep_table(db, sweep_id, &t, err))
        return -1;
    printf("\nsweep %lld:\n%7s  %-11s %12s %10s  %s\n", (long long)sweep_id, "run", "status", "best_val_acc",
           "best_epoch", "point");
    for (int i = 0; i < t.n_rows; i++) {
        const results_value *v = results_cell(&t, i, 0);
        char acc[32] = "-", ep[32] = "-";
        if (results_cell(&t, i, 3)->type == RESULTS_REAL)
            snprintf(acc, sizeof acc, "%.4f", results_cell(&t, i, 3)->d);
        if (results_cell(&t, i, 4)->type == RESULTS_INT)
            snprintf(ep, sizeof ep, "%lld", (long long)results_cell(&t, i, 4)->i);
        printf("%7lld  %-11s %12s %10s  %s\n", (long long)results_cell(&t, i, 1)->i,
               results_cell(&t, i, 2)->type == RESULTS_TEXT ? results_cell(&t, i, 2)->s : "-", acc, ep,
               v->type == RESULTS_TEXT ? v->s : "-");
    }
    results_table_free(&t);
    fflush(stdout);
    return 0;
}

/* sched: under mpirun, rank 0's scheduler of the worker groups (NULL: one
 * process, the points in child processes). */
static int sweep(const sweep_args *a, sweep_sched *sched, strata_err *err)
{
    experiment x;
    sweep_plan plan = {0};
    results *db = NULL;
    int rc = -1;
    if (experiment_load(a->file, a->sets, a->n_sets, &x, err))
        goto out;
    if (!x.sweep) {
        err_set(err, STRATA_ERR_CONFIG, "%s: no sweep section (sweep: {grid: {...}} or {points: [...]})", a->file);
        goto out;
    }
    long count = sweep_count(x.sweep);
    if (count > SWEEP_MAX_UNASKED && !a->yes) {
        err_set(err, STRATA_ERR_CONFIG, "%s: the sweep has %ld points; pass --yes to run more than %d", a->file,
                count, SWEEP_MAX_UNASKED);
        goto out;
    }
    if (sweep_plan_build(x.sweep, &plan, err) || check_points(&x, &plan, err))
        goto out;
    char abs[PATH_MAX];
    const char *file = realpath(a->file, abs) ? abs : a->file;
    char *grid = ynode_emit(x.sweep), *ov = overrides_text(a);
    int64_t sweep_id = 0, other;
    if (a->dry_run) { /* looks, records nothing */
        int bad = access(x.results.db_path, F_OK) == 0 && !a->fresh &&
                  (results_open(x.results.db_path, &db, err) ||
                   results_sweep_find(db, file, grid, ov ? ov : "", RESULTS_SWEEP_FIND, &sweep_id, &other, err));
        free(grid);
        free(ov);
        if (!bad)
            rc = list_points(&plan, db, sweep_id, err);
        goto out;
    }
    free(ov);
    if (results_open(x.results.db_path, &db, err) || open_sweep(a, file, grid, db, &sweep_id, err)) {
        free(grid);
        goto out;
    }
    free(grid);
    if (sched)
        printf("sweep %lld: %d points, %d at a time on %d ranks of %d each, db %s\n", (long long)sweep_id, plan.n,
               sched->groups_left, sched->groups_left * a->ranks_per_point, a->ranks_per_point, x.results.db_path);
    else
        printf("sweep %lld: %d points, %d at a time, db %s\n", (long long)sweep_id, plan.n, a->jobs, x.results.db_path);
    fflush(stdout);
    int failures;
    if (sched) {
        *sched = (sweep_sched){.file = x.path, .root = x.root, .plan = &plan, .sweep_id = sweep_id, .tags = a->tags,
                               .n_tags = a->n_tags, .groups_left = sched->groups_left};
        failures = sweep_ranks_schedule(sched, db, err);
    } else
        failures = run_points(&x, &plan, sweep_id, a, x.results.db_path, db, err);
    if (failures >= 0 && print_results(db, sweep_id, err))
        failures = -1;
    if (failures > 0)
        err_set(err, STRATA_ERR_RUNTIME, "sweep %lld: %d points did not finish (run the sweep again to resume them)",
                (long long)sweep_id, failures);
    rc = failures ? -1 : 0;
out:
    if (db)
        results_close(db);
    sweep_plan_free(&plan);
    experiment_free(&x);
    return rc;
}

/* Under mpirun: rank 0 runs the sweep as the scheduler, the others work
 * in groups. Option errors are said once, by rank 0; every rank exits with
 * the same status. */
static int sweep_over_ranks(const sweep_args *a, int *argc, char ***argv)
{
    strata_err err = {0};
    int rc = dist_init(argc, argv);
    if (rc)
        return rc;
    int groups = sweep_ranks_groups(dist_world_size(), a->ranks_per_point, &err);
    if (!groups || a->jobs > 1) {
        if (dist_world_rank() == 0 && groups)
            cli_usage(&cmd_sweep, "--jobs: not with mpirun (the ranks are the jobs; see --ranks-per-point)");
        else if (dist_world_rank() == 0)
            cli_fail(&err);
        dist_finalize();
        return STRATA_ERR_CONFIG;
    }
    sweep_ranks_split(a->ranks_per_point);
    if (dist_world_rank() != 0)
        rc = sweep_ranks_work();
    else {
        sweep_sched sched = {.groups_left = groups};
        if (sweep(a, &sched, &err))
            rc = cli_fail(&err);
        sweep_ranks_release(&sched);
    }
    dist_finalize();
    return rc;
}

static int run(int argc, char **argv)
{
    sweep_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc == 0 && dist_launcher_size() > 1) {
        session_catch_signals();
        rc = sweep_over_ranks(&a, &argc, &argv);
    } else if (rc == 0 && a.ranks_per_point > 1)
        rc = cli_usage(&cmd_sweep, "--ranks-per-point %d: only under mpirun (mpirun -np N strata sweep ...)",
                       a.ranks_per_point);
    else if (rc == 0) {
        strata_err err = {0};
        session_catch_signals();
        if (sweep(&a, NULL, &err))
            rc = cli_fail(&err);
    }
    free(a.sets);
    free(a.tags);
    return rc;
}

const cli_command cmd_sweep = {"sweep", "run every point of an experiment's sweep as linked runs", run, usage};
