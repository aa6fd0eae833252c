/* cmd_compare.c — `strata compare RUN... [--metric M]`: the runs' metric
 * epoch by epoch side by side, each run's best, and the parameters
 * (run_params) whose values differ between the runs. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "store/params.h"
#include "store/results.h"

static const char usage[] =
    "usage: strata compare RUN... [--metric M] [--db PATH] [--json]\n"
    "\n"
    "The runs' metric epoch by epoch side by side; then each run's best value\n"
    "of it (the highest val_acc, train_acc or images_per_sec; the lowest loss,\n"
    "lr or seconds), its epoch and the difference to the first run's best; then\n"
    "the parameters whose values differ between the runs (run_params keys such\n"
    "as optimizer.lr or model.column; keys equal in all runs are left out; '-'\n"
    "where a run lacks the key). RUN is a run id or name.\n"
    "\n"
    "  --metric M   val_acc (default), train_acc, val_loss, train_loss, lr,\n"
    "               seconds or images_per_sec\n"
    "  --db PATH    the results database (default: env STRATA_DB, else\n"
    "               " RESULTS_DEFAULT_DB ")\n"
    "  --json       {\"metric\": M, \"runs\": [{\"id\", \"name\", \"model\", \"best\",\n"
    "               \"best_epoch\", \"difference\", \"epochs\": [{\"epoch\", M}]}],\n"
    "               \"differing_params\": {KEY: [value per run]}}\n";

typedef struct compare_args {
    const char *db, *metric;
    int json, n_runs;
    char **runs;
} compare_args;

static int parse_args(int argc, char **argv, compare_args *a)
{
    static const struct option longopts[] = {{"db", required_argument, 0, 'd'},
                                              {"metric", required_argument, 0, 'm'},
                                              {"json", no_argument, 0, 'j'},
                                              {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    a->metric = "val_acc";
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (ch == 'd')
            a->db = optarg;
        else if (ch == 'm')
            a->metric = optarg;
        else if (ch == 'j')
            a->json = 1;
        else
            return cli_usage(&cmd_compare, "unknown option or missing value '%s'", argv[optind - 1]);
    }
    a->runs = argv + optind;
    a->n_runs = argc - optind;
    if (a->n_runs < 1)
        return cli_usage(&cmd_compare, "expected at least one RUN");
    if (!results_metric_known(a->metric))
        return cli_usage(&cmd_compare,
                         "--metric: expected val_acc, train_acc, val_loss, train_loss, lr, seconds or "
                         "images_per_sec, got '%s'",
                         a->metric);
    return 0;
}

/* ---- the parameters that differ ---------------------------------------------------- */

typedef struct param_sets {
    int n;                 /* runs */
    results_table *tables; /* per run: key, value ordered by key */
    int n_keys;
    const char **keys;     /* the keys that differ, sorted */
} param_sets;

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Run i's value of key (NULL when it lacks the key); tables are sorted. */
static const results_value *param_of(const param_sets *p, int i, const char *key)
{
    const results_table *t = &p->tables[i];
    int lo = 0, hi = t->n_rows - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(results_cell(t, mid, 0)->s, key);
        if (!c)
            return results_cell(t, mid, 1);
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

static int same_value(const results_value *a, const results_value *b)
{
    if (!a || !b)
        return a == b;
    int num_a = a->type == RESULTS_INT || a->type == RESULTS_REAL, num_b = b->type == RESULTS_INT || b->type == RESULTS_REAL;
    if (num_a && num_b)
        return (a->type == RESULTS_INT ? (double)a->i : a->d) == (b->type == RESULTS_INT ? (double)b->i : b->d);
    if (a->type != b->type)
        return 0;
    return a->type == RESULTS_NULL || !strcmp(a->s, b->s);
}

static int key_differs(const param_sets *p, const char *key)
{
    const results_value *first = param_of(p, 0, key);
    for (int i = 1; i < p->n; i++)
        if (!same_value(first, param_of(p, i, key)))
            return 1;
    return 0;
}

/* Every key of every run, sorted and unique, keeping those that differ. */
static int differing_keys(param_sets *p)
{
    int total = 0;
    for (int i = 0; i < p->n; i++)
        total += p->tables[i].n_rows;
    p->keys = malloc((total ? total : 1) * sizeof *p->keys);
    if (!p->keys)
        return -1;
    for (int i = 0; i < p->n; i++)
        for (int row = 0; row < p->tables[i].n_rows; row++)
            p->keys[p->n_keys++] = results_cell(&p->tables[i], row, 0)->s;
    qsort(p->keys, p->n_keys, sizeof *p->keys, cmp_str);
    int kept = 0;
    for (int k = 0; k < p->n_keys; k++)
        if ((k == 0 || strcmp(p->keys[k], p->keys[k - 1])) && key_differs(p, p->keys[k]))
            p->keys[kept++] = p->keys[k];
    p->n_keys = kept;
    return 0;
}

static int load_params(results *db, const int64_t *ids, int n, param_sets *p, strata_err *err)
{
    memset(p, 0, sizeof *p);
    p->tables = calloc(n, sizeof *p->tables);
    if (!p->tables)
        return err_set(err, STRATA_ERR_RUNTIME, "out of memory");
    for (p->n = 0; p->n < n; p->n++)
        if (results_params_table(db, ids[p->n], &p->tables[p->n], err))
            return -1;
    if (differing_keys(p))
        return err_set(err, STRATA_ERR_RUNTIME, "out of memory");
    return 0;
}

static void free_params(param_sets *p)
{
    for (int i = 0; i < p->n; i++)
        results_table_free(&p->tables[i]);
    free(p->tables);
    free(p->keys);
}

/* ---- printing ------------------------------------------------------------------------ */

static void print_params_text(const param_sets *p, const int64_t *ids)
{
    if (!p->n_keys)
        return;
    int width = 24;
    for (int k = 0; k < p->n_keys; k++)
        if ((int)strlen(p->keys[k]) > width)
            width = (int)strlen(p->keys[k]);
    printf("\n%-*s", width, "parameter");
    for (int i = 0; i < p->n; i++)
        printf(" run %-12lld", (long long)ids[i]);
    printf("\n");
    for (int k = 0; k < p->n_keys; k++) {
        printf("%-*s", width, p->keys[k]);
        for (int i = 0; i < p->n; i++) {
            const results_value *v = param_of(p, i, p->keys[k]);
            char buf[64];
            printf(" %-16s", v ? cli_value_text(v, -1, buf, sizeof buf) : "-");
        }
        printf("\n");
    }
}

static void print_params_json(const param_sets *p)
{
    printf("{");
    for (int k = 0; k < p->n_keys; k++) {
        printf("%s\n  ", k ? "," : "");
        json_string(stdout, p->keys[k]);
        printf(": [");
        for (int i = 0; i < p->n; i++) {
            const results_value *v = param_of(p, i, p->keys[k]);
            printf("%s", i ? ", " : "");
            if (v)
                cli_json_value(v, p->keys[k]);
            else
                printf("null");
        }
        printf("]");
    }
    printf("}");
}

/* The row of `best` for run id (best is ordered by run, one row per run). */
static int best_row(const results_table *best, int64_t id)
{
    for (int row = 0; row < best->n_rows; row++)
        if (results_cell(best, row, 0)->i == id)
            return row;
    return -1;
}

static void print_run_json(const compare_args *a, const results_table *epochs, const results_table *best, int i,
                           int64_t id)
{
    static const char *const keys[] = {"id", "name", "model", "best", "best_epoch", "difference"};
    int row = best_row(best, id);
    printf("%s\n  {", i ? "," : "");
    for (int c = 0; c < 6 && row >= 0; c++) {
        printf("%s\"%s\": ", c ? ", " : "", keys[c]);
        cli_json_value(results_cell(best, row, c), keys[c]);
    }
    printf(", \"epochs\": [");
    int first = 1;
    for (int e = 0; e < epochs->n_rows; e++) {
        const results_value *v = results_cell(epochs, e, 1 + i);
        if (v->type == RESULTS_NULL)
            continue;
        printf("%s{\"epoch\": %lld, ", first ? "" : ", ", (long long)results_cell(epochs, e, 0)->i);
        json_string(stdout, a->metric);
        printf(": ");
        cli_json_value(v, a->metric);
        printf("}");
        first = 0;
    }
    printf("]}");
}

static void print_compare(const compare_args *a, const int64_t *ids, const results_table *epochs,
                          const results_table *best, const param_sets *p)
{
    static const int epoch_widths[] = {5}, best_widths[] = {5, 40, 18, 12, 10, 10};
    if (!a->json) {
        cli_print_table(epochs, 0, epoch_widths, 1, 16);
        printf("\n");
        cli_print_table(best, 0, best_widths, 6, 10);
        print_params_text(p, ids);
        return;
    }
    printf("{\"metric\": ");
    json_string(stdout, a->metric);
    printf(", \"runs\": [");
    for (int i = 0; i < a->n_runs; i++)
        print_run_json(a, epochs, best, i, ids[i]);
    printf("],\n \"differing_params\": ");
    print_params_json(p);
    printf("}\n");
}

static int compare_run(int argc, char **argv)
{
    compare_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc;
    results *db = NULL;
    results_table epochs = {0}, best = {0};
    param_sets params = {0};
    strata_err err = {0};
    int64_t *ids = calloc(a.n_runs, sizeof *ids);
    if (!ids)
        return cli_fail(&(strata_err){STRATA_ERR_RUNTIME, "out of memory"});
    rc = cli_db_open(a.db, &db, &err);
    for (int i = 0; i < a.n_runs && !rc; i++)
        rc = results_find_run(db, a.runs[i], &ids[i], &err);
    if (!rc)
        rc = results_compare_tables(db, ids, a.n_runs, a.metric, &epochs, &best, &err) ||
             load_params(db, ids, a.n_runs, &params, &err);
    if (!rc)
        print_compare(&a, ids, &epochs, &best, &params);
    free_params(&params);
    results_table_free(&epochs);
    results_table_free(&best);
    free(ids);
    results_close(db);
    return rc ? cli_fail(&err) : 0;
}

const cli_command cmd_compare = {"compare", "runs' epochs side by side, their best, the parameters that differ",
                                 compare_run, usage};
