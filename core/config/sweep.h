/* sweep.h — the points of a `sweep:` section. A grid is the product of its
 * keys' value lists (the last key varies fastest); `points` is an explicit
 * list of override sets; with both, every point is combined with every grid
 * cell. A point is a list of (key.path, value) overrides and a label
 * "key=value;key=value" that identifies it across re-runs. */
#ifndef STRATA_SWEEP_H
#define STRATA_SWEEP_H

#include "config/yaml_tree.h"

/* The most points a sweep may expand to (even with --yes): each point is a
 * training run, and the plan is held in memory. */
#define SWEEP_MAX_POINTS 100000

typedef struct sweep_point {
    int n;
    char **keys;
    const ynode **vals; /* into the sweep section (not owned) */
    char *label;
} sweep_point;

typedef struct sweep_plan {
    int n;
    sweep_point *points;
} sweep_plan;

/* Count the points without building them (for the --yes guard). */
long sweep_count(const ynode *sweep);
int sweep_plan_build(const ynode *sweep, sweep_plan *plan, strata_err *err);
void sweep_plan_free(sweep_plan *plan);
/* A copy of root without its sweep section, with the point's overrides. */
ynode *sweep_point_tree(const ynode *root, const sweep_point *p, strata_err *err);

#endif
