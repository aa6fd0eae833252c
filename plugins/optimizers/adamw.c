/*
 * adamw.c — AdamW (PyTorch 1.13 torch.optim.AdamW): weight_decay (default
 * 0.01) is decoupled, p *= 1 - lr*wd before the Adam step. The update is in
 * adam_update.h.
 */
#include "adam_update.h"

static void *adamw_create(const strata_host *h, strata_opts *o)
{
    return adam_create_common(h, o, 0.01, 1);
}

STRATA_PLUGIN_DEFINE(OPTIMIZER, "adamw", "1.0",
                     "AdamW: Adam with decoupled weight decay (torch.optim.AdamW)",
                     .create = adamw_create,
                     .destroy = adam_destroy,
                     .num_slots = adam_num_slots,
                     .slot_name = adam_slot_name,
                     .update = adam_update,
                     .default_lr = ADAM_DEFAULT_LR)
