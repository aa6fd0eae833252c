/* cmd_plot.c — `strata plot`: training curves of runs as a PNG image. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"
#include "plot/plot.h"
#include "store/results.h"

static const char usage[] =
    "usage: strata plot RUN... -o FILE.png [--metric NAME] [--size WxH] [--title TEXT] [--db PATH]\n"
    "\n"
    "Draw training curves into a PNG image: one line per RUN (a run id, or the\n"
    "newest run of that name), the epoch across and the metric up, with a legend\n"
    "naming each run as \"ID NAME (MODEL)\". Colours follow the order of the runs\n"
    "(ten clearly different ones, then they repeat). A run with no epochs yet is\n"
    "listed in the legend, with a warning.\n"
    "\n"
    "  -o, --output FILE   the PNG to write (replaced atomically)\n"
    "  --metric NAME       val_acc (default), train_acc, val_loss, train_loss, lr,\n"
    "                      seconds or images_per_sec\n"
    "  --size WxH          image size in pixels (default 800x500; from 200x150\n"
    "                      to 8000x8000)\n"
    "  --title TEXT        the title (default the metric's name)\n"
    "  --db PATH           the results database (default " RESULTS_DEFAULT_DB ")\n"
    "  -h, --help          this text\n";


typedef struct plot_args {
    const char *out, *metric, *title, *db;
    int w, h;
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

static int parse_args(int argc, char **argv, plot_args *a)
{
    static const struct option longopts[] = {
        {"output", required_argument, 0, 'o'}, {"metric", required_argument, 0, 'm'},
        {"size", required_argument, 0, 's'},   {"title", required_argument, 0, 't'},
        {"db", required_argument, 0, 'd'},     {0, 0, 0, 0}};
    int c;
    memset(a, 0, sizeof *a);
    a->metric = "val_acc";
    a->db = RESULTS_DEFAULT_DB;
    a->w = 800, a->h = 500;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': a->out = optarg; break;
        case 'm': a->metric = optarg; break;
        case 't': a->title = optarg; break;
        case 'd': a->db = optarg; break;
        case 's':
            if (parse_size(optarg, &a->w, &a->h))
                return cli_usage(&cmd_plot, "--size: expected WxH from %dx%d to %dx%d, got '%s'", PLOT_MIN_W,
                                 PLOT_MIN_H, PLOT_MAX_W, PLOT_MAX_H, optarg);
            break;
        default:
            return cli_usage(&cmd_plot, "unknown option or missing value '%s'", argv[optind - 1]);
        }
    }
    if (!results_metric_known(a->metric))
        return cli_usage(&cmd_plot, "--metric: unknown metric '%s' (expected val_acc, train_acc, val_loss, "
                                    "train_loss, lr, seconds or images_per_sec)", a->metric);
    if (!a->out || !*a->out)
        return cli_usage(&cmd_plot, "expected -o FILE.png, the image to write");
    if (optind == argc)
        return cli_usage(&cmd_plot, "expected at least one RUN (a run id or name)");
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

static int load_curve(results *db, const char *run, const char *metric, curve *c, strata_err *err)
{
    int64_t id;
    run_record rec = {0};
    if (results_find_run(db, run, &id, err) || results_get_run(db, id, &rec, err))
        return -1;
    snprintf(c->label, sizeof c->label, "%lld %s (%s)", (long long)id, rec.name ? rec.name : "",
             rec.model ? rec.model : "?");
    run_record_free(&rec);
    if (results_series(db, id, metric, &c->n, &c->x, &c->y, err))
        return -1;
    if (c->n == 0)
        fprintf(stderr, "strata plot: warning: run %s has no epochs recorded\n", c->label);
    return 0;
}

static int draw(const plot_args *a, const curve *c, strata_err *err)
{
    plot_series *s = calloc(a->n_runs, sizeof *s);
    unsigned char *img = malloc((size_t)a->w * a->h * 3);
    int rc = -1;
    if (!s || !img) {
        err_set(err, STRATA_ERR_RUNTIME, "plot: out of memory for a %dx%d image", a->w, a->h);
        goto out;
    }
    for (int i = 0; i < a->n_runs; i++)
        s[i] = (plot_series){.label = c[i].label, c[i].n, c[i].x, c[i].y};
    rc = plot_render(img, a->w, a->h, a->title ? a->title : a->metric, "epoch", a->metric, s, a->n_runs, NULL,
                     err) ||
         plot_write_png(a->out, img, a->w, a->h, err);
    rc = rc ? -1 : 0;
out:
    free(s);
    free(img);
    return rc;
}

static int plot(const plot_args *a, strata_err *err)
{
    results *db;
    if (results_open_existing(a->db, &db, err))
        return -1;
    curve *c = calloc(a->n_runs, sizeof *c);
    if (!c) {
        results_close(db);
        return err_set(err, STRATA_ERR_RUNTIME, "out of memory");
    }
    int rc = 0;
    for (int i = 0; i < a->n_runs && rc == 0; i++)
        rc = load_curve(db, a->runs[i], a->metric, &c[i], err);
    results_close(db);
    if (rc == 0)
        rc = draw(a, c, err);
    if (rc == 0)
        printf("%s: %d run%s, %s\n", a->out, a->n_runs, a->n_runs == 1 ? "" : "s", a->metric);
    for (int i = 0; i < a->n_runs; i++)
        free(c[i].x), free(c[i].y);
    free(c);
    return rc;
}

static int run(int argc, char **argv)
{
    plot_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc == 0) {
        strata_err err = {0};
        if (plot(&a, &err))
            rc = cli_fail(&err);
    }
    return rc;
}

const cli_command cmd_plot = {"plot", "draw training curves of runs into a PNG image", run, usage};
