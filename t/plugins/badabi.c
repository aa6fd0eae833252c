/* badabi.c — test-only modules that strata must refuse, one per way a
 * descriptor can be wrong. Built several times (see t/core.mk) with
 * BADABI_MODE:
 *   0  badabi.so      — claims ABI version 99
 *   1  refuseabi.so   — returns NULL: it speaks only ABI 99
 *   2  noname.so      — right ABI, empty name
 *   3  unknownkind.so — right ABI, kind 9
 *   4  noops.so       — a layer without its operations table
 *   5  abi3.so        — an ABI 3 layer (ops table without struct_size)
 *   6  nobackward.so  — a layer whose table lacks the required backward
 *   7  nosize.so      — a layer table with struct_size 0
 *   8  nineslots.so   — an optimizer declaring 9 state slots (loads; the
 *                       host refuses it when it creates the optimizer)
 * Written by hand, not with STRATA_PLUGIN_DEFINE: they are wrong on purpose. */
#include <stddef.h>
#include <strata/plugin.h>

#ifndef BADABI_MODE
#define BADABI_MODE 0
#endif

static void *create(const strata_host *h, strata_opts *o, strata_shape in, strata_shape *out)
{
    *out = in;
    return (void *)h;
}
static void forward(const void *l, const strata_ctx *c, int n, const float *in, float *out,
                    float *const *p, void *saved, void *scratch) {}
static void backward(const void *l, const strata_ctx *c, int n, const float *in, const float *out,
                     const float *dout, float *din, float *const *p, float *const *dp, void *saved,
                     void *scratch) {}

static const strata_layer_ops ops = {
    .struct_size = BADABI_MODE == 7 ? 0 : sizeof(strata_layer_ops),
    .create = create,
    .forward = forward,
    .backward = BADABI_MODE == 6 ? NULL : backward,
};

static void *opt_create(const strata_host *h, strata_opts *o) { return (void *)h; }
static int nine(const void *opt) { return 9; }
static const char *slot_name(const void *opt, int i)
{
    static const char *const names[] = {"s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"};
    return names[i];
}
static void update(const void *opt, int64_t step, double lr, size_t n, float *param,
                   const float *grad, float *const *slots) {}

static const strata_optimizer_ops opt_ops = {
    .struct_size = sizeof(strata_optimizer_ops),
    .create = opt_create,
    .num_slots = nine,
    .slot_name = slot_name,
    .update = update,
    .default_lr = 0.1,
};

static const strata_plugin desc = {
    .abi_version = BADABI_MODE == 0 ? 99 : BADABI_MODE == 5 ? 3 : STRATA_ABI_VERSION,
    .kind = BADABI_MODE == 3 ? (strata_plugin_kind)9
          : BADABI_MODE == 8 ? STRATA_PLUGIN_OPTIMIZER : STRATA_PLUGIN_LAYER,
    .name = BADABI_MODE == 2 ? "" : BADABI_MODE == 8 ? "nineslots" : "badabi",
    .version = "0.0",
    .description = "a module strata must refuse",
    .layer = BADABI_MODE >= 5 && BADABI_MODE <= 7 ? &ops : NULL,
    .optimizer = BADABI_MODE == 8 ? &opt_ops : NULL,
};

STRATA_PLUGIN_EXPORT const strata_plugin *STRATA_PLUGIN_ENTRY(int host_abi_version);
STRATA_PLUGIN_EXPORT const strata_plugin *STRATA_PLUGIN_ENTRY(int host_abi_version)
{
    if (BADABI_MODE == 1 && host_abi_version != 99)
        return NULL;
    return &desc;
}
