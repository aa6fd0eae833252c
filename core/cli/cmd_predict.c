/* cmd_predict.c — `strata predict`: classify images with a trained model. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <sys/stat.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "data/augment_config.h"
#include "store/checkpoint.h"
#include "cli/cli.h"
#include "cli/predict_classes.h"
#include "config/experiment.h"
#include "data/dataset.h"
#include "data/image.h"
#include "store/results.h"
#include "train/assemble.h"

static const char usage[] =
    "usage: strata predict --run RUN [--checkpoint best|last] [--db PATH] [--top K] [--json] PATH...\n"
    "       strata predict --weights FILE.safetensors --experiment FILE.yaml [-s KEY=VALUE]...\n"
    "                      [--classes FILE] [--top K] [--json] PATH...\n"
    "\n"
    "Classify images (JPEG or PNG) with a trained model and print, per image, the\n"
    "predicted class and its probability (softmax), or the K most probable with\n"
    "--top K. A PATH that is a folder is walked recursively: its .jpg, .jpeg and\n"
    ".png files (any case) in sorted order, other files skipped. An image that\n"
    "cannot be read is one warning line and the rest are still predicted; the\n"
    "exit status is then 1. Images get the experiment's validation\n"
    "preprocessing (augment.val), the model runs in eval mode (dropout off,\n"
    "batchnorm's running statistics). With --run, the run's stored configuration\n"
    "and its checkpoint (results.dir/checkpoints/RUN/best.safetensors by default)\n"
    "are used.\n"
    "\n"
    "Class names come from --classes FILE, else the weights' `classes` metadata\n"
    "(every strata checkpoint has it), else the class folders of the\n"
    "experiment's data.root (or data.train), sorted as training sorts them.\n"
    "\n"
    "  --run RUN               a run id, or the newest run of that name\n"
    "  --checkpoint best|last  which checkpoint of the run (default best)\n"
    "  --db PATH               the results database (default: env STRATA_DB, else " RESULTS_DEFAULT_DB ")\n"
    "  --weights FILE          a safetensors file of the model's weights (with --experiment)\n"
    "  --experiment FILE       the experiment that describes the model\n"
    "  -s, --set KEY=VALUE     override a key of the experiment\n"
    "  --classes FILE          class names, one per line, as many as the model's outputs\n"
    "  --top K                 the K most probable classes (default 1)\n"
    "  --json                  one JSON document\n"
    "  -h, --help              this text\n";

typedef struct predict_args {
    const char *run, *checkpoint, *db, *weights, *experiment, *classes;
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
        {"classes", required_argument, 0, 'C'},
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
        case 'C': a->classes = optarg; break;
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
        return cli_usage(&cmd_predict, "expected at least one image or folder");
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

/* ---- the images: files as given, folders walked --------------------------- */

typedef struct image_list {
    char **paths;
    int n, cap;
    int failed; /* folders without images (each warned about) */
} image_list;

static void list_push(image_list *l, const char *path)
{
    if (l->n == l->cap)
        l->paths = realloc(l->paths, (l->cap = l->cap ? 2 * l->cap : 64) * sizeof *l->paths);
    l->paths[l->n++] = strdup(path);
}

/* A folder contributes its image files (dataset_list_images' walk and
 * order); anything else is kept as given (a missing or unreadable one
 * fails, with its warning, when it is loaded). */
static int expand_args(char **args, int n_args, image_list *l, strata_err *err)
{
    for (int i = 0; i < n_args; i++) {
        struct stat st;
        if (stat(args[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
            list_push(l, args[i]);
            continue;
        }
        char **found;
        int n;
        if (dataset_list_images(args[i], &found, &n, err))
            return -1;
        if (n == 0) {
            fprintf(stderr, "strata: warning: %s: no .jpg, .jpeg or .png files in this folder\n", args[i]);
            l->failed++;
        }
        for (int j = 0; j < n; j++)
            list_push(l, found[j]);
        dataset_free_list(found, n);
    }
    return 0;
}

static void list_free(image_list *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->paths[i]);
    free(l->paths);
}

/* ---- one image ---------------------------------------------------------------- */

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

/* Decode, preprocess and classify one image into p (k probabilities). */
static int classify(assembly *m, const experiment *x, const aug_pipeline *aug, const char *path, double *p, int k,
                    strata_err *err)
{
    image im = {0};
    if (image_load_max(path, x->data.max_pixels, &im, err))
        return -1;
    int rc = augment_apply(aug, &im, 0, trainer_input(&m->tr), x->model.in_h, x->model.in_w, err);
    image_free(&im);
    if (rc)
        return -1;
    trainer_forward(&m->tr, 1, 0, 0);
    softmax(trainer_logits(&m->tr), k, p);
    return 0;
}

/* Every image in turn: an image that fails is a warning and counts in
 * *failed; the others are printed. */
static void classify_all(const predict_args *a, assembly *m, const experiment *x, const aug_pipeline *aug,
                         const image_list *images, char **names, int k, int *failed)
{
    double *p = malloc(k * sizeof *p);
    int printed = 0;
    if (a->json)
        printf("[");
    for (int i = 0; i < images->n; i++) {
        strata_err e = {0};
        if (classify(m, x, aug, images->paths[i], p, k, &e)) {
            fprintf(stderr, "strata: warning: %s\n", e.msg);
            ++*failed;
            continue;
        }
        print_one(a, images->paths[i], p, k, names, printed++ == 0);
    }
    if (a->json)
        printf("]\n");
    free(p);
}

static int predict(const predict_args *a, char **args, int n_args, strata_err *err)
{
    experiment x = {0};
    plugin_registry reg;
    assembly m = {0};
    aug_pipeline aug;
    image_list images = {0};
    char weights[4200], **names = NULL;
    int rc = -1, skipped, k = 0;
    plugins_init(&reg, cli_plugin_dir);
    if (a->run ? from_run(a, &x, weights, sizeof weights, err)
               : experiment_load(a->experiment, a->sets, a->n_sets, &x, err))
        goto out;
    if (a->weights)
        snprintf(weights, sizeof weights, "%s", a->weights);
    /* one image at a time on one thread; the checkpoint's weights replace the initial ones */
    assembly_cfg cfg = {.batch = 1, .threads = 1, .init_params = 0};
    if (assembly_create(&m, &x, &reg, 0, err) || assembly_alloc(&m, &x, &cfg, err) ||
        checkpoint_load_weights(weights, &m.net, 1, &skipped, err))
        goto out;
    k = (int)shape_size(m.net.layers[m.net.n_layers - 1].out);
    if (predict_class_names(a->classes, weights, &x, k, &names, err) ||
        augment_config(x.augment_val, "augment.val", x.model.in_h, x.model.in_w, &aug, err) ||
        expand_args(args, n_args, &images, err))
        goto out;
    int failed = images.failed;
    classify_all(a, &m, &x, &aug, &images, names, k, &failed);
    rc = 0;
    if (failed)
        rc = err_set(err, STRATA_ERR_RUNTIME, "%d of %d images could not be predicted (see the warnings above)",
                     failed, images.n + images.failed);
out:
    list_free(&images);
    predict_classes_free(names, k);
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
