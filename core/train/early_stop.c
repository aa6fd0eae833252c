/* early_stop.c — see early_stop.h */
#include <math.h>
#include <stdio.h>
#include "train/early_stop.h"

double monitor_value(monitor_kind m, const epoch_row *row)
{
    return m == MONITOR_VAL_LOSS ? row->val_loss : row->val_acc;
}

int monitor_improves(monitor_kind m, double value, double best, double min_delta)
{
    if (isnan(value))
        return 0;
    return m == MONITOR_VAL_LOSS ? value < best - min_delta : value > best + min_delta;
}

int early_stop_update(const early_stop_cfg *c, early_stop_state *st, int epoch, double value)
{
    if (!c->enabled)
        return 0;
    if (st->best_epoch == 0 || monitor_improves(c->monitor, value, st->best, c->min_delta)) {
        st->best = value;
        st->best_epoch = epoch;
        st->bad_epochs = 0;
        return 0;
    }
    st->bad_epochs++;
    return st->bad_epochs >= c->patience;
}

void early_stop_reason(const early_stop_cfg *c, const early_stop_state *st, char *buf, size_t size)
{
    snprintf(buf, size, "early stopping: %s did not improve by %g for %d epochs (best %.4f at epoch %d)",
             monitor_names[c->monitor], c->min_delta, st->bad_epochs, st->best, st->best_epoch);
}
