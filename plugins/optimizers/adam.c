/*
 * adam.c — Adam (PyTorch 1.13 torch.optim.Adam): weight_decay is L2, added
 * to the gradient before the moments. The update is in adam_update.h.
 */
#include "adam_update.h"

static void *adam_create(const strata_host *h, strata_opts *o)
{
    return adam_create_common(h, o, 0.0, 0);
}

static const strata_optimizer_ops adam_ops = {
    .create = adam_create,
    .destroy = adam_destroy,
    .base_lr = adam_base_lr,
    .num_slots = adam_num_slots,
    .slot_name = adam_slot_name,
    .update = adam_update,
};

static const strata_plugin adam_plugin = {
    .abi_version = STRATA_ABI_VERSION,
    .kind = STRATA_PLUGIN_OPTIMIZER,
    .name = "adam",
    .version = "1.0",
    .description = "Adam with L2 weight decay and AMSGrad (torch.optim.Adam)",
    .optimizer = &adam_ops,
};

const strata_plugin *STRATA_PLUGIN_ENTRY(int host_abi_version)
{
    return host_abi_version == STRATA_ABI_VERSION ? &adam_plugin : NULL;
}
