/* checkpoint.h — a network's weights, and the training state around them,
 * in safetensors files.
 *
 * Weights (`last.safetensors`, `best.safetensors`): one tensor per
 * parameter, named by its state_dict key ("features.0.weight"), F32 (I64 for
 * counters), so PyTorch loads them with safetensors.torch.load_file and
 * model.load_state_dict. __metadata__: format, model, classes (one per
 * line), epoch, val_acc, and the resolved experiment.
 *
 * State (`last.state.safetensors`): the optimizer's slots, one tensor per
 * parameter and slot ("features.0.weight.exp_avg"); __metadata__: format,
 * epoch, optimizer step, the checkpoint monitor's best value and epoch
 * (best_monitor, best_value, best_epoch), the run's seed, the early-stopping
 * state (early_stop.best, .best_epoch, .bad_epochs) and the plateau
 * schedule's (plateau.best, .lr, .num_bad_epochs, .cooldown_counter). The data
 * order, augmentation and dropout masks are derived from (seed, epoch,
 * step), so these numbers are the whole random state. */
#ifndef STRATA_CHECKPOINT_H
#define STRATA_CHECKPOINT_H

#include <stdint.h>
#include "model/network.h"
#include "store/results.h"
#include "train/early_stop.h"
#include "train/optimizer.h"

struct class_counts; /* train/class_counts.h */

typedef struct train_state {
    int epoch;            /* epochs finished */
    int64_t step;         /* optimizer steps taken */
    double val_acc;       /* of this epoch */
    double best_value;    /* best value of train.checkpoint_monitor: best.safetensors' epoch */
    int best_epoch;
    monitor_kind best_monitor;
    early_stop_state es;  /* train.early_stopping's counters */
    uint64_t seed;
    char id[64];          /* the checkpoint's id, shared by its weights and state */
    int has_row;          /* row holds the epoch's results row (state files) */
    epoch_row row;
    int n_unsaved;        /* on load: trained parameters without optimizer state in the file (frozen when
                             saved; their slots start at zero) */
    char first_unsaved[160]; /* the first of them */
    struct class_counts *counts; /* the row's validation counts per class (the caller's): saved with the
                                    row when set; filled on load when set (k = 0: the file has none) */
} train_state;

/* Test hook for scripts/crash-test: with STRATA_CRASH_AT=NAME[:K] in the
 * environment, the K-th (default first) call of checkpoint_crash_point(NAME)
 * kills the process with SIGKILL. The points: "best" (best.safetensors
 * written), "next-weights", "next-state" (the new pair's files written),
 * "rotated" (last.* moved to prev.*), "last-weights" (last.safetensors
 * renamed), "checkpoint" (pair complete), "row" (epoch row committed).
 * STRATA_STOP_AT=NAME[:K] stops the process there instead (SIGSTOP), for
 * tests that must act at that moment (e.g. lock the database). */
void checkpoint_crash_point(const char *name);

int checkpoint_save_weights(const char *path, const network *net, const char *const *classes, int n_classes,
                            const char *experiment_yaml, const train_state *st, strata_err *err);
/* Load weights into net. strict: every parameter present with its shape,
 * nothing extra. Not strict: tensors missing or of another shape are left
 * as initialised (their names are counted in *skipped). */
int checkpoint_load_weights(const char *path, network *net, int strict, int *skipped, strata_err *err);
/* The class names stored with the weights (one per line; caller frees). */
char *checkpoint_classes(const char *path, strata_err *err);
/* *epoch = the epoch the weights are from (metadata "epoch"), 0 when the
 * file has none (weights not written by strata's training, e.g. converted
 * from PyTorch). */
int checkpoint_epoch(const char *path, int *epoch, strata_err *err);

int checkpoint_save_state(const char *path, const network *net, const optimizer *opt, const train_state *st,
                          strata_err *err);
/* Load the optimizer's slots and st's metadata. A trained parameter with no
 * slot in the file (its layer was in model.freeze then, and is not now)
 * keeps zeroed slots: st->n_unsaved counts them, st->first_unsaved names the
 * first. A slot missing while the parameter's others are there, or of
 * another shape, is an error. */
int checkpoint_load_state(const char *path, const network *net, optimizer *opt, train_state *st, strata_err *err);

/* A checkpoint as one unit. checkpoint_save_pair writes epoch st->epoch's
 * weights and optimizer state under a new id (st->id is set) so that a
 * SIGKILL at any moment leaves at least one complete pair in dir:
 *   1. best.safetensors (when improved) — so a re-run epoch rewrites it
 *   2. next.safetensors, next.state.safetensors (each atomic: tmp, fsync,
 *      rename)
 *   3. last.* renamed to prev.* (the previous pair stays whole)
 *   4. next.* renamed to last.*
 * The state file also carries the epoch's results row (st->row) and its
 * per-class validation counts (st->counts: metadata row.class_n and
 * row.class_correct, comma-separated, in class order), so an epoch whose
 * checkpoint was saved but whose rows the database missed is recorded, with
 * its epoch_classes, on resume. */
int checkpoint_save_pair(const char *dir, const network *net, const optimizer *opt, const char *const *classes,
                         int n_classes, const char *experiment_yaml, train_state *st, strata_err *err);

/* The newest complete pair in dir: weights and state files (among last.*,
 * next.*, prev.*) with the same id, epoch and step. Returns 0 with the two
 * paths and the state's metadata (st, without loading tensors); 1 with err
 * set when dir holds no complete pair (no file at all, or files that do not
 * match: killed while writing the first checkpoint); -1 with err when a file
 * cannot be read. *n_newer = complete pairs or lone files newer
 * than the one chosen (a fallback when > 0). */
int checkpoint_find_pair(const char *dir, char *weights, char *state, size_t size, train_state *st, int *n_newer,
                         strata_err *err);

/* Rename the pair checkpoint_find_pair chose to last.safetensors and
 * last.state.safetensors (a pair in next.* moves the old last.* to prev.*),
 * so the next save cannot overwrite it. Every step is a rename that keeps
 * the pair's two files: a crash in between leaves it findable. */
int checkpoint_adopt_pair(const char *dir, const char *weights, const char *state, strata_err *err);

/* results/checkpoints/<run-id> (created), into dir. */
int checkpoint_dir(const char *results_dir, int64_t run_id, char *dir, size_t size, strata_err *err);

#endif
