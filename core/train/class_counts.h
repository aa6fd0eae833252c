/* class_counts.h — per-class counts of a pass over labelled images: how
 * many images of each true class, and how many of those the network got
 * right. Training's validation keeps one per epoch (epoch_classes). */
#ifndef STRATA_CLASS_COUNTS_H
#define STRATA_CLASS_COUNTS_H

#include "config/error.h"
#include "store/evals.h"
#include "train/trainer.h"

typedef struct class_counts {
    int k;
    long *n, *correct; /* k each */
} class_counts;

/* Zero the counts for k classes (allocating them the first time). */
int class_counts_reset(class_counts *c, int k, strata_err *err);
/* Count the n rows of the trainer's last forward, labels[i] the true class. */
void class_counts_add(class_counts *c, const trainer *t, const int *labels, int n);
/* The counts as the store takes them, with the class names. */
class_tally class_counts_tally(const class_counts *c, char *const *classes);
void class_counts_free(class_counts *c);

#endif
