/* evaluate.c — see evaluate.h */
#define _XOPEN_SOURCE 700 /* realpath */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "data/augment_config.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "store/checkpoint.h"
#include "train/assemble.h"
#include "train/blas_select.h"
#include "train/evaluate.h"

/* What one evaluation holds while it runs. */
typedef struct eval_job {
    const eval_request *q;
    experiment x;
    plugin_registry reg;
    assembly m;
    dataset ds;          /* the images, labelled with the checkpoint's classes */
    aug_pipeline aug;
    loader *l;
    int batch, threads;
} eval_job;

/* ---- the run, its model and checkpoint ---------------------------------- */

/* The run's experiment, name and id from the database. */
static int load_run(eval_job *j, results *db, evaluation *ev, strata_err *err)
{
    run_record rec = {0};
    if (results_find_run(db, j->q->run, &ev->rec.run_id, err) || results_get_run(db, ev->rec.run_id, &rec, err))
        return -1;
    char name[64];
    snprintf(name, sizeof name, "run %lld config", (long long)rec.id);
    ynode *root = yaml_load_string(rec.config ? rec.config : "", name, err);
    int rc = !root || experiment_from_tree(root, rec.experiment ? rec.experiment : "run", &j->x, err) ? -1 : 0;
    ev->run_name = strdup(rec.name ? rec.name : "");
    run_record_free(&rec);
    return rc;
}

/* Split "a\nb\nc" into k malloc'd names. */
static char **split_names(const char *text, int *k)
{
    int n = 1;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    char **names = calloc(n, sizeof *names);
    *k = 0;
    for (const char *p = text; names && *k < n; (*k)++) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (!(names[*k] = strndup(p, len)))
            return names;
        p += len + (nl != NULL);
    }
    return names;
}

/* The network with the checkpoint's weights, and its class names. */
static int load_model(eval_job *j, evaluation *ev, strata_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/checkpoints/%lld/%s.safetensors", j->x.results.dir, (long long)ev->rec.run_id,
             j->q->checkpoint);
    ev->weights = strdup(path);
    if (access(path, R_OK) != 0)
        return err_set(err, STRATA_ERR_CONFIG, "run %lld (%s): no checkpoint %s (--checkpoint %s)",
                       (long long)ev->rec.run_id, ev->run_name, path, j->q->checkpoint);
    j->threads = j->q->threads ? j->q->threads : j->x.train.threads;
    j->batch = j->x.train.batch_size;
    blas_set_threads(j->threads);
    assembly_cfg cfg = {.batch = j->batch, .threads = j->threads, .init_params = 0};
    int skipped;
    char *classes = NULL;
    if (assembly_create(&j->m, &j->x, &j->reg, 0, err) || assembly_alloc(&j->m, &j->x, &cfg, err) ||
        checkpoint_load_weights(path, &j->m.net, 1, &skipped, err) ||
        checkpoint_epoch(path, &ev->rec.epoch, err) || !(classes = checkpoint_classes(path, err)))
        return -1;
    ev->rec.classes = split_names(classes, &ev->rec.k);
    free(classes);
    int outputs = (int)shape_size(j->m.net.layers[j->m.net.n_layers - 1].out);
    if (!ev->rec.classes)
        return err_set(err, STRATA_ERR_RUNTIME, "out of memory");
    if (ev->rec.k != outputs)
        return err_set(err, STRATA_ERR_CONFIG, "%s: the checkpoint names %d classes, the model has %d outputs", path,
                       ev->rec.k, outputs);
    return 0;
}

/* ---- the images ---------------------------------------------------------- */

/* The run's recorded split, without the files gone since (one warning). */
static int split_images(eval_job *j, results *db, evaluation *ev, strata_err *err)
{
    int n;
    char **paths;
    int *labels;
    if (results_run_split(db, ev->rec.run_id, j->q->split, &n, &paths, &labels, err))
        return -1;
    dataset *d = &j->ds;
    d->max_pixels = j->x.data.max_pixels;
    d->paths = paths;
    d->labels = labels;
    const char *first_missing = NULL;
    int rc = 0;
    for (int i = 0; i < n; i++) {
        struct stat sb;
        if (labels[i] < 0 || labels[i] >= ev->rec.k) {
            rc = err_set(err, STRATA_ERR_RUNTIME, "%s: run %lld: %s has label %d, the run has %d classes",
                         results_path(db), (long long)ev->rec.run_id, paths[i], labels[i], ev->rec.k);
            for (; i < n; i++)
                free(paths[i]);
            break;
        }
        if (stat(paths[i], &sb) == 0) {
            paths[d->n] = paths[i];
            labels[d->n++] = labels[i];
        } else if (ev->missing++ == 0)
            first_missing = paths[i];
        else
            free(paths[i]);
    }
    if (first_missing)
        fprintf(stderr, "strata: warning: %d of the %d images of run %lld's %s split are gone (first: %s); "
                        "evaluating the %d left\n", ev->missing, n, (long long)ev->rec.run_id, j->q->split,
                first_missing, d->n);
    free((char *)first_missing);
    return rc;
}

static int class_index(char *const *classes, int k, const char *name)
{
    for (int c = 0; c < k; c++)
        if (!strcmp(classes[c], name))
            return c;
    return -1;
}

/* A folder of class folders, its labels mapped to the run's classes by name. */
static int folder_images(eval_job *j, evaluation *ev, strata_err *err)
{
    dataset *d = &j->ds;
    if (dataset_scan_max(j->q->data_dir, j->x.data.max_pixels, d, err))
        return -1;
    int *map = calloc(d->num_classes, sizeof *map);
    if (!map)
        return err_set(err, STRATA_ERR_RUNTIME, "out of memory");
    for (int c = 0; c < d->num_classes; c++)
        if ((map[c] = class_index(ev->rec.classes, ev->rec.k, d->classes[c])) < 0) {
            err_set(err, STRATA_ERR_CONFIG, "--data %s: class folder '%s' is not one of run %lld's %d classes",
                    j->q->data_dir, d->classes[c], (long long)ev->rec.run_id, ev->rec.k);
            free(map);
            return -1;
        }
    for (int i = 0; i < d->n; i++)
        d->labels[i] = map[d->labels[i]];
    free(map);
    ev->unreadable = d->num_skipped;
    return 0;
}

/* ---- the pass ------------------------------------------------------------ */

static int alloc_record(eval_record *e, int n)
{
    size_t k = e->k;
    e->class_n = calloc(k, sizeof *e->class_n);
    e->class_correct = calloc(k, sizeof *e->class_correct);
    e->precision = calloc(k, sizeof *e->precision);
    e->recall = calloc(k, sizeof *e->recall);
    e->confusion = calloc(k * k, sizeof *e->confusion);
    e->paths = calloc(n + 1, sizeof *e->paths);
    e->truth = calloc(n + 1, sizeof *e->truth);
    e->pred = calloc(n + 1, sizeof *e->pred);
    e->prob = calloc(n + 1, sizeof *e->prob);
    return e->class_n && e->class_correct && e->precision && e->recall && e->confusion && e->paths && e->truth &&
                   e->pred && e->prob
               ? 0
               : -1;
}

/* Record the batch's n predictions; *pos walks the data set past the
 * images the loader could not decode (left out of their batch). */
static void take_predictions(eval_job *j, eval_record *e, const int *labels, int n, int *pos)
{
    for (int i = 0; i < n; i++) {
        while (loader_failed_at(j->l, *pos))
            (*pos)++;
        long r = e->n++;
        e->paths[r] = strdup(j->ds.paths[(*pos)++]);
        e->truth[r] = labels[i];
        e->pred[r] = trainer_predicted(&j->m.tr, i, &e->prob[r]);
        e->confusion[(size_t)labels[i] * e->k + e->pred[r]]++;
    }
}

static int run_pass(eval_job *j, evaluation *ev, strata_err *err)
{
    eval_record *e = &ev->rec;
    const model_spec *ms = &j->x.model;
    int workers = j->x.data.workers ? j->x.data.workers : j->threads, n, pos = 0;
    double loss_sum = 0;
    if (alloc_record(e, j->ds.n))
        return err_set(err, STRATA_ERR_RUNTIME, "out of memory");
    int *labels = calloc(j->batch, sizeof *labels);
    if (!labels || augment_config(j->x.augment_val, "augment.val", ms->in_h, ms->in_w, &j->aug, err) ||
        loader_open(&j->l, &j->ds, &j->aug, j->batch, 0, seed_stream_of(j->x.train.seed, SEED_VAL_DATA), workers,
                    ms->in_h, ms->in_w, err) ||
        loader_start_epoch(j->l, 0, err)) {
        free(labels);
        return labels ? -1 : err_set(err, STRATA_ERR_RUNTIME, "out of memory");
    }
    while ((n = loader_next(j->l, trainer_input(&j->m.tr), labels, err)) > 0) {
        int ok;
        loss_sum += trainer_eval_step(&j->m.tr, labels, n, &ok) * n;
        take_predictions(j, e, labels, n, &pos);
    }
    free(labels);
    if (n < 0)
        return -1;
    ev->unreadable += loader_num_failed(j->l);
    e->loss = e->n ? loss_sum / e->n : NAN;
    return 0;
}

/* Per class: n, correct, recall = correct / n, precision = correct / the
 * images predicted as it (NaN when none); the accuracy. */
static void summarise(eval_record *e)
{
    long correct = 0;
    for (int c = 0; c < e->k; c++) {
        long predicted = 0;
        for (int t = 0; t < e->k; t++) {
            e->class_n[c] += e->confusion[(size_t)c * e->k + t];
            predicted += e->confusion[(size_t)t * e->k + c];
        }
        e->class_correct[c] = e->confusion[(size_t)c * e->k + c];
        e->recall[c] = e->class_n[c] ? (double)e->class_correct[c] / e->class_n[c] : NAN;
        e->precision[c] = predicted ? (double)e->class_correct[c] / predicted : NAN;
        correct += e->class_correct[c];
    }
    e->acc = e->n ? (double)correct / e->n : NAN;
}

/* evals.data: "val" / "train", or the folder's absolute path. */
static int data_label(const eval_request *q, eval_record *e, strata_err *err)
{
    char abs[PATH_MAX];
    if (!q->data_dir)
        e->data = strdup(q->split);
    else if (realpath(q->data_dir, abs))
        e->data = strdup(abs);
    else
        return err_set(err, STRATA_ERR_CONFIG, "--data %s: cannot resolve the folder's path", q->data_dir);
    return e->data ? 0 : err_set(err, STRATA_ERR_RUNTIME, "out of memory");
}

int evaluate_run(const eval_request *q, evaluation *ev, strata_err *err)
{
    eval_job j;
    results *db = NULL;
    memset(&j, 0, sizeof j);
    memset(ev, 0, sizeof *ev);
    j.q = q;
    ev->rec.checkpoint = q->checkpoint;
    plugins_init(&j.reg, q->plugin_dir);
    int rc = -1;
    if (results_open_existing(q->db, &db, err) || load_run(&j, db, ev, err) || load_model(&j, ev, err) ||
        (q->data_dir ? folder_images(&j, ev, err) : split_images(&j, db, ev, err)) || data_label(q, &ev->rec, err))
        goto out;
    if (j.ds.n == 0) {
        err_set(err, STRATA_ERR_CONFIG, "run %lld (%s): no images to evaluate in %s", (long long)ev->rec.run_id,
                ev->run_name, q->data_dir ? q->data_dir : q->split);
        goto out;
    }
    if (run_pass(&j, ev, err))
        goto out;
    if (ev->rec.n == 0) {
        err_set(err, STRATA_ERR_CONFIG, "run %lld (%s): none of the %d images could be read", (long long)ev->rec.run_id,
                ev->run_name, j.ds.n);
        goto out;
    }
    summarise(&ev->rec);
    rc = results_eval(db, &ev->rec, &ev->id, err);
out:
    if (j.l)
        loader_close(j.l);
    dataset_free(&j.ds);
    assembly_free(&j.m);
    experiment_free(&j.x);
    plugins_free(&j.reg);
    results_close(db);
    return rc;
}

void evaluation_free(evaluation *ev)
{
    eval_record *e = &ev->rec;
    for (int c = 0; e->classes && c < e->k; c++)
        free(e->classes[c]);
    for (long i = 0; e->paths && i < e->n; i++)
        free(e->paths[i]);
    void *blocks[] = {e->classes, e->data, e->class_n, e->class_correct, e->precision, e->recall, e->confusion,
                      e->paths, e->truth, e->pred, e->prob, ev->run_name, ev->weights};
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++)
        free(blocks[i]);
    memset(ev, 0, sizeof *ev);
}
