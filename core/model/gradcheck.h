/* gradcheck.h — finite-difference checks of a layer plugin's backward.
 *
 * The loss is L = sum_i out_i * g_i for a random upstream gradient g, so
 * backward(dout = g) gives dL/din and dL/dparams analytically; each checked
 * element v is compared with the central difference
 *     (L(v + h) - L(v - h)) / (2 h),   h = step * max(1, |v|),
 * forward in float32, L summed in double. The error of an element is
 *     |numeric - analytic| / max(|numeric|, |analytic|, GRADCHECK_FLOOR)
 * (relative for gradients above the floor, absolute below it).
 *
 * Kinks (ReLU at 0, ties in a max pool window) make a central difference
 * wrong where backward is right: when the one-sided differences
 * (L(v+h) - L(v)) / h and (L(v) - L(v-h)) / h disagree by more than the
 * tolerance, the element is tried again with h / 10 and h / 100 (a smooth
 * function's disagreement shrinks with h, a kink leaves the interval); an
 * element still kinked at h / 100 is counted as skipped, not checked.
 *
 * Backward must also write din (=) and accumulate (+=) into dparams: din
 * starts as NaN and dparams at 0.25, and a din left unwritten is reported.
 */
#ifndef STRATA_GRADCHECK_H
#define STRATA_GRADCHECK_H

#include <stddef.h>
#include <stdint.h>
#include <strata/plugin.h>
#include "config/error.h"

#define GRADCHECK_MAX_TENSORS 17 /* din and up to 16 parameters */
#define GRADCHECK_FLOOR 0.1
#define GRADCHECK_STEP 1e-2
#define GRADCHECK_TOL 2e-2

typedef struct gradcheck_opts {
    int batch;        /* images in the batch (>= 1) */
    uint64_t seed;    /* input, parameters, upstream gradient, ctx->seed */
    size_t samples;   /* elements checked per tensor (0: all) */
    double step;      /* h relative to max(1, |v|) */
    double tol;       /* largest error that passes */
    int training;     /* ctx->training */
    int threads;      /* ctx->threads */
} gradcheck_opts;

typedef struct gradcheck_tensor {
    char name[64];     /* "input", or the parameter's name */
    size_t size;       /* elements in the tensor */
    size_t checked;    /* elements compared */
    size_t skipped;    /* elements at a kink at every step tried */
    double worst;      /* the largest error (0 when nothing was checked) */
    size_t worst_at;   /* its element index */
    double numeric, analytic; /* the two values at worst_at */
    int unwritten;     /* din elements backward left untouched (NaN) */
} gradcheck_tensor;

typedef struct gradcheck_result {
    strata_shape out;
    int n;             /* tensors checked: the input, then each trainable parameter */
    gradcheck_tensor t[GRADCHECK_MAX_TENSORS];
} gradcheck_result;

/* Check a layer created on input shape `in` (ops and layer as the host has
 * them: optional ops defaulted). Fills r; returns -1 only when the check
 * could not run (out of memory, too many parameters). */
int gradcheck_layer(const strata_layer_ops *ops, void *layer, strata_shape in, strata_shape out,
                    const gradcheck_opts *o, gradcheck_result *r, strata_err *err);

/* 1 when every tensor passed (worst <= tol, din fully written). */
int gradcheck_passed(const gradcheck_result *r, double tol);

#endif
