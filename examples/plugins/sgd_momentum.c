/* sgd_momentum.c — a complete optimizer plugin: SGD with momentum and
 * weight decay, as PyTorch's torch.optim.SGD computes it (dampening 0,
 * not Nesterov):
 *
 *     g   = grad + weight_decay * p
 *     buf = g                      on the first step
 *     buf = momentum * buf + g     after
 *     p   = p - lr * buf
 *
 * Options: momentum (in [0, 1), default 0.9), weight_decay (>= 0, default
 * 0). `lr` is the host's: it reads, checks and schedules it and passes this
 * step's value to update. The state is one slot per element,
 * "momentum_buffer" (PyTorch's name), which the host allocates zeroed,
 * saves in checkpoints and restores on resume.
 *
 * Build out of tree (see Makefile here):
 *   cc -std=c11 -O2 -fPIC -shared -fvisibility=hidden \
 *      $(pkg-config --cflags strata-plugin) -o sgd_momentum.so sgd_momentum.c
 * Use: optimizer: {name: sgd_momentum, lr: 0.01, momentum: 0.9} with --plugin-dir.
 * doc/writing-plugins.md explains it line by line. */
#include <stdlib.h>
#include <strata/plugin.h>

typedef struct sgd_momentum {
    float momentum, weight_decay;
} sgd_momentum;

static void *sgdm_create(const strata_host *host, strata_opts *o)
{
    double momentum, weight_decay;
    if (host->opt_float(o, "momentum", 0.9, 0.0, 0.999999, &momentum) < 0 ||
        host->opt_float(o, "weight_decay", 0.0, 0.0, 1.0, &weight_decay) < 0)
        return NULL; /* the host has the message */
    sgd_momentum *S = malloc(sizeof *S);
    if (!S) {
        host->opt_error(o, NULL, "out of memory");
        return NULL;
    }
    *S = (sgd_momentum){.momentum = (float)momentum, .weight_decay = (float)weight_decay};
    return S;
}

static void sgdm_destroy(void *opt) { free(opt); }

static int sgdm_num_slots(const void *opt) { return 1; }

static const char *sgdm_slot_name(const void *opt, int i) { return "momentum_buffer"; }

/* Element-wise: element i's new value and buffer depend on element i
 * alone, so the host may update disjoint ranges from several threads. */
static void sgdm_update(const void *opt, int64_t step, double lr, size_t n, float *param, const float *grad,
                        float *const *slots)
{
    const sgd_momentum *S = opt;
    float *buf = slots[0], r = (float)lr;
    for (size_t i = 0; i < n; i++) {
        float g = grad[i] + S->weight_decay * param[i];
        buf[i] = step == 1 ? g : S->momentum * buf[i] + g;
        param[i] -= r * buf[i];
    }
}

STRATA_PLUGIN_DEFINE(OPTIMIZER, "sgd_momentum", "1.0", "SGD with momentum and weight decay (example plugin)",
                     .create = sgdm_create,
                     .destroy = sgdm_destroy,
                     .num_slots = sgdm_num_slots,
                     .slot_name = sgdm_slot_name,
                     .update = sgdm_update)
