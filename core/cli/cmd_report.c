/* cmd_report.c — `strata report`: one self-contained HTML page about runs. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/cli.h"
#include "report/report.h"
#include "store/results.h"

static const char usage[] =
    "usage: strata report RUN|DB:RUN... -o FILE.html [--title TEXT] [--intro FILE] [--db PATH]\n"
    "       strata report --sweep ID -o FILE.html [--title TEXT] [--intro FILE] [--db PATH]\n"
    "\n"
    "Write one self-contained HTML page (no network, no scripts, no external\n"
    "fonts; it opens from disk in any browser) about the RUNs (ids, or the\n"
    "newest run of a name) or every run of sweep ID. A RUN written DB:RUN is a\n"
    "run of another database (DB a path containing '/' or ending in .db, or an\n"
    "existing file): runs kept in several databases go on one page, each named\n"
    "with its database and charted with the other runs of its database.\n"
    "\n"
    "The page has a table of the runs (model, parameters, the hyper-parameters\n"
    "that differ, best and last val_acc, time, images/s, status, and their tags\n"
    "and notes from `strata tag` and `strata note`); per sweep,\n"
    "accuracy, loss and learning-rate curves as inline SVG (hover a point for\n"
    "its value; a ring marks each run's best epoch); confusion matrices and\n"
    "per-class accuracy where the runs have evaluations or per-class counts;\n"
    "the machine writing the report (CPU, ISA path, BLAS kernel, threads), the\n"
    "strata version and each run's experiment, collapsed.\n"
    "\n"
    "  -o, --output FILE   the HTML file to write (replaced atomically)\n"
    "  --sweep ID          every run of this sweep, instead of RUNs\n"
    "  --title TEXT        the page's title (default: strata report)\n"
    "  --intro FILE        plain text shown under the title; blank lines separate\n"
    "                      paragraphs (what the runs are for, what they show)\n"
    "  --db PATH           the results database (default: env STRATA_DB, else " RESULTS_DEFAULT_DB ")\n"
    "  -h, --help          this text\n";

/* The databases a report reads, each opened once when first needed: the
 * --db one (for plain RUNs and --sweep) and each DB of a DB:RUN. */
typedef struct report_dbs {
    const char *db_opt; /* --db */
    results *main;      /* the --db (or STRATA_DB, or default) database */
    results *db[64];    /* the others */
    int n;
} report_dbs;

typedef struct report_args {
    const char *out, *sweep, *db, *title, *intro;
    char **runs;
    int n_runs;
} report_args;

static int parse_args(int argc, char **argv, report_args *a)
{
    static const struct option longopts[] = {{"output", required_argument, 0, 'o'},
                                             {"sweep", required_argument, 0, 's'},
                                             {"db", required_argument, 0, 'd'},
                                             {"title", required_argument, 0, 't'},
                                             {"intro", required_argument, 0, 'i'},
                                             {0, 0, 0, 0}};
    int c;
    memset(a, 0, sizeof *a);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': a->out = optarg; break;
        case 's': a->sweep = optarg; break;
        case 'd': a->db = optarg; break;
        case 't': a->title = optarg; break;
        case 'i': a->intro = optarg; break;
        default: return cli_usage(&cmd_report, "unknown option or missing value '%s'", argv[optind - 1]);
        }
    }
    if (!a->out || !*a->out)
        return cli_usage(&cmd_report, "expected -o FILE.html, the page to write");
    a->runs = argv + optind;
    a->n_runs = argc - optind;
    if (!a->sweep == !a->n_runs)
        return cli_usage(&cmd_report, "expected RUN... or --sweep ID (not both)");
    if (a->sweep && strspn(a->sweep, "0123456789") != strlen(a->sweep))
        return cli_usage(&cmd_report, "--sweep: expected a sweep id (a number), got '%s'", a->sweep);
    return 0;
}

/* Does RUN name a run of another database, "DB:RUN"? Then DB is in path
 * (size PATH_MAX_REF) and the run's name or id follows it in arg. DB is a
 * path with a '/', a name ending in .db or an existing file; anything else
 * is a run name (which may hold a ':'). */
#define PATH_MAX_REF 4096
static int db_ref(const char *arg, char *path)
{
    const char *colon = strrchr(arg, ':');
    if (!colon || colon == arg || !colon[1])
        return 0;
    size_t n = (size_t)(colon - arg);
    struct stat sb;
    if (n >= PATH_MAX_REF)
        return 0;
    memcpy(path, arg, n), path[n] = 0;
    return memchr(arg, '/', n) || (n > 3 && !memcmp(arg + n - 3, ".db", 3)) || stat(path, &sb) == 0;
}

/* Is r's file the one sb describes (however the paths are spelt)? */
static int same_file(results *r, const struct stat *sb)
{
    struct stat rb;
    return r && stat(results_path(r), &rb) == 0 && rb.st_dev == sb->st_dev && rb.st_ino == sb->st_ino;
}

/* The open database at path (opening it the first time). */
static int db_for(report_dbs *dbs, const char *path, results **out, strata_err *err)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return err_set(err, STRATA_ERR_CONFIG, "%s: %s (expected a results database before the ':' of DB:RUN)",
                       path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return err_set(err, STRATA_ERR_CONFIG, "%s: not a regular file (expected a results database before the "
                       "':' of DB:RUN)", path);
    if (same_file(dbs->main, &sb))
        return *out = dbs->main, 0;
    for (int k = 0; k < dbs->n; k++)
        if (same_file(dbs->db[k], &sb))
            return *out = dbs->db[k], 0;
    if (dbs->n == (int)(sizeof dbs->db / sizeof *dbs->db))
        return err_set(err, STRATA_ERR_CONFIG, "%s: too many databases in one report (at most %d)", path, dbs->n);
    if (results_open_existing(path, &dbs->db[dbs->n], err))
        return -1;
    *out = dbs->db[dbs->n++];
    return 0;
}

/* The --db database (opening it the first time). */
static int main_db(report_dbs *dbs, results **out, strata_err *err)
{
    if (!dbs->main && cli_db_open(dbs->db_opt, &dbs->main, err))
        return -1;
    *out = dbs->main;
    return 0;
}

/* One RUN argument: a run of the --db database, or DB:RUN. */
static int one_run(report_dbs *dbs, const char *arg, report_run *r, strata_err *err)
{
    char path[PATH_MAX_REF];
    if (!db_ref(arg, path))
        return main_db(dbs, &r->db, err) || results_find_run(r->db, arg, &r->id, err) ? -1 : 0;
    return db_for(dbs, path, &r->db, err) || results_find_run(r->db, arg + strlen(path) + 1, &r->id, err) ? -1 : 0;
}

/* The runs: the RUNs given, or the runs of the sweep. */
static int report_runs(report_dbs *dbs, const report_args *a, report_run **runs, int *n, strata_err *err)
{
    results_table t = {0};
    results *db = NULL;
    if (a->sweep && (main_db(dbs, &db, err) || results_runs_table(db, NULL, a->sweep, NULL, NULL, &t, err)))
        return -1;
    *n = a->sweep ? t.n_rows : a->n_runs;
    *runs = calloc(*n ? *n : 1, sizeof **runs);
    int rc = *runs ? 0 : err_set(err, STRATA_ERR_RUNTIME, "out of memory");
    for (int k = 0; rc == 0 && k < *n; k++)
        rc = a->sweep ? ((*runs)[k] = (report_run){db, results_cell(&t, k, 0)->i}, 0)
                      : one_run(dbs, a->runs[k], &(*runs)[k], err);
    results_table_free(&t);
    if (rc == 0 && *n == 0)
        rc = err_set(err, STRATA_ERR_CONFIG, "%s: --sweep %s: no runs in that sweep", results_path(db), a->sweep);
    return rc;
}

static int report(const report_args *a, strata_err *err)
{
    report_dbs dbs = {.db_opt = a->db};
    report_run *runs = NULL;
    report_options o = {a->title, NULL};
    int n = 0;
    if (a->intro && !(o.intro = cli_read_text(a->intro, "--intro", err)))
        return -1;
    int rc = report_runs(&dbs, a, &runs, &n, err) || report_write(runs, n, &o, a->out, err);
    free((char *)o.intro);
    if (dbs.main)
        results_close(dbs.main);
    for (int k = 0; k < dbs.n; k++)
        results_close(dbs.db[k]);
    free(runs);
    if (rc == 0)
        printf("%s: %d run%s\n", a->out, n, n == 1 ? "" : "s");
    return rc ? -1 : 0;
}

static int run(int argc, char **argv)
{
    report_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc == 0) {
        strata_err err = {0};
        if (report(&a, &err))
            rc = cli_fail(&err);
    }
    return rc;
}

const cli_command cmd_report = {"report", "write one self-contained HTML page about runs or a sweep", run, usage};
