/*
 * adam.c — Adam (PyTorch 1.13 torch.optim.Adam): weight_decay is L2, added
 * to the gradient before the moments. The update is in adam_update.h.
 */
#include "adam_update.h"

ADAM_PLUGIN("adam", "Adam with L2 weight decay and AMSGrad (torch.optim.Adam)", 0.0, 0)
