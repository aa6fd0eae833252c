/* early_stop.h — judging epochs by a monitored value (val_acc or val_loss),
 * and train.early_stopping: end the run when that value has not improved
 * for `patience` epochs.
 *
 *   improves:  val_loss: value < best - min_delta
 *              val_acc:  value > best + min_delta
 *   after each epoch: an improvement makes the value the best and resets
 *   the count of bad epochs; any other epoch counts one more; the run stops
 *   after the epoch where the count reaches patience (Keras' EarlyStopping,
 *   baseline none, weights not restored: best.safetensors keeps them).
 *
 * The state is saved in each checkpoint (store/checkpoint.h) so a resumed
 * run stops where an uninterrupted one would. */
#ifndef STRATA_EARLY_STOP_H
#define STRATA_EARLY_STOP_H

#include <stddef.h>
#include "config/experiment.h"
#include "store/results.h"

typedef struct early_stop_state {
    double best;      /* the best value so far (meaningless while best_epoch is 0) */
    int best_epoch;   /* its epoch; 0 before the first epoch */
    int bad_epochs;   /* epochs in a row without an improvement */
} early_stop_state;

/* The monitored value of an epoch's row. */
double monitor_value(monitor_kind m, const epoch_row *row);
/* Does value improve on best by more than min_delta? A NaN never does. */
int monitor_improves(monitor_kind m, double value, double best, double min_delta);

/* Record epoch `epoch`'s value; 1 when the run should stop after it. */
int early_stop_update(const early_stop_cfg *c, early_stop_state *st, int epoch, double value);
/* Why the run stopped, one line: "early stopping: val_loss did not improve
 * by 0.001 for 5 epochs (best 0.4321 at epoch 12)". */
void early_stop_reason(const early_stop_cfg *c, const early_stop_state *st, char *buf, size_t size);

#endif
