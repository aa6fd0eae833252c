/*
 * strata/plugin.h — the plugin ABI of strata (version 4).
 *
 * A plugin is a shared module (a libtool module, `NAME.so`) that exports one
 * symbol, STRATA_PLUGIN_ENTRY (`strata_plugin_entry`):
 *
 *     const strata_plugin *strata_plugin_entry(int host_abi_version);
 *
 * Write it with STRATA_PLUGIN_DEFINE (below), which also fills in the ops
 * table's struct_size and exports the entry point alone (build the module
 * with -fvisibility=hidden so nothing else leaks into the host's process):
 *
 *     STRATA_PLUGIN_DEFINE(LAYER, "scale", "1.0", "y = a * x",
 *                          .create = scale_create,
 *                          .forward = scale_forward,
 *                          .backward = scale_backward)
 *
 * The entry returns its descriptor whatever version the host speaks; the
 * host checks `abi_version`, the first field, before it reads anything
 * else, and refuses a module built for another version with a message
 * naming both versions.
 *
 * Operations are REQUIRED or OPTIONAL (marked on each below). The host
 * refuses a module that lacks a required one, naming it; for a NULL
 * optional one it uses the default written beside it. Every ops table
 * starts with struct_size (sizeof the table the plugin was built with):
 * the host reads only the ops the table covers, so later 4.x versions of
 * this header may append optional ops without a version bump, and a module
 * built with an older 4.x header still loads (its missing ops are NULL).
 *
 * History: 2 added the layer flags (INPLACE, OUT_UNUSED); 3 made the
 * optimizer update element-wise (the host splits tensors between threads);
 * 4 marked ops required/optional, added struct_size, STRATA_PLUGIN_DEFINE,
 * the host's log function and ISA level, the layer's blas_threads hint,
 * and removed the optimizer's base_lr (the host reads `lr` itself).
 * Appended in 4.x: the layer's describe op.
 *
 * Plugins talk to the host only through the strata_host table handed to
 * them (option parsing, error reporting, logging) and never link against
 * libstrata. They never change process-wide settings (OpenBLAS's thread
 * count included: declare blas_threads and the host sets it).
 *
 * Conventions for layers (llm.c style):
 *   - float32, NCHW: a batch of n images of shape (c, h, w) is one contiguous
 *     array of n*c*h*w floats.
 *   - forward writes `out` (=). backward writes `din` (=) unless din is NULL
 *     (first layer), and ACCUMULATES (+=) into every dparams[i]; the host
 *     zeroes parameter gradients once per step.
 *   - params[i] / dparams[i] follow the order of param_desc(i).
 *   - `saved` is memory of saved_bytes(n) the layer keeps from forward to
 *     backward of the same step (dropout mask, batch statistics ...);
 *     `scratch` is scratch_bytes(n) of temporary memory shared by all layers.
 *     Both are allocated by the host once, outside the training step.
 *   - flags (STRATA_LAYER_*) let the host save memory: an INPLACE layer may
 *     get out == in; a layer with OUT_UNUSED never reads `out` in backward,
 *     so the host may let the next (in-place) layer overwrite it. 0 is
 *     always correct.
 */
#ifndef STRATA_PLUGIN_H
#define STRATA_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STRATA_ABI_VERSION 4
#define STRATA_PLUGIN_ENTRY strata_plugin_entry
#define STRATA_PLUGIN_ENTRY_NAME "strata_plugin_entry"

/* ---- options: what a plugin reads from its YAML mapping ---------------- */

/* Opaque: one YAML mapping of options (a layer's, or the optimizer section). */
typedef struct strata_opts strata_opts;

/*
 * Getters return 0 when the key is present and valid, 1 when it is absent
 * (then *out = def), -1 when it is present but invalid: the host has then
 * recorded a one-line error naming file:line:column, the key and what was
 * expected. Keys a plugin never asks for are reported by the host as unknown.
 */
typedef struct strata_host {
    int abi_version;
    int (*opt_int)(strata_opts *o, const char *key, long def, long min,
                   long max, long *out);
    int (*opt_float)(strata_opts *o, const char *key, double def, double min,
                     double max, double *out);
    int (*opt_bool)(strata_opts *o, const char *key, int def, int *out);
    /* choices is NULL-terminated; *out is the index of the chosen string. */
    int (*opt_choice)(strata_opts *o, const char *key,
                      const char *const *choices, int def, int *out);
    /* A scalar N (gives {N, N}) or a pair [A, B] (height, width). */
    int (*opt_int_pair)(strata_opts *o, const char *key, long def, long min,
                        long max, long out[2]);
    /* A list of floats, at most max_n; *n gets the count. Absent: *n = 0. */
    int (*opt_float_list)(strata_opts *o, const char *key, double *out,
                          int max_n, int *n);
    /* Record an error about `key` (NULL: the mapping itself). Returns -1. */
    int (*opt_error)(strata_opts *o, const char *key, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
    /* One line for the user (stderr, prefixed "strata: "), e.g. why an
     * option was overridden. No trailing newline needed. */
    void (*log)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
    /* The instruction-set level the host runs at (STRATA_HOST_ISA_*): the
     * CPU's, capped by the environment variable STRATA_ISA. */
    int isa;
} strata_host;

enum {
    STRATA_HOST_ISA_BASE = 0,   /* x86-64 baseline (SSE2), or not x86 */
    STRATA_HOST_ISA_AVX2 = 1,   /* x86-64-v3: AVX2 + FMA */
    STRATA_HOST_ISA_AVX512 = 2  /* x86-64-v4: AVX-512 F, BW, DQ, VL */
};

/* ---- shapes and parameters ---------------------------------------------- */

/* The shape of one image; a batch is n of them. Vectors are (c, 1, 1). */
typedef struct strata_shape {
    int c, h, w;
} strata_shape;

/* How the host initialises a tensor; the scheme (torchvision's VGG init or
 * PyTorch's default) is chosen in the experiment, the role by the layer. */
typedef enum strata_init_role {
    STRATA_INIT_CONV_WEIGHT = 1, /* kaiming normal fan_out | kaiming_uniform(a=sqrt 5) */
    STRATA_INIT_LINEAR_WEIGHT,   /* N(0, 0.01) | kaiming_uniform(a=sqrt 5) */
    STRATA_INIT_BIAS,            /* 0 | U(-1/sqrt(fan_in), 1/sqrt(fan_in)) */
    STRATA_INIT_ONES,            /* batchnorm weight, running_var */
    STRATA_INIT_ZEROS            /* batchnorm bias, running_mean, counters */
} strata_init_role;

enum {
    STRATA_PARAM_BUFFER = 1, /* not trained: no gradient, no optimizer state */
    STRATA_PARAM_COUNT = 2   /* an integer counter kept as float, saved as int64 */
};

typedef struct strata_param_desc {
    const char *name;  /* last part of PyTorch's state_dict key: "weight", "bias",
                          "running_mean", "running_var", "num_batches_tracked" */
    int ndim;          /* 0 for a scalar */
    int64_t dims[4];   /* PyTorch's layout, e.g. conv weight (out, in, kh, kw) */
    strata_init_role role;
    int64_t fan_in, fan_out; /* of the layer's weight, as torch computes them */
    int flags;               /* STRATA_PARAM_* */
} strata_param_desc;

/* ---- run context -------------------------------------------------------- */

typedef struct strata_ctx {
    int training;  /* 1: dropout active, batchnorm uses batch statistics */
    int threads;   /* threads the layer may use (its own; OpenBLAS's are set
                      by the host from blas_threads) */
    uint64_t seed; /* this layer's seed for this step (host-derived) */
    int isa;       /* STRATA_HOST_ISA_*, as in strata_host */
    /* Appended in 4.x (data-parallel training): the batch this layer sees
     * is rows sample_offset .. sample_offset + n - 1 of the step's global
     * batch (0 in one process). A layer whose randomness must not depend
     * on the number of ranks keys it by the global row (dropout does).
     * Hosts older than this field do not set it: such a plugin gets
     * garbage there from an old host, so use it only for randomness. */
    int64_t sample_offset;
} strata_ctx;

/* A small deterministic generator for plugins (splitmix64). */
static inline uint64_t strata_rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform float in [0, 1) with 24 random bits. */
static inline float strata_rng_uniform(uint64_t *state)
{
    return (float)(strata_rng_next(state) >> 40) * (1.0f / 16777216.0f);
}

/* ---- layer plugins ------------------------------------------------------ */

typedef struct strata_layer_ops {
    size_t struct_size; /* sizeof(strata_layer_ops) as built (DEFINE sets it) */

    /* REQUIRED. Parse options, check the input shape, compute the output
     * shape. Returns the layer, or NULL after reporting through
     * host->opt_error. */
    void *(*create)(const strata_host *host, strata_opts *opts,
                    strata_shape in, strata_shape *out);
    /* Optional; NULL: nothing to free. */
    void (*destroy)(void *layer);

    /* Optional; NULL: no parameters. */
    int (*num_params)(const void *layer);
    /* Required when num_params is given. */
    void (*param_desc)(const void *layer, int i, strata_param_desc *d);

    /* Optional. Receptive-field contribution: kernel and stride (height,
     * width). NULL: 1 and 1 (layers that do not mix positions). */
    void (*geometry)(const void *layer, int kernel[2], int stride[2]);
    /* Optional. Multiply-adds per image in forward. NULL: 0. */
    int64_t (*macs)(const void *layer);

    /* Optional; NULL: 0 bytes. */
    size_t (*saved_bytes)(const void *layer, int n);
    size_t (*scratch_bytes)(const void *layer, int n);

    /* REQUIRED. */
    void (*forward)(const void *layer, const strata_ctx *ctx, int n,
                    const float *in, float *out, float *const *params,
                    void *saved, void *scratch);
    /* REQUIRED. */
    void (*backward)(const void *layer, const strata_ctx *ctx, int n,
                     const float *in, const float *out, const float *dout,
                     float *din, float *const *params, float *const *dparams,
                     void *saved, void *scratch);

    int flags; /* STRATA_LAYER_*; 0 is always correct */

    /* Optional. OpenBLAS threads the host should set for this layer's
     * forward (backward = 0) or backward (1) of a batch of n when the layer
     * may use `threads` threads: 1 when the layer runs GEMMs on its own
     * threads (one OpenBLAS thread each). NULL: threads. The host sets
     * OpenBLAS's (process-wide) count; a plugin never does. */
    int (*blas_threads)(const void *layer, int backward, int n, int threads);

    /* Optional (appended in 4.x). How the layer computes, in a few words,
     * for people reading `strata bench` (e.g. conv2d's "winograd
     * F(5x5,3x3)"): at most size - 1 characters and a NUL into buf. NULL:
     * nothing to say (an empty string). */
    void (*describe)(const void *layer, char *buf, size_t size);
} strata_layer_ops;

enum {
    /* forward is correct with out == in, and backward is correct when given
     * in == out (both then hold the output): ReLU, dropout. */
    STRATA_LAYER_INPLACE = 1,
    /* backward never reads `out`. */
    STRATA_LAYER_OUT_UNUSED = 2
};

/* ---- optimizer plugins -------------------------------------------------- */

typedef struct strata_optimizer_ops {
    size_t struct_size; /* sizeof(strata_optimizer_ops) as built */

    /* REQUIRED. Read hyper-parameters (momentum, betas ...) from the
     * optimizer section; `lr` is the host's (it schedules it and passes it
     * to update), never read it here. Returns NULL after reporting through
     * host->opt_error. */
    void *(*create)(const strata_host *host, strata_opts *opts);
    /* Optional; NULL: nothing to free. */
    void (*destroy)(void *opt);
    /* Optional; NULL: no state. Per-element state: num_slots arrays (at
     * most STRATA_MAX_SLOTS), each as long as the parameter. The host
     * allocates them zeroed, saves and restores them for resume. */
    int (*num_slots)(const void *opt);
    /* Required when num_slots is given: slot i's name as PyTorch names it
     * ("momentum_buffer", "exp_avg" ...), distinct, for i < num_slots. */
    const char *(*slot_name)(const void *opt, int i);
    /* REQUIRED. Update n elements of a parameter tensor. step counts the
     * optimizer steps taken, this one included (1 on the first); lr is the
     * scheduled learning rate for this step. The update must be element-wise
     * (element i's new value and slots depend on element i alone): the host
     * may split a tensor into ranges and update disjoint ranges from several
     * threads at once (since ABI 3). */
    void (*update)(const void *opt, int64_t step, double lr, size_t n,
                   float *param, const float *grad, float *const *slots);
    /* Optional. The `lr` when the optimizer section has none (Adam's 1e-3);
     * 0: `lr` is required. The host reads `lr` (a finite number > 0). */
    double default_lr;
} strata_optimizer_ops;

/* The most state slots an optimizer may declare (the host refuses more). */
#define STRATA_MAX_SLOTS 8

/* ---- the descriptor a module returns ------------------------------------ */

typedef enum strata_plugin_kind {
    STRATA_PLUGIN_LAYER = 1,
    STRATA_PLUGIN_OPTIMIZER = 2
} strata_plugin_kind;

typedef struct strata_plugin {
    int abi_version;          /* first, always: STRATA_ABI_VERSION */
    strata_plugin_kind kind;
    const char *name;         /* the name YAML uses: "conv2d", "adam" */
    const char *version;      /* the plugin's own version, e.g. "1.0" */
    const char *description;  /* one line */
    const strata_layer_ops *layer;         /* kind == LAYER */
    const strata_optimizer_ops *optimizer; /* kind == OPTIMIZER */
} strata_plugin;

typedef const strata_plugin *(*strata_plugin_entry_fn)(int host_abi_version);

/* ---- defining a plugin --------------------------------------------------- */

#if defined(__GNUC__) || defined(__clang__)
#define STRATA_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define STRATA_PLUGIN_EXPORT
#endif

#define STRATA_PLUGIN_OPS_TYPE_LAYER strata_layer_ops
#define STRATA_PLUGIN_OPS_TYPE_OPTIMIZER strata_optimizer_ops
#define STRATA_PLUGIN_OPS_LAYER(ops) (ops), NULL
#define STRATA_PLUGIN_OPS_OPTIMIZER(ops) NULL, (ops)

/*
 * STRATA_PLUGIN_DEFINE(KIND, name, version, description, ops...)
 *   KIND         LAYER or OPTIMIZER
 *   name         the name YAML uses, and the module's file name NAME.so
 *   version      the plugin's own version string
 *   description  one line for `strata plugins`
 *   ops...       designated initialisers of the ops table (.create = ...);
 *                struct_size is filled in.
 * Defines the ops table, the descriptor and the exported entry point; use
 * it once per module, at file scope.
 */
#define STRATA_PLUGIN_DEFINE(KIND, name, version, description, ...)                  \
    static const STRATA_PLUGIN_OPS_TYPE_##KIND strata_plugin_ops_ = {                 \
        .struct_size = sizeof(STRATA_PLUGIN_OPS_TYPE_##KIND), __VA_ARGS__};          \
    static const strata_plugin strata_plugin_desc_ = {                                \
        STRATA_ABI_VERSION, STRATA_PLUGIN_##KIND, name, version, description,        \
        STRATA_PLUGIN_OPS_##KIND(&strata_plugin_ops_)};                               \
    STRATA_PLUGIN_EXPORT const strata_plugin *STRATA_PLUGIN_ENTRY(int host_abi_version); \
    STRATA_PLUGIN_EXPORT const strata_plugin *STRATA_PLUGIN_ENTRY(int host_abi_version)  \
    {                                                                                 \
        (void)host_abi_version; /* the host compares versions and says which */      \
        return &strata_plugin_desc_;                                                  \
    }

#ifdef __cplusplus
}
#endif
#endif
