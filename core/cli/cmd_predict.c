/* cmd_predict.c — `strata predict`: classify images with a trained model. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "data/augment_config.h"
#include "store/checkpoint.h"
#include "cli/cli.h"
#include "config/experiment.h"
#include "data/image.h"
#include "store/results.h"
#include "train/assemble.h"

static const char usage[] =
    "usage: strata predict --run RUN [--checkpoint best|last] [--db PATH] [--top K] [--json] IMAGE...\n"
    "       strata predict --weights FILE.safetensors --experiment FILE.yaml [-s KEY=VALUE]... IMAGE...\n"
    "\n"
    "Classify each IMAGE (JPEG or PNG) with a trained model and print the\n"
    "predicted class and its probability (softmax), or the K most probable with\n"
    "--top K. Images get the experiment's validation preprocessing\n"
    "(augment.val), the model runs in eval mode (dropout off, batchnorm's running\n"
    "statistics). With --run, the run's stored configuration and its checkpoint\n"
    "(results.dir/checkpoints/RUN/best.safetensors by default) are used; the\n"
    "class names come from the checkpoint.\n"
    "\n"
    "  --run RUN               a run id, or the newest run of that name\n"
    "  --checkpoint best|last  which checkpoint of the run (default best)\n"
    "  --db PATH               the results database (default: env STRATA_DB, else " RESULTS_DEFAULT_DB ")\n"
    "  --weights FILE          a strata safetensors checkpoint (with --experiment)\n"
    "  --experiment FILE       the experiment that describes the model\n"
    "  -s, --set KEY=VALUE     override a key of the experiment\n"
    "  --top K                 the K most probable classes (default 1)\n"
    "  --json                  one JSON document\n"
    "  -h, --help              this text\n";

typedef struct predict_args {
    const char *run, *checkpoint, *db, *weights, *experiment;
    int top, json, n_sets;
    char **sets;
} predict_args;

static int parse_args(int argc, char **argv, predict_args *a)
{
    static const struct option longopts[] = {
        {"run", required_argument, 0, 'r'},     {"checkpoint", required_argument, 0, 'c'},
        {"db", required_argument, 0, 'd'},      {"weights", required_argument, 0, 'w'},
        {"experiment", required_argument, 0, 'x'}, {"set", required_argument, 0, 's'},
        {"top", required_argument, 0, 'k'},     {"json", no_argument, 0, 'j'},
        {0, 0, 0, 0}};
    int c;
    memset(a, 0, sizeof *a);
    a->checkpoint = "best";
    a->top = 1;
    a->sets = calloc(argc, sizeof *a->sets);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "s:", longopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'r': a->run = optarg; break;
        case 'c': a->checkpoint = optarg; break;
        case 'd': a->db = optarg; break;
        case 'w': a->weights = optarg; break;
        case 'x': a->experiment = optarg; break;
        case 's': a->sets[a->n_sets++] = optarg; break;
        case 'j': a->json = 1; break;
        case 'k':
            a->top = (int)strtol(optarg, &end, 10);
            if (*end || a->top < 1)
                return cli_usage(&cmd_predict, "--top: expected an integer >= 1, got '%s'", optarg);
            break;
        default:
            return cli_usage(&cmd_predict, "unknown option or missing value '%s'", argv[optind - 1]);
        }
    }
    if (strcmp(a->checkpoint, "best") && strcmp(a->checkpoint, "last"))
        return cli_usage(&cmd_predict, "--checkpoint: expected best or last, got '%s'", a->checkpoint);
    if (!a->run == !a->weights)
        return cli_usage(&cmd_predict, "give either --run RUN or --weights FILE --experiment FILE");
    if (a->weights && !a->experiment)
        return cli_usage(&cmd_predict, "--weights needs --experiment FILE (the model's description)");
    if (optind == argc)
        return cli_usage(&cmd_predict, "expected at least one IMAGE");
    return 0;
}

/* The experiment and weights path of --run. */
static int from_run(const predict_args *a, experiment *x, char *weights, size_t size, strata_err *err)
{
    results *db;
    int64_t id;
    run_record rec = {0};
    if (cli_db_open(a->db, &db, err))
        return -1;
    int rc = results_find_run(db, a->run, &id, err) || results_get_run(db, id, &rec, err);
    results_close(db);
    if (rc)
        return -1;
    ynode *root = yaml_load_string(rec.config ? rec.config : "", "run config", err);
    rc = !root || experiment_from_tree(root, rec.experiment ? rec.experiment : "run", x, err);
    run_record_free(&rec);
    if (rc)
        return -1;
    snprintf(weights, size, "%s/checkpoints/%lld/%s.safetensors", x->results.dir, (long long)id, a->checkpoint);
    return 0;
}

/* Split "a\nb\nc" in place into names. */
static int split_lines(char *s, char **names, int max)
{
    int n = 0;
    for (char *p = s; p && n < max; n++) {
        names[n] = p;
        p = strchr(p, '\n');
        if (p)
            *p++ = '\0';
    }
    return n;
}

static void softmax(const float *z, int k, double *p)
{
    double m = z[0], sum = 0;
    for (int i = 1; i < k; i++)
        m = z[i] > m ? z[i] : m;
    for (int i = 0; i < k; i++)
        sum += p[i] = exp(z[i] - m);
    for (int i = 0; i < k; i++)
        p[i] /= sum;
}

static void print_one(const predict_args *a, const char *path, const double *p, int k, char **names, int first)
{
    int finite = 1;
    for (int i = 0; i < k; i++)
        finite &= isfinite(p[i]) != 0;
    if (!finite)
        fprintf(stderr, "strata: warning: %s: the network's outputs are not finite (NaN or infinite weights?); "
                        "probabilities %s\n", path, a->json ? "written as null" : "printed as nan");
    int top = a->top < k ? a->top : k, *order = malloc(k * sizeof *order);
    for (int i = 0; i < k; i++)
        order[i] = i;
    for (int i = 0; i < top; i++) /* partial selection sort, ties keep the lower index */
        for (int j = i + 1; j < k; j++)
            if (p[order[j]] > p[order[i]]) {
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    if (a->json) {
        printf("%s\n  {\"image\": ", first ? "" : ",");
        json_string(stdout, path);
        printf(", \"top\": [");
        for (int i = 0; i < top; i++) {
            printf("%s{\"class\": ", i ? ", " : "");
            json_string(stdout, names[order[i]]);
            if (isfinite(p[order[i]]))
                printf(", \"index\": %d, \"probability\": %.6f}", order[i], p[order[i]]);
            else /* JSON has no NaN: null, and the warning below */
                printf(", \"index\": %d, \"probability\": null}", order[i]);
        }
        printf("]}");
    } else {
        for (int i = 0; i < top; i++)
            printf("%s\t%s\t%.4f\n", path, names[order[i]], p[order[i]]);
    }
    free(order);
}

static int predict(const predict_args *a, char **images, int n_images, strata_err *err)
{
    experiment x = {0};
    plugin_registry reg;
    assembly m = {0};
    aug_pipeline aug;
    char weights[4200], *classes = NULL, *names[4096];
    int rc = -1, skipped;
    plugins_init(&reg, cli_plugin_dir);
    if (a->run ? from_run(a, &x, weights, sizeof weights, err)
               : experiment_load(a->experiment, a->sets, a->n_sets, &x, err))
        goto out;
    if (a->weights)
        snprintf(weights, sizeof weights, "%s", a->weights);
    /* one image at a time on one thread; the checkpoint's weights replace the initial ones */
    assembly_cfg cfg = {.batch = 1, .threads = 1, .init_params = 0};
    if (assembly_create(&m, &x, &reg, 0, err) || assembly_alloc(&m, &x, &cfg, err) ||
        checkpoint_load_weights(weights, &m.net, 1, &skipped, err) || !(classes = checkpoint_classes(weights, err)) ||
        augment_config(x.augment_val, "augment.val", x.model.in_h, x.model.in_w, &aug, err))
        goto out;
    int k = (int)shape_size(m.net.layers[m.net.n_layers - 1].out);
    int n_names = split_lines(classes, names, 4096); /* splits in place: call once */
    if (n_names != k) {
        err_set(err, STRATA_ERR_CONFIG, "%s: the checkpoint names %d classes, the model has %d outputs", weights,
                n_names, k);
        goto out;
    }
    double *p = malloc(k * sizeof *p);
    if (a->json)
        printf("[");
    for (int i = 0; i < n_images; i++) {
        image im = {0};
        if (image_load(images[i], &im, err) ||
            augment_apply(&aug, &im, 0, trainer_input(&m.tr), x.model.in_h, x.model.in_w, err)) {
            if (im.rgb)
                image_free(&im);
            free(p);
            goto out;
        }
        image_free(&im);
        trainer_forward(&m.tr, 1, 0, 0);
        softmax(trainer_logits(&m.tr), k, p);
        print_one(a, images[i], p, k, names, i == 0);
    }
    if (a->json)
        printf("]\n");
    free(p);
    rc = 0;
out:
    free(classes);
    assembly_free(&m);
    experiment_free(&x);
    plugins_free(&reg);
    return rc;
}

static int run(int argc, char **argv)
{
    predict_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc == 0) {
        strata_err err = {0};
        if (predict(&a, argv + optind, argc - optind, &err))
            rc = cli_fail(&err);
    }
    free(a.sets);
    return rc;
}

const cli_command cmd_predict = {"predict", "classify images with a trained run or a weights file", run, usage};
