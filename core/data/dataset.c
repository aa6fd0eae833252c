/* dataset.c — image-folder scanning and the stratified train/val split. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <strata/plugin.h> /* strata_rng_next */
#include "data/dataset.h"
#include "data/image.h"

#define WALK_MAX_DEPTH 32

/* A growable list of owned strings. */
typedef struct strlist {
    char **v;
    int n, cap;
} strlist;

static int sl_push(strlist *l, char *s)
{
    if (!s)
        return -1;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 16;
        char **v = realloc(l->v, sizeof *v * cap);
        if (!v) {
            free(s);
            return -1;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    return 0;
}

static void sl_free(strlist *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    int slash = a > 0 && dir[a - 1] != '/';
    char *s = malloc(a + slash + b + 1);
    if (!s)
        return NULL;
    memcpy(s, dir, a);
    if (slash)
        s[a] = '/';
    memcpy(s + a + slash, name, b + 1);
    return s;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_image_ext(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0 ||
                   strcasecmp(dot, ".png") == 0);
}

static void sort_strings(strlist *l)
{
    if (l->n > 1) /* qsort(NULL, 0, ...) is undefined */
        qsort(l->v, l->n, sizeof *l->v, cmp_str);
}

/* Names in dir (without . and ..), sorted by strcmp; directories only when
 * want_dirs, regular files only otherwise (a FIFO, socket or device where a
 * file is expected is skipped with a warning: reading it could block or
 * never end). Unreadable dirs give an empty list. */
static int list_dir(const char *dir, int want_dirs, strlist *out)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *p = join(dir, e->d_name);
        struct stat st;
        int found = p && stat(p, &st) == 0;
        int keep = found && (want_dirs ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
        if (found && !want_dirs && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
            fprintf(stderr, "strata: warning: %s: not a regular file (a FIFO, socket or device), skipped\n", p);
        free(p);
        if (keep && sl_push(out, strdup(e->d_name))) {
            closedir(d);
            return -1;
        }
    }
    closedir(d);
    sort_strings(out);
    return 0;
}

/* The folders already walked, by device and inode: a folder reached a
 * second time (a symlink loop such as daisy/loop -> ., or a link to another
 * class's folder) is skipped, so no photo is counted twice and no walk
 * runs forever. */
typedef struct visited {
    struct { dev_t dev; ino_t ino; } *v;
    int n, cap;
} visited;

/* 1 when dir was seen before, 0 when it is new (and now recorded), -1 when
 * out of memory or dir cannot be stat'ed (skipped). */
static int visit(visited *vis, const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return 1;
    for (int i = 0; i < vis->n; i++)
        if (vis->v[i].dev == st.st_dev && vis->v[i].ino == st.st_ino)
            return 1;
    if (vis->n == vis->cap) {
        int cap = vis->cap ? 2 * vis->cap : 64;
        void *v = realloc(vis->v, sizeof *vis->v * cap);
        if (!v)
            return -1;
        vis->v = v;
        vis->cap = cap;
    }
    vis->v[vis->n].dev = st.st_dev;
    vis->v[vis->n].ino = st.st_ino;
    vis->n++;
    return 0;
}

/* All sub-directories of dir, recursively, as full paths (dir included),
 * each real folder once. */
static int walk_dirs(const char *dir, int depth, visited *vis, strlist *out)
{
    int seen = visit(vis, dir);
    if (seen < 0)
        return -1;
    if (seen) {
        fprintf(stderr, "strata: warning: %s: a folder already scanned (a symlink loop or a second link "
                        "to it), skipped\n", dir);
        return 0;
    }
    if (sl_push(out, strdup(dir)))
        return -1;
    if (depth >= WALK_MAX_DEPTH)
        return 0;
    strlist subs = {0};
    int rc = list_dir(dir, 1, &subs);
    for (int i = 0; rc == 0 && i < subs.n; i++) {
        char *p = join(dir, subs.v[i]);
        rc = p ? walk_dirs(p, depth + 1, vis, out) : -1;
        free(p);
    }
    sl_free(&subs);
    return rc;
}

/* Image files of one class, in ImageFolder's order (sorted folder paths,
 * then sorted names); accepted ones to paths, refused ones to skipped. */
static int scan_class(const char *classdir, long max_pixels, visited *vis, strlist *paths,
                      strlist *skipped, int *accepted)
{
    strlist dirs = {0};
    int rc = walk_dirs(classdir, 0, vis, &dirs);
    sort_strings(&dirs);
    *accepted = 0;
    for (int i = 0; rc == 0 && i < dirs.n; i++) {
        strlist files = {0};
        rc = list_dir(dirs.v[i], 0, &files);
        for (int j = 0; rc == 0 && j < files.n; j++) {
            if (!has_image_ext(files.v[j]))
                continue;
            char *p = join(dirs.v[i], files.v[j]);
            strata_err e;
            if (!p) {
                rc = -1;
            } else if (image_probe_max(p, max_pixels, &e) == 0) {
                rc = sl_push(paths, p);
                ++*accepted;
            } else {
                fprintf(stderr, "strata: warning: %s, skipped\n", e.msg);
                rc = sl_push(skipped, p);
            }
        }
        sl_free(&files);
    }
    sl_free(&dirs);
    return rc;
}

static int check_root(const char *root, strata_err *err)
{
    struct stat st;
    if (stat(root, &st) != 0)
        return err_set(err, STRATA_ERR_CONFIG,
                       "%s: %s (expected a folder with one sub-folder per class)",
                       root, errno == ENOENT ? "no such directory" : strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return err_set(err, STRATA_ERR_CONFIG,
                       "%s: not a directory (expected a folder with one sub-folder per class)",
                       root);
    return 0;
}

int dataset_scan(const char *root, dataset *out, strata_err *err)
{
    return dataset_scan_max(root, IMAGE_DEFAULT_MAX_PIXELS, out, err);
}

int dataset_scan_max(const char *root, long max_pixels, dataset *out, strata_err *err)
{
    memset(out, 0, sizeof *out);
    if (check_root(root, err))
        return -1;
    if (max_pixels <= 0)
        max_pixels = IMAGE_DEFAULT_MAX_PIXELS;
    visited vis = {0};
    strlist classes = {0}, paths = {0}, skipped = {0};
    int *labels = NULL, rc = 0;
    if (list_dir(root, 1, &classes))
        rc = err_set(err, STRATA_ERR_RUNTIME, "%s: out of memory while scanning", root);
    else if (classes.n == 0)
        rc = err_set(err, STRATA_ERR_CONFIG,
                     "%s: no class folders (expected one sub-folder per class "
                     "holding .jpg, .jpeg or .png images)", root);
    for (int c = 0; rc == 0 && c < classes.n; c++) {
        char *dir = join(root, classes.v[c]);
        int before = paths.n, nskip = skipped.n, accepted = 0;
        int *l = NULL;
        if (!dir || scan_class(dir, max_pixels, &vis, &paths, &skipped, &accepted) ||
            !(l = realloc(labels, sizeof *labels * (paths.n ? paths.n : 1)))) {
            rc = err_set(err, STRATA_ERR_RUNTIME, "%s: out of memory while scanning",
                         root);
        } else {
            labels = l;
            for (int i = before; i < paths.n; i++)
                labels[i] = c;
            if (accepted == 0)
                rc = err_set(err, STRATA_ERR_CONFIG,
                             "%s: no %simages in this class folder "
                             "(expected .jpg, .jpeg or .png files)",
                             dir, skipped.n > nskip ? "readable " : "");
        }
        free(dir);
    }
    free(vis.v);
    if (rc != 0) {
        sl_free(&classes);
        sl_free(&paths);
        sl_free(&skipped);
        free(labels);
        return -1;
    }
    out->num_classes = classes.n;
    out->classes = classes.v;
    out->n = paths.n;
    out->paths = paths.v;
    out->labels = labels;
    out->num_skipped = skipped.n;
    out->skipped = skipped.v;
    out->max_pixels = max_pixels;
    return 0;
}

/* ---- listings (strata predict) ---------------------------------------------- */

int dataset_list_images(const char *dir, char ***paths, int *n, strata_err *err)
{
    visited vis = {0};
    strlist dirs = {0}, out = {0};
    int rc = walk_dirs(dir, 0, &vis, &dirs);
    sort_strings(&dirs);
    for (int i = 0; rc == 0 && i < dirs.n; i++) {
        strlist files = {0};
        rc = list_dir(dirs.v[i], 0, &files);
        for (int j = 0; rc == 0 && j < files.n; j++)
            if (has_image_ext(files.v[j]))
                rc = sl_push(&out, join(dirs.v[i], files.v[j]));
        sl_free(&files);
    }
    sl_free(&dirs);
    free(vis.v);
    if (rc) {
        sl_free(&out);
        return err_set(err, STRATA_ERR_RUNTIME, "%s: out of memory while listing the images", dir);
    }
    *paths = out.v;
    *n = out.n;
    return 0;
}

int dataset_list_classes(const char *root, char ***names, int *n, strata_err *err)
{
    strlist l = {0};
    if (list_dir(root, 1, &l)) {
        sl_free(&l);
        return err_set(err, STRATA_ERR_RUNTIME, "%s: out of memory while listing the class folders", root);
    }
    *names = l.v;
    *n = l.n;
    return 0;
}

void dataset_free_list(char **list, int n)
{
    strlist l = {list, n, n};
    sl_free(&l);
}

/* ---- split ---------------------------------------------------------------- */

/* Uniform integer in [0, n) from a 53-bit uniform double. */
static int rng_below(uint64_t *state, int n)
{
    double u = (double)(strata_rng_next(state) >> 11) * 0x1p-53;
    int j = (int)(u * n);
    return j < n ? j : n - 1;
}

/* Allocate d for n samples with a copy of all's classes. */
static int alloc_like(dataset *d, const dataset *all, int n)
{
    memset(d, 0, sizeof *d);
    d->classes = calloc(all->num_classes ? all->num_classes : 1, sizeof *d->classes);
    d->paths = calloc(n ? n : 1, sizeof *d->paths);
    d->labels = calloc(n ? n : 1, sizeof *d->labels);
    if (!d->classes || !d->paths || !d->labels)
        return -1;
    d->num_classes = all->num_classes;
    d->max_pixels = all->max_pixels;
    for (int c = 0; c < all->num_classes; c++)
        if (!(d->classes[c] = strdup(all->classes[c])))
            return -1;
    return 0;
}

static int append(dataset *d, const char *path, int label)
{
    if (!(d->paths[d->n] = strdup(path)))
        return -1;
    d->labels[d->n++] = label;
    return 0;
}

/* in_val[i] = 1 for the samples that go to val (see dataset.h). */
static int mark_val(const dataset *all, double val_fraction, uint64_t seed,
                    char *in_val)
{
    int *idx = malloc(sizeof *idx * (all->n ? all->n : 1));
    if (!idx)
        return -1;
    uint64_t state = seed;
    for (int c = 0; c < all->num_classes; c++) {
        int m = 0;
        for (int i = 0; i < all->n; i++)
            if (all->labels[i] == c)
                idx[m++] = i;
        for (int i = m - 1; i > 0; i--) {
            int j = rng_below(&state, i + 1), t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        int k = (int)floor(val_fraction * m);
        for (int i = 0; i < k; i++)
            in_val[idx[i]] = 1;
    }
    free(idx);
    return 0;
}

int dataset_split(const dataset *all, double val_fraction, uint64_t split_seed,
                  dataset *train, dataset *val, strata_err *err)
{
    memset(train, 0, sizeof *train);
    memset(val, 0, sizeof *val);
    if (!(val_fraction >= 0.0 && val_fraction < 1.0))
        return err_set(err, STRATA_ERR_CONFIG,
                       "validation fraction %g out of range (expected a number in [0, 1))",
                       val_fraction);
    char *in_val = calloc(all->n ? all->n : 1, 1);
    int rc = in_val ? mark_val(all, val_fraction, split_seed, in_val) : -1;
    int nval = 0;
    for (int i = 0; rc == 0 && i < all->n; i++)
        nval += in_val[i];
    if (rc == 0)
        rc = alloc_like(train, all, all->n - nval) | alloc_like(val, all, nval);
    for (int i = 0; rc == 0 && i < all->n; i++)
        rc = append(in_val[i] ? val : train, all->paths[i], all->labels[i]);
    free(in_val);
    if (rc != 0) {
        dataset_free(train);
        dataset_free(val);
        return err_set(err, STRATA_ERR_RUNTIME, "dataset split: out of memory");
    }
    return 0;
}

void dataset_free(dataset *d)
{
    if (!d)
        return;
    for (int i = 0; d->classes && i < d->num_classes; i++)
        free(d->classes[i]);
    for (int i = 0; d->paths && i < d->n; i++)
        free(d->paths[i]);
    for (int i = 0; d->skipped && i < d->num_skipped; i++)
        free(d->skipped[i]);
    free(d->classes);
    free(d->paths);
    free(d->labels);
    free(d->skipped);
    memset(d, 0, sizeof *d);
}
