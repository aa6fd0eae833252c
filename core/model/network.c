/* network.c — see network.h */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "model/network.h"

size_t shape_size(strata_shape s)
{
    return (size_t)s.c * s.h * s.w;
}

/* Instantiate one layer on input shape `in`. */
static int create_layer(net_layer *nl, const layer_spec *ls, strata_shape in, plugin_registry *reg, strata_err *err)
{
    nl->spec = ls;
    nl->in = in;
    nl->plugin = plugins_find(reg, STRATA_PLUGIN_LAYER, ls->type, err);
    if (!nl->plugin) {
        char m[sizeof err->msg];
        snprintf(m, sizeof m, "%s", err->msg);
        char w[300];
        return err_set(err, STRATA_ERR_CONFIG, "%s: %s (layer %s): %s", ynode_where(ls->opts, w, sizeof w),
                       ls->prefix, ls->name, m);
    }
    strata_opts o;
    opts_init(&o, ls->opts, ls->prefix, err);
    nl->self = nl->plugin->layer->create(plugins_host(), &o, in, &nl->out);
    if (!nl->self) {
        if (!o.failed)
            opts_error(&o, NULL, "layer %s (%s) refused its options or its input %dx%dx%d", ls->name, ls->type,
                       in.c, in.h, in.w);
        return -1;
    }
    char what[160];
    snprintf(what, sizeof what, "%s (layer %s)", ls->type, ls->name);
    if (opts_check_unused(&o, what))
        return -1;
    if (nl->out.c < 1 || nl->out.h < 1 || nl->out.w < 1)
        return opts_error(&o, NULL, "layer %s (%s) leaves no output for input %dx%dx%d", ls->name, ls->type,
                          in.c, in.h, in.w);
    return 0;
}

static void add_params(network *net, int li)
{
    net_layer *nl = &net->layers[li];
    const strata_layer_ops *ops = nl->plugin->layer;
    nl->n_params = ops->num_params(nl->self);
    nl->first_param = net->n_params;
    net->params = realloc(net->params, (net->n_params + nl->n_params) * sizeof *net->params);
    for (int i = 0; i < nl->n_params; i++) {
        net_param *p = &net->params[net->n_params++];
        memset(p, 0, sizeof *p);
        ops->param_desc(nl->self, i, &p->desc);
        const char *key = nl->spec->key[0] ? nl->spec->key : nl->spec->name;
        snprintf(p->name, sizeof p->name, "%s.%s", key, p->desc.name);
        p->count = 1;
        for (int d = 0; d < p->desc.ndim; d++)
            p->count *= (size_t)p->desc.dims[d];
        p->offset = net->total;
        p->layer = li;
        net->total += p->count;
    }
}

/* model.freeze: the layer's trainable parameters become buffers to the host. */
static int freeze_layer(network *net, int li, strata_err *err)
{
    net_layer *nl = &net->layers[li];
    int trained = 0;
    for (int i = nl->first_param; i < nl->first_param + nl->n_params; i++)
        if (!(net->params[i].desc.flags & STRATA_PARAM_BUFFER)) {
            net->params[i].desc.flags |= STRATA_PARAM_BUFFER;
            trained++;
        }
    if (!trained)
        return err_set(err, STRATA_ERR_CONFIG, "%s: model.freeze: layer %s (%s) has no trainable parameters to freeze",
                       nl->spec->frozen_where, nl->spec->name, nl->spec->type);
    nl->frozen = 1;
    return 0;
}

/* A model.freeze that leaves nothing to train is a mistake. */
static int check_something_trained(const network *net, strata_err *err)
{
    if (network_first_trained_layer(net) < net->n_layers)
        return 0;
    for (int i = 0; i < net->n_layers; i++)
        if (net->layers[i].frozen)
            return err_set(err, STRATA_ERR_CONFIG, "%s: model.freeze: every layer with parameters is frozen, "
                           "nothing is left to train", net->layers[i].spec->frozen_where);
    return 0;
}

int network_create(network *net, const model_spec *spec, plugin_registry *reg, strata_err *err)
{
    memset(net, 0, sizeof *net);
    net->spec = spec;
    net->input = (strata_shape){spec->in_c, spec->in_h, spec->in_w};
    net->layers = calloc(spec->n, sizeof *net->layers);
    strata_shape s = net->input;
    for (int i = 0; i < spec->n; i++) {
        int rc = create_layer(&net->layers[i], &spec->layers[i], s, reg, err);
        net->n_layers = i + 1; /* so network_free destroys a layer whose options failed after create */
        if (rc)
            return -1;
        add_params(net, i);
        if (spec->layers[i].frozen && freeze_layer(net, i, err))
            return -1;
        s = net->layers[i].out;
    }
    if (check_something_trained(net, err))
        return -1;
    if (spec->num_classes && shape_size(s) != (size_t)spec->num_classes)
        return err_set(err, STRATA_ERR_CONFIG, "%s: model.num_classes: the last layer gives %dx%dx%d outputs, "
                       "num_classes is %d", spec->classes_where, s.c, s.h, s.w, spec->num_classes);
    return 0;
}

int network_alloc(network *net, strata_err *err)
{
    net->param_mem = calloc(net->total ? net->total : 1, sizeof(float));
    net->grad_mem = calloc(net->total ? net->total : 1, sizeof(float));
    if (!net->param_mem || !net->grad_mem)
        return err_set(err, STRATA_ERR_RUNTIME, "out of memory for %zu parameters", net->total);
    for (int i = 0; i < net->n_layers; i++) {
        net_layer *nl = &net->layers[i];
        nl->params = calloc(nl->n_params + 1, sizeof(float *));
        nl->grads = calloc(nl->n_params + 1, sizeof(float *));
        for (int j = 0; j < nl->n_params; j++) {
            const net_param *p = &net->params[nl->first_param + j];
            nl->params[j] = net->param_mem + p->offset;
            nl->grads[j] = net->grad_mem + p->offset;
        }
    }
    return 0;
}

void network_free(network *net)
{
    for (int i = 0; i < net->n_layers; i++) {
        net_layer *nl = &net->layers[i];
        if (nl->self)
            nl->plugin->layer->destroy(nl->self);
        free(nl->params);
        free(nl->grads);
    }
    free(net->layers);
    free(net->params);
    free(net->param_mem);
    free(net->grad_mem);
    memset(net, 0, sizeof *net);
}

int network_first_trained_layer(const network *net)
{
    for (int i = 0; i < net->n_params; i++)
        if (!(net->params[i].desc.flags & STRATA_PARAM_BUFFER))
            return net->params[i].layer;
    return net->n_layers;
}

int64_t network_trainable(const network *net)
{
    int64_t n = 0;
    for (int i = 0; i < net->n_params; i++)
        if (!(net->params[i].desc.flags & STRATA_PARAM_BUFFER))
            n += (int64_t)net->params[i].count;
    return n;
}

net_param *network_param(network *net, const char *name)
{
    for (int i = 0; i < net->n_params; i++)
        if (strcmp(net->params[i].name, name) == 0)
            return &net->params[i];
    return NULL;
}

void layer_set_blas(const strata_layer_ops *ops, const void *self, int backward, int n, int threads)
{
    int want = ops ? ops->blas_threads(self, backward, n, threads) : threads;
    want = want < 1 ? 1 : want > threads ? threads : want;
    if (want != openblas_get_num_threads())
        openblas_set_num_threads(want);
}
