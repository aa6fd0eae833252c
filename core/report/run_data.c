/* run_data.c — one run, read for a report (run_data.h). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report/run_data.h"
#include "store/manage.h"
#include "store/report_queries.h"
#include "plot/svg.h"

const char *const run_metric_names[RUN_METRICS] = {"train_acc", "val_acc", "train_loss", "val_loss", "lr"};

const results_value *table_field(const results_table *t, int row, const char *name)
{
    for (int c = 0; row < t->n_rows && c < t->n_cols; c++)
        if (!strcmp(t->names[c], name))
            return results_cell(t, row, c);
    return NULL;
}

const char *value_text(const results_value *v, char *buf, int size)
{
    if (!v || v->type == RESULTS_NULL)
        snprintf(buf, size, "%s", "");
    else if (v->type == RESULTS_INT)
        snprintf(buf, size, "%lld", (long long)v->i);
    else if (v->type == RESULTS_REAL)
        svg_number(v->d, buf, size);
    else
        snprintf(buf, size, "%s", v->s);
    return buf;
}

void run_confusion_free(run_confusion *c)
{
    for (int k = 0; k < c->n && c->names; k++)
        free(c->names[k]);
    free(c->names);
    free(c->count);
    memset(c, 0, sizeof *c);
}

static int class_index(const run_confusion *c, const char *name)
{
    for (int k = 0; k < c->n; k++)
        if (!strcmp(c->names[k], name))
            return k;
    return -1;
}

/* Names from the eval's classes, counts from its confusion rows. */
static int fill_confusion(const results_table *classes, const results_table *cells, run_confusion *c,
                          strata_err *err)
{
    c->n = classes->n_rows;
    c->names = calloc(c->n ? c->n : 1, sizeof *c->names);
    c->count = calloc((size_t)(c->n ? c->n : 1) * (c->n ? c->n : 1), sizeof *c->count);
    if (!c->names || !c->count)
        return err_set(err, STRATA_ERR_RUNTIME, "out of memory for a confusion matrix");
    char buf[512];
    for (int k = 0; k < c->n; k++)
        if (!(c->names[k] = strdup(value_text(results_cell(classes, k, 0), buf, sizeof buf))))
            return err_set(err, STRATA_ERR_RUNTIME, "out of memory for a confusion matrix");
    for (int r = 0; r < cells->n_rows; r++) {
        char a[512], b[512];
        int t = class_index(c, value_text(results_cell(cells, r, 0), a, sizeof a));
        int p = class_index(c, value_text(results_cell(cells, r, 1), b, sizeof b));
        const results_value *n = results_cell(cells, r, 2);
        if (t < 0 || p < 0)
            return err_set(err, STRATA_ERR_RUNTIME, "eval %lld: confusion row '%s' -> '%s' names a class"
                           " missing from eval_classes", (long long)c->eval_id, a, b);
        c->count[(size_t)t * c->n + p] = n->type == RESULTS_INT ? n->i : (int64_t)llround(n->d);
    }
    return 0;
}

int run_confusion_load(results *db, int64_t id, int64_t eval_id, run_confusion *c, strata_err *err)
{
    results_table ev, classes = {0}, cells = {0};
    memset(c, 0, sizeof *c);
    if (results_eval_row(db, id, eval_id, &ev, err))
        return -1;
    int rc = 0;
    if (ev.n_rows == 1) {
        c->eval_id = results_cell(&ev, 0, 0)->i;
        rc = results_eval_classes(db, c->eval_id, &classes, err) ||
             results_eval_confusion(db, c->eval_id, &cells, err) || fill_confusion(&classes, &cells, c, err);
    }
    results_table_free(&ev);
    results_table_free(&classes);
    results_table_free(&cells);
    if (rc)
        run_confusion_free(c);
    return rc ? -1 : 0;
}

static int load_curves(results *db, run_data *d, strata_err *err)
{
    for (int m = 0; m < RUN_METRICS; m++) {
        int n;
        double *x;
        if (results_series(db, d->id, run_metric_names[m], &n, &x, &d->metric[m], err))
            return -1;
        if (m == 0)
            d->epoch = x, d->n_epochs = n;
        else
            free(x);
    }
    results_table t;
    if (results_resume_points(db, d->id, &t, err))
        return -1;
    d->resumes = malloc((t.n_rows ? t.n_rows : 1) * sizeof *d->resumes);
    for (int r = 0; d->resumes && r < t.n_rows; r++)
        d->resumes[d->n_resumes++] = (double)results_cell(&t, r, 0)->i;
    results_table_free(&t);
    return d->resumes ? 0 : err_set(err, STRATA_ERR_RUNTIME, "out of memory");
}

int run_data_load(results *db, int64_t id, run_data *d, strata_err *err)
{
    memset(d, 0, sizeof *d);
    d->id = id;
    d->db = results_path(db);
    if (results_get_run(db, id, &d->rec, err) || results_summary_row(db, id, &d->summary, err) ||
        results_params_table(db, id, &d->params, err) || results_tags_table(db, id, &d->tags, err) ||
        results_eval_row(db, id, 0, &d->eval, err) ||
        results_last_epoch_classes(db, id, &d->epoch_classes, err) || load_curves(db, d, err) ||
        run_confusion_load(db, id, 0, &d->confusion, err))
        return run_data_free(d), -1;
    if (d->eval.n_rows == 1 && results_eval_classes(db, results_cell(&d->eval, 0, 0)->i, &d->eval_classes, err))
        return run_data_free(d), -1;
    return 0;
}

void run_data_free(run_data *d)
{
    run_record_free(&d->rec);
    results_table_free(&d->summary);
    results_table_free(&d->params);
    results_table_free(&d->tags);
    results_table_free(&d->eval);
    results_table_free(&d->eval_classes);
    results_table_free(&d->epoch_classes);
    run_confusion_free(&d->confusion);
    free(d->epoch);
    for (int m = 0; m < RUN_METRICS; m++)
        free(d->metric[m]);
    free(d->resumes);
    memset(d, 0, sizeof *d);
}
