#!/usr/bin/python3
# optim_ref.py — reference values for t/test_optimizers.c, from PyTorch 1.13
# (run: /usr/bin/python3 t/ref/optim_ref.py; paste the output into the test).
# Three steps of each optimizer on a 4-element tensor with fixed gradients;
# the learning rate of step 3 is changed (as a schedule would) to check that
# the update uses the lr it is given, not the configured one.
import torch

P0 = [0.5, -1.25, 2.0, 0.0]
GRADS = [[0.1, -0.2, 0.3, -0.4], [0.05, 0.4, -0.25, 0.0], [-0.3, 0.1, 0.2, 0.6]]
LRS = [None, None, 0.05]   # None: the optimizer's own lr

CASES = [
    ("sgd_nesterov_wd", torch.optim.SGD,
     dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("sgd_damp", torch.optim.SGD, dict(lr=0.1, momentum=0.8, dampening=0.3)),
    ("adam_wd_amsgrad", torch.optim.Adam,
     dict(lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1, amsgrad=True)),
    ("adamw", torch.optim.AdamW, dict(lr=0.01, weight_decay=0.1)),
]

for name, cls, kw in CASES:
    p = torch.tensor(P0, dtype=torch.float32, requires_grad=True)
    opt = cls([p], foreach=False, **kw)
    for g, lr in zip(GRADS, LRS):
        if lr is not None:
            opt.param_groups[0]["lr"] = lr
        p.grad = torch.tensor(g, dtype=torch.float32)
        opt.step()
    vals = ", ".join("%.9gf" % v for v in p.detach().tolist())
    print("static const float ref_%s[4] = {%s};" % (name, vals))
