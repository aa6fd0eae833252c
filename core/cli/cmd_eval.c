/* cmd_eval.c — `strata eval RUN`: a run's checkpoint measured on its
 * validation split, its training split or a folder: loss, accuracy, per
 * class precision and recall, the confusion matrix (core/train/evaluate.c
 * does the work and records it). */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"
#include "store/json.h"
#include "store/results.h"
#include "train/evaluate.h"

static const char usage[] =
    "usage: strata eval RUN [--checkpoint best|last] [--data DIR | --split val|train] [--threads N]\n"
    "                   [--db PATH] [--json]\n"
    "\n"
    "Measure run RUN (its id, or the newest run of that name) on labelled\n"
    "images: its loss, accuracy, per class the images, correct ones, accuracy\n"
    "(recall) and precision, and the confusion matrix (rows: true class,\n"
    "columns: predicted). The run's stored configuration rebuilds the network,\n"
    "its checkpoint (results.dir/checkpoints/RUN/best.safetensors by default)\n"
    "is loaded, and the images get the run's validation preprocessing\n"
    "(augment.val) in batches of train.batch_size, in eval mode. By default the\n"
    "images are the run's validation split as recorded when it trained (the\n"
    "same files even if the folder changed since; files gone are left out with\n"
    "a warning). Unreadable images are left out with one warning each. Each\n"
    "evaluation is recorded in the results database (tables evals,\n"
    "eval_classes, eval_confusion, eval_predictions), with the epoch the\n"
    "checkpoint is from (evals.epoch; best is best by train.checkpoint_monitor).\n"
    "\n"
    "  --checkpoint best|last  which checkpoint of the run (default best)\n"
    "  --split val|train       the run's recorded split (default val)\n"
    "  --data DIR              a folder of class folders instead, named as the\n"
    "                          run's classes (a class may be missing)\n"
    "  --threads N             threads (default the run's train.threads)\n"
    "  --db PATH               the results database (default $STRATA_DB, else " RESULTS_DEFAULT_DB ")\n"
    "  --json                  one JSON object, full class names\n"
    "  -h, --help              this text\n";

typedef struct eval_args {
    eval_request q;
    int json;
} eval_args;

static int parse_threads(const char *s, int *threads)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || end == s || v < 1 || v > 1024)
        return cli_usage(&cmd_eval, "--threads: expected an integer in 1..1024, got '%s'", s);
    *threads = (int)v;
    return 0;
}

static int parse_args(int argc, char **argv, eval_args *a)
{
    static const struct option longopts[] = {
        {"checkpoint", required_argument, 0, 'c'}, {"data", required_argument, 0, 'D'},
        {"split", required_argument, 0, 'S'},      {"threads", required_argument, 0, 't'},
        {"db", required_argument, 0, 'd'},         {"json", no_argument, 0, 'j'},
        {0, 0, 0, 0}};
    const char *split = NULL;
    int c;
    memset(a, 0, sizeof *a);
    a->q.checkpoint = "best";
    a->q.plugin_dir = cli_plugin_dir;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': a->q.checkpoint = optarg; break;
        case 'D': a->q.data_dir = optarg; break;
        case 'S': split = optarg; break;
        case 'd': a->q.db = optarg; break;
        case 'j': a->json = 1; break;
        case 't':
            if (parse_threads(optarg, &a->q.threads))
                return STRATA_ERR_CONFIG;
            break;
        default: return cli_usage(&cmd_eval, "unknown option or missing value '%s'", argv[optind - 1]);
        }
    }
    if (strcmp(a->q.checkpoint, "best") && strcmp(a->q.checkpoint, "last"))
        return cli_usage(&cmd_eval, "--checkpoint: expected best or last, got '%s'", a->q.checkpoint);
    if (split && strcmp(split, "val") && strcmp(split, "train"))
        return cli_usage(&cmd_eval, "--split: expected val or train, got '%s'", split);
    if (split && a->q.data_dir)
        return cli_usage(&cmd_eval, "give --data DIR or --split val|train, not both");
    if (optind != argc - 1)
        return cli_usage(&cmd_eval, "expected one RUN");
    a->q.split = split ? split : "val";
    a->q.run = argv[optind];
    const char *from;
    a->q.db = cli_db_path(a->q.db, &from);
    return 0;
}

/* ---- text ---------------------------------------------------------------- */

enum { NAME_MAX_WIDTH = 20, COLUMN_WIDTH = 8 };

/* name in at most width characters: cut, the last one a '.' when cut. */
static void print_cell(const char *name, int width, int left)
{
    char cell[64];
    int len = (int)strlen(name);
    if (len > width) {
        snprintf(cell, sizeof cell, "%.*s.", width - 1, name);
        name = cell;
    }
    printf(left ? "%-*s" : "%*s", width, name);
}

static void print_ratio(double v)
{
    if (isnan(v))
        printf("  %9s", "-");
    else
        printf("  %9.4f", v);
}

static int name_width(const eval_record *e)
{
    int w = 5; /* "class" */
    for (int c = 0; c < e->k; c++)
        w = (int)strlen(e->classes[c]) > w ? (int)strlen(e->classes[c]) : w;
    return w < NAME_MAX_WIDTH ? w : NAME_MAX_WIDTH;
}

static void print_classes(const eval_record *e, int w)
{
    print_cell("class", w, 1);
    printf("  %6s  %7s  %9s  %9s\n", "n", "correct", "accuracy", "precision");
    for (int c = 0; c < e->k; c++) {
        print_cell(e->classes[c], w, 1);
        printf("  %6ld  %7ld", e->class_n[c], e->class_correct[c]);
        print_ratio(e->recall[c]);
        print_ratio(e->precision[c]);
        printf("\n");
    }
}

static void print_confusion(const eval_record *e, int w)
{
    printf("\nconfusion matrix (rows: true class, columns: predicted)\n");
    print_cell("", w, 1);
    for (int p = 0; p < e->k; p++) {
        printf("  ");
        print_cell(e->classes[p], COLUMN_WIDTH, 0);
    }
    printf("\n");
    for (int t = 0; t < e->k; t++) {
        print_cell(e->classes[t], w, 1);
        for (int p = 0; p < e->k; p++)
            printf("  %*ld", COLUMN_WIDTH, e->confusion[(size_t)t * e->k + p]);
        printf("\n");
    }
}

static void print_text(const evaluation *ev)
{
    const eval_record *e = &ev->rec;
    printf("run %lld (%s), checkpoint %s", (long long)e->run_id, ev->run_name, e->checkpoint);
    if (e->epoch > 0)
        printf(", epoch %d", e->epoch);
    printf(" (%s)\n", ev->weights);
    printf("data %s: %ld images", e->data, e->n);
    if (ev->missing || ev->unreadable)
        printf(" (%d missing, %d unreadable left out)", ev->missing, ev->unreadable);
    printf(", loss %.4f, accuracy %.4f (eval %lld)\n\n", e->loss, e->acc, (long long)ev->id);
    int w = name_width(e);
    print_classes(e, w);
    print_confusion(e, w);
}

/* ---- JSON ---------------------------------------------------------------- */

static void json_field(const char *key, double v, int first)
{
    char buf[JSON_DOUBLE_MAX];
    printf("%s\"%s\": %s", first ? "" : ", ", key, isfinite(v) ? json_double_text(v, buf) : "null");
}

static void print_json_classes(const eval_record *e)
{
    printf(", \"classes\": [");
    for (int c = 0; c < e->k; c++) {
        printf("%s\n    {\"class\": ", c ? "," : "");
        json_string(stdout, e->classes[c]);
        printf(", \"n\": %ld, \"correct\": %ld, ", e->class_n[c], e->class_correct[c]);
        json_field("recall", e->recall[c], 1);
        json_field("precision", e->precision[c], 0);
        printf("}");
    }
    printf("],\n  \"confusion\": [");
    for (int t = 0; t < e->k; t++) {
        printf("%s\n    [", t ? "," : "");
        for (int p = 0; p < e->k; p++)
            printf("%s%ld", p ? ", " : "", e->confusion[(size_t)t * e->k + p]);
        printf("]");
    }
    printf("]");
}

static void print_json(const evaluation *ev)
{
    const eval_record *e = &ev->rec;
    printf("{\"eval_id\": %lld, \"run_id\": %lld, \"run\": ", (long long)ev->id, (long long)e->run_id);
    json_string(stdout, ev->run_name);
    printf(", \"checkpoint\": ");
    json_string(stdout, e->checkpoint);
    if (e->epoch > 0)
        printf(", \"epoch\": %d", e->epoch);
    else
        printf(", \"epoch\": null");
    printf(", \"weights\": ");
    json_string(stdout, ev->weights);
    printf(", \"data\": ");
    json_string(stdout, e->data);
    printf(",\n  \"n\": %ld, \"missing\": %d, \"unreadable\": %d, ", e->n, ev->missing, ev->unreadable);
    json_field("loss", e->loss, 1);
    json_field("acc", e->acc, 0);
    print_json_classes(e);
    printf("}\n");
    if (!isfinite(e->loss))
        fprintf(stderr, "strata: warning: the loss is %g; written as null in the JSON\n", e->loss);
}

static int run(int argc, char **argv)
{
    eval_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc;
    strata_err err = {0};
    evaluation ev;
    if (evaluate_run(&a.q, &ev, &err))
        rc = cli_fail(&err);
    else if (a.json)
        print_json(&ev);
    else
        print_text(&ev);
    evaluation_free(&ev);
    return rc;
}

const cli_command cmd_eval = {"eval", "measure a run's checkpoint: per-class accuracy, confusion matrix", run, usage};
