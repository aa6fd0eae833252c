/*
 * adamw.c — AdamW (PyTorch 1.13 torch.optim.AdamW): weight_decay (default
 * 0.01) is decoupled, p *= 1 - lr*wd before the Adam step. The update is in
 * adam_update.h.
 */
#include "adam_update.h"

ADAM_PLUGIN("adamw", "AdamW: Adam with decoupled weight decay (torch.optim.AdamW)", 0.01, 1)
