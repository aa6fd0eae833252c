/* sgd_minimal.c — a minimal optimizer plugin: p = p - lr * grad, no state.
 *
 * Build out of tree (see Makefile here):
 *   cc -std=c11 -O2 -fPIC -shared -fvisibility=hidden \
 *      $(pkg-config --cflags strata-plugin) -o sgd_minimal.so sgd_minimal.c
 * Use: optimizer: {name: sgd_minimal, lr: 0.01} with --plugin-dir.
 *
 * `lr` is read, checked and scheduled by strata, which passes this step's
 * value to update; the plugin has no options of its own. Only create and
 * update are required. */
#include <strata/plugin.h>

static void *sgdm_create(const strata_host *host, strata_opts *o)
{
    static int none;
    return &none; /* no hyper-parameters: any non-NULL object */
}

/* param[i] -= lr * grad[i], element-wise (the host may split the range). */
static void sgdm_update(const void *opt, int64_t step, double lr, size_t n, float *param, const float *grad,
                        float *const *slots)
{
    float r = (float)lr;
    for (size_t i = 0; i < n; i++)
        param[i] = param[i] - r * grad[i];
}

STRATA_PLUGIN_DEFINE(OPTIMIZER, "sgd_minimal", "1.0", "plain SGD without momentum (example plugin)",
                     .create = sgdm_create,
                     .update = sgdm_update)
