/* layer_new.h — the two checks every layer's create makes (private to the
 * layer plugins; static functions, no linkage): the input's shape, and the
 * layer's own memory. Both report through host->opt_error, so the message
 * is the host's usual one-line option error. */
#ifndef STRATA_LAYER_NEW_H
#define STRATA_LAYER_NEW_H
#include <stdlib.h>
#include <strata/plugin.h>

/* 0 when every dimension of in is at least 1; else -1, after an error
 * naming the layer type and the shape. */
static inline int layer_shape_check(const strata_host *host, strata_opts *o, const char *layer,
                                    strata_shape in)
{
    if (in.c >= 1 && in.h >= 1 && in.w >= 1)
        return 0;
    host->opt_error(o, NULL, "%s needs an input of positive shape, got (%d, %d, %d)", layer,
                    in.c, in.h, in.w);
    return -1;
}

/* size bytes, zeroed, for a new layer; NULL after "out of memory". */
static inline void *layer_alloc(const strata_host *host, strata_opts *o, size_t size)
{
    void *p = calloc(1, size);
    if (!p)
        host->opt_error(o, NULL, "out of memory");
    return p;
}

/* layer_shape_check, then layer_alloc: the new layer, or NULL after the
 * error. */
static inline void *layer_new(const strata_host *host, strata_opts *o, const char *layer,
                              strata_shape in, size_t size)
{
    return layer_shape_check(host, o, layer, in) < 0 ? NULL : layer_alloc(host, o, size);
}

#endif
