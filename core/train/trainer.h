/* trainer.h — one training or evaluation step over a network: the memory
 * plan (every activation, gradient and workspace allocated once for the
 * largest batch), forward, loss, backward and the optimizer update. */
#ifndef STRATA_TRAINER_H
#define STRATA_TRAINER_H

#include <stdint.h>
#include "model/network.h"
#include "train/optimizer.h"

/* Switches of the memory plan, for tests that compare plans (all zero in
 * strata itself). */
typedef struct trainer_hooks {
    int no_inplace; /* no layer runs in place (each gets its own output buffer) */
    int no_share;   /* the arena shares nothing: every buffer live all step long */
} trainer_hooks;

typedef struct trainer {
    network *net;
    int max_batch, threads;
    uint64_t seed;
    /* Data-parallel training (set by the caller; 0/NULL in one process):
     * the next train step's rows are rows sample_offset .. of a global batch
     * of n_global (the loss's gradient is scaled by 1/n_global), and sync
     * sums the parameter gradients over the ranks during backward. */
    struct grad_buckets *sync;
    int n_global;
    int64_t sample_offset;
    trainer_hooks hooks;
    float **acts;           /* acts[0]: input batch; acts[i+1]: output of layer i */
    float **grads;          /* grads[i]: d loss / d acts[i+1] */
    unsigned char *inplace; /* layer i writes over its input (acts[i+1] == acts[i]) */
    char *arena;            /* acts and grads live here (memplan) */
    void **saved;           /* per layer, kept from forward to backward */
    void *scratch;          /* shared by all layers */
    size_t bytes;           /* all of the above */
    struct {
        size_t arena;       /* activations and their gradients, planned */
        size_t unshared;    /* what they would take without sharing */
        size_t saved, scratch;
    } plan;                 /* bytes by kind */
} trainer;

/* hooks may be NULL (the normal plan). */
int trainer_init(trainer *t, network *net, int max_batch, int threads, uint64_t seed, const trainer_hooks *hooks,
                 strata_err *err);
void trainer_free(trainer *t);

/* The input of the next step: max_batch * C*H*W floats. */
static inline float *trainer_input(trainer *t) { return t->acts[0]; }
/* Logits of the last forward: n * classes. */
static inline const float *trainer_logits(const trainer *t) { return t->acts[t->net->n_layers]; }

/* Forward n images (training: dropout/batchnorm in training mode). step
 * seeds the layers' randomness. */
void trainer_forward(trainer *t, int n, int training, int64_t step);

/* Forward, loss, backward and one optimizer step with learning rate lr on
 * the batch in trainer_input (n may be 0 on a rank whose share of the
 * global batch is empty: it still takes its part in the gradient sum and
 * the step; returns 0). Returns the batch's mean loss; *correct gets
 * the rows whose argmax is the label. */
double trainer_train_step(trainer *t, optimizer *opt, const int *labels, int n, double lr, double smoothing,
                          int *correct);

/* Seconds spent in each part of a step, added up (for strata bench). */
typedef struct step_times {
    double *fwd, *bwd;  /* per layer */
    double loss, optim; /* loss + gradient zeroing; optimizer update */
} step_times;

/* trainer_train_step, adding each part's time to *times (when not NULL). */
double trainer_train_step_timed(trainer *t, optimizer *opt, const int *labels, int n, double lr, double smoothing,
                                int *correct, step_times *times);

/* Forward in eval mode; mean loss and correct count. */
double trainer_eval_step(trainer *t, const int *labels, int n, int *correct);

/* Row i of the last forward's logits: the predicted class (the first
 * maximum, as the loss counts correct rows) and, when prob is not NULL, its
 * softmax probability. */
int trainer_predicted(const trainer *t, int i, double *prob);

#endif
