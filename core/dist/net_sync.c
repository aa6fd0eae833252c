/* net_sync.c — see net_sync.h */
#include <string.h>
#include "dist/dist.h"
#include "dist/net_sync.h"

void net_sync_from_rank0(network *net)
{
    dist_bcast(net->param_mem, net->total * sizeof(float));
}

void net_sync_buffers(network *net)
{
    for (int i = 0; i < net->n_params; i++) {
        const net_param *p = &net->params[i];
        if (p->desc.flags & STRATA_PARAM_BUFFER)
            dist_bcast(net->param_mem + p->offset, p->count * sizeof(float));
    }
}

uint64_t net_weights_checksum(const network *net)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < net->n_params; i++) {
        const net_param *p = &net->params[i];
        if (p->desc.flags & STRATA_PARAM_BUFFER)
            continue;
        const unsigned char *b = (const unsigned char *)(net->param_mem + p->offset);
        for (size_t k = 0; k < p->count * sizeof(float); k++)
            h = (h ^ b[k]) * 0x100000001b3ull;
    }
    return h;
}
