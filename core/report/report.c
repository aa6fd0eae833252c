/* report.c — the HTML page of `strata report` (report.h). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "config.h"
#include "common/isa.h"
#include "plot/atomic_file.h"
#include "plot/chart_svg.h"
#include "plot/confusion.h"
#include "plot/svg.h"
#include "report/report.h"
#include "report/run_data.h"
#include "store/manage.h"
#include "train/blas_select.h"

static const char style[] =
    "body{font-family:'DejaVu Sans',Verdana,Arial,sans-serif;margin:24px;color:#1a1a1a}"
    "table{border-collapse:collapse;margin:8px 0 16px}"
    "th,td{border:1px solid #c4c4c8;padding:4px 8px;text-align:left;font-size:13px}"
    "th{background:#f0f0f4}td.num{text-align:right;font-variant-numeric:tabular-nums}"
    "h2{margin-top:32px;border-bottom:1px solid #c4c4c8}"
    "pre{background:#f6f6f8;padding:8px;overflow:auto;font-size:12px}"
    "svg{display:block;margin:8px 0}p.intro{max-width:60em;line-height:1.45}";

/* ---- small writers ------------------------------------------------------ */

static void cell(FILE *f, const char *s, int numeric)
{
    fputs(numeric ? "<td class=\"num\">" : "<td>", f);
    markup_text(f, s);
    fputs("</td>", f);
}

static void field_cell(FILE *f, const run_data *d, const char *name, const char *fmt)
{
    const results_value *v = table_field(&d->summary, 0, name);
    char buf[512];
    if (fmt && v && (v->type == RESULTS_REAL || v->type == RESULTS_INT))
        snprintf(buf, sizeof buf, fmt, v->type == RESULTS_REAL ? v->d : (double)v->i);
    else
        value_text(v, buf, sizeof buf);
    cell(f, buf, v && v->type != RESULTS_TEXT);
}

/* A measurement: a REAL to 4 decimals, its full value in the cell's title
 * (hover); other values as they are. */
static void measurement_cell(FILE *f, const results_value *v)
{
    char buf[512];
    if (!v || v->type != RESULTS_REAL || !isfinite(v->d)) {
        cell(f, value_text(v, buf, sizeof buf), v && v->type != RESULTS_TEXT);
        return;
    }
    fputs("<td class=\"num\" title=\"", f);
    markup_text(f, value_text(v, buf, sizeof buf));
    fprintf(f, "\">%.4f</td>", v->d);
}

/* Do the runs come from more than one database? Then the page names each
 * run's database, and run ids alone no longer identify runs. */
static int many_dbs(const run_data *d, int n)
{
    for (int k = 1; k < n; k++)
        if (strcmp(d[k].db, d[0].db))
            return 1;
    return 0;
}

/* "run ID NAME", and " (DB)" when the page has several databases. */
static void run_label(FILE *f, const run_data *d, int many)
{
    fprintf(f, "run %lld ", (long long)d->id);
    markup_text(f, d->rec.name ? d->rec.name : "");
    if (many) {
        fputs(" (", f);
        markup_text(f, d->db);
        fputc(')', f);
    }
}

/* ---- the runs table ----------------------------------------------------- */

/* v as text: a TEXT value itself (whole, however long), else in buf. */
static const char *value_str(const results_value *v, char *buf, int size)
{
    return v && v->type == RESULTS_TEXT && v->s ? v->s : value_text(v, buf, size);
}

/* The value of key in run d's params (NULL when absent). */
static const char *param_of(const run_data *d, const char *key, char *buf, int size)
{
    for (int r = 0; r < d->params.n_rows; r++)
        if (!strcmp(results_cell(&d->params, r, 0)->s ? results_cell(&d->params, r, 0)->s : "", key))
            return value_str(results_cell(&d->params, r, 1), buf, size);
    return NULL;
}

/* Is key inside a list that run d also has whole: "a.b.1" or "a.b.1.c"
 * when "a.b" is a parameter (the list as JSON)? */
static int list_item(const run_data *d, const char *key)
{
    char buf[512];
    for (const char *dot = strchr(key, '.'); dot; dot = strchr(dot + 1, '.')) {
        size_t digits = strspn(dot + 1, "0123456789");
        if (digits == 0 || (dot[1 + digits] != '.' && dot[1 + digits] != 0) || dot - key >= 256)
            continue;
        char parent[256];
        snprintf(parent, sizeof parent, "%.*s", (int)(dot - key), key);
        if (param_of(d, parent, buf, sizeof buf))
            return 1;
    }
    return 0;
}

/* Does key have different values (or presence) among the runs? */
static int param_differs(const run_data *d, int n, const char *key)
{
    char a[512], b[512];
    const char *first = param_of(&d[0], key, a, sizeof a);
    for (int k = 1; k < n; k++) {
        const char *v = param_of(&d[k], key, b, sizeof b);
        if (!first != !v || (v && strcmp(first, v)))
            return 1;
    }
    return 0;
}

/* Is parameter row r of run d one the runs table shows: not an item of a
 * list shown whole, and (with several runs) different between them? */
static int param_shown(const run_data *d, int n, int k, int r)
{
    const char *key = results_cell(&d[k].params, r, 0)->s;
    return key && !list_item(&d[k], key) && (n == 1 || param_differs(d, n, key));
}

/* Values longer than this go into a collapsed list after the short ones. */
#define PARAM_INLINE 40

/* How param_list writes each parameter. */
enum { PARAM_PAIRS, PARAM_LINES, PARAM_KEYS };

/* The parameters of run d[k] the table shows, short values (long_values
 * 0) or long ones (1), written as "k=v, k=v" (PARAM_PAIRS), one "k=v" a
 * line (PARAM_LINES) or "k, k" (PARAM_KEYS) when f is not NULL; how many. */
static int param_list(FILE *f, const run_data *d, int n, int k, int long_values, int form)
{
    char buf[512];
    int count = 0;
    for (int r = 0; r < d[k].params.n_rows; r++) {
        const char *v = value_str(results_cell(&d[k].params, r, 1), buf, sizeof buf);
        if (!param_shown(d, n, k, r) || (strlen(v) > PARAM_INLINE) != long_values)
            continue;
        if (f) {
            fputs(count ? (form == PARAM_LINES ? "<br/>" : ", ") : "", f);
            markup_text(f, results_cell(&d[k].params, r, 0)->s);
            if (form != PARAM_KEYS) {
                fputc('=', f);
                markup_text(f, v);
            }
        }
        count++;
    }
    return count;
}

/* The hyper-parameters that differ between the runs, from run_params (the
 * sweep point's overrides when a run has no params): the short ones inline,
 * the long ones (lists: augmentations, layers) collapsed under their keys. */
static void differing_params(FILE *f, const run_data *d, int n, int k)
{
    char buf[512];
    if (d[k].params.n_rows == 0) {
        value_text(table_field(&d[k].summary, 0, "sweep_point"), buf, sizeof buf);
        markup_text(f, buf);
        return;
    }
    param_list(f, d, n, k, 0, PARAM_PAIRS);
    if (param_list(NULL, d, n, k, 1, PARAM_KEYS) == 0)
        return;
    fputs("<details><summary>", f);
    param_list(f, d, n, k, 1, PARAM_KEYS);
    fputs("</summary>", f);
    param_list(f, d, n, k, 1, PARAM_LINES);
    fputs("</details>", f);
}

/* "key=value, ..." of run d's tags, its note last in its own line. */
static void tags_cell(FILE *f, const run_data *d)
{
    const char *note = NULL, *sep = "";
    fputs("<td>", f);
    for (int r = 0; r < d->tags.n_rows; r++) {
        const char *key = results_cell(&d->tags, r, 0)->s, *value = results_cell(&d->tags, r, 1)->s;
        if (key && !strcmp(key, RESULTS_NOTE_KEY)) {
            note = value;
            continue;
        }
        fputs(sep, f);
        markup_text(f, key ? key : "");
        fputc('=', f);
        markup_text(f, value ? value : "");
        sep = ", ";
    }
    if (note) {
        fputs(*sep ? "<br/>" : "", f);
        markup_text(f, note);
    }
    fputs("</td>", f);
}

static void runs_table(FILE *f, const run_data *d, int n)
{
    int many = many_dbs(d, n), tags = 0;
    for (int k = 0; k < n; k++)
        tags |= d[k].tags.n_rows > 0;
    fprintf(f, "<h2 id=\"runs\">Runs</h2>\n<table><tr><th>id</th>%s<th>name</th><th>model</th><th>parameters</th>"
          "<th>hyper-parameters that differ</th><th>best val_acc</th><th>best epoch</th><th>last val_acc</th>"
          "<th>total time (s)</th><th>images/s</th><th>status</th>%s</tr>\n", many ? "<th>database</th>" : "",
            tags ? "<th>tags and note</th>" : "");
    for (int k = 0; k < n; k++) {
        char id[32];
        snprintf(id, sizeof id, "%lld", (long long)d[k].id);
        fputs("<tr>", f);
        cell(f, id, 1);
        if (many)
            cell(f, d[k].db, 0);
        cell(f, d[k].rec.name ? d[k].rec.name : "", 0);
        cell(f, d[k].rec.model ? d[k].rec.model : "", 0);
        field_cell(f, &d[k], "params", NULL);
        fputs("<td>", f);
        differing_params(f, d, n, k);
        fputs("</td>", f);
        field_cell(f, &d[k], "best_val_acc", "%.4f");
        field_cell(f, &d[k], "best_epoch", NULL);
        field_cell(f, &d[k], "last_val_acc", "%.4f");
        field_cell(f, &d[k], "total_seconds", "%.1f");
        field_cell(f, &d[k], "images_per_sec", "%.1f");
        cell(f, d[k].rec.status ? d[k].rec.status : "", 0);
        if (tags)
            tags_cell(f, &d[k]);
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

/* ---- curves ------------------------------------------------------------- */

/* One chart of the group's runs g[0..n): metric a (dashed) and b (solid,
 * with the best-epoch ring when mark), b < 0 for one metric only. */
static void curve_chart(FILE *f, const run_data *const *g, int n, int a, int b, const char *title,
                        const char *ylabel)
{
    int per = b >= 0 ? 2 : 1;
    plot_series *s = calloc((size_t)n * per, sizeof *s);
    char (*labels)[600] = calloc((size_t)n * per, sizeof *labels);
    const char **metrics = calloc((size_t)n * per, sizeof *metrics);
    if (!s || !labels || !metrics)
        goto out;
    for (int k = 0; k < n; k++)
        for (int j = 0; j < per; j++) {
            int m = j == 0 ? (b >= 0 ? b : a) : a, i = k * per + j;
            snprintf(labels[i], sizeof labels[i], "%s %lld %s", run_metric_names[m], (long long)g[k]->id,
                     g[k]->rec.name ? g[k]->rec.name : "");
            s[i] = (plot_series){.label = labels[i], .n = g[k]->n_epochs, .x = g[k]->epoch, .y = g[k]->metric[m],
                                 .colour = k + 1, .dash = j, .n_resumes = g[k]->n_resumes,
                                 .resumes = g[k]->resumes};
            const results_value *best = table_field(&g[k]->summary, 0, "best_epoch");
            if (m == RUN_VAL_ACC && best && best->type == RESULTS_INT)
                s[i].mark_x = (double)best->i;
            metrics[i] = run_metric_names[m];
        }
    chart_text t = {title, "epoch", ylabel, metrics};
    chart_write_svg(f, &t, s, n * per, 960, 360);
out:
    free(s), free(labels), free(metrics);
}

/* Are runs a and b in one group: the same database and sweep id (0: runs
 * outside sweeps)? */
static int same_group(const run_data *a, const run_data *b)
{
    return a->rec.sweep_id == b->rec.sweep_id && !strcmp(a->db, b->db);
}

/* The charts of the group of run d[first]. */
static void group_charts(FILE *f, const run_data *d, int n, int first)
{
    const run_data **g = calloc(n, sizeof *g);
    int m = 0;
    for (int k = 0; g && k < n; k++)
        if (same_group(&d[k], &d[first]))
            g[m++] = &d[k];
    if (m) {
        fputs("<h2>Curves", f);
        if (d[first].rec.sweep_id)
            fprintf(f, " of sweep %lld", (long long)d[first].rec.sweep_id);
        if (many_dbs(d, n)) {
            fputs(d[first].rec.sweep_id ? " in " : " of ", f);
            markup_text(f, d[first].db);
        }
        fputs("</h2>\n", f);
        curve_chart(f, g, m, RUN_TRAIN_ACC, RUN_VAL_ACC, "accuracy (train dashed, val solid)", "accuracy");
        curve_chart(f, g, m, RUN_TRAIN_LOSS, RUN_VAL_LOSS, "loss (train dashed, val solid)", "loss");
        curve_chart(f, g, m, RUN_LR, -1, "learning rate", "lr");
    }
    free(g);
}

static void all_charts(FILE *f, const run_data *d, int n)
{
    for (int k = 0; k < n; k++) {
        int first = 1; /* the group's first run in the list */
        for (int j = 0; j < k; j++)
            first &= !same_group(&d[j], &d[k]);
        if (first)
            group_charts(f, d, n, k);
    }
}

/* ---- classes ------------------------------------------------------------ */

static void table_rows(FILE *f, const results_table *t, int from_col)
{
    fputs("<table><tr>", f);
    for (int c = from_col; c < t->n_cols; c++) {
        fputs("<th>", f);
        markup_text(f, t->names[c]);
        fputs("</th>", f);
    }
    fputs("</tr>\n", f);
    for (int r = 0; r < t->n_rows; r++) {
        fputs("<tr>", f);
        for (int c = from_col; c < t->n_cols; c++)
            measurement_cell(f, results_cell(t, r, c));
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void run_classes(FILE *f, const run_data *d, int many)
{
    char buf[512], title[600];
    if (d->confusion.n > 0) {
        fputs("<h3>", f);
        run_label(f, d, many);
        fprintf(f, ": evaluation %lld</h3>\n", (long long)d->confusion.eval_id);
        table_rows(f, &d->eval, 1);
        snprintf(title, sizeof title, "run %lld %s, eval %lld", (long long)d->id, d->rec.name ? d->rec.name : "",
                 (long long)d->confusion.eval_id);
        confusion c = {d->confusion.n, (const char *const *)d->confusion.names, d->confusion.count};
        confusion_write_svg(f, &c, title);
        table_rows(f, &d->eval_classes, 0);
    } else if (d->epoch_classes.n_rows > 0) {
        fputs("<h3>", f);
        run_label(f, d, many);
        fprintf(f, ": per-class accuracy at epoch %s</h3>\n",
                value_text(results_cell(&d->epoch_classes, 0, 0), buf, sizeof buf));
        fputs("<table><tr><th>class</th><th>n</th><th>correct</th><th>accuracy</th></tr>\n", f);
        for (int r = 0; r < d->epoch_classes.n_rows; r++) {
            const results_value *n = results_cell(&d->epoch_classes, r, 2), *ok = results_cell(&d->epoch_classes, r, 3);
            fputs("<tr>", f);
            cell(f, value_text(results_cell(&d->epoch_classes, r, 1), buf, sizeof buf), 0);
            cell(f, value_text(n, buf, sizeof buf), 1);
            cell(f, value_text(ok, buf, sizeof buf), 1);
            snprintf(buf, sizeof buf, "%.4f", n->i > 0 ? (double)ok->i / n->i : NAN);
            cell(f, buf, 1);
            fputs("</tr>\n", f);
        }
        fputs("</table>\n", f);
    }
}

static void classes_section(FILE *f, const run_data *d, int n)
{
    int any = 0;
    for (int k = 0; k < n; k++)
        any |= d[k].confusion.n > 0 || d[k].epoch_classes.n_rows > 0;
    if (!any)
        return;
    fputs("<h2 id=\"classes\">Classes</h2>\n", f);
    int many = many_dbs(d, n);
    for (int k = 0; k < n; k++)
        run_classes(f, &d[k], many);
}

/* ---- machine and build -------------------------------------------------- */

/* The "model name" line of /proc/cpuinfo, or "unknown". */
static void cpu_model(char *buf, int size)
{
    FILE *c = fopen("/proc/cpuinfo", "r");
    char line[512];
    snprintf(buf, size, "unknown");
    while (c && fgets(line, sizeof line, c))
        if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
            snprintf(buf, size, "%s", strchr(line, ':') + 2);
            buf[strcspn(buf, "\n")] = 0;
            break;
        }
    if (c)
        fclose(c);
}

static void row(FILE *f, const char *key, const char *value)
{
    fputs("<tr><th>", f);
    markup_text(f, key);
    fputs("</th>", f);
    cell(f, value, 0);
    fputs("</tr>\n", f);
}

static void machine_section(FILE *f, const run_data *d, int n)
{
    char cpu[256], threads[32];
    cpu_model(cpu, sizeof cpu);
    snprintf(threads, sizeof threads, "%ld", sysconf(_SC_NPROCESSORS_ONLN));
    fputs("<h2 id=\"machine\">Machine and build</h2>\n<p>Of the machine that wrote this report (the database "
          "records only each run's host name):</p>\n<table>\n", f);
    row(f, "CPU model", cpu);
    row(f, "ISA path", strata_isa_name(strata_isa()));
    row(f, "BLAS kernel", blas_kernel_name());
    row(f, "threads (CPUs online)", threads);
    row(f, "strata version", PACKAGE_VERSION);
    fputs("</table>\n", f);
    int many = many_dbs(d, n);
    for (int k = 0; k < n; k++) {
        char buf[512];
        fputs("<details><summary>", f);
        run_label(f, &d[k], many);
        fputs(": host ", f);
        markup_text(f, d[k].rec.host ? d[k].rec.host : "?");
        fputs(", experiment ", f);
        markup_text(f, d[k].rec.experiment ? d[k].rec.experiment : "?");
        fputs("</summary>\n", f);
        if (d[k].params.n_rows) {
            fputs("<table>", f);
            for (int r = 0; r < d[k].params.n_rows; r++)
                row(f, results_cell(&d[k].params, r, 0)->s ? results_cell(&d[k].params, r, 0)->s : "",
                    value_str(results_cell(&d[k].params, r, 1), buf, sizeof buf));
            fputs("</table>\n", f);
        }
        fputs("<pre>", f);
        markup_text(f, d[k].rec.config ? d[k].rec.config : "");
        fputs("</pre></details>\n", f);
    }
}

/* ---- the page ----------------------------------------------------------- */

/* Is run k the first of its database in d? */
static int first_of_db(const run_data *d, int k)
{
    for (int j = 0; j < k; j++)
        if (!strcmp(d[j].db, d[k].db))
            return 0;
    return 1;
}

/* "N runs from DB" or "N runs from K databases: A, B". */
static void page_intro(FILE *f, const run_data *d, int n)
{
    int dbs = 0;
    for (int k = 0; k < n; k++)
        dbs += first_of_db(d, k);
    fprintf(f, "<p>%d run%s from ", n, n == 1 ? "" : "s");
    if (dbs > 1)
        fprintf(f, "%d databases: ", dbs);
    for (int k = 0, listed = 0; k < n; k++)
        if (first_of_db(d, k)) {
            fputs(listed++ ? ", " : "", f);
            markup_text(f, d[k].db);
        }
}

/* The intro text: paragraphs separated by blank lines, each a <p>. */
static void intro_text(FILE *f, const char *text)
{
    const char *p = text;
    while (*p) {
        while (*p == '\n' || *p == ' ' || *p == '\t' || *p == '\r')
            p++;
        if (!*p)
            break;
        const char *end = p;
        while (*end && !(end[0] == '\n' && (end[1] == '\n' || (end[1] == '\r' && end[2] == '\n'))))
            end++;
        size_t len = (size_t)(end - p);
        while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r' || p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        char *para = strndup(p, len);
        fputs("<p class=\"intro\">", f);
        markup_text(f, para ? para : "");
        fputs("</p>\n", f);
        free(para);
        p = end;
    }
}

static void page(FILE *f, const run_data *d, int n, const report_options *o)
{
    char when[32];
    time_t now = time(NULL);
    const char *title = o && o->title && *o->title ? o->title : "strata report";
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    fputs("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
          "<meta charset=\"utf-8\"/>\n<title>", f);
    markup_text(f, title);
    fputs("</title>\n<style>", f);
    fputs(style, f);
    fputs("</style>\n</head>\n<body>\n<h1>", f);
    markup_text(f, title);
    fputs("</h1>\n", f);
    if (o && o->intro)
        intro_text(f, o->intro);
    page_intro(f, d, n);
    fprintf(f, ", written %s by strata %s.</p>\n", when, PACKAGE_VERSION);
    runs_table(f, d, n);
    all_charts(f, d, n);
    classes_section(f, d, n);
    machine_section(f, d, n);
    fputs("</body>\n</html>\n", f);
}

int report_write(const report_run *runs, int n, const report_options *o, const char *path, strata_err *err)
{
    run_data *d = calloc(n ? n : 1, sizeof *d);
    if (!d)
        return err_set(err, STRATA_ERR_RUNTIME, "out of memory");
    int rc = 0, loaded = 0;
    for (; loaded < n && rc == 0; loaded++)
        rc = run_data_load(runs[loaded].db, runs[loaded].id, &d[loaded], err);
    if (rc)
        loaded--;
    atomic_file af;
    if (rc == 0 && (rc = atomic_open(&af, path, err)) == 0) {
        page(af.f, d, n, o);
        rc = atomic_commit(&af, err);
    }
    for (int k = 0; k < loaded; k++)
        run_data_free(&d[k]);
    free(d);
    return rc ? -1 : 0;
}
