/* summary.h — per-layer shapes, parameters, receptive field and
 * multiply-adds of a network (what `strata summary` prints). */
#ifndef STRATA_SUMMARY_H
#define STRATA_SUMMARY_H

#include <stdint.h>
#include "model/network.h"

typedef struct layer_stats {
    int64_t params;     /* trainable elements of the layer */
    int64_t macs;       /* per image */
    int rf, jump;       /* receptive field and jump (height), from the input */
} layer_stats;

typedef struct net_stats {
    int64_t params, macs;
    double act_mib;     /* forward activations per image (all layer outputs), MiB */
} net_stats;

/* stats has net->n_layers entries. */
void summary_compute(const network *net, layer_stats *stats, net_stats *total);

#endif
