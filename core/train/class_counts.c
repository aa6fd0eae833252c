/* class_counts.c — see class_counts.h */
#include <stdlib.h>
#include <string.h>
#include "train/class_counts.h"

int class_counts_reset(class_counts *c, int k, strata_err *err)
{
    if (c->k != k) {
        class_counts_free(c);
        c->n = calloc(k, sizeof *c->n);
        c->correct = calloc(k, sizeof *c->correct);
        if (!c->n || !c->correct) {
            class_counts_free(c);
            return err_set(err, STRATA_ERR_RUNTIME, "out of memory for the per-class counts");
        }
        c->k = k;
    }
    memset(c->n, 0, k * sizeof *c->n);
    memset(c->correct, 0, k * sizeof *c->correct);
    return 0;
}

void class_counts_add(class_counts *c, const trainer *t, const int *labels, int n)
{
    for (int i = 0; i < n; i++) {
        int y = labels[i];
        if (y < 0 || y >= c->k)
            continue;
        c->n[y]++;
        c->correct[y] += trainer_predicted(t, i, NULL) == y;
    }
}

class_tally class_counts_tally(const class_counts *c, char *const *classes)
{
    return (class_tally){.k = c->k, .classes = classes, .n = c->n, .correct = c->correct};
}

void class_counts_free(class_counts *c)
{
    free(c->n);
    free(c->correct);
    memset(c, 0, sizeof *c);
}
