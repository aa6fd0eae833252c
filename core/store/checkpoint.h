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
 * epoch, optimizer step, best val acc and epoch, the run's seed. The data
 * order, augmentation and dropout masks are derived from (seed, epoch,
 * step), so these numbers are the whole random state. */
#ifndef STRATA_CHECKPOINT_H
#define STRATA_CHECKPOINT_H

#include <stdint.h>
#include "model/network.h"
#include "train/optimizer.h"

typedef struct train_state {
    int epoch;            /* epochs finished */
    int64_t step;         /* optimizer steps taken */
    double val_acc;       /* of this epoch */
    double best_val_acc;
    int best_epoch;
    uint64_t seed;
} train_state;

int checkpoint_save_weights(const char *path, const network *net, const char *const *classes, int n_classes,
                            const char *experiment_yaml, const train_state *st, strata_err *err);
/* Load weights into net. strict: every parameter present with its shape,
 * nothing extra. Not strict: tensors missing or of another shape are left
 * as initialised (their names are counted in *skipped). */
int checkpoint_load_weights(const char *path, network *net, int strict, int *skipped, strata_err *err);
/* The class names stored with the weights (one per line; caller frees). */
char *checkpoint_classes(const char *path, strata_err *err);

int checkpoint_save_state(const char *path, const network *net, const optimizer *opt, const train_state *st,
                          strata_err *err);
int checkpoint_load_state(const char *path, const network *net, optimizer *opt, train_state *st, strata_err *err);

/* results/checkpoints/<run-id> (created), into dir. */
int checkpoint_dir(const char *results_dir, int64_t run_id, char *dir, size_t size, strata_err *err);

#endif
