/* network.h — a model_spec made real: each layer's plugin instance, its
 * shapes and its parameter tensors (one allocation for all parameters, one
 * for all gradients, named views into them). */
#ifndef STRATA_NETWORK_H
#define STRATA_NETWORK_H

#include <strata/plugin.h>
#include "model/model_spec.h"
#include "model/plugins.h"

typedef struct net_param {
    char name[160];          /* state_dict key: "features.0.weight" */
    strata_param_desc desc;
    size_t count;            /* elements */
    size_t offset;           /* into network.param_mem / grad_mem */
    int layer;               /* index of its layer */
} net_param;

typedef struct net_layer {
    const layer_spec *spec;
    const strata_plugin *plugin;
    void *self;                /* the plugin's layer object */
    strata_shape in, out;
    int first_param, n_params; /* range in network.params */
    int frozen;                /* model.freeze: its parameters are flagged STRATA_PARAM_BUFFER */
    float **params, **grads;   /* per-layer views (after network_alloc) */
} net_layer;

typedef struct network {
    const model_spec *spec;
    strata_shape input;
    int n_layers;
    net_layer *layers;
    int n_params;
    net_param *params;
    size_t total;            /* elements of all parameter tensors */
    float *param_mem, *grad_mem;
} network;

/* Create every layer's plugin object and check the shapes fit. A layer
 * named in model.freeze gets its parameters flagged STRATA_PARAM_BUFFER in
 * the host's descriptors (no gradient step, no optimizer state; still saved
 * with the weights); naming a layer without trainable parameters, or
 * freezing every one, is a configuration error. */
int network_create(network *net, const model_spec *spec, plugin_registry *reg, strata_err *err);
/* Allocate parameters and gradients (zeroed). */
int network_alloc(network *net, strata_err *err);
void network_free(network *net);

size_t shape_size(strata_shape s);
/* Set OpenBLAS's (process-wide) thread count for a layer's forward
 * (backward = 0) or backward pass of a batch of n on `threads` threads, as
 * its blas_threads op asks (clamped to 1 .. threads); ops NULL: threads
 * (the count the host keeps between layers). ops is the host's copy (from
 * the registry: blas_threads never NULL). */
void layer_set_blas(const strata_layer_ops *ops, const void *self, int backward, int n, int threads);
/* The lowest layer with a trained parameter (n_layers when none): backward
 * need not run below it. */
int network_first_trained_layer(const network *net);
/* Parameters that are trained (buffers and frozen layers excluded). */
int64_t network_trainable(const network *net);
/* The parameter called name (NULL when none). */
net_param *network_param(network *net, const char *name);

#endif
