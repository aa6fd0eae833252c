/* predict_classes.h — the class names `strata predict` prints: from
 * --classes FILE, else the weights' `classes` metadata, else the class
 * folders of the experiment's data.root (or data.train). */
#ifndef STRATA_PREDICT_CLASSES_H
#define STRATA_PREDICT_CLASSES_H

#include "config/experiment.h"

/* k names (the model's outputs) into *names (malloc'd array of malloc'd
 * strings; free with predict_classes_free). classes_file may be NULL.
 * Errors (STRATA_ERR_CONFIG, one line): the file unreadable, an empty name
 * in it, a source giving another count than k (naming the source and both
 * counts), no source at all (naming the three ways). */
int predict_class_names(const char *classes_file, const char *weights, const experiment *x, int k, char ***names,
                        strata_err *err);
void predict_classes_free(char **names, int k);

#endif
