/* sweep.c — see sweep.h */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config/sweep.h"

/* A value in one line: scalars as written, lists as [a, b], maps {k: v}. */
static void flow_text(const ynode *v, char *buf, size_t size)
{
    size_t len = 0;
    if (v->kind == YNODE_SCALAR) {
        snprintf(buf, size, "%s", v->str);
        return;
    }
    len += (size_t)snprintf(buf, size, "%c", v->kind == YNODE_SEQ ? '[' : '{');
    for (int i = 0; i < v->n && len < size; i++) {
        char item[256];
        flow_text(v->items[i], item, sizeof item);
        if (v->kind == YNODE_MAP)
            len += (size_t)snprintf(buf + len, size - len, "%s%s: %s", i ? ", " : "", v->keys[i], item);
        else
            len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", item);
    }
    if (len < size)
        snprintf(buf + len, size - len, "%c", v->kind == YNODE_SEQ ? ']' : '}');
}

static void point_add(sweep_point *p, const char *key, const ynode *val)
{
    p->keys = realloc(p->keys, (p->n + 1) * sizeof *p->keys);
    p->vals = realloc(p->vals, (p->n + 1) * sizeof *p->vals);
    p->keys[p->n] = strdup(key);
    p->vals[p->n] = val;
    p->n++;
}

static void point_label(sweep_point *p)
{
    size_t cap = 64, len = 0;
    p->label = calloc(1, cap);
    for (int i = 0; i < p->n; i++) {
        char v[512];
        flow_text(p->vals[i], v, sizeof v);
        size_t need = strlen(p->keys[i]) + strlen(v) + 3;
        if (len + need >= cap) {
            cap = 2 * (len + need);
            p->label = realloc(p->label, cap);
        }
        len += (size_t)sprintf(p->label + len, "%s%s=%s", i ? ";" : "", p->keys[i], v);
    }
}

long sweep_count(const ynode *sweep)
{
    const ynode *grid = ynode_get(sweep, "grid"), *points = ynode_get(sweep, "points");
    long n = points ? points->n : 1;
    for (int i = 0; grid && i < grid->n; i++) {
        n *= grid->items[i]->n;
        if (n > 100000000L)
            return n;
    }
    return n;
}

int sweep_plan_build(const ynode *sweep, sweep_plan *plan, strata_err *err)
{
    const ynode *grid = ynode_get(sweep, "grid"), *points = ynode_get(sweep, "points");
    memset(plan, 0, sizeof *plan);
    long total = sweep_count(sweep);
    if (total < 1)
        return err_set(err, STRATA_ERR_CONFIG, "sweep: no points");
    if (total > SWEEP_MAX_POINTS)
        return err_set(err, STRATA_ERR_CONFIG, "sweep: %s%ld points (expected at most %d)",
                       total > 100000000L ? "over " : "", total, SWEEP_MAX_POINTS);
    plan->points = calloc(total, sizeof *plan->points);
    int n_sets = points ? points->n : 1, cells = (int)(total / n_sets);
    for (int s = 0; s < n_sets; s++)
        for (int c = 0; c < cells; c++) {
            sweep_point *p = &plan->points[plan->n++];
            const ynode *set = points ? points->items[s] : NULL;
            for (int i = 0; set && i < set->n; i++)
                point_add(p, set->keys[i], set->items[i]);
            int rest = c; /* mixed radix, last key fastest */
            int ng = grid ? grid->n : 0;
            int *digit = calloc(ng + 1, sizeof *digit);
            for (int g = ng - 1; g >= 0; g--) {
                digit[g] = rest % grid->items[g]->n;
                rest /= grid->items[g]->n;
            }
            for (int g = 0; g < ng; g++)
                point_add(p, grid->keys[g], grid->items[g]->items[digit[g]]);
            free(digit);
            point_label(p);
        }
    return 0;
}

void sweep_plan_free(sweep_plan *plan)
{
    for (int i = 0; i < plan->n; i++) {
        sweep_point *p = &plan->points[i];
        for (int k = 0; k < p->n; k++)
            free(p->keys[k]);
        free(p->keys);
        free(p->vals);
        free(p->label);
    }
    free(plan->points);
    memset(plan, 0, sizeof *plan);
}

ynode *sweep_point_tree(const ynode *root, const sweep_point *p, strata_err *err)
{
    ynode *t = ynode_clone(root);
    ynode_del(t, "sweep");
    for (int i = 0; i < p->n; i++)
        if (ynode_assign(t, p->keys[i], ynode_clone(p->vals[i]), err)) {
            char w[300], m[sizeof err->msg];
            snprintf(m, sizeof m, "%s", err->msg);
            err_set(err, STRATA_ERR_CONFIG, "%s: sweep: %s", ynode_where(p->vals[i], w, sizeof w), m);
            ynode_free(t);
            return NULL;
        }
    return t;
}
