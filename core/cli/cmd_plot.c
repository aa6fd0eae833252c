/* cmd_plot.c — `strata plot`: training curves of runs as a PNG image. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"
#include "plot/atomic_file.h"
#include "plot/chart_svg.h"
#include "plot/confusion.h"
#include "plot/plot.h"
#include "report/run_data.h"
#include "store/results.h"

static const char usage[] =
    "usage: strata plot RUN... -o FILE.png|FILE.svg [--metric NAME[,NAME...]] [--size WxH] [--title TEXT]\n"
    "                   [--db PATH]\n"
    "       strata plot RUN --confusion [--eval ID] -o FILE.png|FILE.svg [--db PATH]\n"
    "\n"
    "Draw training curves into a PNG image: one line per RUN (a run id, or the\n"
    "newest run of that name), the epoch across and the metric up, with a legend\n"
    "naming each run as \"ID NAME (MODEL)\". Colours follow the order of the runs\n"
    "(ten clearly different ones, then they repeat). A run with no epochs yet is\n"
    "listed in the legend, with a warning. Several metrics (--metric\n"
    "train_acc,val_acc) share one chart, each in its own dash pattern (solid,\n"
    "dashed, dotted); a ring marks each run's best val_acc epoch. A FILE ending\n"
    "in .svg is written as SVG (the same chart; hover a point for its value).\n"
    "With --confusion, draw the confusion matrix of the run's newest evaluation\n"
    "(or --eval ID) instead.\n"
    "\n"
    "  -o, --output FILE   the PNG or SVG to write (replaced atomically)\n"
    "  --metric NAMES      val_acc (default), train_acc, val_loss, train_loss, lr,\n"
    "                      seconds or images_per_sec; several separated by commas\n"
    "  --confusion         the confusion matrix of RUN's newest evaluation\n"
    "  --eval ID           with --confusion: that evaluation of RUN\n"
    "  --size WxH          image size in pixels (default 800x500; from 200x150\n"
    "                      to 8000x8000)\n"
    "  --title TEXT        the title (default the metric's name)\n"
    "  --db PATH           the results database (default: env STRATA_DB, else " RESULTS_DEFAULT_DB ")\n"
    "  -h, --help          this text\n";


#define MAX_METRICS 7

typedef struct plot_args {
    const char *out, *metric, *title, *db;
    int w, h, svg, confusion;
    long long eval_id;
    char metric_buf[256];
    const char *metrics[MAX_METRICS];
    int n_metrics;
    char **runs;
    int n_runs;
} plot_args;

/* "WxH" within the limits of plot.h. */
static int parse_size(const char *s, int *w, int *h)
{
    char *end;
    long a = strtol(s, &end, 10), b;
    if (end == s || (*end != 'x' && *end != 'X'))
        return -1;
    s = end + 1;
    b = strtol(s, &end, 10);
    if (end == s || *end || a < PLOT_MIN_W || a > PLOT_MAX_W || b < PLOT_MIN_H || b > PLOT_MAX_H)
        return -1;
    *w = (int)a, *h = (int)b;
    return 0;
}

static int parse_eval_id(const char *s, long long *id)
{
    char *end;
    *id = strtoll(s, &end, 10);
    return end == s || *end || *id < 1 ? -1 : 0;
}

/* --metric "a,b": each a known metric, at most MAX_METRICS. */
static int split_metrics(plot_args *a)
{
    if (snprintf(a->metric_buf, sizeof a->metric_buf, "%s", a->metric) >= (int)sizeof a->metric_buf)
        return cli_usage(&cmd_plot, "--metric: too long");
    char *save = NULL;
    for (char *m = strtok_r(a->metric_buf, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
        if (!results_metric_known(m))
            return cli_usage(&cmd_plot, "--metric: unknown metric '%s' (expected val_acc, train_acc, val_loss, "
                                        "train_loss, lr, seconds or images_per_sec)", m);
        if (a->n_metrics == MAX_METRICS)
            return cli_usage(&cmd_plot, "--metric: at most %d metrics", MAX_METRICS);
        a->metrics[a->n_metrics++] = m;
    }
    if (a->n_metrics == 0)
        return cli_usage(&cmd_plot, "--metric: expected a metric name, got '%s'", a->metric);
    return 0;
}

static int parse_args(int argc, char **argv, plot_args *a)
{
    static const struct option longopts[] = {
        {"output", required_argument, 0, 'o'}, {"metric", required_argument, 0, 'm'},
        {"size", required_argument, 0, 's'},   {"title", required_argument, 0, 't'},
        {"db", required_argument, 0, 'd'},     {"confusion", no_argument, 0, 'c'},
        {"eval", required_argument, 0, 'e'},   {0, 0, 0, 0}};
    int c;
    memset(a, 0, sizeof *a);
    a->metric = "val_acc";
    a->w = 800, a->h = 500;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': a->out = optarg; break;
        case 'm': a->metric = optarg; break;
        case 't': a->title = optarg; break;
        case 'd': a->db = optarg; break;
        case 'c': a->confusion = 1; break;
        case 'e':
            if (parse_eval_id(optarg, &a->eval_id))
                return cli_usage(&cmd_plot, "--eval: expected an evaluation id (a positive number), got '%s'", optarg);
            break;
        case 's':
            if (parse_size(optarg, &a->w, &a->h))
                return cli_usage(&cmd_plot, "--size: expected WxH from %dx%d to %dx%d, got '%s'", PLOT_MIN_W,
                                 PLOT_MIN_H, PLOT_MAX_W, PLOT_MAX_H, optarg);
            break;
        default:
            return cli_usage(&cmd_plot, "unknown option or missing value '%s'", argv[optind - 1]);
        }
    }
    if (split_metrics(a))
        return 2;
    if (!a->out || !*a->out)
        return cli_usage(&cmd_plot, "expected -o FILE.png or FILE.svg, the image to write");
    size_t len = strlen(a->out);
    a->svg = len > 4 && !strcmp(a->out + len - 4, ".svg");
    if (optind == argc)
        return cli_usage(&cmd_plot, "expected at least one RUN (a run id or name)");
    if (a->eval_id && !a->confusion)
        return cli_usage(&cmd_plot, "--eval: only with --confusion");
    if (a->confusion && argc - optind != 1)
        return cli_usage(&cmd_plot, "--confusion: expected one RUN, got %d", argc - optind);
    a->runs = argv + optind;
    a->n_runs = argc - optind;
    return 0;
}

/* One run's curve: the legend label and the metric per epoch (NaN where
 * the column is NULL). */
typedef struct curve {
    char label[512];
    int n;
    double *x, *y;
} curve;

/* The epoch of the highest value (the first of equals), 0 when none: the
 * best_epoch of run_summary for val_acc. */
static double best_x(const curve *c)
{
    int best = -1;
    for (int i = 0; i < c->n; i++)
        if (!isnan(c->y[i]) && (best < 0 || c->y[i] > c->y[best]))
            best = i;
    return best < 0 ? 0 : c->x[best];
}

static int load_curve(results *db, int64_t id, const char *metric, int several, curve *c, strata_err *err)
{
    run_record rec = {0};
    if (results_get_run(db, id, &rec, err))
        return -1;
    snprintf(c->label, sizeof c->label, "%lld %s (%s)%s%s", (long long)id, rec.name ? rec.name : "",
             rec.model ? rec.model : "?", several ? " " : "", several ? metric : "");
    run_record_free(&rec);
    if (results_series(db, id, metric, &c->n, &c->x, &c->y, err))
        return -1;
    if (c->n == 0)
        fprintf(stderr, "strata plot: warning: run %s has no epochs recorded\n", c->label);
    return 0;
}

static int write_svg(const plot_args *a, const plot_series *s, int n, strata_err *err)
{
    const char **metrics = calloc(n, sizeof *metrics);
    atomic_file af;
    if (!metrics)
        return err_set(err, STRATA_ERR_RUNTIME, "out of memory");
    for (int i = 0; i < n; i++)
        metrics[i] = a->metrics[i % a->n_metrics];
    chart_text t = {a->title ? a->title : a->metric, "epoch", a->metric, metrics};
    int rc = atomic_open(&af, a->out, err);
    if (rc == 0) {
        chart_write_svg(af.f, &t, s, n, a->w < 400 ? 400 : a->w, a->h < 200 ? 200 : a->h);
        rc = atomic_commit(&af, err);
    }
    free(metrics);
    return rc;
}

/* Series k * n_metrics + m: run k's metric m, colour of run k, dash of m. */
static int draw(const plot_args *a, const curve *c, int n, strata_err *err)
{
    plot_series *s = calloc(n, sizeof *s);
    unsigned char *img = a->svg ? NULL : malloc((size_t)a->w * a->h * 3);
    int rc = -1;
    if (!s || (!a->svg && !img)) {
        err_set(err, STRATA_ERR_RUNTIME, "plot: out of memory for a %dx%d image", a->w, a->h);
        goto out;
    }
    for (int i = 0; i < n; i++) {
        int m = i % a->n_metrics;
        s[i] = (plot_series){.label = c[i].label, .n = c[i].n, .x = c[i].x, .y = c[i].y,
                             .colour = i / a->n_metrics + 1, .dash = m % CHART_DASHES};
        if (!strcmp(a->metrics[m], "val_acc"))
            s[i].mark_x = best_x(&c[i]);
    }
    if (a->svg)
        rc = write_svg(a, s, n, err);
    else
        rc = plot_render(img, a->w, a->h, a->title ? a->title : a->metric, "epoch", a->metric, s, n, NULL, err) ||
             plot_write_png(a->out, img, a->w, a->h, err);
    rc = rc ? -1 : 0;
out:
    free(s);
    free(img);
    return rc;
}

static int curves(const plot_args *a, strata_err *err)
{
    results *db;
    if (cli_db_open(a->db, &db, err))
        return -1;
    int n = a->n_runs * a->n_metrics, rc = 0;
    curve *c = calloc(n, sizeof *c);
    if (!c) {
        results_close(db);
        return err_set(err, STRATA_ERR_RUNTIME, "out of memory");
    }
    for (int k = 0; k < a->n_runs && rc == 0; k++) {
        int64_t id;
        rc = results_find_run(db, a->runs[k], &id, err);
        for (int m = 0; m < a->n_metrics && rc == 0; m++)
            rc = load_curve(db, id, a->metrics[m], a->n_metrics > 1, &c[k * a->n_metrics + m], err);
    }
    results_close(db);
    if (rc == 0)
        rc = draw(a, c, n, err);
    if (rc == 0)
        printf("%s: %d run%s, %s\n", a->out, a->n_runs, a->n_runs == 1 ? "" : "s", a->metric);
    for (int i = 0; i < n; i++)
        free(c[i].x), free(c[i].y);
    free(c);
    return rc;
}

/* --confusion: the matrix of the run's evaluation. */
static int confusion_plot(const plot_args *a, strata_err *err)
{
    results *db;
    int64_t id;
    run_confusion rc_ = {0};
    if (cli_db_open(a->db, &db, err))
        return -1;
    int rc = results_find_run(db, a->runs[0], &id, err) || run_confusion_load(db, id, a->eval_id, &rc_, err);
    results_close(db);
    if (rc == 0 && rc_.n == 0)
        rc = a->eval_id ? err_set(err, STRATA_ERR_CONFIG, "--eval %lld: not an evaluation of run %s", a->eval_id,
                                  a->runs[0])
                        : err_set(err, STRATA_ERR_CONFIG, "run %s has no evaluation to draw (run `strata eval` first)",
                                  a->runs[0]);
    char title[512];
    snprintf(title, sizeof title, "%s: run %s, eval %lld", a->title ? a->title : "confusion", a->runs[0],
             (long long)rc_.eval_id);
    confusion c = {rc_.n, (const char *const *)rc_.names, rc_.count};
    atomic_file af;
    unsigned char *img = NULL;
    if (rc == 0 && a->svg && (rc = atomic_open(&af, a->out, err)) == 0) {
        confusion_write_svg(af.f, &c, title);
        rc = atomic_commit(&af, err);
    } else if (rc == 0 && !a->svg) {
        img = malloc((size_t)a->w * a->h * 3);
        rc = !img ? err_set(err, STRATA_ERR_RUNTIME, "out of memory")
                  : confusion_render(img, a->w, a->h, &c, title, err) || plot_write_png(a->out, img, a->w, a->h, err);
    }
    if (rc == 0)
        printf("%s: run %s, eval %lld, %d classes\n", a->out, a->runs[0], (long long)rc_.eval_id, rc_.n);
    free(img);
    run_confusion_free(&rc_);
    return rc ? -1 : 0;
}

static int run(int argc, char **argv)
{
    plot_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc == 0) {
        strata_err err = {0};
        if (a.confusion ? confusion_plot(&a, &err) : curves(&a, &err))
            rc = cli_fail(&err);
    }
    return rc;
}

const cli_command cmd_plot = {"plot", "draw training curves or a confusion matrix as PNG or SVG", run, usage};
