/*
 * adam.c — Adam (PyTorch 1.13 torch.optim.Adam): weight_decay is L2, added
 * to the gradient before the moments. The update is in adam_update.h.
 */
#include "adam_update.h"

static void *adam_create(const strata_host *h, strata_opts *o)
{
    return adam_create_common(h, o, 0.0, 0);
}

STRATA_PLUGIN_DEFINE(OPTIMIZER, "adam", "1.0",
                     "Adam with L2 weight decay and AMSGrad (torch.optim.Adam)",
                     .create = adam_create,
                     .destroy = adam_destroy,
                     .num_slots = adam_num_slots,
                     .slot_name = adam_slot_name,
                     .update = adam_update,
                     .default_lr = ADAM_DEFAULT_LR)
