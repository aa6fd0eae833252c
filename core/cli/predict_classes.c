/* predict_classes.c — see predict_classes.h */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/predict_classes.h"
#include "data/dataset.h"
#include "store/checkpoint.h"


/* Split text into lines (a last '\n' ends the last line, "\r\n" counts as
 * '\n'); the lines point into text, which is changed. Returns the count. */
static int split_lines(char *text, char ***lines)
{
    int n = 0, cap = 16;
    char **v = malloc(cap * sizeof *v);
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        size_t len = strlen(p);
        if (len && p[len - 1] == '\r')
            p[len - 1] = '\0';
        if (n == cap)
            v = realloc(v, (cap *= 2) * sizeof *v);
        v[n++] = p;
        p = nl ? nl + 1 : p + len;
    }
    *lines = v;
    return n;
}

/* Copies of n names, after checking the count and that none is empty. */
static int take_names(char **src, int n, int k, const char *source, char ***names, strata_err *err)
{
    if (n != k)
        return err_set(err, STRATA_ERR_CONFIG, "%s gives %d class names, the model has %d outputs", source, n, k);
    for (int i = 0; i < n; i++)
        if (!src[i][0])
            return err_set(err, STRATA_ERR_CONFIG, "%s: class name %d of %d is empty", source, i + 1, n);
    char **v = calloc(k, sizeof *v);
    for (int i = 0; i < k; i++)
        v[i] = strdup(src[i]);
    *names = v;
    return 0;
}

/* --classes FILE: one name per line. */
static int from_file(const char *path, int k, char ***names, strata_err *err)
{
    char *text = cli_read_text(path, "--classes", err), **lines, source[4200];
    if (!text)
        return -1;
    int n = split_lines(text, &lines);
    snprintf(source, sizeof source, "%s (--classes, one name per line)", path);
    int rc = take_names(lines, n, k, source, names, err);
    free(lines);
    free(text);
    return rc;
}

/* The weights' `classes` metadata: 1 when there is none. */
static int from_weights(const char *weights, int k, char ***names, strata_err *err)
{
    strata_err ignored;
    char *text = checkpoint_classes(weights, &ignored), **lines, source[4200];
    if (!text)
        return 1;
    int n = split_lines(text, &lines);
    snprintf(source, sizeof source, "%s: the `classes` metadata", weights);
    int rc = n ? take_names(lines, n, k, source, names, err) : 1; /* empty: none */
    free(lines);
    free(text);
    return rc;
}

/* The class folders of data.root (or data.train): 1 when none. */
static int from_data_root(const experiment *x, int k, char ***names, strata_err *err)
{
    const char *root = x->data.root ? x->data.root : x->data.train, *key = x->data.root ? "data.root" : "data.train";
    char **dirs, source[4200];
    int n;
    if (!root)
        return 1;
    if (dataset_list_classes(root, &dirs, &n, err))
        return -1;
    snprintf(source, sizeof source, "%s: %s %s (its class folders)", x->path, key, root);
    int rc = n ? take_names(dirs, n, k, source, names, err) : 1;
    dataset_free_list(dirs, n);
    return rc;
}

int predict_class_names(const char *classes_file, const char *weights, const experiment *x, int k, char ***names,
                        strata_err *err)
{
    if (classes_file)
        return from_file(classes_file, k, names, err);
    int rc = from_weights(weights, k, names, err);
    if (rc <= 0)
        return rc;
    rc = from_data_root(x, k, names, err);
    if (rc <= 0)
        return rc;
    return err_set(err, STRATA_ERR_CONFIG, "%s: no class names: the weights have no `classes` metadata and %s "
                   "has no class folders in data.root; give them with --classes FILE (one per line), as the "
                   "weights' `classes` metadata (names joined by newlines), or as the experiment's data.root "
                   "(one sub-folder per class)", weights, x->path);
}

void predict_classes_free(char **names, int k)
{
    for (int i = 0; names && i < k; i++)
        free(names[i]);
    free(names);
}
