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

static const strata_optimizer_ops adamw_ops = {
    .create = adamw_create,
    .destroy = adam_destroy,
    .base_lr = adam_base_lr,
    .num_slots = adam_num_slots,
    .slot_name = adam_slot_name,
    .update = adam_update,
};

static const strata_plugin adamw_plugin = {
    .abi_version = STRATA_ABI_VERSION,
    .kind = STRATA_PLUGIN_OPTIMIZER,
    .name = "adamw",
    .version = "1.0",
    .description = "AdamW: Adam with decoupled weight decay (torch.optim.AdamW)",
    .optimizer = &adamw_ops,
};

const strata_plugin *STRATA_PLUGIN_ENTRY(int host_abi_version)
{
    return host_abi_version == STRATA_ABI_VERSION ? &adamw_plugin : NULL;
}
