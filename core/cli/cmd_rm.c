/* cmd_rm.c — `strata rm RUN... [--yes]`: delete runs, their rows in every
 * table and their checkpoint folders. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"
#include "config/yaml_tree.h"
#include "store/manage.h"

static const char usage[] =
    "usage: strata rm RUN... [--yes] [--db PATH]\n"
    "\n"
    "Delete runs (ids or names): each run's rows in every table of the results\n"
    "database (runs, epochs, run_classes, run_samples, run_skipped, run_params,\n"
    "run_tags, epoch_classes, evals and their eval_classes, eval_confusion,\n"
    "eval_predictions), in one transaction per run, then its checkpoint folder\n"
    "RESULTS_DIR/checkpoints/ID (results.dir of the run's configuration, relative\n"
    "to the current folder as when it ran). A run resumed from it (parent_id)\n"
    "keeps its rows and loses the link. A run that is still running is refused.\n"
    "Asks before deleting unless --yes; without a terminal to ask on, --yes is\n"
    "required.\n"
    "\n"
    "  --yes       delete without asking\n"
    "  --db PATH   the results database (default: env STRATA_DB, else " RESULTS_DEFAULT_DB ")\n"
    "\n"
    "Exit status: 0 deleted, 1 runtime failure or not confirmed, 2 usage error,\n"
    "an unknown run or a running one (nothing is deleted then).\n";

typedef struct rm_args {
    const char *db;
    int yes, n_runs;
    char **runs;
} rm_args;

static int parse_args(int argc, char **argv, rm_args *a)
{
    static const struct option longopts[] = {
        {"db", required_argument, 0, 'd'}, {"yes", no_argument, 0, 'y'}, {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (ch == 'd')
            a->db = optarg;
        else if (ch == 'y')
            a->yes = 1;
        else
            return cli_usage(&cmd_rm, "unknown option or missing value '%s'", argv[optind - 1]);
    }
    a->runs = argv + optind;
    a->n_runs = argc - optind;
    if (a->n_runs < 1)
        return cli_usage(&cmd_rm, "expected at least one RUN");
    return 0;
}

/* One run to delete: its id, record and checkpoint folder. */
typedef struct doomed {
    int64_t id;
    run_record rec;
    char checkpoints[4096];
} doomed;

/* RESULTS_DIR/checkpoints/ID, results.dir read from the stored config. */
static void checkpoint_dir(doomed *d)
{
    strata_err ignored = {0};
    ynode *root = yaml_load_string(d->rec.config ? d->rec.config : "", "config", &ignored);
    const ynode *dir = root ? ynode_at(root, "results.dir") : NULL;
    const char *text = dir && dir->kind == YNODE_SCALAR && dir->str[0] ? dir->str : RESULTS_DEFAULT_DIR;
    snprintf(d->checkpoints, sizeof d->checkpoints, "%s/checkpoints/%lld", text, (long long)d->id);
    ynode_free(root);
}

/* Look up every run first: an unknown or running one deletes nothing. */
static int find_runs(results *db, const rm_args *a, doomed *d, strata_err *err)
{
    for (int i = 0; i < a->n_runs; i++) {
        if (results_find_run(db, a->runs[i], &d[i].id, err) || results_get_run(db, d[i].id, &d[i].rec, err))
            return -1;
        if (d[i].rec.status && !strcmp(d[i].rec.status, "running"))
            return err_set(err, STRATA_ERR_CONFIG, "%s: run %lld (%s) is running (pid %lld on %s); stop it first",
                           results_path(db), (long long)d[i].id, d[i].rec.name ? d[i].rec.name : "",
                           (long long)d[i].rec.pid, d[i].rec.host ? d[i].rec.host : "?");
        checkpoint_dir(&d[i]);
    }
    return 0;
}

/* Ask on the terminal; 1 when the answer is y or yes. */
static int confirmed(const doomed *d, int n)
{
    for (int i = 0; i < n; i++)
        fprintf(stderr, "run %lld: %s (%s, %s), checkpoints %s\n", (long long)d[i].id,
                d[i].rec.name ? d[i].rec.name : "", d[i].rec.model ? d[i].rec.model : "",
                d[i].rec.status ? d[i].rec.status : "", d[i].checkpoints);
    fprintf(stderr, "delete %s? [y/N] ", n == 1 ? "this run" : "these runs");
    char line[32];
    if (!fgets(line, sizeof line, stdin))
        return 0;
    line[strcspn(line, "\n")] = 0;
    return !strcmp(line, "y") || !strcmp(line, "yes");
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int remove_checkpoints(const doomed *d, strata_err *err)
{
    if (access(d->checkpoints, F_OK) != 0)
        return 0;
    if (nftw(d->checkpoints, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        return err_set(err, STRATA_ERR_RUNTIME, "%s: cannot delete run %lld's checkpoints: %s", d->checkpoints,
                       (long long)d->id, strerror(errno));
    return 0;
}

static int delete_runs(results *db, doomed *d, int n, strata_err *err)
{
    for (int i = 0; i < n; i++) {
        if (results_run_delete(db, d[i].id, err) || remove_checkpoints(&d[i], err))
            return -1;
        printf("deleted run %lld (%s) and %s\n", (long long)d[i].id, d[i].rec.name ? d[i].rec.name : "",
               d[i].checkpoints);
    }
    return 0;
}

static int rm_run(int argc, char **argv)
{
    rm_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc;
    if (!a.yes && !isatty(STDIN_FILENO))
        return cli_usage(&cmd_rm, "standard input is not a terminal to ask on; give --yes to delete without asking");
    results *db = NULL;
    strata_err err = {0};
    doomed *d = calloc(a.n_runs, sizeof *d);
    if (!d)
        return cli_fail(&(strata_err){STRATA_ERR_RUNTIME, "out of memory"});
    rc = cli_db_open(a.db, &db, &err) || find_runs(db, &a, d, &err);
    if (!rc && !a.yes && !confirmed(d, a.n_runs))
        rc = err_set(&err, STRATA_ERR_RUNTIME, "rm: not confirmed; nothing deleted");
    if (!rc)
        rc = delete_runs(db, d, a.n_runs, &err);
    for (int i = 0; i < a.n_runs; i++)
        run_record_free(&d[i].rec);
    free(d);
    results_close(db);
    return rc ? cli_fail(&err) : 0;
}

const cli_command cmd_rm = {"rm", "delete runs: their rows and checkpoints", rm_run, usage};
